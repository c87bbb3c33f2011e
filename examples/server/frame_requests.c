#include "frame_requests.h"

#include <stdio.h>
#include <string.h>

#include "frame_chat.h"
#include "store_convs.h"
#include "json.h"
#include "kb.h"
#include "store_sqlite.h"
#include "util.h"
#include "ws.h"

/* Answers must fit in one frame: what is left for the list after "t",
 * "req", "conv" and "more". */
#define ANSWER_BUDGET (PJ_MAX_FRAME - 1024)
#define LIST_SUBJECT_MAX 256
#define LIST_TEXT_MAX 200

/* ---- frames ---- */

/* Queues a built frame (NULL: out of memory, which drops the connection). */
static void send_json(struct ws_conn *c, cJSON *frame)
{
    ws_conn_send(c, frame ? cJSON_PrintUnformatted(frame) : NULL);
    cJSON_Delete(frame);
}

static cJSON *frame_start(const char *type, const char *req)
{
    cJSON *f = cJSON_CreateObject();

    if (f && (!cJSON_AddStringToObject(f, "t", type) ||
              (req && !cJSON_AddStringToObject(f, "req", req)))) {
        cJSON_Delete(f);
        return NULL;
    }
    return f;
}

static void req_error(struct ws_conn *c, const char *req, const char *code, const char *message)
{
    cJSON *f = frame_start("error", NULL);

    if (f && (!cJSON_AddStringToObject(f, "code", code) ||
              !cJSON_AddStringToObject(f, "message", message) ||
              !cJSON_AddStringToObject(f, "req", req))) {
        cJSON_Delete(f);
        f = NULL;
    }
    send_json(c, f);
}

/* The request id, or NULL after answering bad_frame (no req to echo). */
static const char *get_req(struct ws_conn *c, const cJSON *f)
{
    const char *req = pj_string(f, "req");

    if (pj_is_ident(req))
        return req;
    ws_conn_error(c, "bad_frame", "a request needs a req identifier", NULL);
    return NULL;
}

static char *unread_json(const char *conv, int64_t count)
{
    cJSON *f = frame_start("unread", NULL);
    char *json = NULL;

    if (f && cJSON_AddStringToObject(f, "conv", conv) &&
        cJSON_AddNumberToObject(f, "count", (double)count))
        json = cJSON_PrintUnformatted(f);
    cJSON_Delete(f);
    return json;
}

void rich_push_unread(server *s, const char *user, const char *conv)
{
    int64_t count;
    char *json;

    if (!s->nconns || cstate_unread(s->db, conv, &count))
        return;
    json = unread_json(conv, count);
    if (json)
        ws_push_frame(s, user, json);
    cJSON_free(json);
}

void rich_after_welcome(struct ws_conn *c)
{
    server *s = ws_conn_server(c);
    sqlite3_stmt *st = sq_prepare(s->db,
                                  "SELECT c.id, (SELECT count(*) FROM messages m"
                                  "  WHERE m.conv = c.id AND m.author_kind <> 'user'"
                                  "  AND m.seq > coalesce(q.read_seq, 0))"
                                  " FROM conversations c LEFT JOIN conv_state q ON q.conv = c.id"
                                  " WHERE c.user = ?1 ORDER BY c.created_ms, c.id",
                                  "t", ws_conn_user(c));

    while (sq_step(s->db, st) == 1)
        ws_conn_send(c, unread_json(sq_text(st, 0), sqlite3_column_int64(st, 1)));
    sqlite3_finalize(st);
}

/* ---- typing and read ---- */

/* The frame's conversation when it is the user's; else NULL after telling
 * the client why (with `req` when there is one). */
static const char *owned_conv(struct ws_conn *c, const cJSON *f, const char *req)
{
    const char *conv = pj_string(f, "conv");
    int rc;

    if (!pj_is_ident(conv)) {
        if (req)
            req_error(c, req, "bad_frame", "conv must be a conversation id");
        else
            ws_conn_error(c, "bad_frame", "conv must be a conversation id", NULL);
        return NULL;
    }
    rc = chat_owns(ws_conn_server(c)->db, ws_conn_user(c), conv);
    if (rc == 1)
        return conv;
    if (req)
        req_error(c, req, rc < 0 ? "internal" : "unknown_conversation",
                  rc < 0 ? "cannot read, try again later" : "no such conversation");
    else
        ws_conn_error(c, rc < 0 ? "internal" : "unknown_conversation",
                      rc < 0 ? "cannot read, try again later" : "no such conversation", NULL);
    return NULL;
}

void rich_on_typing(struct ws_conn *c, const cJSON *f)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(f, "on");
    const char *conv;

    if (!cJSON_IsBool(on)) {
        ws_conn_error(c, "bad_frame", "typing needs conv and a boolean on", NULL);
        return;
    }
    conv = owned_conv(c, f, NULL);
    if (conv && cstate_set_typing(ws_conn_server(c)->db, conv, cJSON_IsTrue(on), util_now_ms()))
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
}

void rich_on_read(struct ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    int64_t seq, last = 0;
    const char *conv;
    int rc;

    if (pj_parse_seq(pj_string(f, "seq"), &seq)) {
        ws_conn_error(c, "bad_frame", "read needs conv and a seq string", NULL);
        return;
    }
    conv = owned_conv(c, f, NULL);
    if (!conv)
        return;
    /* A mark beyond the last message would hide messages not written yet. */
    rc = cstate_last_seq(s->db, conv, &last) ? -1
         : cstate_user_read(s->db, conv, seq < last ? seq : last, util_now_ms());
    if (rc < 0)
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
    else if (rc > 0)
        rich_push_unread(s, ws_conn_user(c), conv);
}

/* ---- conv.list ---- */

/* `s` cut to at most `max` bytes on a UTF-8 boundary. */
static int add_cut(cJSON *o, const char *key, const char *s, size_t max)
{
    char buf[LIST_SUBJECT_MAX + 1];
    size_t len = strlen(s);

    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static cJSON *list_entry(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject();
    char seq[PJ_SEQ_BUF];
    int ok;

    pj_format_seq(sqlite3_column_int64(st, 2), seq);
    ok = o && cJSON_AddStringToObject(o, "conv", sq_text(st, 0)) &&
         (sqlite3_column_type(st, 1) == SQLITE_NULL ||
          add_cut(o, "subject", sq_text(st, 1), LIST_SUBJECT_MAX)) &&
         cJSON_AddStringToObject(o, "state", sq_text(st, 3)) &&
         cJSON_AddStringToObject(o, "last_seq", seq) &&
         cJSON_AddNumberToObject(o, "unread", (double)sqlite3_column_int64(st, 4)) &&
         cJSON_AddNumberToObject(o, "updated_ms", (double)sqlite3_column_int64(st, 5)) &&
         (sqlite3_column_type(st, 6) == SQLITE_NULL ||
          add_cut(o, "last_text", sq_text(st, 6), LIST_TEXT_MAX));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Appends `item` unless the answer would outgrow its frame; 1 added, 0 no
 * room, -1 out of memory. Takes `item`. */
static int add_within(cJSON *arr, cJSON *item, size_t *used)
{
    char *json = item ? cJSON_PrintUnformatted(item) : NULL;
    size_t len = json ? strlen(json) + 1 : 0;

    cJSON_free(json);
    if (!json || *used + len > ANSWER_BUDGET || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        return json ? 0 : -1;
    }
    *used += len;
    return 1;
}

void rich_on_conv_list(struct ws_conn *c, const cJSON *f)
{
    const char *req = get_req(c, f);
    server *s = ws_conn_server(c);
    sqlite3_stmt *st;
    cJSON *answer, *arr;
    size_t used = 0;
    int rc = 0;

    if (!req)
        return;
    st = sq_prepare(s->db,
                    "SELECT c.id, c.subject, c.last_seq, coalesce(q.state, 'bot'),"
                    " (SELECT count(*) FROM messages m WHERE m.conv = c.id"
                    "  AND m.author_kind <> 'user' AND m.seq > coalesce(q.read_seq, 0)),"
                    " coalesce((SELECT ts FROM messages m WHERE m.conv = c.id"
                    "  AND m.seq = c.last_seq), c.created_ms) AS updated,"
                    " (SELECT text FROM messages m WHERE m.conv = c.id AND m.seq = c.last_seq)"
                    " FROM conversations c LEFT JOIN conv_state q ON q.conv = c.id"
                    " WHERE c.user = ?1 ORDER BY updated DESC, c.id LIMIT ?2",
                    "ti", ws_conn_user(c), (int64_t)RICH_CONV_LIST_MAX);
    answer = frame_start("conv.list", req);
    arr = answer ? cJSON_AddArrayToObject(answer, "conversations") : NULL;
    while (arr && (rc = sq_step(s->db, st)) == 1 &&
           (rc = add_within(arr, list_entry(st), &used)) == 1)
        ;
    sqlite3_finalize(st);
    if (!st || rc < 0) {
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot list conversations, try again later");
        return;
    }
    if (!arr) {
        cJSON_Delete(answer);
        answer = NULL;
    }
    send_json(c, answer);
}

/* ---- history.page ---- */

static cJSON *page_entry(sqlite3_stmt *st)
{
    cJSON *o = cJSON_CreateObject(), *author = cJSON_CreateObject(), *blocks = NULL;
    char seq[PJ_SEQ_BUF];
    int ok;

    pj_format_seq(sqlite3_column_int64(st, 1), seq);
    ok = o && author && cJSON_AddItemToObject(o, "author", author);
    if (!ok)
        cJSON_Delete(author);
    ok = ok && cJSON_AddStringToObject(o, "id", sq_text(st, 0)) &&
         cJSON_AddStringToObject(o, "seq", seq) &&
         cJSON_AddStringToObject(author, "kind", sq_text(st, 2)) &&
         (sqlite3_column_type(st, 3) == SQLITE_NULL ||
          cJSON_AddStringToObject(author, "name", sq_text(st, 3))) &&
         cJSON_AddStringToObject(o, "text", sq_text(st, 4)) &&
         cJSON_AddNumberToObject(o, "ts", (double)sqlite3_column_int64(st, 5));
    if (ok && sqlite3_column_type(st, 6) != SQLITE_NULL) {
        blocks = cJSON_Parse(sq_text(st, 6));
        ok = blocks && cJSON_AddItemToObject(o, "blocks", blocks);
        if (!ok)
            cJSON_Delete(blocks);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

typedef struct page_req {
    const char *conv;
    int64_t before; /* exclusive */
    int64_t limit;
} page_req;

static int parse_page(const cJSON *f, page_req *p)
{
    const cJSON *before = cJSON_GetObjectItemCaseSensitive(f, "before"),
                *limit = cJSON_GetObjectItemCaseSensitive(f, "limit");

    p->before = PJ_SEQ_MAX + 1;
    p->limit = RICH_PAGE_DEFAULT;
    if (before && (!cJSON_IsString(before) || pj_parse_seq(before->valuestring, &p->before)))
        return -1;
    if (limit && (!cJSON_IsNumber(limit) || limit->valuedouble < 1 ||
                  limit->valuedouble > RICH_PAGE_MAX ||
                  limit->valuedouble != (double)(int64_t)limit->valuedouble))
        return -1;
    if (limit)
        p->limit = (int64_t)limit->valuedouble;
    return 0;
}

/* The page, newest first from the database, put back in ascending order;
 * one row more than asked for tells whether older ones exist. */
static int fill_page(server *s, const page_req *p, cJSON *arr, int *more)
{
    sqlite3_stmt *st = sq_prepare(s->db,
                                  "SELECT id, seq, author_kind, author_name, text, ts, blocks"
                                  " FROM messages WHERE conv = ?1 AND seq < ?2"
                                  " ORDER BY seq DESC LIMIT ?3",
                                  "tii", p->conv, p->before, p->limit + 1);
    size_t used = 0;
    int64_t n = 0;
    cJSON *item;
    char *json;
    int rc;

    *more = 0;
    while ((rc = sq_step(s->db, st)) == 1) {
        if (n == p->limit) {
            *more = 1;
            break;
        }
        item = page_entry(st);
        json = item ? cJSON_PrintUnformatted(item) : NULL;
        if (!json || used + strlen(json) + 1 > ANSWER_BUDGET || !cJSON_InsertItemInArray(arr, 0, item)) {
            cJSON_Delete(item);
            *more = json != NULL;
            rc = json ? 0 : -1;
            cJSON_free(json);
            break;
        }
        used += strlen(json) + 1;
        cJSON_free(json);
        n++;
    }
    sqlite3_finalize(st);
    return st && rc >= 0 ? 0 : -1;
}

void rich_on_history_page(struct ws_conn *c, const cJSON *f)
{
    const char *req = get_req(c, f);
    cJSON *answer, *arr;
    page_req p;
    int more = 0;

    if (!req)
        return;
    if (parse_page(f, &p)) {
        req_error(c, req, "bad_frame", "history.page takes before (a seq string) and limit 1..100");
        return;
    }
    p.conv = owned_conv(c, f, req);
    if (!p.conv)
        return;
    answer = frame_start("history.page", req);
    arr = cJSON_CreateArray();
    if (!answer || !arr || !cJSON_AddStringToObject(answer, "conv", p.conv) ||
        fill_page(ws_conn_server(c), &p, arr, &more) ||
        !cJSON_AddBoolToObject(answer, "more", more) ||
        !cJSON_AddItemToObject(answer, "messages", arr)) {
        cJSON_Delete(arr);
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot read history, try again later");
        return;
    }
    send_json(c, answer);
}

/* ---- knowledge base ---- */

static int add_article(cJSON *o, const kb_article *a, int full)
{
    return cJSON_AddStringToObject(o, "id", a->id) &&
           cJSON_AddStringToObject(o, "title", a->title) &&
           (full ? cJSON_AddStringToObject(o, "body", a->body) != NULL
                 : cJSON_AddStringToObject(o, "snippet", a->snippet ? a->snippet : "") != NULL) &&
           (!a->url || cJSON_AddStringToObject(o, "url", a->url));
}

static int add_result(void *ud, const kb_article *a)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddItemToArray(ud, o)) {
        cJSON_Delete(o);
        return 1;
    }
    return !add_article(o, a, 0);
}

void rich_on_kb_search(struct ws_conn *c, const cJSON *f)
{
    const char *req = get_req(c, f), *query = pj_string(f, "query");
    cJSON *answer, *arr;
    int n;

    if (!req)
        return;
    if (!query || !query[0] || strlen(query) > KB_MAX_QUERY) {
        req_error(c, req, "bad_frame", "kb.search needs a query of 1 to 256 bytes");
        return;
    }
    answer = frame_start("kb.results", req);
    arr = answer ? cJSON_AddArrayToObject(answer, "articles") : NULL;
    n = arr ? kb_search(ws_conn_server(c)->kb, query, KB_MAX_RESULTS, add_result, arr) : -1;
    if (n < 0 || cJSON_GetArraySize(arr) != n) {
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot search, try again later");
        return;
    }
    send_json(c, answer);
}

static int take_article(void *ud, const kb_article *a)
{
    cJSON *o = cJSON_AddObjectToObject(ud, "article");

    if (!o || !add_article(o, a, 1))
        cJSON_DeleteItemFromObjectCaseSensitive(ud, "article");
    return 1;
}

void rich_on_kb_get(struct ws_conn *c, const cJSON *f)
{
    const char *req = get_req(c, f), *id = pj_string(f, "id");
    cJSON *answer;
    int rc;

    if (!req)
        return;
    if (!pj_is_ident(id)) {
        req_error(c, req, "bad_frame", "kb.get needs an article id");
        return;
    }
    answer = frame_start("kb.article", req);
    rc = answer ? kb_get(ws_conn_server(c)->kb, id, take_article, answer) : -1;
    if (rc == 0) {
        cJSON_Delete(answer);
        req_error(c, req, "not_found", "no such article");
        return;
    }
    if (rc < 0 || !cJSON_GetObjectItemCaseSensitive(answer, "article")) {
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot read the article, try again later");
        return;
    }
    send_json(c, answer);
}
