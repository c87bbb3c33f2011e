/* parley-chaos-proxy: a fault-injecting TCP proxy for the chaos harness.
 *
 * Forwards every accepted connection to one upstream host:port and, driven
 * by a seeded PRNG so that a failing run can be replayed, hurts it: drops
 * both sides after a random number of bytes or a random time, holds chunks
 * back for a short delay or a long stall, and refuses new connections for a
 * while now and then. It never looks inside the bytes, so TLS passes through
 * untouched. One thread, one poll() loop, a fixed number of connections and
 * fixed-size buffers; SIGTERM or SIGINT end it cleanly with stats on stderr.
 *
 * The PRNG decides what happens to each connection and each chunk, but the
 * kernel decides how the bytes are chunked, so a replay with the same seed
 * reproduces the fault pattern, not every byte offset. */
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 256
#define BUF_SIZE 16384
#define POLL_CAP_MS 200

typedef struct {
    double drop_prob;    /* per connection: it will be dropped */
    long drop_max_bytes; /* ... after 1..N bytes (either direction) */
    long drop_max_ms;    /* ... or after 1..N ms */
    double delay_prob;   /* per chunk: hold it back 1..delay_max_ms */
    long delay_max_ms;
    double stall_prob; /* per chunk: hold it back delay_max..stall_max ms */
    long stall_max_ms;
    long refuse_every_ms; /* mean gap between refusal periods; 0 = never */
    long refuse_ms;       /* length of a refusal period */
    long cut_after_bytes; /* the first cut_conns connections are dropped after exactly */
    long cut_conns;       /* this many bytes (both directions): a cut a test can place */
} faults;

typedef struct {
    int port;
    const char *upstream_host;
    const char *upstream_port;
    const char *ready_file;
    uint64_t seed;
    int verbose;
    faults f;
} options;

typedef struct {
    char data[BUF_SIZE];
    size_t off, len;
    int64_t hold_until; /* ms; nothing is written before */
    int eof;            /* the reading side has finished */
    int shut;           /* the writing side has been shut down */
} pipe_buf;

typedef struct {
    int used;
    int cfd, ufd;
    int connecting; /* upstream connect() still in progress */
    uint64_t id;
    long drop_after_bytes; /* 0 = never */
    int64_t drop_at;       /* ms; 0 = never */
    long moved;            /* bytes forwarded, both directions */
    pipe_buf up, down;     /* client->upstream, upstream->client */
} conn;

typedef struct {
    unsigned long accepted, refused, upstream_failed, closed_clean, closed_abrupt;
    unsigned long dropped_bytes, dropped_time, delays, stalls, refuse_periods;
    unsigned long long bytes_up, bytes_down;
} stats;

typedef struct {
    options opt;
    uint64_t rng;
    int lfd;
    conn conns[MAX_CONNS];
    uint64_t next_id;
    int64_t refuse_from; /* start of the current or next refusal period */
    unsigned long refused_in_period;
    stats st;
} proxy;

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* splitmix64: tiny, seedable with any value, good enough for fault dice. */
static uint64_t rng_next(proxy *p)
{
    uint64_t z = (p->rng += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
}

static double rng_unit(proxy *p)
{
    return (double)(rng_next(p) >> 11) / 9007199254740992.0;
}

/* Uniform in [lo, hi]. */
static long rng_range(proxy *p, long lo, long hi)
{
    if (hi <= lo)
        return lo;
    return lo + (long)(rng_next(p) % (uint64_t)(hi - lo + 1));
}

static void logv(const proxy *p, const char *fmt, const char *what, uint64_t id, long n)
{
    if (p->opt.verbose) {
        fprintf(stderr, "chaos-proxy: ");
        fprintf(stderr, fmt, what, (unsigned long long)id, n);
        fputc('\n', stderr);
    }
}

/* ---- options ----------------------------------------------------------- */

static void usage(FILE *to)
{
    fputs("usage: parley-chaos-proxy --upstream HOST:PORT [options]\n"
          "  --port N              listen on 127.0.0.1:N (default 0: a free port)\n"
          "  --ready-file PATH     once listening, atomically write the port there\n"
          "  --seed N              PRNG seed (default 1)\n"
          "  --drop-prob P         share of connections dropped (default 0.3)\n"
          "  --drop-max-bytes N    ... after 1..N bytes (default 20000)\n"
          "  --drop-max-ms N       ... or after 1..N ms (default 3000)\n"
          "  --delay-prob P        share of chunks delayed (default 0.1)\n"
          "  --delay-max-ms N      ... by 1..N ms (default 50)\n"
          "  --stall-prob P        share of chunks stalled (default 0.01)\n"
          "  --stall-max-ms N      ... by up to N ms (default 1500)\n"
          "  --refuse-every-ms N   mean gap between refusal periods (default 0: never)\n"
          "  --refuse-ms N         length of a refusal period (default 1000)\n"
          "  --cut-after-bytes N   drop the first --cut-conns connections after exactly N\n"
          "                        bytes (both directions; default 0: off)\n"
          "  --cut-conns K         how many connections --cut-after-bytes cuts (default 1)\n"
          "  --verbose             log every fault on stderr\n"
          "SIGTERM/SIGINT stop it; stats go to stderr.\n",
          to);
}

static int parse_long(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_prob(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !(v >= 0.0 && v <= 1.0))
        return -1;
    *out = v;
    return 0;
}

static int parse_upstream(options *o, char *hp)
{
    char *colon = strrchr(hp, ':');
    if (!colon || colon == hp || !colon[1])
        return -1;
    *colon = '\0';
    o->upstream_host = hp;
    o->upstream_port = colon + 1;
    return 0;
}

static int parse_seed(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || end == s || *end)
        return -1;
    *out = (uint64_t)v;
    return 0;
}

/* Options that take a long, with their bounds. */
static int parse_long_opt(options *o, const char *name, const char *val)
{
    static const long BIG = 1000L * 1000 * 1000;
    long v;
    struct {
        const char *name;
        long *dst;
        long lo, hi;
    } table[] = {
        {"--drop-max-bytes", &o->f.drop_max_bytes, 1, BIG},
        {"--drop-max-ms", &o->f.drop_max_ms, 1, BIG},
        {"--delay-max-ms", &o->f.delay_max_ms, 1, 600000},
        {"--stall-max-ms", &o->f.stall_max_ms, 1, 600000},
        {"--refuse-every-ms", &o->f.refuse_every_ms, 0, BIG},
        {"--refuse-ms", &o->f.refuse_ms, 1, 600000},
        {"--cut-after-bytes", &o->f.cut_after_bytes, 1, BIG},
        {"--cut-conns", &o->f.cut_conns, 0, BIG},
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        if (strcmp(name, table[i].name) != 0)
            continue;
        if (parse_long(val, table[i].lo, table[i].hi, &v) != 0)
            return -1;
        *table[i].dst = v;
        return 0;
    }
    return 1;
}

static int parse_prob_opt(options *o, const char *name, const char *val)
{
    if (strcmp(name, "--drop-prob") == 0)
        return parse_prob(val, &o->f.drop_prob);
    if (strcmp(name, "--delay-prob") == 0)
        return parse_prob(val, &o->f.delay_prob);
    if (strcmp(name, "--stall-prob") == 0)
        return parse_prob(val, &o->f.stall_prob);
    return 1;
}

static int parse_valued(options *o, const char *name, char *val)
{
    long port;
    if (strcmp(name, "--port") == 0) {
        if (parse_long(val, 0, 65535, &port) != 0)
            return -1;
        o->port = (int)port;
        return 0;
    }
    if (strcmp(name, "--upstream") == 0)
        return parse_upstream(o, val);
    if (strcmp(name, "--ready-file") == 0) {
        o->ready_file = val;
        return 0;
    }
    if (strcmp(name, "--seed") == 0)
        return parse_seed(val, &o->seed);
    int rc = parse_prob_opt(o, name, val);
    return rc != 1 ? rc : parse_long_opt(o, name, val);
}

/* Returns 0 to run, or an exit status. */
static int parse_options(options *o, int argc, char **argv)
{
    *o = (options){.seed = 1,
                   .f = {.drop_prob = 0.3,
                         .drop_max_bytes = 20000,
                         .drop_max_ms = 3000,
                         .delay_prob = 0.1,
                         .delay_max_ms = 50,
                         .stall_prob = 0.01,
                         .stall_max_ms = 1500,
                         .refuse_every_ms = 0,
                         .refuse_ms = 1000,
                         .cut_conns = 1}};
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
            usage(stdout);
            return -1;
        }
        if (strcmp(argv[i], "--verbose") == 0) {
            o->verbose = 1;
            continue;
        }
        int rc = i + 1 < argc ? parse_valued(o, argv[i], argv[i + 1]) : 1;
        if (rc != 0) {
            fprintf(stderr, "parley-chaos-proxy: %s '%s'\n",
                    rc < 0 ? "bad value for" : "unknown option or missing value:", argv[i]);
            usage(stderr);
            return 1;
        }
        i++;
    }
    if (!o->upstream_host) {
        fputs("parley-chaos-proxy: --upstream HOST:PORT is required\n", stderr);
        return 1;
    }
    return 0;
}

/* ---- sockets ----------------------------------------------------------- */

static int set_nonblock(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

static int listen_on(int port, int *bound)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    socklen_t alen = sizeof a;
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 128) != 0 ||
        set_nonblock(fd) != 0 || getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

static int write_ready_file(const char *path, int port)
{
    char tmp[4096];
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp)
        return -1;
    FILE *f = fopen(tmp, "w");
    if (!f)
        return -1;
    int bad = fprintf(f, "%d\n", port) < 0;
    bad |= fclose(f) != 0;
    return bad ? -1 : rename(tmp, path);
}

/* Starts a non-blocking connect; -1 when it failed at once. */
static int connect_upstream(const options *o, int *connecting)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = SOCK_STREAM};
    struct addrinfo *res = NULL;
    if (getaddrinfo(o->upstream_host, o->upstream_port, &hints, &res) != 0 || !res)
        return -1;
    int fd = socket(res->ai_family, res->ai_socktype, res->ai_protocol);
    if (fd >= 0 && set_nonblock(fd) == 0) {
        int rc = connect(fd, res->ai_addr, res->ai_addrlen);
        if (rc == 0 || errno == EINPROGRESS) {
            *connecting = rc != 0;
            freeaddrinfo(res);
            return fd;
        }
    }
    if (fd >= 0)
        close(fd);
    freeaddrinfo(res);
    return -1;
}

/* An abrupt close (RST) half of the time: a peer vanishing and a peer
 * hanging up are different failures for the other side. */
static void close_hard(proxy *p, int fd)
{
    if (fd < 0)
        return;
    if (rng_next(p) & 1) {
        struct linger l = {.l_onoff = 1, .l_linger = 0};
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l);
    }
    close(fd);
}

/* ---- connections --------------------------------------------------------- */

static void conn_close(proxy *p, conn *c, int hard)
{
    if (hard) {
        close_hard(p, c->cfd);
        close_hard(p, c->ufd);
    } else {
        close(c->cfd);
        if (c->ufd >= 0)
            close(c->ufd);
    }
    memset(c, 0, sizeof *c);
}

static conn *conn_slot(proxy *p)
{
    for (int i = 0; i < MAX_CONNS; i++)
        if (!p->conns[i].used)
            return &p->conns[i];
    return NULL;
}

static void plan_faults(proxy *p, conn *c, int64_t now)
{
    const faults *f = &p->opt.f;
    if (f->cut_after_bytes && c->id <= (uint64_t)f->cut_conns) {
        c->drop_after_bytes = f->cut_after_bytes;
        return;
    }
    if (rng_unit(p) >= f->drop_prob)
        return;
    if (rng_next(p) & 1)
        c->drop_after_bytes = rng_range(p, 1, f->drop_max_bytes);
    else
        c->drop_at = now + rng_range(p, 1, f->drop_max_ms);
}

/* Refusal periods come at random gaps around refuse_every_ms. */
static int refusing(proxy *p, int64_t now)
{
    const faults *f = &p->opt.f;
    if (f->refuse_every_ms <= 0)
        return 0;
    if (p->refuse_from == 0)
        p->refuse_from = now + rng_range(p, f->refuse_every_ms / 2, f->refuse_every_ms * 3 / 2);
    while (now >= p->refuse_from + f->refuse_ms) {
        p->refuse_from +=
            f->refuse_ms + rng_range(p, f->refuse_every_ms / 2, f->refuse_every_ms * 3 / 2);
        p->refused_in_period = 0;
    }
    if (now < p->refuse_from)
        return 0;
    if (!p->refused_in_period++)
        p->st.refuse_periods++;
    return 1;
}

static void accept_one(proxy *p, int64_t now)
{
    int cfd = accept(p->lfd, NULL, NULL);
    if (cfd < 0)
        return;
    conn *c = conn_slot(p);
    if (!c || refusing(p, now)) {
        p->st.refused++;
        close_hard(p, cfd);
        return;
    }
    int connecting = 0;
    int ufd = connect_upstream(&p->opt, &connecting);
    if (ufd < 0 || set_nonblock(cfd) != 0) {
        p->st.upstream_failed++;
        if (ufd >= 0)
            close(ufd);
        close_hard(p, cfd);
        return;
    }
    int one = 1;
    setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(ufd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    *c = (conn){.used = 1, .cfd = cfd, .ufd = ufd, .connecting = connecting, .id = ++p->next_id};
    p->st.accepted++;
    plan_faults(p, c, now);
    logv(p, "%s conn %llu (drop after %ld bytes)", "accepted", c->id, c->drop_after_bytes);
}

/* Per chunk: forward at once, after a short delay, or after a stall. */
static void hold_chunk(proxy *p, conn *c, pipe_buf *b, int64_t now)
{
    const faults *f = &p->opt.f;
    double r = rng_unit(p);
    if (r < f->stall_prob) {
        long ms = rng_range(p, f->delay_max_ms, f->stall_max_ms);
        b->hold_until = now + ms;
        p->st.stalls++;
        logv(p, "%s conn %llu for %ld ms", "stalled", c->id, ms);
    } else if (r < f->stall_prob + f->delay_prob) {
        b->hold_until = now + rng_range(p, 1, f->delay_max_ms);
        p->st.delays++;
    }
}

/* Returns -1 when the connection must go. */
static int pump_read(proxy *p, conn *c, int from, pipe_buf *b, int64_t now)
{
    if (b->eof || b->len > 0)
        return 0;
    ssize_t n = read(from, b->data, sizeof b->data);
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    if (n == 0) {
        b->eof = 1;
        return 0;
    }
    b->off = 0;
    b->len = (size_t)n;
    hold_chunk(p, c, b, now);
    return 0;
}

static int pump_write(proxy *p, conn *c, int to, pipe_buf *b, int64_t now)
{
    if (b->len == 0 || now < b->hold_until)
        return 0;
    size_t want = b->len;
    if (c->drop_after_bytes > 0 && (long)want > c->drop_after_bytes - c->moved)
        want = (size_t)(c->drop_after_bytes - c->moved);
    ssize_t n = want > 0 ? write(to, b->data + b->off, want) : 0;
    if (n < 0)
        return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR ? 0 : -1;
    b->off += (size_t)n;
    b->len -= (size_t)n;
    c->moved += (long)n;
    if (b == &c->up)
        p->st.bytes_up += (unsigned long long)n;
    else
        p->st.bytes_down += (unsigned long long)n;
    return 0;
}

/* A side that has finished and whose bytes are all through is passed on as
 * a half-close, so TLS close_notify and FIN sequences stay intact. */
static void pass_eof(pipe_buf *b, int to)
{
    if (b->eof && b->len == 0 && !b->shut) {
        shutdown(to, SHUT_WR);
        b->shut = 1;
    }
}

static int finish_connect(conn *c)
{
    int err = 0;
    socklen_t len = sizeof err;
    if (getsockopt(c->ufd, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0)
        return -1;
    c->connecting = 0;
    return 0;
}

/* An error, or a hang-up on a socket we are not reading: poll() would
 * report it again at once, so the pair goes now. */
static int gone(const struct pollfd *pf)
{
    return (pf->revents & (POLLERR | POLLNVAL)) ||
           ((pf->revents & POLLHUP) && !(pf->events & POLLIN));
}

static void service_conn(proxy *p, conn *c, const struct pollfd *cp, const struct pollfd *up,
                         int64_t now)
{
    if (gone(cp) || (!c->connecting && gone(up))) {
        p->st.closed_abrupt++;
        conn_close(p, c, 1);
        return;
    }
    if (c->connecting) {
        if (!(up->revents & (POLLOUT | POLLERR | POLLHUP)))
            return;
        if (finish_connect(c) != 0) {
            p->st.upstream_failed++;
            conn_close(p, c, 1);
            return;
        }
    }
    int bad = pump_read(p, c, c->cfd, &c->up, now) || pump_read(p, c, c->ufd, &c->down, now) ||
              pump_write(p, c, c->ufd, &c->up, now) || pump_write(p, c, c->cfd, &c->down, now);
    if (bad) {
        p->st.closed_abrupt++;
        conn_close(p, c, 1);
        return;
    }
    if (c->drop_after_bytes > 0 && c->moved >= c->drop_after_bytes) {
        p->st.dropped_bytes++;
        logv(p, "%s conn %llu after %ld bytes", "dropped", c->id, c->moved);
        conn_close(p, c, 1);
        return;
    }
    if (c->drop_at > 0 && now >= c->drop_at) {
        p->st.dropped_time++;
        logv(p, "%s conn %llu after %ld bytes (timer)", "dropped", c->id, c->moved);
        conn_close(p, c, 1);
        return;
    }
    pass_eof(&c->up, c->ufd);
    pass_eof(&c->down, c->cfd);
    if (c->up.shut && c->down.shut) {
        p->st.closed_clean++;
        conn_close(p, c, 0);
    }
}

static short want_events(const pipe_buf *rd, const pipe_buf *wr, int64_t now)
{
    short ev = 0;
    if (!rd->eof && rd->len == 0)
        ev |= POLLIN;
    if (wr->len > 0 && now >= wr->hold_until)
        ev |= POLLOUT;
    return ev;
}

/* The nearest timer: a held chunk, a timed drop, the refusal window. */
static int next_timeout(const proxy *p, int64_t now)
{
    int64_t next = now + POLL_CAP_MS;
    for (int i = 0; i < MAX_CONNS; i++) {
        const conn *c = &p->conns[i];
        if (!c->used)
            continue;
        if (c->up.len && c->up.hold_until > now && c->up.hold_until < next)
            next = c->up.hold_until;
        if (c->down.len && c->down.hold_until > now && c->down.hold_until < next)
            next = c->down.hold_until;
        if (c->drop_at > now && c->drop_at < next)
            next = c->drop_at;
    }
    return (int)(next - now);
}

static void run(proxy *p)
{
    struct pollfd fds[1 + 2 * MAX_CONNS];
    while (!g_stop) {
        int64_t now = now_ms();
        fds[0] = (struct pollfd){.fd = p->lfd, .events = POLLIN};
        for (int i = 0; i < MAX_CONNS; i++) {
            conn *c = &p->conns[i];
            struct pollfd *cp = &fds[1 + 2 * i], *up = cp + 1;
            *cp = (struct pollfd){.fd = c->used ? c->cfd : -1};
            *up = (struct pollfd){.fd = c->used ? c->ufd : -1};
            if (!c->used)
                continue;
            if (c->connecting) {
                up->events = POLLOUT;
                continue;
            }
            cp->events = want_events(&c->up, &c->down, now);
            up->events = want_events(&c->down, &c->up, now);
        }
        int n = poll(fds, 1 + 2 * MAX_CONNS, next_timeout(p, now));
        if (n < 0 && errno != EINTR)
            break;
        now = now_ms();
        if (n > 0 && (fds[0].revents & POLLIN))
            accept_one(p, now);
        for (int i = 0; i < MAX_CONNS; i++)
            if (p->conns[i].used)
                service_conn(p, &p->conns[i], &fds[1 + 2 * i], &fds[2 + 2 * i], now);
    }
}

static void print_stats(const proxy *p)
{
    const stats *s = &p->st;
    fprintf(
        stderr,
        "chaos-proxy: seed=%llu accepted=%lu refused=%lu refuse_periods=%lu upstream_failed=%lu "
        "dropped_bytes=%lu dropped_time=%lu closed_clean=%lu closed_abrupt=%lu delays=%lu "
        "stalls=%lu "
        "bytes_up=%llu bytes_down=%llu\n",
        (unsigned long long)p->opt.seed, s->accepted, s->refused, s->refuse_periods,
        s->upstream_failed, s->dropped_bytes, s->dropped_time, s->closed_clean, s->closed_abrupt,
        s->delays, s->stalls, s->bytes_up, s->bytes_down);
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: poll() must return */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
    static proxy p; /* large: the buffers live here, not on the stack */
    int rc = parse_options(&p.opt, argc, argv);
    if (rc != 0)
        return rc < 0 ? 0 : rc;
    p.rng = p.opt.seed;
    install_signals();
    int port = 0;
    p.lfd = listen_on(p.opt.port, &port);
    if (p.lfd < 0) {
        fprintf(stderr, "parley-chaos-proxy: cannot listen on 127.0.0.1:%d: %s\n", p.opt.port,
                strerror(errno));
        return 2;
    }
    if (p.opt.ready_file && write_ready_file(p.opt.ready_file, port) != 0) {
        fprintf(stderr, "parley-chaos-proxy: cannot write %s: %s\n", p.opt.ready_file,
                strerror(errno));
        close(p.lfd);
        return 2;
    }
    fprintf(stderr, "chaos-proxy: listening on 127.0.0.1:%d -> %s:%s\n", port, p.opt.upstream_host,
            p.opt.upstream_port);
    run(&p);
    for (int i = 0; i < MAX_CONNS; i++)
        if (p.conns[i].used)
            conn_close(&p, &p.conns[i], 0);
    close(p.lfd);
    print_stats(&p);
    return 0;
}
