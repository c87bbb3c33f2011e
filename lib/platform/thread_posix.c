#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* SCHED_BATCH */
#endif
#include "platform/thread.h"

#include <pthread.h>
#include <sched.h>

#include "parley.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((pl_mutex *)0)->space), "pl_mutex too small");
_Static_assert(sizeof(pthread_cond_t) <= sizeof(((pl_cond *)0)->space), "pl_cond too small");
_Static_assert(sizeof(pthread_t) <= sizeof(((pl_thread *)0)->os.space), "pl_thread too small");

#define MUTEX(m) ((pthread_mutex_t *)(void *)(m)->space)
#define COND(c) ((pthread_cond_t *)(void *)(c)->space)
#define THREAD(t) ((pthread_t *)(void *)(t)->os.space)

int pl_mutex_init(pl_mutex *m, int recursive)
{
    pthread_mutexattr_t ma;
    if (pthread_mutexattr_init(&ma) != 0)
        return PARLEY_ERR_NOMEM;
    if (recursive)
        pthread_mutexattr_settype(&ma, PTHREAD_MUTEX_RECURSIVE);
    int rc = pthread_mutex_init(MUTEX(m), &ma);
    pthread_mutexattr_destroy(&ma);
    return rc == 0 ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

void pl_mutex_destroy(pl_mutex *m)
{
    pthread_mutex_destroy(MUTEX(m));
}

void pl_mutex_lock(pl_mutex *m)
{
    pthread_mutex_lock(MUTEX(m));
}

void pl_mutex_unlock(pl_mutex *m)
{
    pthread_mutex_unlock(MUTEX(m));
}

int pl_cond_init(pl_cond *c)
{
    return pthread_cond_init(COND(c), NULL) == 0 ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

void pl_cond_destroy(pl_cond *c)
{
    pthread_cond_destroy(COND(c));
}

void pl_cond_wait(pl_cond *c, pl_mutex *m)
{
    pthread_cond_wait(COND(c), MUTEX(m));
}

void pl_cond_signal(pl_cond *c)
{
    pthread_cond_signal(COND(c));
}

static void *trampoline(void *arg)
{
    pl_thread *t = arg;
    t->fn(t->arg);
    return NULL;
}

int pl_thread_start(pl_thread *t, void (*fn)(void *arg), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    return pthread_create(THREAD(t), NULL, trampoline, t) == 0 ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

void pl_thread_join(pl_thread *t)
{
    pthread_join(*THREAD(t), NULL);
}

void pl_thread_detach(pl_thread *t)
{
    pthread_detach(*THREAD(t));
}

void pl_thread_yield_to_host(void)
{
#if defined(SCHED_BATCH)
    struct sched_param sp = {.sched_priority = 0};
    pthread_setschedparam(pthread_self(), SCHED_BATCH, &sp);
#endif
}
