#include "groupcommit.h"

#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "agent_ws.h"
#include "fanout.h"
#include "store.h"
#include "ws.h"

struct groupcommit {
    lws_sorted_usec_list_t sul;
    struct lws_context *ctx;
    server *srv;
    int due; /* the timer is set */
};

static int commit_now(server *srv)
{
    struct groupcommit *g = srv->group;
    int ok;

    if (g->due) {
        lws_sul_cancel(&g->sul);
        g->due = 0;
    }
    if (!store_group_pending(srv->store))
        return 0;
    ok = store_group_commit(srv->store) == 0;
    ws_group_done(srv, ok);
    agent_ws_group_done(srv, ok);
    fanout_group_done(srv, ok);
    return ok ? 0 : -1;
}

static void on_due(lws_sorted_usec_list_t *sul)
{
    struct groupcommit *g = lws_container_of(sul, struct groupcommit, sul);

    g->due = 0;
    commit_now(g->srv);
}

/* A timer of 0 fires on the loop's next turn, after the events of this one
 * have been handled: those are the group. */
static void on_open(void *ud)
{
    struct groupcommit *g = ud;

    if (g->due)
        return;
    g->due = 1;
    lws_sul_schedule(g->ctx, 0, &g->sul, on_due, 0);
}

int groupcommit_start(server *srv, struct lws_context *ctx)
{
    struct groupcommit *g = calloc(1, sizeof *g);

    if (!g)
        return -1;
    g->ctx = ctx;
    g->srv = srv;
    srv->group = g;
    srv->commit_now = commit_now;
    store_grouping(srv->store, on_open, g);
    return 0;
}

void groupcommit_stop(server *srv)
{
    if (!srv->group)
        return;
    commit_now(srv);
    store_grouping(srv->store, NULL, NULL);
    free(srv->group);
    srv->group = NULL;
    srv->commit_now = NULL;
}
