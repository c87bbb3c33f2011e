/* Threads and locks on Windows: an SRWLOCK for a plain mutex (no kernel
 * object, nothing to destroy), a CRITICAL_SECTION for a recursive one
 * (SRW locks cannot be taken twice by one thread), CreateThread. */
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
_Static_assert(sizeof(HANDLE) <= sizeof(((pl_thread *)0)->os.space), "pl_thread too small");

#define MUTEX(m) ((win_mutex *)(void *)(m)->space)
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
