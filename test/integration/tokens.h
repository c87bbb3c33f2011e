/* Tokens as an app's backend mints them, for the tests of identity
 * verification: HS256 JWTs and user hashes (docs/protocol.md, hello). */
#ifndef PARLEY_E2E_TOKENS_H
#define PARLEY_E2E_TOKENS_H

#define TOKEN_MAX 1024

/* A JWT signed HS256 with `secret` over `claims` (a JSON object text, sent
 * as is). */
void tok_jwt_claims(const char *secret, const char *claims, char out[TOKEN_MAX]);
/* The same with {"sub":sub,"exp":exp}. */
void tok_jwt(const char *secret, const char *sub, long long exp, char out[TOKEN_MAX]);
/* The lowercase hex HMAC-SHA256 of `user` with `secret`. */
void tok_user_hash(const char *secret, const char *user, char out[65]);

#endif
