/* Counts the bytes the process holds on the heap, every allocation
 * included: the program replaces glibc's malloc family (as glibc allows)
 * with wrappers that keep a 16-byte header with the requested size, so
 * libparley, libwebsockets, mbedTLS, cJSON and libc itself are all seen.
 * glibc only; not for sanitizer builds, whose runtime owns malloc. */
#ifndef PARLEY_BENCH_HEAPCOUNT_H
#define PARLEY_BENCH_HEAPCOUNT_H

/* Bytes requested and not yet freed. */
long heapcount_live(void);
/* The most ever live since the last heapcount_reset_peak(). */
long heapcount_peak(void);
/* Starts a new peak from what is live now. */
void heapcount_reset_peak(void);

#endif
