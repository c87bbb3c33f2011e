/* Push notifications (docs/protocol.md, "Push notifications"): the
 * device's token, journaled and registered after every welcome; the
 * tokens the server must forget (a replaced one, the one of a user who
 * logged out) until they have gone out once; and the payload of a
 * received push, which makes its conversation a member and connects now.
 * Plugs into the session as a module. Not thread-safe: the facade's lock
 * serialises calls. */
#ifndef PARLEY_PUSH_H
#define PARLEY_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"
#include "store/journal.h"
#include "util/log.h"

/* Journal namespace: "token" (platform '\n' token) and "forget" (tokens
 * to unregister, '\n'-separated). */
#define PL_PUSH_NS 10
#define PL_PUSH_MAX_PLATFORM 32
#define PL_PUSH_MAX_TOKEN 4096
#define PL_PUSH_MAX_FORGET 4

typedef struct pl_push pl_push;

/* Registers itself with `sess` (borrowed); `journal` may be NULL. NULL
 * when out of memory or the session has no room for another module. */
pl_push *pl_push_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal, const pl_log *log);
void pl_push_free(pl_push *p);

/* parley_set_push_token and parley_handle_push (`now`: the monotonic
 * clock, for connecting at once); see parley.h for the rules and errors. */
int pl_push_set_token(pl_push *p, const char *platform, const char *token);
int pl_push_handle(pl_push *p, const char *payload, int64_t now);

#endif
