/* Public API of the user's identity (parley.h, "client"): who the user
 * is, the anonymous id kept for them, and logging out. */
#include <stdio.h>
#include <string.h>

#include "client.h"

int parley_identify(parley_client *pc, const char *user_id, const char *token)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_sess_identify(pc->sess, user_id, token));
}

/* Under the lock: parley_logout rewrites the id from another thread. */
int parley_anonymous_id(parley_client *pc, char *out, size_t out_size)
{
    if (!pc || !out)
        return PARLEY_ERR_INVALID_ARG;
    pl_mutex_lock(&pc->lock);
    size_t len = strlen(pc->anon_id);
    int rc = out_size < len + 1 ? PARLEY_ERR_INVALID_ARG : PARLEY_OK;
    if (rc == PARLEY_OK)
        memcpy(out, pc->anon_id, len + 1);
    pl_mutex_unlock(&pc->lock);
    return rc;
}

/* Deleting records only appends tombstones: the user's data would stay in
 * the log's old bytes until a compaction, so logout forces one. */
int parley_logout(parley_client *pc)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    char uuid[PL_UUID_STR_LEN + 1];
    pl_client_enter(pc);
    int rc = pl_rand_uuid4(pc->rand, uuid);
    if (rc != PARLEY_OK)
        return pl_client_leave(pc, rc);
    char anon[PARLEY_ID_SIZE];
    snprintf(anon, sizeof anon, "a-%s", uuid);
    rc = pl_sess_logout(pc->sess, anon);
    if (rc == PARLEY_ERR_NOMEM)
        return pl_client_leave(pc, rc);
    memcpy(pc->anon_id, anon, strlen(anon) + 1);
    int wrc = pl_client_save_anon_id(pc);
    if (wrc == PARLEY_OK && pc->journal)
        wrc = pl_journal_compact(pc->journal, 1);
    if (rc == PARLEY_OK && wrc != PARLEY_OK)
        rc = wrc == PARLEY_ERR_NOMEM ? wrc : PARLEY_ERR_IO;
    return pl_client_leave(pc, rc);
}
