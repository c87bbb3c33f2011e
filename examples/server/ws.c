#include "ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "json.h"
#include "outq.h"
#include "replay.h"
#include "store.h"
#include "util.h"
#include "wire.h"

#define ADDR_BUF 64
/* How long a refused connection stays open before it is closed; see
 * close_after_refusal. */
#define REFUSAL_LINGER_MS 1000
/* Conversations whose newest seq sent is remembered per connection (the
 * least recently touched one makes room). */
#define SEEN_CONVS 8

enum { RX_OK, RX_TOO_BIG, RX_BINARY };

struct ws_conn {
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
    char *rx;            /* the message being reassembled, NUL-terminated; NULL between messages */
    size_t rx_len, rx_cap;
    int rx_state;
    outq out;
    replay_q replay; /* stored messages still to send, a page at a time */
    abuse_bucket msgs, reqs, chunks, strikes;
    /* On the server's list of connections with frames held for the open
     * group of writes (store.h, group commit). */
    int held;
    struct ws_conn *held_prev, *held_next;
    /* The newest seq queued (or acknowledged) per conversation, by a hash
     * of its id: with several instances a `msg` may arrive late, or after
     * a gap (see ws_push_msg). */
    struct {
        uint64_t conv;
        int64_t seq;
        uint64_t used;
    } seen[SEEN_CONVS];
    uint64_t seen_clock;
};

/* ---- the newest seq each conversation got ---- */

static uint64_t conv_hash(const char *conv)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */

    while (*conv)
        h = (h ^ (unsigned char)*conv++) * 1099511628211ull;
    return h | 1; /* 0 marks a free slot */
}

/* The slot of `conv`, or NULL when none. */
static int64_t *seen_find(ws_conn *c, uint64_t h)
{
    size_t i;

    for (i = 0; i < SEEN_CONVS; i++) {
        if (c->seen[i].conv == h) {
            c->seen[i].used = ++c->seen_clock;
            return &c->seen[i].seq;
        }
    }
    return NULL;
}

static void seen_note(ws_conn *c, const char *conv, int64_t seq)
{
    uint64_t h = conv_hash(conv);
    int64_t *last = seen_find(c, h);
    size_t i, old = 0;

    if (last) {
        if (seq > *last)
            *last = seq;
        return;
    }
    for (i = 1; i < SEEN_CONVS; i++) {
        if (c->seen[i].used < c->seen[old].used)
            old = i;
    }
    c->seen[old].conv = h;
    c->seen[old].seq = seq;
    c->seen[old].used = ++c->seen_clock;
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

/* ---- frames held for a group commit ---- */

static void held_add(ws_conn *c)
{
    if (c->held)
        return;
    c->held = 1;
    c->held_prev = NULL;
    c->held_next = c->srv->held;
    if (c->held_next)
        c->held_next->held_prev = c;
    c->srv->held = c;
}

static void held_remove(ws_conn *c)
{
    if (!c->held)
        return;
    if (c->held_prev)
        c->held_prev->held_next = c->held_next;
    else
        c->srv->held = c->held_next;
    if (c->held_next)
        c->held_next->held_prev = c->held_prev;
    c->held = 0;
}

/* After a commit the held frames go out; after a failed one they must not
 * (they acknowledge writes that are lost): the connection is dropped, and
 * its client sends its outbox again on the next one. */
void ws_group_done(server *s, int committed)
{
    ws_conn *c;

    while ((c = s->held) != NULL) {
        held_remove(c);
        if (committed)
            lws_callback_on_writable(c->wsi);
        else if (!c->dead)
            drop(c, "the database could not commit");
    }
}

/* A client that reads slower than we produce is dropped rather than allowed
 * to grow the server's memory (--max-outq-kb). A frame queued while a
 * group of writes is open waits for its commit. */
static void conn_queue(ws_conn *c, const char *json)
{
    size_t max = (size_t)c->srv->abuse.outq_kb * 1024, len = json ? strlen(json) : 0;

    if (c->dead)
        return;
    if (!json)
        drop(c, "out of memory");
    else if (outq_push(&c->out, json, len, max))
        drop(c, c->out.bytes + outq_cost(len) > max ? "output queue full (the client does not read)"
                                                    : "out of memory");
    else if ((c->out.tail->hold = store_group_pending(c->srv->store)) != 0)
        held_add(c);
    else
        lws_callback_on_writable(c->wsi);
}

void ws_conn_send(ws_conn *c, char *json)
{
    conn_queue(c, json);
    cJSON_free(json);
}

void ws_conn_error(ws_conn *c, const char *code, const char *message, const char *cid)
{
    ws_conn_send(c, wire_error(code, message, pj_is_ident(cid) ? cid : NULL));
}

/* A connection on its way out gets no more replay. */
static void close_after_flush(ws_conn *c, enum lws_close_status status)
{
    replay_clear(&c->replay);
    c->closing = 1;
    c->close_status = status;
    lws_callback_on_writable(c->wsi);
}

void ws_conn_close(ws_conn *c, ws_close why)
{
    close_after_flush(c, why == WS_CLOSE_NORMAL   ? LWS_CLOSE_STATUS_NORMAL
                         : why == WS_CLOSE_POLICY ? LWS_CLOSE_STATUS_POLICY_VIOLATION
                                                  : LWS_CLOSE_STATUS_UNEXPECTED_CONDITION);
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

static void replay_send(void *ud, char *json)
{
    ws_conn_send(ud, json);
}

static void replay_sent(void *ud, const char *conv, int64_t seq)
{
    seen_note(ud, conv, seq);
}

/* One frame per callback, as lws requires; the replay adds its next page
 * when the queue runs low, so it moves at the pace the client reads. */
static int on_writeable(ws_conn *c)
{
    replay_sink sink = {replay_send, replay_sent, c};
    outq_item *it;

    if (!c->dead && replay_pending(&c->replay) && c->out.bytes < REPLAY_PAGE_BYTES)
        replay_step(&c->replay, c->srv->store, &sink, REPLAY_PAGE_BYTES);
    if (c->dead)
        return -1;
    it = outq_peek(&c->out);
    if (it && it->hold > store_group_committed(c->srv->store))
        return 0; /* ws_group_done asks again */
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

/* ---- the connection, for handlers ---- */

server *ws_conn_server(const ws_conn *c)
{
    return c->srv;
}

const char *ws_conn_user(const ws_conn *c)
{
    return c->user;
}

int ws_conn_signed_in(const ws_conn *c)
{
    return c->ready;
}

void ws_conn_sign_in(ws_conn *c, const char *user)
{
    snprintf(c->user, sizeof c->user, "%s", user);
    c->ready = 1;
}

int ws_conn_replay(ws_conn *c, const char *conv, int64_t after, int history, int64_t limit)
{
    if (c->dead)
        return -1;
    if (history && c->replay.n_history >= REPLAY_MAX_HISTORY)
        return 1;
    if (replay_add(&c->replay, conv, after, history, limit)) {
        drop(c, "out of memory");
        return -1;
    }
    /* The client has what came before its cursor. */
    seen_note(c, conv, after);
    lws_callback_on_writable(c->wsi);
    return 0;
}

/* ---- pushes ---- */

void ws_push(server *s, const char *user, const char *json)
{
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->ready && strcmp(c->user, user) == 0)
            conn_queue(c, json);
    }
}

int ws_user_online(const server *s, const char *user)
{
    const ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->ready && !c->closing && strcmp(c->user, user) == 0)
            return 1;
    }
    return 0;
}

/* Several instances: a `msg` published elsewhere may reach this one after
 * a later one was queued here, or not at all (Redis went away). One at or
 * below what the connection got is not sent again; one past a gap makes
 * the connection read the gap from the store first (a replay, which then
 * brings this one in its turn), so a client gets each message once and in
 * order. The sender's own connection had the ack. */
void ws_push_msg(server *s, const char *user, const char *conv, int64_t seq, const char *json,
                 const ws_conn *except)
{
    uint64_t h = conv_hash(conv);
    int64_t *last;
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (!c->ready || strcmp(c->user, user) != 0)
            continue;
        if (c == except || replay_covers(&c->replay, conv)) {
            seen_note(c, conv, seq);
            continue;
        }
        last = seen_find(c, h);
        if (last && seq <= *last)
            continue;
        if (last && seq > *last + 1) {
            ws_conn_replay(c, conv, *last, 0, 0);
            continue;
        }
        conn_queue(c, json);
        seen_note(c, conv, seq);
    }
}

void ws_close_user(server *s, const char *user, const char *code, const char *message)
{
    ws_conn *c;

    for (c = s->conns; c; c = c->next) {
        if (c->ready && !c->closing && strcmp(c->user, user) == 0) {
            ws_conn_error(c, code, message, NULL);
            close_after_flush(c, LWS_CLOSE_STATUS_POLICY_VIOLATION);
        }
    }
}

/* Evenly rather than at random: n connections over the window are one every
 * window / n ms, with no clusters for the next instance to absorb (each
 * client adds its own jitter on top). */
void ws_goaway_all(server *s, int reconnect_ms, int window_ms, const char *reason)
{
    size_t i = 0, last = s->nconns > 1 ? s->nconns - 1 : 1;
    ws_conn *c;
    char *json;

    for (c = s->conns; c; c = c->next, i++) {
        json = wire_goaway(reconnect_ms + (int)((int64_t)window_ms * (int64_t)i / (int64_t)last),
                           reason);
        conn_queue(c, json);
        cJSON_free(json);
        close_after_flush(c, LWS_CLOSE_STATUS_GOINGAWAY);
    }
}

/* ---- limits (abuse.c) ---- */

void ws_conn_refuse(ws_conn *c, const cJSON *f, const char *type, const char *message,
                    int64_t retry_ms)
{
    const char *req = pj_string(f, "req");
    int kept =
        cJSON_GetObjectItemCaseSensitive(f, "cid") || (type && strcmp(type, "history.get") == 0);

    ws_conn_send(c,
                 wire_req_error("rate_limited", message, pj_is_ident(req) ? req : NULL, retry_ms));
    if (kept || abuse_take(&c->strikes, ABUSE_STRIKE_RATE, ABUSE_STRIKES, util_mono_ms())) {
        fprintf(stderr,
                "parley-server: closing connection of '%s' from %s: over the rate "
                "limit\n",
                c->user, c->addr[0] ? c->addr : "?");
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
    wait = k == ABUSE_REQ     ? abuse_take(&c->reqs, a->req_rate, a->req_burst, now)
           : k == ABUSE_CHUNK ? abuse_take(&c->chunks, a->chunk_rate, a->chunk_burst, now)
                              : abuse_take(&c->msgs, a->msg_rate, a->msg_burst, now);
    if (wait == 0)
        return 1;
    ws_conn_refuse(c, f, type,
                   k == ABUSE_REQ     ? "too many requests, slow down"
                   : k == ABUSE_CHUNK ? "too many attachment chunks, slow down"
                                      : "too many messages, slow down",
                   wait);
    return 0;
}

/* ---- dispatch ---- */

static ws_frame_fn find_handler(const server *s, const char *type)
{
    size_t i;

    for (i = 0; i < s->nframes; i++) {
        if (strcmp(s->frames[i].type, type) == 0)
            return s->frames[i].fn;
    }
    return NULL;
}

static void on_frame(ws_conn *c, const char *buf, size_t len)
{
    const char *why = NULL, *type;
    ws_frame_fn fn;
    cJSON *f = pj_parse(buf, len, &why);

    type = pj_string(f, "t");
    if (!admit(c, f, type)) {
        cJSON_Delete(f);
        return;
    }
    if (!f) {
        ws_conn_error(c, "bad_frame", why, NULL);
        return;
    }
    /* A refusal names the item's cid when it has one, so a client drops
     * that item from its outbox instead of resending it forever. */
    if (!type || !type[0] || strlen(type) > PJ_MAX_TYPE)
        ws_conn_error(c, "bad_frame", "missing or invalid frame type", pj_string(f, "cid"));
    else if (!c->ready && strcmp(type, "hello") != 0)
        ws_conn_error(c, "not_ready", "send hello first", NULL);
    else if (!(fn = find_handler(c->srv, type)))
        ws_conn_error(c, "unknown_type", "unknown frame type", pj_string(f, "cid"));
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
        ws_conn_error(c, "bad_frame", "frame exceeds 65536 bytes", NULL);
    else if (c->rx_state == RX_BINARY)
        ws_conn_error(c, "bad_frame", "binary frames are not part of parley.v1", NULL);
    else if (!c->dead)
        on_frame(c, c->rx ? c->rx : "", c->rx_len);
    /* Not kept for the next message: an idle connection holds no buffer,
     * and one that once sent a 64 KB frame does not keep 64 KB
     * (docs/scaling.md). */
    free(c->rx);
    c->rx = NULL;
    c->rx_len = c->rx_cap = 0;
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
    c->srv = lws_context_user(lws_get_context(wsi));
    a = &c->srv->abuse;
    abuse_bucket_init(&c->msgs, a->msg_burst, now);
    abuse_bucket_init(&c->reqs, a->req_burst, now);
    abuse_bucket_init(&c->chunks, a->chunk_burst, now);
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
        ws_conn_error(c, "too_many_connections", "too many connections from your address", NULL);
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
    held_remove(c);
    free(c->rx);
    outq_clear(&c->out);
    replay_clear(&c->replay);
    memset(c, 0, sizeof *c);
}

static int ws_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                       size_t len)
{
    ws_conn *c = user;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION: return path_allowed(wsi) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED: on_established(c, wsi); return 0;
    case LWS_CALLBACK_RECEIVE: return on_receive(c, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE: return on_writeable(c);
    case LWS_CALLBACK_TIMER: /* a refusal's linger is over (close_after_refusal) */
        lws_callback_on_writable(wsi);
        return 0;
    case LWS_CALLBACK_CLOSED: on_closed(c); return 0;
    default: return 0;
    }
}

void ws_protocol(struct lws_protocols *p)
{
    memset(p, 0, sizeof *p);
    p->name = "parley.v1";
    p->callback = ws_callback;
    p->per_session_data_size = sizeof(ws_conn);
    /* lws gives every connection a receive buffer of this size for its
     * whole life; frames are reassembled here anyway (rx_append), so a
     * small one costs a few more callbacks for a long frame and saves 3 KB
     * per idle connection (docs/scaling.md). */
    p->rx_buffer_size = 1024;
}
