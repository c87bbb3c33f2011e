/* Attachments (docs/protocol.md, "Attachments"), whoever asks: a user's
 * upload in chunks (begun, resumed from the server's copy, each chunk and
 * the whole file checked, stored by content hash), the attachment a
 * user's message names, a file a user may download, and an agent's file.
 * The records are the store's, the bytes blobs.c's. */
#ifndef PARLEY_SERVER_ATTACH_H
#define PARLEY_SERVER_ATTACH_H

#include <stddef.h>
#include <stdint.h>

#include "blobs.h"
#include "server.h"

/* The wire's chunk: 12,288 bytes of the file, 16,384 of base64. */
#define ATTACH_CHUNK 12288
#define ATTACH_MAX_DEFAULT (25 * 1024 * 1024)
#define ATTACH_MAX_LIMIT (1024LL * 1024 * 1024)

/* What answers an att.begin or att.chunk. */
typedef enum {
    ATT_OFFSET, /* att.offset `n`; `reason` "sha256" after a failed whole file */
    ATT_ACK,    /* att.ack `n` */
    ATT_NACK,   /* att.nack of chunk `n` */
    ATT_DONE,   /* att.done with `sha256` */
    ATT_IGNORE, /* nothing (a chunk beyond the one expected) */
    ATT_REFUSE, /* error `code` with the cid: the upload fails for good */
    ATT_PROBLEM /* error `code` without a cid (internal, or no upload begun) */
} attach_kind;

typedef struct attach_reply {
    attach_kind kind;
    int64_t n;
    const char *reason;
    const char *code, *message;
    char sha256[BLOBS_SHA_HEX];
} attach_reply;

typedef struct attach_begin_in {
    const char *cid, *name, *type, *sha256;
    int64_t size;
} attach_begin_in;

void attach_begin(server *s, const char *user, const attach_begin_in *in, attach_reply *out);
/* Chunk `i` (`data`, its claimed SHA-256 `sha256`). */
void attach_chunk(server *s, const char *user, const char *cid, int64_t i,
                  const unsigned char *data, size_t len, const char *sha256, attach_reply *out);

/* The attachment of a user's msg.send: the user's done upload `cid` whose
 * hash is `sha256`, in `conv`. 0 and *json (the message's "attachment",
 * cJSON_free), or -1 with an error code and message (BOT-style: the cid's
 * refusal) in *code and *why; -2 on a database failure. */
int attach_for_message(server *s, const char *user, const char *cid, const char *conv,
                       const char *sha256, char **json, const char **code, const char **why);

/* A stored attachment and where its bytes are. */
typedef struct attach_file {
    char id[32];
    char name[256], type[128], sha256[BLOBS_SHA_HEX];
    char conv[129];
    int64_t size;
    char path[BLOBS_PATH_MAX];
} attach_file;

/* 1 and *out for attachment `id` (of a conversation of `user`, unless
 * `user` is NULL: an agent), 0 when there is none, -1 on a failure. */
int attach_find(server *s, const char *user, const char *id, attach_file *out);

/* An agent's file (at `path`, `size` bytes hashing to `sha256`) becomes an
 * attachment of `conv` and the JSON of a message's "attachment" (*json,
 * cJSON_free). 0; -1 with the reason in *why (type, contents, name); -2 on
 * a failure; -3 for an unknown conversation. */
int attach_agent_file(server *s, const char *conv, const char *path, int64_t size,
                      const char *sha256, const char *name, const char *type, char **json,
                      const char **why);

#endif
