/* The built-in scrubber for card numbers and e-mail addresses, shared by the
 * library's redaction (feature/redact.c) and the reference server's push
 * previews (examples/server/redact.c), which compiles scrub.c itself. */
#ifndef PARLEY_SCRUB_H
#define PARLEY_SCRUB_H

#include <stddef.h>

/* Replaces, in place, card-like numbers by "[card]" and e-mail addresses by
 * "[email]" (or as many '*', for the rare address shorter than that).
 * Never lengthens `text`; returns its new length. */
size_t pl_redact_builtin(char *text);

#endif
