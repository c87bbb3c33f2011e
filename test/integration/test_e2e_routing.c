/* Triage and routing end to end (docs/routing.md): users of parley-chat
 * against parley-server with the shipped routing.json and bot flow. A VIP
 * whose purchase just failed goes ahead of two others to the payments
 * team; a password question gets the knowledge base, and "no, that didn't
 * help" puts it in the queue; a long repeated complaint scores a higher
 * severity than a one-line question; a player whose purchase failed is
 * taken to the purchase-recovery path; outside a team's hours the user is
 * told when it is back and the answer arrives later; a screen trigger with
 * a 5 s dwell does not fire for a user who leaves after 2 s and fires once
 * for one who stays; every decision lists its reasons in the API. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"

#define SHIPPED_ROUTING PARLEY_SERVER_DATA "/routing.json"

static h_server g_srv;    /* TLS, the shipped routing.json, the dwell trigger */
static h_server g_closed; /* ws://, a team whose hours exclude now */
static char g_dir[256];

/* ---- parley-chat ---------------------------------------------------------------- */

/* Runs parley-chat as `user` against `s` with `args` (NULL-terminated),
 * stdin from /dev/null, or from `sh -c` "sleep N |" when stay_s > 0 (the
 * user stays connected that long); its stdout (malloc'd, watched). */
static char *chat(const h_server *s, const char *tag, const char *user, int stay_s,
                  const char *const *args)
{
    char url[64], out[H_PATH], err[H_PATH], cmd[4096], data[H_PATH];
    char *argv[48];
    size_t a = 0, n;
    int rc;

    snprintf(url, sizeof url, "%s://localhost:%d", s->plain ? "ws" : "wss", s->port);
    snprintf(out, sizeof out, "%s/%s.out", g_dir, tag);
    snprintf(err, sizeof err, "%s/%s.err", g_dir, tag);
    snprintf(data, sizeof data, "%s/data-%s", g_dir, user);
    argv[a++] = PARLEY_CHAT_BIN;
    argv[a++] = "--url";
    argv[a++] = url;
    argv[a++] = s->plain ? "--insecure" : "--ca";
    if (!s->plain)
        argv[a++] = (char *)s->ca;
    argv[a++] = "--user";
    argv[a++] = (char *)user;
    argv[a++] = "--data-dir";
    argv[a++] = data;
    argv[a++] = "--timeout";
    argv[a++] = "30";
    while (args && *args && a + 1 < 40)
        argv[a++] = (char *)*args++;
    argv[a] = NULL;
    if (stay_s > 0) {
        /* stdin open for stay_s seconds, then EOF: the user leaves. */
        n = (size_t)snprintf(cmd, sizeof cmd, "sleep %d | exec", stay_s);
        for (size_t i = 0; i < a && n < sizeof cmd; i++)
            n += (size_t)snprintf(cmd + n, sizeof cmd - n, " '%s'", argv[i]);
        char *sh[] = {"sh", "-c", cmd, NULL};
        rc = h_run(sh, NULL, out, err, h_ms(60000));
    } else {
        rc = h_run(argv, NULL, out, err, h_ms(60000));
    }
    char *text = h_watch_text(tl_read_file(out, NULL), tag);
    if (rc != 0) {
        char *e = tl_read_file(err, NULL);
        fprintf(stderr, "parley-chat %s exited %d: %s\n", tag, rc, e ? e : "");
        free(e);
    }
    CHECK_INT(rc, 0);
    return text;
}

static int count(const char *text, const char *what)
{
    int n = 0;

    for (const char *p = text; p && (p = strstr(p, what)) != NULL; p++)
        n++;
    return n;
}

/* ---- the API ----------------------------------------------------------------------- */

/* The conversation of `user` (the only one in these tests), "" if none. */
static void conv_of(const h_server *s, const char *user, char conv[PARLEY_ID_SIZE])
{
    cJSON *list = NULL, *it;
    char path[160];

    conv[0] = '\0';
    snprintf(path, sizeof path, "/api/conversations?user=%s", user);
    CHECK_INT(h_api_json(s, "GET", path, NULL, &list), 200);
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(list, "items"))
        snprintf(conv, PARLEY_ID_SIZE, "%s", h_json_str(it, "id"));
    cJSON_Delete(list);
}

/* GET /api/conversations/{id}: the conversation (to cJSON_Delete). */
static cJSON *conversation(const h_server *s, const char *conv)
{
    char path[160];
    cJSON *c = NULL;

    snprintf(path, sizeof path, "/api/conversations/%s", conv);
    CHECK_INT(h_api_json(s, "GET", path, NULL, &c), 200);
    return c;
}

static int number(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? v->valueint : -1;
}

/* The reasons name rule `rule`, and every reason has a rule and a text. */
static int has_reason(const cJSON *triage, const char *rule)
{
    const cJSON *it;
    int found = 0;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(triage, "reasons")) {
        if (!h_json_str(it, "rule") || !h_json_str(it, "text") || !h_json_str(it, "text")[0])
            return 0;
        found |= strcmp(h_json_str(it, "rule"), rule) == 0;
    }
    return found;
}

/* The queue entry of `conv`, its index in *at (-1 when not queued). */
static cJSON *queue_entry(cJSON *queue, const char *conv, int *at)
{
    cJSON *it;
    int i = 0;

    *at = -1;
    cJSON_ArrayForEach(it, queue) {
        if (h_json_str(it, "conv") && strcmp(h_json_str(it, "conv"), conv) == 0) {
            *at = i;
            return it;
        }
        i++;
    }
    return NULL;
}

/* ---- the tests ----------------------------------------------------------------------- */

static void test_vip_with_failed_purchase_first(void)
{
    const char *const human[] = {"--send", "I need to talk to a human please", "--wait-replies",
                                 "1", NULL};
    const char *const event[] = {"--attr", "vip=true", "--event",
                                 "purchase_failed={\"sku\":\"gems_500\",\"code\":402}", NULL};
    const char *const gems[] = {"--attr",         "vip=true", "--send", "Where are my gems?",
                                "--wait-replies", "1",        NULL};
    char c1[PARLEY_ID_SIZE], c2[PARLEY_ID_SIZE], vip[PARLEY_ID_SIZE];
    cJSON *queue = NULL, *first, *conv, *triage;
    int at1, at2, atv;

    h_text_free(chat(&g_srv, "plain-1", "plain-1", 0, human));
    h_text_free(chat(&g_srv, "plain-2", "plain-2", 0, human));
    h_text_free(chat(&g_srv, "vip-event", "vip-1", 0, event));
    h_text_free(chat(&g_srv, "vip-gems", "vip-1", 0, gems));
    conv_of(&g_srv, "plain-1", c1);
    conv_of(&g_srv, "plain-2", c2);
    conv_of(&g_srv, "vip-1", vip);
    H_REQUIRE(c1[0] && c2[0] && vip[0]);
    H_REQUIRE(h_api_json(&g_srv, "GET", "/api/queue", NULL, &queue) == 200);
    first = cJSON_GetArrayItem(queue, 0);
    CHECK_STR(h_json_str(first, "conv"), vip);
    CHECK_STR(h_json_str(first, "team"), "payments");
    CHECK_STR(h_json_str(first, "priority"), "urgent");
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(first, "jump")));
    CHECK_INT(number(first, "position"), 1);
    queue_entry(queue, c1, &at1);
    queue_entry(queue, c2, &at2);
    queue_entry(queue, vip, &atv);
    CHECK(atv == 0 && at1 > atv && at2 > at1);
    CHECK_STR(h_json_str(queue_entry(queue, c1, &at1), "team"), "support");
    cJSON_Delete(queue);
    /* Why: the rules that fired, in the API. */
    conv = conversation(&g_srv, vip);
    triage = cJSON_GetObjectItemCaseSensitive(conv, "triage");
    CHECK_STR(h_json_str(triage, "route"), "human");
    CHECK_STR(h_json_str(triage, "team"), "payments");
    CHECK(has_reason(triage, "vip_failed_purchase"));
    CHECK(has_reason(triage, "purchase_failed"));
    CHECK(has_reason(triage, "hours"));
    CHECK(number(triage, "severity") >= 6);
    cJSON_Delete(conv);
    conv = conversation(&g_srv, c1);
    triage = cJSON_GetObjectItemCaseSensitive(conv, "triage");
    CHECK(has_reason(triage, "wants_human"));
    CHECK_STR(h_json_str(triage, "priority"), "normal");
    cJSON_Delete(conv);
}

static void test_password_kb_then_escalated(void)
{
    const char *const ask[] = {"--send", "how do I reset my password", "--wait-replies", "1", NULL};
    const char *const no[] = {"--resume",       "--send", "no, that didn't help",
                              "--wait-replies", "1",      NULL};
    char conv_id[PARLEY_ID_SIZE], *out;
    cJSON *queue = NULL, *conv, *triage;
    int at;

    out = chat(&g_srv, "kb-ask", "kb-1", 0, ask);
    CHECK(out && strstr(out, "Recovering your account"));
    CHECK(out && strstr(out, "Did this solve it?"));
    CHECK(out && strstr(out, "[No, I still need help]"));
    h_text_free(out);
    conv_of(&g_srv, "kb-1", conv_id);
    H_REQUIRE(conv_id[0]);
    H_REQUIRE(h_api_json(&g_srv, "GET", "/api/queue", NULL, &queue) == 200);
    CHECK(queue_entry(queue, conv_id, &at) == NULL);
    cJSON_Delete(queue);
    conv = conversation(&g_srv, conv_id);
    triage = cJSON_GetObjectItemCaseSensitive(conv, "triage");
    CHECK_STR(h_json_str(triage, "route"), "kb");
    CHECK_STR(h_json_str(triage, "kb_article"), "account-recovery");
    CHECK(has_reason(triage, "kb"));
    CHECK_STR(h_json_str(conv, "state"), "bot");
    cJSON_Delete(conv);

    out = chat(&g_srv, "kb-no", "kb-1", 0, no);
    CHECK(out && strstr(out, "connecting you with a human"));
    h_text_free(out);
    H_REQUIRE(h_api_json(&g_srv, "GET", "/api/queue", NULL, &queue) == 200);
    CHECK(queue_entry(queue, conv_id, &at) != NULL);
    cJSON_Delete(queue);
    conv = conversation(&g_srv, conv_id);
    triage = cJSON_GetObjectItemCaseSensitive(conv, "triage");
    CHECK_STR(h_json_str(conv, "state"), "queued");
    CHECK_STR(h_json_str(triage, "route"), "human");
    CHECK(has_reason(triage, "kb"));
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(triage, "kb_article")));
    cJSON_Delete(conv);
}

static void test_long_repeated_complaint_more_severe(void)
{
    static const char complaint[] =
        "I have written about this before and it is still not fixed. My account shows the wrong "
        "level after the update, all my progress from the last two weeks is gone, and nobody has "
        "answered me. This is unacceptable for a game I have paid for. Please restore my progress "
        "or tell me what is going on, I have been waiting for days now and I am fed up.";
    const char *const angry[] = {"--send", complaint, "--send", complaint,
                                 "--send", complaint, NULL};
    const char *const calm[] = {"--send", "How do I change my avatar?", "--wait-replies", "1",
                                NULL};
    char a[PARLEY_ID_SIZE], q[PARLEY_ID_SIZE];
    cJSON *ca, *cq, *ta, *tq;

    h_text_free(chat(&g_srv, "complaint", "angry-1", 0, angry));
    h_text_free(chat(&g_srv, "question", "calm-1", 0, calm));
    conv_of(&g_srv, "angry-1", a);
    conv_of(&g_srv, "calm-1", q);
    H_REQUIRE(a[0] && q[0]);
    ca = conversation(&g_srv, a);
    cq = conversation(&g_srv, q);
    ta = cJSON_GetObjectItemCaseSensitive(ca, "triage");
    tq = cJSON_GetObjectItemCaseSensitive(cq, "triage");
    CHECK(number(ta, "severity") > number(tq, "severity"));
    CHECK(number(ta, "score") > number(tq, "score"));
    CHECK(has_reason(ta, "long_message"));
    CHECK(has_reason(ta, "asked_again"));
    CHECK(!has_reason(tq, "long_message"));
    cJSON_Delete(ca);
    cJSON_Delete(cq);
}

static void test_failed_purchase_recovery_path(void)
{
    const char *const event[] = {"--event", "purchase_failed={\"sku\":\"gems_500\"}", NULL};
    const char *const gems[] = {"--send", "Where are my gems?", "--wait-replies", "1", NULL};
    char conv_id[PARLEY_ID_SIZE], *out;
    cJSON *conv;

    h_text_free(chat(&g_srv, "rec-event", "player-1", 0, event));
    out = chat(&g_srv, "rec-gems", "player-1", 0, gems);
    CHECK(out && strstr(out, "didn't go through"));
    CHECK(out && strstr(out, "[I was charged]"));
    h_text_free(out);
    conv_of(&g_srv, "player-1", conv_id);
    conv = conversation(&g_srv, conv_id);
    CHECK_STR(h_json_str(cJSON_GetObjectItemCaseSensitive(conv, "triage"), "node"),
              "purchase_recovery");
    CHECK_STR(h_json_str(cJSON_GetObjectItemCaseSensitive(conv, "triage"), "team"), "payments");
    cJSON_Delete(conv);
}

/* The day the closed server's team opens: three days from today (UTC). */
static const char *opening_day(int *weekday)
{
    static const char *const names[] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};
    time_t now = time(NULL);
    struct tm tm;

    gmtime_r(&now, &tm);
    *weekday = ((tm.tm_wday + 6) % 7 + 3) % 7;
    return names[*weekday];
}

static void test_out_of_hours(void)
{
    static const char *const days[] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    const char *const human[] = {"--send", "I need a human", "--wait-replies", "1", NULL};
    const char *const back[] = {"--resume", "--wait-replies", "1", NULL};
    char conv_id[PARLEY_ID_SIZE], want[64], *out;
    cJSON *conv, *triage;
    int wd;

    opening_day(&wd);
    out = chat(&g_closed, "closed-ask", "night-1", 0, human);
    snprintf(want, sizeof want, "back %s ", days[wd]);
    CHECK(out && strstr(out, "Our team is away right now"));
    CHECK(out && strstr(out, want));
    CHECK(out && strstr(out, "09:00 UTC (in "));
    CHECK(out && !strstr(out, "connecting you"));
    h_text_free(out);
    conv_of(&g_closed, "night-1", conv_id);
    H_REQUIRE(conv_id[0]);
    conv = conversation(&g_closed, conv_id);
    triage = cJSON_GetObjectItemCaseSensitive(conv, "triage");
    CHECK_STR(h_json_str(conv, "state"), "queued");
    CHECK(has_reason(triage, "hours"));
    cJSON_Delete(conv);
    /* The answer an agent writes later reaches the user when they are back. */
    CHECK_INT(h_api(&g_closed, "POST", h_json("/api/conversations/%s/messages", conv_id),
                    h_quote("{'text':'Morning! Here is your answer.','name':'Dana'}"), NULL),
              201);
    out = chat(&g_closed, "closed-back", "night-1", 0, back);
    CHECK(out && strstr(out, "Morning! Here is your answer."));
    h_text_free(out);
}

/* A 5 s dwell on "shop" (the documented semantics): leaving after 2 s
 * delivers nothing; staying 12 s delivers once. */
static void test_dwell_trigger(void)
{
    const char *const shop[] = {"--screen", "shop", NULL};
    const char *const home[] = {"--screen", "home", NULL};
    char *left, *stayed, *later;

    left = chat(&g_srv, "dwell-left", "shopper-1", 2, shop);
    CHECK(left && !strstr(left, "Need help choosing?"));
    stayed = chat(&g_srv, "dwell-stayed", "shopper-2", 12, shop);
    CHECK_INT(count(stayed, "Need help choosing?"), 1);
    CHECK_INT(count(stayed, "[proactive"), 1);
    /* Well past the dwell, the one who left has nothing waiting. */
    later = chat(&g_srv, "dwell-later", "shopper-1", 1, home);
    CHECK(later && !strstr(later, "Need help choosing?"));
    h_text_free(left);
    h_text_free(stayed);
    h_text_free(later);
}

/* ---- servers ----------------------------------------------------------------------- */

static const char surveys_json[] = "{'surveys':[],'triggers':["
                                   "{'id':'shop_help','on':'screen','screen':'shop','dwell_s':5,"
                                   " 'cap':{'max':1,'per_s':86400},"
                                   " 'message':{'text':'Need help choosing? Ask us anything.'}}]}";

static int start_servers(void)
{
    static char surveys[H_PATH], closed_rules[H_PATH];
    static const char *args[8], *closed_args[8];
    int wd;
    const char *day = opening_day(&wd);

    snprintf(surveys, sizeof surveys, "%s/surveys.json", g_dir);
    snprintf(closed_rules, sizeof closed_rules, "%s/closed.json", g_dir);
    if (h_write_file(surveys, h_quote(surveys_json)) ||
        h_write_file(closed_rules,
                     h_json("{'teams':{'support':{'agents':['Dana'],'timezone':'UTC',"
                            "'hours':{'%s':'09:00-10:00'}}},'default_team':'support',"
                            "'rules':[{'id':'wants_human','when':{'keywords':['human']},"
                            "'route':'human'}]}",
                            day)))
        return -1;
    args[0] = "--insecure-identities";
    args[1] = "--routing";
    args[2] = SHIPPED_ROUTING;
    args[3] = "--surveys";
    args[4] = surveys;
    args[5] = NULL;
    if (h_server_init(&g_srv, g_dir))
        return -1;
    g_srv.extra_args = args;
    if (h_server_start(&g_srv, 0))
        return -1;
    closed_args[0] = "--insecure-identities";
    closed_args[1] = "--routing";
    closed_args[2] = closed_rules;
    closed_args[3] = NULL;
    h_server_plain(&g_closed, g_dir, "closed", "closed-token", closed_args);
    return h_server_start(&g_closed, 0);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "routing") != 0) {
        perror("mkdtemp");
        return 1;
    }
    if (start_servers()) {
        fprintf(stderr, "cannot start the servers\n");
        return 1;
    }
    H_RUN(test_vip_with_failed_purchase_first);
    H_RUN(test_password_kb_then_escalated);
    H_RUN(test_long_repeated_complaint_more_severe);
    H_RUN(test_failed_purchase_recovery_path);
    H_RUN(test_out_of_hours);
    H_RUN(test_dwell_trigger);
    h_server_stop(&g_srv, 15);
    h_server_stop(&g_closed, 15);
    return h_finish(g_dir);
}
