/* Surveys (docs/protocol.md, "survey", "survey.submit",
 * "survey.dismiss"): the model as the host reads it, answers checked
 * against it, conditions, hostile definitions, delivery exactly once
 * across drops and restarts, and the public API over a client. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fixture.h"
#include "client.h"
#include "codec/proto_surveys.h"

static void test_model(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, CSAT);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_SURVEY);
    const parley_survey *s = parley_event_survey(ev);
    CHECK(s != NULL);
    CHECK_STR(parley_survey_id(s), "sv-12");
    CHECK_STR(parley_survey_name(s), "csat");
    CHECK_STR(parley_survey_title(s), "How did we do?");
    CHECK_STR(parley_survey_intro(s), "Two quick questions.");
    CHECK_STR(parley_survey_conversation_id(s), "c-1");
    CHECK_STR(parley_event_conversation_id(ev), "c-1");
    CHECK_INT(parley_survey_is_proactive(s), 0);
    CHECK_INT(parley_survey_question_count(s), 5);
    CHECK(parley_survey_question(s, 5) == NULL);
    CHECK(parley_survey_question(s, -1) == NULL);
    const parley_question *q1 = parley_survey_question(s, 0);
    CHECK_INT(parley_question_kind(q1), PARLEY_Q_RATING);
    CHECK_INT(parley_question_required(q1), 1);
    CHECK_INT(parley_question_min(q1), 1);
    CHECK_INT(parley_question_max(q1), 5);
    CHECK_STR(parley_question_min_label(q1), "Not at all");
    CHECK(parley_question_show_if_question(q1) == NULL);
    const parley_question *q2 = parley_survey_question(s, 1);
    CHECK_INT(parley_question_kind(q2), PARLEY_Q_NPS);
    CHECK_INT(parley_question_max(q2), 10);
    CHECK_INT(parley_question_required(q2), 0);
    const parley_question *q4 = parley_survey_question(s, 3);
    CHECK_INT(parley_question_option_count(q4), 3);
    CHECK_STR(parley_question_option_id(q4, 2), "c");
    CHECK_STR(parley_question_option_label(q4, 0), "Billing");
    CHECK(parley_question_option_id(q4, 3) == NULL);
    const parley_question *q5 = parley_survey_question(s, 4);
    CHECK_INT(parley_question_max_length(q5), 20);
    CHECK_STR(parley_question_show_if_question(q5), "q1");
    CHECK_INT(parley_question_show_if_value_count(q5), 2);
    CHECK_STR(parley_question_show_if_value(q5, 1), "2");
    CHECK(parley_event_raw_json(ev) && strstr(parley_event_raw_json(ev), Q("'id':'sv-12'")));
    /* The event keeps the model alive after the module is gone. */
    fx_close(&f);
    CHECK_STR(parley_question_text(q5), "What went wrong?");
    parley_event_free(ev);
    fx_free(&f);
}

static void test_answer_validation(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, CSAT);
    drain_events(&f);
    const char *sv = "sv-12";
    CHECK_INT(pl_surveys_check(f.sv, sv), PARLEY_OK);
    CHECK_INT(pl_surveys_check(f.sv, "sv-nope"), PARLEY_ERR_NOT_FOUND);
    /* rating */
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 0), PARLEY_ERR_RANGE);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 6), PARLEY_ERR_RANGE);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 5), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q9", 5), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, NULL, 5), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q1", "x"), PARLEY_ERR_INVALID_ARG);
    /* nps */
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q2", -1), PARLEY_ERR_RANGE);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q2", 11), PARLEY_ERR_RANGE);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q2", 0), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q2", 10), PARLEY_OK);
    /* single */
    CHECK_INT(pl_surveys_answer_choice(f.sv, sv, "q3", "slow"), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_surveys_answer_choice(f.sv, sv, "q3", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q3", 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_choice(f.sv, sv, "q3", "kind"), PARLEY_OK);
    /* multi: 1..2 of a, b, c */
    const char *abc[] = {"a", "b", "c"}, *dup[] = {"a", "a"}, *bad[] = {"a", "z"},
               *ca[] = {"c", "a"};
    CHECK_INT(pl_surveys_answer_choices(f.sv, sv, "q4", abc, 0), PARLEY_ERR_RANGE);
    CHECK_INT(pl_surveys_answer_choices(f.sv, sv, "q4", abc, 3), PARLEY_ERR_RANGE);
    CHECK_INT(pl_surveys_answer_choices(f.sv, sv, "q4", dup, 2), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_choices(f.sv, sv, "q4", bad, 2), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_surveys_answer_choices(f.sv, sv, "q4", NULL, 2), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_choice(f.sv, sv, "q4", "a"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_choices(f.sv, sv, "q4", ca, 2), PARLEY_OK);
    /* text: hidden while q1 is 5 */
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", "slow"), PARLEY_ERR_STATE);
    CHECK_INT(pl_surveys_visible(f.sv, sv, "q5"), 0);
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 2), PARLEY_OK);
    CHECK_INT(pl_surveys_visible(f.sv, sv, "q5"), 1);
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", "123456789012345678901"), PARLEY_ERR_TOO_LONG);
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", "\xff\xfe"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", ""), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", "mail alice@ex.com"), PARLEY_OK);
    CHECK_INT(pl_surveys_clear_answer(f.sv, sv, "q2"), PARLEY_OK);
    CHECK_INT(pl_surveys_clear_answer(f.sv, sv, "q9"), PARLEY_ERR_NOT_FOUND);
    char missing[PL_MAX_ID + 1] = "", cid[PARLEY_ID_SIZE] = "";
    CHECK_INT(pl_surveys_submit(f.sv, sv, missing, cid), PARLEY_OK);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev->state, PARLEY_MSG_PENDING);
    CHECK_STR(ev->cid, cid);
    parley_event_free(ev);
    cJSON *j = EXPECT_FRAME(&f, "survey.submit");
    CHECK_STR(sp_jstr(j, "cid"), cid);
    CHECK_STR(sp_jstr(j, "survey"), "sv-12");
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(j, "answers");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ans, "q1")), 2);
    CHECK(cJSON_GetObjectItemCaseSensitive(ans, "q2") == NULL);
    CHECK_STR(sp_jstr(ans, "q3"), "kind");
    const cJSON *q4 = cJSON_GetObjectItemCaseSensitive(ans, "q4");
    CHECK_INT(cJSON_GetArraySize(q4), 2);
    CHECK_STR(cJSON_GetArrayItem(q4, 0)->valuestring, "a");
    CHECK_STR(cJSON_GetArrayItem(q4, 1)->valuestring, "c");
    /* Redacted before storage. */
    CHECK_STR(sp_jstr(ans, "q5"), "mail [email]");
    cJSON_Delete(j);
    /* Finished: no more answers, no second submission. */
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 3), PARLEY_ERR_STATE);
    CHECK_INT(pl_surveys_submit(f.sv, sv, missing, cid), PARLEY_ERR_STATE);
    CHECK_INT(pl_surveys_check(f.sv, sv), PARLEY_ERR_STATE);
    fx_free(&f);
}

/* A survey whose full answers cannot fit one frame (20 text questions of
 * 4096 bytes): the submission is refused at the call, nothing enters the
 * outbox, and the survey stays pending with its answers for a shorter try. */
static void test_submit_over_frame_limit(void)
{
    fx f;
    fx_start(&f, NULL);
    char *frame = malloc(8192), *p = frame;
    p += sprintf(p, "%s",
                 Q("{'t':'survey','conv':'c-1','survey':{'id':'sv-long','title':'Tell us',"
                   "'questions':["));
    for (int i = 0; i < 20; i++)
        p += sprintf(p, Q("%s{'id':'q%d','kind':'text','text':'Why?','max_length':4096}"),
                     i ? "," : "", i);
    sprintf(p, "]}}");
    FEED(&f, frame);
    free(frame);
    drain_events(&f);
    char *answer = malloc(4097);
    memset(answer, 'w', 4096);
    answer[4096] = '\0';
    for (int i = 0; i < 20; i++) {
        char q[8];
        snprintf(q, sizeof q, "q%d", i);
        CHECK_INT(pl_surveys_answer_text(f.sv, "sv-long", q, answer), PARLEY_OK);
    }
    char missing[PL_MAX_ID + 1] = "", cid[PARLEY_ID_SIZE] = "";
    CHECK_INT(pl_surveys_submit(f.sv, "sv-long", missing, cid), PARLEY_ERR_TOO_LONG);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    CHECK_INT(event_count(&f), 0);
    EXPECT_NO_FRAME(&f);
    /* Still pending: shorter answers go. */
    CHECK_INT(pl_surveys_check(f.sv, "sv-long"), PARLEY_OK);
    for (int i = 10; i < 20; i++) {
        char q[8];
        snprintf(q, sizeof q, "q%d", i);
        CHECK_INT(pl_surveys_clear_answer(f.sv, "sv-long", q), PARLEY_OK);
    }
    CHECK_INT(pl_surveys_submit(f.sv, "sv-long", missing, cid), PARLEY_OK);
    drain_events(&f);
    cJSON_Delete(EXPECT_FRAME(&f, "survey.submit"));
    free(answer);
    fx_free(&f);
}

static void test_conditional_and_incomplete(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, CSAT);
    drain_events(&f);
    const char *sv = "sv-12";
    char missing[PL_MAX_ID + 1] = "", cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_submit(f.sv, sv, missing, cid), PARLEY_ERR_INCOMPLETE);
    CHECK_STR(missing, "q1");
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 1), PARLEY_OK);
    /* q5 is now shown and required. */
    CHECK_INT(pl_surveys_submit(f.sv, sv, missing, cid), PARLEY_ERR_INCOMPLETE);
    CHECK_STR(missing, "q5");
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", "slow"), PARLEY_OK);
    /* Hiding it again: its answer is kept but dropped from the submission. */
    CHECK_INT(pl_surveys_answer_number(f.sv, sv, "q1", 4), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_text(f.sv, sv, "q5", "slow"), PARLEY_ERR_STATE);
    CHECK_INT(pl_surveys_submit(f.sv, sv, missing, cid), PARLEY_OK);
    drain_events(&f);
    cJSON *j = EXPECT_FRAME(&f, "survey.submit");
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(j, "answers");
    CHECK(cJSON_GetObjectItemCaseSensitive(ans, "q5") == NULL);
    CHECK_INT(cJSON_GetArraySize(ans), 1);
    cJSON_Delete(j);
    fx_free(&f);
}

/* A chain: q3 depends on q2 which depends on q1; a choice condition. */
static void test_condition_chain(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, Q("{'t':'survey','survey':{'id':'sv-c','title':'T','questions':["
               "{'id':'q1','kind':'multi','text':'t','options':[{'id':'x','label':'X'},"
               "{'id':'y','label':'Y'}]},"
               "{'id':'q2','kind':'nps','text':'t','show_if':{'question':'q1','in':['y']}},"
               "{'id':'q3','kind':'text','text':'t','show_if':{'question':'q2','in':[0,1]}}]}}"));
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_SURVEY);
    parley_event_free(ev);
    CHECK_INT(pl_surveys_visible(f.sv, "sv-c", "q2"), 0);
    const char *xy[] = {"x", "y"};
    CHECK_INT(pl_surveys_answer_choices(f.sv, "sv-c", "q1", xy, 2), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-c", "q2", 1), PARLEY_OK);
    CHECK_INT(pl_surveys_visible(f.sv, "sv-c", "q3"), 1);
    CHECK_INT(pl_surveys_answer_choices(f.sv, "sv-c", "q1", xy, 1), PARLEY_OK);
    /* q2 hidden, so q3 too even though q2's kept answer matches. */
    CHECK_INT(pl_surveys_visible(f.sv, "sv-c", "q3"), 0);
    fx_free(&f);
}

/* The survey is rejected as a whole: one PROTOCOL error naming it and the
 * rule `why`, nothing else. */
static void expect_rejected(fx *f, const char *frame, const char *why)
{
    FEED(f, frame);
    parley_event *ev = EXPECT_EVENT(f, PARLEY_EV_ERROR);
    CHECK_INT(ev->error_code, PARLEY_ERR_PROTOCOL);
    CHECK(ev->text && strstr(ev->text, "sv-h"));
    CHECK(ev->text && strstr(ev->text, why));
    parley_event_free(ev);
    CHECK_INT(event_count(f), 0);
}

/* frames/survey_rejected.tsv: the rule each definition breaks, and its
 * questions. */
static void test_hostile_definitions(void)
{
    char **lines;
    size_t n_lines;
    REQUIRE_INT(tl_read_lines(PARLEY_FRAMES "/survey_rejected.tsv", &lines, &n_lines), 0);
    CHECK(n_lines > 20);
    fx f;
    fx_start(&f, NULL);
    for (size_t i = 0; i < n_lines; i++) {
        char *tab = strchr(lines[i], '\t');
        REQUIRE(tab != NULL);
        *tab = '\0';
        tl_note("line %zu: %s", i + 1, tab + 1);
        const char *frame =
            Qf("{'t':'survey','survey':{'id':'sv-h','title':'T','questions':[%s]}}", tab + 1);
        expect_rejected(&f, frame, lines[i]);
    }
    tl_note(NULL);
    tl_free_lines(lines, n_lines);

    /* 10,000 questions: rejected without looking at each. */
    size_t cap = 10000 * 48 + 256;
    char *big = malloc(cap);
    size_t n = (size_t)snprintf(big, cap, "%s",
                                Q("{'t':'survey','survey':{'id':'sv-h','title':'T','questions':["));
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(big + n, cap - n, Q("%s{'id':'q%d','kind':'nps','text':'t'}"),
                              i ? "," : "", i);
    n += (size_t)snprintf(big + n, cap - n, "]}}");
    /* Bigger than a frame, so the session's codec drops it unparsed; the
     * survey decoder itself stops counting at 51. */
    CHECK(n > PL_MAX_FRAME);
    FEED(&f, big);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    pl_frame fr = {.type = PL_FRAME_UNKNOWN, .doc = cJSON_ParseWithLength(big, n)};
    CHECK(fr.doc != NULL);
    parley_survey *model = NULL;
    char err[256] = "";
    CHECK_INT(pl_proto_decode_survey(&f.a, &fr, &model, err, sizeof err), PARLEY_ERR_PROTOCOL);
    CHECK(model == NULL);
    CHECK(strstr(err, "sv-h") && strstr(err, "1..50 questions"));
    cJSON_Delete((cJSON *)fr.doc);
    /* 51 small questions fit in a frame and hit the survey's own limit. */
    n = (size_t)snprintf(big, cap, "%s",
                         Q("{'t':'survey','survey':{'id':'sv-h','title':'T','questions':["));
    for (int i = 0; i < 51; i++)
        n += (size_t)snprintf(big + n, cap - n, Q("%s{'id':'q%d','kind':'nps','text':'t'}"),
                              i ? "," : "", i);
    snprintf(big + n, cap - n, "]}}");
    expect_rejected(&f, big, "1..50 questions");
    free(big);

    /* Not a survey at all. */
    FEED(&f, Q("{'t':'survey','survey':7}"));
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    CHECK_INT(pl_surveys_check(f.sv, "sv-h"), PARLEY_ERR_NOT_FOUND);
    fx_free(&f);
}

static void test_duplicate_not_reported_twice(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, CSAT);
    FEED(&f, CSAT);
    CHECK_INT(event_count(&f), 1);
    drain_events(&f);
    /* The server sends it again after every welcome. */
    fx_drop(&f);
    fx_connect(&f);
    FEED(&f, CSAT);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

static void test_partial_answers_survive_restart(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    fx_start(&f, j);
    FEED(&f, CSAT);
    drain_events(&f);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 2), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_text(f.sv, "sv-12", "q5", "too slow"), PARLEY_OK);
    const char *bc[] = {"b", "c"};
    CHECK_INT(pl_surveys_answer_choices(f.sv, "sv-12", "q4", bc, 2), PARLEY_OK);
    fx_free(&f);

    fx g;
    fx_init(&g, j);
    /* Reported again once, offline, after the restart. */
    parley_event *ev = EXPECT_EVENT(&g, PARLEY_EV_SURVEY);
    CHECK_STR(parley_survey_id(parley_event_survey(ev)), "sv-12");
    parley_event_free(ev);
    CHECK_INT(event_count(&g), 0);
    CHECK_INT(pl_surveys_visible(g.sv, "sv-12", "q5"), 1);
    fx_connect(&g);
    FEED(&g, CSAT);
    CHECK_INT(event_count(&g), 0);
    char missing[PL_MAX_ID + 1], cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_submit(g.sv, "sv-12", missing, cid), PARLEY_OK);
    drain_events(&g);
    cJSON *fr = EXPECT_FRAME(&g, "survey.submit");
    const cJSON *ans = cJSON_GetObjectItemCaseSensitive(fr, "answers");
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(ans, "q1")), 2);
    CHECK_STR(sp_jstr(ans, "q5"), "too slow");
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ans, "q4")), 2);
    cJSON_Delete(fr);
    fx_free(&g);

    /* Submitted: not reported after the next restart, nor when resent. */
    fx h;
    fx_init(&h, j);
    CHECK_INT(event_count(&h), 0);
    CHECK_INT(pl_surveys_check(h.sv, "sv-12"), PARLEY_ERR_STATE);
    CHECK_INT(pl_sess_outbox_count(h.s), 1);
    fx_connect(&h);
    FEED(&h, CSAT);
    CHECK_INT(event_count(&h), 0);
    fx_free(&h);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

static void test_submit_offline_exactly_once(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, CSAT);
    drain_events(&f);
    fx_drop(&f);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 5), PARLEY_OK);
    char missing[PL_MAX_ID + 1], cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_submit(f.sv, "sv-12", missing, cid), PARLEY_OK);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev->state, PARLEY_MSG_PENDING);
    parley_event_free(ev);
    EXPECT_NO_FRAME(&f);
    CHECK_INT(pl_sess_outbox_count(f.s), 1);
    fx_connect(&f);
    cJSON *a = EXPECT_FRAME(&f, "survey.submit");
    CHECK_STR(sp_jstr(a, "cid"), cid);
    cJSON_Delete(a);
    /* Lost before the ack: the same cid goes again. */
    fx_drop(&f);
    fx_connect(&f);
    cJSON *b = EXPECT_FRAME(&f, "survey.submit");
    CHECK_STR(sp_jstr(b, "cid"), cid);
    cJSON_Delete(b);
    char ack[128];
    snprintf(ack, sizeof ack, Q("{'t':'ack','cid':'%s'}"), cid);
    FEED(&f, ack);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev->state, PARLEY_MSG_SENT);
    CHECK_STR(ev->cid, cid);
    parley_event_free(ev);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    fx_drop(&f);
    fx_connect(&f);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_dismiss(void)
{
    fx f;
    fx_start(&f, NULL);
    FEED(&f, CSAT);
    drain_events(&f);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_dismiss(f.sv, "sv-none", cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_surveys_dismiss(f.sv, NULL, cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_surveys_dismiss(f.sv, "sv-12", cid), PARLEY_OK);
    cJSON *j = EXPECT_FRAME(&f, "survey.dismiss");
    CHECK_STR(sp_jstr(j, "cid"), cid);
    CHECK_STR(sp_jstr(j, "survey"), "sv-12");
    cJSON_Delete(j);
    CHECK_INT(pl_surveys_dismiss(f.sv, "sv-12", cid), PARLEY_ERR_STATE);
    CHECK_INT(pl_surveys_check(f.sv, "sv-12"), PARLEY_ERR_STATE);
    drain_events(&f);
    FEED(&f, CSAT);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

static void test_pending_cap(void)
{
    fx f;
    fx_start(&f, NULL);
    char buf[256];
    for (int i = 0; i < PL_SURVEYS_MAX_PENDING + 3; i++) {
        snprintf(buf, sizeof buf,
                 Q("{'t':'survey','survey':{'id':'sv-%d','title':'T','questions':[{'id':'q',"
                   "'kind':'nps','text':'t'}]}}"),
                 i);
        FEED(&f, buf);
    }
    CHECK_INT(event_count(&f), PL_SURVEYS_MAX_PENDING);
    drain_events(&f);
    CHECK_INT(pl_surveys_check(f.sv, "sv-34"), PARLEY_ERR_NOT_FOUND);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_dismiss(f.sv, "sv-0", cid), PARLEY_OK);
    drain_events(&f);
    FEED(&f, buf);
    CHECK_INT(event_count(&f), 1);
    fx_free(&f);
}

/* A client that never connects: the test plays the transport by driving
 * its session directly, and the host's side through the public API. */
static parley_client *api_client(tl_memfs *m)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    CHECK_INT(parley_config_set_url(cfg, "wss://localhost:1"), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "my-game"), PARLEY_OK);
    CHECK_INT(parley_config_set_storage(cfg, &tl_memfs_ops, m), PARLEY_OK);
    int rc = parley_client_new(cfg, &pc);
    parley_config_free(cfg);
    REQUIRE_INT(rc, PARLEY_OK);
    return pc;
}

static void api_online(parley_client *pc)
{
    pl_sess_go_online(pc->sess, 0);
    pl_sess_on_connecting(pc->sess, 0);
    pl_sess_on_open(pc->sess, 0);
    sp_feed(pc->sess, 0, Q("{'t':'welcome','session':'s-1'}"), __FILE__, __LINE__);
}

/* Events the session produced outside an API call, as the host sees them
 * after the next one (parley_outbox_count takes no events: mute does). */
static int api_poll_state(parley_client *pc, int type, int state)
{
    int n = 0;
    parley_event *ev;
    CHECK_INT(parley_mute_proactive(pc, 0), PARLEY_OK);
    while (parley_poll(pc, &ev) == PARLEY_OK) {
        n += parley_event_type(ev) == type && (state < 0 || parley_event_state(ev) == state);
        parley_event_free(ev);
    }
    return n;
}

static int api_poll(parley_client *pc, int type)
{
    return api_poll_state(pc, type, -1);
}

static void test_public_api(void)
{
    tl_memfs m = {0};
    parley_client *pc = api_client(&m);
    api_online(pc);
    sp_feed(pc->sess, 0, CSAT, __FILE__, __LINE__);
    CHECK_INT(api_poll(pc, PARLEY_EV_SURVEY), 1);
    parley_survey_response *r = NULL, *none = NULL;
    CHECK_INT(parley_survey_response_new(pc, "sv-x", &none), PARLEY_ERR_NOT_FOUND);
    CHECK(none == NULL);
    CHECK_INT(parley_survey_response_new(NULL, "sv-12", &r), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_survey_response_new(pc, "sv-12", &r), PARLEY_OK);
    CHECK_INT(parley_survey_answer_number(r, "q1", 9), PARLEY_ERR_RANGE);
    CHECK_INT(parley_survey_answer_number(r, "q1", 1), PARLEY_OK);
    CHECK_INT(parley_survey_question_visible(r, "q5"), 1);
    const char *ab[] = {"a", "b"};
    CHECK_INT(parley_survey_answer_choices(r, "q4", ab, 2), PARLEY_OK);
    CHECK_INT(parley_survey_answer_choice(r, "q3", "fast"), PARLEY_OK);
    CHECK_INT(parley_survey_clear_answer(r, "q3"), PARLEY_OK);
    char missing[PARLEY_SURVEY_ID_SIZE] = "", cid[PARLEY_ID_SIZE] = "";
    CHECK_INT(parley_survey_submit(r, missing, 4, cid, sizeof cid), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_survey_submit(r, missing, sizeof missing, cid, sizeof cid),
              PARLEY_ERR_INCOMPLETE);
    CHECK_STR(missing, "q5");
    parley_survey_response_free(r);
    parley_client_free(pc);

    /* Restarted: reported again, the answers resumed. */
    pc = api_client(&m);
    CHECK_INT(api_poll(pc, PARLEY_EV_SURVEY), 1);
    CHECK_INT(parley_survey_response_new(pc, "sv-12", &r), PARLEY_OK);
    CHECK_INT(parley_survey_answer_text(r, "q5", "slow"), PARLEY_OK);
    CHECK_INT(parley_survey_submit(r, NULL, 0, cid, sizeof cid), PARLEY_OK);
    CHECK(strlen(cid) == 36);
    CHECK_INT(parley_survey_answer_number(r, "q1", 2), PARLEY_ERR_STATE);
    CHECK_INT(parley_survey_submit(r, NULL, 0, NULL, 0), PARLEY_ERR_STATE);
    uint32_t n = 0;
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 1);
    CHECK_INT(parley_survey_response_new(pc, "sv-12", &none), PARLEY_ERR_STATE);
    CHECK_INT(parley_survey_dismiss(pc, "sv-12", NULL, 0), PARLEY_ERR_STATE);
    /* PENDING (STORED follows from the disk thread, whenever it syncs). */
    CHECK_INT(api_poll_state(pc, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_PENDING), 1);
    parley_survey_response_free(r);
    CHECK_INT(parley_mute_proactive(NULL, 5), PARLEY_ERR_INVALID_ARG);
    CHECK_STR(parley_strerror(PARLEY_ERR_RANGE), "value outside the allowed range");
    parley_client_free(pc);
    tl_memfs_free(&m);
}

int main(void)
{
    RUN(test_model);
    RUN(test_answer_validation);
    RUN(test_submit_over_frame_limit);
    RUN(test_conditional_and_incomplete);
    RUN(test_condition_chain);
    RUN(test_hostile_definitions);
    RUN(test_duplicate_not_reported_twice);
    RUN(test_partial_answers_survive_restart);
    RUN(test_submit_offline_exactly_once);
    RUN(test_dismiss);
    RUN(test_pending_cap);
    RUN(test_public_api);
    return tl_finish();
}
