/* Rich conversations, frame by frame: the session with the context and
 * rich modules, a fake clock, frames fed in as JSON text, frames taken out
 * and parsed with cJSON, events checked one by one. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "feature/user_context.h"
#include "feature/postbacks.h"
#include "feature/receipts.h"
#include "feature/requests.h"
#include "feature/typing.h"
#include "session/session.h"
#include "store/storage.h"
#include "sessprobe.h"
#include "testlib.h"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fx {
    tl_alloc ta;
    pl_alloc a;
    pl_rand *rand;
    pl_sess *s;
    pl_ctx *ctx;
    pl_receipts *receipts;
    pl_requests *requests;
    pl_typing *typing;
    pl_postbacks *postbacks;
    pl_journal *j;
    pl_ctx_config cc;
    int64_t now;
    pl_event_queue evq;
} fx;

static int fx_open(fx *f)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = f->j;
    f->s = pl_sess_new(&f->a, &cfg, f->rand, NULL);
    f->ctx = f->s ? pl_ctx_new(&f->a, f->s, &f->cc, NULL) : NULL;
    f->receipts = f->ctx ? pl_receipts_new(&f->a, f->s, f->j, NULL) : NULL;
    f->requests = f->receipts ? pl_requests_new(&f->a, f->s, NULL) : NULL;
    f->typing = f->requests ? pl_typing_new(&f->a, f->s, NULL) : NULL;
    f->postbacks = f->typing ? pl_postbacks_new(&f->a, f->s, f->j, NULL) : NULL;
    return f->postbacks != NULL;
}

static void fx_close(fx *f)
{
    pl_postbacks_free(f->postbacks);
    pl_typing_free(f->typing);
    pl_requests_free(f->requests);
    pl_receipts_free(f->receipts);
    pl_ctx_free(f->ctx);
    pl_sess_free(f->s);
    f->postbacks = NULL;
    f->typing = NULL;
    f->requests = NULL;
    f->receipts = NULL;
    f->ctx = NULL;
    f->s = NULL;
}

static void fx_init_j(fx *f, pl_journal *j)
{
    memset(f, 0, sizeof *f);
    tl_alloc_reset(&f->ta);
    f->a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f->ta};
    f->rand = pl_rand_new(pl_alloc_libc());
    f->now = 1000;
    f->j = j;
    f->cc = (pl_ctx_config){.consent = 1};
    CHECK(fx_open(f));
}

static void fx_free(fx *f)
{
    fx_close(f);
    pl_event_queue_clear(&f->evq);
    pl_rand_free(f->rand);
    CHECK_INT(f->ta.live, 0);
}

static parley_event *next_event(fx *f)
{
    return sp_next_event(f->s, &f->evq);
}

static int event_count(fx *f)
{
    return sp_event_count(f->s, &f->evq);
}

static void drain_events(fx *f)
{
    sp_drain_events(f->s, &f->evq);
}

static parley_event *expect_event(fx *f, int type, int line)
{
    return sp_expect_event(f->s, &f->evq, type, SP_ANY_STATE, __FILE__, line);
}
#define EXPECT_EVENT(f, type) expect_event((f), (type), __LINE__)

static void feed(fx *f, const char *json)
{
    sp_feed(f->s, f->now, json, __FILE__, __LINE__);
}

static cJSON *take_frame(fx *f)
{
    return sp_take_frame(f->s);
}

static cJSON *expect_frame(fx *f, const char *type, int line)
{
    return sp_expect_frame(f->s, type, __FILE__, line);
}
#define EXPECT_FRAME(f, type) expect_frame((f), (type), __LINE__)

static void expect_no_frame(fx *f, int line)
{
    sp_expect_no_frame(f->s, __FILE__, line);
}
#define EXPECT_NO_FRAME(f) expect_no_frame((f), __LINE__)

static void bring_online(fx *f)
{
    pl_sess_go_online(f->s, f->now);
    CHECK(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f->s, f->now);
    pl_sess_on_open(f->s, f->now);
    cJSON_Delete(EXPECT_FRAME(f, "hello"));
    feed(f, "{\"t\":\"welcome\",\"session\":\"s-1\"}");
    cJSON *j;
    while ((j = take_frame(f)) && strcmp(sp_jstr(j, "t"), "context") == 0)
        cJSON_Delete(j);
    if (j) {
        /* Not the context: put nothing back; tests that expect frames after
         * welcome bring the session online by hand. */
        tl_check(0, "only context after welcome", __FILE__, __LINE__);
        cJSON_Delete(j);
    }
    drain_events(f);
}

/* Like bring_online but leaves the frames after welcome (beyond the
 * context) to the test. */
static void reconnect_keep_frames(fx *f)
{
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    if (deadline > f->now)
        f->now = deadline;
    CHECK(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f->s, f->now);
    pl_sess_on_open(f->s, f->now);
    cJSON_Delete(EXPECT_FRAME(f, "hello"));
    feed(f, "{\"t\":\"welcome\",\"session\":\"s-1\"}");
    drain_events(f);
}

static void drop(fx *f)
{
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CLOSED, "gone");
    drain_events(f);
}

static void start_online(fx *f)
{
    fx_init_j(f, NULL);
    bring_online(f);
}

/* A bot message in c-1 with seq, id m-<seq> and the blocks given. */
static void feed_blocks(fx *f, const char *seq, const char *blocks)
{
    size_t n = strlen(blocks) + 512;
    char *buf = malloc(n);
    snprintf(buf, n,
             "{\"t\":\"msg\",\"conv\":\"c-1\",\"id\":\"m-%s\",\"seq\":\"%s\",\"author\":{\"kind\":\"bot\"},"
             "\"text\":\"pick\",\"blocks\":%s}",
             seq, seq, blocks);
    feed(f, buf);
    free(buf);
}

#define QR_OK "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"ok1\",\"label\":\"Fine\"}]}"

static const char *all_kinds =
    "[{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"o1\",\"label\":\"Billing\",\"payload\":\"billing\"},"
    "{\"id\":\"o2\",\"label\":\"Talk to a human\",\"payload\":\"human\"}]},"
    "{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"b1\",\"label\":\"Open store\",\"action\":\"postback\","
    "\"payload\":\"store\"},{\"id\":\"b2\",\"label\":\"Refund policy\",\"action\":\"url\","
    "\"url\":\"https://example.com/refunds\"}]},"
    "{\"kind\":\"card\",\"title\":\"Gem pack\",\"text\":\"500 gems\",\"image\":\"https://example.com/gems.png\","
    "\"buttons\":[{\"id\":\"b3\",\"label\":\"Buy\",\"payload\":\"buy:500\"}]},"
    "{\"kind\":\"carousel\",\"cards\":[{\"title\":\"Basic\",\"buttons\":[{\"id\":\"c1\",\"label\":\"Pick\"}]},"
    "{\"title\":\"VIP\"}]}]";

/* ---- structured content ---------------------------------------------------------- */

static void test_blocks_decoded(void)
{
    fx f;
    start_online(&f);
    feed_blocks(&f, "1", all_kinds);
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
    feed_blocks(&f, "2", "[]");
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

/* Each bad block is skipped and reported once; the good one stays. */
static void test_invalid_blocks(void)
{
    static const char *const bad[] = {
        "{\"kind\":\"sparkles\",\"options\":[]}",
        "{\"options\":[{\"id\":\"x\",\"label\":\"X\"}]}",
        "{\"kind\":7}",
        "\"quick_replies\"",
        "{\"kind\":\"quick_replies\",\"options\":[]}",
        "{\"kind\":\"quick_replies\"}",
        "{\"kind\":\"quick_replies\",\"options\":{\"id\":\"x\"}}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"label\":\"X\"}]}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"has space\",\"label\":\"X\"}]}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\"}]}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\",\"label\":\"\"}]}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\",\"label\":5}]}",
        "{\"kind\":\"quick_replies\",\"options\":[1]}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\",\"label\":\"X\"},{\"id\":\"x\",\"label\":\"Y\"}]}",
        "{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"ok1\",\"label\":\"dup of a later block's id\"}]}",
        "{\"kind\":\"buttons\",\"buttons\":[]}",
        "{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"x\",\"label\":\"X\",\"action\":\"url\"}]}",
        "{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"x\",\"label\":\"X\",\"action\":\"url\",\"url\":\"ftp://a\"}]}",
        "{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"x\",\"label\":\"X\",\"action\":\"url\",\"url\":\"javascript:1\"}]}",
        "{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"x\",\"label\":\"X\",\"action\":\"launch\"}]}",
        "{\"kind\":\"card\",\"text\":\"no title\"}",
        "{\"kind\":\"card\",\"title\":\"T\",\"image\":\"file:///etc/passwd\"}",
        "{\"kind\":\"card\",\"title\":\"T\",\"buttons\":[{\"id\":\"x\"}]}",
        "{\"kind\":\"carousel\",\"cards\":[]}",
        "{\"kind\":\"carousel\"}",
        "{\"kind\":\"carousel\",\"cards\":[{\"text\":\"untitled\"}]}",
        "{\"kind\":\"carousel\",\"cards\":[\"card\"]}",
    };
    fx f;
    start_online(&f);
    char buf[4096];
    int seq = 1;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++, seq++) {
        char s[16];
        snprintf(s, sizeof s, "%d", seq);
        int failed = tl_failed;
        /* The good block after the bad one: a duplicate id is the later one's fault only when it comes
         * after, so the dup case puts the good block first. */
        if (strstr(bad[i], "dup of"))
            snprintf(buf, sizeof buf, "[%s,%s]", QR_OK, bad[i]);
        else
            snprintf(buf, sizeof buf, "[%s,%s]", bad[i], QR_OK);
        feed_blocks(&f, s, buf);
        parley_event *err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
        if (err) {
            CHECK_INT(err->error_code, PARLEY_ERR_PROTOCOL);
            CHECK_STR(err->id, (snprintf(buf, sizeof buf, "m-%d", seq), buf));
            CHECK(err->text && strstr(err->text, "skipped"));
        }
        parley_event_free(err);
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
        if (ev) {
            CHECK_STR(ev->text, "pick");
            CHECK_INT(parley_event_block_count(ev), 1);
            CHECK_STR(parley_option_id(parley_block_option(parley_event_block(ev, 0), 0)), "ok1");
        }
        if (tl_failed != failed)
            fprintf(stderr, "  case %zu: %s\n", i, bad[i]);
        parley_event_free(ev);
        CHECK_INT(event_count(&f), 0);
    }
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
    start_online(&f);
    char *buf = malloc(65536), label[200], title[300], *payload = malloc(1100), *url = malloc(2100);
    memset(label, 'a', 129);
    label[129] = '\0';
    snprintf(buf, 65536, "[{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\",\"label\":\"%s\"}]},%s]", label,
             QR_OK);
    feed_blocks(&f, "1", buf);
    expect_skip_one(&f, 1);
    label[128] = '\0'; /* exactly 128 is fine */
    snprintf(buf, 65536, "[{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\",\"label\":\"%s\"}]}]", label);
    feed_blocks(&f, "2", buf);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 1);
    parley_event_free(ev);
    memset(title, 't', 257);
    title[257] = '\0';
    snprintf(buf, 65536, "[{\"kind\":\"card\",\"title\":\"%s\"},%s]", title, QR_OK);
    feed_blocks(&f, "3", buf);
    expect_skip_one(&f, 1);
    memset(payload, 'p', 1025);
    payload[1025] = '\0';
    snprintf(buf, 65536, "[{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"x\",\"label\":\"X\",\"payload\":\"%s\"}]},%s]",
             payload, QR_OK);
    feed_blocks(&f, "4", buf);
    expect_skip_one(&f, 1);
    memcpy(url, "https://", 8);
    memset(url + 8, 'u', 2041);
    url[2049] = '\0';
    snprintf(buf, 65536,
             "[{\"kind\":\"buttons\",\"buttons\":[{\"id\":\"x\",\"label\":\"X\",\"action\":\"url\",\"url\":\"%s\"}]},%s]",
             url, QR_OK);
    feed_blocks(&f, "5", buf);
    expect_skip_one(&f, 1);
    /* 14 options, 11 cards. */
    size_t n = (size_t)snprintf(buf, 65536, "[{\"kind\":\"quick_replies\",\"options\":[");
    for (int i = 0; i < 14; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, "%s{\"id\":\"q%d\",\"label\":\"L\"}", i ? "," : "", i);
    n += (size_t)snprintf(buf + n, 65536 - n, "]},{\"kind\":\"carousel\",\"cards\":[");
    for (int i = 0; i < 11; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, "%s{\"title\":\"T\"}", i ? "," : "");
    snprintf(buf + n, 65536 - n, "]},%s]", QR_OK);
    feed_blocks(&f, "6", buf);
    parley_event *err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(err && strstr(err->text, "and 1 more")); /* two skipped, one report */
    parley_event_free(err);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 1);
    parley_event_free(ev);
    /* 12 good blocks: the first 10 are kept. */
    n = (size_t)snprintf(buf, 65536, "[");
    for (int i = 0; i < 12; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, "%s{\"kind\":\"card\",\"title\":\"T%d\"}", i ? "," : "", i);
    snprintf(buf + n, 65536 - n, "]");
    feed_blocks(&f, "7", buf);
    expect_skip_one(&f, 10);
    /* 10,000 quick replies: that block goes, the others stay. */
    n = (size_t)snprintf(buf, 65536, "[{\"kind\":\"card\",\"title\":\"kept\"},{\"kind\":\"quick_replies\",\"options\":[");
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(buf + n, 65536 - n, "%s{}", i ? "," : "");
    snprintf(buf + n, 65536 - n, "]},%s]", QR_OK);
    feed_blocks(&f, "8", buf);
    err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(err && strstr(err->text, "block 1"));
    parley_event_free(err);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE);
    CHECK_INT(parley_event_block_count(ev), 2);
    CHECK_STR(parley_block_title(parley_event_block(ev, 0)), "kept");
    parley_event_free(ev);
    /* blocks that is not an array. */
    feed_blocks(&f, "9", "{\"kind\":\"card\",\"title\":\"T\"}");
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
    start_online(&f);
    char buf[2048];
    char deep[512] = "", close[64] = "";
    for (int i = 0; i < 20; i++) {
        strcat(deep, "[");
        strcat(close, "]");
    }
    snprintf(buf, sizeof buf, "[{\"kind\":\"card\",\"title\":\"T\",\"x\":%s%s}]", deep, close);
    feed_blocks(&f, "1", buf);
    parley_event *err = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(err ? err->error_code : 0, PARLEY_ERR_PROTOCOL);
    parley_event_free(err);
    CHECK_INT(event_count(&f), 0); /* the message waits for a good copy */
    snprintf(buf, sizeof buf,
             "[{\"kind\":\"quick_replies\",\"options\":[{\"id\":\"x\",\"label\":{\"a\":{\"b\":{\"c\":[[[1]]]}}}}]},%s]",
             QR_OK);
    feed_blocks(&f, "1", buf);
    expect_skip_one(&f, 1);
    fx_free(&f);
}

/* ---- postbacks ----------------------------------------------------------------- */

static void test_postback(void)
{
    fx f;
    start_online(&f);
    feed_blocks(&f, "1", all_kinds);
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev ? ev->state : 0, PARLEY_MSG_PENDING);
    CHECK_STR(ev ? ev->cid : NULL, cid);
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
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b2", cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "nope", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-9", "o1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-2", "m-1", "o1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, NULL, "m-1", "o1", cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m 1", "o1", cid), PARLEY_ERR_INVALID_ARG);
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
    fx_init_j(&f, NULL);
    fx_close(&f);
    f.cc.redact = (pl_redact){.fn = scrub_all, .builtin = 1};
    CHECK(fx_open(&f));
    bring_online(&f);
    feed_blocks(&f, "1", all_kinds);
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
    start_online(&f);
    feed_blocks(&f, "1", all_kinds);
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    drain_events(&f);
    cJSON *j = EXPECT_FRAME(&f, "msg.send");
    cJSON_Delete(j);
    drop(&f);
    reconnect_keep_frames(&f);
    cJSON *k;
    while ((k = take_frame(&f)) && strcmp(sp_jstr(k, "t"), "msg.send") != 0)
        cJSON_Delete(k);
    CHECK_STR(sp_jstr(k, "cid"), cid);
    CHECK_STR(sp_jstr(k, "postback.option"), "o1");
    cJSON_Delete(k);
    char ack[256];
    snprintf(ack, sizeof ack, "{\"t\":\"msg.ack\",\"cid\":\"%s\",\"id\":\"m-2\",\"conv\":\"c-1\",\"seq\":\"2\"}", cid);
    feed(&f, ack);
    feed(&f, ack);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev ? ev->state : 0, PARLEY_MSG_SENT);
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
    fx_init_j(&f, j);
    bring_online(&f);
    feed_blocks(&f, "1", all_kinds);
    feed_blocks(&f, "2", "[" QR_OK "]");
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_OK);
    CHECK_INT(pl_receipts_mark_read(f.receipts, "c-1", "2"), PARLEY_OK);
    drain_events(&f);
    fx_close(&f);
    pl_journal_close(j);
    j = sp_open_mem_journal(&m);
    f.j = j;
    CHECK(fx_open(&f));
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o2", cid), PARLEY_ERR_STATE);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b1", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-2", "ok1", cid), PARLEY_OK);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "b2", cid), PARLEY_ERR_INVALID_ARG);
    drain_events(&f);
    pl_sess_go_online(f.s, f.now);
    reconnect_keep_frames(&f);
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
    start_online(&f);
    char seq[16];
    for (int i = 1; i <= PL_POSTBACKS_PER_CONV + 1; i++) {
        snprintf(seq, sizeof seq, "%d", i);
        feed_blocks(&f, seq, "[" QR_OK "]");
    }
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "ok1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-2", "ok1", cid), PARLEY_OK);
    for (int c = 2; c < 12; c++)
        for (int i = 1; i <= PL_POSTBACKS_PER_CONV; i++) {
            char buf[256];
            snprintf(buf, sizeof buf,
                     "{\"t\":\"msg\",\"conv\":\"c-%d\",\"id\":\"m-%d-%d\",\"seq\":\"%d\",\"author\":{\"kind\":\"bot\"},"
                     "\"text\":\"t\",\"blocks\":[" QR_OK "]}",
                     c, c, i, i);
            feed(&f, buf);
        }
    drain_events(&f);
    /* c-1's are the oldest and went first. */
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-9", "ok1", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-11", "m-11-8", "ok1", cid), PARLEY_OK);
    fx_free(&f);
}

/* ---- typing -------------------------------------------------------------------- */

static void test_typing_out(void)
{
    fx f;
    fx_init_j(&f, NULL);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(pl_sess_conv_start(f.s, NULL, conv), PARLEY_OK);
    CHECK_INT(pl_typing_set(f.typing, conv, 1, f.now), PARLEY_OK); /* offline: nothing */
    pl_sess_go_online(f.s, f.now);
    reconnect_keep_frames(&f);
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
    start_online(&f);
    feed(&f, "{\"t\":\"typing\",\"conv\":\"c-1\",\"on\":true,\"author\":{\"kind\":\"agent\",\"name\":\"Dana\"}}");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    CHECK_INT(ev ? ev->state : 0, PARLEY_TYPING_ON);
    CHECK_STR(ev ? ev->conv : NULL, "c-1");
    CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_AGENT);
    CHECK_STR(parley_event_author_name(ev), "Dana");
    parley_event_free(ev);
    int64_t deadline = -1;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, f.now + 6000);
    f.now += 4000;
    feed(&f, "{\"t\":\"typing\",\"conv\":\"c-1\",\"on\":true,\"author\":{\"kind\":\"agent\",\"name\":\"Dana\"}}");
    drain_events(&f);
    f.now += 5999;
    pl_sess_tick(f.s, f.now);
    CHECK_INT(event_count(&f), 0);
    f.now += 1;
    pl_sess_tick(f.s, f.now);
    ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    CHECK_INT(ev ? ev->state : 0, PARLEY_TYPING_OFF);
    CHECK_STR(parley_event_author_name(ev), "Dana");
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    parley_event_free(ev);
    pl_sess_tick(f.s, f.now + 10000);
    CHECK_INT(event_count(&f), 0);
    /* An explicit off ends it; no second off later. */
    feed(&f, "{\"t\":\"typing\",\"conv\":\"c-1\",\"on\":true}");
    feed(&f, "{\"t\":\"typing\",\"conv\":\"c-1\",\"on\":false}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_TYPING);
    CHECK_INT(ev ? ev->state : 0, PARLEY_TYPING_OFF);
    parley_event_free(ev);
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, -1);
    pl_sess_tick(f.s, f.now + 10000);
    CHECK_INT(event_count(&f), 0);
    /* Malformed. */
    feed(&f, "{\"t\":\"typing\",\"conv\":\"c-1\",\"on\":\"yes\"}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(ev ? ev->error_code : 0, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    feed(&f, "{\"t\":\"typing\",\"on\":true}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    fx_free(&f);
}

/* ---- read marks, unread --------------------------------------------------------- */

static void test_read_marks(void)
{
    fx f;
    fx_init_j(&f, NULL);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(pl_sess_conv_start(f.s, NULL, conv), PARLEY_OK);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "3"), PARLEY_OK);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "0"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, "03"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_receipts_mark_read(f.receipts, conv, NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_receipts_mark_read(f.receipts, "c-unknown", "3"), PARLEY_ERR_NOT_FOUND);
    pl_sess_go_online(f.s, f.now);
    reconnect_keep_frames(&f);
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
    drop(&f);
    reconnect_keep_frames(&f);
    j = EXPECT_FRAME(&f, "read");
    CHECK_STR(sp_jstr(j, "seq"), "9");
    cJSON_Delete(j);
    /* The support side's mark. */
    feed(&f, "{\"t\":\"read\",\"conv\":\"c-1\",\"seq\":\"7\"}");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_READ);
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    CHECK_STR(parley_event_seq(ev), "7");
    parley_event_free(ev);
    feed(&f, "{\"t\":\"read\",\"conv\":\"c-1\",\"seq\":\"-1\"}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    fx_free(&f);
}

static void test_unread(void)
{
    fx f;
    start_online(&f);
    uint32_t n = 99;
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    feed(&f, "{\"t\":\"unread\",\"conv\":\"c-1\",\"count\":2}");
    feed(&f, "{\"t\":\"unread\",\"conv\":\"c-2\",\"count\":3}");
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
    feed(&f, "{\"t\":\"unread\",\"conv\":\"c-1\",\"count\":0}");
    drain_events(&f);
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 3);
    const char *bad[] = {"{\"t\":\"unread\",\"conv\":\"c-1\",\"count\":-1}",
                         "{\"t\":\"unread\",\"conv\":\"c-1\",\"count\":1.5}",
                         "{\"t\":\"unread\",\"conv\":\"c-1\"}", "{\"t\":\"unread\",\"count\":1}"};
    for (size_t i = 0; i < 4; i++) {
        feed(&f, bad[i]);
        ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
        CHECK_INT(ev ? ev->error_code : 0, PARLEY_ERR_PROTOCOL);
        parley_event_free(ev);
    }
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 3);
    /* A flood of conversations is bounded; nothing crashes. */
    char buf[128];
    for (int i = 0; i < 1000; i++) {
        snprintf(buf, sizeof buf, "{\"t\":\"unread\",\"conv\":\"c-x%d\",\"count\":1}", i);
        feed(&f, buf);
    }
    drain_events(&f);
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK(n >= 3 && n <= 3 + 2 * PL_MAX_CONVERSATIONS);
    fx_free(&f);
}

/* ---- requests ------------------------------------------------------------------- */

static void test_requests_offline_then_answered(void)
{
    fx f;
    fx_init_j(&f, NULL);
    char r1[PARLEY_ID_SIZE], r2[PARLEY_ID_SIZE], r3[PARLEY_ID_SIZE], r4[PARLEY_ID_SIZE];
    pl_req_args none = {0}, hist = {.conv = "c-1", .before = 41, .limit = 20}, q = {.query = "refund gems"},
              art = {.id = "refunds"};
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r1), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_HISTORY, &hist, r2), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_SEARCH, &q, r3), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_ARTICLE, &art, r4), PARLEY_OK);
    CHECK_STR(r1, "r-1");
    CHECK_STR(r4, "r-4");
    pl_sess_go_online(f.s, f.now);
    reconnect_keep_frames(&f);
    cJSON *j = EXPECT_FRAME(&f, "conv.list");
    CHECK_STR(sp_jstr(j, "req"), "r-1");
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "history.page");
    CHECK_STR(sp_jstr(j, "req"), "r-2");
    CHECK_STR(sp_jstr(j, "conv"), "c-1");
    CHECK_STR(sp_jstr(j, "before"), "41");
    CHECK_INT(sp_jget(j, "limit") ? sp_jget(j, "limit")->valueint : 0, 20);
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "kb.search");
    CHECK_STR(sp_jstr(j, "query"), "refund gems");
    cJSON_Delete(j);
    j = EXPECT_FRAME(&f, "kb.get");
    CHECK_STR(sp_jstr(j, "id"), "refunds");
    cJSON_Delete(j);
    EXPECT_NO_FRAME(&f);
    /* The connection drops before any answer: all four go again. */
    drop(&f);
    reconnect_keep_frames(&f);
    int n = 0;
    while ((j = take_frame(&f))) {
        n++;
        cJSON_Delete(j);
    }
    CHECK_INT(n, 4);
    feed(&f, "{\"t\":\"conv.list\",\"req\":\"r-1\",\"conversations\":[{\"conv\":\"c-7\",\"subject\":\"Payment problem\","
             "\"state\":\"agent\",\"last_seq\":\"9\",\"unread\":2,\"updated_ms\":1763900000000,"
             "\"last_text\":\"Refund is on its way\"},{\"conv\":\"c-8\"}]}");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_CONVERSATIONS);
    CHECK_STR(parley_event_request_id(ev), "r-1");
    CHECK_INT(parley_event_item_count(ev), 2);
    const parley_event *it = parley_event_item(ev, 0);
    CHECK_INT(parley_event_type(it), PARLEY_EV_CONVERSATION);
    CHECK_STR(parley_event_conversation_id(it), "c-7");
    CHECK_INT(parley_event_state(it), PARLEY_CONV_AGENT);
    CHECK_STR(parley_event_title(it), "Payment problem");
    CHECK_INT(parley_event_count(it), 2);
    CHECK_STR(parley_event_text(it), "Refund is on its way");
    CHECK_STR(parley_event_seq(it), "9");
    CHECK_INT(parley_event_timestamp_ms(it), 1763900000000LL);
    CHECK(parley_event_item(ev, 2) == NULL);
    CHECK(parley_event_item(ev, -1) == NULL);
    parley_event_free(ev);
    feed(&f, "{\"t\":\"history.page\",\"req\":\"r-2\",\"conv\":\"c-1\",\"more\":true,\"messages\":["
             "{\"id\":\"m-1\",\"seq\":\"1\",\"author\":{\"kind\":\"user\"},\"text\":\"Hi\",\"ts\":1763900000000},"
             "{\"id\":\"m-2\",\"seq\":\"2\",\"author\":{\"kind\":\"bot\",\"name\":\"Helper\"},\"text\":\"Pick\","
             "\"blocks\":[" QR_OK ",{\"kind\":\"bogus\"}]}]}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_HISTORY);
    CHECK_STR(parley_event_request_id(ev), "r-2");
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    CHECK_INT(parley_event_more(ev), 1);
    CHECK_INT(parley_event_item_count(ev), 2);
    it = parley_event_item(ev, 1);
    CHECK_INT(parley_event_type(it), PARLEY_EV_MESSAGE);
    CHECK_STR(parley_event_conversation_id(it), "c-1");
    CHECK_STR(parley_event_message_id(it), "m-2");
    CHECK_INT(parley_event_author_kind(it), PARLEY_AUTHOR_BOT);
    CHECK_INT(parley_event_block_count(it), 1);
    CHECK(parley_event_raw_json(it) != NULL);
    CHECK_INT(parley_event_author_kind(parley_event_item(ev, 0)), PARLEY_AUTHOR_USER);
    parley_event_free(ev);
    feed(&f, "{\"t\":\"kb.results\",\"req\":\"r-3\",\"articles\":[{\"id\":\"refunds\",\"title\":\"Refunds\","
             "\"snippet\":\"...request a <b>refund</b>...\",\"url\":\"https://kb.example/refunds\"}]}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ARTICLES);
    it = parley_event_item(ev, 0);
    CHECK_INT(parley_event_type(it), PARLEY_EV_ARTICLE);
    CHECK_STR(parley_event_message_id(it), "refunds");
    CHECK_STR(parley_event_title(it), "Refunds");
    CHECK_STR(parley_event_text(it), "...request a <b>refund</b>...");
    CHECK_STR(parley_event_url(it), "https://kb.example/refunds");
    parley_event_free(ev);
    feed(&f, "{\"t\":\"kb.article\",\"req\":\"r-4\",\"article\":{\"id\":\"refunds\",\"title\":\"Refunds\","
             "\"body\":\"# Refunds\\n...\",\"url\":\"https://kb.example/refunds\"}}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ARTICLE);
    CHECK_STR(parley_event_request_id(ev), "r-4");
    CHECK_STR(parley_event_text(ev), "# Refunds\n...");
    CHECK_STR(parley_event_title(ev), "Refunds");
    parley_event_free(ev);
    /* Answered: nothing is sent again, a second answer is ignored. */
    feed(&f, "{\"t\":\"kb.article\",\"req\":\"r-4\",\"article\":{\"id\":\"x\",\"title\":\"X\",\"body\":\"b\"}}");
    CHECK_INT(event_count(&f), 0);
    drop(&f);
    reconnect_keep_frames(&f);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_request_errors_and_limits(void)
{
    fx f;
    start_online(&f);
    char r[PARLEY_ID_SIZE];
    pl_req_args art = {.id = "nope"}, none = {0};
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_ARTICLE, &art, r), PARLEY_OK);
    cJSON_Delete(EXPECT_FRAME(&f, "kb.get"));
    char buf[256];
    snprintf(buf, sizeof buf, "{\"t\":\"error\",\"code\":\"not_found\",\"message\":\"no such article\",\"req\":\"%s\"}", r);
    feed(&f, buf);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_STR(parley_event_client_id(ev), r);
    CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_NOT_FOUND);
    CHECK(ev && strstr(ev->text, "no such article"));
    parley_event_free(ev);
    feed(&f, buf); /* forgotten: a second error names nothing of ours */
    CHECK_INT(event_count(&f), 0);
    drop(&f);
    reconnect_keep_frames(&f);
    EXPECT_NO_FRAME(&f);
    /* An answer of the wrong kind does not answer. */
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r), PARLEY_OK);
    cJSON_Delete(EXPECT_FRAME(&f, "conv.list"));
    snprintf(buf, sizeof buf, "{\"t\":\"kb.results\",\"req\":\"%s\",\"articles\":[]}", r);
    feed(&f, buf);
    CHECK_INT(event_count(&f), 0);
    snprintf(buf, sizeof buf, "{\"t\":\"error\",\"code\":\"internal\",\"req\":\"%s\"}", r);
    feed(&f, buf);
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_REJECTED);
    parley_event_free(ev);
    /* At most 16 waiting. */
    for (int i = 0; i < PL_REQUESTS_MAX; i++)
        CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r), PARLEY_ERR_FULL);
    fx_free(&f);
}

/* A hostile server cannot inflate an answer past the documented bounds or
 * crash the decoder; a malformed answer still answers its request. */
static void test_hostile_answers(void)
{
    fx f;
    start_online(&f);
    char *buf = malloc(65536);
    pl_req_args none = {0}, hist = {.conv = "c-1"}, q = {.query = "x"};
    char r[PARLEY_ID_SIZE];
    struct {
        pl_req_kind kind;
        const pl_req_args *args;
        const char *head, *item, *tail;
        int n;
    } cases[] = {
        {PL_REQ_CONV_LIST, &none, "{\"t\":\"conv.list\",\"req\":\"%s\",\"conversations\":[", "{\"conv\":\"c-1\"}", "]}",
         PL_MAX_CONV_LIST + 1},
        {PL_REQ_HISTORY, &hist, "{\"t\":\"history.page\",\"req\":\"%s\",\"conv\":\"c-1\",\"messages\":[",
         "{\"id\":\"m\",\"seq\":\"1\",\"author\":{\"kind\":\"bot\"},\"text\":\"\"}", "]}", PL_MAX_PAGE + 1},
        {PL_REQ_SEARCH, &q, "{\"t\":\"kb.results\",\"req\":\"%s\",\"articles\":[", "{\"id\":\"a\",\"title\":\"A\"}", "]}",
         PL_MAX_ARTICLES + 1},
        {PL_REQ_CONV_LIST, &none, "{\"t\":\"conv.list\",\"req\":\"%s\",\"conversations\":[", "{\"subject\":\"no id\"}",
         "]}", 1},
        {PL_REQ_CONV_LIST, &none, "{\"t\":\"conv.list\",\"req\":\"%s\",\"conversations\":[", "{\"conv\":\"c-1\",\"unread\":-3}",
         "]}", 1},
        {PL_REQ_CONV_LIST, &none, "{\"t\":\"conv.list\",\"req\":\"%s\",\"conversations\":[", "7", "]}", 1},
        {PL_REQ_CONV_LIST, &none, "{\"t\":\"conv.list\",\"req\":\"%s\",\"conversations\":{}", "", "}", 0},
        {PL_REQ_HISTORY, &hist, "{\"t\":\"history.page\",\"req\":\"%s\",\"conv\":\"c-1\",\"more\":1,\"messages\":[", "",
         "]}", 0},
        {PL_REQ_HISTORY, &hist, "{\"t\":\"history.page\",\"req\":\"%s\",\"conv\":\"c-1\",\"messages\":[",
         "{\"id\":\"m\",\"seq\":\"0\",\"author\":{\"kind\":\"bot\"},\"text\":\"\"}", "]}", 1},
        {PL_REQ_SEARCH, &q, "{\"t\":\"kb.results\",\"req\":\"%s\",\"articles\":[", "{\"id\":\"a\",\"title\":\"A\",\"url\":\"javascript:x\"}",
         "]}", 1},
        {PL_REQ_SEARCH, &q, "{\"t\":\"kb.results\",\"req\":\"%s\",\"articles\":[", "{\"id\":\"a\"}", "]}", 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        int failed = tl_failed;
        CHECK_INT(pl_requests_send(f.requests, cases[c].kind, cases[c].args, r), PARLEY_OK);
        cJSON_Delete(take_frame(&f));
        size_t n = (size_t)snprintf(buf, 65536, cases[c].head, r);
        for (int i = 0; i < cases[c].n; i++)
            n += (size_t)snprintf(buf + n, 65536 - n, "%s%s", i ? "," : "", cases[c].item);
        snprintf(buf + n, 65536 - n, "%s", cases[c].tail);
        feed(&f, buf);
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
        CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_PROTOCOL);
        CHECK_STR(parley_event_client_id(ev), r);
        if (tl_failed != failed)
            fprintf(stderr, "  case %zu\n", c);
        parley_event_free(ev);
        CHECK_INT(event_count(&f), 0);
    }
    /* Answers naming no request of ours, or no request at all. */
    feed(&f, "{\"t\":\"conv.list\",\"req\":\"r-999\",\"conversations\":[]}");
    CHECK_INT(event_count(&f), 0);
    feed(&f, "{\"t\":\"conv.list\",\"conversations\":[]}");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(parley_event_client_id(ev) == NULL);
    parley_event_free(ev);
    free(buf);
    fx_free(&f);
}

/* ---- conv.update queue, logout --------------------------------------------------- */

/* A conv.update through the session: its CONVERSATION event. */
static parley_event *decorate(fx *f, const char *json)
{
    feed(f, json);
    return EXPECT_EVENT(f, PARLEY_EV_CONVERSATION);
}

static void test_queue(void)
{
    fx f;
    start_online(&f);
    parley_event *ev = decorate(&f, "{\"t\":\"conv.update\",\"conv\":\"c-1\",\"state\":\"queued\","
                                    "\"queue\":{\"position\":3,\"wait_s\":120}}");
    CHECK_INT(parley_event_queue_position(ev), 3);
    CHECK_INT(parley_event_wait_s(ev), 120);
    parley_event_free(ev);
    ev = decorate(&f, "{\"t\":\"conv.update\",\"conv\":\"c-1\",\"state\":\"queued\",\"queue\":{\"wait_s\":5}}");
    CHECK_INT(parley_event_queue_position(ev), -1);
    CHECK_INT(parley_event_wait_s(ev), 5);
    parley_event_free(ev);
    const char *none[] = {"{\"t\":\"conv.update\",\"conv\":\"c-1\",\"state\":\"agent\"}",
                          "{\"t\":\"conv.update\",\"conv\":\"c-1\",\"state\":\"queued\",\"queue\":{\"position\":-1}}",
                          "{\"t\":\"conv.update\",\"conv\":\"c-1\",\"state\":\"queued\",\"queue\":{\"position\":1.5}}",
                          "{\"t\":\"conv.update\",\"conv\":\"c-1\",\"state\":\"queued\",\"queue\":7}"};
    for (size_t i = 0; i < 4; i++) {
        ev = decorate(&f, none[i]);
        CHECK_INT(parley_event_queue_position(ev), -1);
        CHECK_INT(parley_event_wait_s(ev), 0);
        parley_event_free(ev);
    }
    CHECK_INT(parley_event_queue_position(NULL), -1);
    fx_free(&f);
}

static void test_logout(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_init_j(&f, j);
    bring_online(&f);
    feed_blocks(&f, "1", all_kinds);
    feed(&f, "{\"t\":\"unread\",\"conv\":\"c-1\",\"count\":4}");
    CHECK_INT(pl_receipts_mark_read(f.receipts, "c-1", "1"), PARLEY_OK);
    pl_req_args none = {0};
    char r[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r), PARLEY_OK);
    drain_events(&f);
    CHECK_INT(pl_sess_logout(f.s, "a-fresh"), PARLEY_OK);
    uint32_t n = 1;
    CHECK_INT(pl_receipts_unread(f.receipts, NULL, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    CHECK_INT(pl_postbacks_send(f.postbacks, f.ctx, "c-1", "m-1", "o1", cid), PARLEY_ERR_NOT_FOUND);
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    CHECK_INT((int)st.live_entries, 0);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* ---- out of memory --------------------------------------------------------------- */

static void oom_script(fx *f)
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
    const char *w = "{\"t\":\"welcome\",\"session\":\"s-1\"}";
    rc = pl_sess_on_frame(s, f->now, w, strlen(w));
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    char *msg = malloc(4096);
    snprintf(msg, 4096,
             "{\"t\":\"msg\",\"conv\":\"c-1\",\"id\":\"m-1\",\"seq\":\"1\",\"author\":{\"kind\":\"bot\"},"
             "\"text\":\"pick\",\"blocks\":%s}",
             all_kinds);
    const char *frames[] = {
        msg,
        "{\"t\":\"typing\",\"conv\":\"c-1\",\"on\":true,\"author\":{\"kind\":\"agent\",\"name\":\"Dana\"}}",
        "{\"t\":\"unread\",\"conv\":\"c-1\",\"count\":2}",
        "{\"t\":\"read\",\"conv\":\"c-1\",\"seq\":\"1\"}",
        "{\"t\":\"conv.list\",\"req\":\"r-1\",\"conversations\":[{\"conv\":\"c-1\",\"subject\":\"S\",\"state\":\"bot\"}]}",
        "{\"t\":\"error\",\"code\":\"not_found\",\"req\":\"r-1\"}",
    };
    for (size_t i = 0; i < sizeof frames / sizeof frames[0]; i++) {
        rc = pl_sess_on_frame(s, f->now, frames[i], strlen(frames[i]));
        CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
    }
    free(msg);
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

static void test_oom_loop(void)
{
    int completed = 0;
    long fail_at;
    for (fail_at = 0; fail_at < 5000 && !completed; fail_at++) {
        fx f;
        memset(&f, 0, sizeof f);
        tl_alloc_reset(&f.ta);
        tl_alloc_fail(&f.ta, fail_at, TL_FAIL_REALLOC);
        f.a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f.ta};
        f.rand = pl_rand_new(pl_alloc_libc());
        f.now = 1000;
        if (fx_open(&f))
            oom_script(&f);
        completed = !f.ta.failed;
        fx_close(&f);
        pl_event_queue_clear(&f.evq);
        pl_rand_free(f.rand);
        if (f.ta.live != 0) {
            CHECK_INT(f.ta.live, 0);
            fprintf(stderr, "  leak with allocation %ld failing\n", fail_at);
            break;
        }
    }
    CHECK(completed);
    CHECK(fail_at > 100);
}

/* The script without failures does reach every part of the module. */
static void test_oom_script_reaches_module(void)
{
    fx f;
    fx_init_j(&f, NULL);
    oom_script(&f);
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

/* ---- the public API on a client that never connects ----------------------------- */

static void test_public_api_offline(void)
{
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, "ws://localhost:1/"), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "my-game"), PARLEY_OK);
    CHECK_INT(parley_config_set_allow_insecure(cfg, 1), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    if (!pc)
        return;
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
    RUN(test_blocks_decoded);
    RUN(test_invalid_blocks);
    RUN(test_block_limits);
    RUN(test_deep_nesting);
    RUN(test_postback);
    RUN(test_postback_redacted);
    RUN(test_postback_resend_same_cid);
    RUN(test_restart);
    RUN(test_offers_bounded);
    RUN(test_typing_out);
    RUN(test_typing_in);
    RUN(test_read_marks);
    RUN(test_unread);
    RUN(test_requests_offline_then_answered);
    RUN(test_request_errors_and_limits);
    RUN(test_hostile_answers);
    RUN(test_queue);
    RUN(test_logout);
    RUN(test_oom_script_reaches_module);
    RUN(test_oom_loop);
    RUN(test_public_api_offline);
    return tl_finish();
}
