/* The journal's own parts, shared by journal.c (format, map, replay,
 * writing, group commit, open and close, the file backend) and
 * journal_compact.c (compaction, inline and in the background). Never
 * included elsewhere. */
#ifndef PARLEY_JOURNAL_INTERNAL_H
#define PARLEY_JOURNAL_INTERNAL_H

#include <stdatomic.h>

#include <mbedtls/gcm.h>

#include "platform/thread.h"
#include "store/journal.h"
#include "util/rand.h"

#define PL_JLOG_NAME "journal"
#define PL_JTMP_NAME "journal.tmp"

enum { PL_JOP_PUT = 1, PL_JOP_DEL = 2, PL_JOP_CLEAR = 3, PL_JOP_HEADER = 0x7f };

typedef struct pl_jentry {
    uint8_t ns;
    size_t keylen, vlen;
    char *key; /* one block: key NUL value */
    unsigned char *val;
} pl_jentry;

/* GCM contexts and nonce generators are not thread-safe: writers and the
 * background compaction each have their own. */
typedef struct pl_jcrypto {
    mbedtls_gcm_context gcm;
    pl_rand *rand;
} pl_jcrypto;

struct pl_journal {
    pl_alloc alloc;
    pl_journal_io io;
    const pl_log *log;
    int encrypted;
    pl_jcrypto fg, bg; /* fg: the writers; bg: the background compaction */
    pl_jentry *e;
    size_t n, cap;
    /* dead = records in the log - live entries (the header not counted). */
    size_t log_bytes, dead, dropped;
    /* A failed append could not be cut back: the tail past log_bytes must be
     * cut before anything else is appended, or acknowledged records would
     * follow garbage and be lost at the next replay. */
    int tail_dirty;
    /* After a failed automatic compaction, the dead count that warrants the
     * next try: retrying on every write would rewrite the log each time. */
    size_t compact_at;

    /* Writers (put, del, clear; the caller's lock serialises them) hold
     * `mu` while they change the map or the log; the background compaction
     * holds it only for its short steps. `cmu`: one compaction at a time. */
    pl_mutex mu, cmu;
    /* Record numbers: `written` records are in the log (in the OS, at
     * least), the first `synced` of them on stable storage. */
    _Atomic uint64_t written, synced;
    pl_journal_notify_fn notify; /* NULL: syncs and compactions inline */
    void *notify_user;
    /* While the background compaction runs, what writers append is also
     * kept here, for the new log (under mu). */
    int compacting, side_failed;
    unsigned char *side;
    size_t side_len, side_cap, side_records;
};

/* The map, sorted by (ns, key): the index of the entry or of where it
 * would go; room for one more; a detached entry copying key and value;
 * set (1 when it replaced a live one), delete (1 when found), clear a
 * namespace (how many went). */
size_t pl_jfind(const pl_journal *j, uint8_t ns, const char *key, size_t keylen, int *found);
int pl_jreserve(pl_journal *j);
int pl_jentry_make(pl_journal *j, uint8_t ns, const char *key, size_t keylen, const void *val,
                   size_t vlen, pl_jentry *out);
int pl_jmap_set(pl_journal *j, pl_jentry *ne);
int pl_jmap_del(pl_journal *j, uint8_t ns, const char *key, size_t keylen);
size_t pl_jmap_clear_ns(pl_journal *j, uint8_t ns);

/* Under mu: appends rec[len] to the log (synced with `sync`) or leaves the
 * log at its last good length; counts it, keeps it for a running
 * compaction, asks for a commit. */
int pl_jwrite_record(pl_journal *j, const unsigned char *rec, size_t len, int sync);

/* Encodes a complete framed record (pl_free) with crypto `c`. */
int pl_jencode(pl_journal *j, pl_jcrypto *c, int op, uint8_t ns, const char *key, size_t keylen,
               const void *val, size_t vlen, unsigned char **out, size_t *outlen);
int pl_jencode_header(pl_journal *j, pl_jcrypto *c, unsigned char **out, size_t *outlen);

/* Under mu: the log's length after a failed rename, from the file. */
void pl_jrelearn_length(pl_journal *j);
/* Under mu: drops a torn tail left by a failed write. */
int pl_jcut_tail(pl_journal *j);
/* Every record so far is durable: `synced` moves up to `upto`. */
void pl_jmark_synced(pl_journal *j, uint64_t upto);

/* Inline compaction, under mu (pl_journal_compact and the automatic one
 * without a notify hook). */
int pl_jcompact_inline(pl_journal *j);

#endif
