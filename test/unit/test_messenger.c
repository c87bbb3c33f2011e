/* The messenger modules frame by frame (sans-IO: the session with the
 * feature modules, an in-memory host file, a fake clock): an upload's
 * chunks and their hashes, a refused chunk sent again with what followed
 * it, a chunk refused three times failing the message (and refusals
 * alternating between chunks too), repeated rewinds replacing the chunks
 * not yet written instead of queuing more, a resume at the
 * server's next chunk after a dropped connection, a damaged whole sent
 * again unless the file changed, the server's cap at the call; a download
 * whose corrupt chunk is asked for again, one that continues a .part
 * (also one already whole, or longer than the file); the push token's register and
 * unregister frames across a restart; the local history's bound, and
 * that it keeps only the history pages the host asked for. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/sha256.h>

#include "feature/downloads.h"
#include "feature/history.h"
#include "feature/push.h"
#include "feature/uploads.h"
#include "fixture.h"
#include "testlib.h"

#define CHUNK 12288

/* ---- one host file in memory ------------------------------------------------- */

typedef struct memfile {
    char path[64];
    unsigned char data[4 * CHUNK];
    size_t len;
    int exists;
} memfile;

static int m_size(void *user, const char *path, uint64_t *out)
{
    memfile *m = user;
    if (!m->exists || strcmp(path, m->path) != 0)
        return PARLEY_ERR_NOT_FOUND;
    *out = m->len;
    return PARLEY_OK;
}

static int m_read_at(void *user, const char *path, uint64_t off, void *buf, size_t len)
{
    memfile *m = user;
    if (!m->exists || strcmp(path, m->path) != 0)
        return PARLEY_ERR_NOT_FOUND;
    if (off + len > m->len)
        return PARLEY_ERR_IO;
    memcpy(buf, m->data + off, len);
    return PARLEY_OK;
}

static int m_write_at(void *user, const char *path, uint64_t off, const void *data, size_t len)
{
    memfile *m = user;
    if (off + len > sizeof m->data)
        return PARLEY_ERR_IO;
    if (!m->exists || strcmp(path, m->path) != 0)
        m->len = 0; /* a new file, not what a removed one held */
    snprintf(m->path, sizeof m->path, "%s", path);
    memcpy(m->data + off, data, len);
    if (off + len > m->len)
        m->len = off + len;
    m->exists = 1;
    return PARLEY_OK;
}

static int m_rename(void *user, const char *from, const char *to)
{
    memfile *m = user;
    if (strcmp(from, m->path) != 0)
        return PARLEY_ERR_IO;
    snprintf(m->path, sizeof m->path, "%s", to);
    return PARLEY_OK;
}

static int m_remove(void *user, const char *path)
{
    memfile *m = user;
    if (strcmp(path, m->path) == 0)
        m->exists = 0;
    return PARLEY_OK;
}

/* ---- the fixture with the messenger modules ---------------------------------- */

static int64_t wall(void)
{
    return 1700000000000;
}

typedef struct mfx {
    fx f;
    memfile file;
    pl_uploads *up;
    pl_downloads *down;
    pl_push *push;
    pl_history *hist;
} mfx;

static void m_keep_page(void *hist, const pl_frame *f)
{
    pl_history_keep_page(hist, f);
}

static void m_open(mfx *m, pl_journal *j, uint32_t history)
{
    fx_init(&m->f, j);
    pl_uploads_config uc = {j, NULL, {&m->file, m_size, m_read_at, m_write_at, m_rename, m_remove}};
    m->hist = pl_history_new(&m->f.a, m->f.s, j, history, wall, NULL);
    m->up = m->hist ? pl_uploads_new(&m->f.a, m->f.s, &uc, NULL) : NULL;
    m->down = m->up ? pl_downloads_new(&m->f.a, m->f.s, &uc.files, NULL) : NULL;
    m->push = m->down ? pl_push_new(&m->f.a, m->f.s, j, NULL) : NULL;
    REQUIRE(m->push != NULL);
}

static void m_close(mfx *m)
{
    pl_push_free(m->push);
    pl_downloads_free(m->down);
    pl_uploads_free(m->up);
    pl_history_free(m->hist);
    m->push = NULL;
    m->down = NULL;
    m->up = NULL;
    m->hist = NULL;
}

static void m_free(mfx *m)
{
    m_close(m);
    fx_free(&m->f);
}

static void fill(memfile *mf, const char *path, size_t len, unsigned seed)
{
    snprintf(mf->path, sizeof mf->path, "%s", path);
    for (size_t i = 0; i < len; i++) {
        seed = seed * 1103515245u + 12345u;
        mf->data[i] = (unsigned char)(seed >> 16);
    }
    mf->len = len;
    mf->exists = 1;
}

static void hex_sha256(const unsigned char *data, size_t len, char out[65])
{
    unsigned char d[32];
    mbedtls_sha256_ret(data, len, d, 0);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", d[i]);
}

/* The next frame, which must be att.chunk `i` carrying exactly the bytes
 * of the file at that chunk, with their hash. */
static void expect_chunk(mfx *m, int i)
{
    cJSON *j = EXPECT_FRAME(&m->f, "att.chunk");
    const cJSON *n = sp_jget(j, "i");
    CHECK(cJSON_IsNumber(n) && n->valueint == i);
    size_t off = (size_t)i * CHUNK, len = m->file.len - off < CHUNK ? m->file.len - off : CHUNK;
    unsigned char buf[CHUNK];
    size_t got = 0;
    const char *b64 = sp_jstr(j, "data");
    CHECK(b64 && mbedtls_base64_decode(buf, sizeof buf, &got, (const unsigned char *)b64,
                                       strlen(b64)) == 0);
    CHECK(got == len && memcmp(buf, m->file.data + off, len) == 0);
    char sha[65];
    hex_sha256(m->file.data + off, len, sha);
    CHECK_STR(sp_jstr(j, "sha256"), sha);
    cJSON_Delete(j);
}

/* A fresh fixture (no journal), a file of three chunks queued in a new
 * conversation, then online: the att.begin is out. */
static void open_with_file(mfx *m, char conv[PARLEY_ID_SIZE], char cid[PARLEY_ID_SIZE])
{
    m_open(m, NULL, 0);
    fill(&m->file, "/save/crash.log", 2 * CHUNK + 100, 5);
    CHECK_INT(pl_sess_conv_start(m->f.s, NULL, conv), PARLEY_OK);
    pl_upload_src src = {"/save/crash.log", NULL, 0, "crash.log", "text/plain", ""};
    CHECK_INT(pl_uploads_send(m->up, conv, &src, cid), PARLEY_OK);
    fx_connect(&m->f);
    cJSON *j = EXPECT_FRAME(&m->f, "att.begin");
    /* The conversation's start goes out too (the held message does not). */
    cJSON *start = EXPECT_FRAME(&m->f, "conv.start");
    FEED(&m->f, Qf("{'t':'conv.ack','cid':'%s','conv':'%s'}", sp_jstr(start, "cid"), conv));
    cJSON_Delete(start);
    drain_events(&m->f);
    char sha[65];
    hex_sha256(m->file.data, m->file.len, sha);
    CHECK_STR(sp_jstr(j, "sha256"), sha);
    CHECK_STR(sp_jstr(j, "cid"), cid);
    CHECK(cJSON_IsNumber(sp_jget(j, "size")) && sp_jget(j, "size")->valueint == (int)m->file.len);
    cJSON_Delete(j);
}

/* Takes every frame queued so far, unread. */
static void drain_frames(fx *f)
{
    cJSON *j;
    while ((j = take_frame(f)))
        cJSON_Delete(j);
}

/* Any error code, for take_counting. */
#define ANY_CODE 1

/* Takes every queued event; how many had `type`, `state` and, unless
 * `code` is ANY_CODE, that error code. */
static int take_counting(fx *f, int type, int state, int code)
{
    int n = 0;
    parley_event *ev;
    while ((ev = next_event(f))) {
        n += parley_event_type(ev) == type && parley_event_state(ev) == state &&
             (code == ANY_CODE || parley_event_error_code(ev) == code);
        parley_event_free(ev);
    }
    return n;
}

/* ---- uploads ------------------------------------------------------------------ */

static void test_upload_nack_resend_done(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    EXPECT_NO_FRAME(&m.f); /* the held message waits for its upload */
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    expect_chunk(&m, 0);
    expect_chunk(&m, 1);
    expect_chunk(&m, 2);
    EXPECT_NO_FRAME(&m.f);
    /* Chunk 1 arrived damaged: it and what followed it go again. */
    FEED(&m.f, Qf("{'t':'att.ack','cid':'%s','next':1}", cid));
    FEED(&m.f, Qf("{'t':'att.nack','cid':'%s','i':1,'reason':'sha256'}", cid));
    expect_chunk(&m, 1);
    expect_chunk(&m, 2);
    FEED(&m.f, Qf("{'t':'att.ack','cid':'%s','next':3}", cid));
    char sha[65];
    hex_sha256(m.file.data, m.file.len, sha);
    FEED(&m.f, Qf("{'t':'att.done','cid':'%s','sha256':'%s'}", cid, sha));
    cJSON *msg = EXPECT_FRAME(&m.f, "msg.send");
    CHECK_STR(sp_jstr(msg, "cid"), cid);
    CHECK_STR(sp_jstr(msg, "attachment.sha256"), sha);
    cJSON_Delete(msg);
    CHECK_INT(take_counting(&m.f, PARLEY_EV_ATTACHMENT, PARLEY_ATT_UPLOADED, ANY_CODE), 1);
    FEED(&m.f, Qf("{'t':'msg.ack','cid':'%s','conv':'%s','id':'m-1','seq':'1'}", cid, conv));
    parley_event_free(EXPECT_EVENT_STATE(&m.f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_SENT));
    m_free(&m);
}

static void test_upload_three_nacks_fail(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 3; i++)
            expect_chunk(&m, i);
        FEED(&m.f, Qf("{'t':'att.nack','cid':'%s','i':0,'reason':'sha256'}", cid));
    }
    for (int i = 0; i < 3; i++)
        expect_chunk(&m, i);
    FEED(&m.f, Qf("{'t':'att.nack','cid':'%s','i':0,'reason':'sha256'}", cid));
    EXPECT_NO_FRAME(&m.f);
    int failed = 0, att_failed = 0;
    parley_event *ev;
    while ((ev = next_event(&m.f))) {
        failed += parley_event_type(ev) == PARLEY_EV_MESSAGE_STATUS &&
                  parley_event_state(ev) == PARLEY_MSG_FAILED;
        att_failed += parley_event_type(ev) == PARLEY_EV_ATTACHMENT &&
                      parley_event_state(ev) == PARLEY_ATT_FAILED &&
                      parley_event_error_code(ev) == PARLEY_ERR_REJECTED;
        parley_event_free(ev);
    }
    CHECK_INT(failed, 1);
    CHECK_INT(att_failed, 1);
    CHECK_INT((int)pl_sess_outbox_count(m.f.s), 0);
    m_free(&m);
}

/* A dropped connection: the next att.begin is answered with the server's
 * next chunk, and the upload goes on from there, not from 0. */
static void test_upload_resume_after_drop(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    for (int i = 0; i < 3; i++)
        expect_chunk(&m, i);
    FEED(&m.f, Qf("{'t':'att.ack','cid':'%s','next':2}", cid));
    fx_drop(&m.f);
    fx_connect(&m.f);
    cJSON *j;
    while ((j = take_frame(&m.f)) && strcmp(sp_jstr(j, "t"), "att.begin") != 0)
        cJSON_Delete(j);
    REQUIRE(j != NULL);
    cJSON_Delete(j);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':2}", cid));
    expect_chunk(&m, 2);
    EXPECT_NO_FRAME(&m.f);
    m_free(&m);
}

/* A server repeating att.offset faster than the chunks go out: each one
 * takes back the chunks still unwritten instead of queuing another window
 * behind them, so an upload never has more than one window waiting. */
static void test_upload_offsets_keep_one_window(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    for (int i = 0; i < 100; i++)
        FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    expect_chunk(&m, 0); /* written: the next offset cannot take it back */
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    int chunks = 0, in_order = 0;
    cJSON *j;
    while ((j = take_frame(&m.f))) {
        const cJSON *i = sp_jget(j, "i");
        in_order +=
            strcmp(sp_jstr(j, "t"), "att.chunk") == 0 && cJSON_IsNumber(i) && i->valueint == chunks;
        chunks++;
        cJSON_Delete(j);
    }
    CHECK_INT(chunks, 3);
    CHECK_INT(in_order, 3);
    m_free(&m);
}

/* Refusals alternating between two chunks count together: the message
 * fails as when one chunk is refused again and again. */
static void test_upload_alternating_nacks_fail(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    for (int round = 0; round < 4; round++) {
        drain_frames(&m.f);
        FEED(&m.f, Qf("{'t':'att.nack','cid':'%s','i':%d,'reason':'sha256'}", cid, round % 2));
    }
    EXPECT_NO_FRAME(&m.f);
    CHECK_INT(take_counting(&m.f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED, ANY_CODE), 1);
    CHECK_INT((int)pl_sess_outbox_count(m.f.s), 0);
    m_free(&m);
}

/* A whole-file retry is a pass of its own: refusals before it do not add
 * up with those after it. */
static void test_upload_refusals_forgiven_after_retry(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    drain_frames(&m.f);
    for (int i = 0; i < 3; i++) {
        FEED(&m.f, Qf("{'t':'att.nack','cid':'%s','i':1,'reason':'sha256'}", cid));
        drain_frames(&m.f);
    }
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0,'reason':'sha256'}", cid));
    drain_frames(&m.f);
    FEED(&m.f, Qf("{'t':'att.nack','cid':'%s','i':0,'reason':'sha256'}", cid));
    expect_chunk(&m, 0);
    CHECK_INT(take_counting(&m.f, PARLEY_EV_MESSAGE_STATUS, PARLEY_MSG_FAILED, ANY_CODE), 0);
    CHECK_INT((int)pl_sess_outbox_count(m.f.s), 1);
    m_free(&m);
}

/* A server whose frame limit is below a chunk: the upload fails with
 * TOO_LONG instead of holding its message for ever. */
static void test_upload_chunk_over_frame_limit(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    pl_sess_on_closed(m.f.s, m.f.now, PARLEY_ERR_CLOSED, "gone");
    drain_events(&m.f);
    int64_t deadline = -1;
    pl_sess_want(m.f.s, m.f.now, &deadline);
    m.f.now = deadline > m.f.now ? deadline : m.f.now;
    pl_sess_on_connecting(m.f.s, m.f.now);
    pl_sess_on_open(m.f.s, m.f.now);
    cJSON_Delete(EXPECT_FRAME(&m.f, "hello"));
    FEED(&m.f, Q("{'t':'welcome','session':'s-2','limits':{'max_frame':4096}}"));
    drain_frames(&m.f);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    EXPECT_NO_FRAME(&m.f);
    CHECK_INT(take_counting(&m.f, PARLEY_EV_ATTACHMENT, PARLEY_ATT_FAILED, PARLEY_ERR_TOO_LONG), 1);
    CHECK_INT((int)pl_sess_outbox_count(m.f.s), 0);
    m_free(&m);
}

/* Once the server has the whole file, the chunks still unwritten are taken
 * back: they would only delay the message. */
static void test_upload_done_takes_back_chunks(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE], sha[65];
    open_with_file(&m, conv, cid);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    hex_sha256(m.file.data, m.file.len, sha);
    FEED(&m.f, Qf("{'t':'att.done','cid':'%s','sha256':'%s'}", cid, sha));
    cJSON *msg = EXPECT_FRAME(&m.f, "msg.send");
    CHECK_STR(sp_jstr(msg, "cid"), cid);
    cJSON_Delete(msg);
    EXPECT_NO_FRAME(&m.f);
    m_free(&m);
}

/* The server's copy failed its hash: sent again from 0 while the file is
 * the same; a file changed meanwhile fails the message. */
static void test_upload_whole_mismatch(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    open_with_file(&m, conv, cid);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0}", cid));
    for (int i = 0; i < 3; i++)
        expect_chunk(&m, i);
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0,'reason':'sha256'}", cid));
    for (int i = 0; i < 3; i++)
        expect_chunk(&m, i);
    m.file.data[5] ^= 0xff; /* the host rewrote the file */
    FEED(&m.f, Qf("{'t':'att.offset','cid':'%s','next':0,'reason':'sha256'}", cid));
    EXPECT_NO_FRAME(&m.f);
    CHECK_INT(take_counting(&m.f, PARLEY_EV_ATTACHMENT, PARLEY_ATT_FAILED, PARLEY_ERR_IO), 1);
    m_free(&m);
}

/* The cap a welcome announced holds at the call. */
static void test_upload_cap_and_bad_input(void)
{
    mfx m = {0};
    char conv[PARLEY_ID_SIZE], cid[PARLEY_ID_SIZE];
    m_open(&m, NULL, 0);
    CHECK_INT(pl_sess_conv_start(m.f.s, NULL, conv), PARLEY_OK);
    pl_sess_go_online(m.f.s, m.f.now);
    pl_sess_on_connecting(m.f.s, m.f.now);
    pl_sess_on_open(m.f.s, m.f.now);
    cJSON_Delete(EXPECT_FRAME(&m.f, "hello"));
    FEED(&m.f, Q("{'t':'welcome','session':'s-1','limits':{'max_attachment':1000}}"));
    drain_events(&m.f);
    CHECK(pl_uploads_max(m.up) == 1000);
    unsigned char bytes[1001] = {1};
    pl_upload_src src = {NULL, bytes, sizeof bytes, "big.bin", "application/octet-stream", ""};
    CHECK_INT(pl_uploads_send(m.up, conv, &src, cid), PARLEY_ERR_TOO_LONG);
    src.len = 1000;
    CHECK_INT(pl_uploads_send(m.up, conv, &src, cid), PARLEY_OK);
    src.name = "a\\b";
    CHECK_INT(pl_uploads_send(m.up, conv, &src, cid), PARLEY_ERR_INVALID_ARG);
    src.name = "ok.bin";
    src.type = "text";
    CHECK_INT(pl_uploads_send(m.up, conv, &src, cid), PARLEY_ERR_INVALID_ARG);
    src.type = "text/plain";
    CHECK_INT(pl_uploads_send(m.up, "c-nope", &src, cid), PARLEY_ERR_NOT_FOUND);
    pl_upload_src missing = {"/no/such", NULL, 0, "x.txt", "text/plain", ""};
    CHECK_INT(pl_uploads_send(m.up, conv, &missing, cid), PARLEY_ERR_NOT_FOUND);
    m_free(&m);
}

/* ---- downloads ---------------------------------------------------------------- */

static const char *att_data(const char *req, int i, const unsigned char *file, size_t size,
                            const char *chunk_sha)
{
    static unsigned char b64[CHUNK * 2];
    size_t off = (size_t)i * CHUNK, n = size - off < CHUNK ? size - off : CHUNK, blen = 0;
    char whole[65];
    mbedtls_base64_encode(b64, sizeof b64, &blen, file + off, n);
    hex_sha256(file, size, whole);
    return Qf("{'t':'att.data','req':'%s','id':'f-1','i':%d,'size':%zu,'file_sha256':'%s',"
              "'data':'%s','sha256':'%s'}",
              req, i, size, whole, (const char *)b64, chunk_sha);
}

static void test_download_corrupt_chunk(void)
{
    mfx m = {0};
    m_open(&m, NULL, 0);
    fx_online(&m.f);
    unsigned char file[CHUNK + 50];
    for (size_t i = 0; i < sizeof file; i++)
        file[i] = (unsigned char)(i * 7);
    char req[PARLEY_ID_SIZE], good0[65], good1[65];
    hex_sha256(file, CHUNK, good0);
    hex_sha256(file + CHUNK, 50, good1);
    CHECK_INT(pl_downloads_fetch(m.down, "f-1", NULL, req), PARLEY_OK);
    cJSON *get = EXPECT_FRAME(&m.f, "att.get");
    CHECK_STR(sp_jstr(get, "id"), "f-1");
    cJSON_Delete(get);
    /* Chunk 0 with the hash of other bytes: asked for again. */
    FEED(&m.f, att_data(req, 0, file, sizeof file, good1));
    get = EXPECT_FRAME(&m.f, "att.get");
    CHECK(cJSON_IsNumber(sp_jget(get, "from")) && sp_jget(get, "from")->valueint == 0);
    cJSON_Delete(get);
    int data_events = 0;
    parley_event *ev;
    while ((ev = next_event(&m.f))) {
        data_events += parley_event_state(ev) == PARLEY_ATT_DATA;
        parley_event_free(ev);
    }
    CHECK_INT(data_events, 0);
    FEED(&m.f, att_data(req, 0, file, sizeof file, good0));
    FEED(&m.f, att_data(req, 1, file, sizeof file, good1));
    unsigned char got[sizeof file];
    size_t have = 0;
    int done = 0;
    char chunk[PARLEY_ATTACHMENT_CHUNK_SIZE];
    while ((ev = next_event(&m.f))) {
        if (parley_event_state(ev) == PARLEY_ATT_DATA) {
            int n = parley_event_attachment_chunk(ev, chunk, sizeof chunk);
            CHECK(n > 0 && have + (size_t)n <= sizeof got);
            if (n > 0 && have + (size_t)n <= sizeof got)
                memcpy(got + have, chunk, (size_t)n);
            have += n > 0 ? (size_t)n : 0;
        }
        done += parley_event_state(ev) == PARLEY_ATT_DOWNLOADED;
        parley_event_free(ev);
    }
    CHECK_INT(done, 1);
    CHECK(have == sizeof file && memcmp(got, file, sizeof file) == 0);
    CHECK_INT(parley_event_attachment_chunk(NULL, chunk, sizeof chunk), PARLEY_ERR_INVALID_ARG);
    m_free(&m);
}

/* Answers every att.get as the reference server does: the chunks asked for
 * that the file has, nothing past its end. The number of DOWNLOADED events
 * once nothing more is asked, -1 on FAILED. */
static int serve_download(mfx *m, const unsigned char *file, size_t size)
{
    int chunks = (int)((size + CHUNK - 1) / CHUNK), done = 0;
    cJSON *get;
    for (int rounds = 0; rounds < 20 && (get = take_frame(&m->f)); rounds++) {
        int from = sp_jget(get, "from")->valueint, count = sp_jget(get, "count")->valueint;
        char req[PARLEY_ID_SIZE], sha[65];
        snprintf(req, sizeof req, "%s", sp_jstr(get, "req"));
        CHECK_STR(sp_jstr(get, "t"), "att.get");
        cJSON_Delete(get);
        for (int i = from; i < from + count && i < chunks; i++) {
            size_t off = (size_t)i * CHUNK;
            hex_sha256(file + off, size - off < CHUNK ? size - off : CHUNK, sha);
            FEED(&m->f, att_data(req, i, file, size, sha));
        }
    }
    parley_event *ev;
    while ((ev = next_event(&m->f))) {
        done += parley_event_state(ev) == PARLEY_ATT_DOWNLOADED;
        done = parley_event_state(ev) == PARLEY_ATT_FAILED ? -1 : done;
        parley_event_free(ev);
    }
    return done;
}

/* A .part from an earlier call holding `part_len` bytes of the file (then
 * zeros): the download must end, with the file whole under its name. */
static void resume_from_part(size_t part_len)
{
    mfx m = {0};
    m_open(&m, NULL, 0);
    fx_online(&m.f);
    unsigned char file[2 * CHUNK];
    for (size_t i = 0; i < sizeof file; i++)
        file[i] = (unsigned char)(i * 13);
    memset(m.file.data, 0, sizeof m.file.data);
    memcpy(m.file.data, file, part_len < sizeof file ? part_len : sizeof file);
    snprintf(m.file.path, sizeof m.file.path, "dl.bin.part");
    m.file.len = part_len;
    m.file.exists = 1;
    char req[PARLEY_ID_SIZE];
    CHECK_INT(pl_downloads_fetch(m.down, "f-1", "dl.bin", req), PARLEY_OK);
    int done = serve_download(&m, file, sizeof file);
    printf("  .part of %zu bytes, file of %zu: %d DOWNLOADED\n", part_len, sizeof file, done);
    CHECK_INT(done, 1);
    CHECK_STR(m.file.path, "dl.bin");
    CHECK(m.file.len == sizeof file && memcmp(m.file.data, file, sizeof file) == 0);
    m_free(&m);
}

static void test_download_resume_part(void)
{
    resume_from_part(CHUNK + 10);    /* some chunks: the rest is fetched */
    resume_from_part(2 * CHUNK);     /* all of them: the rename failed before */
    resume_from_part(2 * CHUNK + 7); /* more than the file: started over */
}

/* ---- push ---------------------------------------------------------------------- */

static void test_push_token_frames(void)
{
    sp_memio mem = {0};
    pl_journal *j = sp_open_mem_journal(&mem);
    REQUIRE(j != NULL);
    mfx m = {0};
    m_open(&m, j, 0);
    CHECK_INT(pl_push_set_token(m.push, "fcm", "tok 1"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_push_set_token(m.push, "", "tok-1"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_push_set_token(m.push, "fcm", NULL), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_push_set_token(m.push, "fcm", "tok-1"), PARLEY_OK); /* offline: journaled */
    m_close(&m);
    fx_close(&m.f);
    REQUIRE(fx_open(&m.f));
    pl_uploads_config uc = {j, NULL, {&m.file, m_size, m_read_at, m_write_at, m_rename, m_remove}};
    m.hist = pl_history_new(&m.f.a, m.f.s, j, 0, wall, NULL);
    m.up = pl_uploads_new(&m.f.a, m.f.s, &uc, NULL);
    m.down = pl_downloads_new(&m.f.a, m.f.s, &uc.files, NULL);
    m.push = pl_push_new(&m.f.a, m.f.s, j, NULL);
    REQUIRE(m.push != NULL);
    fx_connect(&m.f); /* after a restart: registered at the welcome */
    cJSON *f, *reg = NULL;
    while ((f = take_frame(&m.f))) {
        if (strcmp(sp_jstr(f, "t"), "push.register") == 0 && !reg)
            reg = f;
        else
            cJSON_Delete(f);
    }
    REQUIRE(reg != NULL);
    CHECK_STR(sp_jstr(reg, "platform"), "fcm");
    CHECK_STR(sp_jstr(reg, "token"), "tok-1");
    cJSON_Delete(reg);
    /* A new token: the old one is unregistered, the new one registered. */
    CHECK_INT(pl_push_set_token(m.push, "apns", "tok-2"), PARLEY_OK);
    int unreg = 0, reg2 = 0;
    while ((f = take_frame(&m.f))) {
        unreg += strcmp(sp_jstr(f, "t"), "push.unregister") == 0 &&
                 strcmp(sp_jstr(f, "token"), "tok-1") == 0;
        reg2 += strcmp(sp_jstr(f, "t"), "push.register") == 0 &&
                strcmp(sp_jstr(f, "token"), "tok-2") == 0;
        cJSON_Delete(f);
    }
    CHECK_INT(unreg, 1);
    CHECK_INT(reg2, 1);
    /* Removed: unregistered, nothing registered at the next welcome. */
    CHECK_INT(pl_push_set_token(m.push, NULL, NULL), PARLEY_OK);
    f = EXPECT_FRAME(&m.f, "push.unregister");
    CHECK_STR(sp_jstr(f, "token"), "tok-2");
    cJSON_Delete(f);
    fx_drop(&m.f);
    fx_connect(&m.f);
    int any = 0;
    while ((f = take_frame(&m.f))) {
        any += strncmp(sp_jstr(f, "t"), "push.", 5) == 0;
        cJSON_Delete(f);
    }
    CHECK_INT(any, 0);
    /* A push payload names a conversation: it becomes a member. */
    CHECK_INT(pl_push_handle(m.push, "{\"conv\":\"c-from-push\",\"seq\":\"7\"}", m.f.now),
              PARLEY_OK);
    CHECK(pl_sess_conv_known(m.f.s, "c-from-push"));
    CHECK_INT(pl_push_handle(m.push, "[1]", m.f.now), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_push_handle(m.push, "{\"aps\":{}}", m.f.now), PARLEY_ERR_NOT_FOUND);
    m_free(&m);
    pl_journal_close(j);
    tl_memfs_free(&mem.fs);
}

/* ---- local history --------------------------------------------------------------- */

static void test_history_bound(void)
{
    mfx m = {0};
    m_open(&m, NULL, 3);
    fx_online(&m.f);
    CHECK(pl_history_enabled(m.hist));
    for (int seq = 1; seq <= 5; seq++)
        FEED(&m.f, Qf("{'t':'msg','conv':'c-h','id':'m-%d','seq':'%d','author':{'kind':'agent'},"
                      "'text':'line %d','ts':1}",
                      seq, seq, seq));
    drain_events(&m.f);
    CHECK_INT(pl_history_answer(m.hist, "c-h", 0, 50, "r-1"), PARLEY_OK);
    parley_event *ev = EXPECT_EVENT(&m.f, PARLEY_EV_HISTORY);
    CHECK_INT(parley_event_from_device(ev), 1);
    CHECK_INT(parley_event_item_count(ev), 3);
    CHECK_STR(parley_event_text(parley_event_item(ev, 0)), "line 3");
    CHECK_STR(parley_event_text(parley_event_item(ev, 2)), "line 5");
    CHECK_STR(parley_event_request_id(ev), "r-1");
    parley_event_free(ev);
    m_free(&m);
}

static int count_record(void *user, const char *key, const void *value, size_t len)
{
    (void)key;
    (void)value;
    (void)len;
    ++*(size_t *)user;
    return 0;
}

static size_t history_records(pl_journal *j)
{
    size_t n = 0;
    CHECK_INT(pl_journal_foreach(j, PL_HISTORY_NS, count_record, &n), PARLEY_OK);
    return n;
}

static const char *page(const char *req, const char *conv, int seq)
{
    return Qf("{'t':'history.page','req':'%s','conv':'%s','messages':[{'id':'m-%d','seq':'%d',"
              "'author':{'kind':'agent'},'text':'old %d','ts':1}]}",
              req, conv, seq, seq, seq);
}

/* Online, with a local history of 3 per conversation in `j` that keeps
 * the pages of requests, registered before the requests as the client
 * does. */
static pl_history *history_online(fx *f, pl_journal *j)
{
    fx_prepare(f, j);
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = j;
    REQUIRE((f->s = pl_sess_new(&f->a, &cfg, f->rand, NULL)) != NULL);
    pl_history *hist = pl_history_new(&f->a, f->s, j, 3, wall, NULL);
    REQUIRE(hist && (f->requests = pl_requests_new(&f->a, f->s, NULL)) != NULL);
    pl_requests_set_page_sink(f->requests, m_keep_page, hist);
    fx_connect(f);
    return hist;
}

/* Only a page the host asked for, of the conversation it asked for, is
 * kept: the server's unasked pages (of any name) would fill the device. */
static void test_history_unrequested_page(void)
{
    sp_memio mem = {0};
    pl_journal *j = sp_open_mem_journal(&mem);
    REQUIRE(j != NULL);
    fx f;
    pl_history *hist = history_online(&f, j);
    CHECK_INT(pl_sess_adopt(f.s, "c-h", 0), PARLEY_OK);
    drain_frames(&f);
    FEED(&f, page("r-9", "c-h", 1));
    FEED(&f, page("r-9", "c-new", 2));
    FEED(&f, page("r-9", "not an id", 3));
    drain_events(&f);
    printf("  unasked pages: %zu records kept\n", history_records(j));
    CHECK(history_records(j) == 0);
    char req[PARLEY_ID_SIZE];
    pl_req_args args = {.conv = "c-h"};
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_HISTORY, &args, req), PARLEY_OK);
    drain_frames(&f);
    FEED(&f, page(req, "c-other", 4));
    drain_events(&f);
    printf("  a page of another conversation: %zu records kept\n", history_records(j));
    CHECK(history_records(j) == 0);
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_HISTORY, &args, req), PARLEY_OK);
    drain_frames(&f);
    FEED(&f, page(req, "c-h", 5));
    drain_events(&f);
    CHECK(history_records(j) == 1);
    pl_history_free(hist);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&mem.fs);
}

/* A page the host asked for of a conversation that left the table (parked)
 * is kept, and the conversation comes back. */
static void test_history_page_of_parked(void)
{
    sp_memio mem = {0};
    pl_journal *j = sp_open_mem_journal(&mem);
    REQUIRE(j != NULL);
    fx f;
    pl_history *hist = history_online(&f, j);
    CHECK_INT(pl_sess_adopt(f.s, "c-h", 0), PARLEY_OK);
    for (int i = 0; i < PL_MAX_CONVERSATIONS; i++)
        FEED(&f, Qf("{'t':'msg','conv':'c-%d','id':'m-%d','seq':'1','author':{'kind':'agent'},"
                    "'text':'hi','ts':1}",
                    i, i));
    drain_events(&f);
    drain_frames(&f);
    REQUIRE(!pl_sess_conv_known(f.s, "c-h"));
    char req[PARLEY_ID_SIZE];
    pl_req_args args = {.conv = "c-h"};
    CHECK_INT(pl_requests_send(f.requests, PL_REQ_HISTORY, &args, req), PARLEY_OK);
    drain_frames(&f);
    size_t kept = history_records(j);
    FEED(&f, page(req, "c-h", 5));
    drain_events(&f);
    CHECK(history_records(j) == kept + 1);
    CHECK(pl_sess_conv_known(f.s, "c-h"));
    pl_history_free(hist);
    fx_free(&f);
    pl_journal_close(j);
    tl_memfs_free(&mem.fs);
}

int main(void)
{
    RUN(test_upload_nack_resend_done);
    RUN(test_upload_three_nacks_fail);
    RUN(test_upload_resume_after_drop);
    RUN(test_upload_whole_mismatch);
    RUN(test_upload_offsets_keep_one_window);
    RUN(test_upload_refusals_forgiven_after_retry);
    RUN(test_upload_done_takes_back_chunks);
    RUN(test_upload_chunk_over_frame_limit);
    RUN(test_upload_alternating_nacks_fail);
    RUN(test_upload_cap_and_bad_input);
    RUN(test_download_corrupt_chunk);
    RUN(test_download_resume_part);
    RUN(test_push_token_frames);
    RUN(test_history_bound);
    RUN(test_history_unrequested_page);
    RUN(test_history_page_of_parked);
    return tl_finish();
}
