#include "harness.h"
#include "testlib.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#ifdef __linux__
#include <sys/prctl.h>
#endif

/* ---- time ------------------------------------------------------------- */

int64_t h_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int h_ms(int ms)
{
    const char *slow = getenv("PARLEY_E2E_SLOW");
    return slow && *slow && strcmp(slow, "0") != 0 ? ms * 4 : ms;
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

/* ---- JSON in test sources ---------------------------------------------------- */

static char *g_ring[H_JSON_RING];
static size_t g_ring_next;

/* Keeps `s` (malloc'd, may be NULL) in the ring, in place of the oldest. */
static const char *ring_keep(char *s)
{
    free(g_ring[g_ring_next]);
    g_ring[g_ring_next] = s;
    g_ring_next = (g_ring_next + 1) % H_JSON_RING;
    /* An allocation failure shows as a frame nobody answers. */
    return s ? s : "";
}

static void json_ring_free(void)
{
    for (size_t i = 0; i < H_JSON_RING; i++) {
        free(g_ring[i]);
        g_ring[i] = NULL;
    }
}

static char *swap_quotes(char *s)
{
    for (char *p = s; p && *p; p++)
        if (*p == '\'')
            *p = '"';
    return s;
}

const char *h_vjson(const char *fmt, va_list ap)
{
    char *quoted = swap_quotes(strdup(fmt)), *out = NULL;
    va_list again;
    va_copy(again, ap);
    int n = quoted ? vsnprintf(NULL, 0, quoted, ap) : -1;
    if (n >= 0 && (out = malloc((size_t)n + 1)) != NULL)
        vsnprintf(out, (size_t)n + 1, quoted, again);
    va_end(again);
    free(quoted);
    return ring_keep(out);
}

const char *h_json(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    const char *s = h_vjson(fmt, ap);
    va_end(ap);
    return s;
}

const char *h_quote(const char *text)
{
    return ring_keep(swap_quotes(strdup(text)));
}

int h_data_lines(const char *name, void (*fn)(const char *line, void *user), void *user)
{
    char path[H_PATH];
    snprintf(path, sizeof path, "%s/%s", PARLEY_TEST_DATA, name);
    char *text = tl_read_file(path, NULL);
    if (!text) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    int n = 0;
    for (char *line = text, *end; *line; line = end + (*end != '\0')) {
        end = line + strcspn(line, "\n");
        char keep = *end;
        *end = '\0';
        if (*line && *line != '#') {
            fn(line, user);
            n++;
        }
        *end = keep;
    }
    free(text);
    return n;
}

/* ---- what a failure prints ------------------------------------------------- */

#define H_WATCH_MAX 256

typedef struct watch {
    const void *what;
    char label[96];
    h_dump_fn dump;
    void (*release)(void *what);
    int seen; /* tl_failed when registered or last printed */
    int test; /* the test that registered it (0: none) */
} watch;

static watch g_watch[H_WATCH_MAX];
static size_t g_n_watch;
static int g_test;          /* the running test's number; 0 between tests */
static int g_tests_started; /* tests run so far: each has its number */
static jmp_buf g_stop;      /* where H_REQUIRE stops the running test */

static watch *watch_find(const void *what)
{
    for (size_t i = 0; what && i < g_n_watch; i++)
        if (g_watch[i].what == what)
            return &g_watch[i];
    return NULL;
}

static void watch_print(watch *w)
{
    if (tl_failed <= w->seen)
        return;
    w->seen = tl_failed;
    w->dump(w->what, w->label);
}

static void watch_remove(watch *w)
{
    size_t i = (size_t)(w - g_watch);
    memmove(w, w + 1, (g_n_watch - i - 1) * sizeof *w);
    g_n_watch--;
}

void h_watch(const void *what, const char *label, h_dump_fn dump, void (*release)(void *what))
{
    watch *w = watch_find(what);
    if (!w && g_n_watch == H_WATCH_MAX) {
        fprintf(stderr, "harness: more than %d things to print on failure; %s left out\n",
                H_WATCH_MAX, label);
        return;
    }
    if (!w)
        w = &g_watch[g_n_watch++];
    *w = (watch){.what = what, .dump = dump, .release = release, .seen = tl_failed, .test = g_test};
    snprintf(w->label, sizeof w->label, "%s", label ? label : "");
}

void h_forget(const void *what)
{
    watch *w = watch_find(what);
    if (!w)
        return;
    watch_print(w);
    watch_remove(w);
}

void h_print_text(const void *what, const char *label)
{
    fprintf(stderr, "---- %s ----\n%s\n", label, what ? (const char *)what : "(none)");
}

char *h_watch_text(char *text, const char *label)
{
    if (text)
        h_watch(text, label, h_print_text, free);
    return text;
}

void h_text_free(char *text)
{
    h_forget(text);
    free(text);
}

static void print_all(void)
{
    for (size_t i = 0; i < g_n_watch; i++)
        watch_print(&g_watch[i]);
}

/* What the stopped test registered lived on its stack or was its to
 * free: released, newest first, and forgotten. */
static void release_test(int test)
{
    for (size_t i = g_n_watch; i-- > 0;) {
        if (g_watch[i].test != test)
            continue;
        watch w = g_watch[i];
        watch_remove(&g_watch[i]);
        if (w.release)
            w.release((void *)w.what);
    }
}

/* A client, connection or text the test registered (and would release)
 * must be closed or freed by its end: it may live on the test's stack. */
static void check_all_closed(const char *name)
{
    for (size_t i = g_n_watch; i-- > 0;) {
        if (g_watch[i].test != g_test || !g_watch[i].release)
            continue;
        fprintf(stderr, "%s left %s open\n", name, g_watch[i].label);
        tl_check(0, "everything the test opened is closed", __FILE__, __LINE__);
        watch_remove(&g_watch[i]);
    }
}

void h_run_test(const char *name, void (*fn)(void))
{
    int before = tl_failed;
    g_test = ++g_tests_started;
    if (setjmp(g_stop) == 0) {
        fn();
        check_all_closed(name);
    }
    print_all();
    g_test = 0;
    printf("%s %s\n", tl_failed == before ? "ok  " : "FAIL", name);
}

void h_require(int ok, const char *expr, const char *file, int line)
{
    tl_check(ok, expr, file, line);
    if (ok)
        return;
    fprintf(stderr, "%s:%d: the test stops here\n", file, line);
    print_all();
    if (!g_test) {
        tl_finish();
        exit(1);
    }
    release_test(g_test);
    longjmp(g_stop, 1);
}

int h_finish(const char *dir)
{
    print_all();
    json_ring_free();
    if (dir && *dir && !tl_failed && !getenv("PARLEY_E2E_KEEP"))
        tl_rmrf(dir);
    else if (dir && *dir)
        fprintf(stderr, "test files kept in %s\n", dir);
    return tl_finish();
}

/* ---- files and processes ---------------------------------------------- */

int h_write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    size_t len = strlen(text);
    int ok = fwrite(text, 1, len, f) == len;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* In the child, between fork and exec: only async-signal-safe calls. */
static void redirect(int fd, const char *path, int flags)
{
    int f = open(path ? path : "/dev/null", flags, 0600);
    if (f < 0)
        _exit(126);
    if (f != fd) {
        dup2(f, fd);
        close(f);
    }
}

pid_t h_spawn(char *const argv[], const char *in_path, const char *out_path, const char *err_path)
{
    fflush(NULL);
    pid_t pid = fork();
    if (pid != 0)
        return pid;
#ifdef __linux__
    /* A test killed by its timeout must not leave a server behind. */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
#endif
    redirect(STDIN_FILENO, in_path, O_RDONLY);
    redirect(STDOUT_FILENO, out_path, O_WRONLY | O_CREAT | O_APPEND);
    redirect(STDERR_FILENO, err_path, O_WRONLY | O_CREAT | O_APPEND);
    execvp(argv[0], argv);
    _exit(127);
}

int h_wait(pid_t pid, int timeout_ms)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    int status, delay = 1;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        if (r < 0 && errno != EINTR)
            return -1;
        if (h_now_ms() >= deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            return -1;
        }
        sleep_ms(delay);
        delay = delay < 20 ? delay * 2 : 20;
    }
}

int h_run(char *const argv[], const char *in_path, const char *out_path, const char *err_path,
          int timeout_ms)
{
    pid_t pid = h_spawn(argv, in_path, out_path, err_path);
    return pid < 0 ? -1 : h_wait(pid, timeout_ms);
}

/* ---- the reference server ---------------------------------------------- */

static int path_in(char *out, const char *dir, const char *name)
{
    int n = snprintf(out, H_PATH, "%s/%s", dir, name);
    return n < 0 || n >= H_PATH ? -1 : 0;
}

const char *const h_insecure_identities[] = {"--insecure-identities", NULL};

int h_server_init(h_server *s, const char *dir)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->token = "e2e-agent-token";
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    if (path_in(s->ca, dir, "test-ca.pem") || path_in(s->other_ca, dir, "other-ca.pem") ||
        path_in(s->cert, dir, "test-server.pem") || path_in(s->key, dir, "test-server.key") ||
        path_in(s->db, dir, "server.db") || path_in(s->ready, dir, "server.ready") ||
        path_in(s->log, dir, "server.log"))
        return -1;
    char *mk[] = {"sh", PARLEY_GEN_CERTS, (char *)dir, "test", NULL};
    char *mk_other[] = {"sh", PARLEY_GEN_CERTS, (char *)dir, "other", NULL};
    if (h_run(mk, NULL, NULL, NULL, 60000) != 0 || h_run(mk_other, NULL, NULL, NULL, 60000) != 0)
        return -1;
    return 0;
}

static void print_server_log(const void *s, const char *label)
{
    (void)label;
    h_server_dump_log(s);
}

void h_server_dump_log(const h_server *s)
{
    char *log = tl_read_file(s->log, NULL);
    if (!log || !*log) {
        free(log);
        return;
    }
    size_t len = strlen(log);
    const char *tail = len > 6000 ? log + len - 6000 : log;
    fprintf(stderr, "---- server log (end) ----\n%s\n---- end of server log ----\n", tail);
    free(log);
}

/* The ready file holds the port: the first number in it. */
static int read_port(const char *path)
{
    char *a = tl_read_file(path, NULL);
    if (!a)
        return 0;
    long port = strtol(a + strcspn(a, "0123456789"), NULL, 10);
    free(a);
    return port > 0 && port < 65536 ? (int)port : 0;
}

/* ---- PostgreSQL instead of SQLite (PARLEY_TEST_STORE=pg) ---------------- */

static struct {
    char base[H_PATH]; /* a directory of the harness's, '' before the first use */
    char dir[H_PATH];  /* the private cluster's, in base */
    char url[256];     /* its postgres://... with the database cut off */
    char store[H_PATH + 300];
} g_pg;

int h_store_pg(void)
{
    const char *mode = getenv("PARLEY_TEST_STORE");

    return mode && strcmp(mode, "pg") == 0;
}

static void pg_stop(void)
{
    char *argv[] = {"bash", PARLEY_SERVICES, "pg", "stop", g_pg.dir, NULL};

    char path[H_PATH + 16];

    if (!g_pg.dir[0] || h_run(argv, NULL, NULL, NULL, 60000) != 0)
        return;
    snprintf(path, sizeof path, "%s/url.out", g_pg.base);
    unlink(path);
    snprintf(path, sizeof path, "%s/err.out", g_pg.base);
    unlink(path);
    rmdir(g_pg.base);
}

/* The cluster, started once per test process; exits 77 when there is no
 * PostgreSQL to start. */
static void pg_start(void)
{
    char tmpl[] = "/tmp/parley-pg-XXXXXX", out[H_PATH], err[H_PATH];

    if (g_pg.dir[0])
        return;
    /* As root, the cluster runs as the postgres user, who must reach it. */
    if (!mkdtemp(tmpl) || chmod(tmpl, 0755)) {
        fprintf(stderr, "harness: no directory for PostgreSQL\n");
        exit(1);
    }
    snprintf(g_pg.base, sizeof g_pg.base, "%s", tmpl);
    snprintf(g_pg.dir, sizeof g_pg.dir, "%s/pg", tmpl);
    snprintf(out, sizeof out, "%s/url.out", tmpl);
    snprintf(err, sizeof err, "%s/err.out", tmpl);
    char *argv[] = {"bash", PARLEY_SERVICES, "pg", "start", g_pg.dir, NULL};
    int rc = h_run(argv, NULL, out, err, 120000);
    char *url = tl_read_file(out, NULL), *why = tl_read_file(err, NULL);
    if (rc != 0 || !url || strncmp(url, "postgres://", 11) != 0) {
        fprintf(stderr, "harness: PARLEY_TEST_STORE=pg: %s\n", why ? why : "no PostgreSQL");
        exit(rc == 77 ? 77 : 1);
    }
    url[strcspn(url, "\n")] = '\0';
    /* postgres://parley@127.0.0.1:PORT/parley: each server's database is
     * made next to the first one. */
    *strrchr(url, '/') = '\0';
    snprintf(g_pg.url, sizeof g_pg.url, "%s", url);
    free(url);
    free(why);
    atexit(pg_stop);
}

/* A database name for `path`: the same path, the same database. */
static unsigned long name_of(const char *path)
{
    unsigned long h = 5381;

    while (*path)
        h = h * 33 + (unsigned char)*path++;
    return h;
}

const char *h_store_url(const char *db_path)
{
    char db[32], sql[64], admin[300];

    pg_start();
    snprintf(db, sizeof db, "t%lu", name_of(db_path));
    snprintf(g_pg.store, sizeof g_pg.store, "%s/%s", g_pg.url, db);
    /* It fails when the database is there already (a restart): fine. */
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    snprintf(admin, sizeof admin, "%s/parley", g_pg.url);
    char *argv[] = {"psql", "-qAt", admin, "-c", sql, NULL};
    h_run(argv, NULL, NULL, NULL, 30000);
    return g_pg.store;
}

int h_store_exec(const char *db_path, const char *sql)
{
    char *argv[] = {"psql", "-qAt",      "-v", "ON_ERROR_STOP=1", (char *)h_store_url(db_path),
                    "-c",   (char *)sql, NULL};

    return h_run(argv, NULL, NULL, NULL, 120000) == 0 ? 0 : -1;
}

char *h_store_query(const char *db_path, const char *sql)
{
    char out[H_PATH + 16], *text;
    char *argv[] = {"psql", "-qAt", (char *)h_store_url(db_path), "-c", (char *)sql, NULL};

    snprintf(out, sizeof out, "%s/query.out", g_pg.base);
    if (h_run(argv, NULL, out, NULL, 30000) != 0)
        return NULL;
    text = tl_read_file(out, NULL);
    unlink(out);
    if (text)
        text[strcspn(text, "\n")] = '\0';
    if (text && !*text) {
        free(text);
        return NULL;
    }
    return text;
}

int h_server_start(h_server *s, int port)
{
    char port_s[16];
    snprintf(port_s, sizeof port_s, "%d", port);
    unlink(s->ready);
    char *argv[16 + H_SERVER_EXTRA_ARGS + 1];
    size_t a = 0;
    char files[H_PATH + 8];
    char *fixed[] = {PARLEY_SERVER_BIN, "--port", port_s, "--ready-file", s->ready, "--db", s->db};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[a++] = fixed[i];
    if (h_store_pg()) {
        /* The files where they would be beside the SQLite file. */
        snprintf(files, sizeof files, "%s.files", s->db);
        argv[a - 2] = "--store";
        argv[a - 1] = (char *)h_store_url(s->db);
        argv[a++] = "--data-dir";
        argv[a++] = files;
    }
    if (!s->plain) {
        char *tls[] = {"--cert", s->cert, "--key", s->key};
        for (size_t i = 0; i < sizeof tls / sizeof tls[0]; i++)
            argv[a++] = tls[i];
    }
    if (s->token) {
        argv[a++] = "--agent-token";
        argv[a++] = (char *)s->token;
    }
    for (size_t i = 0; s->extra_args && s->extra_args[i]; i++) {
        if (i == H_SERVER_EXTRA_ARGS)
            return -1;
        argv[a++] = (char *)s->extra_args[i];
    }
    argv[a] = NULL;
    /* Appended: a restart keeps the first run's log. */
    s->pid = h_spawn(argv, NULL, s->log, s->log);
    if (s->pid < 0)
        return -1;
    h_watch(s, "server", print_server_log, NULL);
    int64_t deadline = h_now_ms() + h_ms(20000);
    int last = 0;
    while (h_now_ms() < deadline) {
        int status;
        if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
            fprintf(stderr, "parley-server exited before it was ready (status %d)\n", status);
            s->pid = -1;
            h_forget(s);
            h_server_dump_log(s);
            return -1;
        }
        /* The same port read twice: a half-written file is not a port. */
        int got = read_port(s->ready);
        if (got > 0 && got == last) {
            s->port = got;
            return 0;
        }
        last = got;
        sleep_ms(10);
    }
    fprintf(stderr, "parley-server not ready after %d ms\n", h_ms(20000));
    h_server_stop(s, SIGKILL);
    h_server_dump_log(s);
    return -1;
}

int h_server_stop(h_server *s, int sig)
{
    if (s->pid <= 0)
        return -1;
    kill(s->pid, sig);
    int status = h_wait(s->pid, h_ms(10000));
    if (status < 0)
        fprintf(stderr, "parley-server had to be killed\n");
    s->pid = -1;
    h_forget(s);
    return status;
}

void h_server_plain(h_server *s, const char *dir, const char *name, const char *token,
                    const char *const *extra_args)
{
    memset(s, 0, sizeof *s);
    s->pid = -1;
    s->plain = 1;
    s->token = token;
    s->extra_args = extra_args;
    snprintf(s->dir, sizeof s->dir, "%s", dir);
    snprintf(s->db, sizeof s->db, "%s/%s.db", dir, name);
    snprintf(s->ready, sizeof s->ready, "%s/%s.ready", dir, name);
    snprintf(s->log, sizeof s->log, "%s/%s.log", dir, name);
}

int h_http_call(const h_server *s, const h_http *req, char **body_out, char **headers_out)
{
    static unsigned calls;
    char url[1024], auth[256], out[H_PATH + 32], code_path[H_PATH + 32], err_path[H_PATH + 32],
        req_path[H_PATH + 32], head_path[H_PATH + 32], data[H_PATH + 40];
    unsigned n = ++calls;
    /* From a given source address, the server's IPv4 address itself: the
     * name may resolve to ::1 first, which that address cannot reach. */
    snprintf(url, sizeof url, "%s://%s:%d%s", s->plain ? "http" : "https",
             req->from && s->plain ? "127.0.0.1" : "localhost", s->port, req->path);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", s->token ? s->token : "");
    snprintf(out, sizeof out, "%s/api-%u.body", s->dir, n);
    snprintf(code_path, sizeof code_path, "%s/api-%u.code", s->dir, n);
    snprintf(err_path, sizeof err_path, "%s/api-%u.err", s->dir, n);
    snprintf(req_path, sizeof req_path, "%s/api-%u.req", s->dir, n);
    snprintf(head_path, sizeof head_path, "%s/api-%u.head", s->dir, n);
    snprintf(data, sizeof data, "@%s", req_path);
    if (req->body && h_write_file(req_path, req->body) != 0)
        return -1;
    char *argv[64];
    int a = 0;
    char *fixed[] = {"curl", "-sS",     "--max-time", "20",           "-o", out,
                     "-D",   head_path, "-w",         "%{http_code}", "-X", (char *)req->method};
    for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++)
        argv[a++] = fixed[i];
    if (!req->no_token) {
        argv[a++] = "-H";
        argv[a++] = auth;
    }
    for (size_t i = 0; req->headers && req->headers[i] && a < 52; i++) {
        argv[a++] = "-H";
        argv[a++] = (char *)req->headers[i];
    }
    if (req->from) {
        argv[a++] = "--interface";
        argv[a++] = (char *)req->from;
    }
    if (!s->plain) {
        argv[a++] = "--cacert";
        argv[a++] = (char *)s->ca;
    }
    if (req->body) {
        argv[a++] = "-H";
        argv[a++] = "Content-Type: application/json";
        argv[a++] = "--data-binary";
        argv[a++] = data;
    }
    argv[a++] = url;
    argv[a] = NULL;
    int rc = h_run(argv, NULL, code_path, err_path, h_ms(30000));
    char *code = tl_read_file(code_path, NULL);
    int status = rc == 0 && code ? atoi(code) : -1;
    if (status < 0) {
        char *err = tl_read_file(err_path, NULL);
        fprintf(stderr, "curl %s %s failed (rc %d): %s\n", req->method, url, rc, err ? err : "");
        free(err);
    }
    free(code);
    if (body_out)
        *body_out = tl_read_file(out, NULL);
    if (headers_out)
        *headers_out = tl_read_file(head_path, NULL);
    return status;
}

char *h_http_header(const char *head, const char *name)
{
    size_t n = strlen(name);
    for (const char *line = head; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        if (len > n && strncasecmp(line, name, n) == 0 && line[n] == ':') {
            const char *v = line + n + 1;
            while (*v == ' ')
                v++;
            size_t vlen = len - (size_t)(v - line);
            while (vlen && (v[vlen - 1] == '\r' || v[vlen - 1] == ' '))
                vlen--;
            return strndup(v, vlen);
        }
        line = end ? end + 1 : NULL;
    }
    return NULL;
}

int h_api(const h_server *s, const char *method, const char *path, const char *json_body,
          char **body_out)
{
    h_http req = {method, path, json_body, NULL, 0, NULL};
    return h_http_call(s, &req, body_out, NULL);
}

int h_api_json(const h_server *s, const char *method, const char *path, const char *json_body,
               cJSON **out)
{
    char *body = NULL;
    int status = h_api(s, method, path, json_body, out ? &body : NULL);
    if (out)
        *out = body ? cJSON_Parse(body) : NULL;
    free(body);
    return status;
}

/* ---- clients ------------------------------------------------------------- */

static void log_sink(void *user, int level, const char *msg)
{
    fprintf(stderr, "[%s L%d] %s\n", (const char *)user, level, msg);
}

static void print_events(const void *c, const char *label)
{
    h_dump_events(c, label);
}

static void release_client(void *c)
{
    h_client_close(c);
}

/* h_client_open, with the journal encrypted under `key` (32 bytes) when it
 * is not NULL, and the options of h_client_opts. */
static int client_open(h_client *c, const h_server *s, const char *ca, const char *user,
                       const char *data_dir, const unsigned char *key, const h_client_opts *o)
{
    memset(c, 0, sizeof *c);
    char url[128];
    snprintf(url, sizeof url, "wss://localhost:%d", o && o->port ? o->port : s->port);
    parley_config *cfg = parley_config_new();
    if (!cfg)
        return -1;
    const char *verbose = getenv("PARLEY_E2E_VERBOSE");
    int rc = parley_config_set_url(cfg, url);
    if (rc == PARLEY_OK)
        rc = parley_config_set_app_id(cfg, "parley-e2e");
    if (rc == PARLEY_OK && ca)
        rc = parley_config_set_ca_file(cfg, ca);
    if (rc == PARLEY_OK && data_dir)
        rc = parley_config_set_data_dir(cfg, data_dir);
    if (rc == PARLEY_OK && key)
        rc = parley_config_set_encryption_key(cfg, key, 32);
    if (rc == PARLEY_OK)
        rc = parley_config_set_reconnect(cfg, 100, 1000);
    if (rc == PARLEY_OK && o && o->local_history)
        rc = parley_config_set_local_history(cfg, o->local_history);
    if (rc == PARLEY_OK && verbose && *verbose)
        rc = parley_config_set_log(cfg, log_sink, (void *)(user ? user : "anon"), PARLEY_LOG_DEBUG);
    if (rc == PARLEY_OK)
        rc = parley_client_new(cfg, &c->pc);
    parley_config_free(cfg);
    if (rc == PARLEY_OK && user)
        rc = parley_identify(c->pc, user, NULL);
    if (rc != PARLEY_OK) {
        fprintf(stderr, "client setup failed: %s\n", parley_strerror(rc));
        h_client_close(c);
        return -1;
    }
    h_watch(c, user ? user : "an anonymous user", print_events, release_client);
    return 0;
}

int h_client_open(h_client *c, const h_server *s, const char *ca, const char *user,
                  const char *data_dir)
{
    return client_open(c, s, ca, user, data_dir, NULL, NULL);
}

int h_client_open_opts(h_client *c, const h_server *s, const char *ca, const char *user,
                       const char *data_dir, const h_client_opts *o)
{
    return client_open(c, s, ca, user, data_dir, o ? o->key : NULL, o);
}

int h_client_open_encrypted(h_client *c, const h_server *s, const char *ca, const char *data_dir,
                            const unsigned char key[32])
{
    return client_open(c, s, ca, NULL, data_dir, key, NULL);
}

void h_client_close(h_client *c)
{
    h_forget(c);
    parley_client_free(c->pc);
    for (size_t i = 0; i < c->n; i++)
        parley_event_free(c->hist[i]);
    free(c->hist);
    free(c->used);
    memset(c, 0, sizeof *c);
}

static int record(h_client *c, parley_event *ev)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 64;
        parley_event **hist = realloc(c->hist, cap * sizeof *hist);
        if (hist)
            c->hist = hist;
        unsigned char *used = realloc(c->used, cap);
        if (used)
            c->used = used;
        if (!hist || !used) {
            parley_event_free(ev);
            return -1;
        }
        c->cap = cap;
    }
    c->used[c->n] = 0;
    c->hist[c->n++] = ev;
    return 0;
}

static void drain(h_client *c)
{
    parley_event *ev;
    while (parley_poll(c->pc, &ev) == PARLEY_OK)
        record(c, ev);
}

/* One slice of work: host-driven clients are serviced (returning early when
 * an event is ready); threaded ones are polled after a short nap. */
static void pump_once(h_client *c, int ms)
{
    if (c->threaded)
        sleep_ms(ms < 2 ? ms : 2);
    else
        parley_service(c->pc, ms);
    drain(c);
}

void h_pump(h_client *c, int ms)
{
    int64_t deadline = h_now_ms() + ms;
    int64_t left;
    while ((left = deadline - h_now_ms()) > 0)
        pump_once(c, left < 50 ? (int)left : 50);
}

static int str_match(const char *want, const char *got)
{
    return !want || (got && strcmp(want, got) == 0);
}

static int matches(const parley_event *ev, const h_want *w)
{
    return (!w->type || parley_event_type(ev) == w->type) &&
           (!w->state || parley_event_state(ev) == w->state) &&
           (!w->author || parley_event_author_kind(ev) == w->author) &&
           (!w->error || parley_event_error_code(ev) == w->error) &&
           str_match(w->conv, parley_event_conversation_id(ev)) &&
           str_match(w->cid, parley_event_client_id(ev)) &&
           str_match(w->text, parley_event_text(ev));
}

static const parley_event *find_unused(h_client *c, const h_want *w, size_t from, size_t *index_out)
{
    for (size_t i = from > w->after ? from : w->after; i < c->n; i++) {
        if (!c->used[i] && matches(c->hist[i], w)) {
            c->used[i] = 1;
            if (index_out)
                *index_out = i;
            return c->hist[i];
        }
    }
    return NULL;
}

const parley_event *h_await(h_client *c, const h_want *w, int timeout_ms, size_t *index_out)
{
    int64_t deadline = h_now_ms() + timeout_ms;
    size_t scanned = 0;
    for (;;) {
        const parley_event *ev = find_unused(c, w, scanned, index_out);
        if (ev)
            return ev;
        scanned = c->n;
        int64_t left = deadline - h_now_ms();
        if (left <= 0)
            return NULL;
        pump_once(c, left < 50 ? (int)left : 50);
    }
}

size_t h_count(const h_client *c, const h_want *w)
{
    size_t n = 0;
    for (size_t i = w->after; i < c->n; i++)
        n += matches(c->hist[i], w) != 0;
    return n;
}

static const char *or_dash(const char *s)
{
    return s ? s : "-";
}

void h_dump_events(const h_client *c, const char *label)
{
    fprintf(stderr, "---- events of %s ----\n", label);
    for (size_t i = 0; i < c->n; i++) {
        const parley_event *ev = c->hist[i];
        fprintf(stderr,
                "%3zu type=%d state=%d author=%d err=%d conv=%s cid=%s id=%s seq=%s text=%s\n", i,
                parley_event_type(ev), parley_event_state(ev), parley_event_author_kind(ev),
                parley_event_error_code(ev), or_dash(parley_event_conversation_id(ev)),
                or_dash(parley_event_client_id(ev)), or_dash(parley_event_message_id(ev)),
                or_dash(parley_event_seq(ev)), or_dash(parley_event_text(ev)));
    }
}

const char *h_json_str(const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

int h_api_count_text(const h_server *s, const char *conv, const char *text)
{
    char path[256], *body = NULL;
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    int status = h_api(s, "GET", path, NULL, &body);
    CHECK_INT(status, 200);
    cJSON *list = body ? cJSON_Parse(body) : NULL;
    free(body);
    if (!cJSON_IsArray(list)) {
        cJSON_Delete(list);
        return -1;
    }
    int n = 0;
    const cJSON *item;
    cJSON_ArrayForEach(item, list) {
        const char *t = h_json_str(item, "text");
        n += t && strcmp(t, text) == 0;
    }
    cJSON_Delete(list);
    return n;
}
