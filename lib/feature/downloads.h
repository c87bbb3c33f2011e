/* Attachments coming down (docs/protocol.md, "Attachments", "Download"):
 * parley_fetch_attachment asks for a file a window of chunks at a time,
 * checks each chunk's SHA-256 and the whole file's, and writes it to the
 * host's file (through a .part that a later call continues) or hands the
 * chunks over as events. A download cut by a lost connection continues
 * after the next welcome. Plugs into the session as a module. Not
 * thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_DOWNLOADS_H
#define PARLEY_DOWNLOADS_H

#include "session/session.h"
#include "util/file.h"
#include "util/log.h"

#define PL_DOWNLOADS_MAX 8    /* at once */
#define PL_DOWNLOAD_WINDOW 16 /* chunks per att.get */

typedef struct pl_downloads pl_downloads;

/* Registers itself with `sess` (borrowed). NULL when out of memory or the
 * session has no room for another module. */
pl_downloads *pl_downloads_new(const pl_alloc *a, pl_sess *sess, const pl_file_io *files,
                               const pl_log *log);
void pl_downloads_free(pl_downloads *d);

/* parley_fetch_attachment: `dest` NULL for events; see parley.h. */
int pl_downloads_fetch(pl_downloads *d, const char *attachment_id, const char *dest,
                       char req_out[PARLEY_ID_SIZE]);

#endif
