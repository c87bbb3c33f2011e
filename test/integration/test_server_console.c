/* The agent workspace's HTTP side (docs/agent-console.md) as a script or a
 * browser meets it, raw HTTP through curl: agents added with --add-agent
 * (hashed, never stored in clear), cookie sessions (login, me, logout),
 * CSRF and Origin refusals, wrong passwords answered 401 and rate-limited
 * per name and per address, the paginated and filtered conversation list,
 * the single customer view, priorities and who did what, and the CSV
 * export. Users are raw parley.v1 clients (wsc.c) over plain ws://. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define TOKEN "console-admin-token"
#define DANA_PW "dana-password-1"
#define SAM_PW "sam-password-22"

static char g_dir[256];
static char g_db[H_PATH + 16];
static h_server g_srv;

/* ---- agents on the command line ---------------------------------------------- */

/* parley-server --store DB --add-agent ... with `password` as standard input
 * (NULL: none); the exit status, *out what it printed. */
static int add_agent(const char *const *args, const char *password, char **out)
{
    char in[H_PATH + 16], outp[H_PATH + 16], errp[H_PATH + 16];
    char *argv[16];
    int a = 0;

    snprintf(in, sizeof in, "%s/password.in", g_dir);
    snprintf(outp, sizeof outp, "%s/add-agent.out", g_dir);
    snprintf(errp, sizeof errp, "%s/add-agent.err", g_dir);
    if (password)
        H_REQUIRE(h_write_file(in, password) == 0);
    argv[a++] = PARLEY_SERVER_BIN;
    argv[a++] = "--store";
    argv[a++] = h_store_pg() ? (char *)h_store_url(g_db) : g_db;
    for (size_t i = 0; args[i] && a < 15; i++)
        argv[a++] = (char *)args[i];
    argv[a] = NULL;
    int rc = h_run(argv, password ? in : NULL, outp, errp, h_ms(30000));
    if (out) {
        char *o = tl_read_file(outp, NULL), *e = tl_read_file(errp, NULL);
        size_t n = (o ? strlen(o) : 0) + (e ? strlen(e) : 0) + 1;
        *out = malloc(n);
        H_REQUIRE(*out != NULL);
        snprintf(*out, n, "%s%s", o ? o : "", e ? e : "");
        free(o);
        free(e);
    }
    return rc;
}

/* The stored password hash of `name`, malloc'd, or NULL. */
static char *stored_hash(const char *name)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    char *hash = NULL, sql[128];

    if (h_store_pg()) {
        snprintf(sql, sizeof sql, "SELECT pw_hash FROM agents WHERE name = '%s'", name);
        return h_store_query(g_db, sql);
    }
    if (sqlite3_open_v2(g_db, &db, SQLITE_OPEN_READONLY, NULL) == SQLITE_OK &&
        sqlite3_prepare_v2(db, "SELECT pw_hash FROM agents WHERE name = ?1", -1, &st, NULL) ==
            SQLITE_OK &&
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) == SQLITE_OK &&
        sqlite3_step(st) == SQLITE_ROW)
        hash = strdup((const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    sqlite3_close(db);
    return hash;
}

static void test_add_agent(void)
{
    static const char *const dana[] = {"--add-agent",    "dana",    "--role",           "admin",
                                       "--display-name", "Dana S.", "--password-stdin", NULL};
    static const char *const sam[] = {"--add-agent",    "sam",        "--role",           "agent",
                                      "--display-name", "Sam Okafor", "--password-stdin", NULL};
    static const char *const ivy[] = {"--add-agent",      "ivy", "--role", "agent",
                                      "--password-stdin", NULL};
    char *out = NULL;

    /* Added, then the same name again: updated (a new password). */
    CHECK_INT(add_agent(dana, "first-password\n", &out), 0);
    CHECK(out && strstr(out, "agent dana added (admin)"));
    free(out);
    char *first = stored_hash("dana");
    CHECK_INT(add_agent(dana, DANA_PW "\n", &out), 0);
    CHECK(out && strstr(out, "agent dana updated (admin)"));
    free(out);
    CHECK_INT(add_agent(sam, SAM_PW "\n", NULL), 0);
    CHECK_INT(add_agent(ivy, DANA_PW, NULL), 0); /* no newline: the whole input */

    /* PBKDF2 with a salt of its own: the same password never gives the same
     * hash, and the password is nowhere in it. */
    char *second = stored_hash("dana"), *ivys = stored_hash("ivy");
    CHECK(second && strncmp(second, "pbkdf2-sha256$100000$", 21) == 0);
    CHECK(first && second && strcmp(first, second) != 0);
    CHECK(ivys && second && strcmp(ivys, second) != 0);
    CHECK(second && !strstr(second, DANA_PW));
    free(first);
    free(second);
    free(ivys);

    /* What it refuses, with exit status 2 and the reason. */
    static const char *const no_stdin[] = {"--add-agent", "kim", "--role", "agent", NULL};
    static const char *const no_role[] = {"--add-agent", "kim", "--password-stdin", NULL};
    static const char *const bad_role[] = {"--add-agent",      "kim", "--role", "root",
                                           "--password-stdin", NULL};
    static const char *const bad_name[] = {"--add-agent", "kim lee",          "--role",
                                           "agent",       "--password-stdin", NULL};
    CHECK_INT(add_agent(no_stdin, "long-enough-pw\n", &out), 2);
    CHECK(out && strstr(out, "--password-stdin"));
    free(out);
    CHECK_INT(add_agent(no_role, "long-enough-pw\n", NULL), 2);
    CHECK_INT(add_agent(bad_role, "long-enough-pw\n", NULL), 2);
    CHECK_INT(add_agent(bad_name, "long-enough-pw\n", NULL), 2);
    CHECK_INT(add_agent(ivy, "short\n", &out), 2);
    CHECK(out && strstr(out, "8"));
    free(out);
    CHECK_INT(add_agent(ivy, "", NULL), 2);
    CHECK(stored_hash("kim") == NULL);
}

/* ---- the server and HTTP as a browser speaks it --------------------------------- */

static void server_start(void)
{
    static char sla[H_PATH + 16];
    static const char *args[] = {"--insecure-identities", "--sla", sla, NULL};

    snprintf(sla, sizeof sla, "%s/sla.json", g_dir);
    H_REQUIRE(h_write_file(sla, "{\"policies\":{\"urgent\":{\"first_response_s\":300},"
                                "\"normal\":{\"first_response_s\":3600,"
                                "\"next_response_s\":1800}}}") == 0);
    /* Files support.db (where --add-agent wrote), .ready and .log. */
    h_server_plain(&g_srv, g_dir, "support", TOKEN, args);
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
}

/* A signed-in browser: its cookie ("parley_session=...") and CSRF token. */
typedef struct session {
    char cookie[128];
    char csrf[80];
} session;

/* A request without the API token, with the session's cookie and CSRF
 * header when `s` is not NULL, plus `extra` (NULL-terminated, may be NULL). */
static int browse(const session *s, const char *method, const char *path, const char *body,
                  const char *const *extra, cJSON **out, char **head)
{
    char cookie[160], csrf[120];
    const char *headers[8];
    size_t n = 0;
    char *text = NULL;

    if (s) {
        snprintf(cookie, sizeof cookie, "Cookie: %s", s->cookie);
        snprintf(csrf, sizeof csrf, "X-Parley-CSRF: %s", s->csrf);
        headers[n++] = cookie;
        headers[n++] = csrf;
    }
    for (size_t i = 0; extra && extra[i] && n < 7; i++)
        headers[n++] = extra[i];
    headers[n] = NULL;
    h_http req = {method, path, body, headers, 1, NULL};
    int status = h_http_call(&g_srv, &req, out ? &text : NULL, head);
    if (out)
        *out = text ? cJSON_Parse(text) : NULL;
    free(text);
    return status;
}

/* POST /api/login; on 200 fills *s from the Set-Cookie header and the body. */
static int login(const char *name, const char *password, const char *from, session *s, cJSON **out,
                 char **head)
{
    char *text = NULL, *hd = NULL;
    h_http req = {
        "POST", "/api/login", h_json("{'name':'%s','password':'%s'}", name, password), NULL,
        1,      from};
    int status = h_http_call(&g_srv, &req, &text, &hd);
    cJSON *body = text ? cJSON_Parse(text) : NULL;
    char *cookie = h_http_header(hd, "set-cookie");

    if (status == 200 && s) {
        memset(s, 0, sizeof *s);
        CHECK(cookie != NULL);
        if (cookie)
            snprintf(s->cookie, sizeof s->cookie, "%.*s", (int)strcspn(cookie, ";"), cookie);
        snprintf(s->csrf, sizeof s->csrf, "%s",
                 h_json_str(body, "csrf") ? h_json_str(body, "csrf") : "");
    }
    free(cookie);
    free(text);
    if (out)
        *out = body;
    else
        cJSON_Delete(body);
    if (head)
        *head = hd;
    else
        free(hd);
    return status;
}

static int is_hex(const char *s, size_t len)
{
    return s && strlen(s) == len && strspn(s, "0123456789abcdef") == len;
}

static void test_cookie_login_me_logout(void)
{
    session s;
    cJSON *body = NULL;
    char *head = NULL;

    CHECK_INT(login("dana", DANA_PW, NULL, &s, &body, &head), 200);
    char *cookie = h_http_header(head, "set-cookie");
    CHECK(cookie && strncmp(cookie, "parley_session=", 15) == 0);
    CHECK(cookie && is_hex(s.cookie + 15, 64));
    CHECK(cookie && strstr(cookie, "HttpOnly") && strstr(cookie, "SameSite=Strict") &&
          strstr(cookie, "Path=/") && strstr(cookie, "Max-Age=43200"));
    CHECK(cookie && !strstr(cookie, "Secure")); /* plain http: a Secure cookie would never return */
    free(cookie);
    free(head);
    CHECK(is_hex(s.csrf, 64));
    const cJSON *agent = cJSON_GetObjectItemCaseSensitive(body, "agent");
    CHECK_STR(h_json_str(agent, "name"), "dana");
    CHECK_STR(h_json_str(agent, "display_name"), "Dana S.");
    CHECK_STR(h_json_str(agent, "role"), "admin");
    cJSON_Delete(body);

    /* The cookie is who the browser is; the CSRF token comes back for a
     * reloaded page. */
    CHECK_INT(browse(&s, "GET", "/api/me", NULL, NULL, &body, NULL), 200);
    CHECK_STR(h_json_str(body, "via"), "session");
    CHECK_STR(h_json_str(body, "csrf"), s.csrf);
    CHECK_STR(h_json_str(cJSON_GetObjectItemCaseSensitive(body, "agent"), "name"), "dana");
    cJSON_Delete(body);
    CHECK_INT(browse(NULL, "GET", "/api/me", NULL, NULL, NULL, NULL), 401);
    static const char *const forged[] = {"Cookie: parley_session=0123456789abcdef0123456789abcdef"
                                         "0123456789abcdef0123456789abcdef",
                                         NULL};
    CHECK_INT(browse(NULL, "GET", "/api/me", NULL, forged, NULL, NULL), 401);
    CHECK_INT(browse(NULL, "GET", "/api/conversations", NULL, NULL, NULL, NULL), 401);

    /* Two sessions of one agent are two tokens; logging out ends one. */
    session other;
    CHECK_INT(login("dana", DANA_PW, NULL, &other, NULL, NULL), 200);
    CHECK(strcmp(other.cookie, s.cookie) != 0 && strcmp(other.csrf, s.csrf) != 0);
    CHECK_INT(browse(&s, "POST", "/api/logout", "{}", NULL, &body, &head), 200);
    cookie = h_http_header(head, "set-cookie");
    CHECK(cookie && strstr(cookie, "Max-Age=0"));
    free(cookie);
    free(head);
    cJSON_Delete(body);
    CHECK_INT(browse(&s, "GET", "/api/me", NULL, NULL, NULL, NULL), 401);
    CHECK_INT(browse(&other, "GET", "/api/me", NULL, NULL, NULL, NULL), 200);

    /* The API token keeps working, as an admin with no CSRF. */
    cJSON *me = NULL;
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/me", NULL, &me), 200);
    CHECK_STR(h_json_str(me, "via"), "token");
    CHECK_STR(h_json_str(cJSON_GetObjectItemCaseSensitive(me, "agent"), "role"), "admin");
    CHECK(cJSON_GetObjectItemCaseSensitive(me, "csrf") == NULL);
    cJSON_Delete(me);
}

/* The instance's own routes (docs/scaling.md, "The admin's drain"): an
 * agent's session is refused them, so an agent cannot drain an instance;
 * the API token (an admin) reads them. */
static void test_admin_routes_need_admin(void)
{
    session s;
    cJSON *err = NULL;

    H_REQUIRE(login("sam", SAM_PW, NULL, &s, NULL, NULL) == 200);
    CHECK_INT(browse(&s, "POST", "/api/admin/drain", "{}", NULL, &err, NULL), 403);
    CHECK_STR(h_json_str(err, "error"), "only an admin may drain an instance");
    cJSON_Delete(err);
    CHECK_INT(browse(&s, "GET", "/api/admin/instance", NULL, NULL, NULL, NULL), 403);
    CHECK_INT(browse(&s, "GET", "/api/admin/online/u1", NULL, NULL, NULL, NULL), 403);
    CHECK_INT(h_api(&g_srv, "GET", "/api/admin/instance", NULL, NULL), 200);
}

static void test_csrf_refused(void)
{
    session s, no_csrf, wrong;
    char origin_ok[96];

    H_REQUIRE(login("sam", SAM_PW, NULL, &s, NULL, NULL) == 200);
    no_csrf = s;
    no_csrf.csrf[0] = '\0';
    wrong = s;
    wrong.csrf[0] = wrong.csrf[0] == 'a' ? 'b' : 'a';

    /* A state change without the session's CSRF token does nothing. */
    cJSON *err = NULL;
    CHECK_INT(browse(&no_csrf, "POST", "/api/me/presence", h_quote("{'presence':'busy'}"), NULL,
                     &err, NULL),
              403);
    CHECK_STR(h_json_str(err, "error"), "missing or wrong CSRF token");
    cJSON_Delete(err);
    CHECK_INT(browse(&wrong, "POST", "/api/me/presence", h_quote("{'presence':'busy'}"), NULL, NULL,
                     NULL),
              403);
    /* A forged logout leaves the session as it was. */
    CHECK_INT(browse(&no_csrf, "POST", "/api/logout", "{}", NULL, NULL, NULL), 403);
    CHECK_INT(browse(&s, "GET", "/api/me", NULL, NULL, NULL, NULL), 200);

    /* The right token from a page of another origin (same host, another
     * port: the same site, where SameSite does not help). */
    static const char *const evil[] = {"Origin: http://localhost:1", NULL};
    CHECK_INT(
        browse(&s, "POST", "/api/me/presence", h_quote("{'presence':'busy'}"), evil, &err, NULL),
        403);
    CHECK_STR(h_json_str(err, "error"), "request from another origin");
    cJSON_Delete(err);
    snprintf(origin_ok, sizeof origin_ok, "Origin: http://localhost:%d", g_srv.port);
    const char *const same[] = {origin_ok, NULL};
    cJSON *agent = NULL;
    CHECK_INT(
        browse(&s, "POST", "/api/me/presence", h_quote("{'presence':'busy'}"), same, &agent, NULL),
        200);
    CHECK_STR(h_json_str(agent, "name"), "sam");
    cJSON_Delete(agent);
    CHECK_INT(
        browse(&s, "POST", "/api/me/presence", h_quote("{'presence':'offline'}"), NULL, NULL, NULL),
        400);
    /* GET needs no token: reading changes nothing. */
    CHECK_INT(browse(&no_csrf, "GET", "/api/agents", NULL, NULL, NULL, NULL), 200);

    /* Another site's form cannot sign the browser in to its sender's
     * account (login CSRF); this origin's page can. */
    const char *sam = h_json("{'name':'sam','password':'%s'}", SAM_PW);
    CHECK_INT(browse(NULL, "POST", "/api/login", sam, evil, &err, NULL), 403);
    CHECK_STR(h_json_str(err, "error"), "request from another origin");
    cJSON_Delete(err);
    CHECK_INT(browse(NULL, "POST", "/api/login", sam, same, NULL, NULL), 200);
}

/* ---- wrong passwords --------------------------------------------------------------- */

/* A login that must fail with `status`; for 429 the wait is announced. */
static void login_refused(const char *name, const char *password, const char *from, int status)
{
    cJSON *body = NULL;
    char *head = NULL;

    CHECK_INT(login(name, password, from, NULL, &body, &head), status);
    char *cookie = h_http_header(head, "set-cookie"), *retry = h_http_header(head, "retry-after");
    CHECK(cookie == NULL);
    if (status == 401) {
        CHECK_STR(h_json_str(body, "error"), "wrong name or password");
    } else {
        CHECK_STR(h_json_str(body, "error"), "too many failed logins");
        const cJSON *s = cJSON_GetObjectItemCaseSensitive(body, "retry_s");
        CHECK(cJSON_IsNumber(s) && s->valuedouble >= 1);
        CHECK(retry && atoi(retry) >= 1);
    }
    free(cookie);
    free(retry);
    free(head);
    cJSON_Delete(body);
}

/* The per-address budget's refill (docs/agent-console.md, "Browser
 * sessions"). */
#define ADDR_EVERY_MS 10000

static void test_wrong_passwords(void)
{
    /* 401, and the same for a name nobody has: the answer tells nothing. */
    login_refused("dana", "not-her-password", NULL, 401);
    login_refused("nobody-here", "whatever-password", NULL, 401);

    /* Per name: ivy's fifth failure empties her budget; then even her
     * right password is refused unchecked, whatever the address... */
    for (int i = 0; i < 4; i++)
        login_refused("ivy", "guess-number-x", NULL, 401);
    login_refused("ivy", "guess-number-y", "127.0.0.4", 401);
    login_refused("ivy", DANA_PW, NULL, 429);
    login_refused("ivy", DANA_PW, "127.0.0.5", 429);
    /* ...while another name from the same address signs in. */
    CHECK_INT(login("dana", DANA_PW, NULL, NULL, NULL, NULL), 200);

    /* Per address: twenty failures from 127.0.0.3, each for a name of its
     * own, stop every login from there, right passwords too; other
     * addresses are not affected. */
    int64_t t0 = h_now_ms();
    for (int i = 0; i < 20; i++)
        login_refused(h_json("guesser-%d", i), "wrong-password", "127.0.0.3", 401);
    /* Every check is a PBKDF2 run: on a loaded machine twenty can outlast
     * the 10 s in which the address earns one try back. Those tries are
     * spent too, and no more than the elapsed time allows. */
    int earned = 0;
    while (earned < 10 &&
           login("guesser-x", "wrong-password", "127.0.0.3", NULL, NULL, NULL) == 401)
        earned++;
    CHECK(earned <= (h_now_ms() - t0) / ADDR_EVERY_MS);
    login_refused("dana", DANA_PW, "127.0.0.3", 429);
    login_refused("guesser-99", "wrong-password", "127.0.0.3", 429);
    CHECK_INT(login("dana", DANA_PW, "127.0.0.6", NULL, NULL, NULL), 200);

    /* Malformed logins are not guesses. */
    h_http bad = {"POST", "/api/login", "{\"name\":\"dana\"}", NULL, 1, NULL};
    CHECK_INT(h_http_call(&g_srv, &bad, NULL, NULL), 400);
}

/* ---- conversations ----------------------------------------------------------------- */

/* A user saying hello over parley.v1. */
static void hello(wsc *c, const char *user)
{
    H_REQUIRE(wsc_open(c, g_srv.port, WAIT) == 0);
    H_REQUIRE(wsc_sendf(c,
                        "{'t':'hello','v':1,'app':'console-test','sdk':{'name':'raw','version':'0',"
                        "'platform':'test'},'user':{'id':'%s'}}",
                        user) == 0);
    H_REQUIRE(wsc_await(c, 0, "welcome", NULL, NULL, WAIT) != NULL);
}

/* Starts `conv` with `subject` and writes `text` in it (acknowledged). */
static void start(wsc *c, const char *conv, const char *subject, const char *text)
{
    char cid[96];
    snprintf(cid, sizeof cid, "s-%s", conv);
    CHECK_INT(wsc_sendf(c, "{'t':'conv.start','cid':'%s','conv':'%s','subject':'%s'}", cid, conv,
                        subject),
              0);
    CHECK(wsc_await(c, 0, "conv.ack", "cid", cid, WAIT) != NULL);
    snprintf(cid, sizeof cid, "m-%s", conv);
    CHECK_INT(wsc_sendf(c, "{'t':'msg.send','cid':'%s','conv':'%s','text':'%s'}", cid, conv, text),
              0);
    CHECK(wsc_await(c, 0, "msg.ack", "cid", cid, WAIT) != NULL);
}

/* Waits until `conv`'s state reaches `state` (the user's conv.update). */
static void await_state(wsc *c, const char *conv, const char *state)
{
    for (size_t from = 0;;) {
        const cJSON *u = wsc_await(c, from, "conv.update", "conv", conv, WAIT);
        H_REQUIRE(u != NULL);
        if (h_json_str(u, "state") && strcmp(h_json_str(u, "state"), state) == 0)
            return;
    }
}

static int post(const char *conv, const char *action, const char *body, cJSON **out)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/%s", conv, action);
    return h_api_json(&g_srv, "POST", path, body, out);
}

/* GET `path` with the token: the page's items joined by ',' into ids, and
 * its next cursor (malloc'd, NULL for none). The status. */
static int list(const char *path, char ids[512], char **next)
{
    cJSON *page = NULL;
    int status = h_api_json(&g_srv, "GET", path, NULL, &page);
    const cJSON *it, *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    size_t n = 0;

    ids[0] = '\0';
    if (status == 200)
        CHECK(cJSON_IsArray(items));
    cJSON_ArrayForEach(it, items) {
        n += (size_t)snprintf(ids + n, 512 - n, "%s%s", n ? "," : "",
                              h_json_str(it, "id") ? h_json_str(it, "id") : "?");
    }
    if (next) {
        const char *v = h_json_str(page, "next");
        *next = v ? strdup(v) : NULL;
        if (status == 200)
            CHECK(v || cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(page, "next")));
    }
    cJSON_Delete(page);
    return status;
}

static void check_list(const char *path, const char *want)
{
    char ids[512];
    CHECK_INT(list(path, ids, NULL), 200);
    if (strcmp(ids, want) != 0)
        fprintf(stderr, "  GET %s\n", path);
    CHECK_STR(ids, want);
}

/* GET path?QUERY for each query of `bad` ("name=value"): 400, and an error
 * that names the parameter rather than ignoring it. */
static void check_refused(const char *path, const char *const *bad, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        cJSON *err = NULL;
        CHECK_INT(h_api_json(&g_srv, "GET", h_json("%s?%s", path, bad[i]), NULL, &err), 400);
        const char *e = h_json_str(err, "error");
        char name[32];
        snprintf(name, sizeof name, "%.*s", (int)strcspn(bad[i], "="), bad[i]);
        if (!e || !strstr(e, name))
            fprintf(stderr, "  %s?%s -> %s\n", path, bad[i], e ? e : "(no error)");
        CHECK(e && strstr(e, name));
        cJSON_Delete(err);
    }
}

static int64_t g_t0;

/* The wall clock the server stamps activity with (h_now_ms is monotonic). */
static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Five conversations of two users, in this order of last activity, newest
 * first (their ids sort the same way, so a tie of milliseconds changes
 * nothing): c-b3 (agent, sam), c-b2 (closed), c-b1 (agent, dana), c-a2
 * (bot), c-a1 (queued). */
static void make_conversations(void)
{
    wsc ann, ben;

    hello(&ann, "u-ann");
    hello(&ben, "u-ben");
    start(&ann, "c-a1", "Gems missing", "hello");
    CHECK_INT(wsc_sendf(&ann, "{'t':'msg.send','cid':'h-a1','conv':'c-a1',"
                              "'text':'I need to talk to a human'}"),
              0);
    await_state(&ann, "c-a1", "queued");
    start(&ann, "c-a2", "Just browsing", "hello");
    usleep(20000);
    g_t0 = wall_ms();
    usleep(20000);
    start(&ben, "c-b1", "Refund", "hello");
    CHECK_INT(post("c-b1", "assign", h_quote("{'agent':'dana'}"), NULL), 200);
    start(&ben, "c-b2", "=HYPERLINK(\\\"http://x\\\",\\\"a\\\")", "hello");
    CHECK_INT(post("c-b2", "assign", h_quote("{'agent':'sam'}"), NULL), 200);
    CHECK_INT(post("c-b2", "close", "{}", NULL), 200);
    start(&ben, "c-b3", "Crash", "hello");
    CHECK_INT(post("c-b3", "assign", h_quote("{'agent':'sam'}"), NULL), 200);
    wsc_close(&ann);
    wsc_close(&ben);
}

static void test_list_filters(void)
{
    make_conversations();
    check_list("/api/conversations", "c-b3,c-b2,c-b1,c-a2,c-a1");
    check_list("/api/conversations?state=queued", "c-a1");
    check_list("/api/conversations?state=closed", "c-b2");
    check_list("/api/conversations?state=bot,queued", "c-a2,c-a1");
    check_list("/api/conversations?state=active", "c-b3,c-b1,c-a2,c-a1");
    check_list("/api/conversations?assignee=sam", "c-b3");
    check_list("/api/conversations?assignee=dana&state=active", "c-b1");
    check_list("/api/conversations?assignee=none", "c-b2,c-a2,c-a1");
    check_list("/api/conversations?user=u-ann", "c-a2,c-a1");
    check_list("/api/conversations?user=u-nobody", "");
    check_list("/api/conversations?priority=urgent", "");
    check_list(h_json("/api/conversations?updated_since=%lld", (long long)g_t0), "c-b3,c-b2,c-b1");
    check_list(h_json("/api/conversations?updated_since=%lld&user=u-ann", (long long)g_t0), "");

    /* "me" is the signed-in agent; the API token is nobody. */
    session dana;
    cJSON *page = NULL;
    H_REQUIRE(login("dana", DANA_PW, NULL, &dana, NULL, NULL) == 200);
    CHECK_INT(browse(&dana, "GET", "/api/conversations?assignee=me", NULL, NULL, &page, NULL), 200);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(page, "items");
    CHECK_INT(cJSON_GetArraySize(items), 1);
    CHECK_STR(h_json_str(cJSON_GetArrayItem(items, 0), "id"), "c-b1");
    cJSON_Delete(page);
    char ids[512];
    CHECK_INT(list("/api/conversations?assignee=me", ids, NULL), 400);

    /* Bad parameters are named, not ignored. */
    static const char *const bad[] = {
        "state=open,nope",
        "state=",
        "priority=soon",
        "limit=0",
        "limit=201",
        "limit=ten",
        "cursor=zz",
        "cursor=abc",
        "updated_since=yesterday",
        "updated_since=99999999999999999999",
    };
    check_refused("/api/conversations", bad, sizeof bad / sizeof bad[0]);
}

/* An item as the list shows it. */
static cJSON *item_of(const char *conv, cJSON **page)
{
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations?limit=200", NULL, page), 200);
    const cJSON *it;
    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(*page, "items")) {
        if (h_json_str(it, "id") && strcmp(h_json_str(it, "id"), conv) == 0)
            return (cJSON *)it;
    }
    return NULL;
}

static void test_list_items(void)
{
    cJSON *page = NULL;

    /* Queued: no assignee, its place in line, a first-response clock due
     * an hour after the hand-off (the --sla file's normal policy). */
    const cJSON *a1 = item_of("c-a1", &page);
    H_REQUIRE(a1 != NULL);
    CHECK_STR(h_json_str(a1, "user"), "u-ann");
    CHECK_STR(h_json_str(a1, "subject"), "Gems missing");
    CHECK_STR(h_json_str(a1, "state"), "queued");
    CHECK_STR(h_json_str(a1, "priority"), "normal");
    CHECK(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(a1, "assignee")));
    CHECK(wsc_num(a1, "queue_position") == 1);
    const cJSON *fr = wsc_get(wsc_get(a1, "sla"), "first_response");
    double queued = wsc_num(a1, "queued_ms"), due = wsc_num(fr, "due_ms");
    CHECK(queued > 0 && due >= queued + 3600000.0 - 1000 && due <= queued + 3600000.0 + 1000);
    CHECK(wsc_num(fr, "warn_ms") == due - 720000.0); /* a fifth of the target before */
    CHECK(cJSON_IsNull(wsc_get(fr, "met_ms")) && cJSON_IsNull(wsc_get(fr, "breached_ms")));
    CHECK(wsc_num(a1, "unread") >= 1);
    CHECK(h_json_str(wsc_get(a1, "last_message"), "text") != NULL);
    CHECK(wsc_num(a1, "updated_ms") >= wsc_num(a1, "created_ms"));
    cJSON_Delete(page);

    /* Assigned: who has it, by account and display name. */
    const cJSON *b1 = item_of("c-b1", &page);
    H_REQUIRE(b1 != NULL);
    CHECK_STR(h_json_str(b1, "state"), "agent");
    CHECK_STR(h_json_str(wsc_get(b1, "assignee"), "name"), "dana");
    CHECK_STR(h_json_str(wsc_get(b1, "assignee"), "display_name"), "Dana S.");
    CHECK_STR(h_json_str(wsc_get(b1, "last_action"), "action"), "assign");
    CHECK_STR(h_json_str(wsc_get(b1, "last_action"), "by"), "api-token");
    cJSON_Delete(page);
}

static void test_list_pages(void)
{
    char ids[512], all[1024] = "", *next = NULL, *next2 = NULL;

    /* Two at a time: the pages join up to the whole list, each once. */
    CHECK_INT(list("/api/conversations?limit=2", ids, &next), 200);
    CHECK_STR(ids, "c-b3,c-b2");
    H_REQUIRE(next != NULL);
    snprintf(all, sizeof all, "%s", ids);

    /* Activity between pages moves c-b3 up, not into the next page. */
    CHECK_INT(post("c-b3", "messages", h_quote("{'text':'Looking into it'}"), NULL), 201);
    CHECK_INT(list(h_json("/api/conversations?limit=2&cursor=%s", next), ids, &next2), 200);
    CHECK_STR(ids, "c-b1,c-a2");
    H_REQUIRE(next2 != NULL);
    free(next);
    CHECK_INT(list(h_json("/api/conversations?limit=2&cursor=%s", next2), ids, &next), 200);
    CHECK_STR(ids, "c-a1");
    CHECK(next == NULL);
    free(next2);
    free(next);
    /* The same filter goes with every page. */
    CHECK_INT(list("/api/conversations?user=u-ben&limit=1", ids, &next), 200);
    CHECK_STR(ids, "c-b3");
    H_REQUIRE(next != NULL);
    CHECK_INT(list(h_json("/api/conversations?user=u-ben&limit=1&cursor=%s", next), ids, &next2),
              200);
    CHECK_STR(ids, "c-b2");
    free(next);
    free(next2);
}

/* ---- the single customer view --------------------------------------------------------- */

static void test_user_view(void)
{
    cJSON *u = NULL;
    wsc ann, ben;

    /* Context and an event from u-ann's app. */
    hello(&ann, "u-ann");
    CHECK_INT(wsc_sendf(&ann, "{'t':'context','full':true,'attributes':{'plan':'vip'},"
                              "'screen':'shop/gems','device':{'os':'Android 14'}}"),
              0);
    CHECK_INT(wsc_sendf(&ann,
                        "{'t':'event','cid':'e1','name':'purchase_failed',"
                        "'meta':{'sku':'gems_500'},'ts':%lld}",
                        (long long)wall_ms()),
              0);
    CHECK(wsc_await(&ann, 0, "ack", "cid", "e1", WAIT) != NULL);

    CHECK_INT(h_api_json(&g_srv, "GET", "/api/users/u-ann", NULL, &u), 200);
    CHECK_STR(h_json_str(u, "id"), "u-ann");
    CHECK_STR(h_json_str(u, "kind"), "id");
    CHECK_STR(h_json_str(u, "app"), "console-test");
    CHECK(cJSON_IsTrue(wsc_get(u, "online")));
    CHECK(cJSON_IsTrue(wsc_get(u, "context_shared")));
    CHECK_STR(h_json_str(wsc_get(u, "context"), "screen"), "shop/gems");
    CHECK_STR(h_json_str(wsc_get(wsc_get(u, "context"), "attributes"), "plan"), "vip");
    CHECK_STR(h_json_str(wsc_get(wsc_get(u, "context"), "device"), "os"), "Android 14");
    const cJSON *ev = cJSON_GetArrayItem(wsc_get(u, "events"), 0);
    CHECK_STR(h_json_str(ev, "name"), "purchase_failed");
    CHECK_STR(h_json_str(wsc_get(ev, "meta"), "sku"), "gems_500");
    const cJSON *convs = wsc_get(u, "conversations");
    CHECK_INT(cJSON_GetArraySize(convs), 2);
    CHECK_STR(h_json_str(cJSON_GetArrayItem(convs, 0), "id"), "c-a2");
    CHECK_STR(h_json_str(cJSON_GetArrayItem(convs, 1), "state"), "queued");
    CHECK_INT(cJSON_GetArraySize(wsc_get(u, "surveys")), 0);
    cJSON_Delete(u);

    /* u-ben answers the CSAT survey his closed conversation brought (it
     * waits for him). */
    hello(&ben, "u-ben");
    const cJSON *sv = wsc_await(&ben, 0, "survey", NULL, NULL, WAIT);
    const char *sv_id = h_json_str(wsc_get(sv, "survey"), "id");
    H_REQUIRE(sv_id != NULL);
    CHECK_INT(wsc_sendf(&ben,
                        "{'t':'survey.submit','cid':'sv1','survey':'%s',"
                        "'answers':{'q1':4,'q2':'fast'}}",
                        sv_id),
              0);
    CHECK(wsc_await(&ben, 0, "ack", "cid", "sv1", WAIT) != NULL);
    wsc_close(&ben);
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/users/u-ben", NULL, &u), 200);
    CHECK(cJSON_IsFalse(wsc_get(u, "context_shared")));
    CHECK_INT(cJSON_GetArraySize(wsc_get(u, "conversations")), 3);
    const cJSON *s0 = cJSON_GetArrayItem(wsc_get(u, "surveys"), 0);
    CHECK_STR(h_json_str(s0, "survey"), "csat");
    CHECK_STR(h_json_str(s0, "conv"), "c-b2");
    CHECK_STR(h_json_str(s0, "status"), "submitted");
    CHECK(wsc_num(s0, "csat") == 4);
    CHECK(cJSON_IsNull(wsc_get(s0, "nps")));
    CHECK_STR(h_json_str(wsc_get(s0, "answers"), "q2"), "fast");
    cJSON_Delete(u);

    /* Offline once the app is gone; unknown users are 404; only agents see
     * anyone. */
    wsc_close(&ann);
    for (int i = 0; i < 100; i++) {
        CHECK_INT(h_api_json(&g_srv, "GET", "/api/users/u-ann", NULL, &u), 200);
        int online = cJSON_IsTrue(wsc_get(u, "online"));
        cJSON_Delete(u);
        if (!online)
            break;
        CHECK(i < 99);
        usleep(50000);
    }
    CHECK_INT(h_api(&g_srv, "GET", "/api/users/u-nobody", NULL, NULL), 404);
    CHECK_INT(browse(NULL, "GET", "/api/users/u-ben", NULL, NULL, NULL, NULL), 401);
}

/* ---- who did what ------------------------------------------------------------------- */

/* The action `n` from the end (0: the last) of the conversation's record. */
static const cJSON *action_back(const cJSON *conv, int n)
{
    const cJSON *a = wsc_get(conv, "actions");
    return cJSON_GetArrayItem(a, cJSON_GetArraySize(a) - 1 - n);
}

static void test_agent_actions(void)
{
    session dana;
    cJSON *o = NULL;

    H_REQUIRE(login("dana", DANA_PW, NULL, &dana, NULL, NULL) == 200);
    /* Priority: urgent, set by dana; the running clock follows the urgent
     * policy (5 min from the hand-off). */
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-a1/priority",
                     h_quote("{'priority':'urgent'}"), NULL, &o, NULL),
              200);
    CHECK_STR(h_json_str(o, "priority"), "urgent");
    CHECK_STR(h_json_str(o, "priority_by"), "dana");
    double due = wsc_num(wsc_get(wsc_get(o, "sla"), "first_response"), "due_ms");
    CHECK(due >= wsc_num(o, "queued_ms") + 299000.0 && due <= wsc_num(o, "queued_ms") + 301000.0);
    cJSON_Delete(o);
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-a1/priority",
                     h_quote("{'priority':'asap'}"), NULL, NULL, NULL),
              400);
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-nope/priority",
                     h_quote("{'priority':'low'}"), NULL, NULL, NULL),
              404);
    check_list("/api/conversations?priority=urgent,high", "c-a1");

    /* Dana takes it and answers under her display name; then hands it to
     * Sam. Each step is recorded with who did it. */
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-a1/assign", "{}", NULL, NULL, NULL), 200);
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-a1/messages",
                     h_quote("{'text':'Dana here','name':'Someone Else'}"), NULL, NULL, NULL),
              201);
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-a1/transfer",
                     h_quote("{'agent':'sam','note':'billing'}"), NULL, &o, NULL),
              200);
    CHECK_STR(h_json_str(wsc_get(o, "assignee"), "name"), "sam");
    cJSON_Delete(o);
    CHECK_INT(browse(&dana, "POST", "/api/conversations/c-a1/transfer",
                     h_quote("{'agent':'no-such-agent'}"), NULL, NULL, NULL),
              400);
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-a1", NULL, &o), 200);
    const cJSON *t = action_back(o, 0), *a = action_back(o, 1), *p = action_back(o, 2);
    CHECK_STR(h_json_str(t, "action"), "transfer");
    CHECK_STR(h_json_str(t, "by"), "dana");
    CHECK_STR(h_json_str(wsc_get(t, "detail"), "from"), "dana");
    CHECK_STR(h_json_str(wsc_get(t, "detail"), "to"), "sam");
    CHECK_STR(h_json_str(wsc_get(t, "detail"), "note"), "billing");
    CHECK_STR(h_json_str(a, "action"), "assign");
    CHECK_STR(h_json_str(a, "by"), "dana");
    CHECK_STR(h_json_str(p, "action"), "priority");
    CHECK_STR(h_json_str(wsc_get(p, "detail"), "to"), "urgent");
    cJSON_Delete(o);
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-a1/messages", NULL, &o), 200);
    const cJSON *last = cJSON_GetArrayItem(o, cJSON_GetArraySize(o) - 1);
    CHECK_STR(h_json_str(last, "text"), "Dana here");
    CHECK_STR(h_json_str(last, "by"), "dana");
    CHECK_STR(h_json_str(wsc_get(last, "author"), "name"), "Dana S.");
    cJSON_Delete(o);

    /* The same priority again, or closing what is closed, records nothing. */
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-b2", NULL, &o), 200);
    int before = cJSON_GetArraySize(wsc_get(o, "actions"));
    cJSON_Delete(o);
    CHECK_INT(post("c-b2", "close", "{}", NULL), 200);
    CHECK_INT(post("c-b2", "priority", h_quote("{'priority':'normal'}"), NULL), 200);
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-b2", NULL, &o), 200);
    CHECK_INT(cJSON_GetArraySize(wsc_get(o, "actions")), before);
    cJSON_Delete(o);
}

/* ---- the transcript a page at a time ------------------------------------------------- */

/* A page of a transcript as a script reads it: its size, first and last
 * seq and text (0 and "" when it is not a list), the Link header (malloc'd,
 * NULL when absent). */
typedef struct page {
    int n;
    long long first, last;
    char first_text[32], last_text[32];
    char *link;
} page;

/* GET `path` into *p: the status. */
static int get_page(const char *path, page *p)
{
    char *text = NULL, *head = NULL;
    h_http req = {"GET", path, NULL, NULL, 0, NULL};
    int status = h_http_call(&g_srv, &req, &text, &head);
    cJSON *list = text ? cJSON_Parse(text) : NULL;

    memset(p, 0, sizeof *p);
    p->n = cJSON_IsArray(list) ? cJSON_GetArraySize(list) : 0;
    const cJSON *a = cJSON_GetArrayItem(list, 0), *z = cJSON_GetArrayItem(list, p->n - 1);
    p->first = h_json_str(a, "seq") ? atoll(h_json_str(a, "seq")) : 0;
    p->last = h_json_str(z, "seq") ? atoll(h_json_str(z, "seq")) : 0;
    snprintf(p->first_text, sizeof p->first_text, "%s",
             h_json_str(a, "text") ? h_json_str(a, "text") : "");
    snprintf(p->last_text, sizeof p->last_text, "%s",
             h_json_str(z, "text") ? h_json_str(z, "text") : "");
    /* Ascending seq, one step at a time: the page is one piece of the transcript. */
    for (int i = 1; i < p->n; i++)
        CHECK(atoll(h_json_str(cJSON_GetArrayItem(list, i), "seq")) ==
              atoll(h_json_str(cJSON_GetArrayItem(list, i - 1), "seq")) + 1);
    p->link = h_http_header(head, "link");
    cJSON_Delete(list);
    free(text);
    free(head);
    return status;
}

#define LONG_MSGS 250

/* A user writes `n` messages in `conv` (`in_path` as a URL's path holds
 * it), which an agent holds, so the bot adds none: seq 1 ... n, texts
 * "line 1" ... "line n". */
static void write_long(const char *user, const char *conv, const char *in_path, int n)
{
    wsc u;
    char cid[32];

    hello(&u, user);
    CHECK_INT(wsc_sendf(&u, "{'t':'conv.start','cid':'s-%s','conv':'%s'}", conv, conv), 0);
    H_REQUIRE(wsc_await(&u, 0, "conv.ack", NULL, NULL, WAIT) != NULL);
    CHECK_INT(post(in_path, "assign", h_quote("{'agent':'dana'}"), NULL), 200);
    for (int i = 1; i <= n; i++)
        CHECK_INT(
            wsc_sendf(&u, "{'t':'msg.send','cid':'l-%d','conv':'%s','text':'line %d'}", i, conv, i),
            0);
    snprintf(cid, sizeof cid, "l-%d", n);
    H_REQUIRE(wsc_await(&u, 0, "msg.ack", "cid", cid, WAIT) != NULL);
    wsc_close(&u);
}

static void test_transcript_pages(void)
{
    page p;

    write_long("u-long", "c-long", "c-long", LONG_MSGS);
    /* The default: the newest 200, oldest first, and where the rest is. */
    CHECK_INT(get_page("/api/conversations/c-long/messages", &p), 200);
    CHECK_INT(p.n, 200);
    CHECK(p.first == 51 && p.last == LONG_MSGS);
    CHECK_STR(p.first_text, "line 51");
    CHECK_STR(p.last_text, "line 250");
    CHECK_STR(p.link, "</api/conversations/c-long/messages?before=51&limit=200>; rel=\"prev\"");
    /* Following it: the older 50, and no page before them. */
    char path[256];
    snprintf(path, sizeof path, "%.*s", p.link ? (int)strcspn(p.link + 1, ">") : 0,
             p.link ? p.link + 1 : "");
    free(p.link);
    CHECK_INT(get_page(path, &p), 200);
    CHECK(p.n == 50 && p.first == 1 && p.last == 50);
    CHECK_STR(p.first_text, "line 1");
    CHECK(p.link == NULL);
    free(p.link);
    /* The limits: all 250 fit in 1000; a page of 1 before the 10th. */
    CHECK_INT(get_page("/api/conversations/c-long/messages?limit=1000", &p), 200);
    CHECK(p.n == LONG_MSGS && p.first == 1 && p.link == NULL);
    free(p.link);
    CHECK_INT(get_page("/api/conversations/c-long/messages?before=10&limit=1", &p), 200);
    CHECK(p.n == 1 && p.first == 9);
    CHECK_STR(p.link, "</api/conversations/c-long/messages?before=9&limit=1>; rel=\"prev\"");
    free(p.link);
    CHECK_INT(get_page("/api/conversations/c-long/messages?before=1", &p), 200);
    CHECK(p.n == 0 && p.link == NULL);
    free(p.link);

    /* Refused, naming the parameter: the server's error body. */
    static const char *const bad[] = {
        "limit=1001", "limit=0",  "limit=abc", "limit=",    "limit=%2B5",
        "limit=%205", "before=0", "before=-3", "before=9x", "before=9007199254740992"};
    check_refused("/api/conversations/c-long/messages", bad, sizeof bad / sizeof bad[0]);
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-nope/messages", NULL, NULL), 404);
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-nope/messages?limit=5", NULL, NULL),
              404);

    /* An id a URL must escape is escaped in the link, which leads back to it. */
    write_long("u-odd", "c-odd?%&>", "c-odd%3F%25%26%3E", 3);
    CHECK_INT(get_page("/api/conversations/c-odd%3F%25%26%3E/messages?limit=2", &p), 200);
    CHECK(p.n == 2 && p.first == 2);
    CHECK_STR(p.link,
              "</api/conversations/c-odd%3F%25%26%3E/messages?before=2&limit=2>; rel=\"prev\"");
    free(p.link);
    CHECK_INT(get_page("/api/conversations/c-odd%3F%25%26%3E/messages?before=2&limit=2", &p), 200);
    CHECK(p.n == 1 && p.first == 1 && p.link == NULL);
    free(p.link);
}

/* ---- the CSV export ---------------------------------------------------------------------- */

/* The line of `csv` that starts with `start`, malloc'd, or NULL. */
static char *csv_line(const char *csv, const char *start)
{
    for (const char *l = csv; l && *l;) {
        const char *end = strstr(l, "\r\n");
        if (strncmp(l, start, strlen(start)) == 0)
            return strndup(l, end ? (size_t)(end - l) : strlen(l));
        l = end ? end + 2 : NULL;
    }
    return NULL;
}

static void test_csv_export(void)
{
    char *csv = NULL, *head = NULL;
    h_http req = {"GET", "/api/metrics/conversations.csv", NULL, NULL, 0, NULL};

    CHECK_INT(h_http_call(&g_srv, &req, &csv, &head), 200);
    char *type = h_http_header(head, "content-type"),
         *disp = h_http_header(head, "content-disposition");
    CHECK(type && strncmp(type, "text/csv", 8) == 0);
    CHECK(disp && strstr(disp, "attachment") && strstr(disp, ".csv"));
    free(type);
    free(disp);
    free(head);
    H_REQUIRE(csv != NULL);
    CHECK(strncmp(csv,
                  "id,user,subject,created,state,priority,first_handoff,first_response_s,"
                  "resolution_s,handle_time_s,closes,reopens,transfers,agents,last_agent,csat,"
                  "nps\r\n",
                  130) == 0);
    int rows = 0;
    for (const char *p = csv; (p = strstr(p, "\r\n")); p += 2)
        rows++;
    CHECK_INT(rows, 6); /* the header and five conversations */

    /* The closed one: its facts, the CSAT answer, and a subject a
     * spreadsheet would have run as a formula, quoted and defused. */
    char *b2 = csv_line(csv, "\"c-b2\"");
    CHECK(b2 && strstr(b2, "\"c-b2\",\"u-ben\",\"'=HYPERLINK(\"\"http://x\"\",\"\"a\"\")\","));
    CHECK(b2 && strstr(b2, ",closed,normal,"));
    CHECK(b2 && strstr(b2, ",1,0,0,\"sam\",\"sam\",4,"));
    free(b2);
    /* The transferred one: both agents, the last one holding it, urgent. */
    char *a1 = csv_line(csv, "\"c-a1\"");
    CHECK(a1 && strstr(a1, ",agent,urgent,"));
    CHECK(a1 && strstr(a1, ",0,0,1,\"dana;sam\",\"sam\",,"));
    free(a1);
    free(csv);

    /* The window: conversations created before `until` only. */
    CHECK_INT(h_api(&g_srv, "GET",
                    h_json("/api/metrics/conversations.csv?until=%lld", (long long)g_t0), NULL,
                    &csv),
              200);
    CHECK(csv && strstr(csv, "\"c-a1\"") && !strstr(csv, "\"c-b1\""));
    free(csv);
    CHECK_INT(h_api(&g_srv, "GET", "/api/metrics/conversations.csv?since=5&until=4", NULL, NULL),
              400);
    CHECK_INT(browse(NULL, "GET", "/api/metrics/conversations.csv", NULL, NULL, NULL, NULL), 401);
}

/* ---- the live channel ends with its session ------------------------------------ */

/* A console's live channel, opened with the session's cookie: its hello came. */
static void open_channel(wsc *c, const session *s)
{
    H_REQUIRE(wsc_open_agent_cookie(c, g_srv.port, s->cookie, WAIT) == 0);
    CHECK(wsc_await(c, 0, "hello", NULL, NULL, WAIT) != NULL);
}

/* session.end with `reason`, then the close with code 4001. */
static void check_ended(wsc *c, const char *reason)
{
    const cJSON *end = wsc_await(c, 0, "session.end", NULL, NULL, WAIT);
    int64_t deadline = h_now_ms() + WAIT;

    CHECK_STR(wsc_str(end, "reason"), reason);
    while (!c->closed && h_now_ms() < deadline)
        wsc_pump(c, 50);
    CHECK_INT(c->close_code, 4001);
}

/* A session also ends where no logout is seen: a password reset by
 * --add-agent in another process. Its open channels must not go on
 * receiving every customer's messages. */
static void test_channel_ends_with_session(void)
{
    static const char *const lee[] = {"--add-agent",      "lee", "--role", "agent",
                                      "--password-stdin", NULL};
    session gone, reset, other;
    wsc c_gone, c_reset, c_other, c_token;

    H_REQUIRE(add_agent(lee, "lee-password-1\n", NULL) == 0);
    H_REQUIRE(login("lee", "lee-password-1", NULL, &gone, NULL, NULL) == 200);
    H_REQUIRE(login("lee", "lee-password-1", NULL, &reset, NULL, NULL) == 200);
    H_REQUIRE(login("sam", SAM_PW, NULL, &other, NULL, NULL) == 200);
    open_channel(&c_gone, &gone);
    open_channel(&c_reset, &reset);
    open_channel(&c_other, &other);
    H_REQUIRE(wsc_open_agent(&c_token, g_srv.port, TOKEN, WAIT) == 0);

    CHECK_INT(browse(&gone, "POST", "/api/logout", "{}", NULL, NULL, NULL), 200);
    check_ended(&c_gone, "logout");
    CHECK(!c_reset.closed);

    CHECK_INT(add_agent(lee, "lee-password-2\n", NULL), 0);
    check_ended(&c_reset, "ended");
    CHECK_INT(browse(&reset, "GET", "/api/me", NULL, NULL, NULL, NULL), 401);
    /* One pass checks every channel: the others were checked too. */
    wsc_pump(&c_other, 200);
    wsc_pump(&c_token, 200);
    CHECK(!c_other.closed && wsc_count(&c_other, 0, "session.end") == 0);
    CHECK(!c_token.closed && wsc_count(&c_token, 0, "session.end") == 0);
    wsc_close(&c_gone);
    wsc_close(&c_reset);
    wsc_close(&c_other);
    wsc_close(&c_token);
}

/* ---- taking the next (docs/routing.md): without --routing, the first of all ---- */

static void test_queue_next(void)
{
    cJSON *o = NULL;
    wsc cat;

    hello(&cat, "u-cat");
    start(&cat, "c-c1", "Stuck", "hello");
    CHECK_INT(wsc_sendf(&cat, "{'t':'msg.send','cid':'h-c1','conv':'c-c1',"
                              "'text':'I need to talk to a human'}"),
              0);
    await_state(&cat, "c-c1", "queued");
    wsc_close(&cat);
    /* The API token names the agent. */
    CHECK_INT(h_api_json(&g_srv, "POST", "/api/queue/next", "{}", NULL), 400);
    CHECK_INT(h_api_json(&g_srv, "POST", "/api/queue/next", h_quote("{'agent':'dana'}"), &o), 200);
    CHECK_STR(h_json_str(o, "id"), "c-c1");
    CHECK_STR(h_json_str(wsc_get(o, "assignee"), "name"), "dana");
    cJSON_Delete(o);
    CHECK_INT(h_api_json(&g_srv, "POST", "/api/queue/next", h_quote("{'agent':'dana'}"), NULL),
              404);

    /* A session takes the next for its own agent, not for another. */
    session sam;
    cJSON *err = NULL;
    H_REQUIRE(login("sam", SAM_PW, NULL, &sam, NULL, NULL) == 200);
    CHECK_INT(
        browse(&sam, "POST", "/api/queue/next", h_quote("{'agent':'dana'}"), NULL, &err, NULL),
        403);
    CHECK_STR(h_json_str(err, "error"), "a session takes the next for its own agent");
    cJSON_Delete(err);
    CHECK_INT(browse(&sam, "POST", "/api/queue/next", h_quote("{'agent':'sam'}"), NULL, NULL, NULL),
              404);
    CHECK_INT(browse(&sam, "POST", "/api/queue/next", "{}", NULL, NULL, NULL), 404);
}

/* A signed-in agent's proactive message goes out under their own display
 * name, as their messages in a conversation do: not as "Security". */
static void test_proactive_own_name(void)
{
    session sam;
    wsc u;

    H_REQUIRE(login("sam", SAM_PW, NULL, &sam, NULL, NULL) == 200);
    hello(&u, "u-pro");
    CHECK_INT(browse(&sam, "POST", "/api/users/u-pro/proactive",
                     h_quote("{'text':'Verify your account','name':'Security'}"), NULL, NULL, NULL),
              201);
    const cJSON *p = wsc_await(&u, 0, "proactive", NULL, NULL, WAIT);
    CHECK_STR(h_json_str(wsc_get(wsc_get(p, "msg"), "author"), "name"), "Sam Okafor");
    /* The API token still names its sender. */
    CHECK_INT(h_api_json(&g_srv, "POST", "/api/users/u-pro/proactive",
                         h_quote("{'text':'Hello','name':'Support'}"), NULL),
              201);
    p = wsc_await(&u, 0, "proactive", NULL, NULL, WAIT);
    CHECK_STR(h_json_str(wsc_get(wsc_get(p, "msg"), "author"), "name"), "Support");
    wsc_close(&u);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "server-console")) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(g_db, sizeof g_db, "%s/support.db", g_dir);
    H_RUN(test_add_agent);
    server_start();
    H_RUN(test_cookie_login_me_logout);
    H_RUN(test_csrf_refused);
    H_RUN(test_admin_routes_need_admin);
    H_RUN(test_wrong_passwords);
    H_RUN(test_list_filters);
    H_RUN(test_list_items);
    H_RUN(test_list_pages);
    H_RUN(test_user_view);
    H_RUN(test_agent_actions);
    H_RUN(test_csv_export);
    H_RUN(test_queue_next);
    H_RUN(test_proactive_own_name);
    H_RUN(test_channel_ends_with_session);
    H_RUN(test_transcript_pages);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    return h_finish(g_dir);
}
