/* Attachments going up: see uploads.h.
 *
 * An upload is the held outbox item (the msg.send naming the file's
 * SHA-256) plus what this module keeps: journal namespace 8, key
 * "u/<cid>", value conv '\n' name '\n' type '\n' size '\n' sha256 '\n'
 * source '\n' where: source 'f' with the host's path, or 'b' with the
 * spool file holding a copy of the host's bytes ("att-<cid>" in the
 * journal's storage). The record is written before the item (whose synced
 * put makes both durable) and removed when the item leaves the outbox.
 *
 * On each connection an upload goes att.begin, then chunks from the
 * server's `next`, at most PL_UPLOAD_WINDOW unacknowledged, until
 * att.done releases its message. When the server asks for chunks from an
 * earlier one (att.offset, att.nack), the upload's chunks still unwritten
 * are taken back before the window is sent again: a server repeating
 * those frames faster than the connection writes must not pile up one
 * window after another. */
#include "feature/uploads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "codec/proto_attach.h"
#include "util/sha256.h"
#include "util/utf8.h"

#define KEY_CAP "cap"
/* A PROGRESS event at most every this many bytes (and at the end). */
#define PROGRESS_STEP (64 * 1024)
/* Hash failures of the whole file, and refusals of chunks since the
 * server last acknowledged chunks it never had before, before the message
 * fails. Counted per upload, not per chunk: a server alternating between
 * two chunks would otherwise never trip it. */
#define MAX_RESTARTS 2
#define MAX_NACKS 3
#define READ_PIECE (64 * 1024)

typedef struct upload {
    struct upload *next;
    char cid[PARLEY_ID_SIZE];
    char *conv, *name, *type, *path; /* path: the host's file, or NULL */
    char sha[PL_SHA256_HEX];
    uint64_t size, nchunks;
    int spooled;          /* a copy of the host's bytes is in the spool file */
    unsigned char *bytes; /* the host's bytes, loaded; NULL until needed */
    /* on this connection */
    int started, done;
    uint64_t acked, sent, reported;
    uint64_t best; /* the most chunks ever acknowledged on this run */
    unsigned nacks, restarts;
} upload;

struct pl_uploads {
    pl_alloc alloc;
    pl_sess *sess;
    pl_journal *journal;
    const pl_journal_io *spool;
    pl_file_io files;
    const pl_log *log;
    upload *head;
    size_t count;
    uint64_t cap; /* the last server's max_attachment, 0: none known */
};

/* ---- uploads ------------------------------------------------------------------------ */

static upload *find(const pl_uploads *u, const char *cid)
{
    for (upload *p = u->head; p; p = p->next)
        if (cid && strcmp(p->cid, cid) == 0)
            return p;
    return NULL;
}

/* In the order the user attached them. */
static void append(pl_uploads *u, upload *p)
{
    upload **pp = &u->head;
    while (*pp)
        pp = &(*pp)->next;
    p->next = NULL;
    *pp = p;
    u->count++;
}

static void spool_name(const upload *p, char name[PARLEY_ID_SIZE + 8])
{
    snprintf(name, PARLEY_ID_SIZE + 8, "att-%s", p->cid);
}

static void record_key(const char *cid, char key[PARLEY_ID_SIZE + 4])
{
    snprintf(key, PARLEY_ID_SIZE + 4, "u/%s", cid);
}

static void upload_free(pl_uploads *u, upload *p)
{
    char *strs[] = {p->conv, p->name, p->type, p->path};
    for (size_t i = 0; i < sizeof strs / sizeof *strs; i++)
        pl_free(&u->alloc, strs[i]);
    pl_free(&u->alloc, p->bytes);
    pl_free(&u->alloc, p);
}

/* Out of memory and the journal, spool file included. */
static void forget(pl_uploads *u, upload *p)
{
    char key[PARLEY_ID_SIZE + 4], spool[PARLEY_ID_SIZE + 8];
    record_key(p->cid, key);
    spool_name(p, spool);
    pl_sess_unsend(u->sess, p);
    if (u->journal && pl_journal_del(u->journal, PL_UPLOADS_NS, key, 0) != PARLEY_OK)
        PL_LOG_W(u->log, "upload %s not removed from the journal", p->cid);
    if (p->spooled && u->spool && u->spool->remove(u->spool->user, spool) != PARLEY_OK)
        PL_LOG_W(u->log, "spool file %s not removed", spool);
    for (upload **pp = &u->head; *pp; pp = &(*pp)->next)
        if (*pp == p) {
            *pp = p->next;
            u->count--;
            break;
        }
    upload_free(u, p);
}

/* ---- events ---------------------------------------------------------------------------- */

static parley_event *att_event(pl_uploads *u, const upload *p, int state)
{
    parley_event *ev = pl_event_new(&u->alloc, PARLEY_EV_ATTACHMENT);
    pl_attachment *att = ev ? pl_attachment_new(&u->alloc) : NULL;
    if (!att || pl_event_set(ev, &ev->cid, p->cid) != PARLEY_OK ||
        pl_event_set(ev, &ev->conv, p->conv) != PARLEY_OK ||
        !(att->name = pl_strdup(&u->alloc, p->name)) ||
        !(att->type = pl_strdup(&u->alloc, p->type)) ||
        !(att->sha256 = pl_strdup(&u->alloc, p->sha))) {
        pl_attachment_free(&u->alloc, att);
        parley_event_free(ev);
        PL_LOG_W(u->log, "attachment event of %s lost: out of memory", p->cid);
        return NULL;
    }
    att->size = p->size;
    ev->attachment = att;
    ev->state = state;
    ev->bytes_total = (int64_t)p->size;
    return ev;
}

/* FAILED with what the message failed with (the ERROR event's code and text). */
static parley_event *failed_event(pl_uploads *u, const upload *p, int code, const char *text)
{
    parley_event *ev = att_event(u, p, PARLEY_ATT_FAILED);
    if (ev && text && pl_event_set(ev, &ev->text, text) != PARLEY_OK) {
        parley_event_free(ev);
        PL_LOG_W(u->log, "attachment event of %s lost: out of memory", p->cid);
        return NULL;
    }
    if (ev)
        ev->error_code = code;
    return ev;
}

static void progress(pl_uploads *u, upload *p)
{
    uint64_t bytes = p->acked * PL_ATT_CHUNK < p->size ? p->acked * PL_ATT_CHUNK : p->size;
    if (bytes < p->reported + PROGRESS_STEP && bytes < p->size)
        return;
    parley_event *ev = att_event(u, p, PARLEY_ATT_PROGRESS);
    if (ev)
        ev->bytes_done = (int64_t)bytes;
    p->reported = bytes;
    pl_sess_emit(u->sess, ev);
}

/* The message fails for good; on_item_done forgets the upload. */
static void fail(pl_uploads *u, upload *p, int code, const char *why)
{
    char text[PL_ATT_MAX_NAME + 160];
    snprintf(text, sizeof text, "attachment %s: %s", p->name, why);
    PL_LOG_W(u->log, "%s", text);
    if (pl_sess_fail_item(u->sess, p->cid, code, text, why) == PARLEY_ERR_NOMEM)
        PL_LOG_E(u->log, "upload %s could not be failed: out of memory", p->cid);
}

/* ---- the source ------------------------------------------------------------------------- */

/* The host's bytes back from the spool after a restart. */
static int load_bytes(pl_uploads *u, upload *p)
{
    if (p->bytes || !p->spooled)
        return p->bytes ? PARLEY_OK : PARLEY_ERR_IO;
    char spool[PARLEY_ID_SIZE + 8];
    spool_name(p, spool);
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = u->spool ? u->spool->read_all(u->spool->user, &u->alloc, spool, &data, &len)
                      : PARLEY_ERR_IO;
    if (rc == PARLEY_OK && len != p->size)
        rc = PARLEY_ERR_IO;
    if (rc != PARLEY_OK) {
        pl_free(&u->alloc, data);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
    }
    p->bytes = data;
    return PARLEY_OK;
}

/* `len` bytes of the file at `off`. */
static int read_source(pl_uploads *u, upload *p, uint64_t off, void *buf, size_t len)
{
    if (p->path)
        return u->files.read_at(u->files.user, p->path, off, buf, len);
    int rc = load_bytes(u, p);
    if (rc == PARLEY_OK)
        memcpy(buf, p->bytes + off, len);
    return rc;
}

/* The SHA-256 of a file of `size` bytes, read in pieces. */
static int hash_file(pl_uploads *u, const char *path, uint64_t size, char out[PL_SHA256_HEX])
{
    unsigned char *buf = pl_malloc(&u->alloc, READ_PIECE);
    if (!buf)
        return PARLEY_ERR_NOMEM;
    pl_sha256 h;
    pl_sha256_start(&h);
    int rc = PARLEY_OK;
    for (uint64_t off = 0; off < size && rc == PARLEY_OK; off += READ_PIECE) {
        size_t n = size - off < READ_PIECE ? (size_t)(size - off) : READ_PIECE;
        rc = u->files.read_at(u->files.user, path, off, buf, n);
        pl_sha256_update(&h, buf, n);
    }
    pl_sha256_finish(&h, out);
    pl_free(&u->alloc, buf);
    return rc;
}

/* Whether the host's file still is what was attached. */
static int source_unchanged(pl_uploads *u, upload *p)
{
    char sha[PL_SHA256_HEX];
    uint64_t size = 0;
    if (!p->path)
        return load_bytes(u, p) == PARLEY_OK;
    return u->files.size(u->files.user, p->path, &size) == PARLEY_OK && size == p->size &&
           hash_file(u, p->path, size, sha) == PARLEY_OK && strcmp(sha, p->sha) == 0;
}

/* ---- the upload on a connection -------------------------------------------------------- */

static int send_chunk(pl_uploads *u, upload *p, unsigned char *buf)
{
    uint64_t off = p->sent * PL_ATT_CHUNK;
    size_t n = p->size - off < PL_ATT_CHUNK ? (size_t)(p->size - off) : PL_ATT_CHUNK;
    int rc = read_source(u, p, off, buf, n);
    if (rc != PARLEY_OK) {
        if (rc != PARLEY_ERR_NOMEM)
            fail(u, p, PARLEY_ERR_IO, "the file is gone or can no longer be read");
        return rc;
    }
    char *frame = NULL;
    size_t len = 0;
    rc = pl_proto_encode_att_chunk(&u->alloc, p->cid, p->sent, buf, n, &frame, &len);
    if (rc == PARLEY_OK)
        rc = pl_sess_send_tagged(u->sess, p, "att.chunk", frame, len);
    if (rc == PARLEY_OK)
        p->sent++;
    /* No later chunk would fit either: held, the message would wait for ever. */
    if (rc == PARLEY_ERR_TOO_LONG)
        fail(u, p, PARLEY_ERR_TOO_LONG, "a chunk does not fit the server's frame limit");
    return rc;
}

static int window_open(const pl_uploads *u, const upload *p)
{
    return p->started && !p->done && p->sent < p->nchunks &&
           p->sent - p->acked < PL_UPLOAD_WINDOW && pl_sess_online(u->sess);
}

/* Sends chunks while the window has room. The chunk's buffer is on the
 * heap: this runs on the host's thread in host-driven mode, whose stack
 * may be small. */
static void pump(pl_uploads *u, upload *p)
{
    if (!window_open(u, p))
        return;
    unsigned char *buf = pl_malloc(&u->alloc, PL_ATT_CHUNK);
    if (!buf) {
        PL_LOG_W(u->log, "upload %s paused: out of memory", p->cid);
        return;
    }
    while (window_open(u, p) && send_chunk(u, p, buf) == PARLEY_OK)
        ;
    pl_free(&u->alloc, buf);
}

/* From chunk `i` on again, in place of the chunks still unwritten. */
static void resend_from(pl_uploads *u, upload *p, uint64_t i)
{
    pl_sess_unsend(u->sess, p);
    p->sent = i;
    if (p->acked > i)
        p->acked = i;
    pump(u, p);
}

static int begin(pl_uploads *u, upload *p)
{
    pl_att_begin b = {p->cid, p->name, p->type, p->sha, p->size};
    char *frame = NULL;
    size_t len = 0;
    p->started = 0;
    p->acked = p->sent = 0;
    int rc = pl_proto_encode_att_begin(&u->alloc, &b, &frame, &len);
    return rc == PARLEY_OK ? pl_sess_send_control(u->sess, "att.begin", frame, len) : rc;
}

static void on_offset(pl_uploads *u, upload *p, const pl_att_reply *r)
{
    if (r->hash_failed) {
        if (++p->restarts > MAX_RESTARTS) {
            fail(u, p, PARLEY_ERR_REJECTED, "the server's copy kept failing its SHA-256");
            return;
        }
        if (!source_unchanged(u, p)) {
            fail(u, p, PARLEY_ERR_IO, "the file changed since it was attached");
            return;
        }
        PL_LOG_W(u->log, "upload %s: the server's copy failed its SHA-256, sending it again",
                 p->cid);
        /* A pass of its own: refusals of the last one are not held against it. */
        p->best = 0;
        p->nacks = 0;
    }
    p->started = 1;
    p->acked = r->n < p->nchunks ? r->n : p->nchunks;
    resend_from(u, p, p->acked);
}

static void on_nack(pl_uploads *u, upload *p, uint64_t i)
{
    if (i >= p->nchunks || i >= p->sent)
        return;
    if (++p->nacks > MAX_NACKS) {
        fail(u, p, PARLEY_ERR_REJECTED, "chunks kept failing their SHA-256 at the server");
        return;
    }
    PL_LOG_W(u->log, "upload %s: chunk %llu refused, sending it again", p->cid,
             (unsigned long long)i);
    resend_from(u, p, i);
}

/* New ground forgives earlier refusals: a long upload may meet a few. */
static void on_ack(pl_uploads *u, upload *p, uint64_t n)
{
    if (n > p->acked)
        p->acked = n < p->sent ? n : p->sent;
    if (p->acked > p->best) {
        p->best = p->acked;
        p->nacks = 0;
    }
    progress(u, p);
    pump(u, p);
}

static void on_done(pl_uploads *u, upload *p)
{
    pl_sess_unsend(u->sess, p); /* the server has the whole file */
    p->done = 1;
    p->acked = p->nchunks;
    progress(u, p);
    pl_free(&u->alloc, p->bytes);
    p->bytes = NULL;
    if (pl_sess_release(u->sess, p->cid) != PARLEY_OK)
        PL_LOG_W(u->log, "upload %s: its message could not be released", p->cid);
    parley_event *ev = att_event(u, p, PARLEY_ATT_UPLOADED);
    if (ev)
        ev->bytes_done = (int64_t)p->size;
    pl_sess_emit(u->sess, ev);
}

static int on_reply(pl_uploads *u, const pl_frame *f)
{
    pl_att_reply r;
    char why[160];
    int rc = pl_proto_decode_att_reply(&u->alloc, f, &r, why, sizeof why);
    if (rc == PARLEY_ERR_PROTOCOL)
        return pl_sess_bad_frame(u->sess, f, why, NULL) == PARLEY_OK ? 1 : PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK)
        return rc;
    upload *p = find(u, r.cid);
    if (!p || p->done) {
        PL_LOG_D(u->log, "%s for no upload in progress ignored", f->type_name);
    } else if (r.kind == PL_ATT_REPLY_OFFSET) {
        on_offset(u, p, &r);
    } else if (r.kind == PL_ATT_REPLY_ACK && p->started) {
        on_ack(u, p, r.n);
    } else if (r.kind == PL_ATT_REPLY_NACK && p->started) {
        on_nack(u, p, r.n);
    } else if (r.kind == PL_ATT_REPLY_DONE) {
        on_done(u, p);
    }
    pl_att_reply_clear(&u->alloc, &r);
    return 1;
}

/* ---- session hooks ------------------------------------------------------------------------ */

static int on_welcome(void *user, int64_t now)
{
    pl_uploads *u = user;
    (void)now;
    uint64_t cap = pl_sess_max_attachment(u->sess);
    if (cap && cap != u->cap) {
        u->cap = cap;
        char v[24];
        snprintf(v, sizeof v, "%llu", (unsigned long long)cap);
        if (u->journal && pl_journal_put(u->journal, PL_UPLOADS_NS, KEY_CAP, v, strlen(v), 0))
            PL_LOG_W(u->log, "the server's attachment limit was not journaled");
    }
    int rc = PARLEY_OK;
    for (upload *p = u->head; p && rc == PARLEY_OK; p = p->next) {
        p->started = 0;
        if (!p->done)
            rc = begin(u, p);
    }
    return rc;
}

static int on_frame(void *user, int64_t now, const pl_frame *f)
{
    (void)now;
    if (f->type != PL_FRAME_UNKNOWN || !pl_proto_att_reply_kind(f->type_name))
        return 0;
    return on_reply(user, f);
}

static void on_item_done(void *user, const pl_sess_done *d)
{
    pl_uploads *u = user;
    upload *p = find(u, d->cid);
    if (!p)
        return;
    if (!d->acked)
        pl_sess_emit(u->sess, failed_event(u, p, d->error, d->text));
    forget(u, p);
}

static void forget_all(pl_uploads *u, int files_too)
{
    while (u->head) {
        upload *p = u->head;
        if (!files_too)
            p->spooled = 0;
        u->head = p->next;
        char spool[PARLEY_ID_SIZE + 8];
        spool_name(p, spool);
        if (p->spooled && u->spool)
            (void)u->spool->remove(u->spool->user, spool);
        upload_free(u, p);
    }
    u->count = 0;
}

static void on_logout(void *user)
{
    pl_uploads *u = user;
    forget_all(u, 1);
    if (u->journal && pl_journal_clear_ns(u->journal, PL_UPLOADS_NS) != PARLEY_OK)
        PL_LOG_W(u->log, "uploads could not be wiped from the journal");
    u->cap = 0;
}

/* ---- the journal --------------------------------------------------------------------------- */

/* Splits the next '\n'-terminated field off *p into a new string. */
static char *field(pl_uploads *u, const char **p, const char *end)
{
    const char *nl = memchr(*p, '\n', (size_t)(end - *p));
    if (!nl)
        return NULL;
    char *s = pl_strndup(&u->alloc, *p, (size_t)(nl - *p));
    *p = nl + 1;
    return s;
}

static int parse_u64(const char *s, uint64_t *out)
{
    char *end;
    unsigned long long v = s && *s ? strtoull(s, &end, 10) : 0;
    if (!s || !*s || *end)
        return 0;
    *out = v;
    return 1;
}

static upload *parse_record(pl_uploads *u, const char *cid, const char *v, size_t len)
{
    const char *p = v, *end = v + len;
    upload *up = pl_calloc(&u->alloc, 1, sizeof *up);
    char *size = NULL, *sha = NULL, *src = NULL;
    if (!up)
        return NULL;
    memcpy(up->cid, cid, strlen(cid) + 1);
    int ok = (up->conv = field(u, &p, end)) && (up->name = field(u, &p, end)) &&
             (up->type = field(u, &p, end)) && (size = field(u, &p, end)) &&
             (sha = field(u, &p, end)) && (src = field(u, &p, end)) && parse_u64(size, &up->size) &&
             pl_sha256_valid(sha) && up->size && (src[0] == 'b' || (src[0] == 'f' && p < end)) &&
             !src[1];
    if (ok && src[0] == 'f')
        ok = (up->path = pl_strndup(&u->alloc, p, (size_t)(end - p))) != NULL;
    up->spooled = ok && src[0] == 'b';
    if (ok)
        memcpy(up->sha, sha, PL_SHA256_HEX);
    up->nchunks = pl_attachment_chunks(up->size);
    pl_free(&u->alloc, size);
    pl_free(&u->alloc, sha);
    pl_free(&u->alloc, src);
    if (!ok) {
        upload_free(u, up);
        return NULL;
    }
    return up;
}

static int load_record(void *user, const char *key, const void *value, size_t len)
{
    pl_uploads *u = user;
    if (strcmp(key, KEY_CAP) == 0) {
        char v[24];
        if (len < sizeof v) {
            memcpy(v, value, len);
            v[len] = '\0';
            (void)parse_u64(v, &u->cap);
        }
        return 0;
    }
    const char *cid = key + 2;
    if (strncmp(key, "u/", 2) != 0 || !pl_id_valid(cid, PARLEY_ID_SIZE - 1))
        return 0;
    if (!pl_sess_item_pending(u->sess, cid)) /* sent or failed: forgotten after load */
        return 0;
    upload *p = parse_record(u, cid, value, len);
    if (!p) {
        PL_LOG_W(u->log, "journal: bad upload %s skipped", cid);
        return 0;
    }
    append(u, p);
    return 0;
}

/* Records (and spool files) of items no longer in the outbox: the ack
 * came while their removal was lost in a crash. Collected first, removed
 * after: a delete changes what foreach walks. */
typedef struct stale {
    pl_uploads *u;
    char (*cids)[PARLEY_ID_SIZE];
    size_t n, cap;
} stale;

static int collect_stale(void *user, const char *key, const void *value, size_t len)
{
    stale *st = user;
    (void)value;
    (void)len;
    const char *cid = key + 2;
    if (strncmp(key, "u/", 2) != 0 || find(st->u, cid) || strlen(cid) >= PARLEY_ID_SIZE)
        return 0;
    if (st->n == st->cap) {
        size_t cap = st->cap ? st->cap * 2 : 8;
        void *grown = pl_realloc(&st->u->alloc, st->cids, cap * sizeof *st->cids);
        if (!grown)
            return PARLEY_ERR_NOMEM;
        st->cids = grown;
        st->cap = cap;
    }
    memcpy(st->cids[st->n++], cid, strlen(cid) + 1);
    return 0;
}

static int load(pl_uploads *u)
{
    if (!u->journal)
        return PARLEY_OK;
    stale st = {u, NULL, 0, 0};
    int rc = pl_journal_foreach(u->journal, PL_UPLOADS_NS, load_record, u);
    if (rc == PARLEY_OK)
        rc = pl_journal_foreach(u->journal, PL_UPLOADS_NS, collect_stale, &st);
    for (size_t i = 0; rc == PARLEY_OK && i < st.n; i++) {
        char key[PARLEY_ID_SIZE + 4], spool[PARLEY_ID_SIZE + 8];
        record_key(st.cids[i], key);
        snprintf(spool, sizeof spool, "att-%s", st.cids[i]);
        (void)pl_journal_del(u->journal, PL_UPLOADS_NS, key, 0);
        if (u->spool)
            (void)u->spool->remove(u->spool->user, spool);
    }
    pl_free(&u->alloc, st.cids);
    return rc;
}

/* ---- lifecycle ---------------------------------------------------------------------------- */

pl_uploads *pl_uploads_new(const pl_alloc *a, pl_sess *sess, const pl_uploads_config *cfg,
                           const pl_log *log)
{
    pl_uploads *u = pl_calloc(a, 1, sizeof *u);
    if (!u)
        return NULL;
    u->alloc = *a;
    u->sess = sess;
    u->journal = cfg->journal;
    u->spool = cfg->spool;
    u->files = cfg->files;
    u->log = log;
    pl_sess_ext ext = {.user = u,
                       .on_welcome = on_welcome,
                       .on_frame = on_frame,
                       .on_logout = on_logout,
                       .on_item_done = on_item_done};
    if (load(u) != PARLEY_OK || pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_uploads_free(u);
        return NULL;
    }
    return u;
}

void pl_uploads_free(pl_uploads *u)
{
    if (!u)
        return;
    forget_all(u, 0);
    pl_alloc a = u->alloc;
    pl_free(&a, u);
}

/* ---- host API ----------------------------------------------------------------------------- */

uint64_t pl_uploads_max(const pl_uploads *u)
{
    uint64_t cap = u->cap ? u->cap : PL_ATT_DEFAULT_MAX;
    return cap < PL_ATT_HARD_MAX ? cap : PL_ATT_HARD_MAX;
}

/* The source's size and SHA-256. */
static int measure(pl_uploads *u, const pl_upload_src *src, uint64_t *size, char sha[PL_SHA256_HEX])
{
    if (!src->path) {
        *size = src->len;
        if (!src->len || src->len > pl_uploads_max(u))
            return src->len ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_INVALID_ARG;
        pl_sha256_hex(src->bytes, src->len, sha);
        return PARLEY_OK;
    }
    int rc = u->files.size(u->files.user, src->path, size);
    if (rc == PARLEY_OK && !*size)
        rc = PARLEY_ERR_INVALID_ARG;
    if (rc == PARLEY_OK && *size > pl_uploads_max(u))
        rc = PARLEY_ERR_TOO_LONG;
    return rc == PARLEY_OK ? hash_file(u, src->path, *size, sha) : rc;
}

/* The record: conv, name, type, size, sha256, source and where. */
static int persist(pl_uploads *u, const upload *p)
{
    if (!u->journal)
        return PARLEY_OK;
    const char *where = p->path ? p->path : "";
    size_t n = strlen(p->conv) + strlen(p->name) + strlen(p->type) + 24 + 64 + strlen(where) + 8;
    char *v = pl_malloc(&u->alloc, n), key[PARLEY_ID_SIZE + 4];
    if (!v)
        return PARLEY_ERR_NOMEM;
    int len = snprintf(v, n, "%s\n%s\n%s\n%llu\n%s\n%c\n%s", p->conv, p->name, p->type,
                       (unsigned long long)p->size, p->sha, p->path ? 'f' : 'b', where);
    record_key(p->cid, key);
    int rc = pl_journal_put(u->journal, PL_UPLOADS_NS, key, v, (size_t)len, 0);
    pl_free(&u->alloc, v);
    return rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
}

/* The host's bytes: a synced copy in the spool when there is one, and in
 * memory until the upload is done. */
static int keep_bytes(pl_uploads *u, upload *p, const pl_upload_src *src)
{
    if (!(p->bytes = pl_malloc(&u->alloc, src->len)))
        return PARLEY_ERR_NOMEM;
    memcpy(p->bytes, src->bytes, src->len);
    if (!u->spool)
        return PARLEY_OK;
    char spool[PARLEY_ID_SIZE + 8];
    spool_name(p, spool);
    int rc = u->spool->remove(u->spool->user, spool);
    if (rc == PARLEY_OK)
        rc = u->spool->append(u->spool->user, spool, src->bytes, src->len);
    if (rc == PARLEY_OK)
        rc = u->spool->sync(u->spool->user, spool);
    p->spooled = 1; /* removed with the upload, whatever happened */
    return rc == PARLEY_OK ? rc : PARLEY_ERR_IO;
}

static upload *upload_new(pl_uploads *u, const char *conv, const pl_upload_src *src)
{
    upload *p = pl_calloc(&u->alloc, 1, sizeof *p);
    if (!p)
        return NULL;
    if (!(p->conv = pl_strdup(&u->alloc, conv)) || !(p->name = pl_strdup(&u->alloc, src->name)) ||
        !(p->type = pl_strdup(&u->alloc, src->type)) ||
        (src->path && !(p->path = pl_strdup(&u->alloc, src->path)))) {
        upload_free(u, p);
        return NULL;
    }
    return p;
}

static int check_src(const pl_uploads *u, const char *conv, const pl_upload_src *src)
{
    if (!src->name || !src->type || !src->caption || (!src->path && !src->bytes))
        return PARLEY_ERR_INVALID_ARG;
    if (!pl_attachment_name_valid(src->name) || !pl_attachment_type_valid(src->type))
        return PARLEY_ERR_INVALID_ARG;
    if (src->path && (!*src->path || strpbrk(src->path, "\n\r")))
        return PARLEY_ERR_INVALID_ARG;
    if (!pl_sess_conv_known(u->sess, conv))
        return PARLEY_ERR_NOT_FOUND;
    return u->count >= PL_UPLOADS_MAX ? PARLEY_ERR_FULL : PARLEY_OK;
}

/* Durable in this order: the bytes' copy, the record, then the item
 * (synced, which makes the record durable too). */
static int commit(pl_uploads *u, upload *p, const pl_upload_src *src)
{
    int rc = src->path ? PARLEY_OK : keep_bytes(u, p, src);
    if (rc == PARLEY_OK)
        rc = persist(u, p);
    char *frame = NULL;
    size_t len = 0;
    if (rc == PARLEY_OK)
        rc = pl_proto_encode_msg_attachment(&u->alloc, p->cid, p->conv, src->caption, p->sha,
                                            &frame, &len);
    if (rc == PARLEY_OK)
        rc = pl_sess_enqueue(u->sess, PL_SESS_ITEM_ATTACH, p->conv, p->cid, frame, len);
    return rc;
}

int pl_uploads_send(pl_uploads *u, const char *conv, const pl_upload_src *src,
                    char cid_out[PARLEY_ID_SIZE])
{
    int rc = check_src(u, conv, src);
    upload *p = rc == PARLEY_OK ? upload_new(u, conv, src) : NULL;
    if (rc == PARLEY_OK && !p)
        rc = PARLEY_ERR_NOMEM;
    if (rc == PARLEY_OK)
        rc = measure(u, src, &p->size, p->sha);
    if (rc == PARLEY_OK)
        rc = pl_sess_mint_cid(u->sess, p->cid);
    if (rc != PARLEY_OK) {
        if (p)
            upload_free(u, p);
        return rc;
    }
    p->nchunks = pl_attachment_chunks(p->size);
    append(u, p);
    if ((rc = commit(u, p, src)) != PARLEY_OK) {
        forget(u, p);
        return rc;
    }
    PL_LOG_I(u->log, "attachment %s (%llu bytes) queued as %s", p->name,
             (unsigned long long)p->size, p->cid);
    if (pl_sess_online(u->sess) && begin(u, p) != PARLEY_OK)
        PL_LOG_W(u->log, "upload %s starts at the next connection", p->cid);
    memcpy(cid_out, p->cid, strlen(p->cid) + 1);
    return PARLEY_OK;
}
