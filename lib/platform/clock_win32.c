#include "platform/clock.h"

#include <windows.h>

/* QueryPerformanceCounter: monotonic, unaffected by clock changes and
 * finer than GetTickCount64's 10-16 ms. */
int64_t pl_clock_mono_ms(void)
{
    LARGE_INTEGER now, freq;
    QueryPerformanceCounter(&now);
    QueryPerformanceFrequency(&freq);
    return (int64_t)(now.QuadPart / freq.QuadPart * 1000 +
                     now.QuadPart % freq.QuadPart * 1000 / freq.QuadPart);
}

/* FILETIME counts 100 ns since 1601-01-01. */
int64_t pl_clock_wall_ms(void)
{
    FILETIME ft;
    GetSystemTimePreciseAsFileTime(&ft);
    int64_t t = (int64_t)(((uint64_t)ft.dwHighDateTime << 32) | ft.dwLowDateTime);
    return t / 10000 - INT64_C(11644473600000);
}
