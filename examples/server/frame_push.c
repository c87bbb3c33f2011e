#include "frame_push.h"

#include <string.h>

#include "json.h"
#include "store.h"
#include "util.h"

#define PLATFORM_MAX 32
#define TOKEN_MAX 4096

/* 1..max bytes of printable ASCII. */
static int printable(const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0, i;

    if (!n || n > max)
        return 0;
    for (i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}

void frame_push_register(ws_conn *c, const cJSON *f)
{
    const char *platform = pj_string(f, "platform"), *token = pj_string(f, "token");

    if (!printable(platform, PLATFORM_MAX) || !printable(token, TOKEN_MAX)) {
        ws_conn_error(c, "bad_frame",
                      "push.register needs platform (1 ... 32) and token "
                      "(1 ... 4096 printable ASCII bytes)",
                      NULL);
        return;
    }
    if (store_push_set(ws_conn_server(c)->store, token, platform, ws_conn_user(c), util_now_ms()))
        ws_conn_error(c, "internal", "cannot store the token, try again later", NULL);
}

/* A token is one device's: whoever held it, it is forgotten. */
void frame_push_unregister(ws_conn *c, const cJSON *f)
{
    const char *token = pj_string(f, "token");

    if (!printable(token, TOKEN_MAX)) {
        ws_conn_error(c, "bad_frame", "push.unregister needs a token", NULL);
        return;
    }
    if (store_push_delete(ws_conn_server(c)->store, token))
        ws_conn_error(c, "internal", "cannot forget the token, try again later", NULL);
}
