/* GET /api/metrics (docs/agent-console.md, "Metrics"): the store read
 * conversation by conversation into the aggregation of metrics_agg.c. */
#ifndef PARLEY_SERVER_METRICS_H
#define PARLEY_SERVER_METRICS_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"

/* The metrics of [since, until); NULL on a bad window or an error. */
cJSON *metrics_json(server *s, int64_t since, int64_t until);

#endif
