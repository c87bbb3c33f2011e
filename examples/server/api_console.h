/* The agent workspace's routes (docs/agent-console.md): sessions, presence,
 * the agents, the paginated conversation list, priority, the single
 * customer view, the metrics and their CSV. */
#ifndef PARLEY_SERVER_API_CONSOLE_H
#define PARLEY_SERVER_API_CONSOLE_H

#include "http.h"

unsigned api_console_login(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_logout(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_me(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_presence(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_agents(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_list(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_priority(server *s, const char *conv, const cJSON *body, cJSON **out);
unsigned api_console_user(server *s, const char *user, const cJSON *body, cJSON **out);
unsigned api_console_metrics(server *s, const char *arg, const cJSON *body, cJSON **out);
unsigned api_console_metrics_csv(server *s, const char *arg, const cJSON *body, cJSON **out);

#endif
