/* Public API of surveys (parley.h, "surveys and proactive messages"): the
 * survey model as the host reads it, and responses to a survey. */
#include <string.h>

#include "client.h"
#include "util/utf8.h"

/* ---- the model ---------------------------------------------------------------- */

const char *parley_survey_id(const parley_survey *s)
{
    return s ? s->id : NULL;
}
const char *parley_survey_name(const parley_survey *s)
{
    return s ? s->name : NULL;
}
const char *parley_survey_title(const parley_survey *s)
{
    return s ? s->title : NULL;
}
const char *parley_survey_intro(const parley_survey *s)
{
    return s ? s->intro : NULL;
}
const char *parley_survey_conversation_id(const parley_survey *s)
{
    return s ? s->conv : NULL;
}
int parley_survey_is_proactive(const parley_survey *s)
{
    return s ? s->proactive : 0;
}
int parley_survey_question_count(const parley_survey *s)
{
    return s ? (int)s->n_questions : 0;
}

const parley_question *parley_survey_question(const parley_survey *s, int i)
{
    return s && i >= 0 && (size_t)i < s->n_questions ? &s->questions[i] : NULL;
}

const char *parley_question_id(const parley_question *q)
{
    return q ? q->id : NULL;
}
const char *parley_question_text(const parley_question *q)
{
    return q ? q->text : NULL;
}
int parley_question_kind(const parley_question *q)
{
    return q ? q->kind : 0;
}
int parley_question_required(const parley_question *q)
{
    return q ? q->required : 0;
}
int parley_question_min(const parley_question *q)
{
    return q ? q->min : 0;
}
int parley_question_max(const parley_question *q)
{
    return q ? q->max : 0;
}
const char *parley_question_min_label(const parley_question *q)
{
    return q ? q->min_label : NULL;
}
const char *parley_question_max_label(const parley_question *q)
{
    return q ? q->max_label : NULL;
}
int parley_question_max_length(const parley_question *q)
{
    return q ? (int)q->max_length : 0;
}
int parley_question_option_count(const parley_question *q)
{
    return q ? (int)q->n_options : 0;
}

const char *parley_question_option_id(const parley_question *q, int j)
{
    return q && j >= 0 && (size_t)j < q->n_options ? q->options[j].id : NULL;
}

const char *parley_question_option_label(const parley_question *q, int j)
{
    return q && j >= 0 && (size_t)j < q->n_options ? q->options[j].label : NULL;
}

const char *parley_question_show_if_question(const parley_question *q)
{
    return q ? q->show_if_id : NULL;
}

int parley_question_show_if_value_count(const parley_question *q)
{
    return q && q->show_if >= 0 ? (int)q->n_show_values : 0;
}

const char *parley_question_show_if_value(const parley_question *q, int j)
{
    return q && j >= 0 && (size_t)j < q->n_show_values ? q->show_values[j] : NULL;
}

/* ---- responses ------------------------------------------------------------------ */

struct parley_survey_response {
    parley_client *pc;
    char survey_id[PL_MAX_ID + 1];
};

int parley_survey_response_new(parley_client *pc, const char *survey_id,
                               parley_survey_response **out)
{
    if (!pc || !out || !pl_id_valid(survey_id, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    *out = NULL;
    pl_client_enter(pc);
    int rc = pl_surveys_check(pc->surveys, survey_id);
    parley_survey_response *r = rc == PARLEY_OK ? pl_calloc(&pc->alloc, 1, sizeof *r) : NULL;
    if (rc == PARLEY_OK && !r)
        rc = PARLEY_ERR_NOMEM;
    if (r) {
        r->pc = pc;
        memcpy(r->survey_id, survey_id, strlen(survey_id) + 1);
        *out = r;
    }
    return pl_client_leave(pc, rc);
}

void parley_survey_response_free(parley_survey_response *resp)
{
    if (resp)
        pl_free(&resp->pc->alloc, resp);
}

int parley_survey_answer_number(parley_survey_response *resp, const char *question_id, int value)
{
    if (!resp)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(resp->pc);
    return pl_client_leave(
        resp->pc, pl_surveys_answer_number(resp->pc->surveys, resp->survey_id, question_id, value));
}

int parley_survey_answer_choice(parley_survey_response *resp, const char *question_id,
                                const char *option_id)
{
    if (!resp)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(resp->pc);
    return pl_client_leave(resp->pc, pl_surveys_answer_choice(resp->pc->surveys, resp->survey_id,
                                                              question_id, option_id));
}

int parley_survey_answer_choices(parley_survey_response *resp, const char *question_id,
                                 const char *const *option_ids, size_t n)
{
    if (!resp)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(resp->pc);
    return pl_client_leave(resp->pc, pl_surveys_answer_choices(resp->pc->surveys, resp->survey_id,
                                                               question_id, option_ids, n));
}

int parley_survey_answer_text(parley_survey_response *resp, const char *question_id,
                              const char *text)
{
    if (!resp)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(resp->pc);
    return pl_client_leave(
        resp->pc, pl_surveys_answer_text(resp->pc->surveys, resp->survey_id, question_id, text));
}

int parley_survey_clear_answer(parley_survey_response *resp, const char *question_id)
{
    if (!resp)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(resp->pc);
    return pl_client_leave(
        resp->pc, pl_surveys_clear_answer(resp->pc->surveys, resp->survey_id, question_id));
}

int parley_survey_question_visible(parley_survey_response *resp, const char *question_id)
{
    if (!resp)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(resp->pc);
    return pl_client_leave(resp->pc,
                           pl_surveys_visible(resp->pc->surveys, resp->survey_id, question_id));
}

static int copy_out(const char *s, char *out, size_t size)
{
    if (out && size)
        memcpy(out, s, strlen(s) + 1);
    return PARLEY_OK;
}

int parley_survey_submit(parley_survey_response *resp, char *missing_qid_out, size_t out_size,
                         char *cid_out, size_t cid_size)
{
    if (!resp || (missing_qid_out && out_size < PARLEY_SURVEY_ID_SIZE) ||
        (cid_out && cid_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char missing[PL_MAX_ID + 1] = "", cid[PARLEY_ID_SIZE] = "";
    pl_client_enter(resp->pc);
    int rc = pl_client_leave(resp->pc,
                             pl_surveys_submit(resp->pc->surveys, resp->survey_id, missing, cid));
    if (rc == PARLEY_ERR_INCOMPLETE)
        copy_out(missing, missing_qid_out, out_size);
    if (rc == PARLEY_OK)
        copy_out(cid, cid_out, cid_size);
    return rc;
}

int parley_survey_dismiss(parley_client *pc, const char *survey_id, char *cid_out, size_t cid_size)
{
    if (!pc || (cid_out && cid_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char cid[PARLEY_ID_SIZE] = "";
    pl_client_enter(pc);
    int rc = pl_client_leave(pc, pl_surveys_dismiss(pc->surveys, survey_id, cid));
    if (rc == PARLEY_OK)
        copy_out(cid, cid_out, cid_size);
    return rc;
}
