#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "agent.h"
#include "blocks.h"
#include "frame_chat.h"
#include "frame_context.h"
#include "json.h"
#include "survey.h"
#include "ws.h"

#define BODY_CHUNK 4096
/* Missing from lws' enum http_status. */
#define HTTP_CREATED 201

enum route { ROUTE_NONE, ROUTE_CONVERSATIONS, ROUTE_MESSAGES };

/* One HTTP transaction. lws zeroes it when the connection is accepted;
 * req_reset() clears it between keep-alive transactions. */
typedef struct http_req {
    int method; /* LWSHUMETH_* */
    enum route route;
    http_api_fn fn; /* a route of the routes table */
    char conv[PJ_MAX_ID + 1]; /* the path's {placeholder} */
    long long content_length; /* -1 when absent */
    int has_body;             /* a Content-Length above 0, or chunked */
    char *body;
    size_t body_len;
    int body_read;     /* BODY_COMPLETION seen */
    int body_overflow; /* more bytes arrived than announced */
    unsigned status;   /* nonzero once a response is ready */
    const char *allow; /* Allow header of a 405 */
    char *resp;
    size_t resp_len, resp_off;
    int headers_sent;
    int close_after; /* an unread request body makes the connection unusable */
} http_req;

size_t http_api_req_size(void)
{
    return sizeof(http_req);
}

static void req_reset(http_req *r)
{
    free(r->body);
    cJSON_free(r->resp);
    memset(r, 0, sizeof *r);
}

/* ---- responses ---- */

/* Takes ownership of `json`. Returns 0, or -1 (close) when out of memory. */
static int respond(struct lws *wsi, http_req *r, unsigned status, cJSON *json)
{
    r->resp = json ? cJSON_PrintUnformatted(json) : NULL;
    cJSON_Delete(json);
    if (!r->resp)
        return -1;
    r->resp_len = strlen(r->resp);
    r->status = status;
    if (r->has_body && !r->body_read)
        r->close_after = 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int respond_error(struct lws *wsi, http_req *r, unsigned status, const char *message)
{
    cJSON *json = cJSON_CreateObject();

    if (json && !cJSON_AddStringToObject(json, "error", message)) {
        cJSON_Delete(json);
        json = NULL;
    }
    return respond(wsi, r, status, json);
}

static int add_header(struct lws *wsi, enum lws_token_indexes token, const char *value,
                      unsigned char **p, unsigned char *end)
{
    return lws_add_http_header_by_token(wsi, token, (const unsigned char *)value,
                                        (int)strlen(value), p, end);
}

static int write_headers(struct lws *wsi, http_req *r)
{
    unsigned char buf[LWS_PRE + 512], *start = buf + LWS_PRE, *p = start,
                                      *end = buf + sizeof buf - 1;

    if (lws_add_http_common_headers(wsi, r->status, "application/json", r->resp_len, &p, end) ||
        add_header(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, "no-store", &p, end) ||
        (r->status == HTTP_STATUS_UNAUTHORIZED &&
         add_header(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE, "Bearer", &p, end)) ||
        (r->allow && add_header(wsi, WSI_TOKEN_HTTP_ALLOW, r->allow, &p, end)) ||
        (r->close_after && add_header(wsi, WSI_TOKEN_CONNECTION, "close", &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    r->headers_sent = 1;
    lws_callback_on_writable(wsi);
    return 0;
}

static int write_body(struct lws *wsi, http_req *r)
{
    unsigned char buf[LWS_PRE + BODY_CHUNK];
    size_t n = r->resp_len - r->resp_off;
    int final, close_after;

    if (n > BODY_CHUNK)
        n = BODY_CHUNK;
    final = r->resp_off + n == r->resp_len;
    memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    r->resp_off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    close_after = r->close_after;
    req_reset(r);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_writeable(struct lws *wsi, http_req *r)
{
    if (!r->status)
        return 0;
    return r->headers_sent ? write_body(wsi, r) : write_headers(wsi, r);
}

/* ---- GET ---- */

static int add_seq(cJSON *obj, int64_t seq)
{
    char buf[PJ_SEQ_BUF];

    pj_format_seq(seq, buf);
    return cJSON_AddStringToObject(obj, "seq", buf) ? 0 : -1;
}

/* Fills the object `ud` with the conversation's own fields. */
static int add_conv_fields(void *ud, const db_conv *c)
{
    cJSON *o = ud;
    char seq[PJ_SEQ_BUF];
    int ok;

    pj_format_seq(c->last_seq, seq);
    ok = cJSON_AddStringToObject(o, "id", c->id) && cJSON_AddStringToObject(o, "user", c->user) &&
         (c->subject ? cJSON_AddStringToObject(o, "subject", c->subject)
                     : cJSON_AddNullToObject(o, "subject")) &&
         cJSON_AddNumberToObject(o, "created_ms", (double)c->created_ms) &&
         cJSON_AddStringToObject(o, "last_seq", seq);
    return !ok;
}

static int add_conv(void *ud, const db_conv *c)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return 1;
    cJSON_AddItemToArray(ud, o);
    return add_conv_fields(o, c);
}

static int add_author(cJSON *o, const db_msg *m)
{
    cJSON *a = cJSON_AddObjectToObject(o, "author");

    if (!a || !cJSON_AddStringToObject(a, "kind", m->author_kind))
        return -1;
    if (m->author_name && !cJSON_AddStringToObject(a, "name", m->author_name))
        return -1;
    return 0;
}

/* The user's context snapshot goes along so the agent sees it. */
static int add_context(cJSON *o, const db_msg *m)
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

static int add_msg(void *ud, const db_msg *m)
{
    cJSON *o = cJSON_CreateObject();

    if (!o)
        return 1;
    cJSON_AddItemToArray(ud, o);
    return !cJSON_AddStringToObject(o, "id", m->id) || add_seq(o, m->seq) || add_author(o, m) ||
           !cJSON_AddStringToObject(o, "text", m->text) ||
           !cJSON_AddNumberToObject(o, "ts", (double)m->ts) || add_context(o, m) ||
           add_stored(o, "blocks", m->blocks) || add_stored(o, "postback", m->postback);
}

static int get_list(struct lws *wsi, http_req *r)
{
    server *s = server_of(wsi);
    cJSON *arr = cJSON_CreateArray();
    char owner[PJ_MAX_ID + 1];
    int rc = arr ? 0 : -1;

    if (rc == 0 && r->route == ROUTE_CONVERSATIONS)
        rc = db_conv_each(s->db, add_conv, arr);
    else if (rc == 0) {
        rc = db_conv_owner(s->db, r->conv, owner, sizeof owner);
        if (rc == 0) {
            cJSON_Delete(arr);
            return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "unknown conversation");
        }
        rc = rc < 0 ? -1 : db_msg_each(s->db, r->conv, 0, add_msg, arr);
    }
    if (rc != 0) {
        cJSON_Delete(arr);
        return respond_error(wsi, r, HTTP_STATUS_INTERNAL_SERVER_ERROR, "database error");
    }
    return respond(wsi, r, HTTP_STATUS_OK, arr);
}

/* ---- routes of the routes table ---- */

/* Replaces *out with {"error": message}. Returns status. */
static unsigned route_error(cJSON **out, unsigned status, const char *message)
{
    cJSON_Delete(*out);
    *out = cJSON_CreateObject();
    if (*out && !cJSON_AddStringToObject(*out, "error", message)) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return status;
}

/* GET /api/conversations/{id}: the conversation, its user's context and
 * recent events; each module adds its members. */
static unsigned get_conversation(server *s, const char *id, const cJSON *body, cJSON **out)
{
    char user[PJ_MAX_ID + 1];
    int rc;

    (void)body;
    *out = cJSON_CreateObject();
    rc = *out ? db_conv_get(s->db, id, add_conv_fields, *out) : -1;
    if (rc == 0)
        return route_error(out, HTTP_STATUS_NOT_FOUND, "unknown conversation");
    if (rc != 1 || !pj_string(*out, "user"))
        return route_error(out, HTTP_STATUS_INTERNAL_SERVER_ERROR, "database error");
    snprintf(user, sizeof user, "%s", pj_string(*out, "user"));
    if (context_add_to_conv(s->db, *out, id, user) || agent_add_to_conv(s, *out, id))
        return route_error(out, HTTP_STATUS_INTERNAL_SERVER_ERROR, "database error");
    return HTTP_STATUS_OK;
}

/* Paths are prefix + {placeholder} + suffix; the placeholder is an
 * identifier without '/'. A NULL suffix makes the prefix a fixed path. */
static const struct route_def {
    int method;
    const char *prefix, *suffix;
    http_api_fn fn;
} routes[] = {
    {LWSHUMETH_GET, "/api/conversations/", "", get_conversation},
    {LWSHUMETH_POST, "/api/users/", "/surveys", survey_api_push},
    {LWSHUMETH_POST, "/api/users/", "/proactive", survey_api_proactive},
    {LWSHUMETH_GET, "/api/surveys/", "/responses", survey_api_responses},
    {LWSHUMETH_POST, "/api/conversations/", "/assign", agent_api_assign},
    {LWSHUMETH_POST, "/api/conversations/", "/bot", agent_api_bot},
    {LWSHUMETH_POST, "/api/conversations/", "/close", agent_api_close},
    {LWSHUMETH_POST, "/api/conversations/", "/reopen", agent_api_reopen},
    {LWSHUMETH_POST, "/api/conversations/", "/typing", agent_api_typing},
    {LWSHUMETH_POST, "/api/conversations/", "/read", agent_api_read},
    {LWSHUMETH_GET, "/api/queue", NULL, agent_api_queue},
};

static int route_matches(const struct route_def *rt, const char *path, char arg[PJ_MAX_ID + 1])
{
    size_t plen = strlen(rt->prefix), slen, len = strlen(path), alen;

    if (!rt->suffix) {
        arg[0] = '\0';
        return strcmp(path, rt->prefix) == 0;
    }
    slen = strlen(rt->suffix);
    if (len <= plen + slen || strncmp(path, rt->prefix, plen) != 0 ||
        strcmp(path + len - slen, rt->suffix) != 0)
        return 0;
    alen = len - plen - slen;
    if (alen > PJ_MAX_ID || memchr(path + plen, '/', alen))
        return 0;
    memcpy(arg, path + plen, alen);
    arg[alen] = '\0';
    return pj_is_ident(arg);
}

/* The handler of (method, path); NULL with *allow set when only the method
 * is wrong, NULL with *allow NULL when no route has that path. */
static http_api_fn find_route(int method, const char *path, char arg[PJ_MAX_ID + 1],
                              const char **allow)
{
    size_t i;

    *allow = NULL;
    for (i = 0; i < sizeof routes / sizeof routes[0]; i++) {
        if (!route_matches(&routes[i], path, arg))
            continue;
        if (routes[i].method == method)
            return routes[i].fn;
        *allow = routes[i].method == LWSHUMETH_GET ? "GET" : "POST";
    }
    return NULL;
}

static int run_route(struct lws *wsi, http_req *r, const cJSON *body)
{
    cJSON *out = NULL;
    unsigned status = r->fn(server_of(wsi), r->conv, body, &out);

    return out ? respond(wsi, r, status, out) : -1;
}

/* ---- POST ---- */

/* NULL when the body is acceptable, else why not. */
static const char *check_post(const cJSON *body, size_t max_text)
{
    const cJSON *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    const char *text = pj_string(body, "text");

    if (!text || !text[0])
        return "text must be a non-empty string";
    if (strlen(text) > max_text)
        return "text is longer than the server's max_text";
    if (name && !(cJSON_IsString(name) && name->valuestring[0] &&
                  strlen(name->valuestring) <= PJ_MAX_ID))
        return "name must be a string of 1 to 128 bytes";
    return NULL;
}

static cJSON *created_json(const db_msg *m)
{
    cJSON *o = cJSON_CreateObject();

    if (o && (!cJSON_AddStringToObject(o, "id", m->id) || add_seq(o, m->seq))) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
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

static int store_post(struct lws *wsi, http_req *r, const cJSON *body)
{
    server *s = server_of(wsi);
    const char *name = pj_string(body, "name"), *text = pj_string(body, "text"), *bad;
    char *blocks, why[256];
    db_msg m;
    int rc;

    if (!name)
        name = AGENT_NAME_DEFAULT;
    bad = post_blocks(body, &blocks, why, sizeof why);
    if (!bad && !agent_message_fits(r->conv, name, text, blocks))
        bad = "text and blocks do not fit in one frame";
    if (bad) {
        cJSON_free(blocks);
        return respond_error(wsi, r, HTTP_STATUS_BAD_REQUEST, bad);
    }
    rc = agent_message(s, r->conv, name, text, blocks, &m);
    cJSON_free(blocks);
    if (rc == CHAT_UNKNOWN_CONV)
        return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "unknown conversation");
    if (rc != CHAT_OK)
        return respond_error(wsi, r, HTTP_STATUS_INTERNAL_SERVER_ERROR, "database error");
    return respond(wsi, r, HTTP_CREATED, created_json(&m));
}

static int on_body_complete(struct lws *wsi, http_req *r)
{
    const char *why = NULL;
    cJSON *body;
    int rc;

    r->body_read = 1;
    if (r->status)
        return 0;
    if (r->body_overflow)
        return respond_error(wsi, r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body too large");
    body = r->body ? pj_parse(r->body, r->body_len, &why) : NULL;
    if (!body)
        return respond_error(wsi, r, HTTP_STATUS_BAD_REQUEST, why ? why : "empty body");
    if (r->fn) {
        rc = run_route(wsi, r, body);
        cJSON_Delete(body);
        return rc;
    }
    why = check_post(body, server_of(wsi)->max_text);
    rc = why ? respond_error(wsi, r, HTTP_STATUS_BAD_REQUEST, why) : store_post(wsi, r, body);
    cJSON_Delete(body);
    return rc;
}

static int on_body(http_req *r, const void *in, size_t len)
{
    if (r->status || r->body_overflow)
        return 0;
    if (!r->body || len > (size_t)r->content_length - r->body_len) {
        r->body_overflow = 1;
        return 0;
    }
    memcpy(r->body + r->body_len, in, len);
    r->body_len += len;
    r->body[r->body_len] = '\0';
    return 0;
}

/* ---- request line and headers ---- */

static long long content_length(struct lws *wsi)
{
    char buf[24], *end;
    long long v;

    if (lws_hdr_copy(wsi, buf, sizeof buf, WSI_TOKEN_HTTP_CONTENT_LENGTH) <= 0)
        return -1;
    v = strtoll(buf, &end, 10);
    return *end || v < 0 ? -1 : v;
}

static int start_post(struct lws *wsi, http_req *r)
{
    /* A chunked body has no length to check against the cap up front. */
    if (lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0)
        r->content_length = -1;
    if (r->content_length < 0)
        return respond_error(wsi, r, HTTP_STATUS_LENGTH_REQUIRED, "Content-Length required");
    if (r->content_length > HTTP_API_MAX_BODY)
        return respond_error(wsi, r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body too large");
    if (r->content_length == 0)
        return respond_error(wsi, r, HTTP_STATUS_BAD_REQUEST, "empty body");
    r->body = malloc((size_t)r->content_length + 1);
    return r->body ? 0 : -1;
}

/* Compares without an early exit so timing does not reveal a prefix. */
static int same_secret(const char *a, const char *b, size_t len)
{
    unsigned char diff = 0;
    size_t i;

    for (i = 0; i < len; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int authorized(struct lws *wsi, const char *token)
{
    char hdr[512];
    int n = lws_hdr_copy(wsi, hdr, sizeof hdr, WSI_TOKEN_HTTP_AUTHORIZATION);
    size_t tlen = strlen(token);

    if (n <= 7 || strncasecmp(hdr, "Bearer ", 7) != 0)
        return 0;
    return (size_t)n - 7 == tlen && same_secret(hdr + 7, token, tlen);
}

static enum route parse_route(const char *path, char conv[PJ_MAX_ID + 1])
{
    static const char prefix[] = "/api/conversations", suffix[] = "/messages";
    size_t plen = sizeof prefix - 1, slen = sizeof suffix - 1, len = strlen(path), idlen;

    if (strncmp(path, prefix, plen) != 0)
        return ROUTE_NONE;
    if (!path[plen] || strcmp(path + plen, "/") == 0)
        return ROUTE_CONVERSATIONS;
    if (path[plen] != '/' || len < plen + 1 + slen || strcmp(path + len - slen, suffix) != 0)
        return ROUTE_NONE;
    idlen = len - plen - 1 - slen;
    if (idlen == 0 || idlen > PJ_MAX_ID)
        return ROUTE_NONE;
    memcpy(conv, path + plen + 1, idlen);
    conv[idlen] = '\0';
    return pj_is_ident(conv) ? ROUTE_MESSAGES : ROUTE_NONE;
}

static int on_request(struct lws *wsi, http_req *r, const char *path)
{
    char *uri;
    int uri_len;

    req_reset(r);
    r->method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    r->content_length = content_length(wsi);
    r->has_body = r->content_length > 0 ||
                  lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (strncmp(path, "/api/", 5) != 0)
        return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "not found");
    if (!authorized(wsi, server_of(wsi)->agent_token))
        return respond_error(wsi, r, HTTP_STATUS_UNAUTHORIZED, "missing or wrong agent token");
    r->fn = find_route(r->method, path, r->conv, &r->allow);
    if (r->fn)
        return r->method == LWSHUMETH_POST ? start_post(wsi, r) : run_route(wsi, r, NULL);
    if (r->allow)
        return respond_error(wsi, r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
    r->route = parse_route(path, r->conv);
    if (r->route == ROUTE_NONE)
        return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "not found");
    if (r->method == LWSHUMETH_GET)
        return get_list(wsi, r);
    if (r->method == LWSHUMETH_POST && r->route == ROUTE_MESSAGES)
        return start_post(wsi, r);
    r->allow = r->route == ROUTE_MESSAGES ? "GET, POST" : "GET";
    return respond_error(wsi, r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
}

int http_api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len)
{
    http_req *r = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade lands here when it names no subprotocol (or
         * none we serve): only parley.v1 is spoken. */
        return 1;
    case LWS_CALLBACK_HTTP:
        return on_request(wsi, r, in);
    case LWS_CALLBACK_HTTP_BODY:
        return on_body(r, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION:
        return on_body_complete(wsi, r);
    case LWS_CALLBACK_HTTP_WRITEABLE:
        return on_writeable(wsi, r);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (r)
            req_reset(r);
        return 0;
    default:
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
