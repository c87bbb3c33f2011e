/* Rich conversations (docs/protocol.md, "Postbacks", "typing", "read",
 * "Requests", "Structured content", "unread", "Answers to requests"): the
 * structured content of messages, postbacks validated against the options
 * a message offered, typing indicators, read marks, unread counts and the
 * host's requests (conversation list, history pages, help articles).
 * Plugs into the session as a module; journal namespace 5 holds the read
 * marks and the recent offers. Not thread-safe: the facade's lock
 * serialises calls. */
#ifndef PARLEY_RICH_H
#define PARLEY_RICH_H

#include <stdint.h>

#include "feature/user_context.h"
#include "store/journal.h"
#include "codec/proto.h"
#include "session/session.h"

/* The public opaque types of parley.h. Strings are owned, NULL when absent. */
struct parley_option {
    int action; /* PARLEY_ACTION_* */
    int quick;  /* a quick reply (the set is used up once answered) */
    char *id, *label, *payload, *url;
};

struct parley_block {
    int kind; /* PARLEY_BLOCK_* */
    char *title, *text, *image;
    struct parley_option *opts;
    int n_opts;
    struct parley_block *cards;
    int n_cards;
};

/* What an event of this module carries beyond the common fields. */
typedef struct pl_ev_rich {
    struct parley_block *blocks;
    int n_blocks;
    char *raw_json; /* the kept blocks as a JSON array text */
    int queue_pos;  /* -1: absent */
    uint32_t wait_s;
    char *req, *title, *url;
    uint32_t count;
    int more;
    parley_event **items;
    int n_items;
} pl_ev_rich;

/* A zeroed pl_ev_rich (queue_pos -1) allocated with a; NULL when out of
 * memory. */
pl_ev_rich *pl_ev_rich_new(const pl_alloc *a);
void pl_ev_rich_free(const pl_alloc *a, pl_ev_rich *r);
/* The memory r holds (0 for NULL), items included (pl_event_size). */
size_t pl_ev_rich_size(const pl_ev_rich *r);
void pl_blocks_free(const pl_alloc *a, struct parley_block *v, int n);

#define PL_RICH_NS 5
#define PL_RICH_MAX_REQUESTS 16
#define PL_RICH_OFFERS_PER_CONV 8 /* messages with options remembered per conversation */
#define PL_RICH_MAX_OFFERS 64     /* and in all */
#define PL_RICH_TYPING_EVERY_MS 3000
#define PL_RICH_TYPING_EXPIRY_MS 6000

typedef struct pl_rich pl_rich;

/* Registers itself with `sess` (borrowed); `journal` may be NULL (memory
 * only). Offers and read marks are loaded from it. NULL when out of memory
 * or the session has no room for another module. */
pl_rich *pl_rich_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal, const pl_log *log);
void pl_rich_free(pl_rich *r);

/* parley_postback: checked against what message `msg` offered, then the
 * option's label (redacted by `ctx`, with its snapshot) goes into the
 * outbox as a msg.send naming the option; its client id in cid. */
int pl_rich_postback(pl_rich *r, pl_ctx *ctx, const char *conv, const char *msg, const char *option,
                   char cid[PARLEY_ID_SIZE]);

/* Validated here; parley.h has the rules and errors. */
int pl_rich_set_typing(pl_rich *r, const char *conv, int on, int64_t now);
int pl_rich_mark_read(pl_rich *r, const char *conv, const char *seq);
int pl_rich_unread(const pl_rich *r, const char *conv, uint32_t *out);

/* Queues a request; its id ("r-<n>") goes to req_out. Errors: FULL (16
 * pending), NOMEM. Arguments are validated by the caller. */
int pl_rich_request(pl_rich *r, pl_req_kind kind, const pl_req_args *args, char req_out[PARLEY_ID_SIZE]);

/* The on_message hook, exposed for tests: adds blocks to a MESSAGE event
 * and the queue to a CONVERSATION event from conv.update. */
int pl_rich_decorate(pl_rich *r, const pl_frame *f, parley_event *ev);

#endif
