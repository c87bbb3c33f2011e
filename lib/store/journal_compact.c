/* Compaction: the live entries go to "journal.tmp", which is synced and
 * renamed over "journal" (then the directory is synced), so a crash at any
 * point leaves one whole log holding everything.
 *
 * Inline (pl_journal_compact, or the automatic one of a journal without an
 * owner's thread) everything happens under the writers' lock. In the
 * background (pl_journal_compact_background, on the owner's thread) the
 * lock is held only to copy the live entries, to pick up what writers
 * appended meanwhile (they keep a copy of each record while `compacting`)
 * and for the rename itself: the writes and syncs of the temporary file
 * and of the directory happen without it, so a writer on the host's
 * thread never waits for the disk. The records picked up go to the
 * temporary file and are synced there before the rename: the new log holds
 * every record the old one did, durably, so a record synced before its
 * call returned stays synced across the switch. */
#include <string.h>

#include "store/journal_internal.h"

/* ---- the temporary file -------------------------------------------------- */

static int append_tmp(pl_journal *j, unsigned char *rec, size_t len, size_t *total)
{
    int rc = j->io.append(j->io.user, PL_JTMP_NAME, rec, len);
    pl_free(&j->alloc, rec);
    *total += len;
    return rc;
}

/* A header and the entries e[n], with crypto `c`, then a sync. */
static int write_tmp(pl_journal *j, pl_jcrypto *c, const pl_jentry *e, size_t n, size_t *total)
{
    unsigned char *rec;
    size_t len;
    *total = 0;
    int rc = j->io.remove(j->io.user, PL_JTMP_NAME);
    if (rc == PARLEY_OK)
        rc = pl_jencode_header(j, c, &rec, &len);
    if (rc == PARLEY_OK)
        rc = append_tmp(j, rec, len, total);
    for (size_t i = 0; i < n && rc == PARLEY_OK; i++) {
        rc = pl_jencode(j, c, PL_JOP_PUT, e[i].ns, e[i].key, e[i].keylen, e[i].val, e[i].vlen, &rec,
                        &len);
        if (rc == PARLEY_OK)
            rc = append_tmp(j, rec, len, total);
    }
    if (rc == PARLEY_OK)
        rc = j->io.sync(j->io.user, PL_JTMP_NAME);
    return rc;
}

/* The temporary file replaces the log. Under mu. */
static int switch_logs(pl_journal *j)
{
    int rc = j->io.rename(j->io.user, PL_JTMP_NAME, PL_JLOG_NAME);
    if (rc != PARLEY_OK)
        pl_jrelearn_length(j);
    return rc;
}

static int sync_dir(pl_journal *j)
{
    return j->io.sync_dir ? j->io.sync_dir(j->io.user) : PARLEY_OK;
}

static int failed(pl_journal *j, int rc)
{
    j->io.remove(j->io.user, PL_JTMP_NAME);
    return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
}

/* ---- inline ---------------------------------------------------------------- */

int pl_jcompact_inline(pl_journal *j)
{
    size_t total;
    uint64_t upto = atomic_load(&j->written);
    int rc = write_tmp(j, &j->fg, j->e, j->n, &total);
    if (rc == PARLEY_OK)
        rc = switch_logs(j);
    if (rc == PARLEY_OK && (rc = sync_dir(j)) != PARLEY_OK)
        pl_jrelearn_length(j);
    if (rc != PARLEY_OK)
        return failed(j, rc);
    PL_LOG_D(j->log, "journal: compacted %zu bytes to %zu", j->log_bytes, total);
    j->log_bytes = total;
    j->dead = 0;
    j->compact_at = 0;
    j->tail_dirty = 0;
    pl_jmark_synced(j, upto);
    return PARLEY_OK;
}

int pl_journal_compact(pl_journal *j, int force)
{
    if (!j)
        return PARLEY_ERR_INVALID_ARG;
    pl_mutex_lock(&j->cmu);
    pl_mutex_lock(&j->mu);
    int rc = !force && j->dead <= j->n ? PARLEY_OK : pl_jcompact_inline(j);
    pl_mutex_unlock(&j->mu);
    pl_mutex_unlock(&j->cmu);
    return rc;
}

/* ---- in the background ------------------------------------------------------ */

/* A copy of the live entries, in one block. */
typedef struct snapshot {
    pl_jentry *e;
    size_t n;
} snapshot;

/* Under mu. */
static int snapshot_take(pl_journal *j, snapshot *s)
{
    size_t bytes = j->n * sizeof *s->e;
    for (size_t i = 0; i < j->n; i++)
        bytes += j->e[i].keylen + 1 + j->e[i].vlen;
    s->n = j->n;
    s->e = pl_malloc(&j->alloc, bytes ? bytes : 1);
    if (!s->e)
        return PARLEY_ERR_NOMEM;
    char *p = (char *)(s->e + j->n);
    for (size_t i = 0; i < j->n; i++) {
        const pl_jentry *src = &j->e[i];
        memcpy(p, src->key, src->keylen + 1 + src->vlen);
        s->e[i] =
            (pl_jentry){src->ns, src->keylen, src->vlen, p, (unsigned char *)p + src->keylen + 1};
        p += src->keylen + 1 + src->vlen;
    }
    return PARLEY_OK;
}

static int due(const pl_journal *j)
{
    return j->dead > 64 && j->dead > j->n && j->dead >= j->compact_at;
}

/* Under mu: what writers appended since the last call, taken over. */
static void take_side(pl_journal *j, unsigned char **buf, size_t *len, size_t *records)
{
    *buf = j->side;
    *len = j->side_len;
    *records = j->side_records;
    j->side = NULL;
    j->side_len = j->side_cap = j->side_records = 0;
}

/* Under mu, with nothing left to pick up: the rename. */
static int finish_locked(pl_journal *j, size_t total, size_t records)
{
    int rc = switch_logs(j);
    if (rc == PARLEY_OK) {
        PL_LOG_D(j->log, "journal: compacted %zu bytes to %zu in the background", j->log_bytes,
                 total);
        j->log_bytes = total;
        j->dead = records - j->n;
        j->compact_at = 0;
        j->tail_dirty = 0;
    }
    return rc;
}

/* Copies what writers appended meanwhile to the temporary file (synced)
 * until nothing new came, then renames; *upto: the records the new log
 * holds. */
static int catch_up(pl_journal *j, size_t total, size_t records, uint64_t *upto)
{
    for (;;) {
        unsigned char *buf;
        size_t len, n;
        pl_mutex_lock(&j->mu);
        int rc = j->side_failed ? PARLEY_ERR_NOMEM : PARLEY_OK;
        if (rc == PARLEY_OK && j->side_len == 0) {
            rc = finish_locked(j, total, records);
            *upto = atomic_load(&j->written);
        }
        if (rc != PARLEY_OK || j->side_len == 0) {
            j->compacting = 0;
            pl_mutex_unlock(&j->mu);
            return rc;
        }
        take_side(j, &buf, &len, &n);
        pl_mutex_unlock(&j->mu);
        rc = j->io.append(j->io.user, PL_JTMP_NAME, buf, len);
        pl_free(&j->alloc, buf);
        if (rc == PARLEY_OK)
            rc = j->io.sync(j->io.user, PL_JTMP_NAME);
        total += len;
        records += n;
        if (rc != PARLEY_OK) {
            pl_mutex_lock(&j->mu);
            j->compacting = 0;
            pl_mutex_unlock(&j->mu);
            return rc;
        }
    }
}

/* Under cmu. */
static int compact_background(pl_journal *j)
{
    snapshot s = {NULL, 0};
    pl_mutex_lock(&j->mu);
    int go = due(j), rc = go ? snapshot_take(j, &s) : PARLEY_OK;
    if (go && rc == PARLEY_OK) {
        j->compacting = 1;
        j->side_failed = 0;
        pl_free(&j->alloc, j->side);
        j->side = NULL;
        j->side_len = j->side_cap = j->side_records = 0;
    }
    pl_mutex_unlock(&j->mu);
    if (!go || rc != PARLEY_OK)
        return rc;
    size_t total = 0;
    uint64_t upto = 0;
    rc = write_tmp(j, &j->bg, s.e, s.n, &total);
    pl_free(&j->alloc, s.e);
    if (rc == PARLEY_OK)
        rc = catch_up(j, total, s.n, &upto);
    else {
        pl_mutex_lock(&j->mu);
        j->compacting = 0;
        pl_mutex_unlock(&j->mu);
    }
    if (rc != PARLEY_OK)
        return rc;
    /* The rename stands either way. A directory that cannot be synced is
     * logged and `synced` is not moved for it (a later commit will). */
    if (sync_dir(j) == PARLEY_OK)
        pl_jmark_synced(j, upto);
    else
        PL_LOG_W(j->log, "journal: the directory could not be synced after a compaction");
    return PARLEY_OK;
}

int pl_journal_compact_background(pl_journal *j)
{
    if (!j)
        return PARLEY_ERR_INVALID_ARG;
    pl_mutex_lock(&j->cmu);
    int rc = compact_background(j);
    if (rc != PARLEY_OK) {
        j->io.remove(j->io.user, PL_JTMP_NAME);
        pl_mutex_lock(&j->mu);
        j->compact_at = j->dead * 2;
        pl_free(&j->alloc, j->side);
        j->side = NULL;
        j->side_len = j->side_cap = j->side_records = 0;
        pl_mutex_unlock(&j->mu);
        PL_LOG_W(j->log, "journal: compaction failed (%d); the log keeps growing", rc);
        rc = rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_IO;
    }
    pl_mutex_unlock(&j->cmu);
    return rc;
}
