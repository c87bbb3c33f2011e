#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bot.h"
#include "frame_chat.h"
#include "frame_context.h"
#include "wire.h"
#include "identity.h"
#include "json.h"
#include "outq.h"
#include "replay.h"
#include "frame_requests.h"
#include "survey.h"
#include "util.h"

#define SESSION_BUF 48
#define ADDR_BUF 64
/* How long a refused connection stays open before it is closed; see
 * close_after_refusal. */
#define REFUSAL_LINGER_MS 1000

enum { RX_OK, RX_TOO_BIG, RX_BINARY };

typedef struct ws_conn {
    struct lws *wsi;
    server *srv;
    struct ws_conn *prev, *next;
    int ready;   /* hello accepted */
    int closing; /* close once everything queued is written */
    int dead;    /* close now: out of memory or queue overflow */
    int refused; /* over the cap of connections per address */
    enum lws_close_status close_status;
    int64_t close_not_before; /* monotonic ms; 0: close as soon as flushed */
    char user[PJ_MAX_ID + 1];
    char addr[ADDR_BUF]; /* the peer's address, "" when unknown */
    char *rx; /* the message being reassembled, NUL-terminated */
    size_t rx_len, rx_cap;
    int rx_state;
    outq out;
    replay_q replay; /* stored messages still to send, a page at a time */
    abuse_bucket msgs, reqs, strikes;
} ws_conn;

size_t ws_conn_size(void)
{
    return sizeof(ws_conn);
}

/* ---- sending ---- */

/* Frees what the connection holds and closes it from the event loop: its
 * writeable callback may never come again (a peer that stopped reading). */
static void drop(ws_conn *c, const char *why)
{
    fprintf(stderr, "parley-server: dropping connection of '%s' from %s: %s\n", c->user,
            c->addr[0] ? c->addr : "?", why);
    c->dead = 1;
    outq_clear(&c->out);
    replay_clear(&c->replay);
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* A client that reads slower than we produce is dropped rather than allowed
 * to grow the server's memory (--max-outq-kb). */
static void conn_queue(ws_conn *c, const char *json)
{
    size_t max = (size_t)c->srv->abuse.outq_kb * 1024, len = json ? strlen(json) : 0;

    if (c->dead)
        return;
    if (!json)
        drop(c, "out of memory");
    else if (outq_push(&c->out, json, len, max))
        drop(c, c->out.bytes + outq_cost(len) > max
                    ? "output queue full (the client does not read)" : "out of memory");
    else
        lws_callback_on_writable(c->wsi);
}

/* Queues and frees a frame built by frames.c. */
static void conn_send(ws_conn *c, char *json)
{
    conn_queue(c, json);
    cJSON_free(json);
}

static void send_error(ws_conn *c, const char *code, const char *message, const char *cid)
{
    conn_send(c, frame_error(code, message, pj_is_ident(cid) ? cid : NULL));
}

/* A connection on its way out gets no more replay. */
static void close_after_flush(ws_conn *c, enum lws_close_status status)
{
    replay_clear(&c->replay);
    c->closing = 1;
    c->close_status = status;
    lws_callback_on_writable(c->wsi);
}

/* Refusals close too, but not at once: the client may still be sending what
 * it queued before it read the refusal, and a close then would reset the
 * connection under it, losing the error frame it has not read yet. What it
 * sends meanwhile is dropped (on_receive). */
static void close_after_refusal(ws_conn *c)
{
    c->close_not_before = util_mono_ms() + REFUSAL_LINGER_MS;
    lws_set_timer_usecs(c->wsi, (lws_usec_t)REFUSAL_LINGER_MS * 1000);
    close_after_flush(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
}

/* One frame per callback, as lws requires; the replay adds its next page
 * when the queue runs low, so it moves at the pace the client reads. */
static int on_writeable(ws_conn *c)
{
    outq_item *it;

    if (!c->dead && replay_pending(&c->replay) && c->out.bytes < REPLAY_PAGE_BYTES)
        replay_step(&c->replay, c, REPLAY_PAGE_BYTES);
    if (c->dead)
        return -1;
    it = outq_peek(&c->out);
    if (!it) {
        /* Also reached after lws wrote a ping or pong for us. */
        if (replay_pending(&c->replay))
            lws_callback_on_writable(c->wsi);
        if (!c->closing || util_mono_ms() < c->close_not_before)
            return 0;
        lws_close_reason(c->wsi, c->close_status, NULL, 0);
        return -1;
    }
    if (lws_write(c->wsi, it->buf + LWS_PRE, it->len, LWS_WRITE_TEXT) < (int)it->len)
        return -1;
    outq_pop(&c->out);
    if (outq_peek(&c->out) || c->closing || replay_pending(&c->replay))
        lws_callback_on_writable(c->wsi);
    return 0;
}

void ws_push(server *s, const char *user, const db_msg *m, const struct ws_conn *except)
{
    char *json = frame_msg(m);
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c != except && c->ready && strcmp(c->user, user) == 0 &&
            !replay_covers(&c->replay, m->conv))
            conn_queue(c, json);
    }
    cJSON_free(json);
    if (strcmp(m->author_kind, "user") != 0)
        rich_push_unread(s, user, m->conv);
}

void ws_push_frame(server *s, const char *user, const char *json)
{
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->ready && strcmp(c->user, user) == 0)
            conn_queue(c, json);
    }
}

server *ws_conn_server(const ws_conn *c)
{
    return c->srv;
}

const char *ws_conn_user(const ws_conn *c)
{
    return c->user;
}

void ws_conn_send(ws_conn *c, char *json)
{
    conn_send(c, json);
}

void ws_conn_error(ws_conn *c, const char *code, const char *message, const char *cid)
{
    send_error(c, code, message, cid);
}

void ws_goaway_all(server *s, int reconnect_ms, const char *reason)
{
    char *json = frame_goaway(reconnect_ms, reason);
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        conn_queue(c, json);
        close_after_flush(c, LWS_CLOSE_STATUS_GOINGAWAY);
    }
    cJSON_free(json);
}

/* ---- limits (abuse.c) ---- */

/* Over a limit the frame is dropped with `rate_limited`. A frame the client
 * keeps until it is answered (an outbox item, which has a cid, or a
 * history.get) must not be overtaken by later ones, so the connection is
 * closed and the client sends it again, in order, on its next one. Other
 * refusals close the connection only when they keep coming. */
static void refuse(ws_conn *c, const cJSON *f, const char *type, const char *message,
                   int64_t retry_ms)
{
    const char *req = pj_string(f, "req");
    int kept = cJSON_GetObjectItemCaseSensitive(f, "cid") ||
               (type && strcmp(type, "history.get") == 0);

    conn_send(c, frame_refusal("rate_limited", message, pj_is_ident(req) ? req : NULL, retry_ms));
    if (kept || abuse_take(&c->strikes, ABUSE_STRIKE_RATE, ABUSE_STRIKES, util_mono_ms())) {
        fprintf(stderr, "parley-server: closing connection of '%s' from %s: over the rate "
                        "limit\n", c->user, c->addr[0] ? c->addr : "?");
        close_after_refusal(c);
    }
}

/* Takes the frame's token (--msg-rate, --req-rate); 0 when it was refused. */
static int admit(ws_conn *c, const cJSON *f, const char *type)
{
    const abuse_cfg *a = &c->srv->abuse;
    abuse_class k = abuse_class_of(type);
    int64_t now = util_mono_ms(), wait;

    if (k == ABUSE_FREE)
        return 1;
    wait = k == ABUSE_REQ ? abuse_take(&c->reqs, a->req_rate, a->req_burst, now)
                          : abuse_take(&c->msgs, a->msg_rate, a->msg_burst, now);
    if (wait == 0)
        return 1;
    refuse(c, f, type, k == ABUSE_REQ ? "too many requests, slow down"
                                      : "too many messages, slow down", wait);
    return 0;
}

/* ---- hello ---- */

typedef struct hello {
    const char *app;
    const char *user;
    const char *kind; /* "id" or "anon" */
    const char *token; /* NULL when absent */
    const char *anon;  /* an identified user's anonymous id, to merge; or NULL */
    const char *proof; /* the secret issued to `anon`, proving it is theirs; or NULL */
    const char *session;
    const cJSON *cursors;
} hello;

static const char *parse_user(const cJSON *user, hello *h)
{
    const char *id = pj_string(user, "id"), *anon = pj_string(user, "anon");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(user, "token");
    const cJSON *proof = cJSON_GetObjectItemCaseSensitive(user, "proof");

    if (!cJSON_IsObject(user))
        return "user must be an object";
    if ((!id && cJSON_GetObjectItemCaseSensitive(user, "id")) ||
        (!anon && cJSON_GetObjectItemCaseSensitive(user, "anon")))
        return "user.id and user.anon must be strings";
    if (!id && !anon)
        return "user needs id or anon";
    if (!pj_is_ident(id ? id : anon) || (id && anon && !pj_is_ident(anon)))
        return "invalid user id";
    if ((token && !cJSON_IsString(token)) || (proof && !cJSON_IsString(proof)))
        return "user.token and user.proof must be strings";
    h->user = id ? id : anon;
    h->kind = id ? "id" : "anon";
    h->token = token ? token->valuestring : NULL;
    h->anon = id ? anon : NULL;
    h->proof = id && proof ? proof->valuestring : NULL;
    return NULL;
}

static const char *parse_cursors(const cJSON *cursors)
{
    const cJSON *it;
    int64_t seq;

    if (!cJSON_IsObject(cursors))
        return "resume.cursors must be an object";
    cJSON_ArrayForEach(it, cursors) {
        if (!pj_is_ident(it->string) || !cJSON_IsString(it) ||
            pj_parse_seq(it->valuestring, &seq))
            return "invalid resume cursor";
    }
    return NULL;
}

static const char *parse_resume(const cJSON *resume, hello *h)
{
    const cJSON *session, *cursors;

    if (!resume)
        return NULL;
    if (!cJSON_IsObject(resume))
        return "resume must be an object";
    session = cJSON_GetObjectItemCaseSensitive(resume, "session");
    cursors = cJSON_GetObjectItemCaseSensitive(resume, "cursors");
    if (session && !(cJSON_IsString(session) && pj_is_ident(session->valuestring)))
        return "invalid resume.session";
    h->session = session ? session->valuestring : NULL;
    h->cursors = cursors;
    return cursors ? parse_cursors(cursors) : NULL;
}

/* NULL when the hello is acceptable, else why not. */
static const char *parse_hello(const cJSON *f, hello *h)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "v");
    const char *why;

    memset(h, 0, sizeof *h);
    if (!cJSON_IsNumber(v) || v->valuedouble != 1)
        return "unsupported protocol version";
    h->app = pj_string(f, "app");
    if (!pj_is_ident(h->app))
        return "missing or invalid app";
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f, "sdk")))
        return "missing sdk";
    why = parse_user(cJSON_GetObjectItemCaseSensitive(f, "user"), h);
    return why ? why : parse_resume(cJSON_GetObjectItemCaseSensitive(f, "resume"), h);
}

/* What signing in settled: the session token for welcome, the anonymous
 * user's merge secret when it was issued now, and whether `anon` was merged. */
typedef struct opened {
    char session[SESSION_BUF];
    char secret[IDENTITY_SECRET_BUF];
    int issued, merged;
} opened;

/* Records the user, issues an anonymous user's secret or merges the
 * anonymous user a proof names, and picks the session token: the resumed
 * one when it is this user's, else a fresh one. All in one transaction. */
static int open_session(db *d, const hello *h, opened *o)
{
    int64_t now = util_now_ms();
    int anonymous = strcmp(h->kind, "anon") == 0, rc = 0;

    memset(o, 0, sizeof *o);
    if (db_begin(d))
        return -1;
    if (db_user_seen(d, h->user, h->kind, h->app, now) ||
        (anonymous && (o->issued = identity_issue_secret(d, h->user, o->secret)) < 0) ||
        (h->anon && (o->merged = identity_merge(d, h->anon, h->proof, h->user)) < 0))
        rc = -1;
    else if (h->session && db_session_check(d, h->session, h->user, now) == 1)
        snprintf(o->session, SESSION_BUF, "%s", h->session);
    else if (util_random_token("s-", 16, o->session, SESSION_BUF) ||
             db_session_create(d, o->session, h->user, now))
        rc = -1;
    if (rc == 0 && db_commit(d) == 0)
        return 0;
    db_rollback(d);
    return -1;
}

/* The anonymous user `anon` now belongs to an identified user: connections
 * still signed in as it are closed, so that nothing keeps acting in its
 * name. */
static void close_merged(server *s, const char *anon)
{
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->ready && !c->closing && strcmp(c->user, anon) == 0) {
            send_error(c, "auth_failed", "this anonymous user was merged into an identified user",
                       NULL);
            close_after_flush(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        }
    }
}

/* Queues the replay, which goes out a page at a time (replay.c). */
static void replay(ws_conn *c, const cJSON *cursors)
{
    const cJSON *it;
    int64_t after;

    cJSON_ArrayForEach(it, cursors) {
        if (c->dead)
            return;
        /* A conversation the client does not own is skipped, not reported:
         * its id reveals nothing then. */
        if (pj_parse_seq(it->valuestring, &after) == 0 &&
            chat_owns(c->srv->db, c->user, it->string) == 1 &&
            replay_add(&c->replay, it->string, after, 0, 0))
            drop(c, "out of memory");
    }
    lws_callback_on_writable(c->wsi);
}

static void on_hello(ws_conn *c, const cJSON *f)
{
    const char *why;
    opened o;
    hello h;

    if (c->ready) {
        send_error(c, "bad_frame", "hello was already accepted", NULL);
        return;
    }
    why = parse_hello(f, &h);
    if (!why && strcmp(h.kind, "id") == 0)
        why = auth_verify(&c->srv->auth, h.user, h.token, util_now_ms() / 1000);
    if (!why)
        why = identity_check(c->srv->db, h.kind, h.user, h.anon);
    if (why) {
        send_error(c, "auth_failed", why, NULL);
        close_after_flush(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        return;
    }
    if (open_session(c->srv->db, &h, &o)) {
        send_error(c, "internal", "cannot open a session, try again later", NULL);
        close_after_flush(c, LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
        return;
    }
    if (o.merged)
        close_merged(c->srv, h.anon);
    snprintf(c->user, sizeof c->user, "%s", h.user);
    c->ready = 1;
    conn_send(c, frame_welcome(o.session, o.issued ? o.secret : NULL, PJ_MAX_FRAME,
                               c->srv->max_text));
    if (h.cursors)
        replay(c, h.cursors);
    rich_after_welcome(c);
    survey_on_welcome(c);
}

/* ---- other client frames ---- */

/* The optional `context` snapshot as JSON text: 0 and *out (NULL when absent,
 * else to free with cJSON_free), or -1 when it is not an object. */
static int snapshot(ws_conn *c, const cJSON *f, char **out)
{
    const cJSON *ctx = cJSON_GetObjectItemCaseSensitive(f, "context");

    *out = NULL;
    if (!ctx)
        return 0;
    if (!cJSON_IsObject(ctx))
        return -1;
    *out = cJSON_PrintUnformatted(ctx);
    if (!*out)
        c->dead = 1;
    return 0;
}

static void report(ws_conn *c, int rc, const char *cid)
{
    if (rc == CHAT_UNKNOWN_CONV)
        send_error(c, "unknown_conversation", "no such conversation", cid);
    else if (rc != CHAT_OK)
        send_error(c, "internal", "cannot store, try again later", NULL);
}

static void on_conv_start(ws_conn *c, const cJSON *f)
{
    const char *cid = pj_string(f, "cid"), *conv = pj_string(f, "conv");
    const cJSON *subject = cJSON_GetObjectItemCaseSensitive(f, "subject");
    bot_result greeting;
    char *ctx;
    int rc;

    if (!pj_is_ident(cid) || !pj_is_ident(conv) || (subject && !cJSON_IsString(subject)) ||
        snapshot(c, f, &ctx)) {
        send_error(c, "bad_frame", "conv.start needs cid and conv identifiers", cid);
        return;
    }
    if (c->dead)
        return;
    rc = chat_start(c->srv->db, c->user, conv, subject ? subject->valuestring : NULL, cid, ctx);
    cJSON_free(ctx);
    /* The greeting is stored before the ack, so a failure is retried by the
     * client's resend; it goes out after the ack. */
    if (rc == CHAT_OK)
        rc = bot_conv_started(c->srv, conv, &greeting);
    if (rc != CHAT_OK) {
        report(c, rc, cid);
        return;
    }
    conn_send(c, frame_conv_ack(cid, conv));
    bot_deliver(c->srv, c->user, conv, &greeting);
    bot_result_clear(&greeting);
}

static const char *check_msg(const ws_conn *c, const cJSON *f, const char **code)
{
    const cJSON *postback = cJSON_GetObjectItemCaseSensitive(f, "postback");
    const char *text = pj_string(f, "text");

    *code = "bad_frame";
    if (!pj_is_ident(pj_string(f, "conv")))
        return "msg.send needs a conv identifier";
    if (!text || !text[0])
        return "msg.send needs a non-empty text";
    if (strlen(text) > c->srv->max_text) {
        *code = "too_long";
        return "text exceeds the server's max_text";
    }
    return postback ? bot_check_postback(postback) : NULL;
}

static void on_msg_send(ws_conn *c, const cJSON *f)
{
    const char *cid = pj_string(f, "cid"), *code, *why;
    bot_result sent;
    bot_msg_in in;
    char *ctx;
    int rc;

    if (!pj_is_ident(cid)) {
        send_error(c, "bad_frame", "msg.send needs a cid identifier", NULL);
        return;
    }
    why = check_msg(c, f, &code);
    if (why || snapshot(c, f, &ctx)) {
        send_error(c, why ? code : "bad_frame", why ? why : "context must be an object", cid);
        return;
    }
    if (c->dead)
        return;
    in.user = c->user;
    in.conv = pj_string(f, "conv");
    in.cid = cid;
    in.text = pj_string(f, "text");
    in.context = ctx;
    in.postback = cJSON_GetObjectItemCaseSensitive(f, "postback");
    rc = bot_user_message(c->srv, &in, &sent);
    if (rc == BOT_BAD_POSTBACK)
        send_error(c, "bad_postback", "no such option on that message", cid);
    else if (rc != CHAT_OK)
        report(c, rc, cid);
    else {
        /* The ack goes first: the sender learns its message's seq before
         * the bot's reply, which has the next one. */
        conn_send(c, frame_msg_ack(cid, &sent.user));
        if (!sent.duplicate)
            ws_push(c->srv, c->user, &sent.user, c);
        bot_deliver(c->srv, c->user, in.conv, &sent);
        bot_result_clear(&sent);
    }
    cJSON_free(ctx);
}

#define HISTORY_DEFAULT_LIMIT 100
#define HISTORY_MAX_LIMIT 500

/* Replays the stored messages after `after`, at most `limit`, then
 * history.end, a page at a time (replay.c). */
static void on_history_get(ws_conn *c, const cJSON *f)
{
    const char *conv = pj_string(f, "conv");
    const cJSON *limit = cJSON_GetObjectItemCaseSensitive(f, "limit");
    int64_t after, n = HISTORY_DEFAULT_LIMIT;
    int rc;

    if (!pj_is_ident(conv) || pj_parse_seq(pj_string(f, "after"), &after) ||
        (limit && (!cJSON_IsNumber(limit) || limit->valuedouble < 1 ||
                   limit->valuedouble > HISTORY_MAX_LIMIT ||
                   limit->valuedouble != (double)(int64_t)limit->valuedouble))) {
        send_error(c, "bad_frame", "history.get needs conv, after and a limit of 1..500", NULL);
        return;
    }
    if (limit)
        n = (int64_t)limit->valuedouble;
    rc = chat_owns(c->srv->db, c->user, conv);
    if (rc < 0) {
        send_error(c, "internal", "cannot read history, try again later", NULL);
        return;
    }
    if (rc == 0) {
        send_error(c, "unknown_conversation", "no such conversation", NULL);
        return;
    }
    if (c->replay.n_history >= REPLAY_MAX_HISTORY)
        refuse(c, f, "history.get", "too many history.get answers in progress", 0);
    else if (replay_add(&c->replay, conv, after, 1, n))
        drop(c, "out of memory");
    else
        lws_callback_on_writable(c->wsi);
}

static void on_bye(ws_conn *c, const cJSON *f)
{
    (void)f;
    close_after_flush(c, LWS_CLOSE_STATUS_NORMAL);
}

/* ---- dispatch ---- */

typedef void (*frame_handler)(ws_conn *c, const cJSON *f);

static const struct {
    const char *type;
    frame_handler fn;
} handlers[] = {
    {"hello", on_hello},
    {"context", context_on_frame},
    {"event", context_on_event},
    {"survey.submit", survey_on_submit},
    {"survey.dismiss", survey_on_dismiss},
    {"proactive.ack", survey_on_proactive_ack},
    {"conv.start", on_conv_start},
    {"msg.send", on_msg_send},
    {"history.get", on_history_get},
    {"typing", rich_on_typing},
    {"read", rich_on_read},
    {"conv.list", rich_on_conv_list},
    {"history.page", rich_on_history_page},
    {"kb.search", rich_on_kb_search},
    {"kb.get", rich_on_kb_get},
    {"bye", on_bye},
};

static frame_handler find_handler(const char *type)
{
    size_t i;

    for (i = 0; i < sizeof handlers / sizeof handlers[0]; i++) {
        if (strcmp(handlers[i].type, type) == 0)
            return handlers[i].fn;
    }
    return NULL;
}

static void on_frame(ws_conn *c, const char *buf, size_t len)
{
    const char *why = NULL, *type;
    frame_handler fn;
    cJSON *f = pj_parse(buf, len, &why);

    type = pj_string(f, "t");
    if (!admit(c, f, type)) {
        cJSON_Delete(f);
        return;
    }
    if (!f) {
        send_error(c, "bad_frame", why, NULL);
        return;
    }
    /* A refusal names the item's cid when it has one, so a client drops
     * that item from its outbox instead of resending it forever. */
    if (!type || !type[0] || strlen(type) > PJ_MAX_TYPE)
        send_error(c, "bad_frame", "missing or invalid frame type", pj_string(f, "cid"));
    else if (!c->ready && strcmp(type, "hello") != 0)
        send_error(c, "not_ready", "send hello first", NULL);
    else if (!(fn = find_handler(type)))
        send_error(c, "unknown_type", "unknown frame type", pj_string(f, "cid"));
    else
        fn(c, f);
    cJSON_Delete(f);
}

/* ---- receiving ---- */

static void rx_append(ws_conn *c, const void *in, size_t len)
{
    size_t cap;
    char *grown;

    if (c->rx_state != RX_OK)
        return;
    if (len > PJ_MAX_FRAME - c->rx_len) {
        c->rx_state = RX_TOO_BIG;
        return;
    }
    if (c->rx_len + len + 1 > c->rx_cap) {
        cap = c->rx_cap ? c->rx_cap : 1024;
        while (cap < c->rx_len + len + 1)
            cap *= 2;
        if (cap > PJ_MAX_FRAME + 1)
            cap = PJ_MAX_FRAME + 1;
        grown = realloc(c->rx, cap);
        if (!grown) {
            c->dead = 1;
            return;
        }
        c->rx = grown;
        c->rx_cap = cap;
    }
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    c->rx[c->rx_len] = '\0';
}

static void rx_complete(ws_conn *c)
{
    if (c->rx_state == RX_TOO_BIG)
        send_error(c, "bad_frame", "frame exceeds 65536 bytes", NULL);
    else if (c->rx_state == RX_BINARY)
        send_error(c, "bad_frame", "binary frames are not part of parley.v1", NULL);
    else if (!c->dead)
        on_frame(c, c->rx ? c->rx : "", c->rx_len);
    c->rx_len = 0;
    c->rx_state = RX_OK;
}

static int on_receive(ws_conn *c, const void *in, size_t len)
{
    /* After bye or a refused hello nothing more is read. */
    if (c->closing)
        return 0;
    if (lws_frame_is_binary(c->wsi) && c->rx_state == RX_OK)
        c->rx_state = RX_BINARY;
    rx_append(c, in, len);
    if (lws_is_final_fragment(c->wsi) && !lws_remaining_packet_payload(c->wsi))
        rx_complete(c);
    return c->dead ? -1 : 0;
}

/* ---- connection lifecycle ---- */

/* The endpoint is "/" only (docs/protocol.md, Transport). */
static int path_allowed(struct lws *wsi)
{
    char path[8];

    return lws_hdr_copy(wsi, path, sizeof path, WSI_TOKEN_GET_URI) > 0 && strcmp(path, "/") == 0;
}

/* 1 when the address already has --max-conns-per-addr connections. */
static int over_cap(const ws_conn *c)
{
    long cap = c->srv->abuse.conns_per_addr, n = 0;
    const ws_conn *o;

    if (!cap || !c->addr[0])
        return 0;
    for (o = c->srv->conns; o; o = o->next)
        n += o != c && !o->refused && strcmp(o->addr, c->addr) == 0;
    return n >= cap;
}

static void on_established(ws_conn *c, struct lws *wsi)
{
    const abuse_cfg *a;
    int64_t now = util_mono_ms();

    memset(c, 0, sizeof *c);
    c->wsi = wsi;
    c->srv = server_of(wsi);
    a = &c->srv->abuse;
    abuse_bucket_init(&c->msgs, a->msg_burst, now);
    abuse_bucket_init(&c->reqs, a->req_burst, now);
    abuse_bucket_init(&c->strikes, ABUSE_STRIKES, now);
    if (!lws_get_peer_simple(wsi, c->addr, sizeof c->addr))
        c->addr[0] = '\0';
    c->next = c->srv->conns;
    if (c->next)
        c->next->prev = c;
    c->srv->conns = c;
    c->srv->nconns++;
    if (over_cap(c)) {
        c->refused = 1;
        send_error(c, "too_many_connections", "too many connections from your address", NULL);
        close_after_refusal(c);
    }
}

static void on_closed(ws_conn *c)
{
    if (!c->srv)
        return;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->srv->nconns--;
    free(c->rx);
    outq_clear(&c->out);
    replay_clear(&c->replay);
    memset(c, 0, sizeof *c);
}

int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                size_t len)
{
    ws_conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return path_allowed(wsi) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED:
        on_established(c, wsi);
        return 0;
    case LWS_CALLBACK_RECEIVE:
        return on_receive(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE:
        return on_writeable(c);
    case LWS_CALLBACK_TIMER: /* a refusal's linger is over (close_after_refusal) */
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLOSED:
        on_closed(c);
        return 0;
    default:
        return 0;
    }
}
