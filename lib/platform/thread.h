/* Threads and locks. The objects live inside the library's own structs (no
 * allocation, no OS header here): their storage is sized for every
 * implementation, which checks that it fits. A mutex or thread must not be
 * moved or copied once initialised. */
#ifndef PARLEY_PLATFORM_THREAD_H
#define PARLEY_PLATFORM_THREAD_H

typedef union pl_mutex {
    void *align_ptr;
    long long align_ll;
    double align_d;
    unsigned char space[72]; /* pthread_mutex_t: 40 (glibc, bionic), 64 (Apple); Win32: 48 */
} pl_mutex;

/* A recursive mutex may be locked again by the thread that holds it.
 * PARLEY_OK, or PARLEY_ERR_NOMEM when the OS refuses. */
int pl_mutex_init(pl_mutex *m, int recursive);
void pl_mutex_destroy(pl_mutex *m);
void pl_mutex_lock(pl_mutex *m);
void pl_mutex_unlock(pl_mutex *m);

/* A condition variable, used with a plain (not recursive) pl_mutex. */
typedef union pl_cond {
    void *align_ptr;
    long long align_ll;
    unsigned char space[64]; /* pthread_cond_t: 48 (glibc, Apple); Win32: a pointer */
} pl_cond;

/* PARLEY_OK, or PARLEY_ERR_NOMEM when the OS refuses. */
int pl_cond_init(pl_cond *c);
void pl_cond_destroy(pl_cond *c);
/* Releases `m` (held, plain), waits for a signal and takes `m` again. It
 * may also return without one: the caller waits in a loop on its own
 * condition. */
void pl_cond_wait(pl_cond *c, pl_mutex *m);
void pl_cond_signal(pl_cond *c); /* wakes one waiter, if any */

typedef struct pl_thread {
    void (*fn)(void *arg);
    void *arg;
    union {
        void *align_ptr;
        unsigned long long align_ull;
        unsigned char space[16];
    } os;
} pl_thread;

/* Runs fn(arg) on a new thread; PARLEY_OK or PARLEY_ERR_NOMEM. */
int pl_thread_start(pl_thread *t, void (*fn)(void *arg), void *arg);
/* The calling thread stops preempting the threads it wakes up beside: on
 * Linux (and Android) it becomes SCHED_BATCH, which keeps its priority and
 * share of the CPU but, when woken, waits for a free CPU or the running
 * thread's turn instead of interrupting it. For the library's own threads,
 * so that waking them from a host's call (a send waking the I/O thread)
 * does not stall the host's thread for their work. Elsewhere it does
 * nothing. */
void pl_thread_yield_to_host(void);
/* Waits for the thread to end. */
void pl_thread_join(pl_thread *t);
/* Nobody will join the thread: its resources go when it ends. Once, right
 * after pl_thread_start, instead of pl_thread_join; `t` must stay valid
 * until fn has started (the thread reads it first). */
void pl_thread_detach(pl_thread *t);

#endif
