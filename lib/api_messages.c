/* Public API of conversations and messages (parley.h, "client"):
 * starting a conversation, sending text, the outbox. Structured content
 * and what answers it are in api_postbacks.c. */
#include <string.h>

#include "client.h"
#include "util/utf8.h"

/* Writes a session-minted id into the caller's buffer, which may be NULL. */
static int copy_id(const char *id, char *out, size_t out_size)
{
    if (!out)
        return PARLEY_OK;
    if (out_size < strlen(id) + 1)
        return PARLEY_ERR_INVALID_ARG;
    memcpy(out, id, strlen(id) + 1);
    return PARLEY_OK;
}

int parley_conversation_start(parley_client *pc, const char *subject, char *conv_id_out,
                              size_t out_size)
{
    if (!pc || (conv_id_out && out_size < PARLEY_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    if (subject && !*subject)
        subject = NULL;
    if (subject && (strlen(subject) > PL_MAX_SUBJECT || !pl_utf8_valid(subject, strlen(subject))))
        return strlen(subject) > PL_MAX_SUBJECT ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE], *subj;
    pl_client_enter(pc);
    int rc = pl_ctx_prepare_message(pc->ctx, subject, &subj);
    if (rc == PARLEY_OK)
        rc = pl_sess_conv_start(pc->sess, subj, id);
    pl_free(&pc->alloc, subj);
    rc = pl_client_leave(pc, rc);
    return rc == PARLEY_OK ? copy_id(id, conv_id_out, out_size) : rc;
}

int parley_send_text(parley_client *pc, const char *conv_id, const char *text, char *msg_id_out,
                     size_t out_size)
{
    if (!pc || (msg_id_out && out_size < PARLEY_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE], *redacted = NULL;
    pl_client_enter(pc);
    /* Checked before redaction so that the errors speak of what the host
     * passed; checked again after (redaction may empty a text). */
    int rc = pl_sess_check_text(pc->sess, conv_id, text);
    if (rc == PARLEY_OK)
        rc = pl_ctx_prepare_message(pc->ctx, text, &redacted);
    if (rc == PARLEY_OK)
        rc = pl_sess_send_text(pc->sess, conv_id, redacted, NULL, id);
    pl_free(&pc->alloc, redacted);
    rc = pl_client_leave(pc, rc);
    return rc == PARLEY_OK ? copy_id(id, msg_id_out, out_size) : rc;
}

int parley_outbox_count(parley_client *pc, uint32_t *out)
{
    if (!pc || !out)
        return PARLEY_ERR_INVALID_ARG;
    pl_mutex_lock(&pc->lock);
    *out = pl_sess_outbox_count(pc->sess);
    pl_mutex_unlock(&pc->lock);
    return PARLEY_OK;
}
