/* The bot: drives the flow (flow.c) with what users do, stores its answers
 * and the conversation's state in the same transaction as the user's
 * message, and delivers the outcome. */
#ifndef PARLEY_SERVER_BOT_H
#define PARLEY_SERVER_BOT_H

#include <cjson/cJSON.h>

#include "flow.h"
#include "server.h"
#include "store.h"

enum {
    BOT_OK = 0,
    BOT_ERR = -1,          /* database failure; nothing was stored */
    BOT_UNKNOWN_CONV = -2, /* no such conversation, or not the user's */
    BOT_BAD_POSTBACK = -3, /* a postback naming no choice of that message */
};

/* A user message as it arrived. `postback` (may be NULL) passed
 * bot_check_postback. */
typedef struct bot_msg_in {
    const char *user, *conv, *cid, *text, *context;
    const cJSON *postback;
    const char *attachment; /* the file it carries: JSON text, or NULL */
} bot_msg_in;

typedef struct bot_result {
    store_msg user; /* the stored user message (the original for a duplicate) */
    int duplicate;  /* the cid was seen before: nothing happened */
    int has_reply;
    store_msg reply; /* the bot's message; its strings live in `run` */
    flow_reply run;
    int state_changed; /* the conversation's state changed: conv.update */
    int queue_moved;   /* a conversation left the queue: the others moved up */
    char *postback;    /* the stored postback (JSON text, cJSON_free) */
} bot_result;

/* NULL when `pb` is a well-formed postback member, else why not. */
const char *bot_check_postback(const cJSON *pb);

/* A conversation was started: when the flow greets on conv.start, the bot
 * runs the start node unless it already ran in it. BOT_OK or BOT_ERR. */
int bot_conv_started(server *s, const char *conv, bot_result *out);

/* Stores a user message or postback (deduplicated by cid) and lets the
 * bot answer while the conversation is the bot's; a message in a closed
 * conversation reopens it. BOT_OK, BOT_UNKNOWN_CONV, BOT_BAD_POSTBACK or
 * BOT_ERR. */
int bot_user_message(server *s, const bot_msg_in *in, bot_result *out);

/* An agent handed the conversation back to the bot: state "bot", and the
 * resume node runs when the flow has one. BOT_OK, BOT_UNKNOWN_CONV or
 * BOT_ERR; *user_out (PJ_MAX_ID + 1 bytes) gets the owner. */
int bot_hand_back(server *s, const char *conv, bot_result *out, char *user_out);

/* Sends what `r` calls for to the user's connections: conv.update, the
 * bot's message, the queue's new positions. */
void bot_deliver(server *s, const char *user, const char *conv, const bot_result *r);
void bot_result_clear(bot_result *r);

#endif
