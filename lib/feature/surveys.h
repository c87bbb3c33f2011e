/* Surveys and proactive messages (docs/protocol.md, "survey",
 * "survey.submit", "proactive"): the survey model handed to the host, the
 * module that keeps received surveys, partial answers and their status in
 * the journal (namespace 6), submits and dismisses through the durable
 * outbox, and holds proactive content while the host mutes it. Plugs into
 * the session as a module. Not thread-safe: the facade's lock serialises
 * calls. */
#ifndef PARLEY_SURVEY_H
#define PARLEY_SURVEY_H

#include <stdatomic.h>
#include <stdint.h>

#include "feature/user_context.h"
#include "store/journal.h"
#include "codec/proto.h"
#include "session/session.h"

#define PL_MAX_SURVEY_QUESTIONS 50
#define PL_MAX_SURVEY_OPTIONS 20
#define PL_MAX_SURVEY_TEXT 1024   /* title, intro, question text */
#define PL_MAX_SURVEY_LABEL 128   /* option and scale labels, definition name */
#define PL_MAX_SURVEY_ANSWER 4096 /* a text question's max_length */
#define PL_DEFAULT_SURVEY_ANSWER 1000
#define PL_SURVEYS_MAX_PENDING 32  /* surveys kept unanswered */
#define PL_SURVEYS_MAX_FINISHED 64 /* submitted/dismissed ids remembered */
#define PL_SURVEYS_MAX_HELD 32     /* proactive items held while muted */
#define PL_SURVEYS_NS 6            /* journal namespace */
#define PL_SURVEYS_NS_PROACTIVE 7  /* reserved; only wiped at logout */

/* ---- the model (immutable once decoded; shared by the module and events) */

typedef struct pl_survey_option {
    char *id, *label;
} pl_survey_option;

struct parley_question {
    char *id, *text;
    int kind; /* PARLEY_Q_* */
    int required;
    int min, max; /* rating scale; multi: selection count bounds */
    char *min_label, *max_label;
    uint32_t max_length; /* text */
    pl_survey_option *options;
    size_t n_options;
    int show_if;         /* index of the controlling question, -1 when none */
    const char *show_if_id; /* its id (borrowed from it), NULL when none */
    uint32_t show_mask;  /* values that show it: bit v (rating/NPS) or bit option index */
    char **show_values;  /* the same values as strings, for the host */
    size_t n_show_values;
};

struct parley_survey {
    pl_alloc alloc;
    atomic_int refs;
    char *id, *name, *title, *intro, *conv;
    int proactive;
    parley_question *questions;
    size_t n_questions;
    char *json;  /* the survey object, compact JSON (parley_event_raw_json) */
    char *frame; /* the whole frame, compact: what the journal keeps */
};

void pl_survey_ref(parley_survey *s);
/* Drops a reference; the last one frees. NULL is a no-op. */
void pl_survey_unref(parley_survey *s);
/* Index of question `qid`, or -1. */
int pl_survey_find(const parley_survey *s, const char *qid);

/* One question's answer. `value` is the number (rating, NPS) or the option
 * index (single); `mask` the selected option indexes (multi); `text` the
 * redacted free text (owned). */
typedef struct pl_survey_answer {
    int set;
    int value;
    uint32_t mask;
    char *text;
} pl_survey_answer;

/* ---- codec (proto_survey.c) --------------------------------------------- */

/* A `survey` frame (f->doc) validated as a whole. PARLEY_ERR_PROTOCOL with
 * the reason (naming the survey and the rule) in err; NOMEM. */
int pl_proto_decode_survey(const pl_alloc *a, const pl_frame *f, parley_survey **out, char *err, size_t err_size);

typedef struct pl_proactive {
    char *id, *author_name, *text;
    int author_kind; /* PARLEY_AUTHOR_* */
    int64_t ts;
    struct pl_ev_rich *rich; /* the kept blocks (rich.h), or NULL */
} pl_proactive;

/* Blocks that break the rules are left out (as for a `msg`) and described
 * in skipped[skipped_size] (empty when none). */
int pl_proto_decode_proactive(const pl_alloc *a, const pl_frame *f, pl_proactive *out, char *err, size_t err_size,
                           char *skipped, size_t skipped_size);
void pl_proto_proactive_clear(const pl_alloc *a, pl_proactive *p);

/* The answers object ({"q1":4,"q3":"fast",...}) of every answer with `set`
 * (one per question of s). */
int pl_proto_encode_survey_answers(const pl_alloc *a, const parley_survey *s, const pl_survey_answer *ans, char **out,
                                size_t *out_len);
/* Fills ans (zeroed by the caller, one per question) from an answers object
 * text; entries that do not fit the model are skipped. NOMEM only. */
int pl_proto_decode_survey_answers(const pl_alloc *a, const parley_survey *s, const char *json, size_t len,
                                pl_survey_answer *ans);
/* `answers` is an object text from pl_proto_encode_survey_answers. */
int pl_proto_encode_survey_submit(const pl_alloc *a, const char *cid, const char *survey, const char *answers,
                               char **out, size_t *out_len);
int pl_proto_encode_survey_dismiss(const pl_alloc *a, const char *cid, const char *survey, char **out,
                                size_t *out_len);
int pl_proto_encode_proactive_ack(const pl_alloc *a, const char *id, char **out, size_t *out_len);

/* ---- the module ----------------------------------------------------------- */

typedef struct pl_surveys pl_surveys;

/* Registers itself with `sess`; `ctx` (redaction), `journal` (may be NULL)
 * and `log` are borrowed. Surveys still pending in the journal are loaded
 * and reported again (one PARLEY_EV_SURVEY each). NULL when out of memory
 * or the session has no room for another module. */
pl_surveys *pl_surveys_new(const pl_alloc *a, pl_sess *sess, pl_ctx *ctx, pl_journal *journal, const pl_log *log);
void pl_surveys_free(pl_surveys *sv);

/* Host API, validated here (parley.h, "surveys", for the errors). Every
 * call names the survey; answers are journaled (unsynced) at each call. */
int pl_surveys_check(pl_surveys *sv, const char *survey_id);
int pl_surveys_answer_number(pl_surveys *sv, const char *survey_id, const char *qid, int value);
int pl_surveys_answer_choice(pl_surveys *sv, const char *survey_id, const char *qid, const char *option);
int pl_surveys_answer_choices(pl_surveys *sv, const char *survey_id, const char *qid, const char *const *ids,
                           size_t n);
int pl_surveys_answer_text(pl_surveys *sv, const char *survey_id, const char *qid, const char *text);
int pl_surveys_clear_answer(pl_surveys *sv, const char *survey_id, const char *qid);
/* 1 shown, 0 hidden by its condition, or an error. */
int pl_surveys_visible(pl_surveys *sv, const char *survey_id, const char *qid);
/* INCOMPLETE with the first missing required question's id in missing
 * (PL_MAX_ID + 1 bytes). */
int pl_surveys_submit(pl_surveys *sv, const char *survey_id, char missing[PL_MAX_ID + 1],
                   char cid[PARLEY_ID_SIZE]);
int pl_surveys_dismiss(pl_surveys *sv, const char *survey_id, char cid[PARLEY_ID_SIZE]);
/* Mutes proactive content for duration_ms from now (0: unmute, releasing
 * what was held). */
void pl_surveys_mute(pl_surveys *sv, int64_t now, uint32_t duration_ms);

#endif
