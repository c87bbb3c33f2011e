/* TLS trust decisions that need mbedTLS but not libwebsockets: the trust
 * anchors (given, or the system's bundle found by searching), public-key
 * pins, and the reason a server certificate was refused. Used by the
 * transport (lib/transport_lws.c), which alone talks to libwebsockets. */
#ifndef PARLEY_TLS_TRUST_H
#define PARLEY_TLS_TRUST_H

#include <stddef.h>
#include <stdint.h>

#include <mbedtls/x509_crt.h>

#include "util/alloc.h"
#include "util/log.h"

#define PL_TLS_PIN_SIZE 32 /* SHA-256 */
#define PL_TLS_PIN_TEXT 45 /* its base64 (44) and a NUL */
#define PL_TLS_MAX_PINS 8

/* The trust anchors of a client. `file` or `pem` (the host's own) win;
 * otherwise, when `needed`, `env_file` (SSL_CERT_FILE) if set, else (with
 * `search` NULL) the OS's own store where it has one (Windows), else the
 * first entry of `search` (NULL: the OS's bundles, pl_ca_bundle_paths in
 * platform/ca.h) that exists. */
typedef struct pl_tls_ca_config {
    const char *file;
    const char *pem;
    size_t pem_len;
    int needed; /* wss:// needs anchors even when none was configured */
    const char *env_file;
    const char *const *search;
} pl_tls_ca_config;

/* SSL_CERT_FILE, or NULL when unset, empty, or the process runs with
 * privileges it did not get from its caller (setuid, setgid, file
 * capabilities): then its environment is not to be trusted. */
const char *pl_tls_env_ca_file(void);

/* The first entry of `search` that exists (a file, or a directory of
 * certificates). PARLEY_OK and *found, or PARLEY_ERR_TLS with `tried` (may
 * be NULL) listing every path, comma-separated and truncated to its size. */
int pl_tls_find_ca(const char *const *search, const char **found, char *tried, size_t tried_size);

/* Loads the anchors `c` names and hands back PEM text of the certificates
 * that parsed (lws on mbedTLS rejects a whole bundle for one bad entry),
 * and in *path the file it came from (NULL for PEM in memory, a directory,
 * or none needed: then *pem is NULL). Errors: TLS (nothing usable, logged
 * with what was tried), NOMEM. */
int pl_tls_load_ca(const pl_alloc *a, const pl_log *log, const pl_tls_ca_config *c, char **pem,
                   size_t *pem_len, const char **path);

/* A pin as configured: base64 of the 32-byte SHA-256 of a SubjectPublicKeyInfo
 * (44 characters with its '='), optionally prefixed "sha256/".
 * PARLEY_OK or PARLEY_ERR_INVALID_ARG. */
int pl_tls_pin_parse(const char *text, unsigned char out[PL_TLS_PIN_SIZE]);
void pl_tls_pin_format(const unsigned char pin[PL_TLS_PIN_SIZE], char out[PL_TLS_PIN_TEXT]);
/* The pin of a certificate's public key: SHA-256 over its DER
 * SubjectPublicKeyInfo exactly as the certificate carries it. */
int pl_tls_pin_of_cert(const mbedtls_x509_crt *crt, unsigned char out[PL_TLS_PIN_SIZE]);

/* mbedTLS' verification of a chain the server sent, against no trust
 * anchor: the hostname, validity period, key and hash checks exactly as in
 * the handshake (default profile). Whether the chain reaches a trusted CA
 * is not decided here, so MBEDTLS_X509_BADCERT_NOT_TRUSTED is left out. */
uint32_t pl_tls_check_chain(mbedtls_x509_crt *chain, const char *host);

/* mbedTLS verification flags as PARLEY_TLS_* bits (parley.h). */
uint32_t pl_tls_failures(uint32_t mbedtls_flags);

/* "TLS certificate refused: ..." naming each problem in `failures`, with
 * what the leaf certificate says (its subject, issuer, validity) when it
 * is known. `actual_pin` (may be NULL) is the server key's pin for a pin
 * mismatch, `n_pins` how many were configured. */
void pl_tls_describe(uint32_t failures, const mbedtls_x509_crt *leaf, const char *host,
                     const char *actual_pin, unsigned n_pins, char *out, size_t size);

#endif
