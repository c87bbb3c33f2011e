#include "platform/thread.h"

#include <pthread.h>

#include "parley.h"

_Static_assert(sizeof(pthread_mutex_t) <= sizeof(((pl_mutex *)0)->space), "pl_mutex too small");
_Static_assert(sizeof(pthread_t) <= sizeof(((pl_thread *)0)->os.space), "pl_thread too small");

#define MUTEX(m) ((pthread_mutex_t *)(void *)(m)->space)
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
