/* The disk thread (disk.h). It sleeps on a condition variable until the
 * journal asks for something (a record written without a sync, or a
 * compaction due) and then does it: one fsync covers everything written
 * up to its start, and whatever is written while it runs is covered by the
 * next (a group commit). Idle, it never wakes. */
#include "disk.h"

#include <pthread.h>

#include "parley.h"

struct pl_disk {
    pl_alloc alloc;
    pl_journal *j;
    const pl_log *log;
    void (*synced)(void *user);
    void *user;
    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t cond;
    int want; /* PL_JOURNAL_WANT_* not yet done */
    int stop;
};

/* Under the journal's writers' locks: only records the request. */
static void on_notify(void *user, int what)
{
    pl_disk *d = user;
    pthread_mutex_lock(&d->mu);
    d->want |= what;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->mu);
}

/* The next request, or 0 once stopped with nothing left to do. */
static int next_request(pl_disk *d)
{
    pthread_mutex_lock(&d->mu);
    while (!d->want && !d->stop)
        pthread_cond_wait(&d->cond, &d->mu);
    int want = d->want;
    d->want = 0;
    pthread_mutex_unlock(&d->mu);
    return want;
}

static void commit(pl_disk *d)
{
    uint64_t before = pl_journal_synced(d->j);
    if (pl_journal_written(d->j) <= before)
        return;
    if (pl_journal_commit(d->j) != PARLEY_OK) {
        PL_LOG_E(d->log, "journal: sync failed; retried with the next write");
        return;
    }
    if (pl_journal_synced(d->j) > before && d->synced)
        d->synced(d->user);
}

static void *disk_thread(void *arg)
{
    pl_disk *d = arg;
    int want;
    while ((want = next_request(d)) != 0) {
        /* A compaction leaves everything before it synced: commit after. */
        if ((want & PL_JOURNAL_WANT_COMPACT) && pl_journal_compact_background(d->j) == PARLEY_OK &&
            d->synced)
            d->synced(d->user);
        commit(d);
    }
    return NULL;
}

static int spawn(pl_disk *d)
{
    return pthread_create(&d->thread, NULL, disk_thread, d) == 0 ? PARLEY_OK : PARLEY_ERR_THREAD;
}

int pl_disk_start(const pl_alloc *a, pl_journal *j, const pl_log *log, void (*synced)(void *user),
                  void *user, pl_disk **out)
{
    *out = NULL;
    pl_disk *d = pl_calloc(a, 1, sizeof *d);
    if (!d)
        return PARLEY_ERR_NOMEM;
    *d = (pl_disk){.alloc = *a, .j = j, .log = log, .synced = synced, .user = user};
    pthread_mutex_init(&d->mu, NULL);
    pthread_cond_init(&d->cond, NULL);
    d->want = PL_JOURNAL_WANT_SYNC; /* what a killed process left behind */
    int rc = spawn(d);
    if (rc != PARLEY_OK) {
        pthread_cond_destroy(&d->cond);
        pthread_mutex_destroy(&d->mu);
        pl_free(a, d);
        return rc;
    }
    pl_journal_set_notify(j, on_notify, d);
    *out = d;
    return PARLEY_OK;
}

void pl_disk_stop(pl_disk *d)
{
    if (!d)
        return;
    pthread_mutex_lock(&d->mu);
    d->stop = 1;
    d->want |= PL_JOURNAL_WANT_SYNC;
    pthread_cond_signal(&d->cond);
    pthread_mutex_unlock(&d->mu);
    pthread_join(d->thread, NULL);
    pl_journal_set_notify(d->j, NULL, NULL);
    pthread_cond_destroy(&d->cond);
    pthread_mutex_destroy(&d->mu);
    pl_alloc a = d->alloc;
    pl_free(&a, d);
}
