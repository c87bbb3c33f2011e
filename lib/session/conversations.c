/* The conversations the client tracks and the delivery of their messages
 * in order: a cursor per conversation (journaled, sent in every hello),
 * gaps filled by asking for history, duplicates dropped, and own messages
 * whose ack ran ahead of the cursor not delivered twice. */
#include "session/session_internal.h"

#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "codec/proto_attach.h"
#include "codec/proto_blocks.h"
#include "util/utf8.h"

/* Own messages acked ahead of the cursor, remembered until replay brings
 * them; beyond this many the oldest is forgotten (at worst the host then
 * sees its own message once more, as a MESSAGE by the user). */
#define MAX_ACKED_AHEAD 256

/* ---- cursors --------------------------------------------------------------------- */

void pl_convs_flush(pl_sess *s)
{
    if (s->cursors_due < 0)
        return;
    s->cursors_due = -1;
    for (size_t i = 0; i < s->n_convs; i++) {
        pl_sess_conv *c = &s->convs[i];
        int rc = c->dirty ? pl_conv_persist(s, c, 0) : PARLEY_OK;
        if (rc != PARLEY_OK)
            PL_LOG_W(s->log, "cursor of %s not journaled: %s", c->id, parley_strerror(rc));
    }
}

/* ---- own messages acked ahead of the cursor --------------------------------- */

static void remember_acked(pl_sess *s, const char *conv, const char *id, uint64_t seq)
{
    pl_sess_acked *a = pl_calloc(&s->alloc, 1, sizeof *a);
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
    pl_sess_acked **pp = &s->acked;
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
    for (pl_sess_acked **pp = &s->acked; *pp; pp = &(*pp)->next) {
        pl_sess_acked *a = *pp;
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
 * right after it: those the host has (as SENT), so their replay is a dup.
 * Journaled with the next batch (pl_convs_flush): one record per
 * conversation per PL_SESS_CURSOR_FLUSH_MS instead of one per message. */
static void conv_set_cursor(pl_sess *s, pl_sess_conv *c, uint64_t seq)
{
    pl_conv_touch(s, c);
    c->cursor = seq;
    while (acked_take(s, c->id, c->cursor + 1, NULL))
        c->cursor++;
    if (c->seen < c->cursor)
        c->seen = c->cursor;
    if (!s->journal)
        return;
    c->dirty = 1;
    if (s->cursors_due < 0)
        s->cursors_due = s->now + PL_SESS_CURSOR_FLUSH_MS;
}

/* ---- messages in order ---------------------------------------------------------- */

/* Asks for what follows the cursor, once per conversation until the
 * matching history.end: the replay comes in order and fills the gap. */
int pl_conv_request_history(pl_sess *s, pl_sess_conv *c)
{
    if (c->hist)
        return PARLEY_OK;
    char *frame = NULL;
    size_t len = 0;
    if (pl_proto_encode_history_get(&s->alloc, c->id, c->cursor, 0, &frame, &len) != PARLEY_OK ||
        pl_wq_push(s, "history.get", frame, len) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    PL_LOG_D(s->log, "gap in %s after seq %llu: asking for history", c->id,
             (unsigned long long)c->cursor);
    c->hist = 1;
    c->hist_after = c->cursor;
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

/* Blocks that broke the rules: one error per message naming it, however
 * many were left out, ahead of the message. */
static int report_skipped(pl_sess *s, const pl_frame *f, const char *why)
{
    char text[256];
    snprintf(text, sizeof text, "message %s: %s", f->id, why);
    PL_LOG_W(s->log, "%s", text);
    parley_event *ev = pl_event_error(&s->alloc, PARLEY_ERR_PROTOCOL, NULL, text);
    if (!ev || pl_event_set(ev, &ev->conv, f->conv) != PARLEY_OK ||
        pl_event_set(ev, &ev->id, f->id) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

static parley_event *message_event(pl_sess *s, const pl_frame *f)
{
    static const size_t offs[] = {
        offsetof(parley_event, conv),        offsetof(parley_event, id),
        offsetof(parley_event, seq),         offsetof(parley_event, text),
        offsetof(parley_event, author_name),
    };
    char seq[21];
    pl_proto_seq_str(f->seq, seq);
    const char *vals[] = {f->conv, f->id, seq, f->text, f->author_name};
    parley_event *ev = pl_event_new_strings(&s->alloc, PARLEY_EV_MESSAGE, offs, vals, 5);
    if (!ev)
        return NULL;
    ev->author_kind = author_kind(f->author_kind);
    ev->ts = f->ts;
    return ev;
}

/* The message with its structured content; the modules see it before the
 * host does (the postbacks remember what it offers). Out of memory drops
 * the delivery: a replay brings the message again. */
static int deliver_msg(pl_sess *s, pl_sess_conv *c, const pl_frame *f)
{
    char why[200], att_why[200] = "";
    parley_event *ev = message_event(s, f);
    int rc =
        ev ? pl_proto_msg_content(&s->alloc, f, &ev->content, why, sizeof why) : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK)
        rc = pl_proto_msg_attachment(&s->alloc, f, &ev->attachment, att_why, sizeof att_why);
    if (rc == PARLEY_OK)
        rc = pl_sess_decorate(s, f, ev);
    if (rc == PARLEY_OK && why[0])
        rc = report_skipped(s, f, why);
    if (rc == PARLEY_OK && att_why[0])
        rc = report_skipped(s, f, att_why);
    if (rc != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    conv_set_cursor(s, c, f->seq);
    pl_event_queue_push(&s->events, ev);
    return PARLEY_OK;
}

/* Only the message right after the cursor is delivered: older ones are
 * duplicates, later ones wait for the history that fills the gap, so the
 * host gets each message once and in order. A conversation this client
 * never saw (another device or the server started it) becomes a member
 * with its newest messages backfilled (membership.c). */
int pl_conv_on_msg(pl_sess *s, const pl_frame *f)
{
    pl_sess_conv *c = pl_conv_find(s, f->conv);
    if (c && f->seq <= c->cursor) {
        PL_LOG_D(s->log, "duplicate msg seq %llu in %s dropped", (unsigned long long)f->seq,
                 f->conv);
        return PARLEY_OK;
    }
    if (!c) {
        int fresh, rc = pl_conv_admit(s, f->conv, 1, &c, &fresh);
        /* Every conversation in the table waits on something. */
        if (rc == PARLEY_ERR_FULL)
            return pl_sess_emit_error(s, PARLEY_ERR_PROTOCOL,
                                      "message dropped: too many conversations");
        if (rc != PARLEY_OK)
            return rc == PARLEY_ERR_NOMEM ? rc : pl_sess_emit_error(s, rc, "message dropped");
        if (fresh)
            pl_conv_start_at(c, f->seq);
        else if (f->seq <= c->cursor)
            return PARLEY_OK;
    }
    if (f->seq > c->cursor + 1) {
        if (f->seq > c->seen)
            c->seen = f->seq;
        return pl_conv_request_history(s, c);
    }
    /* Our own message, already reported SENT when its ack ran ahead. */
    if (f->author_kind == PL_AUTHOR_USER && acked_take(s, c->id, f->seq, f->id)) {
        conv_set_cursor(s, c, f->seq);
        return PARLEY_OK;
    }
    return deliver_msg(s, c, f);
}

/* Asks again while the answer was cut short or a message seen live is
 * still missing, but only after progress, so a server that cannot fill the
 * gap does not get asked forever. */
int pl_conv_on_history_end(pl_sess *s, const pl_frame *f)
{
    pl_sess_conv *c = pl_conv_find(s, f->conv);
    if (!c || !c->hist) {
        PL_LOG_D(s->log, "history.end without a request ignored");
        return PARLEY_OK;
    }
    c->hist = 0;
    if ((f->more || c->seen > c->cursor) && c->cursor > c->hist_after)
        return pl_conv_request_history(s, c);
    if (c->seen > c->cursor)
        PL_LOG_W(s->log, "history of %s still ends at seq %llu", c->id,
                 (unsigned long long)c->cursor);
    return PARLEY_OK;
}

/* ---- the session's calls ------------------------------------------------------- */

void pl_conv_acked(pl_sess *s, pl_sess_conv *c, const char *id, uint64_t seq)
{
    if (seq == c->cursor + 1)
        conv_set_cursor(s, c, seq);
    else if (seq > c->cursor)
        remember_acked(s, c->id, id, seq);
}

void pl_convs_connection_lost(pl_sess *s)
{
    for (size_t i = 0; i < s->n_convs; i++)
        s->convs[i].hist = 0;
}

void pl_convs_clear(pl_sess *s)
{
    while (s->acked) {
        pl_sess_acked *a = s->acked;
        s->acked = a->next;
        pl_free(&s->alloc, a);
    }
    s->n_acked = 0;
    s->n_convs = 0;
    s->n_parked = 0;
    s->cursors_due = -1;
}
