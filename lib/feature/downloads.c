/* Attachments coming down: see downloads.h.
 *
 * A download asks for PL_DOWNLOAD_WINDOW chunks from the first one it
 * does not have (att.get), takes them in order (a chunk that is not the
 * next one is a leftover of an earlier window and is ignored), and asks
 * for the next window when this one is in. A chunk that fails its hash is
 * asked for again; the whole file is checked at the end. */
#include "feature/downloads.h"

#include <stdio.h>
#include <string.h>

#include "codec/proto_attach.h"
#include "model/attachment.h"
#include "util/sha256.h"
#include "util/utf8.h"

#define PROGRESS_STEP (64 * 1024)
#define MAX_RETRIES 3  /* hash failures of one chunk */
#define MAX_RESTARTS 1 /* whole-file failures of a file download */
#define READ_PIECE (64 * 1024)

typedef struct fetch {
    struct fetch *next_fetch;
    char req[PARLEY_ID_SIZE];
    char *id;
    char *dest, *part; /* NULL: the chunks go to the host as events */
    uint64_t size;     /* 0 until the first chunk tells */
    char file_sha[PL_SHA256_HEX];
    uint64_t next;     /* the next chunk wanted */
    uint64_t asked_to; /* the window asked for ends before this chunk */
    int asking;        /* an att.get is outstanding on this connection */
    unsigned retries, restarts;
    uint64_t reported;
    pl_sha256 running; /* events: the hash of what was handed over */
} fetch;

struct pl_downloads {
    pl_alloc alloc;
    pl_sess *sess;
    pl_file_io files;
    const pl_log *log;
    fetch *head;
    size_t count;
    uint64_t next_req;
};

/* ---- downloads ---------------------------------------------------------------------- */

static fetch *find(const pl_downloads *d, const char *req)
{
    for (fetch *f = d->head; f; f = f->next_fetch)
        if (req && strcmp(f->req, req) == 0)
            return f;
    return NULL;
}

static void fetch_free(pl_downloads *d, fetch *f)
{
    pl_free(&d->alloc, f->id);
    pl_free(&d->alloc, f->dest);
    pl_free(&d->alloc, f->part);
    pl_free(&d->alloc, f);
}

static void drop(pl_downloads *d, fetch *f)
{
    for (fetch **pp = &d->head; *pp; pp = &(*pp)->next_fetch)
        if (*pp == f) {
            *pp = f->next_fetch;
            d->count--;
            break;
        }
    fetch_free(d, f);
}

static uint64_t bytes_of(const fetch *f, uint64_t chunks)
{
    uint64_t b = chunks * PL_ATT_CHUNK;
    return f->size && b > f->size ? f->size : b;
}

static parley_event *dl_event(pl_downloads *d, const fetch *f, int state)
{
    parley_event *ev = pl_event_new(&d->alloc, PARLEY_EV_ATTACHMENT);
    if (!ev || pl_event_set(ev, &ev->req, f->req) != PARLEY_OK ||
        pl_event_set(ev, &ev->id, f->id) != PARLEY_OK) {
        parley_event_free(ev);
        PL_LOG_W(d->log, "download event of %s lost: out of memory", f->req);
        return NULL;
    }
    ev->state = state;
    ev->bytes_total = (int64_t)f->size;
    ev->bytes_done = (int64_t)bytes_of(f, f->next);
    return ev;
}

/* Ends the download with FAILED; a file's .part stays for a later call. */
static void fail(pl_downloads *d, fetch *f, int code, const char *why)
{
    PL_LOG_W(d->log, "download %s of %s failed: %s", f->req, f->id, why);
    parley_event *ev = dl_event(d, f, PARLEY_ATT_FAILED);
    if (ev && pl_event_set(ev, &ev->text, why) == PARLEY_OK)
        ev->error_code = code;
    pl_sess_emit(d->sess, ev);
    drop(d, f);
}

/* A .part may already hold every chunk (its rename failed, or the process
 * died before it) or more: a window from there would be past the end,
 * which the server answers with nothing. So a resumed download first asks
 * for chunk 0 alone, whose frame tells the size. */
static int probing(const fetch *f)
{
    return !f->size && f->next > 0;
}

/* The next window, from the first chunk still wanted. */
static int ask(pl_downloads *d, fetch *f)
{
    if (!pl_sess_online(d->sess))
        return PARLEY_OK;
    uint64_t from = probing(f) ? 0 : f->next;
    uint64_t left = f->size ? pl_attachment_chunks(f->size) - from : PL_DOWNLOAD_WINDOW;
    uint32_t count = left < PL_DOWNLOAD_WINDOW ? (uint32_t)left : PL_DOWNLOAD_WINDOW;
    if (probing(f) || !count)
        count = 1;
    char *frame = NULL;
    size_t len = 0;
    int rc = pl_proto_encode_att_get(&d->alloc, f->req, f->id, from, count, &frame, &len);
    if (rc == PARLEY_OK)
        rc = pl_sess_send_control(d->sess, "att.get", frame, len);
    f->asking = rc == PARLEY_OK;
    f->asked_to = from + count;
    return rc;
}

/* ---- the end of a download ------------------------------------------------------------ */

static int hash_part(pl_downloads *d, const fetch *f, char out[PL_SHA256_HEX])
{
    unsigned char *buf = pl_malloc(&d->alloc, READ_PIECE);
    if (!buf)
        return PARLEY_ERR_NOMEM;
    pl_sha256 h;
    pl_sha256_start(&h);
    int rc = PARLEY_OK;
    for (uint64_t off = 0; off < f->size && rc == PARLEY_OK; off += READ_PIECE) {
        size_t n = f->size - off < READ_PIECE ? (size_t)(f->size - off) : READ_PIECE;
        rc = d->files.read_at(d->files.user, f->part, off, buf, n);
        pl_sha256_update(&h, buf, n);
    }
    pl_sha256_finish(&h, out);
    pl_free(&d->alloc, buf);
    return rc;
}

static void finish_file(pl_downloads *d, fetch *f)
{
    char sha[PL_SHA256_HEX];
    uint64_t size = 0;
    int rc = d->files.size(d->files.user, f->part, &size);
    if (rc == PARLEY_OK && size == f->size)
        rc = hash_part(d, f, sha);
    if (rc == PARLEY_OK && (size != f->size || strcmp(sha, f->file_sha) != 0)) {
        /* A damaged or foreign .part (an earlier run's): once more, afresh. */
        (void)d->files.remove(d->files.user, f->part);
        if (++f->restarts > MAX_RESTARTS) {
            fail(d, f, PARLEY_ERR_PROTOCOL, "the file does not match its SHA-256");
            return;
        }
        f->next = 0;
        f->reported = 0;
        ask(d, f);
        return;
    }
    if (rc == PARLEY_OK)
        rc = d->files.rename(d->files.user, f->part, f->dest);
    if (rc != PARLEY_OK) {
        fail(d, f, rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO, "the file cannot be written");
        return;
    }
    pl_sess_emit(d->sess, dl_event(d, f, PARLEY_ATT_DOWNLOADED));
    drop(d, f);
}

static void finish(pl_downloads *d, fetch *f)
{
    if (f->dest) {
        finish_file(d, f);
        return;
    }
    char sha[PL_SHA256_HEX];
    pl_sha256_finish(&f->running, sha);
    if (strcmp(sha, f->file_sha) != 0) {
        fail(d, f, PARLEY_ERR_PROTOCOL, "the file does not match its SHA-256");
        return;
    }
    pl_sess_emit(d->sess, dl_event(d, f, PARLEY_ATT_DOWNLOADED));
    drop(d, f);
}

/* ---- chunks --------------------------------------------------------------------------- */

/* The chunk goes to the file or, as a DATA event, to the host. */
static int store_chunk(pl_downloads *d, fetch *f, pl_att_data *c)
{
    if (f->dest)
        return d->files.write_at(d->files.user, f->part, c->i * PL_ATT_CHUNK, c->data, c->len);
    parley_event *ev = dl_event(d, f, PARLEY_ATT_DATA);
    if (!ev)
        return PARLEY_ERR_NOMEM;
    pl_sha256_update(&f->running, c->data, c->len);
    ev->data = c->data;
    ev->data_len = c->len;
    ev->bytes_done = (int64_t)(c->i * PL_ATT_CHUNK + c->len);
    c->data = NULL;
    pl_sess_emit(d->sess, ev);
    return PARLEY_OK;
}

/* The first chunk tells the file's size and hash; later ones must agree. */
static int learn_file(pl_downloads *d, fetch *f, const pl_att_data *c)
{
    if (!f->size) {
        if (!c->size || c->size > PL_ATT_HARD_MAX) {
            fail(d, f, PARLEY_ERR_TOO_LONG, "the file is larger than the client takes");
            return 0;
        }
        f->size = c->size;
        memcpy(f->file_sha, c->file_sha256, PL_SHA256_HEX);
    } else if (c->size != f->size || strcmp(c->file_sha256, f->file_sha) != 0) {
        fail(d, f, PARLEY_ERR_PROTOCOL, "the file changed at the server");
        return 0;
    }
    return 1;
}

static int chunk_ok(const fetch *f, const pl_att_data *c)
{
    uint64_t off = c->i * PL_ATT_CHUNK;
    size_t want = f->size - off < PL_ATT_CHUNK ? (size_t)(f->size - off) : PL_ATT_CHUNK;
    char sha[PL_SHA256_HEX];
    pl_sha256_hex(c->data, c->len, sha);
    return c->len == want && strcmp(sha, c->sha256) == 0;
}

static void on_chunk(pl_downloads *d, fetch *f, pl_att_data *c)
{
    int probed = probing(f);
    if (!learn_file(d, f, c))
        return;
    if (f->next >= pl_attachment_chunks(f->size)) {
        finish(d, f); /* the .part had them all; a longer one is started over */
        return;
    }
    if (probed) {
        ask(d, f);
        return;
    }
    if (c->i != f->next)
        return;
    if (!chunk_ok(f, c)) {
        PL_LOG_W(d->log, "download %s: chunk %llu failed its SHA-256", f->req,
                 (unsigned long long)c->i);
        if (++f->retries > MAX_RETRIES)
            fail(d, f, PARLEY_ERR_PROTOCOL, "a chunk kept failing its SHA-256");
        else
            ask(d, f);
        return;
    }
    int rc = store_chunk(d, f, c);
    if (rc != PARLEY_OK) {
        fail(d, f, rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO, "the file cannot be written");
        return;
    }
    f->retries = 0;
    f->next++;
    if (f->next == pl_attachment_chunks(f->size)) {
        finish(d, f);
        return;
    }
    if (bytes_of(f, f->next) >= f->reported + PROGRESS_STEP) {
        f->reported = bytes_of(f, f->next);
        pl_sess_emit(d->sess, dl_event(d, f, PARLEY_ATT_PROGRESS));
    }
    if (f->next >= f->asked_to)
        ask(d, f);
}

static int on_data(pl_downloads *d, const pl_frame *fr)
{
    pl_att_data c;
    char why[160];
    int rc = pl_proto_decode_att_data(&d->alloc, fr, &c, why, sizeof why);
    if (rc == PARLEY_ERR_PROTOCOL)
        return pl_sess_bad_frame(d->sess, fr, why, NULL) == PARLEY_OK ? 1 : PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK)
        return rc;
    fetch *f = find(d, c.req);
    if (f && strcmp(f->id, c.id) == 0)
        on_chunk(d, f, &c);
    pl_att_data_clear(&d->alloc, &c);
    return 1;
}

/* ---- session hooks ------------------------------------------------------------------- */

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    pl_downloads *d = user;
    (void)now;
    if (f->type == PL_FRAME_ERROR) {
        fetch *ft = f->req ? find(d, f->req) : NULL;
        if (!ft)
            return 0;
        int not_found = f->code && strcmp(f->code, "not_found") == 0;
        fail(d, ft, not_found ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_REJECTED,
             f->message ? f->message : f->code);
        return 1;
    }
    if (f->type != PL_FRAME_UNKNOWN || !pl_proto_is_att_data(f->type_name))
        return 0;
    return on_data(d, f);
}

static int on_welcome(void *user, int64_t now)
{
    pl_downloads *d = user;
    (void)now;
    int rc = PARLEY_OK;
    for (fetch *f = d->head; f && rc == PARLEY_OK; f = f->next_fetch)
        rc = ask(d, f);
    return rc;
}

static void forget_all(pl_downloads *d)
{
    while (d->head) {
        fetch *f = d->head;
        d->head = f->next_fetch;
        fetch_free(d, f);
    }
    d->count = 0;
}

static void on_logout(void *user)
{
    forget_all(user);
}

/* ---- lifecycle ------------------------------------------------------------------------- */

pl_downloads *pl_downloads_new(const pl_alloc *a, pl_sess *sess, const pl_file_io *files,
                               const pl_log *log)
{
    pl_downloads *d = pl_calloc(a, 1, sizeof *d);
    if (!d)
        return NULL;
    d->alloc = *a;
    d->sess = sess;
    d->files = *files;
    d->log = log;
    d->next_req = 1;
    pl_sess_ext ext = {
        .user = d, .on_welcome = on_welcome, .on_frame = on_frame, .on_logout = on_logout};
    if (pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_downloads_free(d);
        return NULL;
    }
    return d;
}

void pl_downloads_free(pl_downloads *d)
{
    if (!d)
        return;
    forget_all(d);
    pl_alloc a = d->alloc;
    pl_free(&a, d);
}

/* ---- host API --------------------------------------------------------------------------- */

/* A file download continues its .part from the last whole chunk. */
static int open_dest(pl_downloads *d, fetch *f, const char *dest)
{
    size_t n = strlen(dest) + sizeof ".part";
    if (!(f->dest = pl_strdup(&d->alloc, dest)) || !(f->part = pl_malloc(&d->alloc, n)))
        return PARLEY_ERR_NOMEM;
    snprintf(f->part, n, "%s.part", dest);
    uint64_t have = 0;
    if (d->files.size(d->files.user, f->part, &have) == PARLEY_OK)
        f->next = have / PL_ATT_CHUNK;
    return PARLEY_OK;
}

int pl_downloads_fetch(pl_downloads *d, const char *attachment_id, const char *dest,
                       char req_out[PARLEY_ID_SIZE])
{
    if (!pl_id_valid(attachment_id, PL_MAX_ID) || (dest && !*dest))
        return PARLEY_ERR_INVALID_ARG;
    if (d->count >= PL_DOWNLOADS_MAX)
        return PARLEY_ERR_FULL;
    fetch *f = pl_calloc(&d->alloc, 1, sizeof *f);
    if (!f)
        return PARLEY_ERR_NOMEM;
    snprintf(f->req, sizeof f->req, "d-%llu", (unsigned long long)d->next_req);
    int rc = (f->id = pl_strdup(&d->alloc, attachment_id)) ? PARLEY_OK : PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK && dest)
        rc = open_dest(d, f, dest);
    if (rc != PARLEY_OK) {
        fetch_free(d, f);
        return rc;
    }
    if (!dest)
        pl_sha256_start(&f->running);
    d->next_req++;
    f->next_fetch = d->head;
    d->head = f;
    d->count++;
    if (ask(d, f) != PARLEY_OK)
        PL_LOG_W(d->log, "download %s starts at the next connection", f->req);
    memcpy(req_out, f->req, strlen(f->req) + 1);
    return PARLEY_OK;
}
