/* Codec for the user's context (docs/protocol.md, "context", "event"):
 * context frames and snapshots, tracked events, and the host's JSON
 * objects (attribute values, event metadata) checked under the wire
 * rules. */
#ifndef PARLEY_PROTO_CONTEXT_H
#define PARLEY_PROTO_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "model/limits.h"
#include "util/alloc.h"

typedef enum {
    PL_ATTR_STR = 1,
    PL_ATTR_NUM,
    PL_ATTR_BOOL,
    PL_ATTR_NULL,
    PL_ATTR_JSON
} pl_attr_type;

/* A typed value under a key: attributes and (strings only) device facts.
 * `str` is the string, or for PL_ATTR_JSON a compact object text from
 * pl_proto_json_object. */
typedef struct pl_attr {
    const char *key;
    pl_attr_type type;
    const char *str;
    double num;
    int boolean;
} pl_attr;

typedef struct pl_crumb {
    const char *text;
    int64_t ts; /* ms since the Unix epoch */
} pl_crumb;

/* What a context frame or snapshot carries; empty parts are left out. */
typedef struct pl_context {
    const pl_attr *attrs;
    size_t n_attrs;
    const char *screen; /* NULL: not included */
    const pl_crumb *crumbs;
    size_t n_crumbs;
    const pl_attr *device;
    size_t n_device;
    int truncated; /* snapshots: parts were left out to fit the frame */
} pl_context;

/* Encoders as in proto_frames.h: *out allocated with `a`, *out_len its
 * length; PARLEY_ERR_INVALID_ARG for a broken promise of the caller. */

/* {"t":"context","full":...,...}: the whole state or a patch. */
int pl_proto_encode_context(const pl_alloc *a, int full, const pl_context *c, char **out,
                            size_t *out_len);
/* The same members as one JSON object text, for conv.start/msg.send. */
int pl_proto_encode_snapshot(const pl_alloc *a, const pl_context *c, char **out, size_t *out_len);
/* {"t":"event",...}; `meta` NULL or an object text from pl_proto_json_object. */
int pl_proto_encode_event(const pl_alloc *a, const char *cid, const char *name, const char *meta,
                          int64_t ts, char **out, size_t *out_len);

/* Host-supplied JSON (attribute values, event metadata): must be one
 * object, valid under the wire rules, at most max_len bytes and max_depth
 * levels deep. On PARLEY_OK *canon is its compact form (allocated with
 * `a`). Errors: TOO_LONG, INVALID_ARG, NOMEM. */
int pl_proto_json_object(const pl_alloc *a, const char *text, size_t max_len, int max_depth,
                         char **canon);
/* Rewrites every string value inside the object text `json` through `fn`
 * (which returns a new string allocated with `a` in *out, or an error) and
 * prints the result. Keys are left alone. */
typedef int (*pl_json_str_fn)(void *user, const char *in, char **out);
int pl_proto_json_map_strings(const pl_alloc *a, const char *json, pl_json_str_fn fn, void *user,
                              char **out);

#endif
