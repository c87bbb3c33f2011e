/* Identity verification for `hello`: an identified user proves who they are
 * with user.token, either a JWT signed HS256 with a secret shared with the
 * app's backend, or a "user hash" (lowercase hex HMAC-SHA256 of the user id).
 * Without either secret identified users are refused, unless the server was
 * started with --insecure-identities (development only). Anonymous users are
 * not verified here: they claim nothing (identity.c keeps them apart). */
#ifndef PARLEY_SERVER_AUTH_H
#define PARLEY_SERVER_AUTH_H

#include <stdint.h>

/* Clock skew tolerated on exp and nbf, in seconds. */
#define AUTH_LEEWAY_S 30

typedef struct auth_cfg {
    const char *jwt_secret;     /* NULL: JWTs are not accepted */
    const char *hmac_secret;    /* NULL: user hashes are not accepted */
    const char *jwt_audience;   /* NULL: `aud` is not checked */
    const char *jwt_issuer;     /* NULL: `iss` is not checked */
    int64_t jwt_max_lifetime_s; /* 0: no limit on exp - iat and exp - now */
    int insecure;               /* no secret: accept identified users unverified */
} auth_cfg;

/* NULL when `token` proves `user` at `now_s` (seconds since the epoch), or
 * when no secret is set and cfg->insecure allows unverified identities;
 * else a short reason for the auth_failed error. `token` may be NULL. */
const char *auth_verify(const auth_cfg *cfg, const char *user, const char *token, int64_t now_s);

#endif
