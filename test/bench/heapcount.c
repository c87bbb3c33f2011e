#include "heapcount.h"

#include <errno.h>
#include <malloc.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* glibc exports its allocator under these names too. */
void *__libc_malloc(size_t size);
void *__libc_calloc(size_t n, size_t size);
void *__libc_memalign(size_t align, size_t size);
void __libc_free(void *ptr);

/* Every block carries its requested size and the start of glibc's block
 * just below what the caller gets. */
typedef struct header {
    size_t size;
    void *base;
} header;

#define HDR sizeof(header)

static atomic_long live, peak;

static void count(long delta)
{
    long now = atomic_fetch_add_explicit(&live, delta, memory_order_relaxed) + delta;
    long p = atomic_load_explicit(&peak, memory_order_relaxed);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now))
        ;
}

static void *finish(void *base, void *user, size_t size)
{
    if (!base)
        return NULL;
    header *h = (header *)user - 1;
    h->size = size;
    h->base = base;
    count((long)size);
    return user;
}

static void *aligned(size_t align, size_t size)
{
    if (align < HDR)
        align = HDR;
    if (size > SIZE_MAX - align)
        return NULL;
    char *base = __libc_memalign(align, size + align);
    return finish(base, base ? base + align : NULL, size);
}

void *malloc(size_t size)
{
    if (size > SIZE_MAX - HDR)
        return NULL;
    char *base = __libc_malloc(size + HDR);
    return finish(base, base ? base + HDR : NULL, size);
}

void free(void *ptr)
{
    if (!ptr)
        return;
    header *h = (header *)ptr - 1;
    count(-(long)h->size);
    __libc_free(h->base);
}

/* glibc's calloc, not malloc + memset: the compiler turns that back into
 * a call to calloc, this one. */
void *calloc(size_t n, size_t size)
{
    if (size && n > (SIZE_MAX - HDR) / size)
        return NULL;
    char *base = __libc_calloc(1, n * size + HDR);
    return finish(base, base ? base + HDR : NULL, n * size);
}

void *realloc(void *ptr, size_t size)
{
    if (!ptr)
        return malloc(size);
    if (size == 0) {
        free(ptr);
        return NULL;
    }
    void *p = malloc(size);
    if (p) {
        size_t old = ((header *)ptr - 1)->size;
        memcpy(p, ptr, old < size ? old : size);
        free(ptr);
    }
    return p;
}

void *memalign(size_t align, size_t size)
{
    return aligned(align, size);
}

void *aligned_alloc(size_t align, size_t size)
{
    return aligned(align, size);
}

int posix_memalign(void **out, size_t align, size_t size)
{
    void *p = aligned(align, size);
    if (!p)
        return ENOMEM;
    *out = p;
    return 0;
}

void *valloc(size_t size)
{
    return aligned((size_t)sysconf(_SC_PAGESIZE), size);
}

void *pvalloc(size_t size)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    return aligned(page, (size + page - 1) / page * page);
}

size_t malloc_usable_size(void *ptr)
{
    return ptr ? ((header *)ptr - 1)->size : 0;
}

long heapcount_live(void)
{
    return atomic_load(&live);
}

long heapcount_peak(void)
{
    return atomic_load(&peak);
}

void heapcount_reset_peak(void)
{
    atomic_store(&peak, atomic_load(&live));
}
