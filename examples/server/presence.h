/* Who can take work now (docs/agent-console.md, "Presence"), for routing:
 * an agent's presence, and every agent with a console open together with
 * what routing weighs (role, teams, capacity, the conversations held).
 * Changes arrive through the server's on_presence hook (server.h). Reads
 * the presence table in memory and the accounts in the store; writes
 * nothing. */
#ifndef PARLEY_SERVER_PRESENCE_H
#define PARLEY_SERVER_PRESENCE_H

#include <stdint.h>

#include "presence_tab.h"
#include "server.h"

/* An agent as routing sees it; strings live until the callback returns. */
typedef struct presence_agent {
    const char *name, *display_name, *role;
    presence_t presence;
    const char *teams; /* JSON array text, "[]" for none */
    int64_t capacity;  /* the most conversations to hold at once, 0: no limit */
    int64_t active;    /* conversations held now (state agent) */
} presence_agent;

/* The agent's presence now (PRES_OFFLINE for an unknown name). */
presence_t presence_get(const server *s, const char *agent);

/* Calls cb for every agent who is not offline (a console open, or within
 * the grace after the last one closed) and has an account; stops when cb
 * returns nonzero. 0, or -1 on a database error. */
typedef int (*presence_each_fn)(void *ud, const presence_agent *a);
int presence_each(server *s, presence_each_fn cb, void *ud);

#endif
