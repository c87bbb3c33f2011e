#include "pacer.h"

#include <stdlib.h>
#include <string.h>

struct pacer {
    pacer_item *items;
    size_t n, cap;
};

pacer *pacer_new(void)
{
    return calloc(1, sizeof(pacer));
}

void pacer_free(pacer *p)
{
    if (!p)
        return;
    free(p->items);
    free(p);
}

static void drop(pacer *p, size_t i)
{
    p->items[i] = p->items[--p->n];
}

int pacer_add(pacer *p, const char *user, int trigger, int64_t cause_ms, int64_t due_ms,
              const char *screen)
{
    pacer_item *it;

    if (strlen(user) > PJ_MAX_ID || (screen && strlen(screen) > PACER_MAX_SCREEN))
        return -1;
    for (size_t i = 0; i < p->n; i++)
        if (p->items[i].trigger == trigger && strcmp(p->items[i].user, user) == 0)
            return 0;
    if (p->n == PACER_MAX_ITEMS)
        return -1;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        pacer_item *grown = realloc(p->items, cap * sizeof *grown);
        if (!grown)
            return -1;
        p->items = grown;
        p->cap = cap;
    }
    it = &p->items[p->n++];
    memset(it, 0, sizeof *it);
    memcpy(it->user, user, strlen(user) + 1);
    it->trigger = trigger;
    it->cause_ms = cause_ms;
    it->due_ms = due_ms;
    if (screen)
        memcpy(it->screen, screen, strlen(screen) + 1);
    return 1;
}

size_t pacer_screen(pacer *p, const char *user, const char *screen)
{
    size_t dropped = 0;

    for (size_t i = p->n; i-- > 0;) {
        pacer_item *it = &p->items[i];
        if (it->screen[0] && strcmp(it->user, user) == 0 &&
            (!screen || strcmp(it->screen, screen) != 0)) {
            drop(p, i);
            dropped++;
        }
    }
    return dropped;
}

void pacer_forget(pacer *p, const char *user)
{
    for (size_t i = p->n; i-- > 0;)
        if (strcmp(p->items[i].user, user) == 0)
            drop(p, i);
}

static size_t earliest(const pacer *p)
{
    size_t best = 0;

    for (size_t i = 1; i < p->n; i++)
        if (p->items[i].due_ms < p->items[best].due_ms)
            best = i;
    return best;
}

int64_t pacer_next_due(const pacer *p)
{
    return p->n ? p->items[earliest(p)].due_ms : -1;
}

int pacer_take_due(pacer *p, int64_t now_ms, pacer_item *out)
{
    size_t i;

    if (!p->n)
        return 0;
    i = earliest(p);
    if (p->items[i].due_ms > now_ms)
        return 0;
    *out = p->items[i];
    drop(p, i);
    return 1;
}

size_t pacer_count(const pacer *p)
{
    return p->n;
}
