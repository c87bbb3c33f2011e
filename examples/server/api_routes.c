#include "api_routes.h"

#include "api_admin.h"
#include "api_agent.h"
#include "api_attachments.h"
#include "api_console.h"
#include "api_conversations.h"
#include "api_push.h"
#include "api_surveys.h"

/* A conversation id is any wire identifier, '/' included, where the path
 * leaves no doubt (the messages routes). */
static const http_route table[] = {
    {HTTP_POST, "/api/login", NULL, api_console_login, 0, 1},
    {HTTP_POST, "/api/logout", NULL, api_console_logout, 0, 0},
    {HTTP_GET, "/api/me", NULL, api_console_me, 0, 0},
    {HTTP_POST, "/api/me/presence", NULL, api_console_presence, 0, 0},
    {HTTP_GET, "/api/agents", NULL, api_console_agents, 0, 0},
    {HTTP_GET, "/api/metrics", NULL, api_console_metrics, 0, 0},
    {HTTP_GET, "/api/metrics/conversations.csv", NULL, api_console_metrics_csv, 0, 0},
    {HTTP_GET, "/api/conversations", NULL, api_console_list, 0, 0},
    {HTTP_GET, "/api/conversations/", NULL, api_console_list, 0, 0},
    {HTTP_GET, "/api/conversations/", "", api_conversations_get, 0, 0},
    {HTTP_GET, "/api/conversations/", "/messages", api_conversations_messages, 1, 0},
    {HTTP_POST, "/api/conversations/", "/messages", api_conversations_post, 1, 0},
    {HTTP_POST, "/api/conversations/", "/assign", api_agent_assign, 0, 0},
    {HTTP_POST, "/api/conversations/", "/transfer", api_agent_transfer, 0, 0},
    {HTTP_POST, "/api/conversations/", "/priority", api_console_priority, 0, 0},
    {HTTP_POST, "/api/conversations/", "/bot", api_agent_bot, 0, 0},
    {HTTP_POST, "/api/conversations/", "/close", api_agent_close, 0, 0},
    {HTTP_POST, "/api/conversations/", "/reopen", api_agent_reopen, 0, 0},
    {HTTP_POST, "/api/conversations/", "/typing", api_agent_typing, 0, 0},
    {HTTP_POST, "/api/conversations/", "/read", api_agent_read, 0, 0},
    {HTTP_GET, "/api/queue", NULL, api_agent_queue, 0, 0},
    {HTTP_POST, "/api/queue/next", NULL, api_agent_next, 0, 0},
    {HTTP_GET, "/api/users/", "", api_console_user, 0, 0},
    {HTTP_POST, "/api/users/", "/surveys", api_surveys_push, 0, 0},
    {HTTP_POST, "/api/users/", "/proactive", api_surveys_proactive, 0, 0},
    {HTTP_GET, "/api/surveys/", "/responses", api_surveys_responses, 0, 0},
    {HTTP_POST, "/api/conversations/", "/sensitive", api_push_sensitive, 0, 0},
    {HTTP_POST, "/api/admin/drain", NULL, api_admin_drain, 0, 0},
    {HTTP_GET, "/api/admin/instance", NULL, api_admin_instance, 0, 0},
    {HTTP_GET, "/api/admin/online/", "", api_admin_online, 0, 0},
};

/* Routes whose body or answer is a file's bytes. */
static const http_file_route files[] = {
    {HTTP_GET, "/api/attachments/", "", api_attachments_get, 0},
    {HTTP_POST, "/api/conversations/", "/attachments", api_attachments_post, 1},
};

const http_route *api_routes(size_t *n)
{
    *n = sizeof table / sizeof table[0];
    return table;
}

const http_file_route *api_file_routes(size_t *n)
{
    *n = sizeof files / sizeof files[0];
    return files;
}
