/* What the agents' routes read from a URL's query (the transport decodes it
 * into caller.query, "a=1&b=2") and how they name a URL of their own in an
 * answer (a Link header). */
#ifndef PARLEY_SERVER_API_QUERY_H
#define PARLEY_SERVER_API_QUERY_H

#include <stddef.h>
#include <stdint.h>

/* The value of `name` in "a=1&b=2" into out: 1 when present, 0 when
 * absent, -1 when it does not fit `cap` (out is then untouched). */
int api_query_get(const char *q, const char *name, char *out, size_t cap);
/* `s` as a decimal integer of min ... max into *out: 0, or -1 (*out
 * untouched). */
int api_query_int(const char *s, int64_t min, int64_t max, int64_t *out);
/* `in` percent-encoded for a URL's path (every byte but A-Z a-z 0-9 - . _ ~,
 * as the console's encodeURIComponent), into out: 0, or -1 when it does not
 * fit `cap`. */
int api_query_escape(const char *in, char *out, size_t cap);

#endif
