/* Agent presence: offline exactly when no console channel is open (after
 * the grace period), else the chosen status; every change reported once.
 * And what routing reads (presence.h, conv_priority.h): who is available
 * with their role, teams, capacity and load, and a priority set from C. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_priority.h"
#include "presence.h"
#include "presence_tab.h"
#include "store.h"
#include "testlib.h"

typedef struct log {
    char lines[32][64];
    int n;
} log_t;

static void on_change(void *ud, const char *agent, presence_t old, presence_t now)
{
    log_t *l = ud;

    if (l->n < 32)
        snprintf(l->lines[l->n++], 64, "%s %s>%s", agent, presence_name(old), presence_name(now));
}

static int count(void *ud, const char *agent, presence_t p)
{
    (void)agent;
    (void)p;
    ++*(int *)ud;
    return 0;
}

static void test_presence_lifecycle(void)
{
    log_t l = {0};
    presence_tab *t = presence_tab_new(on_change, &l);
    int n = 0;

    CHECK(t != NULL);
    if (!t)
        return;
    CHECK_INT(presence_tab_get(t, "dana"), PRES_OFFLINE);
    /* First channel: the stored choice shows. */
    CHECK_INT(presence_tab_open(t, "dana", PRES_ONLINE, 1000), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_ONLINE);
    /* A second tab changes nothing visible. */
    CHECK_INT(presence_tab_open(t, "dana", PRES_ONLINE, 1100), 0);
    CHECK_INT(presence_tab_channels(t, "dana"), 2);
    CHECK_INT(presence_tab_set_status(t, "dana", PRES_BUSY), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_BUSY);
    presence_tab_closed(t, "dana", 2000);
    CHECK_INT(presence_tab_tick(t, 2000), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_BUSY);
    /* The last channel closes: still busy during the grace ... */
    presence_tab_closed(t, "dana", 3000);
    CHECK_INT(presence_tab_tick(t, 3001), 3000 + PRESENCE_GRACE_MS);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_BUSY);
    /* ... a reload comes back within it: nothing announced ... */
    CHECK_INT(presence_tab_open(t, "dana", PRES_BUSY, 4000), 0);
    CHECK_INT(presence_tab_tick(t, 9000), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_BUSY);
    /* ... then leaves for good: offline once the grace is over. */
    presence_tab_closed(t, "dana", 10000);
    CHECK_INT(presence_tab_tick(t, 10000 + PRESENCE_GRACE_MS - 1), 10000 + PRESENCE_GRACE_MS);
    CHECK_INT(presence_tab_tick(t, 10000 + PRESENCE_GRACE_MS), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_OFFLINE);
    CHECK_INT(l.n, 3);
    CHECK_STR(l.lines[0], "dana offline>online");
    CHECK_STR(l.lines[1], "dana online>busy");
    CHECK_STR(l.lines[2], "dana busy>offline");
    /* Choosing a status while offline is stored, not shown; the next
     * channel shows it. */
    CHECK_INT(presence_tab_set_status(t, "dana", PRES_AWAY), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_OFFLINE);
    CHECK_INT(presence_tab_open(t, "dana", PRES_AWAY, 20000), 0);
    CHECK_INT(presence_tab_get(t, "dana"), PRES_AWAY);
    CHECK_INT(presence_tab_open(t, "sam", PRES_ONLINE, 20000), 0);
    presence_tab_each(t, count, &n);
    CHECK_INT(n, 2);
    /* Offline is not a choice; a close without an open is ignored. */
    CHECK_INT(presence_tab_set_status(t, "dana", PRES_OFFLINE), -1);
    presence_tab_closed(t, "ivy", 1);
    CHECK_INT(presence_tab_get(t, "ivy"), PRES_OFFLINE);
    presence_tab_free(t);
    presence_tab_free(NULL);
}

static void test_presence_names(void)
{
    CHECK_STR(presence_name(PRES_BUSY), "busy");
    CHECK_STR(presence_name(PRES_OFFLINE), "offline");
    CHECK_INT(presence_parse_status("away"), PRES_AWAY);
    CHECK_INT(presence_parse_status("online"), PRES_ONLINE);
    CHECK_INT(presence_parse_status("offline"), -1);
    CHECK_INT(presence_parse_status("Online"), -1);
    CHECK_INT(presence_parse_status(NULL), -1);
}

/* ---- what routing reads ---- */

typedef struct seen {
    char lines[8][160];
    int n;
} seen;

static int note(void *ud, const presence_agent *a)
{
    seen *s = ud;

    if (s->n < 8)
        snprintf(s->lines[s->n++], 160, "%s %s %s %s cap=%lld active=%lld", a->name,
                 presence_name(a->presence), a->role, a->teams, (long long)a->capacity,
                 (long long)a->active);
    return 0;
}

static int stop_at_first(void *ud, const presence_agent *a)
{
    (void)a;
    ++*(int *)ud;
    return 1;
}

/* A server with a store in `dir` and agents dana (admin) and sam (agent);
 * dana holds one conversation, the queue has another. */
static int routing_server(server *srv, const char *dir)
{
    char db[512];
    store_state cs;

    memset(srv, 0, sizeof *srv);
    snprintf(db, sizeof db, "%s/routing.db", dir);
    if (store_open(db, 0, &srv->store))
        return -1;
    srv->presence = presence_tab_new(NULL, NULL);
    CHECK(store_agent_put(srv->store, "dana", "Dana S.", "admin", "x", 1) == 1);
    CHECK(store_agent_put(srv->store, "sam", "Sam", "agent", "x", 1) == 1);
    CHECK_INT(store_user_seen(srv->store, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(srv->store, "c-1", "u-1", "held", NULL, NULL, 2), 0);
    CHECK_INT(store_conv_create(srv->store, "c-2", "u-1", "queued", NULL, NULL, 3), 0);
    CHECK_INT(store_state_get(srv->store, "c-1", &cs), 0);
    snprintf(cs.state, sizeof cs.state, "agent");
    snprintf(cs.agent, sizeof cs.agent, "dana");
    CHECK_INT(store_state_put(srv->store, "c-1", &cs, 4), 0);
    store_state_clear(&cs);
    return srv->presence ? 0 : -1;
}

static void test_routing_reads(void)
{
    char dir[256];
    server srv;
    seen s = {0};
    int n = 0;

    if (tl_mkdtemp(dir, sizeof dir, "presence") || routing_server(&srv, dir)) {
        CHECK(0);
        return;
    }
    /* Nobody has a console open: nobody is available. */
    CHECK_INT(presence_get(&srv, "dana"), PRES_OFFLINE);
    CHECK_INT(presence_each(&srv, note, &s), 0);
    CHECK_INT(s.n, 0);
    /* Dana online holding one, Sam busy holding none; ivy has a channel
     * but no account (deleted meanwhile): not listed. */
    presence_tab_open(srv.presence, "dana", PRES_ONLINE, 10);
    presence_tab_open(srv.presence, "sam", PRES_BUSY, 10);
    presence_tab_open(srv.presence, "ivy", PRES_ONLINE, 10);
    CHECK_INT(presence_get(&srv, "sam"), PRES_BUSY);
    CHECK_INT(presence_get(&srv, "nobody"), PRES_OFFLINE);
    CHECK_INT(presence_each(&srv, note, &s), 0);
    CHECK_INT(s.n, 2);
    CHECK_STR(s.lines[0], "dana online admin [] cap=0 active=1");
    CHECK_STR(s.lines[1], "sam busy agent [] cap=0 active=0");
    CHECK_INT(presence_each(&srv, stop_at_first, &n), 0);
    CHECK_INT(n, 1);

    /* A computed priority: stored with "rules" as who set it, recorded. */
    char prio[8], by[STORE_AGENT_NAME_BUF];
    CHECK_INT(conv_priority_set(&srv, "c-2", "high", "rules"), CONV_PRIORITY_OK);
    CHECK_INT(store_priority_get(srv.store, "c-2", prio, by), 0);
    CHECK_STR(prio, "high");
    CHECK_STR(by, "rules");
    CHECK_INT(conv_priority_set(&srv, "c-2", "high", "dana"), CONV_PRIORITY_OK);
    CHECK_INT(store_priority_get(srv.store, "c-2", prio, by), 0);
    CHECK_STR(by, "rules"); /* the same priority again changes nothing */
    CHECK_INT(conv_priority_set(&srv, "c-2", "soon", "rules"), CONV_PRIORITY_BAD);
    CHECK_INT(conv_priority_set(&srv, "c-9", "low", "rules"), CONV_PRIORITY_UNKNOWN_CONV);
    presence_tab_free(srv.presence);
    store_close(srv.store);
    tl_rmrf(dir);
}

int main(void)
{
    RUN(test_presence_lifecycle);
    RUN(test_presence_names);
    RUN(test_routing_reads);
    return tl_finish();
}
