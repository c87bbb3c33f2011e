/* Read receipts and unread counts (docs/protocol.md, "read", "unread"):
 * the user's read marks go out now and after every welcome; the support
 * side's marks and the server's unread counts reach the host; the counts
 * of conversations the table lets go leave the journal too. */
#include <stdint.h>
#include <stdio.h>
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

static int count_unread_record(void *user, const char *key, const void *value, size_t len)
{
    (void)value;
    (void)len;
    *(size_t *)user += strncmp(key, "u/", 2) == 0;
    return 0;
}

static size_t unread_records(pl_journal *j)
{
    size_t n = 0;
    CHECK_INT(pl_journal_foreach(j, PL_RECEIPTS_NS, count_unread_record, &n), PARLEY_OK);
    return n;
}

/* A server naming ever new conversations: the journal keeps no more
 * counts than the table, also one grown by an earlier version. */
static void test_unread_journal_bound(void)
{
    sp_memio mem = {0};
    pl_journal *j = sp_open_mem_journal(&mem);
    REQUIRE(j != NULL);
    fx f;
    fx_start(&f, j);
    for (int i = 0; i < 1500; i++)
        FEED(&f, Qf("{'t':'unread','conv':'c-x%d','count':1}", i));
    drain_events(&f);
    size_t live = unread_records(j);
    printf("  after 1500 conversations: %zu u/ records (bound %d)\n", live,
           2 * PL_MAX_CONVERSATIONS);
    CHECK(live <= 2 * PL_MAX_CONVERSATIONS);
    uint32_t n = 0;
    CHECK_INT(pl_receipts_unread(f.receipts, "c-x1499", &n), PARLEY_OK);
    CHECK_INT(n, 1);
    fx_close(&f);
    for (int i = 0; i < 1500; i++) {
        char key[32];
        snprintf(key, sizeof key, "u/c-old%d", i);
        CHECK_INT(pl_journal_put(j, PL_RECEIPTS_NS, key, "2", 1, 0), PARLEY_OK);
    }
    REQUIRE(fx_open(&f));
    live = unread_records(j);
    printf("  reopened with 1500 more: %zu u/ records\n", live);
    CHECK(live <= 2 * PL_MAX_CONVERSATIONS);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&mem.fs);
}

int main(void)
{
    RUN(test_read_marks);
    RUN(test_unread);
    RUN(test_unread_journal_bound);
    return tl_finish();
}
