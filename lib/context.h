/* The user's context (docs/protocol.md, "context", "event"): typed
 * attributes, screen, breadcrumb ring, device facts and tracked events,
 * redacted at the call, kept in memory, sent as a full state after each
 * welcome and as debounced patches in between, and snapshotted into every
 * conversation start and message. Plugs into the session as a module.
 * Not thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_CONTEXT_H
#define PARLEY_CONTEXT_H

#include <stdint.h>

#include "proto.h"
#include "redact.h"
#include "session.h"

typedef struct pctx pctx;

typedef struct pctx_config {
    uint32_t breadcrumb_cap; /* 1..PROTO_MAX_CRUMBS; 0 = 50 */
    uint32_t interval_ms;    /* debounce; 0 = 1000 */
    int consent;             /* initial consent */
    predact redact;
} pctx_config;

#define PCTX_DEFAULT_CRUMBS 50
#define PCTX_DEFAULT_INTERVAL_MS 1000

/* Registers itself with `sess` (borrowed, must outlive it). NULL when out of
 * memory or the session has no room for another module. */
pctx *pctx_new(const palloc *a, psess *sess, const pctx_config *cfg, const plog *log);
void pctx_free(pctx *c);

/* Validated and redacted here; see parley.h for the limits and errors. */
int pctx_set_attr(pctx *c, const pattr *attr);
int pctx_set_screen(pctx *c, const char *screen);
int pctx_add_breadcrumb(pctx *c, const char *text, int64_t wall_ms);
int pctx_set_device(pctx *c, const char *key, const char *value);
int pctx_track_event(pctx *c, const char *name, const char *meta, int64_t wall_ms);
/* Allowing while online queues the full state at once. */
void pctx_set_consent(pctx *c, int allowed);

/* The whole context as a snapshot: *out is a JSON object text (free with
 * pfree) or NULL when context may not be sent or is empty. Errors: NOMEM.
 * Conversation starts and messages get theirs through the session's
 * snapshot hook, trimmed to the room their frame leaves: the screen,
 * attributes, device facts, then breadcrumbs newest first, each while it
 * fits, with "truncated":true. Context frames over the frame limit are
 * split into a full frame and patches instead, so the server still gets
 * everything. */
int pctx_snapshot(pctx *c, char **out);

/* A redacted copy of a user string of `field` (PARLEY_FIELD_*). */
int pctx_redact(pctx *c, int field, const char *in, char **out);

/* What a user message needs before the outbox: its text redacted (NULL
 * text gives NULL; free with pfree). The snapshot is added by the session
 * (the snapshot hook), sized to the frame. */
int pctx_prepare_message(pctx *c, const char *text, char **redacted);

/* Frames sent so far (context frames of either kind), for tests/benchmarks. */
uint64_t pctx_frames_sent(const pctx *c);

#endif
