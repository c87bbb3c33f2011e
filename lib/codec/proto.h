/* Wire codec for parley.v1 (docs/protocol.md): JSON text <-> typed frames.
 * The only file that builds or reads wire JSON. No I/O, no state. */
#ifndef PARLEY_PROTO_H
#define PARLEY_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

/* Limits from docs/protocol.md. */
#define PL_MAX_FRAME 65536
#define PL_MAX_DEPTH 16
#define PL_MAX_STRING 16384
#define PL_MAX_TEXT 4096
#define PL_MAX_ID 128
#define PL_MAX_TYPE 32
#define PL_MAX_SUBJECT 256
#define PL_MAX_ATTR_KEY 64
#define PL_MAX_ATTR_STR 1024
#define PL_MAX_ATTRS 100
#define PL_MAX_CONVERSATIONS 256 /* tracked per client; bounds hello's cursors */
#define PL_SEQ_MAX 9007199254740991ULL /* 2^53 - 1 */

/* ---- server -> client ---------------------------------------------------- */

typedef enum {
    PL_FRAME_UNKNOWN = 0, /* well-formed frame of a type this client does not know */
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

typedef enum { PL_AUTHOR_USER = 1, PL_AUTHOR_BOT, PL_AUTHOR_AGENT, PL_AUTHOR_SYSTEM } pl_author_kind;

typedef enum { PL_CONV_BOT = 1, PL_CONV_AGENT, PL_CONV_QUEUED, PL_CONV_CLOSED, PL_CONV_OPEN } pl_conv_state;

/* A decoded server frame. Strings are owned by the frame (allocated with the
 * allocator given to pl_proto_decode) and NULL when the frame does not carry
 * them; pl_proto_frame_clear() frees them. */
typedef struct pl_frame {
    pl_frame_type type;
    char type_name[PL_MAX_TYPE + 1]; /* the "t" as received, for logs */
    char *session;                      /* welcome */
    char *anon_secret;                  /* welcome (optional): the anonymous user's merge secret */
    uint32_t max_frame, max_text;       /* welcome limits, 0 when absent */
    char *cid;                          /* conv.ack, msg.ack, error (optional) */
    char *conv;                         /* conv.ack, msg.ack, msg, conv.update */
    char *id;                           /* msg.ack, msg: server message id */
    uint64_t seq;                       /* msg.ack, msg: 1..PL_SEQ_MAX; history.end last (0..) */
    int more;                           /* history.end: 1 when the answer was cut short */
    pl_author_kind author_kind;           /* msg */
    char *author_name;                  /* msg (optional); conv.update agent.name */
    char *text;                         /* msg */
    int64_t ts;                         /* msg (optional, 0 when absent) */
    pl_conv_state conv_state;             /* conv.update */
    char *code;                         /* error */
    char *message;                      /* error (optional), goaway reason */
    uint32_t reconnect_ms;              /* goaway, clamped to 0..3600000 */
    char *req;                          /* error (optional): the request it answers */
    /* The whole validated document (a cJSON tree, owned by the frame) for
     * the codec's readers of module frames (proto_context.c, proto_rich.c,
     * proto_survey.c); nobody outside the codec looks inside. */
    const void *doc;
} pl_frame;

/* Decodes one text frame. On PARLEY_OK `out` is filled (free with
 * pl_proto_frame_clear); its `doc` keeps the parsed tree. On PARLEY_ERR_PROTOCOL the frame is malformed and
 * `err` (if not NULL) receives a short static-or-formatted reason in
 * err[err_size]; `out` holds nothing to free. PARLEY_ERR_NOMEM on allocation
 * failure. Never reads past buf[len]; buf need not be NUL-terminated. */
int pl_proto_decode(const pl_alloc *a, const char *buf, size_t len, pl_frame *out, char *err, size_t err_size);
void pl_proto_frame_clear(const pl_alloc *a, pl_frame *f);

/* ---- client -> server ---------------------------------------------------- */

/* ---- context (proto_context.c) ------------------------------------------ */

#define PL_MAX_JSON_VALUE 4096 /* a JSON attribute value or event metadata */
#define PL_MAX_JSON_DEPTH 8
#define PL_MAX_SCREEN 256
#define PL_MAX_CRUMB 256
#define PL_MAX_CRUMBS 500
#define PL_MAX_DEVICE 32
#define PL_MAX_EVENT_NAME 64

typedef enum { PL_ATTR_STR = 1, PL_ATTR_NUM, PL_ATTR_BOOL, PL_ATTR_NULL, PL_ATTR_JSON } pl_attr_type;

/* A typed value under a key: attributes and (strings only) device facts.
 * `str` is the string, or for PL_ATTR_JSON a compact object text from
 * pl_proto_json_object. */
typedef struct pl_attr {
    const char *key;
    pl_attr_type type;
    const char *str;
    double num;
    int boolean;
} pl_attr;

typedef struct pl_crumb {
    const char *text;
    int64_t ts; /* ms since the Unix epoch */
} pl_crumb;

/* What a context frame or snapshot carries; empty parts are left out. */
typedef struct pl_context {
    const pl_attr *attrs;
    size_t n_attrs;
    const char *screen; /* NULL: not included */
    const pl_crumb *crumbs;
    size_t n_crumbs;
    const pl_attr *device;
    size_t n_device;
    int truncated; /* snapshots: parts were left out to fit the frame */
} pl_context;

/* {"t":"context","full":...,...}: the whole state or a patch. */
int pl_proto_encode_context(const pl_alloc *a, int full, const pl_context *c, char **out, size_t *out_len);
/* The same members as one JSON object text, for conv.start/msg.send. */
int pl_proto_encode_snapshot(const pl_alloc *a, const pl_context *c, char **out, size_t *out_len);
/* {"t":"event",...}; `meta` NULL or an object text from pl_proto_json_object. */
int pl_proto_encode_event(const pl_alloc *a, const char *cid, const char *name, const char *meta, int64_t ts,
                       char **out, size_t *out_len);
/* Rewrites every string value inside the object text `json` through `fn`
 * (which returns a new string allocated with `a` in *out, or an error) and
 * prints the result. Keys are left alone. */
typedef int (*pl_json_str_fn)(void *user, const char *in, char **out);
int pl_proto_json_map_strings(const pl_alloc *a, const char *json, pl_json_str_fn fn, void *user, char **out);

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
/* `context` (may be NULL) is a JSON object text from
 * pl_proto_encode_snapshot, embedded as the frame's "context". */
int pl_proto_encode_conv_start(const pl_alloc *a, const char *cid, const char *conv, const char *subject,
                            const char *context, char **out, size_t *out_len);
/* The option a postback answers (docs/protocol.md, "Postbacks"). */
typedef struct pl_postback {
    const char *msg, *option, *payload; /* payload may be NULL */
} pl_postback;
/* `pb` NULL for plain text. */
int pl_proto_encode_msg_send(const pl_alloc *a, const char *cid, const char *conv, const char *text,
                          const char *context, const pl_postback *pb, char **out, size_t *out_len);
/* history.get: the messages of `conv` after seq `after` (0 = from the
 * start); `limit` 0 leaves it to the server's default (100), else 1..500. */
#define PL_MAX_HISTORY_LIMIT 500
int pl_proto_encode_history_get(const pl_alloc *a, const char *conv, uint64_t after, uint32_t limit, char **out,
                             size_t *out_len);
int pl_proto_encode_bye(const pl_alloc *a, char **out, size_t *out_len);
/* One of our own encoded frames (a journaled outbox item) re-encoded
 * without its member `key`. NOT_FOUND when it has none, INVALID_ARG when
 * it is not a JSON object, NOMEM. */
int pl_proto_frame_without(const pl_alloc *a, const char *frame, size_t len, const char *key, char **out,
                        size_t *out_len);

/* Host-supplied JSON (attribute values, event metadata): must be one
 * object, valid under the wire rules, at most max_len bytes and max_depth
 * levels deep. On PARLEY_OK *canon is its compact form (allocated with
 * `a`). Errors: TOO_LONG, INVALID_ARG, NOMEM. */
int pl_proto_json_object(const pl_alloc *a, const char *text, size_t max_len, int max_depth, char **canon);

/* Formats a seq as the decimal string the wire uses; buf at least 21 bytes. */
void pl_proto_seq_str(uint64_t seq, char buf[21]);

/* ---- rich conversations (proto_rich.c) ----------------------------------- */

#define PL_MAX_BLOCKS 10
#define PL_MAX_OPTIONS 13 /* quick replies, buttons */
#define PL_MAX_CARDS 10
#define PL_MAX_LABEL 128
#define PL_MAX_TITLE 256
#define PL_MAX_PAYLOAD 1024
#define PL_MAX_URL 2048
#define PL_MAX_CONV_LIST 256
#define PL_MAX_PAGE 100 /* history.page messages */
#define PL_MAX_ARTICLES 20
#define PL_MAX_QUERY 256

struct pl_ev_rich;  /* rich.h */
struct parley_event;

/* The kept blocks of a `msg` frame (or of a JSON array text): *out NULL
 * when there are none. Skipped blocks are described in err (empty when
 * nothing was skipped). PARLEY_OK or NOMEM. */
int pl_proto_rich_msg_blocks(const pl_alloc *a, const pl_frame *f, struct pl_ev_rich **out, char *err, size_t err_size);
int pl_proto_rich_parse_blocks(const pl_alloc *a, const char *json, struct pl_ev_rich **out);
/* conv.update's queue: *pos -1 when absent or not valid. */
void pl_proto_rich_queue(const pl_frame *f, int *pos, uint32_t *wait_s);
/* typing, read, unread and the answers to requests as an event (*ev NULL
 * when the frame is none of them). PARLEY_ERR_PROTOCOL with the reason in
 * err when malformed; NOMEM. */
int pl_proto_rich_decode(const pl_alloc *a, const pl_frame *f, struct parley_event **ev, char *err, size_t err_size);
/* The request id a module frame names (borrowed from f), or NULL. */
const char *pl_proto_rich_req(const pl_frame *f);
int pl_proto_rich_seq(const char *s, uint64_t *out);

typedef enum { PL_REQ_CONV_LIST = 1, PL_REQ_HISTORY, PL_REQ_SEARCH, PL_REQ_ARTICLE } pl_req_kind;
typedef struct pl_req_args {
    const char *conv, *query, *id;
    uint64_t before; /* 0: the newest */
    uint32_t limit;  /* 0: the server's default */
} pl_req_args;
/* The answer's frame type for a request kind. */
const char *pl_proto_rich_answer_type(pl_req_kind kind);
int pl_proto_encode_request(const pl_alloc *a, pl_req_kind kind, const char *req, const pl_req_args *args, char **out,
                         size_t *out_len);
int pl_proto_encode_typing(const pl_alloc *a, const char *conv, int on, char **out, size_t *out_len);
int pl_proto_encode_read(const pl_alloc *a, const char *conv, uint64_t seq, char **out, size_t *out_len);

#endif
