/* Two servers on one PostgreSQL database (docs/scaling.md, "The
 * PostgreSQL store"): one user's two devices, each connected to another
 * server, write into one conversation in turns; each server's history of
 * it holds every message, numbered 1..N without a gap or a repeat, and
 * each device's acknowledgements carry the numbers that history shows.
 * Live delivery between the servers is not the store's (no fan-out yet):
 * this is what the database shares. Run with PARLEY_TEST_STORE=pg only. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define TURNS 12

static char g_dir[256];

static int hello(wsc *c, int port)
{
    if (wsc_open(c, port, WAIT) ||
        wsc_sendf(c, "{'t':'hello','v':1,'app':'shared-test','sdk':{'name':'raw','version':'0',"
                     "'platform':'test'},'user':{'id':'two-devices'}}"))
        return -1;
    return wsc_await(c, 0, "welcome", NULL, NULL, WAIT) ? 0 : -1;
}

/* Sends message `i` on `c`; its sequence number, or -1. */
static long send_one(wsc *c, int i)
{
    const cJSON *ack;

    if (wsc_sendf(c, "{'t':'msg.send','cid':'m-%d','conv':'c-shared','text':'turn %d'}", i, i))
        return -1;
    ack = wsc_await(c, 0, "msg.ack", "cid", h_json("m-%d", i), WAIT);
    return ack && wsc_str(ack, "seq") ? strtol(wsc_str(ack, "seq"), NULL, 10) : -1;
}

/* The history of c-shared as `c` gets it (from its seq 1 on): 1 when its
 * messages are numbered 1..N in order and hold every turn with its
 * acknowledged seq. */
static int history_whole(wsc *c, const long seqs[TURNS])
{
    size_t mark = c->n, i;
    long next = 1;
    int turns = 0;

    if (wsc_sendf(c, "{'t':'history.get','conv':'c-shared','after':'0'}") ||
        !wsc_await(c, mark, "history.end", NULL, NULL, WAIT))
        return 0;
    for (i = mark; i < c->n; i++) {
        const cJSON *m = c->frames[i];
        const char *seq = wsc_str(m, "seq"), *text = wsc_str(m, "text");
        int turn;

        /* A bot's answer to the last turn may still come live first. */
        if (!wsc_matches(m, "msg", NULL, NULL) || (next == 1 && seq && strcmp(seq, "1") != 0))
            continue;
        if (!seq || strtol(seq, NULL, 10) != next++)
            return 0;
        if (text && sscanf(text, "turn %d", &turn) == 1 && turn >= 0 && turn < TURNS) {
            turns++;
            if (seqs[turn] != next - 1)
                return 0;
        }
    }
    return turns == TURNS;
}

static void test_two_servers_one_conversation(void)
{
    h_server a, b;
    wsc ca, cb;
    long seqs[TURNS];
    int i;

    h_server_plain(&a, g_dir, "server-a", "shared-token", h_insecure_identities);
    h_server_plain(&b, g_dir, "server-b", "shared-token", h_insecure_identities);
    snprintf(b.db, sizeof b.db, "%s", a.db); /* the same database */
    H_REQUIRE(h_server_start(&a, 0) == 0);
    H_REQUIRE(h_server_start(&b, 0) == 0);
    H_REQUIRE(hello(&ca, a.port) == 0);
    H_REQUIRE(hello(&cb, b.port) == 0);
    CHECK_INT(wsc_sendf(&ca, "{'t':'conv.start','cid':'s-1','conv':'c-shared'}"), 0);
    CHECK(wsc_await(&ca, 0, "conv.ack", NULL, NULL, WAIT) != NULL);
    for (i = 0; i < TURNS; i++) {
        seqs[i] = send_one(i % 2 ? &cb : &ca, i);
        CHECK(seqs[i] > 0);
    }
    CHECK(history_whole(&ca, seqs));
    CHECK(history_whole(&cb, seqs));
    wsc_close(&ca);
    wsc_close(&cb);
    CHECK_INT(h_server_stop(&a, SIGTERM), 0);
    CHECK_INT(h_server_stop(&b, SIGTERM), 0);
}

int main(void)
{
    if (!h_store_pg())
        tl_skip_all("two servers share a database on PostgreSQL: PARLEY_TEST_STORE=pg");
    if (tl_mkdtemp(g_dir, sizeof g_dir, "srvshared") != 0)
        return 1;
    H_RUN(test_two_servers_one_conversation);
    return h_finish(g_dir);
}
