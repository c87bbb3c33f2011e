/* A power loss never takes a record the journal reported synced, while
 * the disk thread (lib/disk.c) group-commits and compacts in the
 * background and a writer appends without syncing, as a client does in
 * the default durability mode.
 *
 * The storage is a model of a file system under a page cache: what is
 * appended is only in "the OS" until a sync of the file copies it to "the
 * disk"; a rename or a removal moves names in the OS only, and reaches the
 * disk with the directory's sync (sync_dir) or, for the file it names, a
 * sync of that file (as a data-dir's sync does for a file created or
 * renamed since). A power loss keeps the disk: the names bound there, with
 * their synced bytes. At arbitrary moments the writer notes how many
 * records the journal calls synced, then cuts the power (on a copy) and
 * reopens the journal from what survived: every record up to that count
 * must be there. A rename not yet synced is tried both ways (the OS may
 * have written the directory or not). */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "disk.h"
#include "platform/clock.h"
#include "platform/thread.h"
#include "store/journal.h"

#define NS 1
#define ROUNDS 20000
#define KEYS 40
#define INODES 16
enum { N_LOG, N_TMP, NAMES };

typedef struct inode {
    int used;
    unsigned char *os, *dur;
    size_t os_len, dur_len;
} inode;

typedef struct memfs {
    pl_mutex mu;
    inode ino[INODES];
    int os_name[NAMES], dur_name[NAMES]; /* inode index, or -1 */
} memfs;

static int name_of(const char *name)
{
    return strcmp(name, "journal") == 0 ? N_LOG : N_TMP;
}

static void buf_set(unsigned char **dst, size_t *dlen, const unsigned char *src, size_t len)
{
    free(*dst);
    *dst = malloc(len ? len : 1);
    if (len)
        memcpy(*dst, src, len);
    *dlen = len;
}

static int referenced(const memfs *m, int i)
{
    for (int n = 0; n < NAMES; n++)
        if (m->os_name[n] == i || m->dur_name[n] == i)
            return 1;
    return 0;
}

/* A fresh inode (unreferenced ones are reused), or -1. */
static int ino_new(memfs *m)
{
    for (int i = 0; i < INODES; i++) {
        if (m->ino[i].used && referenced(m, i))
            continue;
        free(m->ino[i].os);
        free(m->ino[i].dur);
        m->ino[i] = (inode){1, NULL, NULL, 0, 0};
        return i;
    }
    return -1;
}

static int m_read_all(void *user, const pl_alloc *a, const char *name, unsigned char **data,
                      size_t *len)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    int i = m->os_name[name_of(name)], rc = PARLEY_ERR_NOT_FOUND;
    if (i >= 0) {
        *len = m->ino[i].os_len;
        *data = pl_malloc(a, *len + 1);
        rc = *data ? PARLEY_OK : PARLEY_ERR_NOMEM;
        if (*data && *len)
            memcpy(*data, m->ino[i].os, *len);
    }
    pl_mutex_unlock(&m->mu);
    return rc;
}

static int m_append(void *user, const char *name, const void *data, size_t len)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    int n = name_of(name), rc = PARLEY_OK;
    if (m->os_name[n] < 0)
        m->os_name[n] = ino_new(m);
    inode *f = m->os_name[n] >= 0 ? &m->ino[m->os_name[n]] : NULL;
    unsigned char *nb = f ? realloc(f->os, f->os_len + len + 1) : NULL;
    if (!nb) {
        rc = PARLEY_ERR_IO;
    } else {
        memcpy(nb + f->os_len, data, len);
        f->os = nb;
        f->os_len += len;
    }
    pl_mutex_unlock(&m->mu);
    return rc;
}

static int m_sync(void *user, const char *name)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    int n = name_of(name), i = m->os_name[n];
    if (i >= 0) {
        buf_set(&m->ino[i].dur, &m->ino[i].dur_len, m->ino[i].os, m->ino[i].os_len);
        m->dur_name[n] = i;
    }
    pl_mutex_unlock(&m->mu);
    return i >= 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static int m_truncate(void *user, const char *name, size_t len)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    int i = m->os_name[name_of(name)];
    if (i >= 0 && len < m->ino[i].os_len)
        m->ino[i].os_len = len;
    pl_mutex_unlock(&m->mu);
    return i >= 0 ? PARLEY_OK : PARLEY_ERR_NOT_FOUND;
}

static int m_rename(void *user, const char *from, const char *to)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    int f = name_of(from), t = name_of(to), rc = m->os_name[f] >= 0 ? PARLEY_OK : PARLEY_ERR_IO;
    if (rc == PARLEY_OK) {
        m->os_name[t] = m->os_name[f];
        m->os_name[f] = -1;
    }
    pl_mutex_unlock(&m->mu);
    return rc;
}

static int m_remove(void *user, const char *name)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    m->os_name[name_of(name)] = -1;
    pl_mutex_unlock(&m->mu);
    return PARLEY_OK;
}

static int m_sync_dir(void *user)
{
    memfs *m = user;
    pl_mutex_lock(&m->mu);
    memcpy(m->dur_name, m->os_name, sizeof m->dur_name);
    pl_mutex_unlock(&m->mu);
    return PARLEY_OK;
}

static void memfs_init(memfs *m, pl_journal_io *io)
{
    memset(m, 0, sizeof *m);
    REQUIRE_INT(pl_mutex_init(&m->mu, 0), PARLEY_OK);
    for (int n = 0; n < NAMES; n++)
        m->os_name[n] = m->dur_name[n] = -1;
    *io = (pl_journal_io){m,          m_read_all, m_append, m_sync,
                          m_truncate, m_rename,   m_remove, m_sync_dir};
}

static void memfs_free(memfs *m)
{
    for (int i = 0; i < INODES; i++) {
        free(m->ino[i].os);
        free(m->ino[i].dur);
    }
    pl_mutex_destroy(&m->mu);
}

/* The power goes: `out` holds what the disk kept. With `rename_landed`, a
 * log renamed in the OS but not yet synced there has reached the disk
 * anyway (its bytes as synced: a compaction syncs the new log first). */
static void power_loss(memfs *m, int rename_landed, memfs *out, pl_journal_io *io)
{
    memfs_init(out, io);
    pl_mutex_lock(&m->mu);
    for (int n = 0; n < NAMES; n++) {
        int i = m->dur_name[n];
        if (rename_landed && n == N_LOG && m->os_name[n] >= 0)
            i = m->os_name[n];
        if (i < 0)
            continue;
        out->os_name[n] = out->dur_name[n] = n;
        out->ino[n].used = 1;
        buf_set(&out->ino[n].os, &out->ino[n].os_len, m->ino[i].dur, m->ino[i].dur_len);
        buf_set(&out->ino[n].dur, &out->ino[n].dur_len, m->ino[i].dur, m->ino[i].dur_len);
    }
    pl_mutex_unlock(&m->mu);
}

static uint64_t rec_of[ROUNDS]; /* the record number of round i's put */

/* Reopens what a power loss left and checks every round whose record was
 * synced: its key holds that round's value or a later one's. */
static void check_survivors(memfs *m, int rename_landed, uint64_t synced, int rounds)
{
    memfs after;
    pl_journal_io io;
    pl_journal *j = NULL;
    power_loss(m, rename_landed, &after, &io);
    REQUIRE_INT(pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j), PARLEY_OK);
    int lost = 0;
    for (int i = 0; i < rounds && rec_of[i] <= synced; i++) {
        char key[16];
        snprintf(key, sizeof key, "k%02d", i % KEYS);
        size_t len = 0;
        const char *v = pl_journal_get(j, NS, key, &len);
        lost += !v || atoi(v) < i;
    }
    CHECK_INT(lost, 0);
    pl_journal_close(j);
    memfs_free(&after);
}

/* Lets a busy machine schedule the disk thread now and then: a writer that
 * never waited could finish before it ran once. Bounded; the checks
 * below say whether it ever synced meanwhile. */
static void wait_synced(const pl_journal *j, uint64_t upto)
{
    int64_t end = pl_clock_mono_ms() + 2000;
    while (pl_journal_synced(j) < upto && pl_clock_mono_ms() < end)
        ;
}

static void test_power_loss_keeps_synced_records(void)
{
    memfs m;
    pl_journal_io io;
    pl_journal *j = NULL;
    pl_disk *disk = NULL;
    memfs_init(&m, &io);
    REQUIRE_INT(pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j), PARLEY_OK);
    REQUIRE_INT(pl_disk_start(pl_alloc_libc(), j, NULL, NULL, NULL, &disk), PARLEY_OK);
    int synced_meanwhile = 0, checks = 0;
    for (int i = 0; i < ROUNDS; i++) {
        /* Few keys, many rounds: old values are dead records, so
         * compactions keep coming due. */
        char key[16], val[16];
        snprintf(key, sizeof key, "k%02d", i % KEYS);
        snprintf(val, sizeof val, "%d", i);
        REQUIRE_INT(pl_journal_put(j, NS, key, val, strlen(val) + 1, 0), PARLEY_OK);
        rec_of[i] = pl_journal_written(j);
        if (i % 199 == 0) {
            /* The count first: what it covers was on the disk before. */
            uint64_t synced = pl_journal_synced(j);
            synced_meanwhile += i > 0 && synced >= rec_of[0];
            if (i > 0)
                wait_synced(j, rec_of[i - 199]);
            check_survivors(&m, 0, synced, i + 1);
            check_survivors(&m, 1, synced, i + 1);
            checks++;
        }
    }
    pl_disk_stop(disk);
    /* Stopping commits the rest: after it, everything survives. */
    CHECK(pl_journal_synced(j) >= rec_of[ROUNDS - 1]);
    check_survivors(&m, 0, pl_journal_synced(j), ROUNDS);
    /* The test tested something: the disk thread synced while writing went
     * on, and compacted (without it the log would hold ROUNDS - KEYS dead
     * records). */
    CHECK(synced_meanwhile > 0);
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    CHECK(st.dead_records < ROUNDS / 2);
    CHECK(checks > 20);
    pl_journal_close(j);
    memfs_free(&m);
}

int main(void)
{
    RUN(test_power_loss_keeps_synced_records);
    return tl_finish();
}
