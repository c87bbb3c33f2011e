/* The session engine's own parts, shared by its files and by nothing
 * else: session.c (lifecycle, the connection's state machine, the frames
 * it answers, the host's calls), output.c (the write queue and the events
 * it hands out), conv_table.c (the bounded table of conversations and the
 * cursors it parked), conversations.c (cursors and in-order delivery),
 * outbox.c (the durable outbox) and membership.c (conversations learned
 * from the server or a push). session.c uses the others; they use output.c
 * and conv_table.c only (membership.c also conversations.c), never
 * session.c. conv_table.c reads the outbox's list, calling nothing of it. */
#ifndef PARLEY_SESSION_INTERNAL_H
#define PARLEY_SESSION_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include "session/session.h"

/* Journal namespaces. Outbox keys are zero-padded order numbers so the
 * journal iterates them in the order the user produced the items. */
enum { PL_NS_OUTBOX = 1, PL_NS_CURSOR = 2, PL_NS_META = 3, PL_NS_PARKED = 4 };
#define PL_ORDER_KEY_SIZE 17
/* The conv field of an item that belongs to no conversation. */
#define PL_NO_CONV "-"
#define PL_SESS_MAX_EXTS 16

typedef enum {
    PL_ST_IDLE,        /* offline: the host has not asked to be online */
    PL_ST_WAITING,     /* between connections, until retry_at */
    PL_ST_CONNECTING,  /* the transport is opening a connection */
    PL_ST_HANDSHAKING, /* hello queued, waiting for welcome */
    PL_ST_ONLINE
} pl_sess_state;

/* Why the session wants the current connection closed; decides the delay. */
typedef enum {
    PL_CL_NONE,
    PL_CL_FAILURE,  /* counts as a failed attempt: backoff */
    PL_CL_GOAWAY,   /* the server's delay plus the backoff */
    PL_CL_RECONNECT /* at once, not a failure (new identity) */
} pl_sess_close;

/* PL_OBX_MSG covers postbacks (a msg.send too); PL_OBX_ITEM and
 * PL_OBX_REPORTED are the feature modules' frames (tracked events, survey
 * answers), acked by `ack`; only PL_OBX_REPORTED tells the host about its
 * ack. PL_OBX_ATTACH is a msg.send carrying a file: a message in every
 * way, but held (not written) until its module releases it. */
typedef enum {
    PL_OBX_CONV_START,
    PL_OBX_MSG,
    PL_OBX_ITEM,
    PL_OBX_REPORTED,
    PL_OBX_ATTACH
} pl_outbox_kind;

/* A msg.send the server answers with msg.ack. */
#define PL_OBX_IS_MSG(k) ((k) == PL_OBX_MSG || (k) == PL_OBX_ATTACH)

typedef struct pl_outbox_item {
    struct pl_outbox_item *next;
    pl_outbox_kind kind;
    uint64_t order; /* journal key */
    char cid[PL_UUID_STR_LEN + 1];
    char conv[PL_MAX_ID + 1];
    char *frame;
    size_t len;
    int held;     /* not written until released (PL_OBX_ATTACH) */
    int skipped;  /* passed over while held on this connection */
    uint64_t lsn; /* the journal record holding it (pl_journal_written) */
    int stored;   /* known to be on stable storage (reported STORED) */
} pl_outbox_item;

typedef struct pl_wq_entry {
    struct pl_wq_entry *next;
    const char *type; /* for logs */
    const void *tag;  /* pl_sess_send_tagged's, or NULL */
    char *frame;
    size_t len;
} pl_wq_entry;

typedef struct pl_sess_conv {
    char id[PL_MAX_ID + 1];
    uint64_t cursor;     /* highest seq delivered (or acked) in order; 0 = none */
    uint64_t seen;       /* highest seq seen at all: above cursor means a gap */
    uint64_t hist_after; /* the `after` of the outstanding history.get */
    int hist;            /* a history.get is outstanding on this connection */
    int dirty;           /* the cursor moved since it was journaled */
    uint64_t used;       /* when it was last used, by pl_sess's conv_clock */
} pl_sess_conv;

/* An own message acked ahead of its conversation's cursor. */
typedef struct pl_sess_acked {
    struct pl_sess_acked *next;
    char conv[PL_MAX_ID + 1];
    char id[PL_MAX_ID + 1];
    uint64_t seq;
} pl_sess_acked;

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
    pl_journal *journal;   /* borrowed; NULL: everything in memory */
    int sync_items;        /* outbox items synced before the call returns */
    uint64_t stored_upto;  /* journal records reported to the outbox as synced */
    uint64_t next_order;
    pl_sess_acked *acked;
    size_t n_acked;

    pl_sess_ext exts[PL_SESS_MAX_EXTS];
    size_t n_exts;

    pl_sess_conv *convs;
    size_t n_convs, cap_convs;
    uint64_t conv_clock; /* counts the uses of conversations */
    uint64_t park_clock; /* counts the cursors parked */
    size_t n_parked;     /* cursors parked in the journal */
    int64_t now;         /* the time of the latest input */
    int64_t cursors_due; /* when dirty cursors are journaled; -1: none dirty */

    pl_outbox_item *obx_head, *obx_tail;
    uint32_t obx_count;
    pl_outbox_item *obx_next; /* next item to write on this connection; NULL: none */

    pl_wq_entry *wq_head, *wq_tail;
    size_t wq_bytes;    /* what the write queue holds, entries included */
    size_t wq_tagged;   /* of which tagged frames, bounded by their module */
    const void *peeked; /* the wq entry or outbox item last returned by peek */

    pl_sess_state state;
    int64_t retry_at, hs_deadline;
    int64_t online_at; /* the current connection's welcome */
    /* Consecutive short-lived connections: failures, goaways and
     * connections closed within PL_SESS_HEALTHY_MS of their welcome. */
    uint32_t attempt;
    pl_sess_close close;
    int close_err;
    const char *close_why; /* static */
    uint32_t goaway_ms;
    uint32_t max_text, max_frame;
    uint64_t max_attachment; /* the last welcome's; 0: not announced */

    pl_event_queue events;
};

/* ---- small helpers ------------------------------------------------------- */

/* A new event of `type` and `state`; NULL when out of memory. */
static inline parley_event *pl_sess_event(pl_sess *s, int type, int state)
{
    parley_event *ev = pl_event_new(&s->alloc, type);
    if (ev)
        ev->state = state;
    return ev;
}

/* Journal errors as the host sees them: a disk problem is IO whatever the
 * details, running out of memory stays NOMEM. */
static inline int pl_journal_rc(int rc)
{
    return rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
}

/* A decimal number as the journal stores it ("0" allowed, no leading
 * zero), at most `max`; 0 when invalid. */
static inline int pl_parse_dec(const char *p, size_t n, uint64_t max, uint64_t *out)
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

/* ---- output.c: frames for the connection, events for the host ------------ */

/* Queues a control frame (owned from here on, freed on failure) behind
 * the others of this connection. PARLEY_OK or NOMEM. */
int pl_wq_push(pl_sess *s, const char *type, char *frame, size_t len);
void pl_wq_pop(pl_sess *s);
/* The connection is gone: its frames go, the outbox stays. */
void pl_wq_drop(pl_sess *s);
/* The next outbox item to write on this connection, passing over held
 * ones; NULL when there is none. */
pl_outbox_item *pl_outbox_next(pl_sess *s);
/* The modules add what they know to a MESSAGE or CONVERSATION event. */
int pl_sess_decorate(pl_sess *s, const pl_frame *f, parley_event *ev);

/* ---- conv_table.c: the table of conversations, and those it parked ------- */

/* Conversations whose cursors wait in the journal, out of the table. */
#define PL_MAX_PARKED 1024

pl_sess_conv *pl_conv_find(pl_sess *s, const char *id);
/* A new entry with cursor 0, whatever the table holds (loading); NULL when
 * out of memory. Invalidates earlier pl_sess_conv pointers. */
pl_sess_conv *pl_conv_add(pl_sess *s, const char *id);
int pl_conv_persist(pl_sess *s, pl_sess_conv *c, int sync);
static inline void pl_conv_touch(pl_sess *s, pl_sess_conv *c)
{
    c->used = ++s->conv_clock;
}
/* A place in the table for one more conversation: PARLEY_OK when there is
 * one, or when the least recently used conversation nothing waits on was
 * parked; FULL when every one waits on something; IO. Invalidates earlier
 * pl_sess_conv pointers. */
int pl_conv_make_room(pl_sess *s);
/* 1 when `id` is parked, its cursor in *cursor. */
int pl_conv_parked(const pl_sess *s, const char *id, uint64_t *cursor);
/* 1 when a conversation can leave the table without a parked cursor, or
 * the conversation itself, being forgotten. */
int pl_conv_can_park(const pl_sess *s);
/* `id` in the table, used now: found, brought back with its parked cursor,
 * or, when `create`, added with cursor 0 (*fresh set: the caller places
 * the cursor). NOT_FOUND (neither, and not `create`), FULL, IO, NOMEM.
 * Invalidates earlier pl_sess_conv pointers. */
int pl_conv_admit(pl_sess *s, const char *id, int create, pl_sess_conv **out, int *fresh);
/* Loads the cursors (at most PL_MAX_CONVERSATIONS) and counts the parked. */
int pl_convs_load(pl_sess *s);
/* For loading many lookups at once: how many conversations from the
 * first are in id order (as pl_convs_load leaves them), and pl_conv_find
 * that bisects those and scans the rest. */
size_t pl_convs_sorted(const pl_sess *s);
pl_sess_conv *pl_conv_find_sorted(pl_sess *s, const char *id, size_t sorted);

/* ---- conversations.c: cursors and in-order delivery ------------------------ */

/* Journals every cursor that moved since it was last journaled. */
void pl_convs_flush(pl_sess *s);
/* An own message of `c` acked at `seq` (msg.ack): the cursor moves over
 * it when it is next, else it is remembered until its replay. */
void pl_conv_acked(pl_sess *s, pl_sess_conv *c, const char *id, uint64_t seq);
/* A new connection resumes from the cursors: no history answer is coming. */
void pl_convs_connection_lost(pl_sess *s);
/* Forgets every conversation (and own message acked ahead); the parked
 * cursors are the journal's, cleared by the caller. */
void pl_convs_clear(pl_sess *s);
int pl_conv_on_msg(pl_sess *s, const pl_frame *f);
/* Asks for what follows the cursor (history.get), once until its
 * history.end. PARLEY_OK or NOMEM. */
int pl_conv_request_history(pl_sess *s, pl_sess_conv *c);

/* ---- membership.c: conversations learned from the server or a push ------ */

/* The messages backfilled into a conversation the client had no state
 * for: the newest this many. */
#define PL_BACKFILL 50
/* Places a new conversation's cursor so that its newest PL_BACKFILL
 * messages up to `newest` come in order (conversations.c and membership.c
 * both start conversations; inline, so neither calls the other). */
static inline void pl_conv_start_at(pl_sess_conv *c, uint64_t newest)
{
    c->cursor = newest > PL_BACKFILL ? newest - PL_BACKFILL : 0;
    c->seen = c->cursor;
}
int pl_conv_on_history_end(pl_sess *s, const pl_frame *f);

/* ---- outbox.c: the durable outbox ---------------------------------------------- */

pl_outbox_item *pl_outbox_find(const pl_sess *s, const char *cid);
/* 1 while the conv.start of `conv` is still in the outbox. */
int pl_outbox_starts(const pl_sess *s, const char *conv);
/* Acked or refused: out of the outbox and the journal. */
void pl_outbox_remove(pl_sess *s, pl_outbox_item *it);
/* The same, after telling the modules (on_item_done): `acked` with the
 * server's message id and seq when a msg.ack gave them (NULL, 0 else). */
void pl_outbox_done(pl_sess *s, pl_outbox_item *it, int acked, const char *id, uint64_t seq);

/* An item that can never be delivered leaves the outbox with an ERROR
 * event (`code`, `text`) naming its client id; a message or reported item
 * also gets its FAILED status, with `reason`. */
int pl_outbox_fail(pl_sess *s, pl_outbox_item *it, int code, const char *text, const char *reason);
/* After a welcome lowering the frame limit: items over it lose their
 * context snapshot, or fail. */
int pl_outbox_fit(pl_sess *s);
/* A zeroed item with client id `cid`, or a fresh one when NULL; NULL on
 * failure. */
pl_outbox_item *pl_outbox_new(pl_sess *s, pl_outbox_kind kind, const char *conv, const char *cid);
/* Journals a new item (synced: the promise holds once this returns OK) and
 * queues it. On failure the item is freed and nothing changed. */
int pl_outbox_commit(pl_sess *s, pl_outbox_item *it);
void pl_outbox_free_item(pl_sess *s, pl_outbox_item *it);
void pl_outbox_clear(pl_sess *s);
int pl_outbox_load(pl_sess *s);

#endif
