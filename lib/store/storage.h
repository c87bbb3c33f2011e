/* Adapts host-provided storage (the public parley_storage) to the journal's
 * storage interface. */
#ifndef PARLEY_STORAGE_H
#define PARLEY_STORAGE_H

#include "store/journal.h"
#include "parley.h"

typedef struct pl_storage_host {
    parley_storage ops;
    void *user;
} pl_storage_host;

/* Fills *io with functions that call `host`, which must outlive the journal. */
void pl_storage_host_io(pl_storage_host *host, pl_journal_io *io);

#endif
