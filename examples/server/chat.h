/* Conversation operations shared by the WebSocket and HTTP sides. Each runs
 * in one database transaction that commits before it returns, so a caller may
 * acknowledge and push the result right away. Delivery is the caller's job:
 * it alone knows the order frames must go out in. */
#ifndef PARLEY_SERVER_CHAT_H
#define PARLEY_SERVER_CHAT_H

#include <cjson/cJSON.h>

#include "db.h"

enum {
    CHAT_OK = 0,
    CHAT_ERR = -1,          /* database failure; nothing was stored */
    CHAT_UNKNOWN_CONV = -2, /* no such conversation, or not the user's */
};

typedef struct chat_sent {
    db_msg user;   /* the stored user message (id and seq are the original ones
                      for a duplicate) */
    int duplicate; /* the cid was seen before: nothing new was stored */
    int has_bot;
    db_msg bot;    /* the bot's reply, when has_bot */
} chat_sent;

/* 1 when `conv` exists and belongs to `user`, 0 when not, -1 on error. */
int chat_owns(db *d, const char *user, const char *conv);

/* Merges attributes into the user's stored context in one transaction: each
 * member of the object `attributes` is a string, number or boolean, or null
 * to remove the attribute. CHAT_OK or CHAT_ERR. */
int chat_set_attributes(db *d, const char *user, const cJSON *attributes);

/* Creates the conversation, or accepts a resend for one the user already
 * owns. CHAT_UNKNOWN_CONV when another user owns that id. */
int chat_start(db *d, const char *user, const char *conv, const char *subject,
               const char *cid, const char *context);

/* Stores a user message (deduplicated by cid) and the bot's reply to it.
 * `out` borrows conv, cid, text and context. */
int chat_user_message(db *d, const char *user, const char *conv, const char *cid,
                      const char *text, const char *context, chat_sent *out);

/* Stores an agent message. The conversation's owner is copied to user_out
 * (cap bytes) so the caller can push the message. `out` borrows the strings. */
int chat_agent_message(db *d, const char *conv, const char *name, const char *text,
                       db_msg *out, char *user_out, size_t cap);

#endif
