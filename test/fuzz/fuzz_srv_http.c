/* libFuzzer target: parley-server's HTTP API, request routing and JSON body
 * parsing (http.c and the routes of api_*.c). The input is one
 * request as it arrives:
 *
 *   METHOD PATH
 *   Name: value        (Content-Length, Authorization, Transfer-Encoding,
 *   ...                 Cookie, Origin, Host, X-Parley-CSRF; "Query: a=1&b=2"
 *                       is the URL's arguments as lws splits them off;
 *                       "Parts: N" splits the body into N deliveries)
 *
 *   BODY
 *
 * lws delivers the body when Content-Length announces it (and it all
 * arrived) or when it is chunked, and the server's writes go out as soon
 * as it asks, so a refusal is answered while its body arrives. Before it,
 * a user has a conversation "c-fuzz" with one message on a WebSocket
 * connection, whose pushes are written out after the request. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int method_of(const char *m)
{
    static const struct {
        const char *name;
        int method;
    } methods[] = {{"GET", LWSHUMETH_GET},         {"POST", LWSHUMETH_POST},
                   {"OPTIONS", LWSHUMETH_OPTIONS}, {"PUT", LWSHUMETH_PUT},
                   {"PATCH", LWSHUMETH_PATCH},     {"DELETE", LWSHUMETH_DELETE},
                   {"CONNECT", LWSHUMETH_CONNECT}, {"HEAD", LWSHUMETH_HEAD}};
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (strcmp(m, methods[i].name) == 0)
            return methods[i].method;
    return -1;
}

static void header(fz_wsi *w, char *line, int *parts)
{
    static const struct {
        const char *name;
        enum lws_token_indexes token;
    } names[] = {{"content-length", WSI_TOKEN_HTTP_CONTENT_LENGTH},
                 {"authorization", WSI_TOKEN_HTTP_AUTHORIZATION},
                 {"transfer-encoding", WSI_TOKEN_HTTP_TRANSFER_ENCODING},
                 {"cookie", WSI_TOKEN_HTTP_COOKIE},
                 {"origin", WSI_TOKEN_ORIGIN},
                 {"host", WSI_TOKEN_HOST},
                 {"query", WSI_TOKEN_HTTP_URI_ARGS}};
    char *colon = strchr(line, ':');
    if (!colon)
        return;
    *colon = '\0';
    const char *value = colon[1] == ' ' ? colon + 2 : colon + 1;
    if (strcasecmp(line, "parts") == 0)
        *parts = atoi(value) % 64;
    if (strcasecmp(line, "x-parley-csrf") == 0)
        w->csrf = value;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcasecmp(line, names[i].name) == 0)
            w->hdr[names[i].token] = value;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_conn conns[FZ_CONNS];
    char *req = malloc(size + 1);
    if (!req || !fz_server()) {
        free(req);
        return 0;
    }
    memcpy(req, data, size);
    req[size] = '\0';
    fz_server_reset();
    fz_fixture(&conns[0]);

    fz_wsi w = {.method = -1};
    int parts = 1;
    char *line = req, *end = req + size, *path = "";
    for (int n = 0; line < end; n++) {
        char *nl = memchr(line, '\n', (size_t)(end - line));
        if (nl)
            *nl = '\0';
        if (n == 0) {
            char *sp = strchr(line, ' ');
            if (sp) {
                *sp = '\0';
                path = sp + 1;
            }
            w.method = method_of(line);
        } else if (!*line) {
            line = nl ? nl + 1 : end;
            break;
        } else {
            header(&w, line, &parts);
        }
        line = nl ? nl + 1 : end;
    }
    fz_http(&w, path, line, (size_t)(end - line), parts);
    fz_serve_all(conns);
    for (int i = 0; i < FZ_CONNS; i++)
        fz_ws_close(&conns[i]);
    free(req);
    return 0;
}
