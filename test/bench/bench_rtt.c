/* Send -> server ack round trip, p50 and p99, in the three ways a host runs
 * the client, each against raw libwebsockets run the same way:
 *   rtt_host0      parley_service(pc, 0) tight loop  vs lws_service(ctx, -1) loop
 *   rtt_thread     parley_start, host spins on poll  vs an lws_service(ctx, 0) thread
 *   rtt_service16  parley_service(pc, 16) loop       vs lws_service(ctx, 0) loop
 * One message at a time: the clock starts before parley_send_text (the raw
 * client's frame is queued the same way) and stops when the host sees the
 * acknowledgement (PARLEY_MSG_SENT; the raw client's parsed msg.ack). No
 * data dir. Rounds alternate between Parley and the baseline; each figure is
 * the median over rounds of the round's percentile. */
#include <stdio.h>

#include "bench.h"
#include "rawws.h"

#define ROUNDS 7
#define PER_ROUND 200
#define WARMUP 20
#define TIMEOUT_MS 5000

typedef struct rtt_case {
    const char *name;
    bench_mode mode;
} rtt_case;

static const rtt_case CASES[] = {
    {"rtt_host0", BENCH_SPIN},
    {"rtt_thread", BENCH_THREAD},
    {"rtt_service16", BENCH_BLOCK},
};

static int parley_round(bench_client *c, long *seq, int n, double *out)
{
    for (int i = 0; i < n; i++) {
        char text[128], cid[PARLEY_ID_SIZE];
        bench_message_text(text, sizeof text, ++*seq);
        double t0 = bench_now_us();
        if (parley_send_text(c->pc, c->conv, text, cid, sizeof cid) != PARLEY_OK ||
            bench_client_await_sent(c, cid, TIMEOUT_MS) != 0)
            return -1;
        out[i] = bench_now_us() - t0;
    }
    return 0;
}

static int raw_round(rawws *r, bench_mode mode, long *seq, int n, double *out)
{
    for (int i = 0; i < n; i++) {
        char text[128];
        bench_message_text(text, sizeof text, ++*seq);
        long acks = rawws_acks(r);
        double t0 = bench_now_us();
        if (rawws_send_text(r, text) != 0 || rawws_await_acks(r, mode, acks + 1, TIMEOUT_MS) != 0)
            return -1;
        out[i] = bench_now_us() - t0;
    }
    return 0;
}

/* Side 0 is Parley, side 1 the baseline; p50/p99 per side and round. */
static int measure(bench_client *c, rawws *r, bench_mode mode, double p50[2][ROUNDS],
                   double p99[2][ROUNDS])
{
    static double samples[PER_ROUND];
    long seq = 0;
    if (parley_round(c, &seq, WARMUP, samples) != 0 || raw_round(r, mode, &seq, WARMUP, samples) != 0)
        return -1;
    for (int round = 0; round < ROUNDS; round++)
        for (int k = 0; k < 2; k++) {
            int side = (round + k) % 2;
            int rc = side == 0 ? parley_round(c, &seq, PER_ROUND, samples)
                               : raw_round(r, mode, &seq, PER_ROUND, samples);
            if (rc != 0)
                return -1;
            p50[side][round] = bench_pct(samples, PER_ROUND, 50);
            p99[side][round] = bench_pct(samples, PER_ROUND, 99);
        }
    return 0;
}

static int run_case(const bench_env *e, const rtt_case *rc)
{
    bench_client c;
    rawws *r = NULL;
    double p50[2][ROUNDS], p99[2][ROUNDS];
    int ok = bench_client_open(&c, e, rc->mode, 0) == 0 && rawws_open(e, rc->mode, &r) == 0 &&
             measure(&c, r, rc->mode, p50, p99) == 0;
    rawws_free(r);
    bench_client_close(&c);
    if (!ok)
        return bench_fail(rc->name);
    char name[64];
    snprintf(name, sizeof name, "%s_p50", rc->name);
    bench_report(name, bench_median(p50[0], ROUNDS), bench_median(p50[1], ROUNDS), "us");
    snprintf(name, sizeof name, "%s_p99", rc->name);
    bench_report(name, bench_median(p99[0], ROUNDS), bench_median(p99[1], ROUNDS), "us");
    return 0;
}

int main(void)
{
    bench_env e;
    int rc = bench_env_start(&e) == 0 ? 0 : bench_fail("the ack server did not start");
    for (size_t i = 0; rc == 0 && i < sizeof CASES / sizeof CASES[0]; i++)
        rc = run_case(&e, &CASES[i]);
    bench_env_stop(&e);
    return rc;
}
