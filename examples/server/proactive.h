/* Proactive messages: a message the server or an agent sends a user
 * outside any conversation (docs/protocol.md, proactive), stored until the
 * user's client acknowledges it and sent again after every welcome until
 * then. Who decides to send one: triggers.c and the agents' API
 * (api_surveys.c). */
#ifndef PARLEY_SERVER_PROACTIVE_H
#define PARLEY_SERVER_PROACTIVE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"
#include "ws.h"

/* The client holds at most this many items while they are muted. */
#define PROACTIVE_RESEND 32

/* Stores the message `msg` ({author, text, blocks?}) for `user` and sends
 * it to their connections; its number in *n. 0 or -1. */
int proactive_deliver(server *s, const char *user, const cJSON *msg, int64_t now, int64_t *n);

/* The user's unacknowledged items to a connection after its welcome. */
void proactive_resend(ws_conn *c);

#endif
