#include "util/alloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static void *libc_malloc(void *user, size_t size)
{
    (void)user;
    return malloc(size);
}

static void *libc_realloc(void *user, void *p, size_t size)
{
    (void)user;
    return realloc(p, size);
}

static void libc_free(void *user, void *p)
{
    (void)user;
    free(p);
}

static const pl_alloc libc_alloc = {libc_malloc, libc_realloc, libc_free, NULL};

const pl_alloc *pl_alloc_libc(void)
{
    return &libc_alloc;
}

void pl_alloc_default(pl_alloc *a)
{
    *a = libc_alloc;
}

void *pl_malloc(const pl_alloc *a, size_t size)
{
    return a->malloc_fn(a->user, size ? size : 1);
}

void *pl_calloc(const pl_alloc *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    void *p = pl_malloc(a, bytes);
    if (p && bytes > 0)
        memset(p, 0, bytes);
    return p;
}

void *pl_realloc(const pl_alloc *a, void *p, size_t size)
{
    return a->realloc_fn(a->user, p, size ? size : 1);
}

void pl_free(const pl_alloc *a, void *p)
{
    if (p)
        a->free_fn(a->user, p);
}

char *pl_strndup(const pl_alloc *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = pl_malloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pl_strdup(const pl_alloc *a, const char *s)
{
    return s ? pl_strndup(a, s, strlen(s)) : NULL;
}
