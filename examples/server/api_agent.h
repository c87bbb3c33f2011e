/* The agents' routes that act on a conversation: POST
 * /api/conversations/{id}/assign, /bot, /close, /reopen, /typing and
 * /read, GET /api/queue and POST /api/queue/next. */
#ifndef PARLEY_SERVER_API_AGENT_H
#define PARLEY_SERVER_API_AGENT_H

#include "http.h"

unsigned api_agent_assign(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_bot(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_transfer(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_close(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_reopen(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_typing(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_read(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_agent_queue(server *s, const char *arg, const cJSON *body, cJSON **out);
/* Assigns the agent (the caller, or "agent" in the body) the first queued
 * conversation of its teams (docs/routing.md): the item, or 404. */
unsigned api_agent_next(server *s, const char *arg, const cJSON *body, cJSON **out);

#endif
