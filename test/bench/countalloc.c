#include "countalloc.h"

#include <stdatomic.h>
#include <stdlib.h>

/* glibc exports its allocator under these names too. Every block still
 * comes from glibc's allocator, so its own free (and memalign and the rest,
 * not counted) stay consistent with the replacements. */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_realloc(void *ptr, size_t size);

static atomic_long calls;

void *malloc(size_t size)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return __libc_malloc(size);
}

void *calloc(size_t n, size_t size)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return __libc_calloc(n, size);
}

void *realloc(void *ptr, size_t size)
{
    atomic_fetch_add_explicit(&calls, 1, memory_order_relaxed);
    return __libc_realloc(ptr, size);
}

long countalloc_calls(void)
{
    return atomic_load(&calls);
}
