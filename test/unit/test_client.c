/* Facade without a network: configuration errors, the offline outbox,
 * the stable anonymous id, allocator hooks, the empty poll. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley.h"
#include "testlib.h"

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
    CHECK_INT(parley_send_text(pc, conv, "My gems never arrived", msg, sizeof msg), PARLEY_OK);
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
    CHECK_INT(parley_config_set_allocator(cfg, tl_malloc, NULL, tl_free, &c), PARLEY_ERR_INVALID_ARG);
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
    CHECK_INT(parley_send_text(pc, conv, "the conversation is known after a restart", NULL, 0), PARLEY_OK);

    /* A save system that fails: the send is refused, not silently lost. */
    m.fail = 1;
    CHECK_INT(parley_send_text(pc, conv, "cannot be stored", NULL, 0), PARLEY_ERR_IO);
    CHECK_INT(parley_outbox_count(pc, &n), PARLEY_OK);
    CHECK_INT(n, 3);
    parley_client_free(pc);
    tl_memfs_free(&m);
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
    RUN(test_strerror_and_version);
    tl_rmrf(tmpdir);
    return tl_finish();
}
