/* The host's requests (docs/protocol.md, "Requests", "Answers to
 * requests"): the conversation list, history pages, article search and
 * articles. A request gets an id ("r-<n>"), goes out now or after the next
 * welcome, and is asked again after every welcome until its answer (an
 * event naming the id) or an error naming it arrives. Plugs into the
 * session as a module. Not thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_REQUESTS_H
#define PARLEY_REQUESTS_H

#include "codec/proto_requests.h"
#include "session/session.h"
#include "util/log.h"

#define PL_REQUESTS_MAX 16 /* pending at once */

typedef struct pl_requests pl_requests;

/* Registers itself with `sess` (borrowed). NULL when out of memory or the
 * session has no room for another module. */
pl_requests *pl_requests_new(const pl_alloc *a, pl_sess *sess, const pl_log *log);
void pl_requests_free(pl_requests *r);

/* A history page that answers a pending history request, for the
 * conversation asked for, which the session knows; before its event goes
 * out. */
typedef void (*pl_page_fn)(void *user, const pl_frame *f);
/* Where such pages go (the local history); `fn` NULL: nowhere. */
void pl_requests_set_page_sink(pl_requests *r, pl_page_fn fn, void *user);

/* Queues a request; its id goes to req_out. Errors: FULL (PL_REQUESTS_MAX
 * pending), NOMEM. Arguments are validated by the caller. */
int pl_requests_send(pl_requests *r, pl_req_kind kind, const pl_req_args *args,
                     char req_out[PARLEY_ID_SIZE]);

#endif
