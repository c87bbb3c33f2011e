/* Typing indicators (docs/protocol.md, "typing"): the user's go out at most
 * every 3 seconds and once when they stop; the support side's arrive as
 * events and expire after 6 seconds of silence. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void test_typing_out(void)
{
    fx f;
    fx_init(&f, NULL);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(pl_sess_conv_start(f.s, NULL, conv), PARLEY_OK);
    CHECK_INT(pl_typing_set(f.typing, conv, 1, f.now), PARLEY_OK); /* offline: nothing */
    fx_connect(&f);
    cJSON *j;
    while ((j = take_frame(&f)))
        cJSON_Delete(j); /* the conv.start */
    CHECK_INT(pl_typing_set(f.typing, "c-unknown", 1, f.now), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_typing_set(f.typing, "bad id", 1, f.now), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_typing_set(f.typing, conv, 0, f.now), PARLEY_OK);
    EXPECT_NO_FRAME(&f); /* no on went out: no off */
    CHECK_INT(pl_typing_set(f.typing, conv, 1, f.now), PARLEY_OK);
    j = EXPECT_FRAME(&f, "typing");
    CHECK_STR(sp_jstr(j, "conv"), conv);
    CHECK(cJSON_IsTrue(sp_jget(j, "on")));
    cJSON_Delete(j);
    for (int i = 0; i < 29; i++) {
        f.now += 100;
        CHECK_INT(pl_typing_set(f.typing, conv, 1, f.now), PARLEY_OK);
    }
    EXPECT_NO_FRAME(&f);
    f.now += 100;
    CHECK_INT(pl_typing_set(f.typing, conv, 1, f.now), PARLEY_OK);
    cJSON_Delete(EXPECT_FRAME(&f, "typing"));
    CHECK_INT(pl_typing_set(f.typing, conv, 0, f.now), PARLEY_OK);
    j = EXPECT_FRAME(&f, "typing");
    CHECK(cJSON_IsFalse(sp_jget(j, "on")));
    cJSON_Delete(j);
    CHECK_INT(pl_typing_set(f.typing, conv, 0, f.now), PARLEY_OK);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_typing_in(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, Q("{'t':'typing','conv':'c-1','on':true,'author':{'kind':'agent','name':'Dana'}}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    CHECK_INT(ev->state, PARLEY_TYPING_ON);
    CHECK_STR(ev->conv, "c-1");
    CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_AGENT);
    CHECK_STR(parley_event_author_name(ev), "Dana");
    parley_event_free(ev);
    int64_t deadline = -1;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, f.now + 6000);
    f.now += 4000;
    FEED(&f, Q("{'t':'typing','conv':'c-1','on':true,'author':{'kind':'agent','name':'Dana'}}"));
    drain_events(&f);
    f.now += 5999;
    pl_sess_tick(f.s, f.now);
    CHECK_INT(event_count(&f), 0);
    f.now += 1;
    pl_sess_tick(f.s, f.now);
    ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    CHECK_INT(ev->state, PARLEY_TYPING_OFF);
    CHECK_STR(parley_event_author_name(ev), "Dana");
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    parley_event_free(ev);
    pl_sess_tick(f.s, f.now + 10000);
    CHECK_INT(event_count(&f), 0);
    /* An explicit off ends it; no second off later. */
    FEED(&f, Q("{'t':'typing','conv':'c-1','on':true}"));
    FEED(&f, Q("{'t':'typing','conv':'c-1','on':false}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    CHECK_INT(ev->state, PARLEY_TYPING_OFF);
    parley_event_free(ev);
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, -1);
    pl_sess_tick(f.s, f.now + 10000);
    CHECK_INT(event_count(&f), 0);
    /* Malformed. */
    FEED(&f, Q("{'t':'typing','conv':'c-1','on':'yes'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    FEED(&f, Q("{'t':'typing','on':true}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    fx_free(&f);
}

int main(void)
{
    RUN(test_typing_out);
    RUN(test_typing_in);
    return tl_finish();
}
