/* What the store's files (store*.c) share, and nobody else sees: the
 * handle, small statement helpers, and the driver under them, one of
 * SQLite (store_sqlite.c) and PostgreSQL (store_pg.c). The area files
 * speak only through sq_*, so each statement is written once; where the
 * two dialects differ the text is chosen by SQ_DIALECT at its call site.
 *
 * The SQL both accept: parameters ?1..?N (the PostgreSQL driver turns them
 * into $1..$N), the column "user" quoted (a reserved word there), upserts
 * with ON CONFLICT (a subquery in FROM needs an alias, an upsert's WHERE
 * names the table's columns with the table), RETURNING for the ids the
 * database assigns, coalesce() and CASE rather than IFNULL() and two-
 * argument MAX(), and instr() (PostgreSQL gets one from the schema).
 *
 * Statements come from a cache of prepared statements, keyed by the
 * address of their SQL text (a string literal at its call site): sq_run and
 * sq_row run one that returns no row or one row, sq_query one to iterate
 * over (finished by sq_finish). A cached statement is taken while in use;
 * a second use of the same SQL meanwhile (an iteration's callback that
 * runs the same query again, directly or not) gets a statement prepared
 * for that use alone, so that an iteration's callback may use the store.
 * A kept statement holds nothing of its run once it ends: not its rows,
 * not its arguments (a user's text). SQL built at run time goes through
 * sq_run_once or sq_query_once. */
#ifndef PARLEY_SERVER_STORE_SQL_H
#define PARLEY_SERVER_STORE_SQL_H

#include <stdarg.h>
#include <stdint.h>

#include "store.h"

/* Slots of the statement cache (a power of two): the server has some 150
 * call sites; a statement beyond 3/4 of this is prepared for its use
 * alone, as if uncached. */
#define SQ_CACHE 512

/* A statement and, once it ran, its current row: each driver's statement
 * starts with this. */
typedef struct sq_stmt {
    const struct sq_driver *drv;
    int primed; /* sq_query ran it to its first row: 1 + what it found, for sq_step */
    int kept;   /* in the store's cache: its end resets it rather than finalizes it */
    int busy;   /* a kept statement in use */
} sq_stmt;

/* A database engine (store_sqlite.c, store_pg.c). Errors return -1 and
 * leave the reason for errmsg. */
typedef struct sq_driver {
    const char *name;
    const char *begin_sql; /* a transaction that takes the write lock */
    void (*close)(store *s);
    const char *(*errmsg)(store *s);
    /* A script of statements without arguments. */
    int (*script)(store *s, const char *sql);
    /* A statement of `sql`; `keep`: cached for the store's lifetime. */
    sq_stmt *(*prepare)(store *s, const char *sql, int keep);
    /* Binds the arguments (sq_run's `types`) and runs the statement to its
     * first row: 1 on a row, 0 on none, -1. */
    int (*start)(sq_stmt *st, const char *types, va_list ap);
    int (*step)(sq_stmt *st);   /* the next row: 1, 0 at the end, -1 */
    void (*reset)(sq_stmt *st); /* the run is over: its rows and arguments let go */
    void (*finalize)(sq_stmt *st);
    int (*writes)(const sq_stmt *st);          /* 0 for a statement that only reads */
    const char *(*text)(sq_stmt *st, int col); /* NULL for NULL */
    int64_t (*i64)(sq_stmt *st, int col);
    const char *(*sql)(const sq_stmt *st);
    int64_t (*changes)(store *s);
    /* 0 outside a transaction, 1 in one, 2 in one that an error spoiled
     * (PostgreSQL: it must be rolled back, to a savepoint or whole). */
    int (*tx_state)(store *s);
    int (*wipe)(store *s);
} sq_driver;

extern const sq_driver sq_sqlite_driver;
extern const sq_driver sq_pg_driver;

struct store {
    const sq_driver *drv;
    void *db; /* the driver's connection */
    struct {
        const char *sql;
        sq_stmt *st;
    } cache[SQ_CACHE]; /* open addressing on the SQL's address */
    size_t cached;
    /* Group commit (store.h): with `grouping`, the first write after a
     * commit opens the group's transaction, and store_begin and
     * store_commit are savepoints inside it, `depth` deep. `lost`: the
     * database rolled the group back by itself (a full disk, an I/O error,
     * a deadlock, a lost connection), so its commit must report failure
     * whatever comes after. */
    int grouping, group_open, depth, lost;
    int64_t group_no, committed_no;
    void (*on_group)(void *ud);
    void *on_group_ud;
    /* The driver's wipe (store_wipe), prepared on its first call and
     * finalized with the store. */
    sq_stmt **wipe;
    size_t nwipe;
};

/* 1 on PostgreSQL. */
#define SQ_PG(s) ((s)->drv == &sq_pg_driver)
/* The text of the statement for this store's engine: both literals, so
 * that the statement cache keys on either. */
#define SQ_DIALECT(s, sqlite_sql, pg_sql) (SQ_PG(s) ? (pg_sql) : (sqlite_sql))

/* The drivers' openers: 0, or -1 with the reason on stderr. */
int sq_sqlite_open(store *s, const char *path, int durable);
int sq_pg_open(store *s, const char *url, int durable);

/* Before statement `st` runs: opens the group's transaction when grouping,
 * `st` writes (NULL: may write) and none is open. 0, or -1. Reads need no
 * group: on this one connection they see the open group's writes anyway. */
int sq_group(store *s, sq_stmt *st);

/* Arguments are bound one per character of `types`: 't' a const char *
 * (NULL binds NULL), 'i' an int64_t. */

/* Runs a statement that returns no row (a row of RETURNING is skipped). */
int sq_run(store *s, const char *sql, const char *types, ...);
/* The same, prepared for this one run: for SQL built at run time and the
 * statements of migrations, which the cache would only hold on to. */
int sq_run_once(store *s, const char *sql, const char *types, ...);
/* Runs a cached statement to its first row: the statement on a row (read
 * it, then sq_done), NULL at the end or on error, *rc saying which (1, 0,
 * -1). */
sq_stmt *sq_row(store *s, int *rc, const char *sql, const char *types, ...);
/* Ends the use of a statement sq_row returned (NULL is fine). */
void sq_done(sq_stmt *st);

/* A statement run to its first row, to iterate over with sq_step and end
 * with sq_finish; NULL on error. */
sq_stmt *sq_query(store *s, const char *sql, const char *types, ...);
/* The same, prepared for this one iteration: for SQL built at run time. */
sq_stmt *sq_query_once(store *s, const char *sql, const char *types, ...);
/* 1 on a row, 0 at the end, -1 on error (also for a NULL statement). */
int sq_step(store *s, sq_stmt *st);
void sq_finish(sq_stmt *st);

/* Runs an INSERT ... RETURNING of one integer (the id the database
 * assigned) to its end: 0 with *id, or -1 (also when no row came back). */
int sq_insert_id(store *s, int64_t *id, const char *sql, const char *types, ...);

/* Rows changed by the last statement. */
int64_t sq_changes(store *s);

/* Runs a script of statements without arguments (a schema). */
int sq_script(store *s, const char *sql);
/* Runs one statement of transaction control (BEGIN, COMMIT, SAVEPOINT...;
 * a literal) as sq_script would, from the cache on SQLite: a write's
 * transaction parsed its BEGIN and COMMIT each time. 0, or -1 (logged). */
int sq_tx(store *s, const char *sql);
/* Logs the database's complaint about `what`; returns -1. */
int sq_fail(store *s, const char *what);

/* Column text, never NULL ("" for NULL), and NULL-preserving text. */
const char *sq_text(sq_stmt *st, int col);
const char *sq_text_or_null(sq_stmt *st, int col);
/* Column integers (0 for NULL; a PostgreSQL boolean is 1 or 0). */
int64_t sq_i64(sq_stmt *st, int col);
int sq_int(sq_stmt *st, int col);
/* A malloc'd copy of the column's text; NULL for NULL (and when out of
 * memory: *oom set then). */
char *sq_dup(sq_stmt *st, int col, int *oom);

/* ---- the schema (store_migrate.c) ---- */

/* Brings the database up to version `upto` (0: the newest), in one
 * transaction that several servers starting at once take in turn. 0/-1. */
int store_migrate(store *s, int upto);
/* The database's schema version (0 before any migration), or -1. */
int store_schema_version(store *s);
/* The newest version this server knows. */
int store_schema_newest(void);
/* store_open, not durable, migrated up to `upto` only: for tests of the
 * migrations. */
int store_open_at(const char *where, int upto, store **out);

/* The areas' parts of the migrations (SQLite: each area's tables, and the
 * steps that bring a database of an older server up to date). */
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
