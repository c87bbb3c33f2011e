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

static int parley_connect_max(const bench_env *e, double *max_us)
{
    bench_client c;
    int rc = bench_client_new(&c, e, BENCH_SPIN, 0);
    double end = bench_now_us() + TIMEOUT_MS * 1000.0;
    *max_us = 0;
    while (rc == 0 && !c.online) {
        double t0 = bench_now_us();
        rc = bench_client_service(&c, 0);
        double t1 = bench_now_us();
        if (t1 - t0 > *max_us)
            *max_us = t1 - t0;
        if (t1 > end)
            rc = -1;
    }
    bench_client_close(&c);
    return rc;
}

static int raw_connect_max(const bench_env *e, double *max_us)
{
    rawws *r;
    if (rawws_new(e, &r) != 0)
        return -1;
    double end = bench_now_us() + TIMEOUT_MS * 1000.0, t0 = bench_now_us();
    int rc = rawws_connect(r);
    *max_us = bench_now_us() - t0;
    while (rc == 0 && !rawws_welcomed(r)) {
        t0 = bench_now_us();
        rc = rawws_step(r, BENCH_SPIN);
        double t1 = bench_now_us();
        if (t1 - t0 > *max_us)
            *max_us = t1 - t0;
        if (t1 > end)
            rc = -1;
    }
    rawws_free(r);
    return rc;
}

static int service0_max(const bench_env *e)
{
    double worst[2][CONNECTS];
    for (int round = 0; round < CONNECTS; round++)
        for (int k = 0; k < 2; k++) {
            int side = (round + k) % 2;
            int rc = side == 0 ? parley_connect_max(e, &worst[0][round])
                               : raw_connect_max(e, &worst[1][round]);
            if (rc != 0)
                return bench_fail("service0_max");
        }
    bench_report_budget("service0_max", bench_median(worst[0], CONNECTS) / 1000,
                        bench_median(worst[1], CONNECTS) / 1000, "ms", SERVICE0_BUDGET_MS);
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
