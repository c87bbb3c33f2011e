/* The context frames: `context` (the user's attributes, screen,
 * breadcrumbs and device: a full state or a patch) and `event` (a tracked
 * event, acked). Both are checked against the limits of docs/protocol.md,
 * stored (userctx.c), and may fire survey triggers (triggers.c). */
#ifndef PARLEY_SERVER_FRAME_CONTEXT_H
#define PARLEY_SERVER_FRAME_CONTEXT_H

#include "ws.h"

void frame_context_context(ws_conn *c, const cJSON *f);
void frame_context_event(ws_conn *c, const cJSON *f);

#endif
