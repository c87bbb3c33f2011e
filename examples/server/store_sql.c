/* The statement helpers of store_sql.h over whichever driver the store has. */
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sq_fail(store *s, const char *what)
{
    fprintf(stderr, "parley-server: db: %s: %s\n", what, s->drv->errmsg(s));
    return -1;
}

/* Where the cache looks for `sql` first. */
static size_t slot_of(const char *sql)
{
    uint64_t h = (uint64_t)(uintptr_t)sql * UINT64_C(0x9E3779B97F4A7C15);

    return (size_t)(h >> 32) & (SQ_CACHE - 1);
}

/* A statement of `sql` for one use, not cached; NULL on error (logged). */
static sq_stmt *fresh(store *s, const char *sql)
{
    sq_stmt *st = s->drv->prepare(s, sql, 0);

    if (!st)
        sq_fail(s, sql);
    return st;
}

/* A statement of `sql` taken for one use (release gives it back): the
 * cached one, prepared on first use, or when it is in use already or the
 * cache is full, a fresh one. NULL on error. */
static sq_stmt *acquire(store *s, const char *sql)
{
    size_t i = slot_of(sql);
    sq_stmt *st;

    while (s->cache[i].sql && s->cache[i].sql != sql)
        i = (i + 1) & (SQ_CACHE - 1);
    st = s->cache[i].st;
    if (!st && s->cached < SQ_CACHE / 4 * 3) {
        st = s->drv->prepare(s, sql, 1);
        if (!st)
            return fresh(s, sql);
        st->kept = 1;
        s->cache[i].sql = sql;
        s->cache[i].st = st;
        s->cached++;
    }
    if (!st || st->busy)
        return fresh(s, sql);
    st->busy = 1;
    return st;
}

/* Ends a use of `st`: a cached statement is reset for the next. */
static void release(sq_stmt *st)
{
    if (!st)
        return;
    if (!st->kept) {
        st->drv->finalize(st);
        return;
    }
    st->drv->reset(st);
    st->primed = 0;
    st->busy = 0;
}

/* Runs `st` to its first row after opening the group it needs: 1, 0, -1. */
static int start(store *s, sq_stmt *st, const char *types, va_list ap)
{
    int rc;

    if (sq_group(s, st))
        return -1;
    rc = s->drv->start(st, types, ap);
    if (rc < 0)
        sq_fail(s, s->drv->sql(st));
    return rc;
}

/* Steps past the rows of a statement that returns none the caller wants. */
static int run_out(store *s, sq_stmt *st, int rc)
{
    while (rc == 1)
        rc = s->drv->step(st);
    if (rc < 0)
        sq_fail(s, s->drv->sql(st));
    return rc;
}

/* Binds and runs `st` to its end: 0, or -1 (logged). */
static int run_all(store *s, sq_stmt *st, const char *types, va_list ap)
{
    int rc = start(s, st, types, ap);
    return rc < 0 ? -1 : run_out(s, st, rc);
}

int sq_run(store *s, const char *sql, const char *types, ...)
{
    sq_stmt *st = acquire(s, sql);
    va_list ap;
    int rc;

    if (!st)
        return -1;
    va_start(ap, types);
    rc = run_all(s, st, types, ap);
    va_end(ap);
    release(st);
    return rc < 0 ? -1 : 0;
}

int sq_run_once(store *s, const char *sql, const char *types, ...)
{
    sq_stmt *st = fresh(s, sql);
    va_list ap;
    int rc;

    if (!st)
        return -1;
    va_start(ap, types);
    rc = run_all(s, st, types, ap);
    va_end(ap);
    release(st);
    return rc < 0 ? -1 : 0;
}

sq_stmt *sq_row(store *s, int *rc, const char *sql, const char *types, ...)
{
    sq_stmt *st = acquire(s, sql);
    va_list ap;

    *rc = -1;
    if (!st)
        return NULL;
    va_start(ap, types);
    *rc = start(s, st, types, ap);
    va_end(ap);
    if (*rc == 1)
        return st;
    release(st);
    return NULL;
}

int sq_insert_id(store *s, int64_t *id, const char *sql, const char *types, ...)
{
    sq_stmt *st = acquire(s, sql);
    va_list ap;
    int rc;

    if (!st)
        return -1;
    va_start(ap, types);
    rc = start(s, st, types, ap);
    va_end(ap);
    if (rc == 1)
        *id = s->drv->i64(st, 0);
    /* SQLite makes the change by the statement's end. */
    rc = rc == 1 ? run_out(s, st, rc) : -1;
    release(st);
    return rc == 0 ? 0 : -1;
}

void sq_done(sq_stmt *st)
{
    release(st);
}

/* Runs `st` to its first row for sq_step; NULL (and `st` released) on error. */
static sq_stmt *iterate(store *s, sq_stmt *st, const char *types, va_list ap)
{
    int rc;

    if (!st)
        return NULL;
    rc = start(s, st, types, ap);
    if (rc < 0) {
        release(st);
        return NULL;
    }
    st->primed = rc + 1;
    return st;
}

sq_stmt *sq_query(store *s, const char *sql, const char *types, ...)
{
    va_list ap;
    sq_stmt *st;

    va_start(ap, types);
    st = iterate(s, acquire(s, sql), types, ap);
    va_end(ap);
    return st;
}

sq_stmt *sq_query_once(store *s, const char *sql, const char *types, ...)
{
    va_list ap;
    sq_stmt *st;

    va_start(ap, types);
    st = iterate(s, fresh(s, sql), types, ap);
    va_end(ap);
    return st;
}

int sq_step(store *s, sq_stmt *st)
{
    int rc;

    if (!st)
        return -1;
    if (st->primed) {
        rc = st->primed - 1;
        st->primed = 0;
        return rc;
    }
    rc = s->drv->step(st);
    return rc < 0 ? sq_fail(s, s->drv->sql(st)) : rc;
}

void sq_finish(sq_stmt *st)
{
    release(st);
}

int sq_tx(store *s, const char *sql)
{
    sq_stmt *st;
    int rc;

    /* Few and cheap there, and not what the driver's cache is for. */
    if (SQ_PG(s))
        return sq_script(s, sql);
    st = acquire(s, sql);
    if (!st)
        return -1;
    rc = s->drv->step(st);
    if (rc < 0)
        sq_fail(s, sql);
    release(st);
    return rc < 0 ? -1 : 0;
}

int64_t sq_changes(store *s)
{
    return s->drv->changes(s);
}

int sq_script(store *s, const char *sql)
{
    return s->drv->script(s, sql) ? sq_fail(s, "script") : 0;
}

const char *sq_text(sq_stmt *st, int col)
{
    const char *text = st->drv->text(st, col);

    return text ? text : "";
}

const char *sq_text_or_null(sq_stmt *st, int col)
{
    return st->drv->text(st, col);
}

int64_t sq_i64(sq_stmt *st, int col)
{
    return st->drv->i64(st, col);
}

int sq_int(sq_stmt *st, int col)
{
    return (int)st->drv->i64(st, col);
}

char *sq_dup(sq_stmt *st, int col, int *oom)
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
