/* Small process-level helpers: clock and randomness. */
#ifndef PARLEY_SERVER_UTIL_H
#define PARLEY_SERVER_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Milliseconds since the Unix epoch (wall clock: it is stored as `ts`). */
int64_t util_now_ms(void);
/* Milliseconds of a monotonic clock (for intervals: never jumps). */
int64_t util_mono_ms(void);

/* Writes `prefix` followed by 2 * nbytes random lowercase hex digits and a
 * NUL into out (cap bytes). Returns 0, or -1 when the system RNG fails or the
 * result does not fit. */
int util_random_token(const char *prefix, size_t nbytes, char *out, size_t cap);
/* n random bytes into out: 0, or -1 when the system RNG fails. */
int util_random_bytes(void *out, size_t n);

#endif
