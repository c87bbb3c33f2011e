#include "store_sql.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

/* The message id is derived from the row number so that it is unique and
 * known the moment the row exists. conv_state holds one row per
 * conversation once something about it changed; bot_messages which flow
 * node wrote each bot message. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS conversations("
    " id TEXT PRIMARY KEY, \"user\" TEXT NOT NULL REFERENCES users(id), subject TEXT,"
    " start_cid TEXT, context TEXT, created_ms INTEGER NOT NULL,"
    " last_seq INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX IF NOT EXISTS conversations_user ON conversations(\"user\");"
    "CREATE TABLE IF NOT EXISTS messages("
    " n INTEGER PRIMARY KEY,"
    " id TEXT GENERATED ALWAYS AS ('m-' || n) VIRTUAL,"
    " conv TEXT NOT NULL REFERENCES conversations(id), seq INTEGER NOT NULL,"
    " cid TEXT, author_kind TEXT NOT NULL, author_name TEXT, text TEXT NOT NULL,"
    " ts INTEGER NOT NULL, context TEXT,"
    " UNIQUE(conv, seq), UNIQUE(conv, cid));"
    "CREATE TABLE IF NOT EXISTS conv_state("
    " conv TEXT PRIMARY KEY REFERENCES conversations(id),"
    " state TEXT NOT NULL DEFAULT 'bot', agent TEXT, node TEXT, notes TEXT, queued_ms INTEGER,"
    " read_seq INTEGER NOT NULL DEFAULT 0, agent_read_seq INTEGER NOT NULL DEFAULT 0,"
    " user_typing INTEGER NOT NULL DEFAULT 0, typing_ms INTEGER NOT NULL DEFAULT 0,"
    " updated_ms INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS conv_state_queue ON conv_state(state, queued_ms, conv);"
    "CREATE TABLE IF NOT EXISTS bot_messages("
    " msg INTEGER PRIMARY KEY REFERENCES messages(n), node TEXT NOT NULL);";

/* Columns added after the first release: a database made by an older server
 * gets them on open. */
static int add_message_columns(store *s)
{
    static const char *const columns[] = {"blocks", "postback", "attachment"};
    char sql[128];
    sq_stmt *st;
    size_t i;
    int rc;

    for (i = 0; i < sizeof columns / sizeof columns[0]; i++) {
        st = sq_query(s, "SELECT 1 FROM pragma_table_info('messages') WHERE name = ?1", "t",
                      columns[i]);
        rc = sq_step(s, st);
        sq_finish(st);
        if (rc == 1)
            continue;
        snprintf(sql, sizeof sql, "ALTER TABLE messages ADD COLUMN %s TEXT", columns[i]);
        if (rc != 0 || sq_run_once(s, sql, ""))
            return -1;
    }
    return 0;
}

int store_convs_init(store *s)
{
    return sq_script(s, schema) || add_message_columns(s) ? -1 : 0;
}

/* Message ids are "m-<row number>". */
static int parse_msg_id(const char *id, int64_t *n)
{
    return id && strncmp(id, "m-", 2) == 0 && pj_parse_seq(id + 2, n) == 0 && *n > 0 ? 0 : -1;
}

/* A one-row, one-integer query (0 when there is no row). */
static int query_int(store *s, int64_t *out, const char *sql, const char *arg)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, sql, "t", arg);

    *out = rc == 1 ? sq_i64(st, 0) : 0;
    sq_done(st);
    return rc < 0 ? -1 : 0;
}

/* ---- conversations ---- */

int store_conv_owner(store *s, const char *conv, char *user_out, size_t cap)
{
    int rc, found = 0;
    sq_stmt *st = sq_row(s, &rc, "SELECT \"user\" FROM conversations WHERE id = ?1", "t", conv);
    const char *user = rc == 1 ? sq_text(st, 0) : NULL;

    if (user && strlen(user) < cap) {
        memcpy(user_out, user, strlen(user) + 1);
        found = 1;
    }
    sq_done(st);
    return rc < 0 ? -1 : found;
}

int store_conv_owned(store *s, const char *user, const char *conv)
{
    char owner[STORE_ID_MAX + 1];
    int rc = store_conv_owner(s, conv, owner, sizeof owner);

    if (rc <= 0)
        return rc;
    return strcmp(owner, user) == 0;
}

int store_conv_create(store *s, const char *conv, const char *user, const char *subject,
                      const char *cid, const char *context, int64_t now)
{
    return sq_run(
        s,
        "INSERT INTO conversations(id, \"user\", subject, start_cid, context, created_ms) "
        "VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
        "ttttti", conv, user, subject, cid, context, now);
}

static void read_conv(sq_stmt *st, store_conv *c)
{
    c->id = sq_text(st, 0);
    c->user = sq_text(st, 1);
    c->subject = sq_text_or_null(st, 2);
    c->created_ms = sq_i64(st, 3);
    c->last_seq = sq_i64(st, 4);
}

int store_conv_each(store *s, store_conv_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT id, \"user\", subject, created_ms, last_seq "
                           "FROM conversations ORDER BY created_ms, id",
                           "");
    store_conv c;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        read_conv(st, &c);
        stop = cb(ud, &c);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_conv_get(store *s, const char *id, store_conv_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT id, \"user\", subject, created_ms, last_seq "
                           "FROM conversations WHERE id = ?1",
                           "t", id);
    store_conv c;
    int rc = sq_step(s, st), stop = 0;

    if (rc == 1) {
        read_conv(st, &c);
        stop = cb(ud, &c);
    }
    sq_finish(st);
    return stop ? -1 : rc;
}

int store_conv_snapshot(store *s, const char *conv, char **json)
{
    int rc, oom = 0;
    sq_stmt *st = sq_row(s, &rc, "SELECT context FROM conversations WHERE id = ?1", "t", conv);

    *json = rc == 1 ? sq_dup(st, 0, &oom) : NULL;
    sq_done(st);
    if (rc < 0 || oom)
        return -1;
    return *json != NULL;
}

int store_conv_last_seq(store *s, const char *conv, int64_t *seq)
{
    return query_int(s, seq, "SELECT last_seq FROM conversations WHERE id = ?1", conv);
}

/* ---- messages ---- */

int store_msg_by_cid(store *s, const char *conv, const char *cid, store_msg *out)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, "SELECT id, seq FROM messages WHERE conv = ?1 AND cid = ?2", "tt",
                         conv, cid);

    if (rc == 1) {
        snprintf(out->id, sizeof out->id, "%s", sq_text(st, 0));
        out->seq = sq_i64(st, 1);
    }
    sq_done(st);
    return rc;
}

static int next_seq(store *s, const char *conv, int64_t *seq)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "UPDATE conversations SET last_seq = last_seq + 1 "
                         "WHERE id = ?1 RETURNING last_seq",
                         "t", conv);

    if (rc == 0)
        fprintf(stderr, "parley-server: db: next seq: no conversation %s\n", conv);
    if (rc != 1)
        return -1;
    *seq = sq_i64(st, 0);
    /* RETURNING applies the update when the statement runs to completion. */
    rc = sq_step(s, st);
    sq_done(st);
    return rc == 0 ? 0 : sq_fail(s, "next seq");
}

/* The sequence number comes from the conversation's row, which the update
 * locks until the commit: servers sharing a database take turns, and the
 * numbers stay gap-free. */
int store_msg_insert(store *s, store_msg *m)
{
    int64_t n;

    if (next_seq(s, m->conv, &m->seq) ||
        sq_insert_id(s, &n,
                     "INSERT INTO messages(conv, seq, cid, author_kind, author_name, text, ts, "
                     "context, blocks, postback, attachment) "
                     "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) RETURNING n",
                     "tittttitttt", m->conv, m->seq, m->cid, m->author_kind, m->author_name,
                     m->text, m->ts, m->context, m->blocks, m->postback, m->attachment))
        return -1;
    snprintf(m->id, sizeof m->id, "m-%" PRId64, n);
    return 0;
}

static void read_msg(sq_stmt *st, const char *conv, store_msg *m)
{
    memset(m, 0, sizeof *m);
    m->conv = conv;
    snprintf(m->id, sizeof m->id, "%s", sq_text(st, 0));
    m->seq = sq_i64(st, 1);
    m->author_kind = sq_text(st, 2);
    m->author_name = sq_text_or_null(st, 3);
    m->text = sq_text(st, 4);
    m->ts = sq_i64(st, 5);
    m->blocks = sq_text_or_null(st, 6);
    m->attachment = sq_text_or_null(st, 7);
}

/* Every column of a message, in read_msg's order and then cid, context,
 * postback and the agent account that wrote it. */
#define MSG_COLUMNS                                                                                \
    "id, seq, author_kind, author_name, text, ts, blocks, attachment, cid, context, postback,"     \
    " (SELECT agent FROM msg_by WHERE msg = n) AS by_agent"

/* Hands every row of `st` to cb, whole. */
static int each_whole(store *s, sq_stmt *st, const char *conv, store_msg_cb cb, void *ud)
{
    store_msg m;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        read_msg(st, conv, &m);
        m.cid = sq_text_or_null(st, 8);
        m.context = sq_text_or_null(st, 9);
        m.postback = sq_text_or_null(st, 10);
        m.by = sq_text_or_null(st, 11);
        stop = cb(ud, &m);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_msg_each(store *s, const char *conv, int64_t after, int64_t limit, store_msg_cb cb,
                   void *ud)
{
    return each_whole(s,
                      sq_query(s,
                               "SELECT " MSG_COLUMNS " FROM messages "
                               "WHERE conv = ?1 AND seq > ?2 ORDER BY seq LIMIT ?3",
                               "tii", conv, after, limit > 0 ? limit : INT64_MAX),
                      conv, cb, ud);
}

/* The newest rows come from the (conv, seq) index backwards, `limit` of
 * them at most, whatever the conversation's length; the outer query only
 * turns them round. */
int store_msg_tail(store *s, const char *conv, int64_t before, int64_t limit, store_msg_cb cb,
                   void *ud)
{
    return each_whole(s,
                      sq_query(s,
                               "SELECT * FROM (SELECT " MSG_COLUMNS " FROM messages "
                               "WHERE conv = ?1 AND seq < ?2 ORDER BY seq DESC LIMIT ?3) AS page "
                               "ORDER BY seq",
                               "tii", conv, before, limit),
                      conv, cb, ud);
}

int store_msg_page(store *s, const char *conv, int64_t before, int64_t limit, store_msg_cb cb,
                   void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT id, seq, author_kind, author_name, text, ts, blocks,"
                           " attachment FROM messages WHERE conv = ?1 AND seq < ?2"
                           " ORDER BY seq DESC LIMIT ?3",
                           "tii", conv, before, limit);
    store_msg m;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        read_msg(st, conv, &m);
        stop = cb(ud, &m);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_msg_offer(store *s, const char *conv, const char *msg_id, char **blocks,
                    char origin[STORE_ID_MAX + 1])
{
    int64_t n;
    int rc, oom = 0;
    sq_stmt *st;

    *blocks = NULL;
    if (parse_msg_id(msg_id, &n))
        return 0;
    st = sq_row(s, &rc,
                "SELECT m.blocks, b.node FROM messages m"
                " LEFT JOIN bot_messages b ON b.msg = m.n WHERE m.n = ?1 AND m.conv = ?2",
                "it", n, conv);
    if (rc == 1) {
        *blocks = sq_dup(st, 0, &oom);
        snprintf(origin, STORE_ID_MAX + 1, "%s", sq_text(st, 1));
    }
    sq_done(st);
    if (rc < 0 || oom)
        return -1;
    return *blocks != NULL;
}

int store_bot_message(store *s, const char *msg_id, const char *node)
{
    int64_t n;

    if (parse_msg_id(msg_id, &n))
        return -1;
    return sq_run(s,
                  "INSERT INTO bot_messages(msg, node) VALUES(?1, ?2)"
                  " ON CONFLICT(msg) DO UPDATE SET node = excluded.node",
                  "it", n, node);
}

/* ---- conversation state ---- */

static void state_defaults(store_state *st)
{
    memset(st, 0, sizeof *st);
    snprintf(st->state, sizeof st->state, "bot");
}

int store_state_get(store *s, const char *conv, store_state *out)
{
    int rc, oom = 0;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT state, agent, node, notes, queued_ms, read_seq,"
                         " agent_read_seq, user_typing, typing_ms"
                         " FROM conv_state WHERE conv = ?1",
                         "t", conv);

    state_defaults(out);
    if (rc == 1) {
        snprintf(out->state, sizeof out->state, "%s", sq_text(st, 0));
        snprintf(out->agent, sizeof out->agent, "%s", sq_text(st, 1));
        snprintf(out->node, sizeof out->node, "%s", sq_text(st, 2));
        out->notes = sq_dup(st, 3, &oom);
        out->queued_ms = sq_i64(st, 4);
        out->read_seq = sq_i64(st, 5);
        out->agent_read_seq = sq_i64(st, 6);
        out->user_typing = sq_int(st, 7) != 0;
        out->typing_ms = sq_i64(st, 8);
    }
    sq_done(st);
    return rc < 0 || oom ? -1 : 0;
}

void store_state_clear(store_state *st)
{
    free(st->notes);
    st->notes = NULL;
}

static const char *or_null(const char *text)
{
    return text && text[0] ? text : NULL;
}

int store_state_put(store *s, const char *conv, const store_state *st, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO conv_state(conv, state, agent, node, notes, queued_ms, updated_ms)"
                  " VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT(conv) DO UPDATE SET"
                  " state = excluded.state, agent = excluded.agent, node = excluded.node,"
                  " notes = excluded.notes, queued_ms = excluded.queued_ms,"
                  " updated_ms = excluded.updated_ms",
                  "tttttii", conv, st->state, or_null(st->agent), or_null(st->node), st->notes,
                  st->queued_ms, now);
}

int store_read_user(store *s, const char *conv, int64_t seq, int64_t now)
{
    if (sq_run(s,
               "INSERT INTO conv_state(conv, read_seq, updated_ms) VALUES(?1, ?2, ?3)"
               " ON CONFLICT(conv) DO UPDATE SET read_seq = excluded.read_seq,"
               " updated_ms = excluded.updated_ms WHERE excluded.read_seq > conv_state.read_seq",
               "tii", conv, seq, now))
        return -1;
    return sq_changes(s) > 0;
}

int store_read_agent(store *s, const char *conv, int64_t seq, int64_t now)
{
    if (sq_run(s,
               "INSERT INTO conv_state(conv, agent_read_seq, updated_ms)"
               " VALUES(?1, ?2, ?3) ON CONFLICT(conv) DO UPDATE SET"
               " agent_read_seq = excluded.agent_read_seq, updated_ms = excluded.updated_ms"
               " WHERE excluded.agent_read_seq > conv_state.agent_read_seq",
               "tii", conv, seq, now))
        return -1;
    return sq_changes(s) > 0;
}

int store_typing_set(store *s, const char *conv, int on, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO conv_state(conv, user_typing, typing_ms, updated_ms)"
                  " VALUES(?1, ?2, ?3, ?3) ON CONFLICT(conv) DO UPDATE SET"
                  " user_typing = excluded.user_typing, typing_ms = excluded.typing_ms",
                  "tii", conv, (int64_t)(on != 0), now);
}

/* ---- unread counts, the queue, the user's list ---- */

int store_unread(store *s, const char *conv, int64_t *count)
{
    return query_int(s, count,
                     "SELECT count(*) FROM messages WHERE conv = ?1"
                     " AND author_kind <> 'user' AND seq > coalesce("
                     "(SELECT read_seq FROM conv_state WHERE conv = ?1), 0)",
                     conv);
}

int store_unread_each(store *s, const char *user, store_unread_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s,
                           "SELECT c.id, (SELECT count(*) FROM messages m"
                           "  WHERE m.conv = c.id AND m.author_kind <> 'user'"
                           "  AND m.seq > coalesce(q.read_seq, 0))"
                           " FROM conversations c LEFT JOIN conv_state q ON q.conv = c.id"
                           " WHERE c.\"user\" = ?1 ORDER BY c.created_ms, c.id",
                           "t", user);
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1)
        stop = cb(ud, sq_text(st, 0), sq_i64(st, 1));
    sq_finish(st);
    return stop ? stop : rc;
}

/* The queue with each conversation's places in it (docs/routing.md, "Queue
 * order"): the VIP lane, priority, then the time it was queued. The
 * priority is the conversation's (docs/agent-console.md) once an agent or
 * the rules set it, else its triage's. */
#define QUEUE_PRIORITY                                                                             \
    "CASE WHEN m.priority_by IS NOT NULL THEN m.priority"                                          \
    " ELSE coalesce(t.priority, m.priority, 'normal') END"
#define QUEUE_ORDER                                                                                \
    "coalesce(t.jump, 0) DESC, CASE " QUEUE_PRIORITY " WHEN 'urgent' THEN 0"                       \
    " WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END, q.queued_ms, q.conv"
#define QUEUE_ROWS                                                                                 \
    "SELECT q.conv AS conv, c.\"user\", c.subject, q.queued_ms, q.notes, t.team, " QUEUE_PRIORITY  \
    ","                                                                                            \
    " coalesce(t.jump, 0), coalesce(t.score, 0),"                                                  \
    " row_number() OVER (ORDER BY " QUEUE_ORDER ") AS position,"                                   \
    " row_number() OVER (PARTITION BY coalesce(t.team, '') ORDER BY " QUEUE_ORDER ")"              \
    " AS team_position"                                                                            \
    " FROM conv_state q JOIN conversations c ON c.id = q.conv"                                     \
    " LEFT JOIN conv_triage t ON t.conv = q.conv"                                                  \
    " LEFT JOIN conv_meta m ON m.conv = q.conv WHERE q.state = 'queued'"

int store_queue_each(store *s, store_queued_cb cb, void *ud)
{
    sq_stmt *st = sq_query(s, QUEUE_ROWS " ORDER BY position", "");
    store_queued q;
    int rc, stop = 0;

    memset(&q, 0, sizeof q);
    while (!stop && (rc = sq_step(s, st)) == 1) {
        q.conv = sq_text(st, 0);
        q.user = sq_text(st, 1);
        q.subject = sq_text_or_null(st, 2);
        q.queued_ms = sq_i64(st, 3);
        q.notes = sq_text_or_null(st, 4);
        q.team = sq_text_or_null(st, 5);
        q.priority = sq_text_or_null(st, 6);
        q.jump = sq_int(st, 7);
        q.score = sq_int(st, 8);
        q.position = sq_i64(st, 9);
        q.team_position = sq_i64(st, 10);
        stop = cb(ud, &q);
    }
    sq_finish(st);
    return stop ? stop : rc;
}

int store_queue_position(store *s, const char *conv, int64_t *position)
{
    return query_int(s, position, "SELECT position FROM (" QUEUE_ROWS ") AS r WHERE conv = ?1",
                     conv);
}

int store_queue_team_position(store *s, const char *conv, int64_t *position, char *team, size_t cap)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT team_position, coalesce(team, '') FROM (" QUEUE_ROWS
                         ") AS r WHERE conv = ?1",
                         "t", conv);

    *position = rc == 1 ? sq_i64(st, 0) : 0;
    snprintf(team, cap, "%s", rc == 1 ? sq_text(st, 1) : "");
    sq_done(st);
    return rc < 0 ? -1 : 0;
}

int store_conv_list(store *s, const char *user, int64_t limit, store_conv_row_cb cb, void *ud)
{
    sq_stmt *st =
        sq_query(s,
                 "SELECT c.id, c.subject, c.last_seq, coalesce(q.state, 'bot'),"
                 " (SELECT count(*) FROM messages m WHERE m.conv = c.id"
                 "  AND m.author_kind <> 'user' AND m.seq > coalesce(q.read_seq, 0)),"
                 " coalesce((SELECT ts FROM messages m WHERE m.conv = c.id"
                 "  AND m.seq = c.last_seq), c.created_ms) AS updated,"
                 " (SELECT text FROM messages m WHERE m.conv = c.id AND m.seq = c.last_seq)"
                 " FROM conversations c LEFT JOIN conv_state q ON q.conv = c.id"
                 " WHERE c.\"user\" = ?1 ORDER BY updated DESC, c.id LIMIT ?2",
                 "ti", user, limit);
    store_conv_row r;
    int rc, stop = 0;

    while (!stop && (rc = sq_step(s, st)) == 1) {
        r.conv = sq_text(st, 0);
        r.subject = sq_text_or_null(st, 1);
        r.last_seq = sq_i64(st, 2);
        r.state = sq_text(st, 3);
        r.unread = sq_i64(st, 4);
        r.updated_ms = sq_i64(st, 5);
        r.last_text = sq_text_or_null(st, 6);
        stop = cb(ud, &r);
    }
    sq_finish(st);
    return stop ? stop : rc;
}
