/* parley-server's identity rules (docs/protocol.md "hello", the server
 * README "Identity"), driven with raw frames over plain ws://. Each test
 * starts its own server, with its own database, with the flags it needs. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "harness.h"
#include "testlib.h"
#include "tokens.h"
#include "wsc.h"

#define WAIT h_ms(20000)
/* How long "nothing arrives" is watched once the same push reached its
 * rightful recipient (the server queues it to everyone in one go). */
#define QUIET_MS h_ms(300)
#define AGENT_TOKEN "identity-agent-token"
#define JWT_SECRET "identity-jwt-secret"
#define ANON_A "a-0b5b2a3c-58c4-4d2e-9f3e-0a1b2c3d4e5f"
#define ANON_STRANGER "a-5fa7e1d2-0c3b-4a59-8e6f-112233445566"

static char g_dir[256];
static h_server g_srv;

static void sub_path(char *out, const char *name)
{
    snprintf(out, H_PATH, "%s/%s", g_dir, name);
}

/* ---- the server ------------------------------------------------------------- */

/* Points g_srv at database `name`.db (and its log) in the test directory. */
static void server_prepare(const char *name, const char *const *args)
{
    h_server_plain(&g_srv, g_dir, name, AGENT_TOKEN, args);
}

static void server_start(const char *name, const char *const *args)
{
    server_prepare(name, args);
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
}

static int log_has(const char *text)
{
    char *log = tl_read_file(g_srv.log, NULL);
    int found = log && strstr(log, text) != NULL;
    if (!found)
        fprintf(stderr, "  server log lacks '%s'\n", text);
    free(log);
    return found;
}

/* The server must refuse to start with `args`: exit status 2 and `expect`
 * in what it says. */
static void expect_no_start(const char *const *args, const char *expect)
{
    char *argv[16] = {PARLEY_SERVER_BIN, "--port", "0", "--db", g_srv.db};
    size_t a = 5;
    server_prepare("refused", NULL);
    for (size_t i = 0; args[i] && a < 15; i++)
        argv[a++] = (char *)args[i];
    argv[a] = NULL;
    unlink(g_srv.log);
    CHECK_INT(h_run(argv, NULL, NULL, g_srv.log, WAIT), 2);
    CHECK(log_has(expect));
}

/* ---- frames ----------------------------------------------------------------- */

/* Opens `c` and says hello as `user` (the JSON of the user member): the
 * welcome, or NULL with the error's message in *why (NULL when none came). */
static const cJSON *hello(wsc *c, const char *user, const char **why)
{
    *why = NULL;
    if (wsc_open(c, g_srv.port, WAIT) != 0)
        return NULL;
    if (wsc_sendf(c,
                  "{'t':'hello','v':1,'app':'identity-test','sdk':{'name':'raw','version':'0',"
                  "'platform':'test'},'user':%s}",
                  user) != 0)
        return NULL;
    for (int64_t deadline = h_now_ms() + WAIT; h_now_ms() < deadline;) {
        for (size_t i = 0; i < c->n; i++) {
            if (wsc_matches(c->frames[i], "welcome", NULL, NULL))
                return c->frames[i];
            if (wsc_matches(c->frames[i], "error", NULL, NULL)) {
                *why = wsc_str(c->frames[i], "message");
                return NULL;
            }
        }
        if (c->closed)
            break;
        wsc_pump(c, 20);
    }
    return NULL;
}

static const cJSON *expect_welcome(wsc *c, const char *user)
{
    const char *why;
    const cJSON *w = hello(c, user, &why);
    if (!w)
        fprintf(stderr, "  hello %s refused: %s\n", user, why ? why : "(no answer)");
    H_REQUIRE(w != NULL);
    return w;
}

/* The hello must be refused with auth_failed whose message holds `reason`. */
static void expect_refused(const char *user, const char *reason)
{
    wsc c;
    const char *why;
    const cJSON *w = hello(&c, user, &why);
    const char *got = w ? "welcome" : why ? why : "(no answer)";
    if (w || !why || !strstr(why, reason))
        fprintf(stderr, "  hello %s: %s, wanted a refusal with '%s'\n", user, got, reason);
    CHECK(w == NULL);
    CHECK(why && strstr(why, reason));
    wsc_close(&c);
}

/* Sends `frame`; the first answer of `type` whose `key` is `value`. */
static const cJSON *call(wsc *c, const char *frame, const char *type, const char *key,
                         const char *value)
{
    CHECK_INT(wsc_send(c, frame), 0);
    return wsc_await(c, 0, type, key, value, WAIT);
}

/* Sends `frame`, which the server must answer with error `code`. */
static void expect_error(wsc *c, const char *frame, const char *code)
{
    const cJSON *e = call(c, frame, "error", NULL, NULL);
    if (!e || !wsc_str(e, "code") || strcmp(wsc_str(e, "code"), code) != 0)
        fprintf(stderr, "  %s -> %s, wanted %s\n", frame, e ? wsc_str(e, "code") : "nothing", code);
    CHECK_STR(wsc_str(e, "code"), code);
}

/* The user member of an identified hello with a valid JWT, plus `more`
 * (members, starting with a comma, or ""). */
static const char *jwt_user(const char *id, const char *more)
{
    static char user[TOKEN_MAX + 512];
    char token[TOKEN_MAX];
    tok_jwt(JWT_SECRET, id, (long long)time(NULL) + 600, token);
    snprintf(user, sizeof user, "%s", h_json("{'id':'%s','token':'%s'%s}", id, token, more));
    return user;
}

static void start_conv(wsc *c, const char *conv, const char *text)
{
    CHECK(call(c, h_json("{'t':'conv.start','cid':'s-%s','conv':'%s'}", conv, conv), "conv.ack",
               "conv", conv) != NULL);
    CHECK(call(c, h_json("{'t':'msg.send','cid':'m-%s','conv':'%s','text':'%s'}", conv, conv, text),
               "msg.ack", "conv", conv) != NULL);
}

/* history.get of `conv` from the start must answer with `text`. */
static void expect_history(wsc *c, const char *conv, const char *text)
{
    CHECK(call(c, h_json("{'t':'history.get','conv':'%s','after':'0'}", conv), "msg", "text",
               text) != NULL);
    CHECK(wsc_await(c, 0, "history.end", "conv", conv, WAIT) != NULL);
}

/* Every frame `c` got that names conversation `conv`. */
static size_t frames_of(wsc *c, const char *conv)
{
    size_t n = 0;
    if (!c->closed)
        wsc_pump(c, QUIET_MS);
    for (size_t i = 0; i < c->n; i++) {
        const char *v = wsc_str(c->frames[i], "conv");
        n += v && strcmp(v, conv) == 0;
    }
    return n;
}

/* The owner of `conv` as the agents' API shows it ("" when unknown). */
static void api_owner(const char *conv, char out[256])
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/conversations/%s", conv);
    int status = h_api(&g_srv, "GET", path, NULL, &body);
    cJSON *o = status == 200 && body ? cJSON_Parse(body) : NULL;
    snprintf(out, 256, "%s", h_json_str(o, "user") ? h_json_str(o, "user") : "");
    cJSON_Delete(o);
    free(body);
}

/* ---- the takeover -------------------------------------------------------------- */

/* A stranger who says hello as anonymous "bob" before bob's first login
 * must get nothing of bob's, even with JWT verification on: no history, no
 * live messages, no way to post into bob's conversations. */
static void test_takeover(void)
{
    static const char *const args[] = {"--jwt-secret", JWT_SECRET, NULL};
    server_start("takeover", args);
    wsc planter, stranger, bob;
    const char *why;
    const cJSON *w = hello(&planter, h_json("{'anon':'bob'}"), &why);
    CHECK(w == NULL);
    CHECK(why && strstr(why, "a-<uuid>"));
    if (w) /* what the stranger could do before: plant a conversation */
        start_conv(&planter, "c-planted", "planted by a stranger");
    expect_welcome(&stranger, h_json("{'anon':'" ANON_STRANGER "'}"));

    expect_welcome(&bob, jwt_user("bob", ""));
    expect_error(&bob, h_json("{'t':'history.get','conv':'c-planted','after':'0'}"),
                 "unknown_conversation");
    const cJSON *list =
        call(&bob, h_json("{'t':'conv.list','req':'r-1'}"), "conv.list", "req", "r-1");
    CHECK_INT(cJSON_GetArraySize(wsc_get(list, "conversations")), 0);
    start_conv(&bob, "c-bob", "my card was charged twice");
    char path[128];
    snprintf(path, sizeof path, "/api/conversations/c-bob/messages");
    CHECK_INT(h_api(&g_srv, "POST", path, h_json("{'text':'Refund on its way, bob','name':'Dana'}"),
                    NULL),
              201);
    CHECK(wsc_await(&bob, 0, "msg", "text", "Refund on its way, bob", WAIT) != NULL);

    /* Neither the planter's socket (if it got in) nor the stranger's saw it. */
    CHECK_INT((int)frames_of(&planter, "c-bob"), 0);
    CHECK_INT((int)frames_of(&stranger, "c-bob"), 0);
    wsc *others[] = {&planter, &stranger};
    for (size_t i = 0; i < 2; i++) {
        if (others[i]->closed)
            continue;
        expect_error(others[i], h_json("{'t':'history.get','conv':'c-bob','after':'0'}"),
                     "unknown_conversation");
        expect_error(others[i],
                     h_json("{'t':'msg.send','cid':'x-1','conv':'c-bob','text':'hijack'}"),
                     "unknown_conversation");
        expect_error(others[i], h_json("{'t':'conv.start','cid':'x-2','conv':'c-bob'}"),
                     "unknown_conversation");
        expect_error(others[i], h_json("{'t':'history.page','req':'r-2','conv':'c-bob'}"),
                     "unknown_conversation");
    }
    CHECK_INT(h_api_count_text(&g_srv, "c-bob", "hijack"), 0);
    char owner[256];
    api_owner("c-planted", owner);
    CHECK(strcmp(owner, "bob") != 0);
    wsc_close(&planter);
    wsc_close(&stranger);
    wsc_close(&bob);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
}

/* ---- merge with proof of possession ---------------------------------------------- */

static void expect_not_merged(const char *user)
{
    wsc carol;
    char owner[256];
    expect_welcome(&carol, user);
    expect_error(&carol, h_json("{'t':'history.get','conv':'c-anon','after':'0'}"),
                 "unknown_conversation");
    wsc_close(&carol);
    api_owner("c-anon", owner);
    CHECK_STR(owner, ANON_A);
}

/* An identified hello naming an anonymous id takes its history only with
 * the secret the server issued to that anonymous user; connections still
 * signed in as the merged anonymous user are closed. */
static void test_merge_needs_proof(void)
{
    static const char *const args[] = {"--jwt-secret", JWT_SECRET, NULL};
    server_start("merge", args);
    wsc anon, again, carol;
    char secret[160], more[256], owner[256];
    const cJSON *w = expect_welcome(&anon, h_json("{'anon':'" ANON_A "'}"));
    const char *issued = wsc_str(w, "anon_secret");
    CHECK(issued && strncmp(issued, "ps-", 3) == 0 && strlen(issued) == 67);
    snprintf(secret, sizeof secret, "%s", issued ? issued : "?");
    start_conv(&anon, "c-anon", "written anonymously");
    /* Issued once: another anonymous session does not get it. */
    w = expect_welcome(&again, h_json("{'anon':'" ANON_A "'}"));
    CHECK(wsc_str(w, "anon_secret") == NULL);
    wsc_close(&again);

    expect_not_merged(jwt_user("carol", h_json(",'anon':'" ANON_A "'")));
    expect_not_merged(jwt_user("carol", h_json(",'anon':'" ANON_A "','proof':'ps-0000'")));
    snprintf(more, sizeof more, "%s", h_json(",'anon':'" ANON_A "','proof':'%s'", secret));
    more[strlen(more) - 2] ^= 1; /* one character off */
    expect_not_merged(jwt_user("carol", more));
    CHECK(call(&anon, h_json("{'t':'msg.send','cid':'m-2','conv':'c-anon','text':'still mine'}"),
               "msg.ack", "cid", "m-2") != NULL);

    snprintf(more, sizeof more, "%s", h_json(",'anon':'" ANON_A "','proof':'%s'", secret));
    expect_welcome(&carol, jwt_user("carol", more));
    expect_history(&carol, "c-anon", "written anonymously");
    api_owner("c-anon", owner);
    CHECK_STR(owner, "carol");
    /* The anonymous socket is told and closed. */
    const cJSON *e = wsc_await(&anon, 0, "error", "code", "auth_failed", WAIT);
    CHECK(e != NULL);
    wsc_pump(&anon, QUIET_MS);
    CHECK(anon.closed);
    wsc_close(&anon);
    expect_welcome(&anon, h_json("{'anon':'" ANON_A "'}"));
    expect_error(&anon, h_json("{'t':'history.get','conv':'c-anon','after':'0'}"),
                 "unknown_conversation");
    wsc_close(&anon);
    wsc_close(&carol);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
}

/* ---- who may say hello at all ------------------------------------------------------ */

static void test_namespaces_and_dev_flag(void)
{
    static const char *const insecure[] = {"--insecure-identities", NULL};
    static const char *const both[] = {"--insecure-identities", "--jwt-secret", "x", NULL};
    wsc c;
    server_start("nosecret", NULL);
    expect_refused(h_json("{'id':'dev-user'}"), "--jwt-secret");
    expect_welcome(&c, h_json("{'anon':'" ANON_A "'}"));
    wsc_close(&c);
    expect_refused(h_json("{'anon':'bob'}"), "a-<uuid>");
    expect_refused(h_json("{'anon':'A-0B5B2A3C-58C4-4D2E-9F3E-0A1B2C3D4E5F'}"), "a-<uuid>");
    expect_refused(h_json("{'anon':'a-0b5b2a3c-58c4-4d2e-9f3e-0a1b2c3d4e5'}"), "a-<uuid>");
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);

    server_start("insecure", insecure);
    CHECK(log_has("WARNING: --insecure-identities"));
    expect_welcome(&c, h_json("{'id':'dev-user'}"));
    wsc_close(&c);
    /* Even unverified, an identified id never takes the anonymous form. */
    expect_refused(h_json("{'id':'" ANON_A "'}"), "anonymous form");
    expect_refused(h_json("{'id':'dev-user','anon':'dev-user'}"), "user.anon");
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    expect_no_start(both, "contradicts");
}

/* ---- JWT audience, issuer, lifetime -------------------------------------------------- */

#define GOOD_AUD_ISS "'aud':'parley-test','iss':'https://auth.example'"

static void test_jwt_claims(void)
{
    static const char *const args[] = {"--jwt-secret",       JWT_SECRET,     "--jwt-audience",
                                       "parley-test",        "--jwt-issuer", "https://auth.example",
                                       "--jwt-max-lifetime", "3600",         NULL};
    static const char *const lone[] = {"--jwt-audience", "parley-test", NULL};
    server_start("claims", args);
    struct {
        const char *members; /* aud, iss and anything else, as JSON members */
        int has_iat;
        long long iat, exp; /* seconds from now */
        const char *reason; /* NULL: accepted */
    } cases[] = {
        {GOOD_AUD_ISS, 1, 0, 600, NULL},
        {"'aud':['other','parley-test'],'iss':'https://auth.example'", 0, 0, 600, NULL},
        {GOOD_AUD_ISS, 1, -3000, 600, NULL},
        {"'aud':'other','iss':'https://auth.example'", 1, 0, 600, "wrong audience"},
        {"'aud':['other'],'iss':'https://auth.example'", 1, 0, 600, "wrong audience"},
        {"'aud':7,'iss':'https://auth.example'", 1, 0, 600, "wrong audience"},
        {"'iss':'https://auth.example'", 1, 0, 600, "wrong audience"},
        {"'aud':'parley-test','iss':'https://evil.example'", 1, 0, 600, "wrong issuer"},
        {"'aud':'parley-test'", 1, 0, 600, "wrong issuer"},
        {GOOD_AUD_ISS, 0, 0, 7200, "lifetime too long"},
        {GOOD_AUD_ISS, 1, -7000, 600, "lifetime too long"},
        {GOOD_AUD_ISS ",'iat':'yesterday'", 0, 0, 600, "malformed token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char claims[512], iat[48] = "", token[TOKEN_MAX], user[TOKEN_MAX + 64];
        long long now = (long long)time(NULL);
        if (cases[i].has_iat)
            snprintf(iat, sizeof iat, ",'iat':%lld", now + cases[i].iat);
        snprintf(claims, sizeof claims, "%s",
                 h_json("{'sub':'aud-user',%s%s,'exp':%lld}", h_quote(cases[i].members),
                        h_quote(iat), now + cases[i].exp));
        h_watch(claims, "the claims", h_print_text, NULL);
        tok_jwt_claims(JWT_SECRET, claims, token);
        snprintf(user, sizeof user, "%s", h_json("{'id':'aud-user','token':'%s'}", token));
        if (cases[i].reason) {
            expect_refused(user, cases[i].reason);
        } else {
            wsc c;
            expect_welcome(&c, user);
            wsc_close(&c);
        }
        h_forget(claims);
    }
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    expect_no_start(lone, "need a JWT secret");
}

/* ---- files the server writes ------------------------------------------------------- */

static void expect_mode(const char *path, unsigned mode)
{
    struct stat st;
    CHECK_INT(stat(path, &st), 0);
    if ((st.st_mode & 0777) != mode)
        fprintf(stderr, "  %s has mode %03o\n", path, (unsigned)(st.st_mode & 0777));
    CHECK_INT((int)(st.st_mode & 0777), (int)mode);
}

/* The database, its -wal and -shm and the ready file are the server's
 * alone, whatever the umask it was started with. */
static void test_files_private(void)
{
    if (h_store_pg()) {
        printf("  (a SQLite file's: skipped with PARLEY_TEST_STORE=pg)\n");
        return;
    }
    mode_t old = umask(022);
    server_prepare("private", NULL);
    int rc = h_server_start(&g_srv, 0);
    umask(old);
    H_REQUIRE(rc == 0);
    wsc c;
    expect_welcome(&c, h_json("{'anon':'" ANON_A "'}"));
    start_conv(&c, "c-private", "my address is 12 Main St");
    char path[H_PATH + 8];
    expect_mode(g_srv.db, 0600);
    snprintf(path, sizeof path, "%s-wal", g_srv.db);
    expect_mode(path, 0600);
    snprintf(path, sizeof path, "%s-shm", g_srv.db);
    expect_mode(path, 0600);
    expect_mode(g_srv.ready, 0600);
    wsc_close(&c);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);

    /* A database made readable by someone else is pointed out. */
    CHECK_INT(chmod(g_srv.db, 0644), 0);
    server_start("private", NULL);
    CHECK(log_has("can be read by other users"));
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
}

/* ---- secrets out of the command line ------------------------------------------------ */

/* 1 when the server's command line (what ps shows) contains `text`. */
static int cmdline_has(pid_t pid, const char *text)
{
    char path[64];
    size_t len = 0;
    snprintf(path, sizeof path, "/proc/%ld/cmdline", (long)pid);
    char *cmd = tl_read_file(path, &len);
    int found = 0;
    for (size_t i = 0; cmd && i < len; i += strlen(cmd + i) + 1)
        found |= strstr(cmd + i, text) != NULL;
    free(cmd);
    return found;
}

static void test_secrets_from_file(void)
{
    char hmac_file[H_PATH], token_file[H_PATH], empty_file[H_PATH], hash[65], user[160];
    sub_path(hmac_file, "hmac.secret");
    sub_path(token_file, "agent.token");
    sub_path(empty_file, "empty.secret");
    CHECK_INT(h_write_file(hmac_file, "file-hmac-secret\n"), 0);
    CHECK_INT(h_write_file(token_file, "file-agent-token\r\n"), 0);
    CHECK_INT(h_write_file(empty_file, "\n"), 0);
    const char *const args[] = {"--hmac-secret-file", hmac_file, "--agent-token-file", token_file,
                                NULL};
    server_prepare("filed", args);
    g_srv.token = NULL;
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
    g_srv.token = "file-agent-token";
    wsc c;
    tok_user_hash("file-hmac-secret", "filed-user", hash);
    snprintf(user, sizeof user, "%s", h_json("{'id':'filed-user','token':'%s'}", hash));
    expect_welcome(&c, user);
    wsc_close(&c);
    tok_user_hash("file-hmac-secret\n", "filed-user", hash);
    snprintf(user, sizeof user, "%s", h_json("{'id':'filed-user','token':'%s'}", hash));
    expect_refused(user, "bad signature");
    CHECK_INT(h_api(&g_srv, "GET", "/api/conversations", NULL, NULL), 200);
    CHECK(!cmdline_has(g_srv.pid, "file-hmac-secret"));
    CHECK(!cmdline_has(g_srv.pid, "file-agent-token"));
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);

    const char *const twice[] = {"--jwt-secret", "a", "--jwt-secret-file", hmac_file, NULL};
    expect_no_start(twice, "exclude each other");
    const char *const empty[] = {"--jwt-secret-file", empty_file, NULL};
    expect_no_start(empty, "empty");
    const char *const missing[] = {"--hmac-secret-file", "/nonexistent/secret", NULL};
    expect_no_start(missing, "cannot open");
}

static void test_secrets_from_env(void)
{
    char token[TOKEN_MAX], user[TOKEN_MAX + 64];
    setenv("PARLEY_JWT_SECRET", "env-jwt-secret", 1);
    setenv("PARLEY_AGENT_TOKEN", "env-agent-token", 1);
    server_prepare("env", NULL);
    g_srv.token = NULL;
    int rc = h_server_start(&g_srv, 0);
    unsetenv("PARLEY_JWT_SECRET");
    unsetenv("PARLEY_AGENT_TOKEN");
    H_REQUIRE(rc == 0);
    wsc c;
    tok_jwt("env-jwt-secret", "env-user", (long long)time(NULL) + 600, token);
    snprintf(user, sizeof user, "%s", h_json("{'id':'env-user','token':'%s'}", token));
    expect_welcome(&c, user);
    wsc_close(&c);
    tok_jwt(JWT_SECRET, "env-user", (long long)time(NULL) + 600, token);
    snprintf(user, sizeof user, "%s", h_json("{'id':'env-user','token':'%s'}", token));
    expect_refused(user, "bad signature");
    g_srv.token = "env-agent-token";
    CHECK_INT(h_api(&g_srv, "GET", "/api/conversations", NULL, NULL), 200);
    g_srv.token = "a-guess";
    CHECK_INT(h_api(&g_srv, "GET", "/api/conversations", NULL, NULL), 401);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
}

/* ---- a database from before ------------------------------------------------------- */

#define LEGACY_ANON "a-11111111-1111-4111-8111-111111111111"
#define LEGACY_FLIPPED "a-22222222-2222-4222-8222-222222222222"

static void test_legacy_database(void)
{
    static const char *const args[] = {"--jwt-secret", JWT_SECRET, NULL};
    sqlite3 *db = NULL;
    char *err = NULL, *legacy;
    if (h_store_pg()) {
        printf("  (a SQLite file's: skipped with PARLEY_TEST_STORE=pg)\n");
        return;
    }
    legacy = tl_read_file(PARLEY_TEST_DATA "/legacy-v1.sql", NULL);
    H_REQUIRE(legacy != NULL);
    server_prepare("legacy", args);
    CHECK_INT(sqlite3_open(g_srv.db, &db), SQLITE_OK);
    CHECK_INT(sqlite3_exec(db, legacy, NULL, NULL, &err), SQLITE_OK);
    if (err)
        fprintf(stderr, "  legacy db: %s\n", err);
    sqlite3_free(err);
    sqlite3_close(db);
    free(legacy);
    server_start("legacy", args);
    CHECK(log_has("anonymous user 'bob' had no a-<uuid> id"));
    wsc c;
    char owner[256];

    /* bob inherits nothing the stranger left. */
    expect_welcome(&c, jwt_user("bob", ""));
    expect_error(&c, h_json("{'t':'history.get','conv':'c-planted','after':'0'}"),
                 "unknown_conversation");
    wsc_close(&c);
    api_owner("c-planted", owner);
    CHECK(strncmp(owner, "a-", 2) == 0 && strcmp(owner, "bob") != 0);
    char renamed[256];
    snprintf(renamed, sizeof renamed, "%s", owner);

    /* Rightful users carry on. */
    expect_welcome(&c, jwt_user("alice", ""));
    expect_history(&c, "c-alice", "alice asks");
    wsc_close(&c);
    const cJSON *w = expect_welcome(&c, h_json("{'anon':'" LEGACY_ANON "'}"));
    CHECK(wsc_str(w, "anon_secret") != NULL);
    expect_history(&c, "c-anon", "anonymous asks");
    wsc_close(&c);
    expect_welcome(&c, h_json("{'anon':'" LEGACY_FLIPPED "'}"));
    expect_history(&c, "c-flipped", "flipped asks");
    wsc_close(&c);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);

    /* Once is enough: a restart renames nothing more. */
    server_start("legacy", args);
    api_owner("c-planted", owner);
    CHECK_STR(owner, renamed);
    api_owner("c-alice", owner);
    CHECK_STR(owner, "alice");
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "server-identity") != 0) {
        fprintf(stderr, "cannot make a test directory\n");
        return 1;
    }
    H_RUN(test_takeover);
    H_RUN(test_merge_needs_proof);
    H_RUN(test_namespaces_and_dev_flag);
    H_RUN(test_jwt_claims);
    H_RUN(test_files_private);
    H_RUN(test_secrets_from_file);
    H_RUN(test_secrets_from_env);
    H_RUN(test_legacy_database);
    return h_finish(g_dir);
}
