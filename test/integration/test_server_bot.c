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
static h_server g_srv;

/* ---- the server ---------------------------------------------------------- */

static void sub_path(char *out, const char *name)
{
    snprintf(out, H_PATH, "%s/%s", g_dir, name);
}

/* A server on files `name`.*; with `bot` NULL, the shipped flow and
 * knowledge base (no --bot, no --kb). */
static void server_start(const char *name, const char *bot)
{
    static const char *args[] = {"--insecure-identities", NULL, NULL, NULL};
    args[1] = bot ? "--bot" : NULL;
    args[2] = bot;
    h_server_plain(&g_srv, g_dir, name, TOKEN, args);
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
}

static int server_alive(void)
{
    return g_srv.pid > 0 && kill(g_srv.pid, 0) == 0;
}

/* One API call through curl: the HTTP status and the parsed body (*out, may
 * be NULL; free with cJSON_Delete). */
static int api(const char *method, const char *path, const char *body, cJSON **out)
{
    return h_api_json(&g_srv, method, path, body, out);
}

static int api_conv_post(const char *conv, const char *action, const char *body, cJSON **out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/%s", conv, action);
    return api("POST", path, body, out);
}

/* ---- frames -------------------------------------------------------------- */

/* Opens `c` and says hello as `user`; the welcome must come. */
static void hello(wsc *c, const char *user)
{
    H_REQUIRE(wsc_open(c, g_srv.port, WAIT) == 0);
    H_REQUIRE(wsc_sendf(c,
                        "{'t':'hello','v':1,'app':'bot-test','sdk':{'name':'raw','version':'0',"
                        "'platform':'test'},'user':{'id':'%s'}}",
                        user) == 0);
    H_REQUIRE(wsc_await(c, 0, "welcome", NULL, NULL, WAIT) != NULL);
}

/* Everything the server sent in answer to earlier frames has arrived once
 * the answer to a fresh request has: it handles a connection's frames in
 * order. */
static void sync_frames(wsc *c)
{
    static unsigned n;
    char req[32];
    snprintf(req, sizeof req, "sync-%u", ++n);
    CHECK_INT(wsc_sendf(c, "{'t':'conv.list','req':'%s'}", req), 0);
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
    return wsc_str(e, "code");
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
    size_t mark = c->n;
    if (subject)
        CHECK_INT(wsc_sendf(c, "{'t':'conv.start','cid':'start-%s','conv':'%s','subject':'%s'}",
                            conv, conv, subject),
                  0);
    else
        CHECK_INT(wsc_sendf(c, "{'t':'conv.start','cid':'start-%s','conv':'%s'}", conv, conv), 0);
    CHECK(wsc_await(c, mark, "conv.ack", "conv", conv, WAIT) != NULL);
}

static const cJSON *say(wsc *c, const char *conv, const char *cid, const char *text,
                        const char *msg, const char *option);

/* A user message `text` in `conv` that answers option `option` of message
 * `msg`. */
static const char *postback(const char *cid, const char *conv, const char *text, const char *msg,
                            const char *option)
{
    return h_json("{'t':'msg.send','cid':'%s','conv':'%s','text':'%s',"
                  "'postback':{'msg':'%s','option':'%s'}}",
                  cid, conv, text, msg, option);
}

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
    H_REQUIRE(greeting != NULL);
    CHECK_STR(wsc_str(greeting, "seq"), "2");
    return greeting;
}

/* Sends a user message (a postback when `msg` is not NULL) and returns its
 * ack. */
static const cJSON *say(wsc *c, const char *conv, const char *cid, const char *text,
                        const char *msg, const char *option)
{
    const char *frame =
        msg ? postback(cid, conv, text, msg, option)
            : h_json("{'t':'msg.send','cid':'%s','conv':'%s','text':'%s'}", cid, conv, text);
    CHECK_INT(wsc_send(c, frame), 0);
    const cJSON *ack = wsc_await(c, 0, "msg.ack", "cid", cid, WAIT);
    if (!ack)
        fprintf(stderr, "  no msg.ack for %s\n", frame);
    return ack;
}

/* The next message of `conv` at or after `mark` (the bot's answer), which
 * the rest of the test needs. */
static const cJSON *next_msg(wsc *c, size_t mark, const char *conv)
{
    const cJSON *m = wsc_await(c, mark, "msg", "conv", conv, WAIT);
    H_REQUIRE(m != NULL);
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
    cJSON_ArrayForEach(b, wsc_get(m, "blocks")) {
        const cJSON *lists[2] = {wsc_get(b, "options"), wsc_get(b, "buttons")};
        for (int i = 0; i < 2; i++) {
            cJSON_ArrayForEach(o, lists[i]) {
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
    cJSON_ArrayForEach(it, arr) {
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
    char *log = h_watch_text(tl_read_file(err, NULL), "the refused server's log");
    CHECK(log && strstr(log, expect));
    h_text_free(log);
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

#define NODE_OK "'a':{'text':'hi'}"

/* Flows the server refuses to start with (single quotes for double ones),
 * and what it says about each. */
static const char *const bad_flows[][2] = {
    {"{'start':'a','nodes':{" NODE_OK "}", "not valid JSON"},
    {"{'start':'zz','nodes':{" NODE_OK "}}", "start names no node"},
    {"{'nodes':{" NODE_OK "}}", "start (the greeting node's id) is required"},
    {"{'start':'a','nodes':{'a':{'text':'hi','postbacks':{'x':'nowhere'}}}}",
     "node \"a\": postbacks names no node"},
    {"{'start':'a','nodes':{'a':{'text':'hi','blocks':[{'kind':'quick_replies','options':[]}]}}}",
     "options must hold 1 to 13 entries"},
    {"{'start':'a','nodes':{'a':{'text':'hi','blocks':[{'kind':'buttons','buttons':[{'id':'b',"
     "'label':'x','action':'url','url':'javascript:alert(1)'}]}]}}}",
     "url must be an http or https URL"},
    {"{'start':'a','nodes':{" NODE_OK ",'f':{'type':'faq'}}}", "needs no_match"},
    {"{'start':'a','nodes':{" NODE_OK ",'f':{'type':'faq','no_match':'no',"
     "'article':'no-such-article'}}}",
     "is not in the knowledge base"},
    {"{'start':'a','nodes':{'a':{'text':'hi','postback':{}}}}", "unknown member \"postback\""},
    {"{'start':'a','nodes':{'a':{'type':'video','text':'x'}}}", "type must be"},
    {"{'start':'a','keywords':[{'any':[],'next':'a'}],'nodes':{" NODE_OK "}}",
     "\"any\" must be an array"},
    {"{'start':'a','greet':'later','nodes':{" NODE_OK "}}", "greet must be"},
    {"{'start':'f','nodes':{'f':{'type':'faq','no_match':'no'}}}",
     "start: an faq node without query or article"},
};

static void test_bad_flow_refused(void)
{
    for (size_t i = 0; i < sizeof bad_flows / sizeof bad_flows[0]; i++)
        CHECK_INT(refused_flow(h_quote(bad_flows[i][0]), bad_flows[i][1]), 2);
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

/* A flow of its own (data/custom-flow.json): greets on conv.start, a
 * node's keyword rule, an FAQ node with a fixed query, and silence where
 * no rule matches. */
static void test_greet_on_start(void)
{
    server_start("custom", PARLEY_TEST_DATA "/custom-flow.json");
    wsc c;
    hello(&c, "custom-user");
    size_t mark = c.n;
    send_start(&c, "c-custom", NULL);
    const cJSON *greeting = next_msg(&c, mark, "c-custom");
    CHECK_STR(wsc_str(greeting, "seq"), "1");
    CHECK_STR(wsc_str(wsc_get(greeting, "author"), "name"), "Helper");
    CHECK_STR(wsc_str(greeting, "text"), "Hello from the custom flow");
    CHECK(wsc_get(greeting, "blocks") == NULL);
    const cJSON *un = wsc_await(&c, mark, "unread", "conv", "c-custom", WAIT);
    CHECK(wsc_num(un, "count") == 1);

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
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
}

/* ---- the bot --------------------------------------------------------------- */

static void test_greeting_and_postbacks(void)
{
    wsc c;
    hello(&c, "bot-alice");
    const cJSON *greeting = start_conv(&c, "c-alice-1", "Billing question");
    CHECK_STR(author_kind(greeting), "bot");
    CHECK_STR(wsc_str(wsc_get(greeting, "author"), "name"), "Parley Bot");
    CHECK(has_text(greeting, GREETING));
    CHECK_STR(wsc_str(cJSON_GetArrayItem(wsc_get(greeting, "blocks"), 0), "kind"), "quick_replies");
    CHECK_STR(option_label(greeting, "billing"), "Billing");
    CHECK_STR(option_label(greeting, "bugs"), "Bugs");
    CHECK_STR(option_label(greeting, "human"), "Talk to a human");
    const cJSON *unread = wsc_await(&c, 0, "unread", "conv", "c-alice-1", WAIT);
    CHECK(wsc_num(unread, "count") == 1);

    /* A resent conv.start is acknowledged again and greets no second time. */
    size_t mark = c.n;
    CHECK_INT(wsc_sendf(&c, "{'t':'conv.start','cid':'start-c-alice-1','conv':'c-alice-1'}"), 0);
    CHECK(wsc_await(&c, mark, "conv.ack", "conv", "c-alice-1", WAIT) != NULL);
    sync_frames(&c);
    CHECK_INT(wsc_count(&c, mark, "msg"), 0);

    const char *gid = wsc_str(greeting, "id");
    mark = c.n;
    CHECK(say(&c, "c-alice-1", "pb-1", "Billing", gid, "billing") != NULL);
    const cJSON *billing = next_msg(&c, mark, "c-alice-1");
    CHECK(has_text(billing, "billing problem"));
    CHECK_STR(option_label(billing, "refund"), "I want a refund");

    mark = c.n;
    const cJSON *ack =
        say(&c, "c-alice-1", "pb-2", "I want a refund", wsc_str(billing, "id"), "refund");
    const cJSON *answer = next_msg(&c, mark, "c-alice-1");
    CHECK_STR(author_kind(answer), "bot");
    CHECK(has_text(answer, "Refunds"));
    CHECK(has_text(answer, "14 days"));
    const cJSON *read_more =
        cJSON_GetArrayItem(wsc_get(cJSON_GetArrayItem(wsc_get(answer, "blocks"), 0), "buttons"), 0);
    CHECK_STR(wsc_str(read_more, "action"), "url");
    CHECK_STR(wsc_str(read_more, "url"), "https://help.example.com/articles/refunds");
    CHECK_STR(option_label(answer, "thanks"), "That helped");

    /* A resend is acknowledged with the original id and seq, nothing else. */
    mark = c.n;
    const cJSON *again =
        say(&c, "c-alice-1", "pb-2", "I want a refund", wsc_str(billing, "id"), "refund");
    H_REQUIRE(again && ack);
    CHECK_STR(wsc_str(again, "id"), wsc_str(ack, "id"));
    CHECK_STR(wsc_str(again, "seq"), wsc_str(ack, "seq"));
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
    cJSON_ArrayForEach(item, list) {
        if (wsc_get(item, "postback") && !stored_pb)
            stored_pb = wsc_get(item, "postback");
        if (wsc_get(item, "blocks") && !stored_blocks)
            stored_blocks = wsc_get(item, "blocks");
    }
    CHECK_STR(wsc_str(stored_pb, "option"), "billing");
    CHECK_STR(wsc_str(stored_pb, "payload"), "billing");
    CHECK(cJSON_IsArray(stored_blocks));
    cJSON_Delete(list);
    wsc_close(&c);
}

static void test_bad_postbacks(void)
{
    wsc c, other;
    hello(&c, "bot-bob");
    hello(&other, "bot-bob-other");
    const cJSON *g1 = start_conv(&c, "c-bob-1", NULL);
    const cJSON *g2 = start_conv(&c, "c-bob-2", NULL);
    const cJSON *g3 = start_conv(&other, "c-bob-3", NULL);
    const char *id1 = wsc_str(g1, "id"), *id2 = wsc_str(g2, "id"), *id3 = wsc_str(g3, "id");

    expect_error(&c, postback("bp-1", "c-bob-1", "x", id1, "no-such-option"), "cid", "bp-1",
                 "bad_postback");
    /* An option of the same user's other conversation, and another user's. */
    expect_error(&c, postback("bp-2", "c-bob-1", "Billing", id2, "billing"), "cid", "bp-2",
                 "bad_postback");
    expect_error(&c, postback("bp-3", "c-bob-1", "Billing", id3, "billing"), "cid", "bp-3",
                 "bad_postback");
    /* The user's own message offers nothing. */
    cJSON *mine = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-bob-1/messages", NULL, &mine), 200);
    const char *own = wsc_str(cJSON_GetArrayItem(mine, 0), "id");
    CHECK_STR(author_kind(cJSON_GetArrayItem(mine, 0)), "user");
    expect_error(&c, postback("bp-3b", "c-bob-1", "x", own ? own : "m-0", "billing"), "cid",
                 "bp-3b", "bad_postback");
    cJSON_Delete(mine);
    expect_error(&c, postback("bp-4", "c-bob-1", "x", "m-99999999", "billing"), "cid", "bp-4",
                 "bad_postback");
    expect_error(&c, postback("bp-5", "c-bob-1", "x", "zzz", "billing"), "cid", "bp-5",
                 "bad_postback");
    /* Not someone else's conversation: that is not a postback question. */
    expect_error(&c, postback("bp-6", "c-bob-3", "Billing", id3, "billing"), "cid", "bp-6",
                 "unknown_conversation");
    /* Wrong member types. */
    expect_error(&c,
                 h_json("{'t':'msg.send','cid':'bp-7','conv':'c-bob-1','text':'x',"
                        "'postback':'billing'}"),
                 "cid", "bp-7", "bad_frame");
    expect_error(&c,
                 h_json("{'t':'msg.send','cid':'bp-8','conv':'c-bob-1','text':'x',"
                        "'postback':{'msg':5,'option':'billing'}}"),
                 "cid", "bp-8", "bad_frame");
    expect_error(&c,
                 h_json("{'t':'msg.send','cid':'bp-9','conv':'c-bob-1','text':'x',"
                        "'postback':{'msg':'m-1','option':'billing','payload':7}}"),
                 "cid", "bp-9", "bad_frame");

    /* The FAQ answer's "Read the article" button opens a URL: no postback. */
    size_t mark = c.n;
    CHECK(say(&c, "c-bob-2", "bp-10", "my gems never arrived", NULL, NULL) != NULL);
    const cJSON *faq = next_msg(&c, mark, "c-bob-2");
    CHECK_STR(option_label(faq, "article"), "Read the article");
    expect_error(&c, postback("bp-11", "c-bob-2", "Read", wsc_str(faq, "id"), "article"), "cid",
                 "bp-11", "bad_postback");

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
    hello(&c, "bot-faq");
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
    wsc carol, dave;
    hello(&carol, "bot-carol");
    hello(&dave, "bot-dave");
    const cJSON *g = start_conv(&carol, "c-carol", "Need a person");
    size_t mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-1", "Talk to a human", wsc_str(g, "id"), "human") != NULL);
    const cJSON *bye = next_msg(&carol, mark, "c-carol");
    CHECK(has_text(bye, "connecting you with a human"));
    const cJSON *u = await_update(&carol, mark, "c-carol", "queued");
    CHECK(queue_position(u) == 1);
    CHECK(wsc_num(wsc_get(u, "queue"), "wait_s") == 120);

    /* Dave asks for a human in his own words: the keyword rule. */
    start_conv(&dave, "c-dave", NULL);
    mark = dave.n;
    CHECK(say(&dave, "c-dave", "h-2", "My gems are gone, I need to talk to a human", NULL, NULL) !=
          NULL);
    u = await_update(&dave, mark, "c-dave", "queued");
    CHECK(queue_position(u) == 2);

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
    CHECK_INT(api_conv_post("c-carol", "assign", h_json("{'agent':'Dana'}"), NULL), 200);
    u = await_update(&carol, mark, "c-carol", "agent");
    CHECK_STR(wsc_str(wsc_get(u, "agent"), "name"), "Dana");
    u = await_update(&dave, dmark, "c-dave", "queued");
    CHECK(queue_position(u) == 1);

    /* Her reply carries a card; its postback button is a valid choice, and
     * the bot does not answer it. */
    mark = carol.n;
    CHECK_INT(api_conv_post(
                  "c-carol", "messages",
                  h_json("{'text':'Which one?','name':'Dana','blocks':[{'kind':'card',"
                         "'title':'Gem pack','text':'500 gems','image':'https://example.com/g.png',"
                         "'buttons':[{'id':'b1','label':'This one','payload':'gems500'}]}]}"),
                  NULL),
              201);
    const cJSON *reply = next_msg(&carol, mark, "c-carol");
    CHECK_STR(author_kind(reply), "agent");
    CHECK_STR(wsc_str(wsc_get(reply, "author"), "name"), "Dana");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(wsc_get(reply, "blocks"), 0), "kind"), "card");
    CHECK(wsc_await(&carol, mark, "unread", "conv", "c-carol", WAIT) != NULL);
    mark = carol.n;
    CHECK(say(&carol, "c-carol", "h-4", "This one", wsc_str(reply, "id"), "b1") != NULL);
    sync_frames(&carol);
    CHECK_INT(wsc_count(&carol, mark, "msg"), 0);

    /* Typing, both ways. */
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "typing", h_json("{'on':true,'name':'Dana'}"), NULL), 200);
    const cJSON *t = wsc_await(&carol, mark, "typing", "conv", "c-carol", WAIT);
    CHECK(cJSON_IsTrue(wsc_get(t, "on")));
    CHECK_STR(author_kind(t), "agent");
    CHECK_STR(wsc_str(wsc_get(t, "author"), "name"), "Dana");
    CHECK_INT(wsc_sendf(&carol, "{'t':'typing','conv':'c-carol','on':true}"), 0);
    sync_frames(&carol);
    CHECK_INT(api("GET", "/api/conversations/c-carol", NULL, &conv), 200);
    CHECK(cJSON_IsTrue(wsc_get(conv, "user_typing")));
    const char *last = wsc_str(conv, "last_seq");
    char last_seq[24];
    snprintf(last_seq, sizeof last_seq, "%s", last ? last : "1");
    cJSON_Delete(conv);

    /* Dana has read everything. */
    mark = carol.n;
    CHECK_INT(api_conv_post("c-carol", "read", h_json("{'seq':'%s'}", last_seq), NULL), 200);
    const cJSON *r = wsc_await(&carol, mark, "read", "conv", "c-carol", WAIT);
    CHECK_STR(wsc_str(r, "seq"), last_seq);
    CHECK_INT(api_conv_post("c-carol", "read", h_json("{'seq':'999999'}"), NULL), 400);

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
    CHECK(say(&carol, "c-carol", "h-6", "Bugs", wsc_str(resume, "id"), "bugs") != NULL);
    CHECK(has_text(next_msg(&carol, mark, "c-carol"), "What's happening"));

    /* An agent who simply writes takes a queued conversation over. */
    mark = dave.n;
    CHECK_INT(
        api_conv_post("c-dave", "messages", h_json("{'text':'Hi, Sam here','name':'Sam'}"), NULL),
        201);
    u = await_update(&dave, mark, "c-dave", "agent");
    CHECK_STR(wsc_str(wsc_get(u, "agent"), "name"), "Sam");
    CHECK_INT(api("GET", "/api/queue", NULL, &q), 200);
    CHECK_INT(cJSON_GetArraySize(q), 0);
    cJSON_Delete(q);

    CHECK_INT(api_conv_post("c-nope", "assign", h_json("{'agent':'Dana'}"), NULL), 404);
    CHECK_INT(api_conv_post("c-nope", "close", "{}", NULL), 404);
    CHECK_INT(api_conv_post("c-carol", "assign", h_json("{'agent':''}"), NULL), 400);
    CHECK_INT(api_conv_post("c-carol", "typing", h_json("{'on':'yes'}"), NULL), 400);
    CHECK_INT(api_conv_post("c-carol", "read", h_json("{'seq':5}"), NULL), 400);
    CHECK_INT(api("GET", "/api/conversations/c-carol/assign", NULL, NULL), 405);
    wsc_close(&carol);
    wsc_close(&dave);
}

/* ---- typing, read marks, unread --------------------------------------------- */

static void test_unread_and_read(void)
{
    wsc c;
    hello(&c, "bot-erin");
    const cJSON *g = start_conv(&c, "c-erin", NULL);
    const cJSON *un = wsc_await(&c, 0, "unread", "conv", "c-erin", WAIT);
    CHECK(wsc_num(un, "count") == 1);

    size_t mark = c.n;
    CHECK_INT(wsc_sendf(&c, "{'t':'read','conv':'c-erin','seq':'%s'}", wsc_str(g, "seq")), 0);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(wsc_num(un, "count") == 0);

    mark = c.n;
    CHECK_INT(api_conv_post("c-erin", "messages", h_json("{'text':'one'}"), NULL), 201);
    CHECK_INT(api_conv_post("c-erin", "messages", h_json("{'text':'two'}"), NULL), 201);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(wsc_num(un, "count") == 1);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(wsc_num(un, "count") == 2);
    wsc_close(&c);

    /* After every welcome, whatever happened meanwhile. */
    hello(&c, "bot-erin");
    un = wsc_await(&c, 0, "unread", "conv", "c-erin", WAIT);
    CHECK(wsc_num(un, "count") == 2);
    /* A mark beyond the last message counts as the last message. */
    mark = c.n;
    CHECK_INT(wsc_sendf(&c, "{'t':'read','conv':'c-erin','seq':'999'}"), 0);
    un = wsc_await(&c, mark, "unread", "conv", "c-erin", WAIT);
    CHECK(wsc_num(un, "count") == 0);
    /* A lower mark changes nothing. */
    mark = c.n;
    CHECK_INT(wsc_sendf(&c, "{'t':'read','conv':'c-erin','seq':'1'}"), 0);
    sync_frames(&c);
    CHECK_INT(wsc_count(&c, mark, "unread"), 0);
    expect_error(&c, h_json("{'t':'read','conv':'c-carol','seq':'1'}"), NULL, NULL,
                 "unknown_conversation");
    expect_error(&c, h_json("{'t':'typing','conv':'c-carol','on':true}"), NULL, NULL,
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
    hello(&c, "bot-frank");
    start_conv(&c, "c-frank-1", "first");
    start_conv(&c, "c-frank-2", "second");
    start_conv(&c, "c-frank-3", NULL);
    /* An agent's message makes the first one the newest. */
    usleep(5000);
    CHECK_INT(api_conv_post("c-frank-1", "messages", h_json("{'text':'latest news','name':'Dana'}"),
                            NULL),
              201);
    const cJSON *a = request(&c, h_json("{'t':'conv.list','req':'r-list'}"), "conv.list", "r-list");
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
    cJSON_ArrayForEach(it, list) {
        seen += wsc_str(it, "conv") && strncmp(wsc_str(it, "conv"), "c-frank-", 8) == 0;
        if (strcmp(wsc_str(it, "conv") ? wsc_str(it, "conv") : "", "c-frank-3") == 0)
            CHECK(wsc_get(it, "subject") == NULL);
    }
    CHECK_INT(seen, 3);
    expect_error(&c, h_json("{'t':'conv.list'}"), NULL, NULL, "bad_frame");
    wsc_close(&c);
}

static void test_history_page(void)
{
    wsc c;
    hello(&c, "bot-gina");
    start_conv(&c, "c-gina", NULL);
    for (int i = 1; i <= 23; i++)
        CHECK_INT(api_conv_post("c-gina", "messages", h_json("{'text':'page %d'}", i), NULL), 201);
    /* 25 messages: "hello", the greeting and 23 from the agent. */
    const cJSON *p =
        request(&c, h_json("{'t':'history.page','req':'r-p1','conv':'c-gina','limit':10}"),
                "history.page", "r-p1");
    const cJSON *msgs = wsc_get(p, "messages");
    CHECK_INT(cJSON_GetArraySize(msgs), 10);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 0), "seq"), "16");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 9), "seq"), "25");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 9), "text"), "page 23");
    CHECK(cJSON_IsTrue(wsc_get(p, "more")));
    CHECK_STR(wsc_str(p, "conv"), "c-gina");

    p = request(
        &c, h_json("{'t':'history.page','req':'r-p2','conv':'c-gina','before':'16','limit':10}"),
        "history.page", "r-p2");
    msgs = wsc_get(p, "messages");
    CHECK_INT(cJSON_GetArraySize(msgs), 10);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(msgs, 0), "seq"), "6");
    CHECK(cJSON_IsTrue(wsc_get(p, "more")));

    p = request(&c,
                h_json("{'t':'history.page','req':'r-p3','conv':'c-gina','before':'6','limit':10}"),
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

    p = request(&c, h_json("{'t':'history.page','req':'r-p4','conv':'c-gina'}"), "history.page",
                "r-p4");
    CHECK_INT(cJSON_GetArraySize(wsc_get(p, "messages")), 20);

    expect_error(&c, h_json("{'t':'history.page','req':'r-p5','conv':'c-gina','limit':0}"), "req",
                 "r-p5", "bad_frame");
    expect_error(&c, h_json("{'t':'history.page','req':'r-p6','conv':'c-gina','limit':101}"), "req",
                 "r-p6", "bad_frame");
    expect_error(&c, h_json("{'t':'history.page','req':'r-p7','conv':'c-gina','before':'01'}"),
                 "req", "r-p7", "bad_frame");
    expect_error(&c, h_json("{'t':'history.page','req':'r-p8','conv':'c-gina','limit':'10'}"),
                 "req", "r-p8", "bad_frame");
    expect_error(&c, h_json("{'t':'history.page','req':'r-p9','conv':'c-carol'}"), "req", "r-p9",
                 "unknown_conversation");
    wsc_close(&c);
}

static void test_kb(void)
{
    wsc c;
    hello(&c, "bot-kb");
    const cJSON *a = request(&c, h_json("{'t':'kb.search','req':'r-k1','query':'refund'}"),
                             "kb.results", "r-k1");
    const cJSON *arts = wsc_get(a, "articles");
    CHECK(cJSON_GetArraySize(arts) >= 1 && cJSON_GetArraySize(arts) <= 20);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(arts, 0), "id"), "refunds");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(arts, 0), "title"), "Refunds");
    CHECK(wsc_str(cJSON_GetArrayItem(arts, 0), "snippet") &&
          strstr(wsc_str(cJSON_GetArrayItem(arts, 0), "snippet"), "<b>"));
    CHECK_STR(wsc_str(cJSON_GetArrayItem(arts, 0), "url"),
              "https://help.example.com/articles/refunds");

    a = request(&c, h_json("{'t':'kb.search','req':'r-k2','query':'the game crashes'}"),
                "kb.results", "r-k2");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(wsc_get(a, "articles"), 0), "id"), "crashes");
    /* Words that say nothing find nothing; search syntax is just words. */
    a = request(&c, h_json("{'t':'kb.search','req':'r-k3','query':'how do I the'}"), "kb.results",
                "r-k3");
    CHECK_INT(cJSON_GetArraySize(wsc_get(a, "articles")), 0);
    a = request(
        &c,
        h_json("{'t':'kb.search','req':'r-k4','query':'refund* OR NEAR(\\'x\\') title:gems ^'}"),
        "kb.results", "r-k4");
    CHECK(cJSON_IsArray(wsc_get(a, "articles")));

    a = request(&c, h_json("{'t':'kb.get','req':'r-k5','id':'refunds'}"), "kb.article", "r-k5");
    const cJSON *art = wsc_get(a, "article");
    CHECK_STR(wsc_str(art, "id"), "refunds");
    CHECK_STR(wsc_str(art, "title"), "Refunds");
    CHECK(wsc_str(art, "body") && strncmp(wsc_str(art, "body"), "# Refunds\n\n", 11) == 0);
    CHECK_STR(wsc_str(art, "url"), "https://help.example.com/articles/refunds");

    expect_error(&c, h_json("{'t':'kb.get','req':'r-k6','id':'no-such-article'}"), "req", "r-k6",
                 "not_found");
    expect_error(&c, h_json("{'t':'kb.search','req':'r-k7','query':''}"), "req", "r-k7",
                 "bad_frame");
    char big[301];
    memset(big, 'a', 300);
    big[300] = '\0';
    expect_error(&c, h_json("{'t':'kb.search','req':'r-k8','query':'%s'}", big), "req", "r-k8",
                 "bad_frame");
    expect_error(&c, h_json("{'t':'kb.get','req':'r-k9','id':[]}"), "req", "r-k9", "bad_frame");
    expect_error(&c, h_json("{'t':'kb.search','req':'r-k10','query':42}"), "req", "r-k10",
                 "bad_frame");
    wsc_close(&c);
}

/* ---- hostile input ----------------------------------------------------------- */

static void test_hostile(void)
{
    wsc c;
    hello(&c, "bot-mallory");
    start_conv(&c, "c-mallory", NULL);
    expect_error(&c, h_json("{'t':'typing','conv':'c-mallory','on':'yes'}"), NULL, NULL,
                 "bad_frame");
    expect_error(&c, h_json("{'t':'typing','conv':5,'on':true}"), NULL, NULL, "bad_frame");
    expect_error(&c, h_json("{'t':'read','conv':'c-mallory','seq':5}"), NULL, NULL, "bad_frame");
    expect_error(&c, h_json("{'t':'read','conv':'c-mallory','seq':'-1'}"), NULL, NULL, "bad_frame");
    expect_error(&c, h_json("{'t':'conv.list','req':5}"), NULL, NULL, "bad_frame");
    expect_error(&c, h_json("{'t':'history.page','req':{}}"), NULL, NULL, "bad_frame");

    /* A postback naming a 10,000-byte option. */
    char *big = malloc(10000 * 32);
    H_REQUIRE(big != NULL);
    memset(big, 'o', 10000);
    big[10000] = '\0';
    expect_error(&c, postback("hx-1", "c-mallory", "x", "m-1", big), "cid", "hx-1", "bad_frame");

    /* 10,000 quick replies from an "agent": too big a body, or too many. */
    for (int count = 1000; count <= 10000; count *= 10) {
        size_t used = 0;
        for (int i = 0; i < count; i++)
            used += (size_t)sprintf(big + used, "%s{'id':'o%d','label':'L%d'}", i ? "," : "", i, i);
        int status = api_conv_post(
            "c-mallory", "messages",
            h_json("{'text':'pick','blocks':[{'kind':'quick_replies','options':[%s]}]}",
                   h_quote(big)),
            NULL);
        CHECK(status == 400 || status == 413);
    }
    free(big);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            h_json("{'text':'x','blocks':[{'kind':'video','url':'https://x'}]}"),
                            NULL),
              400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            h_json("{'text':'x','blocks':[{'kind':'quick_replies','options':["
                                   "{'id':'a','label':'A'},{'id':'a','label':'B'}]}]}"),
                            NULL),
              400);
    CHECK_INT(api_conv_post("c-mallory", "messages", h_json("{'text':'x','blocks':{}}"), NULL),
              400);
    CHECK_INT(
        api_conv_post("c-mallory", "messages",
                      h_json("{'text':'x','blocks':[{'kind':'buttons','buttons':["
                             "{'id':'b','label':'x','action':'url','url':'javascript:x'}]}]}"),
                      NULL),
        400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            h_json("{'text':'x','blocks':[{'kind':'card','title':7}]}"), NULL),
              400);
    CHECK_INT(api_conv_post("c-mallory", "messages",
                            h_json("{'text':'x','blocks':[1,2,3,4,5,6,7,8,9,10,11]}"), NULL),
              400);
    CHECK_INT(api_conv_post("c-mallory", "assign", "[]", NULL), 400);
    CHECK_INT(api_conv_post("c-mallory", "assign", h_json("{'agent':"), NULL), 400);

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
    H_RUN(test_bad_flow_refused);
    H_RUN(test_greet_on_start);
    server_start("server", NULL);
    H_RUN(test_greeting_and_postbacks);
    H_RUN(test_bad_postbacks);
    H_RUN(test_free_text_faq);
    H_RUN(test_handoff_and_agents);
    H_RUN(test_unread_and_read);
    H_RUN(test_conv_list);
    H_RUN(test_history_page);
    H_RUN(test_kb);
    H_RUN(test_hostile);
    CHECK(server_alive());
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    return h_finish(g_dir);
}
