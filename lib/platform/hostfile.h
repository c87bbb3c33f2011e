/* The host's own files, for attachments (the files it sends, the files it
 * fetches into): the table of util/file.h filled with this OS's calls.
 * Paths are the host's, UTF-8, as it gave them; on Windows they become
 * UTF-16 for the wide-character APIs. */
#ifndef PARLEY_PLATFORM_HOSTFILE_H
#define PARLEY_PLATFORM_HOSTFILE_H

#include "util/alloc.h"
#include "util/file.h"

/* `a` (kept, not copied: it must outlive the table) allocates the UTF-16
 * copies of paths on Windows. */
void pl_hostfile_io(const pl_alloc *a, pl_file_io *io);

#endif
