/* End to end, what every messenger user expects (issue 16): libparley
 * (public API only) against the reference server over TLS on localhost.
 *  - a 5 MB attachment through the chaos proxy, which cuts the connection
 *    mid-upload, arrives byte-identical exactly once and resumes rather
 *    than restarts (the proxy counts the bytes sent);
 *  - an upload resumed after the process that started it was killed;
 *  - hostile input at the call and from the server: too large, empty,
 *    missing, a file gone before its upload, contents that lie about
 *    their type;
 *  - an agent's file downloaded to a file and into memory;
 *  - push: an agent's reply to an offline user makes the webhook sink
 *    receive one POST with the token, with a preview only where allowed;
 *    none after logout;
 *  - local history and unread counts there after a restart with the
 *    server down;
 *  - a second device (fresh data dir, same user) lists the first's
 *    conversation, sends into it and receives the earlier agent reply;
 *    a push payload makes a conversation usable at once. */
#define _GNU_SOURCE /* strcasestr */
#include <arpa/inet.h>
#include <dirent.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "harness.h"
#include "testlib.h"

#define WAIT h_ms(30000)
#define BIG (5 * 1000 * 1000)
#define MAX_ATTACHMENT (8 * 1024 * 1024)

static h_server g_srv;
static char g_dir[256];

/* ---- helpers ------------------------------------------------------------------ */

static void hex_sha256(const unsigned char *data, size_t len, char out[65])
{
    unsigned char d[32];
    mbedtls_sha256_ret(data, len, d, 0);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

static void sub_path(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", g_dir, name);
}

/* Writes `len` deterministic bytes (text-like: never a checked signature)
 * to `path`; their SHA-256 into sha (may be NULL). */
static void write_bytes(const char *path, size_t len, unsigned seed, char sha[65])
{
    unsigned char *b = malloc(len);
    H_REQUIRE(b != NULL);
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (unsigned char)(seed >> 16);
    }
    b[0] = 'T';
    FILE *f = fopen(path, "wb");
    H_REQUIRE(f && fwrite(b, 1, len, f) == len);
    fclose(f);
    if (sha)
        hex_sha256(b, len, sha);
    free(b);
}

static const parley_event *await_online(h_client *c, size_t after)
{
    h_want w = {.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE, .after = after};
    return h_await(c, &w, WAIT, NULL);
}

static const parley_event *await_status(h_client *c, const char *cid, int state)
{
    h_want w = {.type = PARLEY_EV_MESSAGE_STATUS, .state = state, .cid = cid};
    return h_await(c, &w, WAIT, NULL);
}

static const parley_event *await_att(h_client *c, const char *cid, int state)
{
    h_want w = {.type = PARLEY_EV_ATTACHMENT, .state = state, .cid = cid};
    return h_await(c, &w, WAIT, NULL);
}

/* The first answer of type `type` to request `req`. */
static const parley_event *await_answer(h_client *c, int type, const char *req, int state)
{
    h_want w = {.type = type, .state = state};
    int64_t deadline = h_now_ms() + WAIT;
    for (;;) {
        int64_t left = deadline - h_now_ms();
        const parley_event *ev = left > 0 ? h_await(c, &w, (int)left, NULL) : NULL;
        if (!ev || (parley_event_request_id(ev) && strcmp(parley_event_request_id(ev), req) == 0))
            return ev;
    }
}

static void start_conv(h_client *c, const char *subject, char conv[PARLEY_ID_SIZE])
{
    CHECK_INT(parley_conversation_start(c->pc, subject, conv, PARLEY_ID_SIZE), PARLEY_OK);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_send_text(c->pc, conv, subject, cid, sizeof cid), PARLEY_OK);
    CHECK(await_status(c, cid, PARLEY_MSG_SENT) != NULL);
}

static void agent_reply(const char *conv, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    CHECK_INT(h_api(&g_srv, "POST", path, h_json("{'name':'Dana','text':'%s'}", text), NULL), 201);
}

/* How many of the stored messages of `conv` carry an attachment of hash
 * `sha`; the id of the first into id (may be NULL). */
static int stored_files(const char *conv, const char *sha, char id[64])
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    cJSON *msgs = NULL;
    CHECK_INT(h_api_json(&g_srv, "GET", path, NULL, &msgs), 200);
    int n = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *att = cJSON_GetObjectItemCaseSensitive(m, "attachment");
        const char *s = h_json_str(att, "sha256");
        if (!s || strcmp(s, sha) != 0)
            continue;
        if (id && n == 0)
            snprintf(id, 64, "%s", h_json_str(att, "id"));
        n++;
    }
    cJSON_Delete(msgs);
    return n;
}

/* The SHA-256 of what GET /api/attachments/{id} answers. */
static void served_sha(const char *id, char sha[65])
{
    char path[128], *body = NULL, *head = NULL;
    snprintf(path, sizeof path, "/api/attachments/%s", id);
    h_http req = {"GET", path, NULL, NULL, 0, NULL};
    CHECK_INT(h_http_call(&g_srv, &req, &body, &head), 200);
    char *len = h_http_header(head, "content-length");
    size_t n = len ? strtoul(len, NULL, 10) : 0;
    hex_sha256((const unsigned char *)(body ? body : ""), body ? n : 0, sha);
    free(len);
    free(body);
    free(head);
}

/* ---- the chaos proxy ------------------------------------------------------------ */

typedef struct proxy {
    pid_t pid;
    int port;
    char log[H_PATH + 16];
} proxy;

/* In front of g_srv, cutting the first connection after `cut` bytes. */
static void proxy_start(proxy *p, long cut)
{
    char upstream[32], cut_s[24], ready[H_PATH + 16];
    snprintf(upstream, sizeof upstream, "127.0.0.1:%d", g_srv.port);
    snprintf(cut_s, sizeof cut_s, "%ld", cut);
    sub_path(ready, sizeof ready, "proxy.ready");
    sub_path(p->log, sizeof p->log, "proxy.log");
    remove(ready);
    char *argv[] = {PARLEY_CHAOS_PROXY_BIN,
                    "--upstream",
                    upstream,
                    "--ready-file",
                    ready,
                    "--drop-prob",
                    "0",
                    "--delay-prob",
                    "0",
                    "--stall-prob",
                    "0",
                    "--cut-after-bytes",
                    cut_s,
                    NULL};
    p->pid = h_spawn(argv, NULL, NULL, p->log);
    H_REQUIRE(p->pid > 0);
    int64_t deadline = h_now_ms() + WAIT;
    char *port = NULL;
    while (!(port = tl_read_file(ready, NULL)) && h_now_ms() < deadline)
        usleep(20000);
    H_REQUIRE(port != NULL);
    p->port = atoi(port);
    free(port);
}

/* Stops it; the bytes it carried client -> server. */
static unsigned long long proxy_stop(proxy *p)
{
    kill(p->pid, SIGTERM);
    CHECK_INT(h_wait(p->pid, WAIT), 0);
    char *log = tl_read_file(p->log, NULL);
    const char *at = log ? strstr(log, "bytes_up=") : NULL;
    unsigned long long up = at ? strtoull(at + 9, NULL, 10) : 0;
    if (!at)
        fprintf(stderr, "proxy log: %s\n", log ? log : "(none)");
    free(log);
    return up;
}

/* ---- a webhook sink ------------------------------------------------------------- */

#define SINK_MAX 16

typedef struct sink {
    int fd, port, stop;
    pthread_mutex_t mu;
    char *bodies[SINK_MAX];
    int n;
    pthread_t thread;
} sink;

static char *read_body(int c)
{
    size_t cap = 70000, len = 0;
    char *buf = malloc(cap + 1);
    while (buf && len < cap) {
        ssize_t n = read(c, buf + len, cap - len);
        if (n <= 0)
            break;
        len += (size_t)n;
        buf[len] = '\0';
        char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "content-length:");
        if (end && (long)(len - (size_t)(end + 4 - buf)) >= (cl ? strtol(cl + 15, NULL, 10) : 0)) {
            memmove(buf, end + 4, len - (size_t)(end + 4 - buf) + 1);
            return buf;
        }
    }
    free(buf);
    return NULL;
}

static void *sink_main(void *arg)
{
    sink *s = arg;
    for (;;) {
        int c = accept(s->fd, NULL, NULL);
        if (c < 0)
            break;
        char *body = read_body(c);
        pthread_mutex_lock(&s->mu);
        int stop = s->stop;
        if (!stop && body && s->n < SINK_MAX)
            s->bodies[s->n++] = body;
        else
            free(body);
        pthread_mutex_unlock(&s->mu);
        static const char ok[] =
            "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
        if (!stop && write(c, ok, sizeof ok - 1) < 0)
            perror("sink write");
        close(c);
        if (stop)
            break;
    }
    return NULL;
}

static int sink_start(sink *s)
{
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int one = 1;
    memset(s, 0, sizeof *s);
    pthread_mutex_init(&s->mu, NULL);
    s->fd = socket(AF_INET, SOCK_STREAM, 0);
    setsockopt(s->fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    memset(&a, 0, sizeof a);
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(s->fd, (struct sockaddr *)&a, sizeof a) || listen(s->fd, 8) ||
        getsockname(s->fd, (struct sockaddr *)&a, &alen))
        return -1;
    s->port = ntohs(a.sin_port);
    return pthread_create(&s->thread, NULL, sink_main, s);
}

/* Waits until the sink holds `n` bodies (or the deadline); how many it holds. */
static int sink_wait(sink *s, int n, int ms)
{
    int64_t deadline = h_now_ms() + ms;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        int have = s->n;
        pthread_mutex_unlock(&s->mu);
        if (have >= n || h_now_ms() >= deadline)
            return have;
        usleep(20000);
    }
}

static void sink_stop(sink *s)
{
    pthread_mutex_lock(&s->mu);
    s->stop = 1;
    pthread_mutex_unlock(&s->mu);
    shutdown(s->fd, SHUT_RDWR);
    close(s->fd);
    pthread_join(s->thread, NULL);
    for (int i = 0; i < s->n; i++)
        free(s->bodies[i]);
    pthread_mutex_destroy(&s->mu);
}

static sink g_sink;

/* ---- attachments ---------------------------------------------------------------- */

/* The proof: 5 MB through a proxy that cuts the connection after
 * about 4 MB of it; the upload resumes (PROGRESS never goes back, and the
 * bytes sent stay far below a second full upload), the server holds it
 * once and serves it byte for byte. */
static void test_upload_cut_resumes(void)
{
    char path[H_PATH], data[H_PATH], sha[65], conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE], id[64];
    sub_path(path, sizeof path, "big.log");
    sub_path(data, sizeof data, "cut-device");
    write_bytes(path, BIG, 7, sha);
    proxy p;
    proxy_start(&p, 4000000);
    h_client c;
    h_client_opts o = {.port = p.port};
    H_REQUIRE(h_client_open_opts(&c, &g_srv, g_srv.ca, "cut-user", data, &o) == 0);
    start_conv(&c, "the crash log", conv);
    CHECK_INT(
        parley_send_attachment(c.pc, conv, path, NULL, "text/plain", "my log", cid, sizeof cid),
        PARLEY_OK);
    CHECK(await_status(&c, cid, PARLEY_MSG_SENT) != NULL);
    h_want prog = {.type = PARLEY_EV_ATTACHMENT, .state = PARLEY_ATT_PROGRESS, .cid = cid};
    int64_t last = 0, backwards = 0, uploaded = 0;
    size_t online =
        h_count(&c, &(h_want){.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE});
    for (size_t i = 0; i < c.n; i++) {
        const parley_event *ev = c.hist[i];
        if (parley_event_type(ev) == PARLEY_EV_ATTACHMENT &&
            parley_event_state(ev) == PARLEY_ATT_UPLOADED)
            uploaded++;
        if (parley_event_type(ev) != PARLEY_EV_ATTACHMENT ||
            parley_event_state(ev) != PARLEY_ATT_PROGRESS)
            continue;
        backwards += parley_event_bytes_done(ev) < last;
        last = parley_event_bytes_done(ev);
        CHECK(parley_event_bytes_total(ev) == BIG);
    }
    CHECK(h_count(&c, &prog) > 10);
    CHECK_INT((int)backwards, 0);
    CHECK_INT((int)last, BIG);
    CHECK_INT((int)uploaded, 1);
    CHECK(online >= 2); /* the cut happened */
    h_client_close(&c);
    unsigned long long up = proxy_stop(&p);
    /* base64 makes 4/3; a restart from zero would add the 4 MB before the
     * cut on top of that. */
    fprintf(stderr, "bytes sent through the proxy for a %d-byte file: %llu\n", BIG, up);
    CHECK(up > (unsigned long long)BIG * 4 / 3);
    CHECK(up < (unsigned long long)BIG * 4 / 3 + 1000000);
    CHECK_INT(stored_files(conv, sha, id), 1);
    char got[65];
    served_sha(id, got);
    CHECK_STR(got, sha);
}

/* The process that started an upload is killed mid-way; the next one with
 * the same data dir resumes it from the server's next chunk. */
static void test_upload_resumes_after_kill(void)
{
    char path[H_PATH], data[H_PATH], sha[65], conv_file[H_PATH];
    sub_path(path, sizeof path, "kill.log");
    sub_path(data, sizeof data, "kill-device");
    sub_path(conv_file, sizeof conv_file, "kill.conv");
    write_bytes(path, BIG, 9, sha);
    fflush(NULL);
    pid_t pid = fork();
    H_REQUIRE(pid >= 0);
    if (pid == 0) {
        h_client c;
        char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
        if (h_client_open(&c, &g_srv, g_srv.ca, "kill-user", data) != 0 ||
            parley_conversation_start(c.pc, "killed", conv, sizeof conv) != PARLEY_OK ||
            h_write_file(conv_file, conv) != 0 ||
            parley_send_attachment(c.pc, conv, path, "kill.log", "text/plain", NULL, cid,
                                   sizeof cid) != PARLEY_OK)
            _exit(2);
        h_want w = {.type = PARLEY_EV_ATTACHMENT, .state = PARLEY_ATT_PROGRESS};
        for (int64_t deadline = h_now_ms() + WAIT; h_now_ms() < deadline;) {
            const parley_event *ev = h_await(&c, &w, 1000, NULL);
            if (ev && parley_event_bytes_done(ev) >= BIG / 3)
                _exit(0); /* as SIGKILL would: nothing closed, nothing flushed */
        }
        _exit(3);
    }
    CHECK_INT(h_wait(pid, WAIT), 0);
    char *conv = tl_read_file(conv_file, NULL);
    H_REQUIRE(conv != NULL);
    CHECK_INT(stored_files(conv, sha, NULL), 0);

    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "kill-user", data) == 0);
    const parley_event *first = h_await(
        &c, &(h_want){.type = PARLEY_EV_ATTACHMENT, .state = PARLEY_ATT_PROGRESS}, WAIT, NULL);
    CHECK(first && parley_event_bytes_done(first) > BIG / 4);
    const parley_event *sent = h_await(
        &c, &(h_want){.type = PARLEY_EV_MESSAGE_STATUS, .state = PARLEY_MSG_SENT}, WAIT, NULL);
    CHECK(sent != NULL);
    h_client_close(&c);
    char id[64] = "", got[65] = "";
    CHECK_INT(stored_files(conv, sha, id), 1);
    served_sha(id, got);
    CHECK_STR(got, sha);
    free(conv);
}

/* What the call refuses, and what fails the message later. */
static void test_upload_hostile(void)
{
    char big[H_PATH], empty[H_PATH], gone[H_PATH], png[H_PATH], data[H_PATH];
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    sub_path(big, sizeof big, "too-big.bin");
    sub_path(empty, sizeof empty, "empty.txt");
    sub_path(gone, sizeof gone, "gone.txt");
    sub_path(png, sizeof png, "fake.png");
    sub_path(data, sizeof data, "hostile-device");
    write_bytes(big, MAX_ATTACHMENT + 1, 1, NULL);
    H_REQUIRE(h_write_file(empty, "") == 0);
    write_bytes(gone, 40000, 2, NULL);
    write_bytes(png, 5000, 3, NULL);
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "hostile-user", data) == 0);
    start_conv(&c, "bad files", conv); /* online: the server's cap is known */
    CHECK_INT(parley_send_attachment(c.pc, conv, big, NULL, NULL, NULL, cid, sizeof cid),
              PARLEY_ERR_TOO_LONG);
    CHECK_INT(parley_send_attachment(c.pc, conv, empty, NULL, NULL, NULL, cid, sizeof cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(
        parley_send_attachment(c.pc, conv, "/nonexistent/x.txt", NULL, NULL, NULL, cid, sizeof cid),
        PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_send_attachment(c.pc, "c-unknown", gone, NULL, NULL, NULL, cid, sizeof cid),
              PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_send_attachment(c.pc, conv, gone, "a/b", NULL, NULL, cid, sizeof cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_send_attachment(c.pc, conv, gone, NULL, "not a type", NULL, cid, sizeof cid),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(
        parley_send_attachment_bytes(c.pc, conv, NULL, 10, "x.bin", NULL, NULL, cid, sizeof cid),
        PARLEY_ERR_INVALID_ARG);
    uint32_t queued = 0;
    CHECK_INT(parley_outbox_count(c.pc, &queued), PARLEY_OK);
    CHECK_INT((int)queued, 0);
    h_client_close(&c);

    /* Queued offline (a client not serviced yet does not connect), then
     * the file goes away before its upload. */
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "hostile-user", data) == 0);
    CHECK_INT(parley_send_attachment(c.pc, conv, gone, NULL, "text/plain", NULL, cid, sizeof cid),
              PARLEY_OK);
    CHECK_INT(parley_outbox_count(c.pc, &queued), PARLEY_OK);
    CHECK_INT((int)queued, 1);
    CHECK_INT(remove(gone), 0);
    CHECK(await_status(&c, cid, PARLEY_MSG_FAILED) != NULL);
    const parley_event *f = await_att(&c, cid, PARLEY_ATT_FAILED);
    CHECK(f && parley_event_error_code(f) == PARLEY_ERR_IO);

    /* A PNG that is not one: the server refuses it for good. */
    char cid2[PARLEY_ID_SIZE];
    CHECK_INT(parley_send_attachment(c.pc, conv, png, NULL, "image/png", "look", cid2, sizeof cid2),
              PARLEY_OK);
    CHECK(await_status(&c, cid2, PARLEY_MSG_FAILED) != NULL);
    f = await_att(&c, cid2, PARLEY_ATT_FAILED);
    CHECK(f && parley_event_error_code(f) == PARLEY_ERR_REJECTED);
    CHECK_INT(h_api_count_text(&g_srv, conv, "look"), 0);

    /* The connection and the outbox are fine afterwards. */
    char cid3[PARLEY_ID_SIZE];
    CHECK_INT(parley_send_text(c.pc, conv, "still works", cid3, sizeof cid3), PARLEY_OK);
    CHECK(await_status(&c, cid3, PARLEY_MSG_SENT) != NULL);
    h_client_close(&c);
}

/* An agent's file arrives as message content; the user fetches it into a
 * file and into memory, byte-identical both times. */
/* An agent's file `src` posted into `conv` through the agent API (curl),
 * with `query` after the URL's '?' (name, caption). */
static int agent_upload(const char *conv, const char *src, const char *type, const char *query)
{
    char url[300], auth[128], ctype[64], at[H_PATH + 2];
    snprintf(url, sizeof url, "https://localhost:%d/api/conversations/%s/attachments?%s",
             g_srv.port, conv, query);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", g_srv.token);
    snprintf(ctype, sizeof ctype, "Content-Type: %s", type);
    snprintf(at, sizeof at, "@%s", src);
    char *argv[] = {"curl", "-sS", "--fail", "--cacert",      g_srv.ca, "-o", "/dev/null", "-H",
                    auth,   "-H",  ctype,    "--data-binary", at,       url,  NULL};
    return h_run(argv, NULL, NULL, NULL, WAIT);
}

/* The SHA-256 of the first `size` bytes of file `path` ("" when it cannot
 * be read). */
static void file_sha(const char *path, size_t size, char sha[65])
{
    char *got = tl_read_file(path, NULL);
    sha[0] = '\0';
    if (got)
        hex_sha256((const unsigned char *)got, size, sha);
    free(got);
}

static void test_download(void)
{
    char data[H_PATH], src[H_PATH], dest[H_PATH], sha[65], conv[PARLEY_ID_SIZE];
    sub_path(data, sizeof data, "download-device");
    sub_path(src, sizeof src, "agent-guide.txt");
    sub_path(dest, sizeof dest, "downloaded.txt");
    size_t size = 100000;
    write_bytes(src, size, 11, sha);
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "download-user", data) == 0);
    start_conv(&c, "send me the guide", conv);

    CHECK_INT(agent_upload(conv, src, "text/plain", "name=guide.txt&caption=here"), 0);

    const parley_event *m = NULL;
    h_want w = {.type = PARLEY_EV_MESSAGE, .conv = conv, .author = PARLEY_AUTHOR_AGENT};
    m = h_await(&c, &w, WAIT, NULL);
    H_REQUIRE(m != NULL);
    CHECK_STR(parley_event_attachment_name(m), "guide.txt");
    CHECK_STR(parley_event_attachment_type(m), "text/plain");
    CHECK_STR(parley_event_attachment_sha256(m), sha);
    CHECK(parley_event_attachment_size(m) == (int64_t)size);
    CHECK_STR(parley_event_text(m), "here");
    char id[64];
    snprintf(id, sizeof id, "%s", parley_event_attachment_id(m));

    char req[PARLEY_ID_SIZE];
    CHECK_INT(parley_fetch_attachment(c.pc, id, dest, req, sizeof req), PARLEY_OK);
    const parley_event *done = await_answer(&c, PARLEY_EV_ATTACHMENT, req, PARLEY_ATT_DOWNLOADED);
    CHECK(done != NULL);
    char got_sha[65];
    file_sha(dest, size, got_sha);
    CHECK_STR(got_sha, sha);

    /* Into memory: the chunks in order. */
    CHECK_INT(parley_fetch_attachment(c.pc, id, NULL, req, sizeof req), PARLEY_OK);
    CHECK(await_answer(&c, PARLEY_EV_ATTACHMENT, req, PARLEY_ATT_DOWNLOADED) != NULL);
    unsigned char *buf = malloc(size);
    char chunk[PARLEY_ATTACHMENT_CHUNK_SIZE];
    size_t have = 0;
    for (size_t i = 0; buf && i < c.n; i++) {
        const parley_event *ev = c.hist[i];
        if (parley_event_type(ev) != PARLEY_EV_ATTACHMENT ||
            parley_event_state(ev) != PARLEY_ATT_DATA || !parley_event_request_id(ev) ||
            strcmp(parley_event_request_id(ev), req) != 0)
            continue;
        int n = parley_event_attachment_chunk(ev, chunk, sizeof chunk);
        CHECK(n > 0 && have + (size_t)n <= size);
        CHECK(parley_event_bytes_done(ev) == (int64_t)(have + (size_t)n));
        if (n > 0 && have + (size_t)n <= size)
            memcpy(buf + have, chunk, (size_t)n);
        have += n > 0 ? (size_t)n : 0;
    }
    CHECK(have == size);
    if (buf && have == size) {
        hex_sha256(buf, size, got_sha);
        CHECK_STR(got_sha, sha);
    }
    free(buf);
    CHECK_INT(parley_fetch_attachment(c.pc, "f-99999", NULL, req, sizeof req), PARLEY_OK);
    const parley_event *nf = await_answer(&c, PARLEY_EV_ATTACHMENT, req, PARLEY_ATT_FAILED);
    CHECK(nf && parley_event_error_code(nf) == PARLEY_ERR_NOT_FOUND);
    h_client_close(&c);
}

/* An agent's 3 MB file fetched through the proxy, which cuts the
 * connection after about 2 MB of it: the download goes on after the
 * reconnect from the chunks it has, and the file is whole. */
static void test_download_cut_resumes(void)
{
    char data[H_PATH], src[H_PATH], dest[H_PATH], sha[65], conv[PARLEY_ID_SIZE];
    sub_path(data, sizeof data, "download-cut-device");
    sub_path(src, sizeof src, "agent-video.bin");
    sub_path(dest, sizeof dest, "video-downloaded.bin");
    size_t size = 3000000;
    write_bytes(src, size, 13, sha);
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "download-cut-user", data) == 0);
    start_conv(&c, "send me the video", conv);
    h_client_close(&c);

    CHECK_INT(agent_upload(conv, src, "application/octet-stream", "name=video.bin"), 0);

    proxy p;
    proxy_start(&p, 2000000);
    h_client_opts o = {.port = p.port};
    H_REQUIRE(h_client_open_opts(&c, &g_srv, g_srv.ca, "download-cut-user", data, &o) == 0);
    h_want w = {.type = PARLEY_EV_MESSAGE, .conv = conv, .author = PARLEY_AUTHOR_AGENT};
    const parley_event *m = h_await(&c, &w, WAIT, NULL);
    H_REQUIRE(m && parley_event_attachment_id(m));
    char req[PARLEY_ID_SIZE];
    CHECK_INT(parley_fetch_attachment(c.pc, parley_event_attachment_id(m), dest, req, sizeof req),
              PARLEY_OK);
    CHECK(await_answer(&c, PARLEY_EV_ATTACHMENT, req, PARLEY_ATT_DOWNLOADED) != NULL);
    CHECK(h_count(&c, &(h_want){.type = PARLEY_EV_CONNECTION, .state = PARLEY_CONN_ONLINE}) >= 2);
    h_client_close(&c);
    proxy_stop(&p);
    char got_sha[65];
    file_sha(dest, size, got_sha);
    CHECK_STR(got_sha, sha);
}

/* ---- push ---------------------------------------------------------------------- */

static cJSON *sink_body(int i)
{
    pthread_mutex_lock(&g_sink.mu);
    cJSON *j = i < g_sink.n ? cJSON_Parse(g_sink.bodies[i]) : NULL;
    pthread_mutex_unlock(&g_sink.mu);
    return j;
}

/* A user with a push token goes away; an agent's reply makes exactly one
 * POST with the token and a redacted preview; in a sensitive conversation
 * no preview; after logout none at all. */
static void test_push(void)
{
    char data[H_PATH], conv[PARLEY_ID_SIZE];
    sub_path(data, sizeof data, "push-device");
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "push-user", data) == 0);
    CHECK_INT(parley_set_push_token(c.pc, "fcm", "tok-device-1"), PARLEY_OK);
    CHECK_INT(parley_set_push_token(c.pc, "fcm", "bad token\n"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_set_push_token(c.pc, NULL, "x"), PARLEY_ERR_INVALID_ARG);
    start_conv(&c, "push me", conv);
    h_client_close(&c);

    int base = sink_wait(&g_sink, 0, 0);
    agent_reply(conv, "Your refund for card 4111 1111 1111 1111 is on its way");
    CHECK_INT(sink_wait(&g_sink, base + 1, WAIT), base + 1);
    usleep((useconds_t)h_ms(500) * 1000);
    CHECK_INT(sink_wait(&g_sink, base + 1, 0), base + 1); /* one, not more */
    cJSON *b = sink_body(base);
    CHECK_STR(h_json_str(b, "token"), "tok-device-1");
    CHECK_STR(h_json_str(b, "platform"), "fcm");
    CHECK_STR(h_json_str(b, "conv"), conv);
    CHECK_STR(h_json_str(b, "user"), "push-user");
    const char *preview = h_json_str(b, "preview");
    CHECK(preview && strstr(preview, "refund"));
    CHECK(preview && !strstr(preview, "4111 1111"));
    cJSON_Delete(b);

    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/sensitive", conv);
    CHECK_INT(h_api(&g_srv, "POST", path, "{\"sensitive\":true}", NULL), 200);
    agent_reply(conv, "Your password reset code is 991122");
    CHECK_INT(sink_wait(&g_sink, base + 2, WAIT), base + 2);
    b = sink_body(base + 1);
    CHECK_STR(h_json_str(b, "token"), "tok-device-1");
    CHECK(cJSON_GetObjectItemCaseSensitive(b, "preview") == NULL);
    char *text = cJSON_PrintUnformatted(b);
    CHECK(text && !strstr(text, "991122"));
    free(text);
    cJSON_Delete(b);

    /* Logout takes the token away from the server. */
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "push-user", data) == 0);
    CHECK(await_online(&c, 0) != NULL);
    CHECK_INT(parley_logout(c.pc), PARLEY_OK);
    h_pump(&c, h_ms(1000));
    h_client_close(&c);
    agent_reply(conv, "are you still there?");
    usleep((useconds_t)h_ms(1500) * 1000);
    CHECK_INT(sink_wait(&g_sink, base + 2, 0), base + 2);
}

/* With --push-preview off no body carries text. */
static void test_push_preview_off(void)
{
    h_server s;
    char dir[H_PATH], url[64], data[H_PATH], conv[PARLEY_ID_SIZE];
    sub_path(dir, sizeof dir, "no-preview");
    sub_path(data, sizeof data, "no-preview-device");
    H_REQUIRE(h_server_init(&s, dir) == 0);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/push", g_sink.port);
    const char *args[] = {
        "--insecure-identities", "--push-webhook", url, "--push-preview", "off", NULL};
    s.extra_args = args;
    H_REQUIRE(h_server_start(&s, 0) == 0);
    h_client c;
    H_REQUIRE(h_client_open(&c, &s, s.ca, "quiet-user", data) == 0);
    CHECK_INT(parley_set_push_token(c.pc, "apns", "tok-quiet"), PARLEY_OK);
    CHECK_INT(parley_conversation_start(c.pc, "quiet", conv, sizeof conv), PARLEY_OK);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_send_text(c.pc, conv, "hello", cid, sizeof cid), PARLEY_OK);
    CHECK(await_status(&c, cid, PARLEY_MSG_SENT) != NULL);
    h_client_close(&c);
    int base = sink_wait(&g_sink, 0, 0);
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/messages", conv);
    CHECK_INT(h_api(&s, "POST", path, "{\"name\":\"Dana\",\"text\":\"secret words\"}", NULL), 201);
    CHECK_INT(sink_wait(&g_sink, base + 1, WAIT), base + 1);
    cJSON *b = sink_body(base);
    CHECK_STR(h_json_str(b, "token"), "tok-quiet");
    CHECK_STR(h_json_str(b, "platform"), "apns");
    CHECK(cJSON_GetObjectItemCaseSensitive(b, "preview") == NULL);
    char *text = cJSON_PrintUnformatted(b);
    CHECK(text && !strstr(text, "secret"));
    free(text);
    cJSON_Delete(b);
    CHECK_INT(h_server_stop(&s, SIGTERM), 0);
}

/* ---- local history and unread counts ------------------------------------------- */

/* How many regular files directly in `dir` hold `text` as it is. */
static int files_holding(const char *dir, const char *text)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int found = 0;
    while (d && (e = readdir(d))) {
        char path[H_PATH * 2];
        struct stat st;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        if (stat(path, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size == 0)
            continue;
        size_t len = (size_t)st.st_size;
        char *bytes = malloc(len);
        FILE *f = bytes ? fopen(path, "rb") : NULL;
        if (f && fread(bytes, 1, len, f) == len)
            found += memmem(bytes, len, text, strlen(text)) != NULL;
        free(bytes);
        if (f)
            fclose(f);
    }
    if (d)
        closedir(d);
    return found;
}

/* The history is kept in the journal, encrypted like it: neither side of
 * the conversation is readable in the data dir. */
static void test_offline_history_and_unread(void)
{
    static const unsigned char key[32] = "history-key-0123456789abcdefghi";
    char data[H_PATH], conv[PARLEY_ID_SIZE];
    sub_path(data, sizeof data, "history-device");
    h_client c;
    h_client_opts o = {.local_history = 20, .key = key};
    H_REQUIRE(h_client_open_opts(&c, &g_srv, g_srv.ca, "history-user", data, &o) == 0);
    start_conv(&c, "history please", conv);
    agent_reply(conv, "an agent reply to keep");
    h_want w = {.type = PARLEY_EV_MESSAGE, .conv = conv, .text = "an agent reply to keep"};
    CHECK(h_await(&c, &w, WAIT, NULL) != NULL);
    h_want un = {.type = PARLEY_EV_UNREAD, .conv = conv};
    const parley_event *u;
    while ((u = h_await(&c, &un, WAIT, NULL)) && parley_event_count(u) < 2)
        ;
    uint32_t unread = 0;
    CHECK_INT(parley_unread_count(c.pc, conv, &unread), PARLEY_OK);
    CHECK(unread >= 2); /* the bot's greeting and the agent's reply */
    h_client_close(&c);
    CHECK_INT(files_holding(data, "an agent reply to keep"), 0);
    CHECK_INT(files_holding(data, "history please"), 0);

    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    H_REQUIRE(h_client_open_opts(&c, &g_srv, g_srv.ca, "history-user", data, &o) == 0);
    uint32_t after = 0, total = 0;
    CHECK_INT(parley_unread_count(c.pc, conv, &after), PARLEY_OK);
    CHECK_INT(parley_unread_count(c.pc, NULL, &total), PARLEY_OK);
    CHECK_INT((int)after, (int)unread);
    CHECK((int)total >= (int)unread);
    char req[PARLEY_ID_SIZE];
    CHECK_INT(parley_load_history(c.pc, conv, NULL, 50, req, sizeof req), PARLEY_OK);
    const parley_event *h = await_answer(&c, PARLEY_EV_HISTORY, req, 0);
    H_REQUIRE(h != NULL);
    CHECK_INT(parley_event_from_device(h), 1);
    int found_agent = 0, found_mine = 0;
    for (int i = 0; i < parley_event_item_count(h); i++) {
        const char *t = parley_event_text(parley_event_item(h, i));
        found_agent += t && strcmp(t, "an agent reply to keep") == 0;
        found_mine += t && strcmp(t, "history please") == 0;
    }
    CHECK_INT(found_agent, 1);
    CHECK_INT(found_mine, 1);
    h_client_close(&c);
    H_REQUIRE(h_server_start(&g_srv, g_srv.port) == 0);
}

/* ---- conversations across devices ---------------------------------------------- */

static void test_second_device(void)
{
    char a_dir[H_PATH], b_dir[H_PATH], conv[PARLEY_ID_SIZE];
    sub_path(a_dir, sizeof a_dir, "device-a");
    sub_path(b_dir, sizeof b_dir, "device-b");
    h_client a;
    H_REQUIRE(h_client_open(&a, &g_srv, g_srv.ca, "two-devices", a_dir) == 0);
    start_conv(&a, "started on the phone", conv);
    h_client_close(&a);
    agent_reply(conv, "the earlier agent reply");

    h_client b;
    H_REQUIRE(h_client_open(&b, &g_srv, g_srv.ca, "two-devices", b_dir) == 0);
    char req[PARLEY_ID_SIZE];
    CHECK_INT(parley_list_conversations(b.pc, req, sizeof req), PARLEY_OK);
    const parley_event *list = await_answer(&b, PARLEY_EV_CONVERSATIONS, req, 0);
    H_REQUIRE(list != NULL);
    int listed = 0;
    for (int i = 0; i < parley_event_item_count(list); i++) {
        const char *id = parley_event_conversation_id(parley_event_item(list, i));
        listed += id && strcmp(id, conv) == 0;
    }
    CHECK_INT(listed, 1);
    char cid[PARLEY_ID_SIZE];
    CHECK_INT(parley_send_text(b.pc, conv, "from the tablet", cid, sizeof cid), PARLEY_OK);
    CHECK(await_status(&b, cid, PARLEY_MSG_SENT) != NULL);
    h_want w = {.type = PARLEY_EV_MESSAGE, .conv = conv, .text = "the earlier agent reply"};
    CHECK(h_await(&b, &w, WAIT, NULL) != NULL);
    h_pump(&b, h_ms(300));
    CHECK_INT((int)h_count(&b, &w), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "from the tablet"), 1);
    h_client_close(&b);

    /* A push payload makes the conversation a member at once, offline. */
    char c_dir[H_PATH];
    sub_path(c_dir, sizeof c_dir, "device-c");
    h_client c;
    H_REQUIRE(h_client_open(&c, &g_srv, g_srv.ca, "two-devices", c_dir) == 0);
    CHECK_INT(parley_send_text(c.pc, conv, "too early", cid, sizeof cid), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_handle_push(c.pc, "{\"parley\":{\"conv\":\"nope\"}"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(parley_handle_push(c.pc, "{\"aps\":{}}"), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(parley_handle_push(c.pc, h_json("{'parley':{'conv':'%s','seq':'3'}}", conv)),
              PARLEY_OK);
    CHECK_INT(parley_send_text(c.pc, conv, "after the push", cid, sizeof cid), PARLEY_OK);
    CHECK(await_status(&c, cid, PARLEY_MSG_SENT) != NULL);
    CHECK(h_await(&c, &w, WAIT, NULL) != NULL);
    h_client_close(&c);
}

int main(void)
{
    signal(SIGPIPE, SIG_IGN);
    if (tl_mkdtemp(g_dir, sizeof g_dir, "e2e-messenger") != 0 ||
        h_server_init(&g_srv, g_dir) != 0) {
        fprintf(stderr, "cannot prepare %s (certificates need the openssl tool)\n", g_dir);
        return 1;
    }
    H_REQUIRE(sink_start(&g_sink) == 0);
    static char url[64], cap[24];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/push", g_sink.port);
    snprintf(cap, sizeof cap, "%d", MAX_ATTACHMENT);
    const char *args[] = {
        "--insecure-identities", "--push-webhook", url, "--max-attachment", cap, NULL};
    g_srv.extra_args = args;
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
    H_RUN(test_upload_cut_resumes);
    H_RUN(test_upload_resumes_after_kill);
    H_RUN(test_upload_hostile);
    H_RUN(test_download);
    H_RUN(test_download_cut_resumes);
    H_RUN(test_push);
    H_RUN(test_push_preview_off);
    H_RUN(test_offline_history_and_unread);
    H_RUN(test_second_device);
    h_server_stop(&g_srv, SIGTERM);
    sink_stop(&g_sink);
    return h_finish(g_dir);
}
