/* Triage and routing (docs/routing.md): each conversation's triage and
 * whether its route was taken, what the client said about the request,
 * when an agent took it (handle times per team), and what proactive
 * triggers need (deliveries for the caps, expiries). */
#include "store_sql.h"

#include <stdio.h>
#include <string.h>

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS conv_triage("
    " conv TEXT PRIMARY KEY REFERENCES conversations(id), complexity INTEGER NOT NULL,"
    " severity INTEGER NOT NULL, effort INTEGER NOT NULL, score INTEGER NOT NULL,"
    " route TEXT NOT NULL, priority TEXT NOT NULL, team TEXT NOT NULL, node TEXT,"
    " jump INTEGER NOT NULL, reasons TEXT NOT NULL, routed INTEGER NOT NULL DEFAULT 0,"
    " kb_article TEXT, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS conv_about("
    " conv TEXT PRIMARY KEY REFERENCES conversations(id), category TEXT, area TEXT,"
    " severity TEXT);"
    "CREATE TABLE IF NOT EXISTS conv_handle("
    " conv TEXT PRIMARY KEY REFERENCES conversations(id), assigned_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS handle_times("
    " n INTEGER PRIMARY KEY, team TEXT NOT NULL, conv TEXT NOT NULL, ms INTEGER NOT NULL,"
    " ended_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS handle_times_team ON handle_times(team, n);"
    "CREATE TABLE IF NOT EXISTS trigger_fires("
    " n INTEGER PRIMARY KEY, \"user\" TEXT NOT NULL, trigger TEXT NOT NULL, ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS trigger_fires_user ON trigger_fires(\"user\", trigger, ms);"
    "CREATE TABLE IF NOT EXISTS proactive_expiry("
    " item INTEGER PRIMARY KEY, expires_ms INTEGER NOT NULL);";

int store_routing_init(store *s)
{
    return sq_script(s, schema);
}

/* ---- triage ---- */

int store_triage_put(store *s, const char *conv, const store_triage *t, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO conv_triage(conv, complexity, severity, effort, score, route,"
                  " priority, team, node, jump, reasons, updated_ms)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)"
                  " ON CONFLICT(conv) DO UPDATE SET complexity = excluded.complexity,"
                  " severity = excluded.severity, effort = excluded.effort, score = excluded.score,"
                  " route = excluded.route, priority = excluded.priority, team = excluded.team,"
                  " node = excluded.node, jump = excluded.jump, reasons = excluded.reasons,"
                  " updated_ms = excluded.updated_ms",
                  "tiiiittttiti", conv, (int64_t)t->complexity, (int64_t)t->severity,
                  (int64_t)t->effort, (int64_t)t->score, t->route, t->priority, t->team, t->node,
                  (int64_t)(t->jump != 0), t->reasons, now);
}

int store_triage_get(store *s, const char *conv, store_triage_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT complexity, severity, effort, score, route, priority,"
                           " team, node, jump, reasons, routed, kb_article"
                           " FROM conv_triage WHERE conv = ?1",
                           "t", conv);
    store_triage t;
    int rc = sq_step(s, st);

    if (rc == 1) {
        t.complexity = sq_int(st, 0);
        t.severity = sq_int(st, 1);
        t.effort = sq_int(st, 2);
        t.score = sq_int(st, 3);
        t.route = sq_text(st, 4);
        t.priority = sq_text(st, 5);
        t.team = sq_text(st, 6);
        t.node = sq_text_or_null(st, 7);
        t.jump = sq_int(st, 8);
        t.reasons = sq_text(st, 9);
        t.routed = sq_int(st, 10);
        t.kb_article = sq_text_or_null(st, 11);
        rc = cb(ud, &t) ? -1 : 1;
    }
    sq_finish(st);
    return rc;
}

int store_triage_routed(store *s, const char *conv, const char *kb_article)
{
    return sq_run(s, "UPDATE conv_triage SET routed = 1, kb_article = ?2 WHERE conv = ?1", "tt",
                  conv, kb_article);
}

int store_triage_reason_add(store *s, const char *conv, const char *rule, const char *text)
{
    return sq_run(s,
                  SQ_DIALECT(s,
                             "UPDATE conv_triage SET reasons = json_insert(reasons, '$[#]',"
                             " json_object('rule', ?2, 'text', ?3)) WHERE conv = ?1",
                             "UPDATE conv_triage SET reasons = (reasons::jsonb ||"
                             " jsonb_build_array(jsonb_build_object('rule', ?2, 'text', ?3)))::text"
                             " WHERE conv = ?1"),
                  "ttt", conv, rule, text);
}

/* ---- what the client said ---- */

int store_about_put(store *s, const char *conv, const store_about *a)
{
    return sq_run(s,
                  "INSERT INTO conv_about(conv, category, area, severity) VALUES(?1, ?2, ?3, ?4)"
                  " ON CONFLICT(conv) DO NOTHING",
                  "tttt", conv, a->category[0] ? a->category : NULL, a->area[0] ? a->area : NULL,
                  a->severity[0] ? a->severity : NULL);
}

int store_about_get(store *s, const char *conv, store_about *out)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, "SELECT category, area, severity FROM conv_about WHERE conv = ?1",
                         "t", conv);

    memset(out, 0, sizeof *out);
    if (rc == 1) {
        snprintf(out->category, sizeof out->category, "%s", sq_text(st, 0));
        snprintf(out->area, sizeof out->area, "%s", sq_text(st, 1));
        snprintf(out->severity, sizeof out->severity, "%s", sq_text(st, 2));
    }
    sq_done(st);
    return rc;
}

/* ---- the user's recent requests ---- */

int store_user_asked(store *s, const char *user, int64_t since, int64_t limit, store_ts_cb cb,
                     void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT m.ts FROM messages m JOIN conversations c ON c.id = m.conv"
                           " WHERE c.\"user\" = ?1 AND m.author_kind = 'user'"
                           " AND m.postback IS NULL AND m.ts >= ?2"
                           " ORDER BY m.ts DESC LIMIT ?3",
                           "tii", user, since, limit);
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1)
        stop = cb(ud, sq_i64(st, 0));
    sq_finish(st);
    return stop ? stop : rc;
}

int store_user_busy(store *s, const char *user, int64_t since)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT 1 FROM conversations c LEFT JOIN conv_state q"
                         " ON q.conv = c.id WHERE c.\"user\" = ?1 AND"
                         " (coalesce(q.state, 'bot') <> 'closed' OR c.created_ms >= ?2)"
                         " LIMIT 1",
                         "ti", user, since);

    sq_done(st);
    return rc;
}

/* ---- handle times ---- */

int store_assign_start(store *s, const char *conv, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO conv_handle(conv, assigned_ms) VALUES(?1, ?2)"
                  " ON CONFLICT(conv) DO NOTHING",
                  "ti", conv, now);
}

int store_assign_end(store *s, const char *conv, int64_t *started)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, "SELECT assigned_ms FROM conv_handle WHERE conv = ?1", "t", conv);

    *started = rc == 1 ? sq_i64(st, 0) : 0;
    sq_done(st);
    if (rc == 1 && sq_run(s, "DELETE FROM conv_handle WHERE conv = ?1", "t", conv))
        return -1;
    return rc;
}

int store_handle_add(store *s, const char *team, const char *conv, int64_t ms, int64_t now)
{
    return sq_run(s, "INSERT INTO handle_times(team, conv, ms, ended_ms) VALUES(?1, ?2, ?3, ?4)",
                  "ttii", team, conv, ms, now);
}

int store_handle_recent(store *s, const char *team, int64_t limit, store_ts_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT ms FROM (SELECT n, ms FROM handle_times WHERE team = ?1"
                           " ORDER BY n DESC LIMIT ?2) AS h ORDER BY n",
                           "ti", team, limit);
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1)
        stop = cb(ud, sq_i64(st, 0));
    sq_finish(st);
    return stop ? stop : rc;
}

/* ---- proactive triggers ---- */

int store_trigger_fired(store *s, const char *user, const char *trigger, int64_t now)
{
    return sq_run(s, "INSERT INTO trigger_fires(\"user\", trigger, ms) VALUES(?1, ?2, ?3)", "tti",
                  user, trigger, now);
}

int store_trigger_count(store *s, const char *user, const char *trigger, int64_t since, int64_t *n)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT count(*) FROM trigger_fires"
                         " WHERE \"user\" = ?1 AND trigger = ?2 AND ms >= ?3",
                         "tti", user, trigger, since);

    *n = rc == 1 ? sq_i64(st, 0) : 0;
    sq_done(st);
    return rc < 0 ? -1 : 0;
}

int store_proactive_expiry_set(store *s, int64_t item, int64_t expires_ms)
{
    return sq_run(s,
                  "INSERT INTO proactive_expiry(item, expires_ms) VALUES(?1, ?2)"
                  " ON CONFLICT(item) DO UPDATE SET expires_ms = excluded.expires_ms",
                  "ii", item, expires_ms);
}

int store_proactive_expired(store *s, int64_t item, int64_t now)
{
    int rc;
    sq_stmt *st =
        sq_row(s, &rc, "SELECT 1 FROM proactive_expiry WHERE item = ?1 AND expires_ms <= ?2", "ii",
               item, now);

    sq_done(st);
    return rc;
}
