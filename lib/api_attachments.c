/* Public API of attachments (parley.h, "attachments"): sending a file or
 * the host's bytes as a message, fetching one. The accessors of their
 * events are in session/event.c. */
#include <string.h>

#include "client.h"
#include "util/utf8.h"

#define DEFAULT_TYPE "application/octet-stream"

/* The last part of a path, as the attachment's name when none is given. */
static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/'), *back = strrchr(path, '\\');
    const char *last = slash > back ? slash : back;
    return last ? last + 1 : path;
}

/* The caption is checked like any message text (the conversation too, so
 * NOT_FOUND speaks of it before the file), then redacted. */
static int send_src(parley_client *pc, const char *conv_id, pl_upload_src *src, char *msg_id_out,
                    size_t out_size)
{
    if (!pc || !conv_id || (msg_id_out && out_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE], *redacted = NULL;
    const char *caption = src->caption && *src->caption ? src->caption : NULL;
    pl_client_enter(pc);
    int rc = pl_sess_conv_use(pc->sess, conv_id);
    if (rc == PARLEY_OK && caption)
        rc = pl_sess_check_text(pc->sess, conv_id, caption);
    if (rc == PARLEY_OK && caption)
        rc = pl_ctx_prepare_message(pc->ctx, caption, &redacted);
    src->caption = redacted ? redacted : "";
    if (rc == PARLEY_OK)
        rc = pl_uploads_send(pc->uploads, conv_id, src, id);
    pl_free(&pc->alloc, redacted);
    rc = pl_client_leave(pc, rc);
    if (rc == PARLEY_OK && msg_id_out)
        memcpy(msg_id_out, id, strlen(id) + 1);
    return rc;
}

int parley_send_attachment(parley_client *pc, const char *conv_id, const char *path,
                           const char *name, const char *mime_type, const char *caption,
                           char *msg_id_out, size_t out_size)
{
    if (!path || !*path)
        return PARLEY_ERR_INVALID_ARG;
    pl_upload_src src = {.path = path,
                         .name = name ? name : base_name(path),
                         .type = mime_type ? mime_type : DEFAULT_TYPE,
                         .caption = caption};
    return send_src(pc, conv_id, &src, msg_id_out, out_size);
}

int parley_send_attachment_bytes(parley_client *pc, const char *conv_id, const unsigned char *data,
                                 size_t len, const char *name, const char *mime_type,
                                 const char *caption, char *msg_id_out, size_t out_size)
{
    if (!data || !name)
        return PARLEY_ERR_INVALID_ARG;
    pl_upload_src src = {.bytes = data,
                         .len = len,
                         .name = name,
                         .type = mime_type ? mime_type : DEFAULT_TYPE,
                         .caption = caption};
    return send_src(pc, conv_id, &src, msg_id_out, out_size);
}

int parley_fetch_attachment(parley_client *pc, const char *attachment_id, const char *dest_path,
                            char *req_out, size_t out_size)
{
    if (!pc || (req_out && out_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE];
    pl_client_enter(pc);
    int rc = pl_client_leave(pc, pl_downloads_fetch(pc->downloads, attachment_id, dest_path, id));
    if (rc == PARLEY_OK && req_out)
        memcpy(req_out, id, strlen(id) + 1);
    return rc;
}
