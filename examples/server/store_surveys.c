#include "store_sql.h"

#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS survey_instances("
    " n INTEGER PRIMARY KEY, \"user\" TEXT NOT NULL REFERENCES users(id), name TEXT NOT NULL,"
    " conv TEXT, proactive INTEGER NOT NULL, def TEXT NOT NULL, created_ms INTEGER NOT NULL,"
    " status TEXT NOT NULL DEFAULT 'pending', answers TEXT, done_ms INTEGER, done_cid TEXT);"
    "CREATE INDEX IF NOT EXISTS survey_instances_user ON survey_instances(\"user\", status);"
    "CREATE INDEX IF NOT EXISTS survey_instances_name ON survey_instances(name, conv);"
    "CREATE TABLE IF NOT EXISTS proactive("
    " n INTEGER PRIMARY KEY, \"user\" TEXT NOT NULL REFERENCES users(id), msg TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, acked_ms INTEGER);"
    "CREATE INDEX IF NOT EXISTS proactive_user ON proactive(\"user\", acked_ms);";

int store_surveys_init(store *s)
{
    return sq_script(s, schema);
}

/* 1 when the query (one row or none) finds a row, 0/-1. */
static int exists(sq_stmt *st, int rc)
{
    sq_done(st);
    return rc;
}

/* ---- survey instances ---- */

int store_survey_add(store *s, const char *user, const char *name, const char *conv, int proactive,
                     const char *def, int64_t now, int64_t *n)
{
    return sq_insert_id(s, n,
                        "INSERT INTO survey_instances(\"user\", name, conv, proactive, def,"
                        " created_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6) RETURNING n",
                        "tttiti", user, name, conv, (int64_t)(proactive != 0), def, now);
}

int store_survey_given(store *s, const char *name, const char *conv)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT 1 FROM survey_instances WHERE name = ?1 AND "
                         "conv = ?2 LIMIT 1",
                         "tt", name, conv);

    return exists(st, rc);
}

int store_survey_pending(store *s, const char *user, const char *name)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT 1 FROM survey_instances WHERE \"user\" = ?1 AND "
                         "name = ?2 AND status = 'pending' LIMIT 1",
                         "tt", user, name);

    return exists(st, rc);
}

int store_survey_named(store *s, const char *name)
{
    int rc;
    sq_stmt *st =
        sq_row(s, &rc, "SELECT 1 FROM survey_instances WHERE name = ?1 LIMIT 1", "t", name);

    return exists(st, rc);
}

/* Columns: n, user, conv, proactive, def, status, answers, done_ms. */
#define SURVEY_COLUMNS "n, \"user\", conv, proactive, def, status, answers, done_ms"

static void read_survey(sq_stmt *st, store_survey *sv)
{
    sv->n = sq_i64(st, 0);
    sv->user = sq_text(st, 1);
    sv->conv = sq_text_or_null(st, 2);
    sv->proactive = sq_int(st, 3) != 0;
    sv->def = sq_text(st, 4);
    sv->status = sq_text(st, 5);
    sv->answers = sq_text_or_null(st, 6);
    sv->done_ms = sq_i64(st, 7);
}

static int each_survey(store *s, sq_stmt *st, store_survey_cb cb, void *ud)
{
    store_survey sv;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        read_survey(st, &sv);
        stop = cb(ud, &sv);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_survey_pending_each(store *s, const char *user, int64_t limit, store_survey_cb cb,
                              void *ud)
{
    return each_survey(
        s,
        sq_query(s,
                 "SELECT " SURVEY_COLUMNS " FROM (SELECT * FROM survey_instances "
                 "WHERE \"user\" = ?1 AND status = 'pending' ORDER BY n DESC LIMIT ?2) "
                 "AS p ORDER BY n",
                 "ti", user, limit),
        cb, ud);
}

int store_survey_get(store *s, const char *user, int64_t n, store_survey_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT " SURVEY_COLUMNS " FROM survey_instances "
                           "WHERE n = ?1 AND \"user\" = ?2",
                           "it", n, user);
    store_survey sv;
    int rc = sq_step(s, st), stop = 0;

    if (rc == 1) {
        read_survey(st, &sv);
        stop = cb(ud, &sv);
    }
    sq_finish(st);
    return stop ? -1 : rc;
}

int store_survey_finish(store *s, int64_t n, const char *status, const char *answers, int64_t now,
                        const char *cid)
{
    return sq_run(s,
                  "UPDATE survey_instances SET status = ?2, answers = ?3, done_ms = ?4, "
                  "done_cid = ?5 WHERE n = ?1 AND status = 'pending'",
                  "ittit", n, status, answers, now, cid);
}

int store_survey_done_each(store *s, const char *name, store_survey_cb cb, void *ud)
{
    return each_survey(s,
                       sq_query(s,
                                "SELECT " SURVEY_COLUMNS " FROM survey_instances "
                                "WHERE name = ?1 AND status != 'pending' ORDER BY done_ms, n",
                                "t", name),
                       cb, ud);
}

/* ---- proactive messages ---- */

int store_proactive_add(store *s, const char *user, const char *msg, int64_t now, int64_t *n)
{
    return sq_insert_id(
        s, n, "INSERT INTO proactive(\"user\", msg, created_ms) VALUES(?1, ?2, ?3) RETURNING n",
        "tti", user, msg, now);
}

int store_proactive_pending(store *s, const char *user, const char *msg)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT 1 FROM proactive WHERE \"user\" = ?1 AND msg = ?2 AND "
                         "acked_ms IS NULL LIMIT 1",
                         "tt", user, msg);

    return exists(st, rc);
}

int store_proactive_pending_each(store *s, const char *user, int64_t limit, store_proactive_cb cb,
                                 void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT n, msg, created_ms FROM (SELECT * FROM proactive "
                           "WHERE \"user\" = ?1 AND acked_ms IS NULL ORDER BY n DESC LIMIT ?2) "
                           "AS p ORDER BY n",
                           "ti", user, limit);
    store_proactive p;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        p.n = sq_i64(st, 0);
        p.msg = sq_text(st, 1);
        p.created_ms = sq_i64(st, 2);
        stop = cb(ud, &p);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_proactive_ack(store *s, const char *user, int64_t n, int64_t now)
{
    return sq_run(s,
                  "UPDATE proactive SET acked_ms = ?3 WHERE n = ?1 AND \"user\" = ?2 AND "
                  "acked_ms IS NULL",
                  "iti", n, user, now);
}
