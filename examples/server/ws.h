/* The parley.v1 WebSocket protocol, server side (docs/protocol.md). */
#ifndef PARLEY_SERVER_WS_H
#define PARLEY_SERVER_WS_H

#include <stddef.h>

#include "server.h"

struct ws_conn;

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len);
/* Per-connection allocation lws must reserve for ws_callback. */
size_t ws_conn_size(void);

/* Queues `m` as a `msg` frame to every connection authenticated as `user`,
 * except `except` (may be NULL) and those with a replay of its conversation
 * pending, which brings it in its place; a message not written by the user
 * is followed by the conversation's `unread` count (to all of them). */
void ws_push(server *s, const char *user, const db_msg *m, const struct ws_conn *except);

/* Queues a ready-made frame to every connection authenticated as `user`. */
void ws_push_frame(server *s, const char *user, const char *json);

/* For frame handlers outside ws.c: the connection's server and user, and
 * sending to it. ws_conn_send queues and frees a frame built by cJSON (NULL:
 * out of memory, the connection is dropped); `cid` of ws_conn_error is
 * dropped unless it is an identifier. */
server *ws_conn_server(const struct ws_conn *c);
const char *ws_conn_user(const struct ws_conn *c);
void ws_conn_send(struct ws_conn *c, char *json);
void ws_conn_error(struct ws_conn *c, const char *code, const char *message, const char *cid);

/* Tells every connection to go away and closes each once its queue is
 * flushed. */
void ws_goaway_all(server *s, int reconnect_ms, const char *reason);

#endif
