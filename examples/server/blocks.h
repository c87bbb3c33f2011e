/* Structured content of bot and agent messages (docs/protocol.md,
 * "Structured content"): the server checks every block it sends against the
 * wire rules, so that a client never has to skip one of ours. */
#ifndef PARLEY_SERVER_BLOCKS_H
#define PARLEY_SERVER_BLOCKS_H

#include <stddef.h>

#include <cjson/cJSON.h>

#define BLOCKS_MAX 10
#define BLOCKS_MAX_OPTIONS 13
#define BLOCKS_MAX_CARDS 10
#define BLOCKS_MAX_LABEL 128
#define BLOCKS_MAX_TITLE 256
#define BLOCKS_MAX_TEXT 4096
#define BLOCKS_MAX_PAYLOAD 1024
#define BLOCKS_MAX_URL 2048

/* Checks `in` (a message's `blocks` array) against the wire rules and
 * returns a copy holding only the members the protocol defines (free with
 * cJSON_Delete). NULL with the reason in `why` (naming the block and the
 * rule) when a rule is broken, or "out of memory". */
cJSON *blocks_normalize(const cJSON *in, char *why, size_t cap);

/* The postback choice `id` (a quick reply, or a button whose action is
 * postback) among checked `blocks`: 1 with its label and payload (NULL when
 * it has none) borrowed from `blocks`, 0 when there is none. */
int blocks_find_postback(const cJSON *blocks, const char *id, const char **label,
                         const char **payload);

/* 1 when some option or button of checked `blocks` has the id `id`. */
int blocks_has_id(const cJSON *blocks, const char *id);

#endif
