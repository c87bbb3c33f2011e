/* The chat frames: `conv.start`, `msg.send` (with a postback or not) and
 * `history.get`. What the bot answers is bot.c's; this file stores,
 * acknowledges and delivers in the order the protocol promises. */
#ifndef PARLEY_SERVER_FRAME_CHAT_H
#define PARLEY_SERVER_FRAME_CHAT_H

#include "ws.h"

void frame_chat_conv_start(ws_conn *c, const cJSON *f);
void frame_chat_msg_send(ws_conn *c, const cJSON *f);
void frame_chat_history_get(ws_conn *c, const cJSON *f);

#endif
