/* Small process-level helpers: clock, randomness and reading a file. */
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

/* Writes the n bytes of `in` as 2 * n lowercase hex digits and a NUL into
 * out, which must hold 2 * n + 1 bytes. */
void util_hex(const void *in, size_t n, char *out);

/* The whole file at `path` in a malloc'd buffer, NUL-terminated, its length
 * in *len. The buffer grows with what is read: loaders that run often (the
 * fuzz targets load a file per input) do not pay for the largest file they
 * accept. NULL when the file cannot be read, is larger than `max` bytes
 * (*too_large set to 1 then) or memory runs out. */
char *util_read_file(const char *path, size_t max, size_t *len, int *too_large);

#endif
