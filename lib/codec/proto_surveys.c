/* Codec for surveys (docs/protocol.md, "survey", "survey.submit",
 * "survey.dismiss"): a survey frame into the model, answers out and back
 * (the journal keeps them as the wire writes them). */
#include "codec/proto_surveys.h"

#include <stdio.h>
#include <string.h>

#include "codec/json.h"
#include "util/utf8.h"

/* ---- decoding a survey ------------------------------------------------------ */

static const char *const kinds[] = {"rating", "nps", "single", "multi", "text"};

/* A string member of 1..max bytes (0..max with allow_empty). */
static int get_text(pl_json_dec *d, const cJSON *obj, const char *key, int required, size_t max,
                    char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (!v)
        return required ? pl_json_bad(d, "%s'%s' missing", d->where, key) : PARLEY_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max)
        return pl_json_bad(d, "%s'%s' must be a string of 1..%zu bytes", d->where, key, max);
    *dst = pl_strdup(d->a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int get_int(pl_json_dec *d, const cJSON *obj, const char *key, int lo, int hi, int *dst)
{
    const cJSON *v = pl_json_member(obj, key);
    int64_t x;
    if (!v)
        return PARLEY_OK;
    if (!pl_json_integral_in(v, lo, hi, &x))
        return pl_json_bad(d, "%s'%s' must be an integer in %d..%d", d->where, key, lo, hi);
    *dst = (int)x;
    return PARLEY_OK;
}

static int decode_options(pl_json_dec *d, const cJSON *qj, parley_question *q)
{
    const cJSON *opts = pl_json_member(qj, "options");
    if (!cJSON_IsArray(opts))
        return pl_json_bad(d, "%s'options' missing", d->where);
    size_t n = 0;
    for (const cJSON *o = opts->child; o && n <= PL_MAX_SURVEY_OPTIONS; o = o->next)
        n++;
    if (n == 0 || n > PL_MAX_SURVEY_OPTIONS)
        return pl_json_bad(d, "%s'options' must hold 1..%d options", d->where,
                           PL_MAX_SURVEY_OPTIONS);
    if (!(q->options = pl_calloc(d->a, n, sizeof *q->options)))
        return PARLEY_ERR_NOMEM;
    q->n_options = n;
    size_t j = 0;
    for (const cJSON *o = opts->child; o; o = o->next, j++) {
        const cJSON *id = pl_json_member(o, "id");
        if (!cJSON_IsObject(o) || !cJSON_IsString(id) || !pl_id_valid(id->valuestring, PL_MAX_ID))
            return pl_json_bad(d, "%soption %zu: bad 'id'", d->where, j + 1);
        for (size_t k = 0; k < j; k++)
            if (strcmp(q->options[k].id, id->valuestring) == 0)
                return pl_json_bad(d, "%sduplicate option id \"%s\"", d->where, id->valuestring);
        int rc = pl_json_get_id(d, o, "id", 1, &q->options[j].id);
        if (rc == PARLEY_OK)
            rc = get_text(d, o, "label", 1, PL_MAX_SURVEY_LABEL, &q->options[j].label);
        if (rc != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

static int decode_kind_rules(pl_json_dec *d, const cJSON *qj, parley_question *q)
{
    int rc = PARLEY_OK;
    switch (q->kind) {
    case PARLEY_Q_RATING:
        q->min = 1;
        q->max = 5;
        if ((rc = get_int(d, qj, "min", 0, 10, &q->min)) ||
            (rc = get_int(d, qj, "max", 0, 10, &q->max)))
            return rc;
        if (q->min >= q->max)
            return pl_json_bad(d, "%smin %d not below max %d", d->where, q->min, q->max);
        break;
    case PARLEY_Q_NPS:
        q->min = 0;
        q->max = 10;
        break;
    case PARLEY_Q_SINGLE: return decode_options(d, qj, q);
    case PARLEY_Q_MULTI:
        if ((rc = decode_options(d, qj, q)))
            return rc;
        q->min = 0;
        q->max = (int)q->n_options;
        if ((rc = get_int(d, qj, "min", 0, PL_MAX_SURVEY_OPTIONS, &q->min)) ||
            (rc = get_int(d, qj, "max", 1, PL_MAX_SURVEY_OPTIONS, &q->max)))
            return rc;
        if (q->min > q->max || q->max > (int)q->n_options)
            return pl_json_bad(d, "%sselection bounds %d..%d do not fit %zu options", d->where,
                               q->min, q->max, q->n_options);
        return PARLEY_OK;
    case PARLEY_Q_TEXT: {
        int len = PL_DEFAULT_SURVEY_ANSWER;
        rc = get_int(d, qj, "max_length", 1, PL_MAX_SURVEY_ANSWER, &len);
        q->max_length = (uint32_t)len;
        return rc;
    }
    }
    if ((rc = get_text(d, qj, "min_label", 0, PL_MAX_SURVEY_LABEL, &q->min_label)))
        return rc;
    return get_text(d, qj, "max_label", 0, PL_MAX_SURVEY_LABEL, &q->max_label);
}

/* One `in` value of a condition on question `ref`: its bit in show_mask
 * and its text. */
static int condition_value(pl_json_dec *d, const parley_question *ref, const cJSON *v,
                           uint32_t *bit, char buf[PL_MAX_ID + 1])
{
    if (ref->kind == PARLEY_Q_RATING || ref->kind == PARLEY_Q_NPS) {
        int64_t x;
        if (!pl_json_integral_in(v, ref->min, ref->max, &x))
            return pl_json_bad(d, "%sshow_if value outside %d..%d", d->where, ref->min, ref->max);
        *bit = 1u << x;
        snprintf(buf, PL_MAX_ID + 1, "%d", (int)x);
        return PARLEY_OK;
    }
    int j = cJSON_IsString(v) ? pl_survey_option_index(ref, v->valuestring) : -1;
    if (j < 0)
        return pl_json_bad(d, "%sshow_if names an option question \"%s\" does not have", d->where,
                           ref->id);
    *bit = 1u << j;
    snprintf(buf, PL_MAX_ID + 1, "%s", v->valuestring);
    return PARLEY_OK;
}

static int decode_condition(pl_json_dec *d, const cJSON *qj, parley_survey *s, size_t i)
{
    parley_question *q = &s->questions[i];
    const cJSON *show;
    int rc = pl_json_get_object(d, qj, "show_if", 0, &show);
    if (rc || !show)
        return rc ? pl_json_bad(d, "%s'show_if' must be an object", d->where) : PARLEY_OK;
    const cJSON *qn = pl_json_member(show, "question"), *in = pl_json_member(show, "in");
    int ref = cJSON_IsString(qn) ? pl_survey_find(s, qn->valuestring) : -1;
    if (ref < 0 || (size_t)ref >= i)
        return pl_json_bad(d, "%sshow_if must name an earlier question", d->where);
    const parley_question *rq = &s->questions[ref];
    if (rq->kind == PARLEY_Q_TEXT)
        return pl_json_bad(d, "%sshow_if cannot depend on a text question", d->where);
    size_t n = 0;
    for (const cJSON *v = cJSON_IsArray(in) ? in->child : NULL; v && n <= PL_MAX_SURVEY_OPTIONS;
         v = v->next)
        n++;
    if (n == 0 || n > PL_MAX_SURVEY_OPTIONS)
        return pl_json_bad(d, "%sshow_if 'in' must hold 1..%d values", d->where,
                           PL_MAX_SURVEY_OPTIONS);
    if (!(q->show_values = pl_calloc(d->a, n, sizeof *q->show_values)))
        return PARLEY_ERR_NOMEM;
    q->show_if = ref;
    q->show_if_id = s->questions[ref].id;
    for (const cJSON *v = in->child; v; v = v->next) {
        uint32_t bit = 0;
        char buf[PL_MAX_ID + 1];
        if ((rc = condition_value(d, rq, v, &bit, buf)))
            return rc;
        if (!(q->show_values[q->n_show_values] = pl_strdup(d->a, buf)))
            return PARLEY_ERR_NOMEM;
        q->n_show_values++;
        q->show_mask |= bit;
    }
    return PARLEY_OK;
}

static int decode_question(pl_json_dec *d, const cJSON *qj, parley_survey *s, size_t i)
{
    parley_question *q = &s->questions[i];
    q->show_if = -1;
    if (!cJSON_IsObject(qj))
        return pl_json_bad(d, "%snot an object", d->where);
    const cJSON *id = pl_json_member(qj, "id");
    if (!cJSON_IsString(id) || !pl_id_valid(id->valuestring, PL_MAX_ID))
        return pl_json_bad(d, "%sbad 'id'", d->where);
    if (pl_survey_find(s, id->valuestring) >= 0)
        return pl_json_bad(d, "%sduplicate question id \"%s\"", d->where, id->valuestring);
    const cJSON *kind = pl_json_member(qj, "kind"), *req = pl_json_member(qj, "required");
    int rc = pl_json_get_id(d, qj, "id", 1, &q->id);
    if (rc)
        return rc;
    if (!cJSON_IsString(kind) || pl_json_get_enum(d, qj, "kind", kinds, 5, &q->kind) != PARLEY_OK)
        return pl_json_bad(d, "%sunknown kind \"%s\"", d->where,
                           cJSON_IsString(kind) ? kind->valuestring : "?");
    if (req && !cJSON_IsBool(req))
        return pl_json_bad(d, "%s'required' must be a boolean", d->where);
    q->required = cJSON_IsTrue(req);
    if ((rc = get_text(d, qj, "text", 1, PL_MAX_SURVEY_TEXT, &q->text)) ||
        (rc = decode_kind_rules(d, qj, q)))
        return rc;
    return decode_condition(d, qj, s, i);
}

static int decode_questions(pl_json_dec *d, const cJSON *sj, parley_survey *s, char *where,
                            size_t where_size)
{
    const cJSON *qs = pl_json_member(sj, "questions");
    if (!cJSON_IsArray(qs))
        return pl_json_bad(d, "'questions' missing");
    size_t n = 0;
    /* A hostile survey of 10,000 questions costs 51 steps. */
    for (const cJSON *q = qs->child; q && n <= PL_MAX_SURVEY_QUESTIONS; q = q->next)
        n++;
    if (n == 0 || n > PL_MAX_SURVEY_QUESTIONS)
        return pl_json_bad(d, "it must have 1..%d questions", PL_MAX_SURVEY_QUESTIONS);
    if (!(s->questions = pl_calloc(d->a, n, sizeof *s->questions)))
        return PARLEY_ERR_NOMEM;
    size_t i = 0;
    for (const cJSON *q = qs->child; q; q = q->next, i++) {
        snprintf(where, where_size, "question %zu: ", i + 1);
        d->where = where;
        s->n_questions = i + 1;
        int rc = decode_question(d, q, s, i);
        if (rc)
            return rc;
    }
    d->where = "";
    return PARLEY_OK;
}

static int print_json(const pl_alloc *a, const cJSON *node, char **out)
{
    char *text = cJSON_PrintUnformatted(node);
    if (!text)
        return PARLEY_ERR_NOMEM;
    *out = pl_strdup(a, text);
    cJSON_free(text);
    return *out ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int decode_survey_body(pl_json_dec *d, const cJSON *root, parley_survey *s, char *where,
                              size_t where_size)
{
    const cJSON *sj, *pro = pl_json_member(root, "proactive");
    int rc = pl_json_get_object(d, root, "survey", 1, &sj);
    if (rc)
        return pl_json_bad(d, "'survey' missing");
    if ((rc = pl_json_get_id(d, sj, "id", 1, &s->id)))
        return pl_json_bad(d, "'survey.id' missing or bad");
    if ((rc = pl_json_get_id(d, root, "conv", 0, &s->conv)))
        return pl_json_bad(d, "bad 'conv'");
    if (pro && !cJSON_IsBool(pro))
        return pl_json_bad(d, "'proactive' must be a boolean");
    s->proactive = cJSON_IsTrue(pro);
    if ((rc = get_text(d, sj, "name", 0, PL_MAX_SURVEY_LABEL, &s->name)) ||
        (rc = get_text(d, sj, "title", 1, PL_MAX_SURVEY_TEXT, &s->title)) ||
        (rc = get_text(d, sj, "intro", 0, PL_MAX_SURVEY_TEXT, &s->intro)) ||
        (rc = decode_questions(d, sj, s, where, where_size)))
        return rc;
    if ((rc = print_json(d->a, sj, &s->json)))
        return rc;
    return print_json(d->a, root, &s->frame);
}

int pl_proto_decode_survey(const pl_alloc *a, const pl_frame *f, parley_survey **out, char *err,
                           size_t err_size)
{
    const cJSON *root = f ? f->doc : NULL;
    *out = NULL;
    if (!root)
        return PARLEY_ERR_INVALID_ARG;
    parley_survey *s = pl_survey_new(a);
    if (!s)
        return PARLEY_ERR_NOMEM;
    char why[160] = "", where[32] = "";
    pl_json_dec d = {a, why, sizeof why, ""};
    int rc = decode_survey_body(&d, root, s, where, sizeof where);
    if (rc == PARLEY_ERR_PROTOCOL && err && err_size) {
        const cJSON *sj = pl_json_member(root, "survey"),
                    *id = sj ? pl_json_member(sj, "id") : NULL;
        snprintf(err, err_size, "survey \"%.128s\" rejected: %s",
                 cJSON_IsString(id) && pl_id_valid(id->valuestring, PL_MAX_ID) ? id->valuestring
                                                                               : "?",
                 why);
    }
    if (rc != PARLEY_OK) {
        pl_survey_unref(s);
        return rc;
    }
    *out = s;
    return PARLEY_OK;
}

/* ---- answers ------------------------------------------------------------ */

static cJSON *answer_json(const parley_question *q, const pl_survey_answer *an)
{
    switch (q->kind) {
    case PARLEY_Q_RATING:
    case PARLEY_Q_NPS: return cJSON_CreateNumber(an->value);
    case PARLEY_Q_SINGLE: return cJSON_CreateString(q->options[an->value].id);
    case PARLEY_Q_TEXT: return cJSON_CreateString(an->text ? an->text : "");
    default: break;
    }
    cJSON *arr = cJSON_CreateArray();
    for (size_t j = 0; arr && j < q->n_options; j++) {
        if (!(an->mask & (1u << j)))
            continue;
        cJSON *v = cJSON_CreateString(q->options[j].id);
        if (!v || !cJSON_AddItemToArray(arr, v)) {
            cJSON_Delete(v);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

int pl_proto_encode_survey_answers(const pl_alloc *a, const parley_survey *s,
                                   const pl_survey_answer *ans, char **out, size_t *out_len)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = 1;
    for (size_t i = 0; ok && i < s->n_questions; i++) {
        if (!ans[i].set)
            continue;
        cJSON *v = answer_json(&s->questions[i], &ans[i]);
        ok = v && cJSON_AddItemToObject(root, s->questions[i].id, v);
        if (!ok)
            cJSON_Delete(v);
    }
    return pl_json_finish(a, root, ok, out, out_len);
}

/* One stored answer checked against its question again; 0 when it does not
 * fit (a journal from another version). */
static int answer_from_json(const pl_alloc *a, const parley_question *q, const cJSON *v,
                            pl_survey_answer *an)
{
    int64_t x;
    switch (q->kind) {
    case PARLEY_Q_RATING:
    case PARLEY_Q_NPS:
        if (!pl_json_integral_in(v, q->min, q->max, &x))
            return 0;
        an->value = (int)x;
        return 1;
    case PARLEY_Q_SINGLE:
        an->value = cJSON_IsString(v) ? pl_survey_option_index(q, v->valuestring) : -1;
        return an->value >= 0;
    case PARLEY_Q_TEXT:
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > q->max_length)
            return 0;
        return (an->text = pl_strdup(a, v->valuestring)) != NULL ? 1 : -1;
    default: break;
    }
    if (!cJSON_IsArray(v))
        return 0;
    int n = 0;
    for (const cJSON *it = v->child; it; it = it->next) {
        int j = cJSON_IsString(it) ? pl_survey_option_index(q, it->valuestring) : -1;
        if (j < 0 || (an->mask & (1u << j)))
            return 0;
        an->mask |= 1u << j;
        n++;
    }
    return n >= q->min && n <= q->max;
}

int pl_proto_decode_survey_answers(const pl_alloc *a, const parley_survey *s, const char *json,
                                   size_t len, pl_survey_answer *ans)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return PARLEY_OK; /* unreadable: nothing to resume */
    for (size_t i = 0; i < s->n_questions; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, s->questions[i].id);
        if (!v)
            continue;
        pl_survey_answer an = {0};
        int ok = answer_from_json(a, &s->questions[i], v, &an);
        if (ok < 0) {
            cJSON_Delete(root);
            return PARLEY_ERR_NOMEM;
        }
        if (ok) {
            an.set = 1;
            ans[i] = an;
        }
    }
    cJSON_Delete(root);
    return PARLEY_OK;
}

int pl_proto_encode_survey_submit(const pl_alloc *a, const char *cid, const char *survey,
                                  const char *answers, char **out, size_t *out_len)
{
    if (!cid || !survey || !answers || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("survey.submit");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "survey", survey) &&
             cJSON_AddRawToObject(root, "answers", answers);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_survey_dismiss(const pl_alloc *a, const char *cid, const char *survey,
                                   char **out, size_t *out_len)
{
    if (!cid || !survey || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("survey.dismiss");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(
        a, root, pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "survey", survey), out,
        out_len);
}
