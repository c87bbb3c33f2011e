/* Adapts host-provided storage (the public parley_storage) to the journal's
 * storage interface. */
#ifndef PARLEY_STORAGE_H
#define PARLEY_STORAGE_H

#include "journal.h"
#include "parley.h"

typedef struct pstorage_host {
    parley_storage ops;
    void *user;
} pstorage_host;

/* Fills *io with functions that call `host`, which must outlive the journal. */
void pstorage_host_io(pstorage_host *host, pjournal_io *io);

#endif
