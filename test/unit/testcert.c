#include "testcert.h"

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct tc_rng {
    mbedtls_entropy_context entropy;
    mbedtls_ctr_drbg_context drbg;
} tc_rng;

static int gen_key(mbedtls_pk_context *pk, tc_rng *r)
{
    mbedtls_pk_init(pk);
    if (mbedtls_pk_setup(pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)) != 0)
        return -1;
    return mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(*pk), mbedtls_ctr_drbg_random,
                               &r->drbg);
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
 * SEQUENCE { [2] dNSName "localhost" }. */
static int add_san_localhost(mbedtls_x509write_cert *crt)
{
    static const unsigned char san[] = {0x30, 0x0b, 0x82, 0x09, 'l', 'o', 'c', 'a', 'l', 'h', 'o', 's', 't'};
    return mbedtls_x509write_crt_set_extension(crt, MBEDTLS_OID_SUBJECT_ALT_NAME,
                                               MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san,
                                               sizeof san);
}

/* Writes a certificate for `subject_key` signed by `issuer_key`. */
static int write_cert(const char *path, const char *subject, mbedtls_pk_context *subject_key,
                      const char *issuer, mbedtls_pk_context *issuer_key, int is_ca, int serial_no,
                      tc_rng *r)
{
    mbedtls_x509write_cert crt;
    mbedtls_mpi serial;
    unsigned char pem[4096];
    int rc = -1;
    mbedtls_x509write_crt_init(&crt);
    mbedtls_mpi_init(&serial);
    mbedtls_x509write_crt_set_version(&crt, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&crt, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&crt, subject_key);
    mbedtls_x509write_crt_set_issuer_key(&crt, issuer_key);
    if (mbedtls_mpi_lset(&serial, serial_no) != 0 || mbedtls_x509write_crt_set_serial(&crt, &serial) != 0 ||
        mbedtls_x509write_crt_set_validity(&crt, "20200101000000", "20491231235959") != 0 ||
        mbedtls_x509write_crt_set_subject_name(&crt, subject) != 0 ||
        mbedtls_x509write_crt_set_issuer_name(&crt, issuer) != 0 ||
        mbedtls_x509write_crt_set_basic_constraints(&crt, is_ca, is_ca ? 0 : -1) != 0 ||
        mbedtls_x509write_crt_set_key_usage(&crt, is_ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN
                                                        : MBEDTLS_X509_KU_DIGITAL_SIGNATURE) != 0 ||
        (!is_ca && add_san_localhost(&crt) != 0))
        goto out;
    if (mbedtls_x509write_crt_pem(&crt, pem, sizeof pem, mbedtls_ctr_drbg_random, &r->drbg) != 0)
        goto out;
    rc = write_file(path, pem);
out:
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&crt);
    return rc;
}

static int write_key(const char *path, mbedtls_pk_context *pk)
{
    unsigned char pem[2048];
    if (mbedtls_pk_write_key_pem(pk, pem, sizeof pem) != 0)
        return -1;
    return write_file(path, pem);
}

static int make_all(tc_files *f, tc_rng *r)
{
    mbedtls_pk_context ca_key, other_key, leaf_key;
    int rc = -1;
    mbedtls_pk_init(&ca_key);
    mbedtls_pk_init(&other_key);
    mbedtls_pk_init(&leaf_key);
    if (gen_key(&ca_key, r) == 0 && gen_key(&other_key, r) == 0 && gen_key(&leaf_key, r) == 0 &&
        write_cert(f->ca, "CN=Parley Test CA", &ca_key, "CN=Parley Test CA", &ca_key, 1, 1, r) == 0 &&
        write_cert(f->other_ca, "CN=Unrelated CA", &other_key, "CN=Unrelated CA", &other_key, 1, 2, r) ==
            0 &&
        write_cert(f->cert, "CN=localhost", &leaf_key, "CN=Parley Test CA", &ca_key, 0, 3, r) == 0 &&
        write_key(f->key, &leaf_key) == 0)
        rc = 0;
    mbedtls_pk_free(&ca_key);
    mbedtls_pk_free(&other_key);
    mbedtls_pk_free(&leaf_key);
    return rc;
}

int tc_make(tc_files *out)
{
    memset(out, 0, sizeof *out);
    const char *tmp = getenv("TMPDIR");
    snprintf(out->dir, sizeof out->dir, "%s/parley-tc-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(out->dir))
        return -1;
    snprintf(out->ca, sizeof out->ca, "%s/ca.pem", out->dir);
    snprintf(out->other_ca, sizeof out->other_ca, "%s/other-ca.pem", out->dir);
    snprintf(out->cert, sizeof out->cert, "%s/localhost.pem", out->dir);
    snprintf(out->key, sizeof out->key, "%s/localhost.key", out->dir);
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
