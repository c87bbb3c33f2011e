/* The libwebsockets transport: URL checks, CA loading, and live connections
 * to an in-process lws server (TLS with run-time test certificates, and
 * plain), plus a raw-socket server for what lws will not send (silence,
 * invalid UTF-8). */
#include <lws_config.h>
#include <libwebsockets.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha1.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "parley.h"
#include "testcert.h"
#include "testlib.h"
#include "transport/tls_trust.h"
#include "transport/transport.h"

static tc_files certs;

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* Deterministic message bodies, checkable on arrival. */
static char *pattern(size_t n)
{
    char *p = malloc(n + 1);
    for (size_t i = 0; i < n; i++)
        p[i] = (char)('a' + i % 26);
    p[n] = '\0';
    return p;
}

static int is_pattern(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i] != (char)('a' + i % 26))
            return 0;
    return 1;
}

/* An allocator that counts, and fails on demand. */
typedef struct counting {
    long live, total;
    long fail_at; /* fail the allocation with this number (1-based); 0 never */
    int fail_all;
} counting;

static int counting_fails(counting *k)
{
    k->total++;
    return k->fail_all || k->total == k->fail_at;
}

static void *k_malloc(void *u, size_t n)
{
    counting *k = u;
    if (counting_fails(k))
        return NULL;
    void *p = malloc(n);
    k->live += p != NULL;
    return p;
}

static void *k_realloc(void *u, void *p, size_t n)
{
    counting *k = u;
    if (counting_fails(k))
        return NULL;
    void *q = realloc(p, n);
    k->live += q && !p;
    return q;
}

static void k_free(void *u, void *p)
{
    counting *k = u;
    k->live -= p != NULL;
    free(p);
}

/* ---- client side ------------------------------------------------------ */

typedef struct cstate {
    int opened, closed, closed_err;
    char closed_why[256];
    int frames;
    char *last;
    size_t last_len;
    int errors, last_err;
    char err_why[128];
    atomic_int wakes;
    char *out[8];
    size_t out_len[8];
    int out_n, out_i;
    int empty_peeks; /* writeable callbacks with nothing to send */
    pl_transport *t;
} cstate;

static void c_open(void *u)
{
    ((cstate *)u)->opened++;
}

static void c_frame(void *u, const char *data, size_t len)
{
    cstate *c = u;
    c->frames++;
    free(c->last);
    c->last = malloc(len + 1);
    memcpy(c->last, data, len);
    c->last[len] = '\0';
    c->last_len = len;
}

static void c_closed(void *u, int err, const char *why)
{
    cstate *c = u;
    c->closed++;
    c->closed_err = err;
    snprintf(c->closed_why, sizeof c->closed_why, "%s", why);
    if (getenv("TT_VERBOSE"))
        fprintf(stderr, "  on_closed(%d, \"%s\")\n", err, why);
}

static void c_error(void *u, int err, const char *why)
{
    cstate *c = u;
    c->errors++;
    c->last_err = err;
    snprintf(c->err_why, sizeof c->err_why, "%s", why);
}

static int c_peek(void *u, const char **data, size_t *len)
{
    cstate *c = u;
    if (c->out_i >= c->out_n) {
        c->empty_peeks++;
        return 0;
    }
    *data = c->out[c->out_i];
    *len = c->out_len[c->out_i];
    return 1;
}

static int c_written(void *u)
{
    cstate *c = u;
    free(c->out[c->out_i]);
    c->out[c->out_i++] = NULL;
    return c->out_i < c->out_n;
}

static void c_wake(void *u)
{
    atomic_fetch_add(&((cstate *)u)->wakes, 1);
}

static const pl_transport_cbs cbs = {c_open, c_frame, c_closed, c_error, c_peek, c_written, c_wake};

static void c_send(cstate *c, const char *data, size_t len)
{
    if (c->out_n == 8) {
        memmove(c->out, c->out + c->out_i, (size_t)(c->out_n - c->out_i) * sizeof c->out[0]);
        memmove(c->out_len, c->out_len + c->out_i,
                (size_t)(c->out_n - c->out_i) * sizeof c->out_len[0]);
        c->out_n -= c->out_i;
        c->out_i = 0;
    }
    c->out[c->out_n] = malloc(len + 1);
    memcpy(c->out[c->out_n], data, len);
    c->out_len[c->out_n++] = len;
    pl_transport_request_write(c->t);
}

static void c_send_str(cstate *c, const char *s)
{
    c_send(c, s, strlen(s));
}

static void c_clear(cstate *c)
{
    free(c->last);
    for (int i = c->out_i; i < c->out_n; i++)
        free(c->out[i]);
    memset(c, 0, sizeof *c);
}

static pl_transport_config config(const char *url, const char *ca_file)
{
    pl_transport_config cfg = {0};
    cfg.url = url;
    cfg.ca_file = ca_file;
    cfg.allow_insecure = 1;
    return cfg;
}

static int make_client(cstate *c, const pl_transport_config *cfg)
{
    memset(c, 0, sizeof *c);
    return pl_transport_new(pl_alloc_libc(), cfg, &cbs, c, NULL, &c->t);
}

/* Services the client (blocking, bounded by a short timer) until `cond`. */
static int pump_until(cstate *c, int (*cond)(cstate *, void *), void *arg, int timeout_ms)
{
    int64_t end = now_ms() + timeout_ms;
    while (!cond(c, arg)) {
        if (now_ms() > end)
            return 0;
        pl_transport_set_timer(c->t, 10);
        CHECK_INT(pl_transport_service(c->t, -1), PARLEY_OK);
    }
    return 1;
}

/* Waits for the next open (or a failure) / the next close. */
static int opened_more(cstate *c, void *arg)
{
    const int *base = arg; /* opened, closed at the start */
    return c->opened > base[0] || c->closed > base[1];
}

static int closed_more(cstate *c, void *arg)
{
    return c->closed > ((const int *)arg)[1];
}

static int wait_open(cstate *c)
{
    int base[2] = {c->opened, c->closed};
    return pump_until(c, opened_more, base, 5000) && c->opened > base[0];
}

static int wait_closed(cstate *c, int timeout_ms)
{
    int base[2] = {c->opened, c->closed};
    return pump_until(c, closed_more, base, timeout_ms);
}

static int frames_at_least(cstate *c, void *arg)
{
    return c->frames >= *(int *)arg || c->closed > 0;
}

static int errors_at_least(cstate *c, void *arg)
{
    return c->errors >= *(int *)arg || c->closed > 0;
}

static void pump_ms(cstate *c, int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end) {
        pl_transport_service(c->t, 0);
        sleep_ms(1);
    }
}

/* ---- an lws server in its own thread ---------------------------------- */

typedef struct outmsg {
    char *data;
    size_t len, off, frag;
    int binary;
} outmsg;

typedef struct server {
    struct lws_context *ctx;
    pthread_t thread;
    atomic_int stop;
    int port;
    pthread_mutex_t mu;
    /* shared with the test thread, under mu */
    int accepts;  /* TCP connections, before any TLS */
    int upgrades; /* WebSocket upgrade requests */
    int connections, closes, received;
    int peer_close_code; /* of the last close frame from a client */
    size_t last_len;
    int last_is_pattern;
    char last[64];
    /* server thread only */
    char *rx;
    size_t rx_len;
    outmsg q[8];
    int qn;
    int close_now;
} server;

static void srv_queue(server *s, struct lws *wsi, char *data, size_t len, size_t frag, int binary)
{
    if (s->qn < 8)
        s->q[s->qn++] = (outmsg){data, len, 0, frag, binary};
    else
        free(data);
    lws_callback_on_writable(wsi);
}

/* "echo:x" answers x, "big:N" a pattern of N bytes in 4000-byte fragments,
 * "bin" a binary frame, "close" closes with 1001; anything else is noted. */
static void srv_message(server *s, struct lws *wsi)
{
    const char *m = s->rx ? s->rx : "";
    if (strncmp(m, "echo:", 5) == 0) {
        srv_queue(s, wsi, strdup(m + 5), s->rx_len - 5, 0, 0);
    } else if (strncmp(m, "big:", 4) == 0) {
        size_t n = (size_t)atol(m + 4);
        srv_queue(s, wsi, pattern(n), n, 4000, 0);
    } else if (strcmp(m, "bin") == 0) {
        srv_queue(s, wsi, strdup("\x01\x02\x03"), 3, 0, 1);
    } else if (strcmp(m, "close") == 0) {
        s->close_now = 1;
        lws_callback_on_writable(wsi);
    } else {
        pthread_mutex_lock(&s->mu);
        s->received++;
        s->last_len = s->rx_len;
        s->last_is_pattern = is_pattern(m, s->rx_len);
        snprintf(s->last, sizeof s->last, "%s", m);
        pthread_mutex_unlock(&s->mu);
    }
}

static int srv_writeable(server *s, struct lws *wsi)
{
    if (s->close_now) {
        s->close_now = 0;
        lws_close_reason(wsi, LWS_CLOSE_STATUS_GOINGAWAY, (unsigned char *)"bye", 3);
        return -1;
    }
    if (!s->qn)
        return 0;
    outmsg *o = &s->q[0];
    size_t n = o->frag && o->len - o->off > o->frag ? o->frag : o->len - o->off;
    int first = o->off == 0, last = o->off + n == o->len;
    unsigned char *buf = malloc(LWS_PRE + n + 1);
    memcpy(buf + LWS_PRE, o->data + o->off, n);
    int flags = lws_write_ws_flags(o->binary ? LWS_WRITE_BINARY : LWS_WRITE_TEXT, first, last);
    int w = lws_write(wsi, buf + LWS_PRE, n, (enum lws_write_protocol)flags);
    free(buf);
    if (w < (int)n)
        return -1;
    o->off += n;
    if (last) {
        free(o->data);
        memmove(s->q, s->q + 1, (size_t)--s->qn * sizeof s->q[0]);
    }
    if (s->qn)
        lws_callback_on_writable(wsi);
    return 0;
}

static int srv_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    server *s = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        pthread_mutex_lock(&s->mu);
        s->upgrades++;
        pthread_mutex_unlock(&s->mu);
        break;
    case LWS_CALLBACK_ESTABLISHED:
        pthread_mutex_lock(&s->mu);
        s->connections++;
        pthread_mutex_unlock(&s->mu);
        break;
    case LWS_CALLBACK_CLOSED:
        for (int i = 0; i < s->qn; i++)
            free(s->q[i].data);
        s->qn = 0;
        pthread_mutex_lock(&s->mu);
        s->closes++;
        pthread_mutex_unlock(&s->mu);
        break;
    case LWS_CALLBACK_RECEIVE:
        if (lws_is_first_fragment(wsi))
            s->rx_len = 0;
        s->rx = realloc(s->rx, s->rx_len + len + 1);
        memcpy(s->rx + s->rx_len, in, len);
        s->rx_len += len;
        s->rx[s->rx_len] = '\0';
        if (lws_is_final_fragment(wsi))
            srv_message(s, wsi);
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE: return srv_writeable(s, wsi);
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
        pthread_mutex_lock(&s->mu);
        s->peer_close_code =
            len >= 2 ? ((unsigned char *)in)[0] << 8 | ((unsigned char *)in)[1] : 0;
        pthread_mutex_unlock(&s->mu);
        break;
    default: break;
    }
    return 0;
}

/* Every TCP connection is announced to the first protocol. */
static int srv_http_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    if (reason == LWS_CALLBACK_FILTER_NETWORK_CONNECTION) {
        server *s = lws_context_user(lws_get_context(wsi));
        pthread_mutex_lock(&s->mu);
        s->accepts++;
        pthread_mutex_unlock(&s->mu);
    }
    return lws_callback_http_dummy(wsi, reason, user, in, len);
}

static const struct lws_protocols srv_protocols[] = {
    {"http", srv_http_cb, 0, 0, 0, NULL, 0},
    {"parley.v1", srv_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *srv_thread(void *arg)
{
    server *s = arg;
    while (!atomic_load(&s->stop))
        lws_service(s->ctx, 0);
    return NULL;
}

/* TLS with the certificate and key given, or plain with NULL. */
static int server_start_cert(server *s, const char *cert, const char *key)
{
    struct lws_context_creation_info info;
    memset(s, 0, sizeof *s);
    memset(&info, 0, sizeof info);
    pthread_mutex_init(&s->mu, NULL);
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = srv_protocols;
    info.user = s;
    info.options = LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.fd_limit_per_thread = 32;
    if (cert) {
        info.options |= LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT;
        info.ssl_cert_filepath = cert;
        info.ssl_private_key_filepath = key;
    }
    s->ctx = lws_create_context(&info);
    if (!s->ctx)
        return -1;
    s->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(s->ctx, "default"));
    return pthread_create(&s->thread, NULL, srv_thread, s);
}

static int server_start(server *s, int tls)
{
    return server_start_cert(s, tls ? certs.cert : NULL, tls ? certs.key : NULL);
}

static void server_stop(server *s)
{
    atomic_store(&s->stop, 1);
    lws_cancel_service(s->ctx);
    pthread_join(s->thread, NULL);
    lws_context_destroy(s->ctx);
    for (int i = 0; i < s->qn; i++)
        free(s->q[i].data);
    free(s->rx);
    pthread_mutex_destroy(&s->mu);
}

static int srv_get(server *s, int *field)
{
    pthread_mutex_lock(&s->mu);
    int v = *field;
    pthread_mutex_unlock(&s->mu);
    return v;
}

typedef struct srv_wait {
    server *s;
    int *field;
    int want;
} srv_wait;

static int server_reached(cstate *c, void *arg)
{
    (void)c;
    srv_wait *w = arg;
    return srv_get(w->s, w->field) >= w->want;
}

static int wait_server(cstate *c, server *s, int *field, int want)
{
    srv_wait w = {s, field, want};
    return pump_until(c, server_reached, &w, 5000);
}

/* A port nobody listens on: bound once, then released. */
static int closed_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t al = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bind(fd, (struct sockaddr *)&a, sizeof a);
    getsockname(fd, (struct sockaddr *)&a, &al);
    close(fd);
    return ntohs(a.sin_port);
}

/* ---- tests: no network ------------------------------------------------ */

static void test_url(void)
{
    static const struct {
        const char *url;
        int insecure_ok, want;
    } cases[] = {
        {"wss://example.com", 0, PARLEY_OK},
        {"wss://example.com/", 0, PARLEY_OK},
        {"wss://support.example.com:8443/v1/ws?app=x", 0, PARLEY_OK},
        {"WSS://Example.COM/v1", 0, PARLEY_OK},
        {"wss://127.0.0.1:443/", 0, PARLEY_OK},
        {"wss://[::1]:8443/x", 0, PARLEY_OK},
        {"wss://localhost:65535", 0, PARLEY_OK},
        {"wss://host?x=1", 0, PARLEY_OK},
        {"ws://localhost:8080/", 1, PARLEY_OK},
        {"ws://localhost:8080/", 0, PARLEY_ERR_INSECURE},
        {"ws://localhost", 0, PARLEY_ERR_INSECURE},
        {"ws://", 1, PARLEY_ERR_INVALID_ARG},
        {"wss://", 0, PARLEY_ERR_INVALID_ARG},
        {"wss:///path", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://:443/", 0, PARLEY_ERR_INVALID_ARG},
        {"https://example.com", 0, PARLEY_ERR_INVALID_ARG},
        {"example.com", 0, PARLEY_ERR_INVALID_ARG},
        {"wss:/example.com", 0, PARLEY_ERR_INVALID_ARG},
        {"", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://user:pw@example.com/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://user@example.com", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://exa mple.com", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com/a b", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com/\x01", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com/\n", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://ex\xc3\xa4mple.com/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com:0/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com:65536/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com:99999999999/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com:/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com:44x/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://example.com/#frag", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://[::1/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://[]/", 0, PARLEY_ERR_INVALID_ARG},
        {"wss://[::1]x/", 0, PARLEY_ERR_INVALID_ARG},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int rc = pl_transport_check_url(cases[i].url, cases[i].insecure_ok);
        if (rc != cases[i].want)
            fprintf(stderr, "url case %zu: \"%s\"\n", i, cases[i].url);
        CHECK_INT(rc, cases[i].want);
    }
    CHECK_INT(pl_transport_check_url(NULL, 1), PARLEY_ERR_INVALID_ARG);

    /* Length limit: 2048 bytes in all. */
    char *longurl = malloc(3000);
    strcpy(longurl, "wss://example.com/");
    size_t n = strlen(longurl);
    memset(longurl + n, 'p', 2048 - n);
    longurl[2048] = '\0';
    CHECK_INT(pl_transport_check_url(longurl, 0), PARLEY_OK);
    longurl[2048] = 'p';
    longurl[2049] = '\0';
    CHECK_INT(pl_transport_check_url(longurl, 0), PARLEY_ERR_INVALID_ARG);
    free(longurl);
}

static void test_new_errors(void)
{
    cstate c;
    pl_transport_config cfg = config("ws://localhost:1/", NULL);
    cfg.allow_insecure = 0;
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_INSECURE);
    CHECK(c.t == NULL);

    cfg = config("nonsense", NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_INVALID_ARG);

    cfg = config("wss://localhost/", "/nonexistent/ca.pem");
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_TLS);
    cfg = config("ws://localhost/", "/nonexistent/ca.pem");
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_TLS);
    cfg = config("wss://localhost/", certs.dir); /* a directory */
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_TLS);
    cfg = config("wss://localhost/", certs.key); /* readable, not a certificate */
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_TLS);

    cfg = config("wss://localhost/", NULL);
    cfg.ca_pem = "-----BEGIN CERTIFICATE-----\nnot base64\n-----END CERTIFICATE-----\n";
    cfg.ca_pem_len = strlen(cfg.ca_pem);
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_TLS);
    cfg.ca_pem_len = 0;
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_TLS);

    cfg = config("wss://localhost/", certs.ca);
    cfg.ping_interval_s = 30;
    cfg.hangup_s = 30;
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_CONFIG);

    pl_transport *t = NULL;
    pl_transport_cbs partial = cbs;
    partial.on_wake = NULL;
    cfg = config("wss://localhost/", certs.ca);
    CHECK_INT(pl_transport_new(pl_alloc_libc(), &cfg, &partial, NULL, NULL, &t),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_transport_new(pl_alloc_libc(), NULL, &cbs, NULL, NULL, &t),
              PARLEY_ERR_INVALID_ARG);
    CHECK(t == NULL);

    /* NULL handles are harmless. */
    pl_transport_free(NULL);
    pl_transport_close(NULL);
    pl_transport_wake(NULL);
    pl_transport_request_write(NULL);
    pl_transport_set_timer(NULL, 5);
    pl_transport_set_max_frame(NULL, 5);
    CHECK_INT(pl_transport_connect(NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_transport_service(NULL, 0), PARLEY_ERR_INVALID_ARG);
}

static void test_ca_sources(void)
{
    cstate c;
    pl_transport_config cfg = config("wss://localhost/", certs.ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    pl_transport_free(c.t);

    size_t len = 0;
    char *pem = tc_read(certs.ca, &len);
    cfg = config("wss://localhost/", NULL);
    cfg.ca_pem = pem;
    cfg.ca_pem_len = len;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    pl_transport_free(c.t);
    free(pem);

    /* Without a CA, wss uses the system bundle. */
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0) {
        cfg = config("wss://localhost/", NULL);
        CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
        pl_transport_free(c.t);
    }
    /* ws:// without a CA needs none. */
    cfg = config("ws://localhost/", NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    pl_transport_free(c.t);
}

static int wakes_at_least_one(cstate *c, void *arg)
{
    (void)arg;
    return atomic_load(&c->wakes) > 0;
}

/* lws wakes itself once when it starts (its wake pipe being adopted). */
static void settle(cstate *c)
{
    pump_ms(c, 20);
    atomic_store(&c->wakes, 0);
}

static void test_timer(void)
{
    cstate c;
    pl_transport_config cfg = config("ws://localhost/", NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    settle(&c);

    /* A non-blocking pass returns at once with nothing to do. */
    int64_t t0 = now_ms();
    CHECK_INT(pl_transport_service(c.t, 0), PARLEY_OK);
    CHECK(now_ms() - t0 < 100);

    t0 = now_ms();
    pl_transport_set_timer(c.t, 60);
    while (atomic_load(&c.wakes) == 0 && now_ms() - t0 < 3000)
        pl_transport_service(c.t, -1);
    int64_t took = now_ms() - t0;
    CHECK_INT(atomic_load(&c.wakes), 1);
    if (!(took >= 55 && took < 1000))
        fprintf(stderr, "took %lld\n", (long long)took);
    CHECK(took >= 55 && took < 1000);

    /* A later setting replaces the earlier one. */
    atomic_store(&c.wakes, 0);
    t0 = now_ms();
    pl_transport_set_timer(c.t, 5000);
    pl_transport_set_timer(c.t, 30);
    while (atomic_load(&c.wakes) == 0 && now_ms() - t0 < 3000)
        pl_transport_service(c.t, -1);
    took = now_ms() - t0;
    CHECK(took >= 25 && took < 1000);

    /* -1 cancels. */
    atomic_store(&c.wakes, 0);
    pl_transport_set_timer(c.t, 20);
    pl_transport_set_timer(c.t, -1);
    pump_ms(&c, 100);
    CHECK_INT(atomic_load(&c.wakes), 0);

    pl_transport_set_timer(c.t, 0);
    pump_ms(&c, 20);
    CHECK_INT(atomic_load(&c.wakes), 1);
    pl_transport_free(c.t);
}

static void *waker(void *arg)
{
    sleep_ms(100);
    pl_transport_wake(arg);
    return NULL;
}

static void test_wake_from_thread(void)
{
    cstate c;
    pl_transport_config cfg = config("ws://localhost/", NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    settle(&c);
    /* A backstop so a missing wake fails instead of hanging. */
    pl_transport_set_timer(c.t, 5000);
    pthread_t th;
    int64_t t0 = now_ms();
    pthread_create(&th, NULL, waker, c.t);
    while (!wakes_at_least_one(&c, NULL))
        pl_transport_service(c.t, -1);
    int64_t took = now_ms() - t0;
    pthread_join(th, NULL);
    CHECK(took >= 90 && took < 2000);
    pl_transport_free(c.t);
}

/* A bounded wait ends at its timeout with nothing happening (lws' own poll
 * would sleep until the next event), and earlier when woken. */
static void test_bounded_wait(void)
{
    cstate c;
    pl_transport_config cfg = config("ws://localhost/", NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    settle(&c);
    int64_t t0 = now_ms();
    CHECK_INT(pl_transport_service(c.t, 150), PARLEY_OK);
    int64_t took = now_ms() - t0;
    CHECK(took >= 140 && took < 3000);
    CHECK_INT(atomic_load(&c.wakes), 0);

    pthread_t th;
    t0 = now_ms();
    pthread_create(&th, NULL, waker, c.t);
    while (!wakes_at_least_one(&c, NULL) && now_ms() - t0 < 10000)
        CHECK_INT(pl_transport_service(c.t, 8000), PARLEY_OK);
    took = now_ms() - t0;
    pthread_join(th, NULL);
    CHECK(took >= 90 && took < 4000);
    pl_transport_free(c.t);
}

/* ---- tests: live, against the lws server ------------------------------ */

static void exchange(cstate *c, server *s)
{
    int want;
    /* client -> server */
    c_send_str(c, "hello");
    CHECK(wait_server(c, s, &s->received, 1));
    pthread_mutex_lock(&s->mu);
    CHECK_STR(s->last, "hello");
    pthread_mutex_unlock(&s->mu);

    /* server -> client, small */
    c_send_str(c, "echo:hi there");
    want = 1;
    CHECK(pump_until(c, frames_at_least, &want, 5000));
    CHECK_STR(c->last, "hi there");

    /* server -> client, 60 KB in 4000-byte fragments */
    c_send_str(c, "big:60000");
    want = 2;
    CHECK(pump_until(c, frames_at_least, &want, 5000));
    CHECK_INT(c->last_len, 60000);
    CHECK(c->last && is_pattern(c->last, c->last_len));

    /* client -> server, 60 KB */
    char *big = pattern(60000);
    c_send(c, big, 60000);
    free(big);
    CHECK(wait_server(c, s, &s->received, 2));
    pthread_mutex_lock(&s->mu);
    CHECK_INT(s->last_len, 60000);
    CHECK(s->last_is_pattern);
    pthread_mutex_unlock(&s->mu);

    /* oversized: reported, dropped, and the connection stays up */
    c_send_str(c, "big:70000");
    want = 1;
    CHECK(pump_until(c, errors_at_least, &want, 5000));
    CHECK_INT(c->last_err, PARLEY_ERR_PROTOCOL);
    CHECK_STR(c->err_why, "frame exceeds 65536 bytes");
    c_send_str(c, "echo:still here");
    want = 3;
    CHECK(pump_until(c, frames_at_least, &want, 5000));
    CHECK_STR(c->last, "still here");

    /* binary frames are refused */
    c_send_str(c, "bin");
    want = 2;
    CHECK(pump_until(c, errors_at_least, &want, 5000));
    CHECK_STR(c->err_why, "binary frame ignored");

    /* a lower limit from the server's welcome, then back up (clamped) */
    pl_transport_set_max_frame(c->t, 1000);
    c_send_str(c, "big:2000");
    want = 3;
    CHECK(pump_until(c, errors_at_least, &want, 5000));
    CHECK_STR(c->err_why, "frame exceeds 1000 bytes");
    pl_transport_set_max_frame(c->t, 1u << 30);
    c_send_str(c, "big:65536");
    want = 4;
    CHECK(pump_until(c, frames_at_least, &want, 5000));
    CHECK_INT(c->last_len, 65536);
    CHECK_INT(c->errors, 3);
    CHECK_INT(c->closed, 0);

    /* Frames queued together all go out, one writeable callback each, and
     * the last one asks for no further callback. (lws itself calls back
     * once after a write it had to buffer, as the 60 KB one above.) */
    int empty_before = c->empty_peeks;
    c_send_str(c, "echo:one");
    c_send_str(c, "echo:two");
    c_send_str(c, "echo:three");
    want = c->frames + 3;
    CHECK(pump_until(c, frames_at_least, &want, 5000));
    CHECK_STR(c->last, "three");
    CHECK_INT(c->empty_peeks, empty_before);
}

/* A resolver that answers 127.0.0.1 once released (or fails), and at the
 * latest after 3 s, so that one run on the servicing thread shows up as a
 * slow pass instead of a hang. */
typedef struct slow_dns {
    atomic_int release, calls, done; /* done: the resolver let go of it */
    int fail;
    char host[64];
} slow_dns;

static int slow_resolve(void *user, const char *host, char (*out)[PL_RESOLVE_ADDR_MAX], int max,
                        char *why, size_t size)
{
    slow_dns *d = user;
    (void)max;
    snprintf(d->host, sizeof d->host, "%s", host);
    atomic_fetch_add(&d->calls, 1);
    int64_t end = now_ms() + 3000;
    while (!atomic_load(&d->release) && now_ms() < end)
        sleep_ms(5);
    int fail = d->fail;
    atomic_store(&d->done, 1); /* the last touch of *d */
    if (fail) {
        snprintf(why, size, "cannot resolve %s: no such host (test)", host);
        return PARLEY_ERR_CONNECT;
    }
    snprintf(out[0], PL_RESOLVE_ADDR_MAX, "127.0.0.1");
    return 1;
}

/* Services with non-blocking passes for `ms`; the longest pass. */
static int64_t longest_pass(cstate *c, int ms)
{
    int64_t end = now_ms() + ms, worst = 0;
    while (now_ms() < end) {
        int64_t t0 = now_ms();
        CHECK_INT(pl_transport_service(c->t, 0), PARLEY_OK);
        if (now_ms() - t0 > worst)
            worst = now_ms() - t0;
        sleep_ms(1);
    }
    return worst;
}

static void test_resolver_off_thread(void)
{
    server s;
    REQUIRE_INT(server_start(&s, 0), 0);
    char url[128];
    snprintf(url, sizeof url, "ws://localhost:%d", s.port);
    for (int fail = 0; fail < 2; fail++) {
        slow_dns d = {.fail = fail};
        cstate c;
        pl_transport_config cfg = config(url, NULL);
        cfg.resolve = slow_resolve;
        cfg.resolve_user = &d;
        CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
        CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
        /* The lookup hangs; servicing does not wait for it. */
        CHECK(longest_pass(&c, 300) < 1000); /* a lookup on this thread: 3000 */
        CHECK_INT(atomic_load(&d.calls), 1);
        CHECK_INT(c.opened + c.closed, 0);
        atomic_store(&d.release, 1);
        if (!fail) {
            CHECK(wait_open(&c));
            CHECK_STR(d.host, "localhost");
            exchange(&c, &s);
        } else {
            CHECK(wait_closed(&c, 5000));
            CHECK_INT(c.closed_err, PARLEY_ERR_CONNECT);
            CHECK(strstr(c.closed_why, "no such host (test)") != NULL);
        }
        pl_transport_free(c.t);
        c_clear(&c);
    }
    /* Freed while its lookup still hangs: the lookup's thread lets go of
     * it later, and nothing waits for it. (`d` outlives that thread.) */
    static slow_dns d;
    cstate c;
    pl_transport_config cfg = config(url, NULL);
    cfg.resolve = slow_resolve;
    cfg.resolve_user = &d;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    longest_pass(&c, 50);
    int64_t t0 = now_ms();
    pl_transport_free(c.t);
    CHECK(now_ms() - t0 < 1000);
    atomic_store(&d.release, 1);
    while (!atomic_load(&d.done) && now_ms() - t0 < 10000)
        sleep_ms(5);
    c_clear(&c);
    server_stop(&s);
}

static void test_tls_live(void)
{
    server s;
    if (server_start(&s, 1) != 0) {
        CHECK(!"tls server failed to start");
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/chat", s.port);
    cstate c;
    pl_transport_config cfg = config(url, certs.ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);

    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_ERR_STATE);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 1);
    CHECK_INT(c.closed, 0);
    if (c.closed)
        fprintf(stderr, "closed: %s\n", c.closed_why);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_ERR_STATE);
    exchange(&c, &s);

    /* A caller's close is silent on our side; the server sees a clean one. */
    pl_transport_close(c.t);
    CHECK(wait_server(&c, &s, &s.closes, 1));
    pump_ms(&c, 50);
    CHECK_INT(c.closed, 0);
    CHECK_INT(srv_get(&s, &s.peer_close_code), LWS_CLOSE_STATUS_NORMAL);

    /* The same transport connects again; a server close is reported. */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 2);
    c_send_str(&c, "close");
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.closed_err, PARLEY_ERR_CLOSED);
    CHECK(strstr(c.closed_why, "1001") != NULL);
    CHECK(strstr(c.closed_why, "bye") != NULL);

    /* After a reported close, connect again and free while open. */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 3);
    int closed_before = c.closed;
    pl_transport_free(c.t);
    CHECK_INT(c.closed, closed_before);
    c_clear(&c);
    server_stop(&s);
}

/* A refused certificate: PARLEY_ERR_TLS with every problem named (the
 * bits and the text), and the server saw the TCP connection but never an
 * upgrade request. */
static void expect_refusal(server *s, const char *host, const char *ca, uint32_t want,
                           const char *what)
{
    char url[128];
    snprintf(url, sizeof url, "wss://%s:%d/", host, s->port);
    int accepts = srv_get(s, &s->accepts);
    cstate c;
    pl_transport_config cfg = config(url, ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.opened, 0);
    CHECK_INT(c.closed, 1);
    CHECK_INT(c.closed_err, PARLEY_ERR_TLS);
#if defined(LWS_WITH_MBEDTLS) /* lws on OpenSSL only logs the reason */
    CHECK_INT(pl_transport_cert_failures(c.t), want);
    if (!strstr(c.closed_why, what))
        fprintf(stderr, "TLS failure reason: %s\n", c.closed_why);
    CHECK(strstr(c.closed_why, what) != NULL);
#else
    (void)want;
    (void)what;
#endif
    CHECK_INT(srv_get(s, &s->accepts), accepts + 1);
    CHECK_INT(srv_get(s, &s->upgrades), 0);
    pl_transport_free(c.t);
    c_clear(&c);
}

static void refusals_of(const char *cert, const char *host, const char *ca, uint32_t want,
                        const char *what)
{
    server s;
    if (server_start_cert(&s, cert, certs.key) != 0) {
        CHECK(!"tls server failed to start");
        return;
    }
    expect_refusal(&s, host, ca, want, what);
    server_stop(&s);
}

static void test_tls_failures(void)
{
    server s;
    if (server_start(&s, 1) != 0) {
        CHECK(!"tls server failed to start");
        return;
    }
    expect_refusal(&s, "localhost", certs.other_ca, PARLEY_TLS_UNTRUSTED,
                   "not signed by a trusted CA (issuer CN=Parley Test CA)");
    /* The certificate names localhost only (and mbedTLS ignores IP SANs). */
    expect_refusal(&s, "127.0.0.1", certs.ca, PARLEY_TLS_HOSTNAME_MISMATCH,
                   "not for host '127.0.0.1' (it is for CN=localhost)");
    /* Both at once: lws' own summary would name only the CA. */
    expect_refusal(
        &s, "127.0.0.1", certs.other_ca, PARLEY_TLS_HOSTNAME_MISMATCH | PARLEY_TLS_UNTRUSTED,
        "not for host '127.0.0.1' (it is for CN=localhost); it is not signed by a trusted CA");
    /* The system bundle does not know the test CA. */
    if (access("/etc/ssl/certs/ca-certificates.crt", R_OK) == 0)
        expect_refusal(&s, "localhost", NULL, PARLEY_TLS_UNTRUSTED, "not signed by a trusted CA");
    CHECK_INT(srv_get(&s, &s.connections), 0);

    /* The right CA from memory still works. */
    size_t len = 0;
    char *pem = tc_read(certs.ca, &len);
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", s.port);
    cstate c;
    pl_transport_config cfg = config(url, NULL);
    cfg.ca_pem = pem;
    cfg.ca_pem_len = len;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    free(pem);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 1);
    CHECK_INT(pl_transport_cert_failures(c.t), 0);
    pl_transport_free(c.t);
    c_clear(&c);
    server_stop(&s);

    refusals_of(certs.wrong_name, "localhost", certs.ca, PARLEY_TLS_HOSTNAME_MISMATCH,
                "not for host 'localhost' (it is for CN=other.example)");
    refusals_of(certs.expired, "localhost", certs.ca, PARLEY_TLS_EXPIRED,
                "expired on 2021-01-01 00:00 UTC");
    refusals_of(certs.expired, "localhost", certs.other_ca,
                PARLEY_TLS_EXPIRED | PARLEY_TLS_UNTRUSTED,
                "trusted CA (issuer CN=Parley Test CA); it expired on 2021-01-01");
    refusals_of(certs.future, "localhost", certs.ca, PARLEY_TLS_NOT_YET_VALID,
                "not valid before 2045-01-01 00:00 UTC");
}

/* ---- public-key pins ----------------------------------------------------- */

static void pin_of_key(const char *key, unsigned char out[PL_TRANSPORT_PIN_SIZE])
{
    char text[45];
    CHECK_INT(tc_pin_of_key(key, text), 0);
    CHECK_INT(pl_tls_pin_parse(text, out), PARLEY_OK);
}

/* Pinned to the server's key and a backup: connects, and talks. */
static void expect_pinned_open(server *s, const unsigned char *pins, size_t n)
{
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", s->port);
    cstate c;
    pl_transport_config cfg = config(url, certs.ca);
    cfg.pins = pins;
    cfg.n_pins = n;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 1);
    int before = srv_get(s, &s->received);
    c_send_str(&c, "pinned");
    CHECK(wait_server(&c, s, &s->received, before + 1));
    pl_transport_free(c.t);
    c_clear(&c);
}

/* Pinned to keys the server does not have: refused before the upgrade
 * request, so nothing queued ever reaches the server. */
static void expect_pin_refused(server *s, const unsigned char *pins)
{
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", s->port);
    cstate c;
    pl_transport_config cfg = config(url, certs.ca);
    cfg.pins = pins;
    cfg.n_pins = 2;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    int accepts = srv_get(s, &s->accepts), upgrades = srv_get(s, &s->upgrades);
    int received = srv_get(s, &s->received), connections = srv_get(s, &s->connections);
    c_send_str(&c, "hello before any connection");
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.opened, 0);
    CHECK_INT(c.closed_err, PARLEY_ERR_TLS);
    CHECK_INT(pl_transport_cert_failures(c.t), PARLEY_TLS_PIN_MISMATCH);
    char actual[45];
    CHECK_INT(tc_pin_of_key(certs.key, actual), 0);
    CHECK(strstr(c.closed_why, actual) != NULL);
    CHECK(strstr(c.closed_why, "matches none of the 2 configured pins") != NULL);
    pump_ms(&c, 100);
    CHECK_INT(srv_get(s, &s->accepts), accepts + 1);
    CHECK_INT(srv_get(s, &s->upgrades), upgrades);
    CHECK_INT(srv_get(s, &s->connections), connections);
    CHECK_INT(srv_get(s, &s->received), received);
    /* The next attempt starts clean and fails the same way. */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(pl_transport_cert_failures(c.t), PARLEY_TLS_PIN_MISMATCH);
    pl_transport_free(c.t);
    c_clear(&c);
}

static void test_pins(void)
{
    unsigned char pins[3][PL_TRANSPORT_PIN_SIZE];
    pin_of_key(certs.key, pins[0]);
    pin_of_key(certs.rotated_key, pins[1]);
    memset(pins[2], 0x5a, sizeof pins[2]);
    server s, r;
    if (server_start(&s, 1) != 0 || server_start_cert(&r, certs.rotated, certs.rotated_key) != 0) {
        CHECK(!"tls servers failed to start");
        return;
    }
    /* The key in use, and the backup key once the server moved to it. */
    expect_pinned_open(&s, pins[0], 2);
    expect_pinned_open(&r, pins[0], 2);

    expect_pin_refused(&s, pins[1]);

    /* Verification comes first: right pins, wrong CA. */
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", s.port);
    cstate c;
    pl_transport_config cfg = config(url, certs.other_ca);
    cfg.pins = pins[0];
    cfg.n_pins = 2;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(pl_transport_cert_failures(c.t), PARLEY_TLS_UNTRUSTED);
    pl_transport_free(c.t);
    c_clear(&c);

    /* One pin, or the same one twice, is refused; ws:// ignores pins. */
    cfg.n_pins = 1;
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_CONFIG);
    memcpy(pins[1], pins[0], sizeof pins[0]);
    cfg.n_pins = 2;
    CHECK_INT(make_client(&c, &cfg), PARLEY_ERR_CONFIG);
    cfg.n_pins = 3;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    pl_transport_free(c.t);
    cfg = config("ws://localhost:1/", NULL);
    cfg.pins = pins[1];
    cfg.n_pins = 2;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    pl_transport_free(c.t);
    server_stop(&s);
    server_stop(&r);
}

/* ---- the client over a refused certificate (public API) ------------------ */

typedef struct evcount {
    int connecting, reconnecting, online, errors;
    uint32_t retry_ms, conn_tls, err_tls;
    int err_code;
    char err_text[600];
} evcount;

static void drain(parley_client *pc, evcount *e)
{
    parley_event *ev;
    while (parley_poll(pc, &ev) == PARLEY_OK) {
        int type = parley_event_type(ev), state = parley_event_state(ev);
        if (type == PARLEY_EV_CONNECTION && state == PARLEY_CONN_CONNECTING)
            e->connecting++;
        if (type == PARLEY_EV_CONNECTION && state == PARLEY_CONN_ONLINE)
            e->online++;
        if (type == PARLEY_EV_CONNECTION && state == PARLEY_CONN_RECONNECTING) {
            e->reconnecting++;
            e->retry_ms = parley_event_retry_ms(ev);
            e->conn_tls = parley_event_tls_failures(ev);
        }
        if (type == PARLEY_EV_ERROR) {
            e->errors++;
            e->err_code = parley_event_error_code(ev);
            e->err_tls = parley_event_tls_failures(ev);
            snprintf(e->err_text, sizeof e->err_text, "%s",
                     parley_event_text(ev) ? parley_event_text(ev) : "");
        }
        parley_event_free(ev);
    }
}

static void run_client(parley_client *pc, evcount *e, int ms)
{
    int64_t end = now_ms() + ms;
    while (now_ms() < end) {
        CHECK_INT(parley_service(pc, 20), PARLEY_OK);
        drain(pc, e);
    }
}

/* Reconnecting every 20..100 ms unless something says otherwise. */
static parley_client *eager_client(int port, const char *ca, const char *const *pins)
{
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", port);
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, url), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "tls-test"), PARLEY_OK);
    CHECK_INT(parley_config_set_ca_file(cfg, ca), PARLEY_OK);
    CHECK_INT(parley_config_set_reconnect(cfg, 20, 100), PARLEY_OK);
    for (size_t i = 0; pins && pins[i]; i++)
        CHECK_INT(parley_config_add_pin(cfg, pins[i]), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    return pc;
}

/* One attempt in 1.5 s (where the backoff would make a dozen), told to the
 * host with the reason; then the host's parley_reconnect_now() retries. */
static void expect_held(const char *cert, const char *ca, uint32_t want, const char *what)
{
    server s;
    if (server_start_cert(&s, cert, certs.key) != 0) {
        CHECK(!"tls server failed to start");
        return;
    }
    parley_client *pc = eager_client(s.port, ca, NULL);
    evcount e = {0};
    run_client(pc, &e, 1500);
    CHECK_INT(srv_get(&s, &s.accepts), 1);
    CHECK_INT(e.connecting, 1);
    CHECK_INT(e.reconnecting, 1);
    CHECK_INT(e.online, 0);
    CHECK(e.retry_ms >= PARLEY_CERT_RETRY_MS && e.retry_ms <= 2 * PARLEY_CERT_RETRY_MS);
    CHECK_INT(e.conn_tls, want);
    CHECK_INT(e.errors, 1);
    CHECK_INT(e.err_code, PARLEY_ERR_TLS);
    CHECK_INT(e.err_tls, want);
    if (!strstr(e.err_text, what))
        fprintf(stderr, "error text: %s\n", e.err_text);
    CHECK(strstr(e.err_text, what) != NULL);

    CHECK_INT(parley_reconnect_now(pc), PARLEY_OK);
    run_client(pc, &e, 800);
    CHECK_INT(srv_get(&s, &s.accepts), 2);
    CHECK_INT(e.connecting, 2);
    CHECK_INT(e.errors, 2);
    parley_client_free(pc);
    server_stop(&s);
}

static void test_client_cert_hold(void)
{
    expect_held(certs.cert, certs.other_ca, PARLEY_TLS_UNTRUSTED, "not signed by a trusted CA");
    expect_held(certs.wrong_name, certs.ca, PARLEY_TLS_HOSTNAME_MISMATCH,
                "not for host 'localhost'");
    expect_held(certs.expired, certs.ca, PARLEY_TLS_EXPIRED, "expired on 2021-01-01");
    expect_held(certs.future, certs.ca, PARLEY_TLS_NOT_YET_VALID, "not valid before 2045-01-01");
    CHECK_INT(parley_reconnect_now(NULL), PARLEY_ERR_INVALID_ARG);

    /* A handshake that never got to a certificate (no TLS there) keeps the
     * usual backoff. */
    server s;
    if (server_start(&s, 0) != 0) {
        CHECK(!"plain server failed to start");
        return;
    }
    parley_client *pc = eager_client(s.port, certs.ca, NULL);
    evcount e = {0};
    run_client(pc, &e, 1500);
    CHECK(srv_get(&s, &s.accepts) >= 3);
    CHECK(e.reconnecting >= 3);
    CHECK(e.retry_ms <= 100);
    CHECK_INT(e.conn_tls, 0);
    CHECK_INT(e.err_code, PARLEY_ERR_TLS);
    CHECK_INT(e.err_tls, 0);
    parley_client_free(pc);
    server_stop(&s);
}

static int hello_arrived(cstate *c, void *arg)
{
    (void)c;
    server *s = arg;
    pthread_mutex_lock(&s->mu);
    int got = s->received > 0 && strstr(s->last, "hello") != NULL;
    pthread_mutex_unlock(&s->mu);
    return got;
}

/* The client's hello reaches a server whose key is pinned, never one whose
 * key is not. */
static void test_client_pins(void)
{
    char leaf[45], backup[45];
    CHECK_INT(tc_pin_of_key(certs.key, leaf), 0);
    CHECK_INT(tc_pin_of_key(certs.rotated_key, backup), 0);
    const char *right[] = {leaf, backup, NULL};
    const char *wrong[] = {backup, "WlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlpaWlo=", NULL};
    server s, r;
    if (server_start(&s, 1) != 0 || server_start_cert(&r, certs.rotated, certs.rotated_key) != 0) {
        CHECK(!"tls servers failed to start");
        return;
    }
    parley_client *pc = eager_client(s.port, certs.ca, wrong);
    evcount e = {0};
    run_client(pc, &e, 1000);
    CHECK_INT(srv_get(&s, &s.accepts), 1);
    CHECK_INT(srv_get(&s, &s.upgrades), 0);
    CHECK_INT(srv_get(&s, &s.received), 0);
    CHECK_INT(e.err_tls, PARLEY_TLS_PIN_MISMATCH);
    CHECK(strstr(e.err_text, leaf) != NULL);
    CHECK(e.retry_ms >= PARLEY_CERT_RETRY_MS);
    parley_client_free(pc);

    server *both[] = {&s, &r};
    for (int i = 0; i < 2; i++) {
        pc = eager_client(both[i]->port, certs.ca, right);
        int64_t end = now_ms() + 5000;
        while (!hello_arrived(NULL, both[i]) && now_ms() < end)
            parley_service(pc, 20);
        CHECK(hello_arrived(NULL, both[i]));
        parley_client_free(pc);
    }
    server_stop(&s);
    server_stop(&r);
}

static void test_plain_live(void)
{
    server s;
    if (server_start(&s, 0) != 0) {
        CHECK(!"plain server failed to start");
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "ws://localhost:%d", s.port);
    cstate c;
    pl_transport_config cfg = config(url, NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 1);
    exchange(&c, &s);
    pl_transport_free(c.t);
    c_clear(&c);

    /* TLS to a plain server fails the handshake. */
    snprintf(url, sizeof url, "wss://localhost:%d/", s.port);
    cfg = config(url, certs.ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 8000));
    CHECK_INT(c.opened, 0);
    CHECK_INT(c.closed_err, PARLEY_ERR_TLS);
    CHECK(strstr(c.closed_why, "TLS ") != NULL);
    pl_transport_free(c.t);
    c_clear(&c);
    server_stop(&s);
}

static void test_refused(void)
{
    char url[128];
    snprintf(url, sizeof url, "ws://localhost:%d/", closed_port());
    cstate c;
    pl_transport_config cfg = config(url, NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    /* Never reported from inside pl_transport_connect. */
    CHECK_INT(c.closed, 0);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.closed, 1);
    CHECK_INT(c.closed_err, PARLEY_ERR_CONNECT);
    CHECK_INT(c.opened, 0);

    /* Again after the failure, then the same over wss. */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.closed, 1 + 1);
    pl_transport_free(c.t);
    c_clear(&c);

    snprintf(url, sizeof url, "wss://localhost:%d/", closed_port());
    cfg = config(url, certs.ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.closed_err, PARLEY_ERR_CONNECT);
    pl_transport_free(c.t);
    c_clear(&c);
}

/* Everything the transport allocates goes through the hooks and comes back;
 * a failed allocation is a clean error, or a dropped frame once connected. */
static void test_allocator(void)
{
    server s;
    if (server_start(&s, 1) != 0) {
        CHECK(!"tls server failed to start");
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", s.port);
    pl_transport_config cfg = config(url, certs.ca);
    counting k;
    pl_alloc a = {k_malloc, k_realloc, k_free, &k};
    cstate c;
    memset(&c, 0, sizeof c);
    for (long n = 1; n < 100; n++) {
        memset(&k, 0, sizeof k);
        k.fail_at = n;
        pl_transport *t = NULL;
        int rc = pl_transport_new(&a, &cfg, &cbs, &c, NULL, &t);
        CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
        CHECK((rc == PARLEY_OK) == (t != NULL));
        pl_transport_free(t);
        CHECK_INT(k.live, 0);
        if (rc == PARLEY_OK && k.total < n)
            break; /* every allocation has been failed once */
    }

    memset(&k, 0, sizeof k);
    CHECK_INT(pl_transport_new(&a, &cfg, &cbs, &c, NULL, &c.t), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    c_send_str(&c, "echo:one");
    int want = 1;
    CHECK(pump_until(&c, frames_at_least, &want, 5000));
    /* The receive buffer cannot grow: the message is dropped and reported. */
    k.fail_all = 1;
    c_send_str(&c, "big:30000");
    want = 1;
    CHECK(pump_until(&c, errors_at_least, &want, 5000));
    CHECK_INT(c.last_err, PARLEY_ERR_NOMEM);
    k.fail_all = 0;
    c_send_str(&c, "big:30000");
    want = 2;
    CHECK(pump_until(&c, frames_at_least, &want, 5000));
    CHECK_INT(c.last_len, 30000);
    CHECK_INT(c.closed, 0);
    /* The send buffer cannot grow: the connection is dropped and reported
     * (the frame stays with the caller, who resends it on the next one). */
    k.fail_all = 1;
    char *big = pattern(5000);
    c_send(&c, big, 5000);
    free(big);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.closed_err, PARLEY_ERR_CLOSED);
    CHECK_STR(c.closed_why, "out of memory sending a frame");
    k.fail_all = 0;
    CHECK(k.live > 0);
    pl_transport_free(c.t);
    CHECK_INT(k.live, 0);
    CHECK(k.total > 0);
    c_clear(&c);
    server_stop(&s);
}

/* Closing or freeing in every state reports nothing and leaks nothing. */
static void test_close_states(void)
{
    server s;
    if (server_start(&s, 1) != 0) {
        CHECK(!"tls server failed to start");
        return;
    }
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", s.port);
    cstate c;
    pl_transport_config cfg = config(url, certs.ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);

    /* pending: closed before the attempt started */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    pl_transport_close(c.t);
    pump_ms(&c, 100);
    CHECK_INT(c.opened + c.closed, 0);

    /* connecting: the socket exists, the handshake has not finished */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    pl_transport_service(c.t, 0);
    pl_transport_close(c.t);
    pump_ms(&c, 200);
    CHECK_INT(c.opened + c.closed, 0);

    /* closed then reconnected at once: only the new connection reports */
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    pl_transport_close(c.t);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 2);
    c_send_str(&c, "echo:fresh");
    int want = 1;
    CHECK(pump_until(&c, frames_at_least, &want, 5000));
    CHECK_STR(c.last, "fresh");
    CHECK_INT(c.closed, 0);

    /* free while connecting */
    pl_transport_close(c.t);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    pl_transport_service(c.t, 0);
    pl_transport_free(c.t);
    CHECK_INT(c.closed, 0);
    c_clear(&c);

    /* free while pending */
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    pl_transport_free(c.t);
    CHECK_INT(c.closed, 0);
    c_clear(&c);
    server_stop(&s);
}

/* ---- a raw WebSocket server for what lws will not send ---------------- */

typedef struct raw_server {
    int lfd, port;
    pthread_t thread;
    atomic_int stop;
    const unsigned char *script; /* sent right after the handshake */
    size_t script_len;
    atomic_int first_opcode; /* of the first frame the client sent, -1 none */
} raw_server;

static int ws_accept(const char *req, char *out, size_t cap)
{
    const char *k = strstr(req, "Sec-WebSocket-Key:");
    if (!k)
        return -1;
    k += 18;
    while (*k == ' ')
        k++;
    char buf[128];
    size_t n = strcspn(k, "\r\n");
    if (n > 60)
        return -1;
    snprintf(buf, sizeof buf, "%.*s258EAFA5-E914-47DA-95CA-C5AB0DC85B11", (int)n, k);
    unsigned char sha[20];
    mbedtls_sha1_ret((const unsigned char *)buf, strlen(buf), sha);
    size_t olen;
    return mbedtls_base64_encode((unsigned char *)out, cap, &olen, sha, sizeof sha);
}

static void *raw_thread(void *arg)
{
    raw_server *r = arg;
    int fd = accept(r->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    char req[4096] = "";
    size_t len = 0;
    while (len < sizeof req - 1 && !strstr(req, "\r\n\r\n")) {
        ssize_t n = recv(fd, req + len, sizeof req - 1 - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
        req[len] = '\0';
    }
    char acc[64], resp[512];
    if (ws_accept(req, acc, sizeof acc) == 0) {
        int n = snprintf(resp, sizeof resp,
                         "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                         "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                         "Sec-WebSocket-Protocol: parley.v1\r\n\r\n",
                         acc);
        send(fd, resp, (size_t)n, MSG_NOSIGNAL);
        if (r->script_len)
            send(fd, r->script, r->script_len, MSG_NOSIGNAL);
        /* Read what the client sends, never answer it (no pongs). */
        while (!atomic_load(&r->stop)) {
            struct pollfd p = {fd, POLLIN, 0};
            if (poll(&p, 1, 20) <= 0)
                continue;
            unsigned char b[512];
            ssize_t n2 = recv(fd, b, sizeof b, 0);
            if (n2 <= 0)
                break;
            int none = -1;
            atomic_compare_exchange_strong(&r->first_opcode, &none, b[0] & 0x0f);
            /* Like a real peer, hang up on a close frame: otherwise the
             * client waits for its close-ack timeout, which a loaded machine
             * stretches past the test's deadline. */
            if ((b[0] & 0x0f) == 0x8)
                break;
        }
    }
    close(fd);
    return NULL;
}

static int raw_start(raw_server *r, const unsigned char *script, size_t script_len)
{
    memset(r, 0, sizeof *r);
    atomic_store(&r->first_opcode, -1);
    r->script = script;
    r->script_len = script_len;
    r->lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t al = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(r->lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(r->lfd, 1) != 0 ||
        getsockname(r->lfd, (struct sockaddr *)&a, &al) != 0)
        return -1;
    r->port = ntohs(a.sin_port);
    return pthread_create(&r->thread, NULL, raw_thread, r);
}

static void raw_stop(raw_server *r)
{
    atomic_store(&r->stop, 1);
    shutdown(r->lfd, SHUT_RDWR);
    pthread_join(r->thread, NULL);
    close(r->lfd);
}

/* ---- the curves a client offers -------------------------------------------- */

typedef struct hello_server {
    int lfd, port;
    pthread_t thread;
    uint16_t groups[64]; /* the ClientHello's supported_groups, in order */
    int n_groups;        /* -1: no ClientHello read */
} hello_server;

static unsigned be16(const unsigned char *p)
{
    return (unsigned)p[0] << 8 | p[1];
}

/* The supported_groups extension (10) of a ClientHello record. */
static void read_groups(hello_server *h, const unsigned char *b, size_t len)
{
    if (len < 5 + 4 + 2 + 32 + 1 || b[0] != 22 || b[5] != 1)
        return;
    size_t i = 5 + 4 + 2 + 32;
    i += 1 + b[i];        /* session id */
    i += 2 + be16(b + i); /* cipher suites */
    i += 1 + b[i];        /* compression methods */
    size_t end = i + 2 + be16(b + i);
    for (i += 2; i + 4 <= end && end <= len; i += 4 + be16(b + i + 2)) {
        if (be16(b + i) != 10)
            continue;
        size_t n = be16(b + i + 4) / 2;
        h->n_groups = 0;
        for (size_t k = 0; k < n && k < 64; k++)
            h->groups[h->n_groups++] = (uint16_t)be16(b + i + 6 + 2 * k);
    }
}

static void *hello_thread(void *arg)
{
    hello_server *h = arg;
    int fd = accept(h->lfd, NULL, NULL);
    if (fd < 0)
        return NULL;
    unsigned char b[16384];
    size_t len = 0;
    while (len < sizeof b && (len < 5 || len < 5 + be16(b + 3))) {
        ssize_t n = recv(fd, b + len, sizeof b - len, 0);
        if (n <= 0)
            break;
        len += (size_t)n;
    }
    read_groups(h, b, len);
    close(fd);
    return NULL;
}

static int group_at(const hello_server *h, uint16_t g)
{
    for (int i = 0; i < h->n_groups; i++)
        if (h->groups[i] == g)
            return i;
    return -1;
}

/* mbedTLS 2.28 lists its curves from the largest down, and a server that
 * follows the client's order then does the key exchange on P-521 (2.5x the
 * work of x25519 or P-256, in one handshake step). Our lws build offers
 * x25519, then P-256, P-384, and still every curve mbedTLS has (a server
 * certificate on any of them stays acceptable). */
static void test_client_curves(void)
{
    enum { X25519 = 29, P256 = 23, P384 = 24, P521 = 25 };
    hello_server h = {.n_groups = -1};
    h.lfd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {0};
    socklen_t al = sizeof a;
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    REQUIRE(bind(h.lfd, (struct sockaddr *)&a, sizeof a) == 0 && listen(h.lfd, 1) == 0 &&
            getsockname(h.lfd, (struct sockaddr *)&a, &al) == 0);
    REQUIRE_INT(pthread_create(&h.thread, NULL, hello_thread, &h), 0);
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d/", ntohs(a.sin_port));
    cstate c;
    pl_transport_config cfg = config(url, certs.ca);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 8000));
    pthread_join(h.thread, NULL);
    close(h.lfd);
    pl_transport_free(c.t);
    c_clear(&c);
    CHECK(h.n_groups > 0);
    CHECK_INT(group_at(&h, X25519), 0);
    CHECK_INT(group_at(&h, P256), 1);
    CHECK_INT(group_at(&h, P384), 2);
    CHECK(group_at(&h, P521) > 2);
}

static void test_keepalive_hangup(void)
{
    raw_server r;
    CHECK_INT(raw_start(&r, NULL, 0), 0);
    char url[128];
    snprintf(url, sizeof url, "ws://localhost:%d/", r.port);
    cstate c;
    pl_transport_config cfg = config(url, NULL);
    cfg.ping_interval_s = 1;
    cfg.hangup_s = 2;
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_open(&c));
    CHECK_INT(c.opened, 1);
    int64_t t0 = now_ms();
    CHECK(wait_closed(&c, 6000));
    int64_t took = now_ms() - t0;
    CHECK_INT(c.closed_err, PARLEY_ERR_CLOSED);
    CHECK(took >= 1500 && took < 4500);
    CHECK_INT(atomic_load(&r.first_opcode), 0x9); /* a ping went out first */
    pl_transport_free(c.t);
    c_clear(&c);
    raw_stop(&r);
}

static void test_bad_utf8(void)
{
    /* A valid text frame, then one with invalid UTF-8: lws must drop the
     * connection rather than deliver it. */
    static const unsigned char script[] = {0x81, 0x02, 'o', 'k', 0x81, 0x03, 'a', 0xff, 0xfe};
    raw_server r;
    CHECK_INT(raw_start(&r, script, sizeof script), 0);
    char url[128];
    snprintf(url, sizeof url, "ws://localhost:%d/", r.port);
    cstate c;
    pl_transport_config cfg = config(url, NULL);
    CHECK_INT(make_client(&c, &cfg), PARLEY_OK);
    CHECK_INT(pl_transport_connect(c.t), PARLEY_OK);
    CHECK(wait_closed(&c, 5000));
    CHECK_INT(c.opened, 1);
    CHECK_INT(c.frames, 1);
    CHECK_STR(c.last, "ok");
    CHECK_INT(c.closed_err, PARLEY_ERR_CLOSED);
    pl_transport_free(c.t);
    c_clear(&c);
    raw_stop(&r);
}

int main(void)
{
    lws_set_log_level(LLL_ERR, NULL);
    if (tc_make(&certs) != 0)
        tl_skip_all("could not create test certificates");
    RUN(test_url);
    RUN(test_new_errors);
    RUN(test_bounded_wait);
    RUN(test_resolver_off_thread);
    RUN(test_ca_sources);
    RUN(test_timer);
    RUN(test_wake_from_thread);
    RUN(test_refused);
    RUN(test_tls_live);
    RUN(test_tls_failures);
    RUN(test_pins);
    RUN(test_client_cert_hold);
    RUN(test_client_pins);
    RUN(test_plain_live);
    RUN(test_close_states);
    RUN(test_allocator);
    RUN(test_keepalive_hangup);
    RUN(test_client_curves);
    RUN(test_bad_utf8);
    tc_remove(&certs);
    return tl_finish();
}
