#include "metrics_csv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "metrics.h"
#include "sla.h"
#include "store.h"
#include "timeline.h"
#include "util.h"

#define CSV_HEADER                                                                                 \
    "id,user,subject,created,state,priority,first_handoff,first_response_s,resolution_s,"          \
    "handle_time_s,closes,reopens,transfers,agents,last_agent,csat,nps\r\n"

static void put(csv_buf *b, const char *text, size_t n)
{
    if (b->failed)
        return;
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        char *p;

        while (b->len + n + 1 > cap)
            cap *= 2;
        p = realloc(b->p, cap);
        if (!p) {
            b->failed = 1;
            return;
        }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->len, text, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void putf(csv_buf *b, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    int n;

    va_start(ap, fmt);
    n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        put(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

void metrics_csv_cell(csv_buf *b, const char *text)
{
    const char *p;

    put(b, "\"", 1);
    /* What a spreadsheet would evaluate (=, +, -, @, and the tab and
     * carriage return it skips before them) starts a text, never a formula. */
    if (text && text[0] && strchr("=+-@\t\r", text[0]))
        put(b, "'", 1);
    for (p = text ? text : ""; *p; p++) {
        if (*p == '"')
            put(b, "\"\"", 2);
        else
            put(b, p, 1);
    }
    put(b, "\"", 1);
}

/* A time as 2025-11-20T10:00:00Z; empty for 0. */
static void put_time(csv_buf *b, int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char tmp[32];

    if (ms > 0 && gmtime_r(&t, &tm) && strftime(tmp, sizeof tmp, "%Y-%m-%dT%H:%M:%SZ", &tm))
        put(b, tmp, strlen(tmp));
}

/* A duration in seconds with one decimal; empty when unknown. */
static void put_secs(csv_buf *b, int have, int64_t ms)
{
    if (have)
        putf(b, "%.1f", (double)ms / 1000.0);
}

typedef struct scores {
    const char *conv;
    metrics_scores got; /* the newest submitted answers about the conversation */
} scores;

static int find_scores(void *ud, const store_survey_row *r)
{
    scores *sc = ud;
    metrics_scores m;

    if (!r->conv || strcmp(r->conv, sc->conv) != 0 || strcmp(r->status, "submitted") != 0)
        return 0;
    metrics_survey_scores(r->def, r->answers, &m);
    if (m.has_csat && !sc->got.has_csat) {
        sc->got.has_csat = 1;
        sc->got.csat = m.csat;
    }
    if (m.has_nps && !sc->got.has_nps) {
        sc->got.has_nps = 1;
        sc->got.nps = m.nps;
    }
    return sc->got.has_csat && sc->got.has_nps;
}

/* Who held it, in the order they first did, joined by ';'. */
static void put_agents(csv_buf *b, const tl_facts *f)
{
    char names[TL_MAX_AGENTS * 66] = "";
    size_t i, n = 0;

    for (i = 0; i < f->n_holds && n < sizeof names; i++)
        n += (size_t)snprintf(names + n, sizeof names - n, "%s%s", i ? ";" : "", f->holds[i].agent);
    metrics_csv_cell(b, names);
}

typedef struct run {
    server *s;
    csv_buf *b;
    int failed;
} run;

static void put_facts(csv_buf *b, const tl_facts *f, const scores *sc)
{
    const tl_episode *first = f->n_episodes ? &f->episodes[0] : NULL;

    put_time(b, f->first_start);
    put(b, ",", 1);
    put_secs(b, first && first->first_response, first ? first->first_response - first->start : 0);
    put(b, ",", 1);
    put_secs(b, f->first_start && f->last_close, f->last_close - f->first_start);
    put(b, ",", 1);
    put_secs(b, f->n_holds > 0, f->handle_ms);
    putf(b, ",%d,%d,%d,", f->closes, f->reopens, f->transfers);
    put_agents(b, f);
    put(b, ",", 1);
    metrics_csv_cell(b, f->last_holder ? f->last_holder : "");
    put(b, ",", 1);
    if (sc->got.has_csat)
        putf(b, "%g", sc->got.csat);
    put(b, ",", 1);
    if (sc->got.has_nps)
        putf(b, "%d", sc->got.nps);
    put(b, "\r\n", 2);
}

static int add_row(void *ud, const store_conv *c)
{
    run *r = ud;
    scores sc = {c->id, {0, 0, 0, 0}};
    sla_timeline t;
    store_state cs;
    tl_facts f;

    if (sla_timeline_read(r->s, c->id, &t))
        return r->failed = 1;
    if (tl_facts_compute(t.ev, t.n, util_now_ms(), &f) ||
        store_state_get(r->s->store, c->id, &cs)) {
        sla_timeline_clear(&t);
        return r->failed = 1;
    }
    store_survey_user_each(r->s->store, c->user, 50, find_scores, &sc);
    metrics_csv_cell(r->b, c->id);
    put(r->b, ",", 1);
    metrics_csv_cell(r->b, c->user);
    put(r->b, ",", 1);
    metrics_csv_cell(r->b, c->subject ? c->subject : "");
    put(r->b, ",", 1);
    put_time(r->b, c->created_ms);
    putf(r->b, ",%s,%s,", cs.state, f.priority ? f.priority : "normal");
    put_facts(r->b, &f, &sc);
    store_state_clear(&cs);
    tl_facts_clear(&f);
    sla_timeline_clear(&t);
    return r->b->failed;
}

int metrics_csv(server *s, int64_t since, int64_t until, char **out, size_t *len)
{
    csv_buf b = {NULL, 0, 0, 0};
    run r = {s, &b, 0};

    put(&b, CSV_HEADER, strlen(CSV_HEADER));
    if (store_conv_active_each(s->store, since, until, add_row, &r) || r.failed || b.failed) {
        free(b.p);
        return -1;
    }
    *out = b.p;
    *len = b.len;
    return 0;
}
