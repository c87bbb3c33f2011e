/* Conditions (cond.c): a table of conditions evaluated against one user,
 * and a table of malformed conditions with the member each error names. */
#include <stdlib.h>
#include <string.h>

#include "cond.h"
#include "testlib.h"

#define NOW INT64_C(1767000000000)
#define MIN_MS INT64_C(60000)

static cJSON *attrs;
static cJSON *meta_402, *meta_500;
static cond_event events[4];
static int64_t asked[3] = {NOW - 2 * MIN_MS, NOW - 30 * MIN_MS, NOW - 3 * 60 * MIN_MS};

/* A VIP player on the gems shop who just failed a purchase (402), failed
 * one with 500 twenty minutes ago, and writes about it. */
static cond_input player(void)
{
    cond_input in;

    memset(&in, 0, sizeof in);
    in.now_ms = NOW;
    in.attributes = attrs;
    in.screen = "shop/gems";
    in.events = events;
    in.nevents = 4;
    in.category = "payments";
    in.area = "shop/gems";
    in.severity = "high";
    in.text = "Where are my gems?? I paid TWICE and got NOTHING!!!";
    in.asked_ms = asked;
    in.nasked = 3;
    return in;
}

static void setup(void)
{
    attrs = cJSON_Parse("{\"vip\":true,\"spend\":250,\"plan\":\"gold\",\"level\":7,"
                        "\"referrer\":null,\"inventory\":{\"gems\":120}}");
    meta_402 = cJSON_Parse("{\"sku\":\"gems_500\",\"code\":402}");
    meta_500 = cJSON_Parse("{\"sku\":\"gems_500\",\"code\":500}");
    events[0] = (cond_event){"purchase_failed", meta_402, NOW - 5 * MIN_MS};
    events[1] = (cond_event){"purchase_failed", meta_500, NOW - 20 * MIN_MS};
    events[2] = (cond_event){"level_failed", NULL, NOW - 1 * MIN_MS};
    events[3] = (cond_event){"purchase_ok", NULL, NOW - 90 * MIN_MS};
}

static const struct {
    const char *when;
    int holds;
} eval_cases[] = {
    {"{}", 1},
    /* attributes */
    {"{\"attributes\":{\"vip\":true}}", 1},
    {"{\"attributes\":{\"vip\":\"true\"}}", 0},
    {"{\"attributes\":{\"vip\":true,\"plan\":\"gold\"}}", 1},
    {"{\"attributes\":{\"vip\":true,\"plan\":\"free\"}}", 0},
    {"{\"attributes\":{\"spend\":{\"min\":100}}}", 1},
    {"{\"attributes\":{\"spend\":{\"min\":100,\"max\":200}}}", 0},
    {"{\"attributes\":{\"spend\":250.0}}", 1},
    {"{\"attributes\":{\"plan\":{\"in\":[\"gold\",\"vip\"]}}}", 1},
    {"{\"attributes\":{\"plan\":{\"min\":1}}}", 0},
    {"{\"attributes\":{\"plan\":{\"prefix\":\"go\"}}}", 1},
    {"{\"attributes\":{\"level\":{\"prefix\":\"7\"}}}", 0},
    {"{\"attributes\":{\"missing\":null}}", 1},
    {"{\"attributes\":{\"referrer\":null}}", 1},
    {"{\"attributes\":{\"referrer\":{\"exists\":false}}}", 1},
    {"{\"attributes\":{\"missing\":{\"exists\":false}}}", 1},
    {"{\"attributes\":{\"plan\":{\"exists\":true}}}", 1},
    {"{\"attributes\":{\"missing\":{\"exists\":true}}}", 0},
    {"{\"attributes\":{\"inventory\":{\"equals\":{\"gems\":120}}}}", 1},
    {"{\"attributes\":{\"inventory\":{\"equals\":{\"gems\":121}}}}", 0},
    /* screen, category, area, severity */
    {"{\"screen\":\"shop/gems\"}", 1},
    {"{\"screen\":\"shop\"}", 0},
    {"{\"screen\":{\"prefix\":\"shop/\"}}", 1},
    {"{\"screen\":{\"in\":[\"home\",\"shop/gems\"]}}", 1},
    {"{\"category\":\"payments\",\"area\":{\"prefix\":\"shop\"}}", 1},
    {"{\"category\":\"bug\"}", 0},
    {"{\"severity_hint\":\"high\"}", 1},
    {"{\"severity_hint\":{\"min\":\"medium\"}}", 1},
    {"{\"severity_hint\":{\"min\":\"critical\"}}", 0},
    {"{\"severity_hint\":{\"max\":\"medium\"}}", 0},
    {"{\"severity_hint\":{\"in\":[\"low\",\"high\"]}}", 1},
    {"{\"severity_hint\":{\"exists\":true}}", 1},
    /* events and their metadata, within windows */
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":600}}", 1},
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":240}}", 0},
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":600,\"min_count\":2}}", 0},
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":3600,\"min_count\":2}}", 1},
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":600,\"meta\":{\"code\":402}}}", 1},
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":600,\"meta\":{\"code\":500}}}", 0},
    {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":3600,\"meta\":{\"code\":{\"min\":500}}}"
     "}",
     1},
    {"{\"event\":{\"name\":\"level_failed\",\"within_s\":600,\"meta\":{\"x\":{\"exists\":false}}}}",
     1},
    {"{\"event\":{\"name\":\"purchase_ok\",\"within_s\":3600}}", 0},
    {"{\"event\":{\"name\":\"never\",\"within_s\":2592000}}", 0},
    /* the message */
    {"{\"keywords\":[\"gems\"]}", 1},
    {"{\"keywords\":[\"GEM\"]}", 0},
    {"{\"keywords\":[\"paid twice\"]}", 1},
    {"{\"keywords\":[\"refund\",\"nothing\"]}", 1},
    {"{\"text\":{\"min_length\":40}}", 1},
    {"{\"text\":{\"max_length\":40}}", 0},
    {"{\"text\":{\"min_words\":10,\"max_words\":10}}", 1},
    {"{\"text\":{\"min_exclamations\":3}}", 1},
    {"{\"text\":{\"min_exclamations\":4}}", 0},
    {"{\"text\":{\"question\":true}}", 1},
    {"{\"text\":{\"question\":false}}", 0},
    {"{\"text\":{\"min_caps\":0.3}}", 1},
    {"{\"text\":{\"min_caps\":0.5}}", 0},
    /* how often the user wrote lately */
    {"{\"asked\":{\"min\":2,\"within_s\":3600}}", 1},
    {"{\"asked\":{\"min\":3,\"within_s\":3600}}", 0},
    {"{\"asked\":{\"min\":3,\"within_s\":86400}}", 1},
    {"{\"asked\":{\"min\":1,\"max\":1,\"within_s\":600}}", 1},
    {"{\"asked\":{\"min\":1,\"max\":2,\"within_s\":86400}}", 0},
    /* combinations */
    {"{\"attributes\":{\"vip\":true},\"event\":{\"name\":\"purchase_failed\",\"within_s\":600}}",
     1},
    {"{\"any\":[{\"category\":\"bug\"},{\"keywords\":[\"gems\"]}]}", 1},
    {"{\"any\":[{\"category\":\"bug\"},{\"keywords\":[\"crash\"]}]}", 0},
    {"{\"all\":[{\"category\":\"payments\"},{\"keywords\":[\"gems\"]}]}", 1},
    {"{\"all\":[{\"category\":\"payments\"},{\"keywords\":[\"crash\"]}]}", 0},
    {"{\"not\":{\"screen\":\"home\"}}", 1},
    {"{\"not\":{\"not\":{\"screen\":\"home\"}}}", 0},
};

static void test_eval_table(void)
{
    cond_input in = player();

    for (size_t i = 0; i < sizeof eval_cases / sizeof eval_cases[0]; i++) {
        cJSON *when = cJSON_Parse(eval_cases[i].when);
        jerr err;
        int ok = when && cond_check(when, &err) == 0;
        if (!ok)
            fprintf(stderr, "  case %zu refused: %s\n", i, when ? err.msg : "JSON");
        CHECK(ok);
        if (ok && cond_eval(when, &in) != eval_cases[i].holds) {
            fprintf(stderr, "  case %zu: %s should %s\n", i, eval_cases[i].when,
                    eval_cases[i].holds ? "hold" : "not hold");
            CHECK(0);
        }
        cJSON_Delete(when);
    }
}

/* Nothing known (a conversation started by an anonymous user who has not
 * written yet): only the conditions on absence hold. */
static void test_eval_empty(void)
{
    static const struct {
        const char *when;
        int holds;
    } cases[] = {
        {"{\"attributes\":{\"vip\":true}}", 0},
        {"{\"attributes\":{\"vip\":null}}", 1},
        {"{\"screen\":{\"exists\":false}}", 1},
        {"{\"screen\":\"shop\"}", 0},
        {"{\"severity_hint\":\"low\"}", 0},
        {"{\"severity_hint\":{\"exists\":false}}", 1},
        {"{\"severity_hint\":{\"max\":\"high\"}}", 0},
        {"{\"keywords\":[\"gems\"]}", 0},
        {"{\"not\":{\"keywords\":[\"gems\"]}}", 1},
        {"{\"text\":{\"max_length\":100}}", 0},
        {"{\"event\":{\"name\":\"purchase_failed\",\"within_s\":600}}", 0},
        {"{\"asked\":{\"min\":1,\"within_s\":600}}", 0},
    };
    cond_input in;

    memset(&in, 0, sizeof in);
    in.now_ms = NOW;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *when = cJSON_Parse(cases[i].when);
        jerr err;
        CHECK(when && cond_check(when, &err) == 0);
        if (when && cond_eval(when, &in) != cases[i].holds) {
            fprintf(stderr, "  case %zu: %s\n", i, cases[i].when);
            CHECK(0);
        }
        cJSON_Delete(when);
    }
}

/* Malformed conditions: refused, naming the member at fault. */
static void test_check_table(void)
{
    static const struct {
        const char *when, *at, *msg;
    } cases[] = {
        {"[]", NULL, "a condition must be an object"},
        {"{\"vip\":true}", "vip", "unknown condition \"vip\""},
        {"{\"attributes\":true}", "attributes", "attributes must be an object"},
        {"{\"attributes\":{}}", "attributes", "attributes must be an object of 1 to 64"},
        {"{\"attributes\":{\"inventory\":{\"gems\":1}}}", "gems", "a test has equals, in"},
        {"{\"attributes\":{\"x\":{}}}", "x", "an empty test"},
        {"{\"attributes\":{\"x\":{\"in\":[]}}}", "in", "in must be an array of 1 to 64"},
        {"{\"attributes\":{\"x\":{\"min\":\"1\"}}}", "min", "min must be a number"},
        {"{\"attributes\":{\"x\":{\"prefix\":\"\"}}}", "prefix", "prefix must be a string"},
        {"{\"attributes\":{\"x\":{\"exists\":1}}}", "exists", "exists must be true or false"},
        {"{\"screen\":7}", "screen", "must be a string or a test"},
        {"{\"severity_hint\":\"severe\"}", "severity_hint", "a severity is"},
        {"{\"severity_hint\":{\"min\":2}}", "min", "a severity is"},
        {"{\"severity_hint\":{\"in\":[\"low\",\"bad\"]}}", NULL, "a severity is"},
        {"{\"severity_hint\":{\"prefix\":\"l\"}}", "prefix", "unknown member"},
        {"{\"event\":{\"within_s\":60}}", "event", "event needs a name"},
        {"{\"event\":{\"name\":\"x\"}}", "event", "within_s is required"},
        {"{\"event\":{\"name\":\"x\",\"within_s\":0}}", "within_s", "integer of 1 to 2592000"},
        {"{\"event\":{\"name\":\"x\",\"within_s\":1.5}}", "within_s", "integer of 1 to 2592000"},
        {"{\"event\":{\"name\":\"x\",\"within_s\":9999999}}", "within_s",
         "integer of 1 to 2592000"},
        {"{\"event\":{\"name\":\"x\",\"within_s\":60,\"min_count\":0}}", "min_count",
         "integer of 1"},
        {"{\"event\":{\"name\":\"x\",\"within_s\":60,\"meta\":[]}}", "meta",
         "meta must be an object"},
        {"{\"event\":{\"name\":\"x\",\"within_s\":60,\"since\":1}}", "since", "unknown member"},
        {"{\"keywords\":[]}", "keywords", "keywords must be an array of 1 to 64"},
        {"{\"keywords\":[\"\"]}", NULL, "a keyword must be a string"},
        {"{\"keywords\":\"gems\"}", "keywords", "keywords must be an array"},
        {"{\"text\":{}}", "text", "text must be an object of shape tests"},
        {"{\"text\":{\"min_caps\":2}}", "min_caps", "min_caps must be a share"},
        {"{\"text\":{\"question\":\"yes\"}}", "question", "question must be true or false"},
        {"{\"text\":{\"longer_than\":2}}", "longer_than", "unknown member"},
        {"{\"asked\":{\"within_s\":60}}", "asked", "min is required"},
        {"{\"asked\":{\"min\":3,\"max\":2,\"within_s\":60}}", "max", "max must be at least min"},
        {"{\"any\":[]}", "any", "must be an array of 1 to 16"},
        {"{\"all\":[{\"screen\":1}]}", "screen", "must be a string or a test"},
        {"{\"not\":[]}", "not", "a condition must be an object"},
        {"{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{\"not\":{}}}}}}}}}",
         "not", "conditions nest deeper than 8"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *when = cJSON_Parse(cases[i].when);
        jerr err;
        memset(&err, 0, sizeof err);
        CHECK(when != NULL);
        CHECK_INT(cond_check(when, &err), -1);
        if (!strstr(err.msg, cases[i].msg)) {
            fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].msg);
            CHECK(0);
        }
        if (cases[i].at)
            CHECK(err.at && err.at->string && strcmp(err.at->string, cases[i].at) == 0);
        cJSON_Delete(when);
    }
}

static void test_windows(void)
{
    cJSON *when = cJSON_Parse("{\"event\":{\"name\":\"a\",\"within_s\":60},\"any\":[{\"asked\":"
                              "{\"min\":1,\"within_s\":900}},{\"not\":{\"event\":{\"name\":\"b\","
                              "\"within_s\":7200}}}]}");
    int64_t ev = 10, as = 1000;
    jerr err;

    CHECK(when && cond_check(when, &err) == 0);
    cond_windows(when, &ev, &as);
    CHECK_INT(ev, 7200);
    CHECK_INT(as, 1000);
    cJSON_Delete(when);
}

static void test_words(void)
{
    CHECK(cond_has_word("I want a Refund now", "refund"));
    CHECK(!cond_has_word("refunds", "refund"));
    CHECK(cond_has_word("can't log in!", "can't log in"));
    CHECK(!cond_has_word("", "x"));
    CHECK(!cond_has_word("x", ""));
    CHECK(cond_has_word("charged twice.", "charged twice"));
    CHECK(!cond_has_word("overcharged", "charged"));
}

int main(void)
{
    setup();
    RUN(test_eval_table);
    RUN(test_eval_empty);
    RUN(test_check_table);
    RUN(test_windows);
    RUN(test_words);
    cJSON_Delete(attrs);
    cJSON_Delete(meta_402);
    cJSON_Delete(meta_500);
    return tl_finish();
}
