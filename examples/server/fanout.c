#include "fanout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <lws_config.h>
#if defined(PARLEY_WITH_HIREDIS) && defined(LWS_WITH_LIBUV)
#define FANOUT_BUILT 1
/* hiredis' libuv adapter: its poll handles run on lws' own loop. */
#include <uv.h>
#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#if defined(__GNUC__)
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wpedantic"
#endif
#include <hiredis/adapters/libuv.h>
#if defined(__GNUC__)
#pragma GCC diagnostic pop
#endif
#endif
#include <libwebsockets.h>

#include "agent_ws.h"
#include "store.h"
#include "util.h"
#include "ws.h"

#if defined(FANOUT_BUILT)

#define FANOUT_CHANNEL "parley:events"
/* How soon a lost connection to Redis is tried again. */
#define RETRY_US (500 * LWS_US_PER_MS)
/* Publications waiting for a group's commit, at most: a group is one loop
 * turn, so this is only reached when something is badly wrong. */
#define PENDING_MAX 65536

/* One publication: origin, kind, user, conv and seq, one a line, then the
 * frame's JSON (which holds no raw newline). */
typedef struct pending {
    struct pending *next;
    size_t len;
    char buf[];
} pending;

struct fanout {
    server *srv;
    struct lws_context *ctx;
    uv_loop_t *loop;
    char host[256];
    int port;
    char origin[33];
    redisAsyncContext *pub, *sub;
    lws_sorted_usec_list_t retry;
    int retry_due, stopping;
    pending *head, *tail;
    size_t npending;
    fanout_stats st;
};

int fanout_available(void)
{
    return 1;
}

/* redis://host:port, redis://host (6379); no password, no database. */
static int parse_url(struct fanout *f, const char *url)
{
    const char *p = url + strlen("redis://"), *colon;
    char *end;
    long port = 6379;
    size_t n;

    if (strncmp(url, "redis://", 8) != 0)
        return -1;
    colon = strrchr(p, ':');
    n = colon ? (size_t)(colon - p) : strlen(p);
    if (colon) {
        port = strtol(colon + 1, &end, 10);
        if (*end != '\0' && strcmp(end, "/") != 0)
            return -1;
    }
    if (!n || n >= sizeof f->host || port < 1 || port > 65535 || memchr(p, '@', n))
        return -1;
    memcpy(f->host, p, n);
    f->host[n] = '\0';
    f->port = (int)port;
    return 0;
}

static void schedule_retry(struct fanout *f);

/* hiredis frees the context after these return. */
static void on_connect(const redisAsyncContext *ac, int status)
{
    struct fanout *f = ac->data;

    if (status == REDIS_OK) {
        fprintf(stderr, "parley-server: fan-out: connected to redis://%s:%d (%s)\n", f->host,
                f->port, ac == f->sub ? "subscriber" : "publisher");
        return;
    }
    fprintf(stderr, "parley-server: fan-out: cannot connect to redis://%s:%d: %s\n", f->host,
            f->port, ac->errstr);
    if (ac == f->pub)
        f->pub = NULL;
    if (ac == f->sub)
        f->sub = NULL;
    schedule_retry(f);
}

static void on_disconnect(const redisAsyncContext *ac, int status)
{
    struct fanout *f = ac->data;

    if (ac == f->pub)
        f->pub = NULL;
    if (ac == f->sub)
        f->sub = NULL;
    if (f->stopping)
        return;
    fprintf(stderr, "parley-server: fan-out: lost redis://%s:%d (%s), reconnecting\n", f->host,
            f->port, status == REDIS_OK ? "closed" : ac->errstr);
    schedule_retry(f);
}

static void deliver(struct fanout *f, const char *msg, size_t len);

/* ["message", channel, payload]; the first reply is the subscription's. */
static void on_message(redisAsyncContext *ac, void *r, void *priv)
{
    redisReply *reply = r;
    struct fanout *f = priv;

    (void)ac;
    if (!reply || reply->type != REDIS_REPLY_ARRAY || reply->elements != 3 ||
        reply->element[0]->type != REDIS_REPLY_STRING ||
        strcmp(reply->element[0]->str, "message") != 0 ||
        reply->element[2]->type != REDIS_REPLY_STRING)
        return;
    deliver(f, reply->element[2]->str, reply->element[2]->len);
}

static redisAsyncContext *connect_one(struct fanout *f)
{
    redisAsyncContext *ac = redisAsyncConnect(f->host, f->port);

    if (!ac)
        return NULL;
    if (ac->err) {
        fprintf(stderr, "parley-server: fan-out: redis://%s:%d: %s\n", f->host, f->port,
                ac->errstr);
        redisAsyncFree(ac);
        return NULL;
    }
    ac->data = f;
    if (redisLibuvAttach(ac, f->loop) != REDIS_OK) {
        redisAsyncFree(ac);
        return NULL;
    }
    redisAsyncSetConnectCallback(ac, on_connect);
    redisAsyncSetDisconnectCallback(ac, on_disconnect);
    return ac;
}

/* Both connections; a missing one is tried again after RETRY_US. */
static void connect_all(struct fanout *f)
{
    if (!f->pub)
        f->pub = connect_one(f);
    if (!f->sub) {
        f->sub = connect_one(f);
        if (f->sub &&
            redisAsyncCommand(f->sub, on_message, f, "SUBSCRIBE %s", FANOUT_CHANNEL) != REDIS_OK) {
            redisAsyncFree(f->sub);
            f->sub = NULL;
        }
    }
    if (!f->pub || !f->sub)
        schedule_retry(f);
}

static void on_retry(lws_sorted_usec_list_t *sul)
{
    struct fanout *f = lws_container_of(sul, struct fanout, retry);

    f->retry_due = 0;
    if (!f->stopping)
        connect_all(f);
}

static void schedule_retry(struct fanout *f)
{
    if (f->retry_due || f->stopping)
        return;
    f->retry_due = 1;
    lws_sul_schedule(f->ctx, 0, &f->retry, on_retry, RETRY_US);
}

int fanout_start(server *s, struct lws_context *ctx, void *uv_loop, const char *url)
{
    struct fanout *f = calloc(1, sizeof *f);

    if (!f)
        return -1;
    if (parse_url(f, url)) {
        fprintf(stderr, "parley-server: --redis: not redis://host[:port]: %s\n", url);
        free(f);
        return -1;
    }
    if (!uv_loop) {
        fprintf(stderr, "parley-server: --redis needs the libuv event loop\n");
        free(f);
        return -1;
    }
    if (util_random_token("", 16, f->origin, sizeof f->origin)) {
        free(f);
        return -1;
    }
    f->srv = s;
    f->ctx = ctx;
    f->loop = uv_loop;
    s->fanout = f;
    connect_all(f);
    return 0;
}

static void clear_pending(struct fanout *f)
{
    pending *p;

    while ((p = f->head) != NULL) {
        f->head = p->next;
        free(p);
    }
    f->tail = NULL;
    f->npending = 0;
}

void fanout_stop(server *s)
{
    struct fanout *f = s->fanout;

    if (!f)
        return;
    f->stopping = 1;
    if (f->retry_due)
        lws_sul_cancel(&f->retry);
    /* Each frees its context through on_disconnect, which clears the
     * pointer. What the drain published has been written meanwhile. */
    if (f->sub)
        redisAsyncFree(f->sub);
    if (f->pub)
        redisAsyncFree(f->pub);
    clear_pending(f);
    fprintf(stderr, "parley-server: fan-out: published %lld, received %lld, not published %lld\n",
            (long long)f->st.published, (long long)f->st.received, (long long)f->st.dropped);
    s->fanout = NULL;
    free(f);
}

/* ---- publishing ---- */

static void send_now(struct fanout *f, const char *buf, size_t len)
{
    if (f->pub && redisAsyncCommand(f->pub, NULL, NULL, "PUBLISH %s %b", FANOUT_CHANNEL, buf,
                                    len) == REDIS_OK)
        f->st.published++;
    else
        f->st.dropped++;
}

static void publish(server *s, char kind, const char *user, const char *conv, int64_t seq,
                    const char *json)
{
    struct fanout *f = s->fanout;
    int n = snprintf(NULL, 0, "%s\n%c\n%s\n%s\n%lld\n%s", f->origin, kind, user, conv,
                     (long long)seq, json);
    pending *p;

    if (n < 0 || f->npending >= PENDING_MAX || !(p = malloc(sizeof *p + (size_t)n + 1))) {
        f->st.dropped++;
        return;
    }
    snprintf(p->buf, (size_t)n + 1, "%s\n%c\n%s\n%s\n%lld\n%s", f->origin, kind, user, conv,
             (long long)seq, json);
    p->len = (size_t)n;
    p->next = NULL;
    if (!store_group_pending(s->store)) {
        send_now(f, p->buf, p->len);
        free(p);
        return;
    }
    if (f->tail)
        f->tail->next = p;
    else
        f->head = p;
    f->tail = p;
    f->npending++;
}

void fanout_group_done(server *s, int committed)
{
    struct fanout *f = s->fanout;
    pending *p;

    if (!f)
        return;
    for (p = f->head; committed && p; p = p->next)
        send_now(f, p->buf, p->len);
    clear_pending(f);
}

void fanout_user(server *s, const char *user, const char *json)
{
    if (s->fanout && json)
        publish(s, 'u', user, "", 0, json);
}

void fanout_msg(server *s, const char *user, const char *conv, int64_t seq, const char *json)
{
    if (s->fanout && json)
        publish(s, 'm', user, conv, seq, json);
}

void fanout_agents(server *s, const char *json)
{
    if (s->fanout && json)
        publish(s, 'a', "", "", 0, json);
}

/* ---- receiving ---- */

/* Splits the next line off *p (within end): its start, NUL-terminated. */
static char *next_line(char **p, char *end)
{
    char *line = *p, *nl = *p < end ? memchr(*p, '\n', (size_t)(end - *p)) : NULL;

    if (!nl)
        return NULL;
    *nl = '\0';
    *p = nl + 1;
    return line;
}

static void deliver(struct fanout *f, const char *msg, size_t len)
{
    char *copy = malloc(len + 1), *p = copy, *end, *origin, *kind, *user, *conv, *seq, *json;
    long long n;

    if (!copy)
        return;
    memcpy(copy, msg, len);
    copy[len] = '\0';
    end = copy + len;
    origin = next_line(&p, end);
    kind = next_line(&p, end);
    user = next_line(&p, end);
    conv = next_line(&p, end);
    seq = next_line(&p, end);
    json = p;
    if (seq && strcmp(origin, f->origin) != 0 && kind[0] && !kind[1] &&
        sscanf(seq, "%lld", &n) == 1) {
        f->st.received++;
        if (kind[0] == 'u' && user[0])
            ws_push(f->srv, user, json);
        else if (kind[0] == 'm' && user[0] && conv[0])
            ws_push_msg(f->srv, user, conv, (int64_t)n, json, NULL);
        else if (kind[0] == 'a')
            agent_ws_broadcast(f->srv, json);
    }
    free(copy);
}

void fanout_get_stats(const server *s, fanout_stats *out)
{
    memset(out, 0, sizeof *out);
    if (s->fanout)
        *out = s->fanout->st;
}

#else /* no hiredis, or no libuv loop */

int fanout_available(void)
{
    return 0;
}

int fanout_start(server *s, struct lws_context *ctx, void *uv_loop, const char *url)
{
    (void)s;
    (void)ctx;
    (void)uv_loop;
    (void)url;
    fprintf(stderr, "parley-server: --redis: this build has no fan-out (it needs hiredis and "
                    "libwebsockets' libuv loop)\n");
    return -1;
}

void fanout_stop(server *s)
{
    (void)s;
}

void fanout_user(server *s, const char *user, const char *json)
{
    (void)s;
    (void)user;
    (void)json;
}

void fanout_msg(server *s, const char *user, const char *conv, int64_t seq, const char *json)
{
    (void)s;
    (void)user;
    (void)conv;
    (void)seq;
    (void)json;
}

void fanout_agents(server *s, const char *json)
{
    (void)s;
    (void)json;
}

void fanout_group_done(server *s, int committed)
{
    (void)s;
    (void)committed;
}

void fanout_get_stats(const server *s, fanout_stats *out)
{
    (void)s;
    memset(out, 0, sizeof *out);
}

#endif
