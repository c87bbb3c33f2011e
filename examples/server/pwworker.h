/* Password checks off the service loop: one worker thread runs
 * pwhash_verify for queued logins and hands the results back. The service
 * loop must not stall for a quarter of a second per login attempt (every
 * user's frames would wait), so a login request submits a job, and the
 * answer goes out when the result is taken, after the worker's `wake` hook
 * (lws_cancel_service) brought the loop round. */
#ifndef PARLEY_SERVER_PWWORKER_H
#define PARLEY_SERVER_PWWORKER_H

#include <stddef.h>
#include <stdint.h>

typedef struct pwworker pwworker;

/* Called on the worker thread after each job finishes; must be safe from
 * any thread (lws_cancel_service is). */
typedef void (*pwworker_wake_fn)(void *ud);

/* Starts the thread. At most max_pending jobs wait or run at once. NULL on
 * failure. */
pwworker *pwworker_new(size_t max_pending, pwworker_wake_fn wake, void *ud);
/* Stops the thread after the running job; results not taken are dropped
 * and every password copy is wiped. NULL is ignored. */
void pwworker_free(pwworker *w);

/* Queues a check of `password` (len bytes, copied) against `stored` (a
 * pwhash string, copied; NULL: against the dummy hash, result 0). The job's
 * id (> 0), 0 when max_pending jobs are already waiting, -1 when out of
 * memory. */
int64_t pwworker_submit(pwworker *w, const char *password, size_t len, const char *stored);

/* Takes one finished job: 1 with its id and pwhash_verify's result (1, 0
 * or -1), 0 when none is finished. Service loop only. */
int pwworker_take(pwworker *w, int64_t *id, int *result);

#endif
