/* Shared by the codec's files (proto.c and the per-feature readers and
 * writers proto_*.c): the strict decoding context and the cJSON helpers.
 * Only codec files include this, and only they include cJSON. */
#ifndef PARLEY_PROTO_INTERNAL_H
#define PARLEY_PROTO_INTERNAL_H

#include <cjson/cJSON.h>

#include "codec/proto.h"

typedef struct pl_json_dec {
    const pl_alloc *a;
    char *err;
    size_t err_size;
    const char *where; /* "author." etc. while inside a nested object */
} pl_json_dec;

/* Formats the reason into d->err; returns PARLEY_ERR_PROTOCOL. */
int pl_json_bad(pl_json_dec *d, const char *fmt, ...);
int pl_json_bad_member(pl_json_dec *d, const char *key);
const cJSON *pl_json_member(const cJSON *obj, const char *key);
/* Member readers: PARLEY_OK (absent optional members leave *dst alone),
 * PARLEY_ERR_PROTOCOL with the reason, or NOMEM. Strings are copied with
 * d->a. */
int pl_json_get_string(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst);
int pl_json_get_id(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst);
int pl_json_parse_seq(const char *s, uint64_t *out);
int pl_json_get_seq(pl_json_dec *d, const cJSON *obj, uint64_t *dst);
int pl_json_integral_in(const cJSON *v, double lo, double hi, int64_t *out);
int pl_json_get_integral(pl_json_dec *d, const cJSON *obj, const char *key, double lo, double hi, int64_t *dst);
int pl_json_get_object(pl_json_dec *d, const cJSON *obj, const char *key, int required, const cJSON **dst);
/* names[i] maps to i + 1. */
int pl_json_get_enum(pl_json_dec *d, const cJSON *obj, const char *key, const char *const *names, size_t n, int *dst);

/* Builders return 0 when cJSON ran out of memory. */
int pl_json_add_str(cJSON *obj, const char *key, const char *val);
int pl_json_add_opt_str(cJSON *obj, const char *key, const char *val);
cJSON *pl_json_new_frame(const char *type);
/* Prints the tree into a's memory as *out (NUL-terminated, *out_len bytes)
 * and frees the tree; `ok` 0 means building failed (NOMEM). */
int pl_json_finish(const pl_alloc *a, cJSON *root, int ok, char **out, size_t *out_len);

#endif
