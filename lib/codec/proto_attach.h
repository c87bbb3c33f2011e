/* Codec for attachments (docs/protocol.md, "Attachments"): the upload
 * (att.begin, att.chunk and the server's att.offset, att.ack, att.nack,
 * att.done), the download (att.get, att.data), the msg.send that carries a
 * file and the "attachment" of a message. Chunks travel as base64; their
 * SHA-256 is computed and checked here on the way out and decoded on the
 * way in (the features compare it). */
#ifndef PARLEY_PROTO_ATTACH_H
#define PARLEY_PROTO_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "codec/proto_frames.h"
#include "model/attachment.h"
#include "util/alloc.h"
#include "util/sha256.h"

/* ---- client -> server (encoders as in proto_frames.h) --------------------- */

typedef struct pl_att_begin {
    const char *cid, *name, *type, *sha256;
    uint64_t size;
} pl_att_begin;

int pl_proto_encode_att_begin(const pl_alloc *a, const pl_att_begin *b, char **out, size_t *len);
/* Chunk `i` of upload `cid`: `data[n]` as base64 with its SHA-256. */
int pl_proto_encode_att_chunk(const pl_alloc *a, const char *cid, uint64_t i, const void *data,
                              size_t n, char **out, size_t *len);
/* Chunks from..from+count-1 of attachment `id`, request `req`. */
int pl_proto_encode_att_get(const pl_alloc *a, const char *req, const char *id, uint64_t from,
                            uint32_t count, char **out, size_t *len);
/* The msg.send of an attachment message: `caption` (may be "") as its
 * text, the file's hash as its attachment. */
int pl_proto_encode_msg_attachment(const pl_alloc *a, const char *cid, const char *conv,
                                   const char *caption, const char *sha256, char **out,
                                   size_t *len);

/* ---- server -> client ------------------------------------------------------- */

typedef enum {
    PL_ATT_REPLY_NONE = 0,
    PL_ATT_REPLY_OFFSET, /* att.offset: n = the next chunk the server wants */
    PL_ATT_REPLY_ACK,    /* att.ack: n = the next chunk the server wants */
    PL_ATT_REPLY_NACK,   /* att.nack: n = the chunk to send again */
    PL_ATT_REPLY_DONE    /* att.done */
} pl_att_reply_kind;

typedef struct pl_att_reply {
    pl_att_reply_kind kind;
    char *cid;
    uint64_t n;
    int hash_failed; /* att.offset with "reason":"sha256": the whole file did not match */
} pl_att_reply;

/* The reply kind a frame type is, or PL_ATT_REPLY_NONE. */
pl_att_reply_kind pl_proto_att_reply_kind(const char *type_name);
/* PARLEY_OK (clear with pl_att_reply_clear), PARLEY_ERR_PROTOCOL with the
 * reason, or NOMEM. */
int pl_proto_decode_att_reply(const pl_alloc *a, const pl_frame *f, pl_att_reply *out, char *err,
                              size_t err_size);
void pl_att_reply_clear(const pl_alloc *a, pl_att_reply *r);

typedef struct pl_att_data {
    char *req, *id;
    uint64_t i, size;
    char file_sha256[PL_SHA256_HEX];
    char sha256[PL_SHA256_HEX]; /* as the frame says: the feature compares */
    unsigned char *data;        /* decoded, at most PL_ATT_CHUNK bytes */
    size_t len;
} pl_att_data;

/* 1 when the frame is an att.data. */
int pl_proto_is_att_data(const char *type_name);
int pl_proto_decode_att_data(const pl_alloc *a, const pl_frame *f, pl_att_data *out, char *err,
                             size_t err_size);
void pl_att_data_clear(const pl_alloc *a, pl_att_data *d);

/* The "attachment" of a msg frame in *out (NULL when it has none, or one
 * that breaks a rule: then `err` says why). PARLEY_OK or NOMEM. */
int pl_proto_msg_attachment(const pl_alloc *a, const pl_frame *f, pl_attachment **out, char *err,
                            size_t err_size);
/* The same for a message object inside a document (history pages). */
int pl_proto_attachment_of(const pl_alloc *a, const void *obj, pl_attachment **out, char *err,
                           size_t err_size);

#endif
