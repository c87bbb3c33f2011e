/* Codec for surveys and proactive messages (docs/protocol.md, "survey",
 * "survey.submit", "survey.dismiss", "proactive", "proactive.ack"). */
#include <stdio.h>
#include <string.h>

#include "proto_internal.h"
#include "rich.h"
#include "survey.h"
#include "util/utf8.h"

/* ---- the model ------------------------------------------------------------ */

void psv_model_ref(parley_survey *s)
{
    atomic_fetch_add(&s->refs, 1);
}

static void question_free(const palloc *a, parley_question *q)
{
    pfree(a, q->id);
    pfree(a, q->text);
    pfree(a, q->min_label);
    pfree(a, q->max_label);
    for (size_t j = 0; q->options && j < q->n_options; j++) {
        pfree(a, q->options[j].id);
        pfree(a, q->options[j].label);
    }
    pfree(a, q->options);
    for (size_t j = 0; q->show_values && j < q->n_show_values; j++)
        pfree(a, q->show_values[j]);
    pfree(a, q->show_values);
}

static void model_free(parley_survey *s)
{
    palloc a = s->alloc;
    for (size_t i = 0; s->questions && i < s->n_questions; i++)
        question_free(&a, &s->questions[i]);
    pfree(&a, s->questions);
    char *strs[] = {s->id, s->name, s->title, s->intro, s->conv, s->json, s->frame};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        pfree(&a, strs[i]);
    pfree(&a, s);
}

void psv_model_unref(parley_survey *s)
{
    if (s && atomic_fetch_sub(&s->refs, 1) == 1)
        model_free(s);
}

int psv_model_find(const parley_survey *s, const char *qid)
{
    for (size_t i = 0; qid && i < s->n_questions; i++)
        if (s->questions[i].id && strcmp(s->questions[i].id, qid) == 0)
            return (int)i;
    return -1;
}

/* ---- decoding a survey ------------------------------------------------------ */

static const char *const kinds[] = {"rating", "nps", "single", "multi", "text"};

/* A string member of 1..max bytes (0..max with allow_empty). */
static int get_text(dctx *d, const cJSON *obj, const char *key, int required, size_t max, char **dst)
{
    const cJSON *v = member(obj, key);
    if (!v)
        return required ? bad(d, "%s'%s' missing", d->where, key) : PARLEY_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > max)
        return bad(d, "%s'%s' must be a string of 1..%zu bytes", d->where, key, max);
    *dst = pstrdup(d->a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int get_int(dctx *d, const cJSON *obj, const char *key, int lo, int hi, int *dst)
{
    const cJSON *v = member(obj, key);
    int64_t x;
    if (!v)
        return PARLEY_OK;
    if (!integral_in(v, lo, hi, &x))
        return bad(d, "%s'%s' must be an integer in %d..%d", d->where, key, lo, hi);
    *dst = (int)x;
    return PARLEY_OK;
}

static int decode_options(dctx *d, const cJSON *qj, parley_question *q)
{
    const cJSON *opts = member(qj, "options");
    if (!cJSON_IsArray(opts))
        return bad(d, "%s'options' missing", d->where);
    size_t n = 0;
    for (const cJSON *o = opts->child; o && n <= PSV_MAX_OPTIONS; o = o->next)
        n++;
    if (n == 0 || n > PSV_MAX_OPTIONS)
        return bad(d, "%s'options' must hold 1..%d options", d->where, PSV_MAX_OPTIONS);
    if (!(q->options = pcalloc(d->a, n, sizeof *q->options)))
        return PARLEY_ERR_NOMEM;
    q->n_options = n;
    size_t j = 0;
    for (const cJSON *o = opts->child; o; o = o->next, j++) {
        const cJSON *id = member(o, "id");
        if (!cJSON_IsObject(o) || !cJSON_IsString(id) || !pid_valid(id->valuestring, PROTO_MAX_ID))
            return bad(d, "%soption %zu: bad 'id'", d->where, j + 1);
        for (size_t k = 0; k < j; k++)
            if (strcmp(q->options[k].id, id->valuestring) == 0)
                return bad(d, "%sduplicate option id \"%s\"", d->where, id->valuestring);
        int rc = get_id(d, o, "id", 1, &q->options[j].id);
        if (rc == PARLEY_OK)
            rc = get_text(d, o, "label", 1, PSV_MAX_LABEL, &q->options[j].label);
        if (rc != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

static int decode_kind_rules(dctx *d, const cJSON *qj, parley_question *q)
{
    int rc = PARLEY_OK;
    switch (q->kind) {
    case PARLEY_Q_RATING:
        q->min = 1;
        q->max = 5;
        if ((rc = get_int(d, qj, "min", 0, 10, &q->min)) || (rc = get_int(d, qj, "max", 0, 10, &q->max)))
            return rc;
        if (q->min >= q->max)
            return bad(d, "%smin %d not below max %d", d->where, q->min, q->max);
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
        if ((rc = get_int(d, qj, "min", 0, PSV_MAX_OPTIONS, &q->min)) ||
            (rc = get_int(d, qj, "max", 1, PSV_MAX_OPTIONS, &q->max)))
            return rc;
        if (q->min > q->max || q->max > (int)q->n_options)
            return bad(d, "%sselection bounds %d..%d do not fit %zu options", d->where, q->min, q->max,
                       q->n_options);
        return PARLEY_OK;
    case PARLEY_Q_TEXT: {
        int len = PSV_DEFAULT_ANSWER;
        rc = get_int(d, qj, "max_length", 1, PSV_MAX_ANSWER, &len);
        q->max_length = (uint32_t)len;
        return rc;
    }
    }
    if ((rc = get_text(d, qj, "min_label", 0, PSV_MAX_LABEL, &q->min_label)))
        return rc;
    return get_text(d, qj, "max_label", 0, PSV_MAX_LABEL, &q->max_label);
}

static int option_index(const parley_question *q, const char *id)
{
    for (size_t j = 0; j < q->n_options; j++)
        if (strcmp(q->options[j].id, id) == 0)
            return (int)j;
    return -1;
}

/* One `in` value of a condition on question `ref`: its bit in show_mask
 * and its text. */
static int condition_value(dctx *d, const parley_question *ref, const cJSON *v, uint32_t *bit, char buf[PROTO_MAX_ID + 1])
{
    if (ref->kind == PARLEY_Q_RATING || ref->kind == PARLEY_Q_NPS) {
        int64_t x;
        if (!integral_in(v, ref->min, ref->max, &x))
            return bad(d, "%sshow_if value outside %d..%d", d->where, ref->min, ref->max);
        *bit = 1u << x;
        snprintf(buf, PROTO_MAX_ID + 1, "%d", (int)x);
        return PARLEY_OK;
    }
    int j = cJSON_IsString(v) ? option_index(ref, v->valuestring) : -1;
    if (j < 0)
        return bad(d, "%sshow_if names an option question \"%s\" does not have", d->where, ref->id);
    *bit = 1u << j;
    snprintf(buf, PROTO_MAX_ID + 1, "%s", v->valuestring);
    return PARLEY_OK;
}

static int decode_condition(dctx *d, const cJSON *qj, parley_survey *s, size_t i)
{
    parley_question *q = &s->questions[i];
    const cJSON *show;
    int rc = get_object(d, qj, "show_if", 0, &show);
    if (rc || !show)
        return rc ? bad(d, "%s'show_if' must be an object", d->where) : PARLEY_OK;
    const cJSON *qn = member(show, "question"), *in = member(show, "in");
    int ref = cJSON_IsString(qn) ? psv_model_find(s, qn->valuestring) : -1;
    if (ref < 0 || (size_t)ref >= i)
        return bad(d, "%sshow_if must name an earlier question", d->where);
    const parley_question *rq = &s->questions[ref];
    if (rq->kind == PARLEY_Q_TEXT)
        return bad(d, "%sshow_if cannot depend on a text question", d->where);
    size_t n = 0;
    for (const cJSON *v = cJSON_IsArray(in) ? in->child : NULL; v && n <= PSV_MAX_OPTIONS; v = v->next)
        n++;
    if (n == 0 || n > PSV_MAX_OPTIONS)
        return bad(d, "%sshow_if 'in' must hold 1..%d values", d->where, PSV_MAX_OPTIONS);
    if (!(q->show_values = pcalloc(d->a, n, sizeof *q->show_values)))
        return PARLEY_ERR_NOMEM;
    q->show_if = ref;
    q->show_if_id = s->questions[ref].id;
    for (const cJSON *v = in->child; v; v = v->next) {
        uint32_t bit = 0;
        char buf[PROTO_MAX_ID + 1];
        if ((rc = condition_value(d, rq, v, &bit, buf)))
            return rc;
        if (!(q->show_values[q->n_show_values] = pstrdup(d->a, buf)))
            return PARLEY_ERR_NOMEM;
        q->n_show_values++;
        q->show_mask |= bit;
    }
    return PARLEY_OK;
}

static int decode_question(dctx *d, const cJSON *qj, parley_survey *s, size_t i)
{
    parley_question *q = &s->questions[i];
    q->show_if = -1;
    if (!cJSON_IsObject(qj))
        return bad(d, "%snot an object", d->where);
    const cJSON *id = member(qj, "id");
    if (!cJSON_IsString(id) || !pid_valid(id->valuestring, PROTO_MAX_ID))
        return bad(d, "%sbad 'id'", d->where);
    if (psv_model_find(s, id->valuestring) >= 0)
        return bad(d, "%sduplicate question id \"%s\"", d->where, id->valuestring);
    const cJSON *kind = member(qj, "kind"), *req = member(qj, "required");
    int rc = get_id(d, qj, "id", 1, &q->id);
    if (rc)
        return rc;
    if (!cJSON_IsString(kind) || get_enum(d, qj, "kind", kinds, 5, &q->kind) != PARLEY_OK)
        return bad(d, "%sunknown kind \"%s\"", d->where, cJSON_IsString(kind) ? kind->valuestring : "?");
    if (req && !cJSON_IsBool(req))
        return bad(d, "%s'required' must be a boolean", d->where);
    q->required = cJSON_IsTrue(req);
    if ((rc = get_text(d, qj, "text", 1, PSV_MAX_TEXT, &q->text)) || (rc = decode_kind_rules(d, qj, q)))
        return rc;
    return decode_condition(d, qj, s, i);
}

static int decode_questions(dctx *d, const cJSON *sj, parley_survey *s, char *where, size_t where_size)
{
    const cJSON *qs = member(sj, "questions");
    if (!cJSON_IsArray(qs))
        return bad(d, "'questions' missing");
    size_t n = 0;
    /* A hostile survey of 10,000 questions costs 51 steps. */
    for (const cJSON *q = qs->child; q && n <= PSV_MAX_QUESTIONS; q = q->next)
        n++;
    if (n == 0 || n > PSV_MAX_QUESTIONS)
        return bad(d, "it must have 1..%d questions", PSV_MAX_QUESTIONS);
    if (!(s->questions = pcalloc(d->a, n, sizeof *s->questions)))
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

static int print_json(const palloc *a, const cJSON *node, char **out)
{
    char *text = cJSON_PrintUnformatted(node);
    if (!text)
        return PARLEY_ERR_NOMEM;
    *out = pstrdup(a, text);
    cJSON_free(text);
    return *out ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int decode_survey_body(dctx *d, const cJSON *root, parley_survey *s, char *where, size_t where_size)
{
    const cJSON *sj, *pro = member(root, "proactive");
    int rc = get_object(d, root, "survey", 1, &sj);
    if (rc)
        return bad(d, "'survey' missing");
    if ((rc = get_id(d, sj, "id", 1, &s->id)))
        return bad(d, "'survey.id' missing or bad");
    if ((rc = get_id(d, root, "conv", 0, &s->conv)))
        return bad(d, "bad 'conv'");
    if (pro && !cJSON_IsBool(pro))
        return bad(d, "'proactive' must be a boolean");
    s->proactive = cJSON_IsTrue(pro);
    if ((rc = get_text(d, sj, "name", 0, PSV_MAX_LABEL, &s->name)) ||
        (rc = get_text(d, sj, "title", 1, PSV_MAX_TEXT, &s->title)) ||
        (rc = get_text(d, sj, "intro", 0, PSV_MAX_TEXT, &s->intro)) ||
        (rc = decode_questions(d, sj, s, where, where_size)))
        return rc;
    if ((rc = print_json(d->a, sj, &s->json)))
        return rc;
    return print_json(d->a, root, &s->frame);
}

int proto_decode_survey(const palloc *a, const pframe *f, parley_survey **out, char *err, size_t err_size)
{
    const cJSON *root = f ? f->doc : NULL;
    *out = NULL;
    if (!root)
        return PARLEY_ERR_INVALID_ARG;
    parley_survey *s = pcalloc(a, 1, sizeof *s);
    if (!s)
        return PARLEY_ERR_NOMEM;
    s->alloc = *a;
    atomic_init(&s->refs, 1);
    char why[160] = "", where[32] = "";
    dctx d = {a, why, sizeof why, ""};
    int rc = decode_survey_body(&d, root, s, where, sizeof where);
    if (rc == PARLEY_ERR_PROTOCOL && err && err_size) {
        const cJSON *sj = member(root, "survey"), *id = sj ? member(sj, "id") : NULL;
        snprintf(err, err_size, "survey \"%.128s\" rejected: %s",
                 cJSON_IsString(id) && pid_valid(id->valuestring, PROTO_MAX_ID) ? id->valuestring : "?", why);
    }
    if (rc != PARLEY_OK) {
        model_free(s);
        return rc;
    }
    *out = s;
    return PARLEY_OK;
}

/* ---- answers ------------------------------------------------------------ */

static cJSON *answer_json(const parley_question *q, const psv_answer *an)
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

int proto_encode_survey_answers(const palloc *a, const parley_survey *s, const psv_answer *ans, char **out,
                                size_t *out_len)
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
    return finish(a, root, ok, out, out_len);
}

/* One stored answer checked against its question again; 0 when it does not
 * fit (a journal from another version). */
static int answer_from_json(const palloc *a, const parley_question *q, const cJSON *v, psv_answer *an)
{
    int64_t x;
    switch (q->kind) {
    case PARLEY_Q_RATING:
    case PARLEY_Q_NPS:
        if (!integral_in(v, q->min, q->max, &x))
            return 0;
        an->value = (int)x;
        return 1;
    case PARLEY_Q_SINGLE:
        an->value = cJSON_IsString(v) ? option_index(q, v->valuestring) : -1;
        return an->value >= 0;
    case PARLEY_Q_TEXT:
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) > q->max_length)
            return 0;
        return (an->text = pstrdup(a, v->valuestring)) != NULL ? 1 : -1;
    default: break;
    }
    if (!cJSON_IsArray(v))
        return 0;
    int n = 0;
    for (const cJSON *it = v->child; it; it = it->next) {
        int j = cJSON_IsString(it) ? option_index(q, it->valuestring) : -1;
        if (j < 0 || (an->mask & (1u << j)))
            return 0;
        an->mask |= 1u << j;
        n++;
    }
    return n >= q->min && n <= q->max;
}

int proto_decode_survey_answers(const palloc *a, const parley_survey *s, const char *json, size_t len,
                                psv_answer *ans)
{
    cJSON *root = cJSON_ParseWithLength(json, len);
    if (!root)
        return PARLEY_OK; /* unreadable: nothing to resume */
    for (size_t i = 0; i < s->n_questions; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, s->questions[i].id);
        if (!v)
            continue;
        psv_answer an = {0};
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

int proto_encode_survey_submit(const palloc *a, const char *cid, const char *survey, const char *answers,
                               char **out, size_t *out_len)
{
    if (!cid || !survey || !answers || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = new_frame("survey.submit");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = add_str(root, "cid", cid) && add_str(root, "survey", survey) &&
             cJSON_AddRawToObject(root, "answers", answers);
    return finish(a, root, ok, out, out_len);
}

int proto_encode_survey_dismiss(const palloc *a, const char *cid, const char *survey, char **out,
                                size_t *out_len)
{
    if (!cid || !survey || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = new_frame("survey.dismiss");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return finish(a, root, add_str(root, "cid", cid) && add_str(root, "survey", survey), out, out_len);
}

/* ---- proactive ------------------------------------------------------------- */

int proto_encode_proactive_ack(const palloc *a, const char *id, char **out, size_t *out_len)
{
    if (!id || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = new_frame("proactive.ack");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return finish(a, root, add_str(root, "id", id), out, out_len);
}

void proto_proactive_clear(const palloc *a, pproactive *p)
{
    pfree(a, p->id);
    pfree(a, p->author_name);
    pfree(a, p->text);
    pev_rich_free(a, p->rich);
    memset(p, 0, sizeof *p);
}

static const char *const author_kinds[] = {"user", "bot", "agent", "system"};

static int decode_proactive_body(dctx *d, const cJSON *root, pproactive *p, char *skipped, size_t skipped_size)
{
    const cJSON *msg, *author;
    int rc;
    if ((rc = get_id(d, root, "id", 1, &p->id)) || (rc = get_object(d, root, "msg", 1, &msg)))
        return rc;
    d->where = "msg.";
    if ((rc = get_string(d, msg, "text", 1, &p->text)))
        return rc;
    if (strlen(p->text) > PROTO_MAX_TEXT)
        return bad(d, "'msg.text' exceeds %d bytes", PROTO_MAX_TEXT);
    if ((rc = get_object(d, msg, "author", 1, &author)))
        return rc;
    d->where = "msg.author.";
    if ((rc = get_enum(d, author, "kind", author_kinds, 4, &p->author_kind)) ||
        (rc = get_string(d, author, "name", 0, &p->author_name)))
        return rc;
    d->where = "msg.";
    int64_t ts = 0;
    if ((rc = get_integral(d, msg, "ts", 0, 9007199254740991.0, &ts)))
        return rc;
    p->ts = ts;
    /* The same blocks as a message's, read by the rich-content codec. */
    pframe inner = {.type = PF_MSG, .doc = msg};
    return proto_rich_msg_blocks(d->a, &inner, &p->rich, skipped, skipped_size);
}

int proto_decode_proactive(const palloc *a, const pframe *f, pproactive *out, char *err, size_t err_size,
                           char *skipped, size_t skipped_size)
{
    memset(out, 0, sizeof *out);
    if (skipped && skipped_size)
        skipped[0] = '\0';
    if (!f || !f->doc)
        return PARLEY_ERR_INVALID_ARG;
    dctx d = {a, err, err_size, ""};
    int rc = decode_proactive_body(&d, f->doc, out, skipped, skipped_size);
    if (rc != PARLEY_OK)
        proto_proactive_clear(a, out);
    return rc;
}
