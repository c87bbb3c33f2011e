/* Codec for the host's requests and the server's answers
 * (docs/protocol.md, "Requests", "Answers to requests"): the conversation
 * list, history pages, article search and articles. */
#ifndef PARLEY_PROTO_REQUESTS_H
#define PARLEY_PROTO_REQUESTS_H

#include <stddef.h>
#include <stdint.h>

#include "codec/proto_frames.h"
#include "model/item.h"
#include "util/alloc.h"

typedef struct pl_req_args {
    const char *conv, *query, *id;
    uint64_t before; /* 0: the newest */
    uint32_t limit;  /* 0: the server's default */
} pl_req_args;

/* The request frame of `kind` with id `req` (encoders as in
 * proto_frames.h). INVALID_ARG when an argument the kind needs is NULL. */
int pl_proto_encode_request(const pl_alloc *a, pl_req_kind kind, const char *req,
                            const pl_req_args *args, char **out, size_t *out_len);
/* The frame type that answers `kind` ("conv.list", "history.page",
 * "kb.results", "kb.article"). */
const char *pl_proto_answer_type(pl_req_kind kind);
/* The kind a frame type answers, or 0 when it is no answer. */
pl_req_kind pl_proto_answer_kind(const char *type_name);

/* An answer frame (pl_proto_answer_kind of its type_name is not 0) into
 * `out` (zeroed first; pl_answer_clear it): its request id and items, a
 * history page's conv and `more` (its messages keep their blocks, a broken
 * block costing that block only), or the article. PARLEY_ERR_PROTOCOL with
 * the reason in err, or NOMEM; `out` holds nothing then. */
int pl_proto_decode_answer(const pl_alloc *a, const pl_frame *f, pl_answer *out, char *err,
                           size_t err_size);

/* ---- the local history's records (feature/history.c) ---------------------
 * A message as a history page's entry ("messages" of history.page, without
 * the frame's members), journaled as JSON text. */

/* A msg frame's record. */
int pl_proto_record_of_msg(const pl_alloc *a, const pl_frame *f, char **out, size_t *len);
/* The record of the user's own message: the msg.send `frame` as the
 * server acknowledged it (id, seq), stamped `ts`. */
int pl_proto_record_of_sent(const pl_alloc *a, const char *frame, size_t flen, const char *id,
                            uint64_t seq, int64_t ts, char **out, size_t *len);
/* Calls fn with each message of a history.page frame (entries without a
 * valid seq are skipped); stops at fn's first error, which it returns. */
typedef int (*pl_record_fn)(void *user, const char *conv, uint64_t seq, const char *rec,
                            size_t len);
int pl_proto_page_records(const pl_alloc *a, const pl_frame *f, pl_record_fn fn, void *user);
/* A record back into a message item (pl_item_clear it). PARLEY_OK,
 * PARLEY_ERR_PROTOCOL (not a valid record) or NOMEM. */
int pl_proto_decode_record(const pl_alloc *a, const char *rec, size_t len, pl_item *out);

#endif
