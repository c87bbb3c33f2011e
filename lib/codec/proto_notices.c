/* Codec for typing, read and unread (docs/protocol.md). */
#include "codec/proto_notices.h"

#include <string.h>

#include "codec/json.h"

typedef int (*notice_fn)(pl_json_dec *d, const cJSON *root, pl_item *out);

/* Runs fn over the frame's document; on failure `out` holds nothing. */
static int decode(const pl_alloc *a, const pl_frame *f, notice_fn fn, pl_item *out, char *err,
                  size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (err && err_size)
        err[0] = '\0';
    if (!f->doc)
        return PARLEY_ERR_INVALID_ARG;
    pl_json_dec d = {a, err, err_size, ""};
    int rc = fn(&d, f->doc, out);
    if (rc != PARLEY_OK)
        pl_item_clear(a, out);
    return rc;
}

static int typing(pl_json_dec *d, const cJSON *root, pl_item *out)
{
    const cJSON *on = pl_json_member(root, "on");
    if (!cJSON_IsBool(on))
        return pl_json_bad_member(d, "on");
    out->state = cJSON_IsTrue(on) ? PARLEY_TYPING_ON : PARLEY_TYPING_OFF;
    int rc = pl_json_get_id(d, root, "conv", 1, &out->conv);
    return rc ? rc : pl_json_get_author(d, root, 0, &out->author_kind, &out->author_name);
}

static int read_mark(pl_json_dec *d, const cJSON *root, pl_item *out)
{
    int rc = pl_json_get_id(d, root, "conv", 1, &out->conv);
    return rc ? rc : pl_json_get_seq_str(d, root, "seq", 1, &out->seq);
}

static int unread(pl_json_dec *d, const cJSON *root, pl_item *out)
{
    int rc = pl_json_get_id(d, root, "conv", 1, &out->conv);
    if (!rc && !pl_json_member(root, "count"))
        rc = pl_json_bad_member(d, "count");
    if (!rc)
        rc = pl_json_get_count(d, root, "count", &out->count);
    /* The conversation's newest seq: how a new device learns of it. */
    return rc ? rc : pl_json_get_seq_str(d, root, "last_seq", 0, &out->seq);
}

int pl_proto_decode_typing(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                           size_t err_size)
{
    return decode(a, f, typing, out, err, err_size);
}

int pl_proto_decode_read(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                         size_t err_size)
{
    return decode(a, f, read_mark, out, err, err_size);
}

int pl_proto_decode_unread(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                           size_t err_size)
{
    return decode(a, f, unread, out, err, err_size);
}

int pl_proto_encode_typing(const pl_alloc *a, const char *conv, int on, char **out, size_t *out_len)
{
    if (!conv || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("typing");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "conv", conv) && cJSON_AddBoolToObject(root, "on", on != 0);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_read(const pl_alloc *a, const char *conv, uint64_t seq, char **out,
                         size_t *out_len)
{
    if (!conv || !out || !seq)
        return PARLEY_ERR_INVALID_ARG;
    char s[21];
    pl_proto_seq_str(seq, s);
    cJSON *root = pl_json_new_frame("read");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "conv", conv) && pl_json_add_str(root, "seq", s);
    return pl_json_finish(a, root, ok, out, out_len);
}
