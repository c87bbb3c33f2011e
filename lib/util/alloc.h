/* Per-client allocator hooks: every allocation the library makes goes here. */
#ifndef PARLEY_UTIL_ALLOC_H
#define PARLEY_UTIL_ALLOC_H

#include <stddef.h>
#include "parley.h"

typedef struct pl_alloc {
    parley_malloc_fn malloc_fn;
    parley_realloc_fn realloc_fn;
    parley_free_fn free_fn;
    void *user;
} pl_alloc;

/* The C library's allocator. */
void pl_alloc_default(pl_alloc *a);
const pl_alloc *pl_alloc_libc(void);

void *pl_malloc(const pl_alloc *a, size_t size);
void *pl_calloc(const pl_alloc *a, size_t n, size_t size); /* zeroed; NULL on overflow */
void *pl_realloc(const pl_alloc *a, void *p, size_t size);
void pl_free(const pl_alloc *a, void *p); /* NULL is a no-op */

/* Copies of strings; NULL in gives NULL out. */
char *pl_strdup(const pl_alloc *a, const char *s);
char *pl_strndup(const pl_alloc *a, const char *s, size_t n);

#endif
