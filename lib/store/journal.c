/* Decisions the header leaves open:
 * - The first record is always a header (never encrypted) naming the mode;
 *   an encrypted journal's header seals a known constant, so a wrong key, a
 *   key on a plain journal or none on an encrypted one is AUTH, never a
 *   "corrupt tail" that would be cut off. A refused open writes nothing.
 * - Replay stops at the first record that fails a check (frame, CRC, GCM
 *   tag, body): it and everything after are dropped, since the framing
 *   after it cannot be trusted. A torn header starts an empty journal.
 * - A put/del that returns an error is absent after a crash. The one
 *   exception: the cut-back after a failed write fails too; the cut is
 *   then retried before the next append (which fails with IO until it
 *   works), and until then the failed record may survive a crash whole.
 * - Nonces are 12 random bytes from a CTR_DRBG the journal owns (only when
 *   encrypted). mbedTLS allocates its cipher context itself (mbedtls_calloc),
 *   outside the pl_alloc hooks, as the TLS stack does.
 * - Record numbers count appends since the journal was opened; at open the
 *   log replayed is not known to be synced (a killed process leaves its
 *   writes to the OS), so it counts as one record for the first commit.
 * The public writes are in journal_write.c, compaction in journal_compact.c. */
#include "store/journal.h"

#include <stdio.h>
#include <string.h>

#include "platform/entropy.h"
#include "platform/fs.h"
#include "store/journal_internal.h"
#include "util/crc32.h"

/* ---- record format ---------------------------------------------------- */

#define LOG_NAME PL_JLOG_NAME

#define MAGIC0 0x50  /* 'P' */
#define MAGIC1 0x4a  /* 'J' */
#define FRAME_LEN 10 /* magic 2 | length 4 | crc 4 */
#define BODY_HDR 4   /* op 1 | ns 1 | keylen 2 */
#define NONCE_LEN 12
#define TAG_LEN 16
#define SEAL_LEN (NONCE_LEN + TAG_LEN)
#define MAX_BODY (BODY_HDR + PL_JOURNAL_MAX_KEY + PL_JOURNAL_MAX_VALUE + SEAL_LEN)

enum {
    OP_PUT = PL_JOP_PUT,
    OP_DEL = PL_JOP_DEL,
    OP_CLEAR = PL_JOP_CLEAR,
    OP_HEADER = PL_JOP_HEADER
};

/* The header record is never encrypted: it says whether the rest is, and for
 * an encrypted journal carries a sealed known constant so that the wrong key
 * is told apart from a corrupt tail. */
#define HDR_VERSION 1
enum { MODE_PLAIN = 0, MODE_GCM = 1 };
static const unsigned char key_check[] = "parley-journal-1";
#define CHECK_LEN (sizeof key_check - 1)

static void put_le32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static uint32_t get_le32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* ---- the journal ------------------------------------------------------ */

typedef pl_jentry entry;

static int key_cmp(uint8_t ns, const char *key, size_t keylen, const entry *e)
{
    if (ns != e->ns)
        return ns < e->ns ? -1 : 1;
    size_t m = keylen < e->keylen ? keylen : e->keylen;
    int c = memcmp(key, e->key, m);
    if (c)
        return c;
    return (keylen > e->keylen) - (keylen < e->keylen);
}

/* Index of the entry, or of where it would go; *found says which. */
size_t pl_jfind(const pl_journal *j, uint8_t ns, const char *key, size_t keylen, int *found)
{
    size_t lo = 0, hi = j->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = key_cmp(ns, key, keylen, &j->e[mid]);
        if (c == 0) {
            *found = 1;
            return mid;
        }
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    *found = 0;
    return lo;
}

int pl_jreserve(pl_journal *j)
{
    if (j->n < j->cap)
        return PARLEY_OK;
    size_t cap = j->cap ? j->cap * 2 : 16;
    entry *e = pl_realloc(&j->alloc, j->e, cap * sizeof *e);
    if (!e)
        return PARLEY_ERR_NOMEM;
    j->e = e;
    j->cap = cap;
    return PARLEY_OK;
}

/* A detached entry holding copies of key and value (not yet in the map). */
int pl_jentry_make(pl_journal *j, uint8_t ns, const char *key, size_t keylen, const void *val,
                   size_t vlen, entry *out)
{
    char *b = pl_malloc(&j->alloc, keylen + 1 + vlen);
    if (!b)
        return PARLEY_ERR_NOMEM;
    memcpy(b, key, keylen);
    b[keylen] = '\0';
    if (vlen)
        memcpy(b + keylen + 1, val, vlen);
    out->ns = ns;
    out->key = b;
    out->keylen = keylen;
    out->val = (unsigned char *)b + keylen + 1;
    out->vlen = vlen;
    return PARLEY_OK;
}

/* Puts a made entry into the map (capacity reserved by the caller); returns
 * whether it replaced a live one. */
int pl_jmap_set(pl_journal *j, entry *ne)
{
    int found = 0;
    size_t i = j->n;
    /* A compacted log holds its entries in map order: replaying it appends
     * each one, without a search. */
    if (j->n == 0 || key_cmp(ne->ns, ne->key, ne->keylen, &j->e[j->n - 1]) <= 0)
        i = pl_jfind(j, ne->ns, ne->key, ne->keylen, &found);
    if (found) {
        pl_free(&j->alloc, j->e[i].key);
        j->e[i] = *ne;
        return 1;
    }
    memmove(&j->e[i + 1], &j->e[i], (j->n - i) * sizeof *j->e);
    j->e[i] = *ne;
    j->n++;
    return 0;
}

int pl_jmap_del(pl_journal *j, uint8_t ns, const char *key, size_t keylen)
{
    int found;
    size_t i = pl_jfind(j, ns, key, keylen, &found);
    if (!found)
        return 0;
    pl_free(&j->alloc, j->e[i].key);
    memmove(&j->e[i], &j->e[i + 1], (j->n - i - 1) * sizeof *j->e);
    j->n--;
    return 1;
}

size_t pl_jmap_clear_ns(pl_journal *j, uint8_t ns)
{
    size_t w = 0, removed = 0;
    for (size_t r = 0; r < j->n; r++) {
        if (j->e[r].ns == ns) {
            pl_free(&j->alloc, j->e[r].key);
            removed++;
        } else {
            j->e[w++] = j->e[r];
        }
    }
    j->n = w;
    return removed;
}

/* ---- encoding --------------------------------------------------------- */

/* Fills the frame of the record whose body[blen] follows at r + FRAME_LEN. */
static void frame_header(unsigned char *r, size_t blen)
{
    r[0] = MAGIC0;
    r[1] = MAGIC1;
    put_le32(r + 2, (uint32_t)blen);
    put_le32(r + 6, pl_crc32(r + FRAME_LEN, blen));
}

/* nonce | ciphertext | tag of plain[len] into out[len + SEAL_LEN]; plain
 * may be out + NONCE_LEN (in place). */
static int seal(pl_jcrypto *c, const unsigned char *plain, size_t len, unsigned char *out)
{
    if (pl_rand_bytes(c->rand, out, NONCE_LEN) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    if (mbedtls_gcm_crypt_and_tag(&c->gcm, MBEDTLS_GCM_ENCRYPT, len, out, NONCE_LEN, NULL, 0, plain,
                                  out + NONCE_LEN, TAG_LEN, out + NONCE_LEN + len) != 0)
        return PARLEY_ERR_IO;
    return PARLEY_OK;
}

static int open_sealed(pl_journal *j, const unsigned char *in, size_t len, unsigned char *out)
{
    if (len < SEAL_LEN)
        return PARLEY_ERR_AUTH;
    size_t clen = len - SEAL_LEN;
    if (mbedtls_gcm_auth_decrypt(&j->fg.gcm, clen, in, NONCE_LEN, NULL, 0, in + NONCE_LEN + clen,
                                 TAG_LEN, in + NONCE_LEN, out) != 0)
        return PARLEY_ERR_AUTH;
    return PARLEY_OK;
}

/* A complete framed record for op on (ns, key) with value[vlen], built in
 * one buffer: the plain body sits where the ciphertext goes (GCM encrypts
 * in place). */
int pl_jencode(pl_journal *j, pl_jcrypto *c, int op, uint8_t ns, const char *key, size_t keylen,
               const void *val, size_t vlen, unsigned char **out, size_t *outlen)
{
    size_t plen = BODY_HDR + keylen + vlen;
    size_t blen = plen + (j->encrypted ? SEAL_LEN : 0);
    unsigned char *r = pl_malloc(&j->alloc, FRAME_LEN + blen);
    if (!r)
        return PARLEY_ERR_NOMEM;
    unsigned char *body = r + FRAME_LEN;
    unsigned char *p = body + (j->encrypted ? NONCE_LEN : 0);
    p[0] = (unsigned char)op;
    p[1] = ns;
    p[2] = (unsigned char)keylen;
    p[3] = (unsigned char)(keylen >> 8);
    if (keylen)
        memcpy(p + BODY_HDR, key, keylen);
    if (vlen)
        memcpy(p + BODY_HDR + keylen, val, vlen);
    int rc = j->encrypted ? seal(c, p, plen, body) : PARLEY_OK;
    if (rc != PARLEY_OK) {
        pl_free(&j->alloc, r);
        return rc;
    }
    frame_header(r, blen);
    *out = r;
    *outlen = FRAME_LEN + blen;
    return PARLEY_OK;
}

int pl_jencode_header(pl_journal *j, pl_jcrypto *c, unsigned char **out, size_t *outlen)
{
    size_t blen = BODY_HDR + 2 + (j->encrypted ? CHECK_LEN + SEAL_LEN : 0);
    unsigned char *r = pl_malloc(&j->alloc, FRAME_LEN + blen);
    if (!r)
        return PARLEY_ERR_NOMEM;
    unsigned char *b = r + FRAME_LEN;
    b[0] = OP_HEADER;
    b[1] = b[2] = b[3] = 0;
    b[BODY_HDR] = HDR_VERSION;
    b[BODY_HDR + 1] = j->encrypted ? MODE_GCM : MODE_PLAIN;
    int rc = j->encrypted ? seal(c, key_check, CHECK_LEN, b + BODY_HDR + 2) : PARLEY_OK;
    if (rc != PARLEY_OK) {
        pl_free(&j->alloc, r);
        return rc;
    }
    frame_header(r, blen);
    *out = r;
    *outlen = FRAME_LEN + blen;
    return PARLEY_OK;
}

/* ---- replay ----------------------------------------------------------- */

/* Length of the whole well-framed record at p[avail] with a matching CRC, or
 * 0 when it is torn or corrupt. */
static size_t frame_ok(const unsigned char *p, size_t avail)
{
    if (avail < FRAME_LEN || p[0] != MAGIC0 || p[1] != MAGIC1)
        return 0;
    uint32_t blen = get_le32(p + 2);
    if (blen < BODY_HDR || blen > MAX_BODY || avail - FRAME_LEN < blen)
        return 0;
    if (pl_crc32(p + FRAME_LEN, blen) != get_le32(p + 6))
        return 0;
    return FRAME_LEN + blen;
}

static int check_header(pl_journal *j, const unsigned char *body, size_t blen)
{
    if (body[0] != OP_HEADER || blen < BODY_HDR + 2 || body[BODY_HDR] != HDR_VERSION) {
        PL_LOG_E(j->log, "journal: not a journal (or a newer format)");
        return PARLEY_ERR_IO;
    }
    int mode = body[BODY_HDR + 1];
    if (mode != (j->encrypted ? MODE_GCM : MODE_PLAIN)) {
        PL_LOG_E(j->log, "journal: %s",
                 j->encrypted ? "written without a key" : "encrypted, no key given");
        return PARLEY_ERR_AUTH;
    }
    if (!j->encrypted)
        return PARLEY_OK;
    unsigned char check[CHECK_LEN];
    if (blen != BODY_HDR + 2 + sizeof check + SEAL_LEN ||
        open_sealed(j, body + BODY_HDR + 2, sizeof check + SEAL_LEN, check) != PARLEY_OK ||
        memcmp(check, key_check, sizeof check) != 0) {
        PL_LOG_E(j->log, "journal: wrong encryption key");
        return PARLEY_ERR_AUTH;
    }
    return PARLEY_OK;
}

/* Applies one plain body. Returns PARLEY_OK, NOMEM, or 1 when the body is
 * malformed (treated as the start of a corrupt tail). */
static int apply(pl_journal *j, const unsigned char *b, size_t blen)
{
    size_t keylen = (size_t)b[2] | (size_t)b[3] << 8;
    if (keylen == 0 || keylen > PL_JOURNAL_MAX_KEY || blen - BODY_HDR < keylen)
        return 1;
    const char *key = (const char *)b + BODY_HDR;
    if (memchr(key, '\0', keylen))
        return 1;
    size_t vlen = blen - BODY_HDR - keylen;
    uint8_t ns = b[1];
    if (b[0] == OP_PUT) {
        entry ne;
        if (vlen > PL_JOURNAL_MAX_VALUE)
            return 1;
        if (pl_jreserve(j) != PARLEY_OK ||
            pl_jentry_make(j, ns, key, keylen, key + keylen, vlen, &ne) != PARLEY_OK)
            return PARLEY_ERR_NOMEM;
        j->dead += (size_t)pl_jmap_set(j, &ne);
        return PARLEY_OK;
    }
    if (vlen != 0)
        return 1;
    if (b[0] == OP_DEL)
        j->dead += 1 + (size_t)pl_jmap_del(j, ns, key, keylen);
    else if (b[0] == OP_CLEAR)
        j->dead += 1 + pl_jmap_clear_ns(j, ns);
    else
        return 1;
    return PARLEY_OK;
}

/* One data record's body (sealed or not): PARLEY_OK, NOMEM, or 1 (corrupt). */
static int replay_body(pl_journal *j, const unsigned char *body, size_t blen)
{
    if (!j->encrypted)
        return apply(j, body, blen);
    if (blen < SEAL_LEN + BODY_HDR)
        return 1;
    unsigned char *plain = pl_malloc(&j->alloc, blen - SEAL_LEN);
    if (!plain)
        return PARLEY_ERR_NOMEM;
    int rc = open_sealed(j, body, blen, plain) == PARLEY_OK ? apply(j, plain, blen - SEAL_LEN) : 1;
    pl_free(&j->alloc, plain);
    return rc;
}

/* Rebuilds the map from data[len]; *good is the length of the intact prefix
 * (0 when even the header is torn: the journal is then started afresh). */
static int replay(pl_journal *j, const unsigned char *data, size_t len, size_t *good)
{
    size_t off = 0, r = frame_ok(data, len);
    *good = 0;
    if (r == 0)
        return PARLEY_OK;
    int rc = check_header(j, data + FRAME_LEN, r - FRAME_LEN);
    if (rc != PARLEY_OK)
        return rc;
    off = r;
    while (off < len && (r = frame_ok(data + off, len - off)) != 0) {
        rc = replay_body(j, data + off + FRAME_LEN, r - FRAME_LEN);
        if (rc == 1)
            break;
        if (rc != PARLEY_OK)
            return rc;
        off += r;
    }
    *good = off;
    return PARLEY_OK;
}

/* ---- writing ---------------------------------------------------------- */

int pl_jcut_tail(pl_journal *j)
{
    if (!j->tail_dirty)
        return PARLEY_OK;
    int rc = j->io.truncate(j->io.user, LOG_NAME, j->log_bytes);
    if (rc == PARLEY_OK)
        j->tail_dirty = 0;
    return rc;
}

void pl_jmark_synced(pl_journal *j, uint64_t upto)
{
    uint64_t cur = atomic_load(&j->synced);
    while (cur < upto && !atomic_compare_exchange_weak(&j->synced, &cur, upto))
        ;
}

/* A background compaction copies what writers append into its new log;
 * if that copy cannot be kept, the compaction is abandoned (side_failed). */
static void keep_for_compaction(pl_journal *j, const unsigned char *rec, size_t len)
{
    if (!j->compacting || j->side_failed)
        return;
    if (j->side_len + len > j->side_cap) {
        size_t cap = j->side_cap ? j->side_cap : 4096;
        while (cap < j->side_len + len)
            cap *= 2;
        unsigned char *nb = pl_realloc(&j->alloc, j->side, cap);
        if (!nb) {
            j->side_failed = 1;
            return;
        }
        j->side = nb;
        j->side_cap = cap;
    }
    memcpy(j->side + j->side_len, rec, len);
    j->side_len += len;
    j->side_records++;
}

/* Appends rec (and syncs) or leaves the log at its last good length. Under
 * mu. A synced record makes every earlier one durable too. */
int pl_jwrite_record(pl_journal *j, const unsigned char *rec, size_t len, int sync)
{
    int rc = pl_jcut_tail(j);
    if (rc != PARLEY_OK)
        return PARLEY_ERR_IO;
    rc = j->io.append(j->io.user, LOG_NAME, rec, len);
    if (rc == PARLEY_OK)
        atomic_fetch_add(&j->written, 1);
    if (rc == PARLEY_OK && sync)
        rc = j->io.sync(j->io.user, LOG_NAME);
    if (rc == PARLEY_OK) {
        keep_for_compaction(j, rec, len);
        if (sync)
            pl_jmark_synced(j, atomic_load(&j->written));
        else if (j->notify)
            j->notify(j->notify_user, PL_JOURNAL_WANT_SYNC);
        return PARLEY_OK;
    }
    j->tail_dirty = 1;
    if (pl_jcut_tail(j) != PARLEY_OK)
        PL_LOG_E(j->log, "journal: cannot cut a failed write back; retrying before the next one");
    return PARLEY_ERR_IO;
}

static int fresh_log(pl_journal *j)
{
    unsigned char *rec;
    size_t len;
    int rc = pl_jencode_header(j, &j->fg, &rec, &len);
    if (rc != PARLEY_OK)
        return rc;
    j->log_bytes = 0;
    rc = pl_jwrite_record(j, rec, len, 1);
    pl_free(&j->alloc, rec);
    if (rc == PARLEY_OK)
        j->log_bytes = len;
    return rc;
}

int pl_journal_sync(pl_journal *j)
{
    if (!j)
        return PARLEY_ERR_INVALID_ARG;
    pl_mutex_lock(&j->mu);
    uint64_t upto = atomic_load(&j->written);
    int rc = pl_jcut_tail(j) == PARLEY_OK && j->io.sync(j->io.user, LOG_NAME) == PARLEY_OK
                 ? PARLEY_OK
                 : PARLEY_ERR_IO;
    pl_mutex_unlock(&j->mu);
    if (rc == PARLEY_OK)
        pl_jmark_synced(j, upto);
    return rc;
}

/* The records counted before the sync starts were appended before it:
 * it covers them, whichever file the name means by then (a compaction
 * that renamed meanwhile wrote and synced them all itself). */
int pl_journal_commit(pl_journal *j)
{
    if (!j)
        return PARLEY_ERR_INVALID_ARG;
    uint64_t upto = atomic_load(&j->written);
    if (upto <= atomic_load(&j->synced))
        return PARLEY_OK;
    if (j->io.sync(j->io.user, LOG_NAME) != PARLEY_OK)
        return PARLEY_ERR_IO;
    pl_jmark_synced(j, upto);
    return PARLEY_OK;
}

uint64_t pl_journal_written(const pl_journal *j)
{
    return j ? atomic_load(&((pl_journal *)j)->written) : 0;
}

uint64_t pl_journal_synced(const pl_journal *j)
{
    return j ? atomic_load(&((pl_journal *)j)->synced) : 0;
}

void pl_journal_set_notify(pl_journal *j, pl_journal_notify_fn fn, void *user)
{
    if (!j)
        return;
    pl_mutex_lock(&j->mu);
    j->notify = fn;
    j->notify_user = user;
    pl_mutex_unlock(&j->mu);
}

const void *pl_journal_get(const pl_journal *j, uint8_t ns, const char *key, size_t *len)
{
    int found;
    if (!j || !key)
        return NULL;
    size_t i = pl_jfind(j, ns, key, strlen(key), &found);
    if (!found)
        return NULL;
    if (len)
        *len = j->e[i].vlen;
    return j->e[i].val;
}

int pl_journal_foreach(const pl_journal *j, uint8_t ns, pl_journal_each_fn fn, void *user)
{
    if (!j || !fn)
        return PARLEY_ERR_INVALID_ARG;
    int found;
    for (size_t i = pl_jfind(j, ns, "", 0, &found); i < j->n && j->e[i].ns == ns; i++) {
        int rc = fn(user, j->e[i].key, j->e[i].val, j->e[i].vlen);
        if (rc)
            return rc;
    }
    return PARLEY_OK;
}

/* After a failed rename the log is the old or the new file (both hold the
 * same live state): learn which by its length so later writes and cut-backs
 * stay aligned with the file. */
void pl_jrelearn_length(pl_journal *j)
{
    unsigned char *data = NULL;
    size_t len = 0;
    if (j->io.read_all(j->io.user, &j->alloc, LOG_NAME, &data, &len) == PARLEY_OK) {
        j->log_bytes = len;
        j->tail_dirty = 0;
    } else {
        /* Unknown length: refuse appends until a cut-back to the old length
         * succeeds (which is the safe state either way). */
        j->tail_dirty = 1;
    }
    pl_free(&j->alloc, data);
}

/* ---- open / close ----------------------------------------------------- */

static int load(pl_journal *j)
{
    unsigned char *data = NULL;
    size_t len = 0, good = 0;
    int rc = j->io.read_all(j->io.user, &j->alloc, LOG_NAME, &data, &len);
    if (rc == PARLEY_ERR_NOT_FOUND)
        rc = PARLEY_OK;
    else if (rc == PARLEY_OK)
        rc = replay(j, data, len, &good);
    pl_free(&j->alloc, data);
    if (rc != PARLEY_OK)
        return rc == PARLEY_ERR_NOMEM || rc == PARLEY_ERR_AUTH ? rc : PARLEY_ERR_IO;
    if (good < len) {
        PL_LOG_W(j->log, "journal: dropped a torn or corrupt tail of %zu bytes at offset %zu",
                 len - good, good);
        j->dropped = len - good;
        j->log_bytes = good;
        j->tail_dirty = 1;
    }
    if (good == 0)
        return fresh_log(j);
    j->log_bytes = good;
    /* What a killed process left may still be in the OS only. */
    atomic_store(&j->written, 1);
    return pl_jcut_tail(j) == PARLEY_OK ? PARLEY_OK : PARLEY_ERR_IO;
}

static int crypto_init(const pl_alloc *a, pl_jcrypto *c, const unsigned char *key)
{
    if (!(c->rand = pl_rand_new(a, pl_entropy, NULL)))
        return PARLEY_ERR_NOMEM;
    return mbedtls_gcm_setkey(&c->gcm, MBEDTLS_CIPHER_ID_AES, key, PL_JOURNAL_KEY_SIZE * 8) == 0
               ? PARLEY_OK
               : PARLEY_ERR_NOMEM;
}

static void crypto_free(pl_jcrypto *c)
{
    mbedtls_gcm_free(&c->gcm);
    pl_rand_free(c->rand);
}

int pl_journal_open(const pl_alloc *a, const pl_journal_io *io, const unsigned char *enc_key,
                    const pl_log *log, pl_journal **out)
{
    if (!a || !io || !out || !io->read_all || !io->append || !io->sync || !io->truncate ||
        !io->rename || !io->remove)
        return PARLEY_ERR_INVALID_ARG;
    *out = NULL;
    pl_journal *j = pl_calloc(a, 1, sizeof *j);
    if (!j)
        return PARLEY_ERR_NOMEM;
    if (pl_mutex_init(&j->mu, 0) != PARLEY_OK) {
        pl_free(a, j);
        return PARLEY_ERR_NOMEM;
    }
    if (pl_mutex_init(&j->cmu, 0) != PARLEY_OK) {
        pl_mutex_destroy(&j->mu);
        pl_free(a, j);
        return PARLEY_ERR_NOMEM;
    }
    j->alloc = *a;
    j->io = *io;
    j->log = log;
    mbedtls_gcm_init(&j->fg.gcm);
    mbedtls_gcm_init(&j->bg.gcm);
    atomic_init(&j->written, 0);
    atomic_init(&j->synced, 0);
    int rc = PARLEY_OK;
    if (enc_key) {
        j->encrypted = 1;
        rc = crypto_init(a, &j->fg, enc_key);
        if (rc == PARLEY_OK)
            rc = crypto_init(a, &j->bg, enc_key);
    }
    if (rc == PARLEY_OK)
        rc = load(j);
    if (rc != PARLEY_OK) {
        pl_journal_close(j);
        return rc;
    }
    *out = j;
    return PARLEY_OK;
}

void pl_journal_close(pl_journal *j)
{
    if (!j)
        return;
    for (size_t i = 0; i < j->n; i++)
        pl_free(&j->alloc, j->e[i].key);
    pl_free(&j->alloc, j->e);
    pl_free(&j->alloc, j->side);
    crypto_free(&j->fg);
    crypto_free(&j->bg);
    pl_mutex_destroy(&j->mu);
    pl_mutex_destroy(&j->cmu);
    pl_alloc a = j->alloc;
    pl_free(&a, j);
}

void pl_journal_get_stats(const pl_journal *j, pl_journal_stats *out)
{
    if (!out)
        return;
    memset(out, 0, sizeof *out);
    if (!j)
        return;
    out->live_entries = j->n;
    out->log_bytes = j->log_bytes;
    out->dead_records = j->dead;
    out->dropped_tail_bytes = j->dropped;
}

/* ---- files (lib/platform/) -------------------------------------------- */

/* A cached append handle per file the journal writes, since reopening per
 * record would only cost syscalls: the log's (used under the writers'
 * lock) and the temporary file's (used by the compacting thread). Each is
 * touched by one thread at a time, so neither needs a lock; sync opens the
 * file afresh (pl_dir_sync_file), so a group commit on another thread
 * never shares a handle with them. */
enum { SLOT_LOG, SLOT_TMP };

typedef struct fio_slot {
    pl_file file;
    int open;
    atomic_int created; /* its directory entry needs a sync */
} fio_slot;

typedef struct file_io {
    pl_alloc alloc;
    pl_dir *dir;
    fio_slot slot[2];
} file_io;

static fio_slot *fio_slot_of(file_io *f, const char *name)
{
    return &f->slot[strcmp(name, LOG_NAME) == 0 ? SLOT_LOG : SLOT_TMP];
}

static void fio_drop(fio_slot *sl)
{
    if (sl->open)
        pl_file_close(&sl->file);
    sl->open = 0;
}

/* The handle for name (opened for appending, created if missing). */
static pl_file *fio_file(file_io *f, const char *name)
{
    fio_slot *sl = fio_slot_of(f, name);
    if (sl->open)
        return &sl->file;
    int created = 0;
    if (pl_file_open_append(f->dir, name, &created, &sl->file) != PARLEY_OK)
        return NULL;
    sl->open = 1;
    if (created)
        atomic_store(&sl->created, 1);
    return &sl->file;
}

static int fio_read_all(void *user, const pl_alloc *a, const char *name, unsigned char **data,
                        size_t *len)
{
    file_io *f = user;
    return pl_dir_read(f->dir, a, name, 64u * 1024 * 1024, data, len);
}

static int fio_append(void *user, const char *name, const void *data, size_t len)
{
    pl_file *file = fio_file(user, name);
    return file ? pl_file_append(file, data, len) : PARLEY_ERR_IO;
}

static int fio_sync(void *user, const char *name)
{
    file_io *f = user;
    if (pl_dir_sync_file(f->dir, name) != PARLEY_OK)
        return PARLEY_ERR_IO;
    fio_slot *sl = fio_slot_of(f, name);
    if (atomic_exchange(&sl->created, 0) && pl_dir_sync(f->dir) != PARLEY_OK) {
        atomic_store(&sl->created, 1);
        return PARLEY_ERR_IO;
    }
    return PARLEY_OK;
}

static int fio_truncate(void *user, const char *name, size_t len)
{
    return pl_dir_truncate(((file_io *)user)->dir, name, len) == PARLEY_OK ? PARLEY_OK
                                                                           : PARLEY_ERR_IO;
}

/* The directory is synced by fio_sync_dir, which the journal calls without
 * holding up writers. Until then the renamed log counts as created: a
 * writer that syncs it in the meantime (or a commit after a failed
 * directory sync) syncs the directory too, so nothing it reports durable
 * could come back as the old log after a power loss. */
static int fio_rename(void *user, const char *from, const char *to)
{
    file_io *f = user;
    fio_drop(fio_slot_of(f, from));
    fio_drop(fio_slot_of(f, to));
    if (pl_dir_rename(f->dir, from, to) != PARLEY_OK)
        return PARLEY_ERR_IO;
    atomic_store(&f->slot[SLOT_TMP].created, 0);
    atomic_store(&f->slot[SLOT_LOG].created, 1);
    return PARLEY_OK;
}

static int fio_sync_dir(void *user)
{
    file_io *f = user;
    if (pl_dir_sync(f->dir) != PARLEY_OK)
        return PARLEY_ERR_IO;
    atomic_store(&f->slot[SLOT_LOG].created, 0);
    return PARLEY_OK;
}

static int fio_remove(void *user, const char *name)
{
    file_io *f = user;
    fio_drop(fio_slot_of(f, name));
    return pl_dir_remove(f->dir, name) == PARLEY_OK ? PARLEY_OK : PARLEY_ERR_IO;
}

int pl_journal_file_io(const pl_alloc *a, const char *dir, pl_journal_io *io, void **state)
{
    if (!a || !dir || !*dir || !io || !state)
        return PARLEY_ERR_INVALID_ARG;
    *state = NULL;
    file_io *f = pl_calloc(a, 1, sizeof *f);
    if (!f)
        return PARLEY_ERR_NOMEM;
    f->alloc = *a;
    for (int i = 0; i < 2; i++)
        atomic_init(&f->slot[i].created, 0);
    int rc = pl_dir_open(a, dir, &f->dir);
    if (rc != PARLEY_OK) {
        pl_free(a, f);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
    }
    io->user = f;
    io->read_all = fio_read_all;
    io->append = fio_append;
    io->sync = fio_sync;
    io->truncate = fio_truncate;
    io->rename = fio_rename;
    io->remove = fio_remove;
    io->sync_dir = fio_sync_dir;
    *state = f;
    return PARLEY_OK;
}

void pl_journal_file_io_free(const pl_alloc *a, void *state)
{
    file_io *f = state;
    if (!f)
        return;
    fio_drop(&f->slot[SLOT_LOG]);
    fio_drop(&f->slot[SLOT_TMP]);
    pl_dir_close(f->dir);
    pl_free(a, f);
}
