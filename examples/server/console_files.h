/* Which file of the console (examples/server/console, installed under
 * share/parley/console) answers a GET, with its type and the headers every
 * console answer carries (docs/agent-console.md, "The console's files"). */
#ifndef PARLEY_SERVER_CONSOLE_FILES_H
#define PARLEY_SERVER_CONSOLE_FILES_H

#include <stddef.h>

/* Nothing but the console's own files, no inline code, no framing. */
#define CONSOLE_CSP                                                                                \
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; font-src 'self'; frame-ancestors 'none'; base-uri 'none'; "               \
    "form-action 'self'"

#define CONSOLE_NAME_MAX 64

/* For a request path (without the query): 1 with the file's path under
 * `dir` in out and its Content-Type in *type, 0 when the path is not the
 * console's ("/" and "/console/" are index.html; "/console/NAME" a file of
 * 1 … 64 bytes of a-z 0-9 . _ - with an extension of js, css, html, svg or
 * png, and no ".."), -1 when it does not fit in out. Whether the file
 * exists is the caller's question. */
int console_resolve(const char *dir, const char *path, char *out, size_t cap, const char **type);

#endif
