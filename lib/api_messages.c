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
    return parley_conversation_start_about(pc, subject, NULL, NULL, PARLEY_SEVERITY_NONE,
                                           conv_id_out, out_size);
}

/* The wire names of enum parley_severity. */
static const char *const severities[] = {NULL, "low", "medium", "high", "critical"};

static int check_category(const char *category)
{
    size_t n;

    if (!category)
        return PARLEY_OK;
    n = strnlen(category, PL_MAX_CATEGORY + 1);
    if (n > PL_MAX_CATEGORY)
        return PARLEY_ERR_TOO_LONG;
    for (size_t i = 0; i < n; i++)
        if (category[i] < 0x21 || category[i] > 0x7e)
            return PARLEY_ERR_INVALID_ARG;
    return n ? PARLEY_OK : PARLEY_ERR_INVALID_ARG;
}

static int check_about(const char *subject, const char *category, const char *area, int severity)
{
    size_t n = area ? strnlen(area, PL_MAX_AREA + 1) : 0;

    if (subject && (strlen(subject) > PL_MAX_SUBJECT || !pl_utf8_valid(subject, strlen(subject))))
        return strlen(subject) > PL_MAX_SUBJECT ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_INVALID_ARG;
    if (severity < PARLEY_SEVERITY_NONE || severity > PARLEY_SEVERITY_CRITICAL)
        return PARLEY_ERR_INVALID_ARG;
    if (area && n > PL_MAX_AREA)
        return PARLEY_ERR_TOO_LONG;
    if (area && (!n || !pl_utf8_valid(area, n)))
        return PARLEY_ERR_INVALID_ARG;
    return check_category(category);
}

int parley_conversation_start_about(parley_client *pc, const char *subject, const char *category,
                                    const char *area, int severity, char *conv_id_out,
                                    size_t out_size)
{
    if (!pc || (conv_id_out && out_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    if (subject && !*subject)
        subject = NULL;
    int rc = check_about(subject, category, area, severity);
    if (rc != PARLEY_OK)
        return rc;
    char id[PARLEY_ID_SIZE], *subj = NULL, *where = NULL;
    pl_client_enter(pc);
    rc = pl_ctx_prepare_message(pc->ctx, subject, &subj);
    /* The area describes where the user is, like the screen. */
    if (rc == PARLEY_OK && area)
        rc = pl_ctx_redact(pc->ctx, PARLEY_FIELD_SCREEN, area, &where);
    pl_conv_about about = {category, where, severities[severity]};
    if (rc == PARLEY_OK)
        rc = pl_sess_conv_start_about(pc->sess, subj, &about, id);
    pl_free(&pc->alloc, subj);
    pl_free(&pc->alloc, where);
    rc = pl_client_leave(pc, rc);
    return rc == PARLEY_OK ? copy_id(id, conv_id_out, out_size) : rc;
}

int parley_send_text(parley_client *pc, const char *conv_id, const char *text, char *msg_id_out,
                     size_t out_size)
{
    if (!pc || (msg_id_out && out_size < PL_MINTED_ID_SIZE))
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

/* Two atomic loads: no lock, so a host may ask every frame. */
int parley_unsynced_count(parley_client *pc, uint32_t *out)
{
    if (!pc || !out)
        return PARLEY_ERR_INVALID_ARG;
    uint64_t synced = pl_journal_synced(pc->journal), written = pl_journal_written(pc->journal);
    uint64_t n = written > synced ? written - synced : 0;
    *out = n > UINT32_MAX ? UINT32_MAX : (uint32_t)n;
    return PARLEY_OK;
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
