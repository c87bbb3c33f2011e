/* Public API of read receipts and unread counts (parley.h, "rich
 * conversations"). */
#include "client.h"
#include "util/utf8.h"

int parley_mark_read(parley_client *pc, const char *conv_id, const char *seq)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_receipts_mark_read(pc->receipts, conv_id, seq));
}

int parley_unread_count(parley_client *pc, const char *conv_id, uint32_t *out)
{
    if (!pc || !out || (conv_id && !pl_id_valid(conv_id, PL_MAX_ID)))
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_receipts_unread(pc->receipts, conv_id, out));
}
