#include "testcert.h"

#include <mbedtls/base64.h>
#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/sha256.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#if defined(_WIN32)
#include "testlib.h" /* tl_mkdtemp */
#endif

typedef struct tc_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} tc_rng;

static int gen_key(mbedtls_pk_context *pk, tc_rng *r)
{
    mbedtls_pk_init(pk);
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
        return -1;
    return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk),
                               mbedtls_ctr_drbg_random, &r->drbg);
}

static int write_file(const char *path, const unsigned char *data)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t n = strlen((const char *)data);
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* mbedTLS 2.28 has no setter for subjectAltName: the extension's DER is
 * SEQUENCE { [2] dNSName name }. */
static int add_san(mbedtls_x509write_cert *crt, const char *name)
{
    unsigned char san[64];
    size_t n = strlen(name);
    if (n + 4 > sizeof san)
        return -1;
    san[0] = 0x30;
    san[1] = (unsigned char)(n + 2);
    san[2] = 0x82;
    san[3] = (unsigned char)n;
    memcpy(san + 4, name, n);
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0,
                                               san, n + 4);
}

typedef struct spec {
    const char *subject, *issuer;
    mbedtls_pk_context *subject_key, *issuer_key;
    const char *dns; /* NULL: a CA */
    const char *from, *to;
    int serial;
} spec;

static int set_fields(mbedtls_x509write_cert *crt, mbedtls_mpi *serial, const spec *sp)
{
    int is_ca = sp->dns == NULL;
    mbedtls_x509write_crt_set_version(crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(crt, sp->subject_key);
    mbedtls_x509write_crt_set_issuer_key(crt, sp->issuer_key);
    if (mbedtls_mpi_lset(serial, sp->serial) != 0 ||
        mbedtls_x509write_crt_set_serial(crt, serial) != 0 ||
        mbedtls_x509write_crt_set_validity(crt, sp->from, sp->to) != 0 ||
        mbedtls_x509write_crt_set_subject_name(crt, sp->subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(crt, sp->issuer) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(crt, is_ca, is_ca ? 0 : -1) != 0 ||
        mbedtls_x509write_crt_set_key_usage(crt, is_ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN
                                                       : MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0)
        return -1;
    return is_ca ? 0 : add_san(crt, sp->dns);
}

static int write_cert(const char *path, const spec *sp, tc_rng *r)
{
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char pem[4096];
    int rc = -1;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    if (set_fields(&crt, &serial, sp) == 0 &&
        mbedtls_x509write_crt_pem(&crt, pem, sizeof pem, mbedtls_ctr_drbg_random, &r->drbg) == 0)
        rc = write_file(path, pem);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    return rc;
}

#define NOW_FROM "20200101000000"
#define NOW_TO "20491231235959"

static int write_key(const char *path, mbedtls_pk_context *pk)
{
    unsigned char pem[2048];
    if (mbedtls_pk_write_key_pem(pk, pem, sizeof pem) != 0)
        return -1;
    return write_file(path, pem);
}

typedef struct keys {
    mbedtls_pk_context ca, other, leaf, rotated;
} keys;

static int make_leaves(tc_files *f, keys *k, tc_rng *r)
{
    const char *ca = "CN=Parley Test CA";
    spec leaves[] = {
        {"CN=localhost", ca, &k->leaf, &k->ca, "localhost", NOW_FROM, NOW_TO, 3},
        {"CN=other.example", ca, &k->leaf, &k->ca, "other.example", NOW_FROM, NOW_TO, 4},
        {"CN=localhost", ca, &k->leaf, &k->ca, "localhost", "20200101000000", "20210101000000", 5},
        {"CN=localhost", ca, &k->leaf, &k->ca, "localhost", "20450101000000", NOW_TO, 6},
        {"CN=localhost", ca, &k->rotated, &k->ca, "localhost", NOW_FROM, NOW_TO, 7},
    };
    const char *paths[] = {f->cert, f->wrong_name, f->expired, f->future, f->rotated};
    for (size_t i = 0; i < sizeof leaves / sizeof leaves[0]; i++)
        if (write_cert(paths[i], &leaves[i], r) != 0)
            return -1;
    return write_key(f->key, &k->leaf) == 0 && write_key(f->rotated_key, &k->rotated) == 0 ? 0 : -1;
}

static int make_all(tc_files *f, tc_rng *r)
{
    keys k;
    mbedtls_pk_context *all[] = {&k.ca, &k.other, &k.leaf, &k.rotated};
    int rc = 0;
    for (size_t i = 0; i < 4; i++)
        mbedtls_pk_init(all[i]);
    for (size_t i = 0; i < 4 && rc == 0; i++)
        rc = gen_key(all[i], r);
    spec ca = {"CN=Parley Test CA", "CN=Parley Test CA", &k.ca, &k.ca, NULL, NOW_FROM, NOW_TO, 1};
    spec other = {
        "CN=Unrelated CA", "CN=Unrelated CA", &k.other, &k.other, NULL, NOW_FROM, NOW_TO, 2};
    if (rc == 0)
        rc = write_cert(f->ca, &ca, r) == 0 && write_cert(f->other_ca, &other, r) == 0
                 ? make_leaves(f, &k, r)
                 : -1;
    for (size_t i = 0; i < 4; i++)
        mbedtls_pk_free(all[i]);
    return rc;
}

int tc_make(tc_files *out)
{
    memset(out, 0, sizeof *out);
#if defined(_WIN32)
    if (tl_mkdtemp(out->dir, sizeof out->dir, "tc") != 0)
        return -1;
#else
    const char *tmp = getenv("TMPDIR");
    snprintf(out->dir, sizeof out->dir, "%s/parley-tc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(out->dir))
        return -1;
#endif
    snprintf(out->ca, sizeof out->ca, "%s/ca.pem", out->dir);
    snprintf(out->other_ca, sizeof out->other_ca, "%s/other-ca.pem", out->dir);
    snprintf(out->cert, sizeof out->cert, "%s/localhost.pem", out->dir);
    snprintf(out->key, sizeof out->key, "%s/localhost.key", out->dir);
    snprintf(out->wrong_name, sizeof out->wrong_name, "%s/wrong-name.pem", out->dir);
    snprintf(out->expired, sizeof out->expired, "%s/expired.pem", out->dir);
    snprintf(out->future, sizeof out->future, "%s/future.pem", out->dir);
    snprintf(out->rotated, sizeof out->rotated, "%s/rotated.pem", out->dir);
    snprintf(out->rotated_key, sizeof out->rotated_key, "%s/rotated.key", out->dir);
    tc_rng r;
    mbedtls_entropy_init(&r.entropy);
    mbedtls_ctr_drbg_init(&r.drbg);
    int rc = mbedtls_ctr_drbg_seed(&r.drbg, mbedtls_entropy_func, &r.entropy,
                                   (const unsigned char *)"parley-testcert", 15);
    if (rc == 0)
        rc = make_all(out, &r);
    mbedtls_ctr_drbg_free(&r.drbg);
    mbedtls_entropy_free(&r.entropy);
    if (rc != 0)
        tc_remove(out);
    return rc;
}

void tc_remove(const tc_files *f)
{
    unlink(f->ca);
    unlink(f->other_ca);
    unlink(f->cert);
    unlink(f->key);
    unlink(f->wrong_name);
    unlink(f->expired);
    unlink(f->future);
    unlink(f->rotated);
    unlink(f->rotated_key);
    rmdir(f->dir);
}

char *tc_read(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    char *buf = malloc(65536);
    size_t n = buf ? fread(buf, 1, 65535, f) : 0;
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    *len = n;
    return buf;
}

/* mbedtls_pk_write_pubkey_der writes at the end of the buffer. */
int tc_pin_of_key(const char *key_path, char *out)
{
    mbedtls_pk_context pk;
    unsigned char der[1024], sha[32];
    size_t olen = 0;
    mbedtls_pk_init(&pk);
    int rc = mbedtls_pk_parse_keyfile(&pk, key_path, NULL);
    int n = rc == 0 ? mbedtls_pk_write_pubkey_der(&pk, der, sizeof der) : -1;
    mbedtls_pk_free(&pk);
    if (n <= 0 || mbedtls_sha256_ret(der + sizeof der - n, (size_t)n, sha, 0) != 0)
        return -1;
    return mbedtls_base64_encode((unsigned char *)out, 45, &olen, sha, sizeof sha) == 0 ? 0 : -1;
}
