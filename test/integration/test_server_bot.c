/* The reference server's bot flows, knowledge base, structured content,
 * agent API (assign, hand back, close, reopen, typing, read, queue), typing,
 * read marks, unread counts and the requests (conv.list, history.page,
 * kb.search, kb.get), driven with raw parley.v1 frames over plain ws:// and
 * curl for the HTTP API. The server runs the shipped example flow and
 * knowledge base (examples/server/flows/support.json, examples/server/kb),
 * whose bot greets in answer to the user's first message; one test runs a
 * flow of its own that greets on conv.start. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define TOKEN "bot-agent-token"
#define GREETING "Hi! Thanks for reaching out"

static char g_dir[256];
static char g_db[H_PATH], g_ready[H_PATH], g_log[H_PATH];
static pid_t g_pid = -1;
static int g_port;

/* ---- the server ---------------------------------------------------------- */

static void sub_path(char *out, const char *name)
{
    snprintf(out, H_PATH, "%s/%s", g_dir, name);
}

static int read_port(void)
{
    char *s = tl_read_file(g_ready, NULL);
    long port = s ? strtol(s, NULL, 10) : 0;
    free(s);
    return port > 0 && port < 65536 ? (int)port : 0;
}

/* With `bot` NULL, the shipped flow and knowledge base: no --bot, no --kb. */
static int server_start(const char *db_name, const char *bot)
{
    char *argv[] = {PARLEY_SERVER_BIN, "--port", "0", "--ready-file", g_ready, "--db", g_db,
                    "--agent-token", TOKEN, "--insecure-identities", bot ? "--bot" : NULL,
                    (char *)bot, NULL};
    sub_path(g_db, db_name);
    unlink(g_ready);
    g_pid = h_spawn(argv, NULL, g_log, g_log);
    int64_t deadline = h_now_ms() + WAIT;
    while (g_pid > 0 && h_now_ms() < deadline) {
        g_port = read_port();
        if (g_port)
            return 0;
        usleep(10000);
    }
    return -1;
}

static int server_stop(void)
{
    if (g_pid <= 0)
        return -1;
    kill(g_pid, SIGTERM);
    int rc = h_wait(g_pid, WAIT);
    g_pid = -1;
    return rc;
}

static int server_alive(void)
{
    return g_pid > 0 && kill(g_pid, 0) == 0;
}

/* One API call through curl: the HTTP status and the parsed body (*out, may
 * be NULL; free with cJSON_Delete). The body goes through a file, so it may
 * be larger than a command line. */
static int api(const char *method, const char *path, const char *body, cJSON **out)
{
    static unsigned calls;
    char url[256], out_path[H_PATH + 32], code_path[H_PATH + 32], body_path[H_PATH + 32],
        data[H_PATH + 40];
    unsigned n = ++calls;
    snprintf(url, sizeof url, "http://127.0.0.1:%d%s", g_port, path);
    snprintf(out_path, sizeof out_path, "%s/api-%u.body", g_dir, n);
    snprintf(code_path, sizeof code_path, "%s/api-%u.code", g_dir, n);
    snprintf(body_path, sizeof body_path, "%s/api-%u.req", g_dir, n);
    snprintf(data, sizeof data, "@%s", body_path);
    if (body && h_write_file(body_path, body))
        return -1;
    char *argv[] = {"curl", "-sS", "--max-time", "20", "-H", "Authorization: Bearer " TOKEN,
                    "-H", "Content-Type: application/json", "-o", out_path, "-w", "%{http_code}",
                    "-X", (char *)method, url, body ? "--data-binary" : NULL, data, NULL};
    int rc = h_run(argv, NULL, code_path, NULL, WAIT);
    char *code = tl_read_file(code_path, NULL);
    int status = rc == 0 && code ? atoi(code) : -1;
    free(code);
    if (out) {
        char *text = tl_read_file(out_path, NULL);
        *out = text ? cJSON_Parse(text) : NULL;
        free(text);
    }
    return status;
}

static int api_conv_post(const char *conv, const char *action, const char *body, cJSON **out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/%s", conv, action);
    return api("POST", path, body, out);
}

/* ---- frames -------------------------------------------------------------- */

static int hello(wsc *c, const char *user)
{
    char frame[512];
    if (wsc_open(c, g_port, WAIT))
        return -1;
    snprintf(frame, sizeof frame,
             "{\"t\":\"hello\",\"v\":1,\"app\":\"bot-test\",\"sdk\":{\"name\":\"raw\","
             "\"version\":\"0\",\"platform\":\"test\"},\"user\":{\"id\":\"%s\"}}",
             user);
    if (wsc_send(c, frame))
        return -1;
    return wsc_await(c, 0, "welcome", NULL, NULL, WAIT) ? 0 : -1;
}

/* Everything the server sent in answer to earlier frames has arrived once
 * the answer to a fresh request has: it handles a connection's frames in
 * order. */
static void sync_frames(wsc *c)
{
    static unsigned n;
    char req[32], frame[64];
    snprintf(req, sizeof req, "sync-%u", ++n);
    snprintf(frame, sizeof frame, "{\"t\":\"conv.list\",\"req\":\"%s\"}", req);
    CHECK_INT(wsc_send(c, frame), 0);
    CHECK(wsc_await(c, 0, "conv.list", "req", req, WAIT) != NULL);
}

static const cJSON *request(wsc *c, const char *frame, const char *type, const char *req)
{
    CHECK_INT(wsc_send(c, frame), 0);
    const cJSON *f = wsc_await(c, 0, type, "req", req, WAIT);
    if (!f)
        fprintf(stderr, "  no '%s' answered %s\n", type, frame);
    return f;
}

static const char *error_code_for(wsc *c, const char *frame, const char *key, const char *value)
{
    size_t mark = c->n;
    CHECK_INT(wsc_send(c, frame), 0);
    const cJSON *e = wsc_await(c, mark, "error", key, value, WAIT);
    if (!e)
        fprintf(stderr, "  no error for %s\n", frame);
    return e ? wsc_str(e, "code") : NULL;
}

/* Sends a frame the server must refuse; the error carries `key`=`value`
 * (NULL: any error). */
static void expect_error(wsc *c, const char *frame, const char *key, const char *value,
                         const char *code)
{
    const char *got = error_code_for(c, frame, key, value);
    if (!got || strcmp(got, code) != 0)
        fprintf(stderr, "  %s -> %s, expected %s\n", frame, got ? got : "(none)", code);
    CHECK_STR(got, code);
}

static void send_start(wsc *c, const char *conv, const char *subject)
{
    char frame[256];
    size_t mark = c->n;
    snprintf(frame, sizeof frame, "{\"t\":\"conv.start\",\"cid\":\"start-%s\",\"conv\":\"%s\"%s%s%s}",
             conv, conv, subject ? ",\"subject\":\"" : "", subject ? subject : "",
             subject ? "\"" : "");
    CHECK_INT(wsc_send(c, frame), 0);
    CHECK(wsc_await(c, mark, "conv.ack", "conv", conv, WAIT) != NULL);
}

static const cJSON *say(wsc *c, const char *conv, const char *cid, const char *text,
                        const char *msg, const char *option);

/* Starts `conv`, writes "hello" in it (seq 1) and returns the bot's
 * greeting (seq 2). */
static const cJSON *start_conv(wsc *c, const char *conv, const char *subject)
{
    char cid[160];
    send_start(c, conv, subject);
    size_t mark = c->n;
    snprintf(cid, sizeof cid, "first-%s", conv);
    CHECK(say(c, conv, cid, "hello", NULL, NULL) != NULL);
    const cJSON *greeting = wsc_await(c, mark, "msg", "conv", conv, WAIT);
    CHECK(greeting != NULL);
    CHECK_STR(wsc_str(greeting, "seq"), "2");
    return greeting;
}

/* Sends a user message (a postback when `msg` is not NULL) and returns its
 * ack. */
static const cJSON *say(wsc *c, const char *conv, const char *cid, const char *text,
                        const char *msg, const char *option)
{
    char frame[1024];
    if (msg)
        snprintf(frame, sizeof frame,
                 "{\"t\":\"msg.send\",\"cid\":\"%s\",\"conv\":\"%s\",\"text\":\"%s\","
                 "\"postback\":{\"msg\":\"%s\",\"option\":\"%s\"}}",
                 cid, conv, text, msg, option);
    else
        snprintf(frame, sizeof frame,
                 "{\"t\":\"msg.send\",\"cid\":\"%s\",\"conv\":\"%s\",\"text\":\"%s\"}", cid, conv,
                 text);
    CHECK_INT(wsc_send(c, frame), 0);
    const cJSON *ack = wsc_await(c, 0, "msg.ack", "cid", cid, WAIT);
    if (!ack)
        fprintf(stderr, "  no msg.ack for %s\n", frame);
    return ack;
}

/* The next message of `conv` at or after `mark` (the bot's answer). */
static const cJSON *next_msg(wsc *c, size_t mark, const char *conv)
{
    const cJSON *m = wsc_await(c, mark, "msg", "conv", conv, WAIT);
    if (!m)
        fprintf(stderr, "  no msg in %s\n", conv);
    return m;
}

static const char *author_kind(const cJSON *m)
{
    return wsc_str(wsc_get(m, "author"), "kind");
}

/* The label of option/button `id` in a message's blocks (NULL: none). */
static const char *option_label(const cJSON *m, const char *id)
{
    const cJSON *b, *o;
    cJSON_ArrayForEach(b, wsc_get(m, "blocks"))
    {
        const cJSON *lists[2] = {wsc_get(b, "options"), wsc_get(b, "buttons")};
        for (int i = 0; i < 2; i++) {
            cJSON_ArrayForEach(o, lists[i])
            {
                if (wsc_str(o, "id") && strcmp(wsc_str(o, "id"), id) == 0)
                    return wsc_str(o, "label");
            }
        }
    }
    return NULL;
}

static int has_text(const cJSON *m, const char *needle)
{
    const char *t = wsc_str(m, "text");
    return t && strstr(t, needle) != NULL;
}

static int array_has(const cJSON *arr, const char *s)
{
    const cJSON *it;
    cJSON_ArrayForEach(it, arr)
    {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

/* ---- startup ------------------------------------------------------------- */

/* Runs the server with `args` (after --port 0 --db) and returns its exit
 * status; its stderr must mention `expect`. */
static int refused(const char *const *args, const char *expect)
{
    char err[H_PATH], db[H_PATH];
    char *argv[16] = {PARLEY_SERVER_BIN, "--port", "0", "--db", db};
    size_t a = 5;
    sub_path(err, "refused.log");
    sub_path(db, "refused.db");
    for (size_t i = 0; args[i] && a < 15; i++)
        argv[a++] = (char *)args[i];
    argv[a] = NULL;
    unlink(err);
    int rc = h_run(argv, NULL, NULL, err, WAIT);
    char *log = tl_read_file(err, NULL);
    if (!log || !strstr(log, expect))
        fprintf(stderr, "  log lacks '%s': %s\n", expect, log ? log : "(none)");
    CHECK(log && strstr(log, expect));
    free(log);
    return rc;
}

static int refused_flow(const char *flow_text, const char *expect)
{
    char path[H_PATH];
    sub_path(path, "bad-flow.json");
    CHECK_INT(h_write_file(path, flow_text), 0);
    const char *args[] = {"--bot", path, NULL};
    return refused(args, expect);
}

#define NODE_OK "\"a\":{\"text\":\"hi\"}"

static void test_bad_flow_refused(void)
{
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{" NODE_OK "}", "not valid JSON"), 2);
    CHECK_INT(refused_flow("{\"start\":\"zz\",\"nodes\":{" NODE_OK "}}", "start names no node"), 2);
    CHECK_INT(refused_flow("{\"nodes\":{" NODE_OK "}}", "start (the greeting node's id) is required"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{\"a\":{\"text\":\"hi\","
                           "\"postbacks\":{\"x\":\"nowhere\"}}}}",
                           "node \"a\": postbacks names no node"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{\"a\":{\"text\":\"hi\",\"blocks\":["
                           "{\"kind\":\"quick_replies\",\"options\":[]}]}}}",
                           "options must hold 1 to 13 entries"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{\"a\":{\"text\":\"hi\",\"blocks\":["
                           "{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"b\",\"label\":\"x\","
                           "\"action\":\"url\",\"url\":\"javascript:alert(1)\"}]}]}}}",
                           "url must be an http or https URL"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{" NODE_OK ",\"f\":{\"type\":\"faq\"}}}",
                           "needs no_match"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{" NODE_OK ",\"f\":{\"type\":\"faq\","
                           "\"no_match\":\"no\",\"article\":\"no-such-article\"}}}",
                           "is not in the knowledge base"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{\"a\":{\"text\":\"hi\",\"postback\":{}}}}",
                           "unknown member \"postback\""), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"nodes\":{\"a\":{\"type\":\"video\",\"text\":\"x\"}}}",
                           "type must be"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"keywords\":[{\"any\":[],\"next\":\"a\"}],"
                           "\"nodes\":{" NODE_OK "}}",
                           "\"any\" must be an array"), 2);
    CHECK_INT(refused_flow("{\"start\":\"a\",\"greet\":\"later\",\"nodes\":{" NODE_OK "}}",
                           "greet must be"), 2);
    CHECK_INT(refused_flow("{\"start\":\"f\",\"nodes\":{\"f\":{\"type\":\"faq\",\"no_match\":\"no\"}}}",
                           "start: an faq node without query or article"), 2);
    const char *missing[] = {"--bot", "/nonexistent/flow.json", NULL};
    CHECK_INT(refused(missing, "cannot read the file"), 2);

    /* A knowledge base article without its title line. */
    char kb[H_PATH], article[H_PATH + 16];
    sub_path(kb, "bad-kb");
    CHECK_INT(mkdir(kb, 0700), 0);
    snprintf(article, sizeof article, "%s/untitled.md", kb);
    CHECK_INT(h_write_file(article, "no title here\n"), 0);
    const char *bad_kb[] = {"--kb", kb, NULL};
    CHECK_INT(refused(bad_kb, "untitled.md: the first line must be the title"), 2);
    const char *no_kb[] = {"--kb", "/nonexistent/kb", NULL};
    CHECK_INT(refused(no_kb, "cannot open the directory"), 2);
}

/* A flow of its own: greets on conv.start, a node's keyword rule, an FAQ
 * node with a fixed query, and silence where no rule matches. */
static const char custom_flow[] =
    "{\"bot\":\"Helper\",\"start\":\"hi\",\"greet\":\"conv.start\","
    " \"nodes\":{"
    "  \"hi\":{\"text\":\"Hello from the custom flow\","
    "   \"keywords\":[{\"any\":[\"money back\",\"REFUND\"],\"next\":\"refund\"}]},"
    "  \"refund\":{\"type\":\"faq\",\"query\":\"refund\",\"text\":\"About refunds:\","
    "   \"no_match\":\"Nothing about refunds\"}}}";

static void test_greet_on_start(void)
{
    char path[H_PATH];
    sub_path(path, "custom-flow.json");
    CHECK_INT(h_write_file(path, custom_flow), 0);
    if (server_start("custom.db", path)) {
        CHECK(!"the server with the custom flow did not start");
        return;
    }
    wsc c;
    if (hello(&c, "custom-user")) {
        CHECK(!"hello");
        wsc_close(&c);
        server_stop();
        return;
    }
    size_t mark = c.n;
    send_start(&c, "c-custom", NULL);
    const cJSON *greeting = next_msg(&c, mark, "c-custom");
    CHECK_STR(wsc_str(greeting, "seq"), "1");
    CHECK_STR(wsc_str(wsc_get(greeting, "author"), "name"), "Helper");
    CHECK_STR(wsc_str(greeting, "text"), "Hello from the custom flow");
    CHECK(wsc_get(greeting, "blocks") == NULL);
    const cJSON *un = wsc_await(&c, mark, "unread", "conv", "c-custom", WAIT);
    CHECK(un && wsc_num(un, "count") == 1);

    mark = c.n;
    CHECK(say(&c, "c-custom", "cu-1", "I want my Money Back!", NULL, NULL) != NULL);
    const cJSON *answer = next_msg(&c, mark, "c-custom");
    CHECK(has_text(answer, "About refunds:\n\nRefunds\n"));
    mark = c.n;
    CHECK(say(&c, "c-custom", "cu-2", "something else entirely", NULL, NULL) != NULL);
    sync_frames(&c);
    CHECK_INT(wsc_count(&c, mark, "msg"), 0);
    cJSON *conv = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-custom", NULL, &conv), 200);
    CHECK(array_has(wsc_get(wsc_get(conv, "bot_notes"), "questions"), "something else entirely"));
    CHECK(array_has(wsc_get(wsc_get(conv, "bot_notes"), "articles"), "refunds"));
    CHECK_STR(wsc_str(conv, "state"), "bot");
    cJSON_Delete(conv);
    wsc_close(&c);
    CHECK_INT(server_stop(), 0);
}

/* ---- the bot --------------------------------------------------------------- */

static void test_greeting_and_postbacks(void)
{
    int failed_before = tl_failed;
    wsc c;
    if (hello(&c, "bot-alice")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    const cJSON *greeting = start_conv(&c, "c-alice-1", "Billing question");
    CHECK_STR(author_kind(greeting), "bot");
    CHECK_STR(wsc_str(wsc_get(greeting, "author"), "name"), "Parley Bot");
    CHECK(has_text(greeting, GREETING));
    CHECK_STR(wsc_str(cJSON_GetArrayItem(wsc_get(greeting, "blocks"), 0), "kind"), "quick_replies");
    CHECK_STR(option_label(greeting, "billing"), "Billing");
    CHECK_STR(option_label(greeting, "bugs"), "Bugs");
    CHECK_STR(option_label(greeting, "human"), "Talk to a human");
    const cJSON *unread = wsc_await(&c, 0, "unread", "conv", "c-alice-1", WAIT);
    CHECK(unread && wsc_num(unread, "count") == 1);

    /* A resent conv.start is acknowledged again and greets no second time. */
    size_t mark = c.n;
    CHECK_INT(wsc_send(&c, "{\"t\":\"conv.start\",\"cid\":\"start-c-alice-1\",\"conv\":\"c-alice-1\"}"), 0);
    CHECK(wsc_await(&c, mark, "conv.ack", "conv", "c-alice-1", WAIT) != NULL);
    sync_frames(&c);
    CHECK_INT(wsc_count(&c, mark, "msg"), 0);

    const char *gid = greeting ? wsc_str(greeting, "id") : "m-0";
    mark = c.n;
    CHECK(say(&c, "c-alice-1", "pb-1", "Billing", gid, "billing") != NULL);
    const cJSON *billing = next_msg(&c, mark, "c-alice-1");
    CHECK(has_text(billing, "billing problem"));
    CHECK_STR(option_label(billing, "refund"), "I want a refund");

    mark = c.n;
    const cJSON *ack = say(&c, "c-alice-1", "pb-2", "I want a refund",
                           billing ? wsc_str(billing, "id") : "m-0", "refund");
    const cJSON *answer = next_msg(&c, mark, "c-alice-1");
    CHECK_STR(author_kind(answer), "bot");
    CHECK(has_text(answer, "Refunds"));
    CHECK(has_text(answer, "14 days"));
    const cJSON *read_more = cJSON_GetArrayItem(wsc_get(cJSON_GetArrayItem(wsc_get(answer, "blocks"), 0), "buttons"), 0);
    CHECK_STR(wsc_str(read_more, "action"), "url");
    CHECK_STR(wsc_str(read_more, "url"), "https://help.example.com/articles/refunds");
    CHECK_STR(option_label(answer, "thanks"), "That helped");

    /* A resend is acknowledged with the original id and seq, nothing else. */
    mark = c.n;
    const cJSON *again = say(&c, "c-alice-1", "pb-2", "I want a refund",
                             billing ? wsc_str(billing, "id") : "m-0", "refund");
    CHECK(again && ack);
    if (again && ack) {
        CHECK_STR(wsc_str(again, "id"), wsc_str(ack, "id"));
        CHECK_STR(wsc_str(again, "seq"), wsc_str(ack, "seq"));
    }
    sync_frames(&c);
    CHECK_INT(wsc_count(&c, mark, "msg"), 0);

    /* An older message's choice still means what it meant there: "Bugs" of
     * the greeting, while the bot is at the refund answer. */
    mark = c.n;
    CHECK(say(&c, "c-alice-1", "pb-3", "Bugs", gid, "bugs") != NULL);
    CHECK(has_text(next_msg(&c, mark, "c-alice-1"), "What's happening?"));

    /* The stored postback and blocks reach the agents' view. */
    cJSON *list = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-alice-1/messages", NULL, &list), 200);
    const cJSON *item, *stored_pb = NULL, *stored_blocks = NULL;
    cJSON_ArrayForEach(item, list)
    {
        if (wsc_get(item, "postback") && !stored_pb)
            stored_pb = wsc_get(item, "postback");
        if (wsc_get(item, "blocks") && !stored_blocks)
            stored_blocks = wsc_get(item, "blocks");
    }
    CHECK_STR(wsc_str(stored_pb, "option"), "billing");
    CHECK_STR(wsc_str(stored_pb, "payload"), "billing");
    CHECK(cJSON_IsArray(stored_blocks));
    cJSON_Delete(list);
    if (tl_failed != failed_before)
        fprintf(stderr, "  (greeting and postbacks)\n");
    wsc_close(&c);
}

static void test_bad_postbacks(void)
{
    wsc c, other;
    if (hello(&c, "bot-bob") || hello(&other, "bot-bob-other")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    const cJSON *g1 = start_conv(&c, "c-bob-1", NULL);
    const cJSON *g2 = start_conv(&c, "c-bob-2", NULL);
    const cJSON *g3 = start_conv(&other, "c-bob-3", NULL);
    char frame[512];
    const char *id1 = g1 ? wsc_str(g1, "id") : "m-0", *id2 = g2 ? wsc_str(g2, "id") : "m-0",
               *id3 = g3 ? wsc_str(g3, "id") : "m-0";

    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"bp-1\",\"conv\":\"c-bob-1\",\"text\":\"x\","
             "\"postback\":{\"msg\":\"%s\",\"option\":\"no-such-option\"}}", id1);
    expect_error(&c, frame, "cid", "bp-1", "bad_postback");
    /* An option of the same user's other conversation, and another user's. */
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"bp-2\",\"conv\":\"c-bob-1\",\"text\":\"Billing\","
             "\"postback\":{\"msg\":\"%s\",\"option\":\"billing\"}}", id2);
    expect_error(&c, frame, "cid", "bp-2", "bad_postback");
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"bp-3\",\"conv\":\"c-bob-1\",\"text\":\"Billing\","
             "\"postback\":{\"msg\":\"%s\",\"option\":\"billing\"}}", id3);
    expect_error(&c, frame, "cid", "bp-3", "bad_postback");
    /* The user's own message offers nothing. */
    cJSON *mine = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-bob-1/messages", NULL, &mine), 200);
    const char *own = wsc_str(cJSON_GetArrayItem(mine, 0), "id");
    CHECK_STR(author_kind(cJSON_GetArrayItem(mine, 0)), "user");
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"bp-3b\",\"conv\":\"c-bob-1\",\"text\":\"x\","
             "\"postback\":{\"msg\":\"%s\",\"option\":\"billing\"}}", own ? own : "m-0");
    expect_error(&c, frame, "cid", "bp-3b", "bad_postback");
    cJSON_Delete(mine);
    expect_error(&c, "{\"t\":\"msg.send\",\"cid\":\"bp-4\",\"conv\":\"c-bob-1\",\"text\":\"x\","
                     "\"postback\":{\"msg\":\"m-99999999\",\"option\":\"billing\"}}",
                 "cid", "bp-4", "bad_postback");
    expect_error(&c, "{\"t\":\"msg.send\",\"cid\":\"bp-5\",\"conv\":\"c-bob-1\",\"text\":\"x\","
                     "\"postback\":{\"msg\":\"zzz\",\"option\":\"billing\"}}",
                 "cid", "bp-5", "bad_postback");
    /* Not someone else's conversation: that is not a postback question. */
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"bp-6\",\"conv\":\"c-bob-3\",\"text\":\"Billing\","
             "\"postback\":{\"msg\":\"%s\",\"option\":\"billing\"}}", id3);
    expect_error(&c, frame, "cid", "bp-6", "unknown_conversation");
    /* Wrong member types. */
    expect_error(&c, "{\"t\":\"msg.send\",\"cid\":\"bp-7\",\"conv\":\"c-bob-1\",\"text\":\"x\","
                     "\"postback\":\"billing\"}", "cid", "bp-7", "bad_frame");
    expect_error(&c, "{\"t\":\"msg.send\",\"cid\":\"bp-8\",\"conv\":\"c-bob-1\",\"text\":\"x\","
                     "\"postback\":{\"msg\":5,\"option\":\"billing\"}}", "cid", "bp-8", "bad_frame");
    expect_error(&c, "{\"t\":\"msg.send\",\"cid\":\"bp-9\",\"conv\":\"c-bob-1\",\"text\":\"x\","
                     "\"postback\":{\"msg\":\"m-1\",\"option\":\"billing\",\"payload\":7}}",
                 "cid", "bp-9", "bad_frame");

    /* The FAQ answer's "Read the article" button opens a URL: no postback. */
    size_t mark = c.n;
    CHECK(say(&c, "c-bob-2", "bp-10", "my gems never arrived", NULL, NULL) != NULL);
    const cJSON *faq = next_msg(&c, mark, "c-bob-2");
    CHECK_STR(option_label(faq, "article"), "Read the article");
    snprintf(frame, sizeof frame,
             "{\"t\":\"msg.send\",\"cid\":\"bp-11\",\"conv\":\"c-bob-2\",\"text\":\"Read\","
             "\"postback\":{\"msg\":\"%s\",\"option\":\"article\"}}", faq ? wsc_str(faq, "id") : "m-0");
    expect_error(&c, frame, "cid", "bp-11", "bad_postback");

    /* None of the refused ones was stored. */
    cJSON *list = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-bob-1/messages", NULL, &list), 200);
    CHECK_INT(cJSON_GetArraySize(list), 2); /* "hello" and the greeting */
    cJSON_Delete(list);
    wsc_close(&c);
    wsc_close(&other);
}

static void test_free_text_faq(void)
{
    wsc c;
    if (hello(&c, "bot-faq")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    start_conv(&c, "c-faq-1", NULL);
    size_t mark = c.n;
    CHECK(say(&c, "c-faq-1", "ft-1", "my gems never arrived", NULL, NULL) != NULL);
    const cJSON *m = next_msg(&c, mark, "c-faq-1");
    CHECK_STR(author_kind(m), "bot");
    CHECK(has_text(m, "A purchase did not arrive"));
    mark = c.n;
    CHECK(say(&c, "c-faq-1", "ft-2", "xyzzy plugh", NULL, NULL) != NULL);
    m = next_msg(&c, mark, "c-faq-1");
    CHECK(has_text(m, "couldn't find an answer"));
    CHECK_STR(option_label(m, "human"), "Talk to a human");
    wsc_close(&c);
}

/* ---- handoff and the agents ------------------------------------------------ */

static const cJSON *await_update(wsc *c, size_t mark, const char *conv, const char *state)
{
    for (;;) {
        const cJSON *u = wsc_await(c, mark, "conv.update", "conv", conv, WAIT);
        if (!u) {
            fprintf(stderr, "  no conv.update %s for %s\n", state, conv);
            return NULL;
        }
        if (strcmp(wsc_str(u, "state") ? wsc_str(u, "state") : "", state) == 0)
            return u;
    }
}

static double queue_position(const cJSON *update)
{
    return wsc_num(wsc_get(update, "queue"), "position");
}

static void test_handoff_and_agents(void)
{
    int failed_before = tl_failed;
    wsc carol, dave;
    if (hello(&carol, "bot-carol") || hello(&dave, "bot-dave")) {
        CHECK(!"hello");
        wsc_close(&carol);
        return;
    }
    const cJSON *g = start_conv(&carol, "c-carol", "Need a person");
    size_t mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-1", "Talk to a human", g ? wsc_str(g, "id") : "m-0", "human") != NULL);
    const cJSON *bye = next_msg(&carol, mark, "c-carol");
    CHECK(has_text(bye, "connecting you with a human"));
    const cJSON *u = await_update(&carol, mark, "c-carol", "queued");
    CHECK(u && queue_position(u) == 1);
    CHECK(u && wsc_num(wsc_get(u, "queue"), "wait_s") == 120);

    /* Dave asks for a human in his own words: the keyword rule. */
    start_conv(&dave, "c-dave", NULL);
    mark = dave.n;
    CHECK(say(&dave, "c-dave", "h-2", "My gems are gone, I need to talk to a human", NULL, NULL) != NULL);
    u = await_update(&dave, mark, "c-dave", "queued");
    CHECK(u && queue_position(u) == 2);

    cJSON *q = NULL;
    CHECK_INT(api("GET", "/api/queue", NULL, &q), 200);
    CHECK_INT(cJSON_GetArraySize(q), 2);
    const cJSON *q0 = cJSON_GetArrayItem(q, 0), *q1 = cJSON_GetArrayItem(q, 1);
    CHECK_STR(wsc_str(q0, "conv"), "c-carol");
    CHECK(wsc_num(q0, "position") == 1);
    CHECK_STR(wsc_str(q0, "user"), "bot-carol");
    CHECK(array_has(wsc_get(wsc_get(q0, "bot_notes"), "choices"), "Talk to a human"));
    CHECK_STR(wsc_str(q1, "conv"), "c-dave");
    CHECK(wsc_num(q1, "position") == 2);
    CHECK(array_has(wsc_get(wsc_get(q1, "bot_notes"), "questions"),
                    "My gems are gone, I need to talk to a human"));
    CHECK(array_has(wsc_get(wsc_get(q1, "bot_notes"), "path"), "handoff"));
    cJSON_Delete(q);

    cJSON *conv = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-carol", NULL, &conv), 200);
    CHECK_STR(wsc_str(conv, "state"), "queued");
    CHECK(wsc_num(conv, "queue_position") == 1);
    CHECK(cJSON_IsNull(wsc_get(conv, "agent")));
    CHECK(array_has(wsc_get(wsc_get(conv, "bot_notes"), "path"), "greeting"));
    cJSON_Delete(conv);

    /* While queued the bot stays quiet. */
    mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-3", "hello? anyone?", NULL, NULL) != NULL);
    sync_frames(&carol);
    CHECK_INT(wsc_count(&carol, mark, "msg"), 0);

    /* Dana takes Carol's conversation: Carol sees her, Dave moves up. */
    size_t dmark = dave.n;
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "assign", "{\"agent\":\"Dana\"}", NULL), 200);
    u = await_update(&carol, mark, "c-carol", "agent");
    CHECK_STR(wsc_str(wsc_get(u, "agent"), "name"), "Dana");
    u = await_update(&dave, dmark, "c-dave", "queued");
    CHECK(u && queue_position(u) == 1);

    /* Her reply carries a card; its postback button is a valid choice, and
     * the bot does not answer it. */
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "messages",
                            "{\"text\":\"Which one?\",\"name\":\"Dana\",\"blocks\":[{\"kind\":\"card\","
                            "\"title\":\"Gem pack\",\"text\":\"500 gems\",\"image\":\"https://example.com/g.png\","
                            "\"buttons\":[{\"id\":\"b1\",\"label\":\"This one\",\"payload\":\"gems500\"}]}]}",
                            NULL), 201);
    const cJSON *reply = next_msg(&carol, mark, "c-carol");
    CHECK_STR(author_kind(reply), "agent");
    CHECK_STR(wsc_str(wsc_get(reply, "author"), "name"), "Dana");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(wsc_get(reply, "blocks"), 0), "kind"), "card");
    CHECK(wsc_await(&carol, mark, "unread", "conv", "c-carol", WAIT) != NULL);
    mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-4", "This one", reply ? wsc_str(reply, "id") : "m-0", "b1") != NULL);
    sync_frames(&carol);
    CHECK_INT(wsc_count(&carol, mark, "msg"), 0);

    /* Typing, both ways. */
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "typing", "{\"on\":true,\"name\":\"Dana\"}", NULL), 200);
    const cJSON *t = wsc_await(&carol, mark, "typing", "conv", "c-carol", WAIT);
    CHECK(t && cJSON_IsTrue(wsc_get(t, "on")));
    CHECK_STR(author_kind(t), "agent");
    CHECK_STR(wsc_str(wsc_get(t, "author"), "name"), "Dana");
    CHECK_INT(wsc_send(&carol, "{\"t\":\"typing\",\"conv\":\"c-carol\",\"on\":true}"), 0);
    sync_frames(&carol);
    CHECK_INT(api("GET", "/api/conversations/c-carol", NULL, &conv), 200);
    CHECK(cJSON_IsTrue(wsc_get(conv, "user_typing")));
    const char *last = wsc_str(conv, "last_seq");
    char read_body[64];
    snprintf(read_body, sizeof read_body, "{\"seq\":\"%s\"}", last ? last : "1");
    char last_seq[24];
    snprintf(last_seq, sizeof last_seq, "%s", last ? last : "1");
    cJSON_Delete(conv);

    /* Dana has read everything. */
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "read", read_body, NULL), 200);
    const cJSON *r = wsc_await(&carol, mark, "read", "conv", "c-carol", WAIT);
    CHECK_STR(wsc_str(r, "seq"), last_seq);
    CHECK_INT(api_conv_post("c-carol", "read", "{\"seq\":\"999999\"}", NULL), 400);

    /* Close, a user message reopens, close, reopen, hand back to the bot. */
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "close", "{}", NULL), 200);
    CHECK(await_update(&carol, mark, "c-carol", "closed") != NULL);
    mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-5", "one more thing", NULL, NULL) != NULL);
    CHECK(await_update(&carol, mark, "c-carol", "open") != NULL);
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "close", "{}", NULL), 200);
    CHECK(await_update(&carol, mark, "c-carol", "closed") != NULL);
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "reopen", "{}", NULL), 200);
    CHECK(await_update(&carol, mark, "c-carol", "open") != NULL);
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "bot", "{}", NULL), 200);
    CHECK(await_update(&carol, mark, "c-carol", "bot") != NULL);
    const cJSON *resume = next_msg(&carol, mark, "c-carol");
    CHECK(has_text(resume, "Anything else"));
    /* The bot answers again. */
    mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-6", "Bugs", resume ? wsc_str(resume, "id") : "m-0", "bugs") != NULL);
    CHECK(has_text(next_msg(&carol, mark, "c-carol"), "What's happening"));

    /* An agent who simply writes takes a queued conversation over. */
    mark = dave.n;
    CHECK_INT(api_conv_post("c-dave", "messages", "{\"text\":\"Hi, Sam here\",\"name\":\"Sam\"}", NULL), 201);
    u = await_update(&dave, mark, "c-dave", "agent");
    CHECK_STR(wsc_str(wsc_get(u, "agent"), "name"), "Sam");
    CHECK_INT(api("GET", "/api/queue", NULL, &q), 200);
    CHECK_INT(cJSON_GetArraySize(q), 0);
    cJSON_Delete(q);

    CHECK_INT(api_conv_post("c-nope", "assign", "{\"agent\":\"Dana\"}", NULL), 404);
    CHECK_INT(api_conv_post("c-nope", "close", "{}", NULL), 404);
    CHECK_INT(api_conv_post("c-carol", "assign", "{\"agent\":\"\"}", NULL), 400);
    CHECK_INT(api_conv_post("c-carol", "typing", "{\"on\":\"yes\"}", NULL), 400);
    CHECK_INT(api_conv_post("c-carol", "read", "{\"seq\":5}", NULL), 400);
    CHECK_INT(api("GET", "/api/conversations/c-carol/assign", NULL, NULL), 405);
    if (tl_failed != failed_before)
        fprintf(stderr, "  (handoff and agents)\n");
    wsc_close(&carol);
    wsc_close(&dave);
}

/* ---- typing, read marks, unread --------------------------------------------- */

static void test_unread_and_read(void)
{
    wsc c;
    if (hello(&c, "bot-erin")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    const cJSON *g = start_conv(&c, "c-erin", NULL);
    const cJSON *un = wsc_await(&c, 0, "unread", "conv", "c-erin", WAIT);
    CHECK(un && wsc_num(un, "count") == 1);

    char frame[256];
    size_t mark = c.n;
    snprintf(frame, sizeof frame, "{\"t\":\"read\",\"conv\":\"c-erin\",\"seq\":\"%s\"}",
             g ? wsc_str(g, "seq") : "1");
    CHECK_INT(wsc_send(&c, frame), 0);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(un && wsc_num(un, "count") == 0);

    mark = c.n;
    CHECK_INT(api_conv_post("c-erin", "messages", "{\"text\":\"one\"}", NULL), 201);
    CHECK_INT(api_conv_post("c-erin", "messages", "{\"text\":\"two\"}", NULL), 201);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(un && wsc_num(un, "count") == 1);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(un && wsc_num(un, "count") == 2);
    wsc_close(&c);

    /* After every welcome, whatever happened meanwhile. */
    if (hello(&c, "bot-erin")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    un = wsc_await(&c, 0, "unread", "conv", "c-erin", WAIT);
    CHECK(un && wsc_num(un, "count") == 2);
    /* A mark beyond the last message counts as the last message. */
    mark = c.n;
    CHECK_INT(wsc_send(&c, "{\"t\":\"read\",\"conv\":\"c-erin\",\"seq\":\"999\"}"), 0);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(un && wsc_num(un, "count") == 0);
    /* A lower mark changes nothing. */
    mark = c.n;
    CHECK_INT(wsc_send(&c, "{\"t\":\"read\",\"conv\":\"c-erin\",\"seq\":\"1\"}"), 0);
    sync_frames(&c);
    CHECK_INT(wsc_count(&c, mark, "unread"), 0);
    expect_error(&c, "{\"t\":\"read\",\"conv\":\"c-carol\",\"seq\":\"1\"}", NULL, NULL,
                 "unknown_conversation");
    expect_error(&c, "{\"t\":\"typing\",\"conv\":\"c-carol\",\"on\":true}", NULL, NULL,
                 "unknown_conversation");
    cJSON *conv = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-erin", NULL, &conv), 200);
    CHECK_STR(wsc_str(conv, "read_seq"), "4");
    cJSON_Delete(conv);
    wsc_close(&c);
}

/* ---- requests ---------------------------------------------------------------- */

static void test_conv_list(void)
{
    wsc c;
    if (hello(&c, "bot-frank")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    start_conv(&c, "c-frank-1", "first");
    start_conv(&c, "c-frank-2", "second");
    start_conv(&c, "c-frank-3", NULL);
    /* An agent's message makes the first one the newest. */
    usleep(5000);
    CHECK_INT(api_conv_post("c-frank-1", "messages", "{\"text\":\"latest news\",\"name\":\"Dana\"}", NULL), 201);
    const cJSON *a = request(&c, "{\"t\":\"conv.list\",\"req\":\"r-list\"}", "conv.list", "r-list");
    const cJSON *list = wsc_get(a, "conversations");
    CHECK_INT(cJSON_GetArraySize(list), 3);
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    CHECK_STR(wsc_str(first, "conv"), "c-frank-1");
    CHECK_STR(wsc_str(first, "subject"), "first");
    CHECK_STR(wsc_str(first, "state"), "agent");
    CHECK_STR(wsc_str(first, "last_seq"), "3");
    CHECK_STR(wsc_str(first, "last_text"), "latest news");
    CHECK(wsc_num(first, "unread") == 2);
    CHECK(wsc_num(first, "updated_ms") > 0);
    const cJSON *it;
    int seen = 0;
    cJSON_ArrayForEach(it, list)
    {
        seen += wsc_str(it, "conv") && strncmp(wsc_str(it, "conv"), "c-frank-", 8) == 0;
        if (strcmp(wsc_str(it, "conv") ? wsc_str(it, "conv") : "", "c-frank-3") == 0)
            CHECK(wsc_get(it, "subject") == NULL);
    }
    CHECK_INT(seen, 3);
    expect_error(&c, "{\"t\":\"conv.list\"}", NULL, NULL, "bad_frame");
    wsc_close(&c);
}

static void test_history_page(void)
{
    int failed_before = tl_failed;
    wsc c;
    if (hello(&c, "bot-gina")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    start_conv(&c, "c-gina", NULL);
    char body[64];
    for (int i = 1; i <= 23; i++) {
        snprintf(body, sizeof body, "{\"text\":\"page %d\"}", i);
        CHECK_INT(api_conv_post("c-gina", "messages", body, NULL), 201);
    }
    /* 25 messages: "hello", the greeting and 23 from the agent. */
    const cJSON *p = request(&c, "{\"t\":\"history.page\",\"req\":\"r-p1\",\"conv\":\"c-gina\",\"limit\":10}",
                             "history.page", "r-p1");
    const cJSON *msgs = wsc_get(p, "messages");
    CHECK_INT(cJSON_GetArraySize(msgs), 10);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 0), "seq"), "16");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 9), "seq"), "25");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 9), "text"), "page 23");
    CHECK(cJSON_IsTrue(wsc_get(p, "more")));
    CHECK_STR(wsc_str(p, "conv"), "c-gina");

    p = request(&c, "{\"t\":\"history.page\",\"req\":\"r-p2\",\"conv\":\"c-gina\",\"before\":\"16\",\"limit\":10}",
                "history.page", "r-p2");
    msgs = wsc_get(p, "messages");
    CHECK_INT(cJSON_GetArraySize(msgs), 10);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 0), "seq"), "6");
    CHECK(cJSON_IsTrue(wsc_get(p, "more")));

    p = request(&c, "{\"t\":\"history.page\",\"req\":\"r-p3\",\"conv\":\"c-gina\",\"before\":\"6\",\"limit\":10}",
                "history.page", "r-p3");
    msgs = wsc_get(p, "messages");
    CHECK_INT(cJSON_GetArraySize(msgs), 5);
    CHECK(cJSON_IsFalse(wsc_get(p, "more")));
    CHECK_STR(author_kind(cJSON_GetArrayItem(msgs, 0)), "user");
    const cJSON *greeting = cJSON_GetArrayItem(msgs, 1);
    CHECK_STR(wsc_str(greeting, "seq"), "2");
    CHECK_STR(author_kind(greeting), "bot");
    CHECK(cJSON_IsArray(wsc_get(greeting, "blocks")));
    CHECK(wsc_get(greeting, "t") == NULL);

    p = request(&c, "{\"t\":\"history.page\",\"req\":\"r-p4\",\"conv\":\"c-gina\"}", "history.page", "r-p4");
    CHECK_INT(cJSON_GetArraySize(wsc_get(p, "messages")), 20);

    expect_error(&c, "{\"t\":\"history.page\",\"req\":\"r-p5\",\"conv\":\"c-gina\",\"limit\":0}",
                 "req", "r-p5", "bad_frame");
    expect_error(&c, "{\"t\":\"history.page\",\"req\":\"r-p6\",\"conv\":\"c-gina\",\"limit\":101}",
                 "req", "r-p6", "bad_frame");
    expect_error(&c, "{\"t\":\"history.page\",\"req\":\"r-p7\",\"conv\":\"c-gina\",\"before\":\"01\"}",
                 "req", "r-p7", "bad_frame");
    expect_error(&c, "{\"t\":\"history.page\",\"req\":\"r-p8\",\"conv\":\"c-gina\",\"limit\":\"10\"}",
                 "req", "r-p8", "bad_frame");
    expect_error(&c, "{\"t\":\"history.page\",\"req\":\"r-p9\",\"conv\":\"c-carol\"}",
                 "req", "r-p9", "unknown_conversation");
    if (tl_failed != failed_before)
        fprintf(stderr, "  (history.page)\n");
    wsc_close(&c);
}

static void test_kb(void)
{
    wsc c;
    if (hello(&c, "bot-kb")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    const cJSON *a = request(&c, "{\"t\":\"kb.search\",\"req\":\"r-k1\",\"query\":\"refund\"}",
                             "kb.results", "r-k1");
    const cJSON *arts = wsc_get(a, "articles");
    CHECK(cJSON_GetArraySize(arts) >= 1 && cJSON_GetArraySize(arts) <= 20);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(arts, 0), "id"), "refunds");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(arts, 0), "title"), "Refunds");
    CHECK(wsc_str(cJSON_GetArrayItem(arts, 0), "snippet") &&
          strstr(wsc_str(cJSON_GetArrayItem(arts, 0), "snippet"), "<b>"));
    CHECK_STR(wsc_str(cJSON_GetArrayItem(arts, 0), "url"), "https://help.example.com/articles/refunds");

    a = request(&c, "{\"t\":\"kb.search\",\"req\":\"r-k2\",\"query\":\"the game crashes\"}",
                "kb.results", "r-k2");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(wsc_get(a, "articles"), 0), "id"), "crashes");
    /* Words that say nothing find nothing; search syntax is just words. */
    a = request(&c, "{\"t\":\"kb.search\",\"req\":\"r-k3\",\"query\":\"how do I the\"}",
                "kb.results", "r-k3");
    CHECK_INT(cJSON_GetArraySize(wsc_get(a, "articles")), 0);
    a = request(&c, "{\"t\":\"kb.search\",\"req\":\"r-k4\",\"query\":\"refund* OR NEAR(\\\"x\\\") title:gems ^\"}",
                "kb.results", "r-k4");
    CHECK(cJSON_IsArray(wsc_get(a, "articles")));

    a = request(&c, "{\"t\":\"kb.get\",\"req\":\"r-k5\",\"id\":\"refunds\"}", "kb.article", "r-k5");
    const cJSON *art = wsc_get(a, "article");
    CHECK_STR(wsc_str(art, "id"), "refunds");
    CHECK_STR(wsc_str(art, "title"), "Refunds");
    CHECK(wsc_str(art, "body") && strncmp(wsc_str(art, "body"), "# Refunds\n\n", 11) == 0);
    CHECK_STR(wsc_str(art, "url"), "https://help.example.com/articles/refunds");

    expect_error(&c, "{\"t\":\"kb.get\",\"req\":\"r-k6\",\"id\":\"no-such-article\"}", "req", "r-k6",
                 "not_found");
    expect_error(&c, "{\"t\":\"kb.search\",\"req\":\"r-k7\",\"query\":\"\"}", "req", "r-k7",
                 "bad_frame");
    char big[400];
    memset(big, 'a', 300);
    big[300] = '\0';
    char frame[512];
    snprintf(frame, sizeof frame, "{\"t\":\"kb.search\",\"req\":\"r-k8\",\"query\":\"%s\"}", big);
    expect_error(&c, frame, "req", "r-k8", "bad_frame");
    expect_error(&c, "{\"t\":\"kb.get\",\"req\":\"r-k9\",\"id\":[]}", "req", "r-k9", "bad_frame");
    expect_error(&c, "{\"t\":\"kb.search\",\"req\":\"r-k10\",\"query\":42}", "req", "r-k10",
                 "bad_frame");
    wsc_close(&c);
}

/* ---- hostile input ----------------------------------------------------------- */

static void test_hostile(void)
{
    wsc c;
    if (hello(&c, "bot-mallory")) {
        CHECK(!"hello");
        wsc_close(&c);
        return;
    }
    start_conv(&c, "c-mallory", NULL);
    expect_error(&c, "{\"t\":\"typing\",\"conv\":\"c-mallory\",\"on\":\"yes\"}", NULL, NULL, "bad_frame");
    expect_error(&c, "{\"t\":\"typing\",\"conv\":5,\"on\":true}", NULL, NULL, "bad_frame");
    expect_error(&c, "{\"t\":\"read\",\"conv\":\"c-mallory\",\"seq\":5}", NULL, NULL, "bad_frame");
    expect_error(&c, "{\"t\":\"read\",\"conv\":\"c-mallory\",\"seq\":\"-1\"}", NULL, NULL, "bad_frame");
    expect_error(&c, "{\"t\":\"conv.list\",\"req\":5}", NULL, NULL, "bad_frame");
    expect_error(&c, "{\"t\":\"history.page\",\"req\":{}}", NULL, NULL, "bad_frame");

    /* A postback naming a 10,000-byte option. */
    size_t n = 10000;
    char *frame = malloc(n + 256);
    if (frame) {
        int h = snprintf(frame, 256, "{\"t\":\"msg.send\",\"cid\":\"hx-1\",\"conv\":\"c-mallory\","
                                     "\"text\":\"x\",\"postback\":{\"msg\":\"m-1\",\"option\":\"");
        memset(frame + h, 'o', n);
        strcpy(frame + h + n, "\"}}");
        expect_error(&c, frame, "cid", "hx-1", "bad_frame");
    }

    /* 10,000 quick replies from an "agent": too big a body, or too many. */
    size_t cap = 10000 * 48 + 256, used;
    char *body = realloc(frame, cap);
    if (body) {
        frame = body;
        for (int count = 1000; count <= 10000; count *= 10) {
            used = (size_t)snprintf(body, cap, "{\"text\":\"pick\",\"blocks\":[{\"kind\":\"quick_replies\",\"options\":[");
            for (int i = 0; i < count; i++)
                used += (size_t)snprintf(body + used, cap - used, "%s{\"id\":\"o%d\",\"label\":\"L%d\"}",
                                         i ? "," : "", i, i);
            snprintf(body + used, cap - used, "]}]}");
            int status = api_conv_post("c-mallory", "messages", body, NULL);
            CHECK(status == 400 || status == 413);
        }
    }
    free(frame);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            "{\"text\":\"x\",\"blocks\":[{\"kind\":\"video\",\"url\":\"https://x\"}]}", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            "{\"text\":\"x\",\"blocks\":[{\"kind\":\"quick_replies\",\"options\":["
                            "{\"id\":\"a\",\"label\":\"A\"},{\"id\":\"a\",\"label\":\"B\"}]}]}", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "messages", "{\"text\":\"x\",\"blocks\":{}}", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            "{\"text\":\"x\",\"blocks\":[{\"kind\":\"buttons\",\"buttons\":["
                            "{\"id\":\"b\",\"label\":\"x\",\"action\":\"url\",\"url\":\"javascript:x\"}]}]}",
                            NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            "{\"text\":\"x\",\"blocks\":[{\"kind\":\"card\",\"title\":7}]}", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            "{\"text\":\"x\",\"blocks\":[1,2,3,4,5,6,7,8,9,10,11]}", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "assign", "[]", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "assign", "{\"agent\":", NULL), 400);

    /* Nothing of it was stored, and the server is still there. */
    cJSON *list = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-mallory/messages", NULL, &list), 200);
    CHECK_INT(cJSON_GetArraySize(list), 2);
    cJSON_Delete(list);
    sync_frames(&c);
    CHECK(server_alive());
    wsc_close(&c);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "server-bot")) {
        perror("mkdtemp");
        return 1;
    }
    sub_path(g_ready, "server.ready");
    sub_path(g_log, "server.log");
    RUN(test_bad_flow_refused);
    RUN(test_greet_on_start);
    if (server_start("server.db", NULL)) {
        char *log = tl_read_file(g_log, NULL);
        fprintf(stderr, "the server did not start:\n%s\n", log ? log : "");
        free(log);
        return 1;
    }
    RUN(test_greeting_and_postbacks);
    RUN(test_bad_postbacks);
    RUN(test_free_text_faq);
    RUN(test_handoff_and_agents);
    RUN(test_unread_and_read);
    RUN(test_conv_list);
    RUN(test_history_page);
    RUN(test_kb);
    RUN(test_hostile);
    CHECK(server_alive());
    CHECK_INT(server_stop(), 0);
    if (tl_failed) {
        char *log = tl_read_file(g_log, NULL);
        fprintf(stderr, "---- server log ----\n%s\n", log ? log : "");
        free(log);
    } else
        tl_rmrf(g_dir);
    return tl_finish();
}
