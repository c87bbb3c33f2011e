#include "fuzz_server.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "abuse.h"
#include "agents.h"
#include "api_routes.h"
#include "attach.h"
#include "blobs.h"
#include "filetypes.h"
#include "flow.h"
#include "frame_table.h"
#include "groupcommit.h"
#include "http.h"
#include "kb.h"
#include "pacer.h"
#include "rules.h"
#include "store.h"
#include "survey_def.h"
#include "testlib.h"
#include "waitest.h"
#include "ws.h"

#define MAX_CALLBACKS 100000 /* writeable callbacks served per connection and line */

static server srv;
static int state; /* 0: not set up, 1: ready, -1: failed */
static char dir[64], files_dir[80];
/* The server's two protocols, as lws would call them. */
static struct lws_protocols ws_proto, http_proto;

/* ---- the one server ------------------------------------------------------ */

static void teardown(void)
{
    groupcommit_stop(&srv);
    agents_free(&srv);
    rules_free(srv.routing);
    waitest_free(srv.waits);
    pacer_free(srv.pacer);
    flow_free(srv.flow);
    kb_free(srv.kb);
    blobs_close(srv.blobs);
    store_close(srv.store);
    cJSON_Delete(srv.surveys);
    tl_rmrf(dir);
}

static int refused(const char *why)
{
    fprintf(stderr, "fuzz: the shipped data was refused: %s\n", why);
    return -1;
}

static int load_data(void)
{
    char why[256] = "";
    srv.surveys = survey_def_load(PARLEY_SERVER_DATA_DIR "/surveys.json", why, sizeof why);
    if (!srv.surveys || kb_load(PARLEY_SERVER_DATA_DIR "/kb", &srv.kb, why, sizeof why))
        return refused(why);
    srv.flow = flow_load(PARLEY_SERVER_DATA_DIR "/flows/support.json", srv.kb, why, sizeof why);
    if (!srv.flow)
        return refused(why);
    /* The shipped routing too, so that messages go through triage. */
    srv.routing = rules_load(PARLEY_SERVER_DATA_DIR "/routing.json", NULL, why, sizeof why);
    srv.pacer = pacer_new();
    srv.waits = srv.routing ? waitest_new(rules_team_count(srv.routing),
                                          (size_t)rules_wait_window(srv.routing),
                                          rules_default_handle_ms(srv.routing))
                            : NULL;
    if (!srv.routing)
        return refused(why);
    return srv.pacer && srv.waits ? 0 : -1;
}

/* Entries of directory `path` but . and .., -1 when it cannot be read. */
static int entries(const char *path)
{
    DIR *d = opendir(path);
    int n = 0;
    if (!d)
        return -1;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

/* 1 when the files are as blobs_open made them: its two directories,
 * empty. Checking costs less than removing and making them again. */
static int files_untouched(void)
{
    char sub[96];
    if (entries(files_dir) != 2)
        return 0;
    snprintf(sub, sizeof sub, "%s/blobs", files_dir);
    if (entries(sub) != 0)
        return 0;
    snprintf(sub, sizeof sub, "%s/uploads", files_dir);
    return entries(sub) == 0;
}

/* The attachments' files, empty (what an input uploads goes with it). */
static int open_files(void)
{
    char why[256];
    if (srv.blobs && files_untouched())
        return 0;
    if (srv.blobs)
        tl_rmrf(files_dir);
    blobs_close(srv.blobs);
    srv.blobs = NULL;
    if (blobs_open(files_dir, &srv.blobs, why, sizeof why) == 0)
        return 0;
    fprintf(stderr, "fuzz: %s\n", why);
    return -1;
}

static void no_wake(void *ud)
{
    (void)ud;
}

static int setup(void)
{
    snprintf(dir, sizeof dir, "%s/parley-fuzz-XXXXXX",
             access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
    if (!mkdtemp(dir))
        return -1;
    char db_path[96], why[256];
    snprintf(db_path, sizeof db_path, "%s/server.db", dir);
    atexit(teardown);
    /* As parley-server's defaults: without them the output queue holds
     * 0 KiB and the first frame the server sends drops the connection. */
    abuse_defaults(&srv.abuse);
    srv.max_text = SERVER_MAX_TEXT_DEFAULT;
    srv.max_attachment = ATTACH_MAX_DEFAULT;
    srv.agent_token = FZ_TOKEN;
    srv.auth.hmac_secret = "fuzz-secret";
    srv.frames = frame_table(&srv.nframes);
    srv.routes = api_routes(&srv.nroutes);
    srv.file_routes = api_file_routes(&srv.nfile_routes);
    srv.console_dir = PARLEY_SERVER_DATA_DIR "/console";
    snprintf(files_dir, sizeof files_dir, "%s/files", dir);
    if (filetypes_parse(FILETYPES_DEFAULT, &srv.types, why, sizeof why) || open_files())
        return -1;
    ws_protocol(&ws_proto);
    http_protocol(&http_proto);
    /* Durability is not what is fuzzed; fsync on every commit would be.
     * Grouping is as parley-server's default (--group-commit on): the
     * writes of a loop turn share one transaction, committed on the next
     * turn (fz_serve_all), and the frames that depend on them wait. */
    if (store_open(db_path, 0, &srv.store) || groupcommit_start(&srv, NULL))
        return -1;
    /* As parley-server: the agent workspace (logins, presence) exists;
     * a password check's answer finds its request gone and is dropped. */
    if (agents_init(&srv, no_wake, NULL, NULL, NULL))
        return -1;
    return load_data();
}

server *fz_server(void)
{
    if (state == 0) {
        state = setup() == 0 ? 1 : -1;
        /* A harness that cannot start its server would fuzz nothing and
         * still pass: stop the run instead. */
        if (state < 0) {
            fprintf(stderr, "fuzz: the server could not be set up\n");
            abort();
        }
    }
    return state > 0 ? &srv : NULL;
}

void fz_server_reset(void)
{
    if (!fz_server())
        return;
    /* What the last input left open (its closes may write) is committed
     * as its next turn would, its timer cancelled: nothing carries over. */
    srv.commit_now(&srv);
    store_wipe(srv.store);
    /* What waits in memory and the files go too: each input runs alone. */
    if (open_files())
        abort();
    pacer_free(srv.pacer);
    srv.pacer = pacer_new();
    waitest_free(srv.waits);
    srv.waits = waitest_new(rules_team_count(srv.routing), (size_t)rules_wait_window(srv.routing),
                            rules_default_handle_ms(srv.routing));
}

const char *fz_tmp_dir(const char *name)
{
    static char path[160];
    if (!fz_server())
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return mkdir(path, 0700) == 0 || errno == EEXIST ? path : NULL;
}

const char *fz_tmp_file(const char *name, const void *data, size_t len)
{
    static char path[192];
    if (!fz_server())
        return NULL;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "wb");
    if (!f)
        return NULL;
    int ok = fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    return ok ? path : NULL;
}

/* ---- WebSocket connections --------------------------------------------------- */

static struct lws *wsi_of(fz_conn *c)
{
    return (struct lws *)(uintptr_t)&c->wsi;
}

void fz_ws_close(fz_conn *c)
{
    if (!c->open)
        return;
    ws_proto.callback(wsi_of(c), LWS_CALLBACK_CLOSED, c->pss, NULL, 0);
    free(c->pss);
    memset(c, 0, sizeof *c);
}

static int ws_open(fz_conn *c)
{
    if (c->open)
        return 0;
    memset(c, 0, sizeof *c);
    c->wsi.srv = &srv;
    c->wsi.method = -1;
    c->wsi.hdr[WSI_TOKEN_GET_URI] = "/";
    c->pss = calloc(1, ws_proto.per_session_data_size);
    c->wsi.user = c->pss;
    if (!c->pss)
        return -1;
    c->open = 1;
    if (ws_proto.callback(wsi_of(c), LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION, c->pss, NULL, 0) !=
        0) {
        free(c->pss);
        memset(c, 0, sizeof *c);
        return -1;
    }
    if (ws_proto.callback(wsi_of(c), LWS_CALLBACK_ESTABLISHED, c->pss, NULL, 0) != 0 ||
        c->wsi.killed) {
        fz_ws_close(c);
        return -1;
    }
    return 0;
}

/* Writeable callbacks until the connection has nothing left to write. */
static void ws_serve(fz_conn *c)
{
    for (int i = 0; c->open && c->wsi.writable && i < MAX_CALLBACKS; i++) {
        c->wsi.writable = 0;
        if (ws_proto.callback(wsi_of(c), LWS_CALLBACK_SERVER_WRITEABLE, c->pss, NULL, 0) != 0 ||
            c->wsi.killed)
            fz_ws_close(c);
    }
    if (c->open && c->wsi.killed)
        fz_ws_close(c);
}

void fz_ws_frame(fz_conn *c, const char *data, size_t len, int binary, int parts)
{
    if (!fz_server() || ws_open(c))
        return;
    size_t step = parts > 1 ? len / (size_t)parts + 1 : len;
    size_t off = 0;
    do {
        size_t n = len - off < step ? len - off : step;
        /* lws hands over its own buffer; an exact copy lets ASan see over-reads. */
        char *piece = malloc(n ? n : 1);
        if (!piece)
            return;
        memcpy(piece, data + off, n);
        c->wsi.binary = binary;
        c->wsi.final = off + n == len;
        int rc = ws_proto.callback(wsi_of(c), LWS_CALLBACK_RECEIVE, c->pss, piece, n);
        free(piece);
        off += n;
        if (rc != 0 || c->wsi.killed) {
            fz_ws_close(c);
            return;
        }
    } while (off < len);
}

static void settle(fz_conn *conns, int n)
{
    int turns = 0;
    do {
        for (int i = 0; i < n; i++)
            ws_serve(&conns[i]);
    } while (fz_lws_run_due() > 0 && ++turns < MAX_CALLBACKS);
    /* A group nothing commits would hold its frames for ever. */
    if (store_group_pending(srv.store) || srv.held) {
        fprintf(stderr, "fuzz: a group of writes stayed open, or frames held, after %d turns\n",
                turns);
        abort();
    }
}

void fz_serve_all(fz_conn *conns)
{
    settle(conns, FZ_CONNS);
}

/* ---- HTTP ----------------------------------------------------------------------- */

/* How many body bytes lws would deliver: chunked, everything; else what
 * Content-Length announces, when it all arrived (-1: never complete). */
static long long body_to_deliver(const fz_wsi *w, size_t have)
{
    const char *cl = w->hdr[WSI_TOKEN_HTTP_CONTENT_LENGTH];
    char *end;
    if (w->hdr[WSI_TOKEN_HTTP_TRANSFER_ENCODING])
        return (long long)have;
    if (!cl)
        return 0;
    long long n = strtoll(cl, &end, 10);
    if (*end || n <= 0)
        return 0;
    return n <= (long long)have ? n : -1;
}

/* The writes lws would make now: a refusal's answer goes out while the body
 * still arrives (http.c then drops the rest of it). */
static int http_writes(struct lws *wsi, void *pss)
{
    fz_wsi *w = (fz_wsi *)(uintptr_t)wsi;
    int rc = 0;
    for (int i = 0; !rc && w->writable && i < MAX_CALLBACKS; i++) {
        w->writable = 0;
        rc = http_proto.callback(wsi, LWS_CALLBACK_HTTP_WRITEABLE, pss, NULL, 0);
    }
    return rc;
}

static int http_body(struct lws *wsi, void *pss, const char *body, size_t len, int parts)
{
    size_t step = parts > 1 ? len / (size_t)parts + 1 : len, off = 0;
    while (off < len) {
        size_t n = len - off < step ? len - off : step;
        char *piece = malloc(n);
        if (!piece)
            return -1;
        memcpy(piece, body + off, n);
        int rc = http_proto.callback(wsi, LWS_CALLBACK_HTTP_BODY, pss, piece, n);
        free(piece);
        if (!rc)
            rc = http_writes(wsi, pss);
        if (rc)
            return rc;
        off += n;
    }
    return http_proto.callback(wsi, LWS_CALLBACK_HTTP_BODY_COMPLETION, pss, NULL, 0);
}

void fz_http(fz_wsi *w, const char *path, const char *body, size_t body_len, int parts)
{
    struct lws *wsi = (struct lws *)(uintptr_t)w;
    void *pss = calloc(1, http_proto.per_session_data_size);
    char *in = strdup(path);
    if (!fz_server() || !pss || !in) {
        free(pss);
        free(in);
        return;
    }
    w->srv = &srv;
    w->uri = in;
    w->user = pss;
    int rc = http_proto.callback(wsi, LWS_CALLBACK_HTTP, pss, in, strlen(in));
    long long deliver = body_to_deliver(w, body_len);
    if (!rc)
        rc = http_writes(wsi, pss);
    if (!rc && deliver > 0)
        rc = http_body(wsi, pss, body, (size_t)deliver, parts);
    if (!rc)
        http_writes(wsi, pss);
    http_proto.callback(wsi, LWS_CALLBACK_CLOSED_HTTP, pss, NULL, 0);
    w->user = NULL;
    free(pss);
    free(in);
}

/* ---- scripts ---------------------------------------------------------------------- */

static void ws_text(fz_conn *c, const char *json)
{
    fz_ws_frame(c, json, strlen(json), 0, 1);
    settle(c, 1);
}

void fz_fixture(fz_conn *c)
{
    ws_text(
        c,
        "{\"t\":\"hello\",\"v\":1,\"app\":\"fuzz\",\"sdk\":{\"name\":\"fuzz\",\"version\":\"1\"},"
        "\"user\":{\"anon\":\"a-00000000-0000-4000-8000-000000000001\"}}");
    ws_text(c, "{\"t\":\"conv.start\",\"cid\":\"k-1\",\"conv\":\"c-fuzz\",\"subject\":\"help\"}");
    ws_text(
        c,
        "{\"t\":\"msg.send\",\"cid\":\"k-2\",\"conv\":\"c-fuzz\",\"text\":\"my gems are gone\"}");
}

/* "%METHOD PATH BODY": an agent's API call with the right token. */
static void script_http(const char *line, size_t len)
{
    char buf[512], clen[24];
    size_t n = len < sizeof buf - 1 ? len : sizeof buf - 1;
    memcpy(buf, line, n);
    buf[n] = '\0';
    char *path = strchr(buf, ' ');
    if (!path)
        return;
    *path++ = '\0';
    char *sp = strchr(path, ' ');
    if (sp)
        *sp = '\0';
    const char *body = sp ? line + (sp + 1 - buf) : "";
    size_t body_len = sp ? len - (size_t)(sp + 1 - buf) : 0;
    fz_wsi w = {.method = strcmp(buf, "POST") == 0 ? LWSHUMETH_POST : LWSHUMETH_GET};
    snprintf(clen, sizeof clen, "%zu", body_len);
    w.hdr[WSI_TOKEN_HTTP_AUTHORIZATION] = "Bearer " FZ_TOKEN;
    w.hdr[WSI_TOKEN_HTTP_CONTENT_LENGTH] = clen;
    fz_http(&w, path, body, body_len, 1);
}

/* One line: [#N][~][^][x]FRAME, or %HTTP (see fuzz_srv_frames.c). */
static void script_line(fz_conn *conns, const char *p, size_t len)
{
    int conn = 0, parts = 1, binary = 0;
    if (len && p[0] == '%') {
        script_http(p + 1, len - 1);
        return;
    }
    if (len >= 2 && p[0] == '#' && p[1] >= '0' && p[1] < '0' + FZ_CONNS) {
        conn = p[1] - '0';
        p += 2, len -= 2;
    }
    for (; len && (*p == '~' || *p == '^'); p++, len--) {
        parts += *p == '~';
        binary |= *p == '^';
    }
    if (len == 1 && *p == 'x')
        fz_ws_close(&conns[conn]);
    else
        fz_ws_frame(&conns[conn], p, len, binary, parts);
}

void fz_script(fz_conn *conns, const char *data, size_t size)
{
    while (size) {
        const char *nl = memchr(data, '\n', size);
        size_t n = nl ? (size_t)(nl - data) : size;
        script_line(conns, data, n);
        fz_serve_all(conns);
        if (!nl)
            break;
        data += n + 1;
        size -= n + 1;
    }
}
