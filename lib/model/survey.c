#include "model/survey.h"

#include <string.h>

parley_survey *pl_survey_new(const pl_alloc *a)
{
    parley_survey *s = pl_calloc(a, 1, sizeof *s);
    if (!s)
        return NULL;
    s->alloc = *a;
    atomic_init(&s->refs, 1);
    return s;
}

void pl_survey_ref(parley_survey *s)
{
    atomic_fetch_add(&s->refs, 1);
}

static void question_free(const pl_alloc *a, parley_question *q)
{
    pl_free(a, q->id);
    pl_free(a, q->text);
    pl_free(a, q->min_label);
    pl_free(a, q->max_label);
    for (size_t j = 0; q->options && j < q->n_options; j++) {
        pl_free(a, q->options[j].id);
        pl_free(a, q->options[j].label);
    }
    pl_free(a, q->options);
    for (size_t j = 0; q->show_values && j < q->n_show_values; j++)
        pl_free(a, q->show_values[j]);
    pl_free(a, q->show_values);
}

static void survey_free(parley_survey *s)
{
    pl_alloc a = s->alloc;
    for (size_t i = 0; s->questions && i < s->n_questions; i++)
        question_free(&a, &s->questions[i]);
    pl_free(&a, s->questions);
    char *strs[] = {s->id, s->name, s->title, s->intro, s->conv, s->json, s->frame};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        pl_free(&a, strs[i]);
    pl_free(&a, s);
}

void pl_survey_unref(parley_survey *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        survey_free(s);
}

int pl_survey_find(const parley_survey *s, const char *qid)
{
    for (size_t i = 0; qid && i < s->n_questions; i++)
        if (s->questions[i].id && strcmp(s->questions[i].id, qid) == 0)
            return (int)i;
    return -1;
}

int pl_survey_option_index(const parley_question *q, const char *id)
{
    for (size_t j = 0; id && j < q->n_options; j++)
        if (strcmp(q->options[j].id, id) == 0)
            return (int)j;
    return -1;
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* Counts the survey, its questions and its two JSON texts: what an event
 * sharing it is charged for. */
size_t pl_survey_size(const parley_survey *s)
{
    if (!s)
        return 0;
    return sizeof *s + s->n_questions * sizeof *s->questions + str_size(s->json) +
           str_size(s->frame);
}
