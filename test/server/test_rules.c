/* The routing rules (rules.c): the shipped routing.json loads and triages
 * a table of requests as docs/routing.md says; malformed files are refused
 * with the line and member at fault, never a crash. */
#include <stdlib.h>
#include <string.h>

#include "rules.h"
#include "testlib.h"

#define NOW INT64_C(1767000000000) /* Mon 2025-12-29 09:20 UTC */
#define MIN_MS INT64_C(60000)
#define SHIPPED PARLEY_SERVER_DATA_DIR "/routing.json"

static int node_exists(void *ud, const char *node)
{
    (void)ud;
    return strcmp(node, "purchase_recovery") == 0 || strcmp(node, "greeting") == 0;
}

static const rules_env env = {node_exists, NULL, "/usr/share/zoneinfo"};

static rules *shipped(void)
{
    char why[512];
    rules *r = rules_load(SHIPPED, &env, why, sizeof why);

    if (!r)
        fprintf(stderr, "  %s\n", why);
    CHECK(r != NULL);
    return r;
}

/* ---- triage of the shipped file ---- */

typedef struct request {
    const char *name;
    const char *attrs; /* JSON object or NULL */
    const char *event; /* an event name, or NULL */
    int event_age_min;
    const char *category, *severity, *text;
    int asked; /* messages in the last 10 minutes, this one included */
    /* expected */
    const char *route, *priority, *team, *node;
    int jump;
    const char *fired; /* the rule ids, in order, space-separated */
} request;

static const request requests[] = {
    {"password reset", NULL, NULL, 0, NULL, NULL, "how do I reset my password", 1, "kb", "normal",
     "support", NULL, 0, ""},
    {"short how-to question", NULL, NULL, 0, NULL, NULL, "How do I change my avatar?", 1, "kb",
     "normal", "support", NULL, 0, "short_question"},
    {"VIP with a fresh failed purchase", "{\"vip\":true}", "purchase_failed", 3, NULL, NULL,
     "Where are my gems?", 1, "human", "urgent", "payments", NULL, 1,
     "vip_failed_purchase vip purchase_failed short_question"},
    {"VIP whose purchase failed long ago", "{\"vip\":true}", "purchase_failed", 45, NULL, NULL,
     "Where are my gems?", 1, "kb", "high", "support", NULL, 1, "vip short_question"},
    {"player with a fresh failed purchase", "{\"vip\":false}", "purchase_failed", 3, NULL, NULL,
     "Where are my gems?", 1, "bot", "normal", "payments", "purchase_recovery", 0,
     "purchase_failed short_question"},
    {"asks for a human", NULL, NULL, 0, NULL, NULL, "I want to talk to a human", 1, "human",
     "normal", "support", NULL, 0, "wants_human"},
    {"the app says payments, severity critical", "{\"spend\":120}", NULL, 0, "payments", "critical",
     "my card was charged", 1, "human", "high", "payments", NULL, 0,
     "big_spender payments_topic severe_hint"},
    {"crash at conv.start", NULL, NULL, 0, "bug", NULL, NULL, 0, "kb", "normal", "tech", NULL, 0,
     "crash"},
    {"no message yet: keywords cannot fire", NULL, NULL, 0, NULL, NULL, NULL, 0, "kb", "normal",
     "support", NULL, 0, ""},
};

/* The space-separated ids of the rules among the reasons. */
static void fired_ids(const triage *t, char *out, size_t cap)
{
    const cJSON *it;

    out[0] = '\0';
    cJSON_ArrayForEach(it, t->reasons) {
        const char *rule = cJSON_GetObjectItemCaseSensitive(it, "rule")->valuestring;
        if (strcmp(rule, "routes") == 0 || strcmp(rule, "route") == 0)
            continue;
        snprintf(out + strlen(out), cap - strlen(out), "%s%s", out[0] ? " " : "", rule);
    }
}

static void run_request(const rules *r, const request *q, triage *t)
{
    cJSON *attrs = q->attrs ? cJSON_Parse(q->attrs) : NULL;
    cond_event ev = {q->event, NULL, NOW - q->event_age_min * MIN_MS};
    int64_t asked[8];
    cond_input in;

    memset(&in, 0, sizeof in);
    in.now_ms = NOW;
    in.attributes = attrs;
    in.events = q->event ? &ev : NULL;
    in.nevents = q->event ? 1 : 0;
    in.category = q->category;
    in.severity = q->severity;
    in.text = q->text;
    for (int i = 0; i < q->asked && i < 8; i++)
        asked[i] = NOW - i * MIN_MS;
    in.asked_ms = asked;
    in.nasked = (size_t)q->asked;
    CHECK_INT(rules_triage(r, &in, t), 0);
    cJSON_Delete(attrs);
}

static void test_triage_table(void)
{
    rules *r = shipped();
    char fired[512];

    for (size_t i = 0; r && i < sizeof requests / sizeof requests[0]; i++) {
        const request *q = &requests[i];
        triage t;
        run_request(r, q, &t);
        fired_ids(&t, fired, sizeof fired);
        if (strcmp(rules_route_name(t.route), q->route) != 0 ||
            strcmp(rules_priority_name(t.priority), q->priority) != 0 ||
            strcmp(t.team, q->team) != 0 || t.jump != q->jump || strcmp(fired, q->fired) != 0 ||
            (q->node ? !t.node || strcmp(t.node, q->node) != 0 : t.node != NULL)) {
            fprintf(stderr, "  %s: route %s priority %s team %s node %s jump %d fired \"%s\"\n",
                    q->name, rules_route_name(t.route), rules_priority_name(t.priority), t.team,
                    t.node ? t.node : "-", t.jump, fired);
            CHECK(0);
        }
        triage_clear(&t);
    }
    rules_free(r);
}

/* A long complaint sent for the third time scores a higher severity (and
 * score) than a one-line question. */
static void test_complaint_outranks_question(void)
{
    rules *r = shipped();
    request q = {"question", NULL, NULL, 0,    NULL, NULL, "How do I change my avatar?",
                 1,          NULL, NULL, NULL, NULL, 0,    NULL};
    request c = q;
    triage tq, tc;

    if (!r)
        return;
    c.text = "I have written about this before and it is still not fixed. My account shows the "
             "wrong level after the update, all my progress from the last two weeks is gone, and "
             "nobody has answered me. This is unacceptable for a game I have paid for. Please "
             "restore my progress or tell me what is going on, I have been waiting for days now "
             "and I am really fed up with this.";
    c.asked = 3;
    run_request(r, &q, &tq);
    run_request(r, &c, &tc);
    CHECK(tc.severity > tq.severity);
    CHECK(tc.score > tq.score);
    CHECK(tc.effort > tq.effort);
    CHECK_STR(rules_route_name(tc.route), "human");
    CHECK_STR(rules_route_name(tq.route), "kb");
    triage_clear(&tq);
    triage_clear(&tc);
    rules_free(r);
}

/* Every reason says what it changed; the JSON the API shows has every
 * member of docs/routing.md. */
static void test_reasons_json(void)
{
    rules *r = shipped();
    triage t;
    cJSON *j, *first;
    char *text;

    if (!r)
        return;
    run_request(r, &requests[2], &t);
    j = triage_to_json(&t);
    CHECK(j != NULL);
    text = j ? cJSON_PrintUnformatted(j) : NULL;
    first = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "reasons"), 0);
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "rule")),
              "vip_failed_purchase");
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "text")),
              "VIP player whose purchase failed in the last 10 minutes");
    CHECK_INT(cJSON_GetObjectItemCaseSensitive(first, "severity")->valueint, 2);
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "jump")));
    CHECK_STR(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(first, "team")), "payments");
    /* base 1/1/0; +2 complexity, +3+1+2 severity, -1 complexity: 2/7/0, and
     * (2 + 2*7 + 0) / 40 = 40 %. */
    CHECK(text && strstr(text, "\"complexity\":2,\"severity\":7,\"effort\":0,\"score\":40,"
                               "\"route\":\"human\",\"priority\":\"urgent\",\"team\":\"payments\","
                               "\"node\":null,\"jump\":true,\"reasons\":["));
    CHECK(text && strstr(text, "{\"rule\":\"route\",\"text\":\"route human from rule "
                               "vip_failed_purchase\"}"));
    CHECK_INT(triage_add_reason(&t, "hours", "team payments is closed"), 0);
    CHECK_INT(cJSON_GetArraySize(t.reasons), 6);
    cJSON_free(text);
    cJSON_Delete(j);
    triage_clear(&t);
    rules_free(r);
}

static void test_teams_and_texts(void)
{
    rules *r = shipped();
    char *oh;
    int64_t sat_night = INT64_C(1767388800000); /* Fri 2026-01-02 21:20 UTC: 22:20 in Berlin */
    int64_t ev, as;

    if (!r)
        return;
    CHECK_INT(rules_team_count(r), 3);
    CHECK_STR(rules_team_name(r, 1), "payments");
    CHECK(rules_team_name(r, 3) == NULL);
    CHECK_INT(rules_team_index(r, "tech"), 2);
    CHECK_INT(rules_team_index(r, "nope"), -1);
    CHECK_STR(rules_default_team(r), "support");
    CHECK(rules_team_has_agent(r, "payments", "Dana"));
    CHECK(!rules_team_has_agent(r, "payments", "Lee"));
    CHECK(!rules_team_has_agent(r, "nope", "Dana"));
    /* The account "dana" is the file's "Dana". */
    CHECK(rules_team_has_agent(r, "payments", "dana"));
    CHECK(!rules_team_has_agent(r, "payments", "dan"));
    CHECK(!rules_team_has_agent(r, "payments", NULL));
    CHECK(rules_team_open(r, "support", sat_night));
    CHECK(rules_team_open(r, "payments", NOW));
    CHECK(!rules_team_open(r, "payments", sat_night));
    /* Saturday 10:00 CET. */
    CHECK_INT(rules_team_next_open(r, "payments", sat_night), INT64_C(1767430800000));
    oh = rules_out_of_hours(r, "payments", sat_night);
    CHECK_STR(oh, "Our payments team is away right now. They are back Sat 3 Jan 10:00 CET "
                  "(in 11 h 40 min); your conversation stays open and the answer will arrive "
                  "right here.");
    free(oh);
    /* An unknown team is the default team (always open). */
    CHECK(rules_team_open(r, "gone", sat_night));
    CHECK(rules_kb_says_no(r, "no, that didn't help"));
    CHECK(rules_kb_says_no(r, "Nope."));
    CHECK(!rules_kb_says_no(r, "yes it worked, thanks"));
    CHECK(!rules_kb_says_no(r, NULL));
    CHECK_STR(rules_kb_texts(r)->ask, "Did this solve it?");
    CHECK_INT(rules_kb_texts(r)->escalate_effort, 2);
    CHECK_INT(rules_wait_window(r), 20);
    CHECK_INT(rules_default_handle_ms(r), 300000);
    rules_windows(r, &ev, &as);
    CHECK_INT(ev, 600);
    CHECK_INT(as, 3600);
    rules_free(r);
}

static void test_defaults(void)
{
    static const char text[] = "{\"teams\":{\"all\":{}},\"default_team\":\"all\"}";
    char why[256];
    rules *r = rules_parse(text, strlen(text), NULL, NULL, why, sizeof why);
    cond_input in;
    triage t;
    char *oh;

    CHECK(r != NULL);
    if (!r)
        return;
    memset(&in, 0, sizeof in);
    CHECK_INT(rules_triage(r, &in, &t), 0);
    CHECK_STR(rules_route_name(t.route), "bot");
    CHECK_STR(rules_priority_name(t.priority), "normal");
    CHECK_INT(t.score, 0);
    CHECK_STR(t.team, "all");
    CHECK_INT(cJSON_GetArraySize(t.reasons), 1);
    triage_clear(&t);
    CHECK_STR(rules_kb_texts(r)->no, "No, I still need help");
    CHECK(rules_kb_says_no(r, "it does not work"));
    oh = rules_out_of_hours(r, "all", NOW);
    CHECK(oh && strstr(oh, "We are back Mon 29 Dec 09:20 UTC (in 1 min)"));
    free(oh);
    oh = rules_nobody_online(r, "all");
    CHECK_STR(oh, "Nobody from our all team is online right now. Your conversation stays open "
                  "and the answer will arrive here, even if you close the app.");
    free(oh);
    rules_free(r);
}

/* A team's own "nobody online" text, {team} filled in wherever it is. */
static void test_nobody_online(void)
{
    static const char text[] =
        "{\"teams\":{\"pay\":{\"nobody_online\":\"{team}: nobody here. Ask {team} later.\"},"
        "\"x\":{}},\"default_team\":\"x\"}";
    char why[256];
    rules *r = rules_parse(text, strlen(text), NULL, NULL, why, sizeof why);
    char *t;

    CHECK(r != NULL);
    if (!r)
        return;
    t = rules_nobody_online(r, "pay");
    CHECK_STR(t, "pay: nobody here. Ask pay later.");
    free(t);
    /* An unknown team is the default team. */
    t = rules_nobody_online(r, "gone");
    CHECK(t && strncmp(t, "Nobody from our x team", 22) == 0);
    free(t);
    rules_free(r);
}

/* ---- malformed files ---- */

static const struct {
    const char *text, *error;
} bad_files[] = {
    {"", "line 1: not valid JSON"},
    {"{\n\"teams\": {\n", "line 2: not valid JSON"},
    {"{\"a\":1,\n\"b\":tru\n}", "line 2: not valid JSON"},
    {"{\n  \"teams\": {\"a\": {}},\n  \"default_team\": \"a\",\n  \"rules\": [}\n",
     "line 4: not valid JSON"},
    {"[]", "line 1: the routing file must be a JSON object"},
    {"{\"teams\":{\"a\":{}}}", "line 1: default_team is required"},
    {"{\n\"teams\":{\"a\":{}},\n\"default_team\":\"b\"\n}",
     "line 3: default_team: default_team must name"},
    {"{\n\"teams\":{},\n\"default_team\":\"a\"}",
     "line 2: teams: teams must be an object of 1 to 64"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\n\"rulez\":[]}",
     "line 2: rulez: unknown member \"rulez\" of the file"},
    {"{\"teams\":{\"a\":{}},\n\"default_team\":\"a\",\n\"default_team\":\"a\"}",
     "line 3: default_team: duplicate key"},
    {"{\"teams\":{\"a\":{\"agents\":[\"x\"],\n\"agents\":[]}},\"default_team\":\"a\"}",
     "line 2: teams.a.agents: duplicate key"},
    {"{\"teams\":{\"a\":{\n\"timezone\":\"Mars/Olympus\"}},\"default_team\":\"a\"}",
     "line 2: teams.a.timezone: Mars/Olympus: unknown time zone"},
    {"{\"teams\":{\"a\":{\"timezone\":\"../../etc/passwd\"}},\"default_team\":\"a\"}",
     "line 1: teams.a.timezone: ../../etc/passwd: not a time zone name"},
    {"{\"teams\":{\"a\":{\"hours\":{\n\n\"mon\":\"9-5\"}}},\"default_team\":\"a\"}",
     "line 3: teams.a.hours.mon: a span must be"},
    {"{\"teams\":{\"a\":{\"hours\":{\"mon\":[]},\"closed\":[\n\"2026-02-29\"]}},\"default_team\":"
     "\"a\"}",
     "line 2: teams.a.closed[0]: a closed date must be"},
    {"{\"teams\":{\"a\":{\"agents\":[\"\"]}},\"default_team\":\"a\"}",
     "teams.a.agents[0]: an agent's name must be"},
    {"{\"teams\":{\"a\":{\"lead\":\"x\"}},\"default_team\":\"a\"}",
     "teams.a.lead: unknown member \"lead\" of a team"},
    {"{\"teams\":{\"a\":{\n\"nobody_online\":\"\"}},\"default_team\":\"a\"}",
     "line 2: teams.a.nobody_online: "},
    {"{\"teams\":{\"a\":{\"agents\":[],\n\"nobody_online\":7}},\"default_team\":\"a\"}",
     "line 2: teams.a.nobody_online: "},
    {"{\"teams\":{\"a b\":{}},\"default_team\":\"a\"}", "teams.a b: a team's name must be"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[\n{\"id\":\"r1\",\"when\":{}},\n{"
     "\"id\":\"r1\",\"when\":{}}]}",
     "line 3: rules[1].id: id \"r1\" is used by an earlier rule"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[\n{\"id\":\"r1\"}]}",
     "line 2: rules[0]: a rule needs a condition"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"when\":{}}]}",
     "rules[0]: a rule needs an id"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\n\"when\":{\"event\":{"
     "\"name\":\"x\",\n\"within_s\":-1}}}]}",
     "line 3: rules[0].when.event.within_s: must be an integer of 1 to 2592000"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\n\"team\":"
     "\"b\"}]}",
     "line 2: rules[0].team: team must name a team of the file"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},"
     "\"priority\":\"asap\"}]}",
     "rules[0].priority: must be \"low\", \"normal\", \"high\" or \"urgent\""},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\"route\":"
     "\"email\"}]}",
     "rules[0].route: must be \"kb\", \"bot\" or \"human\""},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\"route\":"
     "\"human\",\"node\":\"greeting\"}]}",
     "rules[0].node: a node is for route \"bot\""},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\"node\":"
     "\"nowhere\"}]}",
     "rules[0].node: the bot flow has no node \"nowhere\""},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\"add\":{"
     "\"severity\":11}}]}",
     "rules[0].add.severity: must be an integer of -10 to 10"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\"add\":{"
     "\"anger\":1}}]}",
     "rules[0].add.anger: unknown member"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{},\"jump\":1}"
     "]}",
     "rules[0].jump: jump must be true or false"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":[{\"id\":\"r\",\"when\":{\"vip\":true}"
     "}]}",
     "rules[0].when.vip: unknown condition"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":{}}", "rules: rules must be an array"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"routes\":[{\"min_score\":10,\"route\":\"kb\"}]"
     "}",
     "routes: the last route must have min_score 0"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"routes\":[{\"min_score\":0,\"route\":\"kb\"},"
     "\n{\"min_score\":50,\"route\":\"human\"}]}",
     "line 2: routes[1]: routes must be in descending min_score order"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"routes\":[{\"route\":\"kb\"}]}",
     "routes[0]: a route needs min_score and route"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"routes\":[]}",
     "routes: routes must be an array of 1 to 16"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"weights\":{\"complexity\":0,\"severity\":0,"
     "\"effort\":0}}",
     "weights: at least one weight must be above 0"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"base\":{\"severity\":-1}}",
     "base.severity: must be an integer of 0 to 10"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"kb\":{\"ask\":\"\"}}",
     "kb.ask: must be a string of 1 to 1024 bytes"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"kb\":{\"no_words\":[]}}",
     "kb.no_words: no_words must be an array"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"wait\":{\"window\":0}}",
     "wait.window: must be an integer of 1 to 1000"},
    {"{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"wait\":5}", "wait: wait must be an object"},
};

static void test_bad_files(void)
{
    char why[512];

    for (size_t i = 0; i < sizeof bad_files / sizeof bad_files[0]; i++) {
        rules *r =
            rules_parse(bad_files[i].text, strlen(bad_files[i].text), &env, NULL, why, sizeof why);
        CHECK(r == NULL);
        if (!strstr(why, bad_files[i].error)) {
            fprintf(stderr, "  case %zu: \"%s\"\n  lacks \"%s\"\n", i, why, bad_files[i].error);
            CHECK(0);
        }
        rules_free(r);
    }
}

static void test_bad_bytes(void)
{
    static const char nul[] = "{\"teams\":{\"a\":{}},\0\"default_team\":\"a\"}";
    static const char latin1[] =
        "{\n\"teams\":{\"a\":{\"description\":\"caf\xe9\"}},\"default_team\":\"a\"}";
    char why[512], *deep = malloc(20003);
    rules *r;

    CHECK(rules_parse(nul, sizeof nul - 1, &env, "x.json", why, sizeof why) == NULL);
    CHECK_STR(why, "x.json:1: not UTF-8 text");
    CHECK(rules_parse(latin1, strlen(latin1), &env, NULL, why, sizeof why) == NULL);
    CHECK_STR(why, "line 2: not UTF-8 text");
    /* Nesting cJSON refuses, and nesting it accepts but we do not. */
    if (!deep)
        return;
    memset(deep, '[', 20000);
    deep[20000] = '\0';
    CHECK(rules_parse(deep, 20000, &env, NULL, why, sizeof why) == NULL);
    CHECK(strstr(why, "not valid JSON") != NULL);
    snprintf(deep, 20003, "{\"description\":%s", "");
    for (int i = 0; i < 40; i++)
        strcat(deep, "[");
    for (int i = 0; i < 40; i++)
        strcat(deep, "]");
    strcat(deep, "}");
    r = rules_parse(deep, strlen(deep), &env, NULL, why, sizeof why);
    CHECK(r == NULL);
    CHECK_STR(why, "line 1: nested deeper than 32");
    free(deep);
}

/* Every prefix of the shipped file is refused with a line, none crashes;
 * the whole file loads. */
static void test_truncated(void)
{
    size_t len;
    char *text = tl_read_file(SHIPPED, &len), why[512];
    rules *r;

    CHECK(text != NULL);
    if (!text)
        return;
    for (size_t cut = 0; cut < len - 1; cut++) {
        r = rules_parse(text, cut, &env, "routing.json", why, sizeof why);
        CHECK(r == NULL);
        if (r || strncmp(why, "routing.json:", 13) != 0) {
            fprintf(stderr, "  cut %zu: %s\n", cut, why);
            break;
        }
        rules_free(r);
    }
    r = rules_parse(text, len, &env, "routing.json", why, sizeof why);
    CHECK(r != NULL);
    rules_free(r);
    free(text);
}

static void test_load_errors(void)
{
    char why[512];

    CHECK(rules_load("/nonexistent/routing.json", &env, why, sizeof why) == NULL);
    CHECK_STR(why, "/nonexistent/routing.json: cannot open the file");
    /* Without a flow to check against, any node name is taken. */
    {
        static const char text[] = "{\"teams\":{\"a\":{}},\"default_team\":\"a\",\"rules\":["
                                   "{\"id\":\"r\",\"when\":{},\"node\":\"anything\"}]}";
        rules *r = rules_parse(text, strlen(text), NULL, NULL, why, sizeof why);
        CHECK(r != NULL);
        rules_free(r);
    }
}

int main(void)
{
    RUN(test_triage_table);
    RUN(test_complaint_outranks_question);
    RUN(test_reasons_json);
    RUN(test_teams_and_texts);
    RUN(test_defaults);
    RUN(test_nobody_online);
    RUN(test_bad_files);
    RUN(test_bad_bytes);
    RUN(test_truncated);
    RUN(test_load_errors);
    return tl_finish();
}
