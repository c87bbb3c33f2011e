#include "api_conversations.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "api_query.h"
#include "blocks.h"
#include "console.h"
#include "json.h"
#include "store.h"
#include "triage.h"
#include "userctx.h"
#include "util.h"

/* The client reports "off" by itself 6 s after the last "on"; agents see
 * the same. */
#define TYPING_FRESH_MS 6000
/* A page of the transcript (GET .../messages): what the console loads when a
 * conversation opens, and the most one answer builds. */
#define PAGE_DEFAULT 200
#define PAGE_MAX 1000

static unsigned db_fail(cJSON **out)
{
    return http_error(out, HTTP_SERVER_ERROR, "database error");
}

static int add_seq(cJSON *o, const char *key, int64_t seq)
{
    char buf[PJ_SEQ_BUF];

    pj_format_seq(seq, buf);
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

/* Fills the object `ud` with the conversation's own fields. */
static int add_conv_fields(void *ud, const store_conv *c)
{
    cJSON *o = ud;
    int ok;

    ok = cJSON_AddStringToObject(o, "id", c->id) && cJSON_AddStringToObject(o, "user", c->user) &&
         (c->subject ? cJSON_AddStringToObject(o, "subject", c->subject)
                     : cJSON_AddNullToObject(o, "subject")) &&
         cJSON_AddNumberToObject(o, "created_ms", (double)c->created_ms) &&
         add_seq(o, "last_seq", c->last_seq);
    return !ok;
}

/* ---- GET /api/conversations/{id} ---- */

/* "state", "agent", "queue_position" and "bot_notes". */
static int add_state_members(store *st, cJSON *o, const char *conv, const store_state *cs)
{
    cJSON *agent, *notes;
    int64_t position = 0;

    if (!cJSON_AddStringToObject(o, "state", cs->state))
        return 0;
    agent = cs->agent[0] ? cJSON_CreateObject() : cJSON_CreateNull();
    if (!agent || !cJSON_AddItemToObject(o, "agent", agent)) {
        cJSON_Delete(agent);
        return 0;
    }
    if (cs->agent[0] && !cJSON_AddStringToObject(agent, "name", cs->agent))
        return 0;
    if (strcmp(cs->state, "queued") == 0 && store_queue_position(st, conv, &position))
        return 0;
    if (!(position ? cJSON_AddNumberToObject(o, "queue_position", (double)position)
                   : cJSON_AddNullToObject(o, "queue_position")))
        return 0;
    notes = cs->notes ? cJSON_Parse(cs->notes) : cJSON_CreateNull();
    if (!notes || !cJSON_AddItemToObject(o, "bot_notes", notes)) {
        cJSON_Delete(notes);
        return 0;
    }
    return 1;
}

/* The conversation's state with typing and the read marks. 0 or -1. */
static int add_state(store *st, cJSON *obj, const char *conv)
{
    int64_t now = util_now_ms();
    store_state cs;
    int ok;

    if (store_state_get(st, conv, &cs))
        return -1;
    ok = add_state_members(st, obj, conv, &cs) &&
         cJSON_AddBoolToObject(obj, "user_typing",
                               cs.user_typing && now - cs.typing_ms < TYPING_FRESH_MS) &&
         add_seq(obj, "read_seq", cs.read_seq) && add_seq(obj, "agent_read_seq", cs.agent_read_seq);
    store_state_clear(&cs);
    return ok ? 0 : -1;
}

static int add_action(void *ud, const store_action *a)
{
    cJSON *o = cJSON_CreateObject(),
          *detail = a->detail ? cJSON_Parse(a->detail) : cJSON_CreateNull();

    if (!o || !detail || !cJSON_AddItemToArray(ud, o)) {
        cJSON_Delete(o);
        cJSON_Delete(detail);
        return 1;
    }
    if (!cJSON_AddItemToObject(o, "detail", detail)) {
        cJSON_Delete(detail);
        return 1;
    }
    return !(cJSON_AddStringToObject(o, "action", a->action) &&
             (a->by ? cJSON_AddStringToObject(o, "by", a->by) : cJSON_AddNullToObject(o, "by")) &&
             cJSON_AddNumberToObject(o, "ts", (double)a->ts));
}

/* The console's members (the list item's, docs/agent-console.md) that the
 * object does not have yet, and the actions. 0 or -1. */
static int add_work(server *s, cJSON *obj, const char *conv)
{
    cJSON *item = console_item(s, conv), *actions, *next;
    cJSON *it;

    if (!item)
        return -1;
    for (it = item->child; it; it = next) {
        next = it->next;
        if (!cJSON_GetObjectItemCaseSensitive(obj, it->string))
            cJSON_AddItemToObject(obj, it->string, cJSON_DetachItemViaPointer(item, it));
    }
    cJSON_Delete(item);
    actions = cJSON_AddArrayToObject(obj, "actions");
    return actions && store_action_each(s->store, conv, 200, add_action, actions) == 0 ? 0 : -1;
}

unsigned api_conversations_get(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    char user[PJ_MAX_ID + 1];
    int rc;

    (void)body;
    *out = cJSON_CreateObject();
    rc = *out ? store_conv_get(s->store, conv, add_conv_fields, *out) : -1;
    if (rc == 0)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    if (rc != 1 || !pj_string(*out, "user"))
        return db_fail(out);
    snprintf(user, sizeof user, "%s", pj_string(*out, "user"));
    if (userctx_add_to_conv(s->store, *out, conv, user) || add_state(s->store, *out, conv) ||
        triage_add_to_conv(s, *out, conv) || add_work(s, *out, conv))
        return db_fail(out);
    return HTTP_OK;
}

/* ---- GET /api/conversations/{id}/messages ---- */

static int add_author(cJSON *o, const store_msg *m)
{
    cJSON *a = cJSON_AddObjectToObject(o, "author");

    if (!a || !cJSON_AddStringToObject(a, "kind", m->author_kind))
        return -1;
    if (m->author_name && !cJSON_AddStringToObject(a, "name", m->author_name))
        return -1;
    return 0;
}

/* The user's context snapshot goes along so the agent sees it. */
static int add_context(cJSON *o, const store_msg *m)
{
    cJSON *ctx = m->context ? cJSON_Parse(m->context) : NULL;

    if (!ctx)
        return 0;
    return cJSON_AddItemToObject(o, "context", ctx) ? 0 : -1;
}

/* A stored JSON column, parsed back in; absent when NULL. */
static int add_stored(cJSON *o, const char *key, const char *json)
{
    cJSON *v = json ? cJSON_Parse(json) : NULL;

    if (!json)
        return 0;
    if (v && cJSON_AddItemToObject(o, key, v))
        return 0;
    cJSON_Delete(v);
    return -1;
}

static int add_msg(void *ud, const store_msg *m)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return 1;
    cJSON_AddItemToArray(ud, o);
    return !cJSON_AddStringToObject(o, "id", m->id) || !add_seq(o, "seq", m->seq) ||
           add_author(o, m) || !cJSON_AddStringToObject(o, "text", m->text) ||
           !cJSON_AddNumberToObject(o, "ts", (double)m->ts) ||
           (m->by && !cJSON_AddStringToObject(o, "by", m->by)) || add_context(o, m) ||
           add_stored(o, "blocks", m->blocks) || add_stored(o, "postback", m->postback) ||
           add_stored(o, "attachment", m->attachment);
}

/* The query's `name` as an integer of 1 ... max into *v, which keeps its
 * default when the name is absent: 0, or -1. */
static int page_param(const char *q, const char *name, int64_t max, int64_t *v)
{
    char buf[32];
    int rc = api_query_get(q, name, buf, sizeof buf);

    return rc < 0 || (rc == 1 && api_query_int(buf, 1, max, v)) ? -1 : 0;
}

/* limit and before from the query; NULL, or what is wrong with them. */
static const char *read_page(const server *s, int64_t *limit, int64_t *before)
{
    const char *q = s->req ? s->req->query : "";

    *limit = PAGE_DEFAULT;
    *before = PJ_SEQ_MAX + 1;
    if (page_param(q, "limit", PAGE_MAX, limit))
        return "bad parameter: limit (1 to 1000)";
    if (page_param(q, "before", PJ_SEQ_MAX, before))
        return "bad parameter: before (a seq above 0)";
    return NULL;
}

/* The store gave one row more than the page when older messages exist: that
 * row goes, and the Link header names the page before the rest. 0 or -1. */
static int link_prev(server *s, const char *conv, cJSON *page, int64_t limit)
{
    char id[3 * PJ_MAX_ID + 1];
    const char *first;
    int n;

    if (cJSON_GetArraySize(page) <= limit)
        return 0;
    cJSON_DeleteItemFromArray(page, 0);
    if (!s->req)
        return 0;
    first = pj_string(cJSON_GetArrayItem(page, 0), "seq");
    if (!first || api_query_escape(conv, id, sizeof id))
        return -1;
    n = snprintf(s->req->link, sizeof s->req->link,
                 "</api/conversations/%s/messages?before=%s&limit=%" PRId64 ">; rel=\"prev\"", id,
                 first, limit);
    return n > 0 && (size_t)n < sizeof s->req->link ? 0 : -1;
}

/* A page of the transcript read from its end: the work and the answer are
 * bounded by the limit, however long the conversation. */
unsigned api_conversations_messages(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    char owner[PJ_MAX_ID + 1];
    int64_t limit, before;
    const char *bad = read_page(s, &limit, &before);
    int rc;

    (void)body;
    if (bad)
        return http_error(out, HTTP_BAD_REQUEST, bad);
    *out = cJSON_CreateArray();
    rc = *out ? store_conv_owner(s->store, conv, owner, sizeof owner) : -1;
    if (rc == 0)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    if (rc < 0 || store_msg_tail(s->store, conv, before, limit + 1, add_msg, *out) ||
        link_prev(s, conv, *out, limit))
        return db_fail(out);
    return HTTP_OK;
}

/* ---- POST /api/conversations/{id}/messages ---- */

/* NULL when the body is acceptable, else why not. */
static const char *check_post(const cJSON *body, size_t max_text)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const char *text = pj_string(body, "text");

    if (!text || !text[0])
        return "text must be a non-empty string";
    if (strlen(text) > max_text)
        return "text is longer than the server's max_text";
    if (name &&
        !(cJSON_IsString(name) && name->valuestring[0] && strlen(name->valuestring) <= PJ_MAX_ID))
        return "name must be a string of 1 to 128 bytes";
    return NULL;
}

/* The optional blocks, checked against the wire rules, as JSON text in
 * *out (NULL when absent). NULL, or why they are refused. */
static const char *post_blocks(const cJSON *body, char **out, char *why, size_t cap)
{
    const cJSON *in = cJSON_GetObjectItemCaseSensitive(body, "blocks");
    cJSON *checked;

    *out = NULL;
    if (!in)
        return NULL;
    checked = blocks_normalize(in, why, cap);
    if (!checked)
        return why;
    *out = cJSON_PrintUnformatted(checked);
    cJSON_Delete(checked);
    return *out ? NULL : "out of memory";
}

static unsigned created(const store_msg *m, cJSON **out)
{
    *out = cJSON_CreateObject();
    if (*out && (!cJSON_AddStringToObject(*out, "id", m->id) || !add_seq(*out, "seq", m->seq))) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return HTTP_CREATED;
}

unsigned api_conversations_post(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    const char *name = pj_string(body, "name"), *text = pj_string(body, "text");
    const char *bad = check_post(body, s->max_text), *by = NULL;
    char *blocks = NULL, why[256];
    store_msg m;
    int rc;

    /* A signed-in agent writes under their own display name. */
    if (s->req && !s->req->via_token) {
        name = s->req->display;
        by = s->req->name;
    }
    if (!name)
        name = AGENT_NAME_DEFAULT;
    if (!bad)
        bad = post_blocks(body, &blocks, why, sizeof why);
    if (!bad && !agent_message_fits(conv, name, text, blocks))
        bad = "text and blocks do not fit in one frame";
    if (bad) {
        cJSON_free(blocks);
        return http_error(out, HTTP_BAD_REQUEST, bad);
    }
    rc = agent_message(s, conv, name, text, blocks, by, &m);
    cJSON_free(blocks);
    if (rc == AGENT_UNKNOWN_CONV)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    if (rc != AGENT_OK)
        return db_fail(out);
    return created(&m, out);
}
