/* Name resolution on a helper thread (resolve.h).
 *
 * A lookup is shared by the transport and its thread and freed by whichever
 * lets go of it last: a resolver stuck for the system's whole timeout
 * (tens of seconds with an unreachable DNS server) must not hold up
 * pl_transport_free(), so the thread is detached and the transport only
 * abandons the lookup. `done` is called under the lookup's lock, and
 * abandoning takes that lock, so no callback reaches a transport that has
 * gone. */
#include "transport/resolve.h"

#include <string.h>

#include "parley.h"
#include "platform/net.h"
#include "platform/thread.h"

struct pl_lookup {
    pl_alloc alloc;
    pl_mutex lock;
    pl_thread thread;
    char *host;
    pl_resolve_fn fn;
    void *fn_user;
    void (*done)(void *user); /* NULL once abandoned */
    void *user;
    int finished, abandoned;
    int count; /* addresses, or a negative error */
    char addr[PL_RESOLVE_MAX][PL_RESOLVE_ADDR_MAX];
    char why[PL_RESOLVE_WHY];
};

/* ---- the system's resolver and the thread --------------------------------- */

int pl_resolve_system(void *user, const char *host, char (*out)[PL_RESOLVE_ADDR_MAX], int max,
                      char *why, size_t size)
{
    (void)user;
    return pl_net_resolve_ipv4(host, out, max, why, size);
}

int pl_resolve_is_numeric(const char *host)
{
    return pl_net_is_numeric(host);
}

static void lookup_thread(void *arg);

/* A detached thread: nobody waits for a lookup that may never end. */
static int spawn_detached(pl_lookup *l)
{
    if (pl_thread_start(&l->thread, lookup_thread, l) != PARLEY_OK)
        return PARLEY_ERR_THREAD;
    pl_thread_detach(&l->thread);
    return PARLEY_OK;
}

/* ---- the lookup ------------------------------------------------------------- */

static void lookup_free(pl_lookup *l)
{
    pl_mutex_destroy(&l->lock);
    pl_alloc a = l->alloc;
    pl_free(&a, l->host);
    pl_free(&a, l);
}

static void lookup_thread(void *arg)
{
    pl_lookup *l = arg;
    char addr[PL_RESOLVE_MAX][PL_RESOLVE_ADDR_MAX], why[PL_RESOLVE_WHY] = "";
    int n = l->fn(l->fn_user, l->host, addr, PL_RESOLVE_MAX, why, sizeof why);
    if (n > PL_RESOLVE_MAX)
        n = PL_RESOLVE_MAX;
    pl_mutex_lock(&l->lock);
    l->count = n;
    if (n > 0)
        memcpy(l->addr, addr, (size_t)n * sizeof addr[0]);
    memcpy(l->why, why, sizeof why);
    l->finished = 1;
    int gone = l->abandoned;
    if (!gone)
        l->done(l->user);
    pl_mutex_unlock(&l->lock);
    if (gone)
        lookup_free(l);
}

int pl_lookup_start(const pl_alloc *a, const char *host, pl_resolve_fn fn, void *fn_user,
                    void (*done)(void *user), void *user, pl_lookup **out)
{
    *out = NULL;
    pl_lookup *l = pl_calloc(a, 1, sizeof *l);
    if (!l)
        return PARLEY_ERR_NOMEM;
    l->alloc = *a;
    if (!(l->host = pl_strdup(a, host))) {
        pl_free(a, l);
        return PARLEY_ERR_NOMEM;
    }
    if (pl_mutex_init(&l->lock, 0) != PARLEY_OK) {
        pl_free(a, l->host);
        pl_free(a, l);
        return PARLEY_ERR_NOMEM;
    }
    l->fn = fn ? fn : pl_resolve_system;
    l->fn_user = fn_user;
    l->done = done;
    l->user = user;
    int rc = spawn_detached(l);
    if (rc != PARLEY_OK) {
        lookup_free(l);
        return rc;
    }
    *out = l;
    return PARLEY_OK;
}

int pl_lookup_finished(pl_lookup *l, int *count, char (*out)[PL_RESOLVE_ADDR_MAX],
                       char why[PL_RESOLVE_WHY])
{
    pl_mutex_lock(&l->lock);
    int fin = l->finished;
    if (fin) {
        *count = l->count;
        if (l->count > 0)
            memcpy(out, l->addr, (size_t)l->count * sizeof l->addr[0]);
        memcpy(why, l->why, PL_RESOLVE_WHY);
    }
    pl_mutex_unlock(&l->lock);
    return fin;
}

void pl_lookup_abandon(pl_lookup *l)
{
    if (!l)
        return;
    pl_mutex_lock(&l->lock);
    int fin = l->finished;
    l->abandoned = 1;
    pl_mutex_unlock(&l->lock);
    if (fin)
        lookup_free(l);
}
