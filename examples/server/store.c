#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

enum {
    Q_BEGIN,
    Q_COMMIT,
    Q_ROLLBACK,
    Q_USER_SEEN,
    Q_SESSION_CHECK,
    Q_SESSION_CREATE,
    Q_CONV_OWNER,
    Q_CONV_CREATE,
    Q_CONV_LIST,
    Q_CONV_GET,
    Q_MSG_BY_CID,
    Q_CONV_NEXT_SEQ,
    Q_MSG_INSERT,
    Q_MSG_LIST,
    Q_COUNT
};

static const char *const sql_text[Q_COUNT] = {
    [Q_BEGIN] = "BEGIN IMMEDIATE",
    [Q_COMMIT] = "COMMIT",
    [Q_ROLLBACK] = "ROLLBACK",
    /* A user never changes kind: that would hand an anonymous user's rows to
     * an identified one (or back) without any proof. */
    [Q_USER_SEEN] = "INSERT INTO users(id, kind, app, first_seen_ms, last_seen_ms) "
                    "VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(id) DO UPDATE SET "
                    "app = excluded.app, last_seen_ms = excluded.last_seen_ms "
                    "WHERE kind = excluded.kind",
    [Q_SESSION_CHECK] = "UPDATE sessions SET last_seen_ms = ?3 WHERE token = ?1 AND user = ?2",
    [Q_SESSION_CREATE] = "INSERT INTO sessions(token, user, created_ms, last_seen_ms) "
                         "VALUES(?1, ?2, ?3, ?3)",
    [Q_CONV_OWNER] = "SELECT user FROM conversations WHERE id = ?1",
    [Q_CONV_CREATE] = "INSERT INTO conversations(id, user, subject, start_cid, context, created_ms) "
                      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
    [Q_CONV_LIST] = "SELECT id, user, subject, created_ms, last_seq FROM conversations "
                    "ORDER BY created_ms, id",
    [Q_CONV_GET] = "SELECT id, user, subject, created_ms, last_seq FROM conversations WHERE id = ?1",
    [Q_MSG_BY_CID] = "SELECT id, seq FROM messages WHERE conv = ?1 AND cid = ?2",
    [Q_CONV_NEXT_SEQ] = "UPDATE conversations SET last_seq = last_seq + 1 WHERE id = ?1 "
                        "RETURNING last_seq",
    [Q_MSG_INSERT] = "INSERT INTO messages(conv, seq, cid, author_kind, author_name, text, ts, "
                     "context, blocks, postback) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)",
    [Q_MSG_LIST] = "SELECT id, seq, cid, author_kind, author_name, text, ts, context, blocks, "
                   "postback FROM messages WHERE conv = ?1 AND seq > ?2 ORDER BY seq",
};

/* The message id is derived from the row number so that it is unique and
 * known the moment the row exists. A user's id is unique across both kinds
 * ("id", "anon") because their forms are disjoint (identity.c); secret_hash
 * is the SHA-256 of an anonymous user's merge secret. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users("
    " id TEXT PRIMARY KEY, kind TEXT NOT NULL, app TEXT,"
    " first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, secret_hash TEXT);"
    "CREATE TABLE IF NOT EXISTS sessions("
    " token TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id),"
    " created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS conversations("
    " id TEXT PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id), subject TEXT,"
    " start_cid TEXT, context TEXT, created_ms INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS conversations_user ON conversations(user);"
    "CREATE TABLE IF NOT EXISTS messages("
    " n INTEGER PRIMARY KEY,"
    " id TEXT GENERATED ALWAYS AS ('m-' || n) VIRTUAL,"
    " conv TEXT NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL,"
    " cid TEXT, author_kind TEXT NOT NULL, author_name TEXT, text TEXT NOT NULL,"
    " ts INTEGER NOT NULL, context TEXT,"
    " UNIQUE(conv, seq), UNIQUE(conv, cid));"
    "CREATE TABLE IF NOT EXISTS attributes("
    " user TEXT NOT NULL REFERENCES users(id), key TEXT NOT NULL, value TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL, PRIMARY KEY(user, key));";

struct db {
    sqlite3 *h;
    sqlite3_stmt *q[Q_COUNT];
};

static int fail(db *d, const char *what)
{
    fprintf(stderr, "parley-server: db: %s: %s\n", what, sqlite3_errmsg(d->h));
    return -1;
}

static int exec_sql(db *d, const char *sql)
{
    char *err = NULL;

    if (sqlite3_exec(d->h, sql, NULL, NULL, &err) == SQLITE_OK)
        return 0;
    fprintf(stderr, "parley-server: db: %s\n", err ? err : sqlite3_errmsg(d->h));
    sqlite3_free(err);
    return -1;
}

/* journal_mode answers with a row; a database that cannot do WAL (e.g. some
 * network filesystems) silently stays in another mode, which we refuse. */
static int enable_wal(db *d)
{
    sqlite3_stmt *st;
    int ok;

    if (sqlite3_prepare_v2(d->h, "PRAGMA journal_mode=WAL", -1, &st, NULL) != SQLITE_OK)
        return fail(d, "journal_mode");
    ok = sqlite3_step(st) == SQLITE_ROW && sqlite3_column_text(st, 0) &&
         strcmp((const char *)sqlite3_column_text(st, 0), "wal") == 0;
    sqlite3_finalize(st);
    if (!ok) {
        fprintf(stderr, "parley-server: db: cannot enable WAL mode\n");
        return -1;
    }
    return 0;
}

/* Columns added after the first release: a database made by an older server
 * gets them on open. */
static int add_message_columns(db *d)
{
    static const char *const columns[] = {"blocks", "postback"};
    char sql[128];
    sqlite3_stmt *st;
    size_t i;
    int rc;

    for (i = 0; i < sizeof columns / sizeof columns[0]; i++) {
        if (sqlite3_prepare_v2(d->h, "SELECT 1 FROM pragma_table_info('messages') WHERE name = ?1",
                               -1, &st, NULL) != SQLITE_OK)
            return fail(d, "table_info");
        sqlite3_bind_text(st, 1, columns[i], -1, SQLITE_STATIC);
        rc = sqlite3_step(st);
        sqlite3_finalize(st);
        if (rc == SQLITE_ROW)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE messages ADD COLUMN %s TEXT", columns[i]);
        if (rc != SQLITE_DONE || exec_sql(d, sql))
            return -1;
    }
    return 0;
}

static int prepare_all(db *d)
{
    int i;

    for (i = 0; i < Q_COUNT; i++) {
        if (sqlite3_prepare_v3(d->h, sql_text[i], -1, SQLITE_PREPARE_PERSISTENT, &d->q[i],
                               NULL) != SQLITE_OK)
            return fail(d, sql_text[i]);
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
            fprintf(stderr, "parley-server: warning: database %s can be read by other users "
                            "(chmod 600 it and its -wal and -shm)\n", path);
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

int db_open(const char *path, db **out)
{
    db *d;

    *out = NULL;
    if (create_private(path))
        return -1;
    d = calloc(1, sizeof *d);
    if (!d)
        return -1;
    if (sqlite3_open_v2(path, &d->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
        SQLITE_OK) {
        fprintf(stderr, "parley-server: db: cannot open %s: %s\n", path,
                d->h ? sqlite3_errmsg(d->h) : "out of memory");
        db_close(d);
        return -1;
    }
    sqlite3_busy_timeout(d->h, 5000);
    if (enable_wal(d) || exec_sql(d, "PRAGMA synchronous=FULL; PRAGMA foreign_keys=ON;") ||
        exec_sql(d, schema) || add_message_columns(d) || prepare_all(d)) {
        db_close(d);
        return -1;
    }
    *out = d;
    return 0;
}

void db_close(db *d)
{
    int i;

    if (!d)
        return;
    for (i = 0; i < Q_COUNT; i++)
        sqlite3_finalize(d->q[i]);
    sqlite3_close(d->h);
    free(d);
}

sqlite3 *db_sqlite(db *d)
{
    return d->h;
}

/* Returns the statement reset and with its bindings cleared. */
static sqlite3_stmt *stmt(db *d, int which)
{
    sqlite3_reset(d->q[which]);
    sqlite3_clear_bindings(d->q[which]);
    return d->q[which];
}

static void bind_text(sqlite3_stmt *st, int idx, const char *s)
{
    if (s)
        sqlite3_bind_text(st, idx, s, -1, SQLITE_STATIC);
    else
        sqlite3_bind_null(st, idx);
}

/* Steps a statement that returns no row; 0 or -1. */
static int run(db *d, sqlite3_stmt *st, const char *what)
{
    int rc = sqlite3_step(st);

    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(d, what);
}

int db_begin(db *d)
{
    return run(d, stmt(d, Q_BEGIN), "begin");
}

int db_commit(db *d)
{
    return run(d, stmt(d, Q_COMMIT), "commit");
}

void db_rollback(db *d)
{
    if (!sqlite3_get_autocommit(d->h))
        run(d, stmt(d, Q_ROLLBACK), "rollback");
}

int db_user_seen(db *d, const char *user, const char *kind, const char *app, int64_t now)
{
    sqlite3_stmt *st = stmt(d, Q_USER_SEEN);

    bind_text(st, 1, user);
    bind_text(st, 2, kind);
    bind_text(st, 3, app);
    sqlite3_bind_int64(st, 4, now);
    if (run(d, st, "user"))
        return -1;
    return sqlite3_changes(d->h) > 0 ? 0 : 1;
}

int db_session_check(db *d, const char *token, const char *user, int64_t now)
{
    sqlite3_stmt *st = stmt(d, Q_SESSION_CHECK);

    bind_text(st, 1, token);
    bind_text(st, 2, user);
    sqlite3_bind_int64(st, 3, now);
    if (run(d, st, "session"))
        return -1;
    return sqlite3_changes(d->h) > 0;
}

int db_session_create(db *d, const char *token, const char *user, int64_t now)
{
    sqlite3_stmt *st = stmt(d, Q_SESSION_CREATE);

    bind_text(st, 1, token);
    bind_text(st, 2, user);
    sqlite3_bind_int64(st, 3, now);
    return run(d, st, "new session");
}

int db_conv_owner(db *d, const char *conv, char *user_out, size_t cap)
{
    sqlite3_stmt *st = stmt(d, Q_CONV_OWNER);
    const char *user;
    int rc, found = 0;

    bind_text(st, 1, conv);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        user = (const char *)sqlite3_column_text(st, 0);
        if (user && strlen(user) < cap) {
            memcpy(user_out, user, strlen(user) + 1);
            found = 1;
        }
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(d, "conversation owner");
    return found;
}

int db_conv_create(db *d, const char *conv, const char *user, const char *subject,
                   const char *cid, const char *context, int64_t now)
{
    sqlite3_stmt *st = stmt(d, Q_CONV_CREATE);

    bind_text(st, 1, conv);
    bind_text(st, 2, user);
    bind_text(st, 3, subject);
    bind_text(st, 4, cid);
    bind_text(st, 5, context);
    sqlite3_bind_int64(st, 6, now);
    return run(d, st, "new conversation");
}

int db_conv_each(db *d, db_conv_cb cb, void *ud)
{
    sqlite3_stmt *st = stmt(d, Q_CONV_LIST);
    db_conv c;
    int rc = SQLITE_DONE, stop = 0;

    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        c.id = (const char *)sqlite3_column_text(st, 0);
        c.user = (const char *)sqlite3_column_text(st, 1);
        c.subject = (const char *)sqlite3_column_text(st, 2);
        c.created_ms = sqlite3_column_int64(st, 3);
        c.last_seq = sqlite3_column_int64(st, 4);
        stop = cb(ud, &c);
    }
    sqlite3_reset(st);
    if (!stop && rc != SQLITE_DONE)
        return fail(d, "list conversations");
    return stop;
}

int db_conv_get(db *d, const char *id, db_conv_cb cb, void *ud)
{
    sqlite3_stmt *st = stmt(d, Q_CONV_GET);
    db_conv c;
    int rc, stop = 0;

    bind_text(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        c.id = (const char *)sqlite3_column_text(st, 0);
        c.user = (const char *)sqlite3_column_text(st, 1);
        c.subject = (const char *)sqlite3_column_text(st, 2);
        c.created_ms = sqlite3_column_int64(st, 3);
        c.last_seq = sqlite3_column_int64(st, 4);
        stop = cb(ud, &c);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(d, "get conversation");
    return rc == SQLITE_ROW ? (stop ? -1 : 1) : 0;
}

static void copy_id(db_msg *m, const unsigned char *id)
{
    snprintf(m->id, sizeof m->id, "%s", id ? (const char *)id : "");
}

int db_msg_by_cid(db *d, const char *conv, const char *cid, db_msg *out)
{
    sqlite3_stmt *st = stmt(d, Q_MSG_BY_CID);
    int rc;

    bind_text(st, 1, conv);
    bind_text(st, 2, cid);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        copy_id(out, sqlite3_column_text(st, 0));
        out->seq = sqlite3_column_int64(st, 1);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return fail(d, "message by cid");
    return rc == SQLITE_ROW;
}

static int next_seq(db *d, const char *conv, int64_t *seq)
{
    sqlite3_stmt *st = stmt(d, Q_CONV_NEXT_SEQ);
    int rc;

    bind_text(st, 1, conv);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *seq = sqlite3_column_int64(st, 0);
    /* RETURNING applies the update when the statement runs to completion. */
    if (rc == SQLITE_ROW)
        rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? 0 : fail(d, "next seq");
}

int db_msg_insert(db *d, db_msg *m)
{
    sqlite3_stmt *st;

    if (next_seq(d, m->conv, &m->seq))
        return -1;
    st = stmt(d, Q_MSG_INSERT);
    bind_text(st, 1, m->conv);
    sqlite3_bind_int64(st, 2, m->seq);
    bind_text(st, 3, m->cid);
    bind_text(st, 4, m->author_kind);
    bind_text(st, 5, m->author_name);
    bind_text(st, 6, m->text);
    sqlite3_bind_int64(st, 7, m->ts);
    bind_text(st, 8, m->context);
    bind_text(st, 9, m->blocks);
    bind_text(st, 10, m->postback);
    if (run(d, st, "insert message"))
        return -1;
    snprintf(m->id, sizeof m->id, "m-%" PRId64, (int64_t)sqlite3_last_insert_rowid(d->h));
    return 0;
}

int db_msg_each(db *d, const char *conv, int64_t after_seq, db_msg_cb cb, void *ud)
{
    sqlite3_stmt *st = stmt(d, Q_MSG_LIST);
    db_msg m;
    int rc = SQLITE_DONE, stop = 0;

    bind_text(st, 1, conv);
    sqlite3_bind_int64(st, 2, after_seq);
    while (!stop && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        m.conv = conv;
        copy_id(&m, sqlite3_column_text(st, 0));
        m.seq = sqlite3_column_int64(st, 1);
        m.cid = (const char *)sqlite3_column_text(st, 2);
        m.author_kind = (const char *)sqlite3_column_text(st, 3);
        m.author_name = (const char *)sqlite3_column_text(st, 4);
        m.text = (const char *)sqlite3_column_text(st, 5);
        m.ts = sqlite3_column_int64(st, 6);
        m.context = (const char *)sqlite3_column_text(st, 7);
        m.blocks = (const char *)sqlite3_column_text(st, 8);
        m.postback = (const char *)sqlite3_column_text(st, 9);
        stop = cb(ud, &m);
    }
    sqlite3_reset(st);
    if (!stop && rc != SQLITE_DONE)
        return fail(d, "list messages");
    return stop;
}
