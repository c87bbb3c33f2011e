/* How long the host's own thread is held inside a call.
 *   send_call_p50/_p99  time inside parley_send_text with a data dir (threaded
 *                       client, default durability), against a bare write()
 *                       of as many bytes as the call added to the journal, to
 *                       a file in the same directory
 *   service0_max        the longest single parley_service(pc, 0) from the
 *                       first call (which starts connecting) to the welcome,
 *                       against the longest lws_client_connect_via_info or
 *                       lws_service(ctx, -1) of a raw client connecting the
 *                       same way; printed with the budget a call should keep
 *   service0_max_cpu    the same by the thread's CPU time: the work inside
 *                       the call, without the time a loaded machine's
 *                       scheduler gave to other processes meanwhile
 * Parley and the baseline alternate in blocks within a round; figures are
 * medians over rounds. */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bench.h"
#include "rawws.h"

#define ROUNDS 7
#define PER_ROUND 200
#define BLOCK 10
#define CONNECTS 5
#define TIMEOUT_MS 15000
/* What one parley_service(pc, 0) may take: a quarter of a 60 Hz frame. */
#define SERVICE0_BUDGET_MS 4.0

/* ---- send_call ---------------------------------------------------------------- */

static long journal_size(const bench_client *c)
{
    char path[300];
    struct stat st;
    snprintf(path, sizeof path, "%s/journal", c->dir);
    return stat(path, &st) == 0 ? (long)st.st_size : -1;
}

typedef struct sender {
    bench_client c;
    long seq;
    double bytes; /* what a send added to the journal, median of the last block */
} sender;

static int parley_calls(sender *s, double *out, int n)
{
    double growth[PER_ROUND];
    int grown = 0;
    for (int i = 0; i < n; i++) {
        char text[128], cid[PARLEY_ID_SIZE];
        bench_message_text(text, sizeof text, ++s->seq);
        long before = journal_size(&s->c);
        double t0 = bench_now_us();
        int rc = parley_send_text(s->c.pc, s->c.conv, text, cid, sizeof cid);
        out[i] = bench_now_us() - t0;
        long after = journal_size(&s->c);
        if (after > before) /* not when the journal was compacted meanwhile */
            growth[grown++] = (double)(after - before);
        if (rc != PARLEY_OK || bench_client_await_sent(&s->c, cid, TIMEOUT_MS) != 0)
            return -1;
    }
    if (grown)
        s->bytes = bench_median(growth, (size_t)grown);
    return s->bytes > 0 ? 0 : -1;
}

static int write_calls(const sender *s, double *out, int n)
{
    char path[300], buf[4096];
    size_t bytes = (size_t)s->bytes;
    snprintf(path, sizeof path, "%s/baseline", s->c.dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0 || bytes > sizeof buf)
        return -1;
    memset(buf, 'b', bytes);
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        double t0 = bench_now_us();
        if (write(fd, buf, bytes) != (ssize_t)bytes)
            rc = -1;
        out[i] = bench_now_us() - t0;
    }
    close(fd);
    unlink(path);
    return rc;
}

static int take_send(void *arg, int side, double *out, int n)
{
    return side == 0 ? parley_calls(arg, out, n) : write_calls(arg, out, n);
}

static int send_call(const bench_env *e)
{
    sender s = {.seq = 0, .bytes = 0};
    double pct[2][2];
    int ok = bench_client_open(&s.c, e, BENCH_THREAD, 1) == 0 &&
             bench_rounds(take_send, &s, ROUNDS, PER_ROUND, BLOCK, pct) == 0;
    bench_client_close(&s.c);
    if (!ok)
        return bench_fail("send_call");
    bench_report("send_call_p50", pct[0][0], pct[1][0], "us");
    bench_report("send_call_p99", pct[0][1], pct[1][1], "us");
    return 0;
}

/* ---- service0_max ------------------------------------------------------------------ */

/* The longest call seen so far, by the wall clock and by the thread's CPU
 * time (the wall clock also counts preemption on a loaded machine). */
typedef struct call_max {
    double wall, cpu;
} call_max;

typedef struct call_clock {
    double wall, cpu;
} call_clock;

static call_clock clock_start(void)
{
    call_clock c = {bench_now_us(), bench_thread_cpu_us()};
    return c;
}

/* Records the call that began at c0; returns its end by the wall clock. */
static double clock_stop(call_clock c0, call_max *m)
{
    double wall = bench_now_us(), cpu = bench_thread_cpu_us();
    if (wall - c0.wall > m->wall)
        m->wall = wall - c0.wall;
    if (cpu - c0.cpu > m->cpu)
        m->cpu = cpu - c0.cpu;
    return wall;
}

static int parley_connect_max(const bench_env *e, call_max *m)
{
    bench_client c;
    int rc = bench_client_new(&c, e, BENCH_SPIN, 0);
    double end = bench_now_us() + TIMEOUT_MS * 1000.0;
    while (rc == 0 && !c.online) {
        call_clock c0 = clock_start();
        rc = bench_client_service(&c, 0);
        if (clock_stop(c0, m) > end)
            rc = -1;
    }
    bench_client_close(&c);
    return rc;
}

static int raw_connect_max(const bench_env *e, call_max *m)
{
    rawws *r;
    if (rawws_new(e, &r) != 0)
        return -1;
    double end = bench_now_us() + TIMEOUT_MS * 1000.0;
    call_clock c0 = clock_start();
    int rc = rawws_connect(r);
    clock_stop(c0, m);
    while (rc == 0 && !rawws_welcomed(r)) {
        c0 = clock_start();
        rc = rawws_step(r, BENCH_SPIN);
        if (clock_stop(c0, m) > end)
            rc = -1;
    }
    rawws_free(r);
    return rc;
}

static int service0_max(const bench_env *e)
{
    double wall[2][CONNECTS], cpu[2][CONNECTS];
    for (int round = 0; round < CONNECTS; round++)
        for (int k = 0; k < 2; k++) {
            int side = (round + k) % 2;
            call_max m = {0, 0};
            int rc = side == 0 ? parley_connect_max(e, &m) : raw_connect_max(e, &m);
            if (rc != 0)
                return bench_fail("service0_max");
            wall[side][round] = m.wall;
            cpu[side][round] = m.cpu;
        }
    bench_report_budget("service0_max", bench_median(wall[0], CONNECTS) / 1000,
                        bench_median(wall[1], CONNECTS) / 1000, "ms", SERVICE0_BUDGET_MS);
    bench_report_budget("service0_max_cpu", bench_median(cpu[0], CONNECTS) / 1000,
                        bench_median(cpu[1], CONNECTS) / 1000, "ms", SERVICE0_BUDGET_MS);
    return 0;
}

int main(void)
{
    bench_env e;
    int rc = bench_env_start(&e) == 0 ? 0 : bench_fail("the ack server did not start");
    if (rc == 0)
        rc = send_call(&e);
    if (rc == 0)
        rc = service0_max(&e);
    bench_env_stop(&e);
    return rc;
}
