#include "wsc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "harness.h"

/* wss:// (wsc_open_tls): mbedTLS over the connection's socket, blocking
 * with a timeout on each read and write. */
struct wsc_tls {
    mbedtls_ssl_context ssl;
    mbedtls_ssl_config conf;
    mbedtls_x509_crt ca;
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
};

static int send_all(int fd, const void *buf, size_t len)
{
    const char *p = buf;
    while (len) {
        ssize_t w = send(fd, p, len, MSG_NOSIGNAL);
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Everything through TLS when the connection has it: mbedtls_ssl_write
 * takes at most one record (16 KB of plaintext) per call. */
static int io_send(wsc *c, const void *buf, size_t len)
{
    const unsigned char *p = buf;
    if (!c->tls)
        return send_all(c->fd, buf, len);
    while (len) {
        int w = mbedtls_ssl_write(&c->tls->ssl, p, len);
        if (w == MBEDTLS_ERR_SSL_WANT_READ || w == MBEDTLS_ERR_SSL_WANT_WRITE)
            continue;
        if (w <= 0)
            return -1;
        p += w;
        len -= (size_t)w;
    }
    return 0;
}

/* Up to `cap` bytes: > 0, 0 when nothing came yet, -1 when closed. */
static int io_recv(wsc *c, unsigned char *buf, size_t cap)
{
    if (!c->tls) {
        ssize_t r = recv(c->fd, buf, cap, 0);
        return r > 0 ? (int)r : -1;
    }
    int r = mbedtls_ssl_read(&c->tls->ssl, buf, cap);
    if (r == MBEDTLS_ERR_SSL_WANT_READ || r == MBEDTLS_ERR_SSL_WANT_WRITE)
        return 0;
    return r > 0 ? r : -1;
}

static int send_op(wsc *c, int opcode, const void *data, size_t len)
{
    static const unsigned char mask[4] = {0x5a, 0x17, 0xc3, 0x81};
    unsigned char *f = malloc(len + 14);
    size_t h = 0;
    if (!f)
        return -1;
    f[h++] = (unsigned char)(0x80 | opcode);
    if (len < 126) {
        f[h++] = (unsigned char)(0x80 | len);
    } else if (len < 65536) {
        f[h++] = 0x80 | 126;
        f[h++] = (unsigned char)(len >> 8);
        f[h++] = (unsigned char)len;
    } else {
        f[h++] = 0x80 | 127;
        for (int i = 7; i >= 0; i--)
            f[h++] = (unsigned char)((uint64_t)len >> (8 * i));
    }
    memcpy(f + h, mask, 4);
    h += 4;
    for (size_t i = 0; i < len; i++)
        f[h + i] = ((const unsigned char *)data)[i] ^ mask[i % 4];
    int rc = io_send(c, f, h + len);
    free(f);
    return rc;
}

int wsc_send(wsc *c, const char *text)
{
    return send_op(c, 1, text, strlen(text));
}

int wsc_sendf(wsc *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *text = h_vjson(fmt, ap);
    va_end(ap);
    return wsc_send(c, text);
}

static void record(wsc *c, const char *text, size_t len)
{
    cJSON *f = cJSON_ParseWithLength(text, len);
    if (!f)
        return;
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        cJSON **frames = realloc(c->frames, cap * sizeof *frames);
        if (frames)
            c->frames = frames;
        unsigned char *used = realloc(c->used, cap);
        if (used)
            c->used = used;
        if (!frames || !used) {
            cJSON_Delete(f);
            return;
        }
        c->cap = cap;
    }
    c->used[c->n] = 0;
    c->frames[c->n++] = f;
}

static void on_message(wsc *c, int opcode, int fin, const unsigned char *p, size_t len)
{
    if (opcode == 9) {
        send_op(c, 10, p, len);
        return;
    }
    if (opcode == 8) {
        c->closed = 1;
        c->close_code = len >= 2 ? p[0] << 8 | p[1] : 0;
        return;
    }
    if (opcode != 0 && opcode != 1)
        return;
    char *grown = realloc(c->msg, c->msg_len + len + 1);
    if (!grown)
        return;
    c->msg = grown;
    memcpy(c->msg + c->msg_len, p, len);
    c->msg_len += len;
    if (!fin)
        return;
    record(c, c->msg, c->msg_len);
    c->msg_len = 0;
}

/* Handles every complete frame in the input buffer. */
static void parse(wsc *c)
{
    for (;;) {
        unsigned char *b = c->in;
        size_t avail = c->in_len, h = 2, len;
        if (avail < 2)
            return;
        len = b[1] & 0x7f;
        if (len == 126) {
            if (avail < 4)
                return;
            len = (size_t)b[2] << 8 | b[3];
            h = 4;
        } else if (len == 127) {
            if (avail < 10)
                return;
            len = 0;
            for (int i = 0; i < 8; i++)
                len = len << 8 | b[2 + i];
            h = 10;
        }
        if (avail < h + len)
            return;
        on_message(c, b[0] & 0x0f, b[0] & 0x80, b + h, len);
        memmove(c->in, c->in + h + len, avail - h - len);
        c->in_len -= h + len;
    }
}

static int read_some(wsc *c, int ms)
{
    struct pollfd p = {.fd = c->fd, .events = POLLIN};
    if (c->closed)
        return -1;
    if (!(c->tls && mbedtls_ssl_get_bytes_avail(&c->tls->ssl)) && poll(&p, 1, ms) <= 0)
        return 0;
    if (c->in_cap - c->in_len < 65536) {
        size_t cap = c->in_cap * 2 + 65536;
        unsigned char *grown = realloc(c->in, cap);
        if (!grown)
            return -1;
        c->in = grown;
        c->in_cap = cap;
    }
    int r = io_recv(c, c->in + c->in_len, c->in_cap - c->in_len);
    if (r < 0) {
        c->closed = 1;
        return -1;
    }
    c->in_len += (size_t)r;
    return r > 0;
}

void wsc_pump(wsc *c, int ms)
{
    int64_t deadline = h_now_ms() + ms, left;
    while ((left = deadline - h_now_ms()) > 0) {
        if (read_some(c, left < 50 ? (int)left : 50) < 0)
            return;
        parse(c);
    }
}

/* Reads the HTTP answer to the upgrade; what follows it stays buffered. */
/* `header`: one more header line ("Name: value"), or NULL. */
static int handshake(wsc *c, int port, const char *protocol, const char *header, int timeout_ms)
{
    char req[768];
    snprintf(req, sizeof req,
             "GET / HTTP/1.1\r\nHost: 127.0.0.1:%d\r\nUpgrade: websocket\r\n"
             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
             "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: %s\r\n%s%s\r\n",
             port, protocol, header ? header : "", header ? "\r\n" : "");
    if (io_send(c, req, strlen(req)))
        return -1;
    int64_t deadline = h_now_ms() + timeout_ms;
    while (h_now_ms() < deadline) {
        if (read_some(c, 50) < 0)
            return -1;
        unsigned char *end = NULL;
        for (size_t i = 0; i + 4 <= c->in_len && !end; i++) {
            if (memcmp(c->in + i, "\r\n\r\n", 4) == 0)
                end = c->in + i + 4;
        }
        if (!end)
            continue;
        if (c->in_len < 12 || memcmp(c->in, "HTTP/1.1 101", 12) != 0)
            return -1;
        size_t hl = (size_t)(end - c->in);
        memmove(c->in, end, c->in_len - hl);
        c->in_len -= hl;
        parse(c);
        return 0;
    }
    return -1;
}

/* The last frames received, as the server wrote them (after a failure). */
static void print_frames(const void *what, const char *label)
{
    const wsc *c = what;
    size_t first = c->n > 40 ? c->n - 40 : 0;
    fprintf(stderr, "---- %s: %zu frames received%s ----\n", label, c->n,
            first ? ", the last 40" : "");
    for (size_t i = first; i < c->n; i++) {
        char *text = cJSON_PrintUnformatted(c->frames[i]);
        fprintf(stderr, "%3zu %.300s%s\n", i, text ? text : "?",
                text && strlen(text) > 300 ? "..." : "");
        free(text);
    }
}

static void release(void *c)
{
    wsc_close(c);
}

static int bio_send(void *ctx, const unsigned char *buf, size_t len)
{
    ssize_t w = send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
    if (w < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? MBEDTLS_ERR_SSL_WANT_WRITE
                   : MBEDTLS_ERR_NET_SEND_FAILED;
    return (int)w;
}

static int bio_recv(void *ctx, unsigned char *buf, size_t len)
{
    ssize_t r = recv(*(int *)ctx, buf, len, 0);
    if (r < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR
                   ? MBEDTLS_ERR_SSL_WANT_READ
                   : MBEDTLS_ERR_NET_RECV_FAILED;
    return (int)r;
}

/* A TLS client for "localhost" verified by `ca_file`, handshaken. */
static int tls_start(wsc *c, const char *ca_file, int timeout_ms)
{
    struct timeval tv = {1, 0}; /* reads and writes wait at most this at once */
    wsc_tls *t = calloc(1, sizeof *t);
    if (!t)
        return -1;
    c->tls = t;
    mbedtls_ssl_init(&t->ssl);
    mbedtls_ssl_config_init(&t->conf);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    if (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) ||
        setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) ||
        mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy, NULL, 0) ||
        mbedtls_x509_crt_parse_file(&t->ca, ca_file) ||
        mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT))
        return -1;
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    if (mbedtls_ssl_setup(&t->ssl, &t->conf) || mbedtls_ssl_set_hostname(&t->ssl, "localhost"))
        return -1;
    mbedtls_ssl_set_bio(&t->ssl, &c->fd, bio_send, bio_recv, NULL);
    int64_t deadline = h_now_ms() + timeout_ms;
    int rc;
    while ((rc = mbedtls_ssl_handshake(&t->ssl)) == MBEDTLS_ERR_SSL_WANT_READ ||
           rc == MBEDTLS_ERR_SSL_WANT_WRITE) {
        if (h_now_ms() > deadline)
            return -1;
    }
    return rc == 0 ? 0 : -1;
}

static int open_as(wsc *c, int port, const char *ca_file, const char *protocol, const char *header,
                   int timeout_ms)
{
    static unsigned opened;
    char label[64];
    memset(c, 0, sizeof *c);
    snprintf(label, sizeof label, "raw %s connection %u (port %d)", ca_file ? "TLS" : "plain",
             ++opened, port);
    h_watch(c, label, print_frames, release);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    c->fd = socket(AF_INET, SOCK_STREAM, 0);
    if (c->fd < 0 || connect(c->fd, (struct sockaddr *)&a, sizeof a) != 0)
        return -1;
    if (ca_file && tls_start(c, ca_file, timeout_ms))
        return -1;
    return handshake(c, port, protocol, header, timeout_ms);
}

int wsc_open(wsc *c, int port, int timeout_ms)
{
    return open_as(c, port, NULL, "parley.v1", NULL, timeout_ms);
}

int wsc_open_tls(wsc *c, int port, const char *ca_file, int timeout_ms)
{
    return open_as(c, port, ca_file, "parley.v1", NULL, timeout_ms);
}

int wsc_open_agent(wsc *c, int port, const char *token, int timeout_ms)
{
    char auth[300];
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
    return open_as(c, port, NULL, "parley.agent.v1", auth, timeout_ms);
}

int wsc_open_agent_cookie(wsc *c, int port, const char *cookie, int timeout_ms)
{
    char header[300];
    snprintf(header, sizeof header, "Cookie: %s", cookie);
    return open_as(c, port, NULL, "parley.agent.v1", header, timeout_ms);
}

void wsc_close(wsc *c)
{
    h_forget(c);
    if (c->tls) {
        mbedtls_ssl_free(&c->tls->ssl);
        mbedtls_ssl_config_free(&c->tls->conf);
        mbedtls_x509_crt_free(&c->tls->ca);
        mbedtls_ctr_drbg_free(&c->tls->drbg);
        mbedtls_entropy_free(&c->tls->entropy);
        free(c->tls);
    }
    if (c->fd >= 0)
        close(c->fd);
    for (size_t i = 0; i < c->n; i++)
        cJSON_Delete(c->frames[i]);
    free(c->frames);
    free(c->used);
    free(c->in);
    free(c->msg);
    memset(c, 0, sizeof *c);
    c->fd = -1;
}

const char *wsc_str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

double wsc_num(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

const cJSON *wsc_get(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

int wsc_matches(const cJSON *f, const char *type, const char *key, const char *value)
{
    const char *t = wsc_str(f, "t"), *v = key ? wsc_str(f, key) : NULL;
    return t && strcmp(t, type) == 0 && (!key || (v && strcmp(v, value) == 0));
}

static const cJSON *take(wsc *c, size_t after, const char *type, const char *key, const char *value)
{
    for (size_t i = after; i < c->n; i++) {
        if (!c->used[i] && wsc_matches(c->frames[i], type, key, value)) {
            c->used[i] = 1;
            return c->frames[i];
        }
    }
    return NULL;
}

const cJSON *wsc_await(wsc *c, size_t after, const char *type, const char *key, const char *value,
                       int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms, left;
    const cJSON *f;
    while (!(f = take(c, after, type, key, value))) {
        left = deadline - h_now_ms();
        if (left <= 0 || read_some(c, left < 50 ? (int)left : 50) < 0)
            break;
        parse(c);
    }
    return f ? f : take(c, after, type, key, value);
}

size_t wsc_count(const wsc *c, size_t after, const char *type)
{
    size_t n = 0;
    for (size_t i = after; i < c->n; i++)
        n += wsc_matches(c->frames[i], type, NULL, NULL);
    return n;
}
