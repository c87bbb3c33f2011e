/* The reference server's user context, events, identity merge, surveys and
 * proactive messages, driven with raw parley.v1 frames over a plain ws://
 * socket (so hostile frames can be sent as they are) and curl for the HTTP
 * API. The server runs the surveys and triggers of data/surveys.json. Every
 * wait ends as soon as the awaited frame arrives. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define TOKEN "ctx-agent-token"

static char g_dir[256];
static h_server g_srv;

/* ---- the raw WebSocket client (wsc.c), with this file's defaults ------- */

/* The first frame not returned yet of `type` (and with string member `key`
 * equal to `value`, when key is not NULL). Borrowed until wsc_close. */
static const cJSON *await_frame(wsc *c, const char *type, const char *key, const char *value)
{
    const cJSON *f = wsc_await(c, 0, type, key, value, WAIT);
    if (!f)
        fprintf(stderr, "  no '%s' frame (%s=%s) arrived\n", type, key ? key : "-",
                value ? value : "-");
    return f;
}

/* Frames of `type` received so far (returned or not). */
static int count_frames(const wsc *c, const char *type)
{
    return (int)wsc_count(c, 0, type);
}

/* Everything the server sent in answer to the frames before this point has
 * arrived once the ack of a fresh event has: it handles frames in order. */
static void wsc_sync(wsc *c)
{
    static unsigned n;
    char cid[32];
    snprintf(cid, sizeof cid, "sync-%u", ++n);
    CHECK_INT(wsc_sendf(c, "{'t':'event','cid':'%s','name':'sync','ts':1}", cid), 0);
    CHECK(await_frame(c, "ack", "cid", cid) != NULL);
}

#define HELLO                                                                                      \
    "{'t':'hello','v':1,'app':'ctx-test','sdk':{'name':'raw','version':'0',"                       \
    "'platform':'test'},'user':%s"

/* Opens a connection and says hello with `user_json` (the "user" object)
 * and an optional `resume` object; the welcome must come, and is returned. */
static const cJSON *wsc_hello(wsc *c, const char *user_json, const char *resume_json)
{
    H_REQUIRE(wsc_open(c, g_srv.port, WAIT) == 0);
    if (resume_json)
        H_REQUIRE(wsc_sendf(c, HELLO ",'resume':%s}", user_json, resume_json) == 0);
    else
        H_REQUIRE(wsc_sendf(c, HELLO "}", user_json) == 0);
    const cJSON *welcome = await_frame(c, "welcome", NULL, NULL);
    H_REQUIRE(welcome != NULL);
    return welcome;
}

/* Sends `frame` and returns the answer of `type` whose cid is `cid`. */
static const cJSON *wsc_call(wsc *c, const char *frame, const char *type, const char *cid)
{
    CHECK_INT(wsc_send(c, frame), 0);
    return await_frame(c, type, cid ? "cid" : NULL, cid);
}

/* Sends a frame the server must refuse with an error of `code`. */
static void expect_error(wsc *c, const char *frame, const char *code)
{
    const cJSON *e = wsc_call(c, frame, "error", NULL);
    if (!e || strcmp(wsc_str(e, "code") ? wsc_str(e, "code") : "", code) != 0)
        fprintf(stderr, "  %s -> %s (%s)\n", frame, wsc_str(e, "code"), wsc_str(e, "message"));
    CHECK_STR(wsc_str(e, "code"), code);
}

static const cJSON *path_get(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

static double num_of(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : -12345;
}

static int api(const char *method, const char *path, const char *body, cJSON **out)
{
    return h_api_json(&g_srv, method, path, body, out);
}

static cJSON *api_conv(const char *conv)
{
    char path[256];
    cJSON *o = NULL;
    snprintf(path, sizeof path, "/api/conversations/%s", conv);
    CHECK_INT(api("GET", path, NULL, &o), 200);
    return o;
}

/* ---- tests ------------------------------------------------------------------ */

/* The server refuses to start with the survey definitions `surveys_text`
 * (NULL: a file that does not exist), saying `expect_in_log`; its exit
 * status. */
static int starts_with_status(const char *surveys_text, const char *expect_in_log)
{
    char path[H_PATH], err[H_PATH];
    snprintf(path, sizeof path, "%s/bad.json", g_dir);
    if (surveys_text)
        h_write_file(path, surveys_text);
    char *surveys = surveys_text ? path : "/nonexistent/surveys.json";
    char *argv[] = {PARLEY_SERVER_BIN, "--port", "0", "--db", g_srv.db, "--surveys", surveys, NULL};
    snprintf(err, sizeof err, "%s/bad.log", g_dir);
    unlink(err);
    int rc = h_run(argv, NULL, NULL, err, WAIT);
    char *log = h_watch_text(tl_read_file(err, NULL), "the refused server's log");
    CHECK(log && strstr(log, expect_in_log));
    h_text_free(log);
    return rc;
}

static void test_bad_survey_file(void)
{
    CHECK_INT(starts_with_status(NULL, "cannot read"), 2);
    CHECK_INT(starts_with_status(h_json("{'surveys':["), "not a JSON object"), 2);
    CHECK_INT(starts_with_status(h_json("{'surveys':[{'name':'x','title':'t','questions':"
                                        "[{'id':'a','kind':'stars','text':'?'}]}]}"),
                                 "unknown question kind"),
              2);
    CHECK_INT(
        starts_with_status(h_json("{'surveys':[{'name':'x','title':'t','questions':"
                                  "[{'id':'a','kind':'rating','text':'?','min':5,'max':3}]}]}"),
                           "min < max"),
        2);
    CHECK_INT(starts_with_status(h_json("{'surveys':[{'name':'x','title':'t','questions':"
                                        "[{'id':'a','kind':'nps','text':'?','show_if':"
                                        "{'question':'b','in':[1]}},"
                                        "{'id':'b','kind':'nps','text':'?'}]}]}"),
                                 "later or unknown"),
              2);
    CHECK_INT(starts_with_status(h_json("{'surveys':[{'name':'x','title':'t','questions':"
                                        "[{'id':'a','kind':'single','text':'?','options':[]}]}]}"),
                                 "options"),
              2);
    CHECK_INT(starts_with_status(h_json("{'triggers':[{'on':'event','name':'x','survey':'nope'}]}"),
                                 "triggers[0]"),
              2);
    CHECK_INT(
        starts_with_status(h_json("{'triggers':[{'on':'tuesday','survey':'x'}]}"), "on must be"),
        2);
}

/* What a user did anonymously belongs to them once they log in, with the
 * secret the server issued to the anonymous user. */
#define MERGE_ANON "a-00000000-0000-4000-8000-00000000e001"

static void test_merge(void)
{
    wsc a, b, c;
    char user[256], secret[128], seq1[24], cursors[96];
    const cJSON *welcome = wsc_hello(&a, h_json("{'anon':'%s'}", MERGE_ANON), NULL);
    H_REQUIRE(wsc_str(welcome, "anon_secret") != NULL);
    snprintf(secret, sizeof secret, "%s", wsc_str(welcome, "anon_secret"));
    CHECK(wsc_call(&a, h_json("{'t':'conv.start','cid':'mc1','conv':'c-m1','subject':'Help'}"),
                   "conv.ack", "mc1") != NULL);
    const cJSON *ack =
        wsc_call(&a, h_json("{'t':'msg.send','cid':'mm1','conv':'c-m1','text':'before login'}"),
                 "msg.ack", "mm1");
    H_REQUIRE(wsc_str(ack, "seq") != NULL);
    snprintf(seq1, sizeof seq1, "%s", wsc_str(ack, "seq"));
    CHECK_INT(wsc_sendf(&a, "{'t':'context','full':true,'attributes':{'plan':'free'},"
                            "'screen':'map'}"),
              0);
    CHECK(wsc_call(&a, h_json("{'t':'event','cid':'me1','name':'opened','ts':5}"), "ack", "me1") !=
          NULL);
    wsc_close(&a);

    snprintf(user, sizeof user, "%s",
             h_json("{'id':'player-m','anon':'%s','proof':'%s'}", MERGE_ANON, secret));
    wsc_hello(&b, user, h_json("{'cursors':{'c-m1':'0'}}"));
    const cJSON *m = await_frame(&b, "msg", "text", "before login");
    CHECK_STR(wsc_str(m, "seq"), seq1);
    CHECK_STR(wsc_str(m, "conv"), "c-m1");
    ack = wsc_call(&b, h_json("{'t':'msg.send','cid':'mm2','conv':'c-m1','text':'after login'}"),
                   "msg.ack", "mm2");
    CHECK(ack != NULL);
    cJSON *conv = api_conv("c-m1");
    CHECK_STR(wsc_str(conv, "user"), "player-m");
    CHECK_STR(wsc_str(path_get(conv, "user_context", "attributes"), "plan"), "free");
    CHECK_STR(wsc_str(path_get(conv, "user_context", NULL), "screen"), "map");
    const cJSON *events = path_get(conv, "events", NULL);
    CHECK_INT(cJSON_GetArraySize(events), 1);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(events, 0), "name"), "opened");
    cJSON_Delete(conv);
    wsc_close(&b);

    /* Idempotent: the same hello again moves nothing and breaks nothing. */
    snprintf(cursors, sizeof cursors, "%s", h_json("{'cursors':{'c-m1':'%s'}}", seq1));
    wsc_hello(&b, user, cursors);
    CHECK(await_frame(&b, "msg", "text", "after login") != NULL);
    wsc_sync(&b);
    CHECK_INT(count_frames(&b, "msg") >= 1, 1);
    for (size_t i = 0; i < b.n; i++)
        CHECK(!wsc_matches(b.frames[i], "msg", "text", "before login"));
    wsc_close(&b);

    /* Someone else presenting the same (now empty) anonymous id and its
     * secret gets nothing, and the anonymous id no longer reaches the
     * history. */
    wsc_hello(&b, h_json("{'id':'player-x','anon':'%s','proof':'%s'}", MERGE_ANON, secret), NULL);
    wsc_close(&b);
    conv = api_conv("c-m1");
    CHECK_STR(wsc_str(conv, "user"), "player-m");
    cJSON_Delete(conv);
    wsc_hello(&c, h_json("{'anon':'%s'}", MERGE_ANON), NULL);
    expect_error(&c, h_json("{'t':'history.get','conv':'c-m1','after':'0'}"),
                 "unknown_conversation");
    wsc_close(&c);

    /* An identified user's id is not an anonymous id. */
    CHECK_INT(wsc_open(&c, g_srv.port, WAIT), 0);
    expect_error(&c, h_json("{'t':'hello','v':1,'app':'x','sdk':{},'user':{'anon':'player-m'}}"),
                 "auth_failed");
    wsc_close(&c);
}

/* A full context with 60 breadcrumbs (the server keeps the last 50). */
static const char *full_context(void)
{
    char crumbs[2048];
    size_t n = 0;
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(crumbs + n, sizeof crumbs - n, "%s{'text':'b%d','ts':%d}",
                              i ? "," : "", i, 1000 + i);
    return h_json("{'t':'context','full':true,'attributes':{'plan':'vip','level':7,'beta':true,"
                  "'referrer':null,'inventory':{'gems':120}},'screen':'home',"
                  "'device':{'os':'Linux','locale':'en_US'},'breadcrumbs':[%s]}",
                  h_quote(crumbs));
}

static void test_context(void)
{
    wsc c;
    wsc_hello(&c, h_json("{'id':'player-c'}"), NULL);
    CHECK_INT(wsc_send(&c, full_context()), 0);
    CHECK(wsc_call(&c,
                   h_json("{'t':'conv.start','cid':'cc1','conv':'c-c1',"
                          "'context':{'attributes':{'plan':'vip'}}}"),
                   "conv.ack", "cc1") != NULL);
    CHECK(wsc_call(&c,
                   h_json("{'t':'msg.send','cid':'cm1','conv':'c-c1','text':'hi',"
                          "'context':{'screen':'home','attributes':{'level':7}}}"),
                   "msg.ack", "cm1") != NULL);
    CHECK_INT(wsc_sendf(&c,
                        "{'t':'context','full':false,'attributes':{'level':8,'beta':null},"
                        "'breadcrumbs':[{'text':'b60','ts':2000}],'device':{'locale':'de_DE'}}"),
              0);
    wsc_sync(&c);

    cJSON *conv = api_conv("c-c1");
    const cJSON *uc = path_get(conv, "user_context", NULL);
    const cJSON *attrs = path_get(uc, "attributes", NULL);
    CHECK_STR(wsc_str(attrs, "plan"), "vip");
    CHECK(num_of(attrs, "level") == 8);
    CHECK(cJSON_IsNull(path_get(attrs, "beta", NULL)));
    CHECK(cJSON_IsNull(path_get(attrs, "referrer", NULL)));
    CHECK(num_of(path_get(attrs, "inventory", NULL), "gems") == 120);
    CHECK_STR(wsc_str(uc, "screen"), "home");
    const cJSON *crumbs = path_get(uc, "breadcrumbs", NULL);
    CHECK_INT(cJSON_GetArraySize(crumbs), 50);
    CHECK_STR(wsc_str(cJSON_GetArrayItem(crumbs, 0), "text"), "b11");
    CHECK_STR(wsc_str(cJSON_GetArrayItem(crumbs, 49), "text"), "b60");
    CHECK(num_of(cJSON_GetArrayItem(crumbs, 49), "ts") == 2000);
    CHECK_STR(wsc_str(path_get(uc, "device", NULL), "locale"), "de_DE");
    CHECK_STR(wsc_str(path_get(uc, "device", NULL), "os"), "Linux");
    CHECK(num_of(uc, "updated_ms") > 0);
    CHECK_STR(wsc_str(path_get(conv, "context", "attributes"), "plan"), "vip");
    CHECK_STR(wsc_str(conv, "id"), "c-c1");
    CHECK_STR(wsc_str(conv, "user"), "player-c");
    CHECK(wsc_str(conv, "last_seq") != NULL);
    cJSON_Delete(conv);

    cJSON *msgs = NULL;
    CHECK_INT(api("GET", "/api/conversations/c-c1/messages", NULL, &msgs), 200);
    const cJSON *hi = NULL, *it;
    cJSON_ArrayForEach(it, msgs) {
        if (wsc_str(it, "text") && strcmp(wsc_str(it, "text"), "hi") == 0)
            hi = it;
    }
    CHECK_STR(wsc_str(path_get(hi, "context", NULL), "screen"), "home");
    CHECK(num_of(path_get(hi, "context", "attributes"), "level") == 7);
    cJSON_Delete(msgs);

    /* A full state replaces what it carries; what it lacks is kept, stale. */
    CHECK_INT(wsc_sendf(&c, "{'t':'context','full':true,'attributes':{'plan':'free'}}"), 0);
    wsc_sync(&c);
    conv = api_conv("c-c1");
    uc = path_get(conv, "user_context", NULL);
    CHECK_INT(cJSON_GetArraySize(path_get(uc, "attributes", NULL)), 5);
    CHECK_STR(wsc_str(path_get(uc, "attributes", NULL), "plan"), "free");
    const cJSON *seen = path_get(uc, "reported", "attributes");
    CHECK(cJSON_IsFalse(path_get(seen, "plan", "stale")));
    CHECK(cJSON_IsTrue(path_get(seen, "level", "stale")));
    CHECK(cJSON_IsTrue(path_get(uc, "stale", NULL)));
    CHECK_STR(wsc_str(uc, "screen"), "home");
    CHECK_INT(cJSON_GetArraySize(path_get(uc, "breadcrumbs", NULL)), 50);
    CHECK_INT(cJSON_GetArraySize(path_get(uc, "device", NULL)), 2);
    cJSON_Delete(conv);
    CHECK_INT(api("GET", "/api/conversations/c-nope", NULL, NULL), 404);
    wsc_close(&c);
}

static void test_events(void)
{
    wsc c;
    wsc_hello(&c, h_json("{'id':'player-e'}"), NULL);
    CHECK(wsc_call(&c, h_json("{'t':'conv.start','cid':'ec1','conv':'c-e1'}"), "conv.ack", "ec1") !=
          NULL);
    char ev[256];
    snprintf(ev, sizeof ev, "%s",
             h_json("{'t':'event','cid':'ev-1','name':'purchase_failed',"
                    "'meta':{'sku':'gems_500','code':402},'ts':1763900002000}"));
    CHECK(wsc_call(&c, ev, "ack", "ev-1") != NULL);
    CHECK(wsc_call(&c, ev, "ack", "ev-1") != NULL); /* a resend: acked, stored once */
    CHECK(wsc_call(&c, h_json("{'t':'event','cid':'ev-2','name':'opened_shop','ts':1763900003000}"),
                   "ack", "ev-2") != NULL);
    cJSON *conv = api_conv("c-e1");
    const cJSON *events = path_get(conv, "events", NULL);
    CHECK_INT(cJSON_GetArraySize(events), 2);
    const cJSON *e0 = cJSON_GetArrayItem(events, 0), *e1 = cJSON_GetArrayItem(events, 1);
    CHECK_STR(wsc_str(e0, "name"), "purchase_failed");
    CHECK_STR(wsc_str(path_get(e0, "meta", NULL), "sku"), "gems_500");
    CHECK(num_of(e0, "ts") == 1763900002000.0);
    CHECK_STR(wsc_str(e1, "name"), "opened_shop");
    CHECK(cJSON_IsNull(path_get(e1, "meta", NULL)));
    cJSON_Delete(conv);

    const cJSON *e =
        wsc_call(&c, h_json("{'t':'event','cid':'ev-bad','name':5,'ts':1}"), "error", "ev-bad");
    CHECK_STR(wsc_str(e, "code"), "bad_frame");
    e = wsc_call(&c, h_json("{'t':'event','cid':'ev-bad2','name':'x','meta':[1],'ts':1}"), "error",
                 "ev-bad2");
    CHECK(e != NULL);
    e = wsc_call(&c, h_json("{'t':'event','cid':'ev-bad3','name':'x','ts':'1'}"), "error",
                 "ev-bad3");
    CHECK(e != NULL);
    wsc_close(&c);
}

static const cJSON *survey_of(const cJSON *frame)
{
    return path_get(frame, "survey", NULL);
}

/* Submits `answers` to survey `sv`; the answer must be of `type` (with
 * error `code` when not NULL). */
static void submit_expect(wsc *c, const char *sv, const char *cid, const char *answers,
                          const char *type, const char *code)
{
    const cJSON *f = wsc_call(
        c, h_json("{'t':'survey.submit','cid':'%s','survey':'%s','answers':%s}", cid, sv, answers),
        type, cid);
    CHECK(f != NULL);
    if (code)
        CHECK_STR(wsc_str(f, "code"), code);
}

/* A survey pushed to `user` about `conv` through the HTTP API; its id. */
static void push_survey(const char *user, const char *body, char id[32])
{
    char path[128];
    cJSON *o = NULL;
    snprintf(path, sizeof path, "/api/users/%s/surveys", user);
    CHECK_INT(api("POST", path, body, &o), 201);
    snprintf(id, 32, "%s", wsc_str(o, "id") ? wsc_str(o, "id") : "?");
    CHECK(strncmp(id, "sv-", 3) == 0);
    cJSON_Delete(o);
}

/* Survey answers that do not fit the definition of csat. */
static void survey_bad_answers(wsc *s, const char *sv)
{
    static const char *const bad[] = {
        "{'q1':9}",
        "{'q2':9,'q4':['a']}",
        "{'q1':5,'q4':['a'],'q5':'x'}",
        "{'q1':5,'q4':['a'],'zz':1}",
        "{'q1':5,'q4':[]}",
        "{'q1':5,'q4':['a','a']}",
        "{'q1':5,'q4':['a'],'q3':'nope'}",
        "{'q1':2.5,'q4':['a']}",
        "{'q1':1,'q4':['a'],'q5':'much too long for twenty'}",
    };
    char cid[16];
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        snprintf(cid, sizeof cid, "bad-%zu", i + 1);
        submit_expect(s, sv, cid, h_quote(bad[i]), "error", "bad_answer");
    }
    submit_expect(s, "sv-999999", "bad-10", "{}", "error", "unknown_survey");
    submit_expect(s, "x", "bad-11", "{}", "error", "unknown_survey");
}

/* What GET /api/surveys/csat/responses sums up after test_surveys. */
static void check_csat_responses(const char *sv1)
{
    cJSON *r = NULL;
    CHECK_INT(api("GET", "/api/surveys/csat/responses", NULL, &r), 200);
    const cJSON *agg = path_get(r, "aggregate", NULL), *list = path_get(r, "responses", NULL);
    CHECK_INT(cJSON_GetArraySize(list), 2);
    CHECK(num_of(agg, "count") == 2);
    CHECK(num_of(agg, "dismissed") == 1);
    CHECK(num_of(agg, "csat_avg") == 3);
    CHECK(num_of(agg, "nps") == 0);
    CHECK(num_of(path_get(agg, "options", "q3"), "fast") == 1);
    CHECK(num_of(path_get(agg, "options", "q3"), "kind") == 1);
    CHECK(num_of(path_get(agg, "options", "q4"), "a") == 2);
    CHECK(num_of(path_get(agg, "options", "q4"), "b") == 0);
    CHECK(num_of(path_get(agg, "options", "q4"), "c") == 1);
    const cJSON *first = cJSON_GetArrayItem(list, 0);
    CHECK_STR(wsc_str(first, "id"), sv1);
    CHECK_STR(wsc_str(first, "user"), "player-s");
    CHECK_STR(wsc_str(first, "conv"), "c-s1");
    CHECK(num_of(path_get(first, "answers", NULL), "q1") == 4);
    CHECK(num_of(first, "submitted_ms") > 0);
    CHECK(cJSON_IsNull(path_get(cJSON_GetArrayItem(list, 1), "conv", NULL)));
    cJSON_Delete(r);

    CHECK_INT(api("GET", "/api/surveys/nps/responses", NULL, &r), 200);
    agg = path_get(r, "aggregate", NULL);
    CHECK(num_of(agg, "count") == 0);
    CHECK(cJSON_IsNull(path_get(agg, "csat_avg", NULL)));
    CHECK(cJSON_IsNull(path_get(agg, "nps", NULL)));
    cJSON_Delete(r);
    CHECK_INT(api("GET", "/api/surveys/nothing/responses", NULL, NULL), 404);
    CHECK_INT(api("POST", "/api/users/nobody-at-all/surveys", h_json("{'survey':'csat'}"), NULL),
              404);
    CHECK_INT(api("POST", "/api/users/player-t/surveys", h_json("{'survey':'nothing'}"), NULL),
              400);
    CHECK_INT(
        api("POST", "/api/users/player-t/surveys", h_json("{'survey':'csat','conv':'c-s1'}"), NULL),
        400);
    CHECK_INT(api("GET", "/api/users/player-t/surveys", NULL, NULL), 405);
}

static void test_surveys(void)
{
    wsc s, t;
    char sv1[32], sv2[32], sv3[32];
    wsc_hello(&s, h_json("{'id':'player-s'}"), NULL);
    CHECK(wsc_call(&s, h_json("{'t':'conv.start','cid':'sc1','conv':'c-s1'}"), "conv.ack", "sc1") !=
          NULL);
    push_survey("player-s", h_json("{'survey':'csat','conv':'c-s1'}"), sv1);
    const cJSON *f = await_frame(&s, "survey", "conv", "c-s1");
    CHECK_STR(wsc_str(survey_of(f), "id"), sv1);
    CHECK_STR(wsc_str(survey_of(f), "name"), "csat");
    CHECK_STR(wsc_str(survey_of(f), "title"), "How did we do?");
    CHECK_INT(cJSON_GetArraySize(path_get(survey_of(f), "questions", NULL)), 5);
    CHECK(cJSON_IsFalse(path_get(f, "proactive", NULL)));
    survey_bad_answers(&s, sv1);
    wsc_close(&s);

    /* Pending: sent again after the next welcome. */
    wsc_hello(&s, h_json("{'id':'player-s'}"), NULL);
    f = await_frame(&s, "survey", NULL, NULL);
    CHECK_STR(wsc_str(survey_of(f), "id"), sv1);
    const char *answers = h_json("{'q1':4,'q2':9,'q3':'fast','q4':['a','c']}");
    submit_expect(&s, sv1, "sub-1", answers, "ack", NULL);
    submit_expect(&s, sv1, "sub-1", answers, "ack", NULL);
    submit_expect(&s, sv1, "sub-2", h_json("{'q1':1,'q4':['b']}"), "ack", NULL);
    CHECK(wsc_call(&s, h_json("{'t':'survey.dismiss','cid':'dis-1','survey':'%s'}", sv1), "ack",
                   "dis-1") != NULL);
    wsc_close(&s);
    wsc_hello(&s, h_json("{'id':'player-s'}"), NULL);
    wsc_sync(&s);
    CHECK_INT(count_frames(&s, "survey"), 0);

    /* Another user: one submitted, one dismissed; not reachable by player-s. */
    wsc_hello(&t, h_json("{'id':'player-t'}"), NULL);
    push_survey("player-t", h_json("{'survey':'csat'}"), sv2);
    push_survey("player-t", h_json("{'survey':'csat'}"), sv3);
    f = await_frame(&t, "survey", NULL, NULL);
    CHECK(cJSON_IsTrue(path_get(f, "proactive", NULL)));
    CHECK(path_get(f, "conv", NULL) == NULL);
    submit_expect(&s, sv2, "steal-1", h_json("{'q1':5,'q4':['a']}"), "error", "unknown_survey");
    submit_expect(&t, sv2, "t-1", h_json("{'q1':2,'q2':3,'q3':'kind','q4':['a'],'q5':'slow'}"),
                  "ack", NULL);
    CHECK(wsc_call(&t, h_json("{'t':'survey.dismiss','cid':'t-2','survey':'%s'}", sv3), "ack",
                   "t-2") != NULL);

    check_csat_responses(sv1);
    wsc_close(&s);
    wsc_close(&t);
}

/* A conversation closed by an agent gets the CSAT survey of the
 * conv.closed trigger, once. */
static void test_csat_on_close(void)
{
    wsc c;
    wsc_hello(&c, h_json("{'id':'player-z'}"), NULL);
    CHECK(wsc_call(&c, h_json("{'t':'conv.start','cid':'zc1','conv':'c-z1'}"), "conv.ack", "zc1") !=
          NULL);
    int status = api("POST", "/api/conversations/c-z1/close", "{}", NULL);
    if (status == 404 || status == 405) {
        fprintf(stderr, "  no close endpoint yet (HTTP %d): skipped\n", status);
        wsc_close(&c);
        return;
    }
    CHECK(status >= 200 && status < 300);
    const cJSON *f = await_frame(&c, "survey", "conv", "c-z1");
    CHECK_STR(wsc_str(survey_of(f), "name"), "csat");
    api("POST", "/api/conversations/c-z1/close", "{}", NULL);
    wsc_sync(&c);
    CHECK_INT(count_frames(&c, "survey"), 1);
    wsc_close(&c);
}

/* The event and screen triggers, and proactive messages from an agent. */
static void triggers_fire(wsc *c, char tip_id[32])
{
    CHECK_INT(wsc_sendf(c, "{'t':'context','full':true,'attributes':{'plan':'free'}}"), 0);
    CHECK(wsc_call(c, h_json("{'t':'event','cid':'tp1','name':'level_failed','ts':1}"), "ack",
                   "tp1") != NULL);
    wsc_sync(c);
    CHECK_INT(count_frames(c, "survey"), 0); /* the attribute filter says vip */

    CHECK_INT(wsc_sendf(c, "{'t':'context','full':false,'attributes':{'plan':'vip'}}"), 0);
    CHECK(wsc_call(c, h_json("{'t':'event','cid':'tp2','name':'level_failed','ts':2}"), "ack",
                   "tp2") != NULL);
    const cJSON *f = await_frame(c, "survey", NULL, NULL);
    CHECK_STR(wsc_str(survey_of(f), "name"), "nps");
    CHECK(cJSON_IsTrue(path_get(f, "proactive", NULL)));
    CHECK(wsc_call(c, h_json("{'t':'event','cid':'tp3','name':'level_failed','ts':3}"), "ack",
                   "tp3") != NULL);
    wsc_sync(c);
    CHECK_INT(count_frames(c, "survey"), 1); /* still pending: not stacked */

    CHECK(wsc_call(c, h_json("{'t':'event','cid':'tp4','name':'stuck','ts':4}"), "ack", "tp4") !=
          NULL);
    const cJSON *tip = await_frame(c, "proactive", NULL, NULL);
    CHECK_STR(wsc_str(path_get(tip, "msg", NULL), "text"), "Here is a tip");
    CHECK_STR(wsc_str(path_get(tip, "msg", "author"), "name"), "Helper");
    snprintf(tip_id, 32, "%s", wsc_str(tip, "id") ? wsc_str(tip, "id") : "?");

    CHECK_INT(wsc_sendf(c, "{'t':'context','full':false,'screen':'shop'}"), 0);
    const cJSON *shop = await_frame(c, "proactive", NULL, NULL);
    CHECK_STR(wsc_str(path_get(shop, "msg", NULL), "text"), "Welcome to the shop");
    CHECK_STR(wsc_str(path_get(shop, "msg", "author"), "kind"), "bot");
    CHECK_INT(wsc_sendf(c, "{'t':'context','full':false,'screen':'shop'}"), 0);
    wsc_sync(c);
    CHECK_INT(count_frames(c, "proactive"), 2); /* the same screen again is no change */
}

static void test_triggers(void)
{
    wsc c;
    char tip_id[32];
    wsc_hello(&c, h_json("{'id':'player-p'}"), NULL);
    triggers_fire(&c, tip_id);

    cJSON *o = NULL;
    CHECK_INT(api("POST", "/api/users/player-p/proactive",
                  h_json("{'text':'Hi from Dana','name':'Dana','blocks':[{'kind':'quick_replies',"
                         "'options':[{'id':'o1','label':'Yes'}]}]}"),
                  &o),
              201);
    CHECK(wsc_str(o, "id") && strncmp(wsc_str(o, "id"), "p-", 2) == 0);
    cJSON_Delete(o);
    const cJSON *dana = await_frame(&c, "proactive", NULL, NULL);
    CHECK_STR(wsc_str(path_get(dana, "msg", "author"), "kind"), "agent");
    CHECK_STR(wsc_str(path_get(dana, "msg", "author"), "name"), "Dana");
    CHECK_INT(cJSON_GetArraySize(path_get(dana, "msg", "blocks")), 1);
    CHECK_INT(api("POST", "/api/users/player-p/proactive", h_json("{'name':'Dana'}"), NULL), 400);
    CHECK_INT(api("POST", "/api/users/player-p/proactive", h_json("{'text':'x','blocks':3}"), NULL),
              400);
    CHECK_INT(api("POST", "/api/users/nobody-at-all/proactive", h_json("{'text':'x'}"), NULL), 404);

    CHECK_INT(wsc_sendf(&c, "{'t':'proactive.ack','id':'%s'}", tip_id), 0);
    wsc_sync(&c);
    wsc_close(&c);

    /* After the next welcome: the pending survey and the two proactive
     * items not acknowledged, in order; not the acknowledged tip. */
    wsc_hello(&c, h_json("{'id':'player-p'}"), NULL);
    wsc_sync(&c);
    CHECK_INT(count_frames(&c, "survey"), 1);
    CHECK_INT(count_frames(&c, "proactive"), 2);
    const cJSON *f = await_frame(&c, "proactive", NULL, NULL);
    CHECK_STR(wsc_str(path_get(f, "msg", NULL), "text"), "Welcome to the shop");
    f = await_frame(&c, "proactive", NULL, NULL);
    CHECK_STR(wsc_str(path_get(f, "msg", NULL), "text"), "Hi from Dana");
    wsc_close(&c);
}

static void refused_as_bad_frame(const char *frame, void *c)
{
    expect_error(c, frame, "bad_frame");
}

/* Frames with wrong types (data/ctx-bad-frames.jsonl) are answered with an
 * error; the connection and the server stay up. */
static void test_hostile(void)
{
    wsc c;
    CHECK_INT(wsc_open(&c, g_srv.port, WAIT), 0);
    expect_error(&c, h_json("{'t':'event','cid':'h0','name':'x','ts':1}"), "not_ready");
    wsc_close(&c);
    CHECK_INT(wsc_open(&c, g_srv.port, WAIT), 0);
    expect_error(&c, h_json("{'t':'hello','v':1,'app':'x','sdk':{},'user':{'id':'p','anon':5}}"),
                 "auth_failed");
    wsc_close(&c);

    wsc_hello(&c, h_json("{'id':'player-h'}"), NULL);
    int n_bad = h_data_lines("ctx-bad-frames.jsonl", refused_as_bad_frame, &c);
    CHECK_INT(n_bad, 16);
    const cJSON *e = wsc_call(
        &c, h_json("{'t':'survey.submit','cid':'h1','survey':5,'answers':{}}"), "error", "h1");
    CHECK_STR(wsc_str(e, "code"), "bad_frame");
    e = wsc_call(&c,
                 h_json("{'t':'survey.submit','cid':'h2','survey':'sv-1','answers':'all good'}"),
                 "error", "h2");
    CHECK_STR(wsc_str(e, "code"), "bad_frame");
    /* A proactive.ack for an id that is not the user's is ignored. */
    CHECK_INT(wsc_sendf(&c, "{'t':'proactive.ack','id':'p-0'}"), 0);
    CHECK_INT(wsc_sendf(&c, "{'t':'proactive.ack','id':'p-99999999999999999999'}"), 0);
    wsc_sync(&c);
    CHECK_INT(count_frames(&c, "error"), n_bad + 2);
    CHECK(!c.closed);
    wsc_close(&c);
}

/* An item the server cannot take (a type it does not know, say from a
 * newer client) is refused with its cid, so the client's outbox lets go
 * of it instead of resending it after every welcome. */
static void test_refusals_name_the_cid(void)
{
    wsc c;
    wsc_hello(&c, h_json("{'id':'player-cid'}"), NULL);
    const cJSON *e =
        wsc_call(&c, h_json("{'t':'msg.edit','cid':'u-1','text':'x'}"), "error", "u-1");
    CHECK_STR(wsc_str(e, "code"), "unknown_type");
    e = wsc_call(&c, h_json("{'t':'','cid':'u-2'}"), "error", "u-2");
    CHECK_STR(wsc_str(e, "code"), "bad_frame");
    CHECK(!c.closed);
    wsc_close(&c);
}

int main(void)
{
    static const char *const args[] = {"--surveys", PARLEY_TEST_DATA "/surveys.json",
                                       "--insecure-identities", NULL};
    if (tl_mkdtemp(g_dir, sizeof g_dir, "srvctx") != 0)
        return 1;
    h_server_plain(&g_srv, g_dir, "server", TOKEN, args);
    H_RUN(test_bad_survey_file);
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
    H_RUN(test_merge);
    H_RUN(test_context);
    H_RUN(test_events);
    H_RUN(test_surveys);
    H_RUN(test_csat_on_close);
    H_RUN(test_triggers);
    H_RUN(test_hostile);
    H_RUN(test_refusals_name_the_cid);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    return h_finish(g_dir);
}
