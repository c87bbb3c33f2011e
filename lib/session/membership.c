/* Conversations the session learns of from the server (a conversation
 * list, an unread count, a message) or from a push, made members: a
 * cursor, journaled and resumed like any other, placed so that the newest
 * messages are backfilled in order (docs/protocol.md, "Conversations
 * across devices"). Kept apart from conversations.c, which delivers the
 * messages of the conversations already known. */
#include "session/session_internal.h"

#include "util/utf8.h"

/* Online, what lies between the cursor and `newest` is asked for now;
 * offline, the next hello's resume brings it. */
static int backfill(pl_sess *s, pl_sess_conv *c, uint64_t newest)
{
    if (newest > c->seen)
        c->seen = newest;
    if (!pl_sess_online(s) || c->seen <= c->cursor)
        return PARLEY_OK;
    return pl_conv_request_history(s, c);
}

int pl_sess_adopt(pl_sess *s, const char *conv, uint64_t last_seq)
{
    if (!pl_id_valid(conv, PL_MAX_ID) || last_seq > PL_SEQ_MAX)
        return PARLEY_ERR_INVALID_ARG;
    pl_sess_conv *c = pl_conv_find(s, conv);
    if (c)
        return backfill(s, c, last_seq);
    /* Each welcome brings an `unread` for every conversation of the user.
     * A parked one with nothing new stays parked, and one never seen here
     * takes a place only when the one it displaces can be parked without
     * forgetting another: else every reconnect would turn the table round
     * and backfill what was delivered already. */
    uint64_t parked;
    int was_parked = pl_conv_parked(s, conv, &parked);
    if (was_parked && last_seq <= parked)
        return PARLEY_OK;
    int fresh = 0, rc = !was_parked && s->n_convs >= PL_MAX_CONVERSATIONS && !pl_conv_can_park(s)
                            ? PARLEY_ERR_FULL
                            : pl_conv_admit(s, conv, 1, &c, &fresh);
    if (rc == PARLEY_ERR_FULL)
        PL_LOG_W(s->log, "conversation %s not adopted: %d conversations already", conv,
                 PL_MAX_CONVERSATIONS);
    if (rc != PARLEY_OK)
        return rc;
    if (!fresh)
        return backfill(s, c, last_seq);
    pl_conv_start_at(c, last_seq);
    PL_LOG_I(s->log, "conversation %s adopted at seq %llu", conv, (unsigned long long)c->cursor);
    rc = pl_conv_persist(s, c, 0);
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "cursor of %s not journaled: %s", conv, parley_strerror(rc));
    return backfill(s, c, last_seq);
}
