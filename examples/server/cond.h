/* Conditions on what the server knows about a user and their request (the
 * `when` of routing rules, flow rules and proactive triggers; format in
 * docs/routing.md, "Conditions"): attributes, screen, recent tracked events
 * and their metadata, the conversation's category, area and severity hint,
 * keywords and the shape of the message, how often the user asked lately.
 * Pure: a condition is checked once when its file loads, then evaluated
 * against a cond_input the caller gathered; no database, no clock but the
 * one passed in. */
#ifndef PARLEY_SERVER_COND_H
#define PARLEY_SERVER_COND_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "jpos.h"

#define COND_MAX_DEPTH 8
#define COND_MAX_WINDOW_S 2592000 /* 30 days */
#define COND_MAX_WORDS 64
#define COND_MAX_WORD 64
#define COND_MAX_LIST 16

/* The client's severity hints, lowest first. */
enum { COND_SEV_LOW, COND_SEV_MEDIUM, COND_SEV_HIGH, COND_SEV_CRITICAL };

typedef struct cond_event {
    const char *name;
    const cJSON *meta; /* an object, or NULL */
    int64_t ts_ms;     /* when it happened (the device's clock) */
} cond_event;

/* What a condition can look at. Every pointer may be NULL (nothing known). */
typedef struct cond_input {
    int64_t now_ms;
    const cJSON *attributes; /* the user's attributes: name -> value */
    const char *screen;
    const cond_event *events; /* the user's recent events, any order */
    size_t nevents;
    const char *category, *area, *severity; /* the conversation's, from the client */
    const char *text;                       /* the message; NULL at conv.start */
    const int64_t *asked_ms;                /* when the user wrote their recent messages */
    size_t nasked;
} cond_input;

/* Checks a condition (a JSON object). 0, or -1 with err naming the node at
 * fault. */
int cond_check(const cJSON *when, jerr *err);

/* 1 when the (checked) condition holds for `in`, else 0. */
int cond_eval(const cJSON *when, const cond_input *in);

/* Raises *events_s and *asked_s to the longest look-back (seconds) of the
 * condition's `event` and `asked` members: how much history the caller
 * must gather. */
void cond_windows(const cJSON *when, int64_t *events_s, int64_t *asked_s);

/* `word` (a word or phrase) occurs in `text` as whole words, ASCII case
 * ignored. */
int cond_has_word(const char *text, const char *word);

/* The rank of a severity hint (COND_SEV_*), or -1 for an unknown one. */
int cond_severity_rank(const char *s);

#endif
