#include "store_convs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store_sqlite.h"

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS conv_state("
    " conv TEXT PRIMARY KEY REFERENCES conversations(id),"
    " state TEXT NOT NULL DEFAULT 'bot', agent TEXT, node TEXT, notes TEXT, queued_ms INTEGER,"
    " read_seq INTEGER NOT NULL DEFAULT 0, agent_read_seq INTEGER NOT NULL DEFAULT 0,"
    " user_typing INTEGER NOT NULL DEFAULT 0, typing_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS conv_state_queue ON conv_state(state, queued_ms, conv);"
    "CREATE TABLE IF NOT EXISTS bot_messages("
    " msg INTEGER PRIMARY KEY REFERENCES messages(n), node TEXT NOT NULL);";

int cstate_init(db *d)
{
    return sq_script(d, schema);
}

static void defaults(cstate *s)
{
    memset(s, 0, sizeof *s);
    snprintf(s->state, sizeof s->state, "bot");
}

int cstate_get(db *d, const char *conv, cstate *out)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT state, agent, node, notes, queued_ms, read_seq,"
                                     " agent_read_seq, user_typing, typing_ms"
                                     " FROM conv_state WHERE conv = ?1", "t", conv);
    int rc = sq_step(d, st);

    defaults(out);
    if (rc == 1) {
        snprintf(out->state, sizeof out->state, "%s", sq_text(st, 0));
        snprintf(out->agent, sizeof out->agent, "%s", sq_text(st, 1));
        snprintf(out->node, sizeof out->node, "%s", sq_text(st, 2));
        if (sqlite3_column_type(st, 3) != SQLITE_NULL) {
            out->notes = strdup(sq_text(st, 3));
            rc = out->notes ? 1 : -1;
        }
        out->queued_ms = sqlite3_column_int64(st, 4);
        out->read_seq = sqlite3_column_int64(st, 5);
        out->agent_read_seq = sqlite3_column_int64(st, 6);
        out->user_typing = sqlite3_column_int(st, 7) != 0;
        out->typing_ms = sqlite3_column_int64(st, 8);
    }
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

void cstate_clear(cstate *s)
{
    free(s->notes);
    s->notes = NULL;
}

static const char *or_null(const char *s)
{
    return s && s[0] ? s : NULL;
}

int cstate_put(db *d, const char *conv, const cstate *s, int64_t now)
{
    return sq_exec(d,
                   "INSERT INTO conv_state(conv, state, agent, node, notes, queued_ms, updated_ms)"
                   " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(conv) DO UPDATE SET"
                   " state = excluded.state, agent = excluded.agent, node = excluded.node,"
                   " notes = excluded.notes, queued_ms = excluded.queued_ms,"
                   " updated_ms = excluded.updated_ms",
                   "tttttii", conv, s->state, or_null(s->agent), or_null(s->node), s->notes,
                   s->queued_ms, now);
}

/* Runs an upsert of one column and reports whether a row changed. */
static int upsert_changed(db *d, const char *sql, const char *conv, int64_t v, int64_t now)
{
    if (sq_exec(d, sql, "tii", conv, v, now))
        return -1;
    return sqlite3_changes(db_sqlite(d)) > 0;
}

int cstate_user_read(db *d, const char *conv, int64_t seq, int64_t now)
{
    return upsert_changed(d,
                          "INSERT INTO conv_state(conv, read_seq, updated_ms) VALUES(?1, ?2, ?3)"
                          " ON CONFLICT(conv) DO UPDATE SET read_seq = excluded.read_seq,"
                          " updated_ms = excluded.updated_ms WHERE excluded.read_seq > read_seq",
                          conv, seq, now);
}

int cstate_agent_read(db *d, const char *conv, int64_t seq, int64_t now)
{
    return upsert_changed(d,
                          "INSERT INTO conv_state(conv, agent_read_seq, updated_ms)"
                          " VALUES(?1, ?2, ?3) ON CONFLICT(conv) DO UPDATE SET"
                          " agent_read_seq = excluded.agent_read_seq,"
                          " updated_ms = excluded.updated_ms"
                          " WHERE excluded.agent_read_seq > agent_read_seq",
                          conv, seq, now);
}

int cstate_set_typing(db *d, const char *conv, int on, int64_t now)
{
    return sq_exec(d,
                   "INSERT INTO conv_state(conv, user_typing, typing_ms, updated_ms)"
                   " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(conv) DO UPDATE SET"
                   " user_typing = excluded.user_typing, typing_ms = excluded.typing_ms",
                   "tii", conv, (int64_t)(on != 0), now);
}

/* A one-row, one-integer query. */
static int query_int(db *d, sqlite3_stmt *st, int64_t *out)
{
    int rc = sq_step(d, st);

    *out = rc == 1 ? sqlite3_column_int64(st, 0) : 0;
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

int cstate_unread(db *d, const char *conv, int64_t *count)
{
    return query_int(d,
                     sq_prepare(d,
                                "SELECT count(*) FROM messages WHERE conv = ?1"
                                " AND author_kind <> 'user' AND seq > coalesce("
                                "(SELECT read_seq FROM conv_state WHERE conv = ?1), 0)",
                                "t", conv),
                     count);
}

int cstate_queue_position(db *d, const char *conv, int64_t *position)
{
    return query_int(d,
                     sq_prepare(d,
                                "SELECT count(*) FROM conv_state q, conv_state me"
                                " WHERE me.conv = ?1 AND me.state = 'queued'"
                                " AND q.state = 'queued' AND (q.queued_ms < me.queued_ms OR"
                                " (q.queued_ms = me.queued_ms AND q.conv <= me.conv))",
                                "t", conv),
                     position);
}

int cstate_queue_each(db *d, cstate_queue_cb cb, void *ud)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT conv, queued_ms FROM conv_state"
                                     " WHERE state = 'queued' ORDER BY queued_ms, conv", "");
    int64_t position = 0;
    int rc;

    while ((rc = sq_step(d, st)) == 1) {
        if (cb(ud, sq_text(st, 0), ++position, sqlite3_column_int64(st, 1)))
            break;
    }
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

int cstate_last_seq(db *d, const char *conv, int64_t *seq)
{
    return query_int(d, sq_prepare(d, "SELECT last_seq FROM conversations WHERE id = ?1", "t", conv),
                     seq);
}

int cstate_bot_message(db *d, int64_t msg, const char *node)
{
    return sq_exec(d, "INSERT OR REPLACE INTO bot_messages(msg, node) VALUES(?1, ?2)", "it", msg,
                   node);
}
