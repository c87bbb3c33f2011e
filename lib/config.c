#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "feature/history.h"
#include "model/limits.h"
#include "transport/tls_trust.h"
#include "transport/transport.h"
#include "util/utf8.h"

/* The config is allocated before any allocator hook is known, so it uses
 * the C library's allocator (documented in parley.h). */

parley_config *parley_config_new(void)
{
    parley_config *cfg = calloc(1, sizeof *cfg);
    if (!cfg)
        return NULL;
    pl_alloc_default(&cfg->alloc);
    cfg->log_level = PARLEY_LOG_WARN;
    cfg->backoff_initial_ms = 500;
    cfg->backoff_max_ms = 30000;
    cfg->outbox_cap = 1000;
    cfg->max_events = PARLEY_DEFAULT_MAX_EVENTS;
    cfg->max_event_bytes = PARLEY_DEFAULT_MAX_EVENT_BYTES;
    cfg->default_redactor = 1;
    cfg->durability = PARLEY_DURABILITY_WRITE;
    return cfg;
}

void parley_config_free(parley_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->url);
    free(cfg->app_id);
    free(cfg->ca_file);
    free(cfg->ca_pem);
    free(cfg->data_dir);
    free(cfg->app_version);
    /* Key material does not linger in freed memory. */
    volatile unsigned char *k = cfg->enc_key;
    for (size_t i = 0; i < sizeof cfg->enc_key; i++)
        k[i] = 0;
    free(cfg);
}

static int replace(char **field, const char *value)
{
    char *copy = pl_strdup(pl_alloc_libc(), value);
    if (!copy)
        return PARLEY_ERR_NOMEM;
    free(*field);
    *field = copy;
    return PARLEY_OK;
}

int parley_config_set_url(parley_config *cfg, const char *url)
{
    if (!cfg || !url || pl_transport_check_url(url, 1) != PARLEY_OK)
        return PARLEY_ERR_INVALID_ARG;
    return replace(&cfg->url, url);
}

int parley_config_set_app_id(parley_config *cfg, const char *app_id)
{
    if (!cfg || !pl_id_valid(app_id, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    return replace(&cfg->app_id, app_id);
}

int parley_config_set_ca_file(parley_config *cfg, const char *path)
{
    if (!cfg || !path || !*path)
        return PARLEY_ERR_INVALID_ARG;
    int rc = replace(&cfg->ca_file, path);
    if (rc == PARLEY_OK) {
        free(cfg->ca_pem);
        cfg->ca_pem = NULL;
        cfg->ca_pem_len = 0;
    }
    return rc;
}

int parley_config_set_ca_pem(parley_config *cfg, const char *pem, size_t len)
{
    if (!cfg || !pem || len == 0)
        return PARLEY_ERR_INVALID_ARG;
    /* NUL-terminated copy: mbedTLS wants PEM input to include the NUL. */
    char *copy = pl_strndup(pl_alloc_libc(), pem, len);
    if (!copy)
        return PARLEY_ERR_NOMEM;
    free(cfg->ca_pem);
    cfg->ca_pem = copy;
    cfg->ca_pem_len = len;
    free(cfg->ca_file);
    cfg->ca_file = NULL;
    return PARLEY_OK;
}

int parley_config_add_pin(parley_config *cfg, const char *pin)
{
    unsigned char bin[PL_TRANSPORT_PIN_SIZE];
    if (!cfg || pl_tls_pin_parse(pin, bin) != PARLEY_OK)
        return PARLEY_ERR_INVALID_ARG;
    for (size_t i = 0; i < cfg->n_pins; i++)
        if (memcmp(cfg->pins[i], bin, sizeof bin) == 0)
            return PARLEY_OK;
    if (cfg->n_pins == PL_TRANSPORT_MAX_PINS)
        return PARLEY_ERR_FULL;
    memcpy(cfg->pins[cfg->n_pins++], bin, sizeof bin);
    return PARLEY_OK;
}

int parley_config_clear_pins(parley_config *cfg)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->n_pins = 0;
    return PARLEY_OK;
}

int parley_config_set_data_dir(parley_config *cfg, const char *dir)
{
    if (!cfg || !dir || !*dir)
        return PARLEY_ERR_INVALID_ARG;
    return replace(&cfg->data_dir, dir);
}

int parley_config_set_durability(parley_config *cfg, int mode)
{
    if (!cfg || (mode != PARLEY_DURABILITY_WRITE && mode != PARLEY_DURABILITY_SYNC))
        return PARLEY_ERR_INVALID_ARG;
    cfg->durability = mode;
    return PARLEY_OK;
}

void pl_config_set_resolver(parley_config *cfg, pl_resolve_fn fn, void *user)
{
    cfg->resolve = fn;
    cfg->resolve_user = user;
}

int parley_config_set_outbox_cap(parley_config *cfg, uint32_t cap)
{
    if (!cfg || cap == 0)
        return PARLEY_ERR_INVALID_ARG;
    cfg->outbox_cap = cap;
    return PARLEY_OK;
}

int parley_config_set_event_limits(parley_config *cfg, uint32_t max_events, size_t max_bytes)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->max_events = max_events ? max_events : PARLEY_DEFAULT_MAX_EVENTS;
    cfg->max_event_bytes = max_bytes ? max_bytes : PARLEY_DEFAULT_MAX_EVENT_BYTES;
    return PARLEY_OK;
}

int parley_config_set_encryption_key(parley_config *cfg, const unsigned char *key, size_t len)
{
    if (!cfg || (key && len != PARLEY_ENCRYPTION_KEY_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    cfg->has_key = key != NULL;
    if (key)
        memcpy(cfg->enc_key, key, len);
    else
        memset(cfg->enc_key, 0, sizeof cfg->enc_key);
    return PARLEY_OK;
}

int parley_config_set_log(parley_config *cfg, parley_log_fn fn, void *user, int level)
{
    if (!cfg || level < PARLEY_LOG_ERROR || level > PARLEY_LOG_DEBUG)
        return PARLEY_ERR_INVALID_ARG;
    cfg->log_fn = fn;
    cfg->log_user = user;
    cfg->log_level = level;
    return PARLEY_OK;
}

int parley_config_set_allow_insecure(parley_config *cfg, int allow)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->allow_insecure = allow != 0;
    return PARLEY_OK;
}

int parley_config_set_reconnect(parley_config *cfg, uint32_t initial_ms, uint32_t max_ms)
{
    if (!cfg || initial_ms == 0 || initial_ms > max_ms)
        return PARLEY_ERR_INVALID_ARG;
    cfg->backoff_initial_ms = initial_ms;
    cfg->backoff_max_ms = max_ms;
    return PARLEY_OK;
}

int parley_config_set_allocator(parley_config *cfg, parley_malloc_fn m, parley_realloc_fn r,
                                parley_free_fn f, void *user)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    if (!m && !r && !f) {
        pl_alloc_default(&cfg->alloc);
        return PARLEY_OK;
    }
    if (!m || !r || !f)
        return PARLEY_ERR_INVALID_ARG;
    cfg->alloc = (pl_alloc){m, r, f, user};
    return PARLEY_OK;
}

int parley_config_set_storage(parley_config *cfg, const parley_storage *ops, void *user)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    if (!ops) {
        cfg->has_storage = 0;
        return PARLEY_OK;
    }
    if (ops->version != PARLEY_STORAGE_VERSION || !ops->size || !ops->read || !ops->append ||
        !ops->sync || !ops->truncate || !ops->rename || !ops->remove)
        return PARLEY_ERR_INVALID_ARG;
    cfg->storage = *ops;
    cfg->storage_user = user;
    cfg->has_storage = 1;
    return PARLEY_OK;
}

int parley_config_set_context_limits(parley_config *cfg, uint32_t breadcrumb_cap,
                                     uint32_t interval_ms)
{
    if (!cfg || breadcrumb_cap < 1 || breadcrumb_cap > PL_MAX_CRUMBS || interval_ms < 1 ||
        interval_ms > 60000)
        return PARLEY_ERR_INVALID_ARG;
    cfg->breadcrumb_cap = breadcrumb_cap;
    cfg->context_interval_ms = interval_ms;
    return PARLEY_OK;
}

int parley_config_set_local_history(parley_config *cfg, uint32_t per_conversation)
{
    if (!cfg || per_conversation > PL_HISTORY_MAX)
        return PARLEY_ERR_INVALID_ARG;
    cfg->local_history = per_conversation;
    return PARLEY_OK;
}

int parley_config_set_app_version(parley_config *cfg, const char *version)
{
    if (!cfg || !version || !*version)
        return PARLEY_ERR_INVALID_ARG;
    if (strlen(version) > PL_MAX_ATTR_STR)
        return PARLEY_ERR_TOO_LONG;
    if (!pl_utf8_valid(version, strlen(version)))
        return PARLEY_ERR_INVALID_ARG;
    return replace(&cfg->app_version, version);
}

int parley_config_set_consent(parley_config *cfg, int allowed)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->consent = allowed != 0;
    return PARLEY_OK;
}

int parley_config_set_redactor(parley_config *cfg, parley_redact_fn fn, void *user)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->redact_fn = fn;
    cfg->redact_text_fn = NULL;
    cfg->redact_user = fn ? user : NULL;
    return PARLEY_OK;
}

int parley_config_set_text_redactor(parley_config *cfg, parley_redact_text_fn fn, void *user)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->redact_text_fn = fn;
    cfg->redact_fn = NULL;
    cfg->redact_user = fn ? user : NULL;
    return PARLEY_OK;
}

int parley_config_set_default_redactor(parley_config *cfg, int enabled)
{
    if (!cfg)
        return PARLEY_ERR_INVALID_ARG;
    cfg->default_redactor = enabled != 0;
    return PARLEY_OK;
}
