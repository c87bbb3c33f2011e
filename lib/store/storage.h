/* Adapts host-provided storage (the public parley_storage) to the journal's
 * storage interface. */
#ifndef PARLEY_STORAGE_H
#define PARLEY_STORAGE_H

#include "parley.h"
#include "platform/thread.h"
#include "store/journal.h"

/* The host's functions are called one at a time (parley.h promises it),
 * though the journal calls them from two threads: the caller's and the
 * client's disk thread. */
typedef struct pl_storage_host {
    parley_storage ops;
    void *user;
    pl_mutex lock;
} pl_storage_host;

/* Fills *io with functions that call `host`, which must outlive the
 * journal; pl_storage_host_done() once it has been closed (not after an
 * error: PARLEY_ERR_NOMEM when the OS refuses the lock). */
int pl_storage_host_io(pl_storage_host *host, pl_journal_io *io);
void pl_storage_host_done(pl_storage_host *host);

#endif
