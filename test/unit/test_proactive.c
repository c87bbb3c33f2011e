/* Proactive content (docs/protocol.md, "proactive"): messages reach the
 * host once and are acknowledged (again after a lost ack); the host's mute
 * holds messages and proactive surveys and releases them in order. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void feed_proactive(fx *f, const char *id)
{
    FEED(f, Qf("{'t':'proactive','id':'%s','msg':{'author':{'kind':'bot','name':'Helper'},"
               "'text':'tip %s','ts':1763900000000,'blocks':[{'kind':'card','title':'x'}]}}",
               id, id));
}

static void expect_ack(fx *f, const char *id, int line)
{
    cJSON *j = sp_expect_frame(f->s, "proactive.ack", __FILE__, line);
    tl_check_str(sp_jstr(j, "id"), id, "acked id", __FILE__, line);
    cJSON_Delete(j);
}
#define EXPECT_ACK(f, id) expect_ack((f), (id), __LINE__)

static void expect_proactive(fx *f, const char *id, int line)
{
    parley_event *ev =
        sp_expect_event(f->s, &f->evq, PARLEY_EV_PROACTIVE, SP_ANY_STATE, __FILE__, line);
    tl_check_str(ev->id, id, "proactive id", __FILE__, line);
    parley_event_free(ev);
}
#define EXPECT_PROACTIVE(f, id) expect_proactive((f), (id), __LINE__)

static void test_proactive_delivery(void)
{
    fx f;
    fx_start(&f, NULL);
    feed_proactive(&f, "p-1");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_PROACTIVE);
    CHECK_STR(parley_event_message_id(ev), "p-1");
    CHECK_STR(parley_event_text(ev), "tip p-1");
    CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_BOT);
    CHECK_STR(parley_event_author_name(ev), "Helper");
    CHECK(parley_event_timestamp_ms(ev) == 1763900000000LL);
    CHECK(parley_event_raw_json(ev) && strstr(parley_event_raw_json(ev), Q("'card'")));
    CHECK_INT(parley_event_block_count(ev), 1);
    CHECK_INT(parley_block_kind(parley_event_block(ev, 0)), PARLEY_BLOCK_CARD);
    parley_event_free(ev);
    EXPECT_ACK(&f, "p-1");
    /* Resent (the ack was lost): acked again, not reported again. */
    feed_proactive(&f, "p-1");
    CHECK_INT(event_count(&f), 0);
    EXPECT_ACK(&f, "p-1");
    /* A bad block is left out and reported; the item still arrives. */
    FEED(&f, Q("{'t':'proactive','id':'p-3','msg':{'author':{'kind':'agent'},'text':'t',"
               "'blocks':[{'kind':'bogus'}]}}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(ev->text && strstr(ev->text, "p-3"));
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_PROACTIVE);
    CHECK_INT(parley_event_block_count(ev), 0);
    CHECK(parley_event_raw_json(ev) == NULL);
    CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_AGENT);
    parley_event_free(ev);
    EXPECT_ACK(&f, "p-3");
    FEED(&f, Q("{'t':'proactive','id':'p-2','msg':{'text':'no author'}}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_proactive_mute(void)
{
    fx f;
    fx_start(&f, NULL);
    pl_proactive_mute(f.pro, f.now, 5000);
    int64_t deadline = -1;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, f.now + 5000);
    feed_proactive(&f, "p-1");
    FEED(&f, Q("{'t':'survey','proactive':true,'survey':{'id':'sv-p','title':'T','questions':["
               "{'id':'q','kind':'nps','text':'t'}]}}"));
    feed_proactive(&f, "p-2");
    feed_proactive(&f, "p-1"); /* a resend of a held one */
    /* A survey the user asked for is not proactive: not held. */
    FEED(&f, CSAT);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_SURVEY);
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0);
    EXPECT_NO_FRAME(&f);
    f.now += 4999;
    pl_sess_tick(f.s, f.now);
    CHECK_INT(event_count(&f), 0);
    f.now += 1;
    pl_sess_tick(f.s, f.now);
    EXPECT_PROACTIVE(&f, "p-1");
    ev = EXPECT_EVENT(&f, PARLEY_EV_SURVEY);
    CHECK_INT(parley_survey_is_proactive(parley_event_survey(ev)), 1);
    parley_event_free(ev);
    EXPECT_PROACTIVE(&f, "p-2");
    CHECK_INT(event_count(&f), 0);
    EXPECT_ACK(&f, "p-1");
    EXPECT_ACK(&f, "p-2");
    EXPECT_NO_FRAME(&f);
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, -1);
    fx_free(&f);
}

static void test_proactive_hold_cap_and_unmute(void)
{
    fx f;
    fx_start(&f, NULL);
    pl_proactive_mute(f.pro, f.now, 60000);
    char id[16];
    for (int i = 0; i < PL_PROACTIVE_MAX_HELD + 5; i++) {
        snprintf(id, sizeof id, "p-%d", i);
        feed_proactive(&f, id);
    }
    CHECK_INT(event_count(&f), 0);
    EXPECT_NO_FRAME(&f);
    /* Unmuting while offline: released now, acked after the next welcome. */
    fx_drop(&f);
    pl_proactive_mute(f.pro, f.now, 0);
    CHECK_INT(event_count(&f), PL_PROACTIVE_MAX_HELD);
    EXPECT_PROACTIVE(&f, "p-0");
    drain_events(&f);
    fx_connect(&f);
    for (int i = 0; i < PL_PROACTIVE_MAX_HELD; i++) {
        snprintf(id, sizeof id, "p-%d", i);
        EXPECT_ACK(&f, id);
    }
    EXPECT_NO_FRAME(&f);
    /* The dropped ones come again from the server. */
    feed_proactive(&f, "p-33");
    EXPECT_PROACTIVE(&f, "p-33");
    EXPECT_ACK(&f, "p-33");
    fx_free(&f);
}

int main(void)
{
    RUN(test_proactive_delivery);
    RUN(test_proactive_mute);
    RUN(test_proactive_hold_cap_and_unmute);
    return tl_finish();
}
