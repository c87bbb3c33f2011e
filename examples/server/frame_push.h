/* The device's push token (docs/protocol.md, "Push notifications"):
 * push.register and push.unregister. */
#ifndef PARLEY_SERVER_FRAME_PUSH_H
#define PARLEY_SERVER_FRAME_PUSH_H

#include <cjson/cJSON.h>

#include "ws.h"

void frame_push_register(ws_conn *c, const cJSON *f);
void frame_push_unregister(ws_conn *c, const cJSON *f);

#endif
