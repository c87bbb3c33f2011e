/* Typing indicators (docs/protocol.md, "typing"): the user's typing goes
 * out at most every 3 seconds while it lasts and once when it stops; the
 * support side's arrives as PARLEY_EV_TYPING, and dots left behind by a
 * server that went quiet are cleared after 6 seconds. Plugs into the
 * session as a module. Not thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_TYPING_H
#define PARLEY_TYPING_H

#include <stdint.h>

#include "session/session.h"
#include "util/log.h"

#define PL_TYPING_EVERY_MS 3000
#define PL_TYPING_EXPIRY_MS 6000

typedef struct pl_typing pl_typing;

/* Registers itself with `sess` (borrowed). NULL when out of memory or the
 * session has no room for another module. */
pl_typing *pl_typing_new(const pl_alloc *a, pl_sess *sess, const pl_log *log);
void pl_typing_free(pl_typing *t);

/* parley_set_typing at monotonic time `now`; parley.h has the rules and
 * errors. */
int pl_typing_set(pl_typing *t, const char *conv, int on, int64_t now);

#endif
