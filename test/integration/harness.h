/* Integration test harness: the test runner (H_RUN, H_REQUIRE) and its
 * one on-failure hook, JSON written with single quotes, temp dirs, child
 * processes, the reference server, its HTTP API (through curl) and a client
 * wrapper that records every event so tests can wait for one and check the
 * order they came in. test/README.md says how a test uses them. */
#ifndef PARLEY_E2E_HARNESS_H
#define PARLEY_E2E_HARNESS_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <parley.h>

#define H_PATH 512

/* ---- running tests --------------------------------------------------------- */

/* Runs test `fn` and prints "ok  NAME" or "FAIL NAME" as RUN does; inside
 * it, H_REQUIRE may stop it, and what was registered with h_watch is
 * printed when a check failed. A test that returns with a client, a raw
 * connection or a watched text still open fails. */
void h_run_test(const char *name, void (*fn)(void));
#define H_RUN(fn) h_run_test(#fn, fn)

/* A check the rest of the test depends on: when it fails, what is
 * registered is printed, what the test registered is released, and the
 * test stops there (outside h_run_test, the program exits). The name keeps
 * clear of testlib.h, whose REQUIRE may come to do the same. */
#define H_REQUIRE(e) h_require(!!(e), #e, __FILE__, __LINE__)
void h_require(int ok, const char *expr, const char *file, int line);

/* The closing line, as tl_finish. The test directory `dir` (may be NULL)
 * is removed when every check passed and PARLEY_E2E_KEEP is not set, and
 * named on stderr when it is kept. Returns the exit code. */
int h_finish(const char *dir);

/* ---- what a failure prints ------------------------------------------------- */

/* One hook for "show me what happened": what explains a failure (a
 * client's events, a server's log, a raw connection's frames, a program's
 * output) is registered while it lives. When checks failed since it was
 * registered, the harness prints it once: when it is forgotten, when its
 * test ends, or when H_REQUIRE stops the test. The harness's clients and
 * servers and wsc.c's connections register and forget themselves.
 * `release` (may be NULL) frees `what` when H_REQUIRE stops the test that
 * registered it, whose stack it may live on. Registering `what` again
 * replaces its entry. */
typedef void (*h_dump_fn)(const void *what, const char *label);
void h_watch(const void *what, const char *label, h_dump_fn dump, void (*release)(void *what));
/* Prints `what` when checks failed since it was registered (or last
 * printed), then forgets it. Unknown pointers (NULL too) are ignored. */
void h_forget(const void *what);
/* An h_dump_fn for a NUL-terminated text. */
void h_print_text(const void *text, const char *label);
/* Registers a malloc'd text (a program's output; NULL is fine) under
 * `label`, and returns it. */
char *h_watch_text(char *text, const char *label);
/* h_forget, then free. */
void h_text_free(char *text);

/* ---- JSON in test sources ---------------------------------------------------- */

/* Wire frames and API bodies as they read: printf of `fmt` after every '
 * in it is turned into ", so h_json("{'t':'read','seq':'%s'}", seq) is
 * {"t":"read","seq":"..."}. Arguments are inserted as they are (an
 * apostrophe in text goes in through %s). The string lives until
 * H_JSON_RING later calls: enough for the frames of a statement or two,
 * not for keeping. */
#define H_JSON_RING 32
#if defined(__GNUC__)
#define H_PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#define H_PRINTF(f, a)
#endif
const char *h_json(const char *fmt, ...) H_PRINTF(1, 2);
const char *h_vjson(const char *fmt, va_list ap) H_PRINTF(1, 0);
/* `text` with every ' turned into ", no formatting (same lifetime). */
const char *h_quote(const char *text);

/* Calls `fn` with each line of the data file PARLEY_TEST_DATA/`name` (wire
 * frames, one a line, exactly as they are sent), skipping empty lines and
 * lines that start with #. How many lines it passed, -1 when the file
 * cannot be read. */
int h_data_lines(const char *name, void (*fn)(const char *line, void *user), void *user);

/* ---- time ------------------------------------------------------------- */

int64_t h_now_ms(void);
/* `ms` stretched when PARLEY_E2E_SLOW is set (valgrind): deadlines must be
 * generous on a loaded machine, yet waits end as soon as the thing happens. */
int h_ms(int ms);

/* ---- files and processes ---------------------------------------------- */

/* Writes `text` to `path` (replacing it); 0 on success. */
int h_write_file(const char *path, const char *text);

/* Spawns argv[0] (searched in PATH) with stdin from `in_path` (NULL:
 * /dev/null) and stdout/stderr to files (NULL: /dev/null). -1 on failure. */
pid_t h_spawn(char *const argv[], const char *in_path, const char *out_path, const char *err_path);
/* Waits for `pid` at most timeout_ms, then kills it. The exit status, 128 +
 * signal when killed by one, or -1 when it had to be killed (timeout). */
int h_wait(pid_t pid, int timeout_ms);
/* h_spawn + h_wait. */
int h_run(char *const argv[], const char *in_path, const char *out_path, const char *err_path,
          int timeout_ms);

/* ---- the reference server ---------------------------------------------- */

typedef struct h_server {
    pid_t pid;
    int port;
    char dir[H_PATH];
    char ca[H_PATH], other_ca[H_PATH], cert[H_PATH], key[H_PATH];
    char db[H_PATH], ready[H_PATH], log[H_PATH];
    const char *token; /* the agent token (NULL: none on the command line) */
    int plain;         /* no --cert/--key: ws:// and http:// (for wsc.c) */
    /* NULL-terminated, appended to the server's command line (NULL: none);
     * at most H_SERVER_EXTRA_ARGS of them. */
    const char *const *extra_args;
} h_server;

#define H_SERVER_EXTRA_ARGS 12

/* extra_args for a server that takes identified users at their word (no
 * --jwt-secret or --hmac-secret): tests whose users carry no token. */
extern const char *const h_insecure_identities[];

/* PARLEY_TEST_STORE=pg: the servers the harness starts keep their data in
 * a private PostgreSQL (test/services/services.sh, started on first use,
 * stopped at exit), one database for each h_server's `db` path, instead
 * of that SQLite file. Exits 77 (skipped) when PostgreSQL is not
 * installed. 1 in that mode. */
int h_store_pg(void);
/* In that mode, the URL of the database that stands for the SQLite file
 * `db_path` (made on first use; the string lives until the next call). */
const char *h_store_url(const char *db_path);
/* In that mode, the first column of the first row `sql` answers in that
 * database (malloc'd), or NULL when there is none. */
char *h_store_query(const char *db_path, const char *sql);
/* In that mode, runs `sql` there: 0, or -1. */
int h_store_exec(const char *db_path, const char *sql);

/* Makes the certificates (a CA and a localhost certificate it signed, plus
 * an unrelated CA) in `dir`; 0 on success. */
int h_server_init(h_server *s, const char *dir);
/* Starts the server on `port` (0: any free port) and waits until it is
 * ready; s->port is then the port it listens on. 0 on success; otherwise
 * the end of its log is printed. While it runs, a failed check prints the
 * end of its log (h_watch); H_REQUIRE does not stop it. */
int h_server_start(h_server *s, int port);
/* Sends `sig` and reaps the server (no-op when it is not running); its exit
 * status, 128 + signal, or -1 when it had to be killed or was not running.
 * Its log is printed when checks failed since it started. */
int h_server_stop(h_server *s, int sig);
/* A plain ws:// server (no TLS, for wsc.c) with `token` as its agent token
 * and files named `name`.db, .ready and .log in `dir`, taking the rest of
 * its command line from `extra_args` (NULL-terminated, may be NULL). */
void h_server_plain(h_server *s, const char *dir, const char *name, const char *token,
                    const char *const *extra_args);
/* Prints the end of the server's log on stderr (after a failure). */
void h_server_dump_log(const h_server *s);

/* One HTTP API call through curl (the body through a file, so it may be
 * larger than a command line). Returns the HTTP status (-1 when curl
 * failed) and, when `body_out` is not NULL, the malloc'd response body. */
int h_api(const h_server *s, const char *method, const char *path, const char *json_body,
          char **body_out);
/* One HTTP request as a browser or another program makes it: the API
 * token goes along unless `no_token`; `headers` are more request headers
 * ("Name: value", NULL-terminated, may be NULL); `from` is the source
 * address (curl --interface, a loopback address such as 127.0.0.2; NULL:
 * the system's choice). */
typedef struct h_http {
    const char *method, *path;
    const char *body; /* JSON text, or NULL */
    const char *const *headers;
    int no_token;
    const char *from;
} h_http;

/* Sends `req`. The HTTP status (-1 when curl failed); when not NULL,
 * *body_out gets the malloc'd response body and *headers_out the malloc'd
 * response head (status line and headers, as received). */
int h_http_call(const h_server *s, const h_http *req, char **body_out, char **headers_out);

/* The value of response header `name` (case-insensitive) in a head from
 * h_http_call, malloc'd without the line end; NULL when absent. */
char *h_http_header(const char *head, const char *name);

/* h_api with the response parsed (*out, may be NULL; NULL when it is not
 * JSON; free with cJSON_Delete). */
int h_api_json(const h_server *s, const char *method, const char *path, const char *json_body,
               cJSON **out);

/* The string member `key` of `obj`, or NULL (NULL obj and wrong types too). */
const char *h_json_str(const cJSON *obj, const char *key);

/* How many stored messages of `conv` have exactly `text` (GET
 * /api/conversations/{conv}/messages); -1 when the API did not answer with
 * a list (and a failed check when its status was not 200). */
int h_api_count_text(const h_server *s, const char *conv, const char *text);

/* ---- clients ------------------------------------------------------------- */

typedef struct h_client {
    parley_client *pc;
    int threaded;
    parley_event **hist; /* every event polled, in order */
    size_t n, cap;
    unsigned char *used; /* hist[i] was returned by h_await */
} h_client;

/* What h_await looks for; zero/NULL fields match anything. */
typedef struct h_want {
    int type, state, author, error;
    const char *conv, *cid, *text;
    size_t after; /* only events recorded at index >= after */
} h_want;

/* A client for wss://localhost:port with the test's defaults (app id,
 * fast reconnect, log to stderr when PARLEY_E2E_VERBOSE is set). `ca`,
 * `user`, `data_dir` may be NULL. 0 on success. Its events are printed
 * when a check fails while it is open (h_watch). */
int h_client_open(h_client *c, const h_server *s, const char *ca, const char *user,
                  const char *data_dir);
/* What a client may do differently: connect to `port` (a proxy in front
 * of the server; 0: the server's own), keep `local_history` messages per
 * conversation (0: none), encrypt its journal with `key` (32 bytes; NULL:
 * none). */
typedef struct h_client_opts {
    int port;
    uint32_t local_history;
    const unsigned char *key;
} h_client_opts;
int h_client_open_opts(h_client *c, const h_server *s, const char *ca, const char *user,
                       const char *data_dir, const h_client_opts *o);
/* An anonymous client whose journal in `data_dir` is encrypted with `key`. */
int h_client_open_encrypted(h_client *c, const h_server *s, const char *ca, const char *data_dir,
                            const unsigned char key[32]);
void h_client_close(h_client *c);

/* The first event not yet returned that matches `w` (already recorded, or
 * arriving within timeout_ms while the client is serviced, or polled in
 * threaded mode). The event is borrowed until h_client_close(); NULL on
 * timeout. *index_out (may be NULL) receives its place in the history. */
const parley_event *h_await(h_client *c, const h_want *w, int timeout_ms, size_t *index_out);
/* Services (or polls) for `ms`, recording events. */
void h_pump(h_client *c, int ms);
/* Number of recorded events matching `w` (used or not). */
size_t h_count(const h_client *c, const h_want *w);
/* Prints the recorded events on stderr (h_watch does it after a failure). */
void h_dump_events(const h_client *c, const char *label);

#endif
