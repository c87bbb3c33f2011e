/* Codec for attachments: see proto_attach.h. */
#include "codec/proto_attach.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>

#include "codec/json.h"

/* Sizes and offsets travel as JSON numbers, exact up to 2^53. */
#define MAX_EXACT 9007199254740991.0
/* base64 of one chunk, and a little slack for a sloppy sender. */
#define MAX_B64 (4 * ((PL_ATT_CHUNK + 2) / 3))

/* ---- client -> server ------------------------------------------------------- */

int pl_proto_encode_att_begin(const pl_alloc *a, const pl_att_begin *b, char **out, size_t *len)
{
    cJSON *root = pl_json_new_frame("att.begin");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", b->cid) && pl_json_add_str(root, "name", b->name) &&
             pl_json_add_str(root, "type", b->type) &&
             cJSON_AddNumberToObject(root, "size", (double)b->size) &&
             pl_json_add_str(root, "sha256", b->sha256);
    return pl_json_finish(a, root, ok, out, len);
}

int pl_proto_encode_att_chunk(const pl_alloc *a, const char *cid, uint64_t i, const void *data,
                              size_t n, char **out, size_t *len)
{
    if (n > PL_ATT_CHUNK)
        return PARLEY_ERR_INVALID_ARG;
    /* On the heap: the caller may run on a game thread's small stack. */
    char *b64 = pl_malloc(a, MAX_B64 + 1), sha[PL_SHA256_HEX];
    size_t blen = 0;
    if (!b64)
        return PARLEY_ERR_NOMEM;
    if (mbedtls_base64_encode((unsigned char *)b64, MAX_B64 + 1, &blen, data, n) != 0) {
        pl_free(a, b64);
        return PARLEY_ERR_INVALID_ARG;
    }
    b64[blen] = '\0';
    pl_sha256_hex(data, n, sha);
    cJSON *root = pl_json_new_frame("att.chunk");
    int ok = root && pl_json_add_str(root, "cid", cid) &&
             cJSON_AddNumberToObject(root, "i", (double)i) && pl_json_add_str(root, "data", b64) &&
             pl_json_add_str(root, "sha256", sha);
    pl_free(a, b64);
    if (!root)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(a, root, ok, out, len);
}

int pl_proto_encode_att_get(const pl_alloc *a, const char *req, const char *id, uint64_t from,
                            uint32_t count, char **out, size_t *len)
{
    cJSON *root = pl_json_new_frame("att.get");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "req", req) && pl_json_add_str(root, "id", id) &&
             cJSON_AddNumberToObject(root, "from", (double)from) &&
             cJSON_AddNumberToObject(root, "count", count);
    return pl_json_finish(a, root, ok, out, len);
}

int pl_proto_encode_msg_attachment(const pl_alloc *a, const char *cid, const char *conv,
                                   const char *caption, const char *sha256, char **out, size_t *len)
{
    cJSON *root = pl_json_new_frame("msg.send"), *att = NULL;
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "conv", conv) &&
             pl_json_add_str(root, "text", caption ? caption : "") &&
             (att = cJSON_AddObjectToObject(root, "attachment")) &&
             pl_json_add_str(att, "sha256", sha256);
    return pl_json_finish(a, root, ok, out, len);
}

/* ---- server -> client ------------------------------------------------------- */

static const char *const reply_types[] = {NULL, "att.offset", "att.ack", "att.nack", "att.done"};

pl_att_reply_kind pl_proto_att_reply_kind(const char *type_name)
{
    for (int k = PL_ATT_REPLY_OFFSET; k <= PL_ATT_REPLY_DONE; k++)
        if (type_name && strcmp(type_name, reply_types[k]) == 0)
            return (pl_att_reply_kind)k;
    return PL_ATT_REPLY_NONE;
}

/* A required count member, 0..2^53. */
static int get_count(pl_json_dec *d, const cJSON *obj, const char *key, uint64_t *out)
{
    int64_t v = 0;
    if (!pl_json_member(obj, key))
        return pl_json_bad_member(d, key);
    int rc = pl_json_get_integral(d, obj, key, 0, MAX_EXACT, &v);
    *out = (uint64_t)v;
    return rc;
}

/* A member of 64 lowercase hex digits into out. */
static int get_sha(pl_json_dec *d, const cJSON *obj, const char *key, char out[PL_SHA256_HEX])
{
    const cJSON *v = pl_json_member(obj, key);
    if (!cJSON_IsString(v) || !pl_sha256_valid(v->valuestring))
        return pl_json_bad_member(d, key);
    memcpy(out, v->valuestring, PL_SHA256_HEX);
    return PARLEY_OK;
}

int pl_proto_decode_att_reply(const pl_alloc *a, const pl_frame *f, pl_att_reply *out, char *err,
                              size_t err_size)
{
    memset(out, 0, sizeof *out);
    pl_json_dec d = {a, err, err_size, ""};
    out->kind = pl_proto_att_reply_kind(f->type_name);
    if (!out->kind || !f->doc)
        return PARLEY_ERR_INVALID_ARG;
    int rc = pl_json_get_id(&d, f->doc, "cid", 1, &out->cid);
    if (!rc && out->kind != PL_ATT_REPLY_DONE)
        rc = get_count(&d, f->doc, out->kind == PL_ATT_REPLY_NACK ? "i" : "next", &out->n);
    const cJSON *reason = pl_json_member(f->doc, "reason");
    out->hash_failed = out->kind == PL_ATT_REPLY_OFFSET && cJSON_IsString(reason) &&
                       strcmp(reason->valuestring, "sha256") == 0;
    if (rc)
        pl_att_reply_clear(a, out);
    return rc;
}

void pl_att_reply_clear(const pl_alloc *a, pl_att_reply *r)
{
    pl_free(a, r->cid);
    memset(r, 0, sizeof *r);
}

int pl_proto_is_att_data(const char *type_name)
{
    return type_name && strcmp(type_name, "att.data") == 0;
}

static int decode_data(pl_json_dec *d, const cJSON *doc, pl_att_data *out)
{
    const cJSON *data = pl_json_member(doc, "data");
    if (!cJSON_IsString(data) || strlen(data->valuestring) > MAX_B64)
        return pl_json_bad_member(d, "data");
    size_t blen = strlen(data->valuestring), n = 0;
    if (!(out->data = pl_malloc(d->a, PL_ATT_CHUNK + 1)))
        return PARLEY_ERR_NOMEM;
    if (mbedtls_base64_decode(out->data, PL_ATT_CHUNK, &n, (const unsigned char *)data->valuestring,
                              blen) != 0)
        return pl_json_bad(d, "data is not base64 of at most %d bytes", PL_ATT_CHUNK);
    out->len = n;
    return PARLEY_OK;
}

int pl_proto_decode_att_data(const pl_alloc *a, const pl_frame *f, pl_att_data *out, char *err,
                             size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (!pl_proto_is_att_data(f->type_name) || !f->doc)
        return PARLEY_ERR_INVALID_ARG;
    pl_json_dec d = {a, err, err_size, ""};
    int rc = pl_json_get_id(&d, f->doc, "req", 1, &out->req);
    if (!rc)
        rc = pl_json_get_id(&d, f->doc, "id", 1, &out->id);
    if (!rc)
        rc = get_count(&d, f->doc, "i", &out->i);
    if (!rc)
        rc = get_count(&d, f->doc, "size", &out->size);
    if (!rc)
        rc = get_sha(&d, f->doc, "file_sha256", out->file_sha256);
    if (!rc)
        rc = get_sha(&d, f->doc, "sha256", out->sha256);
    if (!rc)
        rc = decode_data(&d, f->doc, out);
    if (rc)
        pl_att_data_clear(a, out);
    return rc;
}

void pl_att_data_clear(const pl_alloc *a, pl_att_data *d)
{
    pl_free(a, d->req);
    pl_free(a, d->id);
    pl_free(a, d->data);
    memset(d, 0, sizeof *d);
}

/* ---- a message's attachment ---------------------------------------------------- */

static int attachment_members(pl_json_dec *d, const cJSON *o, pl_attachment *att)
{
    char sha[PL_SHA256_HEX];
    int rc = pl_json_get_id(d, o, "id", 1, &att->id);
    if (!rc)
        rc = pl_json_get_string(d, o, "name", 1, &att->name);
    if (!rc && !pl_attachment_name_valid(att->name))
        rc = pl_json_bad_member(d, "name");
    if (!rc)
        rc = pl_json_get_string(d, o, "type", 1, &att->type);
    if (!rc && !pl_attachment_type_valid(att->type))
        rc = pl_json_bad_member(d, "type");
    if (!rc)
        rc = get_count(d, o, "size", &att->size);
    if (!rc && !att->size)
        rc = pl_json_bad_member(d, "size");
    if (!rc)
        rc = get_sha(d, o, "sha256", sha);
    if (!rc && !(att->sha256 = pl_strdup(d->a, sha)))
        rc = PARLEY_ERR_NOMEM;
    return rc;
}

int pl_proto_attachment_of(const pl_alloc *a, const void *obj, pl_attachment **out, char *err,
                           size_t err_size)
{
    *out = NULL;
    if (err && err_size)
        err[0] = '\0';
    const cJSON *o = pl_json_member(obj, "attachment");
    if (!o)
        return PARLEY_OK;
    char why[160] = "";
    pl_json_dec d = {a, why, sizeof why, "attachment."};
    pl_attachment *att = cJSON_IsObject(o) ? pl_attachment_new(a) : NULL;
    if (cJSON_IsObject(o) && !att)
        return PARLEY_ERR_NOMEM;
    int rc = att ? attachment_members(&d, o, att) : PARLEY_ERR_PROTOCOL;
    if (rc == PARLEY_OK) {
        *out = att;
        return PARLEY_OK;
    }
    pl_attachment_free(a, att);
    if (rc == PARLEY_ERR_NOMEM)
        return rc;
    if (err && err_size)
        snprintf(err, err_size, "attachment left out: %s", why[0] ? why : "not an object");
    return PARLEY_OK;
}

int pl_proto_msg_attachment(const pl_alloc *a, const pl_frame *f, pl_attachment **out, char *err,
                            size_t err_size)
{
    return pl_proto_attachment_of(a, f->doc, out, err, err_size);
}
