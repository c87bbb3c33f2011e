/* The webhook sender against a sink on loopback, driven by a real lws
 * service loop: headers, body and signature; retries after a 500 and after
 * a refused connection; URL checks. The sink is a thread with a blocking
 * accept loop answering each request with the next status of a script. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/md.h>

#include "testlib.h"
#include "webhook.h"

#define MAX_REQ 8

typedef struct sink {
    int fd, port;
    int statuses[MAX_REQ]; /* what to answer, in order (0: close without answering) */
    int n_status;
    pthread_mutex_t mu;
    char *requests[MAX_REQ];
    int n_req;
    int stop;
    pthread_t thread;
} sink;

/* Reads one request (headers and Content-Length body). */
static char *read_request(int c)
{
    size_t cap = 70000, len = 0;
    char *buf = malloc(cap + 1), *hdr_end;
    long clen = -1;

    while (buf && len < cap) {
        ssize_t n = read(c, buf + len, cap - len);

        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        hdr_end = strstr(buf, "\r\n\r\n");
        if (hdr_end) {
            char *cl = strcasestr(buf, "content-length:");

            clen = cl ? strtol(cl + 15, NULL, 10) : 0;
            if ((long)(len - (size_t)(hdr_end + 4 - buf)) >= clen)
                break;
        }
    }
    return buf;
}

static void *sink_main(void *arg)
{
    sink *s = arg;

    for (;;) {
        int c = accept(s->fd, NULL, NULL), status;
        char *req, resp[128];

        if (c < 0)
            break;
        req = read_request(c);
        pthread_mutex_lock(&s->mu);
        if (s->stop) {
            pthread_mutex_unlock(&s->mu);
            free(req);
            close(c);
            break;
        }
        status = s->n_req < s->n_status ? s->statuses[s->n_req] : 200;
        if (s->n_req < MAX_REQ)
            s->requests[s->n_req++] = req;
        else
            free(req);
        pthread_mutex_unlock(&s->mu);
        if (status) {
            int n = snprintf(resp, sizeof resp,
                             "HTTP/1.1 %d X\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok",
                             status);
            if (write(c, resp, (size_t)n) < 0)
                perror("sink write");
        }
        close(c);
    }
    return NULL;
}

static int sink_start(sink *s, const int *statuses, int n)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1;

    memset(s, 0, sizeof *s);
    memcpy(s->statuses, statuses, (size_t)n * sizeof *statuses);
    s->n_status = n;
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 8) ||
        getsockname(s->fd, (struct sockaddr *)&a, &alen))
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, sink_main, s);
}

static int sink_count(sink *s)
{
    int n;

    pthread_mutex_lock(&s->mu);
    n = s->n_req;
    pthread_mutex_unlock(&s->mu);
    return n;
}

static void sink_stop(sink *s)
{
    int i;

    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    for (i = 0; i < s->n_req; i++)
        free(s->requests[i]);
    pthread_mutex_destroy(&s->mu);
}

static struct lws_context *context(struct lws_protocols prot[2])
{
    struct lws_context_creation_info info;

    memset(prot, 0, 2 * sizeof *prot);
    prot[0] = webhook_protocol();
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = prot;
    lws_set_log_level(LLL_ERR, NULL);
    return lws_create_context(&info);
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Services until `done` or the deadline. */
static void serve_until(struct lws_context *ctx, webhook *w, uint64_t delivered, uint64_t dropped,
                        int max_ms)
{
    int64_t end = now_ms() + max_ms;

    while (now_ms() < end) {
        webhook_stats st = webhook_get_stats(w);

        if (st.delivered >= delivered && st.dropped >= dropped && webhook_pending(w) == 0)
            return;
        lws_service(ctx, 0);
    }
}

static void test_delivery_and_retry(void)
{
    static const int script[] = {500, 200, 200};
    static const char body[] = "{\"type\":\"sla.breach\",\"conversation\":{\"id\":\"c-1\"}}";
    struct lws_protocols prot[2];
    struct lws_context *ctx = context(prot);
    char url[128], why[128], id1[24], id2[24], want_sig[128];
    unsigned char mac[32];
    webhook *w;
    webhook_stats st;
    sink s;
    int64_t t0;
    int i;

    CHECK(ctx != NULL);
    CHECK_INT(sink_start(&s, script, 3), 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/hooks/sla?team=support", s.port);
    w = webhook_new(url, "whsec", why, sizeof why);
    CHECK(w != NULL);
    if (!w || !ctx)
        return;
    CHECK_INT(webhook_attach(w, ctx, lws_get_vhost_by_name(ctx, "default"), NULL), 0);
    t0 = now_ms();
    CHECK_INT(webhook_post(w, "sla.breach", body, sizeof body - 1, id1), 0);
    CHECK_INT(webhook_post(w, "sla.breach", body, sizeof body - 1, id2), 0);
    CHECK_STR(id1, "wh-1");
    CHECK_STR(id2, "wh-2");
    serve_until(ctx, w, 2, 0, 8000);
    st = webhook_get_stats(w);
    /* The first attempt got 500: retried a second later; both then went
     * through, in order. */
    CHECK_INT(st.delivered, 2);
    CHECK_INT(st.failed_attempts, 1);
    CHECK_INT(st.dropped, 0);
    CHECK(now_ms() - t0 >= 900);
    CHECK_INT(sink_count(&s), 3);
    for (i = 0; i < 3 && i < s.n_req; i++) {
        const char *r = s.requests[i];

        CHECK(strncmp(r, "POST /hooks/sla?team=support HTTP/1.1\r\n", 39) == 0);
        CHECK(strcasestr(r, "\r\ncontent-type: application/json\r\n") != NULL);
        CHECK(strcasestr(r, "\r\nx-parley-event: sla.breach\r\n") != NULL);
        CHECK(strcasestr(r, "\r\nuser-agent: parley-server\r\n") != NULL);
        CHECK(strstr(r, "\r\n\r\n") && strcmp(strstr(r, "\r\n\r\n") + 4, body) == 0);
    }
    CHECK(strcasestr(s.requests[0], "x-parley-delivery: wh-1\r\n") != NULL);
    CHECK(strcasestr(s.requests[1], "x-parley-delivery: wh-1\r\n") != NULL);
    CHECK(strcasestr(s.requests[2], "x-parley-delivery: wh-2\r\n") != NULL);
    mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)"whsec", 5,
                    (const unsigned char *)body, sizeof body - 1, mac);
    strcpy(want_sig, "x-parley-signature: sha256=");
    for (i = 0; i < 32; i++)
        sprintf(want_sig + strlen(want_sig), "%02x", mac[i]);
    CHECK(strcasestr(s.requests[0], want_sig) != NULL);
    webhook_free(w);
    sink_stop(&s);
    lws_context_destroy(ctx);
}

/* Nobody listens: 1 + 5 attempts, 1, 2, 4, 8, 16 s apart, would take 31 s;
 * the test shortens nothing, so it checks the first retries, and that
 * posting returns at once (the attempts happen in the service loop). */
static void test_refused_connection(void)
{
    struct lws_protocols prot[2];
    struct lws_context *ctx = context(prot);
    char why[128], url[64];
    webhook *w;
    sink s;
    int64_t t0, took;
    static const int none[] = {200};
    int port;

    CHECK_INT(sink_start(&s, none, 1), 0);
    port = s.port;
    sink_stop(&s); /* the port is free again: connections are refused */
    snprintf(url, sizeof url, "http://127.0.0.1:%d/", port);
    w = webhook_new(url, NULL, why, sizeof why);
    if (!w || !ctx) {
        CHECK(0);
        return;
    }
    webhook_attach(w, ctx, lws_get_vhost_by_name(ctx, "default"), NULL);
    t0 = now_ms();
    CHECK_INT(webhook_post(w, "sla.breach", "{}", 2, NULL), 0);
    took = now_ms() - t0;
    CHECK(took < 100);
    while (now_ms() - t0 < 3500)
        lws_service(ctx, 0);
    /* Attempts at 0, 1 and 3 s. */
    CHECK_INT(webhook_get_stats(w).failed_attempts, 3);
    CHECK_INT(webhook_get_stats(w).delivered, 0);
    CHECK_INT(webhook_pending(w), 1);
    webhook_free(w);
    lws_context_destroy(ctx);
}

static void test_urls(void)
{
    static const char *const bad[] = {
        "ftp://x/",         "http://",
        "http://:80/",      "http://user:pw@host/",
        "http://host:0/",   "http://host:70000/",
        "http://host:12a/", "http://host/#frag",
        "http://ho st/",    "host/path",
    };
    char why[128];
    size_t i;
    webhook *w;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        why[0] = '\0';
        w = webhook_new(bad[i], NULL, why, sizeof why);
        CHECK(w == NULL && why[0]);
        webhook_free(w);
    }
    w = webhook_new("https://hooks.example.com/services/T0/B0", "s", why, sizeof why);
    CHECK(w != NULL);
    webhook_free(w);
    w = webhook_new("http://localhost:9000", NULL, why, sizeof why);
    CHECK(w != NULL);
    /* Not attached yet: queued, nothing sent. Oversized bodies refused. */
    if (w) {
        char *big = calloc(1, WEBHOOK_MAX_BODY + 2);

        CHECK_INT(webhook_post(w, "sla.breach", "{}", 2, NULL), 0);
        CHECK_INT(webhook_pending(w), 1);
        CHECK_INT(webhook_post(w, "sla.breach", big, WEBHOOK_MAX_BODY + 1, NULL), -1);
        free(big);
    }
    webhook_free(w);
}

static void test_queue_bound(void)
{
    char why[128];
    webhook *w = webhook_new("http://127.0.0.1:9/", NULL, why, sizeof why);
    int i;

    if (!w)
        return;
    for (i = 0; i < WEBHOOK_MAX_PENDING + 10; i++)
        CHECK_INT(webhook_post(w, "sla.breach", "{}", 2, NULL), 0);
    CHECK_INT(webhook_pending(w), WEBHOOK_MAX_PENDING);
    CHECK_INT(webhook_get_stats(w).dropped, 10);
    webhook_free(w);
}

int main(void)
{
    RUN(test_urls);
    RUN(test_queue_bound);
    RUN(test_delivery_and_retry);
    RUN(test_refused_connection);
    return tl_finish();
}
