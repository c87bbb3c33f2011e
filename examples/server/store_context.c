#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A stale part (attribute, screen, breadcrumbs, device) is one the client's
 * latest full state lacked: the last known value, kept. *_ms: when each
 * part of the picture was last reported. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS attributes("
    " \"user\" TEXT NOT NULL REFERENCES users(id), key TEXT NOT NULL, value TEXT NOT NULL,"
    " updated_ms INTEGER NOT NULL, stale INTEGER NOT NULL DEFAULT 0, PRIMARY KEY(\"user\", key));"
    "CREATE TABLE IF NOT EXISTS user_context("
    " \"user\" TEXT PRIMARY KEY REFERENCES users(id), screen TEXT,"
    " breadcrumbs TEXT NOT NULL, device TEXT NOT NULL, updated_ms INTEGER NOT NULL,"
    " screen_ms INTEGER NOT NULL DEFAULT 0, crumbs_ms INTEGER NOT NULL DEFAULT 0,"
    " device_ms INTEGER NOT NULL DEFAULT 0, screen_stale INTEGER NOT NULL DEFAULT 0,"
    " crumbs_stale INTEGER NOT NULL DEFAULT 0, device_stale INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS events("
    " n INTEGER PRIMARY KEY, \"user\" TEXT NOT NULL REFERENCES users(id), cid TEXT NOT NULL,"
    " name TEXT NOT NULL, meta TEXT, ts INTEGER NOT NULL, received_ms INTEGER NOT NULL,"
    " UNIQUE(\"user\", cid));"
    "CREATE INDEX IF NOT EXISTS events_user_ts ON events(\"user\", ts);";

/* Columns added after the first release: a database made by an older
 * server gets them on open, each part of a picture as reported when the
 * picture last changed. */
static const struct {
    const char *table, *column, *type;
} added[] = {
    {"attributes", "stale", "INTEGER NOT NULL DEFAULT 0"},
    {"user_context", "screen_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"user_context", "crumbs_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"user_context", "device_ms", "INTEGER NOT NULL DEFAULT 0"},
    {"user_context", "screen_stale", "INTEGER NOT NULL DEFAULT 0"},
    {"user_context", "crumbs_stale", "INTEGER NOT NULL DEFAULT 0"},
    {"user_context", "device_stale", "INTEGER NOT NULL DEFAULT 0"},
};

/* 1 when `table` has `column`, 0/-1. */
static int has_column(store *s, const char *table, const char *column)
{
    sq_stmt *st =
        sq_query(s, "SELECT 1 FROM pragma_table_info(?1) WHERE name = ?2", "tt", table, column);
    int rc = sq_step(s, st);

    sq_finish(st);
    return rc;
}

static int add_columns(store *s)
{
    char sql[160];
    size_t i;
    int rc, dated = 0;

    for (i = 0; i < sizeof added / sizeof added[0]; i++) {
        rc = has_column(s, added[i].table, added[i].column);
        if (rc < 0)
            return -1;
        if (rc == 1)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE %s ADD COLUMN %s %s", added[i].table,
                 added[i].column, added[i].type);
        if (sq_run_once(s, sql, ""))
            return -1;
        dated |= strcmp(added[i].table, "user_context") == 0;
    }
    if (dated && sq_run_once(s,
                             "UPDATE user_context SET screen_ms = updated_ms, "
                             "crumbs_ms = updated_ms, device_ms = updated_ms",
                             ""))
        return -1;
    return 0;
}

int store_context_init(store *s)
{
    return sq_script(s, schema) || add_columns(s) ? -1 : 0;
}

/* ---- the picture: screen, breadcrumbs, device ---- */

int store_picture_get(store *s, const char *user, store_picture *out)
{
    int rc, oom = 0;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT screen, breadcrumbs, device, updated_ms, screen_ms, "
                         "crumbs_ms, device_ms, screen_stale, crumbs_stale, device_stale "
                         "FROM user_context WHERE \"user\" = ?1",
                         "t", user);

    memset(out, 0, sizeof *out);
    if (rc == 1) {
        out->found = 1;
        out->screen = sq_dup(st, 0, &oom);
        out->crumbs = sq_dup(st, 1, &oom);
        out->device = sq_dup(st, 2, &oom);
        out->updated_ms = sq_i64(st, 3);
        out->screen_ms = sq_i64(st, 4);
        out->crumbs_ms = sq_i64(st, 5);
        out->device_ms = sq_i64(st, 6);
        out->screen_stale = sq_int(st, 7) != 0;
        out->crumbs_stale = sq_int(st, 8) != 0;
        out->device_stale = sq_int(st, 9) != 0;
    }
    sq_done(st);
    if (rc < 0 || oom) {
        store_picture_clear(out);
        return -1;
    }
    return 0;
}

void store_picture_clear(store_picture *p)
{
    free(p->screen);
    free(p->crumbs);
    free(p->device);
    memset(p, 0, sizeof *p);
}

int store_picture_put(store *s, const char *user, const store_picture *p)
{
    return sq_run(s,
                  "INSERT INTO user_context(\"user\", screen, breadcrumbs, device, updated_ms, "
                  "screen_ms, crumbs_ms, device_ms, screen_stale, crumbs_stale, device_stale) "
                  "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) ON CONFLICT(\"user\") DO "
                  "UPDATE SET screen = excluded.screen, breadcrumbs = excluded.breadcrumbs, "
                  "device = excluded.device, updated_ms = excluded.updated_ms, "
                  "screen_ms = excluded.screen_ms, crumbs_ms = excluded.crumbs_ms, "
                  "device_ms = excluded.device_ms, screen_stale = excluded.screen_stale, "
                  "crumbs_stale = excluded.crumbs_stale, device_stale = excluded.device_stale",
                  "ttttiiiiiii", user, p->screen, p->crumbs, p->device, p->updated_ms, p->screen_ms,
                  p->crumbs_ms, p->device_ms, (int64_t)p->screen_stale, (int64_t)p->crumbs_stale,
                  (int64_t)p->device_stale);
}

int store_picture_delete(store *s, const char *user)
{
    return sq_run(s, "DELETE FROM user_context WHERE \"user\" = ?1", "t", user);
}

/* ---- attributes ---- */

int store_attr_set(store *s, const char *user, const char *key, const char *value, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO attributes(\"user\", key, value, updated_ms, stale) "
                  "VALUES(?1, ?2, ?3, ?4, 0) ON CONFLICT(\"user\", key) DO UPDATE SET "
                  "value = excluded.value, updated_ms = excluded.updated_ms, stale = 0",
                  "ttti", user, key, value, now);
}

int store_attr_get(store *s, const char *user, const char *key, char **value, int *stale)
{
    int rc, oom = 0;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT value, stale FROM attributes "
                         "WHERE \"user\" = ?1 AND key = ?2",
                         "tt", user, key);

    *value = rc == 1 ? sq_dup(st, 0, &oom) : NULL;
    *stale = rc == 1 && sq_int(st, 1) != 0;
    sq_done(st);
    return rc < 0 || oom ? -1 : rc;
}

int store_attr_each(store *s, const char *user, store_attr_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT key, value, updated_ms, stale FROM attributes "
                           "WHERE \"user\" = ?1 ORDER BY key",
                           "t", user);
    store_attr a;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        a.key = sq_text(st, 0);
        a.value = sq_text(st, 1);
        a.updated_ms = sq_i64(st, 2);
        a.stale = sq_int(st, 3) != 0;
        stop = cb(ud, &a);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_attr_mark_stale(store *s, const char *user)
{
    return sq_run(s, "UPDATE attributes SET stale = 1 WHERE \"user\" = ?1", "t", user);
}

int store_attr_count_fresh(store *s, const char *user, int64_t *n)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT count(*) FROM attributes WHERE \"user\" = ?1 AND "
                         "stale = 0",
                         "t", user);

    if (rc == 1)
        *n = sq_i64(st, 0);
    sq_done(st);
    return rc == 1 ? 0 : -1;
}

int store_attr_trim_stale(store *s, const char *user, int64_t keep)
{
    return sq_run(s,
                  "DELETE FROM attributes WHERE \"user\" = ?1 AND stale = 1 AND key NOT IN "
                  "(SELECT key FROM attributes WHERE \"user\" = ?1 AND stale = 1 "
                  "ORDER BY updated_ms DESC, key LIMIT ?2)",
                  "ti", user, keep);
}

int store_attr_delete_all(store *s, const char *user)
{
    return sq_run(s, "DELETE FROM attributes WHERE \"user\" = ?1", "t", user);
}

int store_attr_move(store *s, const char *from, const char *to)
{
    if (sq_run(s,
               "INSERT INTO attributes(\"user\", key, value, updated_ms, stale) "
               "SELECT ?2, key, value, updated_ms, stale FROM attributes WHERE \"user\" = ?1 "
               "ON CONFLICT(\"user\", key) DO UPDATE SET value = excluded.value, "
               "updated_ms = excluded.updated_ms, stale = excluded.stale "
               "WHERE excluded.updated_ms > attributes.updated_ms",
               "tt", from, to))
        return -1;
    return store_attr_delete_all(s, from);
}

/* ---- events ---- */

int store_event_add(store *s, const char *user, const char *cid, const char *name, const char *meta,
                    int64_t ts, int64_t now)
{
    if (sq_run(s,
               "INSERT INTO events(\"user\", cid, name, meta, ts, received_ms) "
               "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(\"user\", cid) DO NOTHING",
               "ttttii", user, cid, name, meta, ts, now))
        return -1;
    return sq_changes(s) > 0;
}

int store_event_recent(store *s, const char *user, int64_t limit, store_event_cb cb, void *ud)
{
    sq_stmt *st =
        sq_query(s,
                 "SELECT name, meta, ts FROM (SELECT n, name, meta, ts FROM events "
                 "WHERE \"user\" = ?1 ORDER BY ts DESC, n DESC LIMIT ?2) AS e ORDER BY ts, n",
                 "ti", user, limit);
    store_event e;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        e.name = sq_text(st, 0);
        e.meta = sq_text_or_null(st, 1);
        e.ts = sq_i64(st, 2);
        stop = cb(ud, &e);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_event_move(store *s, const char *from, const char *to)
{
    /* An event whose client id the other user has already goes. */
    if (sq_run(s,
               "UPDATE events SET \"user\" = ?2 WHERE \"user\" = ?1 AND NOT EXISTS"
               " (SELECT 1 FROM events o WHERE o.\"user\" = ?2 AND o.cid = events.cid)",
               "tt", from, to) ||
        sq_run(s, "DELETE FROM events WHERE \"user\" = ?1", "t", from))
        return -1;
    return 0;
}
