/* Codec for proactive messages (docs/protocol.md, "proactive"). */
#include "codec/proto_proactive.h"

#include <string.h>

#include "codec/json.h"
#include "codec/proto_blocks.h"

int pl_proto_encode_proactive_ack(const pl_alloc *a, const char *id, char **out, size_t *out_len)
{
    if (!id || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("proactive.ack");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(a, root, pl_json_add_str(root, "id", id), out, out_len);
}

static const char *const author_kinds[] = {"user", "bot", "agent", "system"};

static int decode_body(pl_json_dec *d, const cJSON *root, pl_item *p, char *skipped,
                       size_t skipped_size)
{
    const cJSON *msg, *author;
    int rc;
    if ((rc = pl_json_get_id(d, root, "id", 1, &p->id)) ||
        (rc = pl_json_get_object(d, root, "msg", 1, &msg)))
        return rc;
    d->where = "msg.";
    if ((rc = pl_json_get_string(d, msg, "text", 1, &p->text)))
        return rc;
    if (strlen(p->text) > PL_MAX_TEXT)
        return pl_json_bad(d, "'msg.text' exceeds %d bytes", PL_MAX_TEXT);
    if ((rc = pl_json_get_object(d, msg, "author", 1, &author)))
        return rc;
    d->where = "msg.author.";
    if ((rc = pl_json_get_enum(d, author, "kind", author_kinds, 4, &p->author_kind)) ||
        (rc = pl_json_get_string(d, author, "name", 0, &p->author_name)))
        return rc;
    d->where = "msg.";
    if ((rc = pl_json_get_integral(d, msg, "ts", 0, PL_JSON_TS_LIMIT, &p->ts)))
        return rc;
    /* The same blocks as a message's. */
    return pl_proto_content_of(d->a, msg, &p->content, skipped, skipped_size);
}

int pl_proto_decode_proactive(const pl_alloc *a, const pl_frame *f, pl_item *out, char *err,
                              size_t err_size, char *skipped, size_t skipped_size)
{
    memset(out, 0, sizeof *out);
    if (skipped && skipped_size)
        skipped[0] = '\0';
    if (!f || !f->doc)
        return PARLEY_ERR_INVALID_ARG;
    pl_json_dec d = {a, err, err_size, ""};
    int rc = decode_body(&d, f->doc, out, skipped, skipped_size);
    if (rc != PARLEY_OK)
        pl_item_clear(a, out);
    return rc;
}
