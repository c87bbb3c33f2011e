/* Integration test harness: temp dirs, child processes, the reference
 * server, its HTTP API (through curl) and a client wrapper that records every
 * event so tests can wait for one and check the order they came in. */
#ifndef PARLEY_E2E_HARNESS_H
#define PARLEY_E2E_HARNESS_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <cjson/cJSON.h>
#include <parley.h>

#define H_PATH 512

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

/* Makes the certificates (a CA and a localhost certificate it signed, plus
 * an unrelated CA) in `dir`; 0 on success. */
int h_server_init(h_server *s, const char *dir);
/* Starts the server on `port` (0: any free port) and waits until it is
 * ready; s->port is then the port it listens on. 0 on success. */
int h_server_start(h_server *s, int port);
/* Sends `sig` and reaps the server. No-op when it is not running. */
void h_server_stop(h_server *s, int sig);
/* Prints the end of the server's log on stderr (after a failure). */
void h_server_dump_log(const h_server *s);

/* One HTTP API call through curl. Returns the HTTP status (-1 when curl
 * failed) and, when `body_out` is not NULL, the malloc'd response body. */
int h_api(const h_server *s, const char *method, const char *path, const char *json_body,
          char **body_out);

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
 * `user`, `data_dir` may be NULL. 0 on success. */
int h_client_open(h_client *c, const h_server *s, const char *ca, const char *user,
                  const char *data_dir);
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
/* Prints the recorded events on stderr (after a failure). */
void h_dump_events(const h_client *c, const char *label);

#endif
