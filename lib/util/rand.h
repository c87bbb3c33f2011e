/* Randomness from mbedTLS CTR_DRBG, one generator per client (no globals). */
#ifndef PARLEY_UTIL_RAND_H
#define PARLEY_UTIL_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

typedef struct pl_rand pl_rand;

/* A source of seed bytes, as mbedTLS' f_entropy: fills out[0..len), 0 on
 * success. The library passes the OS's (platform/entropy.h, pl_entropy). */
typedef int (*pl_seed_fn)(void *ctx, unsigned char *out, size_t len);

/* Seeded (and reseeded when due) from seed(seed_ctx, ...); NULL on
 * failure. */
pl_rand *pl_rand_new(const pl_alloc *a, pl_seed_fn seed, void *seed_ctx);
void pl_rand_free(pl_rand *r);

int pl_rand_bytes(pl_rand *r, void *out,
                  size_t n); /* PARLEY_OK or PARLEY_ERR_NOMEM (DRBG failure) */
/* Uniform in [0, bound]; 0 when bound is 0. */
uint32_t pl_rand_uniform(pl_rand *r, uint32_t bound);

#define PL_UUID_STR_LEN 36
/* A random (version 4, RFC 9562) UUID, lowercase, NUL-terminated into
 * out[PL_UUID_STR_LEN + 1]. */
int pl_rand_uuid4(pl_rand *r, char out[PL_UUID_STR_LEN + 1]);

#endif
