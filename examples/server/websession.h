/* Browser sessions of agents (docs/agent-console.md, "Browser sessions"):
 * the session token, what the database keeps of it, the CSRF token derived
 * from it, the Set-Cookie values, reading the cookie back from a Cookie
 * header, and the Origin check. No I/O and no state: the store keeps the
 * sessions, the HTTP layer applies these rules. */
#ifndef PARLEY_SERVER_WEBSESSION_H
#define PARLEY_SERVER_WEBSESSION_H

#include <stddef.h>
#include <stdint.h>

#define WEBSESS_COOKIE "parley_session"
/* 32 random bytes as lowercase hex; hashes and CSRF tokens are as long. */
#define WEBSESS_TOKEN_LEN 64
#define WEBSESS_BUF (WEBSESS_TOKEN_LEN + 1)
/* A session ends this long after its last use, or this long after the
 * login, whichever comes first. */
#define WEBSESS_IDLE_MS (12LL * 3600 * 1000)
#define WEBSESS_MAX_MS (7LL * 24 * 3600 * 1000)
#define WEBSESS_COOKIE_BUF 160

/* A fresh token (WEBSESS_TOKEN_LEN hex digits). 0, or -1 when the system's
 * random source fails. */
int websess_new_token(char out[WEBSESS_BUF]);

/* 1 when `token` has the form of a session token. */
int websess_token_ok(const char *token);

/* What the database keeps: hex SHA-256 of the token. 0 or -1. */
int websess_hash(const char *token, char out[WEBSESS_BUF]);

/* The session's CSRF token: hex HMAC-SHA256 keyed with the session token
 * over "parley.csrf.v1". 0 or -1. */
int websess_csrf(const char *token, char out[WEBSESS_BUF]);
/* 1 when `given` (may be NULL) is the session's CSRF token, compared in
 * constant time; 0 otherwise. */
int websess_csrf_ok(const char *token, const char *given);

/* The Set-Cookie value that sets the session (Path=/; HttpOnly;
 * SameSite=Strict; Max-Age; Secure when `secure`), or that clears it
 * (token NULL: empty value, Max-Age=0). 0, or -1 when it does not fit. */
int websess_set_cookie(char *buf, size_t cap, const char *token, int64_t max_age_s, int secure);

/* Finds the session cookie in a Cookie header value ("a=1; parley_session=..."):
 * 1 with the token copied to out when present and well formed, 0
 * otherwise (absent, malformed, or given twice: a cookie planted by
 * another site under the same name must not win by its order). */
int websess_cookie_find(const char *header, char out[WEBSESS_BUF]);

/* 1 when the Origin header value names the same host and port as the Host
 * header value (scheme default ports made explicit, host case ignored), 0
 * otherwise ("null", malformed, another host or port). */
int websess_origin_ok(const char *origin, const char *host, int tls);

/* 1 when a session created at created_ms and last used at seen_ms has
 * ended at now_ms. */
int websess_expired(int64_t created_ms, int64_t seen_ms, int64_t now_ms);

#endif
