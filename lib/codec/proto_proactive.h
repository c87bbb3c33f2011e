/* Codec for proactive messages (docs/protocol.md, "proactive",
 * "proactive.ack"): what the support side sends without being asked. */
#ifndef PARLEY_PROTO_PROACTIVE_H
#define PARLEY_PROTO_PROACTIVE_H

#include <stddef.h>

#include "codec/proto_frames.h"
#include "model/item.h"
#include "util/alloc.h"

/* A "proactive" frame into `out` (zeroed first; pl_item_clear it): its
 * id, author, text, ts and content. Blocks that break the rules are left
 * out (as for a `msg`) and described in skipped[skipped_size] (empty when
 * none). PARLEY_ERR_PROTOCOL with the reason in err, or NOMEM; `out` holds
 * nothing then. */
int pl_proto_decode_proactive(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                              size_t err_size, char *skipped, size_t skipped_size);
/* Encoder as in proto_frames.h. */
int pl_proto_encode_proactive_ack(const pl_alloc *a, const char *id, char **out, size_t *out_len);

#endif
