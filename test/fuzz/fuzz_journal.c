/* libFuzzer target: journal replay (lib/journal.c), plain and encrypted,
 * through host storage in memory (lib/storage.c over testlib's memfs). The
 * first byte picks how the journal's bytes are made from the rest:
 *
 *   'r'  the bytes as they are, opened without a key;
 *   'k'  the bytes as they are, opened with the key;
 *   'p'  records: each a 2-byte little-endian length and a body
 *        (op | ns | keylen(2) | key | value); framed here with a correct
 *        CRC after a plain header, so replay reaches every body;
 *   'e'  the same records sealed here with AES-256-GCM under the key after
 *        an encrypted header, so decrypted bodies are replayed too.
 *
 * What opens is then read whole, changed (put, delete, clear), compacted,
 * closed and opened again: the second replay must give exactly the live
 * entries of the first (an oracle, not only the sanitizers). */
#include <stdlib.h>
#include <string.h>

#include <mbedtls/gcm.h>

#include "store/journal.h"
#include "store/journal_internal.h"
#include "store/storage.h"
#include "testlib.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FRAME_LEN 10
#define NONCE_LEN 12
#define TAG_LEN 16

static const unsigned char key[PL_JOURNAL_KEY_SIZE] = "0123456789abcdef0123456789abcdef";

/* CRC-32 (IEEE, reflected 0xEDB88320), written apart from the journal's
 * own. A byte per step from a table made bit by bit on first use: eight
 * steps per byte, four times per record, took a third of this target's
 * time under the sanitizers' instrumentation. */
static uint32_t crc32_ieee(const unsigned char *p, size_t n)
{
    static uint32_t table[256];
    if (!table[1]) {
        for (uint32_t b = 0; b < 256; b++) {
            uint32_t c = b;
            for (int k = 0; k < 8; k++)
                c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
            table[b] = c;
        }
    }
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++)
        c = (c >> 8) ^ table[(c ^ p[i]) & 0xffu];
    return c ^ 0xffffffffu;
}

typedef struct buf {
    unsigned char *p;
    size_t len, cap;
} buf;

static unsigned char *grow(buf *b, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = (b->len + n) * 2;
        unsigned char *g = realloc(b->p, cap);
        if (!g)
            return NULL;
        b->p = g;
        b->cap = cap;
    }
    b->len += n;
    return b->p + b->len - n;
}

/* One record: the body sealed (nonce | ciphertext | tag) when gcm is set. */
static int record(buf *b, mbedtls_gcm_context *gcm, const unsigned char *body, size_t len,
                  uint32_t nonce)
{
    size_t blen = len + (gcm ? NONCE_LEN + TAG_LEN : 0);
    unsigned char *r = grow(b, FRAME_LEN + blen);
    if (!r)
        return -1;
    unsigned char *out = r + FRAME_LEN;
    if (gcm) {
        memset(out, 0, NONCE_LEN);
        memcpy(out, &nonce, sizeof nonce);
        if (mbedtls_gcm_crypt_and_tag(gcm, MBEDTLS_GCM_ENCRYPT, len, out, NONCE_LEN, NULL, 0, body,
                                      out + NONCE_LEN, TAG_LEN, out + NONCE_LEN + len) != 0)
            return -1;
    } else if (len) {
        memcpy(out, body, len);
    }
    uint32_t crc = crc32_ieee(out, blen);
    r[0] = 0x50;
    r[1] = 0x4a;
    for (int i = 0; i < 4; i++) {
        r[2 + i] = (unsigned char)(blen >> (8 * i));
        r[6 + i] = (unsigned char)(crc >> (8 * i));
    }
    return 0;
}

/* The header (version 1, plain or GCM with the sealed key check), then the
 * records of data[size]. */
static int build(buf *b, int sealed, const uint8_t *data, size_t size)
{
    mbedtls_gcm_context gcm;
    mbedtls_gcm_init(&gcm);
    int rc =
        sealed ? mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, PL_JOURNAL_KEY_SIZE * 8) : 0;
    unsigned char hdr[4 + 2 + 16 + NONCE_LEN + TAG_LEN] = {0x7f, 0, 0, 0, 1, (unsigned char)sealed};
    /* The header's own body is never sealed; only its key check is. */
    unsigned char *check = hdr + 6;
    if (rc == 0 && sealed)
        rc = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, 16, check, NONCE_LEN, NULL, 0,
                                       (const unsigned char *)"parley-journal-1", check + NONCE_LEN,
                                       TAG_LEN, check + NONCE_LEN + 16);
    if (rc == 0)
        rc = record(b, NULL, hdr, sealed ? sizeof hdr : 6, 0);
    for (uint32_t n = 1; rc == 0 && size >= 2; n++) {
        size_t len = (size_t)data[0] | (size_t)data[1] << 8;
        data += 2, size -= 2;
        if (len > size)
            len = size;
        rc = record(b, sealed ? &gcm : NULL, data, len, n);
        data += len, size -= len;
    }
    mbedtls_gcm_free(&gcm);
    return rc;
}

/* ---- reading it all back --------------------------------------------------- */

typedef struct entry {
    int ns;
    char *key;
    unsigned char *val;
    size_t len;
} entry;

typedef struct snapshot {
    entry *e;
    size_t n, cap;
    uint8_t ns;
} snapshot;

static int collect(void *user, const char *k, const void *v, size_t len)
{
    snapshot *s = user;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 16;
        entry *g = realloc(s->e, cap * sizeof *g);
        if (!g)
            return -1;
        s->e = g;
        s->cap = cap;
    }
    entry *e = &s->e[s->n++];
    e->ns = s->ns;
    e->key = strdup(k);
    e->val = malloc(len ? len : 1);
    e->len = len;
    if (e->val && len)
        memcpy(e->val, v, len);
    return e->key && e->val ? 0 : -1;
}

/* Every namespace that holds entries, read through the public foreach.
 * The map (sorted by namespace) says which they are: asking all 256 in
 * turn cost more than the rest of an input. */
static int take(const pl_journal *j, snapshot *s)
{
    for (size_t i = 0; i < j->n;) {
        s->ns = j->e[i].ns;
        if (pl_journal_foreach(j, s->ns, collect, s) != 0)
            return -1;
        while (i < j->n && j->e[i].ns == s->ns)
            i++;
    }
    return 0;
}

static void drop(snapshot *s)
{
    for (size_t i = 0; i < s->n; i++) {
        free(s->e[i].key);
        free(s->e[i].val);
    }
    free(s->e);
    memset(s, 0, sizeof *s);
}

static int same(const snapshot *a, const snapshot *b)
{
    if (a->n != b->n)
        return 0;
    for (size_t i = 0; i < a->n; i++)
        if (a->e[i].ns != b->e[i].ns || strcmp(a->e[i].key, b->e[i].key) != 0 ||
            a->e[i].len != b->e[i].len || memcmp(a->e[i].val, b->e[i].val, a->e[i].len) != 0)
            return 0;
    return 1;
}

/* ---- the target ------------------------------------------------------------------ */

static int open_journal(pl_storage_host *host, const unsigned char *k, pl_journal **j)
{
    pl_journal_io io;
    pl_storage_host_io(host, &io);
    return pl_journal_open(pl_alloc_libc(), &io, k, NULL, j);
}

/* Changes, compaction, reopen: the live entries survive exactly. */
static void exercise(pl_storage_host *host, const unsigned char *k, pl_journal *j)
{
    snapshot before = {0}, after = {0};
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    size_t len = 0;
    const void *v = pl_journal_get(j, 1, "k", &len);
    unsigned char *copy = malloc(len + 1); /* put may move what get lent */
    if (copy) {
        copy[0] = 'x';
        if (v)
            memcpy(copy, v, len);
        pl_journal_put(j, 2, "fuzz", copy, v ? len : 1, 0);
    }
    free(copy);
    pl_journal_del(j, 3, "k", 0);
    pl_journal_clear_ns(j, 4);
    int rc = pl_journal_compact(j, 1);
    rc = rc == PARLEY_OK ? take(j, &before) : rc;
    pl_journal_close(j);
    j = NULL;
    if (rc == PARLEY_OK && open_journal(host, k, &j) == PARLEY_OK && take(j, &after) == 0 &&
        !same(&before, &after))
        abort(); /* a compacted journal replays to exactly what it held */
    pl_journal_close(j);
    drop(&before);
    drop(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char mode = (char)data[0];
    const unsigned char *k = mode == 'k' || mode == 'e' ? key : NULL;
    buf b = {0};
    if (mode == 'p' || mode == 'e') {
        if (build(&b, mode == 'e', data + 1, size - 1) != 0) {
            free(b.p);
            return 0;
        }
    } else if (size > 1) {
        unsigned char *p = grow(&b, size - 1);
        if (!p) {
            free(b.p);
            return 0;
        }
        memcpy(p, data + 1, size - 1);
    }
    tl_memfs fs = {0};
    pl_storage_host host = {.ops = tl_memfs_ops, .user = &fs};
    if (b.len && tl_memfs_ops.append(&fs, "journal", b.p, b.len) != PARLEY_OK) {
        free(b.p);
        tl_memfs_free(&fs);
        return 0;
    }
    free(b.p);
    pl_journal *j = NULL;
    if (open_journal(&host, k, &j) == PARLEY_OK)
        exercise(&host, k, j);
    tl_memfs_free(&fs);
    return 0;
}
