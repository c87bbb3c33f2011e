#include "util/sha256.h"

#include <string.h>

#include <mbedtls/sha256.h>

_Static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((pl_sha256 *)0)->state),
               "pl_sha256 too small for mbedtls_sha256_context");

static mbedtls_sha256_context *ctx_of(pl_sha256 *h)
{
    return (mbedtls_sha256_context *)(void *)h->state;
}

void pl_sha256_start(pl_sha256 *h)
{
    mbedtls_sha256_init(ctx_of(h));
    mbedtls_sha256_starts_ret(ctx_of(h), 0);
}

void pl_sha256_update(pl_sha256 *h, const void *data, size_t len)
{
    if (len)
        mbedtls_sha256_update_ret(ctx_of(h), data, len);
}

void pl_sha256_finish(pl_sha256 *h, char hex[PL_SHA256_HEX])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char d[32];
    mbedtls_sha256_finish_ret(ctx_of(h), d);
    mbedtls_sha256_free(ctx_of(h));
    for (size_t i = 0; i < sizeof d; i++) {
        hex[2 * i] = digits[d[i] >> 4];
        hex[2 * i + 1] = digits[d[i] & 15];
    }
    hex[64] = '\0';
}

void pl_sha256_hex(const void *data, size_t len, char hex[PL_SHA256_HEX])
{
    pl_sha256 h;
    pl_sha256_start(&h);
    pl_sha256_update(&h, data, len);
    pl_sha256_finish(&h, hex);
}

int pl_sha256_valid(const char *s)
{
    if (!s || strlen(s) != 64)
        return 0;
    for (size_t i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    return 1;
}
