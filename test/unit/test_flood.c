/* A hostile server floods a client whose host does not poll (a loading
 * screen, a paused game): the client must stay within its documented
 * event-queue bound (parley_config_set_event_limits) by reading no more
 * from the socket, and once the host polls again every message must come
 * out, once, in order. A server flooding frames that each make the client
 * answer (a proactive message delivered already, a message past a gap and
 * the history that does not fill it) must not grow the client's unwritten
 * answers past their bound either, and every answer must go out. The
 * server is libwebsockets in a thread of this process; the client is the
 * public API with counting allocator hooks, so the library's own bytes
 * are measured exactly (RSS is printed too). */
#include <lws_config.h>
#include <libwebsockets.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "parley.h"
#include "testlib.h"

#define CONV "c-flood"
#define TEXT_LEN 1000
/* More than the default byte limit many times over, and more than the
 * loopback socket buffers can hide. */
#define FLOOD_MSGS 20000
/* Every this many messages the server also sends typing and unread. */
#define CHATTER_EVERY 10
/* What the library may hold beyond the queue's byte limit: one frame's
 * events, the transport's 64 KiB receive buffer, the engine and modules. */
#define SLACK_BYTES (512u * 1024u)
/* Frames the client must answer, and the bound of its unwritten answers
 * (include/parley.h, parley_config_set_event_limits). */
#define ANSWER_FLOOD 50000
#define MAX_WRITE_BYTES (1024u * 1024u)

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

/* Resident set size in KiB (the whole process: server thread included). */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, resident = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return resident * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- allocator hooks that count bytes (the I/O thread allocates too) ------ */

typedef struct bytes_alloc {
    atomic_long live, peak;
} bytes_alloc;

#define HDR 16 /* keeps malloc's alignment */

static void note(bytes_alloc *b, long delta)
{
    long v = atomic_fetch_add(&b->live, delta) + delta;
    long p = atomic_load(&b->peak);
    while (v > p && !atomic_compare_exchange_weak(&b->peak, &p, v))
        ;
}

static void *b_malloc(void *u, size_t n)
{
    unsigned char *p = malloc(n + HDR);
    if (!p)
        return NULL;
    memcpy(p, &n, sizeof n);
    note(u, (long)n);
    return p + HDR;
}

static void b_free(void *u, void *ptr)
{
    if (!ptr)
        return;
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t n;
    memcpy(&n, p, sizeof n);
    note(u, -(long)n);
    free(p);
}

static void *b_realloc(void *u, void *ptr, size_t n)
{
    if (!ptr)
        return b_malloc(u, n);
    unsigned char *p = (unsigned char *)ptr - HDR;
    size_t old;
    memcpy(&old, p, sizeof old);
    unsigned char *q = realloc(p, n + HDR);
    if (!q)
        return NULL;
    memcpy(q, &n, sizeof n);
    note(u, (long)n - (long)old);
    return q + HDR;
}

/* ---- the flooding server ---------------------------------------------------- */

typedef struct flood {
    struct lws_context *ctx;
    pthread_t thread;
    atomic_int stop;
    int port;
    atomic_int sent;    /* msg frames (or `cycle` frames) written */
    atomic_int hello;   /* hellos received */
    atomic_int answers; /* frames received containing `answer` */
    /* set before the thread starts: NULL floods messages, else these
     * frames in turn, ANSWER_FLOOD of them, each answered with `answer` */
    const char *const *cycle;
    const char *answer;
    /* server thread only */
    int welcome_due, chatter; /* chatter: typing/unread frames still due after this msg */
    int next;                 /* next seq to send */
    char rx[4096];
    size_t rx_len;
} flood;

static int write_text(struct lws *wsi, const char *text)
{
    size_t n = strlen(text);
    unsigned char *buf = malloc(LWS_PRE + n);
    memcpy(buf + LWS_PRE, text, n);
    int w = lws_write(wsi, buf + LWS_PRE, n, LWS_WRITE_TEXT);
    free(buf);
    return w < (int)n ? -1 : 0;
}

static int write_next(flood *f, struct lws *wsi)
{
    static char body[TEXT_LEN + 1];
    char frame[TEXT_LEN + 512];
    if (!body[0])
        memset(body, 'x', TEXT_LEN);
    if (f->welcome_due) {
        f->welcome_due = 0;
        return write_text(wsi, "{\"t\":\"welcome\",\"session\":\"s-flood\"}");
    }
    if (f->cycle) {
        int cycle_len = 0;
        while (f->cycle[cycle_len])
            cycle_len++;
        if (write_text(wsi, f->cycle[(f->next - 1) % cycle_len]) < 0)
            return -1;
        f->next++;
        atomic_fetch_add(&f->sent, 1);
        return 0;
    }
    if (f->chatter == 2) {
        f->chatter--;
        return write_text(wsi, "{\"t\":\"typing\",\"conv\":\"" CONV "\",\"on\":true,"
                               "\"author\":{\"kind\":\"agent\",\"name\":\"Dana\"}}");
    }
    if (f->chatter == 1) {
        f->chatter--;
        snprintf(frame, sizeof frame, "{\"t\":\"unread\",\"conv\":\"" CONV "\",\"count\":%d}",
                 f->next - 1);
        return write_text(wsi, frame);
    }
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg\",\"conv\":\"" CONV
             "\",\"id\":\"m-%d\",\"seq\":\"%d\",\"author\":{\"kind\":\"agent\","
             "\"name\":\"Dana\"},\"text\":\"%d %s\",\"ts\":1763900000000}",
             f->next, f->next, f->next, body);
    if (write_text(wsi, frame) < 0)
        return -1;
    if (f->next % CHATTER_EVERY == 0)
        f->chatter = 2;
    f->next++;
    atomic_fetch_add(&f->sent, 1);
    return 0;
}

static int more_to_write(const flood *f)
{
    int total = f->cycle ? ANSWER_FLOOD : FLOOD_MSGS;
    return f->welcome_due || f->chatter || (f->next > 0 && f->next <= total);
}

static int flood_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    flood *f = lws_context_user(lws_get_context(wsi));
    (void)user;
    switch (reason) {
    case LWS_CALLBACK_RECEIVE:
        if (lws_is_first_fragment(wsi))
            f->rx_len = 0;
        if (f->rx_len + len < sizeof f->rx) {
            memcpy(f->rx + f->rx_len, in, len);
            f->rx_len += len;
        }
        f->rx[f->rx_len] = '\0';
        if (lws_is_final_fragment(wsi) && f->answer && strstr(f->rx, f->answer))
            atomic_fetch_add(&f->answers, 1);
        if (lws_is_final_fragment(wsi) && strstr(f->rx, "\"t\":\"hello\"")) {
            atomic_fetch_add(&f->hello, 1);
            f->welcome_due = 1;
            if (f->next == 0)
                f->next = 1;
            lws_callback_on_writable(wsi);
        }
        break;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (more_to_write(f)) {
            if (write_next(f, wsi) < 0)
                return -1;
            lws_callback_on_writable(wsi);
        }
        break;
    default: break;
    }
    return 0;
}

static const struct lws_protocols flood_protocols[] = {
    {"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {"parley.v1", flood_cb, 0, 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

static void *flood_thread(void *arg)
{
    flood *f = arg;
    while (!atomic_load(&f->stop))
        lws_service(f->ctx, 0);
    return NULL;
}

static int flood_start(flood *f, const char *const *cycle, const char *answer)
{
    struct lws_context_creation_info info;
    memset(f, 0, sizeof *f);
    f->cycle = cycle;
    f->answer = answer;
    memset(&info, 0, sizeof info);
    info.port = 0;
    info.iface = "127.0.0.1";
    info.protocols = flood_protocols;
    info.user = f;
    info.fd_limit_per_thread = 32;
    f->ctx = lws_create_context(&info);
    if (!f->ctx)
        return -1;
    f->port = lws_get_vhost_listen_port(lws_get_vhost_by_name(f->ctx, "default"));
    return pthread_create(&f->thread, NULL, flood_thread, f);
}

static void flood_stop(flood *f)
{
    atomic_store(&f->stop, 1);
    lws_cancel_service(f->ctx);
    pthread_join(f->thread, NULL);
    lws_context_destroy(f->ctx);
}

/* ---- the host ------------------------------------------------------------------- */

static parley_client *flood_client(const flood *f, bytes_alloc *b, uint32_t max_events,
                                   size_t max_bytes)
{
    char url[64];
    snprintf(url, sizeof url, "ws://localhost:%d/", f->port);
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, url), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "flood-test"), PARLEY_OK);
    CHECK_INT(parley_config_set_allow_insecure(cfg, 1), PARLEY_OK);
    CHECK_INT(parley_config_set_allocator(cfg, b_malloc, b_realloc, b_free, b), PARLEY_OK);
    if (max_events)
        CHECK_INT(parley_config_set_event_limits(cfg, max_events, max_bytes), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    return pc;
}

/* The host is away: time passes until the server stops getting anywhere
 * (or has sent everything). `service` drives a host-driven client. */
static void stay_away(flood *f, parley_client *pc, int service)
{
    int64_t end = now_ms() + 15000, quiet_since = now_ms();
    int last = -1, bad = 0;
    while (now_ms() < end && atomic_load(&f->sent) < FLOOD_MSGS) {
        if (service)
            bad += parley_service(pc, 5) != PARLEY_OK;
        else
            sleep_ms(5);
        int sent = atomic_load(&f->sent);
        if (sent != last) {
            last = sent;
            quiet_since = now_ms();
        } else if (atomic_load(&f->hello) > 0 && now_ms() - quiet_since > 500) {
            break;
        }
    }
    CHECK_INT(bad, 0);
}

typedef struct tally {
    int next_seq; /* the seq the next MESSAGE must carry */
    int messages, typing, unread, other;
} tally;

static void take(tally *t, parley_event *ev)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_MESSAGE: {
        const char *seq = parley_event_seq(ev), *text = parley_event_text(ev);
        if (!seq || atoi(seq) != t->next_seq || !text || atoi(text) != t->next_seq) {
            fprintf(stderr, "message seq %s (text %.12s...) where %d was due\n", seq ? seq : "-",
                    text ? text : "-", t->next_seq);
            tl_check(0, "messages in order, none missing", __FILE__, __LINE__);
        }
        t->next_seq = seq ? atoi(seq) + 1 : t->next_seq;
        t->messages++;
        break;
    }
    case PARLEY_EV_TYPING: t->typing++; break;
    case PARLEY_EV_UNREAD: t->unread++; break;
    case PARLEY_EV_ERROR:
        fprintf(stderr, "error event: %s\n", parley_event_text(ev));
        t->other++;
        break;
    default: t->other++; break;
    }
    parley_event_free(ev);
}

/* The host is back: it polls (and services) until everything is in (the
 * last typing and unread frames follow the last message). */
static void come_back(parley_client *pc, int service, tally *t)
{
    int64_t end = now_ms() + 60000;
    int bad = 0;
    while ((t->messages < FLOOD_MSGS || t->typing + t->unread < 2 * (FLOOD_MSGS / CHATTER_EVERY)) &&
           now_ms() < end) {
        parley_event *ev;
        int got = 0;
        while (parley_poll(pc, &ev) == PARLEY_OK) {
            take(t, ev);
            got = 1;
        }
        if (service)
            bad += parley_service(pc, 5) != PARLEY_OK;
        else if (!got)
            sleep_ms(1);
    }
    CHECK_INT(bad, 0);
}

/* max_events 0: the documented defaults. */
static void run_flood(int service, uint32_t max_events, size_t max_bytes)
{
    long bound = (long)((max_events ? max_bytes : PARLEY_DEFAULT_MAX_EVENT_BYTES) + SLACK_BYTES);
    flood f;
    if (flood_start(&f, NULL, NULL) != 0) {
        CHECK(!"flood server");
        return;
    }
    bytes_alloc b = {0};
    parley_client *pc = flood_client(&f, &b, max_events, max_bytes);
    if (!pc) {
        flood_stop(&f);
        return;
    }
    long base = atomic_load(&b.live), rss0 = rss_kib();
    atomic_store(&b.peak, base);
    if (!service)
        CHECK_INT(parley_start(pc), PARLEY_OK);
    stay_away(&f, pc, service);
    long away_peak = atomic_load(&b.peak) - base, rss1 = rss_kib();
    int sent_away = atomic_load(&f.sent);

    tally t = {.next_seq = 1};
    come_back(pc, service, &t);
    long total_peak = atomic_load(&b.peak) - base;
    printf("  %s host away: server got %d of %d messages out; library peak %ld KiB over its %ld "
           "KiB at start "
           "(bound %ld KiB); process RSS %ld -> %ld KiB\n",
           service ? "host-driven" : "threaded", sent_away, FLOOD_MSGS, away_peak / 1024,
           base / 1024, bound / 1024, rss0, rss1);
    printf("  then polled: %d messages in order, %d typing, %d unread, %d other; library peak %ld "
           "KiB\n",
           t.messages, t.typing, t.unread, t.other, total_peak / 1024);

    /* The bound held while the host was away and while it caught up. */
    CHECK(away_peak <= bound);
    CHECK(total_peak <= bound);
    /* The server was held back: it could not push everything while away. */
    CHECK(sent_away < FLOOD_MSGS);
    /* Nothing was lost: every message once, in order (checked in take). */
    CHECK_INT(t.messages, FLOOD_MSGS);
    CHECK_INT(t.next_seq, FLOOD_MSGS + 1);
    CHECK(t.typing + t.unread >= 2 * (FLOOD_MSGS / CHATTER_EVERY)); /* plus an "off" of its own */
    CHECK_INT(atomic_load(&f.hello), 1);                            /* one connection all along */

    if (!service)
        CHECK_INT(parley_stop(pc), PARLEY_OK);
    parley_client_free(pc);
    CHECK_INT(atomic_load(&b.live), 0);
    flood_stop(&f);
}

static void test_threaded_host_away(void)
{
    run_flood(0, 0, 0);
}

static void test_host_driven_away(void)
{
    run_flood(1, 0, 0);
}

/* Tiny limits: reading stops after every few frames and still gets
 * everything through. */
static void test_small_limits_make_progress(void)
{
    run_flood(0, 32, 32 * 1024);
}

/* The server floods `cycle` and reads what the client answers; the host
 * polls nothing (the frames make almost no events). */
static void run_answer_flood(const char *const *cycle, const char *answer, int answers_due)
{
    flood f;
    if (flood_start(&f, cycle, answer) != 0) {
        CHECK(!"flood server");
        return;
    }
    bytes_alloc b = {0};
    parley_client *pc = flood_client(&f, &b, 0, 0);
    if (!pc) {
        flood_stop(&f);
        return;
    }
    long base = atomic_load(&b.live), bound = (long)(MAX_WRITE_BYTES + SLACK_BYTES);
    atomic_store(&b.peak, base);
    CHECK_INT(parley_start(pc), PARLEY_OK);
    int64_t end = now_ms() + 60000;
    while (now_ms() < end && atomic_load(&f.answers) < answers_due)
        sleep_ms(5);
    long peak = atomic_load(&b.peak) - base;
    printf("  %s: server sent %d frames, got %d of %d answers; library peak %ld KiB over its %ld "
           "KiB at start (bound %ld KiB)\n",
           answer, atomic_load(&f.sent), atomic_load(&f.answers), answers_due, peak / 1024,
           base / 1024, bound / 1024);
    CHECK(peak <= bound);
    CHECK_INT(atomic_load(&f.answers), answers_due); /* every answer went out */
    CHECK_INT(atomic_load(&f.hello), 1);
    CHECK_INT(parley_stop(pc), PARLEY_OK);
    parley_client_free(pc);
    CHECK_INT(atomic_load(&b.live), 0);
    flood_stop(&f);
}

/* The same proactive message again and again: each is acknowledged again. */
static void test_redelivery_flood(void)
{
    static const char *const cycle[] = {
        "{\"t\":\"proactive\",\"id\":\"p-1\",\"msg\":{\"author\":{\"kind\":\"bot\","
        "\"name\":\"Helper\"},\"text\":\"tip\",\"ts\":1763900000000}}",
        NULL};
    run_answer_flood(cycle, "\"t\":\"proactive.ack\"", ANSWER_FLOOD);
}

/* A message past a gap, then a history that does not fill it: each pair
 * asks for the history again. */
static void test_gap_flood(void)
{
    static const char *const cycle[] = {
        "{\"t\":\"msg\",\"conv\":\"c-gap\",\"id\":\"m-100\",\"seq\":\"100\",\"author\":"
        "{\"kind\":\"agent\",\"name\":\"Dana\"},\"text\":\"hi\",\"ts\":1763900000000}",
        "{\"t\":\"history.end\",\"conv\":\"c-gap\",\"last\":\"50\",\"more\":false}", NULL};
    run_answer_flood(cycle, "\"t\":\"history.get\"", ANSWER_FLOOD / 2);
}

static void test_event_limits_config(void)
{
    CHECK_INT(parley_config_set_event_limits(NULL, 10, 10), PARLEY_ERR_INVALID_ARG);
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_event_limits(cfg, 0, 0), PARLEY_OK);
    CHECK_INT(parley_config_set_event_limits(cfg, 1, 1), PARLEY_OK);
    parley_config_free(cfg);
}

int main(void)
{
    lws_set_log_level(LLL_ERR, NULL);
    RUN(test_event_limits_config);
    RUN(test_threaded_host_away);
    RUN(test_host_driven_away);
    RUN(test_small_limits_make_progress);
    RUN(test_redelivery_flood);
    RUN(test_gap_flood);
    return tl_finish();
}
