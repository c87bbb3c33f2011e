/* The preview of a push notification: a message's text cut short and
 * redacted like the client redacts a user's text (docs/protocol.md,
 * "Redaction": card-like numbers become [card], e-mail addresses
 * [email]), because a push travels through the platform's service and
 * shows on a locked screen. Pure logic. */
#ifndef PARLEY_SERVER_REDACT_H
#define PARLEY_SERVER_REDACT_H

#include <stddef.h>

/* At most this many bytes of text (then "..."), whole UTF-8 characters. */
#define REDACT_PREVIEW_MAX 120

/* The preview of `text` into out (cap >= REDACT_PREVIEW_MAX + 4). */
void redact_preview(const char *text, char *out, size_t cap);

#endif
