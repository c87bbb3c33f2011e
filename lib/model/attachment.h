/* A file a message carries (docs/protocol.md, "Attachments"): what the
 * host learns of it from a message, and what it needs to fetch it. The
 * codec fills it from a message's "attachment", events carry it. */
#ifndef PARLEY_MODEL_ATTACHMENT_H
#define PARLEY_MODEL_ATTACHMENT_H

#include <stddef.h>
#include <stdint.h>

#include "util/alloc.h"

/* Bytes of the file per chunk on the wire (base64: 16,384 characters, the
 * longest string a frame may hold). */
#define PL_ATT_CHUNK 12288
/* The largest attachment before a server announced its own, and the
 * largest the client ever takes. */
#define PL_ATT_DEFAULT_MAX (25u * 1024 * 1024)
/* The largest the client takes (up or down) whatever a server says. */
#define PL_ATT_HARD_MAX (1024ull * 1024 * 1024)
#define PL_ATT_MAX_NAME 255
#define PL_ATT_MAX_TYPE 127

/* Strings are owned; all four are set in a valid attachment. */
typedef struct pl_attachment {
    char *id, *name, *type, *sha256;
    uint64_t size;
} pl_attachment;

/* A zeroed attachment; NULL when out of memory. */
pl_attachment *pl_attachment_new(const pl_alloc *a);
/* NULL is a no-op. */
void pl_attachment_free(const pl_alloc *a, pl_attachment *att);
/* The memory it holds, in bytes (0 for NULL). */
size_t pl_attachment_size(const pl_attachment *att);

/* 1 when `name` is 1..PL_ATT_MAX_NAME bytes of UTF-8 without '/', '\\' or
 * control characters: a file name, never a path. */
int pl_attachment_name_valid(const char *name);
/* 1 when `type` looks like a MIME type: type/subtype (with optional
 * parameters), 3..PL_ATT_MAX_TYPE printable ASCII bytes without spaces
 * before the first ';'. */
int pl_attachment_type_valid(const char *type);
/* How many chunks a file of `size` bytes has. */
uint64_t pl_attachment_chunks(uint64_t size);

#endif
