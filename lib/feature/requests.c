/* The host's requests and their answers: see requests.h. */
#include "feature/requests.h"

#include <stdio.h>
#include <string.h>

typedef struct pending {
    char id[PARLEY_ID_SIZE];
    pl_req_kind kind;
    char conv[PL_MAX_ID + 1]; /* a history request's; else "" */
    char *frame;
    size_t len;
} pending;

struct pl_requests {
    pl_alloc alloc;
    pl_sess *sess;
    const pl_log *log;
    pending reqs[PL_REQUESTS_MAX];
    size_t n_reqs;
    uint64_t next_req;
    pl_page_fn page_fn;
    void *page_user;
};

/* The event type of each kind's answer. */
static const int answer_events[] = {[PL_REQ_CONV_LIST] = PARLEY_EV_CONVERSATIONS,
                                    [PL_REQ_HISTORY] = PARLEY_EV_HISTORY,
                                    [PL_REQ_SEARCH] = PARLEY_EV_ARTICLES,
                                    [PL_REQ_ARTICLE] = PARLEY_EV_ARTICLE};
/* And of the items it lists. */
static const int item_events[] = {[PL_REQ_CONV_LIST] = PARLEY_EV_CONVERSATION,
                                  [PL_REQ_HISTORY] = PARLEY_EV_MESSAGE,
                                  [PL_REQ_SEARCH] = PARLEY_EV_ARTICLE,
                                  [PL_REQ_ARTICLE] = PARLEY_EV_ARTICLE};

/* ---- pending requests ------------------------------------------------------------ */

static int send_request(pl_requests *r, const pending *q)
{
    char *copy = pl_strndup(&r->alloc, q->frame, q->len);
    return copy ? pl_sess_send_control(r->sess, pl_proto_answer_type(q->kind), copy, q->len)
                : PARLEY_ERR_NOMEM;
}

static void request_forget(pl_requests *r, size_t i)
{
    pl_free(&r->alloc, r->reqs[i].frame);
    memmove(&r->reqs[i], &r->reqs[i + 1], (r->n_reqs - i - 1) * sizeof r->reqs[0]);
    r->n_reqs--;
}

/* The index of request `id`, or n_reqs. */
static size_t request_find(const pl_requests *r, const char *id)
{
    size_t i = 0;
    while (i < r->n_reqs && (!id || strcmp(r->reqs[i].id, id) != 0))
        i++;
    return i;
}

/* ---- answers ------------------------------------------------------------------------ */

/* The answer as the host's event: the request id, a page's conversation
 * and `more`, an event per item (a page's messages carry its conversation
 * id), or the article itself. */
static parley_event *answer_event(pl_requests *r, pl_answer *ans)
{
    int type = answer_events[ans->kind];
    parley_event *ev = ans->kind == PL_REQ_ARTICLE
                           ? pl_event_from_item(&r->alloc, type, &ans->article)
                           : pl_event_new(&r->alloc, type);
    if (!ev)
        return NULL;
    ev->req = ans->req;
    ans->req = NULL;
    if (ans->conv) { /* only a page names one; an article's event has none */
        ev->conv = ans->conv;
        ans->conv = NULL;
    }
    ev->more = ans->more;
    if (ans->n_items &&
        !(ev->items = pl_calloc(&r->alloc, (size_t)ans->n_items, sizeof *ev->items))) {
        parley_event_free(ev);
        return NULL;
    }
    for (int i = 0; i < ans->n_items; i++) {
        parley_event *it = pl_event_from_item(&r->alloc, item_events[ans->kind], &ans->items[i]);
        if (!it ||
            (ans->kind == PL_REQ_HISTORY && pl_event_set(it, &it->conv, ev->conv) != PARLEY_OK)) {
            parley_event_free(it);
            parley_event_free(ev);
            return NULL;
        }
        ev->items[ev->n_items++] = it;
    }
    return ev;
}

/* The user's conversations become members of the session, so the host
 * can write in one at once and its newest messages are backfilled (docs/
 * protocol.md, "Conversations across devices"). */
static int adopt_listed(pl_requests *r, const pl_answer *ans)
{
    for (int i = 0; ans->kind == PL_REQ_CONV_LIST && i < ans->n_items; i++) {
        uint64_t last = 0;
        const pl_item *it = &ans->items[i];
        if (it->seq && !pl_proto_parse_seq(it->seq, &last))
            last = 0;
        if (pl_sess_adopt(r->sess, it->conv, last) == PARLEY_ERR_NOMEM)
            return PARLEY_ERR_NOMEM;
    }
    return PARLEY_OK;
}

/* Only a page the host asked for reaches the local history: pages the
 * server sends unasked, or of other conversations, would fill the device
 * with what the host never sees. The host reading a conversation uses it:
 * a parked one comes back into the table. */
static void keep_page(const pl_requests *r, const pending *q, const pl_answer *ans,
                      const pl_frame *f)
{
    if (r->page_fn && ans->kind == PL_REQ_HISTORY && strcmp(q->conv, ans->conv) == 0 &&
        pl_sess_conv_use(r->sess, ans->conv) == PARLEY_OK)
        r->page_fn(r->page_user, f);
}

/* Only an answer to a request we are waiting for reaches the host. */
static int on_answer(pl_requests *r, const pl_frame *f)
{
    pl_answer ans;
    char why[160];
    int rc = pl_proto_decode_answer(&r->alloc, f, &ans, why, sizeof why);
    if (rc == PARLEY_ERR_PROTOCOL) {
        /* A malformed answer still answers the request it names. */
        const char *req = pl_proto_frame_req(f);
        size_t i = request_find(r, req);
        int known = req && i < r->n_reqs;
        if (pl_sess_bad_frame(r->sess, f, why, known ? req : NULL) != PARLEY_OK)
            return PARLEY_ERR_NOMEM;
        if (known)
            request_forget(r, i);
        return 1;
    }
    if (rc != PARLEY_OK)
        return rc;
    size_t i = request_find(r, ans.req);
    if (i == r->n_reqs || r->reqs[i].kind != ans.kind) {
        PL_LOG_I(r->log, "answer to an unknown request %s ignored", ans.req);
        pl_answer_clear(&r->alloc, &ans);
        return 1;
    }
    keep_page(r, &r->reqs[i], &ans, f);
    if (adopt_listed(r, &ans) != PARLEY_OK) {
        pl_answer_clear(&r->alloc, &ans);
        return PARLEY_ERR_NOMEM;
    }
    parley_event *ev = answer_event(r, &ans);
    pl_answer_clear(&r->alloc, &ans);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    request_forget(r, i);
    pl_sess_emit(r->sess, ev);
    return 1;
}

/* `error` with `req`: the request failed; the host hears of it by id. */
static int on_request_error(pl_requests *r, const pl_frame *f)
{
    size_t i = request_find(r, f->req);
    if (i == r->n_reqs)
        return 0;
    int code = strcmp(f->code, "not_found") == 0 || strcmp(f->code, "unknown_conversation") == 0
                   ? PARLEY_ERR_NOT_FOUND
                   : PARLEY_ERR_REJECTED;
    char text[256];
    snprintf(text, sizeof text, "%s%s%.200s", f->code, f->message ? ": " : "",
             f->message ? f->message : "");
    parley_event *ev = pl_event_error(&r->alloc, code, f->req, text);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    request_forget(r, i);
    pl_sess_emit(r->sess, ev);
    return 1;
}

/* ---- session hooks ------------------------------------------------------------------- */

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    pl_requests *r = user;
    (void)now;
    if (f->type == PL_FRAME_ERROR)
        return f->req ? on_request_error(r, f) : 0;
    if (f->type != PL_FRAME_UNKNOWN || !pl_proto_answer_kind(f->type_name))
        return 0;
    return on_answer(r, f);
}

/* Every request still without an answer (those sent on a connection that
 * dropped included). */
static int on_welcome(void *user, int64_t now)
{
    pl_requests *r = user;
    (void)now;
    int rc = PARLEY_OK;
    for (size_t i = 0; i < r->n_reqs && rc == PARLEY_OK; i++)
        rc = send_request(r, &r->reqs[i]);
    return rc;
}

static void forget_all(pl_requests *r)
{
    while (r->n_reqs)
        request_forget(r, r->n_reqs - 1);
}

static void on_logout(void *user)
{
    forget_all(user);
}

/* ---- lifecycle ------------------------------------------------------------------------ */

pl_requests *pl_requests_new(const pl_alloc *a, pl_sess *sess, const pl_log *log)
{
    pl_requests *r = pl_calloc(a, 1, sizeof *r);
    if (!r)
        return NULL;
    r->alloc = *a;
    r->sess = sess;
    r->log = log;
    r->next_req = 1;
    pl_sess_ext ext = {
        .user = r, .on_welcome = on_welcome, .on_frame = on_frame, .on_logout = on_logout};
    if (pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_requests_free(r);
        return NULL;
    }
    return r;
}

void pl_requests_free(pl_requests *r)
{
    if (!r)
        return;
    forget_all(r);
    pl_alloc a = r->alloc;
    pl_free(&a, r);
}

/* ---- host API -------------------------------------------------------------------------- */

void pl_requests_set_page_sink(pl_requests *r, pl_page_fn fn, void *user)
{
    r->page_fn = fn;
    r->page_user = user;
}

int pl_requests_send(pl_requests *r, pl_req_kind kind, const pl_req_args *args,
                     char req_out[PARLEY_ID_SIZE])
{
    if (r->n_reqs == PL_REQUESTS_MAX)
        return PARLEY_ERR_FULL;
    pending *q = &r->reqs[r->n_reqs];
    memset(q, 0, sizeof *q);
    snprintf(q->id, sizeof q->id, "r-%llu", (unsigned long long)r->next_req);
    q->kind = kind;
    if (kind == PL_REQ_HISTORY && args->conv)
        snprintf(q->conv, sizeof q->conv, "%s", args->conv);
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
