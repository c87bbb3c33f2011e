/* The agents' routes for surveys and proactive messages: POST
 * /api/users/{user}/surveys and /api/users/{user}/proactive, and GET
 * /api/surveys/{name}/responses with its aggregate (CSAT, NPS, choices). */
#ifndef PARLEY_SERVER_API_SURVEYS_H
#define PARLEY_SERVER_API_SURVEYS_H

#include "http.h"

unsigned api_surveys_push(server *s, const char *user, const cJSON *body, cJSON **out);
unsigned api_surveys_proactive(server *s, const char *user, const cJSON *body, cJSON **out);
unsigned api_surveys_responses(server *s, const char *name, const cJSON *body, cJSON **out);

#endif
