/* Codec for push notifications (docs/protocol.md, "Push notifications"):
 * the device token's registration frames, and the Parley part of a push
 * payload the host hands back (parley_handle_push). */
#ifndef PARLEY_PROTO_PUSH_H
#define PARLEY_PROTO_PUSH_H

#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

/* push.register / push.unregister (encoders as in proto_frames.h). */
int pl_proto_encode_push_register(const pl_alloc *a, const char *platform, const char *token,
                                  char **out, size_t *len);
int pl_proto_encode_push_unregister(const pl_alloc *a, const char *token, char **out, size_t *len);

/* What a push payload tells: the conversation (an identifier, copied
 * into conv[PL_MAX_ID + 1]) and its newest seq (0 when absent). The
 * payload is the webhook's body or any object holding it under
 * "parley". PARLEY_OK; INVALID_ARG when it is not a JSON object under
 * the wire's rules; NOT_FOUND when it names no conversation; NOMEM. */
int pl_proto_decode_push(const pl_alloc *a, const char *payload, size_t len, char *conv,
                         size_t conv_size, uint64_t *seq);

#endif
