/* Attachments at the server, with raw frames (wsc.c: exactly what a
 * hostile or broken client writes) and curl: chunk hashes checked and a bad
 * chunk answered att.nack, chunks out of order ignored, an upload cut off
 * mid-way resumed at the server's next chunk (no byte stored twice), a
 * damaged whole refused and restarted, files over --max-attachment, types
 * not on the list and contents that lie about their type refused for good,
 * a message naming an upload that never completed refused, blobs kept once
 * per content, att.get only for the owner, GET /api/attachments/{id} byte
 * for byte and agents' files over POST. docs/protocol.md, "Attachments". */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "harness.h"
#include "testlib.h"
#include "wsc.h"

#define WAIT h_ms(20000)
#define TOKEN "attach-agent-token"
#define CHUNK 12288
#define MAX_ATTACHMENT 100000

static char g_dir[256];
static h_server g_srv;

static void server_start(void)
{
    static const char *args[] = {"--insecure-identities", "--max-attachment", "100000", NULL};
    h_server_plain(&g_srv, g_dir, "server", TOKEN, args);
    H_REQUIRE(h_server_start(&g_srv, 0) == 0);
}

static void hex_sha256(const unsigned char *data, size_t len, char out[65])
{
    unsigned char d[32];
    mbedtls_sha256_ret(data, len, d, 0);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* A file of `len` deterministic bytes (not a PNG, PDF or ZIP). */
static unsigned char *make_bytes(size_t len, unsigned seed)
{
    unsigned char *b = malloc(len);
    for (size_t i = 0; b && i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        b[i] = (unsigned char)(seed >> 16);
    }
    if (b && len)
        b[0] = 'T'; /* never a signature of a checked type */
    return b;
}

static void hello(wsc *c, const char *user)
{
    H_REQUIRE(wsc_open(c, g_srv.port, WAIT) == 0);
    H_REQUIRE(wsc_sendf(c,
                        "{'t':'hello','v':1,'app':'attach-test','sdk':{'name':'raw','version':'0',"
                        "'platform':'test'},'user':{'id':'%s'}}",
                        user) == 0);
    const cJSON *w = wsc_await(c, 0, "welcome", NULL, NULL, WAIT);
    H_REQUIRE(w != NULL);
    CHECK_INT((int)wsc_num(wsc_get(w, "limits"), "max_attachment"), MAX_ATTACHMENT);
}

static void start_conv(wsc *c, const char *conv)
{
    CHECK_INT(wsc_sendf(c, "{'t':'conv.start','cid':'start-%s','conv':'%s','subject':'files'}",
                        conv, conv),
              0);
    CHECK(wsc_await(c, 0, "conv.ack", "conv", conv, WAIT) != NULL);
}

static void begin(wsc *c, const char *cid, const char *name, const char *type, size_t size,
                  const char *sha)
{
    CHECK_INT(wsc_sendf(c,
                        "{'t':'att.begin','cid':'%s','name':'%s','type':'%s','size':%zu,"
                        "'sha256':'%s'}",
                        cid, name, type, size, sha),
              0);
}

/* Sends chunk `i` of `file`; with `lie`, the hash of other bytes. */
static void send_chunk(wsc *c, const char *cid, const unsigned char *file, size_t size, size_t i,
                       int lie)
{
    size_t off = i * CHUNK, n = size - off < CHUNK ? size - off : CHUNK, b64len = 0;
    static unsigned char b64[CHUNK * 2];
    char sha[65];
    mbedtls_base64_encode(b64, sizeof b64, &b64len, file + off, n);
    hex_sha256(file + off, lie ? n - 1 : n, sha);
    CHECK_INT(wsc_sendf(c, "{'t':'att.chunk','cid':'%s','i':%zu,'data':'%s','sha256':'%s'}", cid, i,
                        (const char *)b64, sha),
              0);
}

/* The next att.ack / att.offset / att.nack / att.done / error of `cid`
 * after index `after`, whichever comes first. */
static const cJSON *answer(wsc *c, size_t after, const char *cid)
{
    static const char *types[] = {"att.ack", "att.offset", "att.nack", "att.done", "error"};
    int64_t deadline = h_now_ms() + WAIT;
    while (h_now_ms() < deadline) {
        for (size_t i = after; i < c->n; i++) {
            for (size_t t = 0; t < sizeof types / sizeof types[0]; t++) {
                if (!c->used[i] && wsc_matches(c->frames[i], types[t], "cid", cid)) {
                    c->used[i] = 1;
                    return c->frames[i];
                }
            }
        }
        wsc_pump(c, 20);
    }
    return NULL;
}

static void expect(const cJSON *f, const char *type, const char *num_key, int num)
{
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_STR(wsc_str(f, "t"), type);
    if (num_key)
        CHECK_INT((int)wsc_num(f, num_key), num);
}

static size_t files_in(const char *dir)
{
    char cmd[600];
    snprintf(cmd, sizeof cmd, "find '%s' -type f | wc -l", dir);
    FILE *p = popen(cmd, "r");
    unsigned long n = 0;
    if (!p || fscanf(p, "%lu", &n) != 1)
        n = (unsigned long)-1;
    if (p)
        pclose(p);
    return n;
}

/* ---- tests ------------------------------------------------------------------ */

/* Three chunks: a bad hash is nacked, a chunk from the future ignored, the
 * connection cut after chunk 1, the upload resumed at 2 on a new one, then
 * the message, the stored bytes identical, a second message with the same
 * bytes stored once. */
static void test_chunks_nack_resume(void)
{
    size_t size = 2 * CHUNK + 500;
    unsigned char *file = make_bytes(size, 1);
    H_REQUIRE(file != NULL);
    char sha[65];
    hex_sha256(file, size, sha);
    wsc c;
    hello(&c, "att-alice");
    start_conv(&c, "c-att-1");
    begin(&c, "u-1", "crash.log", "text/plain", size, sha);
    expect(answer(&c, 0, "u-1"), "att.offset", "next", 0);
    send_chunk(&c, "u-1", file, size, 0, 1);
    const cJSON *nack = answer(&c, 0, "u-1");
    expect(nack, "att.nack", "i", 0);
    CHECK_STR(wsc_str(nack, "reason"), "sha256");
    send_chunk(&c, "u-1", file, size, 0, 0);
    expect(answer(&c, 0, "u-1"), "att.ack", "next", 1);
    send_chunk(&c, "u-1", file, size, 2, 0); /* above next: ignored */
    send_chunk(&c, "u-1", file, size, 1, 0);
    expect(answer(&c, 0, "u-1"), "att.ack", "next", 2);
    wsc_close(&c); /* cut before the last chunk */

    hello(&c, "att-alice");
    begin(&c, "u-1", "crash.log", "text/plain", size, sha);
    expect(answer(&c, 0, "u-1"), "att.offset", "next", 2);
    send_chunk(&c, "u-1", file, size, 2, 0);
    const cJSON *done = answer(&c, 0, "u-1");
    expect(done, "att.done", NULL, 0);
    CHECK_STR(wsc_str(done, "sha256"), sha);
    CHECK_INT(wsc_sendf(&c,
                        "{'t':'msg.send','cid':'u-1','conv':'c-att-1','text':'my log',"
                        "'attachment':{'sha256':'%s'}}",
                        sha),
              0);
    CHECK(wsc_await(&c, 0, "msg.ack", "cid", "u-1", WAIT) != NULL);

    /* The same bytes again, under another cid: one blob on disk. */
    begin(&c, "u-2", "again.log", "text/plain", size, sha);
    expect(answer(&c, 0, "u-2"), "att.offset", "next", 0);
    for (size_t i = 0; i < 3; i++) {
        send_chunk(&c, "u-2", file, size, i, 0);
        expect(answer(&c, 0, "u-2"), i < 2 ? "att.ack" : "att.done", NULL, 0);
    }
    CHECK_INT(wsc_sendf(&c,
                        "{'t':'msg.send','cid':'u-2','conv':'c-att-1','text':'',"
                        "'attachment':{'sha256':'%s'}}",
                        sha),
              0);
    CHECK(wsc_await(&c, 0, "msg.ack", "cid", "u-2", WAIT) != NULL);
    wsc_close(&c);

    char blobs[H_PATH + 32];
    snprintf(blobs, sizeof blobs, "%s.files/blobs", g_srv.db);
    CHECK_INT((int)files_in(blobs), 1);

    /* The agents' copy, byte for byte, with a safe name and type. */
    cJSON *msgs = NULL;
    CHECK_INT(h_api_json(&g_srv, "GET", "/api/conversations/c-att-1/messages", NULL, &msgs), 200);
    const char *id = NULL;
    int with_file = 0;
    const cJSON *m;
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *att = cJSON_GetObjectItemCaseSensitive(m, "attachment");
        if (!att)
            continue;
        with_file++;
        CHECK_STR(h_json_str(att, "sha256"), sha);
        CHECK_INT((int)cJSON_GetObjectItemCaseSensitive(att, "size")->valuedouble, (int)size);
        id = id ? id : h_json_str(att, "id");
    }
    CHECK_INT(with_file, 2);
    H_REQUIRE(id != NULL);
    char path[128], *body = NULL, *head = NULL;
    snprintf(path, sizeof path, "/api/attachments/%s", id);
    h_http req = {"GET", path, NULL, NULL, 0, NULL};
    CHECK_INT(h_http_call(&g_srv, &req, &body, &head), 200);
    char *len = h_http_header(head, "content-length");
    CHECK(len && strtoul(len, NULL, 10) == size);
    CHECK(body && memcmp(body, file, size) == 0);
    char *disp = h_http_header(head, "content-disposition");
    CHECK(disp && strstr(disp, "crash.log"));
    char *sniff = h_http_header(head, "x-content-type-options");
    CHECK(sniff && strcmp(sniff, "nosniff") == 0);
    char *csp = h_http_header(head, "content-security-policy");
    CHECK(csp && strcmp(csp, "sandbox; default-src 'none'") == 0);
    free(csp);
    free(len);
    free(disp);
    free(sniff);
    free(body);
    free(head);
    h_http anon = {"GET", path, NULL, NULL, 1, NULL};
    CHECK_INT(h_http_call(&g_srv, &anon, NULL, NULL), 401);
    CHECK_INT(h_api(&g_srv, "GET", "/api/attachments/f-99999", NULL, NULL), 404);
    cJSON_Delete(msgs);
    free(file);
}

/* Refusals for good, each an error with the cid; the connection stays. */
static void test_refusals(void)
{
    size_t size = 3000;
    unsigned char *file = make_bytes(size, 2);
    H_REQUIRE(file != NULL);
    char sha[65];
    hex_sha256(file, size, sha);
    wsc c;
    hello(&c, "att-bob");
    start_conv(&c, "c-att-2");

    begin(&c, "r-big", "huge.bin", "application/octet-stream", MAX_ATTACHMENT + 1, sha);
    const cJSON *e = answer(&c, 0, "r-big");
    expect(e, "error", NULL, 0);
    CHECK_STR(wsc_str(e, "code"), "too_long");

    begin(&c, "r-type", "tool.exe", "application/x-msdownload", size, sha);
    e = answer(&c, 0, "r-type");
    expect(e, "error", NULL, 0);
    CHECK_STR(wsc_str(e, "code"), "bad_attachment");

    begin(&c, "r-name", "../../etc/passwd", "text/plain", size, sha);
    e = answer(&c, 0, "r-name");
    expect(e, "error", NULL, 0);

    /* Declared a PNG, but the bytes are not one: refused at the first chunk. */
    begin(&c, "r-png", "shot.png", "image/png", size, sha);
    expect(answer(&c, 0, "r-png"), "att.offset", "next", 0);
    send_chunk(&c, "r-png", file, size, 0, 0);
    e = answer(&c, 0, "r-png");
    expect(e, "error", NULL, 0);
    CHECK_STR(wsc_str(e, "code"), "bad_attachment");

    /* The whole does not hash to what att.begin said: the copy is dropped
     * and the upload starts over. */
    char wrong[65];
    hex_sha256(file, size - 1, wrong);
    begin(&c, "r-whole", "notes.txt", "text/plain", size, wrong);
    expect(answer(&c, 0, "r-whole"), "att.offset", "next", 0);
    send_chunk(&c, "r-whole", file, size, 0, 0);
    const cJSON *again = answer(&c, 0, "r-whole");
    expect(again, "att.offset", "next", 0);
    CHECK_STR(wsc_str(again, "reason"), "sha256");

    /* A second att.begin of the cid that says something else. */
    begin(&c, "r-whole", "notes.txt", "text/plain", size + 1, wrong);
    e = answer(&c, 0, "r-whole");
    expect(e, "error", NULL, 0);
    CHECK_STR(wsc_str(e, "code"), "bad_attachment");

    /* A type a browser would take for another: its last, after a comma. */
    begin(&c, "r-comma", "page.txt", "text/plain;a=b, text/html", size, sha);
    e = answer(&c, 0, "r-comma");
    expect(e, "error", NULL, 0);
    CHECK_STR(wsc_str(e, "code"), "bad_frame");

    /* A truncated upload: the message comes before the file is complete. */
    begin(&c, "r-trunc", "half.txt", "text/plain", 2 * CHUNK, sha);
    expect(answer(&c, 0, "r-trunc"), "att.offset", "next", 0);
    CHECK_INT(wsc_sendf(&c,
                        "{'t':'msg.send','cid':'r-trunc','conv':'c-att-2','text':'x',"
                        "'attachment':{'sha256':'%s'}}",
                        sha),
              0);
    e = wsc_await(&c, 0, "error", "cid", "r-trunc", WAIT);
    CHECK(e && strcmp(wsc_str(e, "code"), "bad_attachment") == 0);

    /* Garbage where the chunk's data goes. */
    CHECK_INT(wsc_send(&c, "{\"t\":\"att.chunk\",\"cid\":\"r-trunc\",\"i\":0,\"data\":\"!!!\","
                           "\"sha256\":\"00\"}"),
              0);
    const cJSON *g = answer(&c, 0, "r-trunc");
    CHECK(g && (wsc_matches(g, "att.nack", NULL, NULL) || wsc_matches(g, "error", NULL, NULL)));

    /* Data that is not base64 on a live upload: a nack, without hashing
     * past the decoded buffer (fuzz_srv_frames found the server reading
     * one byte beyond it). */
    char sha_less[65];
    hex_sha256(file, size - 1, sha_less);
    begin(&c, "r-b64", "bad.bin", "application/octet-stream", size - 1, sha_less);
    expect(answer(&c, 0, "r-b64"), "att.offset", "next", 0);
    CHECK_INT(wsc_sendf(&c, "{'t':'att.chunk','cid':'r-b64','i':0,'data':'!!!!','sha256':'%s'}",
                        sha_less),
              0);
    expect(answer(&c, 0, "r-b64"), "att.nack", NULL, 0);

    /* Nothing of it reached the conversation, and the server still talks. */
    CHECK_INT(h_api_count_text(&g_srv, "c-att-2", "x"), 0);
    CHECK_INT(wsc_sendf(&c, "{'t':'msg.send','cid':'r-ok','conv':'c-att-2','text':'still here'}"),
              0);
    CHECK(wsc_await(&c, 0, "msg.ack", "cid", "r-ok", WAIT) != NULL);
    wsc_close(&c);
    free(file);
}

/* att.get: chunks with their hashes for the owner, not_found for others. */
static void test_download_owner_only(void)
{
    /* An agent's file in alice's conversation. */
    size_t size = CHUNK + 10;
    unsigned char *file = make_bytes(size, 3);
    H_REQUIRE(file != NULL);
    char bin[H_PATH + 16], sha[65];
    snprintf(bin, sizeof bin, "%s/agent.bin", g_dir);
    FILE *f = fopen(bin, "wb");
    H_REQUIRE(f && fwrite(file, 1, size, f) == size);
    fclose(f);
    hex_sha256(file, size, sha);
    char url[256], auth[128], out[H_PATH + 16];
    snprintf(url, sizeof url,
             "http://127.0.0.1:%d/api/conversations/c-att-1/attachments?name=guide.bin"
             "&caption=here%%20you%%20go",
             g_srv.port);
    snprintf(auth, sizeof auth, "Authorization: Bearer %s", TOKEN);
    snprintf(out, sizeof out, "%s/post.out", g_dir);
    char data[H_PATH + 20];
    snprintf(data, sizeof data, "@%s", bin);
    char *argv[] = {"curl",          "-sS", "-o", out,  "-w",
                    "%{http_code}",  "-H",  auth, "-H", "Content-Type: application/octet-stream",
                    "--data-binary", data,  url,  NULL};
    char code_path[H_PATH + 16];
    snprintf(code_path, sizeof code_path, "%s/post.code", g_dir);
    CHECK_INT(h_run(argv, NULL, code_path, NULL, WAIT), 0);
    char *code = tl_read_file(code_path, NULL), *resp = tl_read_file(out, NULL);
    CHECK(code && strncmp(code, "201", 3) == 0);
    cJSON *r = resp ? cJSON_Parse(resp) : NULL;
    const cJSON *att = cJSON_GetObjectItemCaseSensitive(r, "attachment");
    const char *id = h_json_str(att, "id");
    H_REQUIRE(id != NULL);
    CHECK_STR(h_json_str(att, "sha256"), sha);
    CHECK_STR(h_json_str(att, "name"), "guide.bin");
    CHECK_INT(h_api_count_text(&g_srv, "c-att-1", "here you go"), 1);

    wsc c;
    hello(&c, "att-alice");
    CHECK_INT(wsc_sendf(&c, "{'t':'att.get','req':'d-1','id':'%s','from':0,'count':32}", id), 0);
    const cJSON *d0 = wsc_await(&c, 0, "att.data", "req", "d-1", WAIT);
    const cJSON *d1 = wsc_await(&c, 0, "att.data", "req", "d-1", WAIT);
    H_REQUIRE(d0 && d1);
    CHECK_INT((int)wsc_num(d0, "i"), 0);
    CHECK_INT((int)wsc_num(d1, "i"), 1);
    CHECK_INT((int)wsc_num(d0, "size"), (int)size);
    CHECK_STR(wsc_str(d0, "file_sha256"), sha);
    unsigned char got[CHUNK];
    size_t glen = 0;
    const char *b64 = wsc_str(d1, "data");
    CHECK(b64 && mbedtls_base64_decode(got, sizeof got, &glen, (const unsigned char *)b64,
                                       strlen(b64)) == 0);
    CHECK(glen == 10 && memcmp(got, file + CHUNK, 10) == 0);
    wsc_close(&c);

    hello(&c, "att-mallory");
    CHECK_INT(wsc_sendf(&c, "{'t':'att.get','req':'d-2','id':'%s','from':0,'count':1}", id), 0);
    const cJSON *e = wsc_await(&c, 0, "error", "req", "d-2", WAIT);
    CHECK(e && strcmp(wsc_str(e, "code"), "not_found") == 0);
    CHECK_INT((int)wsc_count(&c, 0, "att.data"), 0);
    wsc_close(&c);

    /* Too large for --max-attachment over HTTP as well. */
    char *big = malloc(MAX_ATTACHMENT + 1);
    H_REQUIRE(big != NULL);
    memset(big, 'a', MAX_ATTACHMENT + 1);
    f = fopen(bin, "wb");
    H_REQUIRE(f && fwrite(big, 1, MAX_ATTACHMENT + 1, f) == MAX_ATTACHMENT + 1);
    fclose(f);
    free(big);
    remove(code_path); /* h_run appends */
    CHECK_INT(h_run(argv, NULL, code_path, NULL, WAIT), 0);
    free(code);
    code = tl_read_file(code_path, NULL);
    CHECK(code && strncmp(code, "413", 3) == 0);
    free(code);
    free(resp);
    cJSON_Delete(r);
    free(file);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "server-attach")) {
        perror("mkdtemp");
        return 1;
    }
    server_start();
    H_RUN(test_chunks_nack_resume);
    H_RUN(test_refusals);
    H_RUN(test_download_owner_only);
    CHECK_INT(h_server_stop(&g_srv, SIGTERM), 0);
    return h_finish(g_dir);
}
