/* End to end, the rich side: libparley (public API only) against the
 * reference server and its shipped bot flow (examples/server/flows/
 * support.json) over real TLS on localhost. Quick replies and postbacks,
 * the hand-off to a human through the agents' HTTP API, typing, read marks
 * and unread counts, requests, and surveys, each across server restarts
 * where that is the point. Every wait ends as soon as the awaited event
 * arrives; the deadlines are only there for failures. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"

static h_server g_srv;
static char g_dir[256];

/* Long enough for a loaded 2-core machine (and valgrind, via h_ms). */
#define WAIT h_ms(30000)

/* ---- HTTP API helpers ------------------------------------------------------- */

/* One API call whose status must be `want`; the parsed body (NULL when it
 * is not JSON), to free with cJSON_Delete. */
static cJSON *api_json(const char *method, const char *path, const char *body, int want)
{
    char *text = NULL;
    int status = h_api(&g_srv, method, path, body, &text);
    CHECK_INT(status, want);
    if (status != want)
        fprintf(stderr, "%s %s -> %d %s\n", method, path, status, text ? text : "");
    cJSON *json = text ? cJSON_Parse(text) : NULL;
    free(text);
    return json;
}

static int api_conv_post(const char *conv, const char *what, const char *body)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/%s", conv, what);
    return h_api(&g_srv, "POST", path, body, NULL);
}

/* The aggregate of GET /api/surveys/{name}/responses (inside *doc). */
static const cJSON *api_survey_aggregate(const char *name, cJSON **doc)
{
    char path[256];
    snprintf(path, sizeof path, "/api/surveys/%s/responses", name);
    *doc = api_json("GET", path, NULL, 200);
    const cJSON *agg = cJSON_GetObjectItemCaseSensitive(*doc, "aggregate");
    CHECK(cJSON_IsObject(agg));
    return agg;
}

static double json_num(const cJSON *obj, const char *key, double missing)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsNumber(v) ? v->valuedouble : missing;
}

/* ---- client helpers ------------------------------------------------------------ */

/* A client of g_srv for `user`, online: the test stops when it is not. */
static void open_client(h_client *c, const char *user, const char *data_dir)
{
    H_REQUIRE(h_client_open(c, &g_srv, g_srv.ca, user, data_dir) == 0);
}

static const parley_event *await_online(h_client *c, size_t after, size_t *index_out)
{
    h_want w = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE, .after = after};
    return h_await(c, &w, WAIT, index_out);
}

static const parley_event *await_status(h_client *c, const char *cid, int state)
{
    h_want w = {.type = PARLEY_EV_MESSAGE_STATUS, .state = state, .cid = cid};
    return h_await(c, &w, WAIT, NULL);
}

static const parley_event *await_reply(h_client *c, const char *conv, int author)
{
    h_want w = {.type = PARLEY_EV_MESSAGE, .author = author, .conv = conv};
    return h_await(c, &w, WAIT, NULL);
}

static const parley_event *await_conv_state(h_client *c, const char *conv, int state)
{
    h_want w = {.type = PARLEY_EV_CONVERSATION, .state = state, .conv = conv};
    return h_await(c, &w, WAIT, NULL);
}

/* The first unread count of `conv` at or after `after` that is (zero = 1)
 * or is not (zero = 0) zero; NULL on timeout. */
static const parley_event *await_unread(h_client *c, const char *conv, int zero, size_t after)
{
    h_want w = {.type = PARLEY_EV_UNREAD, .conv = conv, .after = after};
    int64_t deadline = h_now_ms() + WAIT;
    for (;;) {
        int64_t left = deadline - h_now_ms();
        const parley_event *ev = left > 0 ? h_await(c, &w, (int)left, NULL) : NULL;
        if (!ev || (parley_event_count(ev) == 0) == zero)
            return ev;
    }
}

/* The first answer of type `type` to request `req`. */
static const parley_event *await_answer(h_client *c, int type, const char *req)
{
    h_want w = {.type = type};
    int64_t deadline = h_now_ms() + WAIT;
    for (;;) {
        int64_t left = deadline - h_now_ms();
        const parley_event *ev = left > 0 ? h_await(c, &w, (int)left, NULL) : NULL;
        if (!ev || (parley_event_request_id(ev) && strcmp(parley_event_request_id(ev), req) == 0))
            return ev;
    }
}

static void start_conversation(h_client *c, const char *subject, char conv[PARLEY_ID_SIZE])
{
    CHECK_INT(parley_conversation_start(c->pc, subject, conv, PARLEY_ID_SIZE), PARLEY_OK);
    CHECK(strncmp(conv, "c-", 2) == 0);
}

static void send_and_ack(h_client *c, const char *conv, const char *text)
{
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_send_text(c->pc, conv, text, cid, sizeof cid), PARLEY_OK);
    CHECK(await_status(c, cid, PARLEY_MSG_SENT) != NULL);
}

/* The option with id `id` of any block of `ev`, or NULL. */
static const parley_option *find_option(const parley_event *ev, const char *id)
{
    for (int i = 0; i < parley_event_block_count(ev); i++) {
        const parley_block *b = parley_event_block(ev, i);
        for (int j = 0; j < parley_block_option_count(b); j++) {
            const parley_option *o = parley_block_option(b, j);
            if (parley_option_id(o) && strcmp(parley_option_id(o), id) == 0)
                return o;
        }
    }
    return NULL;
}

/* The first URL option of any block of `ev`, or NULL. */
static const parley_option *find_url_option(const parley_event *ev)
{
    for (int i = 0; i < parley_event_block_count(ev); i++) {
        const parley_block *b = parley_event_block(ev, i);
        for (int j = 0; j < parley_block_option_count(b); j++)
            if (parley_option_action(parley_block_option(b, j)) == PARLEY_ACTION_URL)
                return parley_block_option(b, j);
    }
    return NULL;
}

/* The bot's greeting: quick replies Billing / Bugs / Talk to a human. */
static void check_greeting(const parley_event *bot)
{
    CHECK_STR(parley_event_author_name(bot), "Parley Bot");
    CHECK(parley_event_text(bot) && strncmp(parley_event_text(bot), "Hi!", 3) == 0);
    CHECK(parley_event_message_id(bot) != NULL);
    CHECK_INT(parley_event_block_count(bot), 1);
    const parley_block *b = parley_event_block(bot, 0);
    CHECK_INT(parley_block_kind(b), PARLEY_BLOCK_QUICK_REPLIES);
    CHECK_INT(parley_block_option_count(b), 3);
    static const char *const ids[] = {"billing", "bugs", "human"};
    static const char *const labels[] = {"Billing", "Bugs", "Talk to a human"};
    for (int j = 0; j < 3; j++) {
        const parley_option *o = parley_block_option(b, j);
        CHECK_STR(parley_option_id(o), ids[j]);
        CHECK_STR(parley_option_label(o), labels[j]);
        CHECK_STR(parley_option_payload(o), ids[j]);
        CHECK_INT(parley_option_action(o), PARLEY_ACTION_POSTBACK);
    }
    CHECK(parley_block_option(b, 3) == NULL);
    CHECK(parley_event_block(bot, 1) == NULL);
}

/* Starts a conversation, sends its first message and returns the bot's
 * greeting (checked), which the rest of the test needs: the shipped flow
 * greets the first message ("greet": "first_message"). */
static const parley_event *greeted(h_client *c, char conv[PARLEY_ID_SIZE], const char *subject)
{
    start_conversation(c, subject, conv);
    send_and_ack(c, conv, "Hello, I need some help");
    CHECK(await_conv_state(c, conv, PARLEY_CONV_STARTED) != NULL);
    const parley_event *bot = await_reply(c, conv, PARLEY_AUTHOR_BOT);
    H_REQUIRE(bot != NULL);
    check_greeting(bot);
    return bot;
}

/* Answers option `option` of `msg` and waits for SENT and the bot's answer,
 * which must say `text`, and which the rest of the test needs. */
static const parley_event *choose(h_client *c, const char *conv, const parley_event *msg,
                                  const char *option, const char *text)
{
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_postback(c->pc, conv, parley_event_message_id(msg), option, cid, sizeof cid),
              PARLEY_OK);
    CHECK(await_status(c, cid, PARLEY_MSG_PENDING) != NULL);
    const parley_event *sent = await_status(c, cid, PARLEY_MSG_SENT);
    const parley_event *answer = await_reply(c, conv, PARLEY_AUTHOR_BOT);
    H_REQUIRE(sent != NULL && answer != NULL);
    CHECK(strtoull(parley_event_seq(answer), NULL, 10) >
          strtoull(parley_event_seq(sent), NULL, 10));
    if (text && !(parley_event_text(answer) &&
                  strncmp(parley_event_text(answer), text, strlen(text)) == 0)) {
        fprintf(stderr, "after %s: '%s', not '%s'\n", option, parley_event_text(answer), text);
        CHECK(!"the bot's answer");
    }
    return answer;
}

/* ---- 1. the whole flow ------------------------------------------------------------- */

/* Greeting -> Billing -> I want a refund (an FAQ answer from the knowledge
 * base) -> Talk to a human. */
static void flow_to_queue(h_client *c, const char *conv, const parley_event *greeting)
{
    char cid[PARLEY_ID_SIZE];
    const parley_event *topic = choose(c, conv, greeting, "billing", "What's the billing problem?");
    CHECK_INT(parley_event_block_count(topic), 1);
    CHECK_INT(parley_block_kind(parley_event_block(topic, 0)), PARLEY_BLOCK_QUICK_REPLIES);
    CHECK_INT(parley_block_option_count(parley_event_block(topic, 0)), 4);
    CHECK_STR(parley_option_label(find_option(topic, "refund")), "I want a refund");
    /* A quick-reply set is used up once one is chosen. */
    const char *greet_id = parley_event_message_id(greeting);
    CHECK_INT(parley_postback(c->pc, conv, greet_id, "bugs", cid, sizeof cid), PARLEY_ERR_STATE);
    CHECK_INT(parley_postback(c->pc, conv, greet_id, "billing", cid, sizeof cid), PARLEY_ERR_STATE);
    CHECK_INT(
        parley_postback(c->pc, conv, parley_event_message_id(topic), "no-such", cid, sizeof cid),
        PARLEY_ERR_NOT_FOUND);

    const parley_event *faq = choose(c, conv, topic, "refund", "Here's how refunds work:");
    CHECK(parley_event_text(faq) && strstr(parley_event_text(faq), "14 days"));
    const parley_option *link = find_url_option(faq);
    H_REQUIRE(link != NULL);
    CHECK(parley_option_url(link) && strstr(parley_option_url(link), "/refunds"));
    char no_cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_postback(c->pc, conv, parley_event_message_id(faq), parley_option_id(link),
                              no_cid, sizeof no_cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(
        parley_postback(c->pc, conv, parley_event_message_id(topic), "human", cid, sizeof cid),
        PARLEY_ERR_STATE);
    CHECK_STR(parley_option_label(find_option(faq, "human")), "Talk to a human");
    const parley_event *handoff = choose(c, conv, faq, "human", "I'm connecting you with a human");
    CHECK(handoff != NULL);
    const parley_event *queued = await_conv_state(c, conv, PARLEY_CONV_QUEUED);
    H_REQUIRE(queued != NULL);
    CHECK(parley_event_queue_position(queued) >= 1);
    CHECK(parley_event_wait_s(queued) >= 120); /* wait_per_position_s */
    CHECK_INT(h_api_count_text(&g_srv, conv, "Billing"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "I want a refund"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "Talk to a human"), 1);
}

static void check_api_queued(const char *conv)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s", conv);
    cJSON *doc = api_json("GET", path, NULL, 200);
    CHECK_STR(h_json_str(doc, "id"), conv);
    CHECK_STR(h_json_str(doc, "state"), "queued");
    CHECK(json_num(doc, "queue_position", 0) >= 1);
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(doc, "agent")));
    const cJSON *notes = cJSON_GetObjectItemCaseSensitive(doc, "bot_notes");
    CHECK(cJSON_IsObject(notes) && notes->child);
    char *notes_text = cJSON_PrintUnformatted(notes);
    CHECK(notes_text && strstr(notes_text, "refund"));
    if (getenv("PARLEY_E2E_VERBOSE") || !notes_text || !strstr(notes_text, "refund"))
        fprintf(stderr, "bot_notes: %s\n", notes_text ? notes_text : "(none)");
    free(notes_text);
    cJSON_Delete(doc);

    cJSON *queue = api_json("GET", "/api/queue", NULL, 200);
    int found = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, queue) {
        found += h_json_str(item, "conv") && strcmp(h_json_str(item, "conv"), conv) == 0;
    }
    CHECK_INT(found, 1);
    cJSON_Delete(queue);
}

static void agent_takes_over(h_client *c, const char *conv)
{
    CHECK_INT(api_conv_post(conv, "assign", h_json("{'agent':'Dana'}")), 200);
    const parley_event *agent = await_conv_state(c, conv, PARLEY_CONV_AGENT);
    H_REQUIRE(agent != NULL);
    CHECK_STR(parley_event_author_name(agent), "Dana");

    CHECK_INT(api_conv_post(conv, "messages",
                            h_json("{'text':'Hi, Dana here. Did the refund arrive?','name':'Dana',"
                                   "'blocks':[{'kind':'quick_replies','options':["
                                   "{'id':'yes','label':'Yes','payload':'yes'},"
                                   "{'id':'no','label':'Not yet','payload':'no'}]}]}")),
              201);
    const parley_event *msg = await_reply(c, conv, PARLEY_AUTHOR_AGENT);
    H_REQUIRE(msg != NULL);
    CHECK_STR(parley_event_text(msg), "Hi, Dana here. Did the refund arrive?");
    CHECK_STR(parley_event_author_name(msg), "Dana");
    CHECK_INT(parley_event_block_count(msg), 1);
    const parley_block *b = parley_event_block(msg, 0);
    CHECK_INT(parley_block_kind(b), PARLEY_BLOCK_QUICK_REPLIES);
    CHECK_INT(parley_block_option_count(b), 2);
    CHECK_STR(parley_option_id(parley_block_option(b, 1)), "no");
    CHECK_STR(parley_option_label(parley_block_option(b, 1)), "Not yet");
    CHECK(parley_event_raw_json(msg) && strstr(parley_event_raw_json(msg), "quick_replies"));
}

static void answer_csat(h_client *c, const char *conv)
{
    CHECK_INT(api_conv_post(conv, "close", "{}"), 200);
    CHECK(await_conv_state(c, conv, PARLEY_CONV_CLOSED) != NULL);
    h_want want = {.type = PARLEY_EV_SURVEY, .conv = conv};
    const parley_event *ev = h_await(c, &want, WAIT, NULL);
    const parley_survey *sv = parley_event_survey(ev);
    H_REQUIRE(sv != NULL);
    CHECK_STR(parley_survey_name(sv), "csat");
    CHECK_STR(parley_survey_conversation_id(sv), conv);
    CHECK_INT(parley_survey_is_proactive(sv), 0);
    CHECK_INT(parley_survey_question_count(sv), 3);

    parley_survey_response *resp = NULL;
    CHECK_INT(parley_survey_response_new(c->pc, parley_survey_id(sv), &resp), PARLEY_OK);
    H_REQUIRE(resp != NULL);
    char missing[PARLEY_SURVEY_ID_SIZE] = "", cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_survey_submit(resp, missing, sizeof missing, cid, sizeof cid),
              PARLEY_ERR_INCOMPLETE);
    CHECK_STR(missing, "q1");
    CHECK_INT(parley_survey_answer_number(resp, "q1", 4), PARLEY_OK);
    CHECK_INT(parley_survey_answer_choice(resp, "q2", "fixed"), PARLEY_OK);
    CHECK_INT(parley_survey_question_visible(resp, "q3"), 0);
    CHECK_INT(parley_survey_submit(resp, missing, sizeof missing, cid, sizeof cid), PARLEY_OK);
    CHECK(await_status(c, cid, PARLEY_MSG_SENT) != NULL);
    parley_survey_response_free(resp);

    cJSON *doc = NULL;
    const cJSON *agg = api_survey_aggregate("csat", &doc);
    CHECK_INT(json_num(agg, "count", -1), 1);
    CHECK(json_num(agg, "csat_avg", -1) == 4.0);
    const cJSON *q2 =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(agg, "options"), "q2");
    CHECK_INT(json_num(q2, "fixed", -1), 1);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "responses"), 0);
    CHECK_STR(h_json_str(first, "conv"), conv);
    CHECK_STR(h_json_str(first, "user"), "flow-alice");
    cJSON_Delete(doc);
}

static void test_whole_flow(void)
{
    h_client c;
    open_client(&c, "flow-alice", NULL);
    CHECK(await_online(&c, 0, NULL) != NULL);
    char conv[PARLEY_ID_SIZE];
    const parley_event *greeting = greeted(&c, conv, "My gems never arrived");
    flow_to_queue(&c, conv, greeting);
    check_api_queued(conv);
    agent_takes_over(&c, conv);
    answer_csat(&c, conv);
    h_want errors = {.type = PARLEY_EV_ERROR};
    CHECK_INT(h_count(&c, &errors), 0);
    h_client_close(&c);
}

/* The user types a question after the greeting, then taps a quick reply of
 * the greeting (still unanswered, so the library lets it through): the
 * answer must follow the option tapped, i.e. the node that offered it. */
static void test_stale_quick_reply(void)
{
    h_client c;
    open_client(&c, "flow-frank", NULL);
    CHECK(await_online(&c, 0, NULL) != NULL);
    char conv[PARLEY_ID_SIZE];
    const parley_event *greeting = greeted(&c, conv, NULL);
    send_and_ack(&c, conv, "My coins are missing");
    CHECK(await_reply(&c, conv, PARLEY_AUTHOR_BOT) != NULL);
    choose(&c, conv, greeting, "billing", "What's the billing problem?");
    h_client_close(&c);
}

/* ---- 2. postback dedupe across a forced reconnect ------------------------------------- */

enum kill_when {
    KILL_FIRST,  /* the server is gone before the postback: it waits in the outbox */
    KILL_FROZEN, /* the client writes it to a frozen server, which dies unacknowledging */
    KILL_AFTER   /* killed right after parley_postback() returns, while the I/O
                  * thread writes it (stored or not, unacknowledged either way) */
};

static void postback_across_kill(enum kill_when when)
{
    static const char *const users[] = {"flow-bob", "flow-bea", "flow-bill"};
    h_client c;
    open_client(&c, users[when], NULL);
    c.threaded = when == KILL_AFTER;
    if (c.threaded)
        CHECK_INT(parley_start(c.pc), PARLEY_OK);
    CHECK(await_online(&c, 0, NULL) != NULL);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    const parley_event *greeting = greeted(&c, conv, "The shop keeps spinning");
    int port = g_srv.port;
    size_t i_lost = 0;
    h_want lost = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_RECONNECTING};
    if (when == KILL_FIRST) {
        h_server_stop(&g_srv, SIGKILL);
        CHECK(h_await(&c, &lost, WAIT, &i_lost) != NULL);
    }
    if (when == KILL_FROZEN)
        kill(g_srv.pid, SIGSTOP);
    CHECK_INT(
        parley_postback(c.pc, conv, parley_event_message_id(greeting), "bugs", cid, sizeof cid),
        PARLEY_OK);
    if (when == KILL_FROZEN) {
        h_pump(&c, 300); /* written into the socket; nobody reads it */
        h_want sent_early = {
            .type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid};
        CHECK_INT(h_count(&c, &sent_early), 0);
    }
    if (when != KILL_FIRST) {
        h_server_stop(&g_srv, SIGKILL);
        CHECK(h_await(&c, &lost, WAIT, &i_lost) != NULL);
    }
    CHECK(await_status(&c, cid, PARLEY_MSG_PENDING) != NULL);
    h_pump(&c, 300); /* a reconnect attempt fails against the closed port */
    CHECK_INT(h_server_start(&g_srv, port), 0);
    CHECK(await_online(&c, i_lost, NULL) != NULL);
    CHECK(await_status(&c, cid, PARLEY_MSG_SENT) != NULL);
    h_pump(&c, 500); /* a second SENT would come now */
    h_want sent = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid};
    CHECK_INT(h_count(&c, &sent), 1);
    h_want failed = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_FAILED};
    CHECK_INT(h_count(&c, &failed), 0);
    uint32_t outbox = 99;
    CHECK_INT(parley_outbox_count(c.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 0);
    CHECK_INT(h_api_count_text(&g_srv, conv, "Bugs"), 1);
    /* The bot answered the postback once, whichever side of the kill it was stored on. */
    CHECK_INT(h_api_count_text(&g_srv, conv, "Sorry about that! What's happening?"), 1);
    if (c.threaded)
        CHECK_INT(parley_stop(c.pc), PARLEY_OK);
    h_client_close(&c);
}

static void test_postback_while_down(void)
{
    postback_across_kill(KILL_FIRST);
}

static void test_postback_to_frozen_server(void)
{
    postback_across_kill(KILL_FROZEN);
}

static void test_postback_then_kill(void)
{
    postback_across_kill(KILL_AFTER);
}

/* ---- 3. typing, read marks, unread counts -------------------------------------------- */

static void typing_on_then_off(h_client *c, const char *conv)
{
    CHECK_INT(api_conv_post(conv, "typing", h_json("{'on':true,'name':'Dana'}")), 200);
    h_want on = {.type = PARLEY_EV_TYPING, .state = PARLEY_TYPING_ON, .conv = conv};
    const parley_event *ev = h_await(c, &on, WAIT, NULL);
    H_REQUIRE(ev != NULL);
    int64_t t_on = h_now_ms();
    CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_AGENT);
    CHECK_STR(parley_event_author_name(ev), "Dana");
    /* No refresh: the client turns the dots off by itself after 6 s. */
    h_want off = {.type = PARLEY_EV_TYPING, .state = PARLEY_TYPING_OFF, .conv = conv};
    CHECK(h_await(c, &off, h_ms(15000), NULL) != NULL);
    int64_t waited = h_now_ms() - t_on;
    CHECK(waited >= 4500);
    if (waited < 4500)
        fprintf(stderr, "typing off after %lld ms\n", (long long)waited);

    /* An explicit off from the server ends it at once. */
    CHECK_INT(api_conv_post(conv, "typing", h_json("{'on':true,'name':'Dana'}")), 200);
    CHECK(h_await(c, &on, WAIT, NULL) != NULL);
    CHECK_INT(api_conv_post(conv, "typing", h_json("{'on':false,'name':'Dana'}")), 200);
    t_on = h_now_ms();
    CHECK(h_await(c, &off, WAIT, NULL) != NULL);
    CHECK(h_now_ms() - t_on < 4000);
}

static void test_typing_read_unread(void)
{
    h_client c;
    open_client(&c, "flow-carol", NULL);
    CHECK(await_online(&c, 0, NULL) != NULL);
    char conv[PARLEY_ID_SIZE];
    greeted(&c, conv, "Where is my order");
    send_and_ack(&c, conv, "My coins are missing");
    const parley_event *answer = await_reply(&c, conv, PARLEY_AUTHOR_BOT);
    H_REQUIRE(answer != NULL);
    typing_on_then_off(&c, conv);

    CHECK(await_unread(&c, conv, 0, 0) != NULL);
    uint32_t n = 0;
    CHECK_INT(parley_unread_count(c.pc, conv, &n), PARLEY_OK);
    CHECK(n >= 1);
    CHECK_INT(parley_unread_count(c.pc, NULL, &n), PARLEY_OK);
    CHECK(n >= 1);

    CHECK_INT(parley_mark_read(c.pc, conv, parley_event_seq(answer)), PARLEY_OK);
    CHECK(await_unread(&c, conv, 1, 0) != NULL);
    CHECK_INT(parley_unread_count(c.pc, conv, &n), PARLEY_OK);
    CHECK_INT(n, 0);

    /* The agents read it: the user's messages show as read. */
    CHECK_INT(api_conv_post(conv, "read", h_json("{'seq':'%s'}", parley_event_seq(answer))), 200);
    h_want read = {.type = PARLEY_EV_READ, .conv = conv};
    CHECK_STR(parley_event_seq(h_await(&c, &read, WAIT, NULL)), parley_event_seq(answer));

    /* An agent message makes it unread again. */
    CHECK_INT(api_conv_post(conv, "messages", h_json("{'text':'One moment please','name':'Dana'}")),
              201);
    CHECK(await_reply(&c, conv, PARLEY_AUTHOR_AGENT) != NULL);
    CHECK_INT(parley_event_count(await_unread(&c, conv, 0, 0)), 1);

    /* After a reconnect the server tells the count again. (No H_REQUIRE
     * while the server is down: the tests after this one need it.) */
    int port = g_srv.port;
    h_server_stop(&g_srv, SIGKILL);
    size_t i_lost = 0, i_online = 0;
    h_want lost = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_RECONNECTING};
    CHECK(h_await(&c, &lost, WAIT, &i_lost) != NULL);
    CHECK_INT(h_server_start(&g_srv, port), 0);
    CHECK(await_online(&c, i_lost, &i_online) != NULL);
    h_want after = {.type = PARLEY_EV_UNREAD, .conv = conv, .after = i_online};
    CHECK_INT(parley_event_count(h_await(&c, &after, WAIT, NULL)), 1);
    CHECK_INT(parley_unread_count(c.pc, conv, &n), PARLEY_OK);
    CHECK_INT(n, 1);
    h_client_close(&c);
}

/* ---- 4. requests ---------------------------------------------------------------------- */

static void request_articles(h_client *c)
{
    char req[PARLEY_ID_SIZE], req2[PARLEY_ID_SIZE], req3[PARLEY_ID_SIZE];
    CHECK_INT(parley_search_articles(c->pc, "refund", req, sizeof req), PARLEY_OK);
    CHECK(strncmp(req, "r-", 2) == 0);
    const parley_event *ev = await_answer(c, PARLEY_EV_ARTICLES, req);
    H_REQUIRE(ev != NULL);
    const char *article = NULL;
    for (int i = 0; i < parley_event_item_count(ev); i++) {
        const parley_event *item = parley_event_item(ev, i);
        CHECK_INT(parley_event_type(item), PARLEY_EV_ARTICLE);
        const char *title = parley_event_title(item);
        if (!article && title && strstr(title, "efund"))
            article = parley_event_message_id(item);
    }
    CHECK(parley_event_item_count(ev) >= 1);
    H_REQUIRE(article != NULL);
    CHECK_STR(article, "refunds");

    CHECK_INT(parley_get_article(c->pc, article, req2, sizeof req2), PARLEY_OK);
    ev = await_answer(c, PARLEY_EV_ARTICLE, req2);
    H_REQUIRE(ev != NULL);
    CHECK_STR(parley_event_message_id(ev), "refunds");
    CHECK_STR(parley_event_title(ev), "Refunds");
    CHECK(parley_event_text(ev) && strstr(parley_event_text(ev), "14 days"));
    CHECK(parley_event_url(ev) && strncmp(parley_event_url(ev), "https://", 8) == 0);

    CHECK_INT(parley_get_article(c->pc, "no-such", req3, sizeof req3), PARLEY_OK);
    h_want err = {.type = PARLEY_EV_ERROR, .cid = req3};
    ev = h_await(c, &err, WAIT, NULL);
    H_REQUIRE(ev != NULL);
    CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_NOT_FOUND);
}

static void request_lists(h_client *c, const char *conv)
{
    char req[PARLEY_ID_SIZE], req2[PARLEY_ID_SIZE];
    CHECK_INT(parley_list_conversations(c->pc, req, sizeof req), PARLEY_OK);
    const parley_event *ev = await_answer(c, PARLEY_EV_CONVERSATIONS, req);
    H_REQUIRE(ev != NULL);
    int found = 0;
    for (int i = 0; i < parley_event_item_count(ev); i++) {
        const parley_event *item = parley_event_item(ev, i);
        if (parley_event_conversation_id(item) &&
            strcmp(parley_event_conversation_id(item), conv) == 0) {
            found++;
            CHECK_INT(parley_event_type(item), PARLEY_EV_CONVERSATION);
            CHECK_INT(parley_event_state(item), PARLEY_CONV_BOT);
            CHECK_STR(parley_event_title(item), "Looking for help");
        }
    }
    CHECK_INT(found, 1);

    CHECK_INT(parley_load_history(c->pc, conv, NULL, 1, req2, sizeof req2), PARLEY_OK);
    ev = await_answer(c, PARLEY_EV_HISTORY, req2);
    H_REQUIRE(ev != NULL);
    CHECK_INT(parley_event_more(ev), 1);
    CHECK_INT(parley_event_item_count(ev), 1);
    CHECK_STR(parley_event_conversation_id(ev), conv);
    const parley_event *m = parley_event_item(ev, 0);
    CHECK_INT(parley_event_type(m), PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_author_kind(m), PARLEY_AUTHOR_BOT);
    CHECK(parley_event_text(m) && strncmp(parley_event_text(m), "Hi!", 3) == 0);
    CHECK_STR(parley_option_id(parley_block_option(parley_event_block(m, 0), 2)), "human");
    CHECK_INT(parley_event_block_count(m), 1);
}

static void test_requests(void)
{
    h_client c;
    open_client(&c, "flow-dave", NULL);
    CHECK(await_online(&c, 0, NULL) != NULL);
    char conv[PARLEY_ID_SIZE];
    greeted(&c, conv, "Looking for help");
    request_articles(&c);
    request_lists(&c, conv);
    h_client_close(&c);
}

/* ---- 5. a survey answered offline ------------------------------------------------------ */

static void test_survey_offline(void)
{
    char data[H_PATH];
    snprintf(data, sizeof data, "%s/survey-data", g_dir);
    h_client c;
    open_client(&c, "flow-erin", data);
    CHECK(await_online(&c, 0, NULL) != NULL);
    cJSON *pushed =
        api_json("POST", "/api/users/flow-erin/surveys", h_json("{'survey':'nps'}"), 201);
    char sv_id[64];
    snprintf(sv_id, sizeof sv_id, "%s", h_json_str(pushed, "id") ? h_json_str(pushed, "id") : "");
    cJSON_Delete(pushed);
    H_REQUIRE(sv_id[0] != '\0');
    h_want want = {.type = PARLEY_EV_SURVEY};
    const parley_survey *sv = parley_event_survey(h_await(&c, &want, WAIT, NULL));
    H_REQUIRE(sv != NULL);
    CHECK_STR(parley_survey_id(sv), sv_id);
    CHECK_STR(parley_survey_name(sv), "nps");
    CHECK_INT(parley_survey_is_proactive(sv), 1);

    /* No H_REQUIRE while the server is down: the tests after this one need it. */
    int port = g_srv.port;
    h_server_stop(&g_srv, SIGKILL);
    size_t i_lost = 0;
    h_want lost = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_RECONNECTING};
    CHECK(h_await(&c, &lost, WAIT, &i_lost) != NULL);

    parley_survey_response *resp = NULL;
    CHECK_INT(parley_survey_response_new(c.pc, sv_id, &resp), PARLEY_OK);
    char cid[PARLEY_ID_SIZE] = "";
    if (resp) {
        static const char *const picks[] = {"story", "events"};
        CHECK_INT(parley_survey_answer_number(resp, "q1", 11), PARLEY_ERR_RANGE);
        CHECK_INT(parley_survey_answer_number(resp, "q1", 9), PARLEY_OK);
        CHECK_INT(parley_survey_answer_choices(resp, "q2", picks, 2), PARLEY_OK);
        CHECK_INT(parley_survey_submit(resp, NULL, 0, cid, sizeof cid), PARLEY_OK);
        parley_survey_response_free(resp);
    }
    CHECK(await_status(&c, cid, PARLEY_MSG_PENDING) != NULL);
    uint32_t outbox = 0;
    CHECK_INT(parley_outbox_count(c.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 1);
    h_pump(&c, 300);

    CHECK_INT(h_server_start(&g_srv, port), 0);
    CHECK(await_online(&c, i_lost, NULL) != NULL);
    CHECK(await_status(&c, cid, PARLEY_MSG_SENT) != NULL);
    h_pump(&c, 500); /* a resent survey or a second SENT would come now */
    h_want sent = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid};
    CHECK_INT(h_count(&c, &sent), 1);
    CHECK_INT(h_count(&c, &want), 1);
    CHECK_INT(parley_survey_response_new(c.pc, sv_id, &resp), PARLEY_ERR_STATE);

    cJSON *doc = NULL;
    const cJSON *agg = api_survey_aggregate("nps", &doc);
    CHECK_INT(json_num(agg, "count", -1), 1);
    CHECK(json_num(agg, "nps", -1000) == 100.0);
    const cJSON *first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(doc, "responses"), 0);
    CHECK_STR(h_json_str(first, "id"), sv_id);
    CHECK_STR(h_json_str(first, "user"), "flow-erin");
    cJSON_Delete(doc);
    h_client_close(&c);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "e2e-flow") != 0 || h_server_init(&g_srv, g_dir) != 0) {
        fprintf(stderr, "cannot prepare %s (certificates need the openssl tool)\n", g_dir);
        return 1;
    }
    g_srv.extra_args = h_insecure_identities;
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
    H_RUN(test_whole_flow);
    H_RUN(test_postback_while_down);
    H_RUN(test_postback_to_frozen_server);
    H_RUN(test_postback_then_kill);
    H_RUN(test_typing_read_unread);
    H_RUN(test_requests);
    H_RUN(test_survey_offline);
    H_RUN(test_stale_quick_reply);
    h_server_stop(&g_srv, SIGTERM);
    return h_finish(g_dir);
}
