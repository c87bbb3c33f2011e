/* Read receipts and unread counts (docs/protocol.md, "read", "unread"):
 * the user's read marks go out now and after every welcome; the support
 * side's marks and the server's unread counts reach the host. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void test_read_marks(void)
{
    fx f;
    fx_init(&f, NULL);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(pl_sess_conv_start(f.s, NULL, conv), PARLEY_OK);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "3"), PARLEY_OK);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "0"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "03"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_receipts_mark_read(f.receipts, "c-unknown", "3"), PARLEY_ERR_NOT_FOUND);
    fx_connect(&f);
    cJSON *j = EXPECT_FRAME(&f, "read");
    CHECK_STR(sp_jstr(j, "conv"), conv);
    CHECK_STR(sp_jstr(j, "seq"), "3");
    cJSON_Delete(j);
    cJSON_Delete(EXPECT_FRAME(&f, "conv.start"));
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "9"), PARLEY_OK);
    j = EXPECT_FRAME(&f, "read");
    CHECK_STR(sp_jstr(j, "seq"), "9");
    cJSON_Delete(j);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "5"), PARLEY_OK); /* lower: nothing */
    EXPECT_NO_FRAME(&f);
    fx_drop(&f);
    fx_connect(&f);
    j = EXPECT_FRAME(&f, "read");
    CHECK_STR(sp_jstr(j, "seq"), "9");
    cJSON_Delete(j);
    /* The support side's mark. */
    FEED(&f, Q("{'t':'read','conv':'c-1','seq':'7'}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_READ);
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    CHECK_STR(parley_event_seq(ev), "7");
    parley_event_free(ev);
    FEED(&f, Q("{'t':'read','conv':'c-1','seq':'-1'}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    fx_free(&f);
}

static void test_unread(void)
{
    fx f;
    fx_start(&f, NULL);
    uint32_t n = 99;
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    FEED(&f, Q("{'t':'unread','conv':'c-1','count':2}"));
    FEED(&f, Q("{'t':'unread','conv':'c-2','count':3}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_UNREAD);
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    CHECK_INT(parley_event_count(ev), 2);
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_UNREAD);
    CHECK_INT(parley_event_count(ev), 3);
    parley_event_free(ev);
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 5);
    CHECK_INT(pl_receipts_unread(f.receipts, "c-2", &n), PARLEY_OK);
    CHECK_INT(n, 3);
    CHECK_INT(pl_receipts_unread(f.receipts, "c-9", &n), PARLEY_OK);
    CHECK_INT(n, 0);
    FEED(&f, Q("{'t':'unread','conv':'c-1','count':0}"));
    drain_events(&f);
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 3);
    static const char *const bad[] = {"{'t':'unread','conv':'c-1','count':-1}",
                                      "{'t':'unread','conv':'c-1','count':1.5}",
                                      "{'t':'unread','conv':'c-1'}", "{'t':'unread','count':1}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        tl_note("%s", bad[i]);
        FEED(&f, Q(bad[i]));
        ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
        CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
        parley_event_free(ev);
    }
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 3);
    /* A flood of conversations is bounded; nothing crashes. */
    for (int i = 0; i < 1000; i++)
        FEED(&f, Qf("{'t':'unread','conv':'c-x%d','count':1}", i));
    drain_events(&f);
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK(n >= 3 && n <= 3 + 2 * PL_MAX_CONVERSATIONS);
    fx_free(&f);
}

int main(void)
{
    RUN(test_read_marks);
    RUN(test_unread);
    return tl_finish();
}
