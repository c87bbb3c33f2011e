/* GET /api/metrics (docs/agent-console.md, "Metrics"): the store read
 * conversation by conversation into the aggregation of metrics_agg.c. */
#ifndef PARLEY_SERVER_METRICS_H
#define PARLEY_SERVER_METRICS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"

/* The metrics of [since, until); NULL on a bad window or an error. */
cJSON *metrics_json(server *s, int64_t since, int64_t until);

/* What a submitted survey says, by the rules of "Metrics": the answer to
 * the definition's first rating question (CSAT) and to its first NPS
 * question; each flag is 0 when the definition has no such question or it
 * was not answered. `def` and `answers` are JSON texts (answers may be
 * NULL). */
typedef struct metrics_scores {
    int has_csat, has_nps;
    double csat;
    int nps;
} metrics_scores;
void metrics_survey_scores(const char *def, const char *answers, metrics_scores *out);

#endif
