/* Inbound throughput: the ack server pushes a burst of bot messages (msg
 * frames) and the host drains them, in a tight loop on one thread:
 *   Parley:   parley_service(pc, 0), then parley_poll until empty
 *   baseline: lws_service(ctx, -1), each frame parsed with cJSON
 * Messages per second from the first message the host sees to the last.
 *   inbound                  Parley without a data dir vs the baseline
 *   inbound_datadir          Parley with a data dir vs the baseline
 *   inbound_datadir_vs_none  Parley with a data dir vs without
 * Rounds rotate through the three clients; figures are medians over rounds. */
#include <string.h>

#include "bench.h"
#include "rawws.h"

#define ROUNDS 5
#define BURST 2000
#define TIMEOUT_MS 30000

enum { NONE, DATADIR, RAW, SIDES };

static double rate(double first_us, double last_us)
{
    return last_us > first_us ? (BURST - 1) / ((last_us - first_us) / 1e6) : 0;
}

static int parley_burst(bench_client *c, double *out)
{
    char text[64];
    double first, last;
    bench_burst_text(text, sizeof text, BURST);
    if (parley_send_text(c->pc, c->conv, text, NULL, 0) != PARLEY_OK ||
        bench_client_drain(c, BURST, &first, &last, TIMEOUT_MS) != 0)
        return -1;
    *out = rate(first, last);
    return 0;
}

static int raw_burst(rawws *r, double *out)
{
    char text[64];
    double first, last;
    bench_burst_text(text, sizeof text, BURST);
    if (rawws_send_text(r, text) != 0 ||
        rawws_drain(r, BENCH_SPIN, BURST, &first, &last, TIMEOUT_MS) != 0)
        return -1;
    *out = rate(first, last);
    return 0;
}

static int measure(bench_client c[2], rawws *r, double rates[SIDES][ROUNDS])
{
    double warm;
    if (parley_burst(&c[NONE], &warm) != 0 || parley_burst(&c[DATADIR], &warm) != 0 ||
        raw_burst(r, &warm) != 0)
        return -1;
    for (int round = 0; round < ROUNDS; round++)
        for (int k = 0; k < SIDES; k++) {
            int side = (round + k) % SIDES;
            int rc = side == RAW ? raw_burst(r, &rates[side][round])
                                 : parley_burst(&c[side], &rates[side][round]);
            if (rc != 0)
                return -1;
        }
    return 0;
}

int main(void)
{
    bench_env e;
    bench_client c[2];
    rawws *r = NULL;
    double rates[SIDES][ROUNDS];
    memset(c, 0, sizeof c); /* closed below whatever failed */
    int ok = bench_env_start(&e) == 0 && bench_client_open(&c[NONE], &e, BENCH_SPIN, 0) == 0 &&
             bench_client_open(&c[DATADIR], &e, BENCH_SPIN, 1) == 0 &&
             rawws_open(&e, BENCH_SPIN, &r) == 0 && measure(c, r, rates) == 0;
    rawws_free(r);
    bench_client_close(&c[DATADIR]);
    bench_client_close(&c[NONE]);
    bench_env_stop(&e);
    if (!ok)
        return bench_fail("inbound");
    double none = bench_median(rates[NONE], ROUNDS), dd = bench_median(rates[DATADIR], ROUNDS),
           raw = bench_median(rates[RAW], ROUNDS);
    bench_report("inbound", none, raw, "msg/s");
    bench_report("inbound_datadir", dd, raw, "msg/s");
    bench_report("inbound_datadir_vs_none", dd, none, "msg/s");
    return 0;
}
