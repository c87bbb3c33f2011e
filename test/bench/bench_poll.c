/* How much parley_poll costs a game loop when nothing happened (the common
 * case: it is called every frame). Baseline in the same run: a call through
 * a function pointer to an empty function, so the figure is a ratio that
 * survives a noisy shared machine. Prints the medians of 15 interleaved
 * rounds as poll_empty. */
#include <parley.h>

#include "bench.h"

#define ROUNDS 15
#define CALLS 2000000

static int empty(parley_client *pc, parley_event **ev)
{
    (void)pc;
    *ev = NULL;
    return PARLEY_ERR_AGAIN;
}

static double per_call_ns(int (*volatile fn)(parley_client *, parley_event **), parley_client *pc)
{
    parley_event *ev;
    double t0 = bench_now_us();
    for (int i = 0; i < CALLS; i++)
        if (fn(pc, &ev) == PARLEY_OK)
            parley_event_free(ev);
    return (bench_now_us() - t0) * 1000.0 / CALLS;
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
    bench_report("poll_empty", bench_median(poll, ROUNDS), bench_median(base, ROUNDS), "ns");
    parley_client_free(pc);
    return 0;
}
