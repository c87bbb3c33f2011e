/* A conversation's priority (docs/agent-console.md, "Priority"), set by an
 * agent through the API or by rules in C: stored with who set it, recorded
 * as a `priority` action, the running SLA clocks moved to the new policy's
 * targets, and every console told. */
#ifndef PARLEY_SERVER_CONV_PRIORITY_H
#define PARLEY_SERVER_CONV_PRIORITY_H

#include "server.h"

enum {
    CONV_PRIORITY_OK = 0,
    CONV_PRIORITY_UNKNOWN_CONV = 1,
    CONV_PRIORITY_BAD = 2, /* not urgent, high, normal or low */
    CONV_PRIORITY_ERR = -1,
};

/* Sets `conv`'s priority to `priority`, as set by `by` (an agent's name,
 * "api-token", or "rules" for a computed priority). Setting the priority
 * it has already records nothing. One of the values above. */
int conv_priority_set(server *s, const char *conv, const char *priority, const char *by);

#endif
