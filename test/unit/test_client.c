/* Facade without a network: configuration errors, the offline outbox,
 * the stable anonymous id, allocator hooks, the empty poll. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley.h"
#include "testlib.h"
#include "platform/clock.h"
#include "platform/fs.h"

static char tmpdir[64];

static parley_config *base_config(void)
{
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, "wss://localhost:1/"), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "test-app"), PARLEY_OK);
    return cfg;
}

static void test_config_validation(void)
{
    parley_config *cfg = parley_config_new();
    CHECK(cfg != NULL);
    CHECK_INT(parley_config_set_url(cfg, "http://example.com/"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_url(cfg, "wss://"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_url(NULL, "wss://x/"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_app_id(cfg, "has space"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_app_id(cfg, ""), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_log(cfg, NULL, NULL, 9), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_reconnect(cfg, 0, 10), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_reconnect(cfg, 100, 10), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_reconnect(cfg, 10, 100), PARLEY_OK);
    CHECK_INT(parley_config_set_ca_pem(cfg, NULL, 0), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_data_dir(cfg, ""), PARLEY_ERR_INVALID_ARG);

    parley_client *pc = (parley_client *)1;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_ERR_CONFIG); /* no url, no app id */
    CHECK(pc == NULL);
    CHECK_INT(parley_client_new(NULL, &pc), PARLEY_ERR_INVALID_ARG);
    parley_config_free(cfg);
    parley_config_free(NULL);
}

static void test_insecure_refused_unless_allowed(void)
{
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_url(cfg, "ws://localhost:1/"), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_ERR_INSECURE);
    CHECK(pc == NULL);
    CHECK_INT(parley_config_set_allow_insecure(cfg, 1), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_client_free(pc);
    parley_config_free(cfg);
}

static void test_offline_outbox_and_validation(void)
{
    parley_config *cfg = base_config();
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);

    parley_event *ev = NULL;
    CHECK_INT(parley_poll(pc, &ev), PARLEY_ERR_AGAIN);

    char conv[PARLEY_ID_SIZE], msg[PARLEY_ID_SIZE];
    CHECK_INT(parley_conversation_start(pc, "Payment problem", conv, sizeof conv), PARLEY_OK);
    CHECK(strncmp(conv, "c-", 2) == 0);
    /* 64 bytes, PARLEY_ID_SIZE in 0.1.0: binaries built then pass it. */
    CHECK_INT(parley_send_text(pc, conv, "My gems never arrived", msg, 64), PARLEY_OK);
    CHECK_INT(strlen(msg), 36);
    CHECK_INT(parley_send_text(pc, "c-unknown", "hi", NULL, 0), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_send_text(pc, conv, "", NULL, 0), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_send_text(pc, conv, "bad \xff utf8", NULL, 0), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_send_text(pc, conv, "hi", msg, 8), PARLEY_ERR_INVALID_ARG);
    char *big = malloc(5000);
    memset(big, 'x', 4999);
    big[4999] = '\0';
    CHECK_INT(parley_send_text(pc, conv, big, NULL, 0), PARLEY_ERR_TOO_LONG);
    free(big);

    uint32_t n = 0;
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 2); /* the conversation start and one message */

    /* The accepted message announces itself as pending. */
    int pending = 0;
    while (parley_poll(pc, &ev) == PARLEY_OK) {
        if (parley_event_type(ev) == PARLEY_EV_MESSAGE_STATUS &&
            parley_event_state(ev) == PARLEY_MSG_PENDING) {
            CHECK_STR(parley_event_client_id(ev), msg);
            CHECK_STR(parley_event_conversation_id(ev), conv);
            pending++;
        }
        parley_event_free(ev);
    }
    CHECK_INT(pending, 1);

    CHECK_INT(parley_set_attribute_str(pc, "plan", "vip"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_num(pc, "level", 7), PARLEY_OK);
    CHECK_INT(parley_set_attribute_bool(pc, "beta", 1), PARLEY_OK);
    CHECK_INT(parley_set_attribute_str(pc, "bad key", "x"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_attribute_str(pc, "k", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_identify(pc, "player-42", NULL), PARLEY_OK);
    CHECK_INT(parley_identify(pc, "", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_stop(pc), PARLEY_ERR_STATE);
    parley_client_free(pc);
    parley_client_free(NULL);
}

static void read_anon_id(const char *dir, char *out)
{
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    CHECK_INT(parley_anonymous_id(pc, out, PARLEY_ID_SIZE), PARLEY_OK);
    parley_client_free(pc);
}

static void test_anonymous_id_is_stable_per_data_dir(void)
{
    char d1[300], d2[300], a[PARLEY_ID_SIZE], b[PARLEY_ID_SIZE], c[PARLEY_ID_SIZE];
    snprintf(d1, sizeof d1, "%s/one", tmpdir);
    snprintf(d2, sizeof d2, "%s/two", tmpdir);
    read_anon_id(d1, a);
    read_anon_id(d1, b);
    read_anon_id(d2, c);
    CHECK(strncmp(a, "a-", 2) == 0);
    CHECK_STR(a, b);
    CHECK(strcmp(a, c) != 0);
}

static void test_unusable_data_dir(void)
{
    parley_config *cfg = base_config();
    char file[300];
    snprintf(file, sizeof file, "%s/file", tmpdir);
    FILE *f = fopen(file, "w");
    if (f)
        fclose(f);
    CHECK_INT(parley_config_set_data_dir(cfg, file), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_ERR_IO);
    parley_config_free(cfg);
}

static void test_allocator_hooks_see_every_allocation(void)
{
    tl_alloc c;
    tl_alloc_reset(&c);
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_allocator(cfg, tl_malloc, NULL, tl_free, &c),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_allocator(cfg, tl_malloc, tl_realloc, tl_free, &c), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "hello", NULL, 0), PARLEY_OK);
    parley_event *ev;
    while (parley_poll(pc, &ev) == PARLEY_OK)
        parley_event_free(ev);
    parley_client_free(pc);
    CHECK(c.allocs > 3);
    CHECK_INT(c.allocs, c.frees);
}

/* ---- host-provided storage ------------------------------------------------ */

static parley_client *storage_client(tl_memfs *m)
{
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_storage(cfg, &tl_memfs_ops, m), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    return pc;
}

static void test_host_storage_keeps_outbox_and_anonymous_id(void)
{
    parley_config *cfg = base_config();
    parley_storage partial = tl_memfs_ops;
    partial.sync = NULL;
    CHECK_INT(parley_config_set_storage(cfg, &partial, NULL), PARLEY_ERR_INVALID_ARG);
    partial = tl_memfs_ops;
    partial.version = 99;
    CHECK_INT(parley_config_set_storage(cfg, &partial, NULL), PARLEY_ERR_INVALID_ARG);
    parley_config_free(cfg);

    tl_memfs m;
    memset(&m, 0, sizeof m);
    parley_client *pc = storage_client(&m);
    char anon[PARLEY_ID_SIZE], conv[PARLEY_ID_SIZE];
    CHECK_INT(parley_anonymous_id(pc, anon, sizeof anon), PARLEY_OK);
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "kept by the host", NULL, 0), PARLEY_OK);
    parley_client_free(pc);
    CHECK(m.calls > 0);
    CHECK(tl_memfs_file(&m, "journal") != NULL);

    /* The app restarts: the host hands back the same bytes. */
    pc = storage_client(&m);
    uint32_t n = 0;
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 2);
    char anon2[PARLEY_ID_SIZE];
    CHECK_INT(parley_anonymous_id(pc, anon2, sizeof anon2), PARLEY_OK);
    CHECK_STR(anon2, anon);
    CHECK_INT(parley_send_text(pc, conv, "the conversation is known after a restart", NULL, 0),
              PARLEY_OK);

    /* A save system that fails: the send is refused, not silently lost. */
    m.fail = 1;
    CHECK_INT(parley_send_text(pc, conv, "cannot be stored", NULL, 0), PARLEY_ERR_IO);
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 3);
    parley_client_free(pc);
    tl_memfs_free(&m);
}

/* Everything under dir read back as bytes, for "is it on disk" checks. */
typedef struct search {
    const char *needle;
    int found;
} search;

static int file_contains(void *ctx, const char *path)
{
    search *s = ctx;
    size_t len = 0, n = strlen(s->needle);
    char *data = tl_read_file(path, &len);
    for (size_t i = 0; data && !s->found && i + n <= len; i++)
        s->found = memcmp(data + i, s->needle, n) == 0;
    free(data);
    return 0;
}

/* Whether any file in `dir` holds `needle` anywhere, binary or not (the
 * journal is one file in the data dir). */
static int dir_contains(const char *dir, const char *needle)
{
    search s = {needle, 0};
    pl_path_each_file(pl_alloc_libc(), dir, file_contains, &s);
    return s.found;
}

static void scrub_vowels(void *user, int field, char *text, size_t size)
{
    (void)size;
    int *calls = user;
    calls[0]++;
    if (field == PARLEY_FIELD_MESSAGE)
        for (char *p = text; *p; p++)
            if (*p == 'o')
                *p = '0';
}

/* The redaction runs before anything reaches the journal. */
static void test_redaction_before_disk(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/redact", tmpdir);
    parley_config *cfg = base_config();
    int calls[1] = {0};
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    CHECK_INT(parley_config_set_redactor(cfg, scrub_vowels, calls), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(
                  pc, conv, "pay with 4111 1111 1111 1111 or mail jane.doe@example.com", NULL, 0),
              PARLEY_OK);
    CHECK(calls[0] >= 1);
    CHECK(!dir_contains(dir, "4111 1111"));
    CHECK(!dir_contains(dir, "example.com"));
    CHECK(dir_contains(dir, "pay with [card] 0r mail [email]"));
    parley_client_free(pc);
    /* Without the built-in redactor the number does reach the disk. */
    char dir2[128];
    snprintf(dir2, sizeof dir2, "%s/noredact", tmpdir);
    CHECK_INT(parley_config_set_data_dir(cfg, dir2), PARLEY_OK);
    CHECK_INT(parley_config_set_redactor(cfg, NULL, NULL), PARLEY_OK);
    CHECK_INT(parley_config_set_default_redactor(cfg, 0), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "card 4111 1111 1111 1111", NULL, 0), PARLEY_OK);
    CHECK(dir_contains(dir2, "4111 1111 1111 1111"));
    parley_client_free(pc);
    parley_config_free(cfg);
}

/* What the host says about a request travels in conv.start as "about",
 * journaled with it, the area redacted like a screen; bad values are
 * refused before anything is queued. */
static void test_conversation_about(void)
{
    char dir[128], conv[PARLEY_ID_SIZE], long_text[300];
    snprintf(dir, sizeof dir, "%s/about", tmpdir);
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    CHECK_INT(parley_conversation_start_about(pc, "Gems", "payments", "shop/jane@example.com",
                                              PARLEY_SEVERITY_HIGH, conv, sizeof conv),
              PARLEY_OK);
    CHECK(dir_contains(dir, "\"about\":{\"category\":\"payments\",\"area\":\"shop/[email]\","
                            "\"severity\":\"high\"}"));
    CHECK(!dir_contains(dir, "jane@example.com"));
    /* Nothing said is a plain start. */
    CHECK_INT(parley_conversation_start_about(pc, NULL, NULL, NULL, PARLEY_SEVERITY_NONE, conv,
                                              sizeof conv),
              PARLEY_OK);
    uint32_t before = 0, after = 0;
    CHECK_INT(parley_outbox_count(pc, &before), PARLEY_OK);
    memset(long_text, 'a', sizeof long_text - 1);
    long_text[sizeof long_text - 1] = '\0';
    CHECK_INT(parley_conversation_start_about(pc, NULL, "", NULL, 0, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, "pay ments", NULL, 0, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, long_text, NULL, 0, NULL, 0),
              PARLEY_ERR_TOO_LONG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, NULL, "", 0, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, NULL, "bad \xff", 0, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, NULL, long_text, 0, NULL, 0),
              PARLEY_ERR_TOO_LONG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, NULL, NULL, 5, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_conversation_start_about(pc, NULL, NULL, NULL, -1, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_conversation_start_about(NULL, NULL, "bug", NULL, 0, NULL, 0),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_outbox_count(pc, &after), PARLEY_OK);
    CHECK_INT(after, before);
    parley_client_free(pc);
}

/* What the replacement-shape hook saw and what each replace call returned. */
typedef struct {
    int calls;
    int too_long, bad_utf8, null_arg;
    char seen[64];
} text_hook_log;

static void replace_name(void *user, int field, const char *text, parley_redaction *r)
{
    text_hook_log *log = user;
    log->calls++;
    snprintf(log->seen, sizeof log->seen, "%s", text);
    if (field != PARLEY_FIELD_MESSAGE || !strstr(text, "Bob"))
        return;
    char longer[128];
    snprintf(longer, sizeof longer, "%s and then some", text);
    log->too_long = parley_redaction_replace(r, longer);
    log->bad_utf8 = parley_redaction_replace(r, "\xff");
    log->null_arg = parley_redaction_replace(r, NULL);
    /* The last good call wins; the built-in redactor runs after it. */
    parley_redaction_replace(r, "first");
    parley_redaction_replace(r, "hi [name], card 4111111111111111");
}

/* The replacement-shape hook: a const text in, a copied replacement out (no
 * longer than the original, valid UTF-8), before anything reaches the
 * journal; setting one hook shape replaces the other. */
static void test_text_redactor(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/text-redact", tmpdir);
    parley_config *cfg = base_config();
    text_hook_log log = {0};
    int calls[1] = {0};
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    CHECK_INT(parley_config_set_redactor(cfg, scrub_vowels, calls), PARLEY_OK);
    CHECK_INT(parley_config_set_text_redactor(cfg, replace_name, &log), PARLEY_OK);
    CHECK_INT(parley_config_set_text_redactor(NULL, replace_name, &log), PARLEY_ERR_INVALID_ARG);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    char conv[PARLEY_ID_SIZE];
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "hello Bob, my card is 4111 1111 1111 1111 ok", NULL, 0),
              PARLEY_OK);
    CHECK_INT(calls[0], 0);
    CHECK(log.calls >= 1);
    CHECK_STR(log.seen, "hello Bob, my card is 4111 1111 1111 1111 ok");
    CHECK_INT(log.too_long, PARLEY_ERR_TOO_LONG);
    CHECK_INT(log.bad_utf8, PARLEY_ERR_INVALID_ARG);
    CHECK_INT(log.null_arg, PARLEY_ERR_INVALID_ARG);
    CHECK(!dir_contains(dir, "Bob"));
    CHECK(!dir_contains(dir, "4111 1111"));
    CHECK(dir_contains(dir, "hi [name], card [card]"));
    parley_client_free(pc);
    CHECK_INT(parley_redaction_replace(NULL, "x"), PARLEY_ERR_INVALID_ARG);

    /* The in-place hook set afterwards replaces the text hook. */
    int before = log.calls;
    snprintf(dir, sizeof dir, "%s/text-redact2", tmpdir);
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    CHECK_INT(parley_config_set_redactor(cfg, scrub_vowels, calls), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    CHECK_INT(parley_conversation_start(pc, NULL, conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "hello Bob", NULL, 0), PARLEY_OK);
    CHECK(calls[0] >= 1);
    CHECK_INT(log.calls, before);
    CHECK(dir_contains(dir, "hell0 B0b"));
    parley_client_free(pc);
    parley_config_free(cfg);
}

/* Logout leaves nothing of the user on disk and a new anonymous id. */
static void test_logout_wipes_disk(void)
{
    char dir[128];
    snprintf(dir, sizeof dir, "%s/logout", tmpdir);
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    CHECK_INT(parley_config_set_consent(cfg, 1), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    char before[PARLEY_ID_SIZE], after[PARLEY_ID_SIZE], conv[PARLEY_ID_SIZE];
    CHECK_INT(parley_anonymous_id(pc, before, sizeof before), PARLEY_OK);
    CHECK_INT(parley_identify(pc, "player-secret-42", "token-secret"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_str(pc, "plan", "vip-secret"), PARLEY_OK);
    CHECK_INT(parley_conversation_start(pc, "subject-secret", conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "message-secret", NULL, 0), PARLEY_OK);
    CHECK_INT(parley_track_event(pc, "secret_event", Q("{'k':'meta-secret'}")), PARLEY_OK);
    CHECK(dir_contains(dir, "message-secret"));
    CHECK(dir_contains(dir, conv));
    CHECK_INT(parley_logout(pc), PARLEY_OK);
    uint32_t n = 99;
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 0);
    CHECK_INT(parley_send_text(pc, conv, "after", NULL, 0), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_anonymous_id(pc, after, sizeof after), PARLEY_OK);
    CHECK(strcmp(before, after) != 0);
    const char *secrets[] = {"secret", conv, before};
    for (size_t i = 0; i < sizeof secrets / sizeof secrets[0]; i++)
        CHECK(!dir_contains(dir, secrets[i]));
    CHECK(dir_contains(dir, after));
    parley_client_free(pc);
    /* The next start is the new anonymous user. */
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    char again[PARLEY_ID_SIZE];
    CHECK_INT(parley_anonymous_id(pc, again, sizeof again), PARLEY_OK);
    CHECK_STR(again, after);
    CHECK_INT(parley_logout(NULL), PARLEY_ERR_INVALID_ARG);
    parley_client_free(pc);
    parley_config_free(cfg);
}

/* Found by fuzz_session: logout emptied the attribute table but left its
 * freed strings behind, so the next attribute set freed one again. */
static void test_attributes_after_logout(void)
{
    parley_config *cfg = base_config();
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    CHECK_INT(parley_set_attribute_str(pc, "plan", "vip"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_num(pc, "level", 7), PARLEY_OK);
    CHECK_INT(parley_logout(pc), PARLEY_OK);
    CHECK_INT(parley_set_attribute_str(pc, "server", "eu-1"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_str(pc, "guild", "none"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_str(pc, "plan", "free"), PARLEY_OK);
    CHECK_INT(parley_logout(pc), PARLEY_OK);
    CHECK_INT(parley_set_attribute_bool(pc, "beta", 1), PARLEY_OK);
    parley_client_free(pc);
}

static void test_context_api(void)
{
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_context_limits(cfg, 0, 1000), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_context_limits(cfg, 501, 1000), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_context_limits(cfg, 10, 0), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_context_limits(cfg, 10, 500), PARLEY_OK);
    CHECK_INT(parley_config_set_app_version(cfg, ""), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_app_version(cfg, "1.4.2"), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    /* Consent is off by default: context is kept, events are refused. */
    CHECK_INT(parley_track_event(pc, "level_failed", NULL), PARLEY_ERR_CONSENT);
    CHECK_INT(parley_set_attribute_null(pc, "referrer"), PARLEY_OK);
    CHECK_INT(parley_set_attribute_json(pc, "inv", Q("{'gems':1}")), PARLEY_OK);
    CHECK_INT(parley_set_attribute_json(pc, "inv", "not json"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_attribute_json(pc, "inv", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_screen(pc, "level-3"), PARLEY_OK);
    CHECK_INT(parley_set_screen(pc, NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_add_breadcrumb(pc, "opened shop"), PARLEY_OK);
    CHECK_INT(parley_add_breadcrumb(pc, ""), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_device_fact(pc, "gpu", "TestGPU"), PARLEY_OK);
    CHECK_INT(parley_set_device_fact(pc, "gpu", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_consent(pc, 1), PARLEY_OK);
    CHECK_INT(parley_track_event(pc, "level_failed", Q("{'level':3}")), PARLEY_OK);
    CHECK_INT(parley_track_event(pc, "level failed", NULL), PARLEY_ERR_INVALID_ARG);
    uint32_t n = 0;
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 1);
    CHECK_INT(parley_set_screen(NULL, "x"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_consent(NULL, 1), PARLEY_ERR_INVALID_ARG);
    CHECK_STR(parley_strerror(PARLEY_ERR_CONSENT),
              "sending context is not allowed (parley_set_consent)");
    parley_client_free(pc);
    parley_config_free(cfg);
}

/* The statuses of message `msg` polled within `ms` (no servicing: STORED
 * comes from the disk thread by itself), in order, as digits; stops at
 * STORED. With 0, only what is queued already. */
static void statuses_of(parley_client *pc, const char *msg, int ms, char *out, size_t cap)
{
    size_t n = 0;
    out[0] = '\0';
    int64_t end = pl_clock_mono_ms() + ms;
    while (!strchr(out, '0' + PARLEY_MSG_STORED)) {
        parley_event *ev = NULL;
        if (parley_poll(pc, &ev) != PARLEY_OK) {
            if (pl_clock_mono_ms() >= end)
                break;
            continue;
        }
        if (parley_event_type(ev) == PARLEY_EV_MESSAGE_STATUS &&
            strcmp(parley_event_client_id(ev), msg) == 0 && n + 1 < cap) {
            out[n++] = (char)('0' + parley_event_state(ev));
            out[n] = '\0';
        }
        parley_event_free(ev);
    }
}

static parley_client *durable_client(const char *dir, int mode)
{
    parley_config *cfg = base_config();
    CHECK_INT(parley_config_set_data_dir(cfg, dir), PARLEY_OK);
    if (mode)
        CHECK_INT(parley_config_set_durability(cfg, mode), PARLEY_OK);
    parley_client *pc = NULL;
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    return pc;
}

/* Default durability: the call returns before the fsync, the disk thread
 * reports STORED after PENDING without the host servicing anything, and
 * the unsynced count comes back to 0. PARLEY_DURABILITY_SYNC: synced
 * before the call returns. Without a data dir there is nothing to store. */
static void test_stored_reported(void)
{
    char dir[300], want[4] = {'0' + PARLEY_MSG_PENDING, '0' + PARLEY_MSG_STORED, 0};
    char got[16], conv[PARLEY_ID_SIZE], msg[PARLEY_ID_SIZE];
    uint32_t unsynced = 99;
    for (int mode = PARLEY_DURABILITY_WRITE; mode <= PARLEY_DURABILITY_SYNC; mode++) {
        snprintf(dir, sizeof dir, "%s/stored-%d", tmpdir, mode);
        parley_client *pc = durable_client(dir, mode);
        CHECK_INT(parley_conversation_start(pc, "Refund", conv, sizeof conv), PARLEY_OK);
        CHECK_INT(parley_send_text(pc, conv, "where are my gems", msg, sizeof msg), PARLEY_OK);
        if (mode == PARLEY_DURABILITY_SYNC) {
            CHECK_INT(parley_unsynced_count(pc, &unsynced), PARLEY_OK);
            CHECK_INT(unsynced, 0);
        }
        /* SYNC: both queued by the call itself. */
        statuses_of(pc, msg, mode == PARLEY_DURABILITY_SYNC ? 0 : 10000, got, sizeof got);
        CHECK_STR(got, want);
        int64_t end = pl_clock_mono_ms() + 10000;
        while (parley_unsynced_count(pc, &unsynced) == PARLEY_OK && unsynced &&
               pl_clock_mono_ms() < end)
            ;
        CHECK_INT(unsynced, 0);
        CHECK(dir_contains(dir, "where are my gems"));
        parley_client_free(pc);
    }
    parley_client *pc = NULL;
    parley_config *cfg = base_config();
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_config_free(cfg);
    CHECK_INT(parley_conversation_start(pc, "Refund", conv, sizeof conv), PARLEY_OK);
    CHECK_INT(parley_send_text(pc, conv, "no disk", msg, sizeof msg), PARLEY_OK);
    statuses_of(pc, msg, 300, got, sizeof got);
    want[1] = '\0'; /* PENDING only */
    CHECK_STR(got, want);
    CHECK_INT(parley_unsynced_count(pc, &unsynced), PARLEY_OK);
    CHECK_INT(unsynced, 0);
    CHECK_INT(parley_unsynced_count(NULL, &unsynced), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_set_durability(NULL, PARLEY_DURABILITY_SYNC), PARLEY_ERR_INVALID_ARG);
    cfg = base_config();
    CHECK_INT(parley_config_set_durability(cfg, 3), PARLEY_ERR_INVALID_ARG);
    parley_config_free(cfg);
    parley_client_free(pc);
}

static void test_strerror_and_version(void)
{
    for (int e = 0; e >= PARLEY_ERR_CLOSED; e--)
        CHECK(strcmp(parley_strerror(e), "unknown error") != 0);
    CHECK_STR(parley_strerror(-999), "unknown error");
    int ma = -1, mi = -1, pa = -1;
    CHECK_STR(parley_version(&ma, &mi, &pa), PARLEY_VERSION_STRING);
    CHECK_INT(ma, PARLEY_VERSION_MAJOR);
    CHECK_INT(mi, PARLEY_VERSION_MINOR);
    CHECK_INT(pa, PARLEY_VERSION_PATCH);
    CHECK(parley_version(NULL, NULL, NULL) != NULL);
}

int main(void)
{
    if (tl_mkdtemp(tmpdir, sizeof tmpdir, "client") != 0) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_config_validation);
    RUN(test_insecure_refused_unless_allowed);
    RUN(test_offline_outbox_and_validation);
    RUN(test_anonymous_id_is_stable_per_data_dir);
    RUN(test_unusable_data_dir);
    RUN(test_allocator_hooks_see_every_allocation);
    RUN(test_host_storage_keeps_outbox_and_anonymous_id);
    RUN(test_redaction_before_disk);
    RUN(test_text_redactor);
    RUN(test_conversation_about);
    RUN(test_logout_wipes_disk);
    RUN(test_attributes_after_logout);
    RUN(test_context_api);
    RUN(test_stored_reported);
    RUN(test_strerror_and_version);
    tl_rmrf(tmpdir);
    return tl_finish();
}
