/* Builders for the server -> client frames of parley.v1. Each returns a
 * malloc'd NUL-terminated JSON text (free with cJSON_free), or NULL when out of
 * memory. */
#ifndef PARLEY_SERVER_FRAMES_H
#define PARLEY_SERVER_FRAMES_H

#include <stddef.h>

#include "store.h"

/* `anon_secret` (may be NULL): the merge secret issued to an anonymous user. */
char *frame_welcome(const char *session, const char *anon_secret, size_t max_frame,
                    size_t max_text);
char *frame_conv_ack(const char *cid, const char *conv);
char *frame_msg_ack(const char *cid, const db_msg *m);
char *frame_msg(const db_msg *m);
/* `message` and `cid` may be NULL. */
char *frame_error(const char *code, const char *message, const char *cid);
/* An error that refuses a frame over a limit: never with a cid (the client
 * keeps the item and sends it again), with `req` when not NULL and
 * `retry_ms` when positive. */
char *frame_refusal(const char *code, const char *message, const char *req, int64_t retry_ms);
/* Closes the answer to a history.get: `last` is the highest seq sent. */
char *frame_history_end(const char *conv, int64_t last, int more);
char *frame_goaway(int reconnect_ms, const char *reason);

#endif
