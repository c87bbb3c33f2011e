#include "transport/tls_trust.h"

#include <mbedtls/base64.h>
#include <mbedtls/error.h>
#include <mbedtls/pem.h>
#include <mbedtls/sha256.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley.h"
#include "platform/ca.h"
#include "platform/fs.h"

#define CA_FILE_MAX (16u * 1024u * 1024u)
#define PIN_PREFIX "sha256/"

/* ---- finding and reading the anchors ---------------------------------------- */

const char *pl_tls_env_ca_file(void)
{
    if (pl_process_privileged())
        return NULL;
    const char *v = getenv("SSL_CERT_FILE");
    return v && *v ? v : NULL;
}

static void append_tried(char *tried, size_t size, const char *path)
{
    size_t n = strlen(tried);
    if (n + 1 < size)
        snprintf(tried + n, size - n, "%s%s", n ? ", " : "", path);
}

int pl_tls_find_ca(const char *const *search, const char **found, char *tried, size_t tried_size)
{
    if (tried && tried_size)
        tried[0] = '\0';
    *found = NULL;
    for (size_t i = 0; search && search[i]; i++) {
        pl_path_kind k = pl_path_kind_of(search[i]);
        if (k == PL_PATH_FILE || k == PL_PATH_DIR) {
            *found = search[i];
            return PARLEY_OK;
        }
        if (tried && tried_size)
            append_tried(tried, tried_size, search[i]);
    }
    return PARLEY_ERR_TLS;
}

static int read_file(const pl_alloc *a, const char *path, char **out, size_t *out_len)
{
    int rc = pl_path_read(a, path, CA_FILE_MAX, out, out_len);
    return rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_TLS;
}

static int parse_result(const pl_log *log, int rc, const char *what)
{
    if (rc < 0) {
        char err[128];
        mbedtls_strerror(rc, err, sizeof err);
        PL_LOG_E(log, "transport: no usable CA certificate in %s: %s", what, err);
        return PARLEY_ERR_TLS;
    }
    if (rc > 0)
        PL_LOG_W(log, "transport: %d CA certificate(s) in %s could not be parsed and are ignored",
                 rc, what);
    return PARLEY_OK;
}

/* `data` is NUL-terminated. mbedTLS takes PEM only with the terminator
 * counted and DER only without it; DER always holds zero bytes, PEM never. */
static int parse_buffer(const pl_log *log, const char *data, size_t len, const char *what,
                        mbedtls_x509_crt *chain)
{
    size_t n = strlen(data) == len ? len + 1 : len;
    return parse_result(log, mbedtls_x509_crt_parse(chain, (const unsigned char *)data, n), what);
}

static int parse_file(const pl_alloc *a, const pl_log *log, const char *path,
                      mbedtls_x509_crt *chain)
{
    char *data = NULL;
    size_t len = 0;
    int rc = read_file(a, path, &data, &len);
    if (rc == PARLEY_ERR_TLS)
        PL_LOG_E(log, "transport: CA file %s cannot be read", path);
    if (rc == PARLEY_OK)
        rc = parse_buffer(log, data, len, path, chain);
    pl_free(a, data);
    return rc;
}

/* A directory holds one certificate per file (Android, c_rehash'ed dirs);
 * files that are not certificates are skipped. */
typedef struct dir_parse {
    const pl_alloc *a;
    mbedtls_x509_crt *chain;
    int skipped;
} dir_parse;

static int parse_dir_file(void *ctx, const char *path)
{
    dir_parse *d = ctx;
    char *data = NULL;
    size_t len = 0;
    int rc = read_file(d->a, path, &data, &len);
    if (rc == PARLEY_ERR_NOMEM)
        return rc;
    size_t n = rc == PARLEY_OK && strlen(data) == len ? len + 1 : len;
    if (rc != PARLEY_OK || mbedtls_x509_crt_parse(d->chain, (const unsigned char *)data, n) != 0)
        d->skipped++;
    pl_free(d->a, data);
    return 0;
}

static int parse_dir(const pl_alloc *a, const pl_log *log, const char *path,
                     mbedtls_x509_crt *chain)
{
    dir_parse d = {a, chain, 0};
    int rc = pl_path_each_file(a, path, parse_dir_file, &d);
    if (rc == PARLEY_ERR_NOMEM)
        return rc;
    if (rc != PARLEY_OK || chain->raw.len == 0) {
        PL_LOG_E(log, "transport: no CA certificate in directory %s", path);
        return PARLEY_ERR_TLS;
    }
    if (d.skipped)
        PL_LOG_W(log, "transport: %d file(s) in %s hold no usable CA certificate and are ignored",
                 d.skipped, path);
    return PARLEY_OK;
}

static int parse_path(const pl_alloc *a, const pl_log *log, const char *path,
                      mbedtls_x509_crt *chain)
{
    if (pl_path_kind_of(path) == PL_PATH_DIR)
        return parse_dir(a, log, path, chain);
    return parse_file(a, log, path, chain);
}

/* The OS's own store (Windows: the ROOT store), certificate by
 * certificate; NOT_FOUND where the OS keeps its anchors in files. */
static int parse_cert_der(void *ctx, const unsigned char *der, size_t len)
{
    dir_parse *d = ctx;
    if (mbedtls_x509_crt_parse_der(d->chain, der, len) != 0)
        d->skipped++;
    return 0;
}

static int parse_store(const pl_log *log, mbedtls_x509_crt *chain)
{
    dir_parse d = {NULL, chain, 0};
    int rc = pl_ca_store_each(parse_cert_der, &d);
    if (rc != PARLEY_OK)
        return PARLEY_ERR_NOT_FOUND;
    if (chain->raw.len == 0) {
        PL_LOG_E(log, "transport: no usable CA certificate in the system's store");
        return PARLEY_ERR_TLS;
    }
    if (d.skipped)
        PL_LOG_W(log,
                 "transport: %d certificate(s) of the system's store could not be parsed and are "
                 "ignored",
                 d.skipped);
    PL_LOG_D(log, "transport: CA certificates from the system's store");
    return PARLEY_OK;
}

#define PEM_BEGIN "-----BEGIN CERTIFICATE-----\n"
#define PEM_END "-----END CERTIFICATE-----\n"

static int chain_to_pem(const pl_alloc *a, const mbedtls_x509_crt *chain, char **out,
                        size_t *out_len)
{
    size_t total = 1, off = 0;
    for (const mbedtls_x509_crt *c = chain; c && c->raw.len; c = c->next) {
        size_t need = 0;
        mbedtls_pem_write_buffer(PEM_BEGIN, PEM_END, c->raw.p, c->raw.len, NULL, 0, &need);
        total += need;
    }
    char *buf = pl_malloc(a, total);
    if (!buf)
        return PARLEY_ERR_NOMEM;
    for (const mbedtls_x509_crt *c = chain; c && c->raw.len; c = c->next) {
        size_t olen = 0;
        if (mbedtls_pem_write_buffer(PEM_BEGIN, PEM_END, c->raw.p, c->raw.len,
                                     (unsigned char *)buf + off, total - off, &olen) != 0) {
            pl_free(a, buf);
            return PARLEY_ERR_TLS;
        }
        off += olen - 1; /* olen counts the NUL, which the next one overwrites */
    }
    buf[off] = '\0';
    *out = buf;
    *out_len = off;
    return PARLEY_OK;
}

/* The system's anchors: SSL_CERT_FILE when set (and then only it: falling
 * back to another bundle would trust what the environment did not ask
 * for), else the first bundle of the search list that exists. */
static int parse_system(const pl_alloc *a, const pl_log *log, const pl_tls_ca_config *c,
                        mbedtls_x509_crt *chain, const char **path)
{
    if (c->env_file) {
        PL_LOG_I(log, "transport: CA bundle from SSL_CERT_FILE: %s", c->env_file);
        *path = c->env_file;
        return parse_path(a, log, c->env_file, chain);
    }
    if (!c->search) {
        int rc = parse_store(log, chain);
        if (rc != PARLEY_ERR_NOT_FOUND)
            return rc;
    }
    char tried[1024];
    if (pl_tls_find_ca(c->search ? c->search : pl_ca_bundle_paths, path, tried, sizeof tried) !=
        PARLEY_OK) {
        PL_LOG_E(log,
                 "transport: no CA bundle found (SSL_CERT_FILE is not set; tried %s): install the "
                 "system's CA "
                 "certificates or call parley_config_set_ca_file()",
                 tried);
        return PARLEY_ERR_TLS;
    }
    PL_LOG_D(log, "transport: CA bundle %s", *path);
    return parse_path(a, log, *path, chain);
}

static int parse_configured(const pl_alloc *a, const pl_log *log, const pl_tls_ca_config *c,
                            mbedtls_x509_crt *chain, const char **path)
{
    if (c->pem) {
        if (!c->pem_len) {
            PL_LOG_E(log, "transport: the CA PEM is empty");
            return PARLEY_ERR_TLS;
        }
        char *copy = pl_strndup(a, c->pem, c->pem_len);
        if (!copy)
            return PARLEY_ERR_NOMEM;
        int rc = parse_buffer(log, copy, c->pem_len, "the CA PEM", chain);
        pl_free(a, copy);
        return rc;
    }
    if (c->file) {
        *path = c->file;
        return parse_file(a, log, c->file, chain);
    }
    return parse_system(a, log, c, chain, path);
}

int pl_tls_load_ca(const pl_alloc *a, const pl_log *log, const pl_tls_ca_config *c, char **pem,
                   size_t *pem_len, const char **path)
{
    *pem = NULL;
    *pem_len = 0;
    *path = NULL;
    if (!c->pem && !c->file && !c->needed)
        return PARLEY_OK;
    mbedtls_x509_crt chain;
    mbedtls_x509_crt_init(&chain);
    int rc = parse_configured(a, log, c, &chain, path);
    if (rc == PARLEY_OK)
        rc = chain_to_pem(a, &chain, pem, pem_len);
    mbedtls_x509_crt_free(&chain);
    if (rc != PARLEY_OK || (*path && pl_path_kind_of(*path) == PL_PATH_DIR))
        *path = NULL;
    return rc;
}

/* ---- pins ------------------------------------------------------------------ */

int pl_tls_pin_parse(const char *text, unsigned char out[PL_TLS_PIN_SIZE])
{
    if (!text)
        return PARLEY_ERR_INVALID_ARG;
    if (strncmp(text, PIN_PREFIX, strlen(PIN_PREFIX)) == 0)
        text += strlen(PIN_PREFIX);
    unsigned char buf[PL_TLS_PIN_SIZE + 3];
    size_t olen = 0;
    if (strlen(text) != PL_TLS_PIN_TEXT - 1 ||
        mbedtls_base64_decode(buf, sizeof buf, &olen, (const unsigned char *)text, strlen(text)) !=
            0 ||
        olen != PL_TLS_PIN_SIZE)
        return PARLEY_ERR_INVALID_ARG;
    memcpy(out, buf, PL_TLS_PIN_SIZE);
    return PARLEY_OK;
}

void pl_tls_pin_format(const unsigned char pin[PL_TLS_PIN_SIZE], char out[PL_TLS_PIN_TEXT])
{
    size_t olen = 0;
    if (mbedtls_base64_encode((unsigned char *)out, PL_TLS_PIN_TEXT, &olen, pin, PL_TLS_PIN_SIZE) !=
        0)
        out[0] = '\0';
}

int pl_tls_pin_of_cert(const mbedtls_x509_crt *crt, unsigned char out[PL_TLS_PIN_SIZE])
{
    if (!crt || !crt->pk_raw.p || !crt->pk_raw.len)
        return PARLEY_ERR_TLS;
    return mbedtls_sha256_ret(crt->pk_raw.p, crt->pk_raw.len, out, 0) == 0 ? PARLEY_OK
                                                                           : PARLEY_ERR_TLS;
}

/* ---- why a certificate was refused ----------------------------------------- */

uint32_t pl_tls_check_chain(mbedtls_x509_crt *chain, const char *host)
{
    uint32_t flags = 0;
    if (!chain)
        return MBEDTLS_X509_BADCERT_MISSING;
    /* The return value only repeats that flags are set. */
    (void)mbedtls_x509_crt_verify_with_profile(chain, NULL, NULL, &mbedtls_x509_crt_profile_default,
                                               host, &flags, NULL, NULL);
    return flags & ~(uint32_t)(MBEDTLS_X509_BADCERT_NOT_TRUSTED | MBEDTLS_X509_BADCRL_NOT_TRUSTED);
}

uint32_t pl_tls_failures(uint32_t f)
{
    static const struct {
        uint32_t flag, bit;
    } map[] = {
        {MBEDTLS_X509_BADCERT_CN_MISMATCH, PARLEY_TLS_HOSTNAME_MISMATCH},
        {MBEDTLS_X509_BADCERT_NOT_TRUSTED, PARLEY_TLS_UNTRUSTED},
        {MBEDTLS_X509_BADCERT_EXPIRED, PARLEY_TLS_EXPIRED},
        {MBEDTLS_X509_BADCERT_FUTURE, PARLEY_TLS_NOT_YET_VALID},
    };
    uint32_t out = 0;
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++) {
        if (f & map[i].flag) {
            out |= map[i].bit;
            f &= ~map[i].flag;
        }
    }
    return f ? out | PARLEY_TLS_OTHER : out;
}

typedef struct text {
    char *p;
    size_t size, len;
} text;

static void add(text *t, const char *fmt, ...) PL_LOG_PRINTF(2, 3);

static void add(text *t, const char *fmt, ...)
{
    if (t->len + 1 >= t->size)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(t->p + t->len, t->size - t->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        t->len = t->len + (size_t)n < t->size ? t->len + (size_t)n : t->size - 1;
}

static void add_time(text *t, const char *what, const mbedtls_x509_time *tm)
{
    add(t, "%s %04d-%02d-%02d %02d:%02d UTC", what, tm->year, tm->mon, tm->day, tm->hour, tm->min);
}

static void describe_names(text *t, uint32_t failures, const mbedtls_x509_crt *leaf,
                           const char *host)
{
    char dn[160];
    if (failures & PARLEY_TLS_HOSTNAME_MISMATCH) {
        add(t, "; the certificate is not for host '%s'", host);
        if (leaf && mbedtls_x509_dn_gets(dn, sizeof dn, &leaf->subject) > 0)
            add(t, " (it is for %s)", dn);
    }
    if (failures & PARLEY_TLS_UNTRUSTED) {
        add(t, "; it is not signed by a trusted CA");
        if (leaf && mbedtls_x509_dn_gets(dn, sizeof dn, &leaf->issuer) > 0)
            add(t, " (issuer %s)", dn);
    }
}

static void describe_times(text *t, uint32_t failures, const mbedtls_x509_crt *leaf)
{
    if (failures & PARLEY_TLS_EXPIRED) {
        if (leaf && mbedtls_x509_time_is_past(&leaf->valid_to))
            add_time(t, "; it expired on", &leaf->valid_to);
        else
            add(t, "; a certificate in its chain has expired");
    }
    if (failures & PARLEY_TLS_NOT_YET_VALID) {
        if (leaf && mbedtls_x509_time_is_future(&leaf->valid_from))
            add_time(t, "; it is not valid before", &leaf->valid_from);
        else
            add(t, "; a certificate in its chain is not valid yet");
    }
    if (failures & (PARLEY_TLS_EXPIRED | PARLEY_TLS_NOT_YET_VALID))
        add(t, " (is this device's clock right?)");
}

void pl_tls_describe(uint32_t failures, const mbedtls_x509_crt *leaf, const char *host,
                     const char *actual_pin, unsigned n_pins, char *out, size_t size)
{
    text t = {out, size, 0};
    if (!size)
        return;
    out[0] = '\0';
    add(&t, "TLS certificate refused");
    describe_names(&t, failures, leaf, host);
    describe_times(&t, failures, leaf);
    if (failures & PARLEY_TLS_PIN_MISMATCH)
        add(&t, "; its public key (pin sha256/%s) matches none of the %u configured pins",
            actual_pin ? actual_pin : "?", n_pins);
    if (failures & PARLEY_TLS_OTHER)
        add(&t, "; %s",
            leaf ? "it failed another check (weak key or hash, or usage)"
                 : "the server sent no usable certificate");
    /* "; " after the prefix reads better as ": ". */
    char *semi = strchr(out, ';');
    if (semi && semi[1] == ' ')
        semi[0] = ':';
}
