/* Proactive content and the mute: see proactive.h. */
#include "feature/proactive.h"

#include <stdio.h>
#include <string.h>

#include "codec/proto_proactive.h"

/* A proactive item held while muted: a message, or a survey by id. */
typedef struct held {
    int is_survey;
    char sid[PL_MAX_ID + 1];
    pl_item msg;
} held;

/* Proactive ids handed to the host lately: a resend (the ack was lost with
 * its connection) is acknowledged again, not reported twice. */
#define RING 32
typedef struct delivered {
    char id[PL_MAX_ID + 1];
    int acked;
} delivered;

struct pl_proactive {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *j;
    const pl_log *log;
    int muted;
    int64_t muted_until;
    held held[PL_PROACTIVE_MAX_HELD];
    size_t n_held;
    delivered ring[RING];
    size_t ring_head, ring_count;
    pl_proactive_release_fn release_survey;
    void *release_user;
};

/* ---- delivery ----------------------------------------------------------------- */

static int send_ack(pl_proactive *p, const char *id)
{
    char *frame = NULL;
    size_t len = 0;
    int rc = pl_proto_encode_proactive_ack(&p->alloc, id, &frame, &len);
    return rc == PARLEY_OK ? pl_sess_send_control(p->sess, "proactive.ack", frame, len) : rc;
}

static delivered *ring_find(pl_proactive *p, const char *id)
{
    for (size_t k = 0; k < p->ring_count; k++) {
        delivered *d = &p->ring[(p->ring_head + RING - 1 - k) % RING];
        if (strcmp(d->id, id) == 0)
            return d;
    }
    return NULL;
}

static void ring_add(pl_proactive *p, const char *id, int acked)
{
    delivered *d = &p->ring[p->ring_head];
    snprintf(d->id, sizeof d->id, "%s", id);
    d->acked = acked;
    p->ring_head = (p->ring_head + 1) % RING;
    if (p->ring_count < RING)
        p->ring_count++;
}

/* Hands a proactive message to the host (the event takes the item over)
 * and acknowledges it (after the next welcome when offline). */
static int deliver(pl_proactive *p, pl_item *msg)
{
    parley_event *ev = pl_event_from_item(&p->alloc, PARLEY_EV_PROACTIVE, msg);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    int rc = send_ack(p, ev->id);
    if (rc == PARLEY_ERR_NOMEM) {
        parley_event_free(ev);
        return rc;
    }
    ring_add(p, ev->id, rc == PARLEY_OK);
    pl_sess_emit(p->sess, ev);
    return PARLEY_OK;
}

static int held_has(const pl_proactive *p, const char *id)
{
    for (size_t k = 0; k < p->n_held; k++)
        if (!p->held[k].is_survey && strcmp(p->held[k].msg.id, id) == 0)
            return 1;
    return 0;
}

/* A message, once: delivered now, held while muted, or acknowledged again
 * when it was delivered already. */
static int on_message(pl_proactive *p, pl_item *msg)
{
    int rc = PARLEY_OK;
    delivered *d = ring_find(p, msg->id);
    if (d) {
        rc = send_ack(p, msg->id);
        d->acked = rc == PARLEY_OK;
    } else if (held_has(p, msg->id)) {
        rc = PARLEY_OK;
    } else if (p->muted) {
        if (p->n_held < PL_PROACTIVE_MAX_HELD) {
            p->held[p->n_held++] = (held){.msg = *msg};
            memset(msg, 0, sizeof *msg);
            return PARLEY_OK;
        }
        PL_LOG_I(p->log, "proactive %s dropped: %d items held already", msg->id,
                 PL_PROACTIVE_MAX_HELD);
    } else {
        rc = deliver(p, msg);
    }
    pl_item_clear(&p->alloc, msg);
    return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_OK;
}

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    pl_proactive *p = user;
    (void)now;
    if (f->type != PL_FRAME_UNKNOWN || strcmp(f->type_name, "proactive") != 0)
        return 0;
    char err[160] = "", skipped[160] = "", text[200];
    pl_item msg;
    int rc =
        pl_proto_decode_proactive(&p->alloc, f, &msg, err, sizeof err, skipped, sizeof skipped);
    if (rc == PARLEY_ERR_PROTOCOL) {
        snprintf(text, sizeof text, "proactive item rejected: %s", err);
        return pl_sess_emit_error(p->sess, PARLEY_ERR_PROTOCOL, text) == PARLEY_OK
                   ? 1
                   : PARLEY_ERR_NOMEM;
    }
    if (rc != PARLEY_OK)
        return rc;
    if (skipped[0]) {
        snprintf(text, sizeof text, "proactive %s: %s", msg.id, skipped);
        if (pl_sess_emit_error(p->sess, PARLEY_ERR_PROTOCOL, text) != PARLEY_OK) {
            pl_item_clear(&p->alloc, &msg);
            return PARLEY_ERR_NOMEM;
        }
    }
    return on_message(p, &msg) == PARLEY_ERR_NOMEM ? PARLEY_ERR_NOMEM : 1;
}

/* ---- mute ---------------------------------------------------------------------- */

/* Everything held goes to the host in the order it arrived. */
static void release(pl_proactive *p)
{
    for (size_t k = 0; k < p->n_held; k++) {
        held *h = &p->held[k];
        if (h->is_survey) {
            if (p->release_survey)
                p->release_survey(p->release_user, h->sid);
        } else if (deliver(p, &h->msg) != PARLEY_OK) {
            PL_LOG_W(p->log, "proactive %s dropped: out of memory (the server resends it)",
                     h->msg.id);
        }
        pl_item_clear(&p->alloc, &h->msg);
    }
    p->n_held = 0;
}

void pl_proactive_mute(pl_proactive *p, int64_t now, uint32_t duration_ms)
{
    p->muted = duration_ms != 0;
    p->muted_until = now + duration_ms;
    if (!p->muted)
        release(p);
}

int pl_proactive_muted(const pl_proactive *p)
{
    return p->muted;
}

int pl_proactive_room(const pl_proactive *p)
{
    return p->n_held < PL_PROACTIVE_MAX_HELD;
}

int pl_proactive_hold_survey(pl_proactive *p, const char *survey_id)
{
    if (!pl_proactive_room(p))
        return PARLEY_ERR_FULL;
    held *h = &p->held[p->n_held++];
    *h = (held){.is_survey = 1};
    snprintf(h->sid, sizeof h->sid, "%s", survey_id);
    return PARLEY_OK;
}

void pl_proactive_on_release(pl_proactive *p, pl_proactive_release_fn fn, void *user)
{
    p->release_survey = fn;
    p->release_user = user;
}

/* ---- session hooks ---------------------------------------------------------------- */

/* Acks that could not go out (offline at release) go after the welcome. */
static int on_welcome(void *user, int64_t now)
{
    pl_proactive *p = user;
    (void)now;
    for (size_t k = 0; k < p->ring_count; k++) {
        delivered *d = &p->ring[k];
        if (!d->acked) {
            int rc = send_ack(p, d->id);
            if (rc != PARLEY_OK)
                return rc;
            d->acked = 1;
        }
    }
    return PARLEY_OK;
}

static int64_t deadline(void *user)
{
    pl_proactive *p = user;
    return p->muted ? p->muted_until : -1;
}

static void on_tick(void *user, int64_t now)
{
    pl_proactive *p = user;
    if (p->muted && now >= p->muted_until) {
        p->muted = 0;
        release(p);
    }
}

static void forget_all(pl_proactive *p)
{
    for (size_t k = 0; k < p->n_held; k++)
        pl_item_clear(&p->alloc, &p->held[k].msg);
    p->n_held = 0;
    p->ring_count = p->ring_head = 0;
}

static void on_logout(void *user)
{
    pl_proactive *p = user;
    forget_all(p);
    if (p->j && pl_journal_clear_ns(p->j, PL_PROACTIVE_NS) != PARLEY_OK)
        PL_LOG_W(p->log, "proactive: journal not cleared at logout");
}

/* ---- lifecycle ---------------------------------------------------------------------- */

pl_proactive *pl_proactive_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal,
                               const pl_log *log)
{
    pl_proactive *p = pl_calloc(a, 1, sizeof *p);
    if (!p)
        return NULL;
    p->alloc = *a;
    p->sess = sess;
    p->j = journal;
    p->log = log;
    pl_sess_ext ext = {.user = p,
                       .on_welcome = on_welcome,
                       .on_frame = on_frame,
                       .deadline = deadline,
                       .on_tick = on_tick,
                       .on_logout = on_logout};
    if (pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_proactive_free(p);
        return NULL;
    }
    return p;
}

void pl_proactive_free(pl_proactive *p)
{
    if (!p)
        return;
    forget_all(p);
    pl_alloc a = p->alloc;
    pl_free(&a, p);
}
