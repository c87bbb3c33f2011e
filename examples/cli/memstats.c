/* --mem-stats: the allocator hooks in use. Every block the library
 * allocates carries its size in a header, so the live and peak byte counts
 * are exact; a non-zero live count after parley_client_free() is a leak. The
 * counters are atomic because in --threaded mode the I/O thread allocates
 * too. */
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

struct memstats {
    atomic_size_t live, peak, blocks, calls;
};

/* Keeps the caller's block aligned as malloc's would be. */
typedef union header {
    size_t size;
    max_align_t align;
} header;

memstats *memstats_new(void)
{
    memstats *m = calloc(1, sizeof *m);
    if (m) {
        atomic_init(&m->live, 0);
        atomic_init(&m->peak, 0);
        atomic_init(&m->blocks, 0);
        atomic_init(&m->calls, 0);
    }
    return m;
}

void memstats_free(memstats *m)
{
    free(m);
}

static void account(memstats *m, size_t added, size_t removed)
{
    size_t live = atomic_fetch_add(&m->live, added) + added;
    atomic_fetch_sub(&m->live, removed);
    live -= removed;
    size_t peak = atomic_load(&m->peak);
    while (live > peak && !atomic_compare_exchange_weak(&m->peak, &peak, live))
        ;
}

static void *ms_malloc(void *user, size_t size)
{
    memstats *m = user;
    if (size > SIZE_MAX - sizeof(header))
        return NULL;
    header *h = malloc(sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    atomic_fetch_add(&m->calls, 1);
    atomic_fetch_add(&m->blocks, 1);
    account(m, size, 0);
    return h + 1;
}

static void ms_free(void *user, void *ptr)
{
    memstats *m = user;
    if (!ptr)
        return;
    header *h = (header *)ptr - 1;
    atomic_fetch_sub(&m->blocks, 1);
    account(m, 0, h->size);
    free(h);
}

static void *ms_realloc(void *user, void *ptr, size_t size)
{
    memstats *m = user;
    if (!ptr)
        return ms_malloc(user, size);
    if (size > SIZE_MAX - sizeof(header))
        return NULL;
    header *old = (header *)ptr - 1;
    size_t old_size = old->size;
    header *h = realloc(old, sizeof *h + size);
    if (!h)
        return NULL;
    h->size = size;
    atomic_fetch_add(&m->calls, 1);
    account(m, size, old_size);
    return h + 1;
}

int memstats_install(memstats *m, parley_config *cfg)
{
    return parley_config_set_allocator(cfg, ms_malloc, ms_realloc, ms_free, m);
}

void memstats_report(memstats *m)
{
    output_note("library heap: peak %zu bytes, %zu allocations, %zu bytes in %zu blocks "
                "still allocated",
                atomic_load(&m->peak), atomic_load(&m->calls), atomic_load(&m->live),
                atomic_load(&m->blocks));
}
