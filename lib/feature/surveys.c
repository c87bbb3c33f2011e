/* Surveys: see surveys.h.
 *
 * Journal namespace 6 (PL_SURVEYS_NS), keyed by survey id:
 *   "d/<id>"  "<order>\n<frame>"  a pending survey's frame as received
 *   "a/<id>"  answers object      its partial answers (unsynced)
 *   "f/<id>"  "<order>\n<s|x>"    submitted or dismissed: never shown again
 * A survey with both "d/" and "f/" (a crash mid-way) counts as finished. */
#include "feature/surveys.h"

#include <stdio.h>
#include <string.h>

#include "codec/proto_surveys.h"
#include "util/utf8.h"

#define ORDER_DIGITS 20

enum { ST_PENDING, ST_SUBMITTED, ST_DISMISSED };

typedef struct rec {
    char id[PL_MAX_ID + 1];
    uint64_t order;
    int status;
    int held;              /* a muted proactive survey not reported yet */
    parley_survey *model;  /* NULL once finished */
    pl_survey_answer *ans; /* one per question */
    struct rec *next;
} rec;

struct pl_surveys {
    pl_alloc alloc;
    pl_sess *sess;
    pl_ctx *ctx;
    pl_journal *j;
    const pl_log *log;
    pl_proactive *proactive;
    rec *recs; /* in arrival order */
    size_t n_pending, n_finished;
    uint64_t next_order;
};

/* ---- records ------------------------------------------------------------------- */

static void answers_free(pl_surveys *sv, rec *r)
{
    for (size_t i = 0; r->ans && r->model && i < r->model->n_questions; i++)
        pl_free(&sv->alloc, r->ans[i].text);
    pl_free(&sv->alloc, r->ans);
    r->ans = NULL;
}

static void rec_free(pl_surveys *sv, rec *r)
{
    answers_free(sv, r);
    pl_survey_unref(r->model);
    pl_free(&sv->alloc, r);
}

static rec *rec_find(const pl_surveys *sv, const char *id)
{
    for (rec *r = sv->recs; r; r = r->next)
        if (strcmp(r->id, id) == 0)
            return r;
    return NULL;
}

/* Inserted by order (loading reads the journal in key order). */
static void rec_insert(pl_surveys *sv, rec *r)
{
    rec **pp = &sv->recs;
    while (*pp && (*pp)->order < r->order)
        pp = &(*pp)->next;
    r->next = *pp;
    *pp = r;
    if (r->status == ST_PENDING)
        sv->n_pending++;
    else
        sv->n_finished++;
    if (r->order >= sv->next_order)
        sv->next_order = r->order + 1;
}

static void rec_unlink(pl_surveys *sv, rec *r)
{
    rec **pp = &sv->recs;
    while (*pp != r)
        pp = &(*pp)->next;
    *pp = r->next;
    if (r->status == ST_PENDING)
        sv->n_pending--;
    else
        sv->n_finished--;
}

/* A pending record taking over `model` (its reference). */
static rec *rec_new(pl_surveys *sv, parley_survey *model, uint64_t order)
{
    rec *r = pl_calloc(&sv->alloc, 1, sizeof *r);
    if (r && !(r->ans = pl_calloc(&sv->alloc, model->n_questions, sizeof *r->ans))) {
        pl_free(&sv->alloc, r);
        r = NULL;
    }
    if (!r) {
        pl_survey_unref(model);
        return NULL;
    }
    snprintf(r->id, sizeof r->id, "%s", model->id);
    r->order = order;
    r->model = model;
    return r;
}

/* ---- journal ---------------------------------------------------------------- */

static void key_of(char *key, size_t size, char kind, const char *id)
{
    snprintf(key, size, "%c/%s", kind, id);
}

static int jput(pl_surveys *sv, char kind, const char *id, const char *value, size_t len)
{
    if (!sv->j)
        return PARLEY_OK;
    char key[PL_MAX_ID + 3];
    key_of(key, sizeof key, kind, id);
    int rc = pl_journal_put(sv->j, PL_SURVEYS_NS, key, value, len, 0);
    if (rc != PARLEY_OK)
        PL_LOG_W(sv->log, "survey %s: journal write failed (%d)", id, rc);
    return rc;
}

static void jdel(pl_surveys *sv, char kind, const char *id)
{
    char key[PL_MAX_ID + 3];
    key_of(key, sizeof key, kind, id);
    if (sv->j && pl_journal_del(sv->j, PL_SURVEYS_NS, key, 0) != PARLEY_OK)
        PL_LOG_W(sv->log, "survey %s: journal delete failed", id);
}

static int persist_definition(pl_surveys *sv, const rec *r)
{
    if (!sv->j)
        return PARLEY_OK;
    size_t flen = strlen(r->model->frame);
    char *v = pl_malloc(&sv->alloc, ORDER_DIGITS + 2 + flen);
    if (!v)
        return PARLEY_ERR_NOMEM;
    snprintf(v, ORDER_DIGITS + 2, "%0*llu\n", ORDER_DIGITS, (unsigned long long)r->order);
    memcpy(v + ORDER_DIGITS + 1, r->model->frame, flen);
    int rc = jput(sv, 'd', r->id, v, ORDER_DIGITS + 1 + flen);
    pl_free(&sv->alloc, v);
    return rc;
}

static int persist_answers(pl_surveys *sv, const rec *r)
{
    if (!sv->j)
        return PARLEY_OK;
    char *json = NULL;
    size_t len = 0;
    int rc = pl_proto_encode_survey_answers(&sv->alloc, r->model, r->ans, &json, &len);
    if (rc == PARLEY_OK)
        rc = jput(sv, 'a', r->id, json, len);
    pl_free(&sv->alloc, json);
    return rc;
}

static int persist_finished(pl_surveys *sv, const rec *r, int status)
{
    char v[ORDER_DIGITS + 3];
    snprintf(v, sizeof v, "%0*llu\n%c", ORDER_DIGITS, (unsigned long long)r->order,
             status == ST_SUBMITTED ? 's' : 'x');
    return jput(sv, 'f', r->id, v, ORDER_DIGITS + 2);
}

static int parse_order(const char *v, size_t len, uint64_t *order)
{
    if (len < ORDER_DIGITS + 1 || v[ORDER_DIGITS] != '\n')
        return 0;
    uint64_t o = 0;
    for (size_t i = 0; i < ORDER_DIGITS; i++) {
        if (v[i] < '0' || v[i] > '9' || o > (UINT64_MAX - 9) / 10)
            return 0;
        o = o * 10 + (uint64_t)(v[i] - '0');
    }
    *order = o;
    return 1;
}

/* A stored frame goes through the same strict decoder as a received one. */
static int load_definition(pl_surveys *sv, const char *id, const char *v, size_t len)
{
    uint64_t order;
    if (!parse_order(v, len, &order) || rec_find(sv, id))
        return PARLEY_OK;
    pl_frame f;
    parley_survey *model = NULL;
    int rc = pl_proto_decode(&sv->alloc, v + ORDER_DIGITS + 1, len - ORDER_DIGITS - 1, &f, NULL, 0);
    if (rc == PARLEY_OK) {
        rc = pl_proto_decode_survey(&sv->alloc, &f, &model, NULL, 0);
        pl_proto_frame_clear(&sv->alloc, &f);
    }
    if (rc == PARLEY_ERR_NOMEM)
        return rc;
    if (rc != PARLEY_OK || strcmp(model->id, id) != 0) {
        pl_survey_unref(model);
        PL_LOG_W(sv->log, "survey %s: unreadable definition in the journal skipped", id);
        return PARLEY_OK;
    }
    rec *r = rec_new(sv, model, order);
    if (!r)
        return PARLEY_ERR_NOMEM;
    rec_insert(sv, r);
    return PARLEY_OK;
}

static int load_finished(pl_surveys *sv, const char *id, const char *v, size_t len)
{
    uint64_t order;
    if (!parse_order(v, len, &order) || len != ORDER_DIGITS + 2 || rec_find(sv, id))
        return PARLEY_OK;
    rec *r = pl_calloc(&sv->alloc, 1, sizeof *r);
    if (!r)
        return PARLEY_ERR_NOMEM;
    snprintf(r->id, sizeof r->id, "%s", id);
    r->order = order;
    r->status = v[ORDER_DIGITS + 1] == 's' ? ST_SUBMITTED : ST_DISMISSED;
    rec_insert(sv, r);
    return PARLEY_OK;
}

/* Pass 1: finished ids; pass 2: definitions (skipping finished ones);
 * pass 3: answers. */
typedef struct load_ctx {
    pl_surveys *sv;
    char kind;
} load_ctx;

static int load_entry(void *user, const char *key, const void *value, size_t len)
{
    load_ctx *lc = user;
    pl_surveys *sv = lc->sv;
    if (key[0] != lc->kind || key[1] != '/' || !pl_id_valid(key + 2, PL_MAX_ID))
        return 0;
    const char *id = key + 2, *v = value;
    int rc = PARLEY_OK;
    if (lc->kind == 'f') {
        rc = load_finished(sv, id, v, len);
    } else if (lc->kind == 'd') {
        rc = load_definition(sv, id, v, len);
    } else {
        rec *r = rec_find(sv, id);
        if (r && r->model)
            rc = pl_proto_decode_survey_answers(&sv->alloc, r->model, v, len, r->ans);
    }
    return rc == PARLEY_ERR_NOMEM ? rc : 0;
}

static int journal_load(pl_surveys *sv)
{
    static const char kinds[] = {'f', 'd', 'a'};
    for (size_t i = 0; sv->j && i < sizeof kinds; i++) {
        load_ctx lc = {sv, kinds[i]};
        int rc = pl_journal_foreach(sv->j, PL_SURVEYS_NS, load_entry, &lc);
        if (rc != 0)
            return rc;
    }
    return PARLEY_OK;
}

/* ---- events and frames ------------------------------------------------------ */

static int report(pl_surveys *sv, rec *r)
{
    parley_event *ev = pl_event_new(&sv->alloc, PARLEY_EV_SURVEY);
    if (!ev || pl_event_set(ev, &ev->conv, r->model->conv) != PARLEY_OK) {
        parley_event_free(ev);
        return PARLEY_ERR_NOMEM;
    }
    pl_survey_ref(r->model);
    ev->survey = r->model;
    pl_sess_emit(sv->sess, ev);
    return PARLEY_OK;
}

/* A proactive survey held while muted: reported now, unless it was
 * answered meanwhile. */
static void release(void *user, const char *survey_id)
{
    pl_surveys *sv = user;
    rec *r = rec_find(sv, survey_id);
    if (r && r->held && r->status == ST_PENDING && report(sv, r) == PARLEY_OK)
        r->held = 0;
    else if (r && r->held)
        PL_LOG_W(sv->log, "survey %s not reported: out of memory (reported after a restart)",
                 r->id);
}

/* A new survey is kept (journaled) and reported, or held while proactive
 * content is muted. */
static int keep(pl_surveys *sv, parley_survey *model, int hold)
{
    rec *r = rec_new(sv, model, sv->next_order);
    if (!r)
        return PARLEY_ERR_NOMEM;
    if (persist_definition(sv, r) == PARLEY_ERR_NOMEM) {
        rec_free(sv, r);
        return PARLEY_ERR_NOMEM;
    }
    if (!hold && report(sv, r) != PARLEY_OK) {
        jdel(sv, 'd', r->id);
        rec_free(sv, r);
        return PARLEY_ERR_NOMEM;
    }
    rec_insert(sv, r);
    if (hold) {
        r->held = 1;
        pl_proactive_hold_survey(sv->proactive, r->id);
    }
    return PARLEY_OK;
}

static int on_survey(pl_surveys *sv, const pl_frame *f)
{
    char err[256] = "";
    parley_survey *model = NULL;
    int rc = pl_proto_decode_survey(&sv->alloc, f, &model, err, sizeof err);
    if (rc == PARLEY_ERR_PROTOCOL) {
        PL_LOG_W(sv->log, "%s", err);
        return pl_sess_emit_error(sv->sess, PARLEY_ERR_PROTOCOL, err);
    }
    if (rc != PARLEY_OK)
        return rc;
    if (rec_find(sv, model->id)) {
        PL_LOG_D(sv->log, "survey %s known already", model->id);
        pl_survey_unref(model);
        return PARLEY_OK;
    }
    int hold = model->proactive && pl_proactive_muted(sv->proactive);
    if (sv->n_pending >= PL_SURVEYS_MAX_PENDING || (hold && !pl_proactive_room(sv->proactive))) {
        /* The server sends it again after a later welcome. */
        PL_LOG_W(sv->log, "survey %s not kept: too many pending or held", model->id);
        pl_survey_unref(model);
        return PARLEY_OK;
    }
    return keep(sv, model, hold);
}

/* ---- session hooks ---------------------------------------------------------- */

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    (void)now;
    if (f->type != PL_FRAME_UNKNOWN || strcmp(f->type_name, "survey") != 0)
        return 0;
    return on_survey(user, f) == PARLEY_ERR_NOMEM ? PARLEY_ERR_NOMEM : 1;
}

static void forget_all(pl_surveys *sv)
{
    while (sv->recs) {
        rec *r = sv->recs;
        sv->recs = r->next;
        rec_free(sv, r);
    }
    sv->n_pending = sv->n_finished = 0;
}

static void on_logout(void *user)
{
    pl_surveys *sv = user;
    forget_all(sv);
    if (sv->j && pl_journal_clear_ns(sv->j, PL_SURVEYS_NS) != PARLEY_OK)
        PL_LOG_W(sv->log, "surveys: journal not cleared at logout");
}

/* ---- lifecycle -------------------------------------------------------------- */

pl_surveys *pl_surveys_new(const pl_alloc *a, pl_sess *sess, pl_ctx *ctx, pl_proactive *proactive,
                           pl_journal *journal, const pl_log *log)
{
    pl_surveys *sv = pl_calloc(a, 1, sizeof *sv);
    if (!sv)
        return NULL;
    sv->alloc = *a;
    sv->sess = sess;
    sv->ctx = ctx;
    sv->proactive = proactive;
    sv->j = journal;
    sv->log = log;
    sv->next_order = 1;
    int rc = journal_load(sv);
    /* The host gets every survey it has not answered again after a restart
     * (events are not kept across one). */
    for (rec *r = sv->recs; rc == PARLEY_OK && r; r = r->next)
        if (r->status == ST_PENDING)
            rc = report(sv, r);
    pl_sess_ext ext = {.user = sv, .on_frame = on_frame, .on_logout = on_logout};
    if (rc != PARLEY_OK || pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_surveys_free(sv);
        return NULL;
    }
    pl_proactive_on_release(proactive, release, sv);
    return sv;
}

void pl_surveys_free(pl_surveys *sv)
{
    if (!sv)
        return;
    forget_all(sv);
    pl_alloc a = sv->alloc;
    pl_free(&a, sv);
}

/* ---- host API --------------------------------------------------------------- */

static int find_pending(pl_surveys *sv, const char *survey_id, rec **out)
{
    if (!survey_id)
        return PARLEY_ERR_INVALID_ARG;
    rec *r = rec_find(sv, survey_id);
    if (!r)
        return PARLEY_ERR_NOT_FOUND;
    *out = r;
    return r->status == ST_PENDING ? PARLEY_OK : PARLEY_ERR_STATE;
}

int pl_surveys_check(pl_surveys *sv, const char *survey_id)
{
    rec *r;
    return find_pending(sv, survey_id, &r);
}

static uint32_t answer_mask(const parley_question *q, const pl_survey_answer *an)
{
    if (!an->set)
        return 0;
    return q->kind == PARLEY_Q_MULTI ? an->mask : 1u << an->value;
}

/* Which questions the answers so far show; show_if only names earlier
 * questions, so one pass in order settles every chain. */
static void visibility(const rec *r, unsigned char vis[PL_MAX_SURVEY_QUESTIONS])
{
    const parley_survey *s = r->model;
    for (size_t i = 0; i < s->n_questions; i++) {
        const parley_question *q = &s->questions[i];
        int ref = q->show_if;
        vis[i] =
            ref < 0 || (vis[ref] && (answer_mask(&s->questions[ref], &r->ans[ref]) & q->show_mask));
    }
}

/* The pending survey and its question `qid` of `kind` (0: any), shown. */
static int find_question(pl_surveys *sv, const char *survey_id, const char *qid, int kind, rec **r,
                         int *idx)
{
    int rc = find_pending(sv, survey_id, r);
    if (rc != PARLEY_OK)
        return rc;
    if (!qid)
        return PARLEY_ERR_INVALID_ARG;
    if ((*idx = pl_survey_find((*r)->model, qid)) < 0)
        return PARLEY_ERR_NOT_FOUND;
    if (kind && (*r)->model->questions[*idx].kind != kind)
        return PARLEY_ERR_INVALID_ARG;
    unsigned char vis[PL_MAX_SURVEY_QUESTIONS];
    visibility(*r, vis);
    return vis[*idx] ? PARLEY_OK : PARLEY_ERR_STATE;
}

/* Replaces answer idx with `an` (taking its text) and journals the lot.
 * A journal that cannot be written loses only this durability: the answer
 * still counts in memory. */
static int store_answer(pl_surveys *sv, rec *r, int idx, pl_survey_answer an)
{
    pl_survey_answer old = r->ans[idx];
    r->ans[idx] = an;
    int rc = persist_answers(sv, r);
    if (rc == PARLEY_ERR_NOMEM) {
        r->ans[idx] = old;
        pl_free(&sv->alloc, an.text);
        return rc;
    }
    pl_free(&sv->alloc, old.text);
    return PARLEY_OK;
}

int pl_surveys_answer_number(pl_surveys *sv, const char *survey_id, const char *qid, int value)
{
    rec *r;
    int idx;
    int rc = find_question(sv, survey_id, qid, 0, &r, &idx);
    if (rc != PARLEY_OK)
        return rc;
    const parley_question *q = &r->model->questions[idx];
    if (q->kind != PARLEY_Q_RATING && q->kind != PARLEY_Q_NPS)
        return PARLEY_ERR_INVALID_ARG;
    if (value < q->min || value > q->max)
        return PARLEY_ERR_RANGE;
    return store_answer(sv, r, idx, (pl_survey_answer){.set = 1, .value = value});
}

int pl_surveys_answer_choice(pl_surveys *sv, const char *survey_id, const char *qid,
                             const char *option)
{
    rec *r;
    int idx;
    int rc = find_question(sv, survey_id, qid, PARLEY_Q_SINGLE, &r, &idx);
    if (rc != PARLEY_OK)
        return rc;
    if (!option)
        return PARLEY_ERR_INVALID_ARG;
    int j = pl_survey_option_index(&r->model->questions[idx], option);
    if (j < 0)
        return PARLEY_ERR_NOT_FOUND;
    return store_answer(sv, r, idx, (pl_survey_answer){.set = 1, .value = j});
}

int pl_surveys_answer_choices(pl_surveys *sv, const char *survey_id, const char *qid,
                              const char *const *ids, size_t n)
{
    rec *r;
    int idx;
    int rc = find_question(sv, survey_id, qid, PARLEY_Q_MULTI, &r, &idx);
    if (rc != PARLEY_OK)
        return rc;
    const parley_question *q = &r->model->questions[idx];
    if (n && !ids)
        return PARLEY_ERR_INVALID_ARG;
    /* More ids than options cannot be distinct (nor within max). */
    if (n > q->n_options)
        return PARLEY_ERR_RANGE;
    uint32_t mask = 0;
    for (size_t k = 0; k < n; k++) {
        if (!ids[k])
            return PARLEY_ERR_INVALID_ARG;
        int j = pl_survey_option_index(q, ids[k]);
        if (j < 0)
            return PARLEY_ERR_NOT_FOUND;
        if (mask & (1u << j))
            return PARLEY_ERR_INVALID_ARG;
        mask |= 1u << j;
    }
    if ((int)n < q->min || (int)n > q->max)
        return PARLEY_ERR_RANGE;
    return store_answer(sv, r, idx, (pl_survey_answer){.set = 1, .mask = mask});
}

int pl_surveys_answer_text(pl_surveys *sv, const char *survey_id, const char *qid, const char *text)
{
    rec *r;
    int idx;
    int rc = find_question(sv, survey_id, qid, PARLEY_Q_TEXT, &r, &idx);
    if (rc != PARLEY_OK)
        return rc;
    const parley_question *q = &r->model->questions[idx];
    if (!text || !*text)
        return PARLEY_ERR_INVALID_ARG;
    size_t len = strnlen(text, (size_t)q->max_length + 1);
    if (len > q->max_length)
        return PARLEY_ERR_TOO_LONG;
    if (!pl_utf8_valid(text, len))
        return PARLEY_ERR_INVALID_ARG;
    char *red = NULL;
    if ((rc = pl_ctx_redact(sv->ctx, PARLEY_FIELD_SURVEY, text, &red)) != PARLEY_OK)
        return rc;
    if (!*red) { /* the host's hook emptied it */
        pl_free(&sv->alloc, red);
        return PARLEY_ERR_INVALID_ARG;
    }
    return store_answer(sv, r, idx, (pl_survey_answer){.set = 1, .text = red});
}

int pl_surveys_clear_answer(pl_surveys *sv, const char *survey_id, const char *qid)
{
    rec *r;
    int rc = find_pending(sv, survey_id, &r);
    if (rc != PARLEY_OK)
        return rc;
    int idx = qid ? pl_survey_find(r->model, qid) : -1;
    if (!qid)
        return PARLEY_ERR_INVALID_ARG;
    if (idx < 0)
        return PARLEY_ERR_NOT_FOUND;
    return r->ans[idx].set ? store_answer(sv, r, idx, (pl_survey_answer){0}) : PARLEY_OK;
}

int pl_surveys_visible(pl_surveys *sv, const char *survey_id, const char *qid)
{
    rec *r;
    int rc = find_pending(sv, survey_id, &r);
    if (rc != PARLEY_OK)
        return rc;
    int idx = qid ? pl_survey_find(r->model, qid) : -1;
    if (idx < 0)
        return qid ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_INVALID_ARG;
    unsigned char vis[PL_MAX_SURVEY_QUESTIONS];
    visibility(r, vis);
    return vis[idx];
}

/* Submitted or dismissed: the definition and answers go, the id stays (a
 * resend from the server is recognised) among the last PL_SURVEYS_MAX_FINISHED. */
static void finish(pl_surveys *sv, rec *r, int status)
{
    rec_unlink(sv, r);
    answers_free(sv, r);
    pl_survey_unref(r->model);
    r->model = NULL;
    r->held = 0;
    r->status = status;
    rec_insert(sv, r);
    jdel(sv, 'd', r->id);
    jdel(sv, 'a', r->id);
    while (sv->n_finished > PL_SURVEYS_MAX_FINISHED) {
        rec *old = sv->recs;
        while (old->status == ST_PENDING)
            old = old->next;
        rec_unlink(sv, old);
        jdel(sv, 'f', old->id);
        rec_free(sv, old);
    }
}

/* The finished mark is written first, unsynced: the item's synced put
 * makes both durable together. */
static int enqueue_final(pl_surveys *sv, rec *r, int status, char *frame, size_t len,
                         const char *cid)
{
    int rc = persist_finished(sv, r, status);
    if (rc != PARLEY_OK) {
        pl_free(&sv->alloc, frame);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
    }
    rc = pl_sess_enqueue(sv->sess, PL_SESS_ITEM_REPORTED, NULL, cid, frame, len);
    if (rc != PARLEY_OK) {
        jdel(sv, 'f', r->id);
        return rc;
    }
    finish(sv, r, status);
    return PARLEY_OK;
}

int pl_surveys_submit(pl_surveys *sv, const char *survey_id, char missing[PL_MAX_ID + 1],
                      char cid[PARLEY_ID_SIZE])
{
    rec *r;
    int rc = find_pending(sv, survey_id, &r);
    if (rc != PARLEY_OK)
        return rc;
    const parley_survey *s = r->model;
    unsigned char vis[PL_MAX_SURVEY_QUESTIONS];
    pl_survey_answer shown[PL_MAX_SURVEY_QUESTIONS];
    visibility(r, vis);
    for (size_t i = 0; i < s->n_questions; i++) {
        if (vis[i] && s->questions[i].required && !r->ans[i].set) {
            snprintf(missing, PL_MAX_ID + 1, "%s", s->questions[i].id);
            return PARLEY_ERR_INCOMPLETE;
        }
        shown[i] = r->ans[i];
        shown[i].set = r->ans[i].set && vis[i];
    }
    char *answers = NULL, *frame = NULL;
    size_t len = 0;
    rc = pl_proto_encode_survey_answers(&sv->alloc, s, shown, &answers, NULL);
    if (rc == PARLEY_OK)
        rc = pl_sess_mint_cid(sv->sess, cid);
    if (rc == PARLEY_OK)
        rc = pl_proto_encode_survey_submit(&sv->alloc, cid, r->id, answers, &frame, &len);
    pl_free(&sv->alloc, answers);
    return rc == PARLEY_OK ? enqueue_final(sv, r, ST_SUBMITTED, frame, len, cid) : rc;
}

int pl_surveys_dismiss(pl_surveys *sv, const char *survey_id, char cid[PARLEY_ID_SIZE])
{
    rec *r;
    int rc = find_pending(sv, survey_id, &r);
    if (rc != PARLEY_OK)
        return rc;
    char *frame = NULL;
    size_t len = 0;
    rc = pl_sess_mint_cid(sv->sess, cid);
    if (rc == PARLEY_OK)
        rc = pl_proto_encode_survey_dismiss(&sv->alloc, cid, r->id, &frame, &len);
    return rc == PARLEY_OK ? enqueue_final(sv, r, ST_DISMISSED, frame, len, cid) : rc;
}
