/* The PostgreSQL driver (store_sql.h), over libpq: one connection, the
 * cached statements prepared on the server, results as text. Statements
 * are written with ?N; they run with $N. Arguments travel typed (text,
 * bigint), so that "?1 IS NULL" needs no cast. */
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#define PG_MAX_ARGS 16
#define PG_OID_INT8 20
#define PG_OID_TEXT 25

typedef struct pg_db {
    PGconn *conn;
    const char *settings; /* what each connection is set to first */
    char err[512];
    int64_t changes;
    unsigned names;    /* the cached statements named so far */
    unsigned sessions; /* connections made: a new one has no prepared statements */
} pg_db;

typedef struct pg_stmt {
    sq_stmt base;
    pg_db *db;
    const char *src;  /* as written, for messages */
    char *text;       /* with $N */
    char name[24];    /* a cached statement's name on the server, else "" */
    unsigned session; /* the connection it was prepared on */
    int writes;
    PGresult *res;
    int row, rows;
} pg_stmt;

#define DB(s) ((pg_db *)(s)->db)
#define PG(st) ((pg_stmt *)(st))

static const char *pg_errmsg(store *s)
{
    return DB(s)->err[0] ? DB(s)->err : PQerrorMessage(DB(s)->conn);
}

/* Keeps the message of a failed result (its last newline cut). */
static void keep_error(pg_db *db, const PGresult *res)
{
    size_t n;

    snprintf(db->err, sizeof db->err, "%s",
             res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
    n = strlen(db->err);
    while (n && (db->err[n - 1] == '\n' || db->err[n - 1] == ' '))
        db->err[--n] = '\0';
}

/* A connection that broke is made again for what comes next (its
 * transaction is gone: group_vanished sees an idle connection). */
static void revive(pg_db *db)
{
    if (PQstatus(db->conn) != CONNECTION_BAD)
        return;
    PQreset(db->conn);
    db->sessions++;
    if (PQstatus(db->conn) == CONNECTION_OK)
        PQclear(PQexec(db->conn, db->settings));
}

/* 0 when the result is a success, else -1 with the reason kept. Counts
 * the rows a write changed. */
static int check(pg_db *db, PGresult *res)
{
    ExecStatusType status = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;

    if (status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK) {
        db->changes = strtoll(PQcmdTuples(res), NULL, 10);
        return 0;
    }
    keep_error(db, res);
    revive(db);
    return -1;
}

static int pg_script(store *s, const char *sql)
{
    PGresult *res = PQexec(DB(s)->conn, sql);
    int rc = check(DB(s), res);

    PQclear(res);
    return rc;
}

/* `sql` with each ?N as $N (no statement has a ? in a literal). */
static char *dollars(const char *sql)
{
    char *out = strdup(sql), *p;

    for (p = out; p && *p; p++) {
        if (*p == '?' && p[1] >= '0' && p[1] <= '9')
            *p = '$';
    }
    return out;
}

/* Everything but a SELECT may write. */
static int may_write(const char *sql)
{
    while (*sql == ' ' || *sql == '(')
        sql++;
    return strncmp(sql, "SELECT", 6) != 0;
}

static sq_stmt *pg_prepare(store *s, const char *sql, int keep)
{
    pg_stmt *st = calloc(1, sizeof *st);

    if (!st || !(st->text = dollars(sql))) {
        free(st);
        snprintf(DB(s)->err, sizeof DB(s)->err, "out of memory");
        return NULL;
    }
    st->base.drv = &sq_pg_driver;
    st->db = DB(s);
    st->src = sql;
    st->writes = may_write(sql);
    if (keep)
        snprintf(st->name, sizeof st->name, "parley_%u", ++DB(s)->names);
    return &st->base;
}

static void pg_reset(sq_stmt *st)
{
    PQclear(PG(st)->res);
    PG(st)->res = NULL;
    PG(st)->row = PG(st)->rows = 0;
}

/* A cached statement is prepared on the server on its first run on this
 * connection, with the argument types of that run. */
static int ensure_prepared(pg_stmt *st, int n, const Oid *types)
{
    PGresult *res;
    int rc;

    if (!st->name[0] || st->session == st->db->sessions + 1)
        return 0;
    res = PQprepare(st->db->conn, st->name, st->text, n, types);
    rc = check(st->db, res);
    PQclear(res);
    if (rc == 0)
        st->session = st->db->sessions + 1;
    return rc;
}

static int pg_start(sq_stmt *sq, const char *types, va_list ap)
{
    pg_stmt *st = PG(sq);
    char nums[PG_MAX_ARGS][24];
    const char *values[PG_MAX_ARGS];
    Oid oids[PG_MAX_ARGS];
    int i, n = (int)strlen(types);

    pg_reset(sq);
    st->db->err[0] = '\0';
    if (n > PG_MAX_ARGS) {
        snprintf(st->db->err, sizeof st->db->err, "more than %d arguments", PG_MAX_ARGS);
        return -1;
    }
    for (i = 0; i < n; i++) {
        oids[i] = types[i] == 'i' ? PG_OID_INT8 : PG_OID_TEXT;
        if (types[i] == 'i') {
            snprintf(nums[i], sizeof nums[i], "%lld", (long long)va_arg(ap, int64_t));
            values[i] = nums[i];
        } else
            values[i] = va_arg(ap, const char *);
    }
    if (ensure_prepared(st, n, oids))
        return -1;
    st->res = st->name[0] ? PQexecPrepared(st->db->conn, st->name, n, values, NULL, NULL, 0)
                          : PQexecParams(st->db->conn, st->text, n, oids, values, NULL, NULL, 0);
    if (check(st->db, st->res)) {
        pg_reset(sq);
        return -1;
    }
    st->rows = PQntuples(st->res);
    return st->rows > 0;
}

static int pg_step(sq_stmt *st)
{
    if (!PG(st)->res || PG(st)->row + 1 >= PG(st)->rows)
        return 0;
    PG(st)->row++;
    return 1;
}

static void pg_finalize(sq_stmt *st)
{
    pg_reset(st);
    free(PG(st)->text);
    free(st);
}

static int pg_writes(const sq_stmt *st)
{
    return PG(st)->writes;
}

static const char *pg_text(sq_stmt *sq, int col)
{
    pg_stmt *st = PG(sq);

    if (!st->res || st->row >= st->rows || col >= PQnfields(st->res) ||
        PQgetisnull(st->res, st->row, col))
        return NULL;
    return PQgetvalue(st->res, st->row, col);
}

/* Integers as text; a boolean ("t", "f") is 1 or 0. */
static int64_t pg_i64(sq_stmt *st, int col)
{
    const char *v = pg_text(st, col);

    if (!v)
        return 0;
    if (v[0] == 't' || v[0] == 'f')
        return v[0] == 't';
    return strtoll(v, NULL, 10);
}

static const char *pg_sql(const sq_stmt *st)
{
    return PG(st)->src;
}

static int64_t pg_changes(store *s)
{
    return DB(s)->changes;
}

static int pg_tx_state(store *s)
{
    switch (PQtransactionStatus(DB(s)->conn)) {
    case PQTRANS_INTRANS:
    case PQTRANS_ACTIVE: return 1;
    case PQTRANS_INERROR: return 2;
    default: return 0;
    }
}

/* TRUNCATE empties every table at once and restarts the ids, so that they
 * repeat from wipe to wipe as they do with SQLite. */
static int pg_wipe(store *s)
{
    PGresult *res = PQexec(DB(s)->conn, "SELECT string_agg(quote_ident(tablename), ', ')"
                                        " FROM pg_tables WHERE schemaname = current_schema()"
                                        " AND tablename <> 'schema_version'");
    char *sql;
    int rc = check(DB(s), res);

    if (rc || PQntuples(res) != 1 || PQgetisnull(res, 0, 0)) {
        PQclear(res);
        return rc;
    }
    sql = malloc(strlen(PQgetvalue(res, 0, 0)) + 64);
    if (sql) {
        sprintf(sql, "TRUNCATE %s RESTART IDENTITY CASCADE", PQgetvalue(res, 0, 0));
        rc = pg_script(s, sql);
    }
    free(sql);
    PQclear(res);
    return sql ? rc : -1;
}

static void pg_close(store *s)
{
    PQfinish(DB(s)->conn);
    free(DB(s));
}

const sq_driver sq_pg_driver = {
    "postgresql", "BEGIN", pg_close,   pg_errmsg,   pg_script, pg_prepare,
    pg_start,     pg_step, pg_reset,   pg_finalize, pg_writes, pg_text,
    pg_i64,       pg_sql,  pg_changes, pg_tx_state, pg_wipe,
};

static void quiet(void *ud, const char *message)
{
    (void)ud;
    (void)message;
}

/* lock_timeout: a row another server holds for longer than that (it
 * cannot, with group commit once a loop turn) fails the write rather than
 * stalling this server's loop. */
int sq_pg_open(store *s, const char *url, int durable)
{
    /* A connection (or a reconnection, which the loop waits for) gives up
     * after 5 s unless the URL says otherwise: it comes later and wins. */
    const char *const keys[] = {"connect_timeout", "dbname", NULL};
    const char *const values[] = {"5", url, NULL};
    pg_db *db = calloc(1, sizeof *db);

    s->drv = &sq_pg_driver;
    if (!db)
        return -1;
    s->db = db;
    db->conn = PQconnectdbParams(keys, values, 1);
    if (PQstatus(db->conn) != CONNECTION_OK) {
        keep_error(db, NULL);
        fprintf(stderr, "parley-server: db: cannot connect to PostgreSQL: %s\n", db->err);
        return -1;
    }
    PQsetNoticeProcessor(db->conn, quiet, NULL);
    db->settings = durable ? "SET client_min_messages = warning; SET lock_timeout = '5s'"
                           : "SET client_min_messages = warning; SET lock_timeout = '5s';"
                             " SET synchronous_commit = off";
    return sq_script(s, db->settings);
}
