/* Agent accounts, browser sessions, logins and presence (docs/agent-console.md):
 * the password checks run on a worker thread and are answered when the
 * service loop is woken; the failure budgets per name and address; who a
 * session cookie is; what every console learns when an agent's presence
 * changes. */
#ifndef PARLEY_SERVER_AGENTS_H
#define PARLEY_SERVER_AGENTS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "presence_tab.h"
#include "server.h"

/* Starts the password worker; `wake` (lws_cancel_service) brings the
 * service loop round when a check is done; `on_presence` hears every
 * presence change. 0 or -1. */
int agents_init(server *s, void (*wake)(void *ud), void *wake_ud, presence_change_fn on_presence,
                void *presence_ud);
void agents_free(server *s);

/* s->session_of: 1 with the caller filled when `token` is a live session
 * (and touches it), 0 otherwise. */
int agents_session_of(server *s, const char *token, caller *out);
/* s->on_wake: answers the logins whose check is done. */
void agents_poll(server *s);
/* How often the open channels' sessions are checked again (agents_tick). */
#define AGENTS_CHANNEL_CHECK_MS 5000

/* Ends grace periods (presence) and, every AGENTS_CHANNEL_CHECK_MS, the
 * channels whose session has ended; when to call again (0: no need). */
int64_t agents_tick(server *s, int64_t now);

/* POST /api/login's work: answers later (s->req->pending) or now. */
unsigned agents_login(server *s, const char *name, const char *password, cJSON **out);
/* Ends the caller's session. */
unsigned agents_logout(server *s, cJSON **out);
/* {"agent":{...},"csrf"?,"via"} for the caller. */
unsigned agents_me(server *s, cJSON **out);
/* The caller chooses a status ("online", "busy", "away"). */
unsigned agents_presence_set(server *s, const char *status, cJSON **out);

/* An agent as the API shows it: {"name","display_name","role","presence",
 * "teams","capacity","active"}; NULL for an unknown agent. */
cJSON *agents_json(server *s, const char *name);
/* Every agent. */
cJSON *agents_list(server *s);
/* The display name of an account (the name itself when unknown). */
void agents_display_name(server *s, const char *name, char *out, size_t cap);
/* 1 when `name` is an agent account. */
int agents_exists(server *s, const char *name);

/* A console channel opened or closed (presence, the hello frame). */
void agents_channel_open(server *s, struct agent_conn *c);
void agents_channel_closed(server *s, struct agent_conn *c);

/* --add-agent: adds or resets an account in the database at `db`. 0, or
 * the exit status (2 bad argument, 1 database error) with the reason on
 * stderr. */
int agents_add_cli(const char *db, const char *name, const char *role, const char *display,
                   const char *password);

#endif
