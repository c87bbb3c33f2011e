#include "util/log.h"

#include <stdarg.h>
#include <stdio.h>

void pl_log_emit(const pl_log *log, int level, const char *fmt, ...)
{
    if (!log || !log->fn || level > log->level)
        return;
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    log->fn(log->user, level, buf);
}
