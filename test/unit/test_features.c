/* Every feature module together, as the client has them: logout wipes
 * what each keeps (memory and journal), out of memory at every step leaks
 * nothing and crashes nothing, and the public calls on a client that never
 * connects. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "client.h"

/* Logout forgets what every feature keeps, in memory and in the journal:
 * offers, read marks, unread counts, pending requests, surveys and their
 * answers, proactive content held by the mute. */
static void test_logout(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_start(&f, j);
    fx_feed_blocks(&f, "1", ALL_KINDS);
    FEED(&f, Q("{'t':'unread','conv':'c-1','count':4}"));
    CHECK_INT(pl_receipts_mark_read(f.receipts, "c-1", "1"), PARLEY_OK);
    pl_req_args none = {0};
    char r[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r), PARLEY_OK);
    FEED(&f, CSAT);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 3), PARLEY_OK);
    pl_proactive_mute(f.pro, f.now, 1000);
    FEED(&f, Q("{'t':'proactive','id':'p-1','msg':{'author':{'kind':'bot'},'text':'tip'}}"));
    drain_events(&f);

    CHECK_INT(pl_sess_logout(f.s, "a-fresh"), PARLEY_OK);
    uint32_t n = 1;
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_surveys_check(f.sv, "sv-12"), PARLEY_ERR_NOT_FOUND);
    f.now += 1000; /* the mute ends: nothing was kept to release */
    pl_sess_tick(f.s, f.now);
    CHECK_INT(event_count(&f), 0);
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    CHECK_INT((int)st.live_entries, 0);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* ---- out of memory -----------------------------------------------------------------
 * Out of memory is a legal answer anywhere below; crashes and leaks are not. */

/* Conversation features: a request, a message with every kind of block,
 * typing, unread, read, an answer and an error, a postback. */
static void conversation_script(fx *f, const char *blocks)
{
    pl_sess *s = f->s;
    char r[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    pl_req_args none = {0};
    int rc = pl_requests_send(f->requests, PL_REQ_CONV_LIST, &none, r);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    pl_sess_go_online(s, f->now);
    pl_sess_on_connecting(s, f->now);
    pl_sess_on_open(s, f->now);
    const char *d;
    size_t n;
    const char *w = Q("{'t':'welcome','session':'s-1'}");
    rc = pl_sess_on_frame(s, f->now, w, strlen(w));
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    char *msg = malloc(4096);
    REQUIRE(msg != NULL);
    snprintf(msg, 4096,
             Q("{'t':'msg','conv':'c-1','id':'m-1','seq':'1','author':{'kind':'bot'},'text':'pick',"
               "'blocks':%s}"),
             blocks);
    rc = pl_sess_on_frame(s, f->now, msg, strlen(msg));
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    free(msg);
    static const char *const frames[] = {
        "{'t':'typing','conv':'c-1','on':true,'author':{'kind':'agent','name':'Dana'}}",
        "{'t':'unread','conv':'c-1','count':2}",
        "{'t':'read','conv':'c-1','seq':'1'}",
        ("{'t':'conv.list','req':'r-1',"
         "'conversations':[{'conv':'c-1','subject':'S','state':'bot'}]}"),
        "{'t':'error','code':'not_found','req':'r-1'}",
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        const char *frame = Q(frames[i]);
        rc = pl_sess_on_frame(s, f->now, frame, strlen(frame));
        CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    }
    rc = pl_postbacks_send(f->postbacks, f->ctx, "c-1", "m-1", "o1", cid);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM || rc == PARLEY_ERR_NOT_FOUND);
    rc = pl_typing_set(f->typing, "c-1", 1, f->now);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM || rc == PARLEY_ERR_NOT_FOUND);
    rc = pl_receipts_mark_read(f->receipts, "c-1", "1");
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM || rc == PARLEY_ERR_NOT_FOUND);
    while (pl_sess_peek_frame(s, &d, &n))
        pl_sess_frame_written(s);
    f->now += 7000;
    pl_sess_tick(s, f->now);
    pl_sess_on_closed(s, f->now, PARLEY_ERR_CLOSED, "gone");
    pl_sess_go_offline(s, f->now);
}

static void test_oom_conversation(void)
{
    char *blocks = strdup(ALL_KINDS);
    int completed = 0;
    long fail_at;
    for (fail_at = 0; fail_at < 5000 && !completed; fail_at++) {
        tl_note("allocation %ld failing", fail_at);
        fx f;
        fx_prepare(&f, NULL);
        tl_alloc_fail(&f.ta, fail_at, TL_FAIL_REALLOC);
        if (fx_open(&f))
            conversation_script(&f, blocks);
        completed = !f.ta.failed;
        fx_free(&f);
        REQUIRE_INT(f.ta.live, 0);
    }
    CHECK(completed);
    CHECK(fail_at > 100);
    free(blocks);
}

/* The script without failures does reach every part of every module. */
static void test_oom_script_reaches_module(void)
{
    fx f;
    fx_init(&f, NULL);
    conversation_script(&f, ALL_KINDS);
    int types[16] = {0}, blocks = 0;
    parley_event *ev;
    while ((ev = next_event(&f))) {
        if (ev->type > 0 && ev->type < 16)
            types[ev->type]++;
        if (ev->type == PARLEY_EV_MESSAGE)
            blocks = parley_event_block_count(ev);
        parley_event_free(ev);
    }
    CHECK_INT(blocks, 4);
    CHECK_INT(types[PARLEY_EV_TYPING], 2);
    CHECK_INT(types[PARLEY_EV_UNREAD], 1);
    CHECK_INT(types[PARLEY_EV_READ], 1);
    CHECK_INT(types[PARLEY_EV_CONVERSATIONS], 1);
    CHECK_INT(types[PARLEY_EV_MESSAGE_STATUS], 1);
    fx_free(&f);
}

static void feed_any(fx *f, const char *json)
{
    (void)pl_sess_on_frame(f->s, f->now, json, strlen(json));
}

/* Surveys and proactive content: a survey answered and submitted, a
 * proactive message held by the mute and released. */
static void survey_script(fx *f)
{
    feed_any(f, CSAT);
    (void)pl_surveys_answer_number(f->sv, "sv-12", "q1", 1);
    (void)pl_surveys_answer_text(f->sv, "sv-12", "q5", "text");
    pl_proactive_mute(f->pro, f->now, 10);
    feed_any(f, Q("{'t':'proactive','id':'p-1','msg':{'author':{'kind':'bot'},'text':'hi'}}"));
    f->now += 10;
    pl_sess_tick(f->s, f->now);
    char missing[PL_MAX_ID + 1], cid[PARLEY_ID_SIZE];
    (void)pl_surveys_submit(f->sv, "sv-12", missing, cid);
    drain_events(f);
}

static void test_oom_survey(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    int done = 0;
    for (long fail_at = 0; fail_at < 400 && !done; fail_at++) {
        tl_note("allocation %ld failing", fail_at);
        fx f;
        fx_start(&f, j);
        tl_alloc_fail(&f.ta, fail_at, TL_FAIL_REALLOC);
        survey_script(&f);
        done = !f.ta.failed;
        tl_alloc_fail(&f.ta, -1, 0);
        fx_free(&f);
        CHECK_INT(pl_journal_clear_ns(j, PL_SURVEYS_NS), PARLEY_OK);
        CHECK_INT(pl_journal_clear_ns(j, 1), PARLEY_OK);
    }
    CHECK(done);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* Loading a journal with a pending survey and its answers, out of memory
 * at every step. */
static void test_oom_restart(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_start(&f, j);
    FEED(&f, CSAT);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 1), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_text(f.sv, "sv-12", "q5", "slow"), PARLEY_OK);
    fx_free(&f);
    int done = 0;
    for (long fail_at = 0; fail_at < 400 && !done; fail_at++) {
        tl_note("allocation %ld failing", fail_at);
        fx g;
        fx_prepare(&g, j);
        tl_alloc_fail(&g.ta, fail_at, TL_FAIL_REALLOC);
        int opened = fx_open(&g);
        done = !g.ta.failed;
        tl_alloc_fail(&g.ta, -1, 0);
        if (done) {
            CHECK(opened);
            CHECK_INT(event_count(&g), 1);
            CHECK_INT(pl_surveys_visible(g.sv, "sv-12", "q5"), 1);
        }
        fx_free(&g);
    }
    CHECK(done);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* The public calls of the conversation features on a client that never
 * connects: what they accept and refuse. */
static void test_public_api_offline(void)
{
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, "ws://localhost:1/"), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "my-game"), PARLEY_OK);
    CHECK_INT(parley_config_set_allow_insecure(cfg, 1), PARLEY_OK);
    parley_client *pc = NULL;
    int rc = parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    REQUIRE_INT(rc, PARLEY_OK);
    char conv[PARLEY_ID_SIZE], id[PARLEY_ID_SIZE], small[8];
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_set_typing(pc, conv, 1), PARLEY_OK);
    CHECK_INT(parley_set_typing(pc, "c-nope", 1), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_set_typing(NULL, conv, 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_mark_read(pc, conv, "4"), PARLEY_OK);
    CHECK_INT(parley_mark_read(pc, conv, "x"), PARLEY_ERR_INVALID_ARG);
    uint32_t n = 7;
    CHECK_INT(parley_unread_count(pc, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    CHECK_INT(parley_unread_count(pc, "bad id", &n), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_unread_count(pc, conv, NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_postback(pc, conv, "m-1", "o1", id, sizeof id), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_postback(pc, conv, "m-1", "o1", small, sizeof small), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_list_conversations(pc, id, sizeof id), PARLEY_OK);
    CHECK_STR(id, "r-1");
    CHECK_INT(parley_load_history(pc, conv, "12", 20, id, sizeof id), PARLEY_OK);
    CHECK_STR(id, "r-2");
    CHECK_INT(parley_load_history(pc, conv, NULL, 0, NULL, 0), PARLEY_OK);
    CHECK_INT(parley_load_history(pc, conv, "0", 20, id, sizeof id), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_load_history(pc, conv, NULL, 101, id, sizeof id), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_load_history(pc, conv, NULL, -1, id, sizeof id), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_load_history(pc, NULL, NULL, 1, id, sizeof id), PARLEY_ERR_INVALID_ARG);
    char q[300];
    memset(q, 'q', 257);
    q[257] = '\0';
    CHECK_INT(parley_search_articles(pc, q, id, sizeof id), PARLEY_ERR_TOO_LONG);
    CHECK_INT(parley_search_articles(pc, "", id, sizeof id), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_search_articles(pc, "\xff", id, sizeof id), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_search_articles(pc, "refund", id, sizeof id), PARLEY_OK);
    CHECK_INT(parley_get_article(pc, "refunds", small, sizeof small), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_get_article(pc, "no spaces", id, sizeof id), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_get_article(pc, "refunds", id, sizeof id), PARLEY_OK);
    CHECK_STR(id, "r-5");
    parley_client_free(pc);
}

int main(void)
{
    RUN(test_logout);
    RUN(test_oom_script_reaches_module);
    RUN(test_oom_conversation);
    RUN(test_oom_survey);
    RUN(test_oom_restart);
    RUN(test_public_api_offline);
    return tl_finish();
}
