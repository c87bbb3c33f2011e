#include "rawws.h"

#include <lws_config.h>
#include <libwebsockets.h>

#include <cjson/cJSON.h>

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SUBPROTOCOL "parley.v1"
#define QUEUE_CAP 64
#define FRAME_MAX 8192
#define CONNECT_TIMEOUT_MS 15000

/* The same hello for every connection: an anonymous user. */
static const char HELLO[] = "{\"t\":\"hello\",\"v\":1,\"app\":\"bench\",\"sdk\":{\"name\":\"raw-"
                            "lws\",\"version\":\"4.1.6\","
                            "\"platform\":\"linux-x86_64\"},\"user\":{\"anon\":\"a-5f0c6a52-8e0e-"
                            "4d1b-9f3c-2b7d4e1a9c30\"}}";

struct rawws {
    struct lws_context *ctx;
    struct lws *wsi;
    lws_retry_bo_t retry;
    char host[64];
    int port;
    char *ca_pem;

    pthread_mutex_t lock; /* the queue: the host thread adds, the service thread writes */
    char *queue[QUEUE_CAP];
    size_t q_head, q_len;
    unsigned long cids;

    char rx[FRAME_MAX + 1];
    size_t rx_len;
    unsigned char tx[LWS_PRE + FRAME_MAX];

    atomic_int welcomed, failed, running;
    atomic_long acks, msgs;
    long mark;
    double mark_first_us, last_msg_us;

    pthread_t thread;
    int threaded;
    atomic_int tid;
};

/* ---- frames ---------------------------------------------------------------- */

static int enqueue(rawws *r, const char *frame)
{
    char *copy = strdup(frame);
    int rc = -1;
    pthread_mutex_lock(&r->lock);
    if (copy && r->q_len < QUEUE_CAP) {
        r->queue[(r->q_head + r->q_len++) % QUEUE_CAP] = copy;
        copy = NULL;
        rc = 0;
    }
    pthread_mutex_unlock(&r->lock);
    free(copy);
    return rc;
}

static char *dequeue(rawws *r, int *more)
{
    char *f = NULL;
    pthread_mutex_lock(&r->lock);
    if (r->q_len) {
        f = r->queue[r->q_head];
        r->q_head = (r->q_head + 1) % QUEUE_CAP;
        r->q_len--;
    }
    *more = r->q_len > 0;
    pthread_mutex_unlock(&r->lock);
    return f;
}

int rawws_send_text(rawws *r, const char *text)
{
    char frame[FRAME_MAX];
    unsigned long n;
    pthread_mutex_lock(&r->lock);
    n = ++r->cids;
    pthread_mutex_unlock(&r->lock);
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"7d3a%04lx-1c2b-4e5f-8a9b-%012lx\","
             "\"conv\":\"c-3b9e2f60-4a71-4c8d-9e15-0f6a7b8c9d01\",\"text\":\"%s\"}",
             n & 0xffff, n, text);
    if (enqueue(r, frame) != 0)
        return -1;
    /* Another thread services the context: only lws_cancel_service is safe
     * from here, and the service thread asks for the write. */
    if (r->threaded)
        lws_cancel_service(r->ctx);
    else if (r->wsi)
        lws_callback_on_writable(r->wsi);
    return 0;
}

static void on_frame(rawws *r)
{
    cJSON *f = cJSON_ParseWithLength(r->rx, r->rx_len);
    const cJSON *t = cJSON_GetObjectItemCaseSensitive(f, "t");
    if (cJSON_IsString(t)) {
        if (strcmp(t->valuestring, "msg") == 0) {
            r->last_msg_us = bench_now_us();
            if (atomic_fetch_add(&r->msgs, 1) + 1 == r->mark + 1)
                r->mark_first_us = r->last_msg_us;
        } else if (strcmp(t->valuestring, "msg.ack") == 0) {
            atomic_fetch_add(&r->acks, 1);
        } else if (strcmp(t->valuestring, "welcome") == 0) {
            atomic_store(&r->welcomed, 1);
        }
    }
    cJSON_Delete(f);
}

static void on_receive(rawws *r, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi))
        r->rx_len = 0;
    if (len <= FRAME_MAX - r->rx_len) {
        memcpy(r->rx + r->rx_len, in, len);
        r->rx_len += len;
    }
    if (lws_is_final_fragment(wsi) && !lws_remaining_packet_payload(wsi))
        on_frame(r);
}

static int on_writeable(rawws *r, struct lws *wsi)
{
    int more;
    char *f = dequeue(r, &more);
    if (!f)
        return 0;
    size_t len = strlen(f);
    memcpy(r->tx + LWS_PRE, f, len);
    free(f);
    if (lws_write(wsi, r->tx + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len)
        return -1;
    if (more)
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---- lws ------------------------------------------------------------------- */

static int lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    (void)user;
    rawws *r = wsi ? lws_context_user(lws_get_context(wsi)) : NULL;
    if (!r)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        r->wsi = wsi;
        if (enqueue(r, HELLO) != 0)
            return -1;
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_RECEIVE: on_receive(r, wsi, in, len); return 0;
    case LWS_CALLBACK_CLIENT_WRITEABLE: return on_writeable(r, wsi);
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (r->wsi)
            lws_callback_on_writable(r->wsi);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_CLOSED:
        r->wsi = NULL;
        atomic_store(&r->failed, 1);
        return 0;
    default: return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {SUBPROTOCOL, lws_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* The context Parley's transport makes, with the same keepalive. */
static int create_context(rawws *r, size_t ca_len)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.user = r;
    info.fd_limit_per_thread = 16;
    info.gid = -1;
    info.uid = -1;
    info.client_ssl_ca_mem = r->ca_pem;
    info.client_ssl_ca_mem_len = (unsigned int)ca_len;
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    r->ctx = lws_create_context(&info);
    return r->ctx ? 0 : -1;
}

int rawws_new(const bench_env *e, rawws **out)
{
    rawws *r = calloc(1, sizeof *r);
    if (!r)
        return -1;
    pthread_mutex_init(&r->lock, NULL);
    r->retry.secs_since_valid_ping = 20;
    r->retry.secs_since_valid_hangup = 45;
    r->port = e->port;
    snprintf(r->host, sizeof r->host, "localhost:%d", e->port);
    size_t ca_len = 0;
    r->ca_pem = tc_read(e->certs.ca, &ca_len);
    if (!r->ca_pem || create_context(r, ca_len) != 0) {
        rawws_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

int rawws_connect(rawws *r)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = r->ctx;
    i.address = "localhost";
    i.port = r->port;
    i.ssl_connection = LCCSCF_USE_SSL | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    i.path = "/";
    i.host = r->host;
    i.origin = r->host;
    i.protocol = SUBPROTOCOL;
    i.local_protocol_name = SUBPROTOCOL;
    i.retry_and_idle_policy = &r->retry;
    return lws_client_connect_via_info(&i) ? 0 : -1;
}

int rawws_step(rawws *r, bench_mode mode)
{
    if (mode == BENCH_THREAD)
        sched_yield();
    else if (lws_service(r->ctx, mode == BENCH_SPIN ? -1 : 0) < 0)
        return -1;
    return atomic_load(&r->failed) ? -1 : 0;
}

int rawws_open(const bench_env *e, bench_mode mode, rawws **out)
{
    rawws *r;
    if (rawws_new(e, &r) != 0)
        return -1;
    double end = bench_now_us() + CONNECT_TIMEOUT_MS * 1000.0;
    int rc = rawws_connect(r);
    while (rc == 0 && !rawws_welcomed(r))
        if (rawws_step(r, BENCH_SPIN) != 0 || bench_now_us() > end)
            rc = -1;
    if (rc == 0 && mode == BENCH_THREAD)
        rc = rawws_start(r);
    if (rc != 0) {
        rawws_free(r);
        return -1;
    }
    *out = r;
    return 0;
}

void rawws_free(rawws *r)
{
    if (!r)
        return;
    rawws_stop(r);
    if (r->ctx)
        lws_context_destroy(r->ctx);
    while (r->q_len) {
        free(r->queue[r->q_head]);
        r->q_head = (r->q_head + 1) % QUEUE_CAP;
        r->q_len--;
    }
    pthread_mutex_destroy(&r->lock);
    free(r->ca_pem);
    free(r);
}

/* ---- waiting ----------------------------------------------------------------- */

int rawws_welcomed(const rawws *r)
{
    return atomic_load(&r->welcomed);
}

long rawws_acks(const rawws *r)
{
    return atomic_load(&r->acks);
}

long rawws_msgs(const rawws *r)
{
    return atomic_load(&r->msgs);
}

int rawws_await_acks(rawws *r, bench_mode mode, long n, int timeout_ms)
{
    double end = bench_now_us() + timeout_ms * 1000.0;
    while (rawws_acks(r) < n)
        if (rawws_step(r, mode) != 0 || bench_now_us() > end)
            return -1;
    return 0;
}

int rawws_drain(rawws *r, bench_mode mode, long n, double *first_us, double *last_us,
                int timeout_ms)
{
    double end = bench_now_us() + timeout_ms * 1000.0;
    r->mark = rawws_msgs(r);
    while (rawws_msgs(r) < r->mark + n)
        if (rawws_step(r, mode) != 0 || bench_now_us() > end)
            return -1;
    *first_us = r->mark_first_us;
    *last_us = r->last_msg_us;
    return 0;
}

/* ---- the service thread ---------------------------------------------------------- */

static void *service_thread(void *arg)
{
    rawws *r = arg;
    atomic_store(&r->tid, (int)bench_tid());
    while (atomic_load(&r->running))
        lws_service(r->ctx, 0);
    return NULL;
}

int rawws_start(rawws *r)
{
    atomic_store(&r->running, 1);
    r->threaded = 1;
    if (pthread_create(&r->thread, NULL, service_thread, r) != 0) {
        r->threaded = 0;
        return -1;
    }
    while (!atomic_load(&r->tid))
        sched_yield();
    return 0;
}

void rawws_stop(rawws *r)
{
    if (!r->threaded)
        return;
    atomic_store(&r->running, 0);
    lws_cancel_service(r->ctx);
    pthread_join(r->thread, NULL);
    r->threaded = 0;
    atomic_store(&r->tid, 0);
}

pid_t rawws_thread_tid(const rawws *r)
{
    return (pid_t)atomic_load(&r->tid);
}
