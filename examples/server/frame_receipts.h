/* The user's receipts: `typing` (shown to agents) and `read` (the user's
 * read mark, which sets the conversation's unread count). */
#ifndef PARLEY_SERVER_FRAME_RECEIPTS_H
#define PARLEY_SERVER_FRAME_RECEIPTS_H

#include "ws.h"

void frame_receipts_typing(ws_conn *c, const cJSON *f);
void frame_receipts_read(ws_conn *c, const cJSON *f);

#endif
