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

static const palloc libc_alloc = {libc_malloc, libc_realloc, libc_free, NULL};

const palloc *palloc_libc(void)
{
    return &libc_alloc;
}

void palloc_default(palloc *a)
{
    *a = libc_alloc;
}

void *pmalloc(const palloc *a, size_t size)
{
    return a->malloc_fn(a->user, size ? size : 1);
}

void *pcalloc(const palloc *a, size_t n, size_t size)
{
    if (size && n > SIZE_MAX / size)
        return NULL;
    size_t bytes = n * size;
    void *p = pmalloc(a, bytes);
    if (p && bytes > 0)
        memset(p, 0, bytes);
    return p;
}

void *prealloc(const palloc *a, void *p, size_t size)
{
    return a->realloc_fn(a->user, p, size ? size : 1);
}

void pfree(const palloc *a, void *p)
{
    if (p)
        a->free_fn(a->user, p);
}

char *pstrndup(const palloc *a, const char *s, size_t n)
{
    if (!s)
        return NULL;
    char *d = pmalloc(a, n + 1);
    if (!d)
        return NULL;
    memcpy(d, s, n);
    d[n] = '\0';
    return d;
}

char *pstrdup(const palloc *a, const char *s)
{
    return s ? pstrndup(a, s, strlen(s)) : NULL;
}
