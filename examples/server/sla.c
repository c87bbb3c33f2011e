#include "sla.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "json.h"
#include "sla_policy.h"
#include "store.h"
#include "util.h"
#include "webhook.h"

static const char *keep(sla_timeline *t, const char *str)
{
    char *copy;

    if (!str)
        return NULL;
    if (t->nstr == t->capstr) {
        size_t cap = t->capstr ? 2 * t->capstr : 16;
        char **p = realloc(t->strings, cap * sizeof *p);

        if (!p)
            return NULL;
        t->strings = p;
        t->capstr = cap;
    }
    copy = strdup(str);
    if (copy)
        t->strings[t->nstr++] = copy;
    return copy;
}

/* A member of the detail JSON, kept. */
static const char *detail_member(sla_timeline *t, const char *detail, const char *key)
{
    cJSON *d = detail ? cJSON_Parse(detail) : NULL;
    const char *v = keep(t, pj_string(d, key));

    cJSON_Delete(d);
    return v;
}

static int add_row(void *ud, const store_tl_row *r)
{
    sla_timeline *t = ud;
    tl_event e;
    int k;

    memset(&e, 0, sizeof e);
    e.ts = r->ts;
    if (r->is_action) {
        k = tl_kind_of_action(r->kind);
        if (k < 0)
            return 0;
        e.kind = (tl_kind)k;
        if (e.kind == TL_ASSIGN || e.kind == TL_TRANSFER)
            e.agent = detail_member(t, r->detail, "to");
        if (!e.agent && (e.kind == TL_ASSIGN || e.kind == TL_TRANSFER))
            e.agent = keep(t, r->by ? r->by : "");
        if (e.kind == TL_PRIORITY)
            e.priority = detail_member(t, r->detail, "to");
    } else if (strcmp(r->kind, "user") == 0) {
        e.kind = TL_USER_MSG;
    } else if (strcmp(r->kind, "bot") == 0) {
        e.kind = TL_BOT_MSG;
    } else if (strcmp(r->kind, "agent") == 0) {
        e.kind = TL_AGENT_MSG;
        e.agent = keep(t, r->by ? r->by : "api-token");
    } else {
        return 0;
    }
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 32;
        tl_event *p = realloc(t->ev, cap * sizeof *p);

        if (!p)
            return 1;
        t->ev = p;
        t->cap = cap;
    }
    t->ev[t->n++] = e;
    return 0;
}

int sla_timeline_read(server *s, const char *conv, sla_timeline *out)
{
    memset(out, 0, sizeof *out);
    if (store_timeline(s->store, conv, add_row, out)) {
        sla_timeline_clear(out);
        return -1;
    }
    return 0;
}

void sla_timeline_clear(sla_timeline *t)
{
    size_t i;

    for (i = 0; i < t->nstr; i++)
        free(t->strings[i]);
    free(t->strings);
    free(t->ev);
    memset(t, 0, sizeof *t);
}

static void put(server *s, const char *conv, const char *kind, const sla_clock *c,
                const char *priority)
{
    store_sla row;

    memset(&row, 0, sizeof row);
    row.start_ms = c->start;
    row.due_ms = c->due;
    row.warn_ms = c->warn;
    row.priority = priority;
    row.met_ms = c->met;
    store_sla_put(s->store, conv, kind, &row);
}

/* The answered wait of the next-response clock, kept as met. */
static void put_answered(server *s, const char *conv, const tl_facts *f)
{
    int prio = sla_priority_index(f->priority);
    sla_clock c;

    if (!f->n_nrt || prio < 0 || !s->sla->next[prio].target_s)
        return;
    memset(&c, 0, sizeof c);
    c.start = f->nrt_at[f->n_nrt - 1] - f->nrt_ms[f->n_nrt - 1];
    c.due = c.start + s->sla->next[prio].target_s * 1000;
    c.warn = c.due - s->sla->next[prio].warn_before_s * 1000;
    c.met = f->nrt_at[f->n_nrt - 1];
    put(s, conv, "next_response", &c, f->priority);
}

void sla_update(server *s, const char *conv)
{
    int64_t now = util_now_ms();
    sla_timeline t;
    tl_facts f;
    sla_clock first, next;

    if (!s->sla || sla_timeline_read(s, conv, &t))
        return;
    if (tl_facts_compute(t.ev, t.n, now, &f) == 0) {
        sla_clocks(s->sla, &f, &first, &next);
        if (first.start)
            put(s, conv, "first_response", &first, f.priority);
        store_sla_stop(s->store, conv, "first_response", first.start, now);
        put_answered(s, conv, &f);
        if (next.start)
            put(s, conv, "next_response", &next, f.priority);
        store_sla_stop(s->store, conv, "next_response", next.start, now);
        tl_facts_clear(&f);
    }
    sla_timeline_clear(&t);
}

/* ---- alerts ---- */

static void webhook_breach(server *s, const store_sla *c, int64_t now)
{
    cJSON *o = cJSON_CreateObject(), *conv = s->webhook ? console_item(s, c->conv) : NULL, *sla;
    char text[512], *json;
    const cJSON *user = cJSON_GetObjectItemCaseSensitive(conv, "user");

    if (!s->webhook || !o || !conv) {
        cJSON_Delete(o);
        cJSON_Delete(conv);
        return;
    }
    snprintf(text, sizeof text, "SLA breach: %s for %s (%s, user %s) was due %lld s ago",
             strcmp(c->kind, "first_response") == 0 ? "first response" : "next response", c->conv,
             c->priority, cJSON_IsString(user) ? user->valuestring : "?",
             (long long)((now - c->due_ms) / 1000));
    sla = cJSON_CreateObject();
    if (cJSON_AddStringToObject(o, "type", "sla.breach") &&
        cJSON_AddNumberToObject(o, "ts", (double)now) &&
        cJSON_AddItemToObject(o, "conversation", conv) && sla &&
        cJSON_AddItemToObject(o, "sla", sla) && cJSON_AddStringToObject(sla, "kind", c->kind) &&
        cJSON_AddNumberToObject(sla, "target_s", (double)(c->due_ms - c->start_ms) / 1000) &&
        cJSON_AddNumberToObject(sla, "started_ms", (double)c->start_ms) &&
        cJSON_AddNumberToObject(sla, "due_ms", (double)c->due_ms) &&
        cJSON_AddNumberToObject(sla, "breached_ms", (double)now) &&
        cJSON_AddStringToObject(o, "text", text) && (json = cJSON_PrintUnformatted(o))) {
        webhook_post(s->webhook, "sla.breach", json, strlen(json), NULL);
        cJSON_free(json);
    } else if (!cJSON_GetObjectItem(o, "conversation")) {
        cJSON_Delete(conv);
    }
    if (!cJSON_GetObjectItem(o, "sla"))
        cJSON_Delete(sla);
    cJSON_Delete(o);
}

typedef struct due {
    store_sla c;
    char conv[STORE_ID_MAX + 1], kind[16], priority[8];
} due;

typedef struct due_list {
    due items[64];
    size_t n;
} due_list;

static int collect(void *ud, const store_sla *c)
{
    due_list *l = ud;
    due *d;

    if (l->n == sizeof l->items / sizeof l->items[0])
        return 1;
    d = &l->items[l->n++];
    d->c = *c;
    snprintf(d->conv, sizeof d->conv, "%s", c->conv);
    snprintf(d->kind, sizeof d->kind, "%s", c->kind);
    snprintf(d->priority, sizeof d->priority, "%s", c->priority);
    d->c.conv = d->conv;
    d->c.kind = d->kind;
    d->c.priority = d->priority;
    return 0;
}

void sla_tick(server *s, int64_t now)
{
    due_list l;
    size_t i;

    if (!s->sla)
        return;
    l.n = 0;
    if (store_sla_due_each(s->store, now, collect, &l) < 0)
        return;
    for (i = 0; i < l.n; i++) {
        store_sla *c = &l.items[i].c;
        int breach = now >= c->due_ms && !c->breached_ms;

        if (!breach && c->warned_ms)
            continue;
        /* Another server sharing the database may have marked it first. */
        if (store_sla_mark(s->store, c, breach, now) != 1)
            continue;
        c->breached_ms = breach ? now : 0;
        console_sla(s, c, breach ? "breach" : "warning");
        if (breach)
            webhook_breach(s, c, now);
        console_conv(s, c->conv, 0);
    }
}
