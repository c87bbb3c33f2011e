/* realpath() is X/Open. */
#define _XOPEN_SOURCE 700

#include "banner.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/oid.h>
#include <mbedtls/x509_crt.h>

#define HOST_BUF 256
#define URL_BUF (HOST_BUF + 32)

/* Where clients find trust anchors when no --ca is given (as libparley,
 * lib/tls_trust.c): a certificate these verify needs no --ca. */
static const char *const system_bundles[] = {
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/ca-bundle.pem",
    "/etc/ssl/cert.pem",
};

/* Listening there, a client on the same machine reaches the server as
 * localhost. */
static int is_local(const char *host)
{
    return strncmp(host, "127.", 4) == 0 || strcmp(host, "0.0.0.0") == 0;
}

/* A name that can go in a URL and a shell line as it is: no wildcard, no
 * IP address form problem, nothing to quote. */
static int plain_name(const unsigned char *p, size_t len)
{
    size_t i;

    if (len == 0 || len >= HOST_BUF)
        return 0;
    for (i = 0; i < len; i++) {
        if (!((p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z') ||
              (p[i] >= '0' && p[i] <= '9') || p[i] == '-' || p[i] == '.'))
            return 0;
    }
    return 1;
}

static void take_name(char out[HOST_BUF], const unsigned char *p, size_t len)
{
    memcpy(out, p, len);
    out[len] = '\0';
}

static int is_localhost(const mbedtls_x509_buf *name)
{
    return name->len == 9 && memcmp(name->p, "localhost", 9) == 0;
}

/* The DNS names of the subjectAltName extension: localhost when the server
 * is local and the certificate names it, else the first plain one. */
static int san_name(const mbedtls_x509_crt *crt, int local, char out[HOST_BUF])
{
    const mbedtls_x509_sequence *it;
    mbedtls_x509_subject_alternative_name san;
    const mbedtls_x509_buf *name;
    int found = 0;

    for (it = &crt->subject_alt_names; it; it = it->next) {
        if (mbedtls_x509_parse_subject_alt_name(&it->buf, &san) != 0 ||
            san.type != MBEDTLS_X509_SAN_DNS_NAME)
            continue;
        name = &san.san.unstructured_name;
        if (!plain_name(name->p, name->len))
            continue;
        if (!found || (local && is_localhost(name)))
            take_name(out, name->p, name->len);
        found = 1;
    }
    return found;
}

/* The subject's CN, which names the host only without subjectAltName. */
static int cn_name(const mbedtls_x509_crt *crt, char out[HOST_BUF])
{
    const mbedtls_x509_name *n;

    for (n = &crt->subject; n; n = n->next) {
        if (n->oid.p && MBEDTLS_OID_CMP(MBEDTLS_OID_AT_CN, &n->oid) == 0 &&
            plain_name(n->val.p, n->val.len)) {
            take_name(out, n->val.p, n->val.len);
            return 1;
        }
    }
    return 0;
}

/* The host a client must name: as mbedTLS checks it, the subjectAltName
 * DNS names when there are any, else the CN. 0 when the certificate names
 * none we can print. */
static int cert_host(const mbedtls_x509_crt *crt, int local, char out[HOST_BUF])
{
    if (crt->ext_types & MBEDTLS_X509_EXT_SUBJECT_ALT_NAME)
        return san_name(crt, local, out);
    return cn_name(crt, out);
}

/* 0 when `trust` (a PEM file) verifies the chain for `host`; else the
 * mbedTLS flags (-1 when the file does not parse). */
static long verify_with(mbedtls_x509_crt *chain, const char *trust, const char *host)
{
    mbedtls_x509_crt ca;
    uint32_t flags = 0;
    long rc = -1;

    mbedtls_x509_crt_init(&ca);
    if (mbedtls_x509_crt_parse_file(&ca, trust) >= 0 && ca.raw.p)
        rc = mbedtls_x509_crt_verify(chain, &ca, NULL, host, &flags, NULL, NULL) == 0 ? 0
                                                                                      : (long)flags;
    mbedtls_x509_crt_free(&ca);
    return rc;
}

static int system_trusts(mbedtls_x509_crt *chain, const char *host)
{
    size_t i;

    for (i = 0; i < sizeof system_bundles / sizeof system_bundles[0]; i++) {
        if (access(system_bundles[i], R_OK) == 0)
            return verify_with(chain, system_bundles[i], host) == 0;
    }
    return 0;
}

static void warn_ca(const char *ca, const char *cert, const char *host, long flags)
{
    char why[512] = "not a readable PEM certificate\n";

    if (flags > 0)
        mbedtls_x509_crt_verify_info(why, sizeof why, "", (uint32_t)flags);
    why[strcspn(why, "\n")] = '\0';
    fprintf(stderr, "parley-server: warning: --ca %s does not verify --cert %s for %s: %s\n", ca,
            cert, host, why);
}

/* ---- the command ---- */

/* `arg` as one shell word: as it is when it holds nothing the shell reads,
 * else in single quotes. */
static void put_word(FILE *out, const char *arg)
{
    const char *p;

    if (arg[0] && strspn(arg, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                              "0123456789_/.:=@%+,-") == strlen(arg)) {
        fputs(arg, out);
        return;
    }
    fputc('\'', out);
    for (p = arg; *p; p++) {
        if (*p == '\'')
            fputs("'\\''", out);
        else
            fputc(*p, out);
    }
    fputc('\'', out);
}

/* The path as the user gave it made absolute, so the command works from
 * any directory. */
static void put_path(FILE *out, const char *path)
{
    char abs[PATH_MAX];

    put_word(out, realpath(path, abs) ? abs : path);
}

/* parley-chat next to this program (a build tree, or an installed bin/),
 * else by name from PATH. */
static void put_chat(FILE *out)
{
    char self[PATH_MAX], *slash;
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - sizeof "parley-chat");

    if (n > 0) {
        self[n] = '\0';
        slash = strrchr(self, '/');
        if (slash) {
            strcpy(slash + 1, "parley-chat");
            if (access(self, X_OK) == 0) {
                put_word(out, self);
                return;
            }
        }
    }
    fputs("parley-chat", out);
}

typedef enum { CA_NONE, CA_FILE, CA_UNKNOWN } ca_kind;

/* Which --ca the command needs: the one given (checked), the certificate
 * file itself when it holds its own trust anchor (self-signed, or a chain
 * up to its root), none when the system's CAs trust it, else unknown. */
static ca_kind pick_ca(const banner_cfg *b, const char *host, const char **file)
{
    mbedtls_x509_crt chain;
    ca_kind kind = CA_UNKNOWN;
    long flags;

    *file = NULL;
    mbedtls_x509_crt_init(&chain);
    if (mbedtls_x509_crt_parse_file(&chain, b->cert) < 0 || !chain.raw.p) {
        kind = b->ca ? CA_FILE : CA_UNKNOWN;
        *file = b->ca;
    } else if (b->ca) {
        flags = verify_with(&chain, b->ca, host);
        if (flags)
            warn_ca(b->ca, b->cert, host, flags);
        kind = CA_FILE;
        *file = b->ca;
    } else if (verify_with(&chain, b->cert, host) == 0) {
        kind = CA_FILE;
        *file = b->cert;
    } else if (system_trusts(&chain, host))
        kind = CA_NONE;
    mbedtls_x509_crt_free(&chain);
    return kind;
}

/* The host of a wss:// URL: one the certificate names, else localhost for
 * a local server, else the address. */
static void tls_host(const banner_cfg *b, char out[HOST_BUF])
{
    mbedtls_x509_crt crt;
    int local = is_local(b->host);

    mbedtls_x509_crt_init(&crt);
    if (mbedtls_x509_crt_parse_file(&crt, b->cert) < 0 || !crt.raw.p ||
        !cert_host(&crt, local, out))
        snprintf(out, HOST_BUF, "%s", local ? "localhost" : b->host);
    mbedtls_x509_crt_free(&crt);
}

static void print_tls(FILE *out, const banner_cfg *b)
{
    char host[HOST_BUF], url[URL_BUF];
    const char *ca;
    ca_kind kind;

    tls_host(b, host);
    snprintf(url, sizeof url, "wss://%s:%d/", host, b->port);
    kind = pick_ca(b, host, &ca);
    fprintf(out, "parley-server: listening on %s\n", url);
    fputs("parley-server: try it: ", out);
    put_chat(out);
    fprintf(out, " --url %s", url);
    if (kind == CA_FILE) {
        fputs(" --ca ", out);
        put_path(out, ca);
    } else if (kind == CA_UNKNOWN) {
        fputs(" --ca <CA that signed ", out);
        put_path(out, b->cert);
        fputc('>', out);
    }
    fputc('\n', out);
    if (kind == CA_UNKNOWN)
        fputs("parley-server: (--ca: the PEM certificate of that CA; given to parley-server as "
              "--ca FILE, it is printed here)\n",
              out);
}

/* Plain ws:// has no certificate to satisfy: the address itself works. */
static void print_plain(FILE *out, const banner_cfg *b)
{
    char url[URL_BUF];

    snprintf(url, sizeof url, "ws://%s:%d/",
             strcmp(b->host, "0.0.0.0") == 0 ? "127.0.0.1" : b->host, b->port);
    fprintf(out, "parley-server: listening on %s\n", url);
    fputs("parley-server: try it: ", out);
    put_chat(out);
    fprintf(out, " --url %s --insecure\n", url);
}

void banner_print(FILE *out, const banner_cfg *b)
{
    if (b->cert)
        print_tls(out, b);
    else
        print_plain(out, b);
    fflush(out);
}
