/* The agents' routes that read conversations and write in them: GET
 * /api/conversations, GET /api/conversations/{id} (with the user's context
 * and the conversation's state), GET and POST
 * /api/conversations/{id}/messages. */
#ifndef PARLEY_SERVER_API_CONVERSATIONS_H
#define PARLEY_SERVER_API_CONVERSATIONS_H

#include "http.h"

unsigned api_conversations_get(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_conversations_messages(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_conversations_post(server *s, const char *conv, const cJSON *body, cJSON **out);

#endif
