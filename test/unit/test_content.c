/* Structured content (docs/protocol.md, "Structured content"): a message's
 * blocks of quick replies, buttons, cards and carousels reach the host
 * through the accessors; a block that breaks the rules is left out and
 * reported once per message while the rest stays; and the queue a
 * conv.update reports. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void test_blocks_decoded(void)
{
    fx f;
    fx_start(&f, NULL);
    fx_feed_blocks(&f, "1", ALL_KINDS);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 4);
    const parley_block *qr = parley_event_block(ev, 0);
    CHECK_INT(parley_block_kind(qr), PARLEY_BLOCK_QUICK_REPLIES);
    CHECK_INT(parley_block_option_count(qr), 2);
    CHECK_STR(parley_option_id(parley_block_option(qr, 1)), "o2");
    CHECK_STR(parley_option_label(parley_block_option(qr, 1)), "Talk to a human");
    CHECK_STR(parley_option_payload(parley_block_option(qr, 0)), "billing");
    CHECK_INT(parley_option_action(parley_block_option(qr, 0)), PARLEY_ACTION_POSTBACK);
    CHECK(parley_block_option(qr, 2) == NULL);
    CHECK(parley_block_option(qr, -1) == NULL);
    const parley_block *bt = parley_event_block(ev, 1);
    CHECK_INT(parley_block_kind(bt), PARLEY_BLOCK_BUTTONS);
    CHECK_INT(parley_option_action(parley_block_option(bt, 1)), PARLEY_ACTION_URL);
    CHECK_STR(parley_option_url(parley_block_option(bt, 1)), "https://example.com/refunds");
    CHECK(parley_option_url(parley_block_option(bt, 0)) == NULL);
    const parley_block *card = parley_event_block(ev, 2);
    CHECK_INT(parley_block_kind(card), PARLEY_BLOCK_CARD);
    CHECK_STR(parley_block_title(card), "Gem pack");
    CHECK_STR(parley_block_text(card), "500 gems");
    CHECK_STR(parley_block_image_url(card), "https://example.com/gems.png");
    CHECK_INT(parley_block_option_count(card), 1);
    const parley_block *car = parley_event_block(ev, 3);
    CHECK_INT(parley_block_kind(car), PARLEY_BLOCK_CAROUSEL);
    CHECK_INT(parley_block_card_count(car), 2);
    CHECK_STR(parley_block_title(parley_block_card(car, 1)), "VIP");
    CHECK_INT(parley_block_kind(parley_block_card(car, 0)), PARLEY_BLOCK_CARD);
    CHECK(parley_block_card(car, 2) == NULL);
    CHECK(parley_event_block(ev, 4) == NULL);
    CHECK(parley_event_block(ev, -1) == NULL);
    cJSON *raw = cJSON_Parse(parley_event_raw_json(ev));
    CHECK(cJSON_IsArray(raw) && cJSON_GetArraySize(raw) == 4);
    cJSON_Delete(raw);
    parley_event_free(ev);
    CHECK_INT(event_count(&f), 0);
    /* Without blocks: nothing, and NULL arguments are harmless. */
    fx_feed_blocks(&f, "2", "[]");
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 0);
    CHECK(parley_event_raw_json(ev) == NULL);
    parley_event_free(ev);
    CHECK_INT(parley_event_block_count(NULL), 0);
    CHECK_INT(parley_block_kind(NULL), 0);
    CHECK(parley_block_option(NULL, 0) == NULL);
    CHECK(parley_option_id(NULL) == NULL);
    fx_free(&f);
}

/* Each bad block (frames/blocks_invalid.txt) is skipped and reported once,
 * naming its message; the good block beside it stays. */
static void test_invalid_blocks(void)
{
    char **bad;
    size_t n;
    REQUIRE_INT(tl_read_lines(PARLEY_FRAMES "/blocks_invalid.txt", &bad, &n), 0);
    CHECK(n > 20);
    fx f;
    fx_start(&f, NULL);
    char buf[4096], seq[24], id[24];
    for (size_t i = 0; i < n; i++) {
        tl_note("bad block %zu: %s", i, bad[i]);
        snprintf(seq, sizeof seq, "%zu", i + 1);
        snprintf(id, sizeof id, "m-%zu", i + 1);
        /* A repeated option id is the fault of the block that repeats it,
         * so that case comes after the good block. */
        if (strstr(bad[i], "dup of"))
            snprintf(buf, sizeof buf, "[%s,%s]", Q(QR_OK), bad[i]);
        else
            snprintf(buf, sizeof buf, "[%s,%s]", bad[i], Q(QR_OK));
        fx_feed_blocks(&f, seq, buf);
        parley_event *err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
        CHECK_INT(err->error_code, PARLEY_ERR_PROTOCOL);
        CHECK_STR(err->id, id);
        CHECK(err->text && strstr(err->text, "skipped"));
        parley_event_free(err);
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
        CHECK_STR(ev->text, "pick");
        CHECK_INT(parley_event_block_count(ev), 1);
        CHECK_STR(parley_option_id(parley_block_option(parley_event_block(ev, 0), 0)), "ok1");
        parley_event_free(ev);
        CHECK_INT(event_count(&f), 0);
    }
    tl_free_lines(bad, n);
    fx_free(&f);
}

static void expect_skip_one(fx *f, int blocks_left)
{
    parley_event *err = EXPECT_EVENT(f, PARLEY_EV_ERROR);
    parley_event_free(err);
    parley_event *ev = EXPECT_EVENT(f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), blocks_left);
    parley_event_free(ev);
    CHECK_INT(event_count(f), 0);
}

/* Limits: sizes of strings, counts of options, cards and blocks. */
static void test_block_limits(void)
{
    fx f;
    fx_start(&f, NULL);
    char *buf = malloc(65536), label[200], title[300], *payload = malloc(1100), *url = malloc(2100);
    memset(label, 'a', 129);
    label[129] = '\0';
    snprintf(buf, 65536, Q("[{'kind':'quick_replies','options':[{'id':'x','label':'%s'}]},%s]"),
             label, Q(QR_OK));
    fx_feed_blocks(&f, "1", buf);
    expect_skip_one(&f, 1);
    label[128] = '\0'; /* exactly 128 is fine */
    snprintf(buf, 65536, Q("[{'kind':'quick_replies','options':[{'id':'x','label':'%s'}]}]"),
             label);
    fx_feed_blocks(&f, "2", buf);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 1);
    parley_event_free(ev);
    memset(title, 't', 257);
    title[257] = '\0';
    snprintf(buf, 65536, Q("[{'kind':'card','title':'%s'},%s]"), title, Q(QR_OK));
    fx_feed_blocks(&f, "3", buf);
    expect_skip_one(&f, 1);
    memset(payload, 'p', 1025);
    payload[1025] = '\0';
    snprintf(buf, 65536,
             Q("[{'kind':'buttons','buttons':[{'id':'x','label':'X','payload':'%s'}]},%s]"),
             payload, Q(QR_OK));
    fx_feed_blocks(&f, "4", buf);
    expect_skip_one(&f, 1);
    memcpy(url, "https://", 8);
    memset(url + 8, 'u', 2041);
    url[2049] = '\0';
    snprintf(
        buf, 65536,
        Q("[{'kind':'buttons','buttons':[{'id':'x','label':'X','action':'url','url':'%s'}]},%s]"),
        url, Q(QR_OK));
    fx_feed_blocks(&f, "5", buf);
    expect_skip_one(&f, 1);
    /* 14 options, 11 cards. */
    size_t n = (size_t)snprintf(buf, 65536, "%s", Q("[{'kind':'quick_replies','options':["));
    for (int i = 0; i < 14; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, Q("%s{'id':'q%d','label':'L'}"), i ? "," : "", i);
    n += (size_t)snprintf(buf + n, 65536 - n, "%s", Q("]},{'kind':'carousel','cards':["));
    for (int i = 0; i < 11; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, Q("%s{'title':'T'}"), i ? "," : "");
    snprintf(buf + n, 65536 - n, "]},%s]", Q(QR_OK));
    fx_feed_blocks(&f, "6", buf);
    parley_event *err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(strstr(err->text, "and 1 more")); /* two skipped, one report */
    parley_event_free(err);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 1);
    parley_event_free(ev);
    /* 12 good blocks: the first 10 are kept. */
    n = (size_t)snprintf(buf, 65536, "[");
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, Q("%s{'kind':'card','title':'T%d'}"),
                              i ? "," : "", i);
    snprintf(buf + n, 65536 - n, "]");
    fx_feed_blocks(&f, "7", buf);
    expect_skip_one(&f, 10);
    /* 10,000 quick replies: that block goes, the others stay. */
    n = (size_t)snprintf(buf, 65536, "%s",
                         Q("[{'kind':'card','title':'kept'},{'kind':'quick_replies','options':["));
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, "%s{}", i ? "," : "");
    snprintf(buf + n, 65536 - n, "]},%s]", Q(QR_OK));
    fx_feed_blocks(&f, "8", buf);
    err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(strstr(err->text, "block 1"));
    parley_event_free(err);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 2);
    CHECK_STR(parley_block_title(parley_event_block(ev, 0)), "kept");
    parley_event_free(ev);
    /* blocks that is not an array. */
    fx_feed_blocks(&f, "9", Q("{'kind':'card','title':'T'}"));
    expect_skip_one(&f, 0);
    free(buf);
    free(payload);
    free(url);
    fx_free(&f);
}

/* Nesting beyond the frame limit rejects the frame; inside it, a block
 * whose members are nested objects is just a bad block. */
static void test_deep_nesting(void)
{
    fx f;
    fx_start(&f, NULL);
    char buf[2048];
    char deep[512] = "", close[64] = "";
    for (int i = 0; i < 20; i++) {
        strcat(deep, "[");
        strcat(close, "]");
    }
    snprintf(buf, sizeof buf, Q("[{'kind':'card','title':'T','x':%s%s}]"), deep, close);
    fx_feed_blocks(&f, "1", buf);
    parley_event *err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(err->error_code, PARLEY_ERR_PROTOCOL);
    parley_event_free(err);
    CHECK_INT(event_count(&f), 0); /* the message waits for a good copy */
    snprintf(
        buf, sizeof buf,
        Q("[{'kind':'quick_replies','options':[{'id':'x','label':{'a':{'b':{'c':[[[1]]]}}}}]},%s]"),
        Q(QR_OK));
    fx_feed_blocks(&f, "1", buf);
    expect_skip_one(&f, 1);
    fx_free(&f);
}

/* The queue a conv.update reports, on its CONVERSATION event. */
static parley_event *decorate(fx *f, const char *json)
{
    FEED(f, json);
    return EXPECT_EVENT(f, PARLEY_EV_CONVERSATION);
}

static void test_queue(void)
{
    fx f;
    fx_start(&f, NULL);
    parley_event *ev = decorate(
        &f,
        Q("{'t':'conv.update','conv':'c-1','state':'queued','queue':{'position':3,'wait_s':120}}"));
    CHECK_INT(parley_event_queue_position(ev), 3);
    CHECK_INT(parley_event_wait_s(ev), 120);
    parley_event_free(ev);
    ev = decorate(&f, Q("{'t':'conv.update','conv':'c-1','state':'queued','queue':{'wait_s':5}}"));
    CHECK_INT(parley_event_queue_position(ev), -1);
    CHECK_INT(parley_event_wait_s(ev), 5);
    parley_event_free(ev);
    /* No queue, or one that is not valid: as good as none. */
    static const char *const none[] = {
        "{'t':'conv.update','conv':'c-1','state':'agent'}",
        "{'t':'conv.update','conv':'c-1','state':'queued','queue':{'position':-1}}",
        "{'t':'conv.update','conv':'c-1','state':'queued','queue':{'position':1.5}}",
        "{'t':'conv.update','conv':'c-1','state':'queued','queue':7}"};
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        tl_note("%s", none[i]);
        ev = decorate(&f, Q(none[i]));
        CHECK_INT(parley_event_queue_position(ev), -1);
        CHECK_INT(parley_event_wait_s(ev), 0);
        parley_event_free(ev);
    }
    CHECK_INT(parley_event_queue_position(NULL), -1);
    fx_free(&f);
}

int main(void)
{
    RUN(test_blocks_decoded);
    RUN(test_invalid_blocks);
    RUN(test_block_limits);
    RUN(test_deep_nesting);
    RUN(test_queue);
    return tl_finish();
}
