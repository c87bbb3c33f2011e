#include "presence_tab.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char *agent;
    presence_t status; /* the chosen one */
    presence_t shown;  /* what everyone sees */
    int channels;
    int64_t grace_until; /* nonzero while the last channel's grace runs */
} entry;

struct presence_tab {
    entry *e;
    size_t n, cap;
    presence_change_fn on_change;
    void *ud;
};

static const char *const NAMES[] = {"offline", "online", "busy", "away"};

const char *presence_name(presence_t p)
{
    return (unsigned)p < 4 ? NAMES[p] : "offline";
}

int presence_parse_status(const char *s)
{
    int i;

    for (i = PRES_ONLINE; s && i <= PRES_AWAY; i++) {
        if (strcmp(s, NAMES[i]) == 0)
            return i;
    }
    return -1;
}

presence_tab *presence_tab_new(presence_change_fn on_change, void *ud)
{
    presence_tab *t = calloc(1, sizeof *t);

    if (t) {
        t->on_change = on_change;
        t->ud = ud;
    }
    return t;
}

void presence_tab_free(presence_tab *t)
{
    size_t i;

    if (!t)
        return;
    for (i = 0; i < t->n; i++)
        free(t->e[i].agent);
    free(t->e);
    free(t);
}

static entry *find(const presence_tab *t, const char *agent)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        if (strcmp(t->e[i].agent, agent) == 0)
            return &t->e[i];
    }
    return NULL;
}

static entry *get(presence_tab *t, const char *agent)
{
    entry *e = find(t, agent);

    if (e)
        return e;
    if (t->n == t->cap) {
        size_t cap = t->cap ? 2 * t->cap : 8;
        entry *p = realloc(t->e, cap * sizeof *p);

        if (!p)
            return NULL;
        t->e = p;
        t->cap = cap;
    }
    e = &t->e[t->n];
    memset(e, 0, sizeof *e);
    e->agent = strdup(agent);
    if (!e->agent)
        return NULL;
    e->status = PRES_ONLINE;
    t->n++;
    return e;
}

/* Shows `p`, telling the callback when it changed. The entry may move
 * (the callback may add agents), so it is found again by name. */
static void show(presence_tab *t, entry *e, presence_t p)
{
    presence_t old = e->shown;
    char *name = e->agent;

    if (old == p)
        return;
    e->shown = p;
    if (t->on_change)
        t->on_change(t->ud, name, old, p);
}

int presence_tab_open(presence_tab *t, const char *agent, presence_t status, int64_t now_ms)
{
    entry *e = get(t, agent);

    (void)now_ms;
    if (!e)
        return -1;
    if (status >= PRES_ONLINE && status <= PRES_AWAY)
        e->status = status;
    e->channels++;
    e->grace_until = 0;
    show(t, e, e->status);
    return 0;
}

void presence_tab_closed(presence_tab *t, const char *agent, int64_t now_ms)
{
    entry *e = find(t, agent);

    if (!e || e->channels == 0)
        return;
    if (--e->channels == 0)
        e->grace_until = now_ms + PRESENCE_GRACE_MS;
}

int presence_tab_set_status(presence_tab *t, const char *agent, presence_t status)
{
    entry *e;

    if (status < PRES_ONLINE || status > PRES_AWAY)
        return -1;
    e = get(t, agent);
    if (!e)
        return -1;
    e->status = status;
    if (e->channels > 0 || e->grace_until)
        show(t, e, status);
    return 0;
}

int64_t presence_tab_tick(presence_tab *t, int64_t now_ms)
{
    int64_t next = 0;
    size_t i;

    for (i = 0; i < t->n; i++) {
        entry *e = &t->e[i];

        if (!e->grace_until)
            continue;
        if (now_ms >= e->grace_until) {
            e->grace_until = 0;
            show(t, e, PRES_OFFLINE);
        } else if (!next || e->grace_until < next) {
            next = e->grace_until;
        }
    }
    return next;
}

presence_t presence_tab_get(const presence_tab *t, const char *agent)
{
    const entry *e = find(t, agent);

    return e ? e->shown : PRES_OFFLINE;
}

int presence_tab_channels(const presence_tab *t, const char *agent)
{
    const entry *e = find(t, agent);

    return e ? e->channels : 0;
}

void presence_tab_each(const presence_tab *t, presence_tab_each_fn cb, void *ud)
{
    size_t i;

    for (i = 0; i < t->n; i++) {
        if (t->e[i].shown != PRES_OFFLINE && cb(ud, t->e[i].agent, t->e[i].shown))
            return;
    }
}
