/* The triggers of the --surveys file: on a conversation closed by an agent,
 * a tracked event or a change of screen, a survey or a proactive message
 * goes to the user (when their attributes match the trigger's filter). A
 * trigger does not stack what the user has not dealt with yet. Timing
 * (docs/routing.md, "Proactive triggers at the right moment"): a delay or a
 * dwell time on the screen (pacer.c), a per-user cap, an expiry, not while
 * the user has a conversation going, a condition on their context. */
#ifndef PARLEY_SERVER_TRIGGERS_H
#define PARLEY_SERVER_TRIGGERS_H

#include <stdint.h>

#include "server.h"

/* An agent closed `conv`: every "conv.closed" trigger, at most once per
 * conversation and survey. Call it after the close is stored. */
void triggers_on_conv_closed(server *s, const char *conv, int64_t now_ms);
/* A new tracked event / a change of screen. */
void triggers_on_event(server *s, const char *user, const char *name, int64_t now_ms);
void triggers_on_screen(server *s, const char *user, const char *screen, int64_t now_ms);

/* Delivers what waited for its delay or dwell time and is due at now_ms
 * (a dwell only while the user is still signed in and on that screen),
 * when the trigger's gates still let it through. Called on a timer. */
void triggers_tick(server *s, int64_t now_ms);

#endif
