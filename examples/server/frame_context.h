/* The user's in-app context (attributes, screen, breadcrumbs, device) and
 * tracked events: stored per user from `context` and `event` frames, shown to
 * agents by the HTTP API, and the input of the survey triggers. */
#ifndef PARLEY_SERVER_CONTEXT_H
#define PARLEY_SERVER_CONTEXT_H

#include <cjson/cJSON.h>

#include "store.h"

struct ws_conn;

/* Breadcrumbs and events kept per user (and shown to agents). */
#define CONTEXT_KEEP_BREADCRUMBS 50
#define CONTEXT_SHOW_EVENTS 50

/* Creates the module's tables. 0 or -1. */
int context_init(db *d);

/* Frame handlers (ws.c dispatch). */
void context_on_frame(struct ws_conn *c, const cJSON *f);
void context_on_event(struct ws_conn *c, const cJSON *f);

/* Adds to `obj` (a conversation of `user` for the HTTP API) "context" (the
 * snapshot conv.start carried, when it did), "user_context" and "events".
 * 0 or -1. */
int context_add_to_conv(db *d, cJSON *obj, const char *conv, const char *user);

/* 1 when every member of the object `filter` equals the user's stored
 * attribute of that name (compared as JSON), 0 when one does not, -1 on a
 * database error. */
int context_attrs_match(db *d, const char *user, const cJSON *filter);

/* identity_merge's part: attributes, context and events. 0 or -1. */
int context_merge_user(db *d, const char *anon, const char *user);

#endif
