#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libwebsockets.h>

#include "json.h"

#define BODY_CHUNK 4096

/* One HTTP transaction. lws zeroes it when the connection is accepted;
 * req_reset() clears it between keep-alive transactions. */
typedef struct http_req {
    int method;               /* LWSHUMETH_* */
    http_fn fn;               /* the route's handler */
    char arg[PJ_MAX_ID + 1];  /* the path's {placeholder} */
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

static server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static void req_reset(http_req *r)
{
    free(r->body);
    cJSON_free(r->resp);
    memset(r, 0, sizeof *r);
}

unsigned http_error(cJSON **out, unsigned status, const char *message)
{
    cJSON_Delete(*out);
    *out = cJSON_CreateObject();
    if (*out && !cJSON_AddStringToObject(*out, "error", message)) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return status;
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
    cJSON *json = NULL;

    http_error(&json, status, message);
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

/* ---- routes ---- */

static int route_matches(const http_route *rt, const char *path, char arg[PJ_MAX_ID + 1])
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
    if (alen > PJ_MAX_ID || (!rt->slashes && memchr(path + plen, '/', alen)))
        return 0;
    memcpy(arg, path + plen, alen);
    arg[alen] = '\0';
    return pj_is_ident(arg);
}

/* The handler of (method, path); NULL with *allow set when only the method
 * is wrong, NULL with *allow NULL when no route has that path. */
static http_fn find_route(const server *s, int method, const char *path, char arg[PJ_MAX_ID + 1],
                          const char **allow)
{
    http_method want = method == LWSHUMETH_POST ? HTTP_POST : HTTP_GET;
    int get = 0, post = 0;
    size_t i;

    for (i = 0; i < s->nroutes; i++) {
        if (!route_matches(&s->routes[i], path, arg))
            continue;
        if (s->routes[i].method == want && (method == LWSHUMETH_GET || method == LWSHUMETH_POST))
            return s->routes[i].fn;
        get |= s->routes[i].method == HTTP_GET;
        post |= s->routes[i].method == HTTP_POST;
    }
    *allow = get && post ? "GET, POST" : get ? "GET" : post ? "POST" : NULL;
    return NULL;
}

static int run_route(struct lws *wsi, http_req *r, const cJSON *body)
{
    cJSON *out = NULL;
    unsigned status = r->fn(server_of(wsi), r->arg, body, &out);

    return out ? respond(wsi, r, status, out) : -1;
}

/* ---- request bodies ---- */

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
    rc = run_route(wsi, r, body);
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
    if (r->content_length > HTTP_MAX_BODY)
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

static int on_request(struct lws *wsi, http_req *r, const char *path)
{
    server *s = server_of(wsi);
    char *uri;
    int uri_len;

    req_reset(r);
    r->method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    r->content_length = content_length(wsi);
    r->has_body =
        r->content_length > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (strncmp(path, "/api/", 5) != 0)
        return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "not found");
    if (!authorized(wsi, s->agent_token))
        return respond_error(wsi, r, HTTP_STATUS_UNAUTHORIZED, "missing or wrong agent token");
    r->fn = find_route(s, r->method, path, r->arg, &r->allow);
    if (r->fn)
        return r->method == LWSHUMETH_POST ? start_post(wsi, r) : run_route(wsi, r, NULL);
    if (r->allow)
        return respond_error(wsi, r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
    return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "not found");
}

static int http_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                         size_t len)
{
    http_req *r = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        /* A WebSocket upgrade lands here when it names no subprotocol (or
         * none we serve): only parley.v1 is spoken. */
        return 1;
    case LWS_CALLBACK_HTTP: return on_request(wsi, r, in);
    case LWS_CALLBACK_HTTP_BODY: return on_body(r, in, len);
    case LWS_CALLBACK_HTTP_BODY_COMPLETION: return on_body_complete(wsi, r);
    case LWS_CALLBACK_HTTP_WRITEABLE: return on_writeable(wsi, r);
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        if (r)
            req_reset(r);
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}

void http_protocol(struct lws_protocols *p)
{
    memset(p, 0, sizeof *p);
    p->name = "http";
    p->callback = http_callback;
    p->per_session_data_size = sizeof(http_req);
}
