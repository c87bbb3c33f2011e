/* A team's office hours (docs/routing.md, "Teams and office hours"): spans
 * per weekday in the team's time zone, spans past midnight, closed dates.
 * Pure: every answer is about the instant passed in. */
#ifndef PARLEY_SERVER_HOURS_H
#define PARLEY_SERVER_HOURS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "jpos.h"
#include "tz.h"

#define HOURS_MAX_SPANS 8 /* per day */
#define HOURS_MAX_CLOSED 366
/* How far ahead the next opening is looked for. */
#define HOURS_HORIZON_DAYS 400

typedef struct hours hours;

/* Reads `spec` (the team's "hours" object; NULL: always open) and `closed`
 * (an array of "YYYY-MM-DD", or NULL) in zone `zone`, which the hours take
 * over (freed with them, also on failure). NULL with err set. */
hours *hours_new(const cJSON *spec, const cJSON *closed, tz *zone, jerr *err);
void hours_free(hours *h);

/* 1 when open at `now_ms` (ms since the epoch). */
int hours_open(const hours *h, int64_t now_ms);

/* The next instant (ms) at or after `now_ms` when the hours are open:
 * `now_ms` itself when open, -1 when not within HOURS_HORIZON_DAYS. */
int64_t hours_next_open(const hours *h, int64_t now_ms);

/* `ms` as the team's local time for a person: "Mon 29 Dec 08:00 CET". */
void hours_format(const hours *h, int64_t ms, char *out, size_t cap);

/* A duration for a person: "in 45 min", "in 3 h 20 min", "in 4 days". */
void hours_format_in(int64_t ms, char *out, size_t cap);

#endif
