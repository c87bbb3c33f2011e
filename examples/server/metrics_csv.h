/* GET /api/metrics/conversations.csv (docs/agent-console.md, "Metrics"):
 * one row per conversation with the facts the metrics are made of, for a
 * spreadsheet. Cells are quoted per RFC 4180; text a user controls that a
 * spreadsheet would run as a formula is prefixed with '. */
#ifndef PARLEY_SERVER_METRICS_CSV_H
#define PARLEY_SERVER_METRICS_CSV_H

#include <stddef.h>
#include <stdint.h>

#include "server.h"

/* The CSV of the conversations created before `until` with activity at or
 * after `since`, as a malloc'd text (*len bytes, NUL-terminated). 0, or -1
 * (database error, out of memory). */
int metrics_csv(server *s, int64_t since, int64_t until, char **out, size_t *len);

/* Appends `text` to `buf` as one quoted cell. Exposed for tests. */
typedef struct csv_buf {
    char *p;
    size_t len, cap;
    int failed;
} csv_buf;
void metrics_csv_cell(csv_buf *b, const char *text);

#endif
