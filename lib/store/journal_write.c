/* The public writes (journal.h): put, del, clear. Each encodes its record
 * first (everything that can run out of memory happens before the write,
 * so a record on disk is never left without its entry in memory), then,
 * under the writers' lock, appends it and changes the map; a compaction
 * that becomes due is left to the owner's thread when there is one
 * (pl_journal_set_notify), else done inline. */
#include <string.h>

#include "store/journal_internal.h"

/* Under mu. With an owner's thread the compaction is its job. */
static void maybe_compact(pl_journal *j)
{
    if (j->dead <= 64 || j->dead <= j->n || j->dead < j->compact_at)
        return;
    if (j->notify) {
        j->notify(j->notify_user, PL_JOURNAL_WANT_COMPACT);
        return;
    }
    int rc = pl_jcompact_inline(j);
    if (rc != PARLEY_OK) {
        j->compact_at = j->dead * 2;
        PL_LOG_W(j->log, "journal: compaction failed (%d); the log keeps growing", rc);
    }
}

static int check_key(const pl_journal *j, const char *key, size_t *keylen)
{
    if (!j || !key)
        return PARLEY_ERR_INVALID_ARG;
    *keylen = strlen(key);
    return *keylen == 0 || *keylen > PL_JOURNAL_MAX_KEY ? PARLEY_ERR_INVALID_ARG : PARLEY_OK;
}

/* Under mu: the record goes to the log, then the entry to the map. */
static int put_locked(pl_journal *j, pl_jentry *ne, const unsigned char *rec, size_t rlen, int sync)
{
    int rc = pl_jwrite_record(j, rec, rlen, sync);
    if (rc != PARLEY_OK) {
        pl_free(&j->alloc, ne->key);
        return rc;
    }
    j->log_bytes += rlen;
    j->dead += (size_t)pl_jmap_set(j, ne);
    maybe_compact(j);
    return PARLEY_OK;
}

int pl_journal_put(pl_journal *j, uint8_t ns, const char *key, const void *value, size_t len,
                   int sync)
{
    size_t keylen;
    int rc = check_key(j, key, &keylen);
    if (rc != PARLEY_OK || len > PL_JOURNAL_MAX_VALUE || (!value && len))
        return PARLEY_ERR_INVALID_ARG;
    pl_jentry ne;
    if (pl_jreserve(j) != PARLEY_OK ||
        pl_jentry_make(j, ns, key, keylen, value, len, &ne) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    unsigned char *rec;
    size_t rlen;
    rc = pl_jencode(j, &j->fg, PL_JOP_PUT, ns, key, keylen, value, len, &rec, &rlen);
    if (rc != PARLEY_OK) {
        pl_free(&j->alloc, ne.key);
        return rc;
    }
    pl_mutex_lock(&j->mu);
    rc = put_locked(j, &ne, rec, rlen, sync);
    pl_mutex_unlock(&j->mu);
    pl_free(&j->alloc, rec);
    return rc;
}

/* Writes a key-only record (DEL, CLEAR) and accounts for it. Under mu. */
static int write_marker(pl_journal *j, int op, uint8_t ns, const char *key, size_t keylen, int sync)
{
    unsigned char *rec;
    size_t rlen;
    int rc = pl_jencode(j, &j->fg, op, ns, key, keylen, NULL, 0, &rec, &rlen);
    if (rc != PARLEY_OK)
        return rc;
    rc = pl_jwrite_record(j, rec, rlen, sync);
    pl_free(&j->alloc, rec);
    if (rc == PARLEY_OK)
        j->log_bytes += rlen;
    return rc;
}

int pl_journal_del(pl_journal *j, uint8_t ns, const char *key, int sync)
{
    size_t keylen;
    int rc = check_key(j, key, &keylen);
    if (rc != PARLEY_OK)
        return rc;
    int found;
    pl_jfind(j, ns, key, keylen, &found);
    if (!found)
        return sync ? pl_journal_sync(j) : PARLEY_OK;
    pl_mutex_lock(&j->mu);
    rc = write_marker(j, PL_JOP_DEL, ns, key, keylen, sync);
    if (rc == PARLEY_OK) {
        pl_jmap_del(j, ns, key, keylen);
        j->dead += 2;
        maybe_compact(j);
    }
    pl_mutex_unlock(&j->mu);
    return rc;
}

int pl_journal_clear_ns(pl_journal *j, uint8_t ns)
{
    if (!j)
        return PARLEY_ERR_INVALID_ARG;
    size_t live = 0;
    for (size_t i = 0; i < j->n; i++)
        live += j->e[i].ns == ns;
    if (live == 0)
        return pl_journal_sync(j);
    pl_mutex_lock(&j->mu);
    /* A CLEAR record carries a placeholder key: replay wants one. */
    int rc = write_marker(j, PL_JOP_CLEAR, ns, "*", 1, 1);
    if (rc == PARLEY_OK) {
        j->dead += 1 + pl_jmap_clear_ns(j, ns);
        maybe_compact(j);
    }
    pl_mutex_unlock(&j->mu);
    return rc;
}
