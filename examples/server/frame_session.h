/* The session frames: `hello`, which signs a connection in (identity,
 * session token, resume), and `bye`. */
#ifndef PARLEY_SERVER_FRAME_SESSION_H
#define PARLEY_SERVER_FRAME_SESSION_H

#include "ws.h"

void frame_session_hello(ws_conn *c, const cJSON *f);
void frame_session_bye(ws_conn *c, const cJSON *f);

#endif
