#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

#define CONNECT_TIMEOUT_MS 15000

/* ---- clock and statistics ------------------------------------------------ */

double bench_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

double bench_thread_cpu_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

void bench_sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_pct(double *v, size_t n, double pct)
{
    if (n == 0)
        return 0;
    qsort(v, n, sizeof v[0], cmp_double);
    double exact = pct * (double)n / 100.0;
    size_t rank = (size_t)exact;
    if ((double)rank < exact)
        rank++;
    if (rank < 1)
        rank = 1;
    return v[(rank > n ? n : rank) - 1];
}

double bench_median(double *v, size_t n)
{
    return bench_pct(v, n, 50);
}

static int interleave(bench_take_fn take, void *arg, int n, int block, double *samples[2])
{
    for (int b = 0; b < n / block; b++)
        for (int k = 0; k < 2; k++) {
            int side = (b + k) % 2;
            if (take(arg, side, samples[side] + b * block, block) != 0)
                return -1;
        }
    return 0;
}

static int rounds_into(bench_take_fn take, void *arg, int rounds, int n, int block,
                       double *samples[2], double *pcts[2][2])
{
    if (interleave(take, arg, block, block, samples) != 0)
        return -1;
    for (int r = 0; r < rounds; r++) {
        if (interleave(take, arg, n, block, samples) != 0)
            return -1;
        for (int side = 0; side < 2; side++) {
            pcts[side][0][r] = bench_pct(samples[side], (size_t)n, 50);
            pcts[side][1][r] = bench_pct(samples[side], (size_t)n, 99);
        }
    }
    return 0;
}

int bench_rounds(bench_take_fn take, void *arg, int rounds, int n, int block, double out[2][2])
{
    if (block < 1 || n < block || rounds < 1)
        return -1;
    double *samples[2], *pcts[2][2];
    double *all = calloc((size_t)(2 * n + 4 * rounds), sizeof *all);
    if (!all)
        return -1;
    samples[0] = all;
    samples[1] = all + n;
    for (int i = 0; i < 4; i++)
        pcts[i / 2][i % 2] = all + 2 * n + i * rounds;
    int rc = rounds_into(take, arg, rounds, n, block, samples, pcts);
    for (int i = 0; rc == 0 && i < 4; i++)
        out[i / 2][i % 2] = bench_median(pcts[i / 2][i % 2], (size_t)rounds);
    free(all);
    return rc;
}

/* ---- output ---------------------------------------------------------------- */

/* Three significant digits or so, never an exponent. */
static void fmt_value(char *buf, size_t size, double v)
{
    snprintf(buf, size, v >= 100 || v <= -100 ? "%.0f" : v >= 10 || v <= -10 ? "%.1f" : "%.2f", v);
}

static void print_line(const char *name, double parley, double baseline, const char *unit,
                       const char *tail)
{
    char p[48], b[48], r[48];
    fmt_value(p, sizeof p, parley);
    fmt_value(b, sizeof b, baseline);
    if (baseline != 0)
        snprintf(r, sizeof r, "%.2f", parley / baseline);
    else
        snprintf(r, sizeof r, "%s", parley == 0 ? "1.00" : "inf");
    printf("bench %s: parley=%s%s baseline=%s%s ratio=%s%s\n", name, p, unit, b, unit, r, tail);
    fflush(stdout);
}

void bench_report(const char *name, double parley, double baseline, const char *unit)
{
    print_line(name, parley, baseline, unit, "");
}

void bench_report_budget(const char *name, double parley, double baseline, const char *unit,
                         double budget)
{
    char v[48], tail[80];
    fmt_value(v, sizeof v, budget);
    snprintf(tail, sizeof tail, " budget=%s%s", v, unit);
    print_line(name, parley, baseline, unit, tail);
}

int bench_fail(const char *what)
{
    fprintf(stderr, "bench: failed: %s\n", what);
    return 1;
}

/* ---- the ack server -------------------------------------------------------- */

/* The server writes "port N" on its stdout once it listens. */
static int read_port(int fd)
{
    char buf[64];
    size_t len = 0;
    double end = bench_now_us() + CONNECT_TIMEOUT_MS * 1000.0;
    while (len + 1 < sizeof buf && bench_now_us() < end) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 100) <= 0)
            continue;
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n <= 0)
            return -1;
        len += (size_t)n;
        buf[len] = '\0';
        int port;
        if (strchr(buf, '\n') && sscanf(buf, "port %d", &port) == 1)
            return port;
    }
    return -1;
}

static pid_t spawn_server(const bench_env *e, int *out_fd)
{
    int fds[2];
    if (pipe(fds) != 0)
        return -1;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
#ifdef __linux__
        prctl(PR_SET_PDEATHSIG, SIGKILL); /* a crashed bench leaves no server behind */
#endif
        dup2(fds[1], STDOUT_FILENO);
        close(fds[0]);
        close(fds[1]);
        execl(BENCH_SERVER_BIN, "bench_server", e->certs.cert, e->certs.key, (char *)NULL);
        _exit(127);
    }
    close(fds[1]);
    if (pid < 0)
        close(fds[0]);
    else
        *out_fd = fds[0];
    return pid;
}

int bench_env_start(bench_env *e)
{
    memset(e, 0, sizeof *e);
    e->server = -1;
    if (tc_make(&e->certs) != 0)
        return -1;
    int fd = -1;
    e->server = spawn_server(e, &fd);
    if (e->server < 0)
        return -1;
    e->port = read_port(fd);
    close(fd);
    if (e->port <= 0)
        return -1;
    snprintf(e->url, sizeof e->url, "wss://localhost:%d/", e->port);
    return 0;
}

void bench_env_stop(bench_env *e)
{
    if (e->server > 0) {
        kill(e->server, SIGTERM);
        waitpid(e->server, NULL, 0);
        e->server = -1;
    }
    if (e->certs.dir[0])
        tc_remove(&e->certs);
}

/* ---- Parley clients ---------------------------------------------------------- */

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        char path[512];
        if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            unlink(path);
        }
    }
    closedir(d);
    rmdir(dir);
}

static int client_new(bench_client *c, const bench_env *e)
{
    parley_config *cfg = parley_config_new();
    if (!cfg)
        return -1;
    int rc = parley_config_set_url(cfg, e->url);
    if (rc == PARLEY_OK)
        rc = parley_config_set_app_id(cfg, "bench");
    if (rc == PARLEY_OK)
        rc = parley_config_set_ca_file(cfg, e->certs.ca);
    if (rc == PARLEY_OK && c->dir[0])
        rc = parley_config_set_data_dir(cfg, c->dir);
    if (rc == PARLEY_OK)
        rc = parley_client_new(cfg, &c->pc);
    parley_config_free(cfg);
    return rc == PARLEY_OK ? 0 : -1;
}

static void note_event(bench_client *c, const parley_event *ev)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_MESSAGE:
        c->last_msg_us = bench_now_us();
        if (++c->messages == c->mark + 1)
            c->mark_first_us = c->last_msg_us;
        break;
    case PARLEY_EV_MESSAGE_STATUS:
        if (parley_event_state(ev) == PARLEY_MSG_SENT && c->want_cid &&
            strcmp(parley_event_client_id(ev), c->want_cid) == 0)
            c->sent = 1;
        break;
    case PARLEY_EV_CONNECTION: c->online = parley_event_state(ev) == PARLEY_CONN_ONLINE; break;
    case PARLEY_EV_CONVERSATION:
        if (parley_event_state(ev) == PARLEY_CONV_STARTED)
            c->started = 1;
        break;
    default: break;
    }
}

static void poll_all(bench_client *c)
{
    parley_event *ev;
    while (parley_poll(c->pc, &ev) == PARLEY_OK) {
        note_event(c, ev);
        parley_event_free(ev);
    }
}

int bench_client_service(bench_client *c, int timeout_ms)
{
    int rc = parley_service(c->pc, timeout_ms);
    poll_all(c);
    return rc == PARLEY_OK ? 0 : -1;
}

int bench_client_step(bench_client *c)
{
    if (c->mode != BENCH_THREAD)
        return bench_client_service(c, c->mode == BENCH_SPIN ? 0 : 16);
    sched_yield();
    poll_all(c);
    return 0;
}

static int is_started(const bench_client *c)
{
    return c->started;
}

static int is_sent(const bench_client *c)
{
    return c->sent;
}

static int is_drained(const bench_client *c)
{
    return c->messages >= c->target;
}

static int step_until(bench_client *c, int (*done)(const bench_client *), int timeout_ms)
{
    double end = bench_now_us() + timeout_ms * 1000.0;
    while (!done(c))
        if (bench_client_step(c) != 0 || bench_now_us() > end)
            return -1;
    return 0;
}

int bench_client_new(bench_client *c, const bench_env *e, bench_mode mode, int data_dir)
{
    memset(c, 0, sizeof *c);
    c->mode = mode;
    if (data_dir) {
        const char *tmp = getenv("TMPDIR");
        snprintf(c->dir, sizeof c->dir, "%s/parley-bench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(c->dir))
            return -1;
    }
    return client_new(c, e);
}

int bench_client_open(bench_client *c, const bench_env *e, bench_mode mode, int data_dir)
{
    if (bench_client_new(c, e, mode, data_dir) != 0 ||
        (mode == BENCH_THREAD && parley_start(c->pc) != PARLEY_OK))
        return -1;
    if (parley_conversation_start(c->pc, "Benchmark", c->conv, sizeof c->conv) != PARLEY_OK)
        return -1;
    return step_until(c, is_started, CONNECT_TIMEOUT_MS);
}

void bench_client_close(bench_client *c)
{
    parley_client_free(c->pc);
    c->pc = NULL;
    if (c->dir[0])
        remove_dir(c->dir);
    c->dir[0] = '\0';
}

int bench_client_await_sent(bench_client *c, const char *cid, int timeout_ms)
{
    c->want_cid = cid;
    c->sent = 0;
    int rc = step_until(c, is_sent, timeout_ms);
    c->want_cid = NULL;
    return rc;
}

int bench_client_drain(bench_client *c, long n, double *first_us, double *last_us, int timeout_ms)
{
    c->mark = c->messages;
    c->target = c->messages + n;
    if (step_until(c, is_drained, timeout_ms) != 0)
        return -1;
    *first_us = c->mark_first_us;
    *last_us = c->last_msg_us;
    return 0;
}

void bench_message_text(char *buf, size_t size, long n)
{
    snprintf(buf, size, "My gems never arrived, order %06ld. Can you check it?", n);
}

void bench_burst_text(char *buf, size_t size, long n)
{
    snprintf(buf, size, "burst %ld", n);
}

/* ---- wake-ups ------------------------------------------------------------------ */

pid_t bench_tid(void)
{
    return (pid_t)syscall(SYS_gettid);
}

long bench_wakeups(pid_t tid)
{
    char path[64], line[128];
    snprintf(path, sizeof path, "/proc/self/task/%ld/status", (long)tid);
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long n = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "voluntary_ctxt_switches: %ld", &n) == 1)
            break;
    fclose(f);
    return n;
}

long bench_wakeups_others(pid_t skip_a, pid_t skip_b)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    long sum = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        pid_t tid = (pid_t)atol(de->d_name);
        long n = tid > 0 && tid != skip_a && tid != skip_b ? bench_wakeups(tid) : 0;
        if (n < 0) {
            sum = -1;
            break;
        }
        sum += n;
    }
    closedir(d);
    return sum;
}
