/* The SQLite driver (store_sql.h): one file in WAL mode, every commit
 * synced (synchronous=FULL) unless the store is not durable. */
#include "store_sql.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

typedef struct lite_stmt {
    sq_stmt base;
    sqlite3_stmt *st;
} lite_stmt;

#define DB(s) ((sqlite3 *)(s)->db)
#define LITE(st) (((lite_stmt *)(st))->st)

static const char *lite_errmsg(store *s)
{
    return DB(s) ? sqlite3_errmsg(DB(s)) : "out of memory";
}

static int lite_script(store *s, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(DB(s), sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    /* errmsg still holds the statement's complaint. */
    sqlite3_free(err);
    return -1;
}

static sq_stmt *lite_prepare(store *s, const char *sql, int keep)
{
    lite_stmt *st = calloc(1, sizeof *st);

    if (!st)
        return NULL;
    st->base.drv = &sq_sqlite_driver;
    if (sqlite3_prepare_v3(DB(s), sql, -1, keep ? SQLITE_PREPARE_PERSISTENT : 0, &st->st, NULL) !=
        SQLITE_OK) {
        sqlite3_finalize(st->st);
        free(st);
        return NULL;
    }
    return &st->base;
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

static int lite_step(sq_stmt *st)
{
    int rc = sqlite3_step(LITE(st));

    return rc == SQLITE_ROW ? 1 : rc == SQLITE_DONE ? 0 : -1;
}

static int lite_start(sq_stmt *st, const char *types, va_list ap)
{
    sqlite3_reset(LITE(st));
    return bind_all(LITE(st), types, ap) ? -1 : lite_step(st);
}

/* A kept statement lets go of its arguments with its run, as libpq's
 * results do: it should not hold a user's text until its next run. */
static void lite_reset(sq_stmt *st)
{
    sqlite3_reset(LITE(st));
    sqlite3_clear_bindings(LITE(st));
}

static void lite_finalize(sq_stmt *st)
{
    sqlite3_finalize(LITE(st));
    free(st);
}

static int lite_writes(const sq_stmt *st)
{
    return !sqlite3_stmt_readonly(LITE(st));
}

static const char *lite_text(sq_stmt *st, int col)
{
    return (const char *)sqlite3_column_text(LITE(st), col);
}

static int64_t lite_i64(sq_stmt *st, int col)
{
    return sqlite3_column_int64(LITE(st), col);
}

static const char *lite_sql(const sq_stmt *st)
{
    return sqlite3_sql(LITE(st));
}

static int64_t lite_changes(store *s)
{
    return sqlite3_changes(DB(s));
}

static int lite_tx_state(store *s)
{
    return !sqlite3_get_autocommit(DB(s));
}

/* The wipe's statements, prepared on its first run and kept: a fuzz target
 * wipes before every input, and parsing a DELETE per table each time cost
 * more than the input. Every table but the schema's version, children
 * first (ordered by how long a chain of foreign keys leads to them), so
 * foreign keys can stay on: turning them off and on again would expire
 * every prepared statement of the connection. One transaction makes it one
 * commit. AUTOINCREMENT counters go too, so that ids repeat from wipe to
 * wipe. Each DELETE comes after a probe for a row: emptying an empty table
 * still rewrote its pages (and its indexes'), most of a wipe's commit. The
 * statements: BEGIN, (probe, DELETE) per table, COMMIT. */
static int add_wipe(store *s, const char *sql)
{
    sq_stmt **more = realloc(s->wipe, (s->nwipe + 1) * sizeof *more);

    if (!more)
        return -1;
    s->wipe = more;
    if (!(s->wipe[s->nwipe] = lite_prepare(s, sql, 1)))
        return sq_fail(s, sql);
    s->nwipe++;
    return 0;
}

/* A table's probe and DELETE: SQLITE_OK, or SQLITE_ERROR. */
static int add_table_wipe(store *s, const char *table)
{
    char *probe = sqlite3_mprintf("SELECT 1 FROM \"%w\" LIMIT 1", table);
    char *del = sqlite3_mprintf("DELETE FROM \"%w\"", table);
    int rc = probe && del && add_wipe(s, probe) == 0 && add_wipe(s, del) == 0;

    sqlite3_free(probe);
    sqlite3_free(del);
    return rc ? SQLITE_OK : SQLITE_ERROR;
}

static int add_table_wipes(store *s)
{
    static const char children_first[] =
        "WITH RECURSIVE t(name) AS (SELECT name FROM sqlite_schema WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%' AND name <> 'schema_version'), "
        "edge(child, parent) AS (SELECT t.name, f.\"table\" FROM t, "
        "pragma_foreign_key_list(t.name) f WHERE f.\"table\" <> t.name), "
        "depth(name, d) AS (SELECT name, 0 FROM t UNION ALL SELECT e.parent, depth.d + 1 "
        "FROM depth JOIN edge e ON e.child = depth.name WHERE depth.d < 64) "
        "SELECT name FROM depth GROUP BY name ORDER BY max(d), name";
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(DB(s), children_first, -1, &st, NULL);

    while (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW)
        rc = add_table_wipe(s, (const char *)sqlite3_column_text(st, 0));
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? 0 : -1;
}

static int prepare_wipe(store *s)
{
    if (s->nwipe)
        return 0;
    if (add_wipe(s, "BEGIN") || add_table_wipes(s) ||
        (sqlite3_table_column_metadata(DB(s), NULL, "sqlite_sequence", "name", NULL, NULL, NULL,
                                       NULL, NULL) == SQLITE_OK &&
         add_table_wipe(s, "sqlite_sequence") != SQLITE_OK) ||
        add_wipe(s, "COMMIT")) {
        while (s->nwipe)
            lite_finalize(s->wipe[--s->nwipe]);
        return -1;
    }
    return 0;
}

static int wipe_step(sq_stmt *st)
{
    int rc = lite_step(st);

    lite_reset(st);
    return rc;
}

/* Outside any transaction: the wipe is one of its own. */
static int lite_wipe(store *s)
{
    size_t i, commit;
    int rc;

    if (prepare_wipe(s))
        return -1;
    commit = s->nwipe - 1;
    rc = wipe_step(s->wipe[0]);
    for (i = 1; i < commit && rc >= 0; i += 2) {
        rc = wipe_step(s->wipe[i]);
        if (rc == 1)
            rc = wipe_step(s->wipe[i + 1]);
    }
    if (rc >= 0)
        rc = wipe_step(s->wipe[commit]);
    if (rc < 0 && !sqlite3_get_autocommit(DB(s)))
        lite_script(s, "ROLLBACK");
    return rc < 0 ? -1 : 0;
}

static void lite_close(store *s)
{
    sqlite3_close(DB(s));
}

const sq_driver sq_sqlite_driver = {
    "sqlite",   "BEGIN IMMEDIATE", lite_close,   lite_errmsg,   lite_script, lite_prepare,
    lite_start, lite_step,         lite_reset,   lite_finalize, lite_writes, lite_text,
    lite_i64,   lite_sql,          lite_changes, lite_tx_state, lite_wipe,
};

/* journal_mode answers with a row; a database that cannot do WAL (e.g. some
 * network filesystems) silently stays in another mode, which we refuse. */
static int enable_wal(store *s)
{
    sqlite3_stmt *st;
    int ok;

    if (sqlite3_prepare_v2(DB(s), "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return sq_fail(s, "journal_mode");
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
         strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!ok) {
        fprintf(stderr, "parley-server: db: cannot enable WAL mode\n");
        return -1;
    }
    return 0;
}

/* SQLite creates a database with the process's umask, and its -wal and
 * -shm with the database's own mode: creating the file 0600 first keeps all
 * three private whatever the umask. An older file that others may read is
 * left as it is, with a warning. */
static int create_private(const char *path)
{
    struct stat st;
    int fd;

    if (!*path || strcmp(path, ":memory:") == 0)
        return 0;
    if (stat(path, &st) == 0) {
        if (st.st_mode & 077)
            fprintf(stderr,
                    "parley-server: warning: database %s can be read by other users "
                    "(chmod 600 it and its -wal and -shm)\n",
                    path);
        return 0;
    }
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0 && errno != EEXIST) {
        fprintf(stderr, "parley-server: db: cannot create %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (fd >= 0)
        close(fd);
    return 0;
}

int sq_sqlite_open(store *s, const char *path, int durable)
{
    sqlite3 *h = NULL;

    s->drv = &sq_sqlite_driver;
    if (create_private(path))
        return -1;
    if (sqlite3_open_v2(path, &h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) != SQLITE_OK) {
        fprintf(stderr, "parley-server: db: cannot open %s: %s\n", path,
                h ? sqlite3_errmsg(h) : "out of memory");
        sqlite3_close(h);
        return -1;
    }
    s->db = h;
    sqlite3_busy_timeout(h, 5000);
    if (enable_wal(s) || sq_script(s, "PRAGMA foreign_keys=ON;"))
        return -1;
    return sq_script(s, durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;");
}
