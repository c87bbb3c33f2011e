/* Failed-login budgets per agent name and per client address
 * (docs/agent-console.md, "Browser sessions"): token buckets in a bounded
 * table. An attempt takes a token from both buckets before the password is
 * checked, so attempts running at once cannot overdraw a budget; a
 * successful login gives them back. Service loop only (no locking). */
#ifndef PARLEY_SERVER_LOGIN_LIMIT_H
#define PARLEY_SERVER_LOGIN_LIMIT_H

#include <stddef.h>
#include <stdint.h>

#define LOGIN_LIMIT_ENTRIES 4096
/* Per name: 5 failures, one more every 30 s. Per address (many agents may
 * share one behind a NAT): 20, one more every 10 s. */
#define LOGIN_LIMIT_NAME_BURST 5
#define LOGIN_LIMIT_NAME_EVERY_MS 30000
#define LOGIN_LIMIT_ADDR_BURST 20
#define LOGIN_LIMIT_ADDR_EVERY_MS 10000
/* Longer names and addresses are told apart by their first bytes only. */
#define LOGIN_LIMIT_KEY_MAX 128

typedef struct login_limit login_limit;

/* A table of at most `entries` keys (0: LOGIN_LIMIT_ENTRIES). NULL when out
 * of memory. */
login_limit *login_limit_new(size_t entries);
void login_limit_free(login_limit *l);

/* Before checking a password: 0 when the attempt may go on (a token was
 * taken from the name's and the address's bucket), else the seconds until
 * it may (at least 1), nothing taken. */
int64_t login_limit_begin(login_limit *l, const char *name, const char *addr, int64_t now_ms);

/* The attempt begun for name and addr was right: the name's budget is full
 * again and the address gets its token back. */
void login_limit_success(login_limit *l, const char *name, const char *addr, int64_t now_ms);

/* Keys tracked now (for tests and the bound). */
size_t login_limit_count(const login_limit *l);

#endif
