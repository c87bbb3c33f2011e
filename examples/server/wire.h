/* The server -> client frames of parley.v1 (docs/protocol.md, "Server ->
 * client"): every frame the server sends is built here. The char *
 * builders return a NUL-terminated JSON text (free with cJSON_free), or
 * NULL when out of memory. */
#ifndef PARLEY_SERVER_WIRE_H
#define PARLEY_SERVER_WIRE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"

/* `anon_secret` (may be NULL): the merge secret issued to an anonymous user. */
/* `max_attachment` 0: none announced. */
char *wire_welcome(const char *session, const char *anon_secret, size_t max_frame, size_t max_text,
                   int64_t max_attachment);
char *wire_conv_ack(const char *cid, const char *conv);
char *wire_msg_ack(const char *cid, const store_msg *m);
char *wire_msg(const store_msg *m);
/* The ack of an event, a survey answer or dismissal. */
char *wire_ack(const char *cid);
/* `message` and `cid` may be NULL. */
char *wire_error(const char *code, const char *message, const char *cid);
/* An error answering a request (`req`, may be NULL) or refusing a frame
 * over a limit: never with a cid (the client keeps the item and sends it
 * again); with `retry_ms` when positive. */
char *wire_req_error(const char *code, const char *message, const char *req, int64_t retry_ms);
/* Closes the answer to a history.get: `last` is the highest seq sent. */
char *wire_history_end(const char *conv, int64_t last, int more);
char *wire_goaway(int reconnect_ms, const char *reason);
/* `last_seq` (0: left out) tells a new device the conversation's newest seq. */
char *wire_unread(const char *conv, int64_t count, int64_t last_seq);
/* The survey instance `n` ("sv-<n>") of the definition `def` (JSON text). */
char *wire_survey(int64_t n, const char *conv, int proactive, const char *def);
/* The proactive item `n` ("p-<n>"): `msg` (JSON text) stamped with `ts`. */
char *wire_proactive(int64_t n, const char *msg, int64_t ts);
/* {"t":type, ...the members of body}; takes `body` (NULL: out of memory). */
char *wire_typed(const char *type, cJSON *body);

/* Answers to requests, built as trees: the frame {"t":type,"req":req}
 * (NULL when out of memory), its entries, and the text of a finished one
 * (takes `frame`). */
cJSON *wire_answer(const char *type, const char *req);
cJSON *wire_conv_row(const store_conv_row *r);
cJSON *wire_page_msg(const store_msg *m);
/* Adds an article's members: `full` with its body, else its snippet. 1 or
 * 0 (out of memory). */
int wire_article(cJSON *o, const store_article *a, int full);
char *wire_print(cJSON *frame);

/* The upload's replies (docs/protocol.md, "Attachments"); `reason` may be
 * NULL. */
char *wire_att_offset(const char *cid, int64_t next, const char *reason);
char *wire_att_ack(const char *cid, int64_t next);
char *wire_att_nack(const char *cid, int64_t i, const char *reason);
char *wire_att_done(const char *cid, const char *sha256);

/* One chunk of a download. */
typedef struct wire_chunk {
    const char *req, *id;
    int64_t i, size;
    const char *file_sha256, *data_b64, *sha256;
} wire_chunk;
char *wire_att_data(const wire_chunk *c);

/* Ids of survey instances and proactive items: "<prefix><n>". */
#define WIRE_ID_BUF 32
void wire_format_id(const char *prefix, int64_t n, char out[WIRE_ID_BUF]);
/* 0 and n when `id` is the prefix and a row number above 0, else -1. */
int wire_parse_id(const char *id, const char *prefix, int64_t *n);

#endif
