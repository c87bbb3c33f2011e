/* The agents' HTTP API for push notifications: marking a conversation
 * sensitive, so that its pushes carry no preview of the text. */
#ifndef PARLEY_SERVER_API_PUSH_H
#define PARLEY_SERVER_API_PUSH_H

#include "http.h"

/* POST /api/conversations/{id}/sensitive {"sensitive":true} */
unsigned api_push_sensitive(server *s, const char *conv, const cJSON *body, cJSON **out);

#endif
