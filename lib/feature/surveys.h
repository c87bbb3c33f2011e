/* Surveys (docs/protocol.md, "survey", "survey.submit",
 * "survey.dismiss"): keeps each received survey (model/survey.h) with the
 * answers given so far and its status in the journal, validates the
 * host's answers against it, and submits or dismisses it through the
 * durable outbox. A proactive survey that arrives while proactive content
 * is muted is held by feature/proactive.c in its place among the other
 * held items. Plugs into the session as a module. Not thread-safe: the
 * facade's lock serialises calls. */
#ifndef PARLEY_SURVEYS_H
#define PARLEY_SURVEYS_H

#include <stdint.h>

#include "feature/proactive.h"
#include "feature/user_context.h"
#include "model/survey.h"
#include "session/session.h"
#include "store/journal.h"

#define PL_SURVEYS_NS 6            /* journal namespace */
#define PL_SURVEYS_MAX_PENDING 32  /* surveys kept unanswered */
#define PL_SURVEYS_MAX_FINISHED 64 /* submitted/dismissed ids remembered */

typedef struct pl_surveys pl_surveys;

/* Registers itself with `sess`; `ctx` (redaction), `proactive` (the mute),
 * `journal` (may be NULL) and `log` are borrowed. Surveys still pending in
 * the journal are loaded and reported again (one PARLEY_EV_SURVEY each).
 * NULL when out of memory or the session has no room for another module. */
pl_surveys *pl_surveys_new(const pl_alloc *a, pl_sess *sess, pl_ctx *ctx, pl_proactive *proactive,
                           pl_journal *journal, const pl_log *log);
void pl_surveys_free(pl_surveys *sv);

/* Host API, validated here (parley.h, "surveys", for the errors). Every
 * call names the survey; answers are journaled (unsynced) at each call. */
int pl_surveys_check(pl_surveys *sv, const char *survey_id);
int pl_surveys_answer_number(pl_surveys *sv, const char *survey_id, const char *qid, int value);
int pl_surveys_answer_choice(pl_surveys *sv, const char *survey_id, const char *qid,
                             const char *option);
int pl_surveys_answer_choices(pl_surveys *sv, const char *survey_id, const char *qid,
                              const char *const *ids, size_t n);
int pl_surveys_answer_text(pl_surveys *sv, const char *survey_id, const char *qid,
                           const char *text);
int pl_surveys_clear_answer(pl_surveys *sv, const char *survey_id, const char *qid);
/* 1 shown, 0 hidden by its condition, or an error. */
int pl_surveys_visible(pl_surveys *sv, const char *survey_id, const char *qid);
/* INCOMPLETE with the first missing required question's id in missing
 * (PL_MAX_ID + 1 bytes). */
int pl_surveys_submit(pl_surveys *sv, const char *survey_id, char missing[PL_MAX_ID + 1],
                      char cid[PARLEY_ID_SIZE]);
int pl_surveys_dismiss(pl_surveys *sv, const char *survey_id, char cid[PARLEY_ID_SIZE]);

#endif
