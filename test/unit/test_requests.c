/* Requests and their answers (docs/protocol.md, "Requests", "Answers to
 * requests"): asked now or after the next welcome, asked again until
 * answered, answered by id; errors and hostile answers fail the request
 * they name and nothing else. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"

static void test_requests_offline_then_answered(void)
{
    fx f;
    fx_init(&f, NULL);
    char r1[PARLEY_ID_SIZE], r2[PARLEY_ID_SIZE], r3[PARLEY_ID_SIZE], r4[PARLEY_ID_SIZE];
    pl_req_args none = {0}, hist = {.conv = "c-1", .before = 41, .limit = 20},
                q = {.query = "refund gems"}, art = {.id = "refunds"};
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r1), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_HISTORY, &hist, r2), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_SEARCH, &q, r3), PARLEY_OK);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_ARTICLE, &art, r4), PARLEY_OK);
    CHECK_STR(r1, "r-1");
    CHECK_STR(r4, "r-4");
    fx_connect(&f);
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
    fx_drop(&f);
    fx_connect(&f);
    int n = 0;
    while ((j = take_frame(&f))) {
        n++;
        cJSON_Delete(j);
    }
    CHECK_INT(n, 4);
    FEED(
        &f,
        Q("{'t':'conv.list','req':'r-1','conversations':[{'conv':'c-7','subject':'Payment problem',"
          "'state':'agent','last_seq':'9','unread':2,'updated_ms':1763900000000,"
          "'last_text':'Refund is on its way'},{'conv':'c-8'}]}"));
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
    FEED(&f, Q("{'t':'history.page','req':'r-2','conv':'c-1','more':true,'messages':["
               "{'id':'m-1','seq':'1','author':{'kind':'user'},'text':'Hi','ts':1763900000000},"
               "{'id':'m-2','seq':'2','author':{'kind':'bot','name':'Helper'},'text':'Pick',"
               "'blocks':[" QR_OK ",{'kind':'bogus'}]}]}"));
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
    FEED(&f, Q("{'t':'kb.results','req':'r-3','articles':[{'id':'refunds','title':'Refunds',"
               "'snippet':'...request a <b>refund</b>...','url':'https://kb.example/refunds'}]}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ARTICLES);
    it = parley_event_item(ev, 0);
    CHECK_INT(parley_event_type(it), PARLEY_EV_ARTICLE);
    CHECK_STR(parley_event_message_id(it), "refunds");
    CHECK_STR(parley_event_title(it), "Refunds");
    CHECK_STR(parley_event_text(it), "...request a <b>refund</b>...");
    CHECK_STR(parley_event_url(it), "https://kb.example/refunds");
    parley_event_free(ev);
    FEED(&f, Q("{'t':'kb.article','req':'r-4','article':{'id':'refunds','title':'Refunds',"
               "'body':'# Refunds\\n...','url':'https://kb.example/refunds'}}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ARTICLE);
    CHECK_STR(parley_event_request_id(ev), "r-4");
    CHECK_STR(parley_event_text(ev), "# Refunds\n...");
    CHECK_STR(parley_event_title(ev), "Refunds");
    parley_event_free(ev);
    /* Answered: nothing is sent again, a second answer is ignored. */
    FEED(&f, Q("{'t':'kb.article','req':'r-4','article':{'id':'x','title':'X','body':'b'}}"));
    CHECK_INT(event_count(&f), 0);
    fx_drop(&f);
    fx_connect(&f);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_request_errors_and_limits(void)
{
    fx f;
    fx_start(&f, NULL);
    char r[PARLEY_ID_SIZE];
    pl_req_args art = {.id = "nope"}, none = {0};
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_ARTICLE, &art, r), PARLEY_OK);
    cJSON_Delete(EXPECT_FRAME(&f, "kb.get"));
    const char *not_found =
        Qf("{'t':'error','code':'not_found','message':'no such article','req':'%s'}", r);
    FEED(&f, not_found);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_STR(parley_event_client_id(ev), r);
    CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_NOT_FOUND);
    CHECK(strstr(ev->text, "no such article"));
    parley_event_free(ev);
    FEED(&f, not_found); /* forgotten: a second error names nothing of ours */
    CHECK_INT(event_count(&f), 0);
    fx_drop(&f);
    fx_connect(&f);
    EXPECT_NO_FRAME(&f);
    /* An answer of the wrong kind does not answer. */
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_CONV_LIST, &none, r), PARLEY_OK);
    cJSON_Delete(EXPECT_FRAME(&f, "conv.list"));
    FEED(&f, Qf("{'t':'kb.results','req':'%s','articles':[]}", r));
    CHECK_INT(event_count(&f), 0);
    FEED(&f, Qf("{'t':'error','code':'internal','req':'%s'}", r));
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
    fx_start(&f, NULL);
    char *buf = malloc(65536);
    pl_req_args none = {0}, hist = {.conv = "c-1"}, q = {.query = "x"};
    char r[PARLEY_ID_SIZE];
    /* An answer's head (with the request id), one item repeated n times,
     * and its tail. */
    const struct {
        pl_req_kind kind;
        const pl_req_args *args;
        const char *head, *item, *tail;
        int n;
    } cases[] = {
        {PL_REQ_CONV_LIST, &none, "{'t':'conv.list','req':'%s','conversations':[", "{'conv':'c-1'}",
         "]}", PL_MAX_CONV_LIST + 1},
        {PL_REQ_HISTORY, &hist, "{'t':'history.page','req':'%s','conv':'c-1','messages':[",
         "{'id':'m','seq':'1','author':{'kind':'bot'},'text':''}", "]}", PL_MAX_PAGE + 1},
        {PL_REQ_SEARCH, &q, "{'t':'kb.results','req':'%s','articles':[", "{'id':'a','title':'A'}",
         "]}", PL_MAX_ARTICLES + 1},
        {PL_REQ_CONV_LIST, &none, "{'t':'conv.list','req':'%s','conversations':[",
         "{'subject':'no id'}", "]}", 1},
        {PL_REQ_CONV_LIST, &none, "{'t':'conv.list','req':'%s','conversations':[",
         "{'conv':'c-1','unread':-3}", "]}", 1},
        {PL_REQ_CONV_LIST, &none, "{'t':'conv.list','req':'%s','conversations':[", "7", "]}", 1},
        {PL_REQ_CONV_LIST, &none, "{'t':'conv.list','req':'%s','conversations':{}", "", "}", 0},
        {PL_REQ_HISTORY, &hist, "{'t':'history.page','req':'%s','conv':'c-1','more':1,'messages':[",
         "", "]}", 0},
        {PL_REQ_HISTORY, &hist, "{'t':'history.page','req':'%s','conv':'c-1','messages':[",
         "{'id':'m','seq':'0','author':{'kind':'bot'},'text':''}", "]}", 1},
        {PL_REQ_SEARCH, &q, "{'t':'kb.results','req':'%s','articles':[",
         "{'id':'a','title':'A','url':'javascript:x'}", "]}", 1},
        {PL_REQ_SEARCH, &q, "{'t':'kb.results','req':'%s','articles':[", "{'id':'a'}", "]}", 1},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        tl_note("case %zu: %s%s x %d", c, cases[c].head, cases[c].item, cases[c].n);
        CHECK_INT(pl_requests_send(f.requests, cases[c].kind, cases[c].args, r), PARLEY_OK);
        cJSON_Delete(take_frame(&f));
        size_t n = (size_t)snprintf(buf, 65536, Q(cases[c].head), r);
        const char *item = Q(cases[c].item);
        for (int i = 0; i < cases[c].n; i++)
            n += (size_t)snprintf(buf + n, 65536 - n, "%s%s", i ? "," : "", item);
        snprintf(buf + n, 65536 - n, "%s", cases[c].tail);
        FEED(&f, buf);
        parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
        CHECK_INT(parley_event_error_code(ev), PARLEY_ERR_PROTOCOL);
        CHECK_STR(parley_event_client_id(ev), r);
        parley_event_free(ev);
        CHECK_INT(event_count(&f), 0);
    }
    tl_note(NULL);
    /* Answers naming no request of ours, or no request at all. */
    FEED(&f, Q("{'t':'conv.list','req':'r-999','conversations':[]}"));
    CHECK_INT(event_count(&f), 0);
    FEED(&f, Q("{'t':'conv.list','conversations':[]}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(parley_event_client_id(ev) == NULL);
    parley_event_free(ev);
    free(buf);
    fx_free(&f);
}

int main(void)
{
    RUN(test_requests_offline_then_answered);
    RUN(test_request_errors_and_limits);
    RUN(test_hostile_answers);
    return tl_finish();
}
