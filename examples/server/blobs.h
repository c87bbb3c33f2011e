/* Files on disk under the server's data dir (--data-dir): every stored
 * attachment once, named by its SHA-256 (blobs/<first two hex>/<hash>), so
 * the same bytes uploaded twice take the room of one; and the partial
 * files of uploads in progress (uploads/<n>.part), which an upload
 * resumes from after a lost connection or a restart. Not SQL: the store
 * keeps the records, this the bytes. */
#ifndef PARLEY_SERVER_BLOBS_H
#define PARLEY_SERVER_BLOBS_H

#include <stddef.h>
#include <stdint.h>

#define BLOBS_SHA_HEX 65
#define BLOBS_PATH_MAX 4096

typedef struct blobs blobs;

/* Creates the directories when missing (mode 0700). 0, or -1 with the
 * reason in why. */
int blobs_open(const char *dir, blobs **out, char *why, size_t cap);
void blobs_close(blobs *b);

/* ---- uploads in progress ---- */

/* The bytes of upload `n` so far (0 when it has none), or -1. */
int64_t blobs_part_size(blobs *b, int64_t n);
/* Writes at `off`, dropping whatever lay beyond it (a torn tail): 0 or -1. */
int blobs_part_write(blobs *b, int64_t n, int64_t off, const void *data, size_t len);
/* Its first bytes, for the type's signature: how many were read, or -1. */
int blobs_part_head(blobs *b, int64_t n, unsigned char *head, size_t cap);
int blobs_part_hash(blobs *b, int64_t n, char sha[BLOBS_SHA_HEX]);
/* The part becomes the blob of `sha` (synced), or goes when that blob
 * exists already: 0 or -1. */
int blobs_part_commit(blobs *b, int64_t n, const char *sha);
void blobs_part_discard(blobs *b, int64_t n);

/* ---- any file (an agent's upload, streamed by http.c) ---- */

/* A fresh temporary path in the uploads directory: 0 or -1. */
int blobs_temp_path(blobs *b, char *out, size_t cap);
/* The file at `path` becomes the blob of `sha`, like a part: 0 or -1. */
int blobs_commit_file(blobs *b, const char *path, const char *sha);
/* Its first bytes: how many were read, or -1. */
int blobs_file_head(const char *path, unsigned char *head, size_t cap);

/* ---- stored blobs ---- */

/* The path of the blob of `sha`: 0, or -1 when it is not stored. */
int blobs_path(blobs *b, const char *sha, char *out, size_t cap);

#endif
