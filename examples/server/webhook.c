#include "webhook.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <mbedtls/md.h>

#include "util.h"

#define DEFAULT_CA "/etc/ssl/certs/ca-certificates.crt"

typedef struct delivery {
    char id[24];
    char event[32];
    char *body;
    size_t len;
    int attempts;
    int64_t due_ms;
    struct delivery *next;
} delivery;

struct webhook {
    char host[256], host_hdr[280], path[1024];
    int port, tls;
    char *secret;
    struct lws_context *ctx;
    struct lws_vhost *vh;
    delivery *head, *tail;
    size_t n;
    /* The delivery on the wire (always the head), its connection and what
     * the answer said. */
    delivery *inflight;
    struct lws *wsi;
    int status;
    int body_sent;
    lws_sorted_usec_list_t sul;
    int sul_armed;
    uint64_t next_id;
    webhook_stats stats;
};

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- the URL ---- */

static int parse_url(webhook *w, const char *url, char *why, size_t cap)
{
    const char *p, *host_end, *path;
    size_t hlen;
    long port;
    char *end;

    if (strncasecmp(url, "http://", 7) == 0) {
        p = url + 7;
        w->tls = 0;
        w->port = 80;
    } else if (strncasecmp(url, "https://", 8) == 0) {
        p = url + 8;
        w->tls = 1;
        w->port = 443;
    } else {
        snprintf(why, cap, "must start with http:// or https://");
        return -1;
    }
    path = p + strcspn(p, "/?#");
    if (*path == '#' || strchr(url, '#') || memchr(p, '@', (size_t)(path - p)) ||
        strpbrk(url, " \t\r\n")) {
        snprintf(why, cap, "must not hold user info, a fragment or white space");
        return -1;
    }
    host_end = p;
    while (host_end < path && *host_end != ':')
        host_end++;
    hlen = (size_t)(host_end - p);
    if (hlen == 0 || hlen >= sizeof w->host) {
        snprintf(why, cap, "needs a host name");
        return -1;
    }
    memcpy(w->host, p, hlen);
    w->host[hlen] = '\0';
    if (host_end < path) {
        port = strtol(host_end + 1, &end, 10);
        if (end != path || port < 1 || port > 65535) {
            snprintf(why, cap, "has a bad port");
            return -1;
        }
        w->port = (int)port;
    }
    /* "http://host?x" asks for "/?x". */
    if (snprintf(w->path, sizeof w->path, "%s%s", *path == '/' ? "" : "/", path) >=
        (int)sizeof w->path) {
        snprintf(why, cap, "path is too long");
        return -1;
    }
    if ((w->tls && w->port == 443) || (!w->tls && w->port == 80))
        snprintf(w->host_hdr, sizeof w->host_hdr, "%s", w->host);
    else
        snprintf(w->host_hdr, sizeof w->host_hdr, "%s:%d", w->host, w->port);
    return 0;
}

webhook *webhook_new(const char *url, const char *secret, char *why, size_t cap)
{
    webhook *w = calloc(1, sizeof *w);

    if (!w) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    if (!url || parse_url(w, url, why, cap) || (secret && !(w->secret = strdup(secret)))) {
        if (!url)
            snprintf(why, cap, "no URL");
        free(w);
        return NULL;
    }
    w->next_id = 1;
    return w;
}

static void delivery_free(delivery *d)
{
    if (d)
        free(d->body);
    free(d);
}

void webhook_free(webhook *w)
{
    delivery *d, *next;

    if (!w)
        return;
    if (w->sul_armed)
        lws_sul_cancel(&w->sul);
    if (w->wsi)
        lws_set_opaque_user_data(w->wsi, NULL);
    for (d = w->head; d; d = next) {
        next = d->next;
        delivery_free(d);
    }
    free(w->secret);
    free(w);
}

size_t webhook_pending(const webhook *w)
{
    return w->n;
}

webhook_stats webhook_get_stats(const webhook *w)
{
    return w->stats;
}

int webhook_attach(webhook *w, struct lws_context *ctx, struct lws_vhost *vh, const char *ca_file)
{
    struct lws_context_creation_info info;

    w->ctx = ctx;
    w->vh = vh;
    if (!w->tls)
        return 0;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
    info.client_ssl_ca_filepath = ca_file ? ca_file : DEFAULT_CA;
    return lws_init_vhost_client_ssl(&info, vh) ? -1 : 0;
}

struct lws_protocols webhook_protocol(void)
{
    struct lws_protocols p;

    memset(&p, 0, sizeof p);
    p.name = WEBHOOK_PROTOCOL;
    p.callback = webhook_callback;
    return p;
}

/* ---- the queue ---- */

static void kick(webhook *w);

static void on_timer(lws_sorted_usec_list_t *sul)
{
    webhook *w = lws_container_of(sul, webhook, sul);

    w->sul_armed = 0;
    kick(w);
}

static void arm(webhook *w, int64_t in_ms)
{
    w->sul_armed = 1;
    lws_sul_schedule(w->ctx, 0, &w->sul, on_timer, (lws_usec_t)in_ms * LWS_US_PER_MS);
}

static void pop_head(webhook *w)
{
    delivery *d = w->head;

    w->head = d->next;
    if (!w->head)
        w->tail = NULL;
    w->n--;
    delivery_free(d);
}

/* The attempt on the wire ended. */
static void finish(webhook *w, int ok, const char *why)
{
    delivery *d = w->inflight;

    w->inflight = NULL;
    w->wsi = NULL;
    if (!d)
        return;
    if (ok) {
        w->stats.delivered++;
        pop_head(w);
    } else {
        w->stats.failed_attempts++;
        if (++d->attempts > WEBHOOK_RETRIES) {
            fprintf(stderr, "parley-server: webhook %s (%s) dropped after %d attempts: %s\n", d->id,
                    d->event, d->attempts, why);
            w->stats.dropped++;
            pop_head(w);
        } else {
            d->due_ms = mono_ms() + (1000LL << (d->attempts - 1));
        }
    }
    kick(w);
}

static void start(webhook *w, delivery *d)
{
    struct lws_client_connect_info ci;
    struct lws *wsi;

    memset(&ci, 0, sizeof ci);
    ci.context = w->ctx;
    ci.vhost = w->vh;
    ci.address = w->host;
    ci.port = w->port;
    ci.ssl_connection = w->tls ? LCCSCF_USE_SSL : 0;
    ci.path = w->path;
    ci.host = w->host_hdr;
    ci.origin = w->host_hdr;
    ci.method = "POST";
    ci.protocol = WEBHOOK_PROTOCOL;
    ci.alpn = "http/1.1";
    ci.opaque_user_data = w;
    ci.pwsi = &w->wsi;
    w->inflight = d;
    w->status = 0;
    w->body_sent = 0;
    wsi = lws_client_connect_via_info(&ci);
    /* A refusal may already have come through the error callback. */
    if (!wsi && w->inflight == d)
        finish(w, 0, "cannot connect");
    else if (wsi)
        lws_set_timeout(wsi, PENDING_TIMEOUT_USER_OK, WEBHOOK_TIMEOUT_S);
}

static void kick(webhook *w)
{
    int64_t now;

    if (w->inflight || !w->head || !w->ctx)
        return;
    now = mono_ms();
    if (w->head->due_ms > now) {
        arm(w, w->head->due_ms - now);
        return;
    }
    start(w, w->head);
}

int webhook_post(webhook *w, const char *event, const char *body, size_t len, char *id_out)
{
    delivery *d;

    if (len > WEBHOOK_MAX_BODY)
        return -1;
    d = calloc(1, sizeof *d);
    if (!d || !(d->body = malloc(len ? len : 1))) {
        free(d);
        return -1;
    }
    memcpy(d->body, body, len);
    d->len = len;
    snprintf(d->event, sizeof d->event, "%s", event);
    snprintf(d->id, sizeof d->id, "wh-%" PRIu64, w->next_id++);
    if (id_out)
        memcpy(id_out, d->id, sizeof d->id);
    /* Full: the oldest not on the wire makes room. */
    if (w->n >= WEBHOOK_MAX_PENDING) {
        delivery **pp = w->inflight == w->head ? &w->head->next : &w->head, *old = *pp;

        if (old) {
            fprintf(stderr, "parley-server: webhook queue full, %s (%s) dropped\n", old->id,
                    old->event);
            *pp = old->next;
            if (w->tail == old)
                w->tail = pp == &w->head ? NULL : w->head;
            w->n--;
            w->stats.dropped++;
            delivery_free(old);
        }
    }
    if (w->tail)
        w->tail->next = d;
    else
        w->head = d;
    w->tail = d;
    w->n++;
    kick(w);
    return 0;
}

/* ---- the connection ---- */

static int add_hdr(struct lws *wsi, const char *name, const char *value, unsigned char **p,
                   unsigned char *end)
{
    return lws_add_http_header_by_name(wsi, (const unsigned char *)name,
                                       (const unsigned char *)value, (int)strlen(value), p, end);
}

static int signature(const webhook *w, const delivery *d, char out[80])
{
    unsigned char mac[32];

    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                        (const unsigned char *)w->secret, strlen(w->secret),
                        (const unsigned char *)d->body, d->len, mac))
        return -1;
    memcpy(out, "sha256=", 7);
    util_hex(mac, sizeof mac, out + 7);
    return 0;
}

static int append_headers(struct lws *wsi, webhook *w, void *in, size_t len)
{
    unsigned char **p = in, *end = *p + len;
    const delivery *d = w->inflight;
    char clen[24], sig[80];

    snprintf(clen, sizeof clen, "%zu", d->len);
    if (add_hdr(wsi, "content-type:", "application/json", p, end) ||
        add_hdr(wsi, "content-length:", clen, p, end) ||
        add_hdr(wsi, "user-agent:", "parley-server", p, end) ||
        add_hdr(wsi, "x-parley-event:", d->event, p, end) ||
        add_hdr(wsi, "x-parley-delivery:", d->id, p, end))
        return -1;
    if (w->secret && (signature(w, d, sig) || add_hdr(wsi, "x-parley-signature:", sig, p, end)))
        return -1;
    lws_client_http_body_pending(wsi, 1);
    lws_callback_on_writable(wsi);
    return 0;
}

static int write_body(struct lws *wsi, webhook *w)
{
    const delivery *d = w->inflight;
    unsigned char *buf;
    int n;

    if (w->body_sent)
        return 0;
    buf = malloc(LWS_PRE + d->len + 1);
    if (!buf)
        return -1;
    memcpy(buf + LWS_PRE, d->body, d->len);
    n = lws_write(wsi, buf + LWS_PRE, d->len, LWS_WRITE_HTTP_FINAL);
    free(buf);
    if (n < (int)d->len)
        return -1;
    w->body_sent = 1;
    lws_client_http_body_pending(wsi, 0);
    return 0;
}

int webhook_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len)
{
    webhook *w = lws_get_opaque_user_data(wsi);
    char buf[LWS_PRE + 1024], *px = buf + LWS_PRE;
    int lenx = (int)sizeof buf - LWS_PRE;

    /* Callbacks for a connection of a webhook already freed, or of an
     * attempt already given up, only close it. */
    if (!w || (w->wsi && w->wsi != wsi) || !w->inflight)
        return lws_callback_http_dummy(wsi, reason, user, in, len);
    switch (reason) {
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER: return append_headers(wsi, w, in, len);
    case LWS_CALLBACK_CLIENT_HTTP_WRITEABLE: return write_body(wsi, w);
    case LWS_CALLBACK_ESTABLISHED_CLIENT_HTTP:
        w->status = (int)lws_http_client_http_response(wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP:
        return lws_http_client_read(wsi, &px, &lenx) < 0 ? -1 : 0;
    case LWS_CALLBACK_RECEIVE_CLIENT_HTTP_READ: return 0;
    case LWS_CALLBACK_COMPLETED_CLIENT_HTTP:
        lws_set_opaque_user_data(wsi, NULL);
        finish(w, w->status >= 200 && w->status < 300, "status not 2xx");
        return -1;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
        lws_set_opaque_user_data(wsi, NULL);
        finish(w, 0, in ? (const char *)in : "connection error");
        return 0;
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
        lws_set_opaque_user_data(wsi, NULL);
        finish(w, 0, "closed before an answer (or timed out)");
        return 0;
    default: return lws_callback_http_dummy(wsi, reason, user, in, len);
    }
}
