/* Per-client allocator hooks: every allocation the library makes goes here. */
#ifndef PARLEY_UTIL_ALLOC_H
#define PARLEY_UTIL_ALLOC_H

#include <stddef.h>
#include "parley.h"

typedef struct palloc {
    parley_malloc_fn malloc_fn;
    parley_realloc_fn realloc_fn;
    parley_free_fn free_fn;
    void *user;
} palloc;

/* The C library's allocator. */
void palloc_default(palloc *a);
const palloc *palloc_libc(void);

void *pmalloc(const palloc *a, size_t size);
void *pcalloc(const palloc *a, size_t n, size_t size); /* zeroed; NULL on overflow */
void *prealloc(const palloc *a, void *p, size_t size);
void pfree(const palloc *a, void *p); /* NULL is a no-op */

/* Copies of strings; NULL in gives NULL out. */
char *pstrdup(const palloc *a, const char *s);
char *pstrndup(const palloc *a, const char *s, size_t n);

#endif
