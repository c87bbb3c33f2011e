/* The user's side of rich conversations over parley.v1: typing and read
 * marks, unread counts, and the requests (conv.list, history.page,
 * kb.search, kb.get), whose answers echo the request's `req` and whose
 * failures are `error` frames carrying it. */
#ifndef PARLEY_SERVER_RICH_H
#define PARLEY_SERVER_RICH_H

#include <cjson/cJSON.h>

#include "server.h"

struct ws_conn;

#define RICH_CONV_LIST_MAX 256
#define RICH_PAGE_DEFAULT 20
#define RICH_PAGE_MAX 100

/* Frame handlers (ws.c dispatch). */
void rich_on_typing(struct ws_conn *c, const cJSON *f);
void rich_on_read(struct ws_conn *c, const cJSON *f);
void rich_on_conv_list(struct ws_conn *c, const cJSON *f);
void rich_on_history_page(struct ws_conn *c, const cJSON *f);
void rich_on_kb_search(struct ws_conn *c, const cJSON *f);
void rich_on_kb_get(struct ws_conn *c, const cJSON *f);

/* After a welcome: one `unread` per conversation of the user. */
void rich_after_welcome(struct ws_conn *c);

/* Sends the conversation's unread count to its user's connections. */
void rich_push_unread(server *s, const char *user, const char *conv);

#endif
