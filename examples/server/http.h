/* The agents' HTTP API transport (docs/protocol.md, "Reference server HTTP
 * API"): the lws callbacks of every plain HTTP request (it is the vhost's
 * default protocol), the bearer token, request bodies, and writing the JSON
 * answer. Which handler a route has is the server's table (server.h,
 * api_routes.c): this file knows none of them, and no handler sees
 * libwebsockets. */
#ifndef PARLEY_SERVER_HTTP_H
#define PARLEY_SERVER_HTTP_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "server.h"

struct lws_protocols;

#define HTTP_MAX_BODY 65536

/* The statuses the API answers with. */
enum {
    HTTP_OK = 200,
    HTTP_CREATED = 201,
    HTTP_BAD_REQUEST = 400,
    HTTP_UNAUTHORIZED = 401,
    HTTP_FORBIDDEN = 403,
    HTTP_NOT_FOUND = 404,
    HTTP_CONFLICT = 409,
    HTTP_TOO_MANY = 429,
    HTTP_UNAVAILABLE = 503,
    HTTP_SERVER_ERROR = 500,
};

/* A route's handler: `arg` is the path's {placeholder} ("" for a fixed
 * path), `body` the parsed JSON body (NULL for GET). Returns the HTTP status
 * and sets *out to the answer (NULL: out of memory, the connection is
 * closed). */
typedef unsigned (*http_fn)(server *s, const char *arg, const cJSON *body, cJSON **out);

typedef enum { HTTP_GET, HTTP_POST } http_method;

/* What a route of files sees and answers: a POST's body is a file's raw
 * bytes (any Content-Type, up to the server's max_attachment, streamed to
 * a temporary file under the data dir, never held in memory); a GET may
 * answer with a file instead of JSON. */
typedef struct http_file {
    const char *path; /* POST: the body's temporary file, removed after the
                       * handler unless it moved it */
    int64_t size;
    char sha256[65];
    char type[128]; /* POST: its Content-Type */
    /* The query's `key`, URL-decoded into buf: buf, or NULL when absent. */
    const char *(*query)(void *ctx, const char *key, char *buf, size_t cap);
    void *ctx;
    /* GET: a file to answer with (send_path set), its type, the name it
     * is downloaded as and its size. */
    char send_path[4096], send_type[128], send_name[256];
    int64_t send_size;
} http_file;
typedef unsigned (*http_file_fn)(server *s, const char *arg, http_file *f, cJSON **out);

/* A path is prefix + {placeholder} + suffix, the placeholder an identifier
 * without '/' (with `slashes`, any identifier); a NULL suffix makes the
 * prefix a fixed path. */
typedef struct http_route {
    http_method method;
    const char *prefix, *suffix;
    http_fn fn;
    int slashes;
    int open; /* answered without a session or token (POST /api/login) */
} http_route;

/* A route of files (server.h holds their own table). */
typedef struct http_file_route {
    http_method method;
    const char *prefix, *suffix;
    http_file_fn fn;
    int slashes;
} http_file_route;

/* Fills the "http" protocol lws serves (its name, callback and
 * per-request size). */
void http_protocol(struct lws_protocols *p);

/* For handlers: replaces *out with {"error": message} and returns
 * `status`. */
unsigned http_error(cJSON **out, unsigned status, const char *message);

/* Answers a request whose handler set s->req->pending to `job` (and
 * returned with *out NULL): takes `out`; `set_cookie` may be NULL. A
 * request whose connection closed meanwhile is forgotten. */
void http_finish(server *s, long long job, unsigned status, cJSON *out, const char *set_cookie);

#endif
