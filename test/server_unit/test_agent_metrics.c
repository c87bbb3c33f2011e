/* The definitions behind SLA clocks and support metrics, on made-up
 * conversation histories: episodes, first and next responses, holds,
 * first-contact resolution, CSAT and NPS, percentiles, the --sla file. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics_agg.h"
#include "sla_policy.h"
#include "testlib.h"
#include "timeline.h"

#define S 1000LL           /* ms per second */
#define T0 1763856000000LL /* 2025-11-23 00:00:00 UTC */

static tl_event ev(tl_kind k, int64_t s, const char *agent)
{
    tl_event e;

    e.kind = k;
    e.ts = T0 + s * S;
    e.agent = agent;
    e.priority = NULL;
    return e;
}

static tl_event prio(int64_t s, const char *p)
{
    tl_event e = ev(TL_PRIORITY, s, NULL);

    e.priority = p;
    return e;
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- timeline ---- */

/* Bot first, hand-off, queue, an agent answers, the user and the agent go
 * back and forth, close. */
static void test_timeline_simple(void)
{
    tl_event e[] = {
        ev(TL_USER_MSG, 0, NULL),      ev(TL_BOT_MSG, 1, NULL),    ev(TL_USER_MSG, 20, NULL),
        ev(TL_HANDOFF, 21, NULL),      ev(TL_USER_MSG, 30, NULL),  ev(TL_ASSIGN, 80, "dana"),
        ev(TL_AGENT_MSG, 101, "dana"), ev(TL_USER_MSG, 200, NULL), ev(TL_USER_MSG, 210, NULL),
        ev(TL_AGENT_MSG, 260, "dana"), ev(TL_CLOSE, 300, NULL),
    };
    tl_facts f;

    CHECK_INT(tl_facts_compute(e, N(e), T0 + 1000 * S, &f), 0);
    CHECK_INT(f.n_episodes, 1);
    /* FRT from the hand-off (21 s), not from the conversation's start:
     * the bot's time does not count. */
    CHECK_INT(f.episodes[0].start, T0 + 21 * S);
    CHECK_INT(f.episodes[0].first_response - f.episodes[0].start, 80 * S);
    CHECK_STR(f.episodes[0].responder, "dana");
    CHECK_INT(f.episodes[0].end, T0 + 300 * S);
    CHECK(tl_current(&f) == NULL);
    /* Next response: from the first unanswered message (200), not the
     * last (210). */
    CHECK_INT(f.n_nrt, 1);
    CHECK_INT(f.nrt_ms[0], 60 * S);
    CHECK_INT(f.handle_ms, 220 * S);
    CHECK_INT(f.n_holds, 1);
    CHECK_INT(f.closes, 1);
    CHECK_INT(f.reopens, 0);
    CHECK_INT(f.transfers, 0);
    CHECK_INT(f.writers, 1);
    CHECK(f.holder == NULL);
    CHECK_STR(f.last_holder, "dana");
    CHECK_INT(f.first_start, T0 + 21 * S);
    CHECK_INT(f.last_close, T0 + 300 * S);
    CHECK_STR(f.priority, "normal");
    tl_facts_clear(&f);
}

/* An agent writing while the bot has the conversation takes it: the
 * episode starts there, and that message is the first response. */
static void test_timeline_takeover(void)
{
    tl_event e[] = {ev(TL_USER_MSG, 0, NULL), ev(TL_BOT_MSG, 1, NULL), ev(TL_AGENT_MSG, 50, "sam"),
                    ev(TL_USER_MSG, 60, NULL)};
    tl_facts f;

    CHECK_INT(tl_facts_compute(e, N(e), T0 + 100 * S, &f), 0);
    CHECK_INT(f.n_episodes, 1);
    CHECK_INT(f.episodes[0].first_response - f.episodes[0].start, 0);
    CHECK_STR(f.holder, "sam");
    /* Still held: the hold runs until `now`. */
    CHECK_INT(f.handle_ms, 50 * S);
    CHECK(tl_current(&f) != NULL);
    CHECK_INT(f.awaiting_since, T0 + 60 * S);
    tl_facts_clear(&f);
}

/* Transfer, hand back to the bot, second hand-off, reopen. */
static void test_timeline_transfer_reopen(void)
{
    tl_event e[] = {
        ev(TL_HANDOFF, 0, NULL),       ev(TL_ASSIGN, 10, "dana"),   ev(TL_AGENT_MSG, 20, "dana"),
        ev(TL_TRANSFER, 40, "sam"),    ev(TL_AGENT_MSG, 50, "sam"), ev(TL_BOT, 70, NULL),
        ev(TL_USER_MSG, 80, NULL),     ev(TL_HANDOFF, 90, NULL),    ev(TL_ASSIGN, 100, "sam"),
        ev(TL_AGENT_MSG, 130, "sam"),  ev(TL_CLOSE, 150, NULL),     ev(TL_REOPEN, 400, NULL),
        ev(TL_AGENT_MSG, 410, "dana"), ev(TL_CLOSE, 420, NULL),
    };
    tl_facts f;
    size_t i;
    int64_t dana = -1, sam = -1;

    CHECK_INT(tl_facts_compute(e, N(e), T0 + 1000 * S, &f), 0);
    CHECK_INT(f.n_episodes, 3);
    CHECK_INT(f.episodes[0].first_response - f.episodes[0].start, 20 * S);
    CHECK_INT(f.episodes[0].end, T0 + 70 * S);
    CHECK_INT(f.episodes[1].start, T0 + 90 * S);
    CHECK_INT(f.episodes[1].first_response - f.episodes[1].start, 40 * S);
    CHECK_INT(f.episodes[2].start, T0 + 400 * S);
    CHECK_INT(f.episodes[2].first_response - f.episodes[2].start, 10 * S);
    CHECK_STR(f.episodes[2].responder, "dana");
    CHECK_INT(f.transfers, 1);
    CHECK_INT(f.closes, 2);
    CHECK_INT(f.reopens, 1);
    CHECK_INT(f.writers, 2);
    for (i = 0; i < f.n_holds; i++) {
        if (strcmp(f.holds[i].agent, "dana") == 0)
            dana = f.holds[i].ms;
        if (strcmp(f.holds[i].agent, "sam") == 0)
            sam = f.holds[i].ms;
    }
    /* dana 10..40 and 410..420; sam 40..70 and 100..150. Time in the
     * queue and with the bot is nobody's. */
    CHECK_INT(dana, 40 * S);
    CHECK_INT(sam, 80 * S);
    CHECK_INT(f.handle_ms, 120 * S);
    CHECK_STR(f.last_holder, "dana");
    CHECK_INT(f.first_start, T0);
    CHECK_INT(f.last_close, T0 + 420 * S);
    tl_facts_clear(&f);
}

static void test_timeline_empty_and_names(void)
{
    tl_facts f;

    CHECK_INT(tl_facts_compute(NULL, 0, T0, &f), 0);
    CHECK_INT(f.n_episodes, 0);
    CHECK_INT(f.first_start, 0);
    CHECK(tl_current(&f) == NULL);
    tl_facts_clear(&f);
    CHECK_INT(tl_kind_of_action("assign"), TL_ASSIGN);
    CHECK_INT(tl_kind_of_action("transfer"), TL_TRANSFER);
    CHECK_INT(tl_kind_of_action("close"), TL_CLOSE);
    CHECK_INT(tl_kind_of_action("handoff"), TL_HANDOFF);
    CHECK_INT(tl_kind_of_action("reply"), -1);
    CHECK_INT(tl_kind_of_action(NULL), -1);
    CHECK_STR(tl_action_name(TL_BOT), "bot");
    CHECK(tl_action_name(TL_USER_MSG) == NULL);
}

/* ---- SLA ---- */

static const char POLICY[] =
    "{\"policies\":{"
    "\"urgent\":{\"first_response_s\":300,\"next_response_s\":120,\"warn_before_s\":60},"
    "\"normal\":{\"first_response_s\":3600,\"next_response_s\":1800},"
    "\"low\":{\"first_response_s\":14400}}}";

static void test_sla_parse(void)
{
    sla_policy p;
    char why[256];

    CHECK_INT(sla_policy_parse(POLICY, strlen(POLICY), &p, why, sizeof why), 0);
    CHECK(p.enabled);
    CHECK_INT(p.first[SLA_URGENT].target_s, 300);
    CHECK_INT(p.first[SLA_URGENT].warn_before_s, 60);
    CHECK_INT(p.next[SLA_URGENT].warn_before_s, 60);
    /* Default warning: a fifth of the target. */
    CHECK_INT(p.first[SLA_NORMAL].warn_before_s, 720);
    CHECK_INT(p.next[SLA_NORMAL].warn_before_s, 360);
    CHECK_INT(p.first[SLA_HIGH].target_s, 0);
    CHECK_INT(p.next[SLA_LOW].target_s, 0);
    CHECK_INT(sla_priority_index("high"), SLA_HIGH);
    CHECK_INT(sla_priority_index("HIGH"), -1);
    CHECK_STR(sla_priority_name(SLA_LOW), "low");
    CHECK(sla_priority_name(7) == NULL);
}

static void check_bad_policy(const char *json, const char *want_in_why)
{
    sla_policy p;
    char why[256] = "";

    CHECK_INT(sla_policy_parse(json, strlen(json), &p, why, sizeof why), -1);
    if (!strstr(why, want_in_why))
        fprintf(stderr, "  why: '%s', wanted '%s'\n", why, want_in_why);
    CHECK(strstr(why, want_in_why) != NULL);
    CHECK(!p.enabled);
}

static void test_sla_bad_files(void)
{
    check_bad_policy("", "not valid JSON");
    check_bad_policy("[]", "not valid JSON");
    check_bad_policy("{}", "policies");
    check_bad_policy("{\"policies\":{}, \"extra\":1}", "extra: unknown member");
    check_bad_policy("{\"policies\":{\"critical\":{\"first_response_s\":60}}}", "critical");
    check_bad_policy("{\"policies\":{\"high\":{\"first_response_s\":0}}}",
                     "policies.high.first_response_s");
    check_bad_policy("{\"policies\":{\"high\":{\"first_response_s\":1.5}}}",
                     "policies.high.first_response_s");
    check_bad_policy("{\"policies\":{\"high\":{\"first_response_s\":2592001}}}",
                     "policies.high.first_response_s");
    check_bad_policy("{\"policies\":{\"high\":{\"first_response_s\":\"60\"}}}",
                     "policies.high.first_response_s");
    check_bad_policy("{\"policies\":{\"high\":{\"first_respons_s\":60}}}",
                     "policies.high.first_respons_s: unknown member");
    check_bad_policy("{\"policies\":{\"high\":{\"first_response_s\":60,\"warn_before_s\":60}}}",
                     "policies.high.warn_before_s");
    check_bad_policy("{\"policies\":{\"high\":{\"warn_before_s\":6}}}", "no target");
    check_bad_policy("{\"policies\":{\"high\":{\"first_response_s\":60},"
                     "\"high\":{\"first_response_s\":60}}}",
                     "not valid JSON");
}

static void test_sla_load_file(void)
{
    sla_policy p;
    char why[256], path[] = "/tmp/parley-sla-XXXXXX";
    FILE *f;
    int fd = mkstemp(path);

    CHECK(fd >= 0);
    if (fd < 0)
        return;
    f = fdopen(fd, "w");
    fputs(POLICY, f);
    fclose(f);
    CHECK_INT(sla_policy_load(path, &p, why, sizeof why), 0);
    CHECK_INT(p.first[SLA_LOW].target_s, 14400);
    remove(path);
    CHECK_INT(sla_policy_load(path, &p, why, sizeof why), -1);
    CHECK(strstr(why, "cannot read") != NULL);
    /* The shipped example is valid. */
    CHECK_INT(sla_policy_load(PARLEY_SLA_EXAMPLE, &p, why, sizeof why), 0);
    CHECK(p.enabled);
}

static void test_sla_clocks(void)
{
    sla_policy p;
    char why[128];
    sla_clock first, next;
    tl_facts f;
    tl_event e[] = {
        ev(TL_HANDOFF, 0, NULL),       prio(5, "urgent"),          ev(TL_ASSIGN, 100, "dana"),
        ev(TL_AGENT_MSG, 200, "dana"), ev(TL_USER_MSG, 250, NULL), ev(TL_USER_MSG, 260, NULL),
    };

    sla_policy_parse(POLICY, strlen(POLICY), &p, why, sizeof why);
    /* Waiting in the queue, urgent: due 300 s after the hand-off (the
     * priority change moved the due time, not the start). */
    CHECK_INT(tl_facts_compute(e, 2, T0 + 10 * S, &f), 0);
    sla_clocks(&p, &f, &first, &next);
    CHECK(first.running);
    CHECK_INT(first.start, T0);
    CHECK_INT(first.due, T0 + 300 * S);
    CHECK_INT(first.warn, T0 + 240 * S);
    CHECK(!next.running && next.start == 0);
    tl_facts_clear(&f);
    /* Answered at 200: met, kept while the episode runs; the user writes
     * at 250: the next-response clock runs from 250 for 120 s. */
    CHECK_INT(tl_facts_compute(e, N(e), T0 + 270 * S, &f), 0);
    sla_clocks(&p, &f, &first, &next);
    CHECK(!first.running);
    CHECK_INT(first.met, T0 + 200 * S);
    CHECK(next.running);
    CHECK_INT(next.start, T0 + 250 * S);
    CHECK_INT(next.due, T0 + 370 * S);
    CHECK_INT(next.warn, T0 + 310 * S);
    tl_facts_clear(&f);
    /* A priority without a policy (high) runs no clock; nor does a
     * conversation the bot has, nor a server without --sla. */
    e[1] = prio(5, "high");
    CHECK_INT(tl_facts_compute(e, 2, T0 + 10 * S, &f), 0);
    sla_clocks(&p, &f, &first, &next);
    CHECK(!first.running && first.due == 0);
    tl_facts_clear(&f);
    e[1] = prio(5, "urgent");
    CHECK_INT(tl_facts_compute(e + 1, 1, T0 + 10 * S, &f), 0);
    sla_clocks(&p, &f, &first, &next);
    CHECK(!first.running && first.due == 0);
    tl_facts_clear(&f);
    memset(&p, 0, sizeof p);
    CHECK_INT(tl_facts_compute(e, 2, T0 + 10 * S, &f), 0);
    sla_clocks(&p, &f, &first, &next);
    CHECK(!first.running);
    tl_facts_clear(&f);
}

/* ---- metrics ---- */

static void test_percentiles(void)
{
    int64_t v[10] = {10, 1, 9, 2, 8, 3, 7, 4, 6, 5}, one[1] = {42}, two[2] = {7, 3};

    /* Nearest rank: p50 of 1..10 is 5, p90 is 9, p100 is 10. */
    CHECK_INT(magg_percentile(v, 10, 50), 5);
    CHECK_INT(magg_percentile(v, 10, 90), 9);
    CHECK_INT(magg_percentile(v, 10, 91), 10);
    CHECK_INT(magg_percentile(v, 10, 100), 10);
    CHECK_INT(magg_percentile(one, 1, 50), 42);
    CHECK_INT(magg_percentile(one, 1, 90), 42);
    CHECK_INT(magg_percentile(two, 2, 50), 3);
    CHECK_INT(magg_percentile(two, 2, 90), 7);
}

static void test_csat_positive(void)
{
    CHECK(magg_csat_positive(5, 1, 5));
    CHECK(magg_csat_positive(4, 1, 5));
    CHECK(!magg_csat_positive(3, 1, 5));
    CHECK(magg_csat_positive(10, 0, 10));
    CHECK(magg_csat_positive(9, 0, 10));
    CHECK(!magg_csat_positive(8, 0, 10));
    /* A 3-point scale: only the top. */
    CHECK(magg_csat_positive(3, 1, 3));
    CHECK(!magg_csat_positive(2, 1, 3));
    CHECK(magg_csat_positive(1, 0, 1));
    CHECK(!magg_csat_positive(0, 0, 1));
}

static double num(const cJSON *o, const char *path)
{
    char buf[128], *save = NULL, *tok;
    const cJSON *it = o;

    snprintf(buf, sizeof buf, "%s", path);
    for (tok = strtok_r(buf, ".", &save); tok && it; tok = strtok_r(NULL, ".", &save))
        it = cJSON_IsArray(it) ? cJSON_GetArrayItem(it, atoi(tok))
                               : cJSON_GetObjectItemCaseSensitive(it, tok);
    if (!cJSON_IsNumber(it)) {
        fprintf(stderr, "  %s: not a number\n", path);
        return -99999;
    }
    return it->valuedouble;
}

static int is_null(const cJSON *o, const char *a, const char *b)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, a);

    return cJSON_IsNull(b ? cJSON_GetObjectItemCaseSensitive(x, b) : x);
}

static void add(magg *m, int64_t created_s, const tl_event *e, size_t n)
{
    tl_facts f;

    CHECK_INT(tl_facts_compute(e, n, T0 + 86400 * S, &f), 0);
    CHECK_INT(magg_conv(m, T0 + created_s * S, &f), 0);
    tl_facts_clear(&f);
}

static magg_survey csat(int64_t delivered_s, int64_t submitted_s, int rating, const char *agent)
{
    magg_survey s;

    memset(&s, 0, sizeof s);
    s.delivered_ms = T0 + delivered_s * S;
    s.submitted_ms = submitted_s ? T0 + submitted_s * S : 0;
    s.has_rating = 1;
    s.rating = rating;
    s.rating_answered = rating >= 0;
    s.rating_min = 1;
    s.rating_max = 5;
    s.agent = agent;
    return s;
}

static magg_survey nps(int64_t submitted_s, int score)
{
    magg_survey s;

    memset(&s, 0, sizeof s);
    s.delivered_ms = s.submitted_ms = T0 + submitted_s * S;
    s.has_nps = s.nps_answered = 1;
    s.nps = score;
    return s;
}

/* Four conversations in a one-day window and one outside it. */
static void test_metrics_window(void)
{
    /* A: answered in 60 s by dana, closed once: first-contact resolved. */
    tl_event a[] = {ev(TL_HANDOFF, 100, NULL), ev(TL_ASSIGN, 130, "dana"),
                    ev(TL_AGENT_MSG, 160, "dana"), ev(TL_CLOSE, 400, NULL)};
    /* B: answered in 300 s, transferred, closed: not FCR. */
    tl_event b[] = {ev(TL_HANDOFF, 1000, NULL),     ev(TL_ASSIGN, 1200, "dana"),
                    ev(TL_AGENT_MSG, 1300, "dana"), ev(TL_TRANSFER, 1400, "sam"),
                    ev(TL_AGENT_MSG, 1500, "sam"),  ev(TL_CLOSE, 1600, NULL)};
    /* C: answered in 120 s, closed, reopened, closed again: not FCR. */
    tl_event c[] = {ev(TL_HANDOFF, 2000, NULL),    ev(TL_AGENT_MSG, 2120, "sam"),
                    ev(TL_CLOSE, 2200, NULL),      ev(TL_REOPEN, 3000, NULL),
                    ev(TL_AGENT_MSG, 3030, "sam"), ev(TL_CLOSE, 3100, NULL)};
    /* D: still queued, never answered: no FRT sample. */
    tl_event d[] = {ev(TL_HANDOFF, 5000, NULL)};
    /* E: answered and closed the day before the window. */
    tl_event x[] = {ev(TL_HANDOFF, -5000, NULL), ev(TL_AGENT_MSG, -4990, "dana"),
                    ev(TL_CLOSE, -4000, NULL)};
    magg *m = magg_new(T0, T0 + 86400 * S);
    magg_survey s;
    cJSON *j;

    CHECK(m != NULL);
    if (!m)
        return;
    add(m, 50, a, N(a));
    add(m, 900, b, N(b));
    add(m, 1900, c, N(c));
    add(m, 4900, d, N(d));
    add(m, -6000, x, N(x));
    magg_state(m, "closed");
    magg_state(m, "closed");
    magg_state(m, "closed");
    magg_state(m, "queued");
    magg_state(m, "nonsense");
    magg_csat_scale(m, 1, 5);
    s = csat(400, 500, 5, "dana");
    CHECK_INT(magg_survey_add(m, &s), 0);
    s = csat(1600, 1700, 2, "sam");
    magg_survey_add(m, &s);
    s = csat(3100, 0, -1, "sam"); /* sent, never answered */
    magg_survey_add(m, &s);
    s = csat(3100, 3200, 4, "sam");
    magg_survey_add(m, &s);
    s = csat(-100, 10, 5, "dana"); /* sent before, answered inside: a response */
    magg_survey_add(m, &s);
    s = nps(600, 10);
    magg_survey_add(m, &s);
    s = nps(700, 9);
    magg_survey_add(m, &s);
    s = nps(800, 8);
    magg_survey_add(m, &s);
    s = nps(900, 3);
    magg_survey_add(m, &s);
    magg_sla(m, 0, 0, T0 + 160 * S);
    magg_sla(m, 0, 1, T0 + 5300 * S);
    magg_sla(m, 1, 1, T0 - 10 * S);
    j = magg_json(m);
    CHECK(j != NULL);
    if (!j) {
        magg_free(m);
        return;
    }
    CHECK_INT(num(j, "volume.created"), 4);
    CHECK_INT(num(j, "volume.handed_off"), 5);
    CHECK_INT(num(j, "volume.closed"), 3);
    CHECK_INT(num(j, "volume.by_state.closed"), 3);
    CHECK_INT(num(j, "volume.by_state.queued"), 1);
    CHECK_INT(num(j, "volume.by_state.bot"), 0);
    /* FRT samples in the window: 60, 300, 120 and 30 (C's reopen). */
    CHECK_INT(num(j, "first_response_s.samples"), 4);
    CHECK_INT(num(j, "first_response_s.median") * 10, 600);
    CHECK_INT(num(j, "first_response_s.p90") * 10, 3000);
    /* Resolution: A 300, B 600, C 1100 (first hand-off to last close). */
    CHECK_INT(num(j, "resolution_s.median"), 600);
    CHECK_INT(num(j, "resolution_s.p90"), 1100);
    /* Handle: A 270, B 200 + 200, C 80 + 70 (the takeover at 2120 until
     * 2200, the reopen's write at 3030 until 3100) -> mean 1100 / 3. */
    CHECK_INT(num(j, "handle_time_s.samples"), 3);
    CHECK_INT(num(j, "handle_time_s.avg") * 10, 2733);
    CHECK_INT(num(j, "fcr.closed"), 3);
    CHECK_INT(num(j, "fcr.resolved_first_contact"), 1);
    CHECK_INT(num(j, "fcr.rate_pct") * 10, 333);
    /* CSAT: 5, 2, 4, 5 answered; 3 sent in the window (one before). */
    CHECK_INT(num(j, "csat.responses"), 4);
    CHECK_INT(num(j, "csat.positive_pct"), 75);
    CHECK_INT(num(j, "csat.avg") * 100, 400);
    CHECK_INT(num(j, "csat.sent"), 4);
    CHECK_INT(num(j, "csat.response_rate_pct"), 100);
    CHECK_INT(num(j, "csat.scale.positive_from"), 4);
    CHECK_INT(num(j, "csat.scale.distribution.5"), 2);
    CHECK_INT(num(j, "csat.scale.distribution.2"), 1);
    CHECK_INT(num(j, "csat.scale.distribution.3"), 0);
    /* NPS: 2 promoters, 1 passive, 1 detractor of 4 -> 25. */
    CHECK_INT(num(j, "nps.score"), 25);
    CHECK_INT(num(j, "nps.responses"), 4);
    CHECK_INT(num(j, "sla.first_response.met"), 1);
    CHECK_INT(num(j, "sla.first_response.breached"), 1);
    CHECK_INT(num(j, "sla.next_response.breached"), 0);
    /* Per agent, sorted by name: dana answered A and B first (60, 100:
     * wait, B's hand-off 1000 to 1300 is 300), sam C twice. */
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "agents")), 2);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "agents"), 0), "name")
                     ->valuestring,
                 "dana") == 0);
    CHECK_INT(num(j, "agents.0.closed"), 1);
    CHECK_INT(num(j, "agents.0.first_response_median_s"), 60);
    CHECK_INT(num(j, "agents.0.csat_responses"), 2);
    CHECK_INT(num(j, "agents.1.closed"), 2);
    CHECK_INT(num(j, "agents.1.first_response_median_s"), 30);
    CHECK_INT(num(j, "agents.1.csat_avg"), 3);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "daily")), 1);
    CHECK(strcmp(cJSON_GetObjectItemCaseSensitive(
                     cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(j, "daily"), 0), "day")
                     ->valuestring,
                 "2025-11-23") == 0);
    CHECK_INT(num(j, "daily.0.created"), 4);
    CHECK_INT(num(j, "daily.0.csat_positive_pct"), 75);
    cJSON_Delete(j);
    magg_free(m);
}

/* Nothing happened: every figure is null, not 0. */
static void test_metrics_empty(void)
{
    magg *m = magg_new(T0, T0 + 3 * 86400 * S);
    cJSON *j;

    CHECK(m != NULL);
    if (!m)
        return;
    j = magg_json(m);
    CHECK(j != NULL);
    CHECK(is_null(j, "first_response_s", "median"));
    CHECK(is_null(j, "first_response_s", "p90"));
    CHECK(is_null(j, "handle_time_s", "avg"));
    CHECK(is_null(j, "fcr", "rate_pct"));
    CHECK(is_null(j, "csat", "positive_pct"));
    CHECK(is_null(j, "csat", "response_rate_pct"));
    CHECK(is_null(j, "csat", "scale"));
    CHECK(is_null(j, "nps", "score"));
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "daily")), 3);
    CHECK_INT(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(j, "agents")), 0);
    cJSON_Delete(j);
    magg_free(m);
    /* Windows that are empty or too long are refused. */
    CHECK(magg_new(T0, T0) == NULL);
    CHECK(magg_new(T0, T0 - 1) == NULL);
    CHECK(magg_new(T0, T0 + 401 * 86400 * S) == NULL);
    magg_free(NULL);
}

int main(void)
{
    RUN(test_timeline_simple);
    RUN(test_timeline_takeover);
    RUN(test_timeline_transfer_reopen);
    RUN(test_timeline_empty_and_names);
    RUN(test_sla_parse);
    RUN(test_sla_bad_files);
    RUN(test_sla_load_file);
    RUN(test_sla_clocks);
    RUN(test_percentiles);
    RUN(test_csat_positive);
    RUN(test_metrics_window);
    RUN(test_metrics_empty);
    return tl_finish();
}
