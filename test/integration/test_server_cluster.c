/* Several instances on one store with fan-out over Redis (docs/scaling.md,
 * "Several instances"): what an agent does on one instance reaches a user
 * connected to another live, a user's second device on another instance
 * sees the first one's messages once, a `msg` that comes after a gap
 * (published while fan-out missed some) brings the missing ones from the
 * store first and in order, a `msg` published again is not delivered
 * twice, and POST /api/admin/drain drains an instance as SIGTERM does.
 * Raw parley.v1 frames over plain ws:// (wsc.c); a private Redis on a
 * loopback port (test/services/services.sh; skipped, 77, without
 * redis-server). */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(15000)

static char g_dir[256];
static char g_redis[128];

static int hello(wsc *c, int port, const char *user)
{
    if (wsc_open(c, port, WAIT))
        return -1;
    if (wsc_sendf(c,
                  "{'t':'hello','v':1,'app':'cluster-test','sdk':{'name':'raw','version':'0',"
                  "'platform':'test'},'user':{'id':'%s'}}",
                  user))
        return -1;
    return wsc_await(c, 0, "welcome", NULL, NULL, WAIT) ? 0 : -1;
}

/* Instance `name` on the shared database; with fan-out unless `alone`. */
static void instance(h_server *s, const char *name, int alone)
{
    static const char *args[2][8];
    const char *const *a;

    args[0][0] = "--insecure-identities";
    args[0][1] = "--drain-window-ms";
    args[0][2] = "500";
    args[0][3] = "--redis";
    args[0][4] = g_redis;
    args[1][0] = "--insecure-identities";
    a = alone ? args[1] : args[0];
    h_server_plain(s, g_dir, name, "cluster-token", a);
    snprintf(s->db, sizeof s->db, "%s/shared.db", g_dir);
    H_REQUIRE(h_server_start(s, 0) == 0);
}

/* Starts conversation `conv` on `c`'s connection, acknowledged. */
static void start_conv(wsc *c, const char *conv)
{
    CHECK_INT(wsc_sendf(c, "{'t':'conv.start','cid':'s-1','conv':'%s'}", conv), 0);
    CHECK(wsc_await(c, 0, "conv.ack", NULL, NULL, WAIT) != NULL);
}

static void post(const h_server *s, const char *conv, const char *text)
{
    CHECK_INT(h_api(s, "POST", h_json("/api/conversations/%s/messages", conv),
                    h_json("{\"text\":\"%s\",\"name\":\"Dana\"}", text), NULL),
              201);
}

/* The seq of the `msg` frames from index `from` on whose text starts with
 * `prefix`, in arrival order, into seq[] (at most max); how many. */
static size_t msgs_with(const wsc *c, size_t from, const char *prefix, long long *seq, size_t max)
{
    size_t i, n = 0;

    for (i = from; i < c->n && n < max; i++) {
        const char *text = wsc_str(c->frames[i], "text");

        if (wsc_matches(c->frames[i], "msg", NULL, NULL) && text &&
            strncmp(text, prefix, strlen(prefix)) == 0)
            seq[n++] = atoll(wsc_str(c->frames[i], "seq"));
    }
    return n;
}

static int online(const h_server *s, const char *user)
{
    cJSON *o = NULL;
    int on;

    CHECK_INT(h_api_json(s, "GET", h_json("/api/admin/online/%s", user), NULL, &o), 200);
    on = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "online"));
    cJSON_Delete(o);
    return on;
}

/* A on one instance, the agent on the other: messages, typing, the
 * user's own message on a second device connected to the other instance,
 * and the console's live channel on the other instance. */
static void test_across_instances(void)
{
    h_server a, b;
    wsc phone, tablet, console;
    long long seq[8];

    instance(&a, "a", 0);
    instance(&b, "b", 0);
    H_REQUIRE(wsc_open_agent(&console, b.port, "cluster-token", WAIT) == 0);
    H_REQUIRE(hello(&phone, a.port, "ana") == 0);
    H_REQUIRE(hello(&tablet, b.port, "ana") == 0);
    CHECK(online(&a, "ana"));
    CHECK(online(&b, "ana"));
    start_conv(&phone, "c-ana");
    CHECK_INT(wsc_sendf(&phone, "{'t':'msg.send','cid':'m-1','conv':'c-ana','text':'u-hello'}"), 0);
    CHECK(wsc_await(&phone, 0, "msg.ack", "cid", "m-1", WAIT) != NULL);
    /* The other device, on the other instance, sees it live, and so does
     * the console there. */
    CHECK(wsc_await(&tablet, 0, "msg", "text", "u-hello", WAIT) != NULL);
    CHECK(wsc_await(&console, 0, "msg", "conv", "c-ana", WAIT) != NULL);

    post(&b, "c-ana", "a-reply");
    CHECK(wsc_await(&phone, 0, "msg", "text", "a-reply", WAIT) != NULL);
    CHECK(wsc_await(&tablet, 0, "msg", "text", "a-reply", WAIT) != NULL);
    CHECK_INT(h_api(&b, "POST", "/api/conversations/c-ana/typing", "{\"on\":true}", NULL), 200);
    CHECK(wsc_await(&phone, 0, "typing", "conv", "c-ana", WAIT) != NULL);

    /* Once each: nothing arrives twice however long we wait. */
    wsc_pump(&phone, h_ms(500));
    wsc_pump(&tablet, h_ms(500));
    CHECK_INT(msgs_with(&phone, 0, "a-reply", seq, 8), 1);
    CHECK_INT(msgs_with(&tablet, 0, "a-reply", seq, 8), 1);
    CHECK_INT(msgs_with(&tablet, 0, "u-hello", seq, 8), 1);
    CHECK_INT(msgs_with(&phone, 0, "u-hello", seq, 8), 0); /* it had the ack */
    wsc_close(&phone);
    wsc_close(&tablet);
    wsc_close(&console);
    h_server_stop(&a, SIGTERM);
    h_server_stop(&b, SIGTERM);
}

/* Fan-out is at most once: messages stored by an instance that published
 * nothing (one without --redis stands for Redis being away) are missed
 * live; the next one published makes the connection read them from the
 * store first, so the client gets all of them once, in seq order. */
static void test_gap_is_filled_in_order(void)
{
    h_server a, b, mute;
    wsc c;
    long long seq[16];
    size_t n, i, before;

    instance(&a, "gap-a", 0);
    instance(&b, "gap-b", 0);
    instance(&mute, "gap-mute", 1);
    H_REQUIRE(hello(&c, a.port, "gus") == 0);
    start_conv(&c, "c-gus");
    post(&b, "c-gus", "g-1");
    CHECK(wsc_await(&c, 0, "msg", "text", "g-1", WAIT) != NULL);
    before = c.n;
    post(&mute, "c-gus", "g-2");
    post(&mute, "c-gus", "g-3");
    wsc_pump(&c, h_ms(300));
    CHECK_INT(msgs_with(&c, before, "g-", seq, 16), 0);
    post(&b, "c-gus", "g-4");
    CHECK(wsc_await(&c, 0, "msg", "text", "g-4", WAIT) != NULL);
    wsc_pump(&c, h_ms(500));
    n = msgs_with(&c, 0, "g-", seq, 16);
    CHECK_INT(n, 4);
    for (i = 1; i < n; i++)
        CHECK_INT(seq[i], seq[i - 1] + 1);
    wsc_close(&c);
    h_server_stop(&a, SIGTERM);
    h_server_stop(&b, SIGTERM);
    h_server_stop(&mute, SIGTERM);
}

/* The same `msg` published again (Redis redelivers nothing, but another
 * instance may publish what this one already read from the store) is not
 * delivered again. */
static void test_republished_msg_not_twice(void)
{
    char *const cli[] = {"redis-cli",
                         "-u",
                         g_redis,
                         "PUBLISH",
                         "parley:events",
                         (char *)h_json("someone-else\nm\nrita\nc-rita\n1\n"
                                        "{\"t\":\"msg\",\"conv\":\"c-rita\",\"id\":\"m-1\","
                                        "\"seq\":\"1\",\"author\":{\"kind\":\"agent\"},"
                                        "\"text\":\"r-1\"}"),
                         NULL};
    char *copy = strdup(cli[5]);
    char *argv[7];
    h_server a, b;
    wsc c;
    long long seq[4];

    memcpy(argv, cli, sizeof cli);
    argv[5] = copy;
    instance(&a, "dup-a", 0);
    instance(&b, "dup-b", 0);
    H_REQUIRE(hello(&c, a.port, "rita") == 0);
    start_conv(&c, "c-rita");
    post(&b, "c-rita", "r-1");
    CHECK(wsc_await(&c, 0, "msg", "text", "r-1", WAIT) != NULL);
    CHECK_INT(h_run(argv, NULL, NULL, NULL, h_ms(5000)), 0);
    wsc_pump(&c, h_ms(700));
    CHECK_INT(msgs_with(&c, 0, "r-1", seq, 4), 1);
    free(copy);
    wsc_close(&c);
    h_server_stop(&a, SIGTERM);
    h_server_stop(&b, SIGTERM);
}

/* The admin's drain: 401 without credentials, 202 with the API token; the
 * connections get goaway, the instance exits 0, the other one stays. */
static void test_admin_drain(void)
{
    const h_http anon = {"POST", "/api/admin/drain", "{}", NULL, 1, NULL};
    h_server a, b;
    wsc c;

    instance(&a, "drain-a", 0);
    instance(&b, "drain-b", 0);
    H_REQUIRE(hello(&c, a.port, "dora") == 0);
    CHECK_INT(h_http_call(&a, &anon, NULL, NULL), 401);
    CHECK_INT(h_api(&a, "POST", "/api/admin/drain", "{}", NULL), 202);
    CHECK(wsc_await(&c, 0, "goaway", NULL, NULL, WAIT) != NULL);
    CHECK_INT(h_wait(a.pid, h_ms(10000)), 0);
    a.pid = -1;
    CHECK_INT(h_api(&b, "GET", "/api/admin/instance", NULL, NULL), 200);
    wsc_close(&c);
    h_server_stop(&b, SIGTERM);
}

/* A private Redis for the whole run; 77 when redis-server is absent. */
static int start_redis(void)
{
    char *const argv[] = {PARLEY_SERVICES, "redis", "start", (char *)h_json("%s/redis", g_dir),
                          NULL};
    char path[512];
    FILE *f;
    int rc = h_run(argv, NULL, NULL, NULL, h_ms(30000));

    if (rc == 77) {
        fprintf(stderr, "test_server_cluster: skipped: redis-server is not installed\n");
        return 77;
    }
    snprintf(path, sizeof path, "%s/redis/url", g_dir);
    f = fopen(path, "r");
    if (rc != 0 || !f || !fgets(g_redis, sizeof g_redis, f)) {
        if (f)
            fclose(f);
        fprintf(stderr, "test_server_cluster: Redis did not start\n");
        return 1;
    }
    fclose(f);
    g_redis[strcspn(g_redis, "\n")] = '\0';
    return 0;
}

static void stop_redis(void)
{
    char *const argv[] = {PARLEY_SERVICES, "redis", "stop", (char *)h_json("%s/redis", g_dir),
                          NULL};

    h_run(argv, NULL, NULL, NULL, h_ms(10000));
}

int main(void)
{
    int rc;

    if (tl_mkdtemp(g_dir, sizeof g_dir, "srvcluster") != 0)
        return 1;
    rc = start_redis();
    if (rc)
        return rc;
    H_RUN(test_across_instances);
    H_RUN(test_gap_is_filled_in_order);
    H_RUN(test_republished_msg_not_twice);
    H_RUN(test_admin_drain);
    stop_redis();
    return h_finish(g_dir);
}
