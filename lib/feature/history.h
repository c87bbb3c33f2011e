/* The local history (docs/protocol.md, "Local history"): the newest N
 * messages of each conversation kept in the journal (encrypted with it),
 * from what reaches the host, the user's own acknowledged messages and
 * the history pages the host asked for; parley_load_history answers from it first. Plugs into
 * the session as a module. Not thread-safe: the facade's lock serialises
 * calls. */
#ifndef PARLEY_HISTORY_H
#define PARLEY_HISTORY_H

#include <stdint.h>

#include "session/session.h"
#include "store/journal.h"
#include "util/log.h"

/* Journal namespace: "h/<conv>/<seq, 16 digits>" per message (a history
 * page's entry as JSON text). */
#define PL_HISTORY_NS 9
#define PL_HISTORY_MAX 1000      /* messages per conversation, at most */
#define PL_HISTORY_MAX_CONVS 512 /* conversations with a local history */

typedef struct pl_history pl_history;

/* Keeps `per_conv` messages per conversation (0: none, and the module
 * does nothing); `journal` may be NULL (memory only); `wall_ms` stamps the
 * user's own messages. Registers itself with `sess` (borrowed) and loads
 * what the journal holds. NULL when out of memory or the session has no
 * room for another module. */
pl_history *pl_history_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal, uint32_t per_conv,
                           int64_t (*wall_ms)(void), const pl_log *log);
void pl_history_free(pl_history *h);

/* 1 when it keeps messages. */
int pl_history_enabled(const pl_history *h);
/* A history.page refreshes the device's copy; only one the requests
 * module vouches for (pl_requests_set_page_sink): the frame does not say
 * whether the host asked for it. Nothing when disabled. */
void pl_history_keep_page(pl_history *h, const pl_frame *f);
/* Queues a PARLEY_EV_HISTORY answering request `req` from the device:
 * the newest `limit` (1..100) kept messages of `conv` before `before` (0:
 * the newest), ascending, `more` when older ones are kept. PARLEY_OK or
 * NOMEM; nothing when disabled. */
int pl_history_answer(pl_history *h, const char *conv, uint64_t before, uint32_t limit,
                      const char *req);

#endif
