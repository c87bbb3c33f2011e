/* Session engine: the parley.v1 state machine and the delivery promise
 * (docs/protocol.md). Everything here is driven by the caller; see session.h.
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
 * anonymous user's merge secret are durable: an item is journaled (and
 * synced) before the call that produced it returns OK, and pl_sess_new
 * reloads everything. Deletes and cursor moves are
 * not synced: losing one only causes a resend the server deduplicates or a
 * replay the cursor drops. */
#include "session/session.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "codec/proto_blocks.h"
#include "util/utf8.h"

/* Journal namespaces. Outbox keys are zero-padded order numbers so the
 * journal iterates them in the order the user produced the items. */
enum { NS_OUTBOX = 1, NS_CURSOR = 2, NS_META = 3 };
#define ORDER_KEY_SIZE 17
#define META_SESSION "session"
/* The anonymous user's merge secret, stored as anon_id '\n' secret so that
 * it is never sent for another anonymous id. */
#define META_ANON_SECRET "anon_secret"
/* Own messages acked ahead of the cursor, remembered until replay brings
 * them; beyond this many the oldest is forgotten (at worst the host then
 * sees its own message once more, as a MESSAGE by the user). */
#define MAX_ACKED_AHEAD 256

#define DEFAULT_BACKOFF_INITIAL_MS 500
#define DEFAULT_BACKOFF_MAX_MS 30000
#define DEFAULT_HANDSHAKE_TIMEOUT_MS 10000
#define DEFAULT_OUTBOX_CAP 1000
/* 2^32 already exceeds any uint32 maximum, so further doubling is moot. */
#define MAX_BACKOFF_SHIFT 32

typedef enum {
    ST_IDLE,        /* offline: the host has not asked to be online */
    ST_WAITING,     /* between connections, until retry_at */
    ST_CONNECTING,  /* the transport is opening a connection */
    ST_HANDSHAKING, /* hello queued, waiting for welcome */
    ST_ONLINE
} sstate;

/* Why the session wants the current connection closed; decides the delay. */
typedef enum {
    CL_NONE,
    CL_FAILURE,  /* counts as a failed attempt: backoff */
    CL_GOAWAY,   /* the server's delay plus a little jitter */
    CL_RECONNECT /* at once, not a failure (new identity) */
} sclose;

/* OBX_MSG covers postbacks (a msg.send too); OBX_ITEM and OBX_REPORTED are
 * the feature modules' frames (tracked events, survey answers), acked by
 * `ack`; only OBX_REPORTED tells the host about its ack. */
typedef enum { OBX_CONV_START, OBX_MSG, OBX_ITEM, OBX_REPORTED } obx_kind;
static const char obx_kind_char[] = {'c', 'm', 'x', 'r'};
/* The conv field of an item that belongs to no conversation. */
#define NO_CONV "-"
#define MAX_EXTS 8

typedef struct obx_item {
    struct obx_item *next;
    obx_kind kind;
    uint64_t order; /* journal key */
    char cid[PL_UUID_STR_LEN + 1];
    char conv[PL_MAX_ID + 1];
    char *frame;
    size_t len;
} obx_item;

typedef struct wq_entry {
    struct wq_entry *next;
    const char *type; /* for logs */
    char *frame;
    size_t len;
} wq_entry;

typedef struct sconv {
    char id[PL_MAX_ID + 1];
    uint64_t cursor;     /* highest seq delivered (or acked) in order; 0 = none */
    uint64_t seen;       /* highest seq seen at all: above cursor means a gap */
    uint64_t hist_after; /* the `after` of the outstanding history.get */
    int hist;            /* a history.get is outstanding on this connection */
} sconv;

typedef struct acked {
    struct acked *next;
    char conv[PL_MAX_ID + 1];
    char id[PL_MAX_ID + 1];
    uint64_t seq;
} acked;

struct pl_sess {
    pl_alloc alloc;
    pl_rand *rand;
    const pl_log *log;
    char *app_id, *anon_id, *platform;
    uint32_t backoff_initial, backoff_max, handshake_timeout, outbox_cap;

    char *user_id, *token; /* identified when user_id is set */
    char *session_token;   /* from the last welcome, for resume */
    char *session_owner;   /* the user_id it was issued to; NULL: anonymous */
    char *anon_secret;     /* the server's merge secret for anon_id, or NULL */
    pl_journal *journal;     /* borrowed; NULL: everything in memory */
    uint64_t next_order;
    acked *acked;
    size_t n_acked;

    pl_sess_ext exts[MAX_EXTS];
    size_t n_exts;

    sconv *convs;
    size_t n_convs, cap_convs;

    obx_item *obx_head, *obx_tail;
    uint32_t obx_count;
    obx_item *obx_next; /* next item to write on this connection; NULL: none */

    wq_entry *wq_head, *wq_tail;
    const void *peeked; /* the wq entry or outbox item last returned by peek */

    sstate state;
    int64_t retry_at, hs_deadline;
    uint32_t attempt; /* consecutive failures since the last welcome */
    sclose close;
    int close_err;
    const char *close_why; /* static */
    uint32_t goaway_ms;
    uint32_t max_text, max_frame;

    pl_event_queue events;
};

/* ---- small helpers ------------------------------------------------------- */

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
    return s->state == ST_HANDSHAKING || s->state == ST_ONLINE;
}

/* ---- events -------------------------------------------------------------- */

static parley_event *ev_new(pl_sess *s, int type, int state)
{
    parley_event *ev = pl_event_new(&s->alloc, type);
    if (ev)
        ev->state = state;
    return ev;
}

/* Connection events carry no user data: when one cannot be allocated the
 * state change still happens and the loss is logged. Returns the queued
 * event (NULL when lost). */
static parley_event *emit_conn(pl_sess *s, int state, int err, uint32_t retry_ms, const char *why)
{
    parley_event *ev = ev_new(s, PARLEY_EV_CONNECTION, state);
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

static parley_event *error_event(pl_sess *s, int code, const char *text)
{
    parley_event *ev = ev_new(s, PARLEY_EV_ERROR, 0);
    if (ev && pl_event_set(ev, &ev->text, text) != PARLEY_OK) {
        parley_event_free(ev);
        return NULL;
    }
    if (ev)
        ev->error_code = code;
    return ev;
}

static int emit_error(pl_sess *s, int code, const char *text)
{
    parley_event *ev = error_event(s, code, text);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

void pl_sess_take_events(pl_sess *s, pl_event_queue *q)
{
    pl_event_queue_splice(q, &s->events);
}

/* ---- write queue --------------------------------------------------------- */

/* Takes ownership of `frame` (freed on failure). */
static wq_entry *wq_new(pl_sess *s, const char *type, char *frame, size_t len)
{
    wq_entry *e = pl_calloc(&s->alloc, 1, sizeof *e);
    if (!e) {
        pl_free(&s->alloc, frame);
        return NULL;
    }
    e->type = type;
    e->frame = frame;
    e->len = len;
    return e;
}

static void wq_append(pl_sess *s, wq_entry *e)
{
    if (s->wq_tail)
        s->wq_tail->next = e;
    else
        s->wq_head = e;
    s->wq_tail = e;
}

static void wq_free(pl_sess *s, wq_entry *e)
{
    if (!e)
        return;
    pl_free(&s->alloc, e->frame);
    pl_free(&s->alloc, e);
}

static void wq_pop(pl_sess *s)
{
    wq_entry *e = s->wq_head;
    s->wq_head = e->next;
    if (!s->wq_head)
        s->wq_tail = NULL;
    wq_free(s, e);
}

/* The connection is gone: its frames go, the outbox stays. */
static void wq_drop(pl_sess *s)
{
    while (s->wq_head)
        wq_pop(s);
    s->obx_next = NULL;
    s->peeked = NULL;
    /* A new connection resumes from the cursors: no answer is coming. */
    for (size_t i = 0; i < s->n_convs; i++)
        s->convs[i].hist = 0;
}

/* ---- outbox and conversations -------------------------------------------- */

static obx_item *obx_find(const pl_sess *s, const char *cid)
{
    for (obx_item *it = s->obx_head; it; it = it->next)
        if (cid && strcmp(it->cid, cid) == 0)
            return it;
    return NULL;
}

static void obx_append(pl_sess *s, obx_item *it)
{
    if (s->obx_tail)
        s->obx_tail->next = it;
    else
        s->obx_head = it;
    s->obx_tail = it;
    s->obx_count++;
    if (s->state == ST_ONLINE && !s->obx_next)
        s->obx_next = it;
}

static void obx_free(pl_sess *s, obx_item *it)
{
    pl_free(&s->alloc, it->frame);
    pl_free(&s->alloc, it);
}

static void order_key(uint64_t order, char key[ORDER_KEY_SIZE])
{
    snprintf(key, ORDER_KEY_SIZE, "%016llu", (unsigned long long)order);
}

/* Journal errors as the host sees them: a disk problem is IO whatever the
 * details, running out of memory stays NOMEM. */
static int journal_rc(int rc)
{
    return rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
}

/* Stored as kind '\n' cid '\n' conv '\n' frame: ids are printable ASCII,
 * so the first three newlines are the separators. */
static int obx_persist(pl_sess *s, const obx_item *it)
{
    if (!s->journal)
        return PARLEY_OK;
    size_t n = 2 + strlen(it->cid) + 1 + strlen(it->conv) + 1 + it->len;
    char *v = pl_malloc(&s->alloc, n + 1);
    if (!v)
        return PARLEY_ERR_NOMEM;
    snprintf(v, n + 1, "%c\n%s\n%s\n", obx_kind_char[it->kind], it->cid, it->conv);
    memcpy(v + n - it->len, it->frame, it->len);
    char key[ORDER_KEY_SIZE];
    order_key(it->order, key);
    int rc = pl_journal_put(s->journal, NS_OUTBOX, key, v, n, 1);
    pl_free(&s->alloc, v);
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "outbox item not journaled: %s", parley_strerror(rc));
    return journal_rc(rc);
}

/* The ack or rejection is final; a delete lost in a crash only resends an
 * item the server deduplicates. */
static void obx_unpersist(pl_sess *s, const obx_item *it)
{
    char key[ORDER_KEY_SIZE];
    order_key(it->order, key);
    int rc = s->journal ? pl_journal_del(s->journal, NS_OUTBOX, key, 0) : PARLEY_OK;
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "outbox item %s not removed from the journal: %s", it->cid, parley_strerror(rc));
}

static void obx_remove(pl_sess *s, obx_item *it)
{
    obx_item **pp = &s->obx_head, *prev = NULL;
    while (*pp && *pp != it) {
        prev = *pp;
        pp = &(*pp)->next;
    }
    if (!*pp)
        return;
    *pp = it->next;
    if (s->obx_tail == it)
        s->obx_tail = prev;
    if (s->obx_next == it)
        s->obx_next = it->next;
    if (s->peeked == it)
        s->peeked = NULL;
    s->obx_count--;
    obx_unpersist(s, it);
    obx_free(s, it);
}

/* An item that can never be delivered leaves the outbox with an ERROR
 * event (`code`, `text`) naming its client id; a message or reported item
 * also gets its FAILED status, with `reason`. */
static int item_failed(pl_sess *s, obx_item *it, int code, const char *text, const char *reason)
{
    parley_event *status = NULL, *err = error_event(s, code, text);
    int failed = !err || pl_event_set(err, &err->cid, it->cid) != PARLEY_OK ||
                 pl_event_set(err, &err->conv, it->conv) != PARLEY_OK;
    if (!failed && (it->kind == OBX_MSG || it->kind == OBX_REPORTED)) {
        status = ev_new(s, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED);
        failed = !status || pl_event_set(status, &status->cid, it->cid) != PARLEY_OK ||
                 pl_event_set(status, &status->conv, it->conv) != PARLEY_OK ||
                 pl_event_set(status, &status->text, reason) != PARLEY_OK;
    }
    if (failed) {
        parley_event_free(status);
        parley_event_free(err);
        return PARLEY_ERR_NOMEM;
    }
    if (status)
        pl_event_queue_push(&s->events, status);
    pl_event_queue_push(&s->events, err);
    obx_remove(s, it);
    return PARLEY_OK;
}

static sconv *conv_find(pl_sess *s, const char *id)
{
    for (size_t i = 0; i < s->n_convs; i++)
        if (strcmp(s->convs[i].id, id) == 0)
            return &s->convs[i];
    return NULL;
}

/* A new entry with cursor 0; NULL when out of memory. Invalidates earlier
 * sconv pointers. */
static sconv *conv_add(pl_sess *s, const char *id)
{
    if (strlen(id) > PL_MAX_ID)
        return NULL;
    if (s->n_convs == s->cap_convs) {
        size_t cap = s->cap_convs ? s->cap_convs * 2 : 8;
        sconv *n = pl_realloc(&s->alloc, s->convs, cap * sizeof *n);
        if (!n)
            return NULL;
        s->convs = n;
        s->cap_convs = cap;
    }
    sconv *c = &s->convs[s->n_convs++];
    memset(c, 0, sizeof *c);
    memcpy(c->id, id, strlen(id) + 1);
    return c;
}

static int cursor_persist(pl_sess *s, const sconv *c, int sync)
{
    if (!s->journal)
        return PARLEY_OK;
    char seq[21];
    pl_proto_seq_str(c->cursor, seq);
    return journal_rc(pl_journal_put(s->journal, NS_CURSOR, c->id, seq, strlen(seq), sync));
}

/* ---- own messages acked ahead of the cursor --------------------------------- */

static void acked_remember(pl_sess *s, const char *conv, const char *id, uint64_t seq)
{
    acked *a = pl_calloc(&s->alloc, 1, sizeof *a);
    if (!a || strlen(conv) > PL_MAX_ID || strlen(id) > PL_MAX_ID) {
        pl_free(&s->alloc, a);
        PL_LOG_W(s->log, "acked message %s not remembered: its replay will be delivered", id);
        return;
    }
    memcpy(a->conv, conv, strlen(conv) + 1);
    memcpy(a->id, id, strlen(id) + 1);
    a->seq = seq;
    a->next = s->acked;
    s->acked = a;
    if (++s->n_acked <= MAX_ACKED_AHEAD)
        return;
    acked **pp = &s->acked;
    while ((*pp)->next)
        pp = &(*pp)->next;
    pl_free(&s->alloc, *pp);
    *pp = NULL;
    s->n_acked--;
}

/* The remembered ack of `conv` at `seq` (any id when id is NULL); removes it
 * and returns 1 when found. */
static int acked_take(pl_sess *s, const char *conv, uint64_t seq, const char *id)
{
    for (acked **pp = &s->acked; *pp; pp = &(*pp)->next) {
        acked *a = *pp;
        if (a->seq == seq && strcmp(a->conv, conv) == 0 && (!id || strcmp(a->id, id) == 0)) {
            *pp = a->next;
            pl_free(&s->alloc, a);
            s->n_acked--;
            return 1;
        }
    }
    return 0;
}

/* Moves the cursor to `seq`, then over every own message already acked
 * right after it: those the host has (as SENT), so their replay is a dup. */
static void cursor_set(pl_sess *s, sconv *c, uint64_t seq)
{
    c->cursor = seq;
    while (acked_take(s, c->id, c->cursor + 1, NULL))
        c->cursor++;
    if (c->seen < c->cursor)
        c->seen = c->cursor;
    int rc = cursor_persist(s, c, 0);
    if (rc != PARLEY_OK)
        PL_LOG_W(s->log, "cursor of %s not journaled: %s", c->id, parley_strerror(rc));
}

/* ---- loading the journal ---------------------------------------------------- */

/* A decimal seq as the journal stores it ("0" allowed); 0 when invalid. */
static int parse_dec(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    if (n == 0 || n > 20 || (n > 1 && p[0] == '0'))
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (max - (uint64_t)(p[i] - '0')) / 10)
            return 0;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return 1;
}

/* An outbox key: exactly ORDER_KEY_SIZE - 1 digits, zero-padded. */
static int parse_order(const char *key, uint64_t *out)
{
    size_t n = strlen(key), i = 0;
    if (n != ORDER_KEY_SIZE - 1)
        return 0;
    while (i + 1 < n && key[i] == '0')
        i++;
    return parse_dec(key + i, n - i, UINT64_MAX - 1, out);
}

static int load_cursor(void *user, const char *key, const void *value, size_t len)
{
    pl_sess *s = user;
    uint64_t seq;
    if (!pl_id_valid(key, PL_MAX_ID) || !parse_dec(value, len, PL_SEQ_MAX, &seq) || conv_find(s, key)) {
        PL_LOG_W(s->log, "journal: bad cursor entry skipped");
        return 0;
    }
    if (s->n_convs >= PL_MAX_CONVERSATIONS)
        return 0;
    sconv *c = conv_add(s, key);
    if (!c)
        return PARLEY_ERR_NOMEM;
    c->cursor = c->seen = seq;
    return 0;
}

/* Splits the next '\n'-terminated field off *p; NULL when there is none. */
static const char *next_field(const char **p, const char *end, size_t *n)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return NULL;
    const char *f = *p;
    *n = (size_t)(nl - f);
    *p = nl + 1;
    return f;
}

static int obx_kind_of(char c, obx_kind *out)
{
    const char *p = memchr(obx_kind_char, c, sizeof obx_kind_char);
    if (!p || !c)
        return 0;
    *out = (obx_kind)(p - obx_kind_char);
    return 1;
}

/* Parses a journaled item into a new obx_item; NULL when malformed (*nomem
 * set when out of memory instead). */
static obx_item *obx_parse(pl_sess *s, const char *key, const char *v, size_t len, int *nomem)
{
    const char *p = v, *end = v + len, *kind, *cid, *conv;
    size_t kn, cn, vn;
    uint64_t order;
    obx_kind k;
    if (!parse_order(key, &order) || !(kind = next_field(&p, end, &kn)) ||
        !(cid = next_field(&p, end, &cn)) || !(conv = next_field(&p, end, &vn)) || kn != 1 ||
        !obx_kind_of(kind[0], &k) || cn == 0 || cn > PL_UUID_STR_LEN || vn == 0 || vn > PL_MAX_ID || p == end)
        return NULL;
    obx_item *it = pl_calloc(&s->alloc, 1, sizeof *it);
    if (it)
        it->frame = pl_strndup(&s->alloc, p, (size_t)(end - p));
    if (!it || !it->frame) {
        pl_free(&s->alloc, it);
        *nomem = 1;
        return NULL;
    }
    it->kind = k;
    it->order = order;
    it->len = (size_t)(end - p);
    memcpy(it->cid, cid, cn);
    memcpy(it->conv, conv, vn);
    return it;
}

static int load_item(void *user, const char *key, const void *value, size_t len)
{
    pl_sess *s = user;
    int nomem = 0;
    obx_item *it = obx_parse(s, key, value, len, &nomem);
    if (!it && nomem)
        return PARLEY_ERR_NOMEM;
    if (!it || !pl_id_valid(it->conv, PL_MAX_ID)) {
        PL_LOG_W(s->log, "journal: bad outbox entry %s skipped", key);
        if (it)
            obx_free(s, it);
        return 0;
    }
    /* The item's conversation is known even when its cursor never moved. */
    if (strcmp(it->conv, NO_CONV) != 0 && !conv_find(s, it->conv) && s->n_convs < PL_MAX_CONVERSATIONS &&
        !conv_add(s, it->conv)) {
        obx_free(s, it);
        return PARLEY_ERR_NOMEM;
    }
    obx_append(s, it);
    s->next_order = it->order + 1;
    return 0;
}

/* The token is stored as owner '\n' token; an empty owner is anonymous. */
static int load_session(pl_sess *s)
{
    size_t len = 0;
    const char *v = pl_journal_get(s->journal, NS_META, META_SESSION, &len);
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
    const char *v = pl_journal_get(s->journal, NS_META, META_ANON_SECRET, &len);
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
        rc = pl_journal_foreach(s->journal, NS_CURSOR, load_cursor, s);
    if (rc == PARLEY_OK)
        rc = pl_journal_foreach(s->journal, NS_OUTBOX, load_item, s);
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
        rc = pl_journal_put(s->journal, NS_META, META_SESSION, v, n, 0);
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
        rc = pl_journal_put(s->journal, NS_META, META_ANON_SECRET, v, n, 1);
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
    if (s->journal && pl_journal_del(s->journal, NS_META, META_SESSION, 0) != PARLEY_OK)
        PL_LOG_W(s->log, "old session token not removed from the journal");
}

/* ---- lifecycle ------------------------------------------------------------ */

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
    s->outbox_cap = or_default(cfg->outbox_cap, DEFAULT_OUTBOX_CAP);
    s->max_text = PL_MAX_TEXT;
    s->max_frame = PL_MAX_FRAME;
    s->state = ST_IDLE;
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
    wq_drop(s);
    while (s->obx_head) {
        obx_item *it = s->obx_head;
        s->obx_head = it->next;
        obx_free(s, it);
    }
    while (s->acked) {
        acked *a = s->acked;
        s->acked = a->next;
        pl_free(&s->alloc, a);
    }
    pl_event_queue_clear(&s->events);
    char *strings[] = {s->app_id,        s->anon_id,       s->platform,   s->user_id,
                       s->token,         s->session_token, s->session_owner, s->anon_secret};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        pl_free(&s->alloc, strings[i]);
    pl_free(&s->alloc, s->convs);
    pl_alloc a = s->alloc;
    pl_free(&a, s);
}

uint32_t pl_sess_outbox_count(const pl_sess *s)
{
    return s->obx_count;
}

uint32_t pl_sess_max_frame(const pl_sess *s)
{
    return s->max_frame;
}

/* ---- connection state machine -------------------------------------------- */

/* A goaway overrides any earlier reason: reconnecting early would only hit
 * the draining server. Otherwise the first reason stands. */
static void request_close(pl_sess *s, sclose kind, int err, const char *why)
{
    if (s->close != CL_NONE && kind != CL_GOAWAY)
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
    if (s->state == ST_WAITING) {
        deadline = s->retry_at;
        if (now >= s->retry_at)
            want |= PL_SESS_WANT_CONNECT;
    } else if (connected(s) && s->close != CL_NONE) {
        want |= PL_SESS_WANT_CLOSE;
    } else if (connected(s)) {
        if (s->state == ST_HANDSHAKING)
            deadline = s->hs_deadline;
        if (s->wq_head || s->obx_next)
            want |= PL_SESS_WANT_WRITE;
    }
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
    if (s->state != ST_IDLE)
        return;
    s->state = ST_WAITING;
    s->retry_at = now;
    s->attempt = 0;
}

void pl_sess_go_offline(pl_sess *s, int64_t now)
{
    (void)now;
    if (s->state == ST_IDLE)
        return;
    wq_drop(s);
    s->state = ST_IDLE;
    s->close = CL_NONE;
    emit_conn(s, PARLEY_CONN_OFFLINE, 0, 0, NULL);
}

void pl_sess_on_connecting(pl_sess *s, int64_t now)
{
    (void)now;
    if (s->state == ST_IDLE)
        return;
    wq_drop(s);
    s->state = ST_CONNECTING;
    s->close = CL_NONE;
    emit_conn(s, PARLEY_CONN_CONNECTING, 0, 0, NULL);
}

/* Whether the server knows the conversation: not while its conv.start is
 * still in the outbox. */
static int conv_pending(const pl_sess *s, const char *conv)
{
    for (obx_item *it = s->obx_head; it; it = it->next)
        if (it->kind == OBX_CONV_START && strcmp(it->conv, conv) == 0)
            return 1;
    return 0;
}

/* A conversation with cursor 0 goes in too once the server has it ("0"):
 * after a restart, what an agent wrote while the app was closed is
 * replayed even if nothing had arrived before. */
static int resumable(const pl_sess *s, const sconv *c)
{
    return c->cursor > 0 || !conv_pending(s, c->id);
}

static int encode_hello(pl_sess *s, char **out, size_t *len)
{
    size_t n = 0;
    for (size_t i = 0; i < s->n_convs; i++)
        n += resumable(s, &s->convs[i]) != 0;
    pl_cursor *cursors = NULL;
    if (n && !(cursors = pl_calloc(&s->alloc, n, sizeof *cursors)))
        return PARLEY_ERR_NOMEM;
    for (size_t i = 0, j = 0; i < s->n_convs; i++)
        if (resumable(s, &s->convs[i]))
            cursors[j++] = (pl_cursor){s->convs[i].id, s->convs[i].cursor};
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
    if (s->state != ST_CONNECTING) {
        PL_LOG_W(s->log, "open ignored: no connection attempt");
        return;
    }
    s->state = ST_HANDSHAKING;
    s->hs_deadline = now + s->handshake_timeout;
    char *frame = NULL;
    size_t len = 0;
    wq_entry *e = NULL;
    if (encode_hello(s, &frame, &len) == PARLEY_OK)
        e = wq_new(s, "hello", frame, len);
    if (!e) {
        request_close(s, CL_FAILURE, PARLEY_ERR_NOMEM, "out of memory");
        return;
    }
    wq_append(s, e);
}

/* Full jitter: uniform in [0, min(max, initial * 2^attempt)]. */
static uint32_t backoff_delay(pl_sess *s)
{
    uint64_t bound = (uint64_t)s->backoff_initial << min_u32(s->attempt, MAX_BACKOFF_SHIFT);
    if (s->attempt < MAX_BACKOFF_SHIFT)
        s->attempt++;
    return pl_rand_uniform(s->rand, bound > s->backoff_max ? s->backoff_max : (uint32_t)bound);
}

static uint32_t close_delay(pl_sess *s)
{
    if (s->close == CL_RECONNECT)
        return 0;
    if (s->close == CL_GOAWAY) {
        uint64_t d = (uint64_t)s->goaway_ms + pl_rand_uniform(s->rand, s->backoff_initial);
        return d > UINT32_MAX ? UINT32_MAX : (uint32_t)d;
    }
    return backoff_delay(s);
}

/* The connection is gone; the next attempt comes after `delay`. TLS
 * problems are told as errors too: the host must see them. */
static void wait_after(pl_sess *s, int64_t now, int err, const char *why, uint32_t delay, uint32_t cert)
{
    wq_drop(s);
    s->close = CL_NONE;
    s->state = ST_WAITING;
    s->retry_at = now + delay;
    PL_LOG_I(s->log, "connection lost (%s), retrying in %u ms", why ? why : parley_strerror(err),
           (unsigned)delay);
    parley_event *ev = emit_conn(s, PARLEY_CONN_RECONNECTING, err, delay, why);
    if (ev)
        ev->tls_failures = cert;
    if (err != PARLEY_ERR_TLS)
        return;
    if (!(ev = error_event(s, err, why ? why : parley_strerror(err)))) {
        PL_LOG_W(s->log, "TLS error event lost: out of memory");
        return;
    }
    ev->tls_failures = cert;
    pl_event_queue_push(&s->events, ev);
}

void pl_sess_on_closed(pl_sess *s, int64_t now, int err, const char *why)
{
    if (s->state == ST_IDLE || s->state == ST_WAITING) {
        PL_LOG_D(s->log, "close ignored: no connection");
        return;
    }
    if (s->close != CL_NONE) {
        err = s->close_err;
        why = s->close_why;
    }
    wait_after(s, now, err, why, close_delay(s), 0);
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
    if (s->state == ST_IDLE || s->state == ST_WAITING) {
        PL_LOG_D(s->log, "certificate failure ignored: no connection");
        return;
    }
    PL_LOG_W(s->log, "%s", why ? why : "TLS certificate refused");
    wait_after(s, now, PARLEY_ERR_TLS, why, cert_delay(s), failures);
}

void pl_sess_reconnect_now(pl_sess *s, int64_t now)
{
    if (s->state == ST_WAITING && s->retry_at > now)
        s->retry_at = now;
}

void pl_sess_tick(pl_sess *s, int64_t now)
{
    if (s->state == ST_HANDSHAKING && now >= s->hs_deadline)
        request_close(s, CL_FAILURE, PARLEY_ERR_PROTOCOL, "no welcome");
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_tick)
            s->exts[i].on_tick(s->exts[i].user, now);
}

/* ---- frames out ----------------------------------------------------------- */

int pl_sess_peek_frame(pl_sess *s, const char **data, size_t *len)
{
    if (!connected(s) || s->close != CL_NONE)
        return 0;
    if (s->wq_head) {
        *data = s->wq_head->frame;
        *len = s->wq_head->len;
        s->peeked = s->wq_head;
        return 1;
    }
    if (s->obx_next) {
        *data = s->obx_next->frame;
        *len = s->obx_next->len;
        s->peeked = s->obx_next;
        return 1;
    }
    return 0;
}

void pl_sess_frame_written(pl_sess *s)
{
    if (s->peeked && s->peeked == s->wq_head) {
        PL_LOG_D(s->log, "-> %s", s->wq_head->type);
        wq_pop(s);
    } else if (s->peeked && s->peeked == s->obx_next) {
        PL_LOG_D(s->log, "-> item %c cid=%s", obx_kind_char[s->obx_next->kind], s->obx_next->cid);
        s->obx_next = s->obx_next->next;
    }
    s->peeked = NULL;
}

/* ---- frames in ------------------------------------------------------------ */

static int frame_error(pl_sess *s, const char *reason)
{
    PL_LOG_W(s->log, "bad frame from server: %s", reason);
    return emit_error(s, PARLEY_ERR_PROTOCOL, reason);
}

/* An item queued under a larger frame limit than this server's: a
 * conversation start or message goes without its context snapshot when
 * that makes it fit; anything else fails now rather than being refused
 * unread after every welcome. */
static int fit_item(pl_sess *s, obx_item *it)
{
    char *frame = NULL;
    size_t len = 0;
    int rc = PARLEY_ERR_NOT_FOUND;
    if (it->kind == OBX_CONV_START || it->kind == OBX_MSG)
        rc = pl_proto_frame_without(&s->alloc, it->frame, it->len, "context", &frame, &len);
    if (rc == PARLEY_ERR_NOMEM)
        return rc;
    if (rc == PARLEY_OK && len <= s->max_frame) {
        pl_free(&s->alloc, it->frame);
        it->frame = frame;
        it->len = len;
        PL_LOG_W(s->log, "item %s goes without its context snapshot to fit the server's frame limit", it->cid);
        return obx_persist(s, it) == PARLEY_ERR_NOMEM ? PARLEY_ERR_NOMEM : PARLEY_OK;
    }
    pl_free(&s->alloc, frame);
    char text[96];
    snprintf(text, sizeof text, "too_long: item exceeds the server's frame limit of %u bytes", (unsigned)s->max_frame);
    PL_LOG_W(s->log, "item %s dropped: %s", it->cid, text);
    return item_failed(s, it, PARLEY_ERR_TOO_LONG, text, "exceeds the server's frame limit");
}

static int fit_outbox(pl_sess *s)
{
    for (obx_item *it = s->obx_head, *next; it; it = next) {
        next = it->next;
        int rc = it->len > s->max_frame ? fit_item(s, it) : PARLEY_OK;
        if (rc != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

static int on_welcome(pl_sess *s, int64_t now, const pl_frame *f)
{
    if (s->state != ST_HANDSHAKING)
        return frame_error(s, "unexpected welcome");
    if (s->close != CL_NONE) {
        PL_LOG_D(s->log, "welcome ignored: connection is closing");
        return PARLEY_OK;
    }
    /* Everything is allocated before anything changes, so that running out
     * of memory leaves the handshake pending (the timeout retries it). */
    char *token = pl_strdup(&s->alloc, f->session ? f->session : "");
    char *owner = pl_strdup(&s->alloc, s->user_id);
    /* Only an anonymous connection is issued its secret (the hello's
     * identity is still s->user_id: a change closes before welcome). */
    const char *issued = s->user_id ? NULL : f->anon_secret;
    char *secret = pl_strdup(&s->alloc, issued);
    parley_event *ev = ev_new(s, PARLEY_EV_CONNECTION, PARLEY_CONN_ONLINE);
    if (!token || (s->user_id && !owner) || (issued && !secret) || !ev) {
        pl_free(&s->alloc, token);
        pl_free(&s->alloc, owner);
        pl_free(&s->alloc, secret);
        parley_event_free(ev);
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
    s->max_text = f->max_text ? min_u32(f->max_text, PL_MAX_TEXT) : PL_MAX_TEXT;
    s->max_frame = f->max_frame ? min_u32(f->max_frame, PL_MAX_FRAME) : PL_MAX_FRAME;
    s->attempt = 0;
    s->state = ST_ONLINE;
    s->obx_next = s->obx_head;
    pl_event_queue_push(&s->events, ev);
    if (fit_outbox(s) != PARLEY_OK)
        request_close(s, CL_FAILURE, PARLEY_ERR_NOMEM, "out of memory");
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
    obx_item *it = obx_find(s, f->cid);
    if (!it || it->kind != OBX_CONV_START) {
        PL_LOG_D(s->log, "conv.ack for unknown cid ignored");
        return PARLEY_OK;
    }
    parley_event *ev = ev_new(s, PARLEY_EV_CONVERSATION, PARLEY_CONV_STARTED);
    if (!ev || pl_event_set(ev, &ev->conv, it->conv) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_event_queue_push(&s->events, ev);
    obx_remove(s, it);
    return PARLEY_OK;
}

static int on_msg_ack(pl_sess *s, const pl_frame *f)
{
    obx_item *it = obx_find(s, f->cid);
    if (!it || it->kind != OBX_MSG) {
        PL_LOG_D(s->log, "msg.ack for unknown cid ignored");
        return PARLEY_OK;
    }
    char seq[21];
    pl_proto_seq_str(f->seq, seq);
    parley_event *ev = ev_new(s, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
    if (!ev || pl_event_set(ev, &ev->cid, it->cid) != PARLEY_OK ||
        pl_event_set(ev, &ev->conv, it->conv) != PARLEY_OK || pl_event_set(ev, &ev->id, f->id) != PARLEY_OK ||
        pl_event_set(ev, &ev->seq, seq) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_event_queue_push(&s->events, ev);
    sconv *c = conv_find(s, it->conv);
    if (c && f->seq == c->cursor + 1)
        cursor_set(s, c, f->seq);
    else if (c && f->seq > c->cursor)
        acked_remember(s, c->id, f->id, f->seq);
    obx_remove(s, it);
    return PARLEY_OK;
}

/* The ack of a module's item (tracked event, survey answer). */
static int on_ack(pl_sess *s, const pl_frame *f)
{
    obx_item *it = obx_find(s, f->cid);
    if (!it || (it->kind != OBX_ITEM && it->kind != OBX_REPORTED)) {
        PL_LOG_D(s->log, "ack for unknown cid ignored");
        return PARLEY_OK;
    }
    if (it->kind == OBX_REPORTED) {
        parley_event *ev = ev_new(s, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT);
        if (!ev || pl_event_set(ev, &ev->cid, it->cid) != PARLEY_OK) {
            parley_event_free(ev);
            return PARLEY_ERR_NOMEM;
        }
        pl_event_queue_push(&s->events, ev);
    }
    obx_remove(s, it);
    return PARLEY_OK;
}

static int author_kind(pl_author_kind k)
{
    switch (k) {
    case PL_AUTHOR_USER: return PARLEY_AUTHOR_USER;
    case PL_AUTHOR_BOT: return PARLEY_AUTHOR_BOT;
    case PL_AUTHOR_AGENT: return PARLEY_AUTHOR_AGENT;
    case PL_AUTHOR_SYSTEM: return PARLEY_AUTHOR_SYSTEM;
    }
    return 0;
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

/* Asks for what follows the cursor, once per conversation until the
 * matching history.end: the replay comes in order and fills the gap. */
static int request_history(pl_sess *s, sconv *c)
{
    if (c->hist)
        return PARLEY_OK;
    char *frame = NULL;
    size_t len = 0;
    wq_entry *e = NULL;
    if (pl_proto_encode_history_get(&s->alloc, c->id, c->cursor, 0, &frame, &len) == PARLEY_OK)
        e = wq_new(s, "history.get", frame, len);
    if (!e)
        return PARLEY_ERR_NOMEM;
    PL_LOG_D(s->log, "gap in %s after seq %llu: asking for history", c->id, (unsigned long long)c->cursor);
    wq_append(s, e);
    c->hist = 1;
    c->hist_after = c->cursor;
    return PARLEY_OK;
}

/* The modules add what they know to a MESSAGE or CONVERSATION event. */
static int ext_decorate(pl_sess *s, const pl_frame *f, parley_event *ev)
{
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_message && s->exts[i].on_message(s->exts[i].user, f, ev) == PARLEY_ERR_NOMEM)
            return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}

/* Blocks that broke the rules: one error per message naming it, however
 * many were left out, ahead of the message. */
static int report_skipped(pl_sess *s, const pl_frame *f, const char *why)
{
    char text[256];
    snprintf(text, sizeof text, "message %s: %s", f->id, why);
    PL_LOG_W(s->log, "%s", text);
    parley_event *ev = error_event(s, PARLEY_ERR_PROTOCOL, text);
    if (!ev || pl_event_set(ev, &ev->conv, f->conv) != PARLEY_OK || pl_event_set(ev, &ev->id, f->id) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

static parley_event *message_event(pl_sess *s, const pl_frame *f)
{
    char seq[21];
    pl_proto_seq_str(f->seq, seq);
    parley_event *ev = ev_new(s, PARLEY_EV_MESSAGE, 0);
    if (!ev || pl_event_set(ev, &ev->conv, f->conv) != PARLEY_OK || pl_event_set(ev, &ev->id, f->id) != PARLEY_OK ||
        pl_event_set(ev, &ev->seq, seq) != PARLEY_OK || pl_event_set(ev, &ev->text, f->text) != PARLEY_OK ||
        pl_event_set(ev, &ev->author_name, f->author_name) != PARLEY_OK) {
        parley_event_free(ev);
        return NULL;
    }
    ev->author_kind = author_kind(f->author_kind);
    ev->ts = f->ts;
    return ev;
}

/* The message with its structured content; the modules see it before the
 * host does (the postbacks remember what it offers). Out of memory drops
 * the delivery: a replay brings the message again. */
static int deliver_msg(pl_sess *s, sconv *c, const pl_frame *f)
{
    char why[200];
    parley_event *ev = message_event(s, f);
    int rc = ev ? pl_proto_msg_content(&s->alloc, f, &ev->content, why, sizeof why) : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK)
        rc = ext_decorate(s, f, ev);
    if (rc == PARLEY_OK && why[0])
        rc = report_skipped(s, f, why);
    if (rc != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    cursor_set(s, c, f->seq);
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

/* Only the message right after the cursor is delivered: older ones are
 * duplicates, later ones wait for the history that fills the gap, so the
 * host gets each message once and in order. A conversation this client
 * never saw (another device or the server started it) is picked up at its
 * first message: there is no earlier state to be consistent with. */
static int on_msg(pl_sess *s, const pl_frame *f)
{
    sconv *c = conv_find(s, f->conv);
    if (c && f->seq <= c->cursor) {
        PL_LOG_D(s->log, "duplicate msg seq %llu in %s dropped", (unsigned long long)f->seq, f->conv);
        return PARLEY_OK;
    }
    /* Every tracked conversation rides in each hello's resume cursors, so a
     * server must not grow the table without bound. */
    if (!c && s->n_convs >= PL_MAX_CONVERSATIONS)
        return emit_error(s, PARLEY_ERR_PROTOCOL, "message dropped: too many conversations");
    if (!c) {
        if (!(c = conv_add(s, f->conv)))
            return PARLEY_ERR_NOMEM;
        c->cursor = c->seen = f->seq - 1;
    }
    if (f->seq > c->cursor + 1) {
        if (f->seq > c->seen)
            c->seen = f->seq;
        return request_history(s, c);
    }
    /* Our own message, already reported SENT when its ack ran ahead. */
    if (f->author_kind == PL_AUTHOR_USER && acked_take(s, c->id, f->seq, f->id)) {
        cursor_set(s, c, f->seq);
        return PARLEY_OK;
    }
    return deliver_msg(s, c, f);
}

/* Asks again while the answer was cut short or a message seen live is
 * still missing, but only after progress, so a server that cannot fill the
 * gap does not get asked forever. */
static int on_history_end(pl_sess *s, const pl_frame *f)
{
    sconv *c = conv_find(s, f->conv);
    if (!c || !c->hist) {
        PL_LOG_D(s->log, "history.end without a request ignored");
        return PARLEY_OK;
    }
    c->hist = 0;
    if ((f->more || c->seen > c->cursor) && c->cursor > c->hist_after)
        return request_history(s, c);
    if (c->seen > c->cursor)
        PL_LOG_W(s->log, "history of %s still ends at seq %llu", c->id, (unsigned long long)c->cursor);
    return PARLEY_OK;
}

static int on_conv_update(pl_sess *s, const pl_frame *f)
{
    parley_event *ev = ev_new(s, PARLEY_EV_CONVERSATION, conv_state(f->conv_state));
    if (!ev || pl_event_set(ev, &ev->conv, f->conv) != PARLEY_OK ||
        pl_event_set(ev, &ev->author_name, f->author_name) != PARLEY_OK || ext_decorate(s, f, ev) != PARLEY_OK) {
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
    obx_item *it = f->cid ? obx_find(s, f->cid) : NULL;
    int rc;
    if (it) {
        rc = item_failed(s, it, PARLEY_ERR_REJECTED, text, f->message ? f->message : f->code);
    } else if (!f->cid && f->code && strcmp(f->code, "auth_failed") == 0) {
        rc = emit_error(s, PARLEY_ERR_AUTH, text);
        request_close(s, CL_FAILURE, PARLEY_ERR_AUTH, "authentication failed");
    } else {
        rc = emit_error(s, PARLEY_ERR_REJECTED, text);
    }
    pl_free(&s->alloc, text);
    return rc;
}

static int on_goaway(pl_sess *s, const pl_frame *f)
{
    PL_LOG_I(s->log, "server going away (%s), reconnect in %u ms", f->message ? f->message : "no reason",
           (unsigned)f->reconnect_ms);
    request_close(s, CL_GOAWAY, PARLEY_ERR_CLOSED, "server going away");
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
    if (s->state != ST_ONLINE && f->type != PL_FRAME_WELCOME && f->type != PL_FRAME_ERROR && f->type != PL_FRAME_GOAWAY) {
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
    case PL_FRAME_MSG: return on_msg(s, f);
    case PL_FRAME_CONV_UPDATE: return on_conv_update(s, f);
    case PL_FRAME_ERROR: return f->req ? ext_frame(s, now, f) : on_error(s, f);
    case PL_FRAME_GOAWAY: return on_goaway(s, f);
    case PL_FRAME_HISTORY_END: return on_history_end(s, f);
    case PL_FRAME_UNKNOWN: return ext_frame(s, now, f);
    }
    return PARLEY_OK;
}

int pl_sess_on_frame(pl_sess *s, int64_t now, const char *data, size_t len)
{
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

/* ---- host API ------------------------------------------------------------- */

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
        request_close(s, CL_RECONNECT, PARLEY_ERR_CLOSED, "identity changed");
    else if (s->state == ST_WAITING)
        /* A backoff earned by the old credentials (a refused, expired token)
         * must not delay the fresh ones. */
        s->retry_at = 0;
    return PARLEY_OK;
}

/* A zeroed outbox item with client id `cid`, or a fresh one when NULL;
 * NULL on failure. */
static obx_item *obx_new(pl_sess *s, obx_kind kind, const char *conv, const char *cid)
{
    obx_item *it = pl_calloc(&s->alloc, 1, sizeof *it);
    if (!it)
        return NULL;
    if (cid) {
        memcpy(it->cid, cid, strlen(cid) + 1);
    } else if (pl_rand_uuid4(s->rand, it->cid) != PARLEY_OK) {
        pl_free(&s->alloc, it);
        return NULL;
    }
    it->kind = kind;
    it->order = s->next_order;
    memcpy(it->conv, conv, strlen(conv) + 1);
    return it;
}

/* Journals a new item (synced: the promise holds once this returns OK) and
 * queues it. On failure the item is freed and nothing changed. */
static int obx_commit(pl_sess *s, obx_item *it)
{
    int rc = obx_persist(s, it);
    if (rc != PARLEY_OK) {
        obx_free(s, it);
        return rc;
    }
    s->next_order++;
    obx_append(s, it);
    return PARLEY_OK;
}

/* ---- frames that carry a context snapshot ----------------------------------- */

/* What `,"context":` adds to a frame besides the snapshot itself. */
#define SNAPSHOT_MEMBER_LEN (sizeof ",\"context\":" - 1)

/* Encodes an item with the given snapshot (NULL: none). */
typedef int (*snap_encoder)(pl_sess *s, const void *item, const char *context, char **out, size_t *len);

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
        PL_LOG_W(s->log, "context snapshot left out: %zu bytes over the frame limit", fn - s->max_frame);
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
} start_item;

static int encode_start(pl_sess *s, const void *item, const char *context, char **out, size_t *len)
{
    const start_item *it = item;
    return pl_proto_encode_conv_start(&s->alloc, it->cid, it->conv, it->subject, context, out, len);
}

typedef struct msg_item {
    const char *cid, *conv, *text;
    const pl_postback *pb;
} msg_item;

static int encode_msg(pl_sess *s, const void *item, const char *context, char **out, size_t *len)
{
    const msg_item *it = item;
    return pl_proto_encode_msg_send(&s->alloc, it->cid, it->conv, it->text, context, it->pb, out, len);
}

/* Only out of memory is worth telling apart from a refusal here. */
static int encode_rc(int rc)
{
    return rc == PARLEY_ERR_TOO_LONG ? rc : PARLEY_ERR_NOMEM;
}

int pl_sess_conv_start(pl_sess *s, const char *subject, char conv_out[PARLEY_ID_SIZE])
{
    size_t slen = subject ? strlen(subject) : 0;
    if (slen > PL_MAX_SUBJECT)
        return PARLEY_ERR_TOO_LONG;
    if (slen && !pl_utf8_valid(subject, slen))
        return PARLEY_ERR_INVALID_ARG;
    if (s->obx_count >= s->outbox_cap || s->n_convs >= PL_MAX_CONVERSATIONS)
        return PARLEY_ERR_FULL;
    char uuid[PL_UUID_STR_LEN + 1], conv[PARLEY_ID_SIZE];
    if (pl_rand_uuid4(s->rand, uuid) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    snprintf(conv, sizeof conv, "c-%s", uuid);
    obx_item *it = obx_new(s, OBX_CONV_START, conv, NULL);
    if (!it)
        return PARLEY_ERR_NOMEM;
    start_item si = {it->cid, conv, slen ? subject : NULL};
    int rc = encode_fitting(s, encode_start, &si, &it->frame, &it->len);
    sconv *c = NULL;
    if (rc != PARLEY_OK || !(c = conv_add(s, conv))) {
        obx_free(s, it);
        return rc != PARLEY_OK ? encode_rc(rc) : PARLEY_ERR_NOMEM;
    }
    /* The cursor entry makes the conversation known after a restart; the
     * item's synced put makes it durable too. */
    rc = cursor_persist(s, c, 0);
    if (rc == PARLEY_OK)
        rc = obx_commit(s, it);
    else
        obx_free(s, it);
    if (rc != PARLEY_OK) {
        if (s->journal)
            (void)pl_journal_del(s->journal, NS_CURSOR, conv, 0);
        s->n_convs--;
        return rc;
    }
    if (conv_out)
        memcpy(conv_out, conv, strlen(conv) + 1);
    return PARLEY_OK;
}

int pl_sess_check_text(const pl_sess *s, const char *conv, const char *text)
{
    if (!conv || !text)
        return PARLEY_ERR_INVALID_ARG;
    if (!conv_find((pl_sess *)s, conv))
        return PARLEY_ERR_NOT_FOUND;
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

/* ---- feature modules ------------------------------------------------------ */

int pl_sess_add_ext(pl_sess *s, const pl_sess_ext *ext)
{
    if (!ext || s->n_exts == MAX_EXTS)
        return PARLEY_ERR_INVALID_ARG;
    s->exts[s->n_exts++] = *ext;
    return PARLEY_OK;
}

int pl_sess_online(const pl_sess *s)
{
    return s->state == ST_ONLINE && s->close == CL_NONE;
}

int pl_sess_conv_known(const pl_sess *s, const char *conv)
{
    return conv && conv_find((pl_sess *)s, conv) != NULL;
}

int pl_sess_send_control(pl_sess *s, const char *type, char *frame, size_t len)
{
    if (!pl_sess_online(s) || len > s->max_frame) {
        pl_free(&s->alloc, frame);
        if (len > s->max_frame)
            PL_LOG_W(s->log, "%s frame of %zu bytes not sent: over the frame limit", type, len);
        return len > s->max_frame ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_OFFLINE;
    }
    wq_entry *e = wq_new(s, type, frame, len);
    if (!e)
        return PARLEY_ERR_NOMEM;
    wq_append(s, e);
    return PARLEY_OK;
}

int pl_sess_mint_cid(pl_sess *s, char cid[PARLEY_ID_SIZE])
{
    return pl_rand_uuid4(s->rand, cid) == PARLEY_OK ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static const obx_kind item_kinds[] = {
    [PL_SESS_ITEM_MSG] = OBX_MSG, [PL_SESS_ITEM_SILENT] = OBX_ITEM, [PL_SESS_ITEM_REPORTED] = OBX_REPORTED};

/* A message's PENDING status, queued once the item is durable. */
static parley_event *pending_event(pl_sess *s, const obx_item *it)
{
    parley_event *ev = ev_new(s, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_PENDING);
    if (!ev || pl_event_set(ev, &ev->cid, it->cid) != PARLEY_OK ||
        (it->kind == OBX_MSG && pl_event_set(ev, &ev->conv, it->conv) != PARLEY_OK)) {
        parley_event_free(ev);
        return NULL;
    }
    return ev;
}

int pl_sess_enqueue(pl_sess *s, pl_sess_item kind, const char *conv, const char *cid, char *frame, size_t len)
{
    if (kind > PL_SESS_ITEM_REPORTED || !cid || strlen(cid) > PL_UUID_STR_LEN || (kind == PL_SESS_ITEM_MSG && !conv)) {
        pl_free(&s->alloc, frame);
        return PARLEY_ERR_INVALID_ARG;
    }
    /* Checked before anything is journaled: a frame the server refuses
     * unread would otherwise be resent after every welcome, forever. */
    if (len > s->max_frame || s->obx_count >= s->outbox_cap) {
        pl_free(&s->alloc, frame);
        return len > s->max_frame ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_FULL;
    }
    obx_item *it = obx_new(s, item_kinds[kind], conv ? conv : NO_CONV, cid);
    parley_event *ev = NULL;
    if (it) {
        it->frame = frame;
        it->len = len;
        ev = kind == PL_SESS_ITEM_SILENT ? NULL : pending_event(s, it);
    } else {
        pl_free(&s->alloc, frame);
    }
    if (!it || (kind != PL_SESS_ITEM_SILENT && !ev)) {
        if (it)
            obx_free(s, it);
        return PARLEY_ERR_NOMEM;
    }
    int rc = obx_commit(s, it);
    if (rc != PARLEY_OK) {
        parley_event_free(ev);
        return rc;
    }
    if (ev)
        pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

void pl_sess_emit(pl_sess *s, parley_event *ev)
{
    if (ev)
        pl_event_queue_push(&s->events, ev);
}

int pl_sess_emit_error(pl_sess *s, int code, const char *text)
{
    return emit_error(s, code, text);
}

int pl_sess_bad_frame(pl_sess *s, const pl_frame *f, const char *why, const char *req)
{
    char text[200];
    snprintf(text, sizeof text, "%s: %s", f->type_name, why);
    PL_LOG_W(s->log, "bad frame from server: %s", text);
    parley_event *ev = pl_event_error(&s->alloc, PARLEY_ERR_PROTOCOL, req, text);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

/* ---- logout ----------------------------------------------------------------- */

static void forget_everything(pl_sess *s)
{
    wq_drop(s);
    while (s->obx_head) {
        obx_item *it = s->obx_head;
        s->obx_head = it->next;
        obx_free(s, it);
    }
    s->obx_tail = s->obx_next = NULL;
    s->peeked = NULL;
    s->obx_count = 0;
    while (s->acked) {
        acked *a = s->acked;
        s->acked = a->next;
        pl_free(&s->alloc, a);
    }
    s->n_acked = 0;
    s->n_convs = 0;
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
    /* The old anonymous user's secret goes with it (NS_META below). */
    pl_free(&s->alloc, s->anon_secret);
    s->anon_secret = NULL;
    forget_everything(s);
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_logout)
            s->exts[i].on_logout(s->exts[i].user);
    if (connected(s))
        request_close(s, CL_RECONNECT, PARLEY_ERR_CLOSED, "logged out");
    else if (s->state == ST_WAITING)
        s->retry_at = 0;
    if (!s->journal)
        return PARLEY_OK;
    int rc = pl_journal_clear_ns(s->journal, NS_OUTBOX);
    if (rc == PARLEY_OK)
        rc = pl_journal_clear_ns(s->journal, NS_CURSOR);
    if (rc == PARLEY_OK)
        rc = pl_journal_clear_ns(s->journal, NS_META);
    return journal_rc(rc);
}
