#include "survey.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "blocks.h"
#include "bot.h"
#include "frame_chat.h"
#include "frame_context.h"
#include "json.h"
#include "store_sqlite.h"
#include "survey_def.h"
#include "util.h"
#include "ws.h"

/* Resent after each welcome: the newest this many, oldest first. The client
 * holds at most 32 proactive items while they are muted. */
#define RESEND_SURVEYS 10
#define RESEND_PROACTIVE 32
#define ID_BUF 32
#define AGENT_NAME_DEFAULT "Agent"
#define MAX_NAME 128
/* Missing from lws' enum http_status. */
#define HTTP_CREATED 201

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS survey_instances("
    " n INTEGER PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL,"
    " conv TEXT, proactive INTEGER NOT NULL, def TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending', answers TEXT, done_ms INTEGER, done_cid TEXT);"
    "CREATE INDEX IF NOT EXISTS survey_instances_user ON survey_instances(user, status);"
    "CREATE INDEX IF NOT EXISTS survey_instances_name ON survey_instances(name, conv);"
    "CREATE TABLE IF NOT EXISTS proactive("
    " n INTEGER PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id), msg TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, acked_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS proactive_user ON proactive(user, acked_ms);";

int survey_init(db *d)
{
    return sq_script(d, schema);
}

/* ---- ids: "sv-<n>" and "p-<n>", n the row ---- */

static void format_id(const char *prefix, int64_t n, char out[ID_BUF])
{
    snprintf(out, ID_BUF, "%s%" PRId64, prefix, n);
}

/* 0 and the row when `id` is prefix + a row number, else -1. */
static int parse_id(const char *id, const char *prefix, int64_t *n)
{
    size_t plen = strlen(prefix);

    if (!id || strncmp(id, prefix, plen) != 0 || pj_parse_seq(id + plen, n) || *n == 0)
        return -1;
    return 0;
}

/* ---- frames ---- */

static char *print_frame(cJSON *f)
{
    char *out = f ? cJSON_PrintUnformatted(f) : NULL;

    cJSON_Delete(f);
    return out;
}

/* {"t":"survey","conv":...,"proactive":...,"survey":{"id":...,<def>}} */
static char *survey_frame(int64_t n, const char *conv, int proactive, const char *def_text)
{
    cJSON *f = cJSON_CreateObject(), *def = cJSON_Parse(def_text);
    char id[ID_BUF];
    int ok;

    format_id("sv-", n, id);
    ok = f && cJSON_IsObject(def) && cJSON_AddStringToObject(f, "t", "survey") &&
         (!conv || cJSON_AddStringToObject(f, "conv", conv)) &&
         cJSON_AddBoolToObject(f, "proactive", proactive) &&
         cJSON_AddStringToObject(def, "id", id);
    if (ok && cJSON_AddItemToObject(f, "survey", def))
        def = NULL;
    else
        ok = 0;
    cJSON_Delete(def);
    if (!ok) {
        cJSON_Delete(f);
        return NULL;
    }
    return print_frame(f);
}

/* {"t":"proactive","id":...,"msg":{...,"ts":created}} */
static char *proactive_frame(int64_t n, const char *msg_text, int64_t created_ms)
{
    cJSON *f = cJSON_CreateObject(), *msg = cJSON_Parse(msg_text);
    char id[ID_BUF];
    int ok;

    format_id("p-", n, id);
    ok = f && cJSON_IsObject(msg) && cJSON_AddStringToObject(f, "t", "proactive") &&
         cJSON_AddStringToObject(f, "id", id) &&
         cJSON_AddNumberToObject(msg, "ts", (double)created_ms);
    if (ok && cJSON_AddItemToObject(f, "msg", msg))
        msg = NULL;
    else
        ok = 0;
    cJSON_Delete(msg);
    if (!ok) {
        cJSON_Delete(f);
        return NULL;
    }
    return print_frame(f);
}

static char *ack_frame(const char *cid)
{
    cJSON *f = cJSON_CreateObject();

    if (f && (!cJSON_AddStringToObject(f, "t", "ack") || !cJSON_AddStringToObject(f, "cid", cid))) {
        cJSON_Delete(f);
        return NULL;
    }
    return print_frame(f);
}

/* Queues a frame to every connection of the user and frees it. */
static void push(server *s, const char *user, char *frame)
{
    if (frame)
        ws_push_frame(s, user, frame);
    else
        fprintf(stderr, "parley-server: out of memory building a frame for '%s'\n", user);
    cJSON_free(frame);
}

/* ---- delivery ---- */

static int64_t last_row(db *d)
{
    return (int64_t)sqlite3_last_insert_rowid(db_sqlite(d));
}

/* Stores an instance of the definition `def` for `user` and pushes it live.
 * The row number in *n. 0 or -1. */
static int deliver_survey(server *s, const char *user, const cJSON *def, const char *conv,
                          int64_t now, int64_t *n)
{
    cJSON *wire = survey_wire_copy(def);
    char *text = wire ? cJSON_PrintUnformatted(wire) : NULL;
    int owned, rc = -1;

    cJSON_Delete(wire);
    if (text && sq_begin(s->db, &owned) == 0) {
        rc = sq_exec(s->db,
                     "INSERT INTO survey_instances(user, name, conv, proactive, def, created_ms) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
                     "tttiti", user, pj_string(def, "name"), conv, (int64_t)(conv == NULL), text,
                     now);
        *n = last_row(s->db);
        rc = sq_end(s->db, owned, rc);
    }
    /* A survey about no conversation is the server's own initiative. */
    if (rc == 0)
        push(s, user, survey_frame(*n, conv, conv == NULL, text));
    cJSON_free(text);
    return rc;
}

static int deliver_proactive(server *s, const char *user, const cJSON *msg, int64_t now,
                             int64_t *n)
{
    char *text = cJSON_PrintUnformatted(msg);
    int owned, rc = -1;

    if (text && sq_begin(s->db, &owned) == 0) {
        rc = sq_exec(s->db, "INSERT INTO proactive(user, msg, created_ms) VALUES(?1, ?2, ?3)",
                     "tti", user, text, now);
        *n = last_row(s->db);
        rc = sq_end(s->db, owned, rc);
    }
    if (rc == 0)
        push(s, user, proactive_frame(*n, text, now));
    cJSON_free(text);
    return rc;
}

/* 1 when the query (one row or none) finds a row, 0 when not, -1 on error. */
static int exists(db *d, sqlite3_stmt *st)
{
    int rc = sq_step(d, st);

    sqlite3_finalize(st);
    return rc;
}

/* ---- triggers ---- */

/* A trigger does not stack what the user has not dealt with yet: no second
 * pending instance of a survey, no second unacknowledged copy of a message;
 * and a conversation gets each survey once. */
static int already_there(db *d, const char *user, const char *survey, const char *conv,
                         const char *msg_text)
{
    if (survey && conv)
        return exists(d, sq_prepare(d, "SELECT 1 FROM survey_instances WHERE name = ?1 AND "
                                       "conv = ?2 LIMIT 1", "tt", survey, conv));
    if (survey)
        return exists(d, sq_prepare(d, "SELECT 1 FROM survey_instances WHERE user = ?1 AND "
                                       "name = ?2 AND status = 'pending' LIMIT 1",
                                    "tt", user, survey));
    return exists(d, sq_prepare(d, "SELECT 1 FROM proactive WHERE user = ?1 AND msg = ?2 AND "
                                   "acked_ms IS NULL LIMIT 1", "tt", user, msg_text));
}

/* The trigger's message with the default author filled in. */
static cJSON *trigger_message(const cJSON *t)
{
    cJSON *msg = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(t, "message"), 1), *author;

    if (!msg || cJSON_GetObjectItemCaseSensitive(msg, "author"))
        return msg;
    author = cJSON_AddObjectToObject(msg, "author");
    if (!author || !cJSON_AddStringToObject(author, "kind", "bot") ||
        !cJSON_AddStringToObject(author, "name", BOT_NAME)) {
        cJSON_Delete(msg);
        return NULL;
    }
    return msg;
}

static int fire_message(server *s, const cJSON *t, const char *user, int64_t now)
{
    cJSON *msg = trigger_message(t);
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    int64_t n;
    int rc = text ? already_there(s->db, user, NULL, NULL, text) : -1;

    if (rc == 0)
        rc = deliver_proactive(s, user, msg, now, &n);
    cJSON_free(text);
    cJSON_Delete(msg);
    return rc < 0 ? -1 : 0;
}

static void fire(server *s, const cJSON *t, const char *user, const char *conv, int64_t now)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(t, "attributes");
    const char *name = pj_string(t, "survey");
    int64_t n;
    int rc = attrs ? context_attrs_match(s->db, user, attrs) : 1;

    if (rc == 1 && name) {
        rc = already_there(s->db, user, name, conv, NULL);
        if (rc == 0)
            rc = deliver_survey(s, user, survey_find(s->surveys, name), conv, now, &n);
    } else if (rc == 1) {
        rc = fire_message(s, t, user, now);
    }
    if (rc < 0)
        fprintf(stderr, "parley-server: a '%s' trigger failed for '%s'\n", pj_string(t, "on"),
                user);
}

/* Fires every trigger `on` whose `key` member equals `value` (no key: all). */
static void fire_all(server *s, const char *on, const char *key, const char *value,
                     const char *user, const char *conv, int64_t now)
{
    const cJSON *t;
    const char *v;

    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s->surveys, "triggers")) {
        v = key ? pj_string(t, key) : NULL;
        if (strcmp(pj_string(t, "on"), on) == 0 && (!key || (v && strcmp(v, value) == 0)))
            fire(s, t, user, conv, now);
    }
}

void survey_on_conv_closed(server *srv, const char *conv_id, int64_t now_ms)
{
    char owner[PJ_MAX_ID + 1];

    if (db_conv_owner(srv->db, conv_id, owner, sizeof owner) == 1)
        fire_all(srv, "conv.closed", NULL, NULL, owner, conv_id, now_ms);
}

void survey_on_event(server *srv, const char *user, const char *name, int64_t now_ms)
{
    fire_all(srv, "event", "name", name, user, NULL, now_ms);
}

void survey_on_screen(server *srv, const char *user, const char *screen, int64_t now_ms)
{
    fire_all(srv, "screen", "screen", screen, user, NULL, now_ms);
}

/* ---- after a welcome ---- */

void survey_on_welcome(struct ws_conn *c)
{
    db *d = ws_conn_server(c)->db;
    const char *user = ws_conn_user(c);
    sqlite3_stmt *st;

    st = sq_prepare(d,
                    "SELECT n, conv, proactive, def FROM (SELECT * FROM survey_instances "
                    "WHERE user = ?1 AND status = 'pending' ORDER BY n DESC LIMIT ?2) ORDER BY n",
                    "ti", user, (int64_t)RESEND_SURVEYS);
    while (sq_step(d, st) == 1)
        ws_conn_send(c, survey_frame(sqlite3_column_int64(st, 0),
                                     sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL
                                                                              : sq_text(st, 1),
                                     sqlite3_column_int(st, 2), sq_text(st, 3)));
    sqlite3_finalize(st);
    st = sq_prepare(d,
                    "SELECT n, msg, created_ms FROM (SELECT * FROM proactive WHERE user = ?1 "
                    "AND acked_ms IS NULL ORDER BY n DESC LIMIT ?2) ORDER BY n",
                    "ti", user, (int64_t)RESEND_PROACTIVE);
    while (sq_step(d, st) == 1)
        ws_conn_send(c, proactive_frame(sqlite3_column_int64(st, 0), sq_text(st, 1),
                                        sqlite3_column_int64(st, 2)));
    sqlite3_finalize(st);
}

/* ---- survey.submit / survey.dismiss ---- */

enum { DONE_STORED, DONE_IGNORED, DONE_UNKNOWN, DONE_BAD, DONE_ERROR };

/* Stores the first answer (or dismissal) of the user's instance `n`;
 * `answers` NULL dismisses. Writes why into buf for DONE_BAD. */
static int finish_survey(db *d, const char *user, int64_t n, const char *cid,
                         const cJSON *answers, char *buf, size_t cap)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT status, def FROM survey_instances "
                                     "WHERE n = ?1 AND user = ?2", "it", n, user);
    int rc = sq_step(d, st), out = DONE_ERROR;
    cJSON *def = rc == 1 ? cJSON_Parse(sq_text(st, 1)) : NULL;
    char *text = answers ? cJSON_PrintUnformatted(answers) : NULL;

    if (rc == 0)
        out = DONE_UNKNOWN;
    else if (rc == 1 && strcmp(sq_text(st, 0), "pending") != 0)
        out = DONE_IGNORED;
    else if (rc == 1 && def && answers && survey_answers_why(def, answers, buf, cap))
        out = DONE_BAD;
    else if (rc == 1 && def && (!answers || text))
        out = sq_exec(d,
                      "UPDATE survey_instances SET status = ?2, answers = ?3, done_ms = ?4, "
                      "done_cid = ?5 WHERE n = ?1 AND status = 'pending'",
                      "ittit", n, answers ? "submitted" : "dismissed", text, util_now_ms(), cid)
                  ? DONE_ERROR
                  : DONE_STORED;
    sqlite3_finalize(st);
    cJSON_Delete(def);
    cJSON_free(text);
    return out;
}

static void on_done(struct ws_conn *c, const cJSON *f, int submit)
{
    const char *cid = pj_string(f, "cid");
    const cJSON *answers = cJSON_GetObjectItemCaseSensitive(f, "answers");
    char why[256];
    int64_t n;
    int rc;

    if (!pj_is_ident(cid)) {
        ws_conn_error(c, "bad_frame", "needs a cid identifier", NULL);
        return;
    }
    if (!cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "survey")) ||
        (submit && !cJSON_IsObject(answers))) {
        ws_conn_error(c, "bad_frame", submit ? "needs survey and an answers object" : "needs survey",
                      cid);
        return;
    }
    rc = parse_id(pj_string(f, "survey"), "sv-", &n)
             ? DONE_UNKNOWN
             : finish_survey(ws_conn_server(c)->db, ws_conn_user(c), n, cid,
                             submit ? answers : NULL, why, sizeof why);
    if (rc == DONE_UNKNOWN)
        ws_conn_error(c, "unknown_survey", "no such survey", cid);
    else if (rc == DONE_BAD)
        ws_conn_error(c, "bad_answer", why, cid);
    else if (rc == DONE_ERROR)
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
    else
        ws_conn_send(c, ack_frame(cid));
}

void survey_on_submit(struct ws_conn *c, const cJSON *f)
{
    on_done(c, f, 1);
}

void survey_on_dismiss(struct ws_conn *c, const cJSON *f)
{
    on_done(c, f, 0);
}

void survey_on_proactive_ack(struct ws_conn *c, const cJSON *f)
{
    const char *id = pj_string(f, "id");
    int64_t n;

    if (!pj_is_ident(id)) {
        ws_conn_error(c, "bad_frame", "proactive.ack needs an id", NULL);
        return;
    }
    /* An id that is not the user's is ignored, like an ack for an unknown
     * cid on the client. */
    if (parse_id(id, "p-", &n) == 0 &&
        sq_exec(ws_conn_server(c)->db,
                "UPDATE proactive SET acked_ms = ?3 WHERE n = ?1 AND user = ?2 AND "
                "acked_ms IS NULL", "iti", n, ws_conn_user(c), util_now_ms()))
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
}

int survey_merge_user(db *d, const char *anon, const char *user)
{
    if (sq_exec(d, "UPDATE survey_instances SET user = ?2 WHERE user = ?1", "tt", anon, user) ||
        sq_exec(d, "UPDATE proactive SET user = ?2 WHERE user = ?1", "tt", anon, user))
        return -1;
    return 0;
}

/* ---- HTTP API ---- */

static unsigned api_error(cJSON **out, unsigned status, const char *message)
{
    cJSON *o = cJSON_CreateObject();

    if (o && !cJSON_AddStringToObject(o, "error", message)) {
        cJSON_Delete(o);
        o = NULL;
    }
    *out = o;
    return status;
}

static unsigned api_created(cJSON **out, const char *prefix, int64_t n)
{
    cJSON *o = cJSON_CreateObject();
    char id[ID_BUF];

    format_id(prefix, n, id);
    if (o && !cJSON_AddStringToObject(o, "id", id)) {
        cJSON_Delete(o);
        o = NULL;
    }
    *out = o;
    return HTTP_CREATED;
}

static int user_known(db *d, const char *user)
{
    return exists(d, sq_prepare(d, "SELECT 1 FROM users WHERE id = ?1", "t", user));
}

unsigned survey_api_push(server *s, const char *user, const cJSON *body, cJSON **out)
{
    const char *name = pj_string(body, "survey");
    const cJSON *conv = cJSON_GetObjectItemCaseSensitive(body, "conv");
    const cJSON *def = name ? survey_find(s->surveys, name) : NULL;
    int64_t n;
    int rc;

    if (!def)
        return api_error(out, 400, "survey must name a survey of the --surveys file");
    if (conv && !(cJSON_IsString(conv) && pj_is_ident(conv->valuestring)))
        return api_error(out, 400, "conv must be a conversation id");
    rc = user_known(s->db, user);
    if (rc == 1 && conv)
        rc = chat_owns(s->db, user, conv->valuestring) == 1 ? 1 : -2;
    if (rc == 0)
        return api_error(out, 404, "unknown user");
    if (rc == -2)
        return api_error(out, 400, "conv is not a conversation of that user");
    if (rc < 0 || deliver_survey(s, user, def, conv ? conv->valuestring : NULL,
                                 util_now_ms(), &n))
        return api_error(out, 500, "database error");
    return api_created(out, "sv-", n);
}

static const char *proactive_why(const cJSON *body, size_t max_text)
{
    const char *text = pj_string(body, "text");
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");

    if (!text || !text[0] || strlen(text) > max_text)
        return "text must be a non-empty string within the server's max_text";
    if (name && !(cJSON_IsString(name) && name->valuestring[0] &&
                  strlen(name->valuestring) <= MAX_NAME))
        return "name must be a string of 1 to 128 bytes";
    return NULL;
}

/* The agent's message; its blocks are the normalized ones (may be NULL). */
static cJSON *agent_message(const cJSON *body, cJSON *blocks)
{
    const char *name = pj_string(body, "name");
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

unsigned survey_api_proactive(server *s, const char *user, const cJSON *body, cJSON **out)
{
    const cJSON *blocks = cJSON_GetObjectItemCaseSensitive(body, "blocks");
    const char *why = proactive_why(body, s->max_text);
    char buf[256];
    cJSON *norm = NULL, *msg;
    int64_t n;
    int rc;

    if (why)
        return api_error(out, 400, why);
    if (blocks && !(norm = blocks_normalize(blocks, buf, sizeof buf)))
        return api_error(out, 400, buf);
    rc = user_known(s->db, user);
    if (rc != 1) {
        cJSON_Delete(norm);
        return rc == 0 ? api_error(out, 404, "unknown user") : api_error(out, 500, "database error");
    }
    msg = agent_message(body, norm);
    rc = msg ? deliver_proactive(s, user, msg, util_now_ms(), &n) : -1;
    cJSON_Delete(msg);
    if (rc)
        return api_error(out, 500, "database error");
    return api_created(out, "p-", n);
}

/* ---- responses and their aggregate ---- */

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
    const cJSON *q = survey_first_question(def, kind);
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

static int add_response(cJSON *arr, sqlite3_stmt *st, const cJSON *answers)
{
    cJSON *r = cJSON_CreateObject(), *copy = cJSON_Duplicate(answers, 1);
    char id[ID_BUF];

    if (!r || !copy) {
        cJSON_Delete(r);
        cJSON_Delete(copy);
        return -1;
    }
    cJSON_AddItemToArray(arr, r);
    cJSON_AddItemToObject(r, "answers", copy);
    format_id("sv-", sqlite3_column_int64(st, 0), id);
    if (!cJSON_AddStringToObject(r, "id", id) ||
        !cJSON_AddStringToObject(r, "user", sq_text(st, 1)) ||
        !(sqlite3_column_type(st, 2) == SQLITE_NULL ? cJSON_AddNullToObject(r, "conv")
                                                    : cJSON_AddStringToObject(r, "conv",
                                                                              sq_text(st, 2))) ||
        !cJSON_AddNumberToObject(r, "submitted_ms", (double)sqlite3_column_int64(st, 5)))
        return -1;
    return 0;
}

/* One stored row (n, user, conv, status, answers, done_ms, def) into the
 * list and the tally. 0 or -1. */
static int take_row(tally *t, cJSON *list, sqlite3_stmt *st)
{
    cJSON *answers, *def;
    int rc;

    if (strcmp(sq_text(st, 3), "dismissed") == 0) {
        t->dismissed++;
        return 0;
    }
    answers = cJSON_Parse(sq_text(st, 4));
    def = cJSON_Parse(sq_text(st, 6));
    rc = answers && def ? add_response(list, st, answers) : -1;
    if (rc == 0)
        rc = tally_one(t, def, answers);
    cJSON_Delete(answers);
    cJSON_Delete(def);
    return rc;
}

static int add_aggregate(cJSON *o, tally *t)
{
    cJSON *agg = cJSON_AddObjectToObject(o, "aggregate");

    if (!agg || !cJSON_AddNumberToObject(agg, "count", (double)t->count) ||
        !cJSON_AddNumberToObject(agg, "dismissed", (double)t->dismissed) ||
        !(t->rating_n ? cJSON_AddNumberToObject(agg, "csat_avg",
                                                round2(t->rating_sum / (double)t->rating_n))
                      : cJSON_AddNullToObject(agg, "csat_avg")) ||
        !(t->nps_n ? cJSON_AddNumberToObject(agg, "nps",
                                             round2(100.0 * (double)(t->promoters - t->detractors) /
                                                    (double)t->nps_n))
                   : cJSON_AddNullToObject(agg, "nps")))
        return -1;
    cJSON_AddItemToObject(agg, "options", t->options);
    t->options = NULL;
    return 0;
}

static int collect(db *d, const char *name, cJSON *o, int64_t *rows)
{
    cJSON *list = cJSON_AddArrayToObject(o, "responses");
    sqlite3_stmt *st = sq_prepare(d,
                                  "SELECT n, user, conv, status, answers, done_ms, def "
                                  "FROM survey_instances WHERE name = ?1 AND status != 'pending' "
                                  "ORDER BY done_ms, n",
                                  "t", name);
    tally t;
    int rc = list ? 0 : -1;

    memset(&t, 0, sizeof t);
    t.options = cJSON_CreateObject();
    while (rc == 0 && t.options && (rc = sq_step(d, st)) == 1)
        rc = take_row(&t, list, st);
    sqlite3_finalize(st);
    *rows = t.count + t.dismissed;
    if (rc == 0 && t.options)
        rc = add_aggregate(o, &t);
    cJSON_Delete(t.options);
    return rc == 0 ? 0 : -1;
}

unsigned survey_api_responses(server *s, const char *name, const cJSON *body, cJSON **out)
{
    cJSON *o = cJSON_CreateObject();
    int64_t rows = 0;
    int known;

    (void)body;
    if (!o || collect(s->db, name, o, &rows)) {
        cJSON_Delete(o);
        return api_error(out, 500, "database error");
    }
    known = survey_find(s->surveys, name) || rows > 0 ||
            exists(s->db, sq_prepare(s->db, "SELECT 1 FROM survey_instances WHERE name = ?1 "
                                            "LIMIT 1", "t", name)) == 1;
    if (!known) {
        cJSON_Delete(o);
        return api_error(out, 404, "unknown survey");
    }
    *out = o;
    return 200;
}
