/* A TLS connection to the server after its handshake (docs/scaling.md,
 * "Memory per connection"): the server's output record buffer shrinks to
 * about 2 KB once the handshake is over and its message buffer is freed
 * between messages, while the input record buffer must stay 16 KB. A raw
 * mbedTLS client (wsc_open_tls) that writes full 16 KB records sends,
 * after idling, frames of exactly the welcome's max_frame (twice, so the
 * message buffer is made again), reads 16 KB texts back in the server's
 * small records, and meets the limit one byte further. Any of these fails
 * if a trimmed buffer is too small: a record the server cannot take ends
 * the connection, a frame it cannot hold is refused. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define MAX_TEXT 16384 /* --max-text: the longest the server allows */

static char g_dir[256];
static h_server g_srv;

/* A text of `len` bytes that shows where a piece went missing. */
static char *pattern(size_t len, char first)
{
    char *t = malloc(len + 1);
    if (t) {
        for (size_t i = 0; i < len; i++)
            t[i] = (char)(first + (char)(i % 23));
        t[len] = '\0';
    }
    return t;
}

/* A msg.send of exactly `size` bytes carrying `text`: the rest is unknown
 * members (which the server ignores, docs/protocol.md) of at most PAD
 * bytes each, a string's limit being 16 KB, and spaces. NULL when `size`
 * is too small for the text. */
#define PAD 16000
static char *sized_msg(size_t size, const char *cid, const char *text)
{
    char *f = malloc(size + 1), *pad = pattern(PAD, 'a');
    int n = f && pad
                ? snprintf(f, size + 1,
                           "{\"t\":\"msg.send\",\"cid\":\"%s\",\"conv\":\"c-tls\",\"text\":\"%s\"",
                           cid, text)
                : -1;
    size_t len = n > 0 ? (size_t)n : size;
    for (int i = 0; len + PAD + 16 < size; i++)
        len += (size_t)snprintf(f + len, size + 1 - len, ",\"pad%d\":\"%s\"", i, pad);
    free(pad);
    if (len >= size) {
        free(f);
        return NULL;
    }
    memset(f + len, ' ', size - 1 - len);
    f[size - 1] = '}';
    f[size] = '\0';
    return f;
}

static const cJSON *find_msg(const wsc *c, const char *text)
{
    for (size_t i = 0; i < c->n; i++) {
        if (wsc_matches(c->frames[i], "msg", "text", text))
            return c->frames[i];
    }
    return NULL;
}

/* One max_frame-sized message after `idle_ms` without traffic, acknowledged. */
static void send_max_after_idle(wsc *c, size_t max_frame, const char *cid, const char *text,
                                int idle_ms)
{
    char *frame = sized_msg(max_frame, cid, text);
    H_REQUIRE(frame != NULL);
    CHECK_INT((long long)strlen(frame), (long long)max_frame);
    wsc_pump(c, idle_ms);
    CHECK_INT(wsc_send(c, frame), 0);
    free(frame);
    CHECK(wsc_await(c, 0, "msg.ack", "cid", cid, WAIT) != NULL);
}

static void test_full_records_after_idle(void)
{
    wsc c;
    char *one = pattern(MAX_TEXT, 'A'), *two = pattern(MAX_TEXT, 'B');
    H_REQUIRE(one && two);
    H_REQUIRE(wsc_open_tls(&c, g_srv.port, g_srv.ca, WAIT) == 0);
    CHECK_INT(wsc_sendf(&c, "{'t':'hello','v':1,'app':'tls-test','sdk':{'name':'raw','version':'0',"
                            "'platform':'test'},'user':{'id':'tls-player'}}"),
              0);
    const cJSON *welcome = wsc_await(&c, 0, "welcome", NULL, NULL, WAIT);
    H_REQUIRE(welcome != NULL);
    double max_frame = wsc_num(wsc_get(welcome, "limits"), "max_frame");
    CHECK_INT((long long)max_frame, 65536);
    H_REQUIRE(max_frame > 2 * MAX_TEXT);
    CHECK_INT(wsc_sendf(&c, "{'t':'conv.start','cid':'s-tls','conv':'c-tls'}"), 0);
    CHECK(wsc_await(&c, 0, "conv.ack", NULL, NULL, WAIT) != NULL);

    send_max_after_idle(&c, (size_t)max_frame, "m-one", one, h_ms(1500));
    send_max_after_idle(&c, (size_t)max_frame, "m-two", two, h_ms(1500));

    /* Both 16 KB texts come back whole, in the server's small records. */
    CHECK_INT(wsc_sendf(&c, "{'t':'history.get','conv':'c-tls','after':'0'}"), 0);
    CHECK(wsc_await(&c, 0, "history.end", NULL, NULL, WAIT) != NULL);
    CHECK(find_msg(&c, one) != NULL);
    CHECK(find_msg(&c, two) != NULL);

    /* One byte more is the limit the server states, not a broken buffer. */
    char *over = sized_msg((size_t)max_frame + 1, "m-over", one);
    H_REQUIRE(over != NULL);
    CHECK_INT(wsc_send(&c, over), 0);
    free(over);
    CHECK(wsc_await(&c, 0, "error", "code", "bad_frame", WAIT) != NULL);
    CHECK_INT((long long)wsc_count(&c, 0, "msg.ack"), 2);
    wsc_close(&c);
    free(one);
    free(two);
}

int main(void)
{
    static const char *const args[] = {
        "--insecure-identities", "--max-text", "16384", "--msg-rate", "0", NULL};
    if (tl_mkdtemp(g_dir, sizeof g_dir, "srvtls") != 0 || h_server_init(&g_srv, g_dir) != 0) {
        fprintf(stderr, "cannot prepare %s (certificates need the openssl tool)\n", g_dir);
        return 1;
    }
    g_srv.extra_args = args;
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
    H_RUN(test_full_records_after_idle);
    h_server_stop(&g_srv, SIGTERM);
    return h_finish(g_dir);
}
