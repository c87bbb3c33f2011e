/* Proactive content (docs/protocol.md, "proactive", "proactive.ack"):
 * messages the support side sends unasked, handed to the host as
 * PARLEY_EV_PROACTIVE and acknowledged (after the next welcome when the ack
 * could not go out; a resend is acknowledged again, not reported twice);
 * and the host's mute (parley_mute_proactive): while muted, proactive
 * messages and proactive surveys are held, and handed over in the order
 * they arrived when the mute ends. Plugs into the session as a module. Not
 * thread-safe: the facade's lock serialises calls. */
#ifndef PARLEY_PROACTIVE_H
#define PARLEY_PROACTIVE_H

#include <stdint.h>

#include "session/session.h"
#include "store/journal.h"
#include "util/log.h"

#define PL_PROACTIVE_NS 7        /* journal namespace: reserved, only wiped at logout */
#define PL_PROACTIVE_MAX_HELD 32 /* items held while muted */

typedef struct pl_proactive pl_proactive;

/* Registers itself with `sess` (borrowed); `journal` (may be NULL) and
 * `log` are borrowed. NULL when out of memory or the session has no room
 * for another module. */
pl_proactive *pl_proactive_new(const pl_alloc *a, pl_sess *sess, pl_journal *journal,
                               const pl_log *log);
void pl_proactive_free(pl_proactive *p);

/* Mutes proactive content for duration_ms from `now` (0: unmute,
 * releasing what was held). */
void pl_proactive_mute(pl_proactive *p, int64_t now, uint32_t duration_ms);

/* ---- proactive surveys (feature/surveys.c) -------------------------------- */

/* Reports a held survey when the mute ends. */
typedef void (*pl_proactive_release_fn)(void *user, const char *survey_id);
void pl_proactive_on_release(pl_proactive *p, pl_proactive_release_fn fn, void *user);
int pl_proactive_muted(const pl_proactive *p);
/* 1 when one more item can be held. */
int pl_proactive_room(const pl_proactive *p);
/* Holds survey `survey_id` in its place among the held items: FULL when
 * there is no room. */
int pl_proactive_hold_survey(pl_proactive *p, const char *survey_id);

#endif
