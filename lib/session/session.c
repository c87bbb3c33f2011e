/* Session engine: the parley.v1 state machine and the delivery promise
 * (docs/protocol.md). Everything here is driven by the caller; see session.h.
 * This file holds the engine's lifecycle, the connection's state machine
 * (backoff, handshake, goaway), the frames it answers itself and the host's
 * calls; output.c, conversations.c and outbox.c the rest
 * (session_internal.h).
 *
 * Two queues feed the connection. The write queue holds control frames
 * (hello, context) that belong to one connection and die with it. The outbox
 * holds the user's items (conv.start, msg.send) encoded once, in the order
 * the user produced them, until the server acks or rejects them; `obx_next`
 * walks it on each welcomed connection, so a resend allocates nothing.
 * Control frames go first: hello must lead, the full context should precede
 * the resends, and each item carries its own context snapshot anyway.
 *
 * With a journal the outbox, the cursors, the session token and the
 * anonymous user's merge secret are durable: an item is journaled (and,
 * with sync_items, synced) before the call that produced it returns OK,
 * and pl_sess_new reloads everything. Deletes and cursor moves are not
 * synced, and cursors are journaled in batches: losing one only causes a
 * resend the server deduplicates or a replay the host gets again. */
#include "session/session_internal.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

#define META_SESSION "session"
/* The anonymous user's merge secret, stored as anon_id '\n' secret so that
 * it is never sent for another anonymous id. */
#define META_ANON_SECRET "anon_secret"

#define DEFAULT_BACKOFF_INITIAL_MS 500
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_OUTBOX_CAP 1000
/* 2^32 already exceeds any uint32 maximum, so further doubling is moot. */
#define MAX_BACKOFF_SHIFT 32

static uint32_t min_u32(uint32_t a, uint32_t b)
{
    return a < b ? a : b;
}

static uint32_t or_default(uint32_t v, uint32_t def)
{
    return v ? v : def;
}

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

static int connected(const pl_sess *s)
{
    return s->state == PL_ST_HANDSHAKING || s->state == PL_ST_ONLINE;
}

/* Connection events carry no user data: when one cannot be allocated the
 * state change still happens and the loss is logged. Returns the queued
 * event (NULL when lost). */
/* The transport's connection is gone (or never was): its frames go, and
 * no history answer will come on it. */
static void connection_gone(pl_sess *s)
{
    pl_wq_drop(s);
    pl_convs_connection_lost(s);
}

static parley_event *emit_conn(pl_sess *s, int state, int err, uint32_t retry_ms, const char *why)
{
    parley_event *ev = pl_sess_event(s, PARLEY_EV_CONNECTION, state);
    if (!ev || pl_event_set(ev, &ev->text, why) != PARLEY_OK) {
        parley_event_free(ev);
        PL_LOG_W(s->log, "connection event %d lost: out of memory", state);
        return NULL;
    }
    ev->error_code = err;
    ev->retry_ms = retry_ms;
    pl_event_queue_push(&s->events, ev);
    return ev;
}

/* The token is stored as owner '\n' token; an empty owner is anonymous. */
static int load_session(pl_sess *s)
{
    size_t len = 0;
    const char *v = pl_journal_get(s->journal, PL_NS_META, META_SESSION, &len);
    const char *nl = v ? memchr(v, '\n', len) : NULL;
    if (!nl || nl + 1 == v + len)
        return PARLEY_OK;
    size_t on = (size_t)(nl - v);
    s->session_owner = on ? pl_strndup(&s->alloc, v, on) : NULL;
    s->session_token = pl_strndup(&s->alloc, nl + 1, len - on - 1);
    if ((on && !s->session_owner) || !s->session_token)
        return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}

/* A secret journaled for another anonymous id (one the journal outlived) is
 * ignored. */
static int load_anon_secret(pl_sess *s)
{
    size_t len = 0, an = strlen(s->anon_id);
    const char *v = pl_journal_get(s->journal, PL_NS_META, META_ANON_SECRET, &len);
    if (!v || len <= an + 1 || memcmp(v, s->anon_id, an) != 0 || v[an] != '\n')
        return PARLEY_OK;
    s->anon_secret = pl_strndup(&s->alloc, v + an + 1, len - an - 1);
    if (!s->anon_secret)
        return PARLEY_ERR_NOMEM;
    if (!pl_id_valid(s->anon_secret, PL_MAX_ID)) {
        PL_LOG_W(s->log, "journal: bad anonymous secret ignored");
        pl_free(&s->alloc, s->anon_secret);
        s->anon_secret = NULL;
    }
    return PARLEY_OK;
}

static int journal_load(pl_sess *s)
{
    int rc = load_session(s);
    if (rc == PARLEY_OK)
        rc = load_anon_secret(s);
    if (rc == PARLEY_OK)
        rc = pl_convs_load(s);
    if (rc == PARLEY_OK)
        rc = pl_outbox_load(s);
    if (rc == PARLEY_OK && s->obx_count)
        PL_LOG_I(s->log, "journal: %u outbox item(s) to resend", (unsigned)s->obx_count);
    return rc;
}

static void session_persist(pl_sess *s)
{
    if (!s->journal)
        return;
    const char *owner = s->session_owner ? s->session_owner : "";
    size_t n = strlen(owner) + 1 + strlen(s->session_token);
    char *v = pl_malloc(&s->alloc, n + 1);
    int rc = PARLEY_ERR_NOMEM;
    if (v) {
        snprintf(v, n + 1, "%s\n%s", owner, s->session_token);
        rc = pl_journal_put(s->journal, PL_NS_META, META_SESSION, v, n, 0);
    }
    pl_free(&s->alloc, v);
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "session token not journaled: %s", parley_strerror(rc));
}

/* Synced: without it the anonymous history could never be merged. */
static void anon_secret_persist(pl_sess *s)
{
    if (!s->journal)
        return;
    size_t n = strlen(s->anon_id) + 1 + strlen(s->anon_secret);
    char *v = pl_malloc(&s->alloc, n + 1);
    int rc = PARLEY_ERR_NOMEM;
    if (v) {
        snprintf(v, n + 1, "%s\n%s", s->anon_id, s->anon_secret);
        rc = pl_journal_put(s->journal, PL_NS_META, META_ANON_SECRET, v, n, 1);
    }
    pl_free(&s->alloc, v);
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "anonymous secret not journaled: %s", parley_strerror(rc));
}

static void session_forget(pl_sess *s)
{
    pl_free(&s->alloc, s->session_token);
    pl_free(&s->alloc, s->session_owner);
    s->session_token = s->session_owner = NULL;
    if (s->journal && pl_journal_del(s->journal, PL_NS_META, META_SESSION, 0) != PARLEY_OK)
        PL_LOG_W(s->log, "old session token not removed from the journal");
}

pl_sess *pl_sess_new(const pl_alloc *a, const pl_sess_config *cfg, pl_rand *rand, const pl_log *log)
{
    if (!a || !cfg || !rand || !cfg->app_id || !cfg->anon_id)
        return NULL;
    pl_sess *s = pl_calloc(a, 1, sizeof *s);
    if (!s)
        return NULL;
    s->alloc = *a;
    s->rand = rand;
    s->log = log;
    s->app_id = pl_strdup(a, cfg->app_id);
    s->anon_id = pl_strdup(a, cfg->anon_id);
    s->platform = pl_strdup(a, cfg->platform ? cfg->platform : "unknown");
    if (!s->app_id || !s->anon_id || !s->platform) {
        pl_sess_free(s);
        return NULL;
    }
    s->backoff_initial = or_default(cfg->backoff_initial_ms, DEFAULT_BACKOFF_INITIAL_MS);
    s->backoff_max = or_default(cfg->backoff_max_ms, DEFAULT_BACKOFF_MAX_MS);
    if (s->backoff_max < s->backoff_initial)
        s->backoff_max = s->backoff_initial;
    s->handshake_timeout = or_default(cfg->handshake_timeout_ms, DEFAULT_HANDSHAKE_TIMEOUT_MS);
    s->sync_items = cfg->sync_items;
    s->cursors_due = -1;
    s->outbox_cap = or_default(cfg->outbox_cap, DEFAULT_OUTBOX_CAP);
    s->max_text = PL_MAX_TEXT;
    s->max_frame = PL_MAX_FRAME;
    s->state = PL_ST_IDLE;
    s->next_order = 1;
    s->journal = cfg->journal;
    if (s->journal && journal_load(s) != PARLEY_OK) {
        pl_sess_free(s);
        return NULL;
    }
    return s;
}

void pl_sess_free(pl_sess *s)
{
    if (!s)
        return;
    pl_convs_flush(s); /* a clean exit delivers nothing twice */
    connection_gone(s);
    pl_outbox_clear(s);
    pl_convs_clear(s);
    pl_event_queue_clear(&s->events);
    char *strings[] = {s->app_id, s->anon_id,       s->platform,      s->user_id,
                       s->token,  s->session_token, s->session_owner, s->anon_secret};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        pl_free(&s->alloc, strings[i]);
    pl_free(&s->alloc, s->convs);
    pl_alloc a = s->alloc;
    pl_free(&a, s);
}

uint32_t pl_sess_max_frame(const pl_sess *s)
{
    return s->max_frame;
}

uint64_t pl_sess_max_attachment(const pl_sess *s)
{
    return s->max_attachment;
}

/* A goaway overrides any earlier reason: reconnecting early would only hit
 * the draining server. Otherwise the first reason stands. */
static void request_close(pl_sess *s, pl_sess_close kind, int err, const char *why)
{
    if (s->close != PL_CL_NONE && kind != PL_CL_GOAWAY)
        return;
    PL_LOG_I(s->log, "closing the connection: %s", why);
    s->close = kind;
    s->close_err = err;
    s->close_why = why;
}

int pl_sess_want(pl_sess *s, int64_t now, int64_t *deadline_ms)
{
    int want = 0;
    int64_t deadline = -1;
    if (s->state == PL_ST_WAITING) {
        deadline = s->retry_at;
        if (now >= s->retry_at)
            want |= PL_SESS_WANT_CONNECT;
    } else if (connected(s) && s->close != PL_CL_NONE) {
        want |= PL_SESS_WANT_CLOSE;
    } else if (connected(s)) {
        if (s->state == PL_ST_HANDSHAKING)
            deadline = s->hs_deadline;
        if (s->wq_head || pl_outbox_next(s))
            want |= PL_SESS_WANT_WRITE;
    }
    if (s->cursors_due >= 0 && (deadline < 0 || s->cursors_due < deadline))
        deadline = s->cursors_due;
    for (size_t i = 0; i < s->n_exts; i++) {
        int64_t d = s->exts[i].deadline ? s->exts[i].deadline(s->exts[i].user) : -1;
        if (d >= 0 && (deadline < 0 || d < deadline))
            deadline = d;
    }
    if (deadline_ms)
        *deadline_ms = deadline;
    return want;
}

void pl_sess_go_online(pl_sess *s, int64_t now)
{
    if (s->state != PL_ST_IDLE)
        return;
    s->state = PL_ST_WAITING;
    s->retry_at = now;
    s->attempt = 0;
}

void pl_sess_go_offline(pl_sess *s, int64_t now)
{
    (void)now;
    pl_convs_flush(s);
    if (s->state == PL_ST_IDLE)
        return;
    connection_gone(s);
    s->state = PL_ST_IDLE;
    s->close = PL_CL_NONE;
    emit_conn(s, PARLEY_CONN_OFFLINE, 0, 0, NULL);
}

void pl_sess_on_connecting(pl_sess *s, int64_t now)
{
    (void)now;
    if (s->state == PL_ST_IDLE)
        return;
    connection_gone(s);
    s->state = PL_ST_CONNECTING;
    s->close = PL_CL_NONE;
    emit_conn(s, PARLEY_CONN_CONNECTING, 0, 0, NULL);
}

/* A conversation with cursor 0 goes in too once the server has it ("0"):
 * after a restart, what an agent wrote while the app was closed is
 * replayed even if nothing had arrived before. */
static int resumable(const pl_sess *s, const pl_sess_conv *c)
{
    return c->cursor > 0 || !pl_outbox_starts(s, c->id);
}

/* One pass: whether a conversation is resumable walks the outbox. */
static int encode_hello(pl_sess *s, char **out, size_t *len)
{
    size_t n = 0;
    pl_cursor *cursors = NULL;
    if (s->n_convs && !(cursors = pl_calloc(&s->alloc, s->n_convs, sizeof *cursors)))
        return PARLEY_ERR_NOMEM;
    for (size_t i = 0; i < s->n_convs; i++)
        if (resumable(s, &s->convs[i]))
            cursors[n++] = (pl_cursor){s->convs[i].id, s->convs[i].cursor};
    pl_hello h = {
        .app = s->app_id,
        .sdk_version = PARLEY_VERSION_STRING,
        .platform = s->platform,
        .user_id = s->user_id,
        .token = s->token,
        .anon_id = s->anon_id,
        .anon_proof = s->user_id ? s->anon_secret : NULL,
        .session = same_str(s->session_owner, s->user_id) ? s->session_token : NULL,
        .cursors = cursors,
        .n_cursors = n,
    };
    int rc = pl_proto_encode_hello(&s->alloc, &h, out, len);
    pl_free(&s->alloc, cursors);
    return rc;
}

void pl_sess_on_open(pl_sess *s, int64_t now)
{
    if (s->state != PL_ST_CONNECTING) {
        PL_LOG_W(s->log, "open ignored: no connection attempt");
        return;
    }
    s->state = PL_ST_HANDSHAKING;
    s->hs_deadline = now + s->handshake_timeout;
    char *frame = NULL;
    size_t len = 0;
    if (encode_hello(s, &frame, &len) != PARLEY_OK ||
        pl_wq_push(s, "hello", frame, len) != PARLEY_OK)
        request_close(s, PL_CL_FAILURE, PARLEY_ERR_NOMEM, "out of memory");
}

/* Full jitter: uniform in [0, min(max, initial * 2^attempt)]. */
static uint32_t backoff_delay(pl_sess *s)
{
    uint64_t bound = (uint64_t)s->backoff_initial << min_u32(s->attempt, MAX_BACKOFF_SHIFT);
    if (s->attempt < MAX_BACKOFF_SHIFT)
        s->attempt++;
    return pl_rand_uniform(s->rand, bound > s->backoff_max ? s->backoff_max : (uint32_t)bound);
}

/* The goaway's delay is added to the backoff, not put in its place: a
 * server's goaway 0 repeated on every connection must not pace the client.
 * After a healthy connection (the attempt count is 0) this is the delay
 * plus up to backoff_initial, a planned drain's prompt return. */
static uint32_t close_delay(pl_sess *s, int64_t now)
{
    if (s->state == PL_ST_ONLINE && now - s->online_at >= PL_SESS_HEALTHY_MS)
        s->attempt = 0;
    if (s->close == PL_CL_RECONNECT)
        return 0;
    uint64_t d = backoff_delay(s);
    if (s->close == PL_CL_GOAWAY)
        d += s->goaway_ms;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

/* The connection is gone; the next attempt comes after `delay`. TLS
 * problems are told as errors too: the host must see them. */
static void wait_after(pl_sess *s, int64_t now, int err, const char *why, uint32_t delay,
                       uint32_t cert)
{
    connection_gone(s);
    s->close = PL_CL_NONE;
    s->state = PL_ST_WAITING;
    s->retry_at = now + delay;
    PL_LOG_I(s->log, "connection lost (%s), retrying in %u ms", why ? why : parley_strerror(err),
             (unsigned)delay);
    parley_event *ev = emit_conn(s, PARLEY_CONN_RECONNECTING, err, delay, why);
    if (ev)
        ev->tls_failures = cert;
    if (err != PARLEY_ERR_TLS)
        return;
    if (!(ev = pl_event_error(&s->alloc, err, NULL, why ? why : parley_strerror(err)))) {
        PL_LOG_W(s->log, "TLS error event lost: out of memory");
        return;
    }
    ev->tls_failures = cert;
    pl_event_queue_push(&s->events, ev);
}

void pl_sess_on_closed(pl_sess *s, int64_t now, int err, const char *why)
{
    if (s->state == PL_ST_IDLE || s->state == PL_ST_WAITING) {
        PL_LOG_D(s->log, "close ignored: no connection");
        return;
    }
    if (s->close != PL_CL_NONE) {
        err = s->close_err;
        why = s->close_why;
    }
    wait_after(s, now, err, why, close_delay(s, now), 0);
}

/* At least PARLEY_CERT_RETRY_MS (or the backoff maximum), plus up to as much
 * again so that a fleet refused at once does not come back at once. */
static uint32_t cert_delay(pl_sess *s)
{
    uint32_t base = s->backoff_max > PARLEY_CERT_RETRY_MS ? s->backoff_max : PARLEY_CERT_RETRY_MS;
    uint64_t d = (uint64_t)base + pl_rand_uniform(s->rand, base);
    if (s->attempt < MAX_BACKOFF_SHIFT)
        s->attempt++;
    return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
}

void pl_sess_on_cert_failure(pl_sess *s, int64_t now, uint32_t failures, const char *why)
{
    if (s->state == PL_ST_IDLE || s->state == PL_ST_WAITING) {
        PL_LOG_D(s->log, "certificate failure ignored: no connection");
        return;
    }
    PL_LOG_W(s->log, "%s", why ? why : "TLS certificate refused");
    wait_after(s, now, PARLEY_ERR_TLS, why, cert_delay(s), failures);
}

void pl_sess_reconnect_now(pl_sess *s, int64_t now)
{
    if (s->state == PL_ST_WAITING && s->retry_at > now)
        s->retry_at = now;
}

void pl_sess_tick(pl_sess *s, int64_t now)
{
    s->now = now;
    if (s->cursors_due >= 0 && now >= s->cursors_due)
        pl_convs_flush(s);
    if (s->state == PL_ST_HANDSHAKING && now >= s->hs_deadline)
        request_close(s, PL_CL_FAILURE, PARLEY_ERR_PROTOCOL, "no welcome");
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_tick)
            s->exts[i].on_tick(s->exts[i].user, now);
}

static int frame_error(pl_sess *s, const char *reason)
{
    PL_LOG_W(s->log, "bad frame from server: %s", reason);
    return pl_sess_emit_error(s, PARLEY_ERR_PROTOCOL, reason);
}

/* What a welcome gives is kept: the resume token (for the identity that
 * asked) and, on an anonymous connection, the merge secret. Allocated
 * before anything changes, so that running out of memory leaves the
 * handshake pending (the timeout retries it). */
static int keep_welcome(pl_sess *s, const pl_frame *f)
{
    char *token = pl_strdup(&s->alloc, f->session ? f->session : "");
    char *owner = pl_strdup(&s->alloc, s->user_id);
    /* Only an anonymous connection is issued its secret (the hello's
     * identity is still s->user_id: a change closes before welcome). */
    const char *issued = s->user_id ? NULL : f->anon_secret;
    char *secret = pl_strdup(&s->alloc, issued);
    if (!token || (s->user_id && !owner) || (issued && !secret)) {
        pl_free(&s->alloc, token);
        pl_free(&s->alloc, owner);
        pl_free(&s->alloc, secret);
        return PARLEY_ERR_NOMEM;
    }
    pl_free(&s->alloc, s->session_token);
    pl_free(&s->alloc, s->session_owner);
    s->session_token = token;
    s->session_owner = owner;
    session_persist(s);
    if (secret) {
        pl_free(&s->alloc, s->anon_secret);
        s->anon_secret = secret;
        anon_secret_persist(s);
    }
    return PARLEY_OK;
}

/* The server's frame limit, lower than ours, but not so low that it
 * would take the user's queued items with it (PL_MIN_FRAME). */
static uint32_t frame_limit(const pl_sess *s, uint32_t announced)
{
    if (announced && announced < PL_MIN_FRAME)
        PL_LOG_W(s->log, "welcome's max_frame of %u ignored: below %u bytes", (unsigned)announced,
                 (unsigned)PL_MIN_FRAME);
    return announced >= PL_MIN_FRAME ? min_u32(announced, PL_MAX_FRAME) : PL_MAX_FRAME;
}

static int on_welcome(pl_sess *s, int64_t now, const pl_frame *f)
{
    if (s->state != PL_ST_HANDSHAKING)
        return frame_error(s, "unexpected welcome");
    if (s->close != PL_CL_NONE) {
        PL_LOG_D(s->log, "welcome ignored: connection is closing");
        return PARLEY_OK;
    }
    parley_event *ev = pl_sess_event(s, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    if (!ev || keep_welcome(s, f) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    s->max_text = f->max_text ? min_u32(f->max_text, PL_MAX_TEXT) : PL_MAX_TEXT;
    s->max_frame = frame_limit(s, f->max_frame);
    s->max_attachment = f->max_attachment;
    /* The backoff is not reset here: a welcome costs a server nothing, so
     * only a connection that lasts resets it (close_delay). */
    s->online_at = now;
    s->state = PL_ST_ONLINE;
    s->obx_next = s->obx_head;
    for (pl_outbox_item *it = s->obx_head; it; it = it->next)
        it->skipped = 0;
    pl_event_queue_push(&s->events, ev);
    if (pl_outbox_fit(s) != PARLEY_OK)
        request_close(s, PL_CL_FAILURE, PARLEY_ERR_NOMEM, "out of memory");
    PL_LOG_I(s->log, "online; %u item(s) to resend", (unsigned)s->obx_count);
    /* The modules' control frames (full context, read marks, requests) go
     * before the resends; one that cannot queue them costs only freshness,
     * so the connection stays. */
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_welcome && s->exts[i].on_welcome(s->exts[i].user, now) != PARLEY_OK)
            PL_LOG_W(s->log, "a module could not prepare the new connection");
    return PARLEY_OK;
}

static int on_conv_ack(pl_sess *s, const pl_frame *f)
{
    pl_outbox_item *it = pl_outbox_find(s, f->cid);
    if (!it || it->kind != PL_OBX_CONV_START) {
        PL_LOG_D(s->log, "conv.ack for unknown cid ignored");
        return PARLEY_OK;
    }
    parley_event *ev = pl_sess_event(s, PARLEY_EV_CONVERSATION, PARLEY_CONV_STARTED);
    if (!ev || pl_event_set(ev, &ev->conv, it->conv) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_event_queue_push(&s->events, ev);
    pl_outbox_done(s, it, 1, NULL, 0);
    return PARLEY_OK;
}

static int on_msg_ack(pl_sess *s, const pl_frame *f)
{
    pl_outbox_item *it = pl_outbox_find(s, f->cid);
    if (!it || !PL_OBX_IS_MSG(it->kind)) {
        PL_LOG_D(s->log, "msg.ack for unknown cid ignored");
        return PARLEY_OK;
    }
    static const size_t offs[] = {offsetof(parley_event, cid), offsetof(parley_event, conv),
                                  offsetof(parley_event, id), offsetof(parley_event, seq)};
    char seq[21];
    pl_proto_seq_str(f->seq, seq);
    const char *vals[] = {it->cid, it->conv, f->id, seq};
    parley_event *ev = pl_event_new_strings(&s->alloc, PARLEY_EV_MESSAGE_STATUS, offs, vals, 4);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    ev->state = PARLEY_MSG_SENT;
    pl_event_queue_push(&s->events, ev);
    pl_sess_conv *c = pl_conv_find(s, it->conv);
    if (c)
        pl_conv_acked(s, c, f->id, f->seq);
    pl_outbox_done(s, it, 1, f->id, f->seq);
    return PARLEY_OK;
}

/* The ack of a module's item (tracked event, survey answer). */
static int on_ack(pl_sess *s, const pl_frame *f)
{
    pl_outbox_item *it = pl_outbox_find(s, f->cid);
    if (!it || (it->kind != PL_OBX_ITEM && it->kind != PL_OBX_REPORTED)) {
        PL_LOG_D(s->log, "ack for unknown cid ignored");
        return PARLEY_OK;
    }
    if (it->kind == PL_OBX_REPORTED) {
        parley_event *ev = pl_sess_event(s, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
        if (!ev || pl_event_set(ev, &ev->cid, it->cid) != PARLEY_OK) {
            parley_event_free(ev);
            return PARLEY_ERR_NOMEM;
        }
        pl_event_queue_push(&s->events, ev);
    }
    pl_outbox_done(s, it, 1, NULL, 0);
    return PARLEY_OK;
}

static int conv_state(pl_conv_state st)
{
    switch (st) {
    case PL_CONV_BOT: return PARLEY_CONV_BOT;
    case PL_CONV_AGENT: return PARLEY_CONV_AGENT;
    case PL_CONV_QUEUED: return PARLEY_CONV_QUEUED;
    case PL_CONV_CLOSED: return PARLEY_CONV_CLOSED;
    case PL_CONV_OPEN: return PARLEY_CONV_OPEN;
    }
    return 0;
}

static int on_conv_update(pl_sess *s, const pl_frame *f)
{
    parley_event *ev = pl_sess_event(s, PARLEY_EV_CONVERSATION, conv_state(f->conv_state));
    if (!ev || pl_event_set(ev, &ev->conv, f->conv) != PARLEY_OK ||
        pl_event_set(ev, &ev->author_name, f->author_name) != PARLEY_OK ||
        pl_sess_decorate(s, f, ev) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    ev->queue_pos = f->queue_pos;
    ev->wait_s = f->wait_s;
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

/* "code: message", or the code alone; NULL when out of memory. */
static char *error_text(pl_sess *s, const pl_frame *f)
{
    const char *code = f->code ? f->code : "error";
    size_t n = strlen(code) + (f->message ? strlen(f->message) + 2 : 0) + 1;
    char *t = pl_malloc(&s->alloc, n);
    if (t && f->message)
        snprintf(t, n, "%s: %s", code, f->message);
    else if (t)
        memcpy(t, code, n);
    return t;
}

static int on_error(pl_sess *s, const pl_frame *f)
{
    char *text = error_text(s, f);
    if (!text)
        return PARLEY_ERR_NOMEM;
    PL_LOG_W(s->log, "server error: %s", text);
    pl_outbox_item *it = f->cid ? pl_outbox_find(s, f->cid) : NULL;
    int rc;
    if (it) {
        rc = pl_outbox_fail(s, it, PARLEY_ERR_REJECTED, text, f->message ? f->message : f->code);
    } else if (!f->cid && f->code && strcmp(f->code, "auth_failed") == 0) {
        rc = pl_sess_emit_error(s, PARLEY_ERR_AUTH, text);
        request_close(s, PL_CL_FAILURE, PARLEY_ERR_AUTH, "authentication failed");
    } else {
        rc = pl_sess_emit_error(s, PARLEY_ERR_REJECTED, text);
    }
    pl_free(&s->alloc, text);
    return rc;
}

static int on_goaway(pl_sess *s, const pl_frame *f)
{
    PL_LOG_I(s->log, "server going away (%s), reconnect in %u ms",
             f->message ? f->message : "no reason", (unsigned)f->reconnect_ms);
    request_close(s, PL_CL_GOAWAY, PARLEY_ERR_CLOSED, "server going away");
    s->goaway_ms = f->reconnect_ms;
    return PARLEY_OK;
}

/* Frames the session does not know go to the modules; the first that
 * claims one ends the search. */
static int ext_frame(pl_sess *s, int64_t now, const pl_frame *f)
{
    for (size_t i = 0; i < s->n_exts; i++) {
        int rc = s->exts[i].on_frame ? s->exts[i].on_frame(s->exts[i].user, now, f) : 0;
        if (rc != 0)
            return rc < 0 ? rc : PARLEY_OK;
    }
    PL_LOG_I(s->log, "frame of unknown type \"%s\" ignored", f->type_name);
    return PARLEY_OK;
}

static int dispatch(pl_sess *s, int64_t now, const pl_frame *f)
{
    /* Until welcome the server has accepted nothing, so nothing but the
     * handshake's own answers can be meaningful. */
    if (s->state != PL_ST_ONLINE && f->type != PL_FRAME_WELCOME && f->type != PL_FRAME_ERROR &&
        f->type != PL_FRAME_GOAWAY) {
        if (f->type == PL_FRAME_UNKNOWN) {
            PL_LOG_I(s->log, "frame of type \"%s\" before welcome ignored", f->type_name);
            return PARLEY_OK;
        }
        char reason[80];
        snprintf(reason, sizeof reason, "%s before welcome", f->type_name);
        return frame_error(s, reason);
    }
    switch (f->type) {
    case PL_FRAME_WELCOME: return on_welcome(s, now, f);
    case PL_FRAME_CONV_ACK: return on_conv_ack(s, f);
    case PL_FRAME_MSG_ACK: return on_msg_ack(s, f);
    case PL_FRAME_ACK: return on_ack(s, f);
    case PL_FRAME_MSG: return pl_conv_on_msg(s, f);
    case PL_FRAME_CONV_UPDATE: return on_conv_update(s, f);
    case PL_FRAME_ERROR: return f->req ? ext_frame(s, now, f) : on_error(s, f);
    case PL_FRAME_GOAWAY: return on_goaway(s, f);
    case PL_FRAME_HISTORY_END: return pl_conv_on_history_end(s, f);
    case PL_FRAME_UNKNOWN: return ext_frame(s, now, f);
    }
    return PARLEY_OK;
}

int pl_sess_on_frame(pl_sess *s, int64_t now, const char *data, size_t len)
{
    s->now = now;
    if (!connected(s)) {
        PL_LOG_D(s->log, "frame outside a connection dropped");
        return PARLEY_OK;
    }
    if (!data)
        len = 0;
    pl_frame f;
    char reason[128] = "";
    int rc = pl_proto_decode(&s->alloc, data ? data : "", len, &f, reason, sizeof reason);
    if (rc == PARLEY_ERR_PROTOCOL) {
        PL_LOG_D(s->log, "<- malformed frame (%zu bytes)", len);
        return frame_error(s, reason[0] ? reason : "malformed frame");
    }
    if (rc != PARLEY_OK)
        return rc;
    PL_LOG_D(s->log, "<- %s (%zu bytes)", f.type_name, len);
    rc = dispatch(s, now, &f);
    pl_proto_frame_clear(&s->alloc, &f);
    return rc;
}

int pl_sess_identify(pl_sess *s, const char *user_id, const char *token)
{
    if (!pl_id_valid(user_id, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    if (token && !*token)
        token = NULL;
    if (token && (strlen(token) > PL_MAX_STRING || !pl_utf8_valid(token, strlen(token))))
        return PARLEY_ERR_INVALID_ARG;
    if (same_str(user_id, s->user_id) && same_str(token, s->token))
        return PARLEY_OK;
    char *uid = pl_strdup(&s->alloc, user_id), *tok = pl_strdup(&s->alloc, token);
    if (!uid || (token && !tok)) {
        pl_free(&s->alloc, uid);
        pl_free(&s->alloc, tok);
        return PARLEY_ERR_NOMEM;
    }
    pl_free(&s->alloc, s->user_id);
    pl_free(&s->alloc, s->token);
    s->user_id = uid;
    s->token = tok;
    /* The resume token belongs to the identity it was issued to (a token
     * refresh for the same user keeps it). */
    if (!same_str(user_id, s->session_owner) && (s->session_token || s->session_owner))
        session_forget(s);
    if (connected(s))
        request_close(s, PL_CL_RECONNECT, PARLEY_ERR_CLOSED, "identity changed");
    else if (s->state == PL_ST_WAITING)
        /* A backoff earned by the old credentials (a refused, expired token)
         * must not delay the fresh ones. */
        s->retry_at = 0;
    return PARLEY_OK;
}

/* ---- frames that carry a context snapshot ----------------------------------- */

/* What `,"context":` adds to a frame besides the snapshot itself. */
#define SNAPSHOT_MEMBER_LEN (sizeof ",\"context\":" - 1)

/* Encodes an item with the given snapshot (NULL: none). */
typedef int (*snap_encoder)(pl_sess *s, const void *item, const char *context, char **out,
                            size_t *len);

static int ext_snapshot(pl_sess *s, size_t max, char **out)
{
    *out = NULL;
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].snapshot)
            return s->exts[i].snapshot(s->exts[i].user, max, out);
    return PARLEY_OK;
}

/* The item's frame with the largest snapshot the frame limit leaves room
 * for: measured without one first, so the module can trim to the room.
 * TOO_LONG when even the bare frame does not fit. */
static int encode_fitting(pl_sess *s, snap_encoder enc, const void *item, char **out, size_t *len)
{
    char *bare = NULL, *snap = NULL, *full = NULL;
    size_t n = 0, fn = 0;
    int rc = enc(s, item, NULL, &bare, &n);
    if (rc == PARLEY_OK && n > s->max_frame)
        rc = PARLEY_ERR_TOO_LONG;
    if (rc == PARLEY_OK && s->max_frame - n > SNAPSHOT_MEMBER_LEN)
        rc = ext_snapshot(s, s->max_frame - n - SNAPSHOT_MEMBER_LEN, &snap);
    if (rc == PARLEY_OK && snap)
        rc = enc(s, item, snap, &full, &fn);
    pl_free(&s->alloc, snap);
    if (rc == PARLEY_OK && full && fn > s->max_frame) {
        PL_LOG_W(s->log, "context snapshot left out: %zu bytes over the frame limit",
                 fn - s->max_frame);
        pl_free(&s->alloc, full);
        full = NULL;
    }
    if (rc == PARLEY_OK && full) {
        pl_free(&s->alloc, bare);
        bare = full;
        n = fn;
    }
    if (rc != PARLEY_OK) {
        pl_free(&s->alloc, bare);
        return rc;
    }
    *out = bare;
    *len = n;
    return PARLEY_OK;
}

typedef struct start_item {
    const char *cid, *conv, *subject;
    const pl_conv_about *about;
} start_item;

static int encode_start(pl_sess *s, const void *item, const char *context, char **out, size_t *len)
{
    const start_item *it = item;
    return pl_proto_encode_conv_start(&s->alloc, it->cid, it->conv, it->subject, it->about, context,
                                      out, len);
}

typedef struct msg_item {
    const char *cid, *conv, *text;
    const pl_postback *pb;
} msg_item;

static int encode_msg(pl_sess *s, const void *item, const char *context, char **out, size_t *len)
{
    const msg_item *it = item;
    return pl_proto_encode_msg_send(&s->alloc, it->cid, it->conv, it->text, context, it->pb, out,
                                    len);
}

/* Only out of memory is worth telling apart from a refusal here. */
static int encode_rc(int rc)
{
    return rc == PARLEY_ERR_TOO_LONG ? rc : PARLEY_ERR_NOMEM;
}

int pl_sess_conv_start(pl_sess *s, const char *subject, char conv_out[PARLEY_ID_SIZE])
{
    return pl_sess_conv_start_about(s, subject, NULL, conv_out);
}

int pl_sess_conv_start_about(pl_sess *s, const char *subject, const pl_conv_about *about,
                             char conv_out[PARLEY_ID_SIZE])
{
    size_t slen = subject ? strlen(subject) : 0;
    if (slen > PL_MAX_SUBJECT)
        return PARLEY_ERR_TOO_LONG;
    if (slen && !pl_utf8_valid(subject, slen))
        return PARLEY_ERR_INVALID_ARG;
    if (s->obx_count >= s->outbox_cap)
        return PARLEY_ERR_FULL;
    int rc = pl_conv_make_room(s);
    if (rc != PARLEY_OK)
        return rc;
    char uuid[PL_UUID_STR_LEN + 1], conv[PARLEY_ID_SIZE];
    if (pl_rand_uuid4(s->rand, uuid) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    snprintf(conv, sizeof conv, "c-%s", uuid);
    pl_outbox_item *it = pl_outbox_new(s, PL_OBX_CONV_START, conv, NULL);
    if (!it)
        return PARLEY_ERR_NOMEM;
    start_item si = {it->cid, conv, slen ? subject : NULL, about};
    rc = encode_fitting(s, encode_start, &si, &it->frame, &it->len);
    pl_sess_conv *c = NULL;
    if (rc != PARLEY_OK || !(c = pl_conv_add(s, conv))) {
        pl_outbox_free_item(s, it);
        return rc != PARLEY_OK ? encode_rc(rc) : PARLEY_ERR_NOMEM;
    }
    /* The cursor entry makes the conversation known after a restart; the
     * item's record, written after it, makes it durable too. */
    rc = pl_conv_persist(s, c, 0);
    if (rc != PARLEY_OK)
        pl_outbox_free_item(s, it);
    else if ((rc = pl_outbox_commit(s, it)) == PARLEY_OK)
        pl_sess_on_synced(s, pl_journal_synced(s->journal));
    if (rc != PARLEY_OK) {
        if (s->journal)
            (void)pl_journal_del(s->journal, PL_NS_CURSOR, conv, 0);
        s->n_convs--;
        return rc;
    }
    if (conv_out)
        memcpy(conv_out, conv, strlen(conv) + 1);
    return PARLEY_OK;
}

int pl_sess_check_text(pl_sess *s, const char *conv, const char *text)
{
    if (!conv || !text)
        return PARLEY_ERR_INVALID_ARG;
    int rc = pl_sess_conv_use(s, conv);
    if (rc != PARLEY_OK)
        return rc;
    size_t len = strlen(text);
    if (!len || !pl_utf8_valid(text, len))
        return PARLEY_ERR_INVALID_ARG;
    if (len > s->max_text)
        return PARLEY_ERR_TOO_LONG;
    return s->obx_count >= s->outbox_cap ? PARLEY_ERR_FULL : PARLEY_OK;
}

int pl_sess_send_text(pl_sess *s, const char *conv, const char *text, const pl_postback *pb,
                      char cid_out[PARLEY_ID_SIZE])
{
    int rc = pl_sess_check_text(s, conv, text);
    if (rc != PARLEY_OK)
        return rc;
    char cid[PARLEY_ID_SIZE], *frame = NULL;
    size_t len = 0;
    if (pl_sess_mint_cid(s, cid) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    msg_item mi = {cid, conv, text, pb};
    if ((rc = encode_fitting(s, encode_msg, &mi, &frame, &len)) != PARLEY_OK)
        return encode_rc(rc);
    rc = pl_sess_enqueue(s, PL_SESS_ITEM_MSG, conv, cid, frame, len);
    if (rc == PARLEY_OK && cid_out)
        memcpy(cid_out, cid, strlen(cid) + 1);
    return rc;
}

void pl_sess_flush(pl_sess *s)
{
    pl_convs_flush(s);
}

int pl_sess_add_ext(pl_sess *s, const pl_sess_ext *ext)
{
    if (!ext || s->n_exts == PL_SESS_MAX_EXTS)
        return PARLEY_ERR_INVALID_ARG;
    s->exts[s->n_exts++] = *ext;
    return PARLEY_OK;
}

int pl_sess_mint_cid(pl_sess *s, char cid[PARLEY_ID_SIZE])
{
    return pl_rand_uuid4(s->rand, cid) == PARLEY_OK ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static void forget_everything(pl_sess *s)
{
    connection_gone(s);
    pl_outbox_clear(s);
    pl_convs_clear(s);
    pl_free(&s->alloc, s->user_id);
    pl_free(&s->alloc, s->token);
    pl_free(&s->alloc, s->session_token);
    pl_free(&s->alloc, s->session_owner);
    s->user_id = s->token = s->session_token = s->session_owner = NULL;
}

int pl_sess_logout(pl_sess *s, const char *new_anon_id)
{
    char *anon = pl_strdup(&s->alloc, new_anon_id);
    if (!anon)
        return PARLEY_ERR_NOMEM;
    pl_free(&s->alloc, s->anon_id);
    s->anon_id = anon;
    /* The old anonymous user's secret goes with it (PL_NS_META below). */
    pl_free(&s->alloc, s->anon_secret);
    s->anon_secret = NULL;
    forget_everything(s);
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_logout)
            s->exts[i].on_logout(s->exts[i].user);
    if (connected(s))
        request_close(s, PL_CL_RECONNECT, PARLEY_ERR_CLOSED, "logged out");
    else if (s->state == PL_ST_WAITING)
        s->retry_at = 0;
    if (!s->journal)
        return PARLEY_OK;
    int rc = pl_journal_clear_ns(s->journal, PL_NS_OUTBOX);
    if (rc == PARLEY_OK)
        rc = pl_journal_clear_ns(s->journal, PL_NS_CURSOR);
    if (rc == PARLEY_OK)
        rc = pl_journal_clear_ns(s->journal, PL_NS_PARKED);
    if (rc == PARLEY_OK)
        rc = pl_journal_clear_ns(s->journal, PL_NS_META);
    return pl_journal_rc(rc);
}
