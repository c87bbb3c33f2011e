/* Triage and routing in the server (docs/routing.md): what conditions see
 * of a user, gathered from the store; each conversation's triage computed
 * with the --routing rules and stored with its reasons; what a user's
 * message leads to (the knowledge base first, a bot flow node, the human
 * queue, with honest office hours); the measured wait; handle times. The
 * rules decide (rules.c); this module gathers, stores and says what to do;
 * bot.c does it. */
#ifndef PARLEY_SERVER_TRIAGE_H
#define PARLEY_SERVER_TRIAGE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "cond.h"
#include "flow.h"
#include "json.h"
#include "server.h"
#include "store.h"

/* Events and messages gathered at most. */
#define TRIAGE_MAX_EVENTS 200
#define TRIAGE_MAX_ASKED 200
/* Reasons kept for a conversation (the newest). */
#define TRIAGE_MAX_REASONS 40

/* What conditions see of a user (and of a conversation, when given). */
typedef struct triage_input {
    cond_input in;
    cJSON *attributes;
    char *screen;
    cond_event events[TRIAGE_MAX_EVENTS];
    char names[TRIAGE_MAX_EVENTS][65];
    cJSON *metas[TRIAGE_MAX_EVENTS];
    int64_t asked[TRIAGE_MAX_ASKED];
    store_about about;
} triage_input;

/* Gathers it from the store for the rules' and the flow's look-backs: the
 * user's current attributes and screen (stale ones count as unknown), their
 * recent events and messages, the conversation's "about" (`conv` may be
 * NULL), the message `text` (may be NULL). 0 or -1; release with
 * triage_input_clear either way. */
int triage_gather(server *s, const char *user, const char *conv, const char *text, int64_t now,
                  triage_input *out);
void triage_input_clear(triage_input *ti);

/* A conversation was started: its first triage (from the context and what
 * the client said about it) is stored. No-op without --routing. 0 or -1. */
int triage_conv_started(server *s, const char *user, const char *conv);

/* What a user's message in a conversation leads to. */
typedef enum triage_act {
    TRIAGE_FLOW,    /* the flow answers (run `node` instead when set) */
    TRIAGE_SAY,     /* the bot says `reply` (the KB answer, or "glad it helped") */
    TRIAGE_HANDOFF, /* the bot says `reply` and the conversation is queued */
    TRIAGE_NONE,    /* nothing to say (a queued conversation: `reordered`) */
} triage_act;

typedef struct triage_action {
    triage_act act;
    const char *node; /* TRIAGE_FLOW: borrowed from the rules, or NULL */
    flow_reply reply; /* TRIAGE_SAY, TRIAGE_HANDOFF (node NULL) */
    int reordered;    /* a queued conversation's place in line may have changed */
} triage_action;

/* Inside the transaction that stored the user's message `in` (postback or
 * text) of `conv` in state `state`: triages it (while the bot or the queue
 * has it), stores the triage and says what follows. Without --routing, or
 * in another state: TRIAGE_FLOW. 0 or -1; release with
 * triage_action_clear either way. */
int triage_message(server *s, const char *user, const char *conv, const char *state,
                   const flow_input *in, triage_action *out);
void triage_action_clear(triage_action *a);

/* Inside the transaction of a change of state of `conv` from `from` to
 * `to` (by `agent`, may be NULL): an agent taking it starts its handle
 * time, letting it go (closed, back to the bot) ends it and records it for
 * its team's wait estimate. An agent taking it outside its team is allowed
 * and added to the reasons. */
int triage_on_state(server *s, const char *conv, const char *from, const char *to,
                    const char *agent, int64_t now);

/* The first conversation in the queue's order (docs/routing.md, "Queue
 * order") of a team `agent` belongs to; the first of all when the agent is
 * in no team, or without --routing. 1 with its id in conv, 0 when none
 * waits, -1. */
int triage_next_for(server *s, const char *agent, char conv[PJ_MAX_ID + 1]);

/* After the transaction that stored a triage of `conv`: the
 * conversation's priority (docs/agent-console.md, "Priority") becomes the
 * triage's, set by "rules", unless an agent chose it. No-op without
 * --routing or a triage; a failure is logged. */
void triage_sync_priority(server *s, const char *conv);

/* Reads the stored handle times into the wait estimate (at startup). */
int triage_load_waits(server *s);

/* A queued conversation's place in its team's line and the measured wait
 * (docs/routing.md, "Wait estimate"); without --routing the place in the
 * whole queue and position × the flow's wait_per_position_s. *wait_s is
 * -1 when no wait is announced. 0 or -1. */
int triage_wait(server *s, const char *conv, int64_t *position, int64_t *wait_s);
/* The same for a row of the queue. */
int64_t triage_wait_of(server *s, const store_queued *q);

/* Adds "triage" (the stored triage with its reasons, or null) and "about"
 * (what the client said, or null) to a conversation for the HTTP API. */
int triage_add_to_conv(server *s, cJSON *obj, const char *conv);

#endif
