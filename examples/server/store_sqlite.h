/* Small SQLite helpers for the modules that keep their own tables
 * (identity.c, context.c, survey.c): statements are prepared per call, which
 * keeps those modules free of shared statement caches. */
#ifndef PARLEY_SERVER_SQ_H
#define PARLEY_SERVER_SQ_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

/* Prepares `sql` and binds one argument per character of `types`: 't' a
 * const char * (NULL binds NULL), 'i' an int64_t. NULL on error (logged). */
sqlite3_stmt *sq_prepare(db *d, const char *sql, const char *types, ...);
/* Steps a statement that returns no rows, then finalizes it (also when
 * `st` is NULL: a failed sq_prepare). 0 or -1. */
int sq_done(db *d, sqlite3_stmt *st);
/* sq_prepare + sq_done. */
int sq_exec(db *d, const char *sql, const char *types, ...);
/* Steps `st` once: 1 on a row, 0 at the end, -1 on error (logged). */
int sq_step(db *d, sqlite3_stmt *st);
/* Runs a script of statements without parameters (the schema). 0 or -1. */
int sq_script(db *d, const char *sql);

/* A transaction that nests: sq_begin starts one unless the caller is already
 * inside one (then the outer transaction decides). *owned says which. */
int sq_begin(db *d, int *owned);
/* Commits (rc 0) or rolls back (rc nonzero) what sq_begin started; returns
 * rc, or -1 when the commit failed. */
int sq_end(db *d, int owned, int rc);

/* Column text, never NULL (an empty string for NULL). */
const char *sq_text(sqlite3_stmt *st, int col);

#endif
