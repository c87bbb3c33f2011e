/* Counts the process's allocator calls (malloc, calloc, realloc) by
 * replacing them with glibc's own behind a counter: libparley, cJSON,
 * mbedTLS and libwebsockets all allocate through these. glibc only; not for
 * sanitizer builds, whose runtime owns malloc. */
#ifndef PARLEY_BENCH_COUNTALLOC_H
#define PARLEY_BENCH_COUNTALLOC_H

/* Allocator calls since the process started. */
long countalloc_calls(void);

#endif
