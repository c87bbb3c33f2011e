#include "frame_receipts.h"

#include "deliver.h"
#include "console.h"
#include "json.h"
#include "store.h"
#include "util.h"

/* The frame's conversation when it is the user's; else NULL after telling
 * the client why. */
static const char *owned_conv(ws_conn *c, const cJSON *f)
{
    const char *conv = pj_string(f, "conv");
    int rc;

    if (!pj_is_ident(conv)) {
        ws_conn_error(c, "bad_frame", "conv must be a conversation id", NULL);
        return NULL;
    }
    rc = store_conv_owned(ws_conn_server(c)->store, ws_conn_user(c), conv);
    if (rc == 1)
        return conv;
    ws_conn_error(c, rc < 0 ? "internal" : "unknown_conversation",
                  rc < 0 ? "cannot read, try again later" : "no such conversation", NULL);
    return NULL;
}

void frame_receipts_typing(ws_conn *c, const cJSON *f)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(f, "on");
    const char *conv;

    if (!cJSON_IsBool(on)) {
        ws_conn_error(c, "bad_frame", "typing needs conv and a boolean on", NULL);
        return;
    }
    conv = owned_conv(c, f);
    if (conv && store_typing_set(ws_conn_server(c)->store, conv, cJSON_IsTrue(on), util_now_ms()))
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
    else if (conv)
        console_typing(ws_conn_server(c), conv, "user", NULL, cJSON_IsTrue(on));
}

void frame_receipts_read(ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    int64_t seq, last = 0;
    const char *conv;
    int rc;

    if (pj_parse_seq(pj_string(f, "seq"), &seq)) {
        ws_conn_error(c, "bad_frame", "read needs conv and a seq string", NULL);
        return;
    }
    conv = owned_conv(c, f);
    if (!conv)
        return;
    /* A mark beyond the last message would hide messages not written yet. */
    rc = store_conv_last_seq(s->store, conv, &last)
             ? -1
             : store_read_user(s->store, conv, seq < last ? seq : last, util_now_ms());
    if (rc < 0)
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
    else if (rc > 0) {
        deliver_unread(s, ws_conn_user(c), conv);
        console_read(s, conv, "user", seq < last ? seq : last);
    }
}
