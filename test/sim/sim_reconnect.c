/* sim_reconnect: a fleet of clients against one backend that goes away,
 * simulated with the real session engine (lib/session, sans-IO) on a fake
 * clock: every client is a pl_sess with the library's default backoff
 * (full jitter, 500 ms doubling to 30 s), driven exactly as the transport
 * drives it (want / on_connecting / on_open / frames / on_closed / tick).
 * No socket, no thread: 100,000 clients take seconds.
 *
 * The backend is up, then at T0 goes away for `down` seconds, three ways:
 *   crash        connections reset; attempts while it is down are refused
 *   goaway       a goaway with reconnect_ms = down for everyone (the client
 *                adds its own jitter of up to the initial backoff)
 *   goaway+spread  reconnect_ms = down + uniform(0, window): what
 *                parley-server's drain sends (docs/scaling.md)
 * and the table shows, per second after T0, the hellos that reach the
 * backend (a hello is sent once TCP and TLS are up) and, for the crash,
 * the refused attempts. A refused or reset attempt never reaches the
 * application; a hello does, and costs a TLS handshake and a database
 * write, so its peak per second is what a backend must be sized for.
 *
 *   sim_reconnect [--clients N] [--down S] [--window S] [--rows S]
 *                 [--check]   (exit 1 unless the spread's peak is bounded)
 * Defaults: 100,000 clients, away 10 s, window 60 s. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "platform/entropy.h"
#include "session/session.h"
#include "util/alloc.h"
#include "util/rand.h"

#define T0_MS 1000
#define RTT_MS 20
#define HORIZON_S 240

enum { SC_CRASH, SC_GOAWAY, SC_SPREAD, N_SCENARIOS };
static const char *const scenario_names[N_SCENARIOS] = {"crash", "goaway", "goaway+spread"};

typedef struct ev {
    int64_t at;
    uint32_t client;
    uint32_t welcome; /* 1: the welcome reaches the client */
} ev;

typedef struct sim {
    int n;
    int64_t down_ms, window_ms;
    pl_rand *rand;
    pl_sess **s;
    uint8_t *online;
    ev *heap;
    size_t nheap, capheap;
    long hellos[HORIZON_S], refused[HORIZON_S];
    int reconnected;
    int64_t all_back_ms;
} sim;

/* ---- a binary heap of timed events ------------------------------------------- */

static int push(sim *m, int64_t at, uint32_t client, uint32_t welcome)
{
    if (m->nheap == m->capheap) {
        size_t cap = m->capheap ? m->capheap * 2 : 1024;
        ev *grown = realloc(m->heap, cap * sizeof *grown);
        if (!grown)
            return -1;
        m->heap = grown;
        m->capheap = cap;
    }
    size_t i = m->nheap++;
    while (i > 0 && m->heap[(i - 1) / 2].at > at) {
        m->heap[i] = m->heap[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    m->heap[i] = (ev){at, client, welcome};
    return 0;
}

static ev pop(sim *m)
{
    ev top = m->heap[0], last = m->heap[--m->nheap];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= m->nheap)
            break;
        if (c + 1 < m->nheap && m->heap[c + 1].at < m->heap[c].at)
            c++;
        if (m->heap[c].at >= last.at)
            break;
        m->heap[i] = m->heap[c];
        i = c;
    }
    if (m->nheap)
        m->heap[i] = last;
    return top;
}

/* ---- one client --------------------------------------------------------------- */

static int backend_up(const sim *m, int64_t t)
{
    return t < T0_MS || t >= T0_MS + m->down_ms;
}

static void count(long *per_s, int64_t t)
{
    int64_t s = (t - T0_MS) / 1000;
    if (t >= T0_MS && s < HORIZON_S)
        per_s[s]++;
}

/* The frames the session wrote go to the backend: a hello is counted and
 * answered with a welcome one round trip later. */
static void write_frames(sim *m, uint32_t i, int64_t t)
{
    const char *data;
    size_t len;
    while (pl_sess_peek_frame(m->s[i], &data, &len)) {
        if (len > 12 && memcmp(data, "{\"t\":\"hello\"", 12) == 0) {
            count(m->hellos, t);
            push(m, t + RTT_MS, i, 1);
        }
        pl_sess_frame_written(m->s[i]);
    }
}

static void schedule(sim *m, uint32_t i, int64_t t)
{
    int64_t deadline = -1;
    pl_sess_want(m->s[i], t, &deadline);
    if (deadline >= 0)
        push(m, deadline > t ? deadline : t + 1, i, 0);
}

static void step_client(sim *m, uint32_t i, int64_t t)
{
    pl_sess *s = m->s[i];
    pl_sess_tick(s, t);
    int want = pl_sess_want(s, t, NULL);
    if (want & PL_SESS_WANT_CLOSE) {
        pl_sess_on_closed(s, t, PARLEY_ERR_CLOSED, "closed");
    } else if (want & PL_SESS_WANT_CONNECT) {
        pl_sess_on_connecting(s, t);
        if (!backend_up(m, t)) {
            count(m->refused, t);
            pl_sess_on_closed(s, t, PARLEY_ERR_CONNECT, "refused");
        } else {
            pl_sess_on_open(s, t);
            write_frames(m, i, t);
        }
    }
    schedule(m, i, t);
}

static void welcome(sim *m, uint32_t i, int64_t t)
{
    static const char w[] = "{\"t\":\"welcome\",\"session\":\"s-1\"}";
    pl_sess_on_frame(m->s[i], t, w, sizeof w - 1);
    if (!m->online[i] && t >= T0_MS && ++m->reconnected == m->n)
        m->all_back_ms = t - T0_MS;
    m->online[i] = 1;
    schedule(m, i, t);
}

/* ---- the backend going away --------------------------------------------------- */

static void go_away(sim *m, int scenario)
{
    char frame[96];
    for (int i = 0; i < m->n; i++) {
        pl_sess *s = m->s[i];
        m->online[i] = 0;
        if (scenario == SC_CRASH) {
            pl_sess_on_closed(s, T0_MS, PARLEY_ERR_CLOSED, "connection reset");
        } else {
            int64_t ms = m->down_ms;
            if (scenario == SC_SPREAD)
                ms += pl_rand_uniform(m->rand, (uint32_t)m->window_ms);
            int n = snprintf(frame, sizeof frame,
                             "{\"t\":\"goaway\",\"reconnect_ms\":%lld,\"reason\":\"restart\"}",
                             (long long)ms);
            pl_sess_on_frame(s, T0_MS, frame, (size_t)n);
            pl_sess_on_closed(s, T0_MS, PARLEY_ERR_CLOSED, "closed");
        }
        schedule(m, (uint32_t)i, T0_MS);
    }
}

static int run(sim *m, int scenario)
{
    pl_event_queue q = {0};
    int gone = 0;
    for (int i = 0; i < m->n; i++)
        schedule(m, (uint32_t)i, 0);
    while (m->nheap) {
        ev e = pop(m);
        if (e.at >= T0_MS && !gone) {
            push(m, e.at, e.client, e.welcome);
            m->nheap = 0; /* what was due is void: every connection goes */
            go_away(m, scenario);
            gone = 1;
            continue;
        }
        if (e.at > T0_MS + (int64_t)HORIZON_S * 1000 || m->reconnected == m->n)
            break;
        if (e.welcome)
            welcome(m, e.client, e.at);
        else
            step_client(m, e.client, e.at);
        pl_sess_take_events(m->s[e.client], &q);
        pl_event_queue_clear(&q);
    }
    return m->reconnected == m->n ? 0 : -1;
}

/* ---- setup and output ------------------------------------------------------------ */

static int sim_init(sim *m, int n, int64_t down_ms, int64_t window_ms)
{
    static const pl_sess_config base = {.app_id = "sim",
                                        .anon_id = "a-00000000-0000-4000-8000-000000000000",
                                        .backoff_initial_ms = 500,
                                        .backoff_max_ms = 30000};
    memset(m, 0, sizeof *m);
    m->n = n;
    m->down_ms = down_ms;
    m->window_ms = window_ms;
    m->rand = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
    m->s = calloc((size_t)n, sizeof *m->s);
    m->online = calloc((size_t)n, 1);
    if (!m->rand || !m->s || !m->online)
        return -1;
    for (int i = 0; i < n; i++) {
        if (!(m->s[i] = pl_sess_new(pl_alloc_libc(), &base, m->rand, NULL)))
            return -1;
        pl_sess_go_online(m->s[i], 0);
    }
    return 0;
}

static void sim_free(sim *m)
{
    for (int i = 0; m->s && i < m->n; i++)
        pl_sess_free(m->s[i]);
    free(m->s);
    free(m->online);
    free(m->heap);
    pl_rand_free(m->rand);
}

typedef struct result {
    long hellos[HORIZON_S], refused[HORIZON_S];
    long peak;
    int64_t all_back_ms;
    int ok;
} result;

static int simulate(int n, int64_t down_ms, int64_t window_ms, int scenario, result *r)
{
    sim m;
    int rc = sim_init(&m, n, down_ms, window_ms);
    if (rc == 0)
        rc = run(&m, scenario);
    memcpy(r->hellos, m.hellos, sizeof r->hellos);
    memcpy(r->refused, m.refused, sizeof r->refused);
    r->all_back_ms = m.all_back_ms;
    r->ok = rc == 0;
    r->peak = 0;
    for (int s = 0; s < HORIZON_S; s++)
        if (r->hellos[s] > r->peak)
            r->peak = r->hellos[s];
    sim_free(&m);
    return rc;
}

static void print_table(const result *r, int rows)
{
    printf("%6s | %10s %10s | %10s | %14s\n", "second", "crash:hello", "refused", "goaway",
           "goaway+spread");
    for (int s = 0; s < rows && s < HORIZON_S; s++)
        printf("%6d | %10ld %10ld | %10ld | %14ld\n", s, r[SC_CRASH].hellos[s],
               r[SC_CRASH].refused[s], r[SC_GOAWAY].hellos[s], r[SC_SPREAD].hellos[s]);
    for (int k = 0; k < N_SCENARIOS; k++)
        printf("%s: peak %ld hellos/s, all %s after %.1f s\n", scenario_names[k], r[k].peak,
               r[k].ok ? "back" : "NOT back", r[k].all_back_ms / 1000.0);
}

int main(int argc, char **argv)
{
    int n = 100000, rows = -1, check = 0;
    int64_t down_ms = 10000, window_ms = 60000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--check") == 0)
            check = 1;
        else if (i + 1 < argc && strcmp(argv[i], "--clients") == 0)
            n = atoi(argv[++i]);
        else if (i + 1 < argc && strcmp(argv[i], "--down") == 0)
            down_ms = atoll(argv[++i]) * 1000;
        else if (i + 1 < argc && strcmp(argv[i], "--window") == 0)
            window_ms = atoll(argv[++i]) * 1000;
        else if (i + 1 < argc && strcmp(argv[i], "--rows") == 0)
            rows = atoi(argv[++i]);
        else {
            fprintf(stderr, "usage: sim_reconnect [--clients N] [--down S] [--window S] "
                            "[--rows S] [--check]\n");
            return 2;
        }
    }
    if (n <= 0 || down_ms < 0 || window_ms <= 0)
        return 2;
    if (rows < 0) /* until the spread is over, and a little more */
        rows = (int)((down_ms + window_ms) / 1000) + 5;
    static result r[N_SCENARIOS];
    printf("%d clients, backend away at t=0 for %lld s; goaway spread over %lld s\n", n,
           (long long)down_ms / 1000, (long long)window_ms / 1000);
    for (int k = 0; k < N_SCENARIOS; k++)
        if (simulate(n, down_ms, window_ms, k, &r[k]) && !r[k].ok)
            fprintf(stderr, "sim_reconnect: %s: not every client came back\n", scenario_names[k]);
    print_table(r, rows);
    if (!check)
        return 0;
    /* The spread's peak is the fleet over the window, within a margin for
     * chance; the crash and the unspread goaway peak far higher. */
    long bound = (long)(2.0 * n / (window_ms / 1000.0)) + 20;
    int ok = r[SC_SPREAD].ok && r[SC_CRASH].ok && r[SC_GOAWAY].ok && r[SC_SPREAD].peak <= bound &&
             r[SC_GOAWAY].peak > 4 * r[SC_SPREAD].peak;
    printf("check: goaway+spread peak %ld <= %ld, goaway peak %ld > 4x: %s\n", r[SC_SPREAD].peak,
           bound, r[SC_GOAWAY].peak, ok ? "ok" : "FAILED");
    return ok ? 0 : 1;
}
