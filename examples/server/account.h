/* The rules of agent accounts (docs/agent-console.md, "Agent accounts"):
 * names, display names, roles, and reading a password from standard input
 * for --add-agent. */
#ifndef PARLEY_SERVER_ACCOUNT_H
#define PARLEY_SERVER_ACCOUNT_H

#include <stddef.h>
#include <stdio.h>

#define ACCOUNT_NAME_MAX 64
#define ACCOUNT_DISPLAY_MAX 128

/* 1 when `name` is 1 … 64 bytes of A-Z a-z 0-9 . _ - */
int account_name_ok(const char *name);
/* 1 when `s` is 1 … 128 bytes of UTF-8 without control characters. */
int account_display_ok(const char *s);
/* 1 for "agent" and "admin". */
int account_role_ok(const char *role);

/* The first line of `f` into buf (cap bytes; the newline, and a CR before
 * it, removed): 0, or -1 with the reason in *why (nothing to read, a NUL
 * byte, shorter than 8 or longer than 1,024 bytes). buf is wiped on
 * failure. */
int account_read_password(FILE *f, char *buf, size_t cap, const char **why);

#endif
