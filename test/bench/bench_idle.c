/* Wake-ups per second of a connected client with nothing to do, over a 10 s
 * window, in each mode:
 *   idle_wakeups_thread  parley_start: the library's threads; the host
 *                        thread sleeps through the window
 *   idle_wakeups_host    the host thread looping on parley_service(pc, 1000)
 *                        (an app with nothing else to do; its own share is
 *                        at most one wake-up a second)
 * against a raw libwebsockets client idling in lws_service(ctx, 0) on its
 * own thread over the same window, with the same keepalive (ping after
 * 20 s of silence). A wake-up is a voluntary context switch (the thread
 * went to sleep: poll, nanosleep, futex) read from
 * /proc/self/task/TID/status, which counts every way of sleeping without
 * tracing the process; preemptions (involuntary switches) are not counted. */
#include <string.h>

#include "bench.h"
#include "rawws.h"

#define WINDOW_MS 10000
#define SETTLE_MS 500
#define HOST_SERVICE_MS 1000

typedef struct window {
    pid_t host, raw;
    long parley0, raw0;
    double t0;
} window;

/* In THREAD mode Parley's wake-ups are those of every thread but the host's
 * and the raw client's; in host mode they are the host thread's. */
static long parley_count(const window *w, bench_mode mode)
{
    return mode == BENCH_THREAD ? bench_wakeups_others(w->host, w->raw) : bench_wakeups(w->host);
}

static void window_open(window *w, const rawws *r, bench_mode mode)
{
    w->host = bench_tid();
    w->raw = rawws_thread_tid(r);
    w->parley0 = parley_count(w, mode);
    w->raw0 = bench_wakeups(w->raw);
    w->t0 = bench_now_us();
}

static int window_close(const window *w, bench_mode mode, double *parley, double *baseline)
{
    long p = parley_count(w, mode), b = bench_wakeups(w->raw);
    double secs = (bench_now_us() - w->t0) / 1e6;
    if (w->parley0 < 0 || w->raw0 < 0 || p < 0 || b < 0)
        return -1;
    *parley = (double)(p - w->parley0) / secs;
    *baseline = (double)(b - w->raw0) / secs;
    return 0;
}

static int idle_window(bench_client *c, const rawws *r, double *parley, double *baseline)
{
    window w;
    bench_sleep_ms(SETTLE_MS); /* the connection's setup traffic dies down */
    window_open(&w, r, c->mode);
    if (c->mode == BENCH_THREAD) {
        bench_sleep_ms(WINDOW_MS);
    } else {
        double end = w.t0 + WINDOW_MS * 1000.0;
        while (bench_now_us() < end)
            if (bench_client_service(c, HOST_SERVICE_MS) != 0)
                return -1;
    }
    return window_close(&w, c->mode, parley, baseline);
}

static int run(const bench_env *e, const char *name, bench_mode mode)
{
    bench_client c;
    rawws *r = NULL;
    double parley, baseline;
    int ok = bench_client_open(&c, e, mode, 0) == 0 && rawws_open(e, BENCH_THREAD, &r) == 0 &&
             idle_window(&c, r, &parley, &baseline) == 0;
    rawws_free(r);
    bench_client_close(&c);
    if (!ok)
        return bench_fail(name);
    bench_report(name, parley, baseline, "/s");
    return 0;
}

int main(void)
{
    bench_env e;
    int rc = bench_env_start(&e) == 0 ? 0 : bench_fail("the ack server did not start");
    if (rc == 0)
        rc = run(&e, "idle_wakeups_thread", BENCH_THREAD);
    if (rc == 0)
        rc = run(&e, "idle_wakeups_host", BENCH_BLOCK);
    bench_env_stop(&e);
    return rc;
}
