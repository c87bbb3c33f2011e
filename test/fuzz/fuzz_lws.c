/* A fake libwebsockets for the server fuzz targets: the handful of calls
 * parley-server's handlers make on a connection, answered from an fz_wsi
 * (fuzz_server.h). The prototypes come from libwebsockets.h, so a change of
 * signature fails to compile; a handler that starts calling an lws function
 * not faked here fails to link the fuzz targets (add it here). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_server.h"

static fz_wsi *W(const struct lws *wsi)
{
    return (fz_wsi *)(uintptr_t)wsi;
}

struct lws_context *lws_get_context(const struct lws *wsi)
{
    return (struct lws_context *)(uintptr_t)wsi;
}

void *lws_context_user(struct lws_context *context)
{
    return W((const struct lws *)context)->srv;
}

int lws_callback_on_writable(struct lws *wsi)
{
    W(wsi)->writable = 1;
    return 1;
}

void lws_close_reason(struct lws *wsi, enum lws_close_status status, unsigned char *buf, size_t len)
{
    (void)wsi;
    (void)status;
    (void)buf;
    (void)len;
}

static volatile size_t sink;

/* Reads every byte, so that ASan sees a write of a short buffer. */
int lws_write(struct lws *wsi, unsigned char *buf, size_t len, enum lws_write_protocol wp)
{
    size_t sum = 0;
    (void)wp;
    for (size_t i = 0; i < len; i++)
        sum += buf[i];
    sink += sum;
    W(wsi)->written += len;
    if (getenv("PARLEY_FUZZ_TRACE")) /* to see what a seed makes the server say */
        fprintf(stderr, "server wrote %p: %.*s\n", (void *)wsi, (int)len, (const char *)buf);
    return (int)len;
}

int lws_frame_is_binary(struct lws *wsi)
{
    return W(wsi)->binary;
}

int lws_is_final_fragment(struct lws *wsi)
{
    return W(wsi)->final;
}

size_t lws_remaining_packet_payload(struct lws *wsi)
{
    (void)wsi;
    return 0;
}

int lws_hdr_total_length(struct lws *wsi, enum lws_token_indexes h)
{
    const char *v = h >= 0 && h < WSI_TOKEN_COUNT ? W(wsi)->hdr[h] : NULL;
    return v ? (int)strlen(v) : 0;
}

/* As lws: -1 when it does not fit with its NUL, 0 when absent. */
int lws_hdr_copy(struct lws *wsi, char *dest, int len, enum lws_token_indexes h)
{
    const char *v = h >= 0 && h < WSI_TOKEN_COUNT ? W(wsi)->hdr[h] : NULL;
    int n = v ? (int)strlen(v) : 0;
    if (n >= len)
        return -1;
    if (!v)
        return 0;
    memcpy(dest, v, (size_t)n + 1);
    return n;
}

int lws_http_get_uri_and_method(struct lws *wsi, char **puri_ptr, int *puri_len)
{
    fz_wsi *w = W(wsi);
    if (w->method < 0 || !w->uri)
        return -1;
    *puri_ptr = (char *)(uintptr_t)w->uri;
    *puri_len = (int)strlen(w->uri);
    return w->method;
}

int lws_add_http_common_headers(struct lws *wsi, unsigned int code, const char *content_type,
                                lws_filepos_t content_len, unsigned char **p, unsigned char *end)
{
    (void)wsi;
    (void)code;
    (void)content_len;
    (void)end;
    return *p && content_type ? 0 : 1;
}

int lws_add_http_header_by_token(struct lws *wsi, enum lws_token_indexes token,
                                 const unsigned char *value, int length, unsigned char **p,
                                 unsigned char *end)
{
    (void)wsi;
    (void)token;
    if (length < 0 || (length && !value) || end - *p < length)
        return 1;
    memcpy(*p, value, (size_t)length);
    *p += length;
    return 0;
}

int lws_finalize_write_http_header(struct lws *wsi, unsigned char *start, unsigned char **p,
                                   unsigned char *end)
{
    (void)end;
    return lws_write(wsi, start, (size_t)(*p - start), LWS_WRITE_HTTP_HEADERS) < 0;
}

int lws_http_transaction_completed(struct lws *wsi)
{
    (void)wsi;
    return 0;
}

int lws_callback_http_dummy(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                            size_t len)
{
    (void)wsi;
    (void)reason;
    (void)user;
    (void)in;
    (void)len;
    return 0;
}

/* Every fake connection comes from the same address. */
const char *lws_get_peer_simple(struct lws *wsi, char *name, size_t namelen)
{
    (void)wsi;
    if (!name || namelen < sizeof "127.0.0.1")
        return NULL;
    memcpy(name, "127.0.0.1", sizeof "127.0.0.1");
    return name;
}

/* A timeout of LWS_TO_KILL_ASYNC closes the connection once the callback
 * returns (the harness does it); others never fire. */
void lws_set_timeout(struct lws *wsi, enum pending_timeout reason, int secs)
{
    (void)reason;
    if (secs == LWS_TO_KILL_ASYNC || secs == LWS_TO_KILL_SYNC)
        W(wsi)->killed = 1;
}

/* The server's delayed close after a refusal: in a fuzz run the timer never
 * fires, so what the connection does until then is what gets exercised. */
void lws_set_timer_usecs(struct lws *wsi, lws_usec_t usecs)
{
    (void)wsi;
    (void)usecs;
}

void *lws_wsi_user(struct lws *wsi)
{
    return W(wsi)->user;
}

void *lws_get_opaque_user_data(const struct lws *wsi)
{
    return W(wsi)->opaque;
}

void lws_set_opaque_user_data(struct lws *wsi, void *data)
{
    W(wsi)->opaque = data;
}

/* As lws: the value's length, -1 when absent or when it does not fit. */
int lws_hdr_custom_copy(struct lws *wsi, char *dst, int len, const char *name, int nlen)
{
    const char *v = W(wsi)->csrf;
    int n = v ? (int)strlen(v) : 0;
    if (!v || nlen != 14 || strncmp(name, "x-parley-csrf:", 14) != 0 || n >= len)
        return -1;
    memcpy(dst, v, (size_t)n + 1);
    return n;
}

/* The `idx`-th '&'-separated piece of the header, as lws keeps the URL's
 * arguments; -1 when there is no such piece or it does not fit. */
int lws_hdr_copy_fragment(struct lws *wsi, char *dest, int len, enum lws_token_indexes h,
                          int frag_idx)
{
    const char *v = h >= 0 && h < WSI_TOKEN_COUNT ? W(wsi)->hdr[h] : NULL;
    for (; v && frag_idx > 0; frag_idx--) {
        v = strchr(v, '&');
        v = v ? v + 1 : NULL;
    }
    if (!v)
        return -1;
    int n = (int)strcspn(v, "&");
    if (n >= len)
        return -1;
    memcpy(dest, v, (size_t)n);
    dest[n] = '\0';
    return n;
}

/* As lws: the first argument starting with `name` ("key=") copied whole
 * into buf, and a pointer past the name; NULL when there is none. */
const char *lws_get_urlarg_by_name(struct lws *wsi, const char *name, char *buf, int len)
{
    size_t nlen = strlen(name);
    for (int i = 0; lws_hdr_copy_fragment(wsi, buf, len, WSI_TOKEN_HTTP_URI_ARGS, i) >= 0; i++) {
        if (strncmp(buf, name, nlen) == 0)
            return buf + nlen;
    }
    return NULL;
}

int lws_add_http_header_by_name(struct lws *wsi, const unsigned char *name,
                                const unsigned char *value, int length, unsigned char **p,
                                unsigned char *end)
{
    size_t nlen = strlen((const char *)name);
    (void)wsi;
    if (length < 0 || (length && !value) || (size_t)(end - *p) < nlen + (size_t)length)
        return 1;
    memcpy(*p, name, nlen);
    memcpy(*p + nlen, value, (size_t)length);
    *p += nlen + (size_t)length;
    return 0;
}

/* The file is not read: the console's files are not the fuzzer's business,
 * the path checks before this call are. */
int lws_serve_http_file(struct lws *wsi, const char *file, const char *content_type,
                        const char *other_headers, int other_headers_len)
{
    (void)wsi;
    (void)content_type;
    (void)other_headers;
    return file && other_headers_len >= 0 ? 0 : -1;
}

/* Timers of 0 are "on the loop's next turn" (the group commit's,
 * groupcommit.c): they are kept until the harness runs that turn
 * (fz_lws_run_due). Later ones never fire in a fuzz run (as
 * lws_set_timer_usecs). */
#define DUE_MAX 8

static struct {
    lws_sorted_usec_list_t *sul;
    sul_cb_t cb;
} due[DUE_MAX];
static int ndue;

void lws_sul_cancel(lws_sorted_usec_list_t *sul)
{
    for (int i = 0; i < ndue; i++)
        if (due[i].sul == sul) {
            due[i] = due[--ndue];
            return;
        }
}

void lws_sul_schedule(struct lws_context *ctx, int tsi, lws_sorted_usec_list_t *sul, sul_cb_t cb,
                      lws_usec_t us)
{
    (void)ctx;
    (void)tsi;
    lws_sul_cancel(sul);
    if (us > 0 || !cb)
        return;
    /* More zero timers than the server has would be a new one: add room. */
    if (ndue == DUE_MAX)
        abort();
    due[ndue].sul = sul;
    due[ndue++].cb = cb;
}

int fz_lws_run_due(void)
{
    /* Those set while they run are for the turn after. */
    int n = ndue;
    lws_sorted_usec_list_t *sul[DUE_MAX];
    sul_cb_t cb[DUE_MAX];
    for (int i = 0; i < n; i++) {
        sul[i] = due[i].sul;
        cb[i] = due[i].cb;
    }
    ndue = 0;
    for (int i = 0; i < n; i++)
        cb[i](sul[i]);
    return n;
}

/* Outgoing connections (the SLA webhook) always fail to start: the
 * sender's retry path is what runs. */
struct lws *lws_client_connect_via_info(const struct lws_client_connect_info *ccinfo)
{
    (void)ccinfo;
    return NULL;
}

int lws_init_vhost_client_ssl(const struct lws_context_creation_info *info, struct lws_vhost *vhost)
{
    (void)info;
    (void)vhost;
    return 0;
}

void lws_client_http_body_pending(struct lws *wsi, int something_left_to_send)
{
    (void)wsi;
    (void)something_left_to_send;
}

unsigned int lws_http_client_http_response(struct lws *wsi)
{
    (void)wsi;
    return 0;
}

int lws_http_client_read(struct lws *wsi, char **buf, int *len)
{
    (void)wsi;
    (void)buf;
    (void)len;
    return -1;
}
