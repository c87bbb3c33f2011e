#include "frame_chat.h"

#include <stdio.h>
#include <string.h>

#include "attach.h"
#include "bot.h"
#include "cond.h"
#include "deliver.h"
#include "console.h"
#include "json.h"
#include "store.h"
#include "triage.h"
#include "util.h"
#include "wire.h"

#define HISTORY_DEFAULT_LIMIT 100
#define HISTORY_MAX_LIMIT 500

/* The optional `context` snapshot as JSON text: 0 and *out (NULL when
 * absent, else to free with cJSON_free), -1 when it is not an object, -2
 * when out of memory (the connection is dropped). */
static int snapshot(ws_conn *c, const cJSON *f, char **out)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(f, "context");

    *out = NULL;
    if (!ctx)
        return 0;
    if (!cJSON_IsObject(ctx))
        return -1;
    *out = cJSON_PrintUnformatted(ctx);
    if (*out)
        return 0;
    ws_conn_send(c, NULL);
    return -2;
}

static void report(ws_conn *c, int rc, const char *cid)
{
    if (rc == BOT_UNKNOWN_CONV)
        ws_conn_error(c, "unknown_conversation", "no such conversation", cid);
    else if (rc == BOT_BAD_POSTBACK)
        ws_conn_error(c, "bad_postback", "no such option on that message", cid);
    else if (rc != BOT_OK)
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
}

/* What the host said about the request (docs/protocol.md, conv.start
 * "about"): NULL when absent or well-formed (copied into *out), else why
 * not. */
static const char *read_about(const cJSON *f, store_about *out)
{
    static const char *const keys[] = {"category", "area", "severity"};
    const cJSON *about = cJSON_GetObjectItemCaseSensitive(f, "about"), *it;
    const char *category = pj_string(about, "category"), *area = pj_string(about, "area");
    const char *severity = pj_string(about, "severity");

    memset(out, 0, sizeof *out);
    if (!about)
        return NULL;
    if (!cJSON_IsObject(about))
        return "about must be an object";
    cJSON_ArrayForEach(it, about) {
        if (strcmp(it->string, keys[0]) && strcmp(it->string, keys[1]) &&
            strcmp(it->string, keys[2]))
            return "about has category, area and severity only";
        if (!cJSON_IsString(it))
            return "about's members are strings";
    }
    if (category && (!pj_is_ident(category) || strlen(category) >= sizeof out->category))
        return "about.category must be 1..64 bytes of printable ASCII";
    if (area &&
        (!area[0] || strlen(area) >= sizeof out->area || !pj_utf8_valid(area, strlen(area))))
        return "about.area must be 1..256 bytes of UTF-8";
    if (severity && cond_severity_rank(severity) < 0)
        return "about.severity must be low, medium, high or critical";
    snprintf(out->category, sizeof out->category, "%s", category ? category : "");
    snprintf(out->area, sizeof out->area, "%s", area ? area : "");
    snprintf(out->severity, sizeof out->severity, "%s", severity ? severity : "");
    return NULL;
}

/* Creates the conversation (with what the host said about it), or accepts
 * a resend for one the user already owns; BOT_UNKNOWN_CONV when another
 * user owns that id. One transaction. */
static int start(store *st, const char *user, const char *conv, const char *subject,
                 const char *cid, const char *context, const store_about *about)
{
    char owner[PJ_MAX_ID + 1];
    int rc;

    if (store_begin(st))
        return BOT_ERR;
    rc = store_conv_owner(st, conv, owner, sizeof owner);
    if (rc == 0)
        rc = store_conv_create(st, conv, user, subject, cid, context, util_now_ms()) ||
                     ((about->category[0] || about->area[0] || about->severity[0]) &&
                      store_about_put(st, conv, about))
                 ? BOT_ERR
                 : BOT_OK;
    else if (rc > 0)
        rc = strcmp(owner, user) == 0 ? BOT_OK : BOT_UNKNOWN_CONV;
    else
        rc = BOT_ERR;
    if (rc == BOT_OK && store_commit(st))
        rc = BOT_ERR;
    if (rc != BOT_OK)
        store_rollback(st);
    return rc;
}

void frame_chat_conv_start(ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    const char *cid = pj_string(f, "cid"), *conv = pj_string(f, "conv");
    const cJSON *subject = cJSON_GetObjectItemCaseSensitive(f, "subject");
    const char *why;
    store_about about;
    bot_result greeting;
    char *ctx;
    int rc;

    if (!pj_is_ident(cid) || !pj_is_ident(conv) || (subject && !cJSON_IsString(subject)) ||
        (rc = snapshot(c, f, &ctx)) == -1) {
        ws_conn_error(c, "bad_frame", "conv.start needs cid and conv identifiers", cid);
        return;
    }
    if (rc < 0)
        return;
    if ((why = read_about(f, &about)) != NULL) {
        cJSON_free(ctx);
        ws_conn_error(c, "bad_frame", why, cid);
        return;
    }
    rc = start(s->store, ws_conn_user(c), conv, subject ? subject->valuestring : NULL, cid, ctx,
               &about);
    cJSON_free(ctx);
    /* Its first triage, from the context and what the host said; a failure
     * leaves it untriaged until the first message. */
    if (rc == BOT_OK && triage_conv_started(s, ws_conn_user(c), conv))
        fprintf(stderr, "parley-server: triage of %s failed\n", conv);
    /* The greeting is stored before the ack, so a failure is retried by the
     * client's resend; it goes out after the ack. */
    if (rc == BOT_OK)
        rc = bot_conv_started(s, conv, &greeting);
    if (rc != BOT_OK) {
        report(c, rc, cid);
        return;
    }
    ws_conn_send(c, wire_conv_ack(cid, conv));
    console_conv(s, conv, 1);
    triage_sync_priority(s, conv);
    bot_deliver(s, ws_conn_user(c), conv, &greeting);
    bot_result_clear(&greeting);
}

static const char *check_msg(const ws_conn *c, const cJSON *f, const char **code)
{
    const cJSON *postback = cJSON_GetObjectItemCaseSensitive(f, "postback");
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(f, "attachment");
    const char *text = pj_string(f, "text");

    *code = "bad_frame";
    if (!pj_is_ident(pj_string(f, "conv")))
        return "msg.send needs a conv identifier";
    if (att && (!cJSON_IsObject(att) || !pj_string(att, "sha256") || postback))
        return "attachment must be {\"sha256\"}, without a postback";
    /* With an attachment the text is its caption, and may be empty. */
    if (!text || (!text[0] && !att))
        return "msg.send needs a non-empty text";
    if (strlen(text) > ws_conn_server(c)->max_text) {
        *code = "too_long";
        return "text exceeds the server's max_text";
    }
    return postback ? bot_check_postback(postback) : NULL;
}

/* The message's attachment as stored (*json, cJSON_free; NULL without
 * one): 0, or -1 when the message was refused (told). */
static int attachment_of(ws_conn *c, const cJSON *f, const char *cid, char **json)
{
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(f, "attachment");
    const char *code, *why;
    int rc;

    *json = NULL;
    if (!att)
        return 0;
    rc = attach_for_message(ws_conn_server(c), ws_conn_user(c), cid, pj_string(f, "conv"),
                            pj_string(att, "sha256"), json, &code, &why);
    if (rc == -1)
        ws_conn_error(c, code, why, cid);
    else if (rc < 0)
        ws_conn_error(c, "internal", "cannot store, try again later", NULL);
    return rc == 0 ? 0 : -1;
}

/* Stores the message, lets the bot answer, and sends the outcome: the ack
 * first, so the sender learns its message's seq before the bot's reply,
 * which has the next one. */
static void send_msg(ws_conn *c, const cJSON *f, const char *cid, const char *ctx)
{
    server *s = ws_conn_server(c);
    bot_result sent;
    bot_msg_in in;
    char *att;
    int rc;

    if (attachment_of(c, f, cid, &att))
        return;
    in.user = ws_conn_user(c);
    in.conv = pj_string(f, "conv");
    in.cid = cid;
    in.text = pj_string(f, "text");
    in.context = ctx;
    in.postback = cJSON_GetObjectItemCaseSensitive(f, "postback");
    in.attachment = att;
    rc = bot_user_message(s, &in, &sent);
    if (rc != BOT_OK) {
        cJSON_free(att);
        report(c, rc, cid);
        return;
    }
    ws_conn_send(c, wire_msg_ack(cid, &sent.user));
    /* The stored message points at att until it is delivered. */
    if (!sent.duplicate)
        deliver_msg(s, in.user, &sent.user, c);
    bot_deliver(s, in.user, in.conv, &sent);
    if (!sent.duplicate)
        triage_sync_priority(s, in.conv);
    bot_result_clear(&sent);
    cJSON_free(att);
}

void frame_chat_msg_send(ws_conn *c, const cJSON *f)
{
    const char *cid = pj_string(f, "cid"), *code, *why;
    char *ctx;
    int rc;

    if (!pj_is_ident(cid)) {
        ws_conn_error(c, "bad_frame", "msg.send needs a cid identifier", NULL);
        return;
    }
    why = check_msg(c, f, &code);
    if (why || (rc = snapshot(c, f, &ctx)) == -1) {
        ws_conn_error(c, why ? code : "bad_frame", why ? why : "context must be an object", cid);
        return;
    }
    if (rc < 0)
        return;
    send_msg(c, f, cid, ctx);
    cJSON_free(ctx);
}

/* `limit`, when present, is an integer 1..500. */
static int parse_limit(const cJSON *limit, int64_t *n)
{
    *n = HISTORY_DEFAULT_LIMIT;
    if (!limit)
        return 0;
    if (!cJSON_IsNumber(limit) || limit->valuedouble < 1 ||
        limit->valuedouble > HISTORY_MAX_LIMIT ||
        limit->valuedouble != (double)(int64_t)limit->valuedouble)
        return -1;
    *n = (int64_t)limit->valuedouble;
    return 0;
}

/* Replays the stored messages after `after`, at most `limit`, then
 * history.end, a page at a time (replay.c). */
void frame_chat_history_get(ws_conn *c, const cJSON *f)
{
    const char *conv = pj_string(f, "conv");
    int64_t after, n;
    int rc;

    if (!pj_is_ident(conv) || pj_parse_seq(pj_string(f, "after"), &after) ||
        parse_limit(cJSON_GetObjectItemCaseSensitive(f, "limit"), &n)) {
        ws_conn_error(c, "bad_frame", "history.get needs conv, after and a limit of 1..500", NULL);
        return;
    }
    rc = store_conv_owned(ws_conn_server(c)->store, ws_conn_user(c), conv);
    if (rc < 0) {
        ws_conn_error(c, "internal", "cannot read history, try again later", NULL);
        return;
    }
    if (rc == 0) {
        ws_conn_error(c, "unknown_conversation", "no such conversation", NULL);
        return;
    }
    if (ws_conn_replay(c, conv, after, 1, n) == 1)
        ws_conn_refuse(c, f, "history.get", "too many history.get answers in progress", 0);
}
