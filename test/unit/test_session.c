/* Session engine, frame by frame: a fake clock, frames fed in as JSON text,
 * frames taken out and parsed with cJSON, events checked one by one. */
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feature/user_context.h"
#include "session/session.h"
#include "session/session_internal.h"
#include "store/storage.h"
#include "sessprobe.h"
#include "testlib.h"
#include "platform/entropy.h"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fx {
    tl_alloc ta;
    pl_alloc a;
    pl_rand *rand;
    pl_sess *s;
    pl_ctx *ctx; /* the context module rides along: snapshots and context frames */
    int64_t now;
    pl_event_queue evq;
} fx;

static int fx_add_ctx(fx *f)
{
    pl_ctx_config cc = {.consent = 1};
    f->ctx = pl_ctx_new(&f->a, f->s, &cc, NULL);
    return f->ctx != NULL;
}

static void fx_close(fx *f)
{
    pl_ctx_free(f->ctx);
    f->ctx = NULL;
    pl_sess_free(f->s);
    f->s = NULL;
}

/* On a failed check: the events and the next frame still queued. */
static void dump(void *user)
{
    fx *f = user;
    sp_dump(f->s, &f->evq);
}

static int fx_init_cfg(fx *f, const pl_sess_config *cfg)
{
    memset(f, 0, sizeof *f);
    tl_on_failure(dump, f);
    tl_alloc_reset(&f->ta);
    f->a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f->ta};
    f->rand = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
    f->now = 1000;
    f->s = pl_sess_new(&f->a, cfg, f->rand, NULL);
    return f->s != NULL && fx_add_ctx(f);
}

static void fx_init(fx *f)
{
    REQUIRE(fx_init_cfg(f, &sp_default_cfg));
}

static void fx_free(fx *f)
{
    fx_close(f);
    pl_event_queue_clear(&f->evq);
    pl_rand_free(f->rand);
    CHECK_INT(f->ta.live, 0);
}

/* What the facade does: set, then let the session's timers run. */
static int fx_attr(fx *f, const pl_attr *a)
{
    int rc = pl_ctx_set_attr(f->ctx, a);
    pl_sess_tick(f->s, f->now);
    return rc;
}

static int fx_start(fx *f, const char *subject, char conv[PARLEY_ID_SIZE])
{
    return pl_sess_conv_start(f->s, subject, conv);
}

static int fx_send(fx *f, const char *conv, const char *text, char cid[PARLEY_ID_SIZE])
{
    return pl_sess_send_text(f->s, conv, text, NULL, cid);
}

static int event_count(fx *f)
{
    return sp_event_count(f->s, &f->evq);
}

static void drain_events(fx *f)
{
    sp_drain_events(f->s, &f->evq);
}

/* Pops the next event and checks its type and state; returns it (caller
 * frees) or NULL when there is none. */
static parley_event *expect_event(fx *f, int type, int state, int line)
{
    return sp_expect_event(f->s, &f->evq, type, state, __FILE__, line);
}
#define EXPECT_EVENT(f, type, state) expect_event((f), (type), (state), __LINE__)

static void feed(fx *f, const char *json)
{
    sp_feed(f->s, f->now, json, __FILE__, __LINE__);
}

/* Takes the next frame off the session and parses it; NULL when none. */
/* Takes a frame, checks its type, returns it (caller deletes). */
static cJSON *expect_frame(fx *f, const char *type, int line)
{
    return sp_expect_frame(f->s, type, __FILE__, line);
}
#define EXPECT_FRAME(f, type) expect_frame((f), (type), __LINE__)

static void skip_frame(fx *f, const char *type, int line)
{
    cJSON_Delete(expect_frame(f, type, line));
}
#define SKIP_FRAME(f, type) skip_frame((f), (type), __LINE__)

static void expect_no_frame(fx *f, int line)
{
    sp_expect_no_frame(f->s, __FILE__, line);
}
#define EXPECT_NO_FRAME(f) expect_no_frame((f), __LINE__)

/* go_online (first time) or the retry time reached, through hello. */
static void connect_open(fx *f)
{
    CHECK(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f->s, f->now);
    pl_sess_on_open(f->s, f->now);
}

/* A full handshake: connect, hello out, welcome in; events drained. */
static void bring_online(fx *f, const char *welcome)
{
    connect_open(f);
    SKIP_FRAME(f, "hello");
    feed(f, welcome ? welcome : Q("{'t':'welcome','session':'s-1'}"));
    drain_events(f);
}

static void start_online(fx *f)
{
    fx_init(f);
    pl_sess_go_online(f->s, f->now);
    bring_online(f, NULL);
}

/* The connection drops; time moves to the retry. */
static void drop_and_wait(fx *f)
{
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CLOSED, "gone");
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    CHECK(deadline >= f->now);
    f->now = deadline;
}

/* Feeds an ack for the frame `j` (conv.start or msg.send). */
static void ack_frame(fx *f, const cJSON *j, const char *id, const char *seq)
{
    char buf[512];
    if (strcmp(sp_jstr(j, "t"), "conv.start") == 0)
        snprintf(buf, sizeof buf, Q("{'t':'conv.ack','cid':'%s','conv':'%s'}"), sp_jstr(j, "cid"),
                 sp_jstr(j, "conv"));
    else
        snprintf(buf, sizeof buf, Q("{'t':'msg.ack','cid':'%s','id':'%s','conv':'%s','seq':'%s'}"),
                 sp_jstr(j, "cid"), id, sp_jstr(j, "conv"), seq);
    feed(f, buf);
}

static void feed_msg(fx *f, const char *conv, const char *seq, const char *text)
{
    char buf[512];
    snprintf(buf, sizeof buf,
             Q("{'t':'msg','conv':'%s','id':'m-%s','seq':'%s','author':{'kind':'bot',"
               "'name':'Helper'},'text':'%s','ts':1763900000000}"),
             conv, seq, seq, text);
    feed(f, buf);
}

static uint32_t fail_attempt(fx *f);

/* ---- connection and hello ------------------------------------------------------ */

static void test_idle_until_online(void)
{
    fx f;
    fx_init(&f);
    int64_t deadline = 0;
    CHECK_INT(pl_sess_want(f.s, f.now, &deadline), 0);
    CHECK_INT(deadline, -1);
    pl_sess_go_online(f.s, f.now);
    CHECK_INT(pl_sess_want(f.s, f.now, &deadline), PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f.s, f.now);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_CONNECTING);
    parley_event_free(ev);
    CHECK_INT(pl_sess_want(f.s, f.now, &deadline), 0);
    fx_free(&f);
}

static void test_hello_anonymous(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_WRITE);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_INT(cJSON_GetNumberValue(sp_jget(h, "v")), 1);
    CHECK_STR(sp_jstr(h, "app"), "my-game");
    CHECK_STR(sp_jstr(h, "sdk.name"), "parley-c");
    CHECK_STR(sp_jstr(h, "sdk.version"), PARLEY_VERSION_STRING);
    CHECK_STR(sp_jstr(h, "sdk.platform"), "test-os");
    CHECK_STR(sp_jstr(h, "user.anon"), "a-0000");
    CHECK(sp_jget(sp_jget(h, "user"), "id") == NULL);
    CHECK(sp_jget(h, "resume") == NULL);
    cJSON_Delete(h);
    EXPECT_NO_FRAME(&f);
    CHECK(!(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_WRITE));
    fx_free(&f);
}

static void test_hello_identified(void)
{
    fx f;
    fx_init(&f);
    CHECK_INT(pl_sess_identify(f.s, "player-42", "jwt.token"), PARLEY_OK);
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_STR(sp_jstr(h, "user.id"), "player-42");
    CHECK_STR(sp_jstr(h, "user.token"), "jwt.token");
    /* The anonymous id travels along so the server can merge its history. */
    CHECK_STR(sp_jstr(h, "user.anon"), "a-0000");
    cJSON_Delete(h);
    fx_free(&f);
}

static void test_hello_resume_cursors(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s-81b2'}"));
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    feed_msg(&f, "c-other", "1", "hi");
    feed_msg(&f, "c-other", "2", "there");
    drop_and_wait(&f);
    drain_events(&f);
    connect_open(&f);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_STR(sp_jstr(h, "resume.session"), "s-81b2");
    const cJSON *cursors = sp_jget(sp_jget(h, "resume"), "cursors");
    CHECK_INT(cJSON_GetArraySize(cursors), 1); /* the started conversation has no seq yet */
    CHECK_STR(sp_jstr(h, "resume.cursors.c-other"), "2");
    cJSON_Delete(h);
    fx_free(&f);
}

static void test_nothing_but_hello_before_welcome(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, "Payment problem", conv), PARLEY_OK);
    pl_attr at = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    CHECK_INT(fx_attr(&f, &at), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "first", cid), PARLEY_OK);
    SKIP_FRAME(&f, "hello");
    EXPECT_NO_FRAME(&f);
    CHECK(!(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_WRITE));
    drain_events(&f);

    feed(&f, Q("{'t':'welcome','session':'s-1','limits':{'max_frame':32768,'max_text':100}}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    parley_event_free(ev);
    CHECK_INT(pl_sess_max_frame(f.s), 32768);
    CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_WRITE);
    cJSON *j = EXPECT_FRAME(&f, "context");
    CHECK_STR(sp_jstr(j, "attributes.plan"), "vip");
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "conv.start");
    CHECK_STR(sp_jstr(j, "conv"), conv);
    CHECK_STR(sp_jstr(j, "subject"), "Payment problem");
    CHECK(sp_jget(j, "context") == NULL); /* the attribute came after the start */
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "cid"), cid);
    CHECK_STR(sp_jstr(j, "conv"), conv);
    CHECK_STR(sp_jstr(j, "text"), "first");
    CHECK_STR(sp_jstr(j, "context.attributes.plan"), "vip");
    cJSON_Delete(j);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_send_offline_then_online_sent_once(void)
{
    fx f;
    fx_init(&f);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(strncmp(conv, "c-", 2), 0);
    CHECK_INT(strlen(conv), 2 + PL_UUID_STR_LEN);
    CHECK_INT(fx_send(&f, conv, "hello?", cid), PARLEY_OK);
    CHECK_INT(strlen(cid), PL_UUID_STR_LEN);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_PENDING);
    CHECK_STR(ev->cid, cid);
    CHECK_STR(ev->conv, conv);
    parley_event_free(ev);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL), 0);

    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    cJSON *msg = EXPECT_FRAME(&f, "msg.send");
    EXPECT_NO_FRAME(&f);
    ack_frame(&f, start, NULL, NULL);
    ev = EXPECT_EVENT(&f, PARLEY_EV_CONVERSATION, PARLEY_CONV_STARTED);
    CHECK_STR(ev->conv, conv);
    parley_event_free(ev);
    ack_frame(&f, msg, "m-1001", "4");
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
    CHECK_STR(ev->cid, cid);
    CHECK_STR(ev->id, "m-1001");
    CHECK_STR(ev->seq, "4");
    CHECK_STR(ev->conv, conv);
    parley_event_free(ev);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    EXPECT_NO_FRAME(&f);
    cJSON_Delete(start);
    cJSON_Delete(msg);
    fx_free(&f);
}

static void test_resend_after_reconnect_in_order(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE], c1[PARLEY_ID_SIZE], c2[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, "s", conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "one", c1), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "two", c2), PARLEY_OK);
    SKIP_FRAME(&f, "conv.start");
    SKIP_FRAME(&f, "msg.send");
    SKIP_FRAME(&f, "msg.send");
    EXPECT_NO_FRAME(&f);

    drop_and_wait(&f);
    EXPECT_NO_FRAME(&f);
    bring_online(&f, NULL);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    CHECK_STR(sp_jstr(start, "conv"), conv);
    cJSON *m1 = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(m1, "cid"), c1);
    CHECK_STR(sp_jstr(m1, "text"), "one");
    cJSON *m2 = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(m2, "cid"), c2);
    EXPECT_NO_FRAME(&f);

    ack_frame(&f, start, NULL, NULL);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    drain_events(&f);
    drop_and_wait(&f);
    bring_online(&f, NULL);
    cJSON *r1 = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(r1, "cid"), c1);
    cJSON *r2 = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(r2, "cid"), c2);
    EXPECT_NO_FRAME(&f);
    cJSON_Delete(start);
    cJSON_Delete(m1);
    cJSON_Delete(m2);
    cJSON_Delete(r1);
    cJSON_Delete(r2);
    fx_free(&f);
}

static void test_new_items_while_online_follow_pending_ones(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    SKIP_FRAME(&f, "conv.start");
    EXPECT_NO_FRAME(&f);
    CHECK_INT(fx_send(&f, conv, "later", cid), PARLEY_OK);
    cJSON *j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "cid"), cid);
    cJSON_Delete(j);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

/* ---- frames in ---------------------------------------------------------------- */

static void test_msg_delivery_and_dedupe(void)
{
    fx f;
    start_online(&f);
    feed_msg(&f, "c-1", "1", "one");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->conv, "c-1");
    CHECK_STR(ev->id, "m-1");
    CHECK_STR(ev->seq, "1");
    CHECK_STR(ev->text, "one");
    CHECK_INT(ev->author_kind, PARLEY_AUTHOR_BOT);
    CHECK_STR(ev->author_name, "Helper");
    CHECK_INT(ev->ts, 1763900000000LL);
    parley_event_free(ev);
    feed_msg(&f, "c-1", "2", "two");
    feed_msg(&f, "c-1", "2", "two again");
    feed_msg(&f, "c-1", "1", "old");
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->text, "two");
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0);
    /* A gap is not delivered: the history that fills it is asked for. */
    feed_msg(&f, "c-1", "5", "five");
    CHECK_INT(event_count(&f), 0);
    cJSON *hg = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(hg, "after"), "2");
    cJSON_Delete(hg);
    /* A conversation never seen before becomes a member: its newest 50
     * messages are asked for, and come in order (docs/protocol.md,
     * "Conversations across devices"). */
    feed(&f, Q("{'t':'msg','conv':'c-2','id':'m-9','seq':'9007199254740991',"
               "'author':{'kind':'agent'},'text':'big'}"));
    CHECK_INT(event_count(&f), 0);
    hg = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(hg, "conv"), "c-2");
    CHECK_STR(sp_jstr(hg, "after"), "9007199254740941");
    cJSON_Delete(hg);
    feed(&f, Q("{'t':'msg','conv':'c-2','id':'m-8','seq':'9007199254740942',"
               "'author':{'kind':'agent'},'text':'older'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->seq, "9007199254740942");
    CHECK_INT(ev->author_kind, PARLEY_AUTHOR_AGENT);
    CHECK(ev->author_name == NULL);
    CHECK_INT(ev->ts, 0);
    parley_event_free(ev);
    /* Its first message starts a new conversation at once. */
    feed(&f, Q("{'t':'msg','conv':'c-3','id':'m-1','seq':'1','author':{'kind':'bot'},"
               "'text':'first'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->conv, "c-3");
    parley_event_free(ev);
    /* The server's conversation is now known: the user may answer in it. */
    CHECK_INT(fx_send(&f, "c-1", "reply", NULL), PARLEY_OK);
    fx_free(&f);
}

static void test_acks_out_of_order_duplicate_unknown(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE], c1[PARLEY_ID_SIZE], c2[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "one", c1), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "two", c2), PARLEY_OK);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    cJSON *m1 = EXPECT_FRAME(&f, "msg.send");
    cJSON *m2 = EXPECT_FRAME(&f, "msg.send");
    ack_frame(&f, start, NULL, NULL);
    drain_events(&f);

    ack_frame(&f, m2, "m-2", "2");
    ack_frame(&f, m1, "m-1", "1");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
    CHECK_STR(ev->cid, c2);
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
    CHECK_STR(ev->cid, c1);
    parley_event_free(ev);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);

    ack_frame(&f, m1, "m-1", "1"); /* duplicate */
    feed(&f, Q("{'t':'msg.ack','cid':'no-such-cid','id':'m-7','conv':'c-x','seq':'7'}"));
    ack_frame(&f, start, NULL, NULL); /* duplicate conv.ack */
    CHECK_INT(event_count(&f), 0);

    /* Acks move the cursor: the server's replay of our own message is a dup. */
    char own[256];
    snprintf(own, sizeof own,
             Q("{'t':'msg','conv':'%s','id':'m-2','seq':'2',"
               "'author':{'kind':'user'},'text':'two'}"),
             conv);
    feed(&f, own);
    CHECK_INT(event_count(&f), 0);
    feed_msg(&f, conv, "3", "bot answer");
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    parley_event_free(ev);
    cJSON_Delete(start);
    cJSON_Delete(m1);
    cJSON_Delete(m2);
    fx_free(&f);
}

static void test_conv_update(void)
{
    fx f;
    start_online(&f);
    feed(&f, Q("{'t':'conv.update','conv':'c-1','state':'agent','agent':{'name':'Dana'}}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONVERSATION, PARLEY_CONV_AGENT);
    CHECK_STR(ev->conv, "c-1");
    CHECK_STR(ev->author_name, "Dana");
    parley_event_free(ev);
    const char *states[] = {"bot", "queued", "closed", "open"};
    const int want[] = {PARLEY_CONV_BOT, PARLEY_CONV_QUEUED, PARLEY_CONV_CLOSED, PARLEY_CONV_OPEN};
    for (int i = 0; i < 4; i++) {
        char buf[128];
        snprintf(buf, sizeof buf, Q("{'t':'conv.update','conv':'c-1','state':'%s'}"), states[i]);
        feed(&f, buf);
        ev = EXPECT_EVENT(&f, PARLEY_EV_CONVERSATION, want[i]);
        parley_event_free(ev);
    }
    fx_free(&f);
}

static void test_error_frames(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE], c1[PARLEY_ID_SIZE], c2[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "one", c1), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "two", c2), PARLEY_OK);
    drain_events(&f);
    CHECK_INT(pl_sess_outbox_count(f.s), 3);

    char buf[256];
    snprintf(buf, sizeof buf,
             Q("{'t':'error','code':'too_long','message':'text too long','cid':'%s'}"), c1);
    feed(&f, buf);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED);
    CHECK_STR(ev->cid, c1);
    CHECK_STR(ev->conv, conv);
    CHECK_STR(ev->text, "text too long");
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_REJECTED);
    CHECK_STR(ev->cid, c1);
    parley_event_free(ev);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);

    /* Only the message without reason: the code is the reason. */
    snprintf(buf, sizeof buf, Q("{'t':'error','code':'unknown_conversation','cid':'%s'}"), c2);
    feed(&f, buf);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED);
    CHECK_STR(ev->text, "unknown_conversation");
    parley_event_free(ev);
    drain_events(&f);
    CHECK_INT(pl_sess_outbox_count(f.s), 1);

    /* The rejected items are not resent; the start still is. */
    SKIP_FRAME(&f, "conv.start");
    EXPECT_NO_FRAME(&f);
    drop_and_wait(&f);
    bring_online(&f, NULL);
    SKIP_FRAME(&f, "conv.start");
    EXPECT_NO_FRAME(&f);

    feed(&f, Q("{'t':'error','code':'not_ready','message':'later'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_REJECTED);
    CHECK_STR(ev->text, "not_ready: later");
    parley_event_free(ev);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE, 0);
    fx_free(&f);
}

static void test_auth_failed(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    SKIP_FRAME(&f, "hello");
    drain_events(&f);
    feed(&f, Q("{'t':'error','code':'auth_failed','message':'bad token'}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_AUTH);
    CHECK_STR(ev->text, "auth_failed: bad token");
    parley_event_free(ev);
    CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
    ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK_INT(ev->error_code, PARLEY_ERR_AUTH);
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

/* A refused token leaves the session backing off; the host's fresh token
 * for the same user must be presented at once, not after the backoff. */
static void test_token_refresh_after_auth_failed(void)
{
    fx f;
    fx_init(&f);
    CHECK_INT(pl_sess_identify(f.s, "player-42", "old.jwt"), PARLEY_OK);
    pl_sess_go_online(f.s, f.now);
    int64_t deadline = f.now;
    /* The backoff is random and may be 0: fail until it is not. */
    for (int i = 0; i < 8 && deadline <= f.now; i++) {
        f.now = deadline;
        connect_open(&f);
        cJSON *h = EXPECT_FRAME(&f, "hello");
        CHECK_STR(sp_jstr(h, "user.token"), "old.jwt");
        cJSON_Delete(h);
        feed(&f, Q("{'t':'error','code':'auth_failed','message':'expired'}"));
        CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE);
        pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
        drain_events(&f);
        pl_sess_want(f.s, f.now, &deadline);
    }
    CHECK(deadline > f.now);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CONNECT, 0);
    CHECK_INT(pl_sess_identify(f.s, "player-42", "new.jwt"), PARLEY_OK);
    connect_open(&f);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_STR(sp_jstr(h, "user.id"), "player-42");
    CHECK_STR(sp_jstr(h, "user.token"), "new.jwt");
    cJSON_Delete(h);
    drain_events(&f);
    feed(&f, Q("{'t':'welcome','session':'s-1'}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    parley_event_free(ev);
    fx_free(&f);
}

/* The protocol's ids are 1..128 bytes; a host copies the ones events return
 * into PARLEY_ID_SIZE buffers, as parley.h says it may. */
static void test_longest_server_ids_fit(void)
{
    fx f;
    start_online(&f);
    char conv[PL_MAX_ID + 1], id[101], buf[1024];
    memset(conv, 'c', sizeof conv - 1);
    conv[sizeof conv - 1] = '\0';
    memset(id, 'm', sizeof id - 1);
    id[sizeof id - 1] = '\0';
    snprintf(buf, sizeof buf,
             Q("{'t':'msg','conv':'%s','id':'%s','seq':'1','author':{'kind':'agent'},"
               "'text':'hi','ts':1763900000000}"),
             conv, id);
    feed(&f, buf);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    if (ev) {
        CHECK_STR(parley_event_conversation_id(ev), conv);
        CHECK_STR(parley_event_message_id(ev), id);
        CHECK(strlen(parley_event_conversation_id(ev)) < PARLEY_ID_SIZE);
        CHECK(strlen(parley_event_message_id(ev)) < PARLEY_ID_SIZE);
    }
    parley_event_free(ev);
    fx_free(&f);
}

static void test_malformed_frame_keeps_session(void)
{
    fx f;
    start_online(&f);
    const char *bad[] = {"{not json", "[]", Q("{'t':'msg','conv':'c-1'}"), "",
                         (Q("{'t':'msg','conv':'c-1','id':'m','seq':7,'author':{'kind':'bot'},"
                            "'text':'x'}"))};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_INT(pl_sess_on_frame(f.s, f.now, bad[i], strlen(bad[i])), PARLEY_OK);
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
        CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
        CHECK(ev->text && ev->text[0]);
        parley_event_free(ev);
    }
    CHECK_INT(pl_sess_on_frame(f.s, f.now, NULL, 0), PARLEY_OK);
    drain_events(&f);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE, 0);
    /* Unknown types are ignored quietly. */
    feed(&f, Q("{'t':'typing','conv':'c-1'}"));
    CHECK_INT(event_count(&f), 0);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    SKIP_FRAME(&f, "conv.start");
    feed_msg(&f, "c-1", "1", "still works");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    parley_event_free(ev);
    fx_free(&f);
}

static void test_frame_before_welcome_rejected(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    SKIP_FRAME(&f, "hello");
    drain_events(&f);
    feed_msg(&f, "c-1", "1", "too early");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0);
    feed(&f, Q("{'t':'welcome','session':'s-1'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    parley_event_free(ev);
    /* The early msg was not counted: seq 1 is delivered now. */
    feed_msg(&f, "c-1", "1", "now");
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    parley_event_free(ev);
    /* A second welcome on the same connection is a protocol error. */
    feed(&f, Q("{'t':'welcome','session':'s-2'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    fx_free(&f);
}

/* ---- reconnect ----------------------------------------------------------------- */

/* One failed attempt from WAITING: returns the retry delay announced. */
static uint32_t fail_attempt(fx *f)
{
    CHECK(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f->s, f->now);
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CONNECT, "refused");
    drain_events(f);
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    uint32_t delay = (uint32_t)(deadline - f->now);
    if (delay > 0)
        CHECK_INT(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT, 0);
    f->now = deadline;
    return delay;
}

#define BO_TRIALS 300
#define BO_STEPS 9

static void test_backoff_full_jitter(void)
{
    const uint32_t initial = 100, max = 10000;
    pl_sess_config cfg = sp_default_cfg;
    cfg.backoff_initial_ms = initial;
    cfg.backoff_max_ms = max;
    static uint32_t d[BO_STEPS][BO_TRIALS];
    for (int t = 0; t < BO_TRIALS; t++) {
        fx f;
        REQUIRE(fx_init_cfg(&f, &cfg));
        pl_sess_go_online(f.s, f.now);
        for (int n = 0; n < BO_STEPS; n++)
            d[n][t] = fail_attempt(&f);
        fx_free(&f);
    }
    double prev_mean = -1;
    for (int n = 0; n < BO_STEPS; n++) {
        uint64_t b = (uint64_t)initial << n;
        uint32_t bound = b > max ? max : (uint32_t)b;
        uint32_t lo = UINT32_MAX, hi = 0;
        double sum = 0;
        for (int t = 0; t < BO_TRIALS; t++) {
            lo = d[n][t] < lo ? d[n][t] : lo;
            hi = d[n][t] > hi ? d[n][t] : hi;
            sum += d[n][t];
        }
        CHECK(hi <= bound);
        CHECK(hi > bound / 2); /* the whole range is used... */
        CHECK(lo < bound / 2); /* ...from the bottom too */
        CHECK(lo != hi);
        double mean = sum / BO_TRIALS;
        if (n > 0 && bound > (uint32_t)(initial << (n - 1)))
            CHECK(mean > prev_mean);
        prev_mean = mean;
    }
}

/* A session whose backoff starts at 100 ms and doubles up to 100 s, going
 * online (its first attempt due now). */
static void start_backoff(fx *f)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.backoff_initial_ms = 100;
    cfg.backoff_max_ms = 100000;
    REQUIRE(fx_init_cfg(f, &cfg));
    pl_sess_go_online(f->s, f->now);
}

/* Only a connection that stayed up PL_SESS_HEALTHY_MS resets the backoff. */
static void test_backoff_reset_after_healthy(void)
{
    fx f;
    start_backoff(&f);
    for (int i = 0; i < 8; i++)
        fail_attempt(&f);
    /* Now at attempt 8 (bound 25600); after a healthy connection it is back
     * to 100. */
    bring_online(&f, NULL);
    for (int i = 0; i < 20; i++) {
        f.now += PL_SESS_HEALTHY_MS;
        pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "gone");
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
        CHECK(ev->retry_ms <= 100);
        CHECK_INT(ev->error_code, PARLEY_ERR_CLOSED);
        CHECK_STR(ev->text, "gone");
        parley_event_free(ev);
        int64_t deadline;
        pl_sess_want(f.s, f.now, &deadline);
        f.now = deadline;
        bring_online(&f, NULL);
    }
    fx_free(&f);
}

/* A healthy connection ended for a new identity earns a fresh backoff too:
 * the failures of an outage before it do not slow the next reconnect. */
static void test_backoff_reset_by_healthy_identity_change(void)
{
    fx f;
    start_backoff(&f);
    uint32_t longest = 0;
    for (int i = 0; i < 20; i++) {
        char user[32];
        for (int k = 0; k < 8; k++)
            fail_attempt(&f);
        bring_online(&f, NULL);
        f.now += PL_SESS_HEALTHY_MS;
        snprintf(user, sizeof user, "player-%d", i);
        CHECK_INT(pl_sess_identify(f.s, user, NULL), PARLEY_OK);
        pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
        drain_events(&f);
        bring_online(&f, NULL);
        f.now += 1000;
        pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "gone");
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
        if (ev->retry_ms > longest)
            longest = ev->retry_ms;
        parley_event_free(ev);
        int64_t deadline = 0;
        pl_sess_want(f.s, f.now, &deadline);
        f.now = deadline;
    }
    CHECK(longest <= 100);
    fx_free(&f);
}

/* How a short-lived connection ends; each lasts a second, well short of
 * PL_SESS_HEALTHY_MS. */
enum { SHORT_WELCOME_CLOSE, SHORT_WELCOME_GOAWAY, SHORT_GOAWAY_FIRST, N_SHORT };

static uint32_t short_connection(fx *f, int how)
{
    connect_open(f);
    SKIP_FRAME(f, "hello");
    if (how != SHORT_GOAWAY_FIRST)
        feed(f, Q("{'t':'welcome','session':'s-1'}"));
    f->now += 1000;
    if (how != SHORT_WELCOME_CLOSE)
        feed(f, Q("{'t':'goaway','reconnect_ms':0}"));
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CLOSED, "gone");
    drain_events(f);
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    uint32_t delay = (uint32_t)(deadline - f->now);
    f->now = deadline;
    return delay;
}

/* A server that welcomes and drops, or sends goaway 0 (before welcome or
 * after), must not keep the client reconnecting at the initial backoff:
 * the n-th such connection waits up to initial * 2^n, and with 40 tries
 * the longest of them is over half that bound. */
static void test_backoff_short_connections(void)
{
    for (int how = 0; how < N_SHORT; how++) {
        uint32_t hi[BO_STEPS] = {0};
        for (int t = 0; t < 40; t++) {
            fx f;
            start_backoff(&f);
            for (int n = 0; n < BO_STEPS; n++) {
                uint32_t d = short_connection(&f, how);
                hi[n] = d > hi[n] ? d : hi[n];
            }
            fx_free(&f);
        }
        tl_on_failure(NULL, NULL); /* the fixtures are gone */
        for (int n = 0; n < BO_STEPS; n++) {
            tl_note("case %d, connection %d: longest delay %u ms of %u", how, n, (unsigned)hi[n],
                    100u << n);
            CHECK(hi[n] <= 100u << n);
            CHECK(hi[n] > 50u << n);
        }
    }
}

/* A refused certificate: the attempt ends, the host hears the reason twice
 * (connection and error), and the next attempt waits PARLEY_CERT_RETRY_MS
 * at least, however short the backoff; parley_reconnect_now brings it
 * forward, and ordinary failures afterwards go back to the backoff. */
static void test_cert_failure_hold(void)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.backoff_initial_ms = 10;
    cfg.backoff_max_ms = 50;
    for (int round = 0; round < 50; round++) {
        fx f;
        REQUIRE(fx_init_cfg(&f, &cfg));
        pl_sess_go_online(f.s, f.now);
        pl_sess_on_connecting(f.s, f.now);
        drain_events(&f);
        uint32_t bits = PARLEY_TLS_HOSTNAME_MISMATCH | PARLEY_TLS_UNTRUSTED;
        pl_sess_on_cert_failure(f.s, f.now, bits, "TLS certificate refused: ...");
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
        uint32_t retry = ev->retry_ms;
        CHECK(retry >= PARLEY_CERT_RETRY_MS && retry <= 2 * PARLEY_CERT_RETRY_MS);
        CHECK_INT(parley_event_tls_failures(ev), bits);
        CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_TLS);
        parley_event_free(ev);
        ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
        CHECK_INT(parley_event_tls_failures(ev), bits);
        CHECK_STR(parley_event_text(ev), "TLS certificate refused: ...");
        parley_event_free(ev);
        int64_t deadline;
        pl_sess_want(f.s, f.now, &deadline);
        CHECK_INT(deadline, f.now + retry);
        CHECK_INT(pl_sess_want(f.s, f.now + retry - 1, NULL) & PL_SESS_WANT_CONNECT, 0);
        CHECK(pl_sess_want(f.s, f.now + retry, NULL) & PL_SESS_WANT_CONNECT);
        /* Ignored while waiting. */
        pl_sess_on_cert_failure(f.s, f.now, bits, "again");
        CHECK_INT(event_count(&f), 0);
        if (round == 0) {
            f.now += 1000;
            pl_sess_reconnect_now(f.s, f.now);
            CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CONNECT);
            /* A plain failure next: the backoff again, not the hold. */
            CHECK(fail_attempt(&f) <= 50);
        }
        fx_free(&f);
    }
    /* A longer backoff maximum is the floor instead. */
    cfg.backoff_max_ms = 2 * PARLEY_CERT_RETRY_MS;
    fx f;
    REQUIRE(fx_init_cfg(&f, &cfg));
    pl_sess_go_online(f.s, f.now);
    pl_sess_on_connecting(f.s, f.now);
    drain_events(&f);
    pl_sess_on_cert_failure(f.s, f.now, PARLEY_TLS_EXPIRED, "expired");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK(ev->retry_ms >= 2 * PARLEY_CERT_RETRY_MS);
    parley_event_free(ev);
    /* reconnect_now does nothing when not waiting. */
    pl_sess_go_offline(f.s, f.now);
    pl_sess_reconnect_now(f.s, f.now);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CONNECT, 0);
    fx_free(&f);
}

static void test_reconnect_event_and_tls_error(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    pl_sess_on_connecting(f.s, f.now);
    drain_events(&f);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_TLS, "certificate verify failed");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK_INT(ev->error_code, PARLEY_ERR_TLS);
    CHECK_STR(ev->text, "certificate verify failed");
    CHECK(ev->retry_ms <= 500);
    int64_t deadline;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, f.now + ev->retry_ms);
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_TLS);
    CHECK_STR(ev->text, "certificate verify failed");
    parley_event_free(ev);
    /* A second close while waiting changes nothing. */
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, NULL);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

/* A planned drain after a healthy connection: back at the server's time
 * plus up to the initial backoff. */
static void test_goaway_delay(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    f.now += PL_SESS_HEALTHY_MS;
    feed(&f, Q("{'t':'goaway','reconnect_ms':5000,'reason':'deploy'}"));
    CHECK_INT(pl_sess_want(f.s, f.now, NULL), PL_SESS_WANT_CLOSE);
    EXPECT_NO_FRAME(&f); /* nothing more on a connection being closed */
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK(ev->retry_ms >= 5000 && ev->retry_ms <= 5500);
    CHECK_INT(ev->error_code, PARLEY_ERR_CLOSED);
    int64_t deadline;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, f.now + ev->retry_ms);
    parley_event_free(ev);
    CHECK_INT(pl_sess_want(f.s, f.now + 4999, NULL), 0);
    f.now = deadline;
    bring_online(&f, NULL);
    SKIP_FRAME(&f, "conv.start");
    /* The goaway delay was a one-off: the next loss uses the backoff, where
     * the goaway counted as the first step. */
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "gone");
    ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK(ev->retry_ms <= 1000);
    parley_event_free(ev);
    fx_free(&f);
}

static void test_handshake_timeout(void)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.handshake_timeout_ms = 3000;
    fx f;
    REQUIRE(fx_init_cfg(&f, &cfg));
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    SKIP_FRAME(&f, "hello");
    drain_events(&f);
    int64_t deadline = -1;
    CHECK_INT(pl_sess_want(f.s, f.now, &deadline), 0);
    CHECK_INT(deadline, f.now + 3000);
    f.now += 2999;
    pl_sess_tick(f.s, f.now);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL), 0);
    f.now += 1;
    pl_sess_tick(f.s, f.now);
    CHECK_INT(pl_sess_want(f.s, f.now, &deadline), PL_SESS_WANT_CLOSE);
    CHECK_INT(deadline, -1);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    CHECK_STR(ev->text, "no welcome");
    CHECK(ev->retry_ms <= 500);
    parley_event_free(ev);
    pl_sess_want(f.s, f.now, &deadline);
    CHECK(deadline >= f.now && deadline <= f.now + 500);
    f.now = deadline;
    CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CONNECT);
    /* A late welcome on a connection being closed does not make it online. */
    connect_open(&f);
    f.now += 3000;
    pl_sess_tick(f.s, f.now);
    feed(&f, Q("{'t':'welcome','session':'s-1'}"));
    CHECK_INT(pl_sess_want(f.s, f.now, NULL), PL_SESS_WANT_CLOSE);
    fx_free(&f);
}

static void test_identify_while_online_reconnects(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(pl_sess_identify(f.s, "player-42", NULL), PARLEY_OK);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL), PL_SESS_WANT_CLOSE);
    EXPECT_NO_FRAME(&f); /* not under the old identity */
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK_INT(ev->retry_ms, 0);
    parley_event_free(ev);
    connect_open(&f);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_STR(sp_jstr(h, "user.id"), "player-42");
    CHECK(sp_jget(sp_jget(h, "user"), "token") == NULL);
    CHECK(sp_jstr(h, "resume.session") == NULL); /* the old identity's session */
    cJSON_Delete(h);
    feed(&f, Q("{'t':'welcome','session':'s-2'}"));
    SKIP_FRAME(&f, "conv.start");
    /* The same identity again changes nothing. */
    CHECK_INT(pl_sess_identify(f.s, "player-42", ""), PARLEY_OK);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE, 0);
    /* Reconnecting for a new identity is immediate however many attempts
     * failed before. */
    CHECK_INT(pl_sess_identify(f.s, "player-43", "tok"), PARLEY_OK);
    CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
    drain_events(&f);
    for (int i = 0; i < 6; i++)
        fail_attempt(&f);
    connect_open(&f);
    SKIP_FRAME(&f, "hello");
    drain_events(&f);
    CHECK_INT(pl_sess_identify(f.s, "player-44", NULL), PARLEY_OK);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed by client");
    ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_RECONNECTING);
    CHECK_INT(ev->retry_ms, 0);
    CHECK_STR(ev->text, "identity changed");
    parley_event_free(ev);
    fx_free(&f);
}

static void test_identify_validation(void)
{
    fx f;
    fx_init(&f);
    CHECK_INT(pl_sess_identify(f.s, NULL, NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_sess_identify(f.s, "", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_sess_identify(f.s, "has space", NULL), PARLEY_ERR_INVALID_ARG);
    char longid[PL_MAX_ID + 2];
    memset(longid, 'x', sizeof longid - 1);
    longid[sizeof longid - 1] = '\0';
    CHECK_INT(pl_sess_identify(f.s, longid, NULL), PARLEY_ERR_INVALID_ARG);
    longid[PL_MAX_ID] = '\0';
    CHECK_INT(pl_sess_identify(f.s, longid, NULL), PARLEY_OK);
    CHECK_INT(pl_sess_identify(f.s, "u", "bad\xff"), PARLEY_ERR_INVALID_ARG);
    char *tok = malloc(PL_MAX_STRING + 2);
    memset(tok, 't', PL_MAX_STRING + 1);
    tok[PL_MAX_STRING + 1] = '\0';
    CHECK_INT(pl_sess_identify(f.s, "u", tok), PARLEY_ERR_INVALID_ARG);
    tok[PL_MAX_STRING] = '\0';
    CHECK_INT(pl_sess_identify(f.s, "u", tok), PARLEY_OK);
    free(tok);
    /* Identify while connecting: the hello is not out yet, no reconnect. */
    pl_sess_go_online(f.s, f.now);
    pl_sess_on_connecting(f.s, f.now);
    CHECK_INT(pl_sess_identify(f.s, "late", NULL), PARLEY_OK);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL), 0);
    pl_sess_on_open(f.s, f.now);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_STR(sp_jstr(h, "user.id"), "late");
    cJSON_Delete(h);
    fx_free(&f);
}

static void test_go_offline(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    pl_sess_go_offline(f.s, f.now);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_OFFLINE);
    parley_event_free(ev);
    int64_t deadline = 0;
    CHECK_INT(pl_sess_want(f.s, f.now + 100000, &deadline), 0);
    CHECK_INT(deadline, -1);
    EXPECT_NO_FRAME(&f);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "late close");
    pl_sess_tick(f.s, f.now + 100000);
    CHECK_INT(pl_sess_want(f.s, f.now + 100000, NULL), 0);
    CHECK_INT(event_count(&f), 0);
    CHECK_INT(pl_sess_outbox_count(f.s), 1); /* queued items stay */
    pl_sess_go_offline(f.s, f.now);
    CHECK_INT(event_count(&f), 0);
    /* Back online: connects at once and resends. */
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    SKIP_FRAME(&f, "conv.start");
    fx_free(&f);
}

/* ---- attributes ----------------------------------------------------------------- */

static void test_attr_validation(void)
{
    fx f;
    fx_init(&f);
    pl_attr a = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    CHECK_INT(fx_attr(&f, NULL), PARLEY_ERR_INVALID_ARG);
    a.key = "bad key";
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_INVALID_ARG);
    a.key = "";
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_INVALID_ARG);
    a.key = NULL;
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_INVALID_ARG);
    char longkey[PL_MAX_ATTR_KEY + 2];
    memset(longkey, 'k', sizeof longkey - 1);
    longkey[sizeof longkey - 1] = '\0';
    a.key = longkey;
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_INVALID_ARG);
    a.key = "plan";
    a.str = NULL;
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_INVALID_ARG);
    a.str = "bad\xc3";
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_INVALID_ARG);
    char longval[PL_MAX_ATTR_STR + 2];
    memset(longval, 'v', sizeof longval - 1);
    longval[sizeof longval - 1] = '\0';
    a.str = longval;
    CHECK_INT(fx_attr(&f, &a), PARLEY_ERR_TOO_LONG);
    longval[PL_MAX_ATTR_STR] = '\0';
    CHECK_INT(fx_attr(&f, &a), PARLEY_OK);
    pl_attr n = {.key = "level", .type = PL_ATTR_NUM, .num = NAN};
    CHECK_INT(fx_attr(&f, &n), PARLEY_ERR_INVALID_ARG);
    n.num = INFINITY;
    CHECK_INT(fx_attr(&f, &n), PARLEY_ERR_INVALID_ARG);
    n.num = 7;
    CHECK_INT(fx_attr(&f, &n), PARLEY_OK);
    pl_attr bad_type = {.key = "x", .type = (pl_attr_type)42};
    CHECK_INT(fx_attr(&f, &bad_type), PARLEY_ERR_INVALID_ARG);
    /* 100 keys fit, the 101st does not; replacing one still works. */
    for (int i = 2; i < PL_MAX_ATTRS; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%d", i);
        pl_attr b = {.key = key, .type = PL_ATTR_BOOL, .boolean = 1};
        CHECK_INT(fx_attr(&f, &b), PARLEY_OK);
    }
    pl_attr extra = {.key = "one-more", .type = PL_ATTR_BOOL, .boolean = 1};
    CHECK_INT(fx_attr(&f, &extra), PARLEY_ERR_FULL);
    pl_attr again = {.key = "plan", .type = PL_ATTR_BOOL, .boolean = 5};
    CHECK_INT(fx_attr(&f, &again), PARLEY_OK);
    /* The snapshot in a conv.start shows the current values. */
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    cJSON *ctx = EXPECT_FRAME(&f, "context");
    const cJSON *attrs = sp_jget(ctx, "attributes");
    CHECK_INT(cJSON_GetArraySize(attrs), PL_MAX_ATTRS);
    CHECK(cJSON_IsTrue(sp_jget(attrs, "plan")));
    CHECK_INT(cJSON_GetNumberValue(sp_jget(attrs, "level")), 7);
    cJSON_Delete(ctx);
    fx_free(&f);
}

/* Changes between two context frames are coalesced into one patch: a
 * frame at once for the first change, then at most one per interval. */
static void test_context_frames(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    EXPECT_NO_FRAME(&f); /* no context yet: no frame */
    pl_attr a = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    CHECK_INT(fx_attr(&f, &a), PARLEY_OK);
    cJSON *p1 = EXPECT_FRAME(&f, "context");
    CHECK(cJSON_IsFalse(sp_jget(p1, "full")));
    CHECK_STR(sp_jstr(p1, "attributes.plan"), "vip");
    pl_attr b = {.key = "level", .type = PL_ATTR_NUM, .num = 7.5};
    CHECK_INT(fx_attr(&f, &b), PARLEY_OK);
    CHECK_INT(pl_ctx_set_screen(f.ctx, "shop"), PARLEY_OK);
    CHECK_INT(pl_ctx_add_breadcrumb(f.ctx, "opened shop", 1763900000000), PARLEY_OK);
    EXPECT_NO_FRAME(&f); /* within the interval */
    int64_t due = -1;
    pl_sess_want(f.s, f.now, &due);
    CHECK_INT(due, f.now + PL_CTX_DEFAULT_INTERVAL_MS);
    f.now = due;
    pl_sess_tick(f.s, f.now);
    cJSON *p2 = EXPECT_FRAME(&f, "context");
    CHECK_INT(cJSON_GetArraySize(sp_jget(p2, "attributes")), 1); /* only what changed */
    CHECK(cJSON_GetNumberValue(sp_jget(sp_jget(p2, "attributes"), "level")) == 7.5);
    CHECK_STR(sp_jstr(p2, "screen"), "shop");
    CHECK_INT(cJSON_GetArraySize(sp_jget(p2, "breadcrumbs")), 1);
    EXPECT_NO_FRAME(&f);
    pl_sess_want(f.s, f.now, &due);
    CHECK_INT(due, -1); /* nothing dirty: no timer */
    /* After a reconnect: the full context. */
    drop_and_wait(&f);
    bring_online(&f, NULL);
    cJSON *full = EXPECT_FRAME(&f, "context");
    CHECK(cJSON_IsTrue(sp_jget(full, "full")));
    CHECK_INT(cJSON_GetArraySize(sp_jget(full, "attributes")), 2);
    CHECK_STR(sp_jstr(full, "attributes.plan"), "vip");
    CHECK_STR(sp_jstr(full, "screen"), "shop");
    EXPECT_NO_FRAME(&f);
    cJSON_Delete(p1);
    cJSON_Delete(p2);
    cJSON_Delete(full);
    fx_free(&f);
}

/* A game sets the screen every frame; what goes out is bounded by the
 * interval, not by the calls. */
static void test_screen_flood_is_bounded(void)
{
    fx f;
    fx_init(&f);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    int frames = 0;
    const char *d;
    size_t n;
    for (int i = 0; i < 10000; i++) {
        char screen[32];
        snprintf(screen, sizeof screen, "level-%d", i % 7);
        CHECK_INT(pl_ctx_set_screen(f.ctx, screen), PARLEY_OK);
        if (i % 10 == 0) /* 10,000 calls spread over one second */
            f.now++;
        pl_sess_tick(f.s, f.now);
        while (pl_sess_peek_frame(f.s, &d, &n)) {
            pl_sess_frame_written(f.s);
            frames++;
        }
    }
    f.now += PL_CTX_DEFAULT_INTERVAL_MS;
    pl_sess_tick(f.s, f.now);
    while (pl_sess_peek_frame(f.s, &d, &n)) {
        pl_sess_frame_written(f.s);
        frames++;
    }
    printf("  10000 set_screen calls in 1 s -> %d context frames\n", frames);
    CHECK(frames >= 2 && frames <= 3);
    CHECK_INT((int)pl_ctx_frames_sent(f.ctx), frames);
    fx_free(&f);
}

static void test_context_values(void)
{
    fx f;
    fx_init(&f);
    pl_attr j = {.key = "inventory",
                 .type = PL_ATTR_JSON,
                 .str = Q(" { 'gems' : 120, 'items': ['sword'] } ")};
    CHECK_INT(pl_ctx_set_attr(f.ctx, &j), PARLEY_OK);
    pl_attr nul = {.key = "referrer", .type = PL_ATTR_NULL};
    CHECK_INT(pl_ctx_set_attr(f.ctx, &nul), PARLEY_OK);
    pl_attr bad = {.key = "x", .type = PL_ATTR_JSON, .str = "[1,2]"};
    CHECK_INT(pl_ctx_set_attr(f.ctx, &bad), PARLEY_ERR_INVALID_ARG); /* not an object */
    bad.str = Q("{'a':1,'a':2}");
    CHECK_INT(pl_ctx_set_attr(f.ctx, &bad), PARLEY_ERR_INVALID_ARG); /* duplicate key */
    bad.str = Q("{'a':{'b':{'c':{'d':{'e':{'f':{'g':{'h':{}}}}}}}}}");
    CHECK_INT(pl_ctx_set_attr(f.ctx, &bad), PARLEY_ERR_INVALID_ARG); /* 9 levels */
    char big[PL_MAX_JSON_VALUE + 16];
    snprintf(big, sizeof big, Q("{'k':'%0*d'}"), PL_MAX_JSON_VALUE, 0);
    bad.str = big;
    CHECK_INT(pl_ctx_set_attr(f.ctx, &bad), PARLEY_ERR_TOO_LONG);
    CHECK_INT(pl_ctx_set_screen(f.ctx, ""), PARLEY_ERR_INVALID_ARG);
    char longs[PL_MAX_SCREEN + 2];
    memset(longs, 's', sizeof longs - 1);
    longs[sizeof longs - 1] = '\0';
    CHECK_INT(pl_ctx_set_screen(f.ctx, longs), PARLEY_ERR_TOO_LONG);
    CHECK_INT(pl_ctx_add_breadcrumb(f.ctx, longs, 1), PARLEY_ERR_TOO_LONG);
    CHECK_INT(pl_ctx_add_breadcrumb(f.ctx, "bad \xff", 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_ctx_set_device(f.ctx, "os", "TestOS 1"), PARLEY_OK);
    CHECK_INT(pl_ctx_set_device(f.ctx, "bad key", "x"), PARLEY_ERR_INVALID_ARG);
    for (int i = 0; i < PL_MAX_DEVICE - 1; i++) {
        char key[16];
        snprintf(key, sizeof key, "f%d", i);
        CHECK_INT(pl_ctx_set_device(f.ctx, key, "v"), PARLEY_OK);
    }
    CHECK_INT(pl_ctx_set_device(f.ctx, "one-more", "v"), PARLEY_ERR_FULL);
    char *snap = NULL;
    CHECK_INT(pl_ctx_snapshot(f.ctx, &snap), PARLEY_OK);
    cJSON *o = cJSON_Parse(snap);
    CHECK(o != NULL);
    CHECK_INT(cJSON_GetNumberValue(sp_jget(sp_jget(sp_jget(o, "attributes"), "inventory"), "gems")),
              120);
    CHECK(cJSON_IsNull(sp_jget(sp_jget(o, "attributes"), "referrer")));
    CHECK_STR(sp_jstr(o, "device.os"), "TestOS 1");
    cJSON_Delete(o);
    pl_free(&f.a, snap);
    fx_free(&f);
}

/* The ring keeps the newest N, oldest first. */
static void test_breadcrumb_ring(void)
{
    fx f;
    memset(&f, 0, sizeof f);
    tl_alloc_reset(&f.ta);
    f.a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f.ta};
    f.rand = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
    f.s = pl_sess_new(&f.a, &sp_default_cfg, f.rand, NULL);
    pl_ctx_config cc = {.consent = 1, .breadcrumb_cap = 3};
    f.ctx = pl_ctx_new(&f.a, f.s, &cc, NULL);
    CHECK(f.ctx != NULL);
    for (int i = 1; i <= 5; i++) {
        char t[16];
        snprintf(t, sizeof t, "step %d", i);
        CHECK_INT(pl_ctx_add_breadcrumb(f.ctx, t, 1000 + i), PARLEY_OK);
    }
    char *snap = NULL;
    CHECK_INT(pl_ctx_snapshot(f.ctx, &snap), PARLEY_OK);
    cJSON *o = cJSON_Parse(snap);
    const cJSON *crumbs = sp_jget(o, "breadcrumbs");
    CHECK_INT(cJSON_GetArraySize(crumbs), 3);
    CHECK_STR(sp_jstr(cJSON_GetArrayItem(crumbs, 0), "text"), "step 3");
    CHECK_STR(sp_jstr(cJSON_GetArrayItem(crumbs, 2), "text"), "step 5");
    CHECK_INT(cJSON_GetNumberValue(sp_jget(cJSON_GetArrayItem(crumbs, 2), "ts")), 1005);
    cJSON_Delete(o);
    pl_free(&f.a, snap);
    fx_free(&f);
}

/* Without consent nothing of the context leaves: no frames, no snapshots,
 * events refused; allowing it sends the full state at once. */
static void test_consent(void)
{
    fx f;
    fx_init(&f);
    pl_ctx_set_consent(f.ctx, 0);
    pl_attr a = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    CHECK_INT(fx_attr(&f, &a), PARLEY_OK);
    CHECK_INT(pl_ctx_set_screen(f.ctx, "shop"), PARLEY_OK);
    CHECK_INT(pl_ctx_track_event(f.ctx, "purchase_failed", NULL, 1), PARLEY_ERR_CONSENT);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    cJSON *st = EXPECT_FRAME(&f, "conv.start");
    CHECK(sp_jget(st, "context") == NULL);
    cJSON_Delete(st);
    pl_sess_tick(f.s, f.now + 5000);
    EXPECT_NO_FRAME(&f);
    pl_ctx_set_consent(f.ctx, 1);
    cJSON *full = EXPECT_FRAME(&f, "context");
    CHECK(cJSON_IsTrue(sp_jget(full, "full")));
    CHECK_STR(sp_jstr(full, "attributes.plan"), "vip");
    CHECK_STR(sp_jstr(full, "screen"), "shop");
    cJSON_Delete(full);
    fx_free(&f);
}

/* Tracked events ride the outbox: resent until `ack`, nothing reported. */
static void test_tracked_event(void)
{
    fx f;
    fx_init(&f);
    CHECK_INT(pl_ctx_track_event(f.ctx, "bad name", NULL, 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_ctx_track_event(f.ctx, "purchase_failed", "[1]", 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_ctx_track_event(f.ctx, "purchase_failed", Q("{'sku':'gems_500','code':402}"),
                                 1763900002000),
              PARLEY_OK);
    CHECK_INT(pl_sess_outbox_count(f.s), 1);
    CHECK_INT(event_count(&f), 0);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    cJSON *e = EXPECT_FRAME(&f, "event");
    CHECK_STR(sp_jstr(e, "name"), "purchase_failed");
    CHECK_STR(sp_jstr(e, "meta.sku"), "gems_500");
    CHECK(cJSON_GetNumberValue(sp_jget(e, "ts")) == 1763900002000.0);
    /* Lost connection before the ack: sent again. */
    drop_and_wait(&f);
    bring_online(&f, NULL);
    cJSON *again = EXPECT_FRAME(&f, "event");
    CHECK_STR(sp_jstr(again, "cid"), sp_jstr(e, "cid"));
    char ack[128];
    snprintf(ack, sizeof ack, Q("{'t':'ack','cid':'%s'}"), sp_jstr(e, "cid"));
    feed(&f, ack);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    CHECK_INT(event_count(&f), 0);
    feed(&f, ack); /* a duplicate ack changes nothing */
    feed(&f, Q("{'t':'ack'}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0); /* malformed: no cid */
    parley_event_free(ev);
    cJSON_Delete(e);
    cJSON_Delete(again);
    fx_free(&f);
}

static void count_digits(void *user, int field, char *text, size_t size)
{
    (void)size;
    int *calls = user;
    calls[field]++;
    for (char *p = text; *p; p++)
        if (*p == 'X')
            *p = 'x';
}

/* The host's hook, then the built-in redactor, run on every user string. */
static void test_redaction(void)
{
    fx f;
    fx_init(&f);
    pl_ctx_free(f.ctx);
    int calls[8] = {0};
    pl_ctx_config cc = {.consent = 1, .redact = {.fn = count_digits, .user = calls, .builtin = 1}};
    f.ctx = pl_ctx_new(&f.a, f.s, &cc, NULL);
    pl_attr a = {.key = "note", .type = PL_ATTR_STR, .str = "card 4111 1111 1111 1111 of X"};
    CHECK_INT(pl_ctx_set_attr(f.ctx, &a), PARLEY_OK);
    pl_attr j = {.key = "billing",
                 .type = PL_ATTR_JSON,
                 .str = Q("{'email':'jane.doe@example.com','n':['4111-1111-1111-1111']}")};
    CHECK_INT(pl_ctx_set_attr(f.ctx, &j), PARLEY_OK);
    CHECK_INT(pl_ctx_set_screen(f.ctx, "pay jane@example.com"), PARLEY_OK);
    char *snap = NULL, *msg = NULL;
    CHECK_INT(pl_ctx_snapshot(f.ctx, &snap), PARLEY_OK);
    CHECK(strstr(snap, "4111") == NULL);
    CHECK(strstr(snap, "example.com") == NULL);
    CHECK(strstr(snap, "card [card] of x") != NULL);
    CHECK(strstr(snap, Q("'email':'[email]'")) != NULL);
    CHECK_INT(pl_ctx_redact(f.ctx, PARLEY_FIELD_MESSAGE, "my card is 5555555555554444", &msg),
              PARLEY_OK);
    CHECK_STR(msg, "my card is [card]");
    CHECK_INT(calls[PARLEY_FIELD_ATTRIBUTE], 3);
    CHECK_INT(calls[PARLEY_FIELD_SCREEN], 1);
    CHECK_INT(calls[PARLEY_FIELD_MESSAGE], 1);
    pl_free(&f.a, snap);
    pl_free(&f.a, msg);
    fx_free(&f);
}

/* ---- send_text and the outbox ------------------------------------------------------ */

static void test_send_text_validation(void)
{
    fx f;
    fx_init(&f);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, "c-unknown", "hi", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(fx_send(&f, NULL, "hi", cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(fx_send(&f, conv, NULL, cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(fx_send(&f, conv, "", cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(fx_send(&f, conv, "bad \xed\xa0\x80", cid), PARLEY_ERR_INVALID_ARG);
    char text[PL_MAX_TEXT + 2];
    memset(text, 'a', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    CHECK_INT(fx_send(&f, conv, text, cid), PARLEY_ERR_TOO_LONG);
    text[PL_MAX_TEXT] = '\0';
    CHECK_INT(fx_send(&f, conv, text, cid), PARLEY_OK);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    drain_events(&f);
    /* The server lowers the limit. */
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s','limits':{'max_text':10}}"));
    CHECK_INT(fx_send(&f, conv, "0123456789", cid), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "0123456789a", cid), PARLEY_ERR_TOO_LONG);
    /* ...and cannot raise it above 4096. */
    drop_and_wait(&f);
    bring_online(
        &f, Q("{'t':'welcome','session':'s','limits':{'max_text':100000,'max_frame':1000000}}"));
    CHECK_INT(pl_sess_max_frame(f.s), PL_MAX_FRAME);
    text[PL_MAX_TEXT] = 'a';
    CHECK_INT(fx_send(&f, conv, text, cid), PARLEY_ERR_TOO_LONG);
    CHECK_INT(pl_sess_outbox_count(f.s), 3);
    /* Subjects. */
    char subject[PL_MAX_SUBJECT + 2];
    memset(subject, 's', sizeof subject - 1);
    subject[sizeof subject - 1] = '\0';
    CHECK_INT(fx_start(&f, subject, conv), PARLEY_ERR_TOO_LONG);
    CHECK_INT(fx_start(&f, "bad \xff", conv), PARLEY_ERR_INVALID_ARG);
    subject[PL_MAX_SUBJECT] = '\0';
    CHECK_INT(fx_start(&f, subject, conv), PARLEY_OK);
    fx_free(&f);
}

static void test_outbox_cap(void)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.outbox_cap = 3;
    fx f;
    REQUIRE(fx_init_cfg(&f, &cfg));
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "1", cid), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "2", cid), PARLEY_OK);
    drain_events(&f);
    CHECK_INT(fx_send(&f, conv, "3", cid), PARLEY_ERR_FULL);
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_ERR_FULL);
    CHECK_INT(event_count(&f), 0); /* no PENDING for a refused message */
    CHECK_INT(pl_sess_outbox_count(f.s), 3);
    /* An ack makes room. */
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    ack_frame(&f, start, NULL, NULL);
    cJSON_Delete(start);
    CHECK_INT(fx_send(&f, conv, "3", cid), PARLEY_OK);
    fx_free(&f);
}

static void test_peek_until_written(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    const char *d1, *d2;
    size_t l1, l2;
    CHECK(pl_sess_peek_frame(f.s, &d1, &l1));
    CHECK(pl_sess_peek_frame(f.s, &d2, &l2));
    CHECK(d1 == d2 && l1 == l2);
    CHECK(strstr(d1, "conv.start") != NULL);
    /* A patch queued between peek and written is not the one dropped. */
    pl_attr a = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    CHECK_INT(fx_attr(&f, &a), PARLEY_OK);
    pl_sess_frame_written(f.s);
    pl_sess_frame_written(f.s); /* nothing peeked: no-op */
    SKIP_FRAME(&f, "context");
    EXPECT_NO_FRAME(&f);
    /* An item acked while peeked is not skipped past the next one. */
    char c1[PARLEY_ID_SIZE], c2[PARLEY_ID_SIZE];
    CHECK_INT(fx_send(&f, conv, "one", c1), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "two", c2), PARLEY_OK);
    CHECK(pl_sess_peek_frame(f.s, &d1, &l1));
    char ack[256];
    snprintf(ack, sizeof ack, Q("{'t':'msg.ack','cid':'%s','id':'m','conv':'%s','seq':'1'}"), c1,
             conv);
    feed(&f, ack);
    pl_sess_frame_written(f.s);
    cJSON *j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "cid"), c2);
    cJSON_Delete(j);
    fx_free(&f);
}

/* ---- out of memory ------------------------------------------------------------------ */

/* A whole session life; every step may meet a failed allocation and must
 * then change nothing or degrade as documented, never crash or leak. */
static void oom_script(fx *f)
{
    pl_sess *s = f->s;
    char conv[PARLEY_ID_SIZE] = "", cid[PARLEY_ID_SIZE];
    pl_attr a = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    uint32_t before = pl_sess_outbox_count(s);
    int rc = fx_start(f, "subject", conv);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    CHECK_INT(pl_sess_outbox_count(s), before + (rc == PARLEY_OK));
    rc = pl_ctx_set_attr(f->ctx, &a);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    rc = pl_sess_identify(s, "player-42", "tok");
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    if (conv[0]) {
        before = pl_sess_outbox_count(s);
        rc = fx_send(f, conv, "offline", cid);
        CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
        CHECK_INT(pl_sess_outbox_count(s), before + (rc == PARLEY_OK));
    }
    pl_sess_go_online(s, f->now);
    pl_sess_on_connecting(s, f->now);
    pl_sess_on_open(s, f->now);
    const char *d;
    size_t n;
    while (pl_sess_peek_frame(s, &d, &n))
        pl_sess_frame_written(s);
    const char *frames[] = {
        Q("{'t':'welcome','session':'s-1','limits':{'max_text':1000}}"),
        (Q("{'t':'msg','conv':'c-9','id':'m-1','seq':'1','author':{'kind':'bot','name':'B'},"
           "'text':'hi'}")),
        Q("{'t':'conv.update','conv':'c-9','state':'agent','agent':{'name':'Dana'}}"),
        Q("{'t':'error','code':'not_ready','message':'wait'}"),
        "{bad",
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        rc = pl_sess_on_frame(s, f->now, frames[i], strlen(frames[i]));
        CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    }
    rc = pl_ctx_set_attr(f->ctx, &a);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    if (conv[0]) {
        rc = fx_send(f, conv, "online", cid);
        CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    }
    while (pl_sess_peek_frame(s, &d, &n)) {
        cJSON *j = cJSON_ParseWithLength(d, n);
        pl_sess_frame_written(s);
        if (j && sp_jstr(j, "cid")) {
            char ack[512];
            snprintf(ack, sizeof ack,
                     strcmp(sp_jstr(j, "t"), "conv.start") == 0
                         ? Q("{'t':'conv.ack','cid':'%s','conv':'%s'}")
                         : Q("{'t':'msg.ack','cid':'%s','conv':'%s','id':'m','seq':'2'}"),
                     sp_jstr(j, "cid"), sp_jstr(j, "conv"));
            rc = pl_sess_on_frame(s, f->now, ack, strlen(ack));
            CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
        }
        cJSON_Delete(j);
    }
    if (conv[0]) {
        char err[256];
        rc = fx_send(f, conv, "rejected", cid);
        snprintf(err, sizeof err, Q("{'t':'error','code':'too_long','cid':'%s'}"), cid);
        if (rc == PARLEY_OK) {
            rc = pl_sess_on_frame(s, f->now, err, strlen(err));
            CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
        }
    }
    pl_sess_on_closed(s, f->now, PARLEY_ERR_TLS, "bad cert");
    f->now += 100000;
    pl_sess_tick(s, f->now);
    pl_sess_on_connecting(s, f->now);
    pl_sess_on_open(s, f->now);
    pl_sess_go_offline(s, f->now);
}

static void test_oom_loop(void)
{
    int completed = 0;
    long fail_at;
    for (fail_at = 0; fail_at < 5000 && !completed; fail_at++) {
        tl_note("allocation %ld failing", fail_at);
        fx f;
        memset(&f, 0, sizeof f);
        tl_alloc_reset(&f.ta);
        tl_alloc_fail(&f.ta, fail_at, TL_FAIL_REALLOC);
        f.a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f.ta};
        f.rand = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
        f.now = 1000;
        f.s = pl_sess_new(&f.a, &sp_default_cfg, f.rand, NULL);
        if (f.s && fx_add_ctx(&f))
            oom_script(&f);
        completed = !f.ta.failed;
        fx_close(&f);
        pl_event_queue_clear(&f.evq);
        pl_rand_free(f.rand);
        REQUIRE_INT(f.ta.live, 0);
    }
    CHECK(completed);
    CHECK(fail_at > 50); /* the script does reach the engine's allocations */
}

/* pl_sess_new refuses what it cannot work with. */
static void test_new_arguments(void)
{
    pl_rand *r = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
    pl_sess_config cfg = sp_default_cfg;
    cfg.app_id = NULL;
    CHECK(pl_sess_new(pl_alloc_libc(), &cfg, r, NULL) == NULL);
    CHECK(pl_sess_new(pl_alloc_libc(), NULL, r, NULL) == NULL);
    cfg = sp_default_cfg;
    cfg.platform = NULL;
    pl_sess *s = pl_sess_new(pl_alloc_libc(), &cfg, r, NULL);
    CHECK(s != NULL);
    pl_sess_free(s);
    pl_sess_free(NULL);
    pl_rand_free(r);
}

static void fx_init_journal(fx *f, pl_journal *j);

static void start_online_journal(fx *f, pl_journal *j)
{
    fx_init_journal(f, j);
    pl_sess_go_online(f->s, f->now);
    bring_online(f, NULL);
}

/* Feeds one message into each of `n` conversations c-FROM.. (seq "1"),
 * draining what they deliver. */
static void fill_conversations(fx *f, int from, int n)
{
    char conv[32];
    for (int i = from; i < from + n; i++) {
        snprintf(conv, sizeof conv, "c-%d", i);
        feed_msg(f, conv, "1", "hi");
    }
    drain_events(f);
}

static cJSON *next_hello(fx *f);

/* A server cannot grow the conversation table (and with it every hello's
 * resume cursors) without bound, and conversations past the bound still
 * work: the least recently used one leaves the table. Without a journal
 * it is forgotten. */
static void test_conversation_table_is_bounded(void)
{
    fx f;
    start_online(&f);
    fill_conversations(&f, 0, PL_MAX_CONVERSATIONS);
    feed_msg(&f, "c-5", "2", "c-5 is used again");
    drain_events(&f);
    feed_msg(&f, "c-one-too-many", "1", "hi");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->conv, "c-one-too-many");
    parley_event_free(ev);
    CHECK_INT((long)f.s->n_convs, PL_MAX_CONVERSATIONS);
    CHECK(!pl_sess_conv_known(f.s, "c-0"));
    CHECK(pl_sess_conv_known(f.s, "c-5"));
    char id[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, id), PARLEY_OK);
    CHECK(!pl_sess_conv_known(f.s, "c-1"));
    CHECK_INT(fx_send(&f, "c-0", "forgotten", NULL), PARLEY_ERR_NOT_FOUND);
    cJSON *h = next_hello(&f);
    const cJSON *cursors = sp_jget(sp_jget(h, "resume"), "cursors");
    /* The host's conversation has no seq yet: it is not resumed. */
    CHECK_INT(cJSON_GetArraySize(cursors), PL_MAX_CONVERSATIONS - 1);
    CHECK_STR(sp_jstr(h, "resume.cursors.c-one-too-many"), "1");
    CHECK(sp_jget(cursors, "c-0") == NULL);
    cJSON_Delete(h);
    fx_free(&f);
}

/* A conversation that waits on something keeps its place: with every
 * conversation in the table holding an outbox item, a new one is refused. */
static void test_busy_conversations_stay(void)
{
    fx f;
    fx_init(&f);
    char convs[PL_MAX_CONVERSATIONS][PARLEY_ID_SIZE], id[PARLEY_ID_SIZE];
    for (int i = 0; i < PL_MAX_CONVERSATIONS; i++)
        CHECK_INT(fx_start(&f, NULL, convs[i]), PARLEY_OK);
    CHECK_INT(fx_start(&f, NULL, id), PARLEY_ERR_FULL);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    feed_msg(&f, "c-server", "1", "hi");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    ack_frame(&f, start, NULL, NULL);
    CHECK_INT(fx_start(&f, NULL, id), PARLEY_OK);
    CHECK(!pl_sess_conv_known(f.s, sp_jstr(start, "conv")));
    for (int i = 1; i < PL_MAX_CONVERSATIONS; i++)
        CHECK(pl_sess_conv_known(f.s, convs[i]));
    cJSON_Delete(start);
    fx_free(&f);
}

/* Entries of a journal namespace. */
static int count_entry(void *user, const char *key, const void *value, size_t len)
{
    (void)key, (void)value, (void)len;
    ++*(int *)user;
    return 0;
}

static int ns_entries(pl_journal *j, uint8_t ns)
{
    int n = 0;
    CHECK_INT(pl_journal_foreach(j, ns, count_entry, &n), PARLEY_OK);
    return n;
}

/* With a journal, a conversation that leaves the table keeps its cursor,
 * parked: when it comes back (a message, the host's call, after a
 * restart) nothing is delivered twice and nothing is asked again. */
static void test_parked_cursor_comes_back(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    start_online_journal(&f, j);
    feed_msg(&f, "c-0", "1", "one");
    feed_msg(&f, "c-0", "2", "two");
    fill_conversations(&f, 1, PL_MAX_CONVERSATIONS);
    CHECK(!pl_sess_conv_known(f.s, "c-0"));
    CHECK_INT(ns_entries(j, 4), 1);
    feed_msg(&f, "c-0", "2", "two again");
    CHECK_INT(event_count(&f), 0);
    feed_msg(&f, "c-0", "3", "three");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->text, "three");
    parley_event_free(ev);
    EXPECT_NO_FRAME(&f);
    CHECK(!pl_sess_conv_known(f.s, "c-1"));
    pl_convs_flush(f.s);
    fx_close(&f);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);

    fx g;
    fx_init_journal(&g, j);
    CHECK_INT((long)g.s->n_convs, PL_MAX_CONVERSATIONS);
    CHECK_INT(fx_send(&g, "c-1", "back", NULL), PARLEY_OK);
    CHECK(pl_sess_conv_known(g.s, "c-1"));
    CHECK_INT(ns_entries(j, 4), 1);
    pl_sess_go_online(g.s, g.now);
    connect_open(&g);
    cJSON *h = EXPECT_FRAME(&g, "hello");
    CHECK_STR(sp_jstr(h, "resume.cursors.c-1"), "1");
    CHECK_INT(cJSON_GetArraySize(sp_jget(sp_jget(h, "resume"), "cursors")), PL_MAX_CONVERSATIONS);
    cJSON_Delete(h);
    feed(&g, Q("{'t':'welcome','session':'s-2'}"));
    drain_events(&g);
    feed_msg(&g, "c-0", "3", "three again");
    CHECK_INT(event_count(&g), 0);
    feed_msg(&g, "c-0", "4", "four");
    ev = EXPECT_EVENT(&g, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->text, "four");
    parley_event_free(ev);
    fx_free(&g);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* What each welcome's `unread` for every conversation makes of the table:
 * `n` adoptions of c-0.. at seq 1 on two connections in turn; returns the
 * history.get frames they wrote. */
static int sweep_twice(fx *f, int n)
{
    char conv[32];
    int gets = 0;
    for (int round = 0; round < 2; round++) {
        if (round) {
            drop_and_wait(f);
            bring_online(f, NULL);
        }
        for (int i = 0; i < n; i++) {
            snprintf(conv, sizeof conv, "c-%d", i);
            int rc = pl_sess_adopt(f->s, conv, 1);
            CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_FULL);
        }
        for (cJSON *j; (j = sp_take_frame(f->s)) != NULL; cJSON_Delete(j))
            gets += strcmp(sp_jstr(j, "t"), "history.get") == 0;
    }
    return gets;
}

/* An `unread` for every conversation follows each welcome. With more
 * conversations than the table holds, it must not turn the table round
 * on every reconnect: parked ones with nothing new stay parked, and
 * without a journal (nowhere to park) none is forgotten to backfill
 * another. */
static void test_unread_sweep_leaves_table(void)
{
    enum { N = PL_MAX_CONVERSATIONS + 44 };
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    start_online_journal(&f, j);
    fill_conversations(&f, 0, N);
    pl_convs_flush(f.s);
    pl_journal_stats before, after;
    pl_journal_get_stats(j, &before);
    CHECK_INT(sweep_twice(&f, N), 0);
    pl_journal_get_stats(j, &after);
    /* The second welcome's session record, and no cursor moved about. */
    CHECK(after.log_bytes - before.log_bytes < 64);
    CHECK_INT(ns_entries(j, 4), N - PL_MAX_CONVERSATIONS);
    CHECK(!pl_sess_conv_known(f.s, "c-0"));
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);

    start_online(&f);
    fill_conversations(&f, 0, N);
    CHECK_INT(sweep_twice(&f, N), 0);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

/* At most PL_MAX_PARKED cursors are parked: the one parked longest ago is
 * forgotten, so its conversation, should it come back, is backfilled. */
static void test_parked_cursors_are_bounded(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    start_online_journal(&f, j);
    fill_conversations(&f, 0, PL_MAX_CONVERSATIONS + PL_MAX_PARKED + 2);
    CHECK_INT(ns_entries(j, 4), PL_MAX_PARKED);
    feed_msg(&f, "c-0", "2", "forgotten");
    cJSON *get = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(get, "conv"), "c-0");
    cJSON_Delete(get);
    CHECK_INT(event_count(&f), 0);
    feed_msg(&f, "c-5", "2", "still parked");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE, 0);
    CHECK_STR(ev->text, "still parked");
    parley_event_free(ev);
    CHECK_INT(pl_sess_logout(f.s, "a-next"), PARLEY_OK);
    CHECK_INT(ns_entries(j, 4), 0);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* ---- the durable journal --------------------------------------------------------- */

static void fx_init_journal(fx *f, pl_journal *j)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = j;
    REQUIRE(fx_init_cfg(f, &cfg));
}

/* Logout forgets the user in memory and in the journal. */
static void test_logout(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = j;
    REQUIRE(fx_init_cfg(&f, &cfg));
    CHECK_INT(pl_sess_identify(f.s, "player-42", "tok"), PARLEY_OK);
    pl_attr a = {.key = "plan", .type = PL_ATTR_STR, .str = "vip"};
    CHECK_INT(fx_attr(&f, &a), PARLEY_OK);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, "secret", conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "my secret", NULL), PARLEY_OK);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s-42'}"));
    CHECK_INT(pl_sess_logout(f.s, "a-fresh"), PARLEY_OK);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    CHECK(!pl_sess_conv_known(f.s, conv));
    CHECK(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CLOSE);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "closed");
    drain_events(&f);
    CHECK_INT(pl_sess_want(f.s, f.now, NULL) & PL_SESS_WANT_CONNECT, PL_SESS_WANT_CONNECT);
    connect_open(&f);
    cJSON *h = EXPECT_FRAME(&f, "hello");
    CHECK_STR(sp_jstr(h, "user.anon"), "a-fresh");
    CHECK(sp_jstr(h, "user.id") == NULL);
    CHECK(sp_jget(h, "resume") == NULL);
    cJSON_Delete(h);
    char *snap = NULL;
    CHECK_INT(pl_ctx_snapshot(f.ctx, &snap), PARLEY_OK);
    CHECK(snap == NULL);
    fx_close(&f);
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    CHECK_INT((int)st.live_entries, 0);
    pl_journal_close(j);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);
    tl_memfs_free(&m.fs);
}

/* ---- the anonymous user's merge secret ------------------------------------------ */

/* The hello of the next connection, once the current one closed (at the
 * session's request, or dropped: then after any backoff). */
static cJSON *next_hello(fx *f)
{
    int requested = pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CLOSE;
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CLOSED, "closed");
    if (!requested)
        f->now += 60000;
    drain_events(f);
    connect_open(f);
    return EXPECT_FRAME(f, "hello");
}

/* A restart on the same journal, online and identified as `user` (NULL:
 * anonymous) with `anon` as the anonymous id; returns its first hello. */
static cJSON *restart_hello(fx *f, pl_journal *j, const char *anon, const char *user)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = j;
    cfg.anon_id = anon;
    REQUIRE(fx_init_cfg(f, &cfg));
    if (user)
        CHECK_INT(pl_sess_identify(f->s, user, "tok"), PARLEY_OK);
    pl_sess_go_online(f->s, f->now);
    connect_open(f);
    return EXPECT_FRAME(f, "hello");
}

static void fx_end(fx *f)
{
    fx_close(f);
    pl_rand_free(f->rand);
    pl_event_queue_clear(&f->evq);
    CHECK_INT(f->ta.live, 0);
}

/* The secret the server issues in an anonymous welcome is kept in the
 * journal next to the anonymous id and proves it when the user identifies,
 * across a restart; an anonymous hello never carries it. */
static void test_anon_secret_kept(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, j);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s-1','anon_secret':'ps-1234'}"));
    cJSON *h = next_hello(&f); /* nothing changed: a plain reconnect */
    CHECK(sp_jget(sp_jget(h, "user"), "proof") == NULL);
    cJSON_Delete(h);
    CHECK_INT(pl_sess_identify(f.s, "player-42", "tok"), PARLEY_OK);
    h = next_hello(&f);
    CHECK_STR(sp_jstr(h, "user.id"), "player-42");
    CHECK_STR(sp_jstr(h, "user.anon"), "a-0000");
    CHECK_STR(sp_jstr(h, "user.proof"), "ps-1234");
    cJSON_Delete(h);
    /* An identified connection is never issued a secret: the anonymous
     * user's stays. */
    feed(&f, Q("{'t':'welcome','session':'s-2','anon_secret':'ps-other'}"));
    fx_end(&f);

    h = restart_hello(&f, j, "a-0000", "player-42");
    CHECK_STR(sp_jstr(h, "user.proof"), "ps-1234");
    cJSON_Delete(h);
    fx_end(&f);

    /* A journal that outlived its anonymous id does not lend the secret to
     * another one. */
    h = restart_hello(&f, j, "a-9999", "player-42");
    CHECK_STR(sp_jstr(h, "user.anon"), "a-9999");
    CHECK(sp_jstr(h, "user.proof") == NULL);
    cJSON_Delete(h);
    fx_end(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* A burst of messages moves the cursor without a journal record each: the
 * newest cursor is journaled once, when the batch's deadline (part of
 * pl_sess_want) comes, and a restart then resumes from it. */
static void test_cursor_moves_batched(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, j);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    uint64_t before = pl_journal_written(j);
    char seq[16];
    for (int i = 1; i <= 100; i++) {
        snprintf(seq, sizeof seq, "%d", i);
        feed_msg(&f, "c-burst", seq, "hello");
    }
    drain_events(&f);
    CHECK(pl_journal_written(j) - before < 5);
    size_t len = 0;
    CHECK(pl_journal_get(j, PL_NS_CURSOR, "c-burst", &len) == NULL);
    int64_t deadline = -1;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK(deadline > f.now && deadline <= f.now + PL_SESS_CURSOR_FLUSH_MS);
    pl_sess_tick(f.s, deadline);
    const char *cur = pl_journal_get(j, PL_NS_CURSOR, "c-burst", &len);
    CHECK(cur != NULL && len == 3 && memcmp(cur, "100", 3) == 0);
    uint64_t flushed = pl_journal_written(j);
    pl_sess_tick(f.s, deadline + PL_SESS_CURSOR_FLUSH_MS); /* nothing moved since */
    CHECK(pl_journal_written(j) == flushed);
    fx_end(&f);

    cJSON *h = restart_hello(&f, j, "a-0000", NULL);
    CHECK_STR(sp_jstr(h, "resume.cursors.c-burst"), "100");
    cJSON_Delete(h);
    fx_end(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* Logout forgets the secret with the anonymous id, in memory and in the
 * journal; the new anonymous user gets its own. */
static void test_anon_secret_logout(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, j);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s-1','anon_secret':'ps-1234'}"));
    CHECK_INT(pl_sess_logout(f.s, "a-0000"), PARLEY_OK); /* even the same id */
    cJSON *h = next_hello(&f);
    CHECK(sp_jstr(h, "user.proof") == NULL);
    cJSON_Delete(h);
    feed(&f, Q("{'t':'welcome','session':'s-2'}"));
    CHECK_INT(pl_sess_identify(f.s, "player-42", "tok"), PARLEY_OK);
    h = next_hello(&f);
    CHECK_STR(sp_jstr(h, "user.anon"), "a-0000");
    CHECK(sp_jstr(h, "user.proof") == NULL);
    cJSON_Delete(h);
    fx_end(&f);

    h = restart_hello(&f, j, "a-0000", "player-42");
    CHECK(sp_jstr(h, "user.proof") == NULL);
    cJSON_Delete(h);
    CHECK_INT(pl_sess_logout(f.s, "a-fresh"), PARLEY_OK);
    h = next_hello(&f);
    cJSON_Delete(h);
    feed(&f, Q("{'t':'welcome','session':'s-3','anon_secret':'ps-fresh'}"));
    fx_end(&f);

    h = restart_hello(&f, j, "a-fresh", "player-43");
    CHECK_STR(sp_jstr(h, "user.proof"), "ps-fresh");
    cJSON_Delete(h);
    fx_end(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

static void test_restart_with_outbox(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, j);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s-77'}"));
    char conv[PARLEY_ID_SIZE], c1[PARLEY_ID_SIZE], c2[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    ack_frame(&f, start, NULL, NULL);
    cJSON_Delete(start);
    feed_msg(&f, conv, "1", "welcome");
    drain_events(&f);
    /* Written while the connection is gone: never sent, never acked. */
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "gone");
    CHECK_INT(fx_send(&f, conv, "one", c1), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "two", c2), PARLEY_OK);
    fx_close(&f); /* the app exits */
    CHECK_INT(f.ta.live, 0);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);

    fx g;
    fx_init_journal(&g, j);
    CHECK_INT(pl_sess_outbox_count(g.s), 2);
    pl_sess_go_online(g.s, g.now);
    connect_open(&g);
    cJSON *h = EXPECT_FRAME(&g, "hello");
    char path[200];
    snprintf(path, sizeof path, "resume.cursors.%s", conv);
    CHECK_STR(sp_jstr(h, path), "1");
    CHECK_STR(sp_jstr(h, "resume.session"), "s-77");
    cJSON_Delete(h);
    EXPECT_NO_FRAME(&g);
    feed(&g, Q("{'t':'welcome','session':'s-77'}"));
    drain_events(&g);
    cJSON *m1 = EXPECT_FRAME(&g, "msg.send");
    cJSON *m2 = EXPECT_FRAME(&g, "msg.send");
    CHECK_STR(sp_jstr(m1, "cid"), c1);
    CHECK_STR(sp_jstr(m1, "text"), "one");
    CHECK_STR(sp_jstr(m2, "cid"), c2);
    CHECK_STR(sp_jstr(m2, "text"), "two");
    /* The conversation is known after the restart. */
    CHECK_INT(fx_send(&g, conv, "three", NULL), PARLEY_OK);
    SKIP_FRAME(&g, "msg.send");
    ack_frame(&g, m1, "m-2", "2");
    ack_frame(&g, m2, "m-3", "3");
    CHECK_INT(pl_sess_outbox_count(g.s), 1);
    cJSON_Delete(m1);
    cJSON_Delete(m2);
    fx_free(&g);

    /* Acked items are gone from the journal, the unacked one stays. */
    fx k;
    fx_init_journal(&k, j);
    CHECK_INT(pl_sess_outbox_count(k.s), 1);
    fx_free(&k);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* Many conversations across a restart: those with a cursor (loaded in id
 * order) and those only the outbox names (started offline, added while the
 * outbox loads) each come back once, and the hello resumes exactly the
 * ones the server knows. Conversation ids are random, so they are made in
 * no particular order. */
static void test_restart_many_conversations(void)
{
    enum { KNOWN = 24, OFFLINE = 6 };
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, j);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, Q("{'t':'welcome','session':'s-9'}"));
    char known[KNOWN][PARLEY_ID_SIZE], offline[OFFLINE][PARLEY_ID_SIZE];
    for (int i = 0; i < KNOWN; i++) {
        CHECK_INT(fx_start(&f, NULL, known[i]), PARLEY_OK);
        cJSON *start = EXPECT_FRAME(&f, "conv.start");
        ack_frame(&f, start, NULL, NULL);
        cJSON_Delete(start);
        feed_msg(&f, known[i], "1", "hi");
        drain_events(&f);
    }
    pl_convs_flush(f.s);
    pl_sess_on_closed(f.s, f.now, PARLEY_ERR_CLOSED, "gone");
    for (int i = 0; i < KNOWN; i += 3)
        CHECK_INT(fx_send(&f, known[i], "later", NULL), PARLEY_OK);
    for (int i = 0; i < OFFLINE; i++)
        CHECK_INT(fx_start(&f, NULL, offline[i]), PARLEY_OK);
    fx_close(&f);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);

    fx g;
    fx_init_journal(&g, j);
    CHECK_INT((long)g.s->n_convs, KNOWN + OFFLINE);
    for (size_t a = 0; a < g.s->n_convs; a++)
        for (size_t b = a + 1; b < g.s->n_convs; b++)
            CHECK(strcmp(g.s->convs[a].id, g.s->convs[b].id) != 0);
    for (int i = 0; i < OFFLINE; i++) {
        pl_sess_conv *c = pl_conv_find(g.s, offline[i]);
        CHECK(c && pl_conv_find_sorted(g.s, offline[i], pl_convs_sorted(g.s)) == c);
    }
    for (int i = 0; i < KNOWN; i++) {
        pl_sess_conv *c = pl_conv_find(g.s, known[i]);
        CHECK(c && c->cursor == 1 && pl_conv_find_sorted(g.s, known[i], KNOWN) == c);
    }
    CHECK(pl_conv_find_sorted(g.s, "c-none", pl_convs_sorted(g.s)) == NULL);
    pl_sess_go_online(g.s, g.now);
    connect_open(&g);
    cJSON *h = EXPECT_FRAME(&g, "hello");
    cJSON *cursors = cJSON_GetObjectItem(cJSON_GetObjectItem(h, "resume"), "cursors");
    CHECK_INT(cJSON_GetArraySize(cursors), KNOWN);
    for (int i = 0; i < KNOWN; i++)
        CHECK(cJSON_GetObjectItem(cursors, known[i]) != NULL);
    cJSON_Delete(h);
    fx_free(&g);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

static void test_journal_failure_queues_nothing(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, j);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    drain_events(&f);
    m.fs.fail = 1;
    char other[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, other), PARLEY_ERR_IO);
    CHECK_INT(fx_send(&f, conv, "lost?", NULL), PARLEY_ERR_IO);
    CHECK_INT(pl_sess_outbox_count(f.s), 1);
    CHECK_INT(event_count(&f), 0);
    CHECK_INT(fx_send(&f, other, "x", NULL), PARLEY_ERR_NOT_FOUND);
    m.fs.fail = 0;
    CHECK_INT(fx_send(&f, conv, "now", NULL), PARLEY_OK);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    SKIP_FRAME(&f, "conv.start");
    cJSON *msg = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(msg, "text"), "now");
    cJSON_Delete(msg);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

static void feed_history_end(fx *f, const char *conv, const char *last, int more)
{
    char buf[300];
    snprintf(buf, sizeof buf, Q("{'t':'history.end','conv':'%s','last':'%s','more':%s}"), conv,
             last, more ? "true" : "false");
    feed(f, buf);
}

static void expect_message_seq(fx *f, const char *seq, int line)
{
    parley_event *ev = expect_event(f, PARLEY_EV_MESSAGE, 0, line);
    tl_check_str(ev->seq, seq, "message seq", __FILE__, line);
    parley_event_free(ev);
}
#define EXPECT_MESSAGE_SEQ(f, seq) expect_message_seq((f), (seq), __LINE__)

static void test_gap_filled_by_history(void)
{
    fx f;
    start_online(&f);
    feed_msg(&f, "c-1", "1", "one");
    EXPECT_MESSAGE_SEQ(&f, "1");
    feed_msg(&f, "c-1", "3", "three");
    feed_msg(&f, "c-1", "4", "four");
    CHECK_INT(event_count(&f), 0);
    cJSON *hg = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(hg, "conv"), "c-1");
    CHECK_STR(sp_jstr(hg, "after"), "1");
    cJSON_Delete(hg);
    EXPECT_NO_FRAME(&f); /* once per conversation until history.end */
    /* The replay, in order; what is already delivered is dropped. */
    feed_msg(&f, "c-1", "2", "two");
    feed_msg(&f, "c-1", "3", "three");
    feed_msg(&f, "c-1", "3", "three again");
    feed_msg(&f, "c-1", "4", "four");
    feed_history_end(&f, "c-1", "4", 0);
    EXPECT_MESSAGE_SEQ(&f, "2");
    EXPECT_MESSAGE_SEQ(&f, "3");
    EXPECT_MESSAGE_SEQ(&f, "4");
    CHECK_INT(event_count(&f), 0);
    EXPECT_NO_FRAME(&f);
    /* A new gap asks again. */
    feed_msg(&f, "c-1", "6", "six");
    hg = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(hg, "after"), "4");
    cJSON_Delete(hg);
    fx_free(&f);
}

static void test_history_more_asks_again(void)
{
    fx f;
    start_online(&f);
    feed_msg(&f, "c-1", "1", "one");
    feed_msg(&f, "c-1", "9", "nine");
    drain_events(&f);
    SKIP_FRAME(&f, "history.get");
    feed_msg(&f, "c-1", "2", "two");
    feed_msg(&f, "c-1", "3", "three");
    feed_history_end(&f, "c-1", "3", 1);
    cJSON *hg = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(hg, "after"), "3");
    cJSON_Delete(hg);
    drain_events(&f);
    /* No progress on a cut-short answer: the client stops asking. */
    feed_history_end(&f, "c-1", "3", 1);
    EXPECT_NO_FRAME(&f);
    /* A stray history.end is ignored. */
    feed_history_end(&f, "c-1", "3", 1);
    EXPECT_NO_FRAME(&f);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

static void test_own_message_replay_is_silent(void)
{
    fx f;
    start_online(&f);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    cJSON *start = EXPECT_FRAME(&f, "conv.start");
    ack_frame(&f, start, NULL, NULL);
    CHECK_INT(fx_send(&f, conv, "mine", cid), PARLEY_OK);
    cJSON *msg = EXPECT_FRAME(&f, "msg.send");
    drain_events(&f);
    /* seq 1 (a greeting) never arrived: the ack runs ahead of the cursor. */
    ack_frame(&f, msg, "m-2", "2");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
    parley_event_free(ev);
    EXPECT_NO_FRAME(&f);
    feed_msg(&f, conv, "3", "bot");
    CHECK_INT(event_count(&f), 0);
    cJSON *hg = EXPECT_FRAME(&f, "history.get");
    CHECK_STR(sp_jstr(hg, "after"), "0");
    cJSON_Delete(hg);
    char own[300];
    snprintf(own, sizeof own,
             Q("{'t':'msg','conv':'%s','id':'m-2','seq':'2',"
               "'author':{'kind':'user'},'text':'mine'}"),
             conv);
    feed_msg(&f, conv, "1", "greeting");
    feed(&f, own);
    feed_msg(&f, conv, "3", "bot");
    feed_history_end(&f, conv, "3", 0);
    EXPECT_MESSAGE_SEQ(&f, "1");
    EXPECT_MESSAGE_SEQ(&f, "3");
    CHECK_INT(event_count(&f), 0);
    EXPECT_NO_FRAME(&f);
    cJSON_Delete(start);
    cJSON_Delete(msg);
    fx_free(&f);
}

/* ---- the frame limit ----------------------------------------------------------- */

/* The next frame, parsed, with its length; NULL when none. */
static cJSON *take_sized(fx *f, size_t *len)
{
    const char *data;
    if (!pl_sess_peek_frame(f->s, &data, len))
        return NULL;
    cJSON *j = cJSON_ParseWithLength(data, *len);
    CHECK(j != NULL);
    pl_sess_frame_written(f->s);
    return j;
}

/* Reconnects to a server announcing a smaller frame limit. */
static void welcome_limit(fx *f, unsigned max_frame)
{
    char w[128];
    snprintf(w, sizeof w, Q("{'t':'welcome','session':'s-2','limits':{'max_frame':%u}}"),
             max_frame);
    drop_and_wait(f);
    bring_online(f, w);
    CHECK_INT(pl_sess_max_frame(f->s), max_frame);
}

/* `n` attributes "a00".. of `size` bytes each. */
static void big_attrs(fx *f, int n, size_t size)
{
    char *v = malloc(size + 1);
    memset(v, 'v', size);
    v[size] = '\0';
    for (int i = 0; i < n; i++) {
        char key[8];
        snprintf(key, sizeof key, "a%02d", i);
        pl_attr a = {.key = key, .type = PL_ATTR_STR, .str = v};
        CHECK_INT(pl_ctx_set_attr(f->ctx, &a), PARLEY_OK);
    }
    free(v);
}

/* 70 attributes of 1 KB: the context is larger than a frame. The full
 * context reaches the server split over frames (the first full, the rest
 * patches), and each message carries a snapshot trimmed to fit, marked
 * truncated, instead of a frame the server refuses unread. */
static void test_oversized_context_fits_frames(void)
{
    fx f;
    fx_init(&f);
    big_attrs(&f, 70, 1000);
    CHECK_INT(pl_ctx_set_screen(f.ctx, "shop"), PARLEY_OK);
    for (int i = 0; i < 20; i++)
        CHECK_INT(pl_ctx_add_breadcrumb(f.ctx, "tapped buy", 1000 + i), PARLEY_OK);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    size_t len = 0;
    int frames = 0, attrs = 0, crumbs = 0;
    cJSON *j;
    while ((j = take_sized(&f, &len))) {
        CHECK_STR(sp_jstr(j, "t"), "context");
        CHECK(len <= 65536);
        CHECK(cJSON_IsTrue(sp_jget(j, "full")) == (frames == 0));
        attrs += cJSON_GetArraySize(sp_jget(j, "attributes"));
        crumbs += cJSON_GetArraySize(sp_jget(j, "breadcrumbs"));
        frames++;
        cJSON_Delete(j);
    }
    CHECK_INT(frames, 2);
    CHECK_INT(attrs, 70);
    CHECK_INT(crumbs, 20);

    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, "help", conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "my gems never arrived", cid), PARLEY_OK);
    const char *types[] = {"conv.start", "msg.send"};
    for (int i = 0; i < 2; i++) {
        j = take_sized(&f, &len);
        CHECK_STR(sp_jstr(j, "t"), types[i]);
        CHECK(len <= 65536);
        CHECK(len > 60000); /* as much context as fits */
        const cJSON *ctx = sp_jget(j, "context");
        CHECK(cJSON_IsTrue(sp_jget(ctx, "truncated")));
        CHECK_STR(sp_jstr(ctx, "screen"), "shop");
        int kept = cJSON_GetArraySize(sp_jget(ctx, "attributes"));
        CHECK(kept >= 60 && kept < 70);
        cJSON_Delete(j);
    }
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    fx_free(&f);
}

/* A snapshot that fits goes whole; a trimmed one keeps the newest
 * breadcrumbs, in order. */
#define CRUMB "crumb %03d: tapped the shop button again, then the back button, then the shop one"
static void test_snapshot_keeps_newest_crumbs(void)
{
    fx f;
    start_online(&f);
    welcome_limit(&f, PL_MIN_FRAME);
    CHECK_INT(pl_ctx_set_screen(f.ctx, "level-3"), PARLEY_OK);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    cJSON *j = EXPECT_FRAME(&f, "conv.start");
    CHECK(sp_jget(sp_jget(j, "context"), "truncated") == NULL);
    cJSON_Delete(j);
    for (int i = 0; i < 100; i++) { /* the ring keeps the last 50 */
        char t[128];
        snprintf(t, sizeof t, CRUMB, i);
        CHECK_INT(pl_ctx_add_breadcrumb(f.ctx, t, 1000 + i), PARLEY_OK);
    }
    pl_sess_tick(f.s, f.now);
    while ((j = sp_take_frame(f.s)))
        cJSON_Delete(j);
    CHECK_INT(fx_send(&f, conv, "hi", NULL), PARLEY_OK);
    size_t len = 0;
    j = take_sized(&f, &len);
    CHECK(len <= PL_MIN_FRAME);
    const cJSON *crumbs = sp_jget(sp_jget(j, "context"), "breadcrumbs");
    int n = cJSON_GetArraySize(crumbs);
    CHECK(n > 10 && n < 50);
    char want[128];
    snprintf(want, sizeof want, CRUMB, 99);
    CHECK_STR(sp_jstr(cJSON_GetArrayItem(crumbs, n - 1), "text"), want);
    snprintf(want, sizeof want, CRUMB, 100 - n);
    CHECK_STR(sp_jstr(cJSON_GetArrayItem(crumbs, 0), "text"), want);
    CHECK_STR(sp_jstr(sp_jget(j, "context"), "screen"), "level-3");
    cJSON_Delete(j);
    fx_free(&f);
}

/* A frame of its own, as pl_sess_send_control takes it. */
static char *own_frame(fx *f, const char *text)
{
    char *p = pl_malloc(&f->a, strlen(text) + 1);
    REQUIRE(p != NULL);
    memcpy(p, text, strlen(text) + 1);
    return p;
}

/* Tagged frames (upload chunks) are bounded by the module that sends them
 * and taken back by it: the count that stops reading leaves them out. */
static void test_wq_bytes_leave_out_tagged(void)
{
    fx f;
    start_online(&f);
    for (cJSON *j; (j = sp_take_frame(f.s));)
        cJSON_Delete(j);
    int tag;
    size_t before = pl_sess_wq_bytes(f.s);
    char *chunk = own_frame(&f, Q("{'t':'chunk'}")), *ack = own_frame(&f, Q("{'t':'ack'}"));
    CHECK_INT(pl_sess_send_tagged(f.s, &tag, "chunk", chunk, strlen(chunk)), PARLEY_OK);
    CHECK(pl_sess_wq_bytes(f.s) == before);
    CHECK_INT(pl_sess_send_control(f.s, "ack", ack, strlen(ack)), PARLEY_OK);
    CHECK(pl_sess_wq_bytes(f.s) > before);
    pl_sess_unsend(f.s, &tag);
    cJSON *j = EXPECT_FRAME(&f, "ack");
    cJSON_Delete(j);
    EXPECT_NO_FRAME(&f);
    CHECK(pl_sess_wq_bytes(f.s) == before);
    fx_free(&f);
}

static size_t journal_entries(pl_journal *j)
{
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    return st.live_entries;
}

/* Under the server's limit a frame that cannot fit is refused at the call:
 * TOO_LONG, no PENDING, nothing in the outbox or the journal. */
static void test_too_long_at_the_call(void)
{
    sp_memio m = {0};
    pl_journal *jr = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, jr);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    SKIP_FRAME(&f, "conv.start");
    welcome_limit(&f, PL_MIN_FRAME);
    SKIP_FRAME(&f, "conv.start"); /* resent: it fits */
    drain_events(&f);
    size_t entries = journal_entries(jr);
    uint32_t count = pl_sess_outbox_count(f.s);

    char text[PL_MIN_FRAME - 5]; /* within max_text, not within a frame */
    memset(text, 'x', sizeof text - 1);
    text[sizeof text - 1] = '\0';
    CHECK_INT(fx_send(&f, conv, text, NULL), PARLEY_ERR_TOO_LONG);
    char *ev = pl_malloc(&f.a, 2 * PL_MIN_FRAME);
    snprintf(ev, 2 * PL_MIN_FRAME,
             Q("{'t':'event','cid':'e-1','name':'x','meta':{'k':'%s'},'ts':1}"), text);
    CHECK_INT(pl_sess_enqueue(f.s, PL_SESS_ITEM_SILENT, NULL, "e-1", ev, strlen(ev)),
              PARLEY_ERR_TOO_LONG);
    char *ctl = pl_malloc(&f.a, 2 * PL_MIN_FRAME);
    snprintf(ctl, 2 * PL_MIN_FRAME, Q("{'t':'typing','conv':'%s','pad':'%s'}"), conv, text);
    CHECK_INT(pl_sess_send_control(f.s, "typing", ctl, strlen(ctl)), PARLEY_ERR_TOO_LONG);
    CHECK_INT(event_count(&f), 0);
    CHECK_INT(pl_sess_outbox_count(f.s), count);
    CHECK_INT(journal_entries(jr), entries);
    EXPECT_NO_FRAME(&f);
    /* What fits still goes, with as much of the context as fits. */
    big_attrs(&f, 6, 1000);
    CHECK_INT(fx_send(&f, conv, "short", NULL), PARLEY_OK);
    size_t len = 0;
    int sent = 0;
    for (cJSON *j; (j = take_sized(&f, &len)); cJSON_Delete(j)) {
        CHECK(len <= PL_MIN_FRAME);
        if (strcmp(sp_jstr(j, "t"), "msg.send") == 0 && ++sent)
            CHECK(cJSON_IsTrue(sp_jget(sp_jget(j, "context"), "truncated")));
    }
    CHECK_INT(sent, 1);
    fx_free(&f);
    pl_journal_close(jr);
    tl_memfs_free(&m.fs);
}

/* Items queued under a larger limit, then a server announcing a smaller
 * one: messages go without their snapshot, an item that still cannot fit
 * fails with an event and leaves the outbox and the journal, instead of
 * being refused unread after every welcome. */
static void test_outbox_refit_when_limit_shrinks(void)
{
    sp_memio m = {0};
    pl_journal *jr = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, jr);
    big_attrs(&f, 30, 1000);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "sent before the limit shrank", cid), PARLEY_OK);
    char *pad = malloc(20001);
    memset(pad, 'p', 20000);
    pad[20000] = '\0';
    const char *kinds[] = {"silent", "reported"};
    char *frames[2];
    for (int i = 0; i < 2; i++) {
        frames[i] = pl_malloc(&f.a, 20200);
        snprintf(frames[i], 20200,
                 Q("{'t':'event','cid':'%s','name':'x','meta':{'k':'%s'},'ts':1}"), kinds[i], pad);
    }
    CHECK_INT(
        pl_sess_enqueue(f.s, PL_SESS_ITEM_SILENT, NULL, "silent", frames[0], strlen(frames[0])),
        PARLEY_OK);
    CHECK_INT(
        pl_sess_enqueue(f.s, PL_SESS_ITEM_REPORTED, NULL, "reported", frames[1], strlen(frames[1])),
        PARLEY_OK);
    free(pad);
    CHECK_INT(pl_sess_outbox_count(f.s), 4);
    drain_events(&f);

    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    SKIP_FRAME(&f, "hello");
    drain_events(&f);
    feed(&f, Q("{'t':'welcome','session':'s-1','limits':{'max_frame':16384}}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_TOO_LONG);
    CHECK_STR(ev->cid, "silent");
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED);
    CHECK_STR(ev->cid, "reported");
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR, 0);
    CHECK_INT(ev->error_code, PARLEY_ERR_TOO_LONG);
    CHECK_STR(ev->cid, "reported");
    parley_event_free(ev);
    drain_events(&f);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    /* The full context goes split; the items follow, without snapshots. */
    cJSON *j;
    size_t len = 0;
    int items = 0;
    while ((j = take_sized(&f, &len))) {
        CHECK(len <= 16384);
        const char *t = sp_jstr(j, "t");
        if (strcmp(t, "context") != 0) {
            CHECK_STR(t, items ? "msg.send" : "conv.start");
            CHECK(sp_jget(j, "context") == NULL);
            items++;
        }
        if (items == 2 && strcmp(t, "msg.send") == 0)
            CHECK_STR(sp_jstr(j, "cid"), cid);
        cJSON_Delete(j);
    }
    CHECK_INT(items, 2);
    fx_close(&f);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);

    /* The journal holds what the outbox holds: two items, trimmed. */
    fx g;
    fx_init_journal(&g, jr);
    CHECK_INT(pl_sess_outbox_count(g.s), 2);
    pl_sess_go_online(g.s, g.now);
    bring_online(&g, NULL);
    items = 0;
    while ((j = take_sized(&g, &len))) {
        if (strcmp(sp_jstr(j, "t"), "context") != 0) {
            CHECK(sp_jget(j, "context") == NULL);
            items++;
        }
        cJSON_Delete(j);
    }
    CHECK_INT(items, 2);
    fx_free(&g);
    pl_journal_close(jr);
    tl_memfs_free(&m.fs);
}

/* A server announcing a frame limit no real frame fits (max_frame 1)
 * would fail every outbox item and delete it with the user's words: a
 * limit below PL_MIN_FRAME is ignored, and the items go out as queued. */
static void test_tiny_frame_limit_ignored(void)
{
    sp_memio m = {0};
    pl_journal *jr = sp_open_mem_journal(&m);
    fx f;
    fx_init_journal(&f, jr);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(fx_start(&f, NULL, conv), PARLEY_OK);
    CHECK_INT(fx_send(&f, conv, "my gems never arrived", cid), PARLEY_OK);
    drain_events(&f);
    pl_sess_go_online(f.s, f.now);
    connect_open(&f);
    SKIP_FRAME(&f, "hello");
    drain_events(&f);
    feed(&f, Q("{'t':'welcome','session':'s-1','limits':{'max_frame':1}}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0); /* no ERROR, no FAILED */
    CHECK_INT(pl_sess_max_frame(f.s), PL_MAX_FRAME);
    CHECK_INT(pl_sess_outbox_count(f.s), 2);
    cJSON *j;
    while ((j = sp_take_frame(f.s)) && strcmp(sp_jstr(j, "t"), "conv.start") != 0)
        cJSON_Delete(j); /* the context */
    REQUIRE(j != NULL);
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "cid"), cid);
    cJSON_Delete(j);
    fx_close(&f);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);
    fx g; /* and they are still in the journal */
    fx_init_journal(&g, jr);
    CHECK_INT(pl_sess_outbox_count(g.s), 2);
    fx_free(&g);
    pl_journal_close(jr);
    tl_memfs_free(&m.fs);
}

/* A journal written by an older client can hold an item no server accepts
 * (over 64 KiB): at the first welcome it fails and is gone for good. */
static void test_poison_item_from_old_journal(void)
{
    sp_memio m = {0};
    pl_journal *jr = sp_open_mem_journal(&m);
    size_t n = 70000;
    char *v = malloc(n + 200);
    int head = snprintf(v, n + 200, "%s",
                        Q("x\nold-cid\n-\n"
                          "{'t':'event','cid':'old-cid','name':'x','meta':{'k':'"));
    memset(v + head, 'p', n);
    memcpy(v + head + n, Q("'},'ts':1}"), 11);
    CHECK_INT(pl_journal_put(jr, 1, "0000000000000001", v, strlen(v), 1), PARLEY_OK);
    free(v);
    fx f;
    fx_init_journal(&f, jr);
    CHECK_INT(pl_sess_outbox_count(f.s), 1);
    pl_sess_go_online(f.s, f.now);
    bring_online(&f, NULL); /* drains the events */
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    EXPECT_NO_FRAME(&f);
    fx_close(&f);
    pl_rand_free(f.rand);
    pl_event_queue_clear(&f.evq);
    fx g;
    fx_init_journal(&g, jr);
    CHECK_INT(pl_sess_outbox_count(g.s), 0);
    fx_free(&g);
    pl_journal_close(jr);
    tl_memfs_free(&m.fs);
}

/* A message's strings live in the event's own allocation: one allocation,
 * the accessors see them, a field set later replaces one without freeing
 * the block, and the size counts them. */
static void test_event_inline_strings(void)
{
    tl_alloc ta;
    tl_alloc_reset(&ta);
    pl_alloc a = {tl_malloc, tl_realloc, tl_free, &ta};
    static const size_t offs[] = {offsetof(parley_event, conv), offsetof(parley_event, text),
                                  offsetof(parley_event, author_name)};
    const char *vals[] = {"c-1", "hello there", NULL};
    parley_event *ev = pl_event_new_strings(&a, PARLEY_EV_MESSAGE, offs, vals, 3);
    CHECK(ev != NULL);
    CHECK_INT(ta.live, 1);
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    CHECK_STR(parley_event_text(ev), "hello there");
    CHECK(parley_event_author_name(ev) == NULL);
    CHECK_INT(parley_event_queue_position(ev), -1);
    CHECK_INT(pl_event_size(ev), sizeof *ev + 4 + 12);
    CHECK_INT(pl_event_set(ev, &ev->text, "replaced"), PARLEY_OK);
    CHECK_INT(pl_event_set(ev, &ev->author_name, "Dana"), PARLEY_OK);
    CHECK_STR(parley_event_text(ev), "replaced");
    CHECK_STR(parley_event_author_name(ev), "Dana");
    CHECK_INT(ta.live, 3);
    parley_event_free(ev);
    CHECK_INT(ta.live, 0);
    tl_alloc_fail(&ta, 0, TL_FAIL_ONWARD);
    CHECK(pl_event_new_strings(&a, PARLEY_EV_MESSAGE, offs, vals, 3) == NULL);
    tl_alloc_fail(&ta, -1, 0);
}

int main(void)
{
    RUN(test_event_inline_strings);
    RUN(test_idle_until_online);
    RUN(test_hello_anonymous);
    RUN(test_hello_identified);
    RUN(test_hello_resume_cursors);
    RUN(test_nothing_but_hello_before_welcome);
    RUN(test_send_offline_then_online_sent_once);
    RUN(test_resend_after_reconnect_in_order);
    RUN(test_new_items_while_online_follow_pending_ones);
    RUN(test_msg_delivery_and_dedupe);
    RUN(test_conversation_table_is_bounded);
    RUN(test_busy_conversations_stay);
    RUN(test_parked_cursor_comes_back);
    RUN(test_parked_cursors_are_bounded);
    RUN(test_unread_sweep_leaves_table);
    RUN(test_acks_out_of_order_duplicate_unknown);
    RUN(test_conv_update);
    RUN(test_error_frames);
    RUN(test_auth_failed);
    RUN(test_token_refresh_after_auth_failed);
    RUN(test_longest_server_ids_fit);
    RUN(test_malformed_frame_keeps_session);
    RUN(test_frame_before_welcome_rejected);
    RUN(test_backoff_full_jitter);
    RUN(test_backoff_reset_after_healthy);
    RUN(test_backoff_reset_by_healthy_identity_change);
    RUN(test_wq_bytes_leave_out_tagged);
    RUN(test_backoff_short_connections);
    RUN(test_cert_failure_hold);
    RUN(test_reconnect_event_and_tls_error);
    RUN(test_goaway_delay);
    RUN(test_handshake_timeout);
    RUN(test_identify_while_online_reconnects);
    RUN(test_identify_validation);
    RUN(test_go_offline);
    RUN(test_attr_validation);
    RUN(test_context_frames);
    RUN(test_screen_flood_is_bounded);
    RUN(test_context_values);
    RUN(test_breadcrumb_ring);
    RUN(test_consent);
    RUN(test_tracked_event);
    RUN(test_redaction);
    RUN(test_logout);
    RUN(test_anon_secret_kept);
    RUN(test_cursor_moves_batched);
    RUN(test_anon_secret_logout);
    RUN(test_send_text_validation);
    RUN(test_outbox_cap);
    RUN(test_peek_until_written);
    RUN(test_oom_loop);
    RUN(test_new_arguments);
    RUN(test_restart_with_outbox);
    RUN(test_restart_many_conversations);
    RUN(test_journal_failure_queues_nothing);
    RUN(test_gap_filled_by_history);
    RUN(test_history_more_asks_again);
    RUN(test_own_message_replay_is_silent);
    RUN(test_oversized_context_fits_frames);
    RUN(test_snapshot_keeps_newest_crumbs);
    RUN(test_too_long_at_the_call);
    RUN(test_outbox_refit_when_limit_shrinks);
    RUN(test_tiny_frame_limit_ignored);
    RUN(test_poison_item_from_old_journal);
    return tl_finish();
}
