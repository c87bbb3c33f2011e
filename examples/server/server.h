/* The state every part of the server shares: one per process, set up by
 * main.c and reached from every lws callback (ws.c, http.c). Everything
 * runs on the lws service thread. */
#ifndef PARLEY_SERVER_SERVER_H
#define PARLEY_SERVER_SERVER_H

#include <stddef.h>

#include "abuse.h"
#include "auth.h"
#include "filetypes.h"
#include "presence_tab.h"

#define SERVER_MAX_TEXT_DEFAULT 4096
/* The client codec rejects longer strings, so a longer text could never be
 * delivered. */
#define SERVER_MAX_TEXT_LIMIT 16384
/* Logins whose password check may be under way at once. */
#define SERVER_MAX_WAITING 32

struct store;
struct agents;
struct console;
struct webhook;
struct sla_policy;
struct flow;
struct kb;
struct rules;
struct waitest;
struct pacer;
struct cJSON;
struct ws_conn;
struct agent_conn;
struct ws_route;
struct http_route;
struct http_file_route;
struct blobs;
struct webhook;
struct groupcommit;
struct fanout;

/* Who is asking, for an HTTP request or an agent channel: an agent signed
 * in with a browser session, or the admin API token (docs/agent-console.md,
 * "Browser sessions"). */
typedef struct caller {
    char name[65];     /* the agent's account name, or "api-token" */
    char display[129]; /* the name users see */
    char role[8];      /* "agent", "admin" */
    int via_token;     /* the bearer token, not a browser session */
    char token[65];    /* the browser session's token (CSRF is derived from it) */
    char addr[64];     /* the client's address */
    char query[1024];  /* the URL's arguments, decoded, joined by '&' */
    /* What a route's handler asks the transport to add to its answer. */
    char set_cookie[160];
    long retry_after_s;
    char link[512];    /* a Link header's value: a page's neighbour (the messages route) */
    long long pending; /* nonzero: the answer comes later (http_finish) */
    /* An answer that is not JSON (the CSV export): the body (malloc'd, the
     * transport frees it), its media type and the file name it downloads
     * as; the handler then leaves *out NULL. */
    char *raw;
    size_t raw_len;
    const char *raw_type;
    char filename[64];
} caller;

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
    const struct http_file_route *file_routes;
    size_t nfile_routes;
    struct ws_conn *conns; /* open parley.v1 connections */
    size_t nconns;
    /* Attachments (attach.c): the files on disk under --data-dir, the
     * largest one taken and the types taken. */
    struct blobs *blobs;
    int64_t max_attachment;
    filetypes types;
    /* Push notifications (push.c): the notifier (--push-webhook; NULL:
     * none) and whether they carry a preview of the message. */
    struct webhook *push;
    int push_preview;
    /* The agent workspace (docs/agent-console.md). */
    struct agents *agents;     /* accounts, sessions, logins (agents.c) */
    presence_tab *presence;    /* who is online (agents.c keeps it, presence.h reads it) */
    struct agent_conn *aconns; /* open parley.agent.v1 channels (agent_ws.c) */
    size_t naconns;
    const struct sla_policy *sla; /* --sla; NULL: no clocks */
    struct webhook *webhook;      /* --webhook; may be NULL */
    const char *console_dir;      /* the console's files */
    const char *public_url;       /* for links in webhook texts; may be NULL */
    int tls;                      /* the server speaks https/wss */
    caller *req;                  /* during an HTTP route's handler: who asks */
    /* HTTP requests whose answer comes later (a login's password check on
     * the worker thread): the job and the request's connection. */
    struct {
        long long job;
        void *wsi;
    } waiting[SERVER_MAX_WAITING];
    /* Installed by main.c so the transports reach the services by table,
     * not by name: who a browser session token is (1, 0), the agent channel
     * opening and closing, and the service loop woken by another thread. */
    int (*session_of)(struct server *s, const char *token, caller *out);
    void (*on_agent_open)(struct server *s, struct agent_conn *c);
    void (*on_agent_close)(struct server *s, struct agent_conn *c);
    void (*on_wake)(struct server *s);
    /* For routing (docs/agent-console.md, "Presence"): called after every
     * change of an agent's presence, once the consoles were told; NULL:
     * nobody listens. */
    void (*on_presence)(struct server *s, const char *agent, presence_t old, presence_t now);
    struct ws_conn *held; /* those with frames waiting for a group commit (ws.c) */
    /* Commits the open group of writes now and lets out what waited for it
     * (groupcommit.c); for answers that are not queued frames (HTTP). 0,
     * or -1 when the group was lost (rolled back). */
    int (*commit_now)(struct server *s);
    struct groupcommit *group; /* its timer (groupcommit.c) */
    /* With --redis: the other instances' live frames (fanout.h); NULL:
     * this instance is alone. */
    struct fanout *fanout;
    /* Starts the drain, as SIGTERM does (POST /api/admin/drain); installed
     * by main.c. `draining` is set once it began. */
    void (*request_drain)(struct server *s);
    int draining;
} server;

#endif
