/* Shared by the codec's files (proto.c and the per-feature readers and
 * writers proto_*.c): the strict decoding context and the cJSON helpers.
 * Only codec files include this, and only they include cJSON. */
#ifndef PARLEY_PROTO_INTERNAL_H
#define PARLEY_PROTO_INTERNAL_H

#include <cjson/cJSON.h>

#include "proto.h"

typedef struct dctx {
    const palloc *a;
    char *err;
    size_t err_size;
    const char *where; /* "author." etc. while inside a nested object */
} dctx;

/* Formats the reason into d->err; returns PARLEY_ERR_PROTOCOL. */
int bad(dctx *d, const char *fmt, ...);
int bad_member(dctx *d, const char *key);
const cJSON *member(const cJSON *obj, const char *key);
/* Member readers: PARLEY_OK (absent optional members leave *dst alone),
 * PARLEY_ERR_PROTOCOL with the reason, or NOMEM. Strings are copied with
 * d->a. */
int get_string(dctx *d, const cJSON *obj, const char *key, int required, char **dst);
int get_id(dctx *d, const cJSON *obj, const char *key, int required, char **dst);
int parse_seq(const char *s, uint64_t *out);
int get_seq(dctx *d, const cJSON *obj, uint64_t *dst);
int integral_in(const cJSON *v, double lo, double hi, int64_t *out);
int get_integral(dctx *d, const cJSON *obj, const char *key, double lo, double hi, int64_t *dst);
int get_object(dctx *d, const cJSON *obj, const char *key, int required, const cJSON **dst);
/* names[i] maps to i + 1. */
int get_enum(dctx *d, const cJSON *obj, const char *key, const char *const *names, size_t n, int *dst);

/* Builders return 0 when cJSON ran out of memory. */
int add_str(cJSON *obj, const char *key, const char *val);
int add_opt_str(cJSON *obj, const char *key, const char *val);
cJSON *new_frame(const char *type);
/* Prints the tree into a's memory as *out (NUL-terminated, *out_len bytes)
 * and frees the tree; `ok` 0 means building failed (NOMEM). */
int finish(const palloc *a, cJSON *root, int ok, char **out, size_t *out_len);

#endif
