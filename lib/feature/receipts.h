/* Read receipts and unread counts (docs/protocol.md, "read", "unread"):
 * the user's read mark per conversation, journaled and sent again after
 * every welcome; the support side's read marks as PARLEY_EV_READ; the
 * server's unread counts as PARLEY_EV_UNREAD, kept for
 * parley_unread_count. Plugs into the session as a module. Not
 * thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_RECEIPTS_H
#define PARLEY_RECEIPTS_H

#include <stdint.h>

#include "session/session.h"
#include "store/journal.h"
#include "util/log.h"

/* Journal namespace, shared with the postbacks' offers
 * (feature/postbacks.h): read marks are kept under "r/<conv>". */
#define PL_RECEIPTS_NS 5

typedef struct pl_receipts pl_receipts;

/* Registers itself with `sess` (borrowed); `journal` may be NULL (memory
 * only), else the read marks are loaded from it. NULL when out of memory
 * or the session has no room for another module. */
pl_receipts *pl_receipts_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal,
                             const pl_log *log);
void pl_receipts_free(pl_receipts *r);

/* parley_mark_read and parley_unread_count (`conv` NULL: all of them);
 * parley.h has the rules and errors. */
int pl_receipts_mark_read(pl_receipts *r, const char *conv, const char *seq);
int pl_receipts_unread(const pl_receipts *r, const char *conv, uint32_t *out);

#endif
