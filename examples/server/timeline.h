/* A conversation's history read as support work (docs/agent-console.md,
 * "SLA" and "Metrics"): its episodes (hand-off to humans until close or hand
 * back), first and next responses, who held it and for how long, closes,
 * reopens and transfers. The SLA clocks and every metric are computed from
 * these facts, so the definitions live in one place. Pure: the caller reads
 * the events from the store, oldest first. */
#ifndef PARLEY_SERVER_TIMELINE_H
#define PARLEY_SERVER_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

typedef enum tl_kind {
    TL_USER_MSG,  /* the user wrote (postbacks too) */
    TL_BOT_MSG,   /* the bot wrote: never a response */
    TL_AGENT_MSG, /* an agent wrote (agent: who) */
    TL_HANDOFF,   /* the bot put the conversation in the queue */
    TL_ASSIGN,    /* an agent took it (agent: who holds it now) */
    TL_TRANSFER,  /* it moved to another agent (agent: the new holder) */
    TL_BOT,       /* handed back to the bot */
    TL_CLOSE,
    TL_REOPEN,   /* by the user writing in a closed conversation, or an agent */
    TL_PRIORITY, /* priority: the new one */
} tl_kind;

typedef struct tl_event {
    tl_kind kind;
    int64_t ts;
    const char *agent;    /* TL_AGENT_MSG, TL_ASSIGN, TL_TRANSFER; else may be NULL */
    const char *priority; /* TL_PRIORITY */
} tl_event;

/* One stretch of human work: it starts with the hand-off to humans (the
 * bot's hand-off, an agent taking the conversation while nobody held it, a
 * reopen) and ends with a close or a hand back. */
typedef struct tl_episode {
    int64_t start;
    int64_t first_response; /* the first agent message after start; 0: none yet */
    const char *responder;  /* who wrote it (borrowed from the events) */
    int64_t end;            /* 0: still running */
} tl_episode;

/* Time one agent held the conversation (assigned, in state agent). */
typedef struct tl_hold {
    const char *agent;
    int64_t ms;
} tl_hold;

#define TL_MAX_AGENTS 16

typedef struct tl_facts {
    tl_episode *episodes; /* malloc'd, oldest first */
    size_t n_episodes;
    int64_t first_start; /* the first episode's start; 0: never handed to humans */
    int64_t last_close;  /* 0: never closed */
    int closes, reopens, transfers;
    int writers;                  /* distinct agents who wrote */
    tl_hold holds[TL_MAX_AGENTS]; /* per agent, the first TL_MAX_AGENTS */
    size_t n_holds;
    int64_t handle_ms;       /* all holds added up */
    const char *holder;      /* who holds it now, or NULL */
    const char *last_holder; /* the last agent who held it, or NULL */
    const char *priority;    /* the priority now ("normal" without events) */
    /* Within the running episode, after its first response: the user's
     * first message not answered yet (0: none). */
    int64_t awaiting_since;
    /* Next-response samples: (wait from an unanswered user message to the
     * agent's answer), malloc'd, with when each was answered. */
    int64_t *nrt_ms, *nrt_at;
    size_t n_nrt;
} tl_facts;

/* Reads the events (oldest first; `now` ends running holds). 0, or -1 when
 * out of memory (out is then cleared). Strings in out are borrowed from
 * the events. */
int tl_facts_compute(const tl_event *ev, size_t n, int64_t now, tl_facts *out);
void tl_facts_clear(tl_facts *f);

/* The running episode, or NULL. */
const tl_episode *tl_current(const tl_facts *f);

/* Names of the kinds as stored in conv_actions ("assign", ...); -1 for an
 * unknown name. Messages are not actions and have no name. */
int tl_kind_of_action(const char *name);
const char *tl_action_name(tl_kind k);

#endif
