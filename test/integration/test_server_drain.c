/* The server's drain (docs/scaling.md, "Drain"): on SIGTERM it stops
 * accepting connections, tells every client to go away with reconnect
 * delays spread evenly over --drain-window-ms, commits what it acknowledged
 * and exits 0; every acknowledged message is there after a restart. Raw
 * parley.v1 frames over plain ws:// (wsc.c). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define CLIENTS 5
#define BASE_MS 1000 /* the server's GOAWAY_RECONNECT_MS */
#define WINDOW_MS 4000

static char g_dir[256];

static int hello(wsc *c, int port, const char *user)
{
    if (wsc_open(c, port, WAIT))
        return -1;
    if (wsc_sendf(c,
                  "{'t':'hello','v':1,'app':'drain-test','sdk':{'name':'raw','version':'0',"
                  "'platform':'test'},'user':{'id':'%s'}}",
                  user))
        return -1;
    return wsc_await(c, 0, "welcome", NULL, NULL, WAIT) ? 0 : -1;
}

/* The conversation c-USER with one acknowledged message m-USER. */
static int converse(wsc *c, const char *user)
{
    if (wsc_sendf(c, "{'t':'conv.start','cid':'s-%s','conv':'c-%s'}", user, user) ||
        !wsc_await(c, 0, "conv.ack", NULL, NULL, WAIT))
        return -1;
    if (wsc_sendf(c, "{'t':'msg.send','cid':'m-%s','conv':'c-%s','text':'%s before the drain'}",
                  user, user, user))
        return -1;
    return wsc_await(c, 0, "msg.ack", "cid", h_json("m-%s", user), WAIT) ? 0 : -1;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;

    return (x > y) - (x < y);
}

/* Every client got a goaway whose delays, sorted, step evenly from BASE_MS
 * to BASE_MS + WINDOW_MS, and its connection was then closed. */
static void check_goaways(wsc c[CLIENTS])
{
    double delay[CLIENTS];
    int i;

    for (i = 0; i < CLIENTS; i++) {
        const cJSON *g = wsc_await(&c[i], 0, "goaway", NULL, NULL, WAIT);

        CHECK(g != NULL);
        delay[i] = wsc_num(g, "reconnect_ms");
        CHECK_STR(wsc_str(g, "reason"), "shutdown");
        wsc_pump(&c[i], h_ms(500));
    }
    qsort(delay, CLIENTS, sizeof delay[0], cmp_double);
    for (i = 0; i < CLIENTS; i++)
        CHECK_INT((long long)delay[i], BASE_MS + (long long)WINDOW_MS * i / (CLIENTS - 1));
}

static int has_msg(const wsc *c, const char *text)
{
    for (size_t i = 0; i < c->n; i++) {
        if (wsc_matches(c->frames[i], "msg", "text", text))
            return 1;
    }
    return 0;
}

/* On event loop `loop` (the default libuv one and lws' poll()). */
static void drain_on(const char *loop)
{
    const char *const args[] = {
        "--insecure-identities", "--drain-window-ms", "4000", "--event-loop", loop, NULL};
    char user[CLIENTS][16];
    h_server s;
    wsc c[CLIENTS], late;
    int i;

    h_server_plain(&s, g_dir, loop, "drain-token", args);
    H_REQUIRE(h_server_start(&s, 0) == 0);
    for (i = 0; i < CLIENTS; i++) {
        snprintf(user[i], sizeof user[i], "player-%d", i);
        H_REQUIRE(hello(&c[i], s.port, user[i]) == 0);
        H_REQUIRE(converse(&c[i], user[i]) == 0);
    }

    kill(s.pid, SIGTERM);
    check_goaways(c);
    /* Nobody new gets in while the instance drains. */
    CHECK(wsc_open(&late, s.port, h_ms(2000)) != 0);
    wsc_close(&late);
    CHECK_INT(h_wait(s.pid, h_ms(10000)), 0);
    s.pid = -1;
    for (i = 0; i < CLIENTS; i++)
        wsc_close(&c[i]);

    /* What was acknowledged survived: each user's message is replayed. */
    H_REQUIRE(h_server_start(&s, 0) == 0);
    for (i = 0; i < CLIENTS; i++) {
        H_REQUIRE(hello(&c[i], s.port, user[i]) == 0);
        CHECK_INT(wsc_sendf(&c[i], "{'t':'history.get','conv':'c-%s','after':'0'}", user[i]), 0);
        CHECK(wsc_await(&c[i], 0, "history.end", NULL, NULL, WAIT) != NULL);
        CHECK(has_msg(&c[i], h_json("%s before the drain", user[i])));
        wsc_close(&c[i]);
    }
    h_server_stop(&s, SIGTERM);
}

static void test_drain_libuv(void)
{
    drain_on("libuv");
}

static void test_drain_poll(void)
{
    drain_on("poll");
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "srvdrain") != 0)
        return 1;
    H_RUN(test_drain_libuv);
    H_RUN(test_drain_poll);
    return h_finish(g_dir);
}
