#include "api_agent.h"

#include <string.h>

#include "agent.h"
#include "agents.h"
#include "bot.h"
#include "console.h"
#include "deliver.h"
#include "triage.h"
#include "json.h"
#include "store.h"
#include "util.h"

static unsigned db_fail(cJSON **out)
{
    return http_error(out, HTTP_SERVER_ERROR, "database error");
}

static unsigned unknown_conv(cJSON **out)
{
    return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
}

static int valid_name(const char *name)
{
    return name && name[0] && strlen(name) <= PJ_MAX_ID;
}

/* The conversation's state (as conv.update carries it) is the answer, with
 * the console's item (docs/agent-console.md) around it. */
static unsigned answer_state(server *s, const char *conv, cJSON **out)
{
    cJSON *state = deliver_state_body(s, conv), *it;

    *out = console_item(s, conv);
    if (*out && state) {
        for (it = state->child; it; it = it->next) {
            if (!cJSON_GetObjectItemCaseSensitive(*out, it->string))
                cJSON_AddItemToObject(*out, it->string, cJSON_Duplicate(it, 1));
        }
    }
    cJSON_Delete(state);
    return *out ? HTTP_OK : db_fail(out);
}

static const char *by_of(const server *s)
{
    return s->req ? s->req->name : "api-token";
}

static unsigned set_state(server *s, const char *conv, const char *state, const char *name,
                          const char *action, const char *detail, cJSON **out)
{
    int rc = agent_set_state(s, conv, state, name, by_of(s), action, detail);

    if (rc == AGENT_UNKNOWN_CONV)
        return unknown_conv(out);
    return rc == AGENT_OK ? answer_state(s, conv, out) : db_fail(out);
}

/* Who holds the conversation now ("" when nobody). 0 or -1. */
static int holder(server *s, const char *conv, char out[PJ_MAX_ID + 1])
{
    store_state cs;

    out[0] = '\0';
    if (store_state_get(s->store, conv, &cs))
        return -1;
    if (strcmp(cs.state, "agent") == 0)
        snprintf(out, PJ_MAX_ID + 1, "%s", cs.agent);
    store_state_clear(&cs);
    return 0;
}

/* Assign and transfer: to `name`, recorded as a transfer when someone
 * else held it. */
static unsigned hand_to(server *s, const char *conv, const char *name, int must_be_held,
                        const char *note, cJSON **out)
{
    char from[PJ_MAX_ID + 1];
    cJSON *detail = cJSON_CreateObject();
    char *json;
    unsigned st;
    int transfer;

    if (holder(s, conv, from)) {
        cJSON_Delete(detail);
        return db_fail(out);
    }
    if (must_be_held && (!from[0] || strcmp(from, name) == 0)) {
        cJSON_Delete(detail);
        return http_error(out, HTTP_CONFLICT,
                          from[0] ? "the agent holds it already" : "nobody holds the conversation");
    }
    transfer = from[0] && strcmp(from, name) != 0;
    if (!detail || !cJSON_AddStringToObject(detail, "to", name) ||
        (transfer && !cJSON_AddStringToObject(detail, "from", from)) ||
        (note && !cJSON_AddStringToObject(detail, "note", note)) ||
        !(json = cJSON_PrintUnformatted(detail))) {
        cJSON_Delete(detail);
        return db_fail(out);
    }
    cJSON_Delete(detail);
    st = set_state(s, conv, "agent", name, transfer ? "transfer" : "assign", json, out);
    cJSON_free(json);
    return st;
}

/* The agent named in the body, or the caller; with a session it must be an
 * account. */
static const char *target(server *s, const cJSON *body, cJSON **out, unsigned *st)
{
    const char *name = pj_string(body, "agent");

    if (!name && s->req && !s->req->via_token)
        name = s->req->name;
    if (!valid_name(name)) {
        *st = http_error(out, HTTP_BAD_REQUEST, "agent must be a string of 1 to 128 bytes");
        return NULL;
    }
    if (s->req && !s->req->via_token && !agents_exists(s, name)) {
        *st = http_error(out, HTTP_BAD_REQUEST, "no agent of that name");
        return NULL;
    }
    return name;
}

unsigned api_agent_assign(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    unsigned st = 0;
    const char *name = target(s, body, out, &st);

    return name ? hand_to(s, conv, name, 0, NULL, out) : st;
}

unsigned api_agent_next(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    char conv[PJ_MAX_ID + 1];
    unsigned st = 0;
    const char *name = target(s, body, out, &st);
    int rc;

    (void)arg;
    if (!name)
        return st;
    /* Taking the next is an agent's own pull from the queue; a conversation
     * goes to someone else by assign or transfer. */
    if (s->req && !s->req->via_token && strcmp(name, s->req->name) != 0)
        return http_error(out, HTTP_FORBIDDEN, "a session takes the next for its own agent");
    rc = triage_next_for(s, name, conv);
    if (rc < 0)
        return db_fail(out);
    if (rc == 0)
        return http_error(out, HTTP_NOT_FOUND, "nobody is waiting for the agent's teams");
    return hand_to(s, conv, name, 0, NULL, out);
}

unsigned api_agent_transfer(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    const cJSON *note = cJSON_GetObjectItemCaseSensitive(body, "note");
    unsigned st = 0;
    const char *name = pj_string(body, "agent") ? target(s, body, out, &st) : NULL;

    if (!pj_string(body, "agent"))
        return http_error(out, HTTP_BAD_REQUEST, "agent is required");
    if (note && !(cJSON_IsString(note) && strlen(note->valuestring) <= 1024))
        return http_error(out, HTTP_BAD_REQUEST, "note must be a string of at most 1024 bytes");
    return name ? hand_to(s, conv, name, 1, note ? note->valuestring : NULL, out) : st;
}

unsigned api_agent_close(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    (void)body;
    return set_state(s, conv, "closed", NULL, "close", NULL, out);
}

unsigned api_agent_reopen(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    (void)body;
    return set_state(s, conv, "open", NULL, "reopen", NULL, out);
}

unsigned api_agent_bot(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    char user[PJ_MAX_ID + 1];
    bot_result r;
    int rc;

    (void)body;
    rc = bot_hand_back(s, conv, &r, user);
    if (rc == BOT_UNKNOWN_CONV)
        return unknown_conv(out);
    if (rc != BOT_OK)
        return db_fail(out);
    if (r.state_changed)
        store_action_add(s->store, conv, "bot", by_of(s), NULL, util_now_ms());
    bot_deliver(s, user, conv, &r);
    bot_result_clear(&r);
    return answer_state(s, conv, out);
}

/* ---- typing and read ---- */

/* {"conv","on","author":{"kind":"agent","name"}}: the typing frame's
 * members and the API's answer. */
static cJSON *typing_json(const char *conv, int on, const char *name)
{
    cJSON *o = cJSON_CreateObject(), *author = cJSON_CreateObject();

    if (!o || !author || !cJSON_AddStringToObject(o, "conv", conv) ||
        !cJSON_AddBoolToObject(o, "on", on) || !cJSON_AddItemToObject(o, "author", author)) {
        cJSON_Delete(author);
        cJSON_Delete(o);
        return NULL;
    }
    if (!cJSON_AddStringToObject(author, "kind", "agent") ||
        !cJSON_AddStringToObject(author, "name", name)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

unsigned api_agent_typing(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "on"),
                *name = cJSON_GetObjectItemCaseSensitive(body, "name");
    char user[PJ_MAX_ID + 1];
    cJSON *frame;
    int rc;

    if (!cJSON_IsBool(on))
        return http_error(out, HTTP_BAD_REQUEST, "on must be a boolean");
    if (name && !(cJSON_IsString(name) && valid_name(name->valuestring)))
        return http_error(out, HTTP_BAD_REQUEST, "name must be a string of 1 to 128 bytes");
    rc = store_conv_owner(s->store, conv, user, sizeof user);
    if (rc <= 0)
        return rc == 0 ? unknown_conv(out) : db_fail(out);
    frame = typing_json(conv, cJSON_IsTrue(on),
                        s->req && !s->req->via_token ? s->req->display
                        : name                       ? name->valuestring
                                                     : AGENT_NAME_DEFAULT);
    if (!frame)
        return db_fail(out);
    *out = cJSON_Duplicate(frame, 1);
    deliver_typed(s, user, "typing", frame);
    console_typing(s, conv, "agent", by_of(s), cJSON_IsTrue(on));
    return *out ? HTTP_OK : db_fail(out);
}

/* {"conv","seq"}: the read frame's members and the API's answer. */
static cJSON *read_json(const char *conv, int64_t seq)
{
    cJSON *o = cJSON_CreateObject();
    char buf[PJ_SEQ_BUF];

    pj_format_seq(seq, buf);
    if (!o || !cJSON_AddStringToObject(o, "conv", conv) ||
        !cJSON_AddStringToObject(o, "seq", buf)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

unsigned api_agent_read(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    char user[PJ_MAX_ID + 1];
    int64_t seq, last = 0;
    int rc;

    if (pj_parse_seq(pj_string(body, "seq"), &seq) || seq == 0)
        return http_error(out, HTTP_BAD_REQUEST, "seq must be a seq string (\"1\" or more)");
    rc = store_conv_owner(s->store, conv, user, sizeof user);
    if (rc <= 0)
        return rc == 0 ? unknown_conv(out) : db_fail(out);
    if (store_conv_last_seq(s->store, conv, &last))
        return db_fail(out);
    if (seq > last)
        return http_error(out, HTTP_BAD_REQUEST, "seq is beyond the conversation's last message");
    rc = store_read_agent(s->store, conv, seq, util_now_ms());
    if (rc < 0)
        return db_fail(out);
    /* Only a mark that moved is news to the user. */
    if (rc > 0) {
        deliver_typed(s, user, "read", read_json(conv, seq));
        console_read(s, conv, "agent", seq);
        console_conv(s, conv, 0);
    }
    *out = read_json(conv, seq);
    return *out ? HTTP_OK : db_fail(out);
}

/* ---- the queue ---- */

typedef struct queue_list {
    server *s;
    cJSON *arr;
} queue_list;

/* What triage decided (docs/routing.md): team, place in the team's line,
 * priority, lane and score; null/0 without a triage. 0 or -1. */
static int add_routing(cJSON *o, const store_queued *q)
{
    return (q->team ? cJSON_AddStringToObject(o, "team", q->team)
                    : cJSON_AddNullToObject(o, "team")) &&
                   cJSON_AddNumberToObject(o, "team_position", (double)q->team_position) &&
                   cJSON_AddStringToObject(o, "priority", q->priority ? q->priority : "normal") &&
                   cJSON_AddBoolToObject(o, "jump", q->jump) &&
                   cJSON_AddNumberToObject(o, "score", q->score)
               ? 0
               : -1;
}

static int add_queued(void *ud, const store_queued *q)
{
    queue_list *l = ud;
    cJSON *o = cJSON_CreateObject(), *notes;
    int64_t wait = triage_wait_of(l->s, q);

    if (!o || !cJSON_AddItemToArray(l->arr, o)) {
        cJSON_Delete(o);
        return 1;
    }
    notes = q->notes ? cJSON_Parse(q->notes) : cJSON_CreateNull();
    if (!cJSON_AddStringToObject(o, "conv", q->conv) ||
        !cJSON_AddStringToObject(o, "user", q->user) ||
        !(q->subject ? cJSON_AddStringToObject(o, "subject", q->subject)
                     : cJSON_AddNullToObject(o, "subject")) ||
        !cJSON_AddNumberToObject(o, "position", (double)q->position) ||
        !cJSON_AddNumberToObject(o, "queued_ms", (double)q->queued_ms) ||
        (wait >= 0 && !cJSON_AddNumberToObject(o, "wait_s", (double)wait)) || !notes ||
        !cJSON_AddItemToObject(o, "bot_notes", notes) || add_routing(o, q)) {
        cJSON_Delete(notes);
        return 1;
    }
    return 0;
}

unsigned api_agent_queue(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    queue_list l = {s, cJSON_CreateArray()};

    (void)arg;
    (void)body;
    *out = l.arr;
    if (!l.arr || store_queue_each(s->store, add_queued, &l))
        return db_fail(out);
    return HTTP_OK;
}
