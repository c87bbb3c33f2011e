/* Postbacks (docs/protocol.md, "Postbacks"): the options a delivered
 * message offered (quick replies, buttons, cards) are remembered, in the
 * journal too, so that parley_postback is checked against them before
 * the option's label goes into the outbox as the user's message naming
 * it. A set of quick replies is used up once one is answered. Plugs into
 * the session as a module (its on_message hook sees every message with
 * content). Not thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_POSTBACKS_H
#define PARLEY_POSTBACKS_H

#include "feature/user_context.h"
#include "session/session.h"
#include "store/journal.h"
#include "util/log.h"

/* Journal namespace, shared with the read marks (feature/receipts.h):
 * offers are kept under "o/<order>". */
#define PL_POSTBACKS_NS 5
#define PL_POSTBACKS_PER_CONV 8 /* messages with options remembered per conversation */
#define PL_POSTBACKS_MAX 64     /* and in all */

typedef struct pl_postbacks pl_postbacks;

/* Registers itself with `sess` (borrowed); `journal` may be NULL (memory
 * only), else the offers are loaded from it. NULL when out of memory or
 * the session has no room for another module. */
pl_postbacks *pl_postbacks_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal,
                               const pl_log *log);
void pl_postbacks_free(pl_postbacks *p);

/* parley_postback: checked against what message `msg` offered, then the
 * option's label (redacted by `ctx`, with its snapshot) goes into the
 * outbox as a msg.send naming the option; its client id in cid. Errors as
 * parley.h says. */
int pl_postbacks_send(pl_postbacks *p, pl_ctx *ctx, const char *conv, const char *msg,
                      const char *option, char cid[PARLEY_ID_SIZE]);

#endif
