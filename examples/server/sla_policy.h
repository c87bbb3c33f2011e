/* SLA policies (--sla FILE, docs/agent-console.md "SLA"): first- and
 * next-response targets per priority with a warning before each, and the
 * clocks they give a conversation's timeline. */
#ifndef PARLEY_SERVER_SLA_POLICY_H
#define PARLEY_SERVER_SLA_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "timeline.h"

enum { SLA_URGENT, SLA_HIGH, SLA_NORMAL, SLA_LOW, SLA_NPRIO };

#define SLA_MAX_TARGET_S 2592000 /* 30 days */

typedef struct sla_target {
    int64_t target_s; /* 0: no clock of this kind */
    int64_t warn_before_s;
} sla_target;

typedef struct sla_policy {
    int enabled; /* a file was loaded */
    sla_target first[SLA_NPRIO], next[SLA_NPRIO];
} sla_policy;

/* A clock of one conversation. `running` is 0 with every time 0 when there
 * is no such clock now. */
typedef struct sla_clock {
    int running;   /* started and not met */
    int64_t start; /* when the wait began */
    int64_t due;   /* start + target */
    int64_t warn;  /* due - warn_before */
    int64_t met;   /* when it was answered (first response only), else 0 */
    int64_t target_s;
} sla_clock;

/* SLA_URGENT … SLA_LOW for "urgent" … "low", -1 for anything else. */
int sla_priority_index(const char *name);
const char *sla_priority_name(int index);

/* Reads the policy from JSON text (len bytes followed by a NUL). 0, or -1
 * with the reason (naming the member at fault) in why. */
int sla_policy_parse(const char *text, size_t len, sla_policy *out, char *why, size_t cap);
/* The same from a file (at most 64 KiB). */
int sla_policy_load(const char *path, sla_policy *out, char *why, size_t cap);

/* The clocks of the running episode of `f` under its current priority:
 * first response (running from the episode's start until its first
 * response, kept with `met` afterwards while the episode runs), next
 * response (running while a user message waits for an answer after the
 * first response). */
void sla_clocks(const sla_policy *p, const tl_facts *f, sla_clock *first, sla_clock *next);

#endif
