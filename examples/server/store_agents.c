/* Agents, their browser sessions, and what they did to conversations
 * (docs/agent-console.md): accounts with a password hash, sessions by the
 * hash of their token, conversation actions, message authorship, priority,
 * and when a conversation last changed. */
#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* conv_meta.updated_ms follows every message by a trigger, so the code
 * paths that store messages need not know about the console's ordering. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS agents("
    " name TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,"
    " pw_hash TEXT NOT NULL, status TEXT NOT NULL DEFAULT 'online',"
    " teams TEXT NOT NULL DEFAULT '[]', capacity INTEGER NOT NULL DEFAULT 0,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS agent_sessions("
    " hash TEXT PRIMARY KEY, agent TEXT NOT NULL REFERENCES agents(name) ON DELETE CASCADE,"
    " created_ms INTEGER NOT NULL, seen_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS agent_sessions_agent ON agent_sessions(agent);"
    "CREATE TABLE IF NOT EXISTS conv_actions("
    " id INTEGER PRIMARY KEY, conv TEXT NOT NULL, action TEXT NOT NULL, by TEXT,"
    " detail TEXT, ts INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS conv_actions_conv ON conv_actions(conv, ts);"
    "CREATE TABLE IF NOT EXISTS msg_by(msg INTEGER PRIMARY KEY, agent TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS conv_meta("
    " conv TEXT PRIMARY KEY, priority TEXT NOT NULL DEFAULT 'normal', priority_by TEXT,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS conv_meta_updated ON conv_meta(updated_ms, conv);"
    "CREATE TRIGGER IF NOT EXISTS conv_meta_msg AFTER INSERT ON messages BEGIN"
    " INSERT INTO conv_meta(conv, updated_ms) VALUES(NEW.conv, NEW.ts)"
    " ON CONFLICT(conv) DO UPDATE SET updated_ms = MAX(updated_ms, excluded.updated_ms); END;"
    "CREATE TRIGGER IF NOT EXISTS conv_meta_action AFTER INSERT ON conv_actions BEGIN"
    " INSERT INTO conv_meta(conv, updated_ms) VALUES(NEW.conv, NEW.ts)"
    " ON CONFLICT(conv) DO UPDATE SET updated_ms = MAX(updated_ms, excluded.updated_ms); END;"
    "CREATE TRIGGER IF NOT EXISTS conv_meta_conv AFTER INSERT ON conversations BEGIN"
    " INSERT OR IGNORE INTO conv_meta(conv, updated_ms) VALUES(NEW.id, NEW.created_ms); END;"
    /* One row per SLA clock a conversation ever ran: the running ones are
     * checked every second, the finished ones feed the metrics. */
    "CREATE TABLE IF NOT EXISTS sla_clocks("
    " conv TEXT NOT NULL, kind TEXT NOT NULL, start_ms INTEGER NOT NULL,"
    " due_ms INTEGER NOT NULL, warn_ms INTEGER NOT NULL, priority TEXT NOT NULL,"
    " met_ms INTEGER, warned_ms INTEGER, breached_ms INTEGER, stopped_ms INTEGER,"
    " PRIMARY KEY(conv, kind, start_ms));"
    "CREATE INDEX IF NOT EXISTS sla_clocks_running ON sla_clocks(due_ms)"
    " WHERE met_ms IS NULL AND stopped_ms IS NULL;";

int store_agents_init(store *s)
{
    /* Conversations from before the console get their row once. */
    return sq_script(s, schema) ||
                   sq_run_once(
                       s,
                       "INSERT OR IGNORE INTO conv_meta(conv, updated_ms) "
                       "SELECT c.id, MAX(c.created_ms, coalesce((SELECT MAX(m.ts) FROM messages m "
                       "WHERE m.conv = c.id), 0)) FROM conversations c",
                       "")
               ? -1
               : 0;
}

/* ---- agents ---- */

int store_agent_put(store *s, const char *name, const char *display, const char *role,
                    const char *pw_hash, int64_t now)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, "SELECT 1 FROM agents WHERE name = ?1", "t", name);

    sq_done(st);
    if (rc < 0)
        return -1;
    if (rc == 0)
        return sq_run(s,
                      "INSERT INTO agents(name, display_name, role, pw_hash, created_ms, "
                      "updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?5)",
                      "tttti", name, display, role, pw_hash, now)
                   ? -1
                   : 1;
    if (sq_run(s,
               "UPDATE agents SET display_name = ?2, role = ?3, pw_hash = ?4, updated_ms = ?5 "
               "WHERE name = ?1",
               "tttti", name, display, role, pw_hash, now) ||
        sq_run(s, "DELETE FROM agent_sessions WHERE agent = ?1", "t", name))
        return -1;
    return 0;
}

static void fill_agent(sq_stmt *st, store_agent *a)
{
    memset(a, 0, sizeof *a);
    snprintf(a->name, sizeof a->name, "%s", sq_text(st, 0));
    snprintf(a->display_name, sizeof a->display_name, "%s", sq_text(st, 1));
    snprintf(a->role, sizeof a->role, "%s", sq_text(st, 2));
    snprintf(a->pw_hash, sizeof a->pw_hash, "%s", sq_text(st, 3));
    snprintf(a->status, sizeof a->status, "%s", sq_text(st, 4));
    snprintf(a->teams, sizeof a->teams, "%s", sq_text(st, 5));
    a->capacity = sq_i64(st, 6);
    a->created_ms = sq_i64(st, 7);
}

#define AGENT_COLS "name, display_name, role, pw_hash, status, teams, capacity, created_ms"

int store_agent_get(store *s, const char *name, store_agent *out)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, "SELECT " AGENT_COLS " FROM agents WHERE name = ?1", "t", name);

    if (rc == 1)
        fill_agent(st, out);
    sq_done(st);
    return rc;
}

int store_agent_each(store *s, store_agent_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s, "SELECT " AGENT_COLS " FROM agents ORDER BY name", "");
    store_agent a;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        fill_agent(st, &a);
        stop = cb(ud, &a);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_agent_set_status(store *s, const char *name, const char *status)
{
    return sq_run(s, "UPDATE agents SET status = ?2 WHERE name = ?1", "tt", name, status);
}

int store_agent_active(store *s, const char *name, int64_t *n)
{
    int rc;
    sq_stmt *st = sq_row(
        s, &rc, "SELECT count(*) FROM conv_state WHERE state = 'agent' AND agent = ?1", "t", name);

    *n = rc == 1 ? sq_i64(st, 0) : 0;
    sq_done(st);
    return rc == 1 ? 0 : -1;
}

/* ---- sessions ---- */

int store_agent_session_create(store *s, const char *hash, const char *agent, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO agent_sessions(hash, agent, created_ms, seen_ms) "
                  "VALUES(?1, ?2, ?3, ?3)",
                  "tti", hash, agent, now);
}

int store_agent_session_get(store *s, const char *hash, char agent[STORE_AGENT_NAME_BUF],
                            int64_t *created_ms, int64_t *seen_ms)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT agent, created_ms, seen_ms FROM agent_sessions "
                         "WHERE hash = ?1",
                         "t", hash);

    if (rc == 1) {
        snprintf(agent, STORE_AGENT_NAME_BUF, "%s", sq_text(st, 0));
        *created_ms = sq_i64(st, 1);
        *seen_ms = sq_i64(st, 2);
    }
    sq_done(st);
    return rc;
}

int store_agent_session_touch(store *s, const char *hash, int64_t now)
{
    return sq_run(s, "UPDATE agent_sessions SET seen_ms = ?2 WHERE hash = ?1", "ti", hash, now);
}

int store_agent_session_delete(store *s, const char *hash)
{
    return sq_run(s, "DELETE FROM agent_sessions WHERE hash = ?1", "t", hash);
}

int store_agent_session_expire(store *s, int64_t idle_before, int64_t made_before)
{
    return sq_run(s, "DELETE FROM agent_sessions WHERE seen_ms < ?1 OR created_ms < ?2", "ii",
                  idle_before, made_before);
}

/* ---- actions, authorship, priority ---- */

int store_action_add(store *s, const char *conv, const char *action, const char *by,
                     const char *detail, int64_t ts)
{
    return sq_run(s,
                  "INSERT INTO conv_actions(conv, action, by, detail, ts) "
                  "VALUES(?1, ?2, ?3, ?4, ?5)",
                  "tttti", conv, action, by, detail, ts);
}

int store_action_each(store *s, const char *conv, int64_t limit, store_action_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT action, by, detail, ts FROM (SELECT * FROM conv_actions "
                           "WHERE conv = ?1 ORDER BY ts DESC, id DESC LIMIT ?2) "
                           "AS a ORDER BY ts, id",
                           "ti", conv, limit);
    store_action a;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        a.action = sq_text(st, 0);
        a.by = sq_text_or_null(st, 1);
        a.detail = sq_text_or_null(st, 2);
        a.ts = sq_i64(st, 3);
        stop = cb(ud, &a);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_msg_by_set(store *s, const char *msg_id, const char *agent)
{
    char *end;
    long long n = strncmp(msg_id, "m-", 2) == 0 ? strtoll(msg_id + 2, &end, 10) : 0;

    if (n <= 0 || *end)
        return -1;
    return sq_run(s,
                  "INSERT INTO msg_by(msg, agent) VALUES(?1, ?2)"
                  " ON CONFLICT(msg) DO UPDATE SET agent = excluded.agent",
                  "it", (int64_t)n, agent);
}

int store_priority_get(store *s, const char *conv, char priority[8], char by[STORE_AGENT_NAME_BUF])
{
    int rc;
    sq_stmt *st =
        sq_row(s, &rc, "SELECT priority, priority_by FROM conv_meta WHERE conv = ?1", "t", conv);

    snprintf(priority, 8, "%s", rc == 1 ? sq_text(st, 0) : "normal");
    snprintf(by, STORE_AGENT_NAME_BUF, "%s", rc == 1 ? sq_text(st, 1) : "");
    sq_done(st);
    return rc < 0 ? -1 : 0;
}

int store_priority_set(store *s, const char *conv, const char *priority, const char *by,
                       int64_t now)
{
    return sq_run(s,
                  "INSERT INTO conv_meta(conv, priority, priority_by, updated_ms) "
                  "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(conv) DO UPDATE SET "
                  "priority = excluded.priority, priority_by = excluded.priority_by, "
                  "updated_ms = CASE WHEN excluded.updated_ms > conv_meta.updated_ms"
                  " THEN excluded.updated_ms ELSE conv_meta.updated_ms END",
                  "ttti", conv, priority, by, now);
}

/* ---- the console's list ---- */

/* The columns of an item; the where-clause decides which. Lists of states
 * and priorities travel as ",a,b," (NULL: any). */
#define ITEM_SQL                                                                                   \
    "SELECT c.id, c.\"user\", c.subject, c.created_ms, c.last_seq, coalesce(st.state, 'bot'),"     \
    " CASE WHEN st.state = 'agent' THEN st.agent END, st.queued_ms,"                               \
    " coalesce(st.agent_read_seq, 0), m.priority, m.priority_by, m.updated_ms,"                    \
    " (SELECT COUNT(*) FROM messages x WHERE x.conv = c.id AND x.author_kind = 'user'"             \
    "  AND x.seq > coalesce(st.agent_read_seq, 0)),"                                               \
    " tr.team, coalesce(tr.score, 0), tr.route, coalesce(tr.jump, 0)"                              \
    " FROM conversations c JOIN conv_meta m ON m.conv = c.id"                                      \
    " LEFT JOIN conv_state st ON st.conv = c.id"                                                   \
    " LEFT JOIN conv_triage tr ON tr.conv = c.id "

static void read_item(sq_stmt *st, store_conv_item *it)
{
    memset(it, 0, sizeof *it);
    it->id = sq_text(st, 0);
    it->user = sq_text(st, 1);
    it->subject = sq_text_or_null(st, 2);
    it->created_ms = sq_i64(st, 3);
    it->last_seq = sq_i64(st, 4);
    it->state = sq_text(st, 5);
    it->agent = sq_text_or_null(st, 6);
    it->queued_ms = sq_i64(st, 7);
    it->agent_read_seq = sq_i64(st, 8);
    it->priority = sq_text(st, 9);
    it->priority_by = sq_text_or_null(st, 10);
    it->updated_ms = sq_i64(st, 11);
    it->unread = sq_i64(st, 12);
    it->team = sq_text_or_null(st, 13);
    it->score = sq_i64(st, 14);
    it->route = sq_text_or_null(st, 15);
    it->jump = sq_int(st, 16);
}

static int each_item(store *s, sq_stmt *st, store_conv_item_cb cb, void *ud)
{
    store_conv_item it;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        read_item(st, &it);
        stop = cb(ud, &it);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_conv_page(store *s, const store_conv_filter *f, store_conv_item_cb cb, void *ud)
{
    sq_stmt *st = sq_query(
        s,
        ITEM_SQL
        "WHERE (?1 IS NULL OR instr(?1, ',' || coalesce(st.state, 'bot') || ',') > 0)"
        " AND (?2 IS NULL OR instr(?2, ',' || m.priority || ',') > 0)"
        " AND (?3 IS NULL OR (?3 = '' AND NOT (st.state = 'agent' AND st.agent IS NOT NULL))"
        "      OR (st.state = 'agent' AND st.agent = ?3))"
        " AND (?4 IS NULL OR c.\"user\" = ?4) AND m.updated_ms >= ?5"
        " AND (?6 < 0 OR m.updated_ms < ?6 OR (m.updated_ms = ?6 AND c.id < ?7))"
        " ORDER BY m.updated_ms DESC, c.id DESC LIMIT ?8",
        "ttttiiti", f->states, f->priorities, f->assignee, f->user, f->updated_since,
        f->after_id ? f->after_updated : (int64_t)-1, f->after_id ? f->after_id : "", f->limit);

    return each_item(s, st, cb, ud);
}

int store_conv_item_get(store *s, const char *conv, store_conv_item_cb cb, void *ud)
{
    int rc = each_item(s, sq_query(s, ITEM_SQL "WHERE c.id = ?1", "t", conv), cb, ud);

    return rc;
}

int store_msg_last(store *s, const char *conv, store_msg_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT m.id, m.seq, m.author_kind, m.author_name, m.text, m.ts,"
                           " b.agent FROM messages m LEFT JOIN msg_by b ON b.msg = m.n"
                           " WHERE m.conv = ?1 ORDER BY m.seq DESC LIMIT 1",
                           "t", conv);
    store_msg m;
    int rc, stop = 0;

    if ((rc = sq_step(s, st)) == 1) {
        memset(&m, 0, sizeof m);
        m.conv = conv;
        snprintf(m.id, sizeof m.id, "%s", sq_text(st, 0));
        m.seq = sq_i64(st, 1);
        m.author_kind = sq_text(st, 2);
        m.author_name = sq_text_or_null(st, 3);
        m.text = sq_text(st, 4);
        m.ts = sq_i64(st, 5);
        m.by = sq_text_or_null(st, 6);
        stop = cb(ud, &m);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : rc;
}

/* ---- a conversation's history as work ---- */

int store_timeline(store *s, const char *conv, store_tl_cb cb, void *ud)
{
    /* Actions first where they share a millisecond with a message: a take
     * over is stored with the message that caused it. */
    sq_stmt *st =
        sq_query(s,
                 "SELECT kind, by, detail, ts, action FROM ("
                 " SELECT action AS kind, by, detail, ts, 1 AS action, 0 AS src, id AS ord"
                 "  FROM conv_actions WHERE conv = ?1"
                 " UNION ALL"
                 " SELECT m.author_kind, b.agent, NULL, m.ts, 0, 1, m.seq"
                 "  FROM messages m LEFT JOIN msg_by b ON b.msg = m.n WHERE m.conv = ?1)"
                 " AS t ORDER BY ts, src, ord",
                 "t", conv);
    store_tl_row r;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        r.kind = sq_text(st, 0);
        r.by = sq_text_or_null(st, 1);
        r.detail = sq_text_or_null(st, 2);
        r.ts = sq_i64(st, 3);
        r.is_action = sq_int(st, 4);
        stop = cb(ud, &r);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_conv_active_each(store *s, int64_t since, int64_t until, store_conv_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT c.id, c.\"user\", c.subject, c.created_ms, c.last_seq"
                           " FROM conversations c JOIN conv_meta m ON m.conv = c.id"
                           " WHERE m.updated_ms >= ?1 AND c.created_ms < ?2 ORDER BY c.id",
                           "ii", since, until);
    store_conv c;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        c.id = sq_text(st, 0);
        c.user = sq_text(st, 1);
        c.subject = sq_text_or_null(st, 2);
        c.created_ms = sq_i64(st, 3);
        c.last_seq = sq_i64(st, 4);
        stop = cb(ud, &c);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_state_counts(store *s, store_count_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT coalesce(st.state, 'bot'), COUNT(*) FROM conversations c"
                           " LEFT JOIN conv_state st ON st.conv = c.id GROUP BY 1",
                           "");
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1)
        stop = cb(ud, sq_text(st, 0), sq_i64(st, 1));
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

/* ---- SLA clocks ---- */

int store_sla_put(store *s, const char *conv, const char *kind, const store_sla *c)
{
    return sq_run(
        s,
        "INSERT INTO sla_clocks(conv, kind, start_ms, due_ms, warn_ms, priority, met_ms)"
        " VALUES(?1, ?2, ?3, ?4, ?5, ?6, NULLIF(?7, 0))"
        " ON CONFLICT(conv, kind, start_ms) DO UPDATE"
        " SET due_ms = excluded.due_ms, warn_ms = excluded.warn_ms,"
        " priority = excluded.priority, met_ms = coalesce(sla_clocks.met_ms, excluded.met_ms),"
        " stopped_ms = NULL",
        "ttiiiti", conv, kind, c->start_ms, c->due_ms, c->warn_ms, c->priority,
        c->met_ms ? c->met_ms : (int64_t)0);
}

int store_sla_stop(store *s, const char *conv, const char *kind, int64_t keep_start, int64_t now)
{
    return sq_run(s,
                  "UPDATE sla_clocks SET stopped_ms = ?4 WHERE conv = ?1 AND kind = ?2"
                  " AND start_ms != ?3 AND met_ms IS NULL AND stopped_ms IS NULL",
                  "ttii", conv, kind, keep_start, now);
}

static void read_sla(sq_stmt *st, store_sla *c)
{
    memset(c, 0, sizeof *c);
    c->conv = sq_text(st, 0);
    c->kind = sq_text(st, 1);
    c->start_ms = sq_i64(st, 2);
    c->due_ms = sq_i64(st, 3);
    c->warn_ms = sq_i64(st, 4);
    c->priority = sq_text(st, 5);
    c->met_ms = sq_i64(st, 6);
    c->warned_ms = sq_i64(st, 7);
    c->breached_ms = sq_i64(st, 8);
    c->stopped_ms = sq_i64(st, 9);
}

#define SLA_COLS                                                                                   \
    "SELECT conv, kind, start_ms, due_ms, warn_ms, priority, coalesce(met_ms, 0),"                 \
    " coalesce(warned_ms, 0), coalesce(breached_ms, 0), coalesce(stopped_ms, 0) FROM sla_clocks "

static int each_sla(store *s, sq_stmt *st, store_sla_cb cb, void *ud)
{
    store_sla c;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        read_sla(st, &c);
        stop = cb(ud, &c);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_sla_due_each(store *s, int64_t now, store_sla_cb cb, void *ud)
{
    return each_sla(s,
                    sq_query(s,
                             SLA_COLS "WHERE met_ms IS NULL AND stopped_ms IS NULL"
                                      " AND ((warned_ms IS NULL AND warn_ms <= ?1)"
                                      " OR (breached_ms IS NULL AND due_ms <= ?1))",
                             "i", now),
                    cb, ud);
}

int store_sla_conv_each(store *s, const char *conv, store_sla_cb cb, void *ud)
{
    return each_sla(s,
                    sq_query(s,
                             SLA_COLS "WHERE conv = ?1 AND stopped_ms IS NULL"
                                      " ORDER BY start_ms DESC",
                             "t", conv),
                    cb, ud);
}

int store_sla_window_each(store *s, int64_t since, int64_t until, store_sla_cb cb, void *ud)
{
    return each_sla(s,
                    sq_query(s,
                             SLA_COLS "WHERE (breached_ms >= ?1 AND breached_ms < ?2)"
                                      " OR (met_ms >= ?1 AND met_ms < ?2)",
                             "ii", since, until),
                    cb, ud);
}

int store_sla_mark(store *s, const store_sla *c, int breached, int64_t now)
{
    int rc = breached ? sq_run(s,
                               "UPDATE sla_clocks SET breached_ms = ?4,"
                               " warned_ms = coalesce(warned_ms, ?4) WHERE conv = ?1 AND kind = ?2"
                               " AND start_ms = ?3 AND breached_ms IS NULL",
                               "ttii", c->conv, c->kind, c->start_ms, now)
                      : sq_run(s,
                               "UPDATE sla_clocks SET warned_ms = ?4 WHERE conv = ?1 AND kind = ?2"
                               " AND start_ms = ?3 AND warned_ms IS NULL",
                               "ttii", c->conv, c->kind, c->start_ms, now);

    return rc ? -1 : sq_changes(s) > 0;
}

/* ---- the single customer view ---- */

int store_user_get(store *s, const char *id, store_user *out)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT id, kind, app, first_seen_ms, last_seen_ms FROM users "
                         "WHERE id = ?1",
                         "t", id);

    if (rc == 1) {
        memset(out, 0, sizeof *out);
        snprintf(out->id, sizeof out->id, "%s", sq_text(st, 0));
        snprintf(out->kind, sizeof out->kind, "%s", sq_text(st, 1));
        snprintf(out->app, sizeof out->app, "%s", sq_text(st, 2));
        out->first_seen_ms = sq_i64(st, 3);
        out->last_seen_ms = sq_i64(st, 4);
    }
    sq_done(st);
    return rc;
}

#define SURVEY_COLS                                                                                \
    "SELECT n, \"user\", name, conv, def, status, answers, created_ms, coalesce(done_ms, 0)"       \
    " FROM survey_instances "

static int each_survey_row(store *s, sq_stmt *st, store_survey_row_cb cb, void *ud)
{
    store_survey_row r;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        r.n = sq_i64(st, 0);
        r.user = sq_text(st, 1);
        r.name = sq_text(st, 2);
        r.conv = sq_text_or_null(st, 3);
        r.def = sq_text(st, 4);
        r.status = sq_text(st, 5);
        r.answers = sq_text_or_null(st, 6);
        r.created_ms = sq_i64(st, 7);
        r.done_ms = sq_i64(st, 8);
        stop = cb(ud, &r);
    }
    sq_finish(st);
    return stop ? stop : rc < 0 ? -1 : 0;
}

int store_survey_user_each(store *s, const char *user, int64_t limit, store_survey_row_cb cb,
                           void *ud)
{
    return each_survey_row(
        s,
        sq_query(s, SURVEY_COLS "WHERE \"user\" = ?1 ORDER BY n DESC LIMIT ?2", "ti", user, limit),
        cb, ud);
}

int store_survey_window_each(store *s, int64_t since, int64_t until, store_survey_row_cb cb,
                             void *ud)
{
    return each_survey_row(s,
                           sq_query(s,
                                    SURVEY_COLS "WHERE (created_ms >= ?1 AND created_ms < ?2)"
                                                " OR (done_ms >= ?1 AND done_ms < ?2) ORDER BY n",
                                    "ii", since, until),
                           cb, ud);
}

int store_survey_row_get(store *s, int64_t n, store_survey_row_cb cb, void *ud)
{
    return each_survey_row(s, sq_query(s, SURVEY_COLS "WHERE n = ?1", "i", n), cb, ud);
}
