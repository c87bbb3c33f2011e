/* Push notifications (docs/protocol.md, "Push notifications"): what a
 * user with no live connection is sent through the notifier (webhook.c)
 * when a message for them is stored, one body per device token: the
 * conversation, the message, its author, the unread count, and a preview
 * of the text (redacted, cut short) unless previews are off or the
 * conversation is sensitive. */
#ifndef PARLEY_SERVER_PUSH_H
#define PARLEY_SERVER_PUSH_H

#include "server.h"
#include "store.h"

/* Does nothing without a notifier (--push-webhook) or a token. */
void push_notify(server *s, const char *user, const store_msg *m);

#endif
