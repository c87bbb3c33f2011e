/* memmem */
#define _GNU_SOURCE
#include "loadgen.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/error.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#define RX_CAP 8192
#define TX_CAP 2048
#define EVENTS 256

enum { S_FREE, S_CONNECT, S_HANDSHAKE, S_UPGRADE, S_HELLO, S_OPEN };

typedef struct conn {
    int fd, state, ssl_ready;
    mbedtls_ssl_context ssl;
    unsigned char *rx; /* allocated while setting up or sending; idle connections hold none */
    size_t rx_len;
    unsigned char tx[TX_CAP];
    size_t tx_len;
    long serial;
    /* lg_messages */
    int started;
    long inflight, sent, acked;
} conn;

struct lg {
    lg_cfg cfg;
    int ep;
    conn *conns;
    int open, pending; /* welcomed; being set up */
    long serial;
    int tls;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
    lg_msg_stats *stats; /* during lg_messages */
    double run_t0;
};

static double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* ---- setup ----------------------------------------------------------------- */

static int tls_init(lg *g)
{
    int rc;
    mbedtls_entropy_init(&g->entropy);
    mbedtls_ctr_drbg_init(&g->drbg);
    mbedtls_x509_crt_init(&g->ca);
    mbedtls_ssl_config_init(&g->conf);
    if ((rc = mbedtls_ctr_drbg_seed(&g->drbg, mbedtls_entropy_func, &g->entropy, NULL, 0)) ||
        (rc = mbedtls_x509_crt_parse_file(&g->ca, g->cfg.ca_file)) ||
        (rc = mbedtls_ssl_config_defaults(&g->conf, MBEDTLS_SSL_IS_CLIENT,
                                          MBEDTLS_SSL_TRANSPORT_STREAM,
                                          MBEDTLS_SSL_PRESET_DEFAULT))) {
        char why[128];
        mbedtls_strerror(rc, why, sizeof why);
        fprintf(stderr, "loadgen: TLS setup (%s): %s\n", g->cfg.ca_file, why);
        return -1;
    }
    mbedtls_ssl_conf_authmode(&g->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&g->conf, &g->ca, NULL);
    mbedtls_ssl_conf_rng(&g->conf, mbedtls_ctr_drbg_random, &g->drbg);
    return 0;
}

lg *lg_new(const lg_cfg *cfg)
{
    lg *g = calloc(1, sizeof *g);
    if (!g)
        return NULL;
    g->cfg = *cfg;
    g->tls = cfg->ca_file != NULL;
    g->conns = calloc((size_t)cfg->max_conns, sizeof *g->conns);
    g->ep = epoll_create1(EPOLL_CLOEXEC);
    if (!g->conns || g->ep < 0 || (g->tls && tls_init(g))) {
        lg_free(g);
        return NULL;
    }
    return g;
}

static void conn_close(lg *g, conn *c)
{
    struct linger hard = {1, 0};
    if (c->state == S_FREE)
        return;
    if (c->state == S_OPEN)
        g->open--;
    else
        g->pending--;
    setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &hard, sizeof hard);
    close(c->fd);
    if (c->ssl_ready)
        mbedtls_ssl_free(&c->ssl);
    free(c->rx);
    memset(c, 0, sizeof *c);
}

void lg_close_all(lg *g)
{
    for (int i = 0; i < g->cfg.max_conns; i++)
        conn_close(g, &g->conns[i]);
}

void lg_free(lg *g)
{
    if (!g)
        return;
    if (g->conns)
        lg_close_all(g);
    free(g->conns);
    if (g->ep >= 0)
        close(g->ep);
    if (g->tls) {
        mbedtls_ssl_config_free(&g->conf);
        mbedtls_x509_crt_free(&g->ca);
        mbedtls_ctr_drbg_free(&g->drbg);
        mbedtls_entropy_free(&g->entropy);
    }
    free(g);
}

int lg_count(const lg *g)
{
    return g->open;
}

/* ---- bytes ------------------------------------------------------------------- */

static int watch(lg *g, conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    return epoll_ctl(g->ep, EPOLL_CTL_MOD, c->fd, &ev);
}

/* Writes what is pending; 0 (all written, or waiting for EPOLLOUT), -1. */
static int flush(lg *g, conn *c)
{
    while (c->tx_len) {
        int n = g->tls ? mbedtls_ssl_write(&c->ssl, c->tx, c->tx_len)
                       : (int)write(c->fd, c->tx, c->tx_len);
        if (n > 0) {
            memmove(c->tx, c->tx + n, c->tx_len - (size_t)n);
            c->tx_len -= (size_t)n;
            continue;
        }
        if ((g->tls && (n == MBEDTLS_ERR_SSL_WANT_WRITE || n == MBEDTLS_ERR_SSL_WANT_READ)) ||
            (!g->tls && n < 0 && errno == EAGAIN))
            return watch(g, c, EPOLLIN | EPOLLOUT);
        return -1;
    }
    return watch(g, c, EPOLLIN);
}

/* Queues bytes as they are (the upgrade request). */
static int put_raw(conn *c, const void *p, size_t n)
{
    if (n > TX_CAP - c->tx_len)
        return -1;
    memcpy(c->tx + c->tx_len, p, n);
    c->tx_len += n;
    return 0;
}

/* Queues one masked WebSocket frame (client to server) of opcode `op`. */
static int put_frame(conn *c, int op, const void *payload, size_t n)
{
    static const unsigned char mask[4] = {0x5a, 0x17, 0xc3, 0x81};
    size_t head = n < 126 ? 6 : 8;
    if (n > 65535 || head + n > TX_CAP - c->tx_len)
        return -1;
    unsigned char *p = c->tx + c->tx_len;
    p[0] = (unsigned char)(0x80 | op);
    if (n < 126) {
        p[1] = (unsigned char)(0x80 | n);
    } else {
        p[1] = 0x80 | 126;
        p[2] = (unsigned char)(n >> 8);
        p[3] = (unsigned char)n;
    }
    memcpy(p + head - 4, mask, 4);
    for (size_t i = 0; i < n; i++)
        p[head + i] = ((const unsigned char *)payload)[i] ^ mask[i % 4];
    c->tx_len += head + n;
    return 0;
}

static int put_text(conn *c, const char *text)
{
    return put_frame(c, 1, text, strlen(text));
}

/* Reads what is there into c->rx; 1 read something, 0 nothing, -1 closed. */
static int fill(lg *g, conn *c)
{
    int got = 0;
    if (!c->rx && !(c->rx = malloc(RX_CAP)))
        return -1;
    while (c->rx_len < RX_CAP) {
        int n = g->tls ? mbedtls_ssl_read(&c->ssl, c->rx + c->rx_len, RX_CAP - c->rx_len)
                       : (int)read(c->fd, c->rx + c->rx_len, RX_CAP - c->rx_len);
        if (n > 0) {
            c->rx_len += (size_t)n;
            got = 1;
            continue;
        }
        if ((g->tls && (n == MBEDTLS_ERR_SSL_WANT_READ || n == MBEDTLS_ERR_SSL_WANT_WRITE)) ||
            (!g->tls && n < 0 && errno == EAGAIN))
            return got;
        return -1;
    }
    return got;
}

/* ---- frames ------------------------------------------------------------------ */

static void on_text(lg *g, conn *c, const char *t, size_t n)
{
    if (c->state == S_HELLO && memmem(t, n, "\"t\":\"welcome\"", 13)) {
        c->state = S_OPEN;
        g->pending--;
        g->open++;
        return;
    }
    if (!g->stats)
        return;
    if (memmem(t, n, "\"t\":\"msg.ack\"", 13)) {
        double at = now_ms() - g->run_t0;
        c->acked++;
        c->inflight--;
        if (!g->stats->acked++)
            g->stats->first_ack_ms = at;
        g->stats->last_ack_ms = at;
    } else if (memmem(t, n, "\"t\":\"conv.ack\"", 14)) {
        c->started = 2;
    } else if (memmem(t, n, "\"t\":\"error\"", 11)) {
        g->stats->errors++;
    }
}

/* Takes the complete frames out of c->rx: text to on_text, a ping answered,
 * a close ends the connection. 0, or -1 to close. */
static int frames(lg *g, conn *c)
{
    size_t off = 0;
    while (c->rx_len - off >= 2) {
        unsigned char *p = c->rx + off;
        size_t head = 2, n = p[1] & 0x7f;
        if (n == 126) {
            if (c->rx_len - off < 4)
                break;
            n = (size_t)p[2] << 8 | p[3];
            head = 4;
        } else if (n == 127) {
            return -1; /* never sent by parley-server */
        }
        if (c->rx_len - off < head + n)
            break;
        int op = p[0] & 0x0f;
        if (op == 8)
            return -1;
        if (op == 9 && put_frame(c, 10, p + head, n))
            return -1;
        if (op == 1)
            on_text(g, c, (const char *)p + head, n);
        off += head + n;
    }
    memmove(c->rx, c->rx + off, c->rx_len - off);
    c->rx_len -= off;
    if (c->state == S_OPEN && !c->rx_len && !g->stats) {
        free(c->rx); /* an idle connection keeps no buffer */
        c->rx = NULL;
    }
    return 0;
}

/* ---- the steps of a connection ---------------------------------------------- */

static void hello_text(lg *g, conn *c, char *out, size_t cap)
{
    snprintf(out, cap,
             "{\"t\":\"hello\",\"v\":1,\"app\":\"%s\",\"sdk\":{\"name\":\"loadgen\","
             "\"version\":\"1\",\"platform\":\"linux\"},\"user\":{\"anon\":"
             "\"a-%08lx-0000-4000-8000-%012lx\"}}",
             g->cfg.app, (unsigned long)getpid() & 0xffffffffUL, (unsigned long)c->serial);
}

static int send_upgrade(lg *g, conn *c)
{
    char req[512];
    int n = snprintf(req, sizeof req,
                     "GET / HTTP/1.1\r\nHost: localhost:%d\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                     "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: parley.v1\r\n\r\n",
                     g->cfg.port);
    c->state = S_UPGRADE;
    return put_raw(c, req, (size_t)n) || flush(g, c);
}

static int on_upgrade(lg *g, conn *c)
{
    char hello[512];
    unsigned char *end = memmem(c->rx, c->rx_len, "\r\n\r\n", 4);
    if (!end)
        return c->rx_len == RX_CAP ? -1 : 0;
    if (c->rx_len < 12 || memcmp(c->rx, "HTTP/1.1 101", 12) != 0)
        return -1;
    size_t used = (size_t)(end + 4 - c->rx);
    memmove(c->rx, end + 4, c->rx_len - used);
    c->rx_len -= used;
    c->state = S_HELLO;
    hello_text(g, c, hello, sizeof hello);
    return put_text(c, hello) || flush(g, c);
}

static int step_handshake(lg *g, conn *c)
{
    int rc = mbedtls_ssl_handshake(&c->ssl);
    if (rc == 0)
        return send_upgrade(g, c);
    if (rc == MBEDTLS_ERR_SSL_WANT_READ)
        return watch(g, c, EPOLLIN);
    if (rc == MBEDTLS_ERR_SSL_WANT_WRITE)
        return watch(g, c, EPOLLIN | EPOLLOUT);
    return -1;
}

static int step_connected(lg *g, conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) || err)
        return -1;
    if (!g->tls)
        return send_upgrade(g, c);
    if (mbedtls_ssl_setup(&c->ssl, &g->conf) || mbedtls_ssl_set_hostname(&c->ssl, "localhost"))
        return -1;
    mbedtls_ssl_set_bio(&c->ssl, &c->fd, mbedtls_net_send, mbedtls_net_recv, NULL);
    c->state = S_HANDSHAKE;
    return step_handshake(g, c);
}

/* One readiness event of `c`; 0, or -1 to close it. */
static int on_event(lg *g, conn *c, uint32_t events)
{
    if (c->state == S_CONNECT)
        return step_connected(g, c);
    if (c->state == S_HANDSHAKE)
        return step_handshake(g, c);
    if ((events & EPOLLOUT) && flush(g, c))
        return -1;
    if (!(events & (EPOLLIN | EPOLLHUP | EPOLLERR)))
        return 0;
    if (fill(g, c) < 0)
        return -1;
    if (c->state == S_UPGRADE && on_upgrade(g, c))
        return -1;
    if (c->state >= S_HELLO && frames(g, c))
        return -1;
    return c->tx_len ? flush(g, c) : 0;
}

static int start_one(lg *g, conn *c)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)g->cfg.port)};
    struct epoll_event ev = {.events = EPOLLOUT, .data.ptr = c};
    int one = 1;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    memset(c, 0, sizeof *c);
    c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        return -1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->serial = ++g->serial;
    c->state = S_CONNECT;
    c->ssl_ready = g->tls;
    if (g->tls)
        mbedtls_ssl_init(&c->ssl);
    g->pending++;
    if ((connect(c->fd, (struct sockaddr *)&sa, sizeof sa) && errno != EINPROGRESS) ||
        epoll_ctl(g->ep, EPOLL_CTL_ADD, c->fd, &ev)) {
        conn_close(g, c);
        return -1;
    }
    return 0;
}

/* ---- the loop ---------------------------------------------------------------- */

static void poll_once(lg *g, int timeout_ms)
{
    struct epoll_event evs[EVENTS];
    int n = epoll_wait(g->ep, evs, EVENTS, timeout_ms);
    for (int i = 0; i < n; i++) {
        conn *c = evs[i].data.ptr;
        if (on_event(g, c, evs[i].events))
            conn_close(g, c);
    }
}

static conn *free_slot(lg *g, int *cursor)
{
    for (; *cursor < g->cfg.max_conns; (*cursor)++)
        if (g->conns[*cursor].state == S_FREE)
            return &g->conns[(*cursor)++];
    return NULL;
}

int lg_open(lg *g, int n, int inflight, int timeout_ms)
{
    int before = g->open, started = 0, cursor = 0;
    double deadline = now_ms() + timeout_ms;
    while (now_ms() < deadline) {
        while (started < n && g->pending < inflight) {
            conn *c = free_slot(g, &cursor);
            if (!c)
                break;
            start_one(g, c);
            started++;
        }
        if (started >= n && !g->pending)
            break;
        poll_once(g, 50);
    }
    for (int i = 0; i < g->cfg.max_conns; i++)
        if (g->conns[i].state != S_FREE && g->conns[i].state != S_OPEN)
            conn_close(g, &g->conns[i]);
    return g->open - before;
}

void lg_idle(lg *g, int ms)
{
    double end = now_ms() + ms;
    double left;
    while ((left = end - now_ms()) > 0)
        poll_once(g, (int)left + 1);
}

/* Keeps the connection's window of unacknowledged messages full. */
static void pump(lg *g, conn *c, int window)
{
    char frame[256];
    if (c->started == 0) {
        snprintf(frame, sizeof frame,
                 "{\"t\":\"conv.start\",\"cid\":\"00000000-0000-4000-8000-%012lx\","
                 "\"conv\":\"c-00000000-0000-4000-8000-%012lx\",\"subject\":\"load\"}",
                 (unsigned long)c->serial, (unsigned long)c->serial);
        c->started = 1;
        put_text(c, frame);
    }
    while (c->started == 2 && c->inflight < window && c->tx_len < TX_CAP - 300) {
        snprintf(frame, sizeof frame,
                 "{\"t\":\"msg.send\",\"cid\":\"%08lx-0000-4000-8000-%012lx\","
                 "\"conv\":\"c-00000000-0000-4000-8000-%012lx\",\"text\":\"load %ld\"}",
                 (unsigned long)c->sent, (unsigned long)c->serial, (unsigned long)c->serial,
                 c->sent);
        if (put_text(c, frame))
            break;
        c->sent++;
        c->inflight++;
        g->stats->sent++;
    }
}

int lg_messages(lg *g, int m, int window, int ms, lg_msg_stats *st)
{
    conn *use[4096];
    int k = 0;
    memset(st, 0, sizeof *st);
    for (int i = 0; i < g->cfg.max_conns && k < m && k < 4096; i++)
        if (g->conns[i].state == S_OPEN)
            use[k++] = &g->conns[i];
    g->stats = st;
    g->run_t0 = now_ms();
    while (now_ms() - g->run_t0 < ms) {
        for (int i = 0; i < k; i++) {
            pump(g, use[i], window);
            if (use[i]->tx_len && flush(g, use[i]))
                conn_close(g, use[i]);
        }
        poll_once(g, 5);
    }
    double end = now_ms() + 10000;
    while (st->acked < st->sent && now_ms() < end)
        poll_once(g, 50);
    g->stats = NULL;
    return k;
}
