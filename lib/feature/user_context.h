/* The user's context (docs/protocol.md, "context", "event"): typed
 * attributes, screen, breadcrumb ring, device facts and tracked events,
 * redacted at the call, kept in memory, sent as a full state after each
 * welcome and as debounced patches in between, and snapshotted into every
 * conversation start and message. Plugs into the session as a module.
 * Not thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_CONTEXT_H
#define PARLEY_CONTEXT_H

#include <stdint.h>

#include "codec/proto_context.h"
#include "feature/redact.h"
#include "session/session.h"

typedef struct pl_ctx pl_ctx;

typedef struct pl_ctx_config {
    uint32_t breadcrumb_cap; /* 1..PL_MAX_CRUMBS; 0 = 50 */
    uint32_t interval_ms;    /* debounce; 0 = 1000 */
    int consent;             /* initial consent */
    pl_redact redact;
} pl_ctx_config;

#define PL_CTX_DEFAULT_CRUMBS 50
#define PL_CTX_DEFAULT_INTERVAL_MS 1000

/* Registers itself with `sess` (borrowed, must outlive it). NULL when out of
 * memory or the session has no room for another module. */
pl_ctx *pl_ctx_new(const pl_alloc *a, pl_sess *sess, const pl_ctx_config *cfg, const pl_log *log);
void pl_ctx_free(pl_ctx *c);

/* Validated and redacted here; see parley.h for the limits and errors. */
int pl_ctx_set_attr(pl_ctx *c, const pl_attr *attr);
int pl_ctx_set_screen(pl_ctx *c, const char *screen);
int pl_ctx_add_breadcrumb(pl_ctx *c, const char *text, int64_t wall_ms);
int pl_ctx_set_device(pl_ctx *c, const char *key, const char *value);
int pl_ctx_track_event(pl_ctx *c, const char *name, const char *meta, int64_t wall_ms);
/* Allowing while online queues the full state at once. */
void pl_ctx_set_consent(pl_ctx *c, int allowed);

/* The whole context as a snapshot: *out is a JSON object text (free with
 * pl_free) or NULL when context may not be sent or is empty. Errors: NOMEM.
 * Conversation starts and messages get theirs through the session's
 * snapshot hook, trimmed to the room their frame leaves: the screen,
 * attributes, device facts, then breadcrumbs newest first, each while it
 * fits, with "truncated":true. Context frames over the frame limit are
 * split into a full frame and patches instead, so the server still gets
 * everything. */
int pl_ctx_snapshot(pl_ctx *c, char **out);

/* A redacted copy of a user string of `field` (PARLEY_FIELD_*). */
int pl_ctx_redact(pl_ctx *c, int field, const char *in, char **out);

/* What a user message needs before the outbox: its text redacted (NULL
 * text gives NULL; free with pl_free). The snapshot is added by the session
 * (the snapshot hook), sized to the frame. */
int pl_ctx_prepare_message(pl_ctx *c, const char *text, char **redacted);

/* Frames sent so far (context frames of either kind), for tests/benchmarks. */
uint64_t pl_ctx_frames_sent(const pl_ctx *c);

#endif
