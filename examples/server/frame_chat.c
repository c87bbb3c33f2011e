#include "frame_chat.h"

#include <string.h>

#include "json.h"
#include "util.h"

int chat_owns(db *d, const char *user, const char *conv)
{
    char owner[PJ_MAX_ID + 1];
    int rc = db_conv_owner(d, conv, owner, sizeof owner);

    if (rc <= 0)
        return rc;
    return strcmp(owner, user) == 0;
}

static int finish(db *d, int rc)
{
    if (rc == CHAT_OK && db_commit(d))
        rc = CHAT_ERR;
    if (rc != CHAT_OK)
        db_rollback(d);
    return rc;
}

int chat_start(db *d, const char *user, const char *conv, const char *subject,
               const char *cid, const char *context)
{
    char owner[PJ_MAX_ID + 1];
    int rc;

    if (db_begin(d))
        return CHAT_ERR;
    rc = db_conv_owner(d, conv, owner, sizeof owner);
    if (rc < 0)
        return finish(d, CHAT_ERR);
    if (rc > 0)
        return finish(d, strcmp(owner, user) == 0 ? CHAT_OK : CHAT_UNKNOWN_CONV);
    if (db_conv_create(d, conv, user, subject, cid, context, util_now_ms()))
        return finish(d, CHAT_ERR);
    return finish(d, CHAT_OK);
}
