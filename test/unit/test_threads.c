/* The facade used from several threads at once, without a server: the
 * anonymous id read while another thread logs out, and host calls made
 * while the I/O thread runs its reconnect loop. Labelled "threaded", so
 * `make test-tsan` runs it under ThreadSanitizer, which turns any unlocked
 * access into a failure; the checks below also catch what a race would
 * leave behind (a torn id). */
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "parley.h"
#include "testlib.h"

#define LOGOUTS 200
#define MAX_READS 100000

static parley_client *new_client(const char *url)
{
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, url), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "test-app"), PARLEY_OK);
    CHECK_INT(parley_config_set_reconnect(cfg, 10, 50), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    return pc;
}

typedef struct reader {
    parley_client *pc;
    atomic_int started, stop;
    char (*seen)[PARLEY_ID_SIZE];
    int n;
    int failed;
} reader;

static void *read_ids(void *arg)
{
    reader *r = arg;
    while (!atomic_load(&r->stop) && r->n < MAX_READS) {
        if (parley_anonymous_id(r->pc, r->seen[r->n], PARLEY_ID_SIZE) != PARLEY_OK)
            r->failed++;
        else
            r->n++;
        atomic_store(&r->started, 1);
    }
    return NULL;
}

static int minted(char (*ids)[PARLEY_ID_SIZE], int n, const char *id)
{
    for (int i = 0; i < n; i++)
        if (strcmp(ids[i], id) == 0)
            return 1;
    return 0;
}

/* Every id the reader saw must be one the client really held: a read that
 * overlapped a logout's write would mix two ids. */
static void test_anonymous_id_during_logout(void)
{
    parley_client *pc = new_client("wss://127.0.0.1:1/");
    static char ids[LOGOUTS + 1][PARLEY_ID_SIZE];
    reader r = {.pc = pc, .seen = calloc(MAX_READS, PARLEY_ID_SIZE)};
    atomic_init(&r.started, 0);
    atomic_init(&r.stop, 0);
    CHECK_INT(parley_anonymous_id(pc, ids[0], sizeof ids[0]), PARLEY_OK);
    pthread_t th;
    CHECK_INT(pthread_create(&th, NULL, read_ids, &r), 0);
    /* The logouts must overlap the reads, however the threads are scheduled. */
    while (!atomic_load(&r.started))
        sched_yield();
    for (int i = 1; i <= LOGOUTS; i++) {
        CHECK_INT(parley_logout(pc), PARLEY_OK);
        CHECK_INT(parley_anonymous_id(pc, ids[i], sizeof ids[i]), PARLEY_OK);
    }
    atomic_store(&r.stop, 1);
    pthread_join(th, NULL);
    CHECK_INT(r.failed, 0);
    CHECK(r.n > 0);
    int foreign = 0;
    for (int i = 0; i < r.n; i++)
        foreign += !minted(ids, LOGOUTS + 1, r.seen[i]);
    CHECK_INT(foreign, 0);
    CHECK(strcmp(ids[0], ids[LOGOUTS]) != 0);
    char small[8];
    CHECK_INT(parley_anonymous_id(pc, small, sizeof small), PARLEY_ERR_INVALID_ARG);
    free(r.seen);
    parley_client_free(pc);
}

/* The I/O thread keeps failing to connect (nothing listens on port 1) and
 * retrying, while the host's thread queues messages, sets context, polls
 * and logs out: every call is answered and the outbox counts what it
 * should. */
static void test_host_calls_while_io_thread_runs(void)
{
    parley_client *pc = new_client("wss://127.0.0.1:1/");
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(parley_conversation_start(pc, "help", conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_start(pc), PARLEY_OK);
    int reconnecting = 0, sent = 0;
    for (int i = 0; i < 200; i++) {
        char text[32];
        snprintf(text, sizeof text, "message %d", i);
        if (i < 50 && parley_send_text(pc, conv, text, NULL, 0) == PARLEY_OK)
            sent++;
        CHECK_INT(parley_set_attribute_num(pc, "level", i), PARLEY_OK);
        CHECK_INT(parley_set_screen(pc, i % 2 ? "shop" : "map"), PARLEY_OK);
        parley_event *ev;
        while (parley_poll(pc, &ev) == PARLEY_OK) {
            reconnecting += parley_event_type(ev) == PARLEY_EV_CONNECTION &&
                            parley_event_state(ev) == PARLEY_CONN_RECONNECTING;
            parley_event_free(ev);
        }
        struct timespec ts = {0, 1000 * 1000};
        nanosleep(&ts, NULL);
    }
    uint32_t n = 0;
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(sent, 50);
    CHECK_INT(n, 51);
    CHECK(reconnecting > 0);
    CHECK_INT(parley_logout(pc), PARLEY_OK);
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    CHECK_INT(parley_stop(pc), PARLEY_OK);
    parley_client_free(pc);
}

int main(void)
{
    RUN(test_anonymous_id_during_logout);
    RUN(test_host_calls_while_io_thread_runs);
    return tl_finish();
}
