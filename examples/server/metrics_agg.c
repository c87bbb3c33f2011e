#include "metrics_agg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DAY_MS 86400000LL
#define RATING_MAX 10

typedef struct sample {
    int64_t at;
    double v;
    int agent; /* index into agents, or -1 */
    int positive;
} sample;

typedef struct vec {
    sample *p;
    size_t n, cap;
} vec;

typedef struct agent_row {
    char *name;
    int closed, held;
    int64_t handle_ms;
    double csat_sum;
    int csat_n;
} agent_row;

static const char *const STATES[] = {"bot", "queued", "agent", "open", "closed"};
#define NSTATES (sizeof STATES / sizeof STATES[0])

struct magg {
    int64_t since, until;
    int created, handed_off, closed;
    int by_state[NSTATES];
    vec frt, res, csat;
    int64_t handle_sum;
    int handle_n;
    int fcr_yes, fcr_base;
    int csat_sent, scale_min, scale_max;
    int dist[RATING_MAX + 1];
    int promoters, passives, detractors;
    int sla_met[2], sla_breached[2];
    agent_row *agents;
    size_t nagents, cap_agents;
    int ndays;
    int *day_created, *day_closed;
    int oom;
};

static int in_window(const magg *m, int64_t t)
{
    return t >= m->since && t < m->until;
}

/* Days since the epoch, rounded down (UTC). */
static int64_t day_of(int64_t t)
{
    return t >= 0 ? t / DAY_MS : -((-t + DAY_MS - 1) / DAY_MS);
}

static int day_index(const magg *m, int64_t t)
{
    return (int)(day_of(t) - day_of(m->since));
}

magg *magg_new(int64_t since, int64_t until)
{
    magg *m;
    int64_t days;

    if (until <= since)
        return NULL;
    days = day_of(until - 1) - day_of(since) + 1;
    if (days > MAGG_MAX_DAYS || until - since > MAGG_MAX_DAYS * DAY_MS)
        return NULL;
    m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    m->since = since;
    m->until = until;
    m->ndays = (int)days;
    m->day_created = calloc((size_t)days, sizeof *m->day_created);
    m->day_closed = calloc((size_t)days, sizeof *m->day_closed);
    if (!m->day_created || !m->day_closed) {
        magg_free(m);
        return NULL;
    }
    return m;
}

void magg_free(magg *m)
{
    size_t i;

    if (!m)
        return;
    for (i = 0; i < m->nagents; i++)
        free(m->agents[i].name);
    free(m->agents);
    free(m->frt.p);
    free(m->res.p);
    free(m->csat.p);
    free(m->day_created);
    free(m->day_closed);
    free(m);
}

static void push(magg *m, vec *v, int64_t at, double value, int agent, int positive)
{
    if (v->n == v->cap) {
        size_t cap = v->cap ? 2 * v->cap : 16;
        sample *p = realloc(v->p, cap * sizeof *p);

        if (!p) {
            m->oom = 1;
            return;
        }
        v->p = p;
        v->cap = cap;
    }
    v->p[v->n].at = at;
    v->p[v->n].v = value;
    v->p[v->n].agent = agent;
    v->p[v->n++].positive = positive;
}

/* The row of `name` (created when new); -1 without a name or memory. */
static int agent_index(magg *m, const char *name)
{
    size_t i;

    if (!name)
        return -1;
    for (i = 0; i < m->nagents; i++) {
        if (strcmp(m->agents[i].name, name) == 0)
            return (int)i;
    }
    if (m->nagents == m->cap_agents) {
        size_t cap = m->cap_agents ? 2 * m->cap_agents : 8;
        agent_row *p = realloc(m->agents, cap * sizeof *p);

        if (!p) {
            m->oom = 1;
            return -1;
        }
        m->agents = p;
        m->cap_agents = cap;
    }
    memset(&m->agents[m->nagents], 0, sizeof *m->agents);
    m->agents[m->nagents].name = strdup(name);
    if (!m->agents[m->nagents].name) {
        m->oom = 1;
        return -1;
    }
    return (int)m->nagents++;
}

static void add_closed(magg *m, const tl_facts *f)
{
    int who = agent_index(m, f->last_holder);
    size_t i;

    m->closed++;
    m->day_closed[day_index(m, f->last_close)]++;
    if (f->first_start)
        push(m, &m->res, f->last_close, (double)(f->last_close - f->first_start), -1, 0);
    if (f->handle_ms > 0) {
        m->handle_sum += f->handle_ms;
        m->handle_n++;
    }
    if (f->writers > 0) {
        m->fcr_base++;
        if (f->closes == 1 && f->reopens == 0 && f->transfers == 0 && f->writers == 1)
            m->fcr_yes++;
    }
    if (who >= 0)
        m->agents[who].closed++;
    for (i = 0; i < f->n_holds; i++) {
        int a = agent_index(m, f->holds[i].agent);

        if (a >= 0 && f->holds[i].ms > 0) {
            m->agents[a].handle_ms += f->holds[i].ms;
            m->agents[a].held++;
        }
    }
}

int magg_conv(magg *m, int64_t created_ms, const tl_facts *f)
{
    size_t i;

    if (in_window(m, created_ms)) {
        m->created++;
        m->day_created[day_index(m, created_ms)]++;
    }
    for (i = 0; i < f->n_episodes; i++) {
        const tl_episode *e = &f->episodes[i];

        if (in_window(m, e->start))
            m->handed_off++;
        if (e->first_response && in_window(m, e->first_response))
            push(m, &m->frt, e->first_response, (double)(e->first_response - e->start),
                 agent_index(m, e->responder), 0);
    }
    if (f->last_close && in_window(m, f->last_close))
        add_closed(m, f);
    return m->oom ? -1 : 0;
}

void magg_state(magg *m, const char *state)
{
    size_t i;

    for (i = 0; state && i < NSTATES; i++) {
        if (strcmp(state, STATES[i]) == 0)
            m->by_state[i]++;
    }
}

int magg_csat_positive(double v, int min, int max)
{
    if (max - min + 1 <= 3)
        return v >= max;
    return v >= max - 1;
}

void magg_csat_scale(magg *m, int min, int max)
{
    if (min >= 0 && max <= RATING_MAX && min < max) {
        m->scale_min = min;
        m->scale_max = max;
    }
}

static void add_rating(magg *m, const magg_survey *s)
{
    int pos = magg_csat_positive(s->rating, s->rating_min, s->rating_max);
    int who = agent_index(m, s->agent), r = (int)s->rating;

    push(m, &m->csat, s->submitted_ms, s->rating, who, pos);
    if (who >= 0) {
        m->agents[who].csat_sum += s->rating;
        m->agents[who].csat_n++;
    }
    if (m->scale_max && s->rating_min == m->scale_min && s->rating_max == m->scale_max && r >= 0 &&
        r <= RATING_MAX && (double)r == s->rating)
        m->dist[r]++;
}

int magg_survey_add(magg *m, const magg_survey *s)
{
    if (s->has_rating && in_window(m, s->delivered_ms))
        m->csat_sent++;
    if (!s->submitted_ms || !in_window(m, s->submitted_ms))
        return m->oom ? -1 : 0;
    if (s->has_rating && s->rating_answered)
        add_rating(m, s);
    if (s->has_nps && s->nps_answered) {
        if (s->nps >= 9)
            m->promoters++;
        else if (s->nps >= 7)
            m->passives++;
        else
            m->detractors++;
    }
    return m->oom ? -1 : 0;
}

void magg_sla(magg *m, int kind, int breached, int64_t at)
{
    if (kind < 0 || kind > 1 || !in_window(m, at))
        return;
    if (breached)
        m->sla_breached[kind]++;
    else
        m->sla_met[kind]++;
}

/* ---- the answer ---- */

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

int64_t magg_percentile(int64_t *v, size_t n, int p)
{
    size_t rank;

    qsort(v, n, sizeof *v, cmp_i64);
    /* ceil(p * n / 100), in integers so that no rounding moves a rank. */
    rank = ((size_t)p * n + 99) / 100;
    if (rank < 1)
        rank = 1;
    if (rank > n)
        rank = n;
    return v[rank - 1];
}

/* Rounded half away from zero to `scale` (10: one decimal, 100: two). */
static double round_to(double x, double scale)
{
    double y = x * scale;

    return (double)(int64_t)(y >= 0 ? y + 0.5 : y - 0.5) / scale;
}

static double round1(double x)
{
    return round_to(x, 10.0);
}

/* A number, or null when `have` is 0. */
static int add_num(cJSON *o, const char *key, int have, double v)
{
    return have ? cJSON_AddNumberToObject(o, key, v) != NULL
                : cJSON_AddNullToObject(o, key) != NULL;
}

/* Median and p90 in seconds of the samples of `v` that pass `keep` (NULL:
 * all); *n gets their count. 0 or -1 (memory). */
typedef int (*keep_fn)(const magg *m, const sample *s, int arg);

static int quantiles(const magg *m, const vec *v, keep_fn keep, int arg, double *median,
                     double *p90, size_t *n)
{
    int64_t *tmp = malloc((v->n ? v->n : 1) * sizeof *tmp);
    size_t i;

    *n = 0;
    if (!tmp)
        return -1;
    for (i = 0; i < v->n; i++) {
        if (!keep || keep(m, &v->p[i], arg))
            tmp[(*n)++] = (int64_t)v->p[i].v;
    }
    if (*n) {
        *median = round1((double)magg_percentile(tmp, *n, 50) / 1000.0);
        *p90 = round1((double)magg_percentile(tmp, *n, 90) / 1000.0);
    }
    free(tmp);
    return 0;
}

static cJSON *duration_obj(const magg *m, const vec *v)
{
    cJSON *o = cJSON_CreateObject();
    double med = 0, p90 = 0;
    size_t n;

    if (!o || quantiles(m, v, NULL, 0, &med, &p90, &n) || !add_num(o, "median", n > 0, med) ||
        !add_num(o, "p90", n > 0, p90) || !cJSON_AddNumberToObject(o, "samples", (double)n)) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

static int add_obj(cJSON *parent, const char *key, cJSON *child)
{
    if (!child)
        return 0;
    if (!cJSON_AddItemToObject(parent, key, child)) {
        cJSON_Delete(child);
        return 0;
    }
    return 1;
}

static cJSON *volume_obj(const magg *m)
{
    cJSON *o = cJSON_CreateObject(), *st = cJSON_CreateObject();
    size_t i;
    int ok = o && st && cJSON_AddNumberToObject(o, "created", m->created) &&
             cJSON_AddNumberToObject(o, "handed_off", m->handed_off) &&
             cJSON_AddNumberToObject(o, "closed", m->closed);

    for (i = 0; ok && i < NSTATES; i++)
        ok = cJSON_AddNumberToObject(st, STATES[i], m->by_state[i]) != NULL;
    if (ok && add_obj(o, "by_state", st))
        return o;
    if (!ok)
        cJSON_Delete(st);
    cJSON_Delete(o);
    return NULL;
}

static cJSON *handle_obj(const magg *m)
{
    cJSON *o = cJSON_CreateObject();

    if (o &&
        add_num(o, "avg", m->handle_n > 0,
                m->handle_n ? round1((double)m->handle_sum / m->handle_n / 1000.0) : 0) &&
        cJSON_AddNumberToObject(o, "samples", m->handle_n))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static cJSON *fcr_obj(const magg *m)
{
    cJSON *o = cJSON_CreateObject();

    if (o &&
        add_num(o, "rate_pct", m->fcr_base > 0,
                m->fcr_base ? round1(100.0 * m->fcr_yes / m->fcr_base) : 0) &&
        cJSON_AddNumberToObject(o, "resolved_first_contact", m->fcr_yes) &&
        cJSON_AddNumberToObject(o, "closed", m->fcr_base))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int csat_counts(const magg *m, int day, int *pos, double *sum)
{
    size_t i;
    int n = 0;

    *pos = 0;
    *sum = 0;
    for (i = 0; i < m->csat.n; i++) {
        if (day >= 0 && day_index(m, m->csat.p[i].at) != day)
            continue;
        n++;
        *pos += m->csat.p[i].positive;
        *sum += m->csat.p[i].v;
    }
    return n;
}

static cJSON *scale_obj(const magg *m)
{
    cJSON *s, *d;
    char key[4];
    int r, ok;

    if (!m->scale_max)
        return cJSON_CreateNull();
    s = cJSON_CreateObject();
    d = cJSON_CreateObject();
    ok = s && d && cJSON_AddNumberToObject(s, "min", m->scale_min) &&
         cJSON_AddNumberToObject(s, "max", m->scale_max) &&
         cJSON_AddNumberToObject(s, "positive_from",
                                 m->scale_max - m->scale_min + 1 <= 3 ? m->scale_max
                                                                      : m->scale_max - 1);
    for (r = m->scale_min; ok && r <= m->scale_max; r++) {
        snprintf(key, sizeof key, "%d", r);
        ok = cJSON_AddNumberToObject(d, key, m->dist[r]) != NULL;
    }
    if (ok && add_obj(s, "distribution", d))
        return s;
    if (!ok)
        cJSON_Delete(d);
    cJSON_Delete(s);
    return NULL;
}

static cJSON *csat_obj(const magg *m)
{
    cJSON *o = cJSON_CreateObject();
    double sum;
    int pos, n = csat_counts(m, -1, &pos, &sum);

    if (o && add_num(o, "positive_pct", n > 0, n ? round1(100.0 * pos / n) : 0) &&
        add_num(o, "avg", n > 0, n ? round_to(sum / n, 100.0) : 0) &&
        cJSON_AddNumberToObject(o, "responses", n) &&
        cJSON_AddNumberToObject(o, "sent", m->csat_sent) &&
        add_num(o, "response_rate_pct", m->csat_sent > 0,
                m->csat_sent ? round1(100.0 * n / m->csat_sent) : 0) &&
        add_obj(o, "scale", scale_obj(m)))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static cJSON *nps_obj(const magg *m)
{
    cJSON *o = cJSON_CreateObject();
    int n = m->promoters + m->passives + m->detractors;

    if (o &&
        add_num(o, "score", n > 0, n ? round1(100.0 * (m->promoters - m->detractors) / n) : 0) &&
        cJSON_AddNumberToObject(o, "promoters", m->promoters) &&
        cJSON_AddNumberToObject(o, "passives", m->passives) &&
        cJSON_AddNumberToObject(o, "detractors", m->detractors) &&
        cJSON_AddNumberToObject(o, "responses", n))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static cJSON *sla_obj(const magg *m)
{
    static const char *const kinds[] = {"first_response", "next_response"};
    cJSON *o = cJSON_CreateObject(), *k;
    int i;

    for (i = 0; o && i < 2; i++) {
        k = cJSON_AddObjectToObject(o, kinds[i]);
        if (!k || !cJSON_AddNumberToObject(k, "met", m->sla_met[i]) ||
            !cJSON_AddNumberToObject(k, "breached", m->sla_breached[i])) {
            cJSON_Delete(o);
            return NULL;
        }
    }
    return o;
}

static int keep_agent(const magg *m, const sample *s, int agent)
{
    (void)m;
    return s->agent == agent;
}

static int keep_day(const magg *m, const sample *s, int day)
{
    return day_index(m, s->at) == day;
}

static cJSON *agent_obj(const magg *m, int i)
{
    const agent_row *a = &m->agents[i];
    cJSON *o = cJSON_CreateObject();
    double med = 0, p90 = 0;
    size_t n;

    if (o && quantiles(m, &m->frt, keep_agent, i, &med, &p90, &n) == 0 &&
        cJSON_AddStringToObject(o, "name", a->name) &&
        cJSON_AddNumberToObject(o, "closed", a->closed) &&
        add_num(o, "first_response_median_s", n > 0, med) &&
        add_num(o, "handle_time_avg_s", a->held > 0,
                a->held ? round1((double)a->handle_ms / a->held / 1000.0) : 0) &&
        add_num(o, "csat_avg", a->csat_n > 0,
                a->csat_n ? round_to(a->csat_sum / a->csat_n, 100.0) : 0) &&
        cJSON_AddNumberToObject(o, "csat_responses", a->csat_n))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static int cmp_name(const void *a, const void *b)
{
    const cJSON *x = *(cJSON *const *)a, *y = *(cJSON *const *)b;

    return strcmp(cJSON_GetObjectItemCaseSensitive(x, "name")->valuestring,
                  cJSON_GetObjectItemCaseSensitive(y, "name")->valuestring);
}

static cJSON *agents_arr(const magg *m)
{
    cJSON *arr = cJSON_CreateArray(), **rows = calloc(m->nagents + 1, sizeof *rows);
    size_t i, n = 0;
    int ok = arr && rows;

    for (i = 0; ok && i < m->nagents; i++) {
        rows[n] = agent_obj(m, (int)i);
        ok = rows[n++] != NULL;
    }
    if (ok)
        qsort(rows, n, sizeof *rows, cmp_name);
    for (i = 0; i < n; i++) {
        if (ok && !cJSON_AddItemToArray(arr, rows[i]))
            ok = 0;
        else if (!ok)
            cJSON_Delete(rows[i]);
    }
    free(rows);
    if (ok)
        return arr;
    cJSON_Delete(arr);
    return NULL;
}

static cJSON *day_obj(const magg *m, int d)
{
    cJSON *o = cJSON_CreateObject();
    time_t t = (time_t)((day_of(m->since) + d) * 86400);
    struct tm tm;
    char date[16];
    double med = 0, p90 = 0, sum;
    size_t n;
    int pos, cn = csat_counts(m, d, &pos, &sum);

    gmtime_r(&t, &tm);
    strftime(date, sizeof date, "%Y-%m-%d", &tm);
    if (o && quantiles(m, &m->frt, keep_day, d, &med, &p90, &n) == 0 &&
        cJSON_AddStringToObject(o, "day", date) &&
        cJSON_AddNumberToObject(o, "created", m->day_created[d]) &&
        cJSON_AddNumberToObject(o, "closed", m->day_closed[d]) &&
        add_num(o, "first_response_median_s", n > 0, med) &&
        add_num(o, "csat_positive_pct", cn > 0, cn ? round1(100.0 * pos / cn) : 0))
        return o;
    cJSON_Delete(o);
    return NULL;
}

static cJSON *daily_arr(const magg *m)
{
    cJSON *arr = cJSON_CreateArray();
    int d;

    for (d = 0; arr && d < m->ndays; d++) {
        cJSON *day = day_obj(m, d);

        if (!day || !cJSON_AddItemToArray(arr, day)) {
            cJSON_Delete(day);
            cJSON_Delete(arr);
            return NULL;
        }
    }
    return arr;
}

cJSON *magg_json(magg *m)
{
    cJSON *o;

    if (m->oom)
        return NULL;
    o = cJSON_CreateObject();
    if (o && cJSON_AddNumberToObject(o, "since", (double)m->since) &&
        cJSON_AddNumberToObject(o, "until", (double)m->until) &&
        add_obj(o, "volume", volume_obj(m)) &&
        add_obj(o, "first_response_s", duration_obj(m, &m->frt)) &&
        add_obj(o, "resolution_s", duration_obj(m, &m->res)) &&
        add_obj(o, "handle_time_s", handle_obj(m)) && add_obj(o, "fcr", fcr_obj(m)) &&
        add_obj(o, "csat", csat_obj(m)) && add_obj(o, "nps", nps_obj(m)) &&
        add_obj(o, "sla", sla_obj(m)) && add_obj(o, "agents", agents_arr(m)) &&
        add_obj(o, "daily", daily_arr(m)))
        return o;
    cJSON_Delete(o);
    return NULL;
}
