/* SLA clocks at work (docs/agent-console.md, "SLA"): recomputed from a
 * conversation's timeline whenever something happens in it, checked every
 * second for warnings and breaches, which reach the consoles and the
 * webhook. Nothing runs without --sla. */
#ifndef PARLEY_SERVER_SLA_H
#define PARLEY_SERVER_SLA_H

#include <stdint.h>

#include "server.h"
#include "timeline.h"

/* The conversation's history as timeline events, read from the store
 * (strings owned by the result). 0 or -1. */
typedef struct sla_timeline {
    tl_event *ev;
    size_t n, cap;
    char **strings;
    size_t nstr, capstr;
} sla_timeline;

int sla_timeline_read(server *s, const char *conv, sla_timeline *out);
void sla_timeline_clear(sla_timeline *t);

/* Recomputes and stores the conversation's clocks. */
void sla_update(server *s, const char *conv);
/* Fires the warnings and breaches due at `now`. */
void sla_tick(server *s, int64_t now);

#endif
