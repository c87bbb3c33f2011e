#include "metrics.h"

#include <string.h>

#include "json.h"
#include "metrics_agg.h"
#include "sla.h"
#include "store.h"
#include "util.h"

typedef struct run {
    server *s;
    magg *m;
    int failed;
} run;

static int add_conv(void *ud, const store_conv *c)
{
    run *r = ud;
    sla_timeline t;
    tl_facts f;

    if (sla_timeline_read(r->s, c->id, &t))
        return r->failed = 1;
    if (tl_facts_compute(t.ev, t.n, util_now_ms(), &f) == 0) {
        if (magg_conv(r->m, c->created_ms, &f))
            r->failed = 1;
        tl_facts_clear(&f);
    } else {
        r->failed = 1;
    }
    sla_timeline_clear(&t);
    return r->failed;
}

static int add_state(void *ud, const char *state, int64_t n)
{
    run *r = ud;

    while (n-- > 0)
        magg_state(r->m, state);
    return 0;
}

/* The first question of `kind` in a definition, its id and range. */
static const cJSON *first_q(const cJSON *def, const char *kind)
{
    const cJSON *q;

    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions")) {
        const char *k = pj_string(q, "kind");

        if (k && strcmp(k, kind) == 0)
            return q;
    }
    return NULL;
}

static int num_of(const cJSON *o, const char *key, int dflt)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);

    return cJSON_IsNumber(v) ? v->valueint : dflt;
}

void metrics_survey_scores(const char *def, const char *answers, metrics_scores *out)
{
    cJSON *d = def ? cJSON_Parse(def) : NULL, *ans = answers ? cJSON_Parse(answers) : NULL;
    const cJSON *rq = first_q(d, "rating"), *nq = first_q(d, "nps"), *a;

    memset(out, 0, sizeof *out);
    a = rq ? cJSON_GetObjectItemCaseSensitive(ans, pj_string(rq, "id")) : NULL;
    if ((out->has_csat = cJSON_IsNumber(a)))
        out->csat = a->valuedouble;
    a = nq ? cJSON_GetObjectItemCaseSensitive(ans, pj_string(nq, "id")) : NULL;
    if ((out->has_nps = cJSON_IsNumber(a)))
        out->nps = a->valueint;
    cJSON_Delete(d);
    cJSON_Delete(ans);
}

static int add_survey(void *ud, const store_survey_row *row)
{
    run *r = ud;
    cJSON *def = cJSON_Parse(row->def), *ans = row->answers ? cJSON_Parse(row->answers) : NULL;
    const cJSON *rq = first_q(def, "rating"), *nq = first_q(def, "nps"), *a;
    store_state cs;
    magg_survey sv;
    int held = 0;

    memset(&sv, 0, sizeof sv);
    sv.delivered_ms = row->created_ms;
    sv.submitted_ms = strcmp(row->status, "submitted") == 0 ? row->done_ms : 0;
    if (rq) {
        sv.has_rating = 1;
        sv.rating_min = num_of(rq, "min", 1);
        sv.rating_max = num_of(rq, "max", 5);
        a = cJSON_GetObjectItemCaseSensitive(ans, pj_string(rq, "id"));
        if ((sv.rating_answered = cJSON_IsNumber(a)))
            sv.rating = a->valuedouble;
    }
    if (nq) {
        sv.has_nps = 1;
        a = cJSON_GetObjectItemCaseSensitive(ans, pj_string(nq, "id"));
        if ((sv.nps_answered = cJSON_IsNumber(a)))
            sv.nps = a->valueint;
    }
    /* The answer is about whoever last held the conversation. */
    if (row->conv && store_state_get(r->s->store, row->conv, &cs) == 0) {
        held = cs.agent[0] != 0;
        sv.agent = held ? cs.agent : NULL;
        if (magg_survey_add(r->m, &sv))
            r->failed = 1;
        store_state_clear(&cs);
    } else if (magg_survey_add(r->m, &sv)) {
        r->failed = 1;
    }
    cJSON_Delete(def);
    cJSON_Delete(ans);
    return r->failed;
}

static int add_sla(void *ud, const store_sla *c)
{
    run *r = ud;
    int kind = strcmp(c->kind, "first_response") == 0 ? 0 : 1;

    if (c->breached_ms)
        magg_sla(r->m, kind, 1, c->breached_ms);
    else if (c->met_ms)
        magg_sla(r->m, kind, 0, c->met_ms);
    return 0;
}

/* The CSAT scale the dashboard shows: the first rating survey's. */
static void csat_scale(server *s, magg *m)
{
    const cJSON *sv;

    cJSON_ArrayForEach(sv, cJSON_GetObjectItemCaseSensitive(s->surveys, "surveys")) {
        const cJSON *q = first_q(sv, "rating");

        if (q) {
            magg_csat_scale(m, num_of(q, "min", 1), num_of(q, "max", 5));
            return;
        }
    }
}

cJSON *metrics_json(server *s, int64_t since, int64_t until)
{
    run r = {s, magg_new(since, until), 0};
    cJSON *out = NULL;

    if (!r.m)
        return NULL;
    csat_scale(s, r.m);
    if (store_conv_active_each(s->store, since, until, add_conv, &r) == 0 && !r.failed &&
        store_state_counts(s->store, add_state, &r) == 0 &&
        store_survey_window_each(s->store, since, until, add_survey, &r) == 0 && !r.failed &&
        store_sla_window_each(s->store, since, until, add_sla, &r) == 0)
        out = magg_json(r.m);
    magg_free(r.m);
    return out;
}
