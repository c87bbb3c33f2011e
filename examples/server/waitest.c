#include "waitest.h"

#include <stdlib.h>
#include <string.h>

typedef struct ring {
    int64_t *ms;
    size_t n, next;
} ring;

struct waitest {
    ring *rings;
    size_t teams, window;
    int64_t default_ms;
};

waitest *waitest_new(size_t teams, size_t window, int64_t default_ms)
{
    waitest *w = calloc(1, sizeof *w);

    if (!w || !window)
        goto fail;
    w->teams = teams;
    w->window = window;
    w->default_ms = default_ms;
    if (teams && !(w->rings = calloc(teams, sizeof *w->rings)))
        goto fail;
    for (size_t i = 0; i < teams; i++)
        if (!(w->rings[i].ms = calloc(window, sizeof(int64_t))))
            goto fail;
    return w;
fail:
    waitest_free(w);
    return NULL;
}

void waitest_free(waitest *w)
{
    if (!w)
        return;
    for (size_t i = 0; w->rings && i < w->teams; i++)
        free(w->rings[i].ms);
    free(w->rings);
    free(w);
}

void waitest_add(waitest *w, size_t team, int64_t handle_ms)
{
    ring *r;

    if (team >= w->teams)
        return;
    r = &w->rings[team];
    r->ms[r->next] = handle_ms < 0 ? 0 : handle_ms;
    r->next = (r->next + 1) % w->window;
    if (r->n < w->window)
        r->n++;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

int64_t waitest_median_ms(const waitest *w, size_t team)
{
    const ring *r = team < w->teams ? &w->rings[team] : NULL;
    int64_t *sorted, median;

    if (!r || !r->n)
        return w->default_ms;
    sorted = malloc(r->n * sizeof *sorted);
    if (!sorted)
        return w->default_ms;
    memcpy(sorted, r->ms, r->n * sizeof *sorted);
    qsort(sorted, r->n, sizeof *sorted, by_value);
    median = r->n % 2 ? sorted[r->n / 2] : (sorted[r->n / 2 - 1] + sorted[r->n / 2]) / 2;
    free(sorted);
    return median;
}

int64_t waitest_wait_s(const waitest *w, size_t team, int64_t position, int staffed)
{
    int64_t rounds;

    if (position < 1)
        return 0;
    if (staffed < 1)
        staffed = 1;
    rounds = (position + staffed - 1) / staffed;
    return (rounds * waitest_median_ms(w, team) + 999) / 1000;
}
