/* The survey model (docs/protocol.md, "survey"): a survey's questions,
 * their options and conditions, as the host reads them (parley.h's
 * parley_survey and parley_question), and one question's answer. The
 * codec builds a survey from its frame; the surveys feature keeps it with
 * the answers given so far; events share it by reference. Immutable once
 * built, so the host may read it from any thread. */
#ifndef PARLEY_MODEL_SURVEY_H
#define PARLEY_MODEL_SURVEY_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "parley.h"
#include "util/alloc.h"

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
    int show_if;            /* index of the controlling question, -1 when none */
    const char *show_if_id; /* its id (borrowed from it), NULL when none */
    uint32_t show_mask;     /* values that show it: bit v (rating/NPS) or bit option index */
    char **show_values;     /* the same values as strings, for the host */
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

/* An empty survey holding one reference; NULL when out of memory. */
parley_survey *pl_survey_new(const pl_alloc *a);
void pl_survey_ref(parley_survey *s);
/* Drops a reference; the last one frees. NULL is a no-op. */
void pl_survey_unref(parley_survey *s);
/* Index of question `qid`, or -1. */
int pl_survey_find(const parley_survey *s, const char *qid);
/* Index of option `id` of q, or -1 (also for a NULL id). */
int pl_survey_option_index(const parley_question *q, const char *id);
/* What a survey holds, in bytes (0 for NULL). */
size_t pl_survey_size(const parley_survey *s);

/* One question's answer. `value` is the number (rating, NPS) or the option
 * index (single); `mask` the selected option indexes (multi); `text` the
 * redacted free text (owned). */
typedef struct pl_survey_answer {
    int set;
    int value;
    uint32_t mask;
    char *text;
} pl_survey_answer;

#endif
