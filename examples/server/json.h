/* Wire-level JSON helpers for parley.v1 (docs/protocol.md, "Limits"). The
 * server applies the same limits as the client codec so that whatever it
 * accepts, a client can also accept. */
#ifndef PARLEY_SERVER_JSON_H
#define PARLEY_SERVER_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#define PJ_MAX_FRAME 65536
#define PJ_MAX_DEPTH 16
#define PJ_MAX_STRING 16384
#define PJ_MAX_ID 128
#define PJ_MAX_TYPE 32
#define PJ_SEQ_MAX INT64_C(9007199254740991)
#define PJ_SEQ_BUF 24

/* Parses one frame. `buf` must hold `len` bytes followed by a NUL. Returns a
 * JSON object, or NULL with a human-readable reason in *why when the frame is
 * malformed (not JSON, not an object, NUL bytes, \u0000 escapes, duplicate
 * keys, invalid UTF-8, too deep, string too long). */
cJSON *pj_parse(const char *buf, size_t len, const char **why);

/* 1 if `s` is a valid identifier: 1..128 bytes of printable ASCII. */
int pj_is_ident(const char *s);

/* Parses a decimal seq string ("1" .. "9007199254740991", no sign, no
 * leading zero). "0" is accepted too because a cursor starts there.
 * Returns 0 on success, -1 otherwise. */
int pj_parse_seq(const char *s, int64_t *out);

void pj_format_seq(int64_t seq, char out[PJ_SEQ_BUF]);

int pj_utf8_valid(const char *s, size_t len);

/* The string member `key` of `obj`, or NULL when absent or not a string. */
const char *pj_string(const cJSON *obj, const char *key);

#endif
