#include "presence.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"

presence_t presence_get(const server *s, const char *agent)
{
    return s->presence && agent ? presence_tab_get(s->presence, agent) : PRES_OFFLINE;
}

/* The agent names first, then the store: the callback may change the
 * table (an agent's presence) while it runs. */
typedef struct names {
    char (*v)[STORE_AGENT_NAME_BUF];
    size_t n, cap;
    int failed;
} names;

static int collect(void *ud, const char *agent, presence_t p)
{
    names *l = ud;

    (void)p;
    if (l->n == l->cap) {
        size_t cap = l->cap ? 2 * l->cap : 16;
        void *v = realloc(l->v, cap * sizeof *l->v);

        if (!v)
            return l->failed = 1;
        l->v = v;
        l->cap = cap;
    }
    snprintf(l->v[l->n++], STORE_AGENT_NAME_BUF, "%s", agent);
    return 0;
}

static int visit(server *s, const char *name, presence_each_fn cb, void *ud, int *stop)
{
    presence_agent a;
    store_agent acc;
    int rc = store_agent_get(s->store, name, &acc);

    if (rc <= 0)
        return rc;
    memset(&a, 0, sizeof a);
    a.name = acc.name;
    a.display_name = acc.display_name;
    a.role = acc.role;
    a.presence = presence_tab_get(s->presence, name);
    a.teams = acc.teams[0] ? acc.teams : "[]";
    a.capacity = acc.capacity;
    if (store_agent_active(s->store, name, &a.active))
        return -1;
    *stop = cb(ud, &a);
    return 0;
}

int presence_each(server *s, presence_each_fn cb, void *ud)
{
    names l = {NULL, 0, 0, 0};
    int stop = 0, rc = 0;
    size_t i;

    if (!s->presence)
        return 0;
    presence_tab_each(s->presence, collect, &l);
    if (l.failed)
        rc = -1;
    for (i = 0; i < l.n && !stop && rc == 0; i++)
        rc = visit(s, l.v[i], cb, ud, &stop) < 0 ? -1 : 0;
    free(l.v);
    return rc;
}
