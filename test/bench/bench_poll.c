/* How much parley_poll costs a game loop when nothing happened (the common
 * case: it is called every frame). Baseline in the same run: a call through
 * a function pointer to an empty function, so the figure is a ratio that
 * survives a noisy shared machine. Prints medians of 15 rounds. */
#include <parley.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ROUNDS 15
#define CALLS 2000000

static int empty(parley_client *pc, parley_event **ev)
{
    (void)pc;
    *ev = NULL;
    return PARLEY_ERR_AGAIN;
}

static double now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static double per_call_ns(int (*volatile fn)(parley_client *, parley_event **), parley_client *pc)
{
    parley_event *ev;
    double t0 = now_ns();
    for (int i = 0; i < CALLS; i++)
        if (fn(pc, &ev) == PARLEY_OK)
            parley_event_free(ev);
    return (now_ns() - t0) / CALLS;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    parley_config *cfg = parley_config_new();
    parley_config_set_url(cfg, "wss://localhost:1/");
    parley_config_set_app_id(cfg, "bench");
    parley_client *pc;
    if (parley_client_new(cfg, &pc) != PARLEY_OK)
        return 1;
    parley_config_free(cfg);

    double base[ROUNDS], poll[ROUNDS];
    for (int r = 0; r < ROUNDS; r++) {
        base[r] = per_call_ns(empty, pc);
        poll[r] = per_call_ns(parley_poll, pc);
    }
    qsort(base, ROUNDS, sizeof base[0], cmp);
    qsort(poll, ROUNDS, sizeof poll[0], cmp);
    double b = base[ROUNDS / 2], p = poll[ROUNDS / 2];
    printf("empty parley_poll: median %.2f ns/call; baseline empty call %.2f ns/call; ratio %.2f "
           "(%d rounds of %d calls)\n", p, b, p / b, ROUNDS, CALLS);
    parley_client_free(pc);
    return 0;
}
