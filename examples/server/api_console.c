#include "api_console.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agents.h"
#include "api_query.h"
#include "console.h"
#include "conv_priority.h"
#include "json.h"
#include "metrics.h"
#include "metrics_csv.h"
#include "store.h"
#include "userctx.h"
#include "util.h"
#include "ws.h"

#define LIST_DEFAULT 50
#define LIST_MAX 200
#define DAY_MS 86400000LL

static unsigned db_fail(cJSON **out)
{
    return http_error(out, HTTP_SERVER_ERROR, "database error");
}

/* ---- sessions, presence, agents ---- */

unsigned api_console_login(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    (void)arg;
    return agents_login(s, pj_string(body, "name"), pj_string(body, "password"), out);
}

unsigned api_console_logout(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    (void)arg;
    (void)body;
    return agents_logout(s, out);
}

unsigned api_console_me(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    (void)arg;
    (void)body;
    return agents_me(s, out);
}

unsigned api_console_presence(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    (void)arg;
    return agents_presence_set(s, pj_string(body, "presence"), out);
}

unsigned api_console_agents(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    (void)arg;
    (void)body;
    *out = agents_list(s);
    return *out ? HTTP_OK : db_fail(out);
}

/* ---- the paginated list ---- */

/* "a,b" checked against `allowed` into ",a,b,". 0, or -1 for a word not
 * allowed. */
static int word_list(const char *in, const char *const *allowed, char *out, size_t cap)
{
    char buf[128], *save = NULL, *w;
    size_t len = 1;
    int ok;

    snprintf(buf, sizeof buf, "%s", in);
    snprintf(out, cap, ",");
    for (w = strtok_r(buf, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
        const char *const *a;

        for (ok = 0, a = allowed; *a && !ok; a++)
            ok = strcmp(w, *a) == 0;
        if (!ok || len + strlen(w) + 2 > cap)
            return -1;
        len += (size_t)snprintf(out + len, cap - len, "%s,", w);
    }
    return len > 1 ? 0 : -1;
}

/* The cursor: hex of "<updated_ms>:<id>". */
static void cursor_make(int64_t updated, const char *id, char *out, size_t cap)
{
    char raw[PJ_MAX_ID + 32];
    int n = snprintf(raw, sizeof raw, "%" PRId64 ":%s", updated, id);
    size_t len = n > 0 && (size_t)n < sizeof raw ? (size_t)n : 0;

    util_hex(raw, 2 * len < cap ? len : (cap - 1) / 2, out);
}

static int cursor_read(const char *in, int64_t *updated, char *id, size_t cap)
{
    char raw[PJ_MAX_ID + 32], *colon;
    size_t i, n = strlen(in);
    unsigned v;

    if (n % 2 || n / 2 >= sizeof raw)
        return -1;
    for (i = 0; i < n / 2; i++) {
        if (sscanf(in + 2 * i, "%2x", &v) != 1)
            return -1;
        raw[i] = (char)v;
    }
    raw[n / 2] = '\0';
    colon = strchr(raw, ':');
    if (!colon || !pj_is_ident(colon + 1) || strlen(colon + 1) >= cap)
        return -1;
    *colon = '\0';
    snprintf(id, cap, "%s", colon + 1);
    return api_query_int(raw, 0, INT64_MAX, updated);
}

typedef struct page {
    server *s;
    cJSON *items;
    int64_t want, got;
    int64_t last_updated;
    char last_id[PJ_MAX_ID + 1];
    int more, failed;
} page;

static int add_item(void *ud, const store_conv_item *it)
{
    page *p = ud;
    cJSON *o;

    if (p->got == p->want) {
        p->more = 1;
        return 1;
    }
    o = cJSON_CreateObject();
    if (!o || console_item_members(p->s, o, it) || !cJSON_AddItemToArray(p->items, o)) {
        cJSON_Delete(o);
        p->failed = 1;
        return 1;
    }
    p->got++;
    p->last_updated = it->updated_ms;
    snprintf(p->last_id, sizeof p->last_id, "%s", it->id);
    return 0;
}

static const char *const STATES[] = {"bot", "queued", "agent", "open", "closed", NULL};
static const char *const PRIOS[] = {"urgent", "high", "normal", "low", NULL};

/* The filter from the query; NULL, or the parameter at fault. */
static const char *read_filter(server *s, store_conv_filter *f, char *states, char *prios,
                               char *assignee, char *user, char *after)
{
    const char *q = s->req ? s->req->query : "";
    char buf[PJ_MAX_ID * 2 + 64];

    memset(f, 0, sizeof *f);
    f->limit = LIST_DEFAULT;
    if (api_query_get(q, "state", buf, sizeof buf) == 1) {
        if (strcmp(buf, "active") == 0)
            snprintf(buf, sizeof buf, "bot,queued,agent,open");
        if (word_list(buf, STATES, states, 64))
            return "state";
        f->states = states;
    }
    if (api_query_get(q, "priority", buf, sizeof buf) == 1) {
        if (word_list(buf, PRIOS, prios, 64))
            return "priority";
        f->priorities = prios;
    }
    if (api_query_get(q, "assignee", assignee, PJ_MAX_ID + 1) == 1) {
        if (strcmp(assignee, "me") == 0 && (!s->req || s->req->via_token))
            return "assignee (me needs a session)";
        if (strcmp(assignee, "me") == 0)
            snprintf(assignee, PJ_MAX_ID + 1, "%s", s->req->name);
        else if (strcmp(assignee, "none") == 0)
            assignee[0] = '\0';
        f->assignee = assignee;
    }
    if (api_query_get(q, "user", user, PJ_MAX_ID + 1) == 1)
        f->user = user;
    if (api_query_get(q, "updated_since", buf, sizeof buf) == 1 &&
        api_query_int(buf, 0, INT64_MAX, &f->updated_since))
        return "updated_since";
    if (api_query_get(q, "limit", buf, sizeof buf) == 1 &&
        api_query_int(buf, 1, LIST_MAX, &f->limit))
        return "limit (1 to 200)";
    if (api_query_get(q, "cursor", buf, sizeof buf) == 1) {
        if (cursor_read(buf, &f->after_updated, after, PJ_MAX_ID + 1))
            return "cursor";
        f->after_id = after;
    }
    return NULL;
}

unsigned api_console_list(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    char states[64], prios[64], assignee[PJ_MAX_ID + 1], user[PJ_MAX_ID + 1], after[PJ_MAX_ID + 1],
        why[96], next[2 * (PJ_MAX_ID + 32) + 1];
    store_conv_filter f;
    const char *bad = read_filter(s, &f, states, prios, assignee, user, after);
    page p;

    (void)arg;
    (void)body;
    if (bad) {
        snprintf(why, sizeof why, "bad parameter: %s", bad);
        return http_error(out, HTTP_BAD_REQUEST, why);
    }
    memset(&p, 0, sizeof p);
    p.s = s;
    p.want = f.limit;
    f.limit++;
    *out = cJSON_CreateObject();
    p.items = *out ? cJSON_AddArrayToObject(*out, "items") : NULL;
    if (!p.items || store_conv_page(s->store, &f, add_item, &p) < 0 || p.failed)
        return db_fail(out);
    if (p.more)
        cursor_make(p.last_updated, p.last_id, next, sizeof next);
    if (!(p.more ? cJSON_AddStringToObject(*out, "next", next)
                 : cJSON_AddNullToObject(*out, "next")))
        return db_fail(out);
    return HTTP_OK;
}

/* ---- priority ---- */

unsigned api_console_priority(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    int rc = conv_priority_set(s, conv, pj_string(body, "priority"),
                               s->req ? s->req->name : "api-token");

    if (rc == CONV_PRIORITY_BAD)
        return http_error(out, HTTP_BAD_REQUEST, "priority must be urgent, high, normal or low");
    if (rc == CONV_PRIORITY_UNKNOWN_CONV)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    if (rc != CONV_PRIORITY_OK)
        return db_fail(out);
    *out = console_item(s, conv);
    return *out ? HTTP_OK : db_fail(out);
}

/* ---- the single customer view ---- */

static int add_user_item(void *ud, const store_conv_item *it)
{
    page *p = ud;

    return add_item(p, it);
}

static int add_survey(void *ud, const store_survey_row *r)
{
    cJSON *o = console_survey_json(r);

    if (!o || !cJSON_AddItemToArray(ud, o)) {
        cJSON_Delete(o);
        return 1;
    }
    return 0;
}

static int user_members(server *s, cJSON *o, const store_user *u)
{
    store_conv_filter f;
    cJSON *surveys;
    page p;

    memset(&f, 0, sizeof f);
    memset(&p, 0, sizeof p);
    f.user = u->id;
    f.limit = LIST_MAX;
    p.s = s;
    p.want = LIST_MAX;
    p.items = cJSON_AddArrayToObject(o, "conversations");
    if (!p.items || store_conv_page(s->store, &f, add_user_item, &p) < 0 || p.failed)
        return -1;
    surveys = cJSON_AddArrayToObject(o, "surveys");
    return surveys && store_survey_user_each(s->store, u->id, 50, add_survey, surveys) == 0 ? 0
                                                                                            : -1;
}

unsigned api_console_user(server *s, const char *user, const cJSON *body, cJSON **out)
{
    store_user u;
    int rc = store_user_get(s->store, user, &u);

    (void)body;
    if (rc <= 0)
        return rc == 0 ? http_error(out, HTTP_NOT_FOUND, "unknown user") : db_fail(out);
    *out = cJSON_CreateObject();
    if (!*out || !cJSON_AddStringToObject(*out, "id", u.id) ||
        !cJSON_AddStringToObject(*out, "kind", u.kind) ||
        !cJSON_AddStringToObject(*out, "app", u.app) ||
        !cJSON_AddNumberToObject(*out, "first_seen_ms", (double)u.first_seen_ms) ||
        !cJSON_AddNumberToObject(*out, "last_seen_ms", (double)u.last_seen_ms) ||
        !cJSON_AddBoolToObject(*out, "online", ws_user_online(s, u.id)) ||
        userctx_add_to_user(s->store, *out, u.id) || user_members(s, *out, &u))
        return db_fail(out);
    return HTTP_OK;
}

/* ---- metrics ---- */

/* since and until from the query (docs/agent-console.md, "Metrics"); NULL,
 * or what is wrong with them. */
static const char *read_window(server *s, int64_t *since, int64_t *until)
{
    const char *q = s->req ? s->req->query : "";
    char buf[32];

    *until = util_now_ms();
    if (api_query_get(q, "until", buf, sizeof buf) == 1 && api_query_int(buf, 1, INT64_MAX, until))
        return "bad parameter: until";
    *since = *until - 7 * DAY_MS;
    if (api_query_get(q, "since", buf, sizeof buf) == 1 && api_query_int(buf, 0, INT64_MAX, since))
        return "bad parameter: since";
    if (*since >= *until || *until - *since > 400 * DAY_MS)
        return "since must be before until, at most 400 days";
    return NULL;
}

unsigned api_console_metrics(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    int64_t since, until;
    const char *bad = read_window(s, &since, &until);

    (void)arg;
    (void)body;
    if (bad)
        return http_error(out, HTTP_BAD_REQUEST, bad);
    *out = metrics_json(s, since, until);
    return *out ? HTTP_OK : db_fail(out);
}

unsigned api_console_metrics_csv(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    int64_t since, until;
    const char *bad = read_window(s, &since, &until);

    (void)arg;
    (void)body;
    if (bad)
        return http_error(out, HTTP_BAD_REQUEST, bad);
    if (metrics_csv(s, since, until, &s->req->raw, &s->req->raw_len))
        return db_fail(out);
    s->req->raw_type = "text/csv; charset=utf-8";
    snprintf(s->req->filename, sizeof s->req->filename, "parley-conversations.csv");
    return HTTP_OK;
}
