/* Codec for what both sides signal about a conversation (docs/protocol.md,
 * "typing", "read", "unread"): typing indicators, read marks and unread
 * counts, in and out. */
#ifndef PARLEY_PROTO_NOTICES_H
#define PARLEY_PROTO_NOTICES_H

#include <stddef.h>
#include <stdint.h>

#include "codec/proto_frames.h"
#include "model/item.h"
#include "util/alloc.h"

/* Decoders of a frame whose type_name is "typing", "read" or "unread"
 * into `out` (zeroed first; pl_item_clear it): typing gives conv, state
 * (PARLEY_TYPING_ON/OFF) and the author when named; read conv and seq;
 * unread conv, count and (optional) last_seq in seq. PARLEY_ERR_PROTOCOL with the reason in err, or
 * NOMEM; `out` holds nothing then. */
int pl_proto_decode_typing(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                           size_t err_size);
int pl_proto_decode_read(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                         size_t err_size);
int pl_proto_decode_unread(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                           size_t err_size);

/* Encoders as in proto_frames.h. */
int pl_proto_encode_typing(const pl_alloc *a, const char *conv, int on, char **out,
                           size_t *out_len);
int pl_proto_encode_read(const pl_alloc *a, const char *conv, uint64_t seq, char **out,
                         size_t *out_len);

#endif
