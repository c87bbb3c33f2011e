/* What the agents' consoles see change (docs/agent-console.md, "The live
 * channel"): the conversation items of the lists and the frames of
 * parley.agent.v1, sent to every open agent channel. */
#ifndef PARLEY_SERVER_CONSOLE_H
#define PARLEY_SERVER_CONSOLE_H

#include <cjson/cJSON.h>

#include "server.h"
#include "store.h"

/* The list item of a conversation (docs/agent-console.md, "Conversations");
 * NULL when unknown or on error. */
cJSON *console_item(server *s, const char *conv);
/* Adds the item's members to `obj`. 0 or -1. */
int console_item_members(server *s, cJSON *obj, const store_conv_item *it);

/* conv.new / conv.update with the conversation's item. */
void console_conv(server *s, const char *conv, int is_new);
/* msg with the stored message. */
void console_msg(server *s, const char *conv, const store_msg *m);
/* typing: who "user" or "agent" (name: the agent). */
void console_typing(server *s, const char *conv, const char *who, const char *name, int on);
/* read: side "user" or "agent". */
void console_read(server *s, const char *conv, const char *side, int64_t seq);
/* context: the frame the user's app sent, as stored (full or a patch). */
void console_context(server *s, const char *user, const cJSON *frame);
/* event: a tracked event. */
void console_event(server *s, const char *user, const char *name, const char *meta, int64_t ts);
/* survey: the instance n (delivered, answered or dismissed). */
void console_survey(server *s, int64_t n);
/* queue: every queued conversation's place. */
void console_queue(server *s);
/* presence of an agent. */
void console_presence(server *s, const char *agent);
/* sla: a warning or a breach. */
void console_sla(server *s, const store_sla *c, const char *level);

/* The survey entry of the customer view for an instance. NULL on error. */
cJSON *console_survey_json(const store_survey_row *r);

/* Sends a built frame ({"t":type, ...body}) to every channel; takes body. */
void console_broadcast(server *s, const char *type, cJSON *body);

#endif
