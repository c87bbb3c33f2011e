/* Public API of typing indicators (parley.h, "rich conversations"). */
#include "client.h"
#include "platform/clock.h"

int parley_set_typing(parley_client *pc, const char *conv_id, int on)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_typing_set(pc->typing, conv_id, on, pl_clock_mono_ms()));
}
