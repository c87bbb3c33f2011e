/* Per-client logging: a sink, a level, and printf-style formatting. */
#ifndef PARLEY_UTIL_LOG_H
#define PARLEY_UTIL_LOG_H

#include "parley.h"

typedef struct plog {
    parley_log_fn fn;
    void *user;
    int level;
} plog;

#if defined(__GNUC__)
#define PLOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PLOG_PRINTF(a, b)
#endif

/* Formats into a bounded stack buffer (long messages are cut) and calls the
 * sink when `level` is enabled. `log` may be NULL. */
void plog_emit(const plog *log, int level, const char *fmt, ...) PLOG_PRINTF(3, 4);

#define PLOG_E(l, ...) plog_emit((l), PARLEY_LOG_ERROR, __VA_ARGS__)
#define PLOG_W(l, ...) plog_emit((l), PARLEY_LOG_WARN, __VA_ARGS__)
#define PLOG_I(l, ...) plog_emit((l), PARLEY_LOG_INFO, __VA_ARGS__)
#define PLOG_D(l, ...) plog_emit((l), PARLEY_LOG_DEBUG, __VA_ARGS__)

#endif
