/* The requests: `conv.list`, `history.page`, `kb.search` and `kb.get`.
 * Each answer echoes the request's `req` and fits in one frame; a failure
 * is an `error` frame carrying the `req`. */
#ifndef PARLEY_SERVER_FRAME_REQUESTS_H
#define PARLEY_SERVER_FRAME_REQUESTS_H

#include "ws.h"

#define FRAME_REQUESTS_LIST_MAX 256
#define FRAME_REQUESTS_PAGE_DEFAULT 20
#define FRAME_REQUESTS_PAGE_MAX 100

void frame_requests_conv_list(ws_conn *c, const cJSON *f);
void frame_requests_history_page(ws_conn *c, const cJSON *f);
void frame_requests_kb_search(ws_conn *c, const cJSON *f);
void frame_requests_kb_get(ws_conn *c, const cJSON *f);

#endif
