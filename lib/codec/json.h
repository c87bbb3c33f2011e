/* The codec's JSON toolkit, shared by its files (codec/proto_*.c): the
 * strict parse, the decoding context with its error text, member readers
 * and frame builders. Only codec files include this, and only they
 * include cJSON. */
#ifndef PARLEY_CODEC_JSON_H
#define PARLEY_CODEC_JSON_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "model/limits.h"
#include "util/alloc.h"

typedef struct pl_json_dec {
    const pl_alloc *a;
    char *err;
    size_t err_size;
    const char *where; /* "author." etc. while inside a nested object */
} pl_json_dec;

/* Parses buf[len] under the wire rules (strict RFC 8259 grammar, strict
 * UTF-8, no \u0000, nesting at most PL_MAX_DEPTH, strings at most
 * PL_MAX_STRING bytes, no duplicate keys) into *out (cJSON_Delete it).
 * PARLEY_ERR_PROTOCOL with the reason in d, or NOMEM. */
int pl_json_parse(pl_json_dec *d, const char *buf, size_t len, cJSON **out);
/* pl_json_parse in two steps: the checks of the text (*doc_end: where the
 * value ends), then the tree and the checks on it. */
int pl_json_check(pl_json_dec *d, const char *buf, size_t len, const char **doc_end);
int pl_json_parse_checked(pl_json_dec *d, const char *buf, size_t len, const char *doc_end,
                          cJSON **out);

/* A member of an object read in place (pl_json_flat). */
typedef struct pl_json_flat_member {
    const char *key; /* the raw name, key_len bytes, never escaped */
    size_t key_len;
    char kind;       /* 's' string, 'n' number, '{' object */
    int escaped;     /* a string holding escapes */
    const char *val; /* string: between the quotes, raw; number: the literal; object: {...} */
    size_t val_len;
} pl_json_flat_member;

/* The members of an object, in text pl_json_check accepted, into m[max]:
 * their count, or -1 when the object is not flat (an array, true, false or
 * null as a value, an escaped or a duplicate name, more than max members),
 * which the caller hands to the full parse. Nested objects are left whole
 * for another call. */
int pl_json_flat(const char *obj, size_t len, pl_json_flat_member *m, int max);
/* 1 when m's name is `key`. */
int pl_json_flat_is(const pl_json_flat_member *m, const char *key);
/* m's string decoded and NUL-terminated at *arena, which moves past it
 * (room: val_len + 1 bytes; decoding never grows a string). */
char *pl_json_flat_str(const pl_json_flat_member *m, char **arena);

/* Formats the reason into d->err; returns PARLEY_ERR_PROTOCOL. */
int pl_json_bad(pl_json_dec *d, const char *fmt, ...);
int pl_json_bad_member(pl_json_dec *d, const char *key);
const cJSON *pl_json_member(const cJSON *obj, const char *key);
/* Member readers: PARLEY_OK (absent optional members leave *dst alone),
 * PARLEY_ERR_PROTOCOL with the reason, or NOMEM. Strings are copied with
 * d->a. */
int pl_json_get_string(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst);
int pl_json_get_id(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst);
/* The same without the copy: *dst borrows the tree's string. */
int pl_json_ref_string(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                       const char **dst);
int pl_json_ref_id(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                   const char **dst);
/* A seq as the wire writes it: decimal, 1..PL_SEQ_MAX, no leading zero. */
int pl_json_parse_seq(const char *s, uint64_t *out);
int pl_json_get_seq(pl_json_dec *d, const cJSON *obj, uint64_t *dst);
int pl_json_integral_in(const cJSON *v, double lo, double hi, int64_t *out);
int pl_json_get_integral(pl_json_dec *d, const cJSON *obj, const char *key, double lo, double hi,
                         int64_t *dst);
int pl_json_get_object(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                       const cJSON **dst);
/* names[i] maps to i + 1. */
int pl_json_get_enum(pl_json_dec *d, const cJSON *obj, const char *key, const char *const *names,
                     size_t n, int *dst);
/* A non-empty string member of at most max bytes; an absent optional one
 * leaves *dst alone. */
int pl_json_get_bounded(pl_json_dec *d, const cJSON *obj, const char *key, int required, size_t max,
                        char **dst);
/* The same, holding an http(s) URL of at most PL_MAX_URL bytes. */
int pl_json_get_url(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst);
/* An array member of min..max entries in *arr and *n; *arr NULL (and OK)
 * when absent and min is 0. */
int pl_json_get_array(pl_json_dec *d, const cJSON *obj, const char *key, int min, int max,
                      const cJSON **arr, int *n);
/* A seq member (pl_json_parse_seq's rules) copied as its string. */
int pl_json_get_seq_str(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                        char **dst);
/* A count member, 0..UINT32_MAX; absent: 0. */
int pl_json_get_count(pl_json_dec *d, const cJSON *obj, const char *key, uint32_t *out);
/* An "author" object: its kind (PARLEY_AUTHOR_*) and optional name. */
int pl_json_get_author(pl_json_dec *d, const cJSON *obj, int required, int *kind, char **name);

/* A string as a JSON value, quoted and escaped exactly as cJSON prints it:
 * its size in bytes, and the writer (returns the end). For frames built
 * without a tree. */
size_t pl_json_str_size(const char *s);
char *pl_json_put_str(char *o, const char *s);
/* Builders return 0 when cJSON ran out of memory. */
int pl_json_add_str(cJSON *obj, const char *key, const char *val);
int pl_json_add_opt_str(cJSON *obj, const char *key, const char *val);
cJSON *pl_json_new_frame(const char *type);
/* Prints the tree into a's memory as *out (NUL-terminated, *out_len bytes)
 * and frees the tree; `ok` 0 means building failed (NOMEM). */
int pl_json_finish(const pl_alloc *a, cJSON *root, int ok, char **out, size_t *out_len);

/* Any integral ms value a double holds exactly. */
#define PL_JSON_TS_LIMIT 9007199254740991.0

#endif
