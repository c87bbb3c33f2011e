/* Who a hello may claim to be (docs/protocol.md, hello).
 *
 * Anonymous and identified users live in separate namespaces: an anonymous
 * id has exactly the form "a-" followed by a lowercase UUID
 * ("a-0f8fad5b-d9cb-469f-a165-70867728950e", what libparley mints), and an
 * identified id may never have that form, so an id names one user of one
 * kind and a user never changes kind. The first anonymous session of an
 * anonymous user is issued a secret (only its SHA-256 is stored); merging
 * that anonymous user into an identified one needs the secret back. */
#ifndef PARLEY_SERVER_IDENTITY_H
#define PARLEY_SERVER_IDENTITY_H

#include "store.h"

/* "ps-" and 64 lowercase hex digits (32 random bytes), and a NUL. */
#define IDENTITY_SECRET_BUF 68

/* Brings a database made before the namespaces existed up to date, once:
 * adds users.secret_hash, and moves the rows that break the rule out of
 * reach: an anonymous user whose id is not a-<uuid> (a foreign client's, or
 * one planted under somebody's user id) is renamed to a fresh a-<uuid>, so
 * that the identified user of that id does not inherit it; an identified
 * user whose id has the anonymous form becomes the anonymous user it looks
 * like. Each rename is reported on stderr. 0 or -1. */
int identity_init(db *d);

/* 1 when `id` has the anonymous form. */
int identity_is_anon_id(const char *id);

/* NULL when a hello may sign in as `user` of `kind` ("id" or "anon"),
 * naming the anonymous id `anon` (identified only, may be NULL); else why
 * not, for the auth_failed error. */
const char *identity_check(db *d, const char *kind, const char *user, const char *anon);

/* Issues the merge secret of the anonymous user `anon` (already recorded)
 * when it has none yet: 1 and `secret` filled, 0 when it already has one,
 * -1 on error. Runs inside the caller's transaction. */
int identity_issue_secret(db *d, const char *anon, char secret[IDENTITY_SECRET_BUF]);

/* When `proof` is the secret issued to the anonymous user `anon`, moves
 * everything of that user to `user`: conversations, attributes and context,
 * events, surveys and proactive items; 1 then (also when nothing was left
 * to move: a merge is idempotent). 0 when `anon` is not an anonymous user
 * with a secret or `proof` (may be NULL) is not its secret: nothing moves.
 * -1 on error. Runs inside the caller's transaction. */
int identity_merge(db *d, const char *anon, const char *proof, const char *user);

#endif
