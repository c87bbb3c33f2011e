/* Conversation operations shared by the WebSocket and HTTP sides. Each runs
 * in one database transaction that commits before it returns, so a caller may
 * acknowledge and push the result right away. Delivery is the caller's job:
 * it alone knows the order frames must go out in. */
#ifndef PARLEY_SERVER_CHAT_H
#define PARLEY_SERVER_CHAT_H

#include <cjson/cJSON.h>

#include "store.h"

enum {
    CHAT_OK = 0,
    CHAT_ERR = -1,          /* database failure; nothing was stored */
    CHAT_UNKNOWN_CONV = -2, /* no such conversation, or not the user's */
};

/* 1 when `conv` exists and belongs to `user`, 0 when not, -1 on error. */
int chat_owns(db *d, const char *user, const char *conv);

/* Creates the conversation, or accepts a resend for one the user already
 * owns. CHAT_UNKNOWN_CONV when another user owns that id. */
int chat_start(db *d, const char *user, const char *conv, const char *subject,
               const char *cid, const char *context);

#endif
