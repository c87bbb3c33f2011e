#include "deliver.h"

#include <stdio.h>
#include <string.h>

#include "fanout.h"
#include "push.h"
#include "json.h"
#include "triage.h"
#include "wire.h"
#include "agents.h"
#include "console.h"
#include "sla.h"

void deliver_frame(server *s, const char *user, const char *what, char *json)
{
    if (json) {
        ws_push(s, user, json);
        fanout_user(s, user, json);
    } else
        fprintf(stderr, "parley-server: out of memory, %s not sent to '%s'\n", what, user);
    cJSON_free(json);
}

void deliver_typed(server *s, const char *user, const char *type, cJSON *body)
{
    deliver_frame(s, user, type, wire_typed(type, body));
}

/* A message not written by the user reaches a user with no connection as
 * a push notification (push.c). */
void deliver_msg(server *s, const char *user, const store_msg *m, const ws_conn *except)
{
    char *json = wire_msg(m);

    ws_push_msg(s, user, m->conv, m->seq, json, except);
    fanout_msg(s, user, m->conv, m->seq, json);
    cJSON_free(json);
    if (strcmp(m->author_kind, "user") != 0) {
        deliver_unread(s, user, m->conv);
        if (!ws_user_online(s, user))
            push_notify(s, user, m);
    }
    /* The agents' side: the message, the clocks it starts or stops, the
     * conversation's new place in the lists. */
    console_msg(s, m->conv, m);
    sla_update(s, m->conv);
    console_conv(s, m->conv, 0);
}

void deliver_unread(server *s, const char *user, const char *conv)
{
    int64_t count, last = 0;

    if ((!s->nconns && !s->fanout) || store_unread(s->store, conv, &count) ||
        store_conv_last_seq(s->store, conv, &last))
        return;
    deliver_frame(s, user, "unread", wire_unread(conv, count, last));
}

/* With the newest seq: how another device learns of the conversation. */
static int send_unread(void *ud, const char *conv, int64_t count)
{
    int64_t last = 0;

    if (store_conv_last_seq(ws_conn_server(ud)->store, conv, &last))
        last = 0;
    ws_conn_send(ud, wire_unread(conv, count, last));
    return 0;
}

void deliver_unread_to(ws_conn *c)
{
    store_unread_each(ws_conn_server(c)->store, ws_conn_user(c), send_unread, c);
}

/* ---- conv.update ---- */

/* "queue": {"position", "wait_s"?}: the place in the conversation's line
 * (its team's, with --routing) and the estimated wait (triage.h). */
static int add_queue(cJSON *o, int64_t position, int64_t wait_s)
{
    cJSON *q = cJSON_AddObjectToObject(o, "queue");

    return q && cJSON_AddNumberToObject(q, "position", (double)position) &&
           (wait_s < 0 || cJSON_AddNumberToObject(q, "wait_s", (double)wait_s));
}

cJSON *deliver_state_body(server *s, const char *conv)
{
    cJSON *o, *agent;
    int64_t position = 0, wait = -1;
    store_state st;
    int ok;

    if (store_state_get(s->store, conv, &st))
        return NULL;
    o = cJSON_CreateObject();
    ok = o && cJSON_AddStringToObject(o, "conv", conv) &&
         cJSON_AddStringToObject(o, "state", st.state);
    if (ok && strcmp(st.state, "agent") == 0 && st.agent[0]) {
        char display[STORE_AGENT_DISPLAY_BUF];

        /* The account holds it; the user sees its display name. */
        agents_display_name(s, st.agent, display, sizeof display);
        agent = cJSON_AddObjectToObject(o, "agent");
        ok = agent && cJSON_AddStringToObject(agent, "name", display);
    }
    if (ok && strcmp(st.state, "queued") == 0)
        ok = triage_wait(s, conv, &position, &wait) == 0 && add_queue(o, position, wait);
    store_state_clear(&st);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void deliver_state(server *s, const char *user, const char *conv)
{
    char owner[PJ_MAX_ID + 1];

    if (!user) {
        if (store_conv_owner(s->store, conv, owner, sizeof owner) != 1)
            return;
        user = owner;
    }
    deliver_typed(s, user, "conv.update", deliver_state_body(s, conv));
    sla_update(s, conv);
    console_conv(s, conv, 0);
}

static int push_position(void *ud, const store_queued *q)
{
    server *s = ud;
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "conv", q->conv) ||
        !cJSON_AddStringToObject(o, "state", "queued") ||
        !add_queue(o, s->routing ? q->team_position : q->position, triage_wait_of(s, q))) {
        cJSON_Delete(o);
        return 0;
    }
    deliver_typed(s, q->user, "conv.update", o);
    return 0;
}

void deliver_queue(server *s)
{
    if (s->nconns || s->fanout)
        store_queue_each(s->store, push_position, s);
    console_queue(s);
}
