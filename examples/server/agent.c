#include "agent.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "json.h"
#include "triage.h"
#include "triggers.h"
#include "util.h"
#include "wire.h"

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
static int apply(server *s, const char *conv, const char *state, const char *agent,
                 const char *const *from, int64_t now, transition *t)
{
    store *st = s->store;
    store_state cs;
    int rc;

    t->changed = t->moved = 0;
    if (store_state_get(st, conv, &cs))
        return -1;
    if (!from || in_list(cs.state, from)) {
        /* An agent taking it starts its handle time; letting it go ends it. */
        if (triage_on_state(s, conv, cs.state, state,
                            agent && strcmp(cs.agent, agent) != 0 ? agent : NULL, now)) {
            store_state_clear(&cs);
            return -1;
        }
        t->changed = strcmp(cs.state, state) != 0 || (agent && strcmp(cs.agent, agent) != 0);
        t->moved = strcmp(cs.state, "queued") == 0 && strcmp(state, "queued") != 0;
        snprintf(cs.state, sizeof cs.state, "%s", state);
        if (agent)
            snprintf(cs.agent, sizeof cs.agent, "%s", agent);
        if (t->moved)
            cs.queued_ms = 0;
    }
    rc = t->changed ? store_state_put(st, conv, &cs, now) : 0;
    store_state_clear(&cs);
    return rc;
}

static void announce(server *s, const char *conv, const transition *t)
{
    if (t->changed)
        deliver_state(s, t->user, conv);
    if (t->moved)
        deliver_queue(s);
}

int agent_message_fits(const char *conv, const char *name, const char *text, const char *blocks)
{
    store_msg m;
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
    json = wire_msg(&m);
    fits = json && strlen(json) <= PJ_MAX_FRAME;
    cJSON_free(json);
    return fits;
}

int agent_message(server *s, const char *conv, const char *name, const char *text,
                  const char *blocks, const char *by, store_msg *out)
{
    return agent_file_message(s, conv, name, text, blocks, NULL, by, out);
}

int agent_file_message(server *s, const char *conv, const char *name, const char *text,
                       const char *blocks, const char *attachment, const char *by, store_msg *out)
{
    store *st = s->store;
    transition t;
    int rc;

    memset(out, 0, sizeof *out);
    out->conv = conv;
    out->author_kind = "agent";
    out->author_name = name;
    out->text = text;
    out->blocks = blocks;
    out->attachment = attachment;
    out->ts = util_now_ms();
    out->by = by;
    if (store_begin(st))
        return AGENT_ERR;
    rc = store_conv_owner(st, conv, t.user, sizeof t.user);
    /* Who holds a conversation is the account that wrote (the name users
     * see is its display name). */
    if (rc <= 0 || store_msg_insert(st, out) || (by && store_msg_by_set(st, out->id, by)) ||
        apply(s, conv, "agent", by ? by : name, agent_writes_from, out->ts, &t) ||
        (t.changed && store_action_add(st, conv, "assign", by ? by : "api-token", NULL, out->ts)) ||
        store_commit(st)) {
        store_rollback(st);
        return rc == 0 ? AGENT_UNKNOWN_CONV : AGENT_ERR;
    }
    deliver_msg(s, t.user, out, NULL);
    announce(s, conv, &t);
    return AGENT_OK;
}

int agent_set_state(server *s, const char *conv, const char *state, const char *name,
                    const char *by, const char *action, const char *detail)
{
    int64_t now = util_now_ms();
    transition t;
    int rc;

    if (store_begin(s->store))
        return AGENT_ERR;
    rc = store_conv_owner(s->store, conv, t.user, sizeof t.user);
    if (rc <= 0 || apply(s, conv, state, name, NULL, now, &t) ||
        (t.changed && action && store_action_add(s->store, conv, action, by, detail, now)) ||
        store_commit(s->store)) {
        store_rollback(s->store);
        return rc == 0 ? AGENT_UNKNOWN_CONV : AGENT_ERR;
    }
    announce(s, conv, &t);
    if (t.changed && strcmp(state, "closed") == 0)
        triggers_on_conv_closed(s, conv, now);
    return AGENT_OK;
}
