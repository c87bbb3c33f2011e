/* The agents' HTTP API (docs/protocol.md, "Reference server HTTP API"). It is
 * the vhost's default protocol, so it also answers every plain HTTP request
 * that is not a parley.v1 WebSocket upgrade. */
#ifndef PARLEY_SERVER_HTTP_API_H
#define PARLEY_SERVER_HTTP_API_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "server.h"

#define HTTP_API_MAX_BODY 65536

/* A route's handler: `arg` is the path's {placeholder}, `body` the parsed
 * JSON body (NULL for GET). Returns the HTTP status and sets *out to the
 * response (NULL: out of memory). */
typedef unsigned (*http_api_fn)(server *s, const char *arg, const cJSON *body, cJSON **out);

int http_api_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                      size_t len);
/* Per-transaction allocation lws must reserve for http_api_callback. */
size_t http_api_req_size(void);

#endif
