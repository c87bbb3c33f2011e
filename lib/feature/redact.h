/* Redaction: the host's hook and the built-in scrubber for card numbers and
 * e-mail addresses, applied to every user string before it is stored or
 * sent (docs/protocol.md, "Redaction"). */
#ifndef PARLEY_REDACT_H
#define PARLEY_REDACT_H

#include <stddef.h>

#include "parley.h"
#include "util/alloc.h"
#include "util/scrub.h"

typedef struct pl_redact {
    parley_redact_fn fn; /* the host's in-place hook, may be NULL */
    void *user;
    int builtin;                   /* the default redactor is on */
    parley_redact_text_fn text_fn; /* the host's replacement hook (not with fn) */
} pl_redact;

/* A redacted copy of `in` (allocated with `a`) in *out. Errors: NOMEM,
 * INVALID_ARG (the host's in-place hook left invalid UTF-8 or an
 * unterminated buffer). */
int pl_redact_copy(const pl_redact *r, const pl_alloc *a, int field, const char *in, char **out);

#endif
