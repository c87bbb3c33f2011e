/* Triage and routing rules (the --routing file; format and semantics in
 * docs/routing.md): teams with their agents and office hours, rules that
 * score a request by complexity, severity and effort and may set its
 * priority, team, route and flow node, the route table, the KB-first
 * texts and the wait estimate's settings. Pure: it decides from a
 * cond_input and a clock value; the server gathers the input, stores the
 * triage and acts on it. */
#ifndef PARLEY_SERVER_RULES_H
#define PARLEY_SERVER_RULES_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "cond.h"

#define RULES_MAX_FILE (1024 * 1024)
#define RULES_MAX_RULES 256
#define RULES_MAX_TEAMS 64
#define RULES_MAX_AGENTS 256
#define RULES_MAX_NAME 64
#define RULES_MAX_TEXT 1024
#define RULES_DIM_MAX 10

typedef struct rules rules;

typedef enum rules_route { RULES_KB, RULES_BOT, RULES_HUMAN } rules_route;
typedef enum rules_priority { RULES_LOW, RULES_NORMAL, RULES_HIGH, RULES_URGENT } rules_priority;

/* What the loader checks names against. */
typedef struct rules_env {
    /* 1 when the bot flow has a node of that id (NULL: no check). */
    int (*node_exists)(void *ud, const char *node);
    void *ud;
    const char *tzdir; /* the TZ database; NULL: $TZDIR or /usr/share/zoneinfo */
} rules_env;

/* Parses and checks a routing file's text[len]. NULL with the reason in
 * why[cap], "LINE: PATH: what" ("14: rules[2].when.event.within_s: must
 * be ...") prefixed with `name` and ':' when `name` is not NULL. */
rules *rules_parse(const char *text, size_t len, const rules_env *env, const char *name, char *why,
                   size_t cap);
/* Reads `path` (at most RULES_MAX_FILE bytes) and parses it, `path` naming
 * it in the reason. */
rules *rules_load(const char *path, const rules_env *env, char *why, size_t cap);
void rules_free(rules *r);

/* One triage: the scores, the decision and why. */
typedef struct triage {
    int complexity, severity, effort; /* 0 … 10 */
    int score;                        /* 0 … 100 */
    rules_route route;
    rules_priority priority;
    const char *team; /* borrowed from the rules; never NULL */
    const char *node; /* the flow node to run (route bot), borrowed, or NULL */
    int jump;         /* the VIP lane */
    cJSON *reasons;   /* array of {"rule","text",...effects}, owned */
} triage;

/* Triage of `in`. 0, or -1 when out of memory (out is cleared). Release
 * with triage_clear. */
int rules_triage(const rules *r, const cond_input *in, triage *out);
void triage_clear(triage *t);

/* Clamps the dimensions of `t` (changed by the caller, e.g. an escalation's
 * effort) to 0 … 10 and computes its score again. */
void rules_rescore(const rules *r, triage *t);

/* Appends {"rule": source, "text": text} to the reasons. 0 or -1. */
int triage_add_reason(triage *t, const char *source, const char *text);

/* The triage as the HTTP API shows it ({"complexity",...,"reasons"}, the
 * reasons copied). NULL when out of memory. */
cJSON *triage_to_json(const triage *t);

const char *rules_route_name(rules_route r);
const char *rules_priority_name(rules_priority p);
/* The priority called `s`, or -1. */
int rules_priority_parse(const char *s);

/* How far back the rules look at events and at the user's messages
 * (seconds): what the caller must gather into a cond_input. */
void rules_windows(const rules *r, int64_t *events_s, int64_t *asked_s);

/* ---- teams ---- */

size_t rules_team_count(const rules *r);
/* The i-th team's name (file order), or NULL. */
const char *rules_team_name(const rules *r, size_t i);
/* The index of the team `name`, or -1. */
int rules_team_index(const rules *r, const char *name);
const char *rules_default_team(const rules *r);
/* 1 when `agent` is a member of `team`: listed in its "agents", compared
 * without regard to ASCII case. */
int rules_team_has_agent(const rules *r, const char *team, const char *agent);
/* 1 when `team` is open by its office hours at now_ms (an unknown team:
 * the default team). */
int rules_team_open(const rules *r, const char *team, int64_t now_ms);
/* The next opening (ms) at or after now_ms, -1 when never. */
int64_t rules_team_next_open(const rules *r, const char *team, int64_t now_ms);
/* The team's next opening as the user reads it ("Sat 3 Jan 10:00 CET", the
 * team's local time), or "later" when it never opens. */
void rules_team_opens(const rules *r, const char *team, int64_t now_ms, char *out, size_t cap);
/* The team's out-of-hours text with {team}, {opens} and {opens_in} filled
 * in for now_ms (malloc'd), or NULL when out of memory. */
char *rules_out_of_hours(const rules *r, const char *team, int64_t now_ms);
/* What the user is told when the team is open but none of its agents is
 * online: the team's "nobody_online" text with {team} filled in
 * (malloc'd), or NULL when out of memory. */
char *rules_nobody_online(const rules *r, const char *team);

/* ---- the KB-first route and the wait estimate ---- */

typedef struct rules_kb {
    const char *intro, *ask, *yes, *no, *solved;
    int escalate_effort;
} rules_kb;

const rules_kb *rules_kb_texts(const rules *r);
/* 1 when `text` says the article did not help (one of the "no_words"). */
int rules_kb_says_no(const rules *r, const char *text);

/* The moving window of handle times, and the estimate before any. */
int rules_wait_window(const rules *r);
int64_t rules_default_handle_ms(const rules *r);

#endif
