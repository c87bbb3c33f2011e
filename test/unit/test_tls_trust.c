/* TLS trust without a network: finding the system's CA bundle (through a
 * search list the test chooses), SSL_CERT_FILE, directories of single
 * certificates, pins (parsing, and a pin computed by the openssl command
 * line for a fixed certificate), and the reasons given for refusals. */
#include <mbedtls/x509.h>

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parley.h"
#include "testcert.h"
#include "testlib.h"
#include "transport/tls_trust.h"
#include "transport/transport.h"
#include "platform/ca.h"

/* POSIX and Windows spell these differently. */
static int make_dir(const char *path)
{
#if defined(_WIN32)
    return mkdir(path);
#else
    return mkdir(path, 0700);
#endif
}

static void set_env(const char *name, const char *value)
{
#if defined(_WIN32)
    _putenv_s(name, value ? value : ""); /* "" removes it */
#else
    if (value)
        setenv(name, value, 1);
    else
        unsetenv(name);
#endif
}

static tc_files certs;
static char dir[128];

/* Log lines at ERROR level, for checking what a failure says. */
static char logged[4096];

static void capture(void *user, int level, const char *msg)
{
    (void)user;
    size_t n = strlen(logged);
    if (level == PARLEY_LOG_ERROR && n + 1 < sizeof logged)
        snprintf(logged + n, sizeof logged - n, "%s\n", msg);
}

static const pl_log log_sink = {capture, NULL, PARLEY_LOG_DEBUG};

static void path_in(char *out, size_t size, const char *name)
{
    snprintf(out, size, "%s/%s", dir, name);
}

static void copy_file(const char *from, const char *to, const char *preamble)
{
    size_t len = 0;
    char *data = tc_read(from, &len);
    FILE *f = fopen(to, "wb");
    CHECK(data && f);
    if (f && data) {
        fputs(preamble, f);
        fwrite(data, 1, len, f);
    }
    if (f)
        fclose(f);
    free(data);
}

static int count_certs(const char *pem)
{
    int n = 0;
    for (const char *p = pem; p && (p = strstr(p, "-----BEGIN CERTIFICATE-----")); p++)
        n++;
    return n;
}

/* ---- finding the bundle ---------------------------------------------------- */

static void test_find_in_search_list(void)
{
    char missing1[200], missing2[200], bundle[200], certdir[200];
    path_in(missing1, sizeof missing1, "no/such/ca-certificates.crt");
    path_in(missing2, sizeof missing2, "neither.pem");
    path_in(bundle, sizeof bundle, "bundle.pem");
    path_in(certdir, sizeof certdir, "cacerts");
    copy_file(certs.ca, bundle, "");

    const char *found = NULL;
    char tried[512];
    const char *list[] = {missing1, missing2, bundle, certdir, NULL};
    CHECK_INT(pl_tls_find_ca(list, &found, tried, sizeof tried), PARLEY_OK);
    CHECK_STR(found, bundle);

    /* A directory counts (Android's one-file-per-certificate store). */
    CHECK_INT(make_dir(certdir), 0);
    const char *dir_first[] = {missing1, certdir, bundle, NULL};
    CHECK_INT(pl_tls_find_ca(dir_first, &found, tried, sizeof tried), PARLEY_OK);
    CHECK_STR(found, certdir);

    /* None: an error naming every path tried, in order. */
    const char *none[] = {missing1, missing2, NULL};
    CHECK_INT(pl_tls_find_ca(none, &found, tried, sizeof tried), PARLEY_ERR_TLS);
    CHECK(found == NULL);
    char want[512];
    snprintf(want, sizeof want, "%s, %s", missing1, missing2);
    CHECK_STR(tried, want);
    const char *empty[] = {NULL};
    CHECK_INT(pl_tls_find_ca(empty, &found, tried, sizeof tried), PARLEY_ERR_TLS);
    CHECK_STR(tried, "");
    /* A short buffer truncates the list, never overflows. */
    char small[8];
    CHECK_INT(pl_tls_find_ca(none, &found, small, sizeof small), PARLEY_ERR_TLS);
    CHECK(strlen(small) < sizeof small);
}

static void test_default_list(void)
{
    static const char *const want[] = {
        "/etc/ssl/certs/ca-certificates.crt",
        "/etc/pki/tls/certs/ca-bundle.crt",
        "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
        "/etc/ssl/ca-bundle.pem",
        "/etc/ssl/cert.pem",
        "/system/etc/security/cacerts",
    };
    size_t n = 0;
    while (pl_ca_bundle_paths[n])
        n++;
#if defined(_WIN32)
    /* Windows keeps its anchors in its ROOT store, not in files. */
    (void)want;
    CHECK_INT(n, 0);
#else
    CHECK_INT(n, sizeof want / sizeof want[0]);
    for (size_t i = 0; i < n && i < sizeof want / sizeof want[0]; i++)
        CHECK_STR(pl_ca_bundle_paths[i], want[i]);
#endif
}

static void test_load_searched(void)
{
    char missing[200], bundle[200], certdir[200], f1[260], f2[260];
    path_in(missing, sizeof missing, "missing.crt");
    path_in(bundle, sizeof bundle, "bundle.pem");
    path_in(certdir, sizeof certdir, "android");
    CHECK_INT(make_dir(certdir), 0);
    /* Android's files carry a text dump before the PEM. */
    snprintf(f1, sizeof f1, "%s/5ad8a5d6.0", certdir);
    snprintf(f2, sizeof f2, "%s/1df5a75f.0", certdir);
    copy_file(certs.ca, bundle, "");
    copy_file(certs.ca, f1, "Certificate:\n    Data:\n        Version: 3 (0x2)\n");
    copy_file(certs.other_ca, f2, "");

    char *pem = NULL;
    size_t len = 0;
    const char *path = NULL;
    const char *list[] = {missing, bundle, NULL};
    pl_tls_ca_config c = {.needed = 1, .search = list};
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_OK);
    CHECK_STR(path, bundle);
    CHECK_INT(count_certs(pem), 1);
    free(pem);

    const char *dirs[] = {missing, certdir, bundle, NULL};
    c.search = dirs;
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_OK);
    CHECK(path == NULL); /* not a file lws could open itself */
    CHECK_INT(count_certs(pem), 2);
    CHECK_INT(strlen(pem), len);
    free(pem);

    /* Nothing found: PARLEY_ERR_TLS, and the log names every place tried. */
    const char *none[] = {missing, "/nonexistent/pki/ca-bundle.crt", NULL};
    c.search = none;
    logged[0] = '\0';
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_ERR_TLS);
    CHECK(pem == NULL);
    CHECK(strstr(logged, "no CA bundle found") != NULL);
    CHECK(strstr(logged, missing) != NULL);
    CHECK(strstr(logged, "/nonexistent/pki/ca-bundle.crt") != NULL);
    CHECK(strstr(logged, "SSL_CERT_FILE is not set") != NULL);
    CHECK(strstr(logged, "parley_config_set_ca_file") != NULL);

    /* A directory without certificates is no bundle. */
    char emptydir[200];
    path_in(emptydir, sizeof emptydir, "empty-dir");
    CHECK_INT(make_dir(emptydir), 0);
    const char *empty[] = {emptydir, NULL};
    c.search = empty;
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_ERR_TLS);

    /* Not needed (ws:// without a CA): nothing is searched or loaded. */
    c.needed = 0;
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_OK);
    CHECK(pem == NULL);
}

static void test_ssl_cert_file(void)
{
    char bundle[200], missing[200];
    path_in(bundle, sizeof bundle, "env-bundle.pem");
    path_in(missing, sizeof missing, "env-missing.pem");
    copy_file(certs.other_ca, bundle, "");

    set_env("SSL_CERT_FILE", NULL);
    CHECK(pl_tls_env_ca_file() == NULL);
    set_env("SSL_CERT_FILE", "");
    CHECK(pl_tls_env_ca_file() == NULL);
    set_env("SSL_CERT_FILE", bundle);
    CHECK_STR(pl_tls_env_ca_file(), bundle);
    set_env("SSL_CERT_FILE", NULL);

    /* It wins over the search list... */
    char *pem = NULL;
    size_t len = 0;
    const char *path = NULL;
    const char *list[] = {certs.ca, NULL};
    pl_tls_ca_config c = {.needed = 1, .search = list, .env_file = bundle};
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_OK);
    CHECK_STR(path, bundle);
    free(pem);
    /* ...and when it cannot be read nothing else is trusted instead. */
    c.env_file = missing;
    logged[0] = '\0';
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_ERR_TLS);
    CHECK(strstr(logged, missing) != NULL);
    /* The host's own CA wins over it. */
    c.file = certs.ca;
    CHECK_INT(pl_tls_load_ca(pl_alloc_libc(), &log_sink, &c, &pem, &len, &path), PARLEY_OK);
    CHECK_STR(path, certs.ca);
    free(pem);
}

/* The transport uses the search list it is given (and reads SSL_CERT_FILE). */
static void nop(void *u)
{
    (void)u;
}
static void nop_frame(void *u, const char *d, size_t n)
{
    (void)u;
    (void)d;
    (void)n;
}
static void nop_err(void *u, int e, const char *w)
{
    (void)u;
    (void)e;
    (void)w;
}
static int nop_peek(void *u, const char **d, size_t *n)
{
    (void)u;
    (void)d;
    (void)n;
    return 0;
}
static int nop_written(void *u)
{
    (void)u;
    return 0;
}
static const pl_transport_cbs cbs = {nop, nop_frame, nop_err, nop_err, nop_peek, nop_written, nop};

static void test_transport_search(void)
{
    char bundle[200];
    path_in(bundle, sizeof bundle, "bundle.pem");
    copy_file(certs.ca, bundle, "");
    const char *none[] = {"/nonexistent/a.crt", "/nonexistent/b.pem", NULL};
    const char *found[] = {"/nonexistent/a.crt", bundle, NULL};
    pl_transport_config cfg = {.url = "wss://localhost/", .ca_search = none};
    pl_log pl = {capture, NULL, PARLEY_LOG_DEBUG};
    pl_transport *t = NULL;
    set_env("SSL_CERT_FILE", NULL);
    logged[0] = '\0';
    CHECK_INT(pl_transport_new(pl_alloc_libc(), &cfg, &cbs, NULL, &pl, &t), PARLEY_ERR_TLS);
    CHECK(t == NULL);
    CHECK(strstr(logged, "/nonexistent/a.crt, /nonexistent/b.pem") != NULL);
    cfg.ca_search = found;
    CHECK_INT(pl_transport_new(pl_alloc_libc(), &cfg, &cbs, NULL, &pl, &t), PARLEY_OK);
    pl_transport_free(t);
    /* SSL_CERT_FILE set: used, even though the list finds nothing. */
    set_env("SSL_CERT_FILE", bundle);
    cfg.ca_search = none;
    CHECK_INT(pl_transport_new(pl_alloc_libc(), &cfg, &cbs, NULL, &pl, &t), PARLEY_OK);
    pl_transport_free(t);
    set_env("SSL_CERT_FILE", NULL);
}

/* ---- pins -------------------------------------------------------------------- */

/* A certificate made with `openssl req -x509 -newkey ec -pkeyopt
 * ec_paramgen_curve:P-256`, and its pin from the command documented in
 * parley.h (openssl x509 -pubkey | openssl pkey -pubin -outform der |
 * openssl dgst -sha256 -binary | openssl base64). */
static const char kat_cert[] = "-----BEGIN CERTIFICATE-----\n"
                               "MIIBhDCCASmgAwIBAgIUBmrc39OOF/Wbjx/fVWy2H0294eQwCgYIKoZIzj0EAwIw\n"
                               "FjEUMBIGA1UEAwwLcGluLmV4YW1wbGUwIBcNMjYxMjA0MTQxNzEwWhgPMjEyNjEx\n"
                               "MTAxNDE3MTBaMBYxFDASBgNVBAMMC3Bpbi5leGFtcGxlMFkwEwYHKoZIzj0CAQYI\n"
                               "KoZIzj0DAQcDQgAEwztkz2X7LsgwevXsjlpL6Et2aCzlEj5PpU8dwPxCEPGCvmTK\n"
                               "B8Lrl1ZqlmqTDlYEV+y1niNezbBLwT+Wsz+IQaNTMFEwHQYDVR0OBBYEFEvJmS+n\n"
                               "OlQSKTdYMGWEaiTLx6nkMB8GA1UdIwQYMBaAFEvJmS+nOlQSKTdYMGWEaiTLx6nk\n"
                               "MA8GA1UdEwEB/wQFMAMBAf8wCgYIKoZIzj0EAwIDSQAwRgIhAL+KqQSU9pN55Vr9\n"
                               "Uq4/LndtoJ5/N2H+36ECMzwH3Xl2AiEAxir8EvYyzyDvOf89vFdqHXzWY2VIgX0N\n"
                               "FH5wr6Pa4gw=\n"
                               "-----END CERTIFICATE-----\n";
static const char kat_pin[] = "kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36FizqC6hc=";

static void test_pin_of_cert(void)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    CHECK_INT(mbedtls_x509_crt_parse(&crt, (const unsigned char *)kat_cert, sizeof kat_cert), 0);
    unsigned char pin[PL_TLS_PIN_SIZE], want[PL_TLS_PIN_SIZE];
    char text[PL_TLS_PIN_TEXT];
    CHECK_INT(pl_tls_pin_of_cert(&crt, pin), PARLEY_OK);
    pl_tls_pin_format(pin, text);
    CHECK_STR(text, kat_pin);
    CHECK_INT(pl_tls_pin_parse(kat_pin, want), PARLEY_OK);
    CHECK(memcmp(pin, want, sizeof pin) == 0);
    mbedtls_x509_crt_free(&crt);
    CHECK_INT(pl_tls_pin_of_cert(NULL, pin), PARLEY_ERR_TLS);

    /* The run-time test certificate: its pin equals the one derived from
     * its private key. */
    mbedtls_x509_crt_init(&crt);
    CHECK_INT(mbedtls_x509_crt_parse_file(&crt, certs.cert), 0);
    char from_key[45];
    CHECK_INT(tc_pin_of_key(certs.key, from_key), 0);
    CHECK_INT(pl_tls_pin_of_cert(&crt, pin), PARLEY_OK);
    pl_tls_pin_format(pin, text);
    CHECK_STR(text, from_key);
    mbedtls_x509_crt_free(&crt);
}

static void test_pin_parse(void)
{
    unsigned char pin[PL_TLS_PIN_SIZE];
    char prefixed[64];
    snprintf(prefixed, sizeof prefixed, "sha256/%s", kat_pin);
    CHECK_INT(pl_tls_pin_parse(kat_pin, pin), PARLEY_OK);
    CHECK_INT(pl_tls_pin_parse(prefixed, pin), PARLEY_OK);
    static const char *const bad[] = {
        "",
        "sha256/",
        "kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36FizqC6hc",   /* 43: no padding */
        "kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36FizqC6hc==", /* 45 */
        "kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36FizqC6h*=",  /* not base64 */
        "kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36Fiz C6hc=",  /* a space */
        "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA==", /* 45, 33 bytes */
        "sha1/kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36FizqC6hc=",
        "kNVn4mx4CVwfBIaih0PNc2zgAHTUFWl7G36FizqC6hc=\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        if (pl_tls_pin_parse(bad[i], pin) != PARLEY_ERR_INVALID_ARG)
            fprintf(stderr, "accepted bad pin %zu: '%s'\n", i, bad[i]);
        CHECK_INT(pl_tls_pin_parse(bad[i], pin), PARLEY_ERR_INVALID_ARG);
    }
    CHECK_INT(pl_tls_pin_parse(NULL, pin), PARLEY_ERR_INVALID_ARG);
}

static void test_config_pins(void)
{
    parley_config *cfg = parley_config_new();
    CHECK_INT(parley_config_set_url(cfg, "wss://localhost:1/"), PARLEY_OK);
    CHECK_INT(parley_config_set_app_id(cfg, "pins"), PARLEY_OK);
    CHECK_INT(parley_config_set_ca_file(cfg, certs.ca), PARLEY_OK);
    CHECK_INT(parley_config_add_pin(cfg, "not a pin"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_add_pin(cfg, NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_add_pin(NULL, kat_pin), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_config_clear_pins(NULL), PARLEY_ERR_INVALID_ARG);

    /* One pin (even given twice) is refused when the client is made. */
    parley_client *pc = NULL;
    CHECK_INT(parley_config_add_pin(cfg, kat_pin), PARLEY_OK);
    CHECK_INT(parley_config_add_pin(cfg, kat_pin), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_ERR_CONFIG);
    CHECK(pc == NULL);

    char backup[45];
    CHECK_INT(tc_pin_of_key(certs.rotated_key, backup), 0);
    CHECK_INT(parley_config_add_pin(cfg, backup), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_client_free(pc);

    /* Eight at most. */
    for (int i = 2; i < 8; i++) {
        char pin[64];
        unsigned char raw[PL_TLS_PIN_SIZE];
        memset(raw, i, sizeof raw);
        pl_tls_pin_format(raw, pin);
        CHECK_INT(parley_config_add_pin(cfg, pin), PARLEY_OK);
    }
    CHECK_INT(parley_config_add_pin(cfg, "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="),
              PARLEY_ERR_FULL);
    CHECK_INT(parley_config_add_pin(cfg, kat_pin), PARLEY_OK); /* already there */
    CHECK_INT(parley_config_clear_pins(cfg), PARLEY_OK);
    CHECK_INT(parley_client_new(cfg, &pc), PARLEY_OK);
    parley_client_free(pc);
    parley_config_free(cfg);
}

/* ---- reasons ----------------------------------------------------------------- */

static void test_failure_bits(void)
{
    CHECK_INT(pl_tls_failures(0), 0);
    CHECK_INT(pl_tls_failures(MBEDTLS_X509_BADCERT_CN_MISMATCH), PARLEY_TLS_HOSTNAME_MISMATCH);
    CHECK_INT(pl_tls_failures(MBEDTLS_X509_BADCERT_NOT_TRUSTED), PARLEY_TLS_UNTRUSTED);
    CHECK_INT(pl_tls_failures(MBEDTLS_X509_BADCERT_EXPIRED), PARLEY_TLS_EXPIRED);
    CHECK_INT(pl_tls_failures(MBEDTLS_X509_BADCERT_FUTURE), PARLEY_TLS_NOT_YET_VALID);
    CHECK_INT(pl_tls_failures(MBEDTLS_X509_BADCERT_BAD_KEY), PARLEY_TLS_OTHER);
    CHECK_INT(pl_tls_failures(MBEDTLS_X509_BADCERT_CN_MISMATCH | MBEDTLS_X509_BADCERT_NOT_TRUSTED |
                              MBEDTLS_X509_BADCERT_BAD_MD),
              PARLEY_TLS_HOSTNAME_MISMATCH | PARLEY_TLS_UNTRUSTED | PARLEY_TLS_OTHER);
}

static uint32_t check_file(const char *path, const char *host)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    CHECK_INT(mbedtls_x509_crt_parse_file(&crt, path), 0);
    uint32_t f = pl_tls_failures(pl_tls_check_chain(&crt, host));
    mbedtls_x509_crt_free(&crt);
    return f;
}

/* The chain alone decides everything but trust. */
static void test_check_chain(void)
{
    CHECK_INT(check_file(certs.cert, "localhost"), 0);
    CHECK_INT(check_file(certs.cert, "LOCALHOST"), 0);
    CHECK_INT(check_file(certs.cert, "127.0.0.1"), PARLEY_TLS_HOSTNAME_MISMATCH);
    CHECK_INT(check_file(certs.wrong_name, "localhost"), PARLEY_TLS_HOSTNAME_MISMATCH);
    CHECK_INT(check_file(certs.expired, "localhost"), PARLEY_TLS_EXPIRED);
    CHECK_INT(check_file(certs.future, "localhost"), PARLEY_TLS_NOT_YET_VALID);
    CHECK_INT(check_file(certs.expired, "other.example"),
              PARLEY_TLS_EXPIRED | PARLEY_TLS_HOSTNAME_MISMATCH);
    CHECK_INT(pl_tls_check_chain(NULL, "localhost") != 0, 1);
}

static void describe_file(const char *path, uint32_t failures, const char *pin, char *out,
                          size_t size)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    CHECK_INT(mbedtls_x509_crt_parse_file(&crt, path), 0);
    pl_tls_describe(failures, &crt, "localhost", pin, 2, out, size);
    mbedtls_x509_crt_free(&crt);
}

static void test_describe(void)
{
    char why[600];
    describe_file(certs.wrong_name, PARLEY_TLS_HOSTNAME_MISMATCH | PARLEY_TLS_UNTRUSTED, NULL, why,
                  sizeof why);
    CHECK_STR(why,
              "TLS certificate refused: the certificate is not for host 'localhost' (it is for "
              "CN=other.example); it is not signed by a trusted CA (issuer CN=Parley Test CA)");
    describe_file(certs.expired, PARLEY_TLS_EXPIRED, NULL, why, sizeof why);
    CHECK_STR(why, "TLS certificate refused: it expired on 2021-01-01 00:00 UTC (is this device's "
                   "clock right?)");
    describe_file(certs.future, PARLEY_TLS_NOT_YET_VALID, NULL, why, sizeof why);
    CHECK_STR(
        why,
        "TLS certificate refused: it is not valid before 2045-01-01 00:00 UTC (is this device's "
        "clock right?)");
    describe_file(certs.cert, PARLEY_TLS_PIN_MISMATCH, kat_pin, why, sizeof why);
    CHECK(strstr(why, "matches none of the 2 configured pins") != NULL);
    CHECK(strstr(why, kat_pin) != NULL);
    pl_tls_describe(PARLEY_TLS_OTHER, NULL, "localhost", NULL, 0, why, sizeof why);
    CHECK_STR(why, "TLS certificate refused: the server sent no usable certificate");
    /* Truncated, never overflowing. */
    char small[20];
    describe_file(certs.wrong_name, PARLEY_TLS_HOSTNAME_MISMATCH | PARLEY_TLS_UNTRUSTED, NULL,
                  small, sizeof small);
    CHECK_INT(strlen(small), sizeof small - 1);
}

int main(void)
{
    if (tc_make(&certs) != 0 || tl_mkdtemp(dir, sizeof dir, "tls-trust") != 0)
        tl_skip_all("could not create test certificates");
    RUN(test_find_in_search_list);
    RUN(test_default_list);
    RUN(test_load_searched);
    RUN(test_ssl_cert_file);
    RUN(test_transport_search);
    RUN(test_pin_of_cert);
    RUN(test_pin_parse);
    RUN(test_config_pins);
    RUN(test_failure_bits);
    RUN(test_check_chain);
    RUN(test_describe);
    tl_rmrf(dir);
    tc_remove(&certs);
    return tl_finish();
}
