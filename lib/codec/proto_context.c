/* Codec for the user's context (docs/protocol.md, "context", "event"). */
#include "codec/proto_context.h"

#include <string.h>

#include "codec/json.h"

static cJSON *attr_value(const pl_attr *at)
{
    switch (at->type) {
    case PL_ATTR_STR: return cJSON_CreateString(at->str ? at->str : "");
    case PL_ATTR_NUM: return cJSON_CreateNumber(at->num);
    case PL_ATTR_BOOL: return cJSON_CreateBool(at->boolean != 0);
    case PL_ATTR_NULL: return cJSON_CreateNull();
    case PL_ATTR_JSON: return cJSON_CreateRaw(at->str ? at->str : "{}");
    }
    return NULL;
}

/* {"k":v,...}; a repeated key keeps its last value so the output never
 * carries the duplicate keys that make a frame malformed. */
static int add_values(cJSON *obj, const char *name, const pl_attr *attrs, size_t n)
{
    if (!n)
        return 1;
    cJSON *o = cJSON_AddObjectToObject(obj, name);
    if (!o)
        return 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *v = attr_value(&attrs[i]);
        if (!v)
            return 0;
        cJSON_DeleteItemFromObjectCaseSensitive(o, attrs[i].key);
        if (!cJSON_AddItemToObject(o, attrs[i].key, v)) {
            cJSON_Delete(v);
            return 0;
        }
    }
    return 1;
}

static int add_crumbs(cJSON *obj, const pl_crumb *crumbs, size_t n)
{
    if (!n)
        return 1;
    cJSON *arr = cJSON_AddArrayToObject(obj, "breadcrumbs");
    if (!arr)
        return 0;
    for (size_t i = 0; i < n; i++) {
        cJSON *c = cJSON_CreateObject();
        if (!c || !cJSON_AddItemToArray(arr, c)) {
            cJSON_Delete(c);
            return 0;
        }
        if (!pl_json_add_str(c, "text", crumbs[i].text) ||
            !cJSON_AddNumberToObject(c, "ts", (double)crumbs[i].ts))
            return 0;
    }
    return 1;
}

static int values_ok(const pl_attr *v, size_t n)
{
    if (n && !v)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (!v[i].key || v[i].type < PL_ATTR_STR || v[i].type > PL_ATTR_JSON)
            return 0;
        /* cJSON would print NaN and infinities as null. */
        if (v[i].type == PL_ATTR_NUM && v[i].num - v[i].num != 0)
            return 0;
    }
    return 1;
}

static int context_ok(const pl_context *c)
{
    return c && values_ok(c->attrs, c->n_attrs) && values_ok(c->device, c->n_device) &&
           (!c->n_crumbs || c->crumbs);
}

static int add_parts(cJSON *obj, const pl_context *c)
{
    return add_values(obj, "attributes", c->attrs, c->n_attrs) &&
           pl_json_add_opt_str(obj, "screen", c->screen) &&
           add_crumbs(obj, c->crumbs, c->n_crumbs) &&
           add_values(obj, "device", c->device, c->n_device);
}

int pl_proto_encode_context(const pl_alloc *a, int full, const pl_context *c, char **out,
                            size_t *out_len)
{
    if (!out || !context_ok(c))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("context");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = cJSON_AddBoolToObject(root, "full", full != 0) && add_parts(root, c);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_snapshot(const pl_alloc *a, const pl_context *c, char **out, size_t *out_len)
{
    if (!out || !context_ok(c))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = add_parts(root, c) && (!c->truncated || cJSON_AddTrueToObject(root, "truncated"));
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_event(const pl_alloc *a, const char *cid, const char *name, const char *meta,
                          int64_t ts, char **out, size_t *out_len)
{
    if (!cid || !name || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("event");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "name", name) &&
             (!meta || cJSON_AddRawToObject(root, "meta", meta)) &&
             cJSON_AddNumberToObject(root, "ts", (double)ts);
    return pl_json_finish(a, root, ok, out, out_len);
}

typedef struct mapper {
    const pl_alloc *a;
    pl_json_str_fn fn;
    void *user;
} mapper;

/* Depth is bounded by the object's validation (pl_proto_json_object). */
static int map_node(const mapper *m, cJSON *node)
{
    for (cJSON *c = node->child; c; c = c->next) {
        if (cJSON_IsString(c)) {
            char *nv = NULL;
            int rc = m->fn(m->user, c->valuestring, &nv);
            if (rc != PARLEY_OK)
                return rc;
            char *copy = cJSON_malloc(strlen(nv) + 1);
            if (copy)
                memcpy(copy, nv, strlen(nv) + 1);
            pl_free(m->a, nv);
            if (!copy)
                return PARLEY_ERR_NOMEM;
            cJSON_free(c->valuestring);
            c->valuestring = copy;
        } else if (c->child) {
            int rc = map_node(m, c);
            if (rc != PARLEY_OK)
                return rc;
        }
    }
    return PARLEY_OK;
}

int pl_proto_json_map_strings(const pl_alloc *a, const char *json, pl_json_str_fn fn, void *user,
                              char **out)
{
    if (!json || !fn || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = cJSON_Parse(json);
    if (!root)
        return PARLEY_ERR_NOMEM;
    mapper m = {a, fn, user};
    int rc = map_node(&m, root);
    if (rc != PARLEY_OK) {
        cJSON_Delete(root);
        return rc;
    }
    return pl_json_finish(a, root, 1, out, NULL);
}

static int depth_of(const cJSON *node)
{
    int deepest = 0;
    for (const cJSON *c = node->child; c; c = c->next) {
        int d = c->child || cJSON_IsObject(c) || cJSON_IsArray(c) ? depth_of(c) : 0;
        if (d > deepest)
            deepest = d;
    }
    return deepest + 1;
}

int pl_proto_json_object(const pl_alloc *a, const char *text, size_t max_len, int max_depth,
                         char **canon)
{
    if (!text || !canon)
        return PARLEY_ERR_INVALID_ARG;
    size_t len = strnlen(text, max_len + 1);
    if (len > max_len)
        return PARLEY_ERR_TOO_LONG;
    pl_json_dec d = {a, NULL, 0, ""};
    cJSON *root = NULL;
    int rc = pl_json_parse(&d, text, len, &root);
    if (rc == PARLEY_OK && (!cJSON_IsObject(root) || depth_of(root) > max_depth))
        rc = PARLEY_ERR_PROTOCOL;
    if (rc != PARLEY_OK) {
        cJSON_Delete(root);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_INVALID_ARG;
    }
    return pl_json_finish(a, root, 1, canon, NULL);
}
