/* The public parley_config, shared by config.c (setters) and client.c. */
#ifndef PARLEY_CONFIG_H
#define PARLEY_CONFIG_H

#include <stddef.h>
#include <stdint.h>

#include "parley.h"
#include "transport/transport.h"
#include "util/alloc.h"

struct parley_config {
    pl_alloc alloc; /* for the client; the config itself uses the C library's */
    char *url;
    char *app_id;
    char *ca_file;
    char *ca_pem;
    size_t ca_pem_len;
    unsigned char pins[PL_TRANSPORT_MAX_PINS][PL_TRANSPORT_PIN_SIZE]; /* distinct */
    size_t n_pins;
    char *data_dir;
    parley_log_fn log_fn;
    void *log_user;
    int log_level;
    int allow_insecure;
    uint32_t backoff_initial_ms;
    uint32_t backoff_max_ms;
    uint32_t outbox_cap;
    uint32_t max_events; /* host event queue; parley_config_set_event_limits */
    size_t max_event_bytes;
    int has_storage;
    parley_storage storage;
    void *storage_user;
    int has_key;
    unsigned char enc_key[PARLEY_ENCRYPTION_KEY_SIZE];
    uint32_t breadcrumb_cap;      /* 0: default */
    uint32_t context_interval_ms; /* 0: default */
    char *app_version;
    int consent;
    parley_redact_fn redact_fn; /* at most one of the two hooks */
    parley_redact_text_fn redact_text_fn;
    void *redact_user;
    int default_redactor;
    uint32_t local_history; /* messages per conversation; 0: none */
    int durability;         /* PARLEY_DURABILITY_* */
    /* How host names are resolved (NULL: the system's resolver); set only
     * by tests, through pl_config_set_resolver. */
    pl_resolve_fn resolve;
    void *resolve_user;
};

/* Tests: resolve host names with `fn` on the lookup thread. */
void pl_config_set_resolver(parley_config *cfg, pl_resolve_fn fn, void *user);

#endif
