#include "util/rand.h"

#include <string.h>

#include <mbedtls/ctr_drbg.h>
#include <mbedtls/platform_util.h>

/* Small requests (a client id per message) are served from a block drawn
 * from the DRBG ahead: one generate call, with its AES key schedule and
 * reseed check, per POOL bytes instead of per id. */
#define POOL 256

struct pl_rand {
    pl_alloc alloc;
    mbedtls_ctr_drbg_context drbg;
    unsigned char pool[POOL];
    size_t left; /* unused bytes at the end of pool */
};

pl_rand *pl_rand_new(const pl_alloc *a, pl_seed_fn seed, void *seed_ctx)
{
    pl_rand *r = pl_calloc(a, 1, sizeof *r);
    if (!r)
        return NULL;
    r->alloc = *a;
    mbedtls_ctr_drbg_init(&r->drbg);
    static const unsigned char pers[] = "parley-client";
    if (mbedtls_ctr_drbg_seed(&r->drbg, seed, seed_ctx, pers, sizeof pers - 1) != 0) {
        pl_rand_free(r);
        return NULL;
    }
    return r;
}

void pl_rand_free(pl_rand *r)
{
    if (!r)
        return;
    mbedtls_ctr_drbg_free(&r->drbg);
    mbedtls_platform_zeroize(r->pool, sizeof r->pool);
    pl_alloc a = r->alloc;
    pl_free(&a, r);
}

int pl_rand_bytes(pl_rand *r, void *out, size_t n)
{
    if (n > POOL / 4)
        return mbedtls_ctr_drbg_random(&r->drbg, out, n) == 0 ? PARLEY_OK : PARLEY_ERR_NOMEM;
    if (n > r->left) {
        if (mbedtls_ctr_drbg_random(&r->drbg, r->pool, POOL) != 0)
            return PARLEY_ERR_NOMEM;
        r->left = POOL;
    }
    unsigned char *p = r->pool + POOL - r->left;
    memcpy(out, p, n);
    /* Handed out once: what is served no longer sits in the pool. */
    memset(p, 0, n);
    r->left -= n;
    return PARLEY_OK;
}

uint32_t pl_rand_uniform(pl_rand *r, uint32_t bound)
{
    if (bound == 0)
        return 0;
    uint64_t v = 0;
    if (pl_rand_bytes(r, &v, sizeof v) != PARLEY_OK)
        return bound / 2;
    /* 64 random bits reduced to a 32-bit range: bias below 2^-32. */
    return (uint32_t)(v % ((uint64_t)bound + 1));
}

int pl_rand_uuid4(pl_rand *r, char out[PL_UUID_STR_LEN + 1])
{
    unsigned char b[16];
    int rc = pl_rand_bytes(r, b, sizeof b);
    if (rc != PARLEY_OK)
        return rc;
    b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
    b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
    static const char hex[] = "0123456789abcdef";
    char *o = out;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10)
            *o++ = '-';
        *o++ = hex[b[i] >> 4];
        *o++ = hex[b[i] & 15];
    }
    *o = '\0';
    return PARLEY_OK;
}
