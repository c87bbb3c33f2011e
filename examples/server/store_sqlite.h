/* What the SQLite store's files (store*.c) share, and nobody else sees:
 * the handle and small statement helpers.
 *
 * Statements come two ways. sq_run and sq_row run a statement that returns
 * no row or one row from a cache of prepared statements, keyed by the
 * address of its SQL text (a string literal at its call site). An
 * iteration gets a statement of its own from sq_query (finalized by
 * sq_finish), so that its callback may use the store meanwhile. */
#ifndef PARLEY_SERVER_STORE_SQLITE_H
#define PARLEY_SERVER_STORE_SQLITE_H

#include <stdint.h>

#include <sqlite3.h>

#include "store.h"

#define SQ_CACHE 96

struct store {
    sqlite3 *h;
    struct {
        const char *sql;
        sqlite3_stmt *st;
    } cache[SQ_CACHE];
    size_t cached;
    /* Group commit (store.h): with `grouping`, the first write after a
     * commit opens the group's transaction, and store_begin and
     * store_commit are savepoints inside it, `depth` deep. `lost`: SQLite
     * rolled the group back by itself (a full disk, an I/O error), so its
     * commit must report failure whatever comes after. */
    int grouping, group_open, depth, lost;
    int64_t group_no, committed_no;
    void (*on_group)(void *ud);
    void *on_group_ud;
    /* store_wipe's statements, prepared on its first call. */
    sqlite3_stmt **wipe;
    size_t nwipe;
};

/* Before statement `st` runs: opens the group's transaction when grouping,
 * `st` writes (NULL: may write) and none is open. 0, or -1. Reads need no
 * group: on this one connection they see the open group's writes anyway. */
int sq_group(store *s, sqlite3_stmt *st);

/* Arguments are bound one per character of `types`: 't' a const char *
 * (NULL binds NULL), 'i' an int64_t. */

/* Runs a statement that returns no row (a row of RETURNING is skipped). */
int sq_run(store *s, const char *sql, const char *types, ...);
/* The same, prepared for this one run: for SQL built at run time and the
 * statements of migrations, which the cache would only hold on to. */
int sq_run_once(store *s, const char *sql, const char *types, ...);
/* Steps a cached statement once: the statement on a row (read it, then
 * sq_done), NULL at the end or on error, *rc saying which (1, 0, -1). */
sqlite3_stmt *sq_row(store *s, int *rc, const char *sql, const char *types, ...);
/* Ends the use of a statement sq_row returned (NULL is fine). */
void sq_done(sqlite3_stmt *st);

/* A fresh statement to iterate over with sq_step; NULL on error. */
sqlite3_stmt *sq_query(store *s, const char *sql, const char *types, ...);
/* 1 on a row, 0 at the end, -1 on error (also for a NULL statement). */
int sq_step(store *s, sqlite3_stmt *st);
void sq_finish(sqlite3_stmt *st);

/* Rows changed by the last statement, and the row number it inserted. */
int64_t sq_changes(store *s);
int64_t sq_last_row(store *s);

/* Runs a script of statements without arguments (a schema). */
int sq_script(store *s, const char *sql);
/* Logs the database's complaint about `what`; returns -1. */
int sq_fail(store *s, const char *what);

/* Column text, never NULL ("" for NULL), and NULL-preserving text. */
const char *sq_text(sqlite3_stmt *st, int col);
const char *sq_text_or_null(sqlite3_stmt *st, int col);
/* A malloc'd copy of the column's text; NULL for NULL (and when out of
 * memory: *oom set then). */
char *sq_dup(sqlite3_stmt *st, int col, int *oom);

/* The schemas and migrations of each area, run by store_open in order. */
int store_users_init(store *s);
int store_users_separate(store *s);
int store_convs_init(store *s);
int store_context_init(store *s);
int store_surveys_init(store *s);
int store_attach_init(store *s);
int store_push_init(store *s);
int store_routing_init(store *s);
int store_agents_init(store *s);

#endif
