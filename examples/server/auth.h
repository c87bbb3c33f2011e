/* Identity verification for `hello`: an identified user proves who they are
 * with user.token, either a JWT signed HS256 with a secret shared with the
 * app's backend, or a "user hash" (lowercase hex HMAC-SHA256 of the user id).
 * Anonymous users are not verified: they claim nothing. */
#ifndef PARLEY_SERVER_AUTH_H
#define PARLEY_SERVER_AUTH_H

#include <stdint.h>

/* Clock skew tolerated on exp and nbf, in seconds. */
#define AUTH_LEEWAY_S 30

typedef struct auth_cfg {
    const char *jwt_secret;  /* NULL: JWTs are not accepted */
    const char *hmac_secret; /* NULL: user hashes are not accepted */
} auth_cfg;

/* 1 when identified users must be verified at all. */
int auth_enabled(const auth_cfg *cfg);

/* NULL when `token` proves `user` at `now_s` (seconds since the epoch), else
 * a short reason for the auth_failed error. `token` may be NULL. */
const char *auth_verify(const auth_cfg *cfg, const char *user, const char *token, int64_t now_s);

#endif
