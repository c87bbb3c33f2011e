#include "conv_priority.h"

#include <stdio.h>
#include <string.h>

#include "console.h"
#include "json.h"
#include "sla.h"
#include "sla_policy.h"
#include "store.h"
#include "util.h"

int conv_priority_set(server *s, const char *conv, const char *priority, const char *by)
{
    char old[8], old_by[STORE_AGENT_NAME_BUF], detail[64], owner[PJ_MAX_ID + 1];
    int64_t now = util_now_ms();
    int rc;

    if (sla_priority_index(priority) < 0)
        return CONV_PRIORITY_BAD;
    rc = store_conv_owner(s->store, conv, owner, sizeof owner);
    if (rc <= 0)
        return rc == 0 ? CONV_PRIORITY_UNKNOWN_CONV : CONV_PRIORITY_ERR;
    if (store_priority_get(s->store, conv, old, old_by))
        return CONV_PRIORITY_ERR;
    if (strcmp(old, priority) == 0)
        return CONV_PRIORITY_OK;
    snprintf(detail, sizeof detail, "{\"from\":\"%s\",\"to\":\"%s\"}", old, priority);
    if (store_begin(s->store) || store_priority_set(s->store, conv, priority, by, now) ||
        store_action_add(s->store, conv, "priority", by, detail, now) || store_commit(s->store)) {
        store_rollback(s->store);
        return CONV_PRIORITY_ERR;
    }
    sla_update(s, conv);
    console_conv(s, conv, 0);
    return CONV_PRIORITY_OK;
}
