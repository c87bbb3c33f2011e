/* The disk thread (disk.h). It sleeps on a condition variable until the
 * journal asks for something (a record written without a sync, or a
 * compaction due) and then does it: one fsync covers everything written
 * up to its start, and whatever is written while it runs is covered by the
 * next (a group commit). Idle, it never wakes. */
#include "disk.h"

#include "parley.h"
#include "platform/thread.h"

struct pl_disk {
    pl_alloc alloc;
    pl_journal *j;
    const pl_log *log;
    void (*synced)(void *user);
    void *user;
    pl_thread thread;
    pl_mutex mu;
    pl_cond cond;
    int want; /* PL_JOURNAL_WANT_* not yet done */
    int stop;
};

/* Under the journal's writers' locks: only records the request. */
static void on_notify(void *user, int what)
{
    pl_disk *d = user;
    pl_mutex_lock(&d->mu);
    d->want |= what;
    pl_cond_signal(&d->cond);
    pl_mutex_unlock(&d->mu);
}

/* The next request, or 0 once stopped with nothing left to do. */
static int next_request(pl_disk *d)
{
    pl_mutex_lock(&d->mu);
    while (!d->want && !d->stop)
        pl_cond_wait(&d->cond, &d->mu);
    int want = d->want;
    d->want = 0;
    pl_mutex_unlock(&d->mu);
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

static void disk_thread(void *arg)
{
    pl_disk *d = arg;
    int want;
    pl_thread_yield_to_host();
    while ((want = next_request(d)) != 0) {
        /* A compaction leaves everything before it synced: commit after. */
        if ((want & PL_JOURNAL_WANT_COMPACT) && pl_journal_compact_background(d->j) == PARLEY_OK &&
            d->synced)
            d->synced(d->user);
        commit(d);
    }
}

/* The lock, the condition and the thread, or none of them. */
static int spawn(pl_disk *d)
{
    if (pl_mutex_init(&d->mu, 0) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    if (pl_cond_init(&d->cond) != PARLEY_OK) {
        pl_mutex_destroy(&d->mu);
        return PARLEY_ERR_NOMEM;
    }
    if (pl_thread_start(&d->thread, disk_thread, d) != PARLEY_OK) {
        pl_cond_destroy(&d->cond);
        pl_mutex_destroy(&d->mu);
        return PARLEY_ERR_THREAD;
    }
    return PARLEY_OK;
}

int pl_disk_start(const pl_alloc *a, pl_journal *j, const pl_log *log, void (*synced)(void *user),
                  void *user, pl_disk **out)
{
    *out = NULL;
    pl_disk *d = pl_calloc(a, 1, sizeof *d);
    if (!d)
        return PARLEY_ERR_NOMEM;
    *d = (pl_disk){.alloc = *a, .j = j, .log = log, .synced = synced, .user = user};
    d->want = PL_JOURNAL_WANT_SYNC; /* what a killed process left behind */
    int rc = spawn(d);
    if (rc != PARLEY_OK) {
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
    pl_mutex_lock(&d->mu);
    d->stop = 1;
    d->want |= PL_JOURNAL_WANT_SYNC;
    pl_cond_signal(&d->cond);
    pl_mutex_unlock(&d->mu);
    pl_thread_join(&d->thread);
    pl_journal_set_notify(d->j, NULL, NULL);
    pl_cond_destroy(&d->cond);
    pl_mutex_destroy(&d->mu);
    pl_alloc a = d->alloc;
    pl_free(&a, d);
}
