#include "util/rand.h"

#include <stdio.h>

#include <mbedtls/ctr_drbg.h>

struct pl_rand {
    pl_alloc alloc;
    mbedtls_ctr_drbg_context drbg;
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
    pl_alloc a = r->alloc;
    pl_free(&a, r);
}

int pl_rand_bytes(pl_rand *r, void *out, size_t n)
{
    return mbedtls_ctr_drbg_random(&r->drbg, out, n) == 0 ? PARLEY_OK : PARLEY_ERR_NOMEM;
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
    snprintf(out, PL_UUID_STR_LEN + 1,
             "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0], b[1],
             b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
             b[15]);
    return PARLEY_OK;
}
