#include "frame_requests.h"

#include <string.h>

#include "json.h"
#include "kb.h"
#include "store.h"
#include "wire.h"

/* Answers must fit in one frame: what is left for the list after "t",
 * "req", "conv" and "more". */
#define ANSWER_BUDGET (PJ_MAX_FRAME - 1024)

static void req_error(ws_conn *c, const char *req, const char *code, const char *message)
{
    ws_conn_send(c, wire_req_error(code, message, req, 0));
}

/* The request id, or NULL after answering bad_frame (no req to echo). */
static const char *get_req(ws_conn *c, const cJSON *f)
{
    const char *req = pj_string(f, "req");

    if (pj_is_ident(req))
        return req;
    ws_conn_error(c, "bad_frame", "a request needs a req identifier", NULL);
    return NULL;
}

/* The frame's conversation when it is the user's; else NULL after
 * answering the request with why. */
static const char *owned_conv(ws_conn *c, const cJSON *f, const char *req)
{
    const char *conv = pj_string(f, "conv");
    int rc;

    if (!pj_is_ident(conv)) {
        req_error(c, req, "bad_frame", "conv must be a conversation id");
        return NULL;
    }
    rc = store_conv_owned(ws_conn_server(c)->store, ws_conn_user(c), conv);
    if (rc == 1)
        return conv;
    req_error(c, req, rc < 0 ? "internal" : "unknown_conversation",
              rc < 0 ? "cannot read, try again later" : "no such conversation");
    return NULL;
}

/* ---- conv.list ---- */

typedef struct listing {
    cJSON *arr;
    size_t used; /* bytes of the entries so far */
} listing;

enum { ROOM_LEFT, NO_ROOM, OUT_OF_MEMORY };

/* Appends `item` unless the answer would outgrow its frame. Takes `item`. */
static int add_within(cJSON *arr, cJSON *item, size_t *used, int front)
{
    char *json = item ? cJSON_PrintUnformatted(item) : NULL;
    size_t len = json ? strlen(json) + 1 : 0;
    int added;

    cJSON_free(json);
    added = json && *used + len <= ANSWER_BUDGET &&
            (front ? cJSON_InsertItemInArray(arr, 0, item) : cJSON_AddItemToArray(arr, item));
    if (!added) {
        cJSON_Delete(item);
        return json ? NO_ROOM : OUT_OF_MEMORY;
    }
    *used += len;
    return ROOM_LEFT;
}

static int list_one(void *ud, const store_conv_row *r)
{
    listing *l = ud;

    return add_within(l->arr, wire_conv_row(r), &l->used, 0);
}

void frame_requests_conv_list(ws_conn *c, const cJSON *f)
{
    const char *req = get_req(c, f);
    cJSON *answer;
    listing l = {NULL, 0};
    int rc;

    if (!req)
        return;
    answer = wire_answer("conv.list", req);
    l.arr = answer ? cJSON_AddArrayToObject(answer, "conversations") : NULL;
    if (!l.arr) {
        cJSON_Delete(answer);
        ws_conn_send(c, NULL);
        return;
    }
    rc = store_conv_list(ws_conn_server(c)->store, ws_conn_user(c), FRAME_REQUESTS_LIST_MAX,
                         list_one, &l);
    if (rc < 0 || rc == OUT_OF_MEMORY) {
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot list conversations, try again later");
        return;
    }
    ws_conn_send(c, wire_print(answer));
}

/* ---- history.page ---- */

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
    p->limit = FRAME_REQUESTS_PAGE_DEFAULT;
    if (before && (!cJSON_IsString(before) || pj_parse_seq(before->valuestring, &p->before)))
        return -1;
    if (limit && (!cJSON_IsNumber(limit) || limit->valuedouble < 1 ||
                  limit->valuedouble > FRAME_REQUESTS_PAGE_MAX ||
                  limit->valuedouble != (double)(int64_t)limit->valuedouble))
        return -1;
    if (limit)
        p->limit = (int64_t)limit->valuedouble;
    return 0;
}

typedef struct paging {
    listing l;
    int64_t n, limit;
    int more;
} paging;

/* Rows come newest first and go in front, so the page reads oldest first;
 * the row past the limit only says that older ones exist. */
static int page_one(void *ud, const store_msg *m)
{
    paging *p = ud;
    int rc;

    if (p->n == p->limit) {
        p->more = 1;
        return NO_ROOM;
    }
    rc = add_within(p->l.arr, wire_page_msg(m), &p->l.used, 1);
    p->more = rc == NO_ROOM;
    p->n++;
    return rc;
}

/* The page into `arr`; 0 or -1. */
static int fill_page(store *s, const page_req *req, cJSON *arr, int *more)
{
    paging p = {{arr, 0}, 0, req->limit, 0};
    int rc = store_msg_page(s, req->conv, req->before, req->limit + 1, page_one, &p);

    *more = p.more;
    return rc < 0 || rc == OUT_OF_MEMORY ? -1 : 0;
}

void frame_requests_history_page(ws_conn *c, const cJSON *f)
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
    answer = wire_answer("history.page", req);
    arr = cJSON_CreateArray();
    if (!answer || !arr || !cJSON_AddStringToObject(answer, "conv", p.conv) ||
        fill_page(ws_conn_server(c)->store, &p, arr, &more) ||
        !cJSON_AddBoolToObject(answer, "more", more) ||
        !cJSON_AddItemToObject(answer, "messages", arr)) {
        cJSON_Delete(arr);
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot read history, try again later");
        return;
    }
    ws_conn_send(c, wire_print(answer));
}

/* ---- knowledge base ---- */

static int add_result(void *ud, const kb_article *a)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddItemToArray(ud, o)) {
        cJSON_Delete(o);
        return 1;
    }
    return !wire_article(o, a, 0);
}

void frame_requests_kb_search(ws_conn *c, const cJSON *f)
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
    answer = wire_answer("kb.results", req);
    arr = answer ? cJSON_AddArrayToObject(answer, "articles") : NULL;
    n = arr ? kb_search(ws_conn_server(c)->kb, query, KB_MAX_RESULTS, add_result, arr) : -1;
    if (n < 0 || cJSON_GetArraySize(arr) != n) {
        cJSON_Delete(answer);
        req_error(c, req, "internal", "cannot search, try again later");
        return;
    }
    ws_conn_send(c, wire_print(answer));
}

static int take_article(void *ud, const kb_article *a)
{
    cJSON *o = cJSON_AddObjectToObject(ud, "article");

    if (!o || !wire_article(o, a, 1))
        cJSON_DeleteItemFromObjectCaseSensitive(ud, "article");
    return 1;
}

void frame_requests_kb_get(ws_conn *c, const cJSON *f)
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
    answer = wire_answer("kb.article", req);
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
    ws_conn_send(c, wire_print(answer));
}
