/* The measured wait estimate (docs/routing.md, "Wait estimate"): per team
 * queue, a moving window of the last handle times (how long an agent held
 * a conversation assigned and open), and the wait of the n-th in line from
 * their median. Pure: the server feeds it handle times (also the stored
 * ones at startup) and asks. */
#ifndef PARLEY_SERVER_WAITEST_H
#define PARLEY_SERVER_WAITEST_H

#include <stddef.h>
#include <stdint.h>

typedef struct waitest waitest;

/* `teams` queues, each keeping its last `window` handle times; before a
 * queue has any, its median is `default_ms`. NULL when out of memory. */
waitest *waitest_new(size_t teams, size_t window, int64_t default_ms);
void waitest_free(waitest *w);

/* Records a handle time of team `team` (an index below `teams`; negative
 * times count as 0). */
void waitest_add(waitest *w, size_t team, int64_t handle_ms);

/* The median of the team's window (ms), or the default without any. */
int64_t waitest_median_ms(const waitest *w, size_t team);

/* The estimated wait in seconds (rounded up) of the `position`-th (1-based)
 * in the team's line when `staffed` agents work it (below 1 counts as 1):
 * ceil(position / staffed) × median. */
int64_t waitest_wait_s(const waitest *w, size_t team, int64_t position, int staffed);

#endif
