#include "api_surveys.h"

#include <string.h>

#include "agent.h"
#include "blocks.h"
#include "json.h"
#include "proactive.h"
#include "store.h"
#include "survey.h"
#include "survey_def.h"
#include "util.h"
#include "wire.h"

#define MAX_NAME 128

static unsigned db_fail(cJSON **out)
{
    return http_error(out, HTTP_SERVER_ERROR, "database error");
}

static unsigned created(cJSON **out, const char *prefix, int64_t n)
{
    char id[WIRE_ID_BUF];

    wire_format_id(prefix, n, id);
    *out = cJSON_CreateObject();
    if (*out && !cJSON_AddStringToObject(*out, "id", id)) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return HTTP_CREATED;
}

/* 1 when `user` is known, 0/-1. */
static int user_known(store *st, const char *user)
{
    char kind[STORE_KIND_BUF];

    return store_user_kind(st, user, kind);
}

/* ---- POST /api/users/{user}/surveys ---- */

unsigned api_surveys_push(server *s, const char *user, const cJSON *body, cJSON **out)
{
    const char *name = pj_string(body, "survey");
    const cJSON *conv = cJSON_GetObjectItemCaseSensitive(body, "conv");
    const cJSON *def = name ? survey_def_find(s->surveys, name) : NULL;
    int64_t n;
    int rc;

    if (!def)
        return http_error(out, HTTP_BAD_REQUEST, "survey must name a survey of the --surveys file");
    if (conv && !(cJSON_IsString(conv) && pj_is_ident(conv->valuestring)))
        return http_error(out, HTTP_BAD_REQUEST, "conv must be a conversation id");
    rc = user_known(s->store, user);
    if (rc == 1 && conv)
        rc = store_conv_owned(s->store, user, conv->valuestring) == 1 ? 1 : -2;
    if (rc == 0)
        return http_error(out, HTTP_NOT_FOUND, "unknown user");
    if (rc == -2)
        return http_error(out, HTTP_BAD_REQUEST, "conv is not a conversation of that user");
    if (rc < 0 || survey_deliver(s, user, def, conv ? conv->valuestring : NULL, util_now_ms(), &n))
        return db_fail(out);
    return created(out, "sv-", n);
}

/* ---- POST /api/users/{user}/proactive ---- */

static const char *proactive_why(const cJSON *body, size_t max_text)
{
    const char *text = pj_string(body, "text");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");

    if (!text || !text[0] || strlen(text) > max_text)
        return "text must be a non-empty string within the server's max_text";
    if (name &&
        !(cJSON_IsString(name) && name->valuestring[0] && strlen(name->valuestring) <= MAX_NAME))
        return "name must be a string of 1 to 128 bytes";
    return NULL;
}

/* The agent's message; its blocks are the normalized ones (may be NULL,
 * taken). A signed-in agent writes under their own display name, as in a
 * conversation: a session cannot send under another agent's name. */
static cJSON *agent_message_json(server *s, const cJSON *body, cJSON *blocks)
{
    const char *name = s->req && !s->req->via_token ? s->req->display : pj_string(body, "name");
    cJSON *msg = cJSON_CreateObject(), *author = cJSON_AddObjectToObject(msg, "author");

    if (!author || !cJSON_AddStringToObject(author, "kind", "agent") ||
        !cJSON_AddStringToObject(author, "name", name ? name : AGENT_NAME_DEFAULT) ||
        !cJSON_AddStringToObject(msg, "text", pj_string(body, "text")) ||
        (blocks && !cJSON_AddItemToObject(msg, "blocks", blocks))) {
        cJSON_Delete(blocks);
        cJSON_Delete(msg);
        return NULL;
    }
    return msg;
}

unsigned api_surveys_proactive(server *s, const char *user, const cJSON *body, cJSON **out)
{
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(body, "blocks");
    const char *why = proactive_why(body, s->max_text);
    char buf[256];
    cJSON *norm = NULL, *msg;
    int64_t n;
    int rc;

    if (why)
        return http_error(out, HTTP_BAD_REQUEST, why);
    if (blocks && !(norm = blocks_normalize(blocks, buf, sizeof buf)))
        return http_error(out, HTTP_BAD_REQUEST, buf);
    rc = user_known(s->store, user);
    if (rc != 1) {
        cJSON_Delete(norm);
        return rc == 0 ? http_error(out, HTTP_NOT_FOUND, "unknown user") : db_fail(out);
    }
    msg = agent_message_json(s, body, norm);
    rc = msg ? proactive_deliver(s, user, msg, util_now_ms(), &n) : -1;
    cJSON_Delete(msg);
    if (rc)
        return db_fail(out);
    return created(out, "p-", n);
}

/* ---- GET /api/surveys/{name}/responses ---- */

typedef struct tally {
    int64_t count, dismissed;
    double rating_sum;
    int64_t rating_n, promoters, detractors, nps_n;
    cJSON *options; /* question id -> option id -> count */
} tally;

static double round2(double x)
{
    return (double)(int64_t)(x * 100 + (x < 0 ? -0.5 : 0.5)) / 100;
}

static void count_option(cJSON *counts, const char *option)
{
    cJSON *n = cJSON_GetObjectItemCaseSensitive(counts, option);

    if (n)
        cJSON_SetNumberValue(n, n->valuedouble + 1);
}

/* Counts the choices of one response; every option of the question is
 * listed, chosen or not. 0 or -1. */
static int tally_choices(tally *t, const cJSON *def, const cJSON *answers)
{
    const cJSON *q, *opt, *a, *it;
    cJSON *counts;
    const char *qid;

    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions")) {
        qid = pj_string(q, "id");
        if (!qid || !cJSON_GetObjectItemCaseSensitive(q, "options"))
            continue;
        counts = cJSON_GetObjectItemCaseSensitive(t->options, qid);
        if (!counts && !(counts = cJSON_AddObjectToObject(t->options, qid)))
            return -1;
        cJSON_ArrayForEach(opt, cJSON_GetObjectItemCaseSensitive(q, "options")) {
            if (!cJSON_GetObjectItemCaseSensitive(counts, pj_string(opt, "id")) &&
                !cJSON_AddNumberToObject(counts, pj_string(opt, "id"), 0))
                return -1;
        }
        a = cJSON_GetObjectItemCaseSensitive(answers, qid);
        if (cJSON_IsString(a))
            count_option(counts, a->valuestring);
        if (!cJSON_IsArray(a))
            continue;
        cJSON_ArrayForEach(it, a) {
            if (cJSON_IsString(it))
                count_option(counts, it->valuestring);
        }
    }
    return 0;
}

static const cJSON *answer_to_first(const cJSON *def, const cJSON *answers, const char *kind)
{
    const cJSON *q = survey_def_first_question(def, kind);
    const cJSON *a = q ? cJSON_GetObjectItemCaseSensitive(answers, pj_string(q, "id")) : NULL;

    return cJSON_IsNumber(a) ? a : NULL;
}

static int tally_one(tally *t, const cJSON *def, const cJSON *answers)
{
    const cJSON *rating = answer_to_first(def, answers, "rating");
    const cJSON *nps = answer_to_first(def, answers, "nps");

    t->count++;
    if (rating) {
        t->rating_sum += rating->valuedouble;
        t->rating_n++;
    }
    if (nps) {
        t->nps_n++;
        t->promoters += nps->valuedouble >= 9;
        t->detractors += nps->valuedouble <= 6;
    }
    return tally_choices(t, def, answers);
}

static int add_response(cJSON *arr, const store_survey *sv, const cJSON *answers)
{
    cJSON *r = cJSON_CreateObject(), *copy = cJSON_Duplicate(answers, 1);
    char id[WIRE_ID_BUF];

    if (!r || !copy) {
        cJSON_Delete(r);
        cJSON_Delete(copy);
        return -1;
    }
    cJSON_AddItemToArray(arr, r);
    cJSON_AddItemToObject(r, "answers", copy);
    wire_format_id("sv-", sv->n, id);
    if (!cJSON_AddStringToObject(r, "id", id) || !cJSON_AddStringToObject(r, "user", sv->user) ||
        !(sv->conv ? cJSON_AddStringToObject(r, "conv", sv->conv)
                   : cJSON_AddNullToObject(r, "conv")) ||
        !cJSON_AddNumberToObject(r, "submitted_ms", (double)sv->done_ms))
        return -1;
    return 0;
}

typedef struct collecting {
    tally t;
    cJSON *list;
} collecting;

/* One answered or dismissed instance into the list and the tally. */
static int take_row(void *ud, const store_survey *sv)
{
    collecting *c = ud;
    cJSON *answers, *def;
    int rc;

    if (strcmp(sv->status, "dismissed") == 0) {
        c->t.dismissed++;
        return 0;
    }
    answers = cJSON_Parse(sv->answers ? sv->answers : "");
    def = cJSON_Parse(sv->def);
    rc = answers && def ? add_response(c->list, sv, answers) : -1;
    if (rc == 0)
        rc = tally_one(&c->t, def, answers);
    cJSON_Delete(answers);
    cJSON_Delete(def);
    return rc ? 1 : 0;
}

static int add_aggregate(cJSON *o, tally *t)
{
    cJSON *agg = cJSON_AddObjectToObject(o, "aggregate");

    if (!agg || !cJSON_AddNumberToObject(agg, "count", (double)t->count) ||
        !cJSON_AddNumberToObject(agg, "dismissed", (double)t->dismissed) ||
        !(t->rating_n ? cJSON_AddNumberToObject(agg, "csat_avg",
                                                round2(t->rating_sum / (double)t->rating_n))
                      : cJSON_AddNullToObject(agg, "csat_avg")) ||
        !(t->nps_n ? cJSON_AddNumberToObject(
                         agg, "nps",
                         round2(100.0 * (double)(t->promoters - t->detractors) / (double)t->nps_n))
                   : cJSON_AddNullToObject(agg, "nps")))
        return -1;
    cJSON_AddItemToObject(agg, "options", t->options);
    t->options = NULL;
    return 0;
}

static int collect(store *st, const char *name, cJSON *o, int64_t *rows)
{
    collecting c;
    int rc;

    memset(&c, 0, sizeof c);
    c.list = cJSON_AddArrayToObject(o, "responses");
    c.t.options = cJSON_CreateObject();
    rc = c.list && c.t.options ? store_survey_done_each(st, name, take_row, &c) : -1;
    *rows = c.t.count + c.t.dismissed;
    if (rc == 0)
        rc = add_aggregate(o, &c.t);
    cJSON_Delete(c.t.options);
    return rc == 0 ? 0 : -1;
}

unsigned api_surveys_responses(server *s, const char *name, const cJSON *body, cJSON **out)
{
    int64_t rows = 0;
    int known;

    (void)body;
    *out = cJSON_CreateObject();
    if (!*out || collect(s->store, name, *out, &rows))
        return db_fail(out);
    known =
        survey_def_find(s->surveys, name) || rows > 0 || store_survey_named(s->store, name) == 1;
    if (!known)
        return http_error(out, HTTP_NOT_FOUND, "unknown survey");
    return HTTP_OK;
}
