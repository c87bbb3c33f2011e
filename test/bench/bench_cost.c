/* What one inbound message costs the host's process, counted rather than
 * timed so that the figures repeat on a noisy machine:
 *   inbound_instructions  instructions executed (callgrind)
 *   inbound_allocations   allocator calls (malloc, calloc, realloc)
 * for Parley (parley_service(pc, 0) + parley_poll, no data dir) against raw
 * libwebsockets + cJSON_ParseWithLength (lws_service(ctx, -1)), each
 * draining a burst from the ack server on one thread.
 *
 * The program reruns itself under valgrind --tool=callgrind once per side
 * (the server is a separate process, so only the client is counted), with
 * instrumentation switched on at the first message of the burst and off at
 * the last: connection setup and the handshake are not counted. Both
 * figures are per message over the messages drained while counting. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <valgrind/callgrind.h>

#include "bench.h"
#include "countalloc.h"
#include "rawws.h"

#define BURST 1000
#define TIMEOUT_MS 120000

/* ---- the counted child ---------------------------------------------------------- */

typedef struct side {
    int (*step)(void *arg);
    long (*count)(void *arg); /* messages received so far */
    void *arg;
} side;

static int parley_step(void *arg)
{
    return bench_client_step(arg);
}

static long parley_count(void *arg)
{
    return ((bench_client *)arg)->messages;
}

static int raw_step(void *arg)
{
    return rawws_step(arg, BENCH_SPIN);
}

static long raw_count(void *arg)
{
    return rawws_msgs(arg);
}

/* Steps until the burst is in, counting from the step after its first
 * message; prints what was counted for the parent. */
static int count_burst(const side *s)
{
    double end = bench_now_us() + TIMEOUT_MS * 1000.0;
    long base = s->count(s->arg), m0 = -1, a0 = 0;
    while (s->count(s->arg) < base + BURST) {
        if (m0 < 0 && s->count(s->arg) > base) {
            m0 = s->count(s->arg);
            a0 = countalloc_calls();
            CALLGRIND_START_INSTRUMENTATION;
        }
        if (s->step(s->arg) != 0 || bench_now_us() > end)
            return -1;
    }
    CALLGRIND_STOP_INSTRUMENTATION;
    long allocs = countalloc_calls() - a0;
    printf("msgs=%ld allocs=%ld\n", s->count(s->arg) - m0, allocs);
    return 0;
}

static int child_parley(const bench_env *e, const char *burst)
{
    bench_client c;
    int rc = -1;
    if (bench_client_open(&c, e, BENCH_SPIN, 0) == 0 &&
        parley_send_text(c.pc, c.conv, burst, NULL, 0) == PARLEY_OK) {
        side s = {parley_step, parley_count, &c};
        rc = count_burst(&s);
    }
    bench_client_close(&c);
    return rc;
}

static int child_raw(const bench_env *e, const char *burst)
{
    rawws *r = NULL;
    int rc = -1;
    if (rawws_open(e, BENCH_SPIN, &r) == 0 && rawws_send_text(r, burst) == 0) {
        side s = {raw_step, raw_count, r};
        rc = count_burst(&s);
    }
    rawws_free(r);
    return rc;
}

/* argv: --child parley|raw PORT CA */
static int child(char **argv)
{
    bench_env e;
    char burst[64];
    memset(&e, 0, sizeof e);
    e.port = atoi(argv[3]);
    snprintf(e.url, sizeof e.url, "wss://localhost:%d/", e.port);
    snprintf(e.certs.ca, sizeof e.certs.ca, "%s", argv[4]);
    bench_burst_text(burst, sizeof burst, BURST);
    int rc = strcmp(argv[2], "parley") == 0 ? child_parley(&e, burst) : child_raw(&e, burst);
    return rc == 0 ? 0 : 1;
}

/* ---- the parent ------------------------------------------------------------------- */

/* The "totals:" line of a callgrind output file: instructions counted. */
static double callgrind_total(const char *path)
{
    FILE *f = fopen(path, "r");
    char line[256];
    double total = -1;
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "totals: %lf", &total) == 1)
            break;
    if (f)
        fclose(f);
    return total;
}

/* Runs one side under callgrind; instructions and allocations per message. */
static int run_side(const bench_env *e, const char *dir, const char *which, double *instr,
                    double *allocs)
{
    char self[512], out[512], cmd[2048];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return -1;
    self[n] = '\0';
    snprintf(out, sizeof out, "%s/callgrind.%s", dir, which);
    snprintf(cmd, sizeof cmd,
             "'%s' --tool=callgrind --instr-atstart=no --callgrind-out-file='%s' -q "
             "'%s' --child %s %d '%s' 2>'%s.log'",
             BENCH_VALGRIND, out, self, which, e->port, e->certs.ca, out);
    FILE *p = popen(cmd, "r");
    long msgs = 0, calls = 0;
    int got = p && fscanf(p, "msgs=%ld allocs=%ld", &msgs, &calls) == 2;
    int status = p ? pclose(p) : -1;
    double total = callgrind_total(out);
    if (!got || status != 0 || msgs <= 0 || total < 0) {
        fprintf(stderr, "bench_cost: %s under callgrind failed (see %s.log)\n", which, out);
        return -1;
    }
    *instr = total / (double)msgs;
    *allocs = (double)calls / (double)msgs;
    return 0;
}

static void remove_profiles(const char *dir)
{
    char path[600];
    const char *names[] = {"callgrind.parley", "callgrind.raw", "callgrind.parley.log",
                           "callgrind.raw.log"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
}

static int parent(void)
{
    bench_env e;
    char dir[] = "/tmp/parley-bench-cost-XXXXXX";
    double instr[2], allocs[2];
    if (!mkdtemp(dir))
        return bench_fail("no temporary directory");
    int ok = bench_env_start(&e) == 0 && run_side(&e, dir, "parley", &instr[0], &allocs[0]) == 0 &&
             run_side(&e, dir, "raw", &instr[1], &allocs[1]) == 0;
    bench_env_stop(&e);
    if (!ok)
        return bench_fail("inbound cost (the callgrind files are kept)");
    /* BENCH_COST_KEEP=1 keeps the profiles for callgrind_annotate. */
    if (getenv("BENCH_COST_KEEP"))
        fprintf(stderr, "bench_cost: profiles kept in %s\n", dir);
    else
        remove_profiles(dir);
    bench_report("inbound_instructions", instr[0], instr[1], "instr/msg");
    bench_report("inbound_allocations", allocs[0], allocs[1], "allocs/msg");
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 5 && strcmp(argv[1], "--child") == 0)
        return child(argv);
    return parent();
}
