#include "pwhash.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>
#include <mbedtls/pkcs5.h>

#include "util.h"

static const char PREFIX[] = "pbkdf2-sha256$";

/* A valid hash of a random password nobody knows, with the current count:
 * what pwhash_verify_dummy runs against. */
static const char DUMMY[] = "pbkdf2-sha256$100000$7d3c1f0a9b2e48c6a51d0e3f7b9c2a84$"
                            "0c5e3a1f9b7d2e4c6a8f0b1d3e5c7a9f2b4d6e8f0a1c3e5b7d9f1a3c5e7b9d0f";

static int derive(const char *password, size_t len, const unsigned char *salt, size_t salt_len,
                  unsigned iterations, unsigned char key[PWHASH_KEY_LEN])
{
    mbedtls_md_context_t md;
    int rc;

    mbedtls_md_init(&md);
    rc = mbedtls_md_setup(&md, mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), 1);
    if (rc == 0)
        rc = mbedtls_pkcs5_pbkdf2_hmac(&md, (const unsigned char *)password, len, salt, salt_len,
                                       iterations, PWHASH_KEY_LEN, key);
    mbedtls_md_free(&md);
    return rc ? -1 : 0;
}

static int hex_val(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Exactly 2 * n lowercase hex digits from s, up to `end`. 0 or -1. */
static int from_hex(const char *s, const char *end, unsigned char *out, size_t n)
{
    size_t i;

    if ((size_t)(end - s) != 2 * n)
        return -1;
    for (i = 0; i < n; i++) {
        int hi = hex_val(s[2 * i]), lo = hex_val(s[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return -1;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return 0;
}

static int count_ok(unsigned long n)
{
    return n >= PWHASH_MIN_ITERATIONS && n <= PWHASH_MAX_ITERATIONS;
}

int pwhash_make(const char *password, size_t len, unsigned iterations, char *out, size_t cap)
{
    unsigned char salt[PWHASH_SALT_LEN], key[PWHASH_KEY_LEN];
    char salt_hex[2 * PWHASH_SALT_LEN + 1], key_hex[2 * PWHASH_KEY_LEN + 1];
    size_t i;
    int n;

    if (iterations == 0)
        iterations = PWHASH_ITERATIONS;
    if (!count_ok(iterations) || cap < PWHASH_BUF ||
        util_random_token("", PWHASH_SALT_LEN, salt_hex, sizeof salt_hex))
        return -1;
    for (i = 0; i < PWHASH_SALT_LEN; i++)
        salt[i] = (unsigned char)(hex_val(salt_hex[2 * i]) << 4 | hex_val(salt_hex[2 * i + 1]));
    if (derive(password, len, salt, sizeof salt, iterations, key))
        return -1;
    util_hex(key, sizeof key, key_hex);
    n = snprintf(out, cap, "%s%u$%s$%s", PREFIX, iterations, salt_hex, key_hex);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

/* Splits the stored form. 0 or -1. */
static int parse(const char *stored, unsigned long *iterations, unsigned char salt[PWHASH_SALT_LEN],
                 unsigned char key[PWHASH_KEY_LEN])
{
    const char *p, *salt_end;
    char *end;

    if (!stored || strncmp(stored, PREFIX, sizeof PREFIX - 1) != 0)
        return -1;
    p = stored + sizeof PREFIX - 1;
    if (*p < '1' || *p > '9')
        return -1;
    *iterations = strtoul(p, &end, 10);
    if (*end != '$' || !count_ok(*iterations))
        return -1;
    p = end + 1;
    salt_end = strchr(p, '$');
    if (!salt_end || from_hex(p, salt_end, salt, PWHASH_SALT_LEN))
        return -1;
    p = salt_end + 1;
    return from_hex(p, p + strlen(p), key, PWHASH_KEY_LEN);
}

int pwhash_verify(const char *password, size_t len, const char *stored)
{
    unsigned char salt[PWHASH_SALT_LEN], want[PWHASH_KEY_LEN], got[PWHASH_KEY_LEN], diff = 0;
    unsigned long iterations;
    size_t i;

    if (parse(stored, &iterations, salt, want) ||
        derive(password, len, salt, sizeof salt, (unsigned)iterations, got))
        return -1;
    for (i = 0; i < PWHASH_KEY_LEN; i++)
        diff |= (unsigned char)(want[i] ^ got[i]);
    return diff == 0;
}

int pwhash_verify_dummy(const char *password, size_t len)
{
    (void)pwhash_verify(password, len, DUMMY);
    return 0;
}
