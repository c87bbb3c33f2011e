#include "store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* journal_mode answers with a row; a database that cannot do WAL (e.g. some
 * network filesystems) silently stays in another mode, which we refuse. */
static int enable_wal(store *s)
{
    sqlite3_stmt *st;
    int ok;

    if (sqlite3_prepare_v2(s->h, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
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

/* Each area's tables, then the migration that needs them all (it renames
 * users wherever a column names one). */
static int init_schema(store *s)
{
    return store_users_init(s) || store_convs_init(s) || store_context_init(s) ||
           store_surveys_init(s) || store_routing_init(s) || store_attach_init(s) ||
           store_push_init(s) || store_users_separate(s) || store_agents_init(s);
}

static int configure(store *s, int durable)
{
    sqlite3_busy_timeout(s->h, 5000);
    if (enable_wal(s) || sq_script(s, "PRAGMA foreign_keys=ON;"))
        return -1;
    return sq_script(s, durable ? "PRAGMA synchronous=FULL;" : "PRAGMA synchronous=OFF;");
}

int store_open(const char *path, int durable, store **out)
{
    store *s;

    *out = NULL;
    if (create_private(path))
        return -1;
    s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    if (sqlite3_open_v2(path, &s->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "parley-server: db: cannot open %s: %s\n", path,
                s->h ? sqlite3_errmsg(s->h) : "out of memory");
        store_close(s);
        return -1;
    }
    if (configure(s, durable) || init_schema(s)) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

static void wipe_free(store *s)
{
    size_t i;

    for (i = 0; i < s->nwipe; i++)
        sqlite3_finalize(s->wipe[i]);
    free(s->wipe);
    s->wipe = NULL;
    s->nwipe = 0;
}

void store_close(store *s)
{
    size_t i;

    if (!s)
        return;
    wipe_free(s);
    for (i = 0; i < s->cached; i++)
        sqlite3_finalize(s->cache[i].st);
    sqlite3_close(s->h);
    free(s);
}

/* SQLite ends a transaction by itself on some errors (a full disk, an I/O
 * error): the group's writes so far are gone. 1 when that happened. */
static int group_vanished(store *s)
{
    if (!s->group_open || !sqlite3_get_autocommit(s->h))
        return 0;
    s->lost = 1;
    s->depth = 0;
    return 1;
}

int sq_group(store *s, sqlite3_stmt *st)
{
    int opening;

    if (!s->grouping || (st && sqlite3_stmt_readonly(st)))
        return 0;
    if (s->group_open && !group_vanished(s))
        return 0;
    /* After a vanished group, what follows still joins one (the same
     * number: its commit fails either way). */
    opening = !s->group_open;
    if (sq_script(s, "BEGIN IMMEDIATE"))
        return -1;
    s->group_open = 1;
    if (!opening)
        return 0;
    s->lost = 0;
    s->group_no++;
    if (s->on_group)
        s->on_group(s->on_group_ud);
    return 0;
}

void store_grouping(store *s, void (*on_open)(void *ud), void *ud)
{
    if (!on_open)
        store_group_commit(s);
    s->grouping = on_open != NULL;
    s->on_group = on_open;
    s->on_group_ud = ud;
}

int64_t store_group_pending(const store *s)
{
    return s->group_open ? s->group_no : 0;
}

int64_t store_group_committed(const store *s)
{
    return s->committed_no;
}

int store_group_commit(store *s)
{
    int ok;

    if (!s->group_open)
        return 0;
    group_vanished(s);
    s->group_open = 0;
    s->depth = 0;
    ok = sqlite3_get_autocommit(s->h) || sq_script(s, "COMMIT") == 0;
    if (ok && !s->lost) {
        s->committed_no = s->group_no;
        return 0;
    }
    if (!sqlite3_get_autocommit(s->h))
        sq_script(s, "ROLLBACK");
    s->lost = 0;
    fprintf(stderr, "parley-server: db: a group of writes could not be committed: rolled back\n");
    return -1;
}

/* In a group, a transaction is a savepoint: its writes become durable with
 * the group's, and a rollback undoes its own writes only. */
int store_begin(store *s)
{
    if (!s->grouping)
        return sq_run(s, "BEGIN IMMEDIATE", "");
    if (sq_group(s, NULL) || sq_script(s, "SAVEPOINT tx"))
        return -1;
    s->depth++;
    return 0;
}

int store_commit(store *s)
{
    if (!s->grouping)
        return sq_run(s, "COMMIT", "");
    if (group_vanished(s))
        return -1;
    if (!s->depth)
        return 0;
    if (sq_script(s, "RELEASE tx"))
        return -1;
    s->depth--;
    return 0;
}

void store_rollback(store *s)
{
    if (s->grouping) {
        if (!group_vanished(s) && s->depth && sq_script(s, "ROLLBACK TO tx; RELEASE tx") == 0)
            s->depth--;
        return;
    }
    if (!sqlite3_get_autocommit(s->h))
        sq_run(s, "ROLLBACK", "");
}

/* The wipe's statements, prepared on its first run and kept: a fuzz target
 * wipes before every input, and parsing a DELETE per table each time cost
 * more than the input. Tables go children first (ordered by how long a
 * chain of foreign keys leads to them), so foreign keys can stay on:
 * turning them off and on again would expire every prepared statement of
 * the store. One transaction makes it one commit. AUTOINCREMENT counters go
 * too, so that ids repeat from wipe to wipe. */
static int add_wipe(store *s, const char *sql)
{
    sqlite3_stmt **more = realloc(s->wipe, (s->nwipe + 1) * sizeof *more);

    if (!more)
        return -1;
    s->wipe = more;
    if (sqlite3_prepare_v3(s->h, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->wipe[s->nwipe], NULL) !=
        SQLITE_OK)
        return sq_fail(s, sql);
    s->nwipe++;
    return 0;
}

static int add_table_wipes(store *s)
{
    static const char children_first[] =
        "WITH RECURSIVE t(name) AS (SELECT name FROM sqlite_schema WHERE type = 'table' "
        "AND name NOT LIKE 'sqlite_%'), "
        "edge(child, parent) AS (SELECT t.name, f.\"table\" FROM t, "
        "pragma_foreign_key_list(t.name) f "
        "WHERE f.\"table\" <> t.name), "
        "depth(name, d) AS (SELECT name, 0 FROM t UNION ALL SELECT e.parent, depth.d + 1 "
        "FROM depth JOIN edge e ON e.child = depth.name WHERE depth.d < 64) "
        "SELECT name FROM depth GROUP BY name ORDER BY max(d), name";
    sqlite3_stmt *st = sq_query(s, children_first, "");
    char *sql;
    int rc;

    while ((rc = sq_step(s, st)) == 1) {
        sql = sqlite3_mprintf("DELETE FROM \"%w\"", sq_text(st, 0));
        rc = sql ? add_wipe(s, sql) : -1;
        sqlite3_free(sql);
        if (rc)
            break;
    }
    sq_finish(st);
    return rc;
}

static int prepare_wipe(store *s)
{
    if (s->nwipe)
        return 0;
    if (add_wipe(s, "BEGIN") || add_table_wipes(s) ||
        (sqlite3_table_column_metadata(s->h, NULL, "sqlite_sequence", "name", NULL, NULL, NULL,
                                       NULL, NULL) == SQLITE_OK &&
         add_wipe(s, "DELETE FROM sqlite_sequence")) ||
        add_wipe(s, "COMMIT")) {
        wipe_free(s);
        return -1;
    }
    return 0;
}

static int wipe_tables(store *s)
{
    size_t i;
    int rc = 0;

    if (prepare_wipe(s))
        return -1;
    for (i = 0; i < s->nwipe && rc == 0; i++) {
        int step = sqlite3_step(s->wipe[i]);

        if (step != SQLITE_DONE && step != SQLITE_ROW)
            rc = sq_fail(s, sqlite3_sql(s->wipe[i]));
        sqlite3_reset(s->wipe[i]);
    }
    if (rc && !sqlite3_get_autocommit(s->h))
        sq_script(s, "ROLLBACK");
    return rc;
}

/* Outside any transaction: the wipe is one of its own. */
int store_wipe(store *s)
{
    return store_group_commit(s) ? -1 : wipe_tables(s);
}
