#include "agent.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "frame_chat.h"
#include "store_convs.h"
#include "wire.h"
#include "json.h"
#include "store_sqlite.h"
#include "survey.h"
#include "util.h"
#include "ws.h"

/* The client reports "off" by itself 6 s after the last "on"; agents see
 * the same. */
#define TYPING_FRESH_MS 6000

static unsigned fail(cJSON **out, unsigned status, const char *message)
{
    cJSON_Delete(*out);
    *out = cJSON_CreateObject();
    if (*out && !cJSON_AddStringToObject(*out, "error", message)) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return status;
}

static unsigned db_fail(cJSON **out)
{
    return fail(out, HTTP_STATUS_INTERNAL_SERVER_ERROR, "database error");
}

static int valid_name(const char *name)
{
    return name && name[0] && strlen(name) <= PJ_MAX_ID;
}

/* ---- state frames ---- */

static int add_queue(server *s, cJSON *o, int64_t position)
{
    cJSON *q = cJSON_AddObjectToObject(o, "queue");
    int wait = flow_wait_per_position(s->flow);

    return q && cJSON_AddNumberToObject(q, "position", (double)position) &&
           (wait == 0 || cJSON_AddNumberToObject(q, "wait_s", (double)(position * wait)));
}

cJSON *agent_state_json(server *s, const char *conv)
{
    cJSON *o, *agent;
    int64_t position = 0;
    cstate st;
    int ok;

    if (cstate_get(s->db, conv, &st))
        return NULL;
    o = cJSON_CreateObject();
    ok = o && cJSON_AddStringToObject(o, "conv", conv) &&
         cJSON_AddStringToObject(o, "state", st.state);
    if (ok && strcmp(st.state, "agent") == 0 && st.agent[0]) {
        agent = cJSON_AddObjectToObject(o, "agent");
        ok = agent && cJSON_AddStringToObject(agent, "name", st.agent);
    }
    if (ok && strcmp(st.state, "queued") == 0)
        ok = cstate_queue_position(s->db, conv, &position) == 0 && add_queue(s, o, position);
    cstate_clear(&st);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

/* Sends {"t":type, ...members of body} to the user's connections; takes
 * `body`. */
static void push_frame(server *s, const char *user, const char *type, cJSON *body)
{
    cJSON *t = cJSON_CreateString(type);
    char *json = NULL;

    /* "t" goes first, where a person reading a log looks for it. */
    if (body && t && cJSON_AddItemToObject(body, "t", t)) {
        cJSON_InsertItemInArray(body, 0, cJSON_DetachItemViaPointer(body, t));
        json = cJSON_PrintUnformatted(body);
    } else
        cJSON_Delete(t);
    if (json)
        ws_push_frame(s, user, json);
    else
        fprintf(stderr, "parley-server: out of memory, %s not sent to '%s'\n", type, user);
    cJSON_free(json);
    cJSON_Delete(body);
}

void agent_push_state(server *s, const char *user, const char *conv)
{
    char owner[PJ_MAX_ID + 1];

    if (!user) {
        if (db_conv_owner(s->db, conv, owner, sizeof owner) != 1)
            return;
        user = owner;
    }
    push_frame(s, user, "conv.update", agent_state_json(s, conv));
}

static int push_position(void *ud, const char *conv, int64_t position, int64_t queued_ms)
{
    server *s = ud;
    char user[PJ_MAX_ID + 1];
    cJSON *o = cJSON_CreateObject();

    (void)queued_ms;
    if (db_conv_owner(s->db, conv, user, sizeof user) != 1 || !o ||
        !cJSON_AddStringToObject(o, "conv", conv) ||
        !cJSON_AddStringToObject(o, "state", "queued") || !add_queue(s, o, position)) {
        cJSON_Delete(o);
        return 0;
    }
    push_frame(s, user, "conv.update", o);
    return 0;
}

void agent_push_queue(server *s)
{
    if (s->nconns)
        cstate_queue_each(s->db, push_position, s);
}

/* ---- the HTTP API's view ---- */

static int add_seq_member(cJSON *o, const char *key, int64_t seq)
{
    char buf[PJ_SEQ_BUF];

    pj_format_seq(seq, buf);
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static int add_state_members(server *s, cJSON *o, const char *conv, const cstate *st)
{
    cJSON *agent, *notes;
    int64_t position = 0;

    if (!cJSON_AddStringToObject(o, "state", st->state))
        return 0;
    agent = st->agent[0] ? cJSON_CreateObject() : cJSON_CreateNull();
    if (!agent || !cJSON_AddItemToObject(o, "agent", agent)) {
        cJSON_Delete(agent);
        return 0;
    }
    if (st->agent[0] && !cJSON_AddStringToObject(agent, "name", st->agent))
        return 0;
    if (strcmp(st->state, "queued") == 0 && cstate_queue_position(s->db, conv, &position))
        return 0;
    if (!(position ? cJSON_AddNumberToObject(o, "queue_position", (double)position)
                   : cJSON_AddNullToObject(o, "queue_position")))
        return 0;
    notes = st->notes ? cJSON_Parse(st->notes) : cJSON_CreateNull();
    if (!notes || !cJSON_AddItemToObject(o, "bot_notes", notes)) {
        cJSON_Delete(notes);
        return 0;
    }
    return 1;
}

int agent_add_to_conv(server *s, cJSON *obj, const char *conv)
{
    int64_t now = util_now_ms();
    cstate st;
    int ok;

    if (cstate_get(s->db, conv, &st))
        return -1;
    ok = add_state_members(s, obj, conv, &st) &&
         cJSON_AddBoolToObject(obj, "user_typing",
                               st.user_typing && now - st.typing_ms < TYPING_FRESH_MS) &&
         add_seq_member(obj, "read_seq", st.read_seq) &&
         add_seq_member(obj, "agent_read_seq", st.agent_read_seq);
    cstate_clear(&st);
    return ok ? 0 : -1;
}

/* ---- state changes ---- */

/* One conversation's change of state: stored inside a transaction,
 * announced to its user after the commit. */
typedef struct transition {
    char user[PJ_MAX_ID + 1];
    int changed; /* conv.update is due */
    int moved;   /* it left the queue: the others moved up */
} transition;

/* The states an agent who writes takes a conversation from: the bot and the
 * queue give way. */
static const char *const agent_writes_from[] = {"bot", "queued", "open", NULL};

static int in_list(const char *state, const char *const *list)
{
    for (; *list; list++) {
        if (strcmp(state, *list) == 0)
            return 1;
    }
    return 0;
}

/* Inside the caller's transaction: moves `conv` to `state` (and to `agent`
 * unless NULL), when its state is one of `from` (NULL: any). 0 or -1. */
static int apply(db *d, const char *conv, const char *state, const char *agent,
                 const char *const *from, int64_t now, transition *t)
{
    cstate st;
    int rc;

    t->changed = t->moved = 0;
    if (cstate_get(d, conv, &st))
        return -1;
    if (!from || in_list(st.state, from)) {
        t->changed = strcmp(st.state, state) != 0 || (agent && strcmp(st.agent, agent) != 0);
        t->moved = strcmp(st.state, "queued") == 0 && strcmp(state, "queued") != 0;
        snprintf(st.state, sizeof st.state, "%s", state);
        if (agent)
            snprintf(st.agent, sizeof st.agent, "%s", agent);
        if (t->moved)
            st.queued_ms = 0;
    }
    rc = t->changed ? cstate_put(d, conv, &st, now) : 0;
    cstate_clear(&st);
    return rc;
}

static void announce(server *s, const char *conv, const transition *t)
{
    if (t->changed)
        agent_push_state(s, t->user, conv);
    if (t->moved)
        agent_push_queue(s);
}

/* ---- agent messages ---- */

int agent_message_fits(const char *conv, const char *name, const char *text, const char *blocks)
{
    db_msg m;
    char *json;
    int fits;

    memset(&m, 0, sizeof m);
    snprintf(m.id, sizeof m.id, "m-%" PRId64, INT64_MAX);
    m.seq = PJ_SEQ_MAX;
    m.conv = conv;
    m.author_kind = "agent";
    m.author_name = name;
    m.text = text;
    m.blocks = blocks;
    m.ts = util_now_ms();
    json = frame_msg(&m);
    fits = json && strlen(json) <= PJ_MAX_FRAME;
    cJSON_free(json);
    return fits;
}

int agent_message(server *s, const char *conv, const char *name, const char *text,
                  const char *blocks, db_msg *out)
{
    transition t;
    int rc;

    memset(out, 0, sizeof *out);
    out->conv = conv;
    out->author_kind = "agent";
    out->author_name = name;
    out->text = text;
    out->blocks = blocks;
    out->ts = util_now_ms();
    if (db_begin(s->db))
        return CHAT_ERR;
    rc = db_conv_owner(s->db, conv, t.user, sizeof t.user);
    if (rc <= 0 || db_msg_insert(s->db, out) ||
        apply(s->db, conv, "agent", name, agent_writes_from, out->ts, &t) || db_commit(s->db)) {
        db_rollback(s->db);
        return rc == 0 ? CHAT_UNKNOWN_CONV : CHAT_ERR;
    }
    ws_push(s, t.user, out, NULL);
    announce(s, conv, &t);
    return CHAT_OK;
}

static unsigned answer_state(server *s, const char *conv, cJSON **out)
{
    *out = agent_state_json(s, conv);
    return *out ? HTTP_STATUS_OK : db_fail(out);
}

/* Moves `conv` to `state` (and to `agent`, unless NULL) and tells the user. */
static unsigned change_state(server *s, const char *conv, const char *state, const char *agent,
                             cJSON **out)
{
    int64_t now = util_now_ms();
    transition t;
    int rc;

    if (db_begin(s->db))
        return db_fail(out);
    rc = db_conv_owner(s->db, conv, t.user, sizeof t.user);
    if (rc <= 0 || apply(s->db, conv, state, agent, NULL, now, &t) || db_commit(s->db)) {
        db_rollback(s->db);
        return rc == 0 ? fail(out, HTTP_STATUS_NOT_FOUND, "unknown conversation") : db_fail(out);
    }
    announce(s, conv, &t);
    if (t.changed && strcmp(state, "closed") == 0)
        survey_on_conv_closed(s, conv, now);
    return answer_state(s, conv, out);
}

unsigned agent_api_assign(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    const char *name = pj_string(body, "agent");

    if (!valid_name(name))
        return fail(out, HTTP_STATUS_BAD_REQUEST, "agent must be a string of 1 to 128 bytes");
    return change_state(s, conv, "agent", name, out);
}

unsigned agent_api_close(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    (void)body;
    return change_state(s, conv, "closed", NULL, out);
}

unsigned agent_api_reopen(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    (void)body;
    return change_state(s, conv, "open", NULL, out);
}

unsigned agent_api_bot(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    char user[PJ_MAX_ID + 1];
    bot_result r;
    int rc;

    (void)body;
    rc = bot_hand_back(s, conv, &r, user);
    if (rc == CHAT_UNKNOWN_CONV)
        return fail(out, HTTP_STATUS_NOT_FOUND, "unknown conversation");
    if (rc != CHAT_OK)
        return db_fail(out);
    bot_deliver(s, user, conv, &r);
    bot_result_clear(&r);
    return answer_state(s, conv, out);
}

/* ---- typing and read ---- */

unsigned agent_api_typing(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "on"),
                *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    char user[PJ_MAX_ID + 1];
    cJSON *frame, *author;
    int rc;

    if (!cJSON_IsBool(on))
        return fail(out, HTTP_STATUS_BAD_REQUEST, "on must be a boolean");
    if (name && !(cJSON_IsString(name) && valid_name(name->valuestring)))
        return fail(out, HTTP_STATUS_BAD_REQUEST, "name must be a string of 1 to 128 bytes");
    rc = db_conv_owner(s->db, conv, user, sizeof user);
    if (rc <= 0)
        return rc == 0 ? fail(out, HTTP_STATUS_NOT_FOUND, "unknown conversation") : db_fail(out);
    frame = cJSON_CreateObject();
    author = cJSON_CreateObject();
    if (!frame || !author || !cJSON_AddStringToObject(frame, "conv", conv) ||
        !cJSON_AddBoolToObject(frame, "on", cJSON_IsTrue(on)) ||
        !cJSON_AddItemToObject(frame, "author", author)) {
        cJSON_Delete(author);
        cJSON_Delete(frame);
        return db_fail(out);
    }
    if (!cJSON_AddStringToObject(author, "kind", "agent") ||
        !cJSON_AddStringToObject(author, "name", name ? name->valuestring : AGENT_NAME_DEFAULT)) {
        cJSON_Delete(frame);
        return db_fail(out);
    }
    *out = cJSON_Duplicate(frame, 1);
    push_frame(s, user, "typing", frame);
    return *out ? HTTP_STATUS_OK : db_fail(out);
}

/* {"conv","seq"}: the read frame's members and the API's answer. */
static cJSON *read_json(const char *conv, int64_t seq)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "conv", conv) || !add_seq_member(o, "seq", seq)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

unsigned agent_api_read(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    char user[PJ_MAX_ID + 1];
    int64_t seq, last = 0;
    int rc;

    if (pj_parse_seq(pj_string(body, "seq"), &seq) || seq == 0)
        return fail(out, HTTP_STATUS_BAD_REQUEST, "seq must be a seq string (\"1\" or more)");
    rc = db_conv_owner(s->db, conv, user, sizeof user);
    if (rc <= 0)
        return rc == 0 ? fail(out, HTTP_STATUS_NOT_FOUND, "unknown conversation") : db_fail(out);
    if (cstate_last_seq(s->db, conv, &last))
        return db_fail(out);
    if (seq > last)
        return fail(out, HTTP_STATUS_BAD_REQUEST, "seq is beyond the conversation's last message");
    rc = cstate_agent_read(s->db, conv, seq, util_now_ms());
    if (rc < 0)
        return db_fail(out);
    /* Only a mark that moved is news to the user. */
    if (rc > 0)
        push_frame(s, user, "read", read_json(conv, seq));
    *out = read_json(conv, seq);
    return *out ? HTTP_STATUS_OK : db_fail(out);
}

/* ---- the queue ---- */

static int add_queued(server *s, cJSON *arr, sqlite3_stmt *st, int64_t position)
{
    cJSON *o = cJSON_CreateObject(), *notes;
    int wait = flow_wait_per_position(s->flow);

    if (!o || !cJSON_AddItemToArray(arr, o)) {
        cJSON_Delete(o);
        return -1;
    }
    notes = sqlite3_column_type(st, 4) == SQLITE_NULL ? cJSON_CreateNull()
                                                      : cJSON_Parse(sq_text(st, 4));
    if (!cJSON_AddStringToObject(o, "conv", sq_text(st, 0)) ||
        !cJSON_AddStringToObject(o, "user", sq_text(st, 1)) ||
        !(sqlite3_column_type(st, 2) == SQLITE_NULL
              ? cJSON_AddNullToObject(o, "subject")
              : cJSON_AddStringToObject(o, "subject", sq_text(st, 2))) ||
        !cJSON_AddNumberToObject(o, "position", (double)position) ||
        !cJSON_AddNumberToObject(o, "queued_ms", (double)sqlite3_column_int64(st, 3)) ||
        (wait && !cJSON_AddNumberToObject(o, "wait_s", (double)(position * wait))) || !notes ||
        !cJSON_AddItemToObject(o, "bot_notes", notes)) {
        cJSON_Delete(notes);
        return -1;
    }
    return 0;
}

unsigned agent_api_queue(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    sqlite3_stmt *st = sq_prepare(s->db,
                                  "SELECT q.conv, c.user, c.subject, q.queued_ms, q.notes"
                                  " FROM conv_state q JOIN conversations c ON c.id = q.conv"
                                  " WHERE q.state = 'queued' ORDER BY q.queued_ms, q.conv", "");
    int64_t position = 0;
    int rc = 0;

    (void)arg;
    (void)body;
    *out = cJSON_CreateArray();
    while (*out && (rc = sq_step(s->db, st)) == 1) {
        if (add_queued(s, *out, st, ++position))
            rc = -1;
        if (rc < 0)
            break;
    }
    sqlite3_finalize(st);
    if (!*out || !st || rc < 0)
        return db_fail(out);
    return HTTP_STATUS_OK;
}
