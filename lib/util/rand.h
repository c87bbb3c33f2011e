/* Randomness from mbedTLS CTR_DRBG, one generator per client (no globals). */
#ifndef PARLEY_UTIL_RAND_H
#define PARLEY_UTIL_RAND_H

#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

typedef struct prand prand;

/* Seeds from the system entropy source; NULL on failure. */
prand *prand_new(const palloc *a);
void prand_free(prand *r);

int prand_bytes(prand *r, void *out, size_t n); /* PARLEY_OK or PARLEY_ERR_NOMEM (DRBG failure) */
/* Uniform in [0, bound]; 0 when bound is 0. */
uint32_t prand_uniform(prand *r, uint32_t bound);

#define PUUID_STR_LEN 36
/* A random (version 4, RFC 9562) UUID, lowercase, NUL-terminated into
 * out[PUUID_STR_LEN + 1]. */
int prand_uuid4(prand *r, char out[PUUID_STR_LEN + 1]);

#endif
