/* Clocks. The session engine never reads them: the facade passes time in. */
#ifndef PARLEY_PLATFORM_CLOCK_H
#define PARLEY_PLATFORM_CLOCK_H

#include <stdint.h>

int64_t pl_clock_mono_ms(void); /* monotonic, for timers and backoff */
int64_t pl_clock_wall_ms(void); /* Unix epoch, for timestamps */

#endif
