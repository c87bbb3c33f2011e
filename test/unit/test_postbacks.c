/* Postbacks (docs/protocol.md, "Postbacks"): an option a message offered
 * goes out as the user's message naming it, checked against the offer,
 * redacted, through the outbox; quick replies are used up once answered;
 * offers survive a restart and are bounded. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void test_postback(void)
{
    fx f;
    fx_start(&f, NULL);
    fx_feed_blocks(&f, "1", ALL_KINDS);
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev->state, PARLEY_MSG_PENDING);
    CHECK_STR(ev->cid, cid);
    parley_event_free(ev);
    cJSON *j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "cid"), cid);
    CHECK_STR(sp_jstr(j, "conv"), "c-1");
    CHECK_STR(sp_jstr(j, "text"), "Billing");
    CHECK_STR(sp_jstr(j, "postback.msg"), "m-1");
    CHECK_STR(sp_jstr(j, "postback.option"), "o1");
    CHECK_STR(sp_jstr(j, "postback.payload"), "billing");
    cJSON_Delete(j);
    /* The quick replies are used up; buttons can be tapped again. */
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o2", cid), PARLEY_ERR_STATE);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b1", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b1", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b3", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "c1", cid), PARLEY_OK);
    j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "text"), "Open store");
    CHECK(sp_jstr(j, "postback.payload") != NULL);
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "msg.send");
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "text"), "Buy");
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "postback.option"), "c1");
    CHECK(sp_jget(sp_jget(j, "postback"), "payload") == NULL);
    cJSON_Delete(j);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b2", cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "nope", cid),
              PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-9", "o1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-2", "m-1", "o1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, NULL, "m-1", "o1", cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m 1", "o1", cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "", cid), PARLEY_ERR_INVALID_ARG);
    EXPECT_NO_FRAME(&f);
    CHECK_INT(pl_sess_outbox_count(f.s), 5);
    fx_free(&f);
}

/* A label is the user's message: the redactor sees it. */
static void scrub_all(void *user, int field, char *text, size_t size)
{
    (void)user;
    (void)size;
    if (field == PARLEY_FIELD_MESSAGE && strcmp(text, "Billing") == 0)
        memcpy(text, "B****g", 7);
}

static void test_postback_redacted(void)
{
    fx f;
    fx_init(&f, NULL);
    fx_close(&f);
    f.cc.redact = (pl_redact){.fn = scrub_all, .builtin = 1};
    REQUIRE(fx_open(&f));
    fx_online(&f);
    fx_feed_blocks(&f, "1", ALL_KINDS);
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    cJSON *j = EXPECT_FRAME(&f, "msg.send");
    CHECK_STR(sp_jstr(j, "text"), "B****g");
    cJSON_Delete(j);
    fx_free(&f);
}

/* A postback whose connection drops is resent with the same cid (the
 * server deduplicates by it) and acknowledged once. */
static void test_postback_resend_same_cid(void)
{
    fx f;
    fx_start(&f, NULL);
    fx_feed_blocks(&f, "1", ALL_KINDS);
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    drain_events(&f);
    cJSON *j = EXPECT_FRAME(&f, "msg.send");
    cJSON_Delete(j);
    fx_drop(&f);
    fx_connect(&f);
    cJSON *k;
    while ((k = take_frame(&f)) && strcmp(sp_jstr(k, "t"), "msg.send") != 0)
        cJSON_Delete(k);
    CHECK_STR(sp_jstr(k, "cid"), cid);
    CHECK_STR(sp_jstr(k, "postback.option"), "o1");
    cJSON_Delete(k);
    const char *ack = Qf("{'t':'msg.ack','cid':'%s','id':'m-2','conv':'c-1','seq':'2'}", cid);
    FEED(&f, ack);
    FEED(&f, ack);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev->state, PARLEY_MSG_SENT);
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    fx_free(&f);
}

/* Offers, the used flag and read marks survive a restart. */
static void test_restart(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_start(&f, j);
    fx_feed_blocks(&f, "1", ALL_KINDS);
    fx_feed_blocks(&f, "2", Q("[" QR_OK "]"));
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    CHECK_INT(pl_receipts_mark_read(f.receipts, "c-1", "2"), PARLEY_OK);
    drain_events(&f);
    fx_close(&f);
    pl_journal_close(j);
    j = sp_open_mem_journal(&m);
    f.j = j;
    REQUIRE(fx_open(&f));
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o2", cid), PARLEY_ERR_STATE);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b1", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-2", "ok1", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b2", cid),
              PARLEY_ERR_INVALID_ARG);
    drain_events(&f);
    fx_connect(&f);
    cJSON *k = EXPECT_FRAME(&f, "read");
    CHECK_STR(sp_jstr(k, "conv"), "c-1");
    CHECK_STR(sp_jstr(k, "seq"), "2");
    cJSON_Delete(k);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* Offers are bounded per conversation and in all. */
static void test_offers_bounded(void)
{
    fx f;
    fx_start(&f, NULL);
    char seq[16];
    for (int i = 1; i <= PL_POSTBACKS_PER_CONV + 1; i++) {
        snprintf(seq, sizeof seq, "%d", i);
        fx_feed_blocks(&f, seq, Q("[" QR_OK "]"));
    }
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "ok1", cid),
              PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-2", "ok1", cid), PARLEY_OK);
    for (int c = 2; c < 12; c++)
        for (int i = 1; i <= PL_POSTBACKS_PER_CONV; i++)
            FEED(&f,
                 Qf("{'t':'msg','conv':'c-%d','id':'m-%d-%d','seq':'%d','author':{'kind':'bot'},"
                    "'text':'t','blocks':[" QR_OK "]}",
                    c, c, i, i));
    drain_events(&f);
    /* c-1's are the oldest and went first. */
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-9", "ok1", cid),
              PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-11", "m-11-8", "ok1", cid), PARLEY_OK);
    fx_free(&f);
}

int main(void)
{
    RUN(test_postback);
    RUN(test_postback_redacted);
    RUN(test_postback_resend_same_cid);
    RUN(test_restart);
    RUN(test_offers_bounded);
    return tl_finish();
}
