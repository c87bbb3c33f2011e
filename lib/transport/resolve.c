/* Name resolution on a helper thread (resolve.h).
 *
 * A lookup is shared by the transport and its thread and freed by whichever
 * lets go of it last: a resolver stuck for the system's whole timeout
 * (tens of seconds with an unreachable DNS server) must not hold up
 * pl_transport_free(), so the thread is detached and the transport only
 * abandons the lookup. `done` is called under the lookup's lock, and
 * abandoning takes that lock, so no callback reaches a transport that has
 * gone. The OS calls are in the three functions at the top. */
#include "transport/resolve.h"

#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <arpa/inet.h>

#include "parley.h"

struct pl_lookup {
    pl_alloc alloc;
    pthread_mutex_t lock;
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
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_INET;
    hints.ai_socktype = SOCK_STREAM;
    int rc = getaddrinfo(host, NULL, &hints, &res);
    if (rc != 0) {
        snprintf(why, size, "cannot resolve %.120s: %s", host, gai_strerror(rc));
        return PARLEY_ERR_CONNECT;
    }
    int n = 0;
    for (const struct addrinfo *ai = res; ai && n < max; ai = ai->ai_next) {
        const struct sockaddr_in *sin = (const struct sockaddr_in *)(const void *)ai->ai_addr;
        if (ai->ai_family == AF_INET &&
            inet_ntop(AF_INET, &sin->sin_addr, out[n], PL_RESOLVE_ADDR_MAX))
            n++;
    }
    freeaddrinfo(res);
    if (!n)
        snprintf(why, size, "cannot resolve %.120s: no IPv4 address", host);
    return n ? n : PARLEY_ERR_CONNECT;
}

int pl_resolve_is_numeric(const char *host)
{
    unsigned char buf[sizeof(struct in6_addr)];
    return inet_pton(AF_INET, host, buf) == 1 || inet_pton(AF_INET6, host, buf) == 1;
}

static void *lookup_thread(void *arg);

/* A detached thread: nobody waits for a lookup that may never end. */
static int spawn_detached(pl_lookup *l)
{
    pthread_attr_t attr;
    pthread_t th;
    if (pthread_attr_init(&attr) != 0)
        return PARLEY_ERR_THREAD;
    pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&th, &attr, lookup_thread, l);
    pthread_attr_destroy(&attr);
    return rc == 0 ? PARLEY_OK : PARLEY_ERR_THREAD;
}

/* ---- the lookup ------------------------------------------------------------- */

static void lookup_free(pl_lookup *l)
{
    pthread_mutex_destroy(&l->lock);
    pl_alloc a = l->alloc;
    pl_free(&a, l->host);
    pl_free(&a, l);
}

static void *lookup_thread(void *arg)
{
    pl_lookup *l = arg;
    char addr[PL_RESOLVE_MAX][PL_RESOLVE_ADDR_MAX], why[PL_RESOLVE_WHY] = "";
    int n = l->fn(l->fn_user, l->host, addr, PL_RESOLVE_MAX, why, sizeof why);
    if (n > PL_RESOLVE_MAX)
        n = PL_RESOLVE_MAX;
    pthread_mutex_lock(&l->lock);
    l->count = n;
    if (n > 0)
        memcpy(l->addr, addr, (size_t)n * sizeof addr[0]);
    memcpy(l->why, why, sizeof why);
    l->finished = 1;
    int gone = l->abandoned;
    if (!gone)
        l->done(l->user);
    pthread_mutex_unlock(&l->lock);
    if (gone)
        lookup_free(l);
    return NULL;
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
    pthread_mutex_init(&l->lock, NULL);
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
    pthread_mutex_lock(&l->lock);
    int fin = l->finished;
    if (fin) {
        *count = l->count;
        if (l->count > 0)
            memcpy(out, l->addr, (size_t)l->count * sizeof l->addr[0]);
        memcpy(why, l->why, PL_RESOLVE_WHY);
    }
    pthread_mutex_unlock(&l->lock);
    return fin;
}

void pl_lookup_abandon(pl_lookup *l)
{
    if (!l)
        return;
    pthread_mutex_lock(&l->lock);
    int fin = l->finished;
    l->abandoned = 1;
    pthread_mutex_unlock(&l->lock);
    if (fin)
        lookup_free(l);
}
