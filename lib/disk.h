/* The client's disk thread: the journal's group commits and compactions
 * run here, so neither the host's thread nor the I/O thread waits for the
 * disk (parley_config_set_durability). Part of the facade. */
#ifndef PARLEY_DISK_H
#define PARLEY_DISK_H

#include "store/journal.h"
#include "util/alloc.h"
#include "util/log.h"

typedef struct pl_disk pl_disk;

/* Starts the thread for `j` and hooks it to the journal
 * (pl_journal_set_notify). After each commit that made more records
 * durable, synced(user) is called on the thread (holding none of the
 * disk's locks). One commit runs at once, for what an earlier process may
 * have left unsynced. `log` is borrowed. Errors: NOMEM, THREAD. */
int pl_disk_start(const pl_alloc *a, pl_journal *j, const pl_log *log, void (*synced)(void *user),
                  void *user, pl_disk **out);

/* Commits what is still unsynced, stops and joins the thread, and unhooks
 * the journal. Not from the thread's callback. NULL is a no-op. */
void pl_disk_stop(pl_disk *d);

#endif
