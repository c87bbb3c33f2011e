/* State shared by the protocol handlers: one per process, reachable from any
 * lws callback through lws_context_user(). Everything runs on the lws service
 * thread. */
#ifndef PARLEY_SERVER_SERVER_H
#define PARLEY_SERVER_SERVER_H

#include <stddef.h>

#include <lws_config.h>
#if !defined(LWS_WITH_MBEDTLS)
#error "parley-server needs libwebsockets built with mbedTLS (scripts/build-lws.sh)"
#endif
#include <libwebsockets.h>

#include "abuse.h"
#include "auth.h"
#include "store.h"

#define SERVER_MAX_TEXT_DEFAULT 4096
/* The client codec rejects longer strings, so a longer text could never be
 * delivered. */
#define SERVER_MAX_TEXT_LIMIT 16384

struct ws_conn;

typedef struct server {
    db *db;
    const char *agent_token;
    auth_cfg auth; /* how identified users prove who they are */
    size_t max_text;
    abuse_cfg abuse;       /* rate limits, connection cap, output queue bound */
    struct cJSON *surveys; /* the --surveys file, validated (survey.c); may be NULL */
    struct flow *flow;     /* the bot's flow (--bot, flow.c) */
    struct kb *kb;         /* the knowledge base (--kb, kb.c) */
    struct ws_conn *conns; /* open parley.v1 connections */
    size_t nconns;
} server;

/* The server of the context `wsi` belongs to (set as the context user). */
static inline server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

#endif
