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
/* Waits for the thread to end. */
void pl_thread_join(pl_thread *t);

#endif
