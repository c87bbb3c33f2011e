/* The instance's own routes (docs/scaling.md, "Several instances"), for the
 * admin role: start a drain as SIGTERM does, and what this instance holds
 * (connections, fan-out counters, whether a user is connected here). */
#ifndef PARLEY_SERVER_API_ADMIN_H
#define PARLEY_SERVER_API_ADMIN_H

#include "http.h"

unsigned api_admin_drain(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_admin_instance(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_admin_online(server *s, const char *user, const cJSON *body, cJSON **out);

#endif
