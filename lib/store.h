/* Local store: small named records in the data dir, each replaced
 * atomically (write to a temporary file, fsync, rename, fsync the
 * directory), so a crash leaves either the old or the new record, never a
 * torn one. */
#ifndef PARLEY_STORE_H
#define PARLEY_STORE_H

#include <stddef.h>

#include "util/alloc.h"

typedef struct pstore pstore;

/* Opens (creating with mode 0700, parents included) the directory `dir`.
 * Errors: INVALID_ARG, IO (not creatable or not writable), NOMEM. */
int pstore_open(const palloc *a, const char *dir, pstore **out);
void pstore_close(pstore *s);

/* Reads record `name` into buf[size] (NUL-terminated); *len gets its length.
 * Errors: NOT_FOUND (no such record), TOO_LONG (record does not fit), IO. */
int pstore_get(pstore *s, const char *name, char *buf, size_t size, size_t *len);
/* Replaces record `name` atomically and durably. Errors: IO, NOMEM. */
int pstore_put(pstore *s, const char *name, const char *data, size_t len);

#endif
