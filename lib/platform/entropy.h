/* The OS's cryptographically secure random bytes: the seed of every DRBG
 * the library keeps (util/rand.c), so a port to a system without an
 * mbedTLS entropy source needs only this. */
#ifndef PARLEY_PLATFORM_ENTROPY_H
#define PARLEY_PLATFORM_ENTROPY_H

#include <stddef.h>

/* Fills out[0..len) (ctx is unused); 0, or -1 when the OS gives nothing.
 * The signature of mbedTLS' entropy callbacks (f_entropy). */
int pl_entropy(void *ctx, unsigned char *out, size_t len);

#endif
