/* Session engine (sans-IO): the parley.v1 state machine and the delivery
 * promise. No sockets, no clock, no threads, no locks: the caller passes the
 * time in (monotonic ms), feeds it transport happenings and received frames,
 * and takes out frames to write, events for the host and what to do next.
 * Not thread-safe: the facade serialises calls. Journal namespaces: the
 * session owns 1-3, the modules 4-15, the facade 16. */
#ifndef PARLEY_SESSION_H
#define PARLEY_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "codec/proto_frames.h"
#include "session/event.h"
#include "store/journal.h"
#include "util/alloc.h"
#include "util/log.h"
#include "util/rand.h"

typedef struct pl_sess pl_sess;

/* Conversations tracked per client; bounds hello's cursors. */
#define PL_MAX_CONVERSATIONS 256

typedef struct pl_sess_config {
    const char *app_id;   /* copied */
    const char *anon_id;  /* copied; "a-<uuid>" */
    const char *platform; /* copied; e.g. "linux-x86_64" */
    uint32_t backoff_initial_ms;
    uint32_t backoff_max_ms;
    uint32_t handshake_timeout_ms; /* from transport open to welcome; 0 = 10000 */
    uint32_t outbox_cap;           /* items; 0 = 1000 */
    /* Borrowed, must outlive the session; NULL keeps everything in memory.
     * The session owns namespaces 1-3 (outbox, cursors, meta). */
    pl_journal *journal;
    /* Outbox items are synced before the call that queues them returns
     * (PARLEY_DURABILITY_SYNC); else they are appended and a group commit
     * syncs them later (pl_sess_on_synced reports it). */
    int sync_items;
} pl_sess_config;

/* `rand` and `log` are borrowed and must outlive the session; `log` may be
 * NULL. Zero backoff, timeout and cap fields take their defaults (500, 30000,
 * 10000, 1000); platform may be NULL. NULL when out of memory or when app_id
 * or anon_id is NULL. With a journal the outbox (resent after the next
 * welcome, in order), the conversation cursors (sent in hello), the
 * session token and the merge secret the server issued to anon_id (sent as
 * user.proof in an identified hello; one journaled for another anonymous
 * id is ignored) are loaded from it; malformed entries are skipped. */
pl_sess *pl_sess_new(const pl_alloc *a, const pl_sess_config *cfg, pl_rand *rand,
                     const pl_log *log);
/* Journals the cursors that moved (pl_sess_flush) and frees. */
void pl_sess_free(pl_sess *s);

/* ---- what the session wants the transport to do ------------------------- */

/* WANT_CLOSE: the session is done with the current connection (handshake
 * timeout, goaway, auth_failed, new identity). The caller closes the
 * transport and then calls pl_sess_on_closed() as for any close; the session
 * reports its own reason and retry delay instead of the `err`/`why` given.
 * While a close is wanted nothing more is written. */
enum {
    PL_SESS_WANT_CONNECT = 1 << 0, /* open a connection now */
    PL_SESS_WANT_WRITE = 1 << 1,   /* frames are waiting: request a writeable callback */
    PL_SESS_WANT_CLOSE = 1 << 2    /* close the current connection now */
};

/* Bitmask of PL_SESS_WANT_* at time `now`. *deadline_ms (may be NULL) is set to
 * the next time pl_sess_tick() must be called, or -1 for none. Idempotent. */
int pl_sess_want(pl_sess *s, int64_t now, int64_t *deadline_ms);

/* ---- inputs ------------------------------------------------------------- */

/* The host asked to go online (parley_start / first parley_service): the
 * session starts wanting to connect. */
void pl_sess_go_online(pl_sess *s, int64_t now);
/* The host asked to go offline: closes and stops reconnecting. Emits
 * CONNECTION OFFLINE. */
void pl_sess_go_offline(pl_sess *s, int64_t now);

/* The transport started connecting (after WANT_CONNECT). Emits CONNECTION
 * CONNECTING. */
void pl_sess_on_connecting(pl_sess *s, int64_t now);
/* The WebSocket is open: queues hello. */
void pl_sess_on_open(pl_sess *s, int64_t now);
/* A connection online this long has earned a fresh backoff: a server that
 * welcomes and then drops (or sends goaway) sooner gets a growing delay,
 * never a reconnect loop. As long as the default backoff maximum, so such a
 * server cannot make a client reconnect more often than failing would. */
#define PL_SESS_HEALTHY_MS 30000

/* The connection failed or closed. `err` is a PARLEY_ERR_* (CONNECT, TLS,
 * CLOSED, PROTOCOL...), `why` a reason for the host (may be NULL). Schedules a
 * reconnect with backoff and full jitter (or the goaway delay plus the
 * backoff, or at once after a new identity); the backoff starts over only
 * after PL_SESS_HEALTHY_MS online. Emits CONNECTION RECONNECTING with retry_ms, and an
 * ERROR event for TLS (an auth_failed error frame is reported when it
 * arrives). Ignored when there is no connection (offline, or waiting). */
void pl_sess_on_closed(pl_sess *s, int64_t now, int err, const char *why);
/* The attempt failed because the server's certificate was refused
 * (`failures`: PARLEY_TLS_* bits, not 0). Not retried on the backoff: the
 * next attempt waits PARLEY_CERT_RETRY_MS (or the backoff maximum when
 * longer) plus up to as much again. Emits CONNECTION RECONNECTING and
 * ERROR, both PARLEY_ERR_TLS with `why` and the bits. Ignored when there is
 * no connection. */
void pl_sess_on_cert_failure(pl_sess *s, int64_t now, uint32_t failures, const char *why);
/* While waiting to reconnect: the next attempt is due now. Else nothing. */
void pl_sess_reconnect_now(pl_sess *s, int64_t now);
/* One complete received text frame. Malformed frames produce an ERROR event
 * (PARLEY_ERR_PROTOCOL) and are dropped; returns PARLEY_OK in that case too.
 * Returns PARLEY_ERR_NOMEM only on allocation failure. */
int pl_sess_on_frame(pl_sess *s, int64_t now, const char *data, size_t len);
/* Timers (handshake timeout, reconnect, journaling the cursors). */
void pl_sess_tick(pl_sess *s, int64_t now);

/* Conversation cursors are journaled in batches, at most
 * PL_SESS_CURSOR_FLUSH_MS after they move (a deadline of pl_sess_want),
 * not once per message: a crash may deliver the last messages again,
 * never lose one. This journals them now (before a clean shutdown). */
#define PL_SESS_CURSOR_FLUSH_MS 500
void pl_sess_flush(pl_sess *s);

/* The journal's records up to `synced` (pl_journal_synced) are on stable
 * storage: items of the outbox they hold are reported with
 * PARLEY_MSG_STORED (messages and reported items; those already SENT have
 * left the outbox and are not). */
void pl_sess_on_synced(pl_sess *s, uint64_t synced);

/* The largest frame the server accepts and sends: 65536, or the lower
 * limits.max_frame of the last welcome. Every frame queued (outbox items
 * and control frames) is checked against it; after a welcome lowering it,
 * outbox items over it lose their context snapshot, or fail (FAILED status
 * and an ERROR event with PARLEY_ERR_TOO_LONG) and leave the outbox. */
uint32_t pl_sess_max_frame(const pl_sess *s);
/* The largest attachment the last welcome announced (limits.max_attachment),
 * 0 when none did on this run. */
uint64_t pl_sess_max_attachment(const pl_sess *s);

/* ---- frames out --------------------------------------------------------- */

/* The next frame to write on the current connection, without removing it;
 * 0 when there is none. The pointer stays valid until pl_sess_frame_written or
 * any other call that changes the session. */
int pl_sess_peek_frame(pl_sess *s, const char **data, size_t *len);
/* The peeked frame has been handed to the transport: drop it from the write
 * queue (an outbox item stays in the outbox until the server acks it). */
void pl_sess_frame_written(pl_sess *s);
/* 1 when pl_sess_peek_frame would return a frame now. */
int pl_sess_has_frame(pl_sess *s);
/* The bytes of the control frames not yet written on this connection
 * (the outbox, bounded by its cap, and tagged frames, which their module
 * bounds and takes back, are not counted): what a server can grow by
 * sending frames that each make the client answer. The facade stops
 * reading above a limit, as for the event queue. Upload chunks are left
 * out so that many uploads on a slow uplink do not stop reading (and with
 * it the pongs) until the connection is dropped. */
size_t pl_sess_wq_bytes(const pl_sess *s);

/* ---- host API (validated here; see parley.h for the rules) -------------- */

int pl_sess_identify(pl_sess *s, const char *user_id, const char *token);
/* Conversation starts and messages carry the context snapshot of the
 * module with a snapshot hook, given the room the rest of the frame leaves
 * under pl_sess_max_frame(). TOO_LONG when the frame does not fit even
 * without a snapshot. */
int pl_sess_conv_start(pl_sess *s, const char *subject, char conv_out[PARLEY_ID_SIZE]);
/* The same with what the host said about the request (may be NULL;
 * validated by the caller). */
int pl_sess_conv_start_about(pl_sess *s, const char *subject, const pl_conv_about *about,
                             char conv_out[PARLEY_ID_SIZE]);
/* What pl_sess_send_text would refuse (INVALID_ARG, NOT_FOUND, TOO_LONG,
 * FULL, and pl_sess_conv_use's IO, NOMEM), without sending anything: a
 * parked conversation comes back into the table. */
int pl_sess_check_text(pl_sess *s, const char *conv, const char *text);
/* `pb` (may be NULL) names the option a postback answers. */
int pl_sess_send_text(pl_sess *s, const char *conv, const char *text, const pl_postback *pb,
                      char cid_out[PARLEY_ID_SIZE]);
uint32_t pl_sess_outbox_count(const pl_sess *s);

/* Forgets the user: identity, session token, the anonymous id's merge
 * secret, conversations, cursors and the outbox (in memory and in the
 * journal, whose namespaces 1-3 are cleared),
 * then every module's on_logout. The session continues as the anonymous
 * user `new_anon_id`, reconnecting at once when it was connected. Errors:
 * NOMEM (nothing changed), IO (memory forgotten, the journal not fully). */
int pl_sess_logout(pl_sess *s, const char *new_anon_id);

/* ---- feature modules -----------------------------------------------------
 * The user's context, postbacks, typing, receipts, requests, surveys and
 * proactive content live in their own files (lib/feature/) and plug
 * in here. Every hook may be NULL and runs under the facade's lock. */
/* An outbox item that left the outbox (pl_sess_ext.on_item_done). */
typedef struct pl_sess_done {
    const char *cid, *conv; /* conv "-" for an item of no conversation */
    int acked;              /* acknowledged; 0: failed for good */
    const char *id;         /* msg.ack: the server's message id; else NULL */
    uint64_t seq;           /* msg.ack: its seq; else 0 */
    const char *frame;      /* the item as it was sent */
    size_t len;
    int error;        /* failed: the PARLEY_ERR_* it failed with; else 0 */
    const char *text; /* failed: why, for the host; else NULL */
} pl_sess_done;

typedef struct pl_sess_ext {
    void *user;
    /* A connection was welcomed: queue what it needs with
     * pl_sess_send_control (full context, read marks, pending requests). */
    int (*on_welcome)(void *user, int64_t now);
    /* A frame the session does not handle (an unknown type, or an `error`
     * carrying `req`): return 1 when it was this module's, 0 when not, or a
     * negative PARLEY_ERR_* (only NOMEM is expected). */
    int (*on_frame)(void *user, int64_t now, const pl_frame *f);
    /* A `msg` or `conv.update` is about to reach the host as `ev` (check
     * f->type): add structured content or queue details. PARLEY_ERR_NOMEM
     * drops the delivery (a replay brings a message again). */
    int (*on_message)(void *user, const pl_frame *f, parley_event *ev);
    /* The next time on_tick is due (monotonic ms), or -1. */
    int64_t (*deadline)(void *user);
    void (*on_tick)(void *user, int64_t now);
    /* pl_sess_logout: forget everything of the user, memory and journal. */
    void (*on_logout)(void *user);
    /* The context snapshot for a conversation start or message: a JSON
     * object text of at most `max` bytes in *out (pl_free), or NULL for none.
     * The first module with this hook provides it. */
    int (*snapshot)(void *user, size_t max, char **out);
    /* An item left the outbox, acknowledged or failed for good (not at
     * logout: on_logout says that). */
    void (*on_item_done)(void *user, const pl_sess_done *d);
} pl_sess_ext;

/* Up to 8 modules; `ext` is copied. INVALID_ARG when full. */
int pl_sess_add_ext(pl_sess *s, const pl_sess_ext *ext);
/* Welcomed and not closing: a control frame would go out now. */
int pl_sess_online(const pl_sess *s);
/* Whether `conv` is in the conversation table now (a module's own
 * bookkeeping). */
int pl_sess_conv_known(const pl_sess *s, const char *conv);
/* For the host's calls on a conversation: PARLEY_OK when it is in the
 * table, or was parked and is back (it may park another); NOT_FOUND,
 * FULL (every conversation in the table waits on something), IO, NOMEM. */
int pl_sess_conv_use(pl_sess *s, const char *conv);
/* Queues a control frame (owned by the session from here on, freed on
 * every path) ahead of the outbox on the current connection. OFFLINE when
 * there is none; control frames die with their connection. TOO_LONG when
 * it exceeds pl_sess_max_frame(). */
int pl_sess_send_control(pl_sess *s, const char *type, char *frame, size_t len);
/* The same, marked with `tag` (compared, never dereferenced; not NULL) so
 * that pl_sess_unsend can take the frame back while it is unwritten. */
int pl_sess_send_tagged(pl_sess *s, const void *tag, const char *type, char *frame, size_t len);
/* Drops the frames marked `tag` that are not written yet: a module whose
 * frames a server made stale replaces them instead of queuing more. */
void pl_sess_unsend(pl_sess *s, const void *tag);
/* A fresh client id (UUIDv4) for an item. */
int pl_sess_mint_cid(pl_sess *s, char cid[PARLEY_ID_SIZE]);

typedef enum {
    PL_SESS_ITEM_MSG,      /* a msg.send (postback): acked by msg.ack, PENDING/SENT/FAILED */
    PL_SESS_ITEM_SILENT,   /* acked by `ack`, nothing reported (tracked events) */
    PL_SESS_ITEM_REPORTED, /* acked by `ack`, PENDING/SENT/FAILED by client id */
    PL_SESS_ITEM_ATTACH    /* a msg.send like ITEM_MSG, held until pl_sess_release */
} pl_sess_item;
/* Adds an encoded frame with client id `cid` to the durable outbox: journaled
 * before PARLEY_OK (and synced, with sync_items), resent after every
 * welcome until acked. `conv`
 * may be NULL except for PL_SESS_ITEM_MSG. `frame` is owned by the session
 * from here on (freed on every path). Errors: TOO_LONG (over
 * pl_sess_max_frame(): the server could never accept it), FULL, IO, NOMEM,
 * INVALID_ARG. */
int pl_sess_enqueue(pl_sess *s, pl_sess_item kind, const char *conv, const char *cid, char *frame,
                    size_t len);
/* A held item (PL_SESS_ITEM_ATTACH) may go out now, and stays free on
 * later connections; until the client restarts, which holds it again.
 * NOT_FOUND when no such item is in the outbox. */
int pl_sess_release(pl_sess *s, const char *cid);
/* 1 while the item `cid` is in the outbox. */
int pl_sess_item_pending(const pl_sess *s, const char *cid);
/* Fails the item `cid` for good: it leaves the outbox with an ERROR event
 * (`code`, `text`) and, for a message, its FAILED status (`reason`).
 * NOT_FOUND, NOMEM. */
int pl_sess_fail_item(pl_sess *s, const char *cid, int code, const char *text, const char *reason);

/* Makes `conv`, which the server or a push named, a member of the session
 * (docs/protocol.md, "Conversations across devices"): a cursor (journaled)
 * that starts PL_BACKFILL below `last_seq`, and, online, a history.get
 * for what lies between. A known conversation whose `last_seq` is beyond
 * everything seen is asked for the gap. INVALID_ARG, FULL (at
 * PL_MAX_CONVERSATIONS), NOMEM. */
int pl_sess_adopt(pl_sess *s, const char *conv, uint64_t last_seq);

/* Queues an event for the host, in order with the session's own. */
void pl_sess_emit(pl_sess *s, parley_event *ev);
int pl_sess_emit_error(pl_sess *s, int code, const char *text);
/* A module's frame that is malformed: logged, and reported as an ERROR
 * event (PARLEY_ERR_PROTOCOL, "<type>: <why>") whose client id is `req`
 * (may be NULL: the request the frame answered). PARLEY_OK or NOMEM. */
int pl_sess_bad_frame(pl_sess *s, const pl_frame *f, const char *why, const char *req);

/* Moves every event produced so far to the end of `q`. */
void pl_sess_take_events(pl_sess *s, pl_event_queue *q);

#endif
