/* End to end: libparley (public API only) against the reference server over
 * real TLS on localhost, plus the parley-chat CLI. Every wait ends as soon as
 * the awaited event arrives; the deadlines are only there for failures. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"
#include "tokens.h"

static h_server g_srv;
static char g_dir[256];

/* Long enough for a loaded 2-core machine (and valgrind, via h_ms). */
#define WAIT h_ms(30000)

static int is_decimal(const char *s)
{
    return s && *s && strspn(s, "0123456789") == strlen(s) && s[0] != '0';
}

static void sub_path(char *out, const char *name)
{
    snprintf(out, H_PATH, "%s/%s", g_dir, name);
}

/* ---- HTTP API helpers ------------------------------------------------------- */

/* The conversation `conv` from GET /api/conversations (its first page,
 * newest activity first: the conversation a test just used is on it), or
 * NULL. The returned item belongs to *list (free with cJSON_Delete). */
static const cJSON *api_conversation(const char *conv, cJSON **list)
{
    char *body = NULL;
    int status = h_api(&g_srv, "GET", "/api/conversations?limit=200", NULL, &body);
    CHECK_INT(status, 200);
    *list = body ? cJSON_Parse(body) : NULL;
    free(body);
    const cJSON *items = cJSON_GetObjectItemCaseSensitive(*list, "items"), *item;
    CHECK(cJSON_IsArray(items));
    cJSON_ArrayForEach(item, items) {
        const cJSON *id = cJSON_GetObjectItemCaseSensitive(item, "id");
        if (cJSON_IsString(id) && strcmp(id->valuestring, conv) == 0)
            return item;
    }
    return NULL;
}

static int api_post_agent(const char *conv, const char *text, const char *name)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    return h_api(&g_srv, "POST", path, h_json("{'text':'%s','name':'%s'}", text, name), NULL);
}

/* ---- client helpers ------------------------------------------------------------ */

static const parley_event *await_online(h_client *c, size_t after)
{
    h_want w = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE, .after = after};
    return h_await(c, &w, WAIT, NULL);
}

/* Sends `text` and waits for its PENDING and SENT statuses; returns the SENT
 * event (NULL on failure) and its client id in cid_out. */
static const parley_event *send_and_ack(h_client *c, const char *conv, const char *text,
                                        char cid_out[PARLEY_ID_SIZE])
{
    int rc = parley_send_text(c->pc, conv, text, cid_out, PARLEY_ID_SIZE);
    CHECK_INT(rc, PARLEY_OK);
    if (rc != PARLEY_OK)
        return NULL;
    h_want pending = {
        .type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_PENDING, .cid = cid_out};
    h_want sent = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid_out};
    size_t ip = 0, is = 0;
    CHECK(h_await(c, &pending, WAIT, &ip) != NULL);
    const parley_event *ev = h_await(c, &sent, WAIT, &is);
    CHECK(ev != NULL);
    CHECK(is > ip);
    return ev;
}

static void start_conversation(h_client *c, const char *subject, char conv[PARLEY_ID_SIZE])
{
    CHECK_INT(parley_conversation_start(c->pc, subject, conv, PARLEY_ID_SIZE), PARLEY_OK);
    CHECK(strncmp(conv, "c-", 2) == 0);
}

static const parley_event *await_reply(h_client *c, const char *conv, int author)
{
    h_want w = {.type = PARLEY_EV_MESSAGE, .author = author, .conv = conv};
    return h_await(c, &w, WAIT, NULL);
}

/* ---- tests --------------------------------------------------------------------- */

static void test_insecure_refused(void)
{
    parley_config *cfg = parley_config_new();
    parley_client *pc = NULL;
    char url[64];
    snprintf(url, sizeof url, "ws://localhost:%d", g_srv.port);
    CHECK_INT(parley_config_set_url(cfg, url), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "parley-e2e"), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_ERR_INSECURE);
    CHECK(pc == NULL);
    parley_config_free(cfg);
}

/* Connect, identify, start, send, bot reply, agent reply through the HTTP
 * API: the whole support flow, host-driven. */
static void test_round_trip(void)
{
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "e2e-alice", NULL) == 0);
    CHECK_INT(parley_set_attribute_str(c.pc, "plan", "vip"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_num(c.pc, "level", 7), PARLEY_OK);
    CHECK_INT(parley_set_attribute_bool(c.pc, "beta", 1), PARLEY_OK);

    size_t i_connecting = 0, i_online = 0;
    h_want connecting = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_CONNECTING};
    h_want online = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE};
    CHECK(h_await(&c, &connecting, WAIT, &i_connecting) != NULL);
    CHECK(h_await(&c, &online, WAIT, &i_online) != NULL);
    CHECK(i_online > i_connecting);

    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, "Payment problem", conv);
    const parley_event *sent = send_and_ack(&c, conv, "My gems never arrived", cid);
    H_REQUIRE(sent != NULL);
    h_want started = {.type = PARLEY_EV_CONVERSATION, .state = PARLEY_CONV_STARTED, .conv = conv};
    CHECK(h_await(&c, &started, WAIT, NULL) != NULL);
    CHECK_STR(parley_event_conversation_id(sent), conv);
    CHECK(parley_event_message_id(sent) != NULL);
    CHECK(is_decimal(parley_event_seq(sent)));
    uint32_t outbox = 99;
    CHECK_INT(parley_outbox_count(c.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 0);

    const parley_event *bot = await_reply(&c, conv, PARLEY_AUTHOR_BOT);
    H_REQUIRE(bot != NULL);
    CHECK(parley_event_text(bot) && *parley_event_text(bot));
    CHECK(is_decimal(parley_event_seq(bot)));
    CHECK(strtoull(parley_event_seq(bot), NULL, 10) > strtoull(parley_event_seq(sent), NULL, 10));

    cJSON *list = NULL;
    const cJSON *item = api_conversation(conv, &list);
    CHECK(item != NULL);
    CHECK_STR(h_json_str(item, "user"), "e2e-alice");
    CHECK_STR(h_json_str(item, "subject"), "Payment problem");
    cJSON_Delete(list);

    CHECK_INT(api_post_agent(conv, "Refunded, sorry about that!", "Dana"), 201);
    const parley_event *agent = await_reply(&c, conv, PARLEY_AUTHOR_AGENT);
    H_REQUIRE(agent != NULL);
    CHECK_STR(parley_event_text(agent), "Refunded, sorry about that!");
    CHECK_STR(parley_event_author_name(agent), "Dana");
    CHECK(parley_event_timestamp_ms(agent) > 0);
    CHECK_INT(h_api_count_text(&g_srv, conv, "My gems never arrived"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "Refunded, sorry about that!"), 1);
    h_want errors = {.type = PARLEY_EV_ERROR};
    CHECK_INT(h_count(&c, &errors), 0);
    h_client_close(&c);
}

/* The server dies mid-conversation and comes back on the same port and
 * database: the client reconnects by itself and the message typed while the
 * server was down is delivered once. */
static void test_server_restart(void)
{
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "e2e-bob", NULL) == 0);
    CHECK(await_online(&c, 0) != NULL);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE], cid2[PARLEY_ID_SIZE];
    start_conversation(&c, NULL, conv);
    CHECK(send_and_ack(&c, conv, "before the restart", cid) != NULL);

    int port = g_srv.port;
    h_server_stop(&g_srv, SIGKILL);
    size_t i_lost = 0;
    h_want lost = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_RECONNECTING};
    CHECK(h_await(&c, &lost, WAIT, &i_lost) != NULL);

    CHECK_INT(parley_send_text(c.pc, conv, "sent while the server was down", cid2, sizeof cid2),
              PARLEY_OK);
    h_want pending = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_PENDING, .cid = cid2};
    CHECK(h_await(&c, &pending, WAIT, NULL) != NULL);
    uint32_t outbox = 0;
    CHECK_INT(parley_outbox_count(c.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 1);
    h_pump(&c, 300); /* let a reconnect attempt fail against the closed port */

    CHECK_INT(h_server_start(&g_srv, port), 0);
    CHECK_INT(g_srv.port, port);
    CHECK(await_online(&c, i_lost) != NULL);
    h_want sent = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid2};
    const parley_event *ev = h_await(&c, &sent, WAIT, NULL);
    H_REQUIRE(ev != NULL);
    CHECK(is_decimal(parley_event_seq(ev)));
    CHECK_INT(parley_outbox_count(c.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 0);
    CHECK_INT(h_api_count_text(&g_srv, conv, "before the restart"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "sent while the server was down"), 1);
    h_want sent_any = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid2};
    CHECK_INT(h_count(&c, &sent_any), 1);
    h_client_close(&c);
}

/* A server certificate from another CA is refused with that reason, the
 * client never reports ONLINE, and it does not try again on its (fast)
 * backoff: one attempt in 2.5 s, the next one PARLEY_CERT_RETRY_MS away. */
static void test_wrong_ca(void)
{
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.other_ca, "e2e-mallory", NULL) == 0);
    h_want tls = {
        .type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_RECONNECTING, .error = PARLEY_ERR_TLS};
    const parley_event *ev = h_await(&c, &tls, WAIT, NULL);
    H_REQUIRE(ev != NULL);
    CHECK(parley_event_retry_ms(ev) >= PARLEY_CERT_RETRY_MS);
    CHECK_INT(parley_event_tls_failures(ev), PARLEY_TLS_UNTRUSTED);
    h_pump(&c, 2500);
    h_want attempts = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_CONNECTING};
    CHECK_INT(h_count(&c, &attempts), 1);
    h_want err = {.type = PARLEY_EV_ERROR, .error = PARLEY_ERR_TLS};
    CHECK_INT(h_count(&c, &err), 1);
    ev = h_await(&c, &err, 0, NULL);
    CHECK_INT(parley_event_tls_failures(ev), PARLEY_TLS_UNTRUSTED);
    H_REQUIRE(ev != NULL);
    CHECK(strstr(parley_event_text(ev), "not signed by a trusted CA"));
    h_want online = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE};
    CHECK_INT(h_count(&c, &online), 0);
    h_client_close(&c);
}

/* The library's own I/O thread, events polled from this thread. */
static void test_threaded(void)
{
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "e2e-carol", NULL) == 0);
    c.threaded = 1;
    CHECK_INT(parley_start(c.pc), PARLEY_OK);
    CHECK_INT(parley_start(c.pc), PARLEY_ERR_STATE);
    CHECK_INT(parley_service(c.pc, 0), PARLEY_ERR_STATE);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, "threaded", conv);
    CHECK(send_and_ack(&c, conv, "hello from a thread", cid) != NULL);
    CHECK(await_reply(&c, conv, PARLEY_AUTHOR_BOT) != NULL);
    CHECK(await_online(&c, 0) != NULL);
    CHECK_INT(parley_stop(c.pc), PARLEY_OK);
    CHECK_INT(parley_stop(c.pc), PARLEY_ERR_STATE);
    h_want offline = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_OFFLINE};
    CHECK(h_await(&c, &offline, h_ms(5000), NULL) != NULL);
    h_client_close(&c);
}

/* The anonymous id survives a restart through the data dir, and is who the
 * server sees. */
static void test_anonymous_id(void)
{
    char data[H_PATH], other[H_PATH];
    sub_path(data, "anon-data");
    sub_path(other, "anon-other");
    char id1[PARLEY_ID_SIZE] = "", id2[PARLEY_ID_SIZE] = "", id3[PARLEY_ID_SIZE] = "";
    h_client c;
    if (h_client_open(&c, &g_srv, g_srv.ca, NULL, data) == 0) {
        CHECK_INT(parley_anonymous_id(c.pc, id1, sizeof id1), PARLEY_OK);
        h_client_close(&c);
    }
    if (h_client_open(&c, &g_srv, g_srv.ca, NULL, other) == 0) {
        CHECK_INT(parley_anonymous_id(c.pc, id3, sizeof id3), PARLEY_OK);
        h_client_close(&c);
    }
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, NULL, data) == 0);
    CHECK_INT(parley_anonymous_id(c.pc, id2, sizeof id2), PARLEY_OK);
    CHECK(strncmp(id1, "a-", 2) == 0);
    CHECK_STR(id2, id1);
    CHECK(strcmp(id3, id1) != 0);

    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, NULL, conv);
    CHECK(send_and_ack(&c, conv, "who am I?", cid) != NULL);
    cJSON *list = NULL;
    const cJSON *item = api_conversation(conv, &list);
    CHECK(item != NULL);
    CHECK_STR(h_json_str(item, "user"), id1);
    cJSON_Delete(list);
    h_client_close(&c);
}

/* ---- the CLI ------------------------------------------------------------------ */

/* Runs parley-chat against g_srv with `args`; its exit status, and what it
 * wrote in *out and *err (printed when a check fails before cli_free). */
static int run_cli(char **args, const char *stdin_path, const char *tag, int timeout_ms, char **out,
                   char **err)
{
    char url[64], out_path[H_PATH], err_path[H_PATH];
    char *argv[40];
    int a = 0;
    snprintf(url, sizeof url, "wss://localhost:%d", g_srv.port);
    snprintf(out_path, sizeof out_path, "%s/cli-%s.out", g_dir, tag);
    snprintf(err_path, sizeof err_path, "%s/cli-%s.err", g_dir, tag);
    argv[a++] = PARLEY_CHAT_BIN;
    argv[a++] = "--url";
    argv[a++] = url;
    while (*args && a < 39)
        argv[a++] = *args++;
    argv[a] = NULL;
    int rc = h_run(argv, stdin_path, out_path, err_path, timeout_ms);
    char label[96];
    snprintf(label, sizeof label, "parley-chat %s: stdout", tag);
    *out = h_watch_text(tl_read_file(out_path, NULL), label);
    snprintf(label, sizeof label, "parley-chat %s: stderr", tag);
    *err = h_watch_text(tl_read_file(err_path, NULL), label);
    return rc;
}

/* Lets go of what run_cli read (printed first when a check failed). */
static void cli_free(char *out, char *err)
{
    h_text_free(out);
    h_text_free(err);
}

/* Each stdout line is a JSON object with a "type"; counts lines matching
 * type (and state/author when not NULL). -1 if a line does not parse. */
static int count_json(const char *out, const char *type, const char *key, const char *value)
{
    int n = 0;
    const char *p = out;
    while (p && *p) {
        size_t len = strcspn(p, "\n");
        cJSON *o = cJSON_ParseWithLength(p, len);
        if (!cJSON_IsObject(o) || !h_json_str(o, "type")) {
            cJSON_Delete(o);
            return -1;
        }
        n += strcmp(h_json_str(o, "type"), type) == 0 &&
             (!key || (h_json_str(o, key) && strcmp(h_json_str(o, key), value) == 0));
        cJSON_Delete(o);
        p += len + (p[len] == '\n');
    }
    return n;
}

static void test_cli_send(void)
{
    char *args[] = {"--ca",        g_srv.ca,         "--user",  "e2e-cli",    "--attr",
                    "plan=vip",    "--attr",         "level=7", "--attr",     "beta=true",
                    "--subject",   "from the CLI",   "--send",  "first line", "--send",
                    "second line", "--wait-replies", "1",       "--json",     "--timeout",
                    "60",          "--mem-stats",    NULL};
    char *out = NULL, *err = NULL;
    int rc = run_cli(args, NULL, "send", h_ms(90000), &out, &err);
    CHECK_INT(rc, 0);
    CHECK(out != NULL);
    CHECK(count_json(out, "message_status", "state", "sent") == 2);
    CHECK(count_json(out, "conversation", "state", "started") == 1);
    CHECK(count_json(out, "connection", "state", "online") >= 1);
    CHECK(count_json(out, "message", "author", "bot") >= 1);
    /* --mem-stats: nothing the library allocated is left after free. */
    CHECK(err && strstr(err, " 0 bytes in 0 blocks still allocated"));
    cli_free(out, err);
}

static void test_cli_stdin(void)
{
    char in_path[H_PATH];
    sub_path(in_path, "cli-stdin.txt");
    CHECK_INT(h_write_file(in_path, "piped one\r\n\npiped two"), 0);
    char *args[] = {"--ca", g_srv.ca, "--json", "--threaded", "--timeout", "60", NULL};
    char *out = NULL, *err = NULL;
    int rc = run_cli(args, in_path, "stdin", h_ms(90000), &out, &err);
    CHECK_INT(rc, 0);
    CHECK_INT(count_json(out, "message_status", "state", "sent"), 2);
    CHECK_INT(count_json(out, "message_status", "state", "failed"), 0);
    cli_free(out, err);
}

/* The CLI names the real cause: the CA for a certificate from another CA,
 * the host name for a name the certificate does not carry, never the one
 * for the other. */
static void test_cli_wrong_ca(void)
{
    char *args[] = {"--ca", g_srv.other_ca, "--send",  "x", "--timeout",
                    "3",    "--reconnect",  "100:500", NULL};
    char *out = NULL, *err = NULL;
    int64_t t0 = h_now_ms();
    int rc = run_cli(args, NULL, "wrong-ca", h_ms(60000), &out, &err);
    int64_t took = h_now_ms() - t0;
    CHECK_INT(rc, 3);
    CHECK(took >= 2900);
    CHECK(took < h_ms(20000));
    CHECK(err && strstr(err, "TLS"));
    CHECK(err && strstr(err, "hint: no trusted CA signed the certificate: pass --ca"));
    CHECK(err && !strstr(err, "host name"));
    cli_free(out, err);
}

static int run_cli_url(const char *url, char **args, const char *tag, char **out, char **err)
{
    char *argv[24] = {"--url", (char *)url};
    size_t n = 2;
    while (*args && n < 23)
        argv[n++] = *args++;
    argv[n] = NULL;
    return run_cli(argv, NULL, tag, h_ms(60000), out, err);
}

static void test_cli_wrong_host(void)
{
    char url[64];
    /* The certificate is for localhost: 127.0.0.1 is another name to TLS. */
    snprintf(url, sizeof url, "wss://127.0.0.1:%d", g_srv.port);
    char *args[] = {"--ca", g_srv.ca, "--send", "x", "--timeout", "2", "--json", NULL};
    char *out = NULL, *err = NULL;
    CHECK_INT(run_cli_url(url, args, "wrong-host", &out, &err), 3);
    CHECK(err && strstr(err, "not for host '127.0.0.1'"));
    CHECK(err &&
          strstr(err, "hint: the certificate is for another host: check the host name in --url"));
    CHECK(err && !strstr(err, "--ca"));
    CHECK(out && strstr(out, h_quote("'tls':['hostname_mismatch']")));
    CHECK_INT(count_json(out, "connection", "state", "connecting"), 1);
    cli_free(out, err);
}

/* The pin of the server's key, from scripts/parley-pin.sh (openssl). */
static int script_pin(char *args0, const char *arg, char *pin, size_t size)
{
    char path[H_PATH];
    snprintf(path, sizeof path, "%s/pin.out", g_dir);
    char *argv[] = {"bash", PARLEY_PIN_SCRIPT, args0, (char *)arg, NULL};
    if (!args0)
        argv[2] = (char *)arg, argv[3] = NULL;
    unlink(path); /* h_run appends */
    int rc = h_run(argv, NULL, path, NULL, h_ms(30000));
    char *text = tl_read_file(path, NULL);
    snprintf(pin, size, "%s", text ? text : "");
    pin[strcspn(pin, "\n")] = '\0';
    free(text);
    return rc == 0 && strlen(pin) == 44 ? 0 : -1;
}

/* --pin: the server's key (pinned with a backup key) lets messages through;
 * pins of other keys stop the client before hello, so the server stores
 * nothing; one --pin is a usage error. */
static void test_cli_pins(void)
{
    char server_pin[64], backup_pin[64], other_pin[64], live_pin[64];
    CHECK_INT(script_pin(NULL, g_srv.cert, server_pin, sizeof server_pin), 0);
    CHECK_INT(script_pin("--key", g_srv.key, live_pin, sizeof live_pin), 0);
    CHECK_STR(live_pin, server_pin);
    char other_key[H_PATH];
    snprintf(other_key, sizeof other_key, "%s/other-server.key", g_dir);
    CHECK_INT(script_pin("--key", other_key, backup_pin, sizeof backup_pin), 0);
    snprintf(other_key, sizeof other_key, "%s/other-ca.key", g_dir);
    CHECK_INT(script_pin("--key", other_key, other_pin, sizeof other_pin), 0);
    char hostport[64];
    snprintf(hostport, sizeof hostport, "localhost:%d", g_srv.port);
    CHECK_INT(script_pin("--connect", hostport, live_pin, sizeof live_pin), 0);
    CHECK_STR(live_pin, server_pin);

    char *ok[] = {"--ca",     g_srv.ca,    "--pin",  backup_pin, "--pin",
                  server_pin, "--subject", "pinned", "--send",   "through the pinned key",
                  "--json",   "--timeout", "60",     NULL};
    char *out = NULL, *err = NULL;
    CHECK_INT(run_cli(ok, NULL, "pinned", h_ms(90000), &out, &err), 0);
    CHECK_INT(count_json(out, "message_status", "state", "sent"), 1);
    cli_free(out, err);

    char *bad[] = {"--ca",      g_srv.ca,    "--pin", backup_pin, "--pin",
                   other_pin,   "--subject", "never", "--send",   "must never reach the server",
                   "--timeout", "2",         NULL};
    CHECK_INT(run_cli(bad, NULL, "mispinned", h_ms(60000), &out, &err), 3);
    CHECK(err && strstr(err, "matches none of the 2 configured pins"));
    CHECK(err && strstr(err, server_pin));
    CHECK(err && strstr(err, "hint: the server's key is none of the --pin values"));
    cli_free(out, err);
    char *body = NULL;
    CHECK_INT(h_api(&g_srv, "GET", "/api/conversations", NULL, &body), 200);
    CHECK(body && !strstr(body, h_quote("'never'")));
    free(body);

    char *one[] = {"--ca", g_srv.ca, "--pin", server_pin, "--send", "x", NULL};
    CHECK_INT(run_cli(one, NULL, "one-pin", h_ms(30000), &out, &err), 1);
    CHECK(err && strstr(err, "--pin needs a second pin"));
    cli_free(out, err);
    char *junk[] = {"--ca", g_srv.ca, "--pin", "abc", "--pin", server_pin, "--send", "x", NULL};
    CHECK_INT(run_cli(junk, NULL, "junk-pin", h_ms(30000), &out, &err), 1);
    CHECK(err && strstr(err, "--pin 'abc' is not a pin"));
    cli_free(out, err);
}

/* Without --ca, SSL_CERT_FILE names the trust anchors; one that cannot be
 * read is an error naming it, not a fallback to the system's bundle. */
static void test_cli_ssl_cert_file(void)
{
    char *args[] = {
        "--subject", "ssl-cert-file", "--send", "trusted through SSL_CERT_FILE", "--timeout", "60",
        NULL};
    char *out = NULL, *err = NULL;
    setenv("SSL_CERT_FILE", g_srv.ca, 1);
    CHECK_INT(run_cli(args, NULL, "ssl-cert-file", h_ms(90000), &out, &err), 0);
    cli_free(out, err);
    char missing[H_PATH];
    snprintf(missing, sizeof missing, "%s/no-such-bundle.pem", g_dir);
    setenv("SSL_CERT_FILE", missing, 1);
    CHECK_INT(run_cli(args, NULL, "ssl-cert-file-missing", h_ms(30000), &out, &err), 2);
    CHECK(err && strstr(err, missing));
    CHECK(err && strstr(err, "no usable CA bundle"));
    unsetenv("SSL_CERT_FILE");
    cli_free(out, err);
}

/* The example client keeps what it could not send in --data-dir; run again
 * with nothing to send, it delivers the leftovers and exits 0 once its
 * outbox is empty. */
static void test_cli_durable_outbox(void)
{
    char dir[H_PATH];
    sub_path(dir, "cli-durable");
    int port = g_srv.port;
    h_server_stop(&g_srv, SIGKILL);
    char *offline[] = {"--ca",
                       g_srv.ca,
                       "--user",
                       "e2e-cli-durable",
                       "--data-dir",
                       dir,
                       "--json",
                       "--send",
                       "queued while down",
                       "--timeout",
                       "2",
                       "--reconnect",
                       "100:500",
                       NULL};
    char *out = NULL, *err = NULL;
    CHECK_INT(run_cli(offline, NULL, "durable-1", h_ms(60000), &out, &err), 3);
    char conv[PARLEY_ID_SIZE] = "";
    const char *p = out ? strstr(out, h_quote("'conv':'")) : NULL;
    if (p)
        sscanf(p + 8, "%63[^\"]", conv);
    CHECK(conv[0] != '\0');
    cli_free(out, err);

    CHECK_INT(h_server_start(&g_srv, port), 0);
    char *resume[] = {"--ca",       g_srv.ca, "--user", "e2e-cli-durable",
                      "--data-dir", dir,      "--json", "--timeout",
                      "60",         NULL};
    CHECK_INT(run_cli(resume, "/dev/null", "durable-2", h_ms(90000), &out, &err), 0);
    CHECK_INT(count_json(out, "message_status", "state", "sent"), 1);
    if (conv[0])
        CHECK_INT(h_api_count_text(&g_srv, conv, "queued while down"), 1);
    cli_free(out, err);
}

/* 1 when the file's bytes contain `needle`, 0 when not, -1 when the file
 * cannot be read (binary-safe: the journal holds NUL bytes). */
static int file_contains(const char *path, const char *needle)
{
    size_t have = 0, n = strlen(needle);
    char *buf = tl_read_file(path, &have);
    if (!buf)
        return -1;
    int found = 0;
    for (size_t i = 0; !found && i + n <= have; i++)
        found = memcmp(buf + i, needle, n) == 0;
    free(buf);
    return found;
}

/* With a key, the message text never reaches the disk in the clear, and a
 * wrong key is refused instead of reading garbage. */
static void test_cli_encrypted_state(void)
{
    char dir[H_PATH], key[H_PATH], other[H_PATH], journal[H_PATH + 16];
    sub_path(dir, "cli-encrypted");
    sub_path(key, "cli-key");
    sub_path(other, "cli-other-key");
    CHECK_INT(h_write_file(key, "0123456789abcdef0123456789abcdef"), 0);
    CHECK_INT(h_write_file(other, "fedcba9876543210fedcba9876543210"), 0);
    char *args[] = {"--ca",       g_srv.ca, "--data-dir", dir,
                    "--key-file", key,      "--send",     "secret-plaintext-42",
                    "--timeout",  "60",     NULL};
    char *out = NULL, *err = NULL;
    CHECK_INT(run_cli(args, NULL, "encrypted", h_ms(90000), &out, &err), 0);
    cli_free(out, err);
    snprintf(journal, sizeof journal, "%s/journal", dir);
    CHECK(file_contains(journal, "x") >= 0); /* the journal exists */
    CHECK_INT(file_contains(journal, "secret-plaintext-42"), 0);
    char *wrong[] = {"--ca", g_srv.ca, "--data-dir", dir, "--key-file", other, "--anon-id", NULL};
    CHECK_INT(run_cli(wrong, NULL, "wrong-key", h_ms(30000), &out, &err), 2);
    CHECK(err && strstr(err, "another key"));
    cli_free(out, err);
}

static void test_cli_usage(void)
{
    char *out = NULL, *err = NULL;
    char ws_url[64];
    snprintf(ws_url, sizeof ws_url, "ws://localhost:%d", g_srv.port);
    char *insecure[] = {"--url", ws_url, "--send", "x", "--timeout", "5", NULL};
    CHECK_INT(run_cli(insecure, NULL, "insecure", h_ms(30000), &out, &err), 1);
    CHECK(err && strstr(err, "--insecure"));
    cli_free(out, err);

    char *bad_attr[] = {"--attr", "novalue", NULL};
    CHECK_INT(run_cli(bad_attr, NULL, "bad-attr", h_ms(30000), &out, &err), 1);
    cli_free(out, err);

    char data[H_PATH];
    sub_path(data, "cli-anon");
    char *anon[] = {"--data-dir", data, "--anon-id", NULL};
    char *out2 = NULL, *err2 = NULL;
    CHECK_INT(run_cli(anon, NULL, "anon1", h_ms(30000), &out, &err), 0);
    CHECK_INT(run_cli(anon, NULL, "anon2", h_ms(30000), &out2, &err2), 0);
    CHECK(out && strncmp(out, "a-", 2) == 0);
    CHECK(out && out2 && strcmp(out, out2) == 0);
    cli_free(out, err);
    cli_free(out2, err2);
}

/* ---- the delivery promise across restarts ---------------------------------------- */

/* The app writes while the server is down and exits; the next run on the
 * same data dir delivers the message, once. */
static void test_outbox_survives_restart(void)
{
    char dir[H_PATH];
    sub_path(dir, "durable-1");
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "e2e-durable", dir) == 0);
    CHECK(await_online(&c, 0) != NULL);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, NULL, conv);
    CHECK(send_and_ack(&c, conv, "first, online", cid) != NULL);
    int port = g_srv.port;
    h_server_stop(&g_srv, SIGKILL);
    h_want lost = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_RECONNECTING};
    CHECK(h_await(&c, &lost, WAIT, NULL) != NULL);
    CHECK_INT(parley_send_text(c.pc, conv, "written offline", cid, sizeof cid), PARLEY_OK);
    h_client_close(&c); /* the app exits with the message unsent */

    CHECK_INT(h_server_start(&g_srv, port), 0);
    h_client d;
    H_REQUIRE(h_client_open(&d, &g_srv, g_srv.ca, "e2e-durable", dir) == 0);
    uint32_t outbox = 0;
    CHECK_INT(parley_outbox_count(d.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 1);
    h_want sent = {.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT, .cid = cid};
    CHECK(h_await(&d, &sent, WAIT, NULL) != NULL);
    CHECK_INT(parley_outbox_count(d.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 0);
    CHECK_INT(h_api_count_text(&g_srv, conv, "written offline"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "first, online"), 1);
    h_client_close(&d);
}

/* What an agent wrote while the app was closed arrives on the next start,
 * once each and in order. */
static void test_missed_while_closed(void)
{
    char dir[H_PATH];
    sub_path(dir, "durable-2");
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "e2e-away", dir) == 0);
    CHECK(await_online(&c, 0) != NULL);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, NULL, conv);
    CHECK(send_and_ack(&c, conv, "anyone there?", cid) != NULL);
    CHECK(await_reply(&c, conv, PARLEY_AUTHOR_BOT) != NULL);
    h_client_close(&c);

    const char *texts[] = {"agent one", "agent two", "agent three"};
    for (int i = 0; i < 3; i++)
        CHECK_INT(api_post_agent(conv, texts[i], "Dana"), 201);

    h_client d;
    H_REQUIRE(h_client_open(&d, &g_srv, g_srv.ca, "e2e-away", dir) == 0);
    size_t prev = 0;
    for (int i = 0; i < 3; i++) {
        h_want w = {.type = PARLEY_EV_MESSAGE, .conv = conv, .text = texts[i]};
        size_t at = 0;
        CHECK(h_await(&d, &w, WAIT, &at) != NULL);
        CHECK(i == 0 || at > prev);
        prev = at;
    }
    h_pump(&d, 300);
    for (int i = 0; i < 3; i++) {
        h_want w = {.type = PARLEY_EV_MESSAGE, .conv = conv, .text = texts[i]};
        CHECK_INT(h_count(&d, &w), 1);
    }
    h_want bot = {.type = PARLEY_EV_MESSAGE, .conv = conv, .author = PARLEY_AUTHOR_BOT};
    CHECK_INT(h_count(&d, &bot), 0); /* delivered in the first run */
    h_client_close(&d);
}

/* ---- identity verification ------------------------------------------------- */

#define AUTH_JWT_SECRET "s3cret"
#define AUTH_HMAC_SECRET "h4sh"

/* The same reference server, but refusing unverified identified users. */
static int start_auth_server(h_server *s)
{
    static const char *const args[] = {"--jwt-secret", AUTH_JWT_SECRET, "--hmac-secret",
                                       AUTH_HMAC_SECRET, NULL};
    *s = g_srv;
    s->pid = -1;
    s->extra_args = args;
    sub_path(s->db, "auth-server.db");
    sub_path(s->ready, "auth-server.ready");
    sub_path(s->log, "auth-server.log");
    return h_server_start(s, 0);
}

static int auth_client(h_client *c, const h_server *s, const char *user, const char *token)
{
    if (h_client_open(c, s, s->ca, NULL, NULL) != 0)
        return -1;
    if (user && parley_identify(c->pc, user, token) != PARLEY_OK) {
        h_client_close(c);
        return -1;
    }
    return 0;
}

/* Refused with `reason` twice (it keeps trying, with the same refusal) and
 * never online. */
static void expect_refused(h_client *c, const char *reason)
{
    char text[128];
    snprintf(text, sizeof text, "auth_failed: %s", reason);
    h_want err = {.type = PARLEY_EV_ERROR, .error = PARLEY_ERR_AUTH, .text = text};
    size_t first = 0;
    CHECK(h_await(c, &err, WAIT, &first) != NULL);
    err.after = first + 1;
    CHECK(h_await(c, &err, WAIT, NULL) != NULL);
    h_want online = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE};
    CHECK_INT(h_count(c, &online), 0);
}

static void test_auth_refusals(const h_server *s)
{
    /* {"alg":"none"}.{"sub":"e2e-jwt-alg","exp":4102444800}. */
    static const char alg_none[] =
        "eyJhbGciOiJub25lIn0.eyJzdWIiOiJlMmUtand0LWFsZyIsImV4cCI6NDEwMjQ0NDgwMH0.";
    struct {
        const char *label, *user, *secret, *sub, *raw, *reason;
    } cases[] = {
        {"wrong signature", "e2e-jwt-sig", "not-the-secret", "e2e-jwt-sig", NULL, "bad signature"},
        {"wrong sub", "e2e-jwt-sub", AUTH_JWT_SECRET, "e2e-someone-else", NULL, "sub mismatch"},
        {"no token", "e2e-jwt-none", NULL, NULL, NULL, "missing token"},
        {"alg none", "e2e-jwt-alg", NULL, NULL, alg_none, "unsupported alg (HS256 only)"},
        {"garbage", "e2e-jwt-junk", NULL, NULL, "not a token", "malformed token"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char token[TOKEN_MAX] = "";
        if (cases[i].secret)
            tok_jwt(cases[i].secret, cases[i].sub, (long long)time(NULL) + 3600, token);
        else if (cases[i].raw)
            snprintf(token, sizeof token, "%s", cases[i].raw);
        h_client c;
        H_REQUIRE(auth_client(&c, s, cases[i].user, token[0] ? token : NULL) == 0);
        expect_refused(&c, cases[i].reason);
        h_client_close(&c);
    }
}

/* A valid JWT and a valid user hash get in; anonymous users need neither. */
static void test_auth_accepted(const h_server *s)
{
    char jwt[TOKEN_MAX], hash[65];
    tok_jwt(AUTH_JWT_SECRET, "e2e-jwt-ok", (long long)time(NULL) + 600, jwt);
    tok_user_hash(AUTH_HMAC_SECRET, "e2e-hash-ok", hash);
    const char *users[] = {"e2e-jwt-ok", "e2e-hash-ok", NULL};
    const char *tokens[] = {jwt, hash, NULL};
    for (size_t i = 0; i < 3; i++) {
        h_client c;
        H_REQUIRE(auth_client(&c, s, users[i], tokens[i]) == 0);
        CHECK(await_online(&c, 0) != NULL);
        h_client_close(&c);
    }
}

/* An expired token is refused; the host hands the same client a fresh one
 * and it gets online without a restart. */
static void test_auth_refresh(const h_server *s)
{
    char token[TOKEN_MAX];
    tok_jwt(AUTH_JWT_SECRET, "e2e-jwt-refresh", (long long)time(NULL) - 3600, token);
    h_client c;
    H_REQUIRE(auth_client(&c, s, "e2e-jwt-refresh", token) == 0);
    expect_refused(&c, "expired");
    size_t refused_at = c.n;
    tok_jwt(AUTH_JWT_SECRET, "e2e-jwt-refresh", (long long)time(NULL) + 600, token);
    CHECK_INT(parley_identify(c.pc, "e2e-jwt-refresh", token), PARLEY_OK);
    CHECK(await_online(&c, refused_at) != NULL);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, "after refresh", conv);
    CHECK(send_and_ack(&c, conv, "back in", cid) != NULL);
    h_client_close(&c);
}

static void test_auth(void)
{
    h_server s;
    H_REQUIRE(start_auth_server(&s) == 0);
    test_auth_accepted(&s);
    test_auth_refusals(&s);
    test_auth_refresh(&s);
    h_server_stop(&s, SIGTERM);
}

/* ---- context (issue 4) ------------------------------------------------------- */

/* GET /api/conversations/{id} as parsed JSON (caller deletes), or NULL. */
static cJSON *api_get_conversation(const char *conv)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/conversations/%s", conv);
    int status = h_api(&g_srv, "GET", path, NULL, &body);
    CHECK_INT(status, 200);
    cJSON *o = body ? cJSON_Parse(body) : NULL;
    free(body);
    CHECK(cJSON_IsObject(o));
    return o;
}

static const cJSON *jpath(const cJSON *o, const char *a, const char *b)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);
    return b ? cJSON_GetObjectItemCaseSensitive(v, b) : v;
}

/* The "conv" of the first "conversation" line. */
static int started_conv(const char *out, char conv[PARLEY_ID_SIZE])
{
    const char *p = out;
    while (p && *p) {
        size_t len = strcspn(p, "\n");
        cJSON *o = cJSON_ParseWithLength(p, len);
        const char *t = h_json_str(o, "type"), *c = h_json_str(o, "conv");
        if (t && c && strcmp(t, "conversation") == 0 && strlen(c) < PARLEY_ID_SIZE) {
            snprintf(conv, PARLEY_ID_SIZE, "%s", c);
            cJSON_Delete(o);
            return 1;
        }
        cJSON_Delete(o);
        p += len + (p[len] == '\n');
    }
    return 0;
}

/* What the example client sends is what the agent sees. */
static void test_cli_context(void)
{
    char *args[] = {"--ca",
                    g_srv.ca,
                    "--user",
                    "e2e-ctx",
                    "--attr",
                    "plan=vip",
                    "--attr",
                    "inventory={\"gems\":120}",
                    "--attr",
                    "guild=null",
                    "--screen",
                    "shop/gems",
                    "--breadcrumb",
                    "opened shop",
                    "--breadcrumb",
                    "tapped buy 4111 1111 1111 1111",
                    "--event",
                    "purchase_failed={\"sku\":\"gems_500\",\"code\":402}",
                    "--app-version",
                    "1.4.2",
                    "--send",
                    "My gems never arrived",
                    "--wait-replies",
                    "1",
                    "--json",
                    "--timeout",
                    "60",
                    NULL};
    char *out = NULL, *err = NULL, conv[PARLEY_ID_SIZE] = "";
    CHECK_INT(run_cli(args, NULL, "context", h_ms(90000), &out, &err), 0);
    H_REQUIRE(out && started_conv(out, conv));
    cJSON *o = api_get_conversation(conv);
    const cJSON *uc = jpath(o, "user_context", NULL);
    CHECK_STR(h_json_str(jpath(uc, "attributes", NULL), "plan"), "vip");
    CHECK(cJSON_GetNumberValue(jpath(jpath(uc, "attributes", "inventory"), "gems", NULL)) == 120);
    CHECK(cJSON_IsNull(jpath(uc, "attributes", "guild")));
    CHECK_STR(h_json_str(uc, "screen"), "shop/gems");
    const cJSON *crumbs = jpath(uc, "breadcrumbs", NULL);
    CHECK_INT(cJSON_GetArraySize(crumbs), 2);
    CHECK_STR(h_json_str(cJSON_GetArrayItem(crumbs, 0), "text"), "opened shop");
    /* Redacted on the device: the card number never reached the server. */
    CHECK_STR(h_json_str(cJSON_GetArrayItem(crumbs, 1), "text"), "tapped buy [card]");
    CHECK_STR(h_json_str(jpath(uc, "device", NULL), "app_version"), "1.4.2");
    CHECK(h_json_str(jpath(uc, "device", NULL), "os") != NULL);
    const cJSON *events = jpath(o, "events", NULL), *ev = NULL, *item;
    cJSON_ArrayForEach(item, events) {
        const char *name = h_json_str(item, "name");
        if (name && strcmp(name, "purchase_failed") == 0)
            ev = item;
    }
    CHECK(ev != NULL);
    CHECK_STR(h_json_str(jpath(ev, "meta", NULL), "sku"), "gems_500");
    /* The message carries the snapshot of the moment it was written. */
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    CHECK_INT(h_api(&g_srv, "GET", path, NULL, &body), 200);
    h_watch_text(body, "the conversation's messages");
    cJSON *msgs = body ? cJSON_Parse(body) : NULL;
    const cJSON *m, *mine = NULL;
    cJSON_ArrayForEach(m, msgs) {
        const char *t = h_json_str(m, "text");
        if (t && strcmp(t, "My gems never arrived") == 0)
            mine = m;
    }
    CHECK(mine != NULL);
    CHECK_STR(h_json_str(jpath(mine, "context", NULL), "screen"), "shop/gems");
    cJSON_Delete(msgs);
    cJSON_Delete(o);
    h_text_free(body);
    cli_free(out, err);
}

/* 1 when the file holds a merge secret in the clear: "ps-" and 64 lowercase
 * hex digits. */
static int holds_secret(const char *path)
{
    size_t len = 0;
    char *data = tl_read_file(path, &len);
    int found = 0;
    for (size_t i = 0; data && !found && i + 67 <= len; i++)
        found = memcmp(data + i, "ps-", 3) == 0 && strspn(data + i + 3, "0123456789abcdef") >= 64;
    free(data);
    return found;
}

/* What the user wrote anonymously is theirs once they log in: the client
 * proves the anonymous id with the secret the server issued to it, kept in
 * the journal. */
static void test_anonymous_history_merged(void)
{
    char dir[H_PATH], journal[H_PATH + 16];
    sub_path(dir, "merge");
    snprintf(journal, sizeof journal, "%s/journal", dir);
    h_client c;
    CHECK_INT(h_client_open(&c, &g_srv, g_srv.ca, NULL, dir), 0);
    await_online(&c, 0);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, "before login", conv);
    CHECK(send_and_ack(&c, conv, "asked before logging in", cid) != NULL);
    CHECK(holds_secret(journal));
    size_t mark = c.n;
    CHECK_INT(parley_identify(c.pc, "e2e-merged", NULL), PARLEY_OK);
    CHECK(await_online(&c, mark) != NULL);
    cJSON *list = NULL;
    const cJSON *item = api_conversation(conv, &list);
    CHECK(item != NULL);
    CHECK_STR(h_json_str(item, "user"), "e2e-merged");
    cJSON_Delete(list);
    /* The identified user goes on in the same conversation. */
    CHECK(send_and_ack(&c, conv, "and after", cid) != NULL);
    CHECK_INT(api_post_agent(conv, "Both messages are here", "Dana"), 201);
    h_want w = {.type = PARLEY_EV_MESSAGE,
                .author = PARLEY_AUTHOR_AGENT,
                .conv = conv,
                .text = "Both messages are here"};
    CHECK(h_await(&c, &w, WAIT, NULL) != NULL);
    CHECK_INT(h_api_count_text(&g_srv, conv, "asked before logging in"), 1);
    h_client_close(&c);
}

/* 70 attributes of 1 KB make the context larger than a frame: the message
 * still goes and is acknowledged (its snapshot trimmed to fit, marked
 * truncated), the server gets the whole context over several context
 * frames, and nothing stays behind in the outbox. */
static void test_oversized_context(void)
{
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "e2e-bigctx", NULL) == 0);
    CHECK_INT(parley_set_consent(c.pc, 1), PARLEY_OK);
    char value[1001];
    memset(value, 'v', 1000);
    value[1000] = '\0';
    for (int i = 0; i < 70; i++) {
        char key[8];
        snprintf(key, sizeof key, "k%02d", i);
        CHECK_INT(parley_set_attribute_str(c.pc, key, value), PARLEY_OK);
    }
    CHECK(await_online(&c, 0) != NULL);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, "Too much context", conv);
    CHECK(send_and_ack(&c, conv, "does this arrive?", cid) != NULL);
    uint32_t outbox = 99;
    CHECK_INT(parley_outbox_count(c.pc, &outbox), PARLEY_OK);
    CHECK_INT(outbox, 0);
    h_want errors = {.type = PARLEY_EV_ERROR};
    CHECK_INT(h_count(&c, &errors), 0);

    cJSON *o = api_get_conversation(conv);
    CHECK_INT(cJSON_GetArraySize(jpath(jpath(o, "user_context", NULL), "attributes", NULL)), 70);
    cJSON_Delete(o);
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    CHECK_INT(h_api(&g_srv, "GET", path, NULL, &body), 200);
    cJSON *msgs = body ? cJSON_Parse(body) : NULL, *m;
    const cJSON *mine = NULL;
    cJSON_ArrayForEach(m, msgs) {
        const char *t = h_json_str(m, "text");
        if (t && strcmp(t, "does this arrive?") == 0)
            mine = m;
    }
    CHECK(cJSON_IsTrue(jpath(jpath(mine, "context", NULL), "truncated", NULL)));
    int kept = cJSON_GetArraySize(jpath(jpath(mine, "context", NULL), "attributes", NULL));
    CHECK(kept > 50 && kept < 70);
    cJSON_Delete(msgs);
    free(body);
    h_client_close(&c);
}

/* The secret outlives a restart of the app, encrypted with the journal. */
static void test_merge_after_restart_encrypted(void)
{
    static const unsigned char key[32] = {7,  1,  2,  3,  4,  5,  6,  7,  8,  9,  10,
                                          11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21,
                                          22, 23, 24, 25, 26, 27, 28, 29, 30, 31};
    char dir[H_PATH], journal[H_PATH + 16];
    sub_path(dir, "merge-encrypted");
    snprintf(journal, sizeof journal, "%s/journal", dir);
    h_client c;
    CHECK_INT(h_client_open_encrypted(&c, &g_srv, g_srv.ca, dir, key), 0);
    await_online(&c, 0);
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    start_conversation(&c, "before a restart", conv);
    CHECK(send_and_ack(&c, conv, "asked, then the app closed", cid) != NULL);
    h_client_close(&c);
    CHECK(!holds_secret(journal));

    CHECK_INT(h_client_open_encrypted(&c, &g_srv, g_srv.ca, dir, key), 0);
    CHECK_INT(parley_identify(c.pc, "e2e-merged-later", NULL), PARLEY_OK);
    CHECK(await_online(&c, 0) != NULL);
    cJSON *list = NULL;
    const cJSON *item = api_conversation(conv, &list);
    CHECK_STR(h_json_str(item, "user"), "e2e-merged-later");
    cJSON_Delete(list);
    h_client_close(&c);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "e2e") != 0 || h_server_init(&g_srv, g_dir) != 0) {
        fprintf(stderr, "cannot prepare %s (certificates need the openssl tool)\n", g_dir);
        return 1;
    }
    g_srv.extra_args = h_insecure_identities;
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
    H_RUN(test_insecure_refused);
    H_RUN(test_round_trip);
    H_RUN(test_wrong_ca);
    H_RUN(test_threaded);
    H_RUN(test_anonymous_id);
    H_RUN(test_server_restart);
    H_RUN(test_outbox_survives_restart);
    H_RUN(test_missed_while_closed);
    H_RUN(test_auth);
    H_RUN(test_cli_send);
    H_RUN(test_cli_stdin);
    H_RUN(test_cli_wrong_ca);
    H_RUN(test_cli_wrong_host);
    H_RUN(test_cli_pins);
    H_RUN(test_cli_ssl_cert_file);
    H_RUN(test_cli_durable_outbox);
    H_RUN(test_cli_encrypted_state);
    H_RUN(test_cli_usage);
    H_RUN(test_cli_context);
    H_RUN(test_anonymous_history_merged);
    H_RUN(test_oversized_context);
    H_RUN(test_merge_after_restart_encrypted);
    h_server_stop(&g_srv, SIGTERM);
    return h_finish(g_dir);
}
