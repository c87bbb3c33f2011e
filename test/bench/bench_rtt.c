/* Send -> server ack round trip, p50 and p99, in the three ways a host runs
 * the client, each against raw libwebsockets run the same way:
 *   rtt_host0      parley_service(pc, 0) tight loop  vs lws_service(ctx, -1) loop
 *   rtt_thread     parley_start, host spins on poll  vs an lws_service(ctx, 0) thread
 *   rtt_service16  parley_service(pc, 16) loop       vs lws_service(ctx, 0) loop
 * One message at a time: the clock starts before parley_send_text (the raw
 * client's frame is queued the same way) and stops when the host sees the
 * acknowledgement (PARLEY_MSG_SENT; the raw client's parsed msg.ack). No
 * data dir. Within a round Parley and the baseline alternate every BLOCK
 * messages, so that whatever else the machine does falls on both alike;
 * each figure is the median over rounds of the round's percentile. */
#include <stdio.h>

#include "bench.h"
#include "rawws.h"

#define ROUNDS 7
#define PER_ROUND 200
#define BLOCK 10
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

typedef struct pair {
    bench_client *c;
    rawws *r;
    bench_mode mode;
    long seq;
} pair;

static int parley_sends(pair *p, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        char text[128], cid[PARLEY_ID_SIZE];
        bench_message_text(text, sizeof text, ++p->seq);
        double t0 = bench_now_us();
        if (parley_send_text(p->c->pc, p->c->conv, text, cid, sizeof cid) != PARLEY_OK ||
            bench_client_await_sent(p->c, cid, TIMEOUT_MS) != 0)
            return -1;
        out[i] = bench_now_us() - t0;
    }
    return 0;
}

static int raw_sends(pair *p, double *out, int n)
{
    for (int i = 0; i < n; i++) {
        char text[128];
        bench_message_text(text, sizeof text, ++p->seq);
        long acks = rawws_acks(p->r);
        double t0 = bench_now_us();
        if (rawws_send_text(p->r, text) != 0 ||
            rawws_await_acks(p->r, p->mode, acks + 1, TIMEOUT_MS) != 0)
            return -1;
        out[i] = bench_now_us() - t0;
    }
    return 0;
}

static int take(void *arg, int side, double *out, int n)
{
    return side == 0 ? parley_sends(arg, out, n) : raw_sends(arg, out, n);
}

static int run_case(const bench_env *e, const rtt_case *rc)
{
    bench_client c;
    pair p = {&c, NULL, rc->mode, 0};
    double pct[2][2];
    int ok = bench_client_open(&c, e, rc->mode, 0) == 0 && rawws_open(e, rc->mode, &p.r) == 0 &&
             bench_rounds(take, &p, ROUNDS, PER_ROUND, BLOCK, pct) == 0;
    rawws_free(p.r);
    bench_client_close(&c);
    if (!ok)
        return bench_fail(rc->name);
    char name[64];
    snprintf(name, sizeof name, "%s_p50", rc->name);
    bench_report(name, pct[0][0], pct[1][0], "us");
    snprintf(name, sizeof name, "%s_p99", rc->name);
    bench_report(name, pct[0][1], pct[1][1], "us");
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
