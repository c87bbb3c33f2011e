/* Files over the agents' HTTP API, the disk side: a request body that is a
 * file (an agent's attachment) streamed to a temporary file under the data
 * dir as it arrives, hashed on the way, never held in memory. http.c does
 * the HTTP; this the bytes. */
#ifndef PARLEY_SERVER_HTTP_FILES_H
#define PARLEY_SERVER_HTTP_FILES_H

#include <stddef.h>
#include <stdint.h>

#include "blobs.h"

typedef struct http_sink http_sink;

/* A fresh temporary file in `b`'s uploads; NULL on failure. */
http_sink *httpf_sink_new(blobs *b);
/* 0, or -1 (disk full...). */
int httpf_sink_write(http_sink *k, const void *data, size_t len);
/* Closes the file: its path (until httpf_sink_free), size and SHA-256.
 * 0 or -1. */
int httpf_sink_finish(http_sink *k, const char **path, int64_t *size, char sha[BLOBS_SHA_HEX]);
/* Removes the file unless it was moved away, and frees. NULL is a no-op. */
void httpf_sink_free(http_sink *k);

#endif
