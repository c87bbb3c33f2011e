/* Public API of proactive content (parley.h, "surveys and proactive
 * messages"): the host's mute. */
#include "client.h"
#include "platform/clock.h"

int parley_mute_proactive(parley_client *pc, uint32_t duration_ms)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    pl_proactive_mute(pc->proactive, pl_clock_mono_ms(), duration_ms);
    return pl_client_leave(pc, PARLEY_OK);
}
