/* Surveys and proactive messages, sans-IO: the session with the context and
 * survey modules, a fake clock, frames fed in as JSON text and taken out
 * parsed with cJSON; a journal in memory for restarts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "client.h"
#include "feature/user_context.h"
#include "session/session.h"
#include "store/storage.h"
#include "codec/proto_surveys.h"
#include "feature/surveys.h"
#include "sessprobe.h"
#include "testlib.h"

/* ---- fixture ----------------------------------------------------------------- */

typedef struct fx {
    tl_alloc ta;
    pl_alloc a;
    pl_rand *rand;
    pl_sess *s;
    pl_ctx *ctx;
    pl_proactive *pro;
    pl_surveys *sv;
    int64_t now;
    pl_event_queue evq;
} fx;

static void fx_close(fx *f)
{
    pl_surveys_free(f->sv);
    pl_proactive_free(f->pro);
    pl_ctx_free(f->ctx);
    pl_sess_free(f->s);
    f->sv = NULL;
    f->pro = NULL;
    f->ctx = NULL;
    f->s = NULL;
}

static int fx_init_j(fx *f, pl_journal *j)
{
    memset(f, 0, sizeof *f);
    tl_alloc_reset(&f->ta);
    f->a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f->ta};
    f->rand = pl_rand_new(pl_alloc_libc());
    f->now = 1000;
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = j;
    f->s = pl_sess_new(&f->a, &cfg, f->rand, NULL);
    pl_ctx_config cc = {.consent = 1, .redact = {.builtin = 1}};
    f->ctx = f->s ? pl_ctx_new(&f->a, f->s, &cc, NULL) : NULL;
    f->pro = f->ctx ? pl_proactive_new(&f->a, f->s, j, NULL) : NULL;
    f->sv = f->pro ? pl_surveys_new(&f->a, f->s, f->ctx, f->pro, j, NULL) : NULL;
    return f->sv != NULL;
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
    CHECK(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f->s, f->now);
    pl_sess_on_open(f->s, f->now);
    cJSON_Delete(EXPECT_FRAME(f, "hello"));
    feed(f, "{\"t\":\"welcome\",\"session\":\"s-1\"}");
    drain_events(f);
}

static void start_online(fx *f, pl_journal *j)
{
    CHECK(fx_init_j(f, j));
    pl_sess_go_online(f->s, f->now);
    bring_online(f);
}

static void drop_and_wait(fx *f)
{
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CLOSED, "gone");
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    f->now = deadline > f->now ? deadline : f->now;
}

/* The protocol's example survey. */
static const char *const csat =
    "{\"t\":\"survey\",\"conv\":\"c-1\",\"proactive\":false,\"survey\":{"
    "\"id\":\"sv-12\",\"name\":\"csat\",\"title\":\"How did we do?\",\"intro\":\"Two quick questions.\","
    "\"questions\":["
    "{\"id\":\"q1\",\"kind\":\"rating\",\"text\":\"How satisfied?\",\"required\":true,\"min\":1,\"max\":5,"
    "\"min_label\":\"Not at all\",\"max_label\":\"Very\"},"
    "{\"id\":\"q2\",\"kind\":\"nps\",\"text\":\"Recommend?\"},"
    "{\"id\":\"q3\",\"kind\":\"single\",\"text\":\"What mattered?\",\"options\":[{\"id\":\"fast\",\"label\":"
    "\"Speed\"},{\"id\":\"kind\",\"label\":\"Kindness\"}]},"
    "{\"id\":\"q4\",\"kind\":\"multi\",\"text\":\"Topics?\",\"min\":1,\"max\":2,"
    "\"options\":[{\"id\":\"a\",\"label\":\"Billing\"},{\"id\":\"b\",\"label\":\"Bugs\"},{\"id\":\"c\","
    "\"label\":\"Account\"}]},"
    "{\"id\":\"q5\",\"kind\":\"text\",\"text\":\"What went wrong?\",\"max_length\":20,\"required\":true,"
    "\"show_if\":{\"question\":\"q1\",\"in\":[1,2]}}]}}";

/* ---- the model ------------------------------------------------------------------ */

static void test_model(void)
{
    fx f;
    start_online(&f, NULL);
    feed(&f, csat);
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
    CHECK(parley_event_raw_json(ev) && strstr(parley_event_raw_json(ev), "\"id\":\"sv-12\""));
    /* The event keeps the model alive after the module is gone. */
    fx_close(&f);
    CHECK_STR(parley_question_text(q5), "What went wrong?");
    parley_event_free(ev);
    pl_event_queue_clear(&f.evq);
    pl_rand_free(f.rand);
    CHECK_INT(f.ta.live, 0);
}

static void test_answer_validation(void)
{
    fx f;
    start_online(&f, NULL);
    feed(&f, csat);
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
    const char *abc[] = {"a", "b", "c"}, *dup[] = {"a", "a"}, *bad[] = {"a", "z"}, *ca[] = {"c", "a"};
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
    if (ev) {
        CHECK_INT(ev->state, PARLEY_MSG_PENDING);
        CHECK_STR(ev->cid, cid);
    }
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

static void test_conditional_and_incomplete(void)
{
    fx f;
    start_online(&f, NULL);
    feed(&f, csat);
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
    start_online(&f, NULL);
    feed(&f, "{\"t\":\"survey\",\"survey\":{\"id\":\"sv-c\",\"title\":\"T\",\"questions\":["
             "{\"id\":\"q1\",\"kind\":\"multi\",\"text\":\"t\",\"options\":[{\"id\":\"x\",\"label\":\"X\"},"
             "{\"id\":\"y\",\"label\":\"Y\"}]},"
             "{\"id\":\"q2\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"q1\",\"in\":[\"y\"]}},"
             "{\"id\":\"q3\",\"kind\":\"text\",\"text\":\"t\",\"show_if\":{\"question\":\"q2\",\"in\":[0,1]}}]}}");
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

/* ---- hostile definitions -------------------------------------------------------- */

static void expect_rejected(fx *f, const char *frame, const char *why, int line)
{
    feed(f, frame);
    parley_event *ev = next_event(f);
    tl_check(ev != NULL, "an error event", __FILE__, line);
    if (!ev)
        return;
    tl_check_int(ev->type, PARLEY_EV_ERROR, "event type", __FILE__, line);
    tl_check_int(ev->error_code, PARLEY_ERR_PROTOCOL, "error code", __FILE__, line);
    tl_check(ev->text && strstr(ev->text, "sv-h") && strstr(ev->text, why), why, __FILE__, line);
    if (ev->text && !strstr(ev->text, why))
        fprintf(stderr, "  got: %s\n", ev->text);
    parley_event_free(ev);
    tl_check_int(event_count(f), 0, "no other event", __FILE__, line);
}
#define REJECTED(f, q, why)                                                                                  \
    expect_rejected((f), "{\"t\":\"survey\",\"survey\":{\"id\":\"sv-h\",\"title\":\"T\",\"questions\":[" q "]}}", \
                    (why), __LINE__)

static void test_hostile_definitions(void)
{
    fx f;
    start_online(&f, NULL);
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"slider\",\"text\":\"t\"}", "unknown kind");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"single\",\"text\":\"t\",\"options\":[]}", "1..20 options");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"single\",\"text\":\"t\"}", "options");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"rating\",\"text\":\"t\",\"min\":5,\"max\":2}", "not below max");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"rating\",\"text\":\"t\",\"min\":3,\"max\":3}", "not below max");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"rating\",\"text\":\"t\",\"max\":11}", "'max'");
    REJECTED(&f,
             "{\"id\":\"q1\",\"kind\":\"multi\",\"text\":\"t\",\"min\":2,\"max\":1,\"options\":[{\"id\":\"a\","
             "\"label\":\"A\"},{\"id\":\"b\",\"label\":\"B\"}]}",
             "selection bounds");
    REJECTED(&f,
             "{\"id\":\"q1\",\"kind\":\"multi\",\"text\":\"t\",\"max\":3,\"options\":[{\"id\":\"a\","
             "\"label\":\"A\"}]}",
             "selection bounds");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\"},{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\"}",
             "duplicate question id");
    REJECTED(&f,
             "{\"id\":\"q1\",\"kind\":\"single\",\"text\":\"t\",\"options\":[{\"id\":\"a\",\"label\":\"A\"},"
             "{\"id\":\"a\",\"label\":\"B\"}]}",
             "duplicate option id");
    REJECTED(&f,
             "{\"id\":\"q1\",\"kind\":\"single\",\"text\":\"t\",\"options\":[{\"id\":\"a b\",\"label\":\"A\"}]}",
             "bad 'id'");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"q2\",\"in\":[1]}},"
                 "{\"id\":\"q2\",\"kind\":\"nps\",\"text\":\"t\"}",
             "earlier question");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"zz\",\"in\":[1]}}",
             "earlier question");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"q1\",\"in\":[1]}}",
             "earlier question");
    REJECTED(&f,
             "{\"id\":\"q1\",\"kind\":\"single\",\"text\":\"t\",\"options\":[{\"id\":\"a\",\"label\":\"A\"}]},"
             "{\"id\":\"q2\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"q1\",\"in\":[\"b\"]}}",
             "option");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\"},"
                 "{\"id\":\"q2\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"q1\",\"in\":[11]}}",
             "show_if value");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\"},"
                 "{\"id\":\"q2\",\"kind\":\"nps\",\"text\":\"t\",\"show_if\":{\"question\":\"q1\",\"in\":[]}}",
             "'in'");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"text\",\"text\":\"t\",\"max_length\":5000}", "max_length");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\"}", "'text'");
    REJECTED(&f, "{\"id\":\"q1\",\"kind\":\"nps\",\"text\":\"t\",\"required\":1}", "required");
    REJECTED(&f, "", "1..50 questions");
    REJECTED(&f, "7", "not an object");

    /* 10,000 questions: rejected without looking at each. */
    size_t cap = 10000 * 48 + 256;
    char *big = malloc(cap);
    size_t n = (size_t)snprintf(big, cap, "{\"t\":\"survey\",\"survey\":{\"id\":\"sv-h\",\"title\":\"T\",\"questions\":[");
    for (int i = 0; i < 10000; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s{\"id\":\"q%d\",\"kind\":\"nps\",\"text\":\"t\"}", i ? "," : "", i);
    n += (size_t)snprintf(big + n, cap - n, "]}}");
    /* Bigger than a frame, so the session's codec drops it unparsed; the
     * survey decoder itself stops counting at 51. */
    CHECK(n > PL_MAX_FRAME);
    feed(&f, big);
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
    n = (size_t)snprintf(big, cap, "{\"t\":\"survey\",\"survey\":{\"id\":\"sv-h\",\"title\":\"T\",\"questions\":[");
    for (int i = 0; i < 51; i++)
        n += (size_t)snprintf(big + n, cap - n, "%s{\"id\":\"q%d\",\"kind\":\"nps\",\"text\":\"t\"}", i ? "," : "", i);
    snprintf(big + n, cap - n, "]}}");
    expect_rejected(&f, big, "1..50 questions", __LINE__);
    free(big);

    /* Not a survey at all. */
    feed(&f, "{\"t\":\"survey\",\"survey\":7}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    parley_event_free(ev);
    CHECK_INT(pl_surveys_check(f.sv, "sv-h"), PARLEY_ERR_NOT_FOUND);
    fx_free(&f);
}

/* ---- delivery ------------------------------------------------------------------- */

static void test_duplicate_not_reported_twice(void)
{
    fx f;
    start_online(&f, NULL);
    feed(&f, csat);
    feed(&f, csat);
    CHECK_INT(event_count(&f), 1);
    drain_events(&f);
    /* The server sends it again after every welcome. */
    drop_and_wait(&f);
    drain_events(&f);
    bring_online(&f);
    feed(&f, csat);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

static void test_partial_answers_survive_restart(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    start_online(&f, j);
    feed(&f, csat);
    drain_events(&f);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 2), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_text(f.sv, "sv-12", "q5", "too slow"), PARLEY_OK);
    const char *bc[] = {"b", "c"};
    CHECK_INT(pl_surveys_answer_choices(f.sv, "sv-12", "q4", bc, 2), PARLEY_OK);
    fx_free(&f);

    fx g;
    CHECK(fx_init_j(&g, j));
    /* Reported again once, offline, after the restart. */
    parley_event *ev = EXPECT_EVENT(&g, PARLEY_EV_SURVEY);
    CHECK_STR(parley_survey_id(parley_event_survey(ev)), "sv-12");
    parley_event_free(ev);
    CHECK_INT(event_count(&g), 0);
    CHECK_INT(pl_surveys_visible(g.sv, "sv-12", "q5"), 1);
    pl_sess_go_online(g.s, g.now);
    bring_online(&g);
    feed(&g, csat);
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
    CHECK(fx_init_j(&h, j));
    CHECK_INT(event_count(&h), 0);
    CHECK_INT(pl_surveys_check(h.sv, "sv-12"), PARLEY_ERR_STATE);
    CHECK_INT(pl_sess_outbox_count(h.s), 1);
    pl_sess_go_online(h.s, h.now);
    bring_online(&h);
    feed(&h, csat);
    CHECK_INT(event_count(&h), 0);
    fx_free(&h);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

static void test_submit_offline_exactly_once(void)
{
    fx f;
    start_online(&f, NULL);
    feed(&f, csat);
    drain_events(&f);
    drop_and_wait(&f);
    drain_events(&f);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 5), PARLEY_OK);
    char missing[PL_MAX_ID + 1], cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_submit(f.sv, "sv-12", missing, cid), PARLEY_OK);
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev ? ev->state : 0, PARLEY_MSG_PENDING);
    parley_event_free(ev);
    EXPECT_NO_FRAME(&f);
    CHECK_INT(pl_sess_outbox_count(f.s), 1);
    bring_online(&f);
    cJSON *a = EXPECT_FRAME(&f, "survey.submit");
    CHECK_STR(sp_jstr(a, "cid"), cid);
    cJSON_Delete(a);
    /* Lost before the ack: the same cid goes again. */
    drop_and_wait(&f);
    drain_events(&f);
    bring_online(&f);
    cJSON *b = EXPECT_FRAME(&f, "survey.submit");
    CHECK_STR(sp_jstr(b, "cid"), cid);
    cJSON_Delete(b);
    char ack[128];
    snprintf(ack, sizeof ack, "{\"t\":\"ack\",\"cid\":\"%s\"}", cid);
    feed(&f, ack);
    ev = EXPECT_EVENT(&f, PARLEY_EV_MESSAGE_STATUS);
    CHECK_INT(ev ? ev->state : 0, PARLEY_MSG_SENT);
    CHECK_STR(ev ? ev->cid : NULL, cid);
    parley_event_free(ev);
    CHECK_INT(pl_sess_outbox_count(f.s), 0);
    drop_and_wait(&f);
    drain_events(&f);
    bring_online(&f);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_dismiss(void)
{
    fx f;
    start_online(&f, NULL);
    feed(&f, csat);
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
    feed(&f, csat);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
}

static void test_pending_cap(void)
{
    fx f;
    start_online(&f, NULL);
    char buf[256];
    for (int i = 0; i < PL_SURVEYS_MAX_PENDING + 3; i++) {
        snprintf(buf, sizeof buf,
                 "{\"t\":\"survey\",\"survey\":{\"id\":\"sv-%d\",\"title\":\"T\",\"questions\":[{\"id\":\"q\","
                 "\"kind\":\"nps\",\"text\":\"t\"}]}}",
                 i);
        feed(&f, buf);
    }
    CHECK_INT(event_count(&f), PL_SURVEYS_MAX_PENDING);
    drain_events(&f);
    CHECK_INT(pl_surveys_check(f.sv, "sv-34"), PARLEY_ERR_NOT_FOUND);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(pl_surveys_dismiss(f.sv, "sv-0", cid), PARLEY_OK);
    drain_events(&f);
    feed(&f, buf);
    CHECK_INT(event_count(&f), 1);
    fx_free(&f);
}

/* ---- proactive -------------------------------------------------------------------- */

static void feed_proactive(fx *f, const char *id)
{
    char buf[256];
    snprintf(buf, sizeof buf,
             "{\"t\":\"proactive\",\"id\":\"%s\",\"msg\":{\"author\":{\"kind\":\"bot\",\"name\":\"Helper\"},"
             "\"text\":\"tip %s\",\"ts\":1763900000000,\"blocks\":[{\"kind\":\"card\",\"title\":\"x\"}]}}",
             id, id);
    feed(f, buf);
}

static void expect_ack(fx *f, const char *id, int line)
{
    cJSON *j = expect_frame(f, "proactive.ack", line);
    tl_check_str(j ? sp_jstr(j, "id") : NULL, id, "acked id", __FILE__, line);
    cJSON_Delete(j);
}
#define EXPECT_ACK(f, id) expect_ack((f), (id), __LINE__)

static void expect_proactive(fx *f, const char *id, int line)
{
    parley_event *ev = expect_event(f, PARLEY_EV_PROACTIVE, line);
    tl_check_str(ev ? ev->id : NULL, id, "proactive id", __FILE__, line);
    parley_event_free(ev);
}
#define EXPECT_PROACTIVE(f, id) expect_proactive((f), (id), __LINE__)

static void test_proactive_delivery(void)
{
    fx f;
    start_online(&f, NULL);
    feed_proactive(&f, "p-1");
    parley_event *ev = EXPECT_EVENT(&f, PARLEY_EV_PROACTIVE);
    if (ev) {
        CHECK_STR(parley_event_message_id(ev), "p-1");
        CHECK_STR(parley_event_text(ev), "tip p-1");
        CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_BOT);
        CHECK_STR(parley_event_author_name(ev), "Helper");
        CHECK(parley_event_timestamp_ms(ev) == 1763900000000LL);
        CHECK(parley_event_raw_json(ev) && strstr(parley_event_raw_json(ev), "\"card\""));
        CHECK_INT(parley_event_block_count(ev), 1);
        CHECK_INT(parley_block_kind(parley_event_block(ev, 0)), PARLEY_BLOCK_CARD);
    }
    parley_event_free(ev);
    EXPECT_ACK(&f, "p-1");
    /* Resent (the ack was lost): acked again, not reported again. */
    feed_proactive(&f, "p-1");
    CHECK_INT(event_count(&f), 0);
    EXPECT_ACK(&f, "p-1");
    /* A bad block is left out and reported; the item still arrives. */
    feed(&f, "{\"t\":\"proactive\",\"id\":\"p-3\",\"msg\":{\"author\":{\"kind\":\"agent\"},\"text\":\"t\","
             "\"blocks\":[{\"kind\":\"bogus\"}]}}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK(ev && ev->text && strstr(ev->text, "p-3"));
    parley_event_free(ev);
    ev = EXPECT_EVENT(&f, PARLEY_EV_PROACTIVE);
    CHECK_INT(parley_event_block_count(ev), 0);
    CHECK(parley_event_raw_json(ev) == NULL);
    CHECK_INT(parley_event_author_kind(ev), PARLEY_AUTHOR_AGENT);
    parley_event_free(ev);
    EXPECT_ACK(&f, "p-3");
    feed(&f, "{\"t\":\"proactive\",\"id\":\"p-2\",\"msg\":{\"text\":\"no author\"}}");
    ev = EXPECT_EVENT(&f, PARLEY_EV_ERROR);
    CHECK_INT(ev ? ev->error_code : 0, PARLEY_ERR_PROTOCOL);
    parley_event_free(ev);
    EXPECT_NO_FRAME(&f);
    fx_free(&f);
}

static void test_proactive_mute(void)
{
    fx f;
    start_online(&f, NULL);
    pl_proactive_mute(f.pro, f.now, 5000);
    int64_t deadline = -1;
    pl_sess_want(f.s, f.now, &deadline);
    CHECK_INT(deadline, f.now + 5000);
    feed_proactive(&f, "p-1");
    feed(&f, "{\"t\":\"survey\",\"proactive\":true,\"survey\":{\"id\":\"sv-p\",\"title\":\"T\",\"questions\":["
             "{\"id\":\"q\",\"kind\":\"nps\",\"text\":\"t\"}]}}");
    feed_proactive(&f, "p-2");
    feed_proactive(&f, "p-1"); /* a resend of a held one */
    /* A survey the user asked for is not proactive: not held. */
    feed(&f, csat);
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
    start_online(&f, NULL);
    pl_proactive_mute(f.pro, f.now, 60000);
    char id[16];
    for (int i = 0; i < PL_PROACTIVE_MAX_HELD + 5; i++) {
        snprintf(id, sizeof id, "p-%d", i);
        feed_proactive(&f, id);
    }
    CHECK_INT(event_count(&f), 0);
    EXPECT_NO_FRAME(&f);
    /* Unmuting while offline: released now, acked after the next welcome. */
    drop_and_wait(&f);
    drain_events(&f);
    pl_proactive_mute(f.pro, f.now, 0);
    CHECK_INT(event_count(&f), PL_PROACTIVE_MAX_HELD);
    EXPECT_PROACTIVE(&f, "p-0");
    drain_events(&f);
    bring_online(&f);
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

/* ---- logout ----------------------------------------------------------------------- */

static void test_logout_wipes(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    fx f;
    start_online(&f, j);
    feed(&f, csat);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 3), PARLEY_OK);
    pl_proactive_mute(f.pro, f.now, 1000);
    feed_proactive(&f, "p-1");
    drain_events(&f);
    CHECK_INT(pl_sess_logout(f.s, "a-new"), PARLEY_OK);
    CHECK_INT(pl_surveys_check(f.sv, "sv-12"), PARLEY_ERR_NOT_FOUND);
    f.now += 1000;
    pl_sess_tick(f.s, f.now);
    CHECK_INT(event_count(&f), 0);
    fx_free(&f);
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    CHECK_INT((int)st.live_entries, 0);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* ---- out of memory ------------------------------------------------------------------ */

/* Out of memory is a legal answer here; crashes and leaks are not. */
static void feed_any(fx *f, const char *json)
{
    (void)pl_sess_on_frame(f->s, f->now, json, strlen(json));
}

static void oom_script(fx *f)
{
    feed_any(f, csat);
    (void)pl_surveys_answer_number(f->sv, "sv-12", "q1", 1);
    (void)pl_surveys_answer_text(f->sv, "sv-12", "q5", "text");
    pl_proactive_mute(f->pro, f->now, 10);
    feed_any(f, "{\"t\":\"proactive\",\"id\":\"p-1\",\"msg\":{\"author\":{\"kind\":\"bot\"},\"text\":\"hi\"}}");
    f->now += 10;
    pl_sess_tick(f->s, f->now);
    char missing[PL_MAX_ID + 1], cid[PARLEY_ID_SIZE];
    (void)pl_surveys_submit(f->sv, "sv-12", missing, cid);
    drain_events(f);
}

static void test_oom_loop(void)
{
    sp_memio m = {0};
    pl_journal *j = sp_open_mem_journal(&m);
    int done = 0;
    for (long fail_at = 0; fail_at < 400 && !done; fail_at++) {
        fx f;
        start_online(&f, j);
        tl_alloc_fail(&f.ta, fail_at, TL_FAIL_REALLOC);
        oom_script(&f);
        done = !f.ta.failed;
        tl_alloc_fail(&f.ta, -1, 0);
        fx_close(&f);
        CHECK_INT(f.ta.live, 0);
        pl_event_queue_clear(&f.evq);
        pl_rand_free(f.rand);
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
    start_online(&f, j);
    feed(&f, csat);
    CHECK_INT(pl_surveys_answer_number(f.sv, "sv-12", "q1", 1), PARLEY_OK);
    CHECK_INT(pl_surveys_answer_text(f.sv, "sv-12", "q5", "slow"), PARLEY_OK);
    fx_free(&f);
    int done = 0;
    for (long fail_at = 0; fail_at < 400 && !done; fail_at++) {
        fx g;
        memset(&g, 0, sizeof g);
        tl_alloc_reset(&g.ta);
        g.a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &g.ta};
        g.rand = pl_rand_new(pl_alloc_libc());
        tl_alloc_fail(&g.ta, fail_at, TL_FAIL_REALLOC);
        pl_sess_config cfg = sp_default_cfg;
        cfg.journal = j;
        g.s = pl_sess_new(&g.a, &cfg, g.rand, NULL);
        pl_ctx_config cc = {.consent = 1};
        g.ctx = g.s ? pl_ctx_new(&g.a, g.s, &cc, NULL) : NULL;
        g.pro = g.ctx ? pl_proactive_new(&g.a, g.s, j, NULL) : NULL;
        g.sv = g.pro ? pl_surveys_new(&g.a, g.s, g.ctx, g.pro, j, NULL) : NULL;
        done = !g.ta.failed;
        tl_alloc_fail(&g.ta, -1, 0);
        if (done) {
            CHECK(g.sv != NULL);
            CHECK_INT(event_count(&g), 1);
            CHECK_INT(pl_surveys_visible(g.sv, "sv-12", "q5"), 1);
        }
        fx_free(&g);
    }
    CHECK(done);
    pl_journal_close(j);
    tl_memfs_free(&m.fs);
}

/* ---- the public API over a client ------------------------------------------------ */

/* A client that never connects: the test plays the transport by driving
 * its session directly, and the host's side through the public API. */
static parley_client *api_client(tl_memfs *m)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    CHECK_INT(parley_config_set_url(cfg, "wss://localhost:1"), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "my-game"), PARLEY_OK);
    CHECK_INT(parley_config_set_storage(cfg, &tl_memfs_ops, m), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    return pc;
}

static void api_online(parley_client *pc)
{
    pl_sess_go_online(pc->sess, 0);
    pl_sess_on_connecting(pc->sess, 0);
    pl_sess_on_open(pc->sess, 0);
    const char *w = "{\"t\":\"welcome\",\"session\":\"s-1\"}";
    CHECK_INT(pl_sess_on_frame(pc->sess, 0, w, strlen(w)), PARLEY_OK);
}

/* Events the session produced outside an API call, as the host sees them
 * after the next one (parley_outbox_count takes no events: mute does). */
static int api_poll(parley_client *pc, int type)
{
    int n = 0;
    parley_event *ev;
    CHECK_INT(parley_mute_proactive(pc, 0), PARLEY_OK);
    while (parley_poll(pc, &ev) == PARLEY_OK) {
        n += parley_event_type(ev) == type;
        parley_event_free(ev);
    }
    return n;
}

static void test_public_api(void)
{
    tl_memfs m = {0};
    parley_client *pc = api_client(&m);
    api_online(pc);
    CHECK_INT(pl_sess_on_frame(pc->sess, 0, csat, strlen(csat)), PARLEY_OK);
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
    CHECK_INT(parley_survey_submit(r, missing, sizeof missing, cid, sizeof cid), PARLEY_ERR_INCOMPLETE);
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
    CHECK_INT(api_poll(pc, PARLEY_EV_MESSAGE_STATUS), 1);
    parley_survey_response_free(r);
    CHECK_INT(parley_mute_proactive(NULL, 5), PARLEY_ERR_INVALID_ARG);
    CHECK_STR(parley_strerror(PARLEY_ERR_RANGE), "value outside the allowed range");
    parley_client_free(pc);
    tl_memfs_free(&m);
}

/* A survey whose full answers cannot fit one frame (20 text questions of
 * 4096 bytes): the submission is refused at the call, nothing enters the
 * outbox, and the survey stays pending with its answers for a shorter try. */
static void test_submit_over_frame_limit(void)
{
    fx f;
    start_online(&f, NULL);
    char *frame = malloc(8192), *p = frame;
    p += sprintf(p, "{\"t\":\"survey\",\"conv\":\"c-1\",\"survey\":{\"id\":\"sv-long\",\"title\":\"Tell us\","
                    "\"questions\":[");
    for (int i = 0; i < 20; i++)
        p += sprintf(p, "%s{\"id\":\"q%d\",\"kind\":\"text\",\"text\":\"Why?\",\"max_length\":4096}", i ? "," : "", i);
    sprintf(p, "]}}");
    feed(&f, frame);
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
    RUN(test_proactive_delivery);
    RUN(test_proactive_mute);
    RUN(test_proactive_hold_cap_and_unmute);
    RUN(test_logout_wipes);
    RUN(test_oom_loop);
    RUN(test_oom_restart);
    RUN(test_public_api);
    return tl_finish();
}
