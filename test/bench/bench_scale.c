/* bench_scale (make bench-server): parley-server itself under load, over
 * TLS on loopback, from the load generator (loadgen.c: raw parley.v1
 * connections on one epoll loop).
 *
 * For each event loop (the baseline: lws' poll() loop, --event-loop poll;
 * then the default libuv/epoll loop) one server is started and filled to
 * 1,000, 5,000 and 10,000 idle connections, each welcomed after its hello:
 *   accept_rate_N     connections set up (TCP, TLS, upgrade, hello,
 *                     welcome) per second while filling up to N
 *   rss_per_conn_N    (server RSS at N - RSS before any) / N, after a settle
 *   idle_cpu_N        the server's CPU (utime + stime of /proc/PID/stat)
 *                     over an idle window, in percent of one core
 * and server_conn_kb_Nk: rss_per_conn at the largest N on the libuv loop
 * against issue 17's goal of 30 KB per idle connection.
 * Then the messages persisted per second (msg.send to msg.ack, the server
 * storing each durably before its ack) by 50 connections with 8 in flight
 * each: persist_sqlite, with group commit against the same server syncing
 * every write (--group-commit off), the median of --rounds runs of each;
 * and persist_postgres, the same server on a private PostgreSQL (--store,
 * test/services/services.sh; a fresh database each run) against it on
 * SQLite, both with group commit (skipped, with a message, without
 * PostgreSQL).
 *
 * Options: --sizes 1000,5000,10000  --idle-s 10  --msg-s 5  --rounds 3
 * --plain | --balancer. Prints `bench NAME: parley=.. baseline=..
 * ratio=..` lines; exits 1 only when it could not measure. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"
#include "loadgen.h"

#define MAX_SIZES 8
#define MAX_ARGS 48
#define MSG_CONNS 50
#define MSG_WINDOW 8
#define MAX_ROUNDS 9

typedef struct opts {
    int sizes[MAX_SIZES], nsizes;
    int idle_s, msg_s, rounds;
    const char *loops[2];
    int nloops;
    int plain;    /* --plain: ws:// without TLS */
    int balancer; /* --balancer: TLS terminated by HAProxy in front of a ws:// server */
    int lb_maxconn;
} opts;

typedef struct server {
    pid_t pid;
    int port;
    char dir[512];
} server;

/* Figures of one event loop, per size. */
typedef struct figures {
    double accept[MAX_SIZES], rss_kb[MAX_SIZES], cpu[MAX_SIZES];
    int reached[MAX_SIZES];
} figures;

/* ---- the server process -------------------------------------------------------- */

static int wait_ready(server *s, const char *ready)
{
    for (int i = 0; i < 300; i++) {
        FILE *f = fopen(ready, "r");
        if (f) {
            int ok = fscanf(f, "%d", &s->port) == 1;
            fclose(f);
            if (ok)
                return 0;
        }
        if (waitpid(s->pid, NULL, WNOHANG) == s->pid) {
            s->pid = -1;
            return -1;
        }
        bench_sleep_ms(100);
    }
    return -1;
}

/* Starts parley-server on a fresh database in a directory of its own, with
 * the limits a load test would trip off (one address, many connections). */
static int server_start(server *s, const tc_files *tc, const char *const *extra)
{
    char db[600], ready[600], log[600];
    const char *argv[MAX_ARGS] = {PARLEY_SERVER_BIN,
                                  "--port",
                                  "0",
                                  "--db",
                                  db,
                                  "--ready-file",
                                  ready,
                                  "--max-conns-per-addr",
                                  "0",
                                  "--msg-rate",
                                  "0",
                                  "--req-rate",
                                  "0",
                                  "--agent-token",
                                  "bench-token",
                                  "--surveys",
                                  "",
                                  "--cert",
                                  tc ? tc->cert : "",
                                  "--key",
                                  tc ? tc->key : ""};
    int n = tc ? 21 : 17;
    memset(s, 0, sizeof *s);
    snprintf(s->dir, sizeof s->dir, "/tmp/bench-scale-XXXXXX");
    if (!mkdtemp(s->dir))
        return -1;
    snprintf(db, sizeof db, "%s/db", s->dir);
    snprintf(ready, sizeof ready, "%s/ready", s->dir);
    snprintf(log, sizeof log, "%s/log", s->dir);
    for (; extra && *extra && n < MAX_ARGS - 1; extra++)
        argv[n++] = *extra;
    argv[n] = NULL;
    s->pid = fork();
    if (s->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    return s->pid > 0 ? wait_ready(s, ready) : -1;
}

static void server_stop(server *s)
{
    char cmd[600];
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = -1;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", s->dir);
    if (s->dir[0] && system(cmd) != 0)
        fprintf(stderr, "bench_scale: could not remove %s\n", s->dir);
}

static double rss_kb(pid_t pid)
{
    char path[64], line[256];
    double kb = -1;
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    while (f && fgets(line, sizeof line, f))
        if (sscanf(line, "VmRSS: %lf", &kb) == 1)
            break;
    if (f)
        fclose(f);
    return kb;
}

/* utime + stime in clock ticks, -1 on error. */
static long long cpu_ticks(pid_t pid)
{
    char path[64], buf[2048];
    unsigned long long ut, st;
    snprintf(path, sizeof path, "/proc/%d/stat", (int)pid);
    FILE *f = fopen(path, "r");
    size_t n = f ? fread(buf, 1, sizeof buf - 1, f) : 0;
    if (f)
        fclose(f);
    buf[n] = '\0';
    char *p = strrchr(buf, ')'); /* the command name may hold spaces */
    if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu", &ut, &st) != 2)
        return -1;
    return (long long)(ut + st);
}

/* ---- the idle connections ------------------------------------------------------- */

/* ---- HAProxy in front (--balancer) ------------------------------------------------ */

/* HAProxy terminating TLS (OpenSSL, which frees an idle connection's
 * buffers) in TCP mode, forwarding to `backend` over plain ws:// on
 * loopback: the cluster's layout (docs/scaling.md). */
static int balancer_start(server *b, const tc_files *tc, int backend, int maxconn)
{
    char cfg[600], pem[600], ready[600], cmd[4096];
    memset(b, 0, sizeof *b);
    snprintf(b->dir, sizeof b->dir, "/tmp/bench-lb-XXXXXX");
    if (!mkdtemp(b->dir))
        return -1;
    snprintf(cfg, sizeof cfg, "%s/haproxy.cfg", b->dir);
    snprintf(pem, sizeof pem, "%s/crt.pem", b->dir);
    snprintf(ready, sizeof ready, "%s/ready", b->dir);
    snprintf(cmd, sizeof cmd,
             "cat '%s' '%s' >'%s' && p=$(shuf -i 20000-60000 -n 1) && printf '"
             "global\n  maxconn %d\n  nbthread 1\n"
             "defaults\n  mode tcp\n  timeout connect 5s\n  timeout client 1h\n"
             "  timeout server 1h\n"
             "frontend fe\n  bind 127.0.0.1:%%s ssl crt %s\n  default_backend be\n"
             "backend be\n  server s1 127.0.0.1:%d\n' $p >'%s' && echo $p >'%s'",
             tc->cert, tc->key, pem, maxconn, pem, backend, cfg, ready);
    if (system(cmd) != 0)
        return -1;
    b->pid = fork();
    if (b->pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        char log[600];
        snprintf(log, sizeof log, "%s/log", b->dir);
        int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        execlp("haproxy", "haproxy", "-db", "-f", cfg, (char *)NULL);
        _exit(127);
    }
    if (b->pid < 0 || wait_ready(b, ready))
        return -1;
    bench_sleep_ms(500); /* the port file is written before haproxy binds */
    return waitpid(b->pid, NULL, WNOHANG) == 0 ? 0 : -1;
}

/* ---- the idle connections ------------------------------------------------------- */

typedef struct procs {
    pid_t pid[2];
    int n;
} procs;

static double procs_rss(const procs *p)
{
    double kb = 0;
    for (int i = 0; i < p->n; i++)
        kb += rss_kb(p->pid[i]);
    return kb;
}

static long long procs_cpu(const procs *p)
{
    long long t = 0;
    for (int i = 0; i < p->n; i++)
        t += cpu_ticks(p->pid[i]);
    return t;
}

static void fill(const opts *o, lg *g, const procs *p, const char *loop, figures *fg)
{
    double base = procs_rss(p), hz = (double)sysconf(_SC_CLK_TCK);
    for (int i = 0; g && i < o->nsizes; i++) {
        int want = o->sizes[i] - lg_count(g);
        double t0 = bench_now_us();
        int got = lg_open(g, want, 64, 300000);
        fg->accept[i] = got / ((bench_now_us() - t0) / 1e6);
        fg->reached[i] = lg_count(g);
        lg_idle(g, 2000);
        fg->rss_kb[i] = (procs_rss(p) - base) / lg_count(g);
        long long c0 = procs_cpu(p);
        lg_idle(g, o->idle_s * 1000);
        fg->cpu[i] = 100.0 * (double)(procs_cpu(p) - c0) / hz / o->idle_s;
        fprintf(stderr,
                "bench_scale: %s%s: %d connections (wanted %d): %.0f/s, %.1f KB each, %.2f %% "
                "idle\n",
                loop, o->balancer ? " behind HAProxy" : "", fg->reached[i], o->sizes[i],
                fg->accept[i], fg->rss_kb[i], fg->cpu[i]);
    }
}

static void measure_loop(const opts *o, const tc_files *tc, const char *loop, figures *fg)
{
    const char *extra[] = {"--event-loop", loop, NULL};
    server s, b = {.pid = -1};
    procs p = {{0}, 0};
    int port;
    memset(fg, 0, sizeof *fg);
    if (server_start(&s, o->plain || o->balancer ? NULL : tc, extra)) {
        fprintf(stderr, "bench_scale: parley-server (--event-loop %s) did not start\n", loop);
        server_stop(&s);
        return;
    }
    p.pid[p.n++] = s.pid;
    port = s.port;
    if (o->balancer) {
        if (balancer_start(&b, tc, s.port, o->lb_maxconn)) {
            char cmd[700];
            snprintf(cmd, sizeof cmd, "cat '%s/log' >&2", b.dir);
            fprintf(stderr, "bench_scale: haproxy did not start:\n");
            if (system(cmd) != 0)
                fprintf(stderr, "(no log)\n");
            server_stop(&b);
            server_stop(&s);
            return;
        }
        p.pid[p.n++] = b.pid;
        port = b.port;
    }
    lg_cfg cfg = {port, o->plain ? NULL : tc->ca, "bench", o->sizes[o->nsizes - 1]};
    lg *g = lg_new(&cfg);
    fill(o, g, &p, loop, fg);
    lg_free(g);
    if (o->balancer)
        server_stop(&b);
    server_stop(&s);
}

/* The goal for an idle connection's memory (issue 17). */
#define GOAL_CONN_KB 30.0

static void report_loops(const opts *o, const figures *base, const figures *fg)
{
    char name[64];
    int last = o->nsizes - 1, n = o->sizes[last];
    for (int i = 0; i < o->nsizes; i++) {
        if (fg->reached[i] < o->sizes[i] || base->reached[i] < o->sizes[i])
            fprintf(stderr, "bench_scale: size %d not reached (libuv %d, poll %d)\n", o->sizes[i],
                    fg->reached[i], base->reached[i]);
        snprintf(name, sizeof name, "accept_rate_%d", o->sizes[i]);
        bench_report(name, fg->accept[i], base->accept[i], "conn/s");
        snprintf(name, sizeof name, "rss_per_conn_%d", o->sizes[i]);
        bench_report(name, fg->rss_kb[i], base->rss_kb[i], "KB");
        snprintf(name, sizeof name, "idle_cpu_%d", o->sizes[i]);
        bench_report(name, fg->cpu[i], base->cpu[i], "%");
    }
    /* The largest size on the default loop against the goal. */
    if (n % 1000 == 0)
        snprintf(name, sizeof name, "server_conn_kb_%dk", n / 1000);
    else
        snprintf(name, sizeof name, "server_conn_kb_%d", n);
    if (fg->reached[last] == n)
        bench_report(name, fg->rss_kb[last], GOAL_CONN_KB, "KB");
}

/* ---- messages persisted --------------------------------------------------------- */

/* msg.acks per second, from the start of the run to the last, -1 when
 * none came. */
static double message_rate(const opts *o, const tc_files *tc, const char *const *extra)
{
    server s;
    lg_msg_stats st;
    double rate = -1;
    if (server_start(&s, tc, extra) == 0) {
        lg_cfg cfg = {s.port, tc->ca, "bench", MSG_CONNS};
        lg *g = lg_new(&cfg);
        if (g && lg_open(g, MSG_CONNS, 16, 30000) == MSG_CONNS &&
            lg_messages(g, MSG_CONNS, MSG_WINDOW, o->msg_s * 1000, &st) == MSG_CONNS &&
            st.acked > 1) {
            rate = (double)st.acked / (st.last_ack_ms / 1e3);
            fprintf(stderr, "bench_scale: %s: sent %ld, acked %ld, errors %ld: %.0f msg/s\n",
                    !extra || !extra[0]                ? "SQLite, group commit on"
                    : strcmp(extra[0], "--store") == 0 ? "PostgreSQL, group commit on"
                                                       : "SQLite, group commit off",
                    st.sent, st.acked, st.errors, rate);
        }
        lg_free(g);
    }
    server_stop(&s);
    return rate;
}

/* ---- PostgreSQL ------------------------------------------------------------------ */

typedef struct pg {
    char dir[64];
    char url[256]; /* without the database */
} pg;

/* A private cluster, or the one at $PARLEY_BENCH_PG (a URL without the
 * database, on which `parley` exists); -1 when there is none. */
static int pg_start(pg *p)
{
    char cmd[600];
    const char *given = getenv("PARLEY_BENCH_PG");
    if (given && *given) {
        p->dir[0] = '\0';
        snprintf(p->url, sizeof p->url, "%s", given);
        return 0;
    }
    snprintf(p->dir, sizeof p->dir, "/tmp/bench-pg-XXXXXX");
    /* As root, the cluster runs as the postgres user, who must reach it. */
    if (!mkdtemp(p->dir) || chmod(p->dir, 0755))
        return -1;
    snprintf(cmd, sizeof cmd, "bash %s pg start %s/pg", PARLEY_SERVICES, p->dir);
    FILE *f = popen(cmd, "r");
    if (!f || !fgets(p->url, sizeof p->url, f))
        p->url[0] = '\0';
    int rc = f ? pclose(f) : -1;
    if (rc != 0 || strncmp(p->url, "postgres://", 11) != 0) {
        rmdir(p->dir);
        p->dir[0] = '\0';
        return -1;
    }
    *strrchr(p->url, '/') = '\0';
    return 0;
}

static void pg_stop(pg *p)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "bash %s pg stop %s/pg >/dev/null && rm -rf %s", PARLEY_SERVICES,
             p->dir, p->dir);
    if (p->dir[0] && system(cmd) != 0)
        fprintf(stderr, "bench_scale: could not stop PostgreSQL in %s\n", p->dir);
}

/* A fresh database for run `n`: its URL in `out`. */
static int pg_fresh(const pg *p, int n, char *out, size_t cap)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd,
             "psql -qAt %s/parley -c 'SET client_min_messages = warning'"
             " -c 'DROP DATABASE IF EXISTS bench_%d' -c 'CREATE DATABASE "
             "bench_%d'",
             p->url, n, n);
    snprintf(out, cap, "%s/bench_%d", p->url, n);
    return system(cmd) == 0 ? 0 : -1;
}

/* The baseline is the same server with a sync per write (--group-commit
 * off); the median of `rounds` alternating runs of each. Then the server
 * on PostgreSQL against the grouped SQLite runs. */
static void measure_messages(const opts *o, const tc_files *tc)
{
    static const char *const grouped[] = {NULL};
    static const char *const per_write[] = {"--group-commit", "off", NULL};
    double g[MAX_ROUNDS], p[MAX_ROUNDS], q[MAX_ROUNDS];
    char url[300];
    const char *on_pg[] = {"--store", url, NULL};
    pg cluster;
    for (int i = 0; i < o->rounds; i++) {
        g[i] = message_rate(o, tc, grouped);
        p[i] = message_rate(o, tc, per_write);
    }
    bench_report("persist_sqlite", bench_median(g, (size_t)o->rounds),
                 bench_median(p, (size_t)o->rounds), "msg/s");
    if (pg_start(&cluster)) {
        fprintf(stderr, "bench_scale: persist_postgres skipped: no PostgreSQL (make deps)\n");
        return;
    }
    for (int i = 0; i < o->rounds; i++)
        q[i] = pg_fresh(&cluster, i, url, sizeof url) ? -1 : message_rate(o, tc, on_pg);
    pg_stop(&cluster);
    bench_report("persist_postgres", bench_median(q, (size_t)o->rounds),
                 bench_median(g, (size_t)o->rounds), "msg/s");
}

/* ---- main -------------------------------------------------------------------------- */

static int parse(int argc, char **argv, opts *o)
{
    *o = (opts){{1000, 5000, 10000}, 3, 10, 5, 3, {"poll", "libuv"}, 2, 0, 0, 0};
    for (int i = 1; i < argc; i += 2) {
        if (strcmp(argv[i], "--plain") == 0 || strcmp(argv[i], "--balancer") == 0) {
            *(argv[i][2] == 'p' ? &o->plain : &o->balancer) = 1;
            i--;
        } else if (i + 1 >= argc) {
            return -1;
        } else if (strcmp(argv[i], "--sizes") == 0) {
            o->nsizes = 0;
            for (char *t = strtok(argv[i + 1], ","); t && o->nsizes < MAX_SIZES;
                 t = strtok(NULL, ","))
                o->sizes[o->nsizes++] = atoi(t);
        } else if (strcmp(argv[i], "--idle-s") == 0) {
            o->idle_s = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--msg-s") == 0) {
            o->msg_s = atoi(argv[i + 1]);
        } else if (strcmp(argv[i], "--rounds") == 0) {
            o->rounds = atoi(argv[i + 1]);
        } else {
            return -1;
        }
    }
    return o->nsizes > 0 && o->idle_s > 0 && o->msg_s > 0 && o->rounds > 0 &&
                   o->rounds <= MAX_ROUNDS
               ? 0
               : -1;
}

/* Both ends of every connection live on this machine, each needs a
 * descriptor per connection (HAProxy two): the soft limit goes up to the
 * hard one, which a container may not let even root raise. The largest
 * HAProxy maxconn that fits is returned. */
static int raise_nofile(int conns)
{
    struct rlimit rl;
    rlim_t want = (rlim_t)conns * 2 + 1024;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max < want) {
        struct rlimit more = {want, want};
        if (setrlimit(RLIMIT_NOFILE, &more) == 0)
            rl = more;
    }
    rl.rlim_cur = rl.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0 || rl.rlim_cur < (rlim_t)conns + 64)
        fprintf(stderr, "bench_scale: only %lu descriptors: not enough for %d connections\n",
                (unsigned long)rl.rlim_cur, conns);
    return (int)((rl.rlim_cur - 100) / 2);
}

int main(int argc, char **argv)
{
    opts o;
    tc_files tc;
    figures fg[2];
    if (parse(argc, argv, &o)) {
        fprintf(
            stderr,
            "usage: bench_scale [--sizes N,N,...] [--idle-s S] [--msg-s S] [--rounds N] [--plain | "
            "--balancer]\n");
        return 2;
    }
    signal(SIGPIPE, SIG_IGN);
    o.lb_maxconn = raise_nofile(o.sizes[o.nsizes - 1]);
    if (tc_make(&tc) != 0)
        return bench_fail("certificates");
    for (int i = 0; i < o.nloops; i++)
        measure_loop(&o, &tc, o.loops[i], &fg[i]);
    report_loops(&o, &fg[0], &fg[1]);
    if (!o.plain)
        measure_messages(&o, &tc);
    tc_remove(&tc);
    return fg[1].reached[0] ? 0 : bench_fail("no connection");
}
