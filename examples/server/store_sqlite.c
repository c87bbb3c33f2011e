#include "store_sqlite.h"

#include <stdarg.h>
#include <stdio.h>

static void complain(db *d, const char *what)
{
    fprintf(stderr, "parley-server: db: %s: %s\n", what, sqlite3_errmsg(db_sqlite(d)));
}

static int bind_all(sqlite3_stmt *st, const char *types, va_list ap)
{
    const char *s;
    int i, rc = SQLITE_OK;

    for (i = 0; types[i] && rc == SQLITE_OK; i++) {
        if (types[i] == 'i') {
            rc = sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
            continue;
        }
        s = va_arg(ap, const char *);
        rc = s ? sqlite3_bind_text(st, i + 1, s, -1, SQLITE_TRANSIENT) : sqlite3_bind_null(st, i + 1);
    }
    return rc == SQLITE_OK ? 0 : -1;
}

static sqlite3_stmt *prepare_v(db *d, const char *sql, const char *types, va_list ap)
{
    sqlite3_stmt *st = NULL;

    if (sqlite3_prepare_v2(db_sqlite(d), sql, -1, &st, NULL) != SQLITE_OK) {
        complain(d, sql);
        sqlite3_finalize(st);
        return NULL;
    }
    if (bind_all(st, types, ap)) {
        complain(d, "bind");
        sqlite3_finalize(st);
        return NULL;
    }
    return st;
}

sqlite3_stmt *sq_prepare(db *d, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;

    va_start(ap, types);
    st = prepare_v(d, sql, types, ap);
    va_end(ap);
    return st;
}

int sq_done(db *d, sqlite3_stmt *st)
{
    int rc;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) /* RETURNING or a SELECT used for its effect */
        while ((rc = sqlite3_step(st)) == SQLITE_ROW)
            ;
    if (rc != SQLITE_DONE)
        complain(d, sqlite3_sql(st));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

int sq_exec(db *d, const char *sql, const char *types, ...)
{
    sqlite3_stmt *st;
    va_list ap;

    va_start(ap, types);
    st = prepare_v(d, sql, types, ap);
    va_end(ap);
    return sq_done(d, st);
}

int sq_step(db *d, sqlite3_stmt *st)
{
    int rc;

    if (!st)
        return -1;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        return 1;
    if (rc == SQLITE_DONE)
        return 0;
    complain(d, sqlite3_sql(st));
    return -1;
}

int sq_script(db *d, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(db_sqlite(d), sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    fprintf(stderr, "parley-server: db: %s\n", err ? err : "schema");
    sqlite3_free(err);
    return -1;
}

int sq_begin(db *d, int *owned)
{
    *owned = sqlite3_get_autocommit(db_sqlite(d)) != 0;
    return *owned ? db_begin(d) : 0;
}

int sq_end(db *d, int owned, int rc)
{
    if (!owned)
        return rc;
    if (rc == 0 && db_commit(d) == 0)
        return 0;
    db_rollback(d);
    return rc ? rc : -1;
}

const char *sq_text(sqlite3_stmt *st, int col)
{
    const unsigned char *s = sqlite3_column_text(st, col);

    return s ? (const char *)s : "";
}
