/* Per-client logging: a sink, a level, and printf-style formatting. */
#ifndef PARLEY_UTIL_LOG_H
#define PARLEY_UTIL_LOG_H

#include "parley.h"

typedef struct pl_log {
    parley_log_fn fn;
    void *user;
    int level;
} pl_log;

#if defined(__MINGW32__)
/* MinGW's "printf" is the Microsoft C runtime's, which lacks %zu; the
 * library is built with __USE_MINGW_ANSI_STDIO, whose formats are C99's. */
#define PL_LOG_PRINTF(a, b) __attribute__((format(gnu_printf, a, b)))
#elif defined(__GNUC__)
#define PL_LOG_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PL_LOG_PRINTF(a, b)
#endif

/* Formats into a bounded stack buffer (long messages are cut) and calls the
 * sink when `level` is enabled. `log` may be NULL. */
void pl_log_emit(const pl_log *log, int level, const char *fmt, ...) PL_LOG_PRINTF(3, 4);

#define PL_LOG_E(l, ...) pl_log_emit((l), PARLEY_LOG_ERROR, __VA_ARGS__)
#define PL_LOG_W(l, ...) pl_log_emit((l), PARLEY_LOG_WARN, __VA_ARGS__)
#define PL_LOG_I(l, ...) pl_log_emit((l), PARLEY_LOG_INFO, __VA_ARGS__)
#define PL_LOG_D(l, ...) pl_log_emit((l), PARLEY_LOG_DEBUG, __VA_ARGS__)

#endif
