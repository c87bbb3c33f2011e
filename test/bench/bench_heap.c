/* The heap a connected, idle client holds, every allocation counted
 * (heapcount.c replaces the malloc family, so libwebsockets, mbedTLS, cJSON
 * and libc are seen as well as libparley). Host-driven (parley_service), no
 * data dir: the client connects to the ack server over TLS, starts a
 * conversation, has it acknowledged, then services for SETTLE_MS more; the
 * figure is what is live then minus what was live before
 * parley_client_new. The peak is the most that was live meanwhile (the TLS
 * handshake).
 *
 * Prints one line, for test/bench/bench-size.sh to compare profiles:
 *   heap idle=<bytes> peak=<bytes> */
#include <stdio.h>

#include "bench.h"
#include "heapcount.h"

#define SETTLE_MS 300

static int parley_heap(const bench_env *e, long *idle, long *peak)
{
    bench_client c;
    long base = heapcount_live();
    heapcount_reset_peak();
    int rc = bench_client_open(&c, e, BENCH_BLOCK, 0);
    double end = bench_now_us() + SETTLE_MS * 1000.0;
    while (rc == 0 && bench_now_us() < end)
        rc = bench_client_service(&c, 10);
    if (rc == 0 && !c.online)
        rc = -1;
    *idle = heapcount_live() - base;
    *peak = heapcount_peak() - base;
    bench_client_close(&c);
    return rc;
}

int main(void)
{
    bench_env e;
    long idle = 0, peak = 0;
    if (bench_env_start(&e) != 0) {
        bench_env_stop(&e);
        return bench_fail("the ack server did not start");
    }
    int rc = parley_heap(&e, &idle, &peak) == 0 ? 0 : bench_fail("parley client");
    bench_env_stop(&e);
    if (rc == 0)
        printf("heap idle=%ld peak=%ld\n", idle, peak);
    return rc;
}
