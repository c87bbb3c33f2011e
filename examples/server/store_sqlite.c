#include "store_sqlite.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_fail(store *s, const char *what)
{
    fprintf(stderr, "parley-server: db: %s: %s\n", what, sqlite3_errmsg(s->h));
    return -1;
}

static int bind_all(sqlite3_stmt *st, const char *types, va_list ap)
{
    const char *text;
    int i, rc = SQLITE_OK;

    for (i = 0; types[i] && rc == SQLITE_OK; i++) {
        if (types[i] == 'i') {
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
            continue;
        }
        text = va_arg(ap, const char *);
        rc = text ? sqlite3_bind_text(st, i + 1, text, -1, SQLITE_TRANSIENT)
                  : sqlite3_bind_null(st, i + 1);
    }
    return rc == SQLITE_OK ? 0 : -1;
}

/* The cached statement of `sql`, prepared on first use; NULL on error. */
static sqlite3_stmt *cached(store *s, const char *sql)
{
    size_t i;

    for (i = 0; i < s->cached; i++) {
        if (s->cache[i].sql == sql)
            return s->cache[i].st;
    }
    if (s->cached == SQ_CACHE) {
        fprintf(stderr, "parley-server: db: more than %d cached statements\n", SQ_CACHE);
        return NULL;
    }
    if (sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->cache[s->cached].st,
                           NULL) != SQLITE_OK) {
        sq_fail(s, sql);
        return NULL;
    }
    s->cache[s->cached].sql = sql;
    return s->cache[s->cached++].st;
}

/* The cached statement reset, with the arguments bound. */
static sqlite3_stmt *cached_bound(store *s, const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *st = cached(s, sql);

    if (!st)
        return NULL;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    if (bind_all(st, types, ap)) {
        sq_fail(s, "bind");
        return NULL;
    }
    return st;
}

/* Steps a statement to its end; SQLITE_DONE, or the error. */
static int step_out(sqlite3_stmt *st)
{
    int rc;

    while ((rc = sqlite3_step(st)) == SQLITE_ROW)
        ;
    return rc;
}

int sq_run(store *s, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int rc;

    va_start(ap, types);
    st = cached_bound(s, sql, types, ap);
    va_end(ap);
    if (!st || sq_group(s, st))
        return -1;
    rc = step_out(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, sql);
}

int sq_run_once(store *s, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc;

    if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK) {
        sqlite3_finalize(st);
        return sq_fail(s, sql);
    }
    if (sq_group(s, st)) {
        sqlite3_finalize(st);
        return -1;
    }
    va_start(ap, types);
    rc = bind_all(st, types, ap);
    va_end(ap);
    rc = rc ? SQLITE_ERROR : step_out(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : sq_fail(s, sql);
}

sqlite3_stmt *sq_row(store *s, int *rc, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;
    int step;

    va_start(ap, types);
    st = cached_bound(s, sql, types, ap);
    va_end(ap);
    *rc = -1;
    if (!st || sq_group(s, st))
        return NULL;
    step = sqlite3_step(st);
    if (step == SQLITE_ROW) {
        *rc = 1;
        return st;
    }
    sqlite3_reset(st);
    if (step == SQLITE_DONE)
        *rc = 0;
    else
        sq_fail(s, sql);
    return NULL;
}

void sq_done(sqlite3_stmt *st)
{
    if (st)
        sqlite3_reset(st);
}

sqlite3_stmt *sq_query(store *s, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st = NULL;
    va_list ap;
    int rc;

    if (sqlite3_prepare_v2(s->h, sql, -1, &st, NULL) != SQLITE_OK || sq_group(s, st)) {
        sq_fail(s, sql);
        sqlite3_finalize(st);
        return NULL;
    }
    va_start(ap, types);
    rc = bind_all(st, types, ap);
    va_end(ap);
    if (rc) {
        sq_fail(s, "bind");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

int sq_step(store *s, sqlite3_stmt *st)
{
    int rc;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    return sq_fail(s, sqlite3_sql(st));
}

void sq_finish(sqlite3_stmt *st)
{
    sqlite3_finalize(st);
}

int64_t sq_changes(store *s)
{
    return sqlite3_changes(s->h);
}

int64_t sq_last_row(store *s)
{
    return (int64_t)sqlite3_last_insert_rowid(s->h);
}

int sq_script(store *s, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(s->h, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    fprintf(stderr, "parley-server: db: %s\n", err ? err : sqlite3_errmsg(s->h));
    sqlite3_free(err);
    return -1;
}

const char *sq_text(sqlite3_stmt *st, int col)
{
    const unsigned char *text = sqlite3_column_text(st, col);

    return text ? (const char *)text : "";
}

const char *sq_text_or_null(sqlite3_stmt *st, int col)
{
    return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL : sq_text(st, col);
}

char *sq_dup(sqlite3_stmt *st, int col, int *oom)
{
    const char *text = sq_text_or_null(st, col);
    char *copy;

    if (!text)
        return NULL;
    copy = strdup(text);
    if (!copy)
        *oom = 1;
    return copy;
}
