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

#include "context.h"
#include "journal.h"
#include "proto.h"
#include "session.h"

#define PSV_MAX_QUESTIONS 50
#define PSV_MAX_OPTIONS 20
#define PSV_MAX_TEXT 1024   /* title, intro, question text */
#define PSV_MAX_LABEL 128   /* option and scale labels, definition name */
#define PSV_MAX_ANSWER 4096 /* a text question's max_length */
#define PSV_DEFAULT_ANSWER 1000
#define PSV_MAX_PENDING 32  /* surveys kept unanswered */
#define PSV_MAX_FINISHED 64 /* submitted/dismissed ids remembered */
#define PSV_MAX_HELD 32     /* proactive items held while muted */
#define PSV_NS 6            /* journal namespace */
#define PSV_NS_PROACTIVE 7  /* reserved; only wiped at logout */

/* ---- the model (immutable once decoded; shared by the module and events) */

typedef struct psv_option {
    char *id, *label;
} psv_option;

struct parley_question {
    char *id, *text;
    int kind; /* PARLEY_Q_* */
    int required;
    int min, max; /* rating scale; multi: selection count bounds */
    char *min_label, *max_label;
    uint32_t max_length; /* text */
    psv_option *options;
    size_t n_options;
    int show_if;         /* index of the controlling question, -1 when none */
    const char *show_if_id; /* its id (borrowed from it), NULL when none */
    uint32_t show_mask;  /* values that show it: bit v (rating/NPS) or bit option index */
    char **show_values;  /* the same values as strings, for the host */
    size_t n_show_values;
};

struct parley_survey {
    palloc alloc;
    atomic_int refs;
    char *id, *name, *title, *intro, *conv;
    int proactive;
    parley_question *questions;
    size_t n_questions;
    char *json;  /* the survey object, compact JSON (parley_event_raw_json) */
    char *frame; /* the whole frame, compact: what the journal keeps */
};

void psv_model_ref(parley_survey *s);
/* Drops a reference; the last one frees. NULL is a no-op. */
void psv_model_unref(parley_survey *s);
/* Index of question `qid`, or -1. */
int psv_model_find(const parley_survey *s, const char *qid);

/* One question's answer. `value` is the number (rating, NPS) or the option
 * index (single); `mask` the selected option indexes (multi); `text` the
 * redacted free text (owned). */
typedef struct psv_answer {
    int set;
    int value;
    uint32_t mask;
    char *text;
} psv_answer;

/* ---- codec (proto_survey.c) --------------------------------------------- */

/* A `survey` frame (f->doc) validated as a whole. PARLEY_ERR_PROTOCOL with
 * the reason (naming the survey and the rule) in err; NOMEM. */
int proto_decode_survey(const palloc *a, const pframe *f, parley_survey **out, char *err, size_t err_size);

typedef struct pproactive {
    char *id, *author_name, *text;
    int author_kind; /* PARLEY_AUTHOR_* */
    int64_t ts;
    struct pev_rich *rich; /* the kept blocks (rich.h), or NULL */
} pproactive;

/* Blocks that break the rules are left out (as for a `msg`) and described
 * in skipped[skipped_size] (empty when none). */
int proto_decode_proactive(const palloc *a, const pframe *f, pproactive *out, char *err, size_t err_size,
                           char *skipped, size_t skipped_size);
void proto_proactive_clear(const palloc *a, pproactive *p);

/* The answers object ({"q1":4,"q3":"fast",...}) of every answer with `set`
 * (one per question of s). */
int proto_encode_survey_answers(const palloc *a, const parley_survey *s, const psv_answer *ans, char **out,
                                size_t *out_len);
/* Fills ans (zeroed by the caller, one per question) from an answers object
 * text; entries that do not fit the model are skipped. NOMEM only. */
int proto_decode_survey_answers(const palloc *a, const parley_survey *s, const char *json, size_t len,
                                psv_answer *ans);
/* `answers` is an object text from proto_encode_survey_answers. */
int proto_encode_survey_submit(const palloc *a, const char *cid, const char *survey, const char *answers,
                               char **out, size_t *out_len);
int proto_encode_survey_dismiss(const palloc *a, const char *cid, const char *survey, char **out,
                                size_t *out_len);
int proto_encode_proactive_ack(const palloc *a, const char *id, char **out, size_t *out_len);

/* ---- the module ----------------------------------------------------------- */

typedef struct psurvey psurvey;

/* Registers itself with `sess`; `ctx` (redaction), `journal` (may be NULL)
 * and `log` are borrowed. Surveys still pending in the journal are loaded
 * and reported again (one PARLEY_EV_SURVEY each). NULL when out of memory
 * or the session has no room for another module. */
psurvey *psurvey_new(const palloc *a, psess *sess, pctx *ctx, pjournal *journal, const plog *log);
void psurvey_free(psurvey *sv);

/* Host API, validated here (parley.h, "surveys", for the errors). Every
 * call names the survey; answers are journaled (unsynced) at each call. */
int psurvey_check(psurvey *sv, const char *survey_id);
int psurvey_answer_number(psurvey *sv, const char *survey_id, const char *qid, int value);
int psurvey_answer_choice(psurvey *sv, const char *survey_id, const char *qid, const char *option);
int psurvey_answer_choices(psurvey *sv, const char *survey_id, const char *qid, const char *const *ids,
                           size_t n);
int psurvey_answer_text(psurvey *sv, const char *survey_id, const char *qid, const char *text);
int psurvey_clear_answer(psurvey *sv, const char *survey_id, const char *qid);
/* 1 shown, 0 hidden by its condition, or an error. */
int psurvey_visible(psurvey *sv, const char *survey_id, const char *qid);
/* INCOMPLETE with the first missing required question's id in missing
 * (PROTO_MAX_ID + 1 bytes). */
int psurvey_submit(psurvey *sv, const char *survey_id, char missing[PROTO_MAX_ID + 1],
                   char cid[PARLEY_ID_SIZE]);
int psurvey_dismiss(psurvey *sv, const char *survey_id, char cid[PARLEY_ID_SIZE]);
/* Mutes proactive content for duration_ms from now (0: unmute, releasing
 * what was held). */
void psurvey_mute(psurvey *sv, int64_t now, uint32_t duration_ms);

#endif
