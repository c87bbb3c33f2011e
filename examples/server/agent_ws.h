/* The agents' live channel (docs/agent-console.md, "The live channel"): a
 * WebSocket with the subprotocol parley.agent.v1 on the server's port,
 * authenticated by the browser session's cookie (or the API token), its
 * Origin checked. The server only sends on it; what a console sends is
 * ignored. Each channel has an output queue bounded like the users'. */
#ifndef PARLEY_SERVER_AGENT_WS_H
#define PARLEY_SERVER_AGENT_WS_H

#include <stddef.h>

#include "server.h"

#define AGENT_WS_PROTOCOL "parley.agent.v1"
#define AGENT_WS_MAX_PER_AGENT 16
/* The close code when the session ends (logout, expiry, password reset). */
#define AGENT_WS_SESSION_END 4001

struct lws_protocols;
typedef struct agent_conn agent_conn;

void agent_ws_protocol(struct lws_protocols *p);

/* Who the channel belongs to. */
const caller *agent_ws_caller(const agent_conn *c);
/* Queues a frame (JSON text) to one channel / to all of them. */
void agent_ws_send(agent_conn *c, const char *json);
void agent_ws_broadcast(server *s, const char *json);
/* The open group of writes was committed (`committed` 1) or rolled back
 * (0): the frames held for it go out, or their channels are dropped. */
void agent_ws_group_done(server *s, int committed);
/* Channels open for `agent`. */
int agent_ws_count(const server *s, const char *agent);
/* Sends {"t":"session.end","reason"} and closes (4001) the channels of the
 * session `token` (NULL: every session of `agent`). */
void agent_ws_end(server *s, const char *agent, const char *token, const char *reason);
/* The same for every channel opened with a browser session for which
 * live(s, caller) is 0; the API token's channels are kept. */
void agent_ws_end_unless(server *s, int (*live)(server *s, const caller *who), const char *reason);

#endif
