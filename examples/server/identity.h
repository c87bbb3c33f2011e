/* Who a hello may claim to be (docs/protocol.md, hello).
 *
 * Anonymous and identified users live in separate namespaces: an anonymous
 * id has exactly the form of anonid.h ("a-" and a lowercase UUID, what
 * libparley mints), and an identified id may never have that form, so an id
 * names one user of one kind and a user never changes kind (store_open
 * brings a database made before this rule in line). The first anonymous
 * session of an anonymous user is issued a secret (only its SHA-256 is
 * stored); merging that anonymous user into an identified one needs the
 * secret back. */
#ifndef PARLEY_SERVER_IDENTITY_H
#define PARLEY_SERVER_IDENTITY_H

#include "store.h"

/* "ps-" and 64 lowercase hex digits (32 random bytes), and a NUL. */
#define IDENTITY_SECRET_BUF 68

/* NULL when a hello may sign in as `user` of `kind` ("id" or "anon"),
 * naming the anonymous id `anon` (identified only, may be NULL); else why
 * not, for the auth_failed error. */
const char *identity_check(store *s, const char *kind, const char *user, const char *anon);

/* Issues the merge secret of the anonymous user `anon` (already recorded)
 * when it has none yet: 1 and `secret` filled, 0 when it already has one,
 * -1 on error. Runs inside the caller's transaction. */
int identity_issue_secret(store *s, const char *anon, char secret[IDENTITY_SECRET_BUF]);

/* When `proof` is the secret issued to the anonymous user `anon`, moves
 * everything of that user to `user`: conversations, attributes and context,
 * events, surveys and proactive items; 1 then (also when nothing was left
 * to move: a merge is idempotent). 0 when `anon` is not an anonymous user
 * with a secret or `proof` (may be NULL) is not its secret: nothing moves.
 * -1 on error. Runs inside the caller's transaction. */
int identity_merge(store *s, const char *anon, const char *proof, const char *user);

#endif
