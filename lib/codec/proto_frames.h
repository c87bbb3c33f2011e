/* Wire codec for parley.v1 (docs/protocol.md): the envelope of every frame
 * and the session engine's own frames. The codec (codec/) is the only part
 * of the library that builds or reads wire JSON; it has no I/O and no
 * state. Module frames (typing, answers, surveys...) are decoded on demand
 * by their own codec files from the document a pl_frame keeps. */
#ifndef PARLEY_PROTO_FRAMES_H
#define PARLEY_PROTO_FRAMES_H

#include <stddef.h>
#include <stdint.h>

#include "model/limits.h"
#include "util/alloc.h"

/* ---- server -> client ---------------------------------------------------- */

typedef enum {
    PL_FRAME_UNKNOWN = 0, /* well-formed; not one of the engine's (a module's, or unknown) */
    PL_FRAME_WELCOME,
    PL_FRAME_CONV_ACK,
    PL_FRAME_MSG_ACK,
    PL_FRAME_MSG,
    PL_FRAME_CONV_UPDATE,
    PL_FRAME_ERROR,
    PL_FRAME_GOAWAY,
    PL_FRAME_HISTORY_END,
    PL_FRAME_ACK
} pl_frame_type;

typedef enum {
    PL_AUTHOR_USER = 1,
    PL_AUTHOR_BOT,
    PL_AUTHOR_AGENT,
    PL_AUTHOR_SYSTEM
} pl_author_kind;

typedef enum {
    PL_CONV_BOT = 1,
    PL_CONV_AGENT,
    PL_CONV_QUEUED,
    PL_CONV_CLOSED,
    PL_CONV_OPEN
} pl_conv_state;

/* A decoded server frame. Strings point into the frame's own parsed
 * document or arena (valid until pl_proto_frame_clear) and are NULL when
 * the frame does not carry them. */
typedef struct pl_frame {
    pl_frame_type type;
    char type_name[PL_MAX_TYPE + 1]; /* the "t" as received, for logs */
    const char *session;             /* welcome */
    const char *anon_secret;         /* welcome (optional): the anonymous user's merge secret */
    uint32_t max_frame, max_text;    /* welcome limits, 0 when absent */
    uint64_t max_attachment;         /* welcome limits, 0 when absent */
    const char *cid;                 /* conv.ack, msg.ack, error (optional) */
    const char *conv;                /* conv.ack, msg.ack, msg, conv.update */
    const char *id;                  /* msg.ack, msg: server message id */
    uint64_t seq;                    /* msg.ack, msg: 1..PL_SEQ_MAX; history.end last (0..) */
    int more;                        /* history.end: 1 when the answer was cut short */
    pl_author_kind author_kind;      /* msg */
    const char *author_name;         /* msg (optional); conv.update agent.name */
    const char *text;                /* msg */
    int64_t ts;                      /* msg (optional, 0 when absent) */
    pl_conv_state conv_state;        /* conv.update */
    int queue_pos;                   /* conv.update: queue.position, -1 when absent or not valid */
    uint32_t wait_s;                 /* conv.update: queue.wait_s (0 with an invalid queue) */
    const char *code;                /* error */
    const char *message;             /* error (optional), goaway reason */
    uint32_t reconnect_ms;           /* goaway, clamped to 0..3600000 */
    const char *req;                 /* error (optional): the request it answers */
    /* The whole validated document (a cJSON tree, owned by the frame) for
     * the codec's readers of module frames (codec/proto_*.c); nobody
     * outside the codec looks inside. */
    const void *doc;
    /* msg and msg.ack frames are read in place (no doc): their strings and
     * a copy of the text (`raw`, raw_len bytes, NUL-terminated) live in
     * `arena`, owned by the frame. */
    char *arena;
    const char *raw;
    size_t raw_len;
} pl_frame;

/* Decodes one text frame. On PARLEY_OK `out` is filled (free with
 * pl_proto_frame_clear); its `doc` keeps the parsed tree. On
 * PARLEY_ERR_PROTOCOL the frame is malformed and `err` (if not NULL)
 * receives a short reason in err[err_size]; `out` holds nothing to free.
 * PARLEY_ERR_NOMEM on allocation failure. Never reads past buf[len]; buf
 * need not be NUL-terminated. */
int pl_proto_decode(const pl_alloc *a, const char *buf, size_t len, pl_frame *out, char *err,
                    size_t err_size);
void pl_proto_frame_clear(const pl_alloc *a, pl_frame *f);
/* The request id a frame names (borrowed from f), or NULL. */
const char *pl_proto_frame_req(const pl_frame *f);

/* ---- client -> server ---------------------------------------------------- */

typedef struct pl_cursor {
    const char *conv;
    uint64_t seq;
} pl_cursor;

typedef struct pl_hello {
    const char *app;
    const char *sdk_version;
    const char *platform;
    const char *user_id; /* identified when not NULL */
    const char *token;   /* optional */
    const char *anon_id; /* used when user_id is NULL */
    const char *session; /* resume token, optional */
    const pl_cursor *cursors;
    size_t n_cursors;
    const char *anon_proof; /* optional: anon_id's merge secret, sent when identified */
} pl_hello;

/* Encoders: on PARLEY_OK *out is a NUL-terminated JSON text allocated with
 * `a` (free with pl_free) and *out_len its length. PARLEY_ERR_NOMEM otherwise.
 * Inputs are trusted (validated by the caller at the API boundary). */
int pl_proto_encode_hello(const pl_alloc *a, const pl_hello *h, char **out, size_t *out_len);
/* What the host said about a request (docs/protocol.md, conv.start
 * "about"); each member may be NULL, severity one of "low", "medium",
 * "high", "critical". */
typedef struct pl_conv_about {
    const char *category, *area, *severity;
} pl_conv_about;
/* `context` (may be NULL) is a JSON object text from
 * pl_proto_encode_snapshot, embedded as the frame's "context"; `about`
 * (may be NULL, or all NULL) becomes "about". */
int pl_proto_encode_conv_start(const pl_alloc *a, const char *cid, const char *conv,
                               const char *subject, const pl_conv_about *about, const char *context,
                               char **out, size_t *out_len);
/* The option a postback answers (docs/protocol.md, "Postbacks"). */
typedef struct pl_postback {
    const char *msg, *option, *payload; /* payload may be NULL */
} pl_postback;
/* `pb` NULL for plain text. */
int pl_proto_encode_msg_send(const pl_alloc *a, const char *cid, const char *conv, const char *text,
                             const char *context, const pl_postback *pb, char **out,
                             size_t *out_len);
/* history.get: the messages of `conv` after seq `after` (0 = from the
 * start); `limit` 0 leaves it to the server's default (100), else
 * 1..PL_MAX_HISTORY_LIMIT. */
int pl_proto_encode_history_get(const pl_alloc *a, const char *conv, uint64_t after, uint32_t limit,
                                char **out, size_t *out_len);
int pl_proto_encode_bye(const pl_alloc *a, char **out, size_t *out_len);
/* One of our own encoded frames (a journaled outbox item) re-encoded
 * without its member `key`. NOT_FOUND when it has none, INVALID_ARG when
 * it is not a JSON object, NOMEM. */
int pl_proto_frame_without(const pl_alloc *a, const char *frame, size_t len, const char *key,
                           char **out, size_t *out_len);

/* ---- seq numbers --------------------------------------------------------- */

/* Formats a seq as the decimal string the wire uses; buf at least 21 bytes. */
void pl_proto_seq_str(uint64_t seq, char buf[21]);
/* Reads a seq as the wire writes it (1..PL_SEQ_MAX, no leading zero):
 * 1 and *out, or 0 (also for NULL). */
int pl_proto_parse_seq(const char *s, uint64_t *out);

#endif
