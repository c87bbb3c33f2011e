/* Attachments going up (docs/protocol.md, "Attachments"): a file or the
 * host's bytes become a msg.send held in the durable outbox, uploaded in
 * chunks after every welcome from where the server's copy ends, and
 * released once the server has the whole file. Plugs into the session as
 * a module. Not thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_UPLOADS_H
#define PARLEY_UPLOADS_H

#include <stdint.h>

#include "model/attachment.h"
#include "session/session.h"
#include "store/journal.h"
#include "util/file.h"
#include "util/log.h"

/* Journal namespace: "u/<cid>" per upload (the file's reference), "cap"
 * the largest attachment the last server announced. */
#define PL_UPLOADS_NS 8
/* Chunks in flight, unacknowledged, per upload. */
#define PL_UPLOAD_WINDOW 8
/* Uploads waiting at once. */
#define PL_UPLOADS_MAX 64

typedef struct pl_uploads pl_uploads;

typedef struct pl_uploads_config {
    pl_journal *journal;        /* NULL: memory only */
    const pl_journal_io *spool; /* where the host's bytes are kept; NULL: memory */
    pl_file_io files;           /* the host's files */
} pl_uploads_config;

/* Registers itself with `sess` (borrowed); loads the uploads of items
 * still in the outbox from the journal (and forgets the others). NULL
 * when out of memory or the session has no room for another module. */
pl_uploads *pl_uploads_new(const pl_alloc *a, pl_sess *sess, const pl_uploads_config *cfg,
                           const pl_log *log);
void pl_uploads_free(pl_uploads *u);

/* What to send: a file (`path`) or bytes (`bytes`, `len`, copied). */
typedef struct pl_upload_src {
    const char *path;
    const unsigned char *bytes;
    size_t len;
    const char *name, *type; /* validated here */
    const char *caption;     /* checked and redacted by the caller; "" for none */
} pl_upload_src;

/* parley_send_attachment(_bytes): see parley.h for the rules and errors. */
int pl_uploads_send(pl_uploads *u, const char *conv, const pl_upload_src *src,
                    char cid_out[PARLEY_ID_SIZE]);
/* The largest attachment taken now. */
uint64_t pl_uploads_max(const pl_uploads *u);

#endif
