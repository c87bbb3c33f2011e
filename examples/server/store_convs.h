/* Per-conversation state beyond its messages: who answers it (bot, queue,
 * agent), where the bot's flow stands and what it learned, the read marks
 * of both sides and whether the user is typing. One row per conversation in
 * the table conv_state; a conversation without a row is in state "bot" and
 * its flow has not run yet. Also which node wrote each bot message. */
#ifndef PARLEY_SERVER_CSTATE_H
#define PARLEY_SERVER_CSTATE_H

#include <stdint.h>

#include "store.h"
#include "json.h"

#define CSTATE_STATE_MAX 8 /* "queued" */

typedef struct cstate {
    char state[CSTATE_STATE_MAX + 1]; /* bot, queued, agent, closed, open */
    char agent[PJ_MAX_ID + 1];        /* the assigned agent's name, or "" */
    char node[PJ_MAX_ID + 1];         /* the bot's current flow node, or "" */
    char *notes;                      /* bot notes: JSON object text (malloc'd) or NULL */
    int64_t queued_ms;                /* when it entered the queue (state queued) */
    int64_t read_seq;                 /* the user's read mark */
    int64_t agent_read_seq;           /* the agents' read mark */
    int user_typing;
    int64_t typing_ms;                /* when user_typing last changed */
} cstate;

/* Creates the table. 0 or -1. */
int cstate_init(db *d);

/* Reads the state of `conv` (the defaults when it has no row yet). 0 or -1.
 * Release with cstate_clear. */
int cstate_get(db *d, const char *conv, cstate *out);
void cstate_clear(cstate *s);

/* Stores state, agent, node, notes and queued_ms (not the read marks or
 * typing, which have their own writers). 0 or -1. */
int cstate_put(db *d, const char *conv, const cstate *s, int64_t now);

/* Raises the user's / the agents' read mark to `seq` (never lowers it).
 * 1 when it moved, 0 when not, -1 on error. */
int cstate_user_read(db *d, const char *conv, int64_t seq, int64_t now);
int cstate_agent_read(db *d, const char *conv, int64_t seq, int64_t now);

int cstate_set_typing(db *d, const char *conv, int on, int64_t now);

/* Messages not written by the user above the user's read mark. 0 or -1. */
int cstate_unread(db *d, const char *conv, int64_t *count);

/* The 1-based place of `conv` in the agents' queue (0 when it is not
 * queued) and how many conversations are queued. 0 or -1. */
int cstate_queue_position(db *d, const char *conv, int64_t *position);

/* Calls `cb` for every queued conversation, first in line first, with its
 * 1-based position. Stops early when `cb` returns nonzero. 0 or -1. */
typedef int (*cstate_queue_cb)(void *ud, const char *conv, int64_t position, int64_t queued_ms);
int cstate_queue_each(db *d, cstate_queue_cb cb, void *ud);

/* Remembers which flow node wrote the bot message with row number `msg`
 * (postbacks on it follow that node's rules). 0 or -1. */
int cstate_bot_message(db *d, int64_t msg, const char *node);

/* The highest seq of `conv` (0 when it has no messages). 0 or -1. */
int cstate_last_seq(db *d, const char *conv, int64_t *seq);

#endif
