/* Who a hello may claim to be, and the merge of an anonymous user into the
 * identified one it turned out to be (docs/protocol.md, hello). */
#ifndef PARLEY_SERVER_IDENTITY_H
#define PARLEY_SERVER_IDENTITY_H

#include <stdint.h>

#include "db.h"

/* NULL when `user` may sign in as `kind` ("id" or "anon"), else why not: an
 * anonymous hello may not name an identified user, whose history an
 * unverified claim must never reach. */
const char *identity_check(db *d, const char *user, const char *kind);

/* Moves everything of the anonymous user `anon` to `user`: conversations,
 * attributes and context, events, surveys and proactive items. Runs inside
 * the caller's transaction; idempotent (a second call finds nothing to
 * move); does nothing when `anon` is not a known anonymous user. 0 or -1. */
int identity_merge(db *d, const char *anon, const char *user);

#endif
