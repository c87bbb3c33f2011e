#include "feature/rich.h"

#include <stdio.h>
#include <string.h>

#include "util/utf8.h"

/* Options a message offered, kept so that a postback can be checked before
 * it is queued (and after a restart: journaled under "o/<order>"). */
typedef struct offer {
    char *conv, *msg;
    int used; /* its quick replies were answered */
    uint64_t order;
    pl_ev_rich *content;
} offer;

/* Per-conversation state: the user's read mark (journaled under
 * "r/<conv>"), the server's unread count, the user's typing and the support
 * side's. */
typedef struct rconv {
    char *conv;
    uint64_t read_mark; /* 0: none */
    uint32_t unread;
    int64_t typing_sent; /* when the last "on" went out */
    int typing_on;       /* an "on" went out and no "off" since */
    int64_t remote_until; /* -1: nobody is typing */
    int remote_kind;
    char *remote_name;
} rconv;

typedef struct rreq {
    char id[PARLEY_ID_SIZE];
    pl_req_kind kind;
    char *frame;
    size_t len;
} rreq;

/* Conversations the server may mention beyond the user's own are bounded
 * too: each costs memory. */
#define MAX_RCONVS (2 * PL_MAX_CONVERSATIONS)

struct pl_rich {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *journal;
    const pl_log *log;
    rconv *convs[MAX_RCONVS];
    size_t n_convs;
    offer *offers[PL_RICH_MAX_OFFERS];
    size_t n_offers;
    uint64_t next_order;
    rreq reqs[PL_RICH_MAX_REQUESTS];
    size_t n_reqs;
    uint64_t next_req;
};

/* ---- conversations -------------------------------------------------------------- */

static rconv *conv_find(const pl_rich *r, const char *conv)
{
    for (size_t i = 0; i < r->n_convs; i++)
        if (strcmp(r->convs[i]->conv, conv) == 0)
            return r->convs[i];
    return NULL;
}

static void rconv_free(pl_rich *r, rconv *c)
{
    if (!c)
        return;
    pl_free(&r->alloc, c->conv);
    pl_free(&r->alloc, c->remote_name);
    pl_free(&r->alloc, c);
}

/* An entry worth nothing: no mark, nobody typing, not the user's. */
static int conv_idle(const pl_rich *r, const rconv *c)
{
    return !c->read_mark && c->remote_until < 0 && !c->typing_on && !pl_sess_conv_known(r->sess, c->conv);
}

/* The entry of `conv`, created when missing; NULL when out of memory or
 * when the table is full of conversations that matter. */
static rconv *conv_get(pl_rich *r, const char *conv)
{
    rconv *c = conv_find(r, conv);
    if (c)
        return c;
    size_t slot = r->n_convs;
    if (slot == MAX_RCONVS)
        for (slot = 0; slot < MAX_RCONVS && !conv_idle(r, r->convs[slot]); slot++)
            ;
    if (slot == MAX_RCONVS)
        return NULL;
    c = pl_calloc(&r->alloc, 1, sizeof *c);
    if (!c || !(c->conv = pl_strdup(&r->alloc, conv))) {
        pl_free(&r->alloc, c);
        return NULL;
    }
    c->typing_sent = INT64_MIN / 2;
    c->remote_until = -1;
    if (slot < r->n_convs)
        rconv_free(r, r->convs[slot]);
    else
        r->n_convs++;
    r->convs[slot] = c;
    return c;
}

/* ---- offers ------------------------------------------------------------------- */

static void offer_free(pl_rich *r, offer *o)
{
    if (!o)
        return;
    pl_free(&r->alloc, o->conv);
    pl_free(&r->alloc, o->msg);
    pl_ev_rich_free(&r->alloc, o->content);
    pl_free(&r->alloc, o);
}

static void offer_key(uint64_t order, char key[32])
{
    snprintf(key, 32, "o/%020llu", (unsigned long long)order);
}

static int offer_persist(pl_rich *r, const offer *o)
{
    if (!r->journal)
        return PARLEY_OK;
    size_t n = strlen(o->conv) + strlen(o->msg) + strlen(o->content->raw_json) + 8;
    char *v = pl_malloc(&r->alloc, n), key[32];
    if (!v)
        return PARLEY_ERR_NOMEM;
    int len = snprintf(v, n, "%s\n%s\n%d\n%s", o->conv, o->msg, o->used, o->content->raw_json);
    offer_key(o->order, key);
    int rc = pl_journal_put(r->journal, PL_RICH_NS, key, v, (size_t)len, 0);
    pl_free(&r->alloc, v);
    return rc;
}

static void offer_remove(pl_rich *r, size_t i)
{
    char key[32];
    offer_key(r->offers[i]->order, key);
    if (r->journal && pl_journal_del(r->journal, PL_RICH_NS, key, 0) != PARLEY_OK)
        PL_LOG_W(r->log, "an old offer stays in the journal");
    offer_free(r, r->offers[i]);
    memmove(&r->offers[i], &r->offers[i + 1], (r->n_offers - i - 1) * sizeof r->offers[0]);
    r->n_offers--;
}

static offer *offer_find(const pl_rich *r, const char *conv, const char *msg)
{
    for (size_t i = 0; i < r->n_offers; i++)
        if (strcmp(r->offers[i]->conv, conv) == 0 && strcmp(r->offers[i]->msg, msg) == 0)
            return r->offers[i];
    return NULL;
}

/* Makes room: the conversation's oldest beyond its share, else the oldest
 * of all. */
static void offers_trim(pl_rich *r, const char *conv)
{
    size_t mine = 0, oldest = r->n_offers;
    for (size_t i = 0; i < r->n_offers; i++)
        if (strcmp(r->offers[i]->conv, conv) == 0 && mine++ == 0)
            oldest = i;
    if (mine >= PL_RICH_OFFERS_PER_CONV)
        offer_remove(r, oldest);
    else if (r->n_offers == PL_RICH_MAX_OFFERS)
        offer_remove(r, 0);
}

static int has_postback(const struct parley_block *v, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < v[i].n_opts; j++)
            if (v[i].opts[j].action == PARLEY_ACTION_POSTBACK)
                return 1;
        if (has_postback(v[i].cards, v[i].n_cards))
            return 1;
    }
    return 0;
}

/* Remembers what a delivered message offered. Its own copy of the blocks:
 * the event's go to the host. */
static int offer_remember(pl_rich *r, const char *conv, const char *msg, const pl_ev_rich *content)
{
    if (!has_postback(content->blocks, content->n_blocks) || offer_find(r, conv, msg))
        return PARLEY_OK;
    offer *o = pl_calloc(&r->alloc, 1, sizeof *o);
    int rc = o ? pl_proto_rich_parse_blocks(&r->alloc, content->raw_json, &o->content) : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK && (!(o->conv = pl_strdup(&r->alloc, conv)) || !(o->msg = pl_strdup(&r->alloc, msg))))
        rc = PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK) {
        offer_free(r, o);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_OK;
    }
    offers_trim(r, conv);
    o->order = r->next_order++;
    if (offer_persist(r, o) != PARLEY_OK)
        PL_LOG_W(r->log, "offer of %s not journaled: a postback to it fails after a restart", msg);
    r->offers[r->n_offers++] = o;
    return PARLEY_OK;
}

/* ---- journal -------------------------------------------------------------------- */

static int parse_u64(const char *p, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (!n || n > 20)
        return 0;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9' || v > (UINT64_MAX - 9) / 10)
            return 0;
        v = v * 10 + (uint64_t)(p[i] - '0');
    }
    *out = v;
    return 1;
}

/* "conv\nmsg\nused\njson"; a malformed record is skipped. */
static int load_offer(pl_rich *r, const char *key, const char *v, size_t len)
{
    uint64_t order;
    const char *end = v + len, *f[3];
    size_t n[3];
    const char *p = v;
    for (int i = 0; i < 3; i++) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        if (!nl)
            return PARLEY_OK;
        f[i] = p;
        n[i] = (size_t)(nl - p);
        p = nl + 1;
    }
    if (!parse_u64(key + 2, strlen(key + 2), &order) || r->n_offers == PL_RICH_MAX_OFFERS || n[2] != 1)
        return PARLEY_OK;
    offer *o = pl_calloc(&r->alloc, 1, sizeof *o);
    char *json = pl_strndup(&r->alloc, p, (size_t)(end - p));
    int rc = o && json ? PARLEY_OK : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK &&
        (!(o->conv = pl_strndup(&r->alloc, f[0], n[0])) || !(o->msg = pl_strndup(&r->alloc, f[1], n[1]))))
        rc = PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK)
        rc = pl_proto_rich_parse_blocks(&r->alloc, json, &o->content);
    pl_free(&r->alloc, json);
    if (rc != PARLEY_OK || !pl_id_valid(o->conv, PL_MAX_ID) || !pl_id_valid(o->msg, PL_MAX_ID)) {
        offer_free(r, o);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_OK;
    }
    o->used = f[2][0] == '1';
    o->order = order;
    if (order >= r->next_order)
        r->next_order = order + 1;
    r->offers[r->n_offers++] = o;
    return PARLEY_OK;
}

static int load_mark(pl_rich *r, const char *key, const char *v, size_t len)
{
    char seq[24];
    uint64_t mark;
    if (len >= sizeof seq)
        return PARLEY_OK;
    memcpy(seq, v, len);
    seq[len] = '\0';
    if (!pl_id_valid(key + 2, PL_MAX_ID) || !pl_proto_rich_seq(seq, &mark))
        return PARLEY_OK;
    rconv *c = conv_get(r, key + 2);
    if (!c)
        return PARLEY_ERR_NOMEM;
    c->read_mark = mark;
    return PARLEY_OK;
}

static int load_entry(void *user, const char *key, const void *value, size_t len)
{
    pl_rich *r = user;
    if (strncmp(key, "o/", 2) == 0)
        return load_offer(r, key, value, len);
    if (strncmp(key, "r/", 2) == 0)
        return load_mark(r, key, value, len);
    return PARLEY_OK;
}

/* ---- what goes out ------------------------------------------------------------- */

static int send_read(pl_rich *r, const rconv *c)
{
    char *frame = NULL;
    size_t len = 0;
    int rc = pl_proto_encode_read(&r->alloc, c->conv, c->read_mark, &frame, &len);
    return rc == PARLEY_OK ? pl_sess_send_control(r->sess, "read", frame, len) : rc;
}

static int send_request(pl_rich *r, const rreq *q)
{
    char *copy = pl_strndup(&r->alloc, q->frame, q->len);
    return copy ? pl_sess_send_control(r->sess, pl_proto_rich_answer_type(q->kind), copy, q->len) : PARLEY_ERR_NOMEM;
}

static void request_forget(pl_rich *r, size_t i)
{
    pl_free(&r->alloc, r->reqs[i].frame);
    memmove(&r->reqs[i], &r->reqs[i + 1], (r->n_reqs - i - 1) * sizeof r->reqs[0]);
    r->n_reqs--;
}

static size_t request_find(const pl_rich *r, const char *id)
{
    size_t i = 0;
    while (i < r->n_reqs && (!id || strcmp(r->reqs[i].id, id) != 0))
        i++;
    return i;
}

/* ---- session hooks --------------------------------------------------------------- */

/* Read marks first, then every request still without an answer (those sent
 * on a connection that dropped included). The server forgot our typing. */
static int on_welcome(void *user, int64_t now)
{
    pl_rich *r = user;
    (void)now;
    int rc = PARLEY_OK;
    for (size_t i = 0; i < r->n_convs; i++) {
        r->convs[i]->typing_on = 0;
        if (r->convs[i]->read_mark && rc == PARLEY_OK)
            rc = send_read(r, r->convs[i]);
    }
    for (size_t i = 0; i < r->n_reqs && rc == PARLEY_OK; i++)
        rc = send_request(r, &r->reqs[i]);
    return rc;
}

static parley_event *error_for(pl_rich *r, int code, const char *req, const char *text)
{
    parley_event *ev = pl_event_new(&r->alloc, PARLEY_EV_ERROR);
    if (ev)
        ev->error_code = code;
    if (ev && (pl_event_set(ev, &ev->cid, req) != PARLEY_OK || pl_event_set(ev, &ev->text, text) != PARLEY_OK)) {
        parley_event_free(ev);
        ev = NULL;
    }
    return ev;
}

/* `error` with `req`: the request failed; the host hears of it by id. */
static int on_request_error(pl_rich *r, const pl_frame *f)
{
    size_t i = request_find(r, f->req);
    if (i == r->n_reqs)
        return 0;
    int code = strcmp(f->code, "not_found") == 0 || strcmp(f->code, "unknown_conversation") == 0
                   ? PARLEY_ERR_NOT_FOUND
                   : PARLEY_ERR_REJECTED;
    char text[256];
    snprintf(text, sizeof text, "%s%s%.200s", f->code, f->message ? ": " : "", f->message ? f->message : "");
    parley_event *ev = error_for(r, code, f->req, text);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    request_forget(r, i);
    pl_sess_emit(r->sess, ev);
    return 1;
}

/* A malformed frame; one naming a pending request answers it. */
static int on_bad_frame(pl_rich *r, const pl_frame *f, const char *why)
{
    char text[200];
    snprintf(text, sizeof text, "%s: %s", f->type_name, why);
    PL_LOG_W(r->log, "bad frame from server: %s", text);
    const char *req = pl_proto_rich_req(f);
    size_t i = request_find(r, req);
    parley_event *ev = error_for(r, PARLEY_ERR_PROTOCOL, req && i < r->n_reqs ? req : NULL, text);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    if (req && i < r->n_reqs)
        request_forget(r, i);
    pl_sess_emit(r->sess, ev);
    return 1;
}

static int on_typing(pl_rich *r, int64_t now, parley_event *ev)
{
    rconv *c = conv_get(r, ev->conv);
    if (!c) {
        PL_LOG_W(r->log, "typing in %s ignored: too many conversations", ev->conv);
        parley_event_free(ev);
        return 1;
    }
    if (ev->state == PARLEY_TYPING_ON) {
        char *name = NULL;
        if (ev->author_name && !(name = pl_strdup(&r->alloc, ev->author_name))) {
            parley_event_free(ev);
            return PARLEY_ERR_NOMEM;
        }
        pl_free(&r->alloc, c->remote_name);
        c->remote_name = name;
        c->remote_kind = ev->author_kind;
        c->remote_until = now + PL_RICH_TYPING_EXPIRY_MS;
    } else {
        c->remote_until = -1;
    }
    pl_sess_emit(r->sess, ev);
    return 1;
}

static int on_unread(pl_rich *r, parley_event *ev)
{
    rconv *c = conv_get(r, ev->conv);
    if (c)
        c->unread = ev->rich->count;
    else
        PL_LOG_W(r->log, "unread count of %s not kept: too many conversations", ev->conv);
    pl_sess_emit(r->sess, ev);
    return 1;
}

static const int answer_events[] = {[PL_REQ_CONV_LIST] = PARLEY_EV_CONVERSATIONS,
                                    [PL_REQ_HISTORY] = PARLEY_EV_HISTORY,
                                    [PL_REQ_SEARCH] = PARLEY_EV_ARTICLES,
                                    [PL_REQ_ARTICLE] = PARLEY_EV_ARTICLE};

/* Only an answer to a request we are waiting for reaches the host. */
static int on_answer(pl_rich *r, parley_event *ev)
{
    size_t i = request_find(r, ev->rich->req);
    if (i == r->n_reqs || answer_events[r->reqs[i].kind] != ev->type) {
        PL_LOG_I(r->log, "answer to an unknown request %s ignored", ev->rich->req);
        parley_event_free(ev);
        return 1;
    }
    request_forget(r, i);
    pl_sess_emit(r->sess, ev);
    return 1;
}

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    pl_rich *r = user;
    if (f->type == PL_FRAME_ERROR)
        return f->req ? on_request_error(r, f) : 0;
    if (f->type != PL_FRAME_UNKNOWN)
        return 0;
    parley_event *ev = NULL;
    char why[160];
    int rc = pl_proto_rich_decode(&r->alloc, f, &ev, why, sizeof why);
    if (rc == PARLEY_ERR_PROTOCOL)
        return on_bad_frame(r, f, why);
    if (rc != PARLEY_OK || !ev)
        return rc;
    switch (ev->type) {
    case PARLEY_EV_TYPING: return on_typing(r, now, ev);
    case PARLEY_EV_UNREAD: return on_unread(r, ev);
    case PARLEY_EV_READ: pl_sess_emit(r->sess, ev); return 1;
    default: return on_answer(r, ev);
    }
}

/* One error per message naming it, however many blocks were skipped. */
static int report_skipped(pl_rich *r, const pl_frame *f, const char *why)
{
    char text[256];
    snprintf(text, sizeof text, "message %s: %s", f->id, why);
    PL_LOG_W(r->log, "%s", text);
    parley_event *ev = error_for(r, PARLEY_ERR_PROTOCOL, NULL, text);
    if (!ev || pl_event_set(ev, &ev->conv, f->conv) != PARLEY_OK || pl_event_set(ev, &ev->id, f->id) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_sess_emit(r->sess, ev);
    return PARLEY_OK;
}

static int decorate_msg(pl_rich *r, const pl_frame *f, parley_event *ev)
{
    pl_ev_rich *content = NULL;
    char why[200];
    int rc = pl_proto_rich_msg_blocks(&r->alloc, f, &content, why, sizeof why);
    if (rc == PARLEY_OK && content)
        rc = offer_remember(r, f->conv, f->id, content);
    if (rc == PARLEY_OK && why[0])
        rc = report_skipped(r, f, why);
    if (rc != PARLEY_OK) {
        pl_ev_rich_free(&r->alloc, content);
        return rc;
    }
    pl_ev_rich_free(&ev->alloc, ev->rich);
    ev->rich = content;
    return PARLEY_OK;
}

int pl_rich_decorate(pl_rich *r, const pl_frame *f, parley_event *ev)
{
    if (f->type == PL_FRAME_MSG)
        return decorate_msg(r, f, ev);
    if (f->type != PL_FRAME_CONV_UPDATE)
        return PARLEY_OK;
    int pos;
    uint32_t wait_s;
    pl_proto_rich_queue(f, &pos, &wait_s);
    if (pos < 0 && !wait_s)
        return PARLEY_OK;
    if (!ev->rich && !(ev->rich = pl_ev_rich_new(&ev->alloc)))
        return PARLEY_ERR_NOMEM;
    ev->rich->queue_pos = pos;
    ev->rich->wait_s = wait_s;
    return PARLEY_OK;
}

static int on_message(void *user, const pl_frame *f, parley_event *ev)
{
    return pl_rich_decorate(user, f, ev);
}

static int64_t next_due(void *user)
{
    pl_rich *r = user;
    int64_t due = -1;
    for (size_t i = 0; i < r->n_convs; i++) {
        int64_t t = r->convs[i]->remote_until;
        if (t >= 0 && (due < 0 || t < due))
            due = t;
    }
    return due;
}

/* Dots left behind by a server that went quiet are cleared here. */
static void on_tick(void *user, int64_t now)
{
    pl_rich *r = user;
    for (size_t i = 0; i < r->n_convs; i++) {
        rconv *c = r->convs[i];
        if (c->remote_until < 0 || now < c->remote_until)
            continue;
        parley_event *ev = pl_event_new(&r->alloc, PARLEY_EV_TYPING);
        if (!ev || pl_event_set(ev, &ev->conv, c->conv) != PARLEY_OK ||
            pl_event_set(ev, &ev->author_name, c->remote_name) != PARLEY_OK) {
            parley_event_free(ev);
            PL_LOG_W(r->log, "typing expiry delayed: out of memory");
            return;
        }
        ev->state = PARLEY_TYPING_OFF;
        ev->author_kind = c->remote_kind;
        c->remote_until = -1;
        pl_sess_emit(r->sess, ev);
    }
}

static void forget_all(pl_rich *r)
{
    for (size_t i = 0; i < r->n_convs; i++)
        rconv_free(r, r->convs[i]);
    r->n_convs = 0;
    for (size_t i = 0; i < r->n_offers; i++)
        offer_free(r, r->offers[i]);
    r->n_offers = 0;
    while (r->n_reqs)
        request_forget(r, r->n_reqs - 1);
}

static void on_logout(void *user)
{
    pl_rich *r = user;
    forget_all(r);
    if (r->journal && pl_journal_clear_ns(r->journal, PL_RICH_NS) != PARLEY_OK)
        PL_LOG_W(r->log, "read marks and offers could not be wiped from the journal");
}

/* ---- lifecycle --------------------------------------------------------------------- */

pl_rich *pl_rich_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal, const pl_log *log)
{
    pl_rich *r = pl_calloc(a, 1, sizeof *r);
    if (!r)
        return NULL;
    r->alloc = *a;
    r->sess = sess;
    r->journal = journal;
    r->log = log;
    r->next_order = 1;
    r->next_req = 1;
    pl_sess_ext ext = {r, on_welcome, on_frame, on_message, next_due, on_tick, on_logout, NULL};
    if ((journal && pl_journal_foreach(journal, PL_RICH_NS, load_entry, r) != PARLEY_OK) ||
        pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_rich_free(r);
        return NULL;
    }
    return r;
}

void pl_rich_free(pl_rich *r)
{
    if (!r)
        return;
    forget_all(r);
    pl_alloc a = r->alloc;
    pl_free(&a, r);
}

/* ---- host API ------------------------------------------------------------------------ */

static const struct parley_option *option_in(const struct parley_block *v, int n, const char *id)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < v[i].n_opts; j++)
            if (strcmp(v[i].opts[j].id, id) == 0)
                return &v[i].opts[j];
        const struct parley_option *o = option_in(v[i].cards, v[i].n_cards, id);
        if (o)
            return o;
    }
    return NULL;
}

static int check_postback(pl_rich *r, const char *conv, const char *msg, const char *option, const char **label,
                          const char **payload)
{
    if (!pl_id_valid(conv, PL_MAX_ID) || !pl_id_valid(msg, PL_MAX_ID) || !pl_id_valid(option, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    const offer *o = offer_find(r, conv, msg);
    const struct parley_option *opt = o ? option_in(o->content->blocks, o->content->n_blocks, option) : NULL;
    if (!opt)
        return PARLEY_ERR_NOT_FOUND;
    if (opt->action != PARLEY_ACTION_POSTBACK)
        return PARLEY_ERR_INVALID_ARG;
    if (opt->quick && o->used)
        return PARLEY_ERR_STATE;
    *label = opt->label;
    *payload = opt->payload;
    return PARLEY_OK;
}

static void postback_done(pl_rich *r, const char *conv, const char *msg, const char *option)
{
    offer *o = offer_find(r, conv, msg);
    const struct parley_option *opt = o ? option_in(o->content->blocks, o->content->n_blocks, option) : NULL;
    if (!opt || !opt->quick || o->used)
        return;
    o->used = 1;
    if (offer_persist(r, o) != PARLEY_OK)
        PL_LOG_W(r->log, "answered quick replies of %s not journaled", msg);
}

/* The label goes out as the user's message: redacted, with the context
 * snapshot, through the outbox. */
int pl_rich_postback(pl_rich *r, pl_ctx *ctx, const char *conv, const char *msg, const char *option,
                   char cid[PARLEY_ID_SIZE])
{
    const char *label = NULL, *payload = NULL;
    int rc = check_postback(r, conv, msg, option, &label, &payload);
    if (rc == PARLEY_OK)
        rc = pl_sess_check_text(r->sess, conv, label);
    char *text = NULL;
    if (rc == PARLEY_OK)
        rc = pl_ctx_prepare_message(ctx, label, &text);
    pl_postback pb = {msg, option, payload};
    if (rc == PARLEY_OK)
        rc = pl_sess_send_text(r->sess, conv, text, &pb, cid);
    pl_free(&r->alloc, text);
    if (rc == PARLEY_OK)
        postback_done(r, conv, msg, option);
    return rc;
}

int pl_rich_set_typing(pl_rich *r, const char *conv, int on, int64_t now)
{
    if (!pl_id_valid(conv, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    if (!pl_sess_conv_known(r->sess, conv))
        return PARLEY_ERR_NOT_FOUND;
    if (!pl_sess_online(r->sess))
        return PARLEY_OK;
    rconv *c = conv_get(r, conv);
    if (!c)
        return PARLEY_ERR_NOMEM;
    if (on ? now - c->typing_sent < PL_RICH_TYPING_EVERY_MS : !c->typing_on)
        return PARLEY_OK;
    char *frame = NULL;
    size_t len = 0;
    int rc = pl_proto_encode_typing(&r->alloc, conv, on, &frame, &len);
    if (rc == PARLEY_OK)
        rc = pl_sess_send_control(r->sess, "typing", frame, len);
    if (rc != PARLEY_OK)
        return rc;
    c->typing_on = on != 0;
    if (on)
        c->typing_sent = now;
    return PARLEY_OK;
}

int pl_rich_mark_read(pl_rich *r, const char *conv, const char *seq)
{
    uint64_t mark;
    if (!pl_id_valid(conv, PL_MAX_ID) || !pl_proto_rich_seq(seq, &mark))
        return PARLEY_ERR_INVALID_ARG;
    if (!pl_sess_conv_known(r->sess, conv))
        return PARLEY_ERR_NOT_FOUND;
    rconv *c = conv_get(r, conv);
    if (!c)
        return PARLEY_ERR_NOMEM;
    if (mark <= c->read_mark)
        return PARLEY_OK;
    char key[PL_MAX_ID + 3];
    snprintf(key, sizeof key, "r/%s", conv);
    int rc = r->journal ? pl_journal_put(r->journal, PL_RICH_NS, key, seq, strlen(seq), 0) : PARLEY_OK;
    if (rc != PARLEY_OK)
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
    c->read_mark = mark;
    /* Kept either way: the next welcome sends it. */
    if (pl_sess_online(r->sess) && send_read(r, c) != PARLEY_OK)
        PL_LOG_W(r->log, "read mark of %s not sent now: out of memory", conv);
    return PARLEY_OK;
}

int pl_rich_unread(const pl_rich *r, const char *conv, uint32_t *out)
{
    uint64_t sum = 0;
    for (size_t i = 0; i < r->n_convs; i++)
        if (!conv || strcmp(r->convs[i]->conv, conv) == 0)
            sum += r->convs[i]->unread;
    *out = sum > UINT32_MAX ? UINT32_MAX : (uint32_t)sum;
    return PARLEY_OK;
}

int pl_rich_request(pl_rich *r, pl_req_kind kind, const pl_req_args *args, char req_out[PARLEY_ID_SIZE])
{
    if (r->n_reqs == PL_RICH_MAX_REQUESTS)
        return PARLEY_ERR_FULL;
    rreq *q = &r->reqs[r->n_reqs];
    memset(q, 0, sizeof *q);
    snprintf(q->id, sizeof q->id, "r-%llu", (unsigned long long)r->next_req);
    q->kind = kind;
    int rc = pl_proto_encode_request(&r->alloc, kind, q->id, args, &q->frame, &q->len);
    if (rc == PARLEY_OK && pl_sess_online(r->sess))
        rc = send_request(r, q);
    if (rc != PARLEY_OK) {
        pl_free(&r->alloc, q->frame);
        return rc;
    }
    r->n_reqs++;
    r->next_req++;
    memcpy(req_out, q->id, strlen(q->id) + 1);
    return PARLEY_OK;
}
