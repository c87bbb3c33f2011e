/* The client frames of attachments (docs/protocol.md, "Attachments"):
 * att.begin and att.chunk (an upload), att.get (a download). */
#ifndef PARLEY_SERVER_FRAME_ATTACH_H
#define PARLEY_SERVER_FRAME_ATTACH_H

#include <cjson/cJSON.h>

#include "ws.h"

void frame_attach_begin(ws_conn *c, const cJSON *f);
void frame_attach_chunk(ws_conn *c, const cJSON *f);
void frame_attach_get(ws_conn *c, const cJSON *f);

#endif
