/* Agent presence (docs/agent-console.md, "Presence"): online, busy, away or
 * offline. An agent is offline exactly when no console channel of theirs
 * is open, after a grace period (a page reload must not look like leaving);
 * otherwise their chosen status. In memory, driven by the service loop with
 * the time as an argument; the chosen status itself is stored with the
 * account. Routing (issue 13) reads it through presence_get/presence_each
 * and hears every change through the change callback. */
#ifndef PARLEY_SERVER_PRESENCE_TAB_H
#define PARLEY_SERVER_PRESENCE_TAB_H

#include <stddef.h>
#include <stdint.h>

typedef enum presence_t { PRES_OFFLINE, PRES_ONLINE, PRES_BUSY, PRES_AWAY } presence_t;

#define PRESENCE_GRACE_MS 5000

typedef struct presence_tab presence_tab;

/* Called for every change of an agent's presence, old and new. */
typedef void (*presence_change_fn)(void *ud, const char *agent, presence_t old, presence_t now);

presence_tab *presence_tab_new(presence_change_fn on_change, void *ud);
void presence_tab_free(presence_tab *t);

/* "online", "busy", "away", "offline". */
const char *presence_name(presence_t p);
/* The status an agent may choose: PRES_ONLINE, PRES_BUSY or PRES_AWAY for
 * "online", "busy", "away"; -1 otherwise (offline is not a choice). */
int presence_parse_status(const char *s);

/* A channel of `agent` opened; `status` is the agent's stored choice. 0, or
 * -1 when out of memory. */
int presence_tab_open(presence_tab *t, const char *agent, presence_t status, int64_t now_ms);
/* A channel of `agent` closed; the last one starts the grace period. */
void presence_tab_closed(presence_tab *t, const char *agent, int64_t now_ms);
/* The agent chose a status (stored by the caller). 0 or -1 (memory). */
int presence_tab_set_status(presence_tab *t, const char *agent, presence_t status);
/* Ends the grace periods that are over (agents become offline). Returns
 * when it should be called next (ms since the epoch), or 0 when no grace
 * period runs. */
int64_t presence_tab_tick(presence_tab *t, int64_t now_ms);

/* The agent's presence now. */
presence_t presence_tab_get(const presence_tab *t, const char *agent);
/* Open channels of the agent. */
int presence_tab_channels(const presence_tab *t, const char *agent);
/* Every agent that is not offline; stops when cb returns nonzero. */
typedef int (*presence_tab_each_fn)(void *ud, const char *agent, presence_t p);
void presence_tab_each(const presence_tab *t, presence_tab_each_fn cb, void *ud);

#endif
