/* The user's in-app context as the server keeps it: attributes, screen,
 * breadcrumbs and device facts, stored per user from `context` frames
 * (frame_context.c), shown to agents next to a conversation, matched by
 * survey triggers, and merged when an anonymous user becomes an identified
 * one. */
#ifndef PARLEY_SERVER_USERCTX_H
#define PARLEY_SERVER_USERCTX_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "store.h"

/* The limits the client enforces at its API (docs/protocol.md, context). */
#define USERCTX_MAX_KEYS 100
/* Breadcrumbs kept per user, and events shown to agents. */
#define USERCTX_KEEP_BREADCRUMBS 50
#define USERCTX_SHOW_EVENTS 50

/* Stores a (valid) context frame in one transaction: a full state replaces
 * what it carries and keeps what it lacks as the last known value, marked
 * stale; a patch adds to what is current and replaces what is stale.
 * *screen_out receives the new screen when it changed (malloc'd), else
 * NULL. 0, -1 on error, 1 when the user would have more than
 * USERCTX_MAX_KEYS current attributes (nothing stored). */
int userctx_apply(store *s, const char *user, const cJSON *f, int64_t now, char **screen_out);

/* Adds to `obj` (a conversation of `user` for the HTTP API) "context" (the
 * snapshot conv.start carried, when it did), "user_context" (with "stale"
 * and "reported": what is stale, and when each part was last reported)
 * and "events". 0 or -1. */
int userctx_add_to_conv(store *s, cJSON *obj, const char *conv, const char *user);

/* 1 when every member of the object `filter` equals the user's attribute
 * of that name (compared as JSON; one never set, or stale, counts as
 * null), 0 when one does not, -1 on a database error. */
/* Adds to `obj` (the single customer view) "context" (the user's picture),
 * "context_shared" and "events". 0 or -1. */
int userctx_add_to_user(store *s, cJSON *obj, const char *user);
int userctx_attrs_match(store *s, const char *user, const cJSON *filter);

/* Moves the context of `anon` to `user`: attributes (the newer wins), the
 * picture (the newer screen, both devices' facts, both breadcrumb trails
 * by time) and events. Inside the caller's transaction. 0 or -1. */
int userctx_merge(store *s, const char *anon, const char *user);

#endif
