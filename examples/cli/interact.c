/* Acting on what support sends, as a scripted user would: picking offered
 * options (--choose), searching the help center (--search), answering or
 * dismissing surveys (--answer, --dismiss-surveys). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---- --choose --------------------------------------------------------------- */

static const parley_option *find_in_block(const parley_block *b, const char *label)
{
    for (int j = 0; j < parley_block_option_count(b); j++) {
        const parley_option *o = parley_block_option(b, j);
        if (strcmp(parley_option_label(o), label) == 0)
            return o;
    }
    for (int j = 0; j < parley_block_card_count(b); j++) {
        const parley_option *o = find_in_block(parley_block_card(b, j), label);
        if (o)
            return o;
    }
    return NULL;
}

static const parley_option *find_option(const parley_event *ev, const char *label)
{
    for (int i = 0; i < parley_event_block_count(ev); i++) {
        const parley_option *o = find_in_block(parley_event_block(ev, i), label);
        if (o)
            return o;
    }
    return NULL;
}

/* The next --choose label, when this message offers it. */
static void choose(chat *c, const parley_event *ev)
{
    const options *o = &c->opt;
    interact *it = &c->act;
    if (it->choose_next >= o->n_chooses)
        return;
    const char *label = o->chooses[it->choose_next];
    const parley_option *opt = find_option(ev, label);
    if (!opt)
        return;
    it->choose_next++;
    if (parley_option_action(opt) == PARLEY_ACTION_URL) {
        printf("[open] %s\n", parley_option_url(opt));
        return;
    }
    char cid[PARLEY_ID_SIZE];
    int rc = parley_postback(c->pc, parley_event_conversation_id(ev), parley_event_message_id(ev),
                             parley_option_id(opt), cid, sizeof cid);
    if (rc != PARLEY_OK) {
        output_note("cannot choose \"%s\": %s", label, parley_strerror(rc));
        it->failed = 1;
        return;
    }
    if (!o->json)
        printf("[chose] %s\n", label);
    chat_remember_sent(c, cid, label);
}

/* ---- surveys ------------------------------------------------------------------ */

/* The value of the last --answer naming question `qid`, or NULL. */
static const char *answer_for(const options *o, const char *qid)
{
    const char *value = NULL;
    size_t len = strlen(qid);
    for (size_t i = 0; i < o->n_answers; i++)
        if (strncmp(o->answers[i], qid, len) == 0 && o->answers[i][len] == '=')
            value = o->answers[i] + len + 1;
    return value;
}

/* "a,b,c" into at most 32 option ids, split in a copy. */
static int answer_choices(parley_survey_response *r, const char *qid, const char *value)
{
    char copy[1024];
    const char *ids[32];
    size_t n = 0;
    snprintf(copy, sizeof copy, "%s", value);
    for (char *tok = strtok(copy, ","); tok && n < 32; tok = strtok(NULL, ","))
        ids[n++] = tok;
    return parley_survey_answer_choices(r, qid, ids, n);
}

static int answer_one(parley_survey_response *r, const parley_question *q, const char *value)
{
    const char *qid = parley_question_id(q);
    switch (parley_question_kind(q)) {
    case PARLEY_Q_RATING:
    case PARLEY_Q_NPS: return parley_survey_answer_number(r, qid, atoi(value));
    case PARLEY_Q_SINGLE: return parley_survey_answer_choice(r, qid, value);
    case PARLEY_Q_MULTI: return answer_choices(r, qid, value);
    default: return parley_survey_answer_text(r, qid, value);
    }
}

/* A question whose condition the other answers leave unmet is not asked:
 * its --answer is left out (told), as a person would skip it. */
static int answer_visible(parley_survey_response *r, const parley_question *q, const char *value)
{
    char cond[512];
    if (parley_survey_question_visible(r, parley_question_id(q)) != 0)
        return 1;
    output_show_if(q, cond, sizeof cond);
    output_note("--answer %s=%s left out: %s is asked only when %s", parley_question_id(q), value,
                parley_question_id(q), cond);
    return 0;
}

/* Applies the --answer values of this survey's questions in the survey's
 * order, so that a condition sees the answers it depends on whatever the
 * order of the flags; 0 when no --answer names one of its questions. */
static int apply_answers(parley_survey_response *r, const parley_survey *s, const options *o,
                         interact *it)
{
    int applied = 0;
    for (int i = 0; i < parley_survey_question_count(s); i++) {
        const parley_question *q = parley_survey_question(s, i);
        const char *value = answer_for(o, parley_question_id(q));
        if (!value)
            continue;
        applied++;
        if (!answer_visible(r, q, value))
            continue;
        int rc = answer_one(r, q, value);
        if (rc != PARLEY_OK) {
            output_note("--answer %s=%s: %s", parley_question_id(q), value, parley_strerror(rc));
            it->failed = 1;
        }
    }
    return applied;
}

static void submit(chat *c, const parley_survey *s)
{
    parley_survey_response *r = NULL;
    int rc = parley_survey_response_new(c->pc, parley_survey_id(s), &r);
    if (rc == PARLEY_OK && !apply_answers(r, s, &c->opt, &c->act)) {
        parley_survey_response_free(r);
        return; /* not this survey's answers: leave it for the user */
    }
    char missing[PARLEY_SURVEY_ID_SIZE] = "", cid[PARLEY_ID_SIZE], what[PARLEY_SURVEY_ID_SIZE + 32];
    if (rc == PARLEY_OK)
        rc = parley_survey_submit(r, missing, sizeof missing, cid, sizeof cid);
    parley_survey_response_free(r);
    if (rc == PARLEY_OK) {
        c->act.surveys_done++;
        snprintf(what, sizeof what, "answers to survey %s", parley_survey_id(s));
        chat_remember_sent(c, cid, what);
        return;
    }
    output_note("cannot submit survey %s: %s%s%s", parley_survey_id(s), parley_strerror(rc),
                missing[0] ? ": unanswered " : "", missing);
    c->act.failed = 1;
}

static void dismiss(chat *c, const parley_survey *s)
{
    char cid[PARLEY_ID_SIZE], what[PARLEY_SURVEY_ID_SIZE + 32];
    int rc = parley_survey_dismiss(c->pc, parley_survey_id(s), cid, sizeof cid);
    if (rc != PARLEY_OK) {
        output_note("cannot dismiss survey %s: %s", parley_survey_id(s), parley_strerror(rc));
        return;
    }
    c->act.surveys_done++;
    snprintf(what, sizeof what, "survey %s dismissed", parley_survey_id(s));
    chat_remember_sent(c, cid, what);
}

static void on_survey(chat *c, const parley_event *ev)
{
    const parley_survey *s = parley_event_survey(ev);
    if (!s)
        return;
    if (c->opt.dismiss_surveys)
        dismiss(c, s);
    else if (c->opt.n_answers)
        submit(c, s);
}

/* ---- the loop's hooks ---------------------------------------------------------- */

int interact_start(chat *c)
{
    const options *o = &c->opt;
    if (!o->search)
        return PARLEY_OK;
    int rc = parley_search_articles(c->pc, o->search, c->act.search_req, sizeof c->act.search_req);
    if (rc != PARLEY_OK)
        output_note("cannot search \"%s\": %s", o->search, parley_strerror(rc));
    return rc;
}

void interact_event(chat *c, const parley_event *ev)
{
    interact *it = &c->act;
    const char *req = parley_event_request_id(ev);
    switch (parley_event_type(ev)) {
    case PARLEY_EV_MESSAGE: choose(c, ev); break;
    case PARLEY_EV_SURVEY: on_survey(c, ev); break;
    case PARLEY_EV_ARTICLES:
        if (req && strcmp(req, it->search_req) == 0)
            it->search_answered = 1;
        break;
    case PARLEY_EV_ERROR:
        if (it->search_req[0] && parley_event_client_id(ev) &&
            strcmp(parley_event_client_id(ev), it->search_req) == 0)
            it->search_answered = it->failed = 1;
        break;
    default: break;
    }
}

int interact_done(const options *o, const interact *it)
{
    return it->choose_next >= o->n_chooses && (!o->search || it->search_answered) &&
           it->surveys_done >= o->wait_surveys;
}
