/* Threads and locks on Windows: an SRWLOCK for a plain mutex (no kernel
 * object, nothing to destroy), a CRITICAL_SECTION for a recursive one
 * (SRW locks cannot be taken twice by one thread), a CONDITION_VARIABLE
 * waited on with the lock's own kind, CreateThread. */
#include "platform/thread.h"

#include <stddef.h>
#include <windows.h>

#include "parley.h"

typedef struct win_mutex {
    int recursive;
    union {
        SRWLOCK srw;
        CRITICAL_SECTION cs;
    } u;
} win_mutex;

_Static_assert(sizeof(win_mutex) <= sizeof(((pl_mutex *)0)->space), "pl_mutex too small");
_Static_assert(sizeof(CONDITION_VARIABLE) <= sizeof(((pl_cond *)0)->space), "pl_cond too small");
_Static_assert(sizeof(HANDLE) <= sizeof(((pl_thread *)0)->os.space), "pl_thread too small");

#define MUTEX(m) ((win_mutex *)(void *)(m)->space)
#define COND(c) ((CONDITION_VARIABLE *)(void *)(c)->space)
#define THREAD(t) ((HANDLE *)(void *)(t)->os.space)

int pl_mutex_init(pl_mutex *m, int recursive)
{
    win_mutex *w = MUTEX(m);
    w->recursive = recursive;
    if (recursive)
        InitializeCriticalSection(&w->u.cs);
    else
        InitializeSRWLock(&w->u.srw);
    return PARLEY_OK;
}

void pl_mutex_destroy(pl_mutex *m)
{
    if (MUTEX(m)->recursive)
        DeleteCriticalSection(&MUTEX(m)->u.cs);
}

void pl_mutex_lock(pl_mutex *m)
{
    win_mutex *w = MUTEX(m);
    if (w->recursive)
        EnterCriticalSection(&w->u.cs);
    else
        AcquireSRWLockExclusive(&w->u.srw);
}

void pl_mutex_unlock(pl_mutex *m)
{
    win_mutex *w = MUTEX(m);
    if (w->recursive)
        LeaveCriticalSection(&w->u.cs);
    else
        ReleaseSRWLockExclusive(&w->u.srw);
}

int pl_cond_init(pl_cond *c)
{
    InitializeConditionVariable(COND(c));
    return PARLEY_OK;
}

void pl_cond_destroy(pl_cond *c)
{
    (void)c; /* nothing to free */
}

void pl_cond_wait(pl_cond *c, pl_mutex *m)
{
    win_mutex *w = MUTEX(m);
    if (w->recursive)
        SleepConditionVariableCS(COND(c), &w->u.cs, INFINITE);
    else
        SleepConditionVariableSRW(COND(c), &w->u.srw, INFINITE, 0);
}

void pl_cond_signal(pl_cond *c)
{
    WakeConditionVariable(COND(c));
}

static DWORD WINAPI trampoline(LPVOID arg)
{
    pl_thread *t = arg;
    t->fn(t->arg);
    return 0;
}

int pl_thread_start(pl_thread *t, void (*fn)(void *arg), void *arg)
{
    t->fn = fn;
    t->arg = arg;
    *THREAD(t) = CreateThread(NULL, 0, trampoline, t, 0, NULL);
    return *THREAD(t) ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

void pl_thread_join(pl_thread *t)
{
    WaitForSingleObject(*THREAD(t), INFINITE);
    CloseHandle(*THREAD(t));
}

void pl_thread_detach(pl_thread *t)
{
    CloseHandle(*THREAD(t));
}

/* Windows has no such policy; a lower priority would starve the thread. */
void pl_thread_yield_to_host(void)
{
}
