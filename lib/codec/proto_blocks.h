/* Codec for structured content (docs/protocol.md, "Structured content"):
 * the "blocks" of a message into the model's pl_content. A block that
 * breaks the rules costs that block only: the others are kept, and what was
 * left out is described. */
#ifndef PARLEY_PROTO_BLOCKS_H
#define PARLEY_PROTO_BLOCKS_H

#include <stddef.h>

#include "codec/proto_frames.h"
#include "model/content.h"
#include "util/alloc.h"

/* The kept blocks of a `msg` frame in *out (NULL when none were kept).
 * Skipped blocks are described in err (empty when nothing was skipped).
 * PARLEY_OK or NOMEM. */
int pl_proto_msg_content(const pl_alloc *a, const pl_frame *f, pl_content **out, char *err,
                         size_t err_size);
/* The same for any message object inside a frame's document (`obj`, from
 * the codec's own readers: answers, proactive messages). */
int pl_proto_content_of(const pl_alloc *a, const void *obj, pl_content **out, char *err,
                        size_t err_size);
/* Content from its raw_json text (as journaled): every block must be kept,
 * else PARLEY_ERR_PROTOCOL; NOMEM. */
int pl_proto_parse_content(const pl_alloc *a, const char *json, pl_content **out);

#endif
