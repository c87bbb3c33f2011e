#include "webhook.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/entropy.h>
#include <mbedtls/md.h>
#include <mbedtls/net_sockets.h>
#include <mbedtls/ssl.h>
#include <mbedtls/x509_crt.h>

#include "util.h"

#define BACKOFF_MAX_MS 60000
#define SYSTEM_CA "/etc/ssl/certs/ca-certificates.crt"

typedef struct job {
    struct job *next;
    char *body;
    int attempt; /* tries made */
    int64_t due_ms;
} job;

/* The TLS side, set up once (https only). */
typedef struct tls {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
    mbedtls_x509_crt ca;
    mbedtls_ssl_config conf;
} tls;

struct webhook {
    char host[256], port[8], path[2048];
    char *secret;
    int attempts, backoff_ms;
    tls *tls;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int stop;
    job *head;
    size_t n;
    unsigned long sent, dropped;
};

/* ---- the URL ---- */

static int parse_url(webhook *w, const char *url, int *https)
{
    const char *p, *slash, *colon;
    size_t hlen;

    *https = strncmp(url, "https://", 8) == 0;
    if (!*https && strncmp(url, "http://", 7) != 0)
        return -1;
    p = url + (*https ? 8 : 7);
    slash = strchr(p, '/');
    colon = memchr(p, ':', slash ? (size_t)(slash - p) : strlen(p));
    hlen = colon ? (size_t)(colon - p) : slash ? (size_t)(slash - p) : strlen(p);
    if (hlen == 0 || hlen >= sizeof w->host)
        return -1;
    memcpy(w->host, p, hlen);
    w->host[hlen] = '\0';
    snprintf(w->port, sizeof w->port, "%s", *https ? "443" : "80");
    if (colon) {
        size_t plen = slash ? (size_t)(slash - colon - 1) : strlen(colon + 1);
        if (plen == 0 || plen >= sizeof w->port || strspn(colon + 1, "0123456789") < plen)
            return -1;
        memcpy(w->port, colon + 1, plen);
        w->port[plen] = '\0';
    }
    return snprintf(w->path, sizeof w->path, "%s", slash ? slash : "/") < (int)sizeof w->path ? 0
                                                                                              : -1;
}

/* ---- one POST ---- */

/* A connected socket with send and receive timeouts, or -1. */
static int connect_to(const webhook *w)
{
    struct addrinfo hints, *res = NULL, *a;
    struct timeval tv = {WEBHOOK_TIMEOUT_MS / 1000, 0};
    int fd = -1;

    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    if (getaddrinfo(w->host, w->port, &hints, &res) != 0)
        return -1;
    for (a = res; a && fd < 0; a = a->ai_next) {
        struct pollfd pfd;
        int err = 0;
        socklen_t elen = sizeof err;

        fd = socket(a->ai_family, a->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, a->ai_protocol);
        if (fd < 0)
            continue;
        pfd.fd = fd;
        pfd.events = POLLOUT;
        if ((connect(fd, a->ai_addr, a->ai_addrlen) != 0 &&
             (errno != EINPROGRESS || poll(&pfd, 1, WEBHOOK_TIMEOUT_MS) != 1 ||
              getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0 || err != 0)) ||
            fcntl(fd, F_SETFL, 0) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) != 0 ||
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv) != 0) {
            close(fd);
            fd = -1;
        }
    }
    freeaddrinfo(res);
    return fd;
}

/* The request's head, with the body's signature when there is a secret. */
static int head_of(const webhook *w, const char *body, char *out, size_t cap)
{
    static const char hex[] = "0123456789abcdef";
    char sig[96] = "";
    unsigned char mac[32];
    int i;

    if (w->secret) {
        mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                        (const unsigned char *)w->secret, strlen(w->secret),
                        (const unsigned char *)body, strlen(body), mac);
        memcpy(sig, "X-Parley-Signature: sha256=", 27);
        for (i = 0; i < 32; i++) {
            sig[27 + 2 * i] = hex[mac[i] >> 4];
            sig[27 + 2 * i + 1] = hex[mac[i] & 15];
        }
        memcpy(sig + 91, "\r\n", 3);
    }
    i = snprintf(out, cap,
                 "POST %s HTTP/1.1\r\nHost: %s:%s\r\nUser-Agent: parley-server\r\n"
                 "Content-Type: application/json\r\nContent-Length: %zu\r\n%s"
                 "Connection: close\r\n\r\n",
                 w->path, w->host, w->port, strlen(body), sig);
    return i > 0 && (size_t)i < cap ? i : -1;
}

/* The status of an answer's first line ("HTTP/1.1 204 ..."), or -1. */
static int status_of(const char *buf, size_t n)
{
    int code = -1;

    if (n >= 12 && strncmp(buf, "HTTP/1.", 7) == 0 && sscanf(buf + 9, "%3d", &code) != 1)
        code = -1;
    return code;
}

typedef int (*io_fn)(void *ctx, unsigned char *buf, size_t len);

static int fd_send(void *ctx, unsigned char *buf, size_t len)
{
    return (int)send(*(int *)ctx, buf, len, MSG_NOSIGNAL);
}

static int fd_recv(void *ctx, unsigned char *buf, size_t len)
{
    return (int)recv(*(int *)ctx, buf, len, 0);
}

static int tls_send(void *ctx, unsigned char *buf, size_t len)
{
    return mbedtls_ssl_write(ctx, buf, len);
}

static int tls_recv(void *ctx, unsigned char *buf, size_t len)
{
    return mbedtls_ssl_read(ctx, buf, len);
}

static int send_all(io_fn fn, void *ctx, const char *data, size_t len)
{
    while (len) {
        int n = fn(ctx, (unsigned char *)data, len);
        if (n <= 0)
            return -1;
        data += n;
        len -= (size_t)n;
    }
    return 0;
}

/* Sends the request and reads the status line: the HTTP status, or -1. */
static int exchange(const webhook *w, io_fn out, io_fn in, void *ctx, const char *body)
{
    char head[2400], answer[64];
    size_t got = 0;
    int hlen = head_of(w, body, head, sizeof head);

    if (hlen < 0 || send_all(out, ctx, head, (size_t)hlen) ||
        send_all(out, ctx, body, strlen(body)))
        return -1;
    while (got < sizeof answer - 1 && !memchr(answer, '\n', got)) {
        int n = in(ctx, (unsigned char *)answer + got, sizeof answer - 1 - got);
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    answer[got] = '\0';
    return status_of(answer, got);
}

static int post_tls(const webhook *w, int fd, const char *body)
{
    mbedtls_net_context net = {fd};
    mbedtls_ssl_context ssl;
    int status = -1, rc;

    mbedtls_ssl_init(&ssl);
    if (mbedtls_ssl_setup(&ssl, &w->tls->conf) == 0 &&
        mbedtls_ssl_set_hostname(&ssl, w->host) == 0) {
        mbedtls_ssl_set_bio(&ssl, &net, mbedtls_net_send, mbedtls_net_recv, NULL);
        while ((rc = mbedtls_ssl_handshake(&ssl)) == MBEDTLS_ERR_SSL_WANT_READ ||
               rc == MBEDTLS_ERR_SSL_WANT_WRITE)
            ;
        if (rc == 0)
            status = exchange(w, tls_send, tls_recv, &ssl, body);
        else
            fprintf(stderr, "parley-server: push webhook: TLS handshake with %s failed (-0x%04x)\n",
                    w->host, (unsigned)-rc);
        mbedtls_ssl_close_notify(&ssl);
    }
    mbedtls_ssl_free(&ssl);
    return status;
}

/* 1 when the endpoint took the body (2xx). */
static int post(const webhook *w, const char *body)
{
    int fd = connect_to(w), status;

    if (fd < 0)
        return 0;
    status = w->tls ? post_tls(w, fd, body) : exchange(w, fd_send, fd_recv, &fd, body);
    close(fd);
    if (status < 200 || status > 299)
        fprintf(stderr, "parley-server: push webhook %s:%s answered %d\n", w->host, w->port,
                status);
    return status >= 200 && status <= 299;
}

/* ---- the queue and its thread ---- */

static void job_free(job *j)
{
    free(j->body);
    free(j);
}

/* The job due first, unlinked; NULL when none is due by `now` (*wait_ms
 * then says how long until one is, -1 for none queued). */
static job *take_due(webhook *w, int64_t now, int64_t *wait_ms)
{
    job **best = NULL, **pp, *j;

    for (pp = &w->head; *pp; pp = &(*pp)->next)
        if (!best || (*pp)->due_ms < (*best)->due_ms)
            best = pp;
    *wait_ms = best ? (*best)->due_ms - now : -1;
    if (!best || (*best)->due_ms > now)
        return NULL;
    j = *best;
    *best = j->next;
    w->n--;
    return j;
}

static void requeue(webhook *w, job *j)
{
    uint32_t jitter = 0;
    int64_t delay = (int64_t)w->backoff_ms << (j->attempt - 1 < 16 ? j->attempt - 1 : 16);

    if (delay > BACKOFF_MAX_MS)
        delay = BACKOFF_MAX_MS;
    if (util_random_bytes(&jitter, sizeof jitter) == 0)
        delay += jitter % (uint32_t)(delay / 2 + 1);
    j->due_ms = util_mono_ms() + delay;
    j->next = w->head;
    w->head = j;
    w->n++;
}

static void wait_for(webhook *w, int64_t wait_ms)
{
    struct timespec ts;

    if (wait_ms < 0) {
        pthread_cond_wait(&w->cv, &w->mu);
        return;
    }
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += (time_t)(wait_ms / 1000);
    ts.tv_nsec += (long)(wait_ms % 1000) * 1000000L;
    if (ts.tv_nsec >= 1000000000L) {
        ts.tv_sec++;
        ts.tv_nsec -= 1000000000L;
    }
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static void *worker(void *arg)
{
    webhook *w = arg;
    int64_t wait_ms;
    job *j;
    int ok;

    pthread_mutex_lock(&w->mu);
    while (!w->stop) {
        if (!(j = take_due(w, util_mono_ms(), &wait_ms))) {
            wait_for(w, wait_ms);
            continue;
        }
        pthread_mutex_unlock(&w->mu);
        ok = post(w, j->body);
        pthread_mutex_lock(&w->mu);
        j->attempt++;
        if (ok)
            w->sent++;
        else if (j->attempt < w->attempts) {
            requeue(w, j);
            continue;
        } else {
            w->dropped++;
            fprintf(stderr, "parley-server: push webhook: gave up after %d attempts\n", j->attempt);
        }
        job_free(j);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* ---- setup ---- */

static int tls_setup(webhook *w, const char *ca, char *why, size_t cap)
{
    static const char pers[] = "parley-webhook";
    tls *t = calloc(1, sizeof *t);

    if (!(w->tls = t)) {
        snprintf(why, cap, "out of memory");
        return -1;
    }
    mbedtls_entropy_init(&t->entropy);
    mbedtls_ctr_drbg_init(&t->drbg);
    mbedtls_x509_crt_init(&t->ca);
    mbedtls_ssl_config_init(&t->conf);
    if (mbedtls_ctr_drbg_seed(&t->drbg, mbedtls_entropy_func, &t->entropy,
                              (const unsigned char *)pers, sizeof pers - 1) ||
        mbedtls_x509_crt_parse_file(&t->ca, ca ? ca : SYSTEM_CA) < 0 ||
        mbedtls_ssl_config_defaults(&t->conf, MBEDTLS_SSL_IS_CLIENT, MBEDTLS_SSL_TRANSPORT_STREAM,
                                    MBEDTLS_SSL_PRESET_DEFAULT)) {
        snprintf(why, cap, "cannot set up TLS with the CAs of %s", ca ? ca : SYSTEM_CA);
        return -1;
    }
    mbedtls_ssl_conf_authmode(&t->conf, MBEDTLS_SSL_VERIFY_REQUIRED);
    mbedtls_ssl_conf_ca_chain(&t->conf, &t->ca, NULL);
    mbedtls_ssl_conf_rng(&t->conf, mbedtls_ctr_drbg_random, &t->drbg);
    return 0;
}

static void tls_free(tls *t)
{
    if (!t)
        return;
    mbedtls_ssl_config_free(&t->conf);
    mbedtls_x509_crt_free(&t->ca);
    mbedtls_ctr_drbg_free(&t->drbg);
    mbedtls_entropy_free(&t->entropy);
    free(t);
}

static void destroy(webhook *w)
{
    tls_free(w->tls);
    free(w->secret);
    free(w);
}

static int start_thread(webhook *w)
{
    pthread_condattr_t ca;
    int rc;

    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    pthread_mutex_init(&w->mu, NULL);
    rc = pthread_create(&w->thread, NULL, worker, w);
    if (rc) {
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
    }
    return rc ? -1 : 0;
}

int webhook_start(const webhook_cfg *cfg, webhook **out, char *why, size_t cap)
{
    webhook *w = calloc(1, sizeof *w);
    int https = 0;

    *out = NULL;
    if (!w || parse_url(w, cfg->url, &https)) {
        snprintf(why, cap, w ? "not an http:// or https:// URL" : "out of memory");
        free(w);
        return -1;
    }
    w->attempts = cfg->attempts > 0 ? cfg->attempts : 1;
    w->backoff_ms = cfg->backoff_ms > 0 ? cfg->backoff_ms : 1;
    if ((cfg->secret && !(w->secret = strdup(cfg->secret))) ||
        (https && tls_setup(w, cfg->ca, why, cap)) || start_thread(w)) {
        if (!why[0])
            snprintf(why, cap, "cannot start the notifier's thread");
        destroy(w);
        return -1;
    }
    *out = w;
    return 0;
}

void webhook_stop(webhook *w)
{
    job *j;

    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stop = 1;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    if (w->n)
        fprintf(stderr, "parley-server: push webhook: %zu notifications dropped at shutdown\n",
                w->n);
    while ((j = w->head)) {
        w->head = j->next;
        job_free(j);
    }
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    destroy(w);
}

int webhook_post(webhook *w, const char *body)
{
    job *j = calloc(1, sizeof *j), **pp, *old;

    if (!j || !(j->body = strdup(body))) {
        free(j);
        return -1;
    }
    pthread_mutex_lock(&w->mu);
    if (w->n >= WEBHOOK_QUEUE_MAX) {
        /* New bodies go first: the one at the end has waited longest. */
        for (pp = &w->head; (*pp)->next; pp = &(*pp)->next)
            ;
        old = *pp;
        *pp = NULL;
        w->n--;
        w->dropped++;
        job_free(old);
    }
    j->due_ms = util_mono_ms();
    j->next = w->head;
    w->head = j;
    w->n++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return 0;
}
