/* The agents' side of a conversation's life: assigning, handing back to the
 * bot, closing and reopening, typing and read marks, the queue, agent
 * messages with structured content; each change reaches the user's
 * connections live (conv.update, msg, typing, read). */
#ifndef PARLEY_SERVER_AGENT_H
#define PARLEY_SERVER_AGENT_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"

#define AGENT_NAME_DEFAULT "Agent"

/* The conversation's state as conv.update carries it, without "t":
 * {"conv","state","agent"?:{"name"},"queue"?:{"position","wait_s"?}}. NULL
 * on error. */
cJSON *agent_state_json(server *s, const char *conv);

/* Sends the conversation's state to its user's connections as conv.update
 * (`user` may be NULL: looked up). */
void agent_push_state(server *s, const char *user, const char *conv);
/* Sends every queued conversation's user its place in line. */
void agent_push_queue(server *s);

/* Adds the members of the conversation's state to an HTTP API object:
 * "state", "agent" ({"name"} or null), "queue_position" (null unless
 * queued), "bot_notes" (object or null), "user_typing", "read_seq" and
 * "agent_read_seq". 0 or -1. */
int agent_add_to_conv(server *s, cJSON *obj, const char *conv);

/* Stores an agent message (blocks: checked JSON array text, or NULL) and
 * pushes it; an agent writing in a conversation the bot or the queue had
 * takes it over. CHAT_OK, CHAT_UNKNOWN_CONV or CHAT_ERR; *out gets the
 * message's id and seq. */
int agent_message(server *s, const char *conv, const char *name, const char *text,
                  const char *blocks, db_msg *out);

/* 1 when an agent message of that text and blocks fits in one msg frame,
 * whatever id and seq it gets. */
int agent_message_fits(const char *conv, const char *name, const char *text, const char *blocks);

/* HTTP API handlers (http_api.h, http_api_fn): POST
 * /api/conversations/{id}/assign, /bot, /close, /reopen, /typing, /read, and
 * GET /api/queue. */
unsigned agent_api_assign(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned agent_api_bot(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned agent_api_close(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned agent_api_reopen(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned agent_api_typing(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned agent_api_read(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned agent_api_queue(server *s, const char *arg, const cJSON *body, cJSON **out);

#endif
