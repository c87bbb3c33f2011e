/* The support metrics of a time window (docs/agent-console.md, "Metrics"),
 * added up from each conversation's timeline facts, survey answers and SLA
 * outcomes, and written as the JSON of GET /api/metrics. Pure: the caller
 * reads the store and feeds it. */
#ifndef PARLEY_SERVER_METRICS_AGG_H
#define PARLEY_SERVER_METRICS_AGG_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "timeline.h"

#define MAGG_MAX_DAYS 400

typedef struct magg magg;

/* One delivered survey instance. */
typedef struct magg_survey {
    int64_t delivered_ms;
    int64_t submitted_ms; /* 0: not submitted (pending or dismissed) */
    int has_rating;       /* the definition has a rating question */
    double rating;        /* the answer to the first one (when submitted and answered) */
    int rating_answered;
    int rating_min, rating_max;
    int has_nps;
    int nps; /* 0 … 10, when nps_answered */
    int nps_answered;
    const char *agent; /* the last agent who held the survey's conversation, or NULL */
} magg_survey;

/* [since, until) in ms; NULL when out of memory or the window is empty or
 * longer than MAGG_MAX_DAYS days. */
magg *magg_new(int64_t since, int64_t until);
void magg_free(magg *m);

/* A conversation created at created_ms with its facts. 0 or -1 (memory). */
int magg_conv(magg *m, int64_t created_ms, const tl_facts *f);
/* A conversation's state now (volume.by_state; not windowed). */
void magg_state(magg *m, const char *state);
/* A survey instance. 0 or -1. */
int magg_survey_add(magg *m, const magg_survey *s);
/* The scale of the CSAT distribution (the first rating survey's). */
void magg_csat_scale(magg *m, int min, int max);
/* An SLA clock met (breached 0) or breached at `at`. kind 0: first
 * response, 1: next response. */
void magg_sla(magg *m, int kind, int breached, int64_t at);

/* The JSON answer. NULL when out of memory. */
cJSON *magg_json(magg *m);

/* Nearest-rank percentile (the smallest sample with at least p % of the
 * samples at or below it) of v[0..n-1], sorted in place; n > 0, p in
 * 1 … 100. */
int64_t magg_percentile(int64_t *v, size_t n, int p);
/* 1 when a rating of v on min … max counts as positive: the top two values,
 * or only the top one on a scale of three values or fewer. */
int magg_csat_positive(double v, int min, int max);

#endif
