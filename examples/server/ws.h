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
 * except `except` (may be NULL). */
void ws_push(server *s, const char *user, const db_msg *m, const struct ws_conn *except);

/* Tells every connection to go away and closes each once its queue is
 * flushed. */
void ws_goaway_all(server *s, int reconnect_ms, const char *reason);

#endif
