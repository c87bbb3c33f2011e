#include "http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <libwebsockets.h>

#include "console_files.h"
#include "http_files.h"
#include "json.h"
#include "util.h"
#include "websession.h"

#define BODY_CHUNK 4096
/* How much of a refused body is read and dropped after the answer, and for
 * how long (drain_rest). */
#define HTTP_DRAIN_MAX (1024 * 1024)
#define HTTP_DRAIN_S 5

/* One HTTP transaction. lws zeroes it when the connection is accepted;
 * req_reset() clears it between keep-alive transactions. */
typedef struct http_req {
    int method;               /* LWSHUMETH_* */
    http_fn fn;               /* the route's handler */
    http_file_fn file_fn;     /* or the handler of a route of files */
    char arg[PJ_MAX_ID + 1];  /* the path's {placeholder} */
    long long content_length; /* -1 when absent */
    int has_body;             /* a Content-Length above 0, or chunked */
    char *body;
    size_t body_len;
    long long body_seen; /* the body's bytes that arrived, kept or not */
    int body_read;       /* BODY_COMPLETION seen */
    int draining;        /* answered; the rest of the body is dropped */
    int64_t drain_until; /* util_mono_ms() when draining gives up */
    int body_overflow;   /* more bytes arrived than announced */
    unsigned status;     /* nonzero once a response is ready */
    const char *allow;   /* Allow header of a 405 */
    char *resp;
    size_t resp_len, resp_off;
    int headers_sent;
    int close_after; /* an unread request body makes the connection unusable */
    int open;        /* the route needs no caller */
    int who;         /* 0 nobody, 1 the API token, 2 a browser session */
    caller me;       /* who asks (s->req during the handler) */
    /* Routes of files: the body's temporary file, what the handler saw,
     * and the file being sent as the answer. */
    http_sink *sink;
    int sink_failed;
    http_file *file;
    FILE *src;
} http_req;

static server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

static void req_reset(http_req *r)
{
    free(r->body);
    free(r->me.raw);
    if (r->resp != r->me.raw)
        cJSON_free(r->resp);
    httpf_sink_free(r->sink);
    free(r->file);
    if (r->src)
        fclose(r->src);
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

/* What an answer reports must be durable before it leaves: the open group
 * of writes (store.h) is committed first. 0, or -1 when it was lost. */
static int durable(struct lws *wsi)
{
    server *s = server_of(wsi);

    return s->commit_now ? s->commit_now(s) : 0;
}

/* Takes ownership of `json`. Returns 0, or -1 (close) when out of memory. */
static int respond(struct lws *wsi, http_req *r, unsigned status, cJSON *json)
{
    if (durable(wsi))
        status =
            http_error(&json, HTTP_STATUS_SERVICE_UNAVAILABLE, "the database could not commit");
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

/* The handler's raw answer (caller.raw), kept where the body is sent from. */
static int respond_raw(struct lws *wsi, http_req *r, unsigned status)
{
    cJSON *json = NULL;

    if (durable(wsi)) {
        status =
            http_error(&json, HTTP_STATUS_SERVICE_UNAVAILABLE, "the database could not commit");
        return respond(wsi, r, status, json);
    }
    r->resp = r->me.raw;
    r->resp_len = r->me.raw_len;
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

/* Content-Disposition of a download: its file name (a name the server
 * chose, never the user's). */
static int add_download(struct lws *wsi, const char *filename, unsigned char **p,
                        unsigned char *end)
{
    char v[128];
    int n = snprintf(v, sizeof v, "attachment; filename=\"%s\"", filename);

    return lws_add_http_header_by_name(
        wsi, (const unsigned char *)"content-disposition:", (const unsigned char *)v, n, p, end);
}

#define ATTACHMENT_CSP "sandbox; default-src 'none'"

/* An attachment's headers: that the browser takes the type as given, runs
 * nothing in it even when opened in a tab (sandbox), and the name it is
 * saved as (quotes and non-ASCII made '_'). */
static int file_headers(struct lws *wsi, const http_file *f, unsigned char **p, unsigned char *end)
{
    char disp[300];
    size_t i, n = snprintf(disp, sizeof disp, "attachment; filename=\"");

    for (i = 0; f->send_name[i] && n < sizeof disp - 2; i++) {
        unsigned char c = (unsigned char)f->send_name[i];
        disp[n++] = c < 0x20 || c > 0x7e || c == '"' || c == '\\' ? '_' : (char)c;
    }
    disp[n++] = '"';
    disp[n] = '\0';
    return add_header(wsi, WSI_TOKEN_HTTP_CONTENT_DISPOSITION, disp, p, end) ||
           lws_add_http_header_by_name(wsi, (const unsigned char *)"x-content-type-options:",
                                       (const unsigned char *)"nosniff", 7, p, end) ||
           lws_add_http_header_by_name(wsi, (const unsigned char *)"content-security-policy:",
                                       (const unsigned char *)ATTACHMENT_CSP,
                                       (int)strlen(ATTACHMENT_CSP), p, end);
}

static const char *resp_type(const http_req *r)
{
    if (r->src)
        return r->file->send_type;
    return r->resp == r->me.raw && r->me.raw_type ? r->me.raw_type : "application/json";
}

static int write_headers(struct lws *wsi, http_req *r)
{
    unsigned char buf[LWS_PRE + 1024], *start = buf + LWS_PRE, *p = start,
                                       *end = buf + sizeof buf - 1;
    const char *type = resp_type(r);
    char retry[24];

    snprintf(retry, sizeof retry, "%ld", r->me.retry_after_s);
    if (lws_add_http_common_headers(wsi, r->status, type, r->resp_len, &p, end) ||
        (r->resp == r->me.raw && r->me.filename[0] && add_download(wsi, r->me.filename, &p, end)) ||
        (r->src && file_headers(wsi, r->file, &p, end)) ||
        add_header(wsi, WSI_TOKEN_HTTP_CACHE_CONTROL, "no-store", &p, end) ||
        (r->status == HTTP_STATUS_UNAUTHORIZED && !r->open &&
         add_header(wsi, WSI_TOKEN_HTTP_WWW_AUTHENTICATE, "Bearer", &p, end)) ||
        (r->me.set_cookie[0] &&
         add_header(wsi, WSI_TOKEN_HTTP_SET_COOKIE, r->me.set_cookie, &p, end)) ||
        (r->me.retry_after_s > 0 && add_header(wsi, WSI_TOKEN_HTTP_RETRY_AFTER, retry, &p, end)) ||
        (r->me.link[0] && add_header(wsi, WSI_TOKEN_HTTP_LINK, r->me.link, &p, end)) ||
        (r->allow && add_header(wsi, WSI_TOKEN_HTTP_ALLOW, r->allow, &p, end)) ||
        (r->close_after && add_header(wsi, WSI_TOKEN_CONNECTION, "close", &p, end)) ||
        lws_finalize_write_http_header(wsi, start, &p, end))
        return -1;
    r->headers_sent = 1;
    lws_callback_on_writable(wsi);
    return 0;
}

/* Closing while a client still sends a refused body resets the connection,
 * and the client may meet the reset before it reads the answer (curl: "Send
 * failure: Broken pipe"). So the rest of a body that has at most
 * HTTP_DRAIN_MAX bytes to come is read and dropped first, for at most
 * HTTP_DRAIN_S seconds, and the connection closes when it is all in. lws
 * puts its own timeout back after each piece of a body, so the bound on a
 * client that trickles is on_body's. */
static int drain_rest(struct lws *wsi, http_req *r)
{
    if (r->body_read || r->content_length < 0 || r->content_length - r->body_seen > HTTP_DRAIN_MAX)
        return 0;
    r->draining = 1;
    r->drain_until = util_mono_ms() + HTTP_DRAIN_S * 1000;
    lws_set_timeout(wsi, PENDING_TIMEOUT_HTTP_CONTENT, HTTP_DRAIN_S);
    return 1;
}

static int write_body(struct lws *wsi, http_req *r)
{
    unsigned char buf[LWS_PRE + BODY_CHUNK];
    size_t n = r->resp_len - r->resp_off;
    int final, close_after;

    if (n > BODY_CHUNK)
        n = BODY_CHUNK;
    final = r->resp_off + n == r->resp_len;
    if (r->src && fread(buf + LWS_PRE, 1, n, r->src) != n)
        return -1;
    if (!r->src)
        memcpy(buf + LWS_PRE, r->resp + r->resp_off, n);
    if (lws_write(wsi, buf + LWS_PRE, n, final ? LWS_WRITE_HTTP_FINAL : LWS_WRITE_HTTP) != (int)n)
        return -1;
    r->resp_off += n;
    if (!final) {
        lws_callback_on_writable(wsi);
        return 0;
    }
    close_after = r->close_after;
    if (close_after && drain_rest(wsi, r))
        return 0;
    req_reset(r);
    if (close_after)
        return -1;
    return lws_http_transaction_completed(wsi) ? -1 : 0;
}

static int on_writeable(struct lws *wsi, http_req *r)
{
    if (!r->status || r->draining)
        return 0;
    return r->headers_sent ? write_body(wsi, r) : write_headers(wsi, r);
}

/* ---- routes ---- */

static int path_matches(const char *prefix, const char *suffix, int slashes, const char *path,
                        char arg[PJ_MAX_ID + 1])
{
    size_t plen = strlen(prefix), slen, len = strlen(path), alen;

    if (!suffix) {
        arg[0] = '\0';
        return strcmp(path, prefix) == 0;
    }
    slen = strlen(suffix);
    if (len <= plen + slen || strncmp(path, prefix, plen) != 0 ||
        strcmp(path + len - slen, suffix) != 0)
        return 0;
    alen = len - plen - slen;
    if (alen > PJ_MAX_ID || (!slashes && memchr(path + plen, '/', alen)))
        return 0;
    memcpy(arg, path + plen, alen);
    arg[alen] = '\0';
    return pj_is_ident(arg);
}

/* The route of (method, path), or NULL with r->file_fn set for a route of
 * files; both NULL with r->allow set when only the method is wrong, with
 * it NULL when no route has that path. */
static const http_route *find_route(const server *s, int method, const char *path, http_req *r)
{
    http_method want = method == LWSHUMETH_POST ? HTTP_POST : HTTP_GET;
    int get = 0, post = 0, known = method == LWSHUMETH_GET || method == LWSHUMETH_POST;
    size_t i;

    for (i = 0; i < s->nroutes; i++) {
        const http_route *rt = &s->routes[i];
        if (!path_matches(rt->prefix, rt->suffix, rt->slashes, path, r->arg))
            continue;
        if (rt->method == want && known)
            return rt;
        get |= rt->method == HTTP_GET;
        post |= rt->method == HTTP_POST;
    }
    for (i = 0; i < s->nfile_routes; i++) {
        const http_file_route *rt = &s->file_routes[i];
        if (!path_matches(rt->prefix, rt->suffix, rt->slashes, path, r->arg))
            continue;
        if (rt->method == want && known) {
            r->file_fn = rt->fn;
            return NULL;
        }
        get |= rt->method == HTTP_GET;
        post |= rt->method == HTTP_POST;
    }
    r->allow = get && post ? "GET, POST" : get ? "GET" : post ? "POST" : NULL;
    return NULL;
}

/* Remembers that `wsi` waits for job `job`. 0, or -1 when too many wait. */
static int wait_for(server *s, long long job, struct lws *wsi)
{
    size_t i;

    for (i = 0; i < SERVER_MAX_WAITING; i++) {
        if (!s->waiting[i].job) {
            s->waiting[i].job = job;
            s->waiting[i].wsi = wsi;
            return 0;
        }
    }
    return -1;
}

static void forget_waiting(server *s, struct lws *wsi)
{
    size_t i;

    for (i = 0; i < SERVER_MAX_WAITING; i++) {
        if (s->waiting[i].wsi == wsi)
            memset(&s->waiting[i], 0, sizeof s->waiting[i]);
    }
}

static int run_route(struct lws *wsi, http_req *r, const cJSON *body)
{
    server *s = server_of(wsi);
    cJSON *out = NULL;
    unsigned status;

    r->me.pending = 0;
    s->req = &r->me;
    status = r->fn(s, r->arg, body, &out);
    s->req = NULL;
    if (r->me.pending && !out)
        return wait_for(s, r->me.pending, wsi) == 0
                   ? 0
                   : respond_error(wsi, r, HTTP_STATUS_SERVICE_UNAVAILABLE, "busy, try again");
    if (r->me.raw && !out)
        return respond_raw(wsi, r, status);
    return out ? respond(wsi, r, status, out) : -1;
}

void http_finish(server *s, long long job, unsigned status, cJSON *out, const char *set_cookie)
{
    struct lws *wsi = NULL;
    http_req *r;
    size_t i;

    for (i = 0; i < SERVER_MAX_WAITING && !wsi; i++) {
        if (s->waiting[i].job == job) {
            wsi = s->waiting[i].wsi;
            memset(&s->waiting[i], 0, sizeof s->waiting[i]);
        }
    }
    r = wsi ? lws_wsi_user(wsi) : NULL;
    if (!r) {
        cJSON_Delete(out);
        return;
    }
    snprintf(r->me.set_cookie, sizeof r->me.set_cookie, "%s", set_cookie ? set_cookie : "");
    if (!out || respond(wsi, r, status, out))
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* ---- routes of files ---- */

static const char *query_arg(void *ctx, const char *key, char *buf, size_t cap)
{
    char name[64];

    const char *v;

    if (snprintf(name, sizeof name, "%s=", key) >= (int)sizeof name || cap > INT32_MAX)
        return NULL;
    /* lws copies "key=value" into buf and points past the '='. */
    v = lws_get_urlarg_by_name(ctx, name, buf, (int)cap);
    if (!v)
        return NULL;
    memmove(buf, v, strlen(v) + 1);
    return buf;
}

/* The handler answers with JSON, or with the file it names. */
static int run_file_route(struct lws *wsi, http_req *r)
{
    server *s = server_of(wsi);
    cJSON *out = NULL;
    unsigned status;

    r->file->query = query_arg;
    r->file->ctx = wsi;
    s->req = &r->me;
    status = r->file_fn(s, r->arg, r->file, &out);
    s->req = NULL;
    if (r->file->send_path[0] && status == HTTP_OK) {
        cJSON_Delete(out);
        if (!(r->src = fopen(r->file->send_path, "rb")))
            return respond_error(wsi, r, HTTP_SERVER_ERROR, "cannot read the file");
        r->status = status;
        r->resp_len = (size_t)r->file->send_size;
        lws_callback_on_writable(wsi);
        return 0;
    }
    return out ? respond(wsi, r, status, out) : -1;
}

/* A file's bytes go to a temporary file as they arrive. */
static int start_file_post(struct lws *wsi, http_req *r)
{
    server *s = server_of(wsi);

    if (r->content_length < 0)
        return respond_error(wsi, r, HTTP_STATUS_LENGTH_REQUIRED, "Content-Length required");
    if (!s->blobs)
        return respond_error(wsi, r, HTTP_NOT_FOUND, "this server takes no attachments");
    if (r->content_length > s->max_attachment)
        return respond_error(wsi, r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE,
                             "the file exceeds --max-attachment");
    if (r->content_length == 0)
        return respond_error(wsi, r, HTTP_STATUS_BAD_REQUEST, "empty body");
    if (lws_hdr_copy(wsi, r->file->type, sizeof r->file->type, WSI_TOKEN_HTTP_CONTENT_TYPE) <= 0)
        r->file->type[0] = '\0';
    if (!(r->sink = httpf_sink_new(s->blobs)))
        return respond_error(wsi, r, HTTP_SERVER_ERROR, "cannot store the file");
    return 0;
}

static int file_body_complete(struct lws *wsi, http_req *r)
{
    int64_t size = 0;

    if (r->body_overflow)
        return respond_error(wsi, r, HTTP_STATUS_REQ_ENTITY_TOO_LARGE, "body too large");
    if (r->sink_failed || httpf_sink_finish(r->sink, &r->file->path, &size, r->file->sha256))
        return respond_error(wsi, r, HTTP_SERVER_ERROR, "cannot store the file");
    r->file->size = size;
    return run_file_route(wsi, r);
}

static int file_body(http_req *r, const void *in, size_t len)
{
    if ((long long)len > r->content_length - r->file->size) {
        r->body_overflow = 1;
        return 0;
    }
    r->file->size += (int64_t)len;
    if (!r->sink_failed && httpf_sink_write(r->sink, in, len))
        r->sink_failed = 1;
    return 0;
}

/* ---- request bodies ---- */

static int on_body_complete(struct lws *wsi, http_req *r)
{
    const char *why = NULL;
    cJSON *body;
    int rc;

    r->body_read = 1;
    if (r->draining)
        return -1;
    if (r->status)
        return 0;
    if (r->sink)
        return file_body_complete(wsi, r);
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
    r->body_seen += (long long)len;
    if (r->draining && util_mono_ms() > r->drain_until)
        return -1;
    if (r->status || r->body_overflow)
        return 0;
    if (r->sink)
        return file_body(r, in, len);
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

/* Who asks: 1 the API token (an admin), 2 a browser session, 0 nobody. */
static int identify(struct lws *wsi, server *s, caller *me)
{
    char cookie[2048];

    lws_get_peer_simple(wsi, me->addr, sizeof me->addr);
    if (authorized(wsi, s->agent_token)) {
        snprintf(me->name, sizeof me->name, "api-token");
        snprintf(me->display, sizeof me->display, "API");
        snprintf(me->role, sizeof me->role, "admin");
        me->via_token = 1;
        return 1;
    }
    if (!s->session_of || lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE) <= 0 ||
        !websess_cookie_find(cookie, me->token))
        return 0;
    return s->session_of(s, me->token, me) == 1 ? 2 : 0;
}

/* 1 when the request says it comes from another origin than this one. */
static int foreign_origin(struct lws *wsi, server *s)
{
    char origin[300], host[300];

    return lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) > 0 &&
           (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0 ||
            !websess_origin_ok(origin, host, s->tls));
}

/* A browser's state change must carry the session's CSRF token and, when
 * it says where it comes from, come from this origin. */
static const char *csrf_refusal(struct lws *wsi, server *s, const caller *me)
{
    char given[WEBSESS_BUF + 16];
    const char *v = given;

    /* lws lowercases an unknown header's name and keeps the white space
     * that follows the colon in its value. */
    if (lws_hdr_custom_copy(wsi, given, sizeof given, "x-parley-csrf:", 14) <= 0)
        return "missing or wrong CSRF token";
    while (*v == ' ' || *v == '\t')
        v++;
    if (!websess_csrf_ok(me->token, v))
        return "missing or wrong CSRF token";
    return foreign_origin(wsi, s) ? "request from another origin" : NULL;
}

/* The headers of every console file: nothing but its own files, never
 * framed, no sniffing, no referrer. */
static int console_headers(struct lws *wsi, unsigned char *buf, size_t cap)
{
    static const struct {
        const char *name, *value;
    } h[] = {
        {"content-security-policy:", CONSOLE_CSP},
        {"x-content-type-options:", "nosniff"},
        {"referrer-policy:", "no-referrer"},
        {"x-frame-options:", "DENY"},
        {"cache-control:", "no-cache"},
    };
    unsigned char *p = buf, *end = buf + cap;
    size_t i;

    for (i = 0; i < sizeof h / sizeof h[0]; i++) {
        if (lws_add_http_header_by_name(wsi, (const unsigned char *)h[i].name,
                                        (const unsigned char *)h[i].value, (int)strlen(h[i].value),
                                        &p, end))
            return -1;
    }
    return (int)(p - buf);
}

static int serve_console(struct lws *wsi, http_req *r, const char *path)
{
    server *s = server_of(wsi);
    char file[4096];
    unsigned char hdr[1024];
    const char *type;
    int n;

    if (!s->console_dir || (r->method != LWSHUMETH_GET && r->method != LWSHUMETH_HEAD) ||
        console_resolve(s->console_dir, path, file, sizeof file, &type) != 1 ||
        access(file, R_OK) != 0)
        return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "not found");
    n = console_headers(wsi, hdr, sizeof hdr);
    if (n < 0)
        return -1;
    n = lws_serve_http_file(wsi, file, type, (const char *)hdr, n);
    return n < 0 || (n > 0 && lws_http_transaction_completed(wsi)) ? -1 : 0;
}

/* The URL's arguments (lws has decoded each "name=value"). */
static void read_query(struct lws *wsi, caller *me)
{
    char frag[512];
    size_t len = 0;
    int i, n;

    me->query[0] = '\0';
    for (i = 0; i < 16; i++) {
        n = lws_hdr_copy_fragment(wsi, frag, sizeof frag, WSI_TOKEN_HTTP_URI_ARGS, i);
        if (n <= 0)
            break;
        if (len + (size_t)n + 2 > sizeof me->query)
            break;
        if (len)
            me->query[len++] = '&';
        memcpy(me->query + len, frag, (size_t)n + 1);
        len += (size_t)n;
    }
}

static int start_file_route(struct lws *wsi, http_req *r)
{
    if (!(r->file = calloc(1, sizeof *r->file)))
        return -1;
    return r->method == LWSHUMETH_POST ? start_file_post(wsi, r) : run_file_route(wsi, r);
}

static int on_request(struct lws *wsi, http_req *r, const char *path)
{
    server *s = server_of(wsi);
    const http_route *rt;
    const char *why;
    char *uri;
    int uri_len;

    req_reset(r);
    r->method = lws_http_get_uri_and_method(wsi, &uri, &uri_len);
    r->content_length = content_length(wsi);
    r->has_body =
        r->content_length > 0 || lws_hdr_total_length(wsi, WSI_TOKEN_HTTP_TRANSFER_ENCODING) > 0;
    if (strncmp(path, "/api/", 5) != 0)
        return serve_console(wsi, r, path);
    rt = find_route(s, r->method, path, r);
    r->open = rt && rt->open;
    r->who = identify(wsi, s, &r->me);
    read_query(wsi, &r->me);
    if (!r->who && !r->open)
        return respond_error(wsi, r, HTTP_STATUS_UNAUTHORIZED,
                             "missing or wrong agent token or session");
    if (!rt && !r->file_fn && r->allow)
        return respond_error(wsi, r, HTTP_STATUS_METHOD_NOT_ALLOWED, "method not allowed");
    if (!rt && !r->file_fn)
        return respond_error(wsi, r, HTTP_STATUS_NOT_FOUND, "not found");
    if (r->who == 2 && r->method != LWSHUMETH_GET && (why = csrf_refusal(wsi, s, &r->me)))
        return respond_error(wsi, r, HTTP_STATUS_FORBIDDEN, why);
    /* A login has no session to carry a CSRF token yet: another site's form
     * could sign the browser in to the sender's account, and the agent
     * would work under it unaware. Browsers name the origin of every POST. */
    if (r->open && r->method != LWSHUMETH_GET && foreign_origin(wsi, s))
        return respond_error(wsi, r, HTTP_STATUS_FORBIDDEN, "request from another origin");
    if (r->file_fn)
        return start_file_route(wsi, r);
    r->fn = rt->fn;
    return r->method == LWSHUMETH_POST ? start_post(wsi, r) : run_route(wsi, r, NULL);
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
    case LWS_CALLBACK_HTTP_FILE_COMPLETION: return lws_http_transaction_completed(wsi) ? -1 : 0;
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED: {
        server *s = server_of(wsi);

        if (s && s->on_wake)
            s->on_wake(s);
        return 0;
    }
    case LWS_CALLBACK_HTTP_DROP_PROTOCOL:
    case LWS_CALLBACK_CLOSED_HTTP:
        forget_waiting(server_of(wsi), wsi);
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
