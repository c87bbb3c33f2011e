/* What the session engine hands out: the frames for the current
 * connection (control frames in the write queue first, then the outbox's
 * items from obx_next on) and the events for the host. */
#include "session/session_internal.h"

#include <stdio.h>
#include <string.h>

/* ---- frames -------------------------------------------------------------------- */

int pl_wq_push(pl_sess *s, const char *type, char *frame, size_t len)
{
    pl_wq_entry *e = pl_calloc(&s->alloc, 1, sizeof *e);
    if (!e) {
        pl_free(&s->alloc, frame);
        return PARLEY_ERR_NOMEM;
    }
    e->type = type;
    e->frame = frame;
    e->len = len;
    if (s->wq_tail)
        s->wq_tail->next = e;
    else
        s->wq_head = e;
    s->wq_tail = e;
    s->wq_bytes += sizeof *e + len;
    return PARLEY_OK;
}

/* Unlinks `e`, which follows `prev` (NULL: `e` is the head), and frees it. */
static void wq_remove(pl_sess *s, pl_wq_entry *prev, pl_wq_entry *e)
{
    if (prev)
        prev->next = e->next;
    else
        s->wq_head = e->next;
    if (s->wq_tail == e)
        s->wq_tail = prev;
    if (s->peeked == e)
        s->peeked = NULL;
    s->wq_bytes -= sizeof *e + e->len;
    if (e->tag)
        s->wq_tagged -= sizeof *e + e->len;
    pl_free(&s->alloc, e->frame);
    pl_free(&s->alloc, e);
}

void pl_wq_pop(pl_sess *s)
{
    wq_remove(s, NULL, s->wq_head);
}

size_t pl_sess_wq_bytes(const pl_sess *s)
{
    return s->wq_bytes - s->wq_tagged;
}

void pl_wq_drop(pl_sess *s)
{
    while (s->wq_head)
        pl_wq_pop(s);
    s->obx_next = NULL;
    s->peeked = NULL;
}

/* Held items are passed over, and remembered as such: released later on
 * this connection they go out through the write queue (outbox.c). */
pl_outbox_item *pl_outbox_next(pl_sess *s)
{
    while (s->obx_next && s->obx_next->held) {
        s->obx_next->skipped = 1;
        s->obx_next = s->obx_next->next;
    }
    return s->obx_next;
}

static int can_send(const pl_sess *s)
{
    return (s->state == PL_ST_HANDSHAKING || s->state == PL_ST_ONLINE) && s->close == PL_CL_NONE;
}

int pl_sess_peek_frame(pl_sess *s, const char **data, size_t *len)
{
    if (!can_send(s))
        return 0;
    if (s->wq_head) {
        *data = s->wq_head->frame;
        *len = s->wq_head->len;
        s->peeked = s->wq_head;
        return 1;
    }
    if (pl_outbox_next(s)) {
        *data = s->obx_next->frame;
        *len = s->obx_next->len;
        s->peeked = s->obx_next;
        return 1;
    }
    return 0;
}

int pl_sess_has_frame(pl_sess *s)
{
    return can_send(s) && (s->wq_head || pl_outbox_next(s));
}

void pl_sess_frame_written(pl_sess *s)
{
    if (s->peeked && s->peeked == s->wq_head) {
        PL_LOG_D(s->log, "-> %s", s->wq_head->type);
        pl_wq_pop(s);
    } else if (s->peeked && s->peeked == s->obx_next) {
        PL_LOG_D(s->log, "-> outbox item cid=%s", s->obx_next->cid);
        s->obx_next = s->obx_next->next;
    }
    s->peeked = NULL;
}

int pl_sess_online(const pl_sess *s)
{
    return s->state == PL_ST_ONLINE && s->close == PL_CL_NONE;
}

int pl_sess_send_control(pl_sess *s, const char *type, char *frame, size_t len)
{
    if (!pl_sess_online(s) || len > s->max_frame) {
        pl_free(&s->alloc, frame);
        if (len > s->max_frame)
            PL_LOG_W(s->log, "%s frame of %zu bytes not sent: over the frame limit", type, len);
        return len > s->max_frame ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_OFFLINE;
    }
    return pl_wq_push(s, type, frame, len);
}

int pl_sess_send_tagged(pl_sess *s, const void *tag, const char *type, char *frame, size_t len)
{
    int rc = pl_sess_send_control(s, type, frame, len);
    if (rc == PARLEY_OK) {
        s->wq_tail->tag = tag;
        s->wq_tagged += sizeof *s->wq_tail + len;
    }
    return rc;
}

void pl_sess_unsend(pl_sess *s, const void *tag)
{
    pl_wq_entry *prev = NULL, *next;
    for (pl_wq_entry *e = s->wq_head; tag && e; e = next) {
        next = e->next;
        if (e->tag == tag)
            wq_remove(s, prev, e);
        else
            prev = e;
    }
}

/* ---- events --------------------------------------------------------------------- */

void pl_sess_take_events(pl_sess *s, pl_event_queue *q)
{
    pl_event_queue_splice(q, &s->events);
}

void pl_sess_emit(pl_sess *s, parley_event *ev)
{
    if (ev)
        pl_event_queue_push(&s->events, ev);
}

int pl_sess_emit_error(pl_sess *s, int code, const char *text)
{
    parley_event *ev = pl_event_error(&s->alloc, code, NULL, text);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
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

int pl_sess_decorate(pl_sess *s, const pl_frame *f, parley_event *ev)
{
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].on_message &&
            s->exts[i].on_message(s->exts[i].user, f, ev) == PARLEY_ERR_NOMEM)
            return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}
