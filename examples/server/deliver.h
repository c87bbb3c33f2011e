/* Delivery to a user: what reaches the connections signed in as them when
 * something happens to one of their conversations, whoever caused it (the
 * user on another device, the bot, an agent): messages with the unread
 * count that follows, conv.update, the queue's positions, and any other
 * frame. Also the unread counts a connection gets after its welcome. */
#ifndef PARLEY_SERVER_DELIVER_H
#define PARLEY_SERVER_DELIVER_H

#include <cjson/cJSON.h>

#include "server.h"
#include "store.h"
#include "ws.h"

/* The message as `msg` to the user's connections but `except` (may be
 * NULL); one not written by the user is followed by the conversation's
 * `unread` count. */
void deliver_msg(server *s, const char *user, const store_msg *m, const ws_conn *except);
/* The conversation's unread count as `unread`. */
void deliver_unread(server *s, const char *user, const char *conv);
/* One `unread` per conversation of the connection's user. */
void deliver_unread_to(ws_conn *c);

/* The conversation's state as conv.update carries it, without "t":
 * {"conv","state","agent"?:{"name"},"queue"?:{"position","wait_s"?}}. NULL
 * on error. */
cJSON *deliver_state_body(server *s, const char *conv);
/* conv.update to the conversation's user (`user` may be NULL: looked up). */
void deliver_state(server *s, const char *user, const char *conv);
/* Every queued conversation's user its place in line (conv.update). */
void deliver_queue(server *s);

/* Any frame: `json` is sent and freed (NULL, out of memory, is logged as
 * `what` not sent); `body` gets "t": `type` in front, and is taken. */
void deliver_frame(server *s, const char *user, const char *what, char *json);
void deliver_typed(server *s, const char *user, const char *type, cJSON *body);

#endif
