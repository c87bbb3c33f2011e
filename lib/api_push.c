/* Public API of push notifications (parley.h, "push notifications"): the
 * device's token and a received push's payload. */
#include "client.h"
#include "platform/clock.h"

int parley_set_push_token(parley_client *pc, const char *platform, const char *token)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_push_set_token(pc->push, platform, token));
}

int parley_handle_push(parley_client *pc, const char *payload)
{
    if (!pc || !payload)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_push_handle(pc->push, payload, pl_clock_mono_ms()));
}
