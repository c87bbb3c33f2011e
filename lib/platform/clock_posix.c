#include "platform/clock.h"

#include <errno.h>
#include <time.h>

static int64_t read_ms(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t pl_clock_mono_ms(void)
{
    return read_ms(CLOCK_MONOTONIC);
}

int64_t pl_clock_wall_ms(void)
{
    return read_ms(CLOCK_REALTIME);
}

void pl_clock_sleep_ms(int ms)
{
    struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
