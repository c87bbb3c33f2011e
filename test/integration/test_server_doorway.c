/* The server's doorway, as a newcomer meets it.
 *
 * - What it prints once it listens: a URL its own certificate accepts
 *   (wss://localhost, not the IP address mbedTLS would refuse) and a
 *   parley-chat command that works when pasted as it is: the test runs it.
 * - A reconnect whose full context lacks what the client has not learnt
 *   again keeps the agent's view: the last known values, marked stale with
 *   when they were last reported; a database from before keeps its
 *   context with the dates it had. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)

static char g_dir[256];

/* ---- helpers ------------------------------------------------------------- */

/* Wall-clock milliseconds, as the server stamps what it stores. */
static double wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (double)ts.tv_sec * 1000 + (double)(ts.tv_nsec / 1000000);
}

/* `s` with every ' turned into ", so that frames read as JSON does. The
 * text is static: one frame at a time. */
static const char *q(const char *s)
{
    static char buf[4096];
    size_t i;

    for (i = 0; s[i] && i < sizeof buf - 1; i++)
        buf[i] = s[i] == '\'' ? '"' : s[i];
    buf[i] = '\0';
    return buf;
}

/* The text after `prefix` on the first line of the server's log that
 * starts with it (malloc'd), or NULL. */
static char *log_line(const h_server *s, const char *prefix)
{
    char *log = tl_read_file(s->log, NULL), *line, *end, *out = NULL;

    for (line = log; line && *line && !out; line = end ? end + 1 : NULL) {
        end = strchr(line, '\n');
        if (end)
            *end = '\0';
        if (strncmp(line, prefix, strlen(prefix)) == 0)
            out = strdup(line + strlen(prefix));
        if (!end)
            break;
    }
    free(log);
    return out;
}

static int start(h_server *s, const char *sub, int plain, const char *const *extra)
{
    char dir[H_PATH];

    snprintf(dir, sizeof dir, "%s/%s", g_dir, sub);
    if (h_server_init(s, dir))
        return -1;
    s->plain = plain;
    s->extra_args = extra;
    return h_server_start(s, 0);
}

/* Runs the printed command with `text` on its stdin: its exit status. */
static int run_command(const h_server *s, const char *command, const char *text)
{
    char in[H_PATH + 16], out[H_PATH + 16];

    snprintf(in, sizeof in, "%s/chat.in", s->dir);
    snprintf(out, sizeof out, "%s/chat.out", s->dir);
    if (h_write_file(in, text))
        return -1;
    char *argv[] = {"sh", "-c", (char *)command, NULL};
    int rc = h_run(argv, in, out, out, WAIT);
    if (rc != 0) {
        char *said = tl_read_file(out, NULL);
        fprintf(stderr, "  `%s` exited %d:\n%s\n", command, rc, said ? said : "");
        free(said);
    }
    return rc;
}

/* The only conversation on the server (malloc'd id), or NULL. */
static char *only_conversation(const h_server *s)
{
    char *id = NULL;
    cJSON *page = NULL;
    const cJSON *items;

    CHECK_INT(h_api_json(s, "GET", "/api/conversations", NULL, &page), 200);
    items = cJSON_GetObjectItemCaseSensitive(page, "items");
    CHECK_INT(cJSON_GetArraySize(items), 1);
    if (cJSON_GetArraySize(items) == 1 && h_json_str(cJSON_GetArrayItem(items, 0), "id"))
        id = strdup(h_json_str(cJSON_GetArrayItem(items, 0), "id"));
    cJSON_Delete(page);
    return id;
}

/* ---- what the server prints ---------------------------------------------- */

/* The URL names the host the certificate names; the command, pasted as it
 * is, chats with the server (the CA given with --ca comes along). */
static void test_tls_command_works(void)
{
    h_server s;
    char url[128], ca[4096];
    const char *extra[] = {"--ca", s.ca, NULL};

    if (start(&s, "tls", 0, extra))
        return;
    snprintf(url, sizeof url, "wss://localhost:%d/", s.port);
    char *listening = log_line(&s, "parley-server: listening on ");
    char *command = log_line(&s, "parley-server: try it: ");
    CHECK_STR(listening, url);
    CHECK(command && strstr(command, url));
    CHECK(command && realpath(s.ca, ca) && strstr(command, ca));
    CHECK(command && strstr(command, "parley-chat"));
    if (command)
        CHECK_INT(run_command(&s, command, "hello from the banner\n"), 0);
    char *conv = only_conversation(&s);
    CHECK(conv && h_api_count_text(&s, conv, "hello from the banner") == 1);
    free(conv);
    free(listening);
    free(command);
    h_server_stop(&s, SIGTERM);
}

/* Without --ca the server says what to put; a --ca that did not sign the
 * certificate is warned about. */
static void test_tls_without_ca(void)
{
    h_server s;
    char cert[4096], want[4200];
    const char *wrong[] = {"--ca", s.other_ca, NULL};

    if (start(&s, "noca", 0, NULL))
        return;
    char *command = log_line(&s, "parley-server: try it: ");
    char *hint = log_line(&s, "parley-server: (--ca: ");
    snprintf(want, sizeof want, "--ca <CA that signed %s>", realpath(s.cert, cert) ? cert : "?");
    CHECK(command && strstr(command, want));
    CHECK(hint != NULL);
    free(command);
    free(hint);
    h_server_stop(&s, SIGTERM);
    unlink(s.log);
    s.extra_args = wrong;
    CHECK_INT(h_server_start(&s, 0), 0);
    char *warning = log_line(&s, "parley-server: warning: --ca ");
    CHECK(warning && strstr(warning, "does not verify --cert"));
    free(warning);
    h_server_stop(&s, SIGTERM);
}

/* Plain ws:// names the address, and the command says --insecure. */
static void test_plain_command_works(void)
{
    h_server s;
    char url[128];

    if (start(&s, "plain", 1, NULL))
        return;
    snprintf(url, sizeof url, "ws://127.0.0.1:%d/", s.port);
    char *listening = log_line(&s, "parley-server: listening on ");
    char *command = log_line(&s, "parley-server: try it: ");
    CHECK_STR(listening, url);
    CHECK(command && strstr(command, "--insecure"));
    if (command)
        CHECK_INT(run_command(&s, command, "hello over plain ws\n"), 0);
    char *conv = only_conversation(&s);
    CHECK(conv && h_api_count_text(&s, conv, "hello over plain ws") == 1);
    free(conv);
    free(listening);
    free(command);
    h_server_stop(&s, SIGTERM);
}

/* ---- the agent's view of a reconnecting user --------------------------------- */

static int hello(wsc *c, const h_server *s)
{
    if (wsc_open(c, s->port, WAIT) ||
        wsc_send(c, q("{'t':'hello','v':1,'app':'doorway','sdk':{'name':'raw','version':'0'},"
                      "'user':{'id':'player-d'}}")))
        return -1;
    return wsc_await(c, 0, "welcome", NULL, NULL, WAIT) ? 0 : -1;
}

/* Frames are handled in order: once this event is acked, so is every
 * frame before it. */
static void sync_frames(wsc *c)
{
    static unsigned n;
    char frame[128], cid[32];

    snprintf(cid, sizeof cid, "sync-%u", ++n);
    snprintf(frame, sizeof frame, q("{'t':'event','cid':'%s','name':'sync','ts':1}"), cid);
    CHECK_INT(wsc_send(c, frame), 0);
    CHECK(wsc_await(c, 0, "ack", "cid", cid, WAIT) != NULL);
}

/* GET /api/conversations/c-door's user_context (the conversation, to
 * cJSON_Delete, in *conv). */
static const cJSON *user_context(const h_server *s, cJSON **conv)
{
    char *body = NULL;

    CHECK_INT(h_api(s, "GET", "/api/conversations/c-door", NULL, &body), 200);
    *conv = body ? cJSON_Parse(body) : NULL;
    free(body);
    return cJSON_GetObjectItemCaseSensitive(*conv, "user_context");
}

static const cJSON *at(const cJSON *o, const char *a, const char *b, const char *c)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

    v = b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
    return c ? cJSON_GetObjectItemCaseSensitive(v, c) : v;
}

static double num(const cJSON *v)
{
    return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

/* Before the reconnect: everything reported, nothing stale. */
static void report_everything(wsc *c, const h_server *s)
{
    cJSON *conv;

    CHECK_INT(wsc_send(c, q("{'t':'context','full':true,'attributes':{'plan':'vip','level':7},"
                            "'screen':'shop','breadcrumbs':[{'text':'opened shop','ts':1000}],"
                            "'device':{'os':'Linux','locale':'en_US'}}")),
              0);
    CHECK_INT(wsc_send(c, q("{'t':'conv.start','cid':'k-door','conv':'c-door'}")), 0);
    CHECK(wsc_await(c, 0, "conv.ack", "cid", "k-door", WAIT) != NULL);
    const cJSON *uc = user_context(s, &conv);
    CHECK(cJSON_IsFalse(at(uc, "stale", NULL, NULL)));
    CHECK(cJSON_IsFalse(at(at(uc, "reported", "attributes", "plan"), "stale", NULL, NULL)));
    CHECK(num(at(uc, "reported", "screen", "reported_ms")) > 0);
    cJSON_Delete(conv);
}

/* The app restarted: its full state has the device facts only. */
static void check_kept_stale(const h_server *s, double before_ms)
{
    cJSON *conv;
    const cJSON *uc = user_context(s, &conv), *plan = at(uc, "reported", "attributes", "plan");

    CHECK_STR(h_json_str(at(uc, "attributes", NULL, NULL), "plan"), "vip");
    CHECK(num(at(uc, "attributes", "level", NULL)) == 7);
    CHECK(cJSON_IsTrue(at(uc, "stale", NULL, NULL)));
    CHECK(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(plan, "stale")));
    CHECK(num(cJSON_GetObjectItemCaseSensitive(plan, "reported_ms")) > 0);
    CHECK(num(cJSON_GetObjectItemCaseSensitive(plan, "reported_ms")) <= before_ms);
    CHECK_STR(h_json_str(uc, "screen"), "shop");
    CHECK(cJSON_IsTrue(at(uc, "reported", "screen", "stale")));
    CHECK_INT(cJSON_GetArraySize(at(uc, "breadcrumbs", NULL, NULL)), 1);
    CHECK(cJSON_IsTrue(at(uc, "reported", "breadcrumbs", "stale")));
    /* What the client did send is current, and replaced the old facts. */
    CHECK_STR(h_json_str(at(uc, "device", NULL, NULL), "os"), "Linux 6");
    CHECK(at(uc, "device", "locale", NULL) == NULL);
    CHECK(cJSON_IsFalse(at(uc, "reported", "device", "stale")));
    CHECK(num(at(uc, "reported", "device", "reported_ms")) >= before_ms);
    cJSON_Delete(conv);
}

static void test_reconnect_keeps_context(void)
{
    h_server s;
    wsc c;
    cJSON *conv;

    if (start(&s, "ctx", 1, h_insecure_identities) || hello(&c, &s))
        return;
    report_everything(&c, &s);
    wsc_close(&c);
    usleep(20 * 1000);
    double reconnect_ms = wall_ms() - 1;
    CHECK_INT(hello(&c, &s), 0);
    CHECK_INT(wsc_send(&c, q("{'t':'context','full':true,'device':{'os':'Linux 6'}}")), 0);
    sync_frames(&c);
    check_kept_stale(&s, reconnect_ms);
    /* Reported again: current again; the rest stays stale. */
    CHECK_INT(wsc_send(&c, q("{'t':'context','full':false,'attributes':{'plan':'free'},"
                             "'screen':'shop'}")),
              0);
    sync_frames(&c);
    const cJSON *uc = user_context(&s, &conv);
    CHECK_STR(h_json_str(at(uc, "attributes", NULL, NULL), "plan"), "free");
    CHECK(cJSON_IsFalse(at(at(uc, "reported", "attributes", "plan"), "stale", NULL, NULL)));
    CHECK(cJSON_IsTrue(at(at(uc, "reported", "attributes", "level"), "stale", NULL, NULL)));
    CHECK(cJSON_IsFalse(at(uc, "reported", "screen", "stale")));
    CHECK(cJSON_IsTrue(at(uc, "stale", NULL, NULL)));
    cJSON_Delete(conv);
    /* A patch of a stale part starts it over: the old ring goes. */
    CHECK_INT(wsc_send(&c, q("{'t':'context','full':false,'attributes':{'level':8},"
                             "'breadcrumbs':[{'text':'restarted','ts':2000}]}")),
              0);
    sync_frames(&c);
    uc = user_context(&s, &conv);
    CHECK_INT(cJSON_GetArraySize(at(uc, "breadcrumbs", NULL, NULL)), 1);
    CHECK_STR(h_json_str(cJSON_GetArrayItem(at(uc, "breadcrumbs", NULL, NULL), 0), "text"),
              "restarted");
    CHECK(cJSON_IsFalse(at(uc, "stale", NULL, NULL)));
    cJSON_Delete(conv);
    wsc_close(&c);
    h_server_stop(&s, SIGTERM);
}

/* A database made before context was dated: each part counts as reported
 * when the picture last changed, attributes when they were set. */
static int make_old_database(const char *path)
{
    sqlite3 *db;
    char *err = NULL;
    int rc;

    if (sqlite3_open(path, &db) != SQLITE_OK)
        return -1;
    rc = sqlite3_exec(
        db,
        "CREATE TABLE users(id TEXT PRIMARY KEY, kind TEXT NOT NULL, app TEXT,"
        " first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, secret_hash TEXT);"
        "CREATE TABLE conversations(id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id),"
        " subject TEXT, start_cid TEXT, context TEXT, created_ms INTEGER NOT NULL,"
        " last_seq INTEGER NOT NULL DEFAULT 0);"
        "CREATE TABLE attributes(user TEXT NOT NULL REFERENCES users(id), key TEXT NOT NULL,"
        " value TEXT NOT NULL, updated_ms INTEGER NOT NULL, PRIMARY KEY(user, key));"
        "CREATE TABLE user_context(user TEXT PRIMARY KEY REFERENCES users(id), screen TEXT,"
        " breadcrumbs TEXT NOT NULL, device TEXT NOT NULL, updated_ms INTEGER NOT NULL);"
        "INSERT INTO users VALUES('player-old', 'id', 'doorway', 1, 1, NULL);"
        "INSERT INTO conversations VALUES('c-door', 'player-old', NULL, 'k-1', NULL, 5, 0);"
        "INSERT INTO attributes VALUES('player-old', 'plan', '\"vip\"', 1111);"
        "INSERT INTO user_context VALUES('player-old', 'home', '[]', '{\"os\":\"Linux\"}', 2222);",
        NULL, NULL, &err);
    if (rc != SQLITE_OK)
        fprintf(stderr, "  old database: %s\n", err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(db);
    return rc == SQLITE_OK ? 0 : -1;
}

static void test_old_database_keeps_context(void)
{
    h_server s;
    char dir[H_PATH];
    cJSON *conv;

    if (h_store_pg()) {
        printf("  (a SQLite file's: skipped with PARLEY_TEST_STORE=pg)\n");
        return;
    }

    snprintf(dir, sizeof dir, "%s/old", g_dir);
    if (h_server_init(&s, dir) || make_old_database(s.db))
        return;
    s.plain = 1;
    CHECK_INT(h_server_start(&s, 0), 0);
    const cJSON *uc = user_context(&s, &conv);
    CHECK_STR(h_json_str(at(uc, "attributes", NULL, NULL), "plan"), "vip");
    CHECK(num(at(at(uc, "reported", "attributes", "plan"), "reported_ms", NULL, NULL)) == 1111);
    CHECK(num(at(uc, "reported", "screen", "reported_ms")) == 2222);
    CHECK(num(at(uc, "reported", "device", "reported_ms")) == 2222);
    CHECK(cJSON_IsFalse(at(uc, "stale", NULL, NULL)));
    cJSON_Delete(conv);
    h_server_stop(&s, SIGTERM);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "srvdoor") != 0)
        return 1;
    RUN(test_tls_command_works);
    RUN(test_tls_without_ca);
    RUN(test_plain_command_works);
    RUN(test_reconnect_keeps_context);
    RUN(test_old_database_keeps_context);
    if (tl_failed)
        fprintf(stderr, "test files kept in %s\n", g_dir);
    else
        tl_rmrf(g_dir);
    return tl_finish();
}
