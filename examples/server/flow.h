/* Rule-based bot flows (the --bot file; format in README.md, "Bot flows"):
 * nodes that say something, answer from the knowledge base or hand the
 * conversation to a human, and the rules that lead from one to the next on
 * a postback payload or on keywords in the user's text. This module only
 * decides; bot.c stores and delivers. */
#ifndef PARLEY_SERVER_FLOW_H
#define PARLEY_SERVER_FLOW_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "kb.h"

struct cond_input;

#define FLOW_BOT_NAME_DEFAULT "Parley Bot"
#define FLOW_MAX_FILE (1024 * 1024)
#define FLOW_MAX_NODES 256
/* The button an FAQ answer adds for its article's URL. */
#define FLOW_ARTICLE_BUTTON "article"

typedef struct flow flow;

/* What the user did: wrote `text`, or chose an option (`postback` set,
 * `text` its label, `payload` its payload or NULL, `origin` the node whose
 * message offered it, NULL when not the bot's); `ctx`, what the server
 * knows of the user for the rules with a condition (NULL: nothing, those
 * rules do not match). */
typedef struct flow_input {
    const char *text;
    const char *payload;
    const char *origin;
    int postback;
    const struct cond_input *ctx;
} flow_input;

/* What a node does. */
typedef struct flow_reply {
    const char *node;            /* the node that ran (borrowed from the flow) */
    int handoff;                 /* the conversation goes to the agents' queue */
    char *text;                  /* the bot's message (malloc'd) */
    char *blocks;                /* its blocks as JSON text (malloc'd), or NULL */
    char article[KB_MAX_ID + 1]; /* the article an FAQ answer showed, or "" */
} flow_reply;

/* Loads and checks the flow file; article ids it names must exist in `k`.
 * NULL with the reason (naming the node and member at fault) in `why`. */
flow *flow_load(const char *path, kb *k, char *why, size_t cap);
void flow_free(flow *f);

const char *flow_bot_name(const flow *f);
const char *flow_start(const flow *f);
/* 1 when the start node greets as soon as a conversation is started, 0 when
 * it answers the user's first message instead. */
int flow_greets_on_start(const flow *f);
/* The node run when an agent hands a conversation back (NULL: none). */
const char *flow_resume(const flow *f);
/* Estimated wait per place in the queue, seconds (0: not announced). */
int flow_wait_per_position(const flow *f);

/* The node `in` leads to from the current node `current` (NULL or unknown:
 * the start node), or NULL when no rule matches. A postback follows the
 * rules of the node that offered it first (an older message's choice still
 * means what it meant there), then the current node's, then the flow's. */
const char *flow_route(const flow *f, const char *current, const flow_input *in);

/* 1 when the flow has a node `id`. */
int flow_has_node(const flow *f, const char *id);

/* What the flow's first hand-off node says (the default below without one):
 * what the bot says when triage sends a request to the human queue. */
#define FLOW_HANDOFF_TEXT_DEFAULT "I'm connecting you with a human."
const char *flow_handoff_text(const flow *f);

/* The first top-level rule with a condition on the user's context that
 * matches `in` (text only), or NULL: what a flow that greets on the first
 * message tries before greeting. */
const char *flow_route_context(const flow *f, const flow_input *in);

/* How far back (seconds) the flow's conditions look at events and at the
 * user's messages: what the caller gathers into a flow_input's ctx. */
void flow_windows(const flow *f, int64_t *events_s, int64_t *asked_s);

/* The knowledge-base-first answer (docs/routing.md, "Routes"): the best
 * article for `query`, as `intro`, its title and summary, then `ask`, with
 * the article's button and the quick replies `yes` and `no` (payloads
 * FLOW_KB_YES and FLOW_KB_NO). 1 with *out filled (node NULL, article
 * set), 0 when no article matches, -1 when out of memory or the knowledge
 * base failed; release *out with flow_reply_clear either way. */
#define FLOW_KB_YES "kb_yes"
#define FLOW_KB_NO "kb_no"
int flow_kb_answer(kb *k, const char *query, const char *intro, const char *ask, const char *yes,
                   const char *no, flow_reply *out);

/* Runs `node` (which must exist) for the input text `text` (may be NULL).
 * 0, or -1 when out of memory or the knowledge base failed; release with
 * flow_reply_clear either way. */
int flow_run(const flow *f, kb *k, const char *node, const char *text, flow_reply *out);
void flow_reply_clear(flow_reply *r);

/* Adds one step to the bot notes (a JSON object, created when `*notes` is
 * NULL): the node, the choice made or the question asked, the article shown.
 * 0 or -1 (out of memory). */
int flow_note(cJSON **notes, const flow_input *in, const flow_reply *r);

#endif
