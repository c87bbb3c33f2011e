/* The benchmark harness shared by every test/bench program: clock and
 * statistics, the one output line, the ack server (bench_server, a child
 * process on a loopback port with its own certificates) and Parley clients
 * driven against it in each of the ways a host drives them.
 *
 * Every figure is printed as
 *   bench NAME: parley=<value><unit> baseline=<value><unit> ratio=<r>
 * with ratio = parley / baseline, the baseline measured in the same run. */
#ifndef PARLEY_BENCH_H
#define PARLEY_BENCH_H

#include <stddef.h>
#include <sys/types.h>

#include <parley.h>

#include "testcert.h"

/* ---- clock and statistics ------------------------------------------------ */

double bench_now_us(void);
/* CPU time of the calling thread, in microseconds: what a call cost without
 * the time the scheduler gave to others meanwhile. */
double bench_thread_cpu_us(void);
void bench_sleep_ms(int ms);
/* The pct-th percentile (nearest rank) of v[0..n); sorts v in place. */
double bench_pct(double *v, size_t n, double pct);
double bench_median(double *v, size_t n);

/* Takes n samples of `side` (0: Parley, 1: the baseline) into out; 0 or -1. */
typedef int (*bench_take_fn)(void *arg, int side, double *out, int n);
/* Percentiles of latency samples taken in `rounds` rounds of `n` samples
 * per side (after one unrecorded block each to warm up). Within a round the
 * sides alternate every `block` samples (n is a multiple of it), so that
 * whatever else the machine does meanwhile falls on both alike. out[side]
 * gets the medians over rounds of each round's p50 ([0]) and p99 ([1]).
 * 0 or -1. */
int bench_rounds(bench_take_fn take, void *arg, int rounds, int n, int block, double out[2][2]);

/* ---- output ---------------------------------------------------------------- */

/* Prints the figure's line. */
void bench_report(const char *name, double parley, double baseline, const char *unit);
/* The same line followed by " budget=<budget><unit>". */
void bench_report_budget(const char *name, double parley, double baseline, const char *unit,
                         double budget);
/* "bench PROGRAM: failed: WHAT" on stderr; returns 1 (the exit status). */
int bench_fail(const char *what);

/* ---- how the client is driven -------------------------------------------- */

typedef enum bench_mode {
    BENCH_SPIN,  /* parley_service(pc, 0) / lws_service(ctx, -1) in a tight loop */
    BENCH_BLOCK, /* parley_service(pc, 16) / lws_service(ctx, 0) in a loop */
    BENCH_THREAD /* parley_start / an lws service thread; the host spins with sched_yield */
} bench_mode;

/* ---- the ack server -------------------------------------------------------- */

typedef struct bench_env {
    tc_files certs;
    pid_t server;
    int port;
    char url[64]; /* wss://localhost:PORT/ */
} bench_env;

/* Makes certificates and starts bench_server; 0 or -1. */
int bench_env_start(bench_env *e);
void bench_env_stop(bench_env *e);

/* ---- Parley clients ---------------------------------------------------------- */

typedef struct bench_client {
    parley_client *pc;
    bench_mode mode;
    char conv[PARLEY_ID_SIZE];
    char dir[256]; /* the data dir, or "" */
    long messages; /* PARLEY_EV_MESSAGE events polled so far */
    int online;    /* the last CONNECTION event said ONLINE */
    /* What the step loop waits for. */
    int started, sent;
    const char *want_cid;
    long mark, target;
    double mark_first_us, last_msg_us;
} bench_client;

/* A client of the ack server, to be driven in `mode`, with a fresh data
 * dir when `data_dir` is set; not started, not connecting yet. 0 or -1. */
int bench_client_new(bench_client *c, const bench_env *e, bench_mode mode, int data_dir);
/* bench_client_new, then started (THREAD mode), online and with a
 * conversation the server acknowledged. 0 or -1. */
int bench_client_open(bench_client *c, const bench_env *e, bench_mode mode, int data_dir);
void bench_client_close(bench_client *c);
/* One turn of the host loop: parley_service(pc, 0) in SPIN mode,
 * parley_service(pc, 16) in BLOCK mode, a sched_yield in THREAD mode; then
 * every queued event is polled. 0 or -1. */
int bench_client_step(bench_client *c);
/* parley_service(pc, timeout_ms), then every queued event polled. */
int bench_client_service(bench_client *c, int timeout_ms);
/* Steps until the message `cid` is acknowledged (MESSAGE_STATUS SENT), at
 * most timeout_ms; 0 or -1. */
int bench_client_await_sent(bench_client *c, const char *cid, int timeout_ms);
/* Steps until `n` more messages arrived; the times the first and the last
 * of them were polled go to first_us and last_us. 0 or -1 on timeout. */
int bench_client_drain(bench_client *c, long n, double *first_us, double *last_us, int timeout_ms);

/* The text of the n-th benchmark message (the same for Parley and the
 * baseline), and the text that makes the ack server push `n` bot messages. */
void bench_message_text(char *buf, size_t size, long n);
void bench_burst_text(char *buf, size_t size, long n);

/* ---- wake-ups ------------------------------------------------------------------ */

/* The calling thread's id. */
pid_t bench_tid(void);
/* voluntary_ctxt_switches of thread `tid` of this process: how often it
 * went to sleep, hence was woken; -1 when unreadable. */
long bench_wakeups(pid_t tid);
/* The same summed over every thread of this process but `skip_a` and
 * `skip_b` (threads that may be created meanwhile are not seen). */
long bench_wakeups_others(pid_t skip_a, pid_t skip_b);

#endif
