/* The state every part of the server shares: one per process, set up by
 * main.c and reached from every lws callback (ws.c, http.c). Everything
 * runs on the lws service thread. */
#ifndef PARLEY_SERVER_SERVER_H
#define PARLEY_SERVER_SERVER_H

#include <stddef.h>

#include "abuse.h"
#include "auth.h"

#define SERVER_MAX_TEXT_DEFAULT 4096
/* The client codec rejects longer strings, so a longer text could never be
 * delivered. */
#define SERVER_MAX_TEXT_LIMIT 16384

struct store;
struct flow;
struct kb;
struct rules;
struct waitest;
struct pacer;
struct cJSON;
struct ws_conn;
struct ws_route;
struct http_route;

typedef struct server {
    struct store *store;
    const char *agent_token;
    auth_cfg auth; /* how identified users prove who they are */
    size_t max_text;
    abuse_cfg abuse;       /* rate limits, connection cap, output queue bound */
    struct cJSON *surveys; /* the --surveys file, validated (survey_def.c); may be NULL */
    struct flow *flow;     /* the bot's flow (--bot, flow.c) */
    struct kb *kb;         /* the knowledge base (--kb, kb.c) */
    /* Triage and routing (--routing, docs/routing.md; NULL: the bot flow
     * for everyone, one queue), the wait estimate's handle times per team,
     * and proactive deliveries waiting for their moment. */
    struct rules *routing;
    struct waitest *waits;
    struct pacer *pacer;
    /* What answers each client frame type and each HTTP route: the tables
     * of frame_table.c and api_routes.c, which main.c installs, so that
     * the transports know no handler by name. */
    const struct ws_route *frames;
    size_t nframes;
    const struct http_route *routes;
    size_t nroutes;
    struct ws_conn *conns; /* open parley.v1 connections */
    size_t nconns;
} server;

#endif
