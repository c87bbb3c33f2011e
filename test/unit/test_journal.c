/* The durable journal: replay, torn and corrupt tails, injected storage
 * faults (including during compaction), encryption, out-of-memory, limits. */
#include "testlib.h"

#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store/journal.h"

static tl_alloc ta;
static pl_alloc pa = {tl_malloc, tl_realloc, tl_free, &ta};

static const unsigned char key_a[PL_JOURNAL_KEY_SIZE + 1] = "0123456789abcdef0123456789abcdef";
static const unsigned char key_b[PL_JOURNAL_KEY_SIZE + 1] = "0123456789abcdef0123456789abcdeX";

/* ---- helpers ---------------------------------------------------------- */

typedef struct fixture {
    char dir[256];
    pl_journal_io io;
    void *st;
} fixture;

static void fx_init(fixture *fx, const char *name)
{
    CHECK_INT(tl_mkdtemp(fx->dir, sizeof fx->dir, name), 0);
    CHECK_INT(pl_journal_file_io(&pa, fx->dir, &fx->io, &fx->st), PARLEY_OK);
}

static void fx_done(fixture *fx)
{
    pl_journal_file_io_free(&pa, fx->st);
    tl_rmrf(fx->dir);
}

static int fx_open(fixture *fx, const unsigned char *key, pl_journal **j)
{
    return pl_journal_open(&pa, &fx->io, key, NULL, j);
}

static unsigned char *read_file(const fixture *fx, const char *name, size_t *len)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = malloc(PL_JOURNAL_MAX_VALUE * 2);
    *len = buf ? fread(buf, 1, PL_JOURNAL_MAX_VALUE * 2, f) : 0;
    fclose(f);
    return buf;
}

static void write_file(const fixture *fx, const char *name, const unsigned char *data, size_t len)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", fx->dir, name);
    FILE *f = fopen(path, "wb");
    CHECK(f != NULL);
    if (!f)
        return;
    CHECK_INT(fwrite(data, 1, len, f), len);
    fclose(f);
}

static int has_bytes(const unsigned char *hay, size_t n, const char *needle)
{
    size_t m = strlen(needle);
    for (size_t i = 0; i + m <= n; i++)
        if (memcmp(hay + i, needle, m) == 0)
            return 1;
    return 0;
}

static int put_str(pl_journal *j, uint8_t ns, const char *key, const char *val)
{
    return pl_journal_put(j, ns, key, val, strlen(val) + 1, 1);
}

/* The value of key as a string, or NULL. */
static const char *get_str(const pl_journal *j, uint8_t ns, const char *key)
{
    size_t len = 0;
    const char *v = pl_journal_get(j, ns, key, &len);
    return v && len > 0 && v[len - 1] == '\0' ? v : NULL;
}

static size_t live(const pl_journal *j)
{
    pl_journal_stats s;
    pl_journal_get_stats(j, &s);
    return s.live_entries;
}

static size_t log_bytes(const pl_journal *j)
{
    pl_journal_stats s;
    pl_journal_get_stats(j, &s);
    return s.log_bytes;
}

static size_t dropped(const pl_journal *j)
{
    pl_journal_stats s;
    pl_journal_get_stats(j, &s);
    return s.dropped_tail_bytes;
}

typedef struct collect {
    char keys[512];
    int stop_after;
    int seen;
} collect;

static int collect_fn(void *user, const char *key, const void *value, size_t len)
{
    collect *c = user;
    (void)value;
    (void)len;
    strcat(c->keys, key);
    strcat(c->keys, ",");
    return ++c->seen == c->stop_after ? 42 : 0;
}

/* ---- basic behaviour -------------------------------------------------- */

static void test_put_get_del_foreach(void)
{
    fixture fx;
    pl_journal *j;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 1, "m0003", "three"), PARLEY_OK);
    CHECK_INT(put_str(j, 1, "m0001", "one"), PARLEY_OK);
    CHECK_INT(put_str(j, 1, "m0002", "two"), PARLEY_OK);
    CHECK_INT(put_str(j, 2, "token", "secret"), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "cursor", "c1"), PARLEY_OK);
    CHECK_INT(put_str(j, 1, "m0002", "TWO"), PARLEY_OK);
    CHECK_INT(pl_journal_put(j, 1, "empty", NULL, 0, 0), PARLEY_OK);
    CHECK_INT(pl_journal_del(j, 1, "m0003", 1), PARLEY_OK);
    CHECK_INT(pl_journal_del(j, 1, "absent", 1), PARLEY_OK);
    CHECK_INT(pl_journal_sync(j), PARLEY_OK);
    pl_journal_close(j);

    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 1, "m0001"), "one");
    CHECK_STR(get_str(j, 1, "m0002"), "TWO");
    CHECK(pl_journal_get(j, 1, "m0003", NULL) == NULL);
    CHECK(pl_journal_get(j, 2, "m0001", NULL) == NULL);
    CHECK_STR(get_str(j, 2, "token"), "secret");
    size_t len = 99;
    CHECK(pl_journal_get(j, 1, "empty", &len) != NULL);
    CHECK_INT(len, 0);
    CHECK_INT(live(j), 5);
    CHECK_INT(dropped(j), 0);

    collect c = {{0}, 0, 0};
    CHECK_INT(pl_journal_foreach(j, 1, collect_fn, &c), 0);
    CHECK_STR(c.keys, "empty,m0001,m0002,");
    collect c0 = {{0}, 0, 0};
    CHECK_INT(pl_journal_foreach(j, 0, collect_fn, &c0), 0);
    CHECK_STR(c0.keys, "cursor,");
    collect stop = {{0}, 2, 0};
    CHECK_INT(pl_journal_foreach(j, 1, collect_fn, &stop), 42);
    CHECK_STR(stop.keys, "empty,m0001,");

    CHECK_INT(pl_journal_clear_ns(j, 1), PARLEY_OK);
    CHECK_INT(live(j), 2);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_INT(live(j), 2);
    CHECK(pl_journal_get(j, 1, "m0001", NULL) == NULL);
    CHECK_STR(get_str(j, 0, "cursor"), "c1");
    pl_journal_close(j);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

static void test_limits(void)
{
    fixture fx;
    pl_journal *j;
    char key[PL_JOURNAL_MAX_KEY + 2];
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    memset(key, 'k', sizeof key - 1);
    key[sizeof key - 1] = '\0';
    CHECK_INT(pl_journal_put(j, 0, key, "v", 1, 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_journal_del(j, 0, key, 1), PARLEY_ERR_INVALID_ARG);
    key[PL_JOURNAL_MAX_KEY] = '\0';
    CHECK_INT(pl_journal_put(j, 0, key, "v", 1, 1), PARLEY_OK);
    CHECK_INT(pl_journal_put(j, 0, "", "v", 1, 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_journal_put(j, 0, NULL, "v", 1, 1), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_journal_put(j, 0, "k", NULL, 1, 1), PARLEY_ERR_INVALID_ARG);
    unsigned char *big = calloc(1, PL_JOURNAL_MAX_VALUE + 1);
    CHECK_INT(pl_journal_put(j, 0, "big", big, PL_JOURNAL_MAX_VALUE + 1, 1),
              PARLEY_ERR_INVALID_ARG);
    big[PL_JOURNAL_MAX_VALUE - 1] = 7;
    CHECK_INT(pl_journal_put(j, 0, "big", big, PL_JOURNAL_MAX_VALUE, 1), PARLEY_OK);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    size_t len = 0;
    const unsigned char *v = pl_journal_get(j, 0, "big", &len);
    CHECK_INT(len, PL_JOURNAL_MAX_VALUE);
    CHECK(v && v[PL_JOURNAL_MAX_VALUE - 1] == 7);
    CHECK(pl_journal_get(j, 0, key, NULL) != NULL);
    CHECK_INT(live(j), 2);
    pl_journal_close(j);
    free(big);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

/* ---- torn and corrupt tails ------------------------------------------- */

/* Three records; *ends gets the log length after each (ends[0]: header). */
static void three_records(fixture *fx, const unsigned char *key, size_t ends[4])
{
    pl_journal *j;
    CHECK_INT(fx_open(fx, key, &j), PARLEY_OK);
    ends[0] = log_bytes(j);
    CHECK_INT(put_str(j, 0, "first", "one"), PARLEY_OK);
    ends[1] = log_bytes(j);
    CHECK_INT(put_str(j, 0, "second", "two"), PARLEY_OK);
    ends[2] = log_bytes(j);
    CHECK_INT(put_str(j, 0, "third", "three"), PARLEY_OK);
    ends[3] = log_bytes(j);
    pl_journal_close(j);
}

static void torn_tail(const unsigned char *key)
{
    fixture fx;
    size_t ends[4], len = 0;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    three_records(&fx, key, ends);
    unsigned char *full = read_file(&fx, "journal", &len);
    CHECK_INT(len, ends[3]);
    for (size_t cut = ends[2]; cut < ends[3]; cut++) {
        pl_journal *j;
        write_file(&fx, "journal", full, cut);
        CHECK_INT(fx_open(&fx, key, &j), PARLEY_OK);
        if (!j)
            continue;
        CHECK_STR(get_str(j, 0, "first"), "one");
        CHECK_STR(get_str(j, 0, "second"), "two");
        CHECK(pl_journal_get(j, 0, "third", NULL) == NULL);
        CHECK_INT(dropped(j), cut - ends[2]);
        CHECK_INT(put_str(j, 0, "after", "cut"), PARLEY_OK);
        pl_journal_close(j);
        CHECK_INT(fx_open(&fx, key, &j), PARLEY_OK);
        CHECK_INT(dropped(j), 0);
        CHECK_STR(get_str(j, 0, "after"), "cut");
        CHECK_STR(get_str(j, 0, "second"), "two");
        CHECK_INT(live(j), 3);
        pl_journal_close(j);
    }
    free(full);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

static void test_torn_tail_every_offset(void)
{
    torn_tail(NULL);
}

static void test_torn_tail_every_offset_encrypted(void)
{
    torn_tail(key_a);
}

/* Rule: replay stops at the first record that fails its checks; it and
 * everything after it are dropped (later records are not trusted once the
 * framing may be off), everything before survives. */
static void corrupt_middle(const unsigned char *key)
{
    fixture fx;
    pl_journal *j;
    size_t ends[4], len = 0;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    three_records(&fx, key, ends);
    unsigned char *data = read_file(&fx, "journal", &len);
    data[ends[1] + (ends[2] - ends[1]) / 2 + 5] ^= 0x10;
    write_file(&fx, "journal", data, len);
    CHECK_INT(fx_open(&fx, key, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 0, "first"), "one");
    CHECK(pl_journal_get(j, 0, "second", NULL) == NULL);
    CHECK(pl_journal_get(j, 0, "third", NULL) == NULL);
    CHECK_INT(dropped(j), ends[3] - ends[1]);
    CHECK_INT(log_bytes(j), ends[1]);
    pl_journal_close(j);
    free(data);
    data = read_file(&fx, "journal", &len);
    CHECK_INT(len, ends[1]);
    free(data);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

static void test_corrupt_middle_record(void)
{
    corrupt_middle(NULL);
    corrupt_middle(key_a);
}

static void test_corrupt_header_starts_afresh(void)
{
    fixture fx;
    pl_journal *j;
    size_t ends[4], len = 0;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    three_records(&fx, NULL, ends);
    unsigned char *data = read_file(&fx, "journal", &len);
    data[0] ^= 0xff;
    write_file(&fx, "journal", data, len);
    free(data);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_INT(live(j), 0);
    CHECK_INT(dropped(j), ends[3]);
    CHECK_INT(put_str(j, 0, "x", "y"), PARLEY_OK);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 0, "x"), "y");
    pl_journal_close(j);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

/* ---- injected storage faults ------------------------------------------ */

enum { F_APPEND, F_SYNC, F_TRUNCATE, F_RENAME, F_N };

typedef struct fault {
    pl_journal_io inner;
    long calls[F_N];
    long fail_at[F_N]; /* 1-based index of the failing call of each kind; 0: none */
    int partial;       /* the failing append writes half its bytes first (disk full) */
    int rename_anyway; /* the failing rename happens, then reports an error */
} fault;

static int hit(fault *f, int kind)
{
    return ++f->calls[kind] == f->fail_at[kind];
}

static int f_read_all(void *u, const pl_alloc *a, const char *name, unsigned char **d, size_t *l)
{
    fault *f = u;
    return f->inner.read_all(f->inner.user, a, name, d, l);
}

static int f_append(void *u, const char *name, const void *data, size_t len)
{
    fault *f = u;
    if (!hit(f, F_APPEND))
        return f->inner.append(f->inner.user, name, data, len);
    if (f->partial && len > 1)
        f->inner.append(f->inner.user, name, data, len / 2);
    return PARLEY_ERR_IO;
}

/* No real fsync: reopening reads the page cache anyway, and hundreds of
 * runs would be slow on a disk. */
static int f_sync(void *u, const char *name)
{
    fault *f = u;
    (void)name;
    return hit(f, F_SYNC) ? PARLEY_ERR_IO : PARLEY_OK;
}

static int f_truncate(void *u, const char *name, size_t len)
{
    fault *f = u;
    return hit(f, F_TRUNCATE) ? PARLEY_ERR_IO : f->inner.truncate(f->inner.user, name, len);
}

static int f_rename(void *u, const char *from, const char *to)
{
    fault *f = u;
    if (!hit(f, F_RENAME))
        return f->inner.rename(f->inner.user, from, to);
    if (f->rename_anyway)
        f->inner.rename(f->inner.user, from, to);
    return PARLEY_ERR_IO;
}

static int f_remove(void *u, const char *name)
{
    fault *f = u;
    return f->inner.remove(f->inner.user, name);
}

static pl_journal_io fault_io(fault *f)
{
    /* No sync_dir: the rename is durable by itself (as host storage's). */
    pl_journal_io io = {f, f_read_all, f_append, f_sync, f_truncate, f_rename, f_remove, NULL};
    return io;
}

#define NKEYS 4
#define NOPS 100

/* The acknowledged state: what every call that returned OK promised. */
typedef struct model {
    int present[NKEYS];
    char val[NKEYS][32];
} model;

static void check_model(const pl_journal *j, const model *m)
{
    size_t n = 0;
    for (int k = 0; k < NKEYS; k++) {
        char key[8];
        snprintf(key, sizeof key, "k%d", k);
        if (m->present[k]) {
            n++;
            CHECK_STR(get_str(j, 1, key), m->val[k]);
        } else {
            CHECK(pl_journal_get(j, 1, key, NULL) == NULL);
        }
    }
    CHECK_INT(live(j), n);
}

/* Puts, deletes, a forced compaction and (past 64 dead records) automatic
 * ones; returns how many calls failed. */
static int workload(pl_journal *j, model *m)
{
    int failures = 0;
    for (int i = 0; i < NOPS; i++) {
        char key[8], val[32];
        int k = i % NKEYS, rc;
        snprintf(key, sizeof key, "k%d", k);
        snprintf(val, sizeof val, "value-%d", i);
        if (i == 30) {
            rc = pl_journal_compact(j, 1);
        } else if (i % 7 == 6) {
            rc = pl_journal_del(j, 1, key, 1);
            if (rc == PARLEY_OK)
                m->present[k] = 0;
        } else {
            rc = put_str(j, 1, key, val);
            if (rc == PARLEY_OK) {
                m->present[k] = 1;
                strcpy(m->val[k], val);
            }
        }
        if (rc != PARLEY_OK) {
            CHECK_INT(rc, PARLEY_ERR_IO);
            failures++;
        }
        check_model(j, m);
    }
    return failures;
}

/* One run with the given faults; returns the calls of each kind it made. */
static void fault_run(const fault *proto, long calls[F_N])
{
    fixture fx;
    fault f = *proto;
    model m;
    pl_journal *j = NULL;
    memset(&m, 0, sizeof m);
    fx_init(&fx, "journal-fault");
    f.inner = fx.io;
    pl_journal_io io = fault_io(&f);
    int rc = pl_journal_open(&pa, &io, NULL, NULL, &j);
    if (rc == PARLEY_OK) {
        workload(j, &m);
        /* The journal's idea of the log's length must stay the file's (it
         * is where a failed write is cut back to), unless a cut-back itself
         * failed and is still pending. */
        size_t len = 0;
        unsigned char *data = read_file(&fx, "journal", &len);
        if (!f.fail_at[F_TRUNCATE])
            CHECK_INT(log_bytes(j), len);
        free(data);
        pl_journal_close(j);
    } else {
        CHECK_INT(rc, PARLEY_ERR_IO);
    }
    memcpy(calls, f.calls, sizeof f.calls);
    /* A crash now: what a fresh open sees is exactly the acknowledged state. */
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    if (j) {
        check_model(j, &m);
        CHECK_INT(put_str(j, 1, "later", "ok"), PARLEY_OK);
        pl_journal_close(j);
    }
    fx_done(&fx);
}

static void fault_sweep(int kind, int partial, int rename_anyway, int truncate_too)
{
    fault f;
    long clean[F_N];
    memset(&f, 0, sizeof f);
    fault_run(&f, clean);
    CHECK(clean[F_RENAME] >= 2);     /* the forced compaction and an automatic one */
    CHECK(clean[F_SYNC] > NOPS / 2); /* every durable put and del */
    f.partial = partial;
    f.rename_anyway = rename_anyway;
    f.fail_at[F_TRUNCATE] = truncate_too;
    for (long n = 1; n <= clean[kind]; n++) {
        long calls[F_N];
        f.fail_at[kind] = n;
        fault_run(&f, calls);
    }
}

static void test_fault_append(void)
{
    tl_alloc_reset(&ta);
    fault_sweep(F_APPEND, 0, 0, 0);
    CHECK_INT(ta.live, 0);
}

static void test_fault_append_disk_full(void)
{
    tl_alloc_reset(&ta);
    fault_sweep(F_APPEND, 1, 0, 0);
    CHECK_INT(ta.live, 0);
}

/* The cut-back after a partial write fails too: the next write must cut
 * the garbage first, or acknowledged records would follow it. */
static void test_fault_append_and_cut_back(void)
{
    tl_alloc_reset(&ta);
    fault_sweep(F_APPEND, 1, 0, 1);
    CHECK_INT(ta.live, 0);
}

static void test_fault_sync(void)
{
    tl_alloc_reset(&ta);
    fault_sweep(F_SYNC, 0, 0, 0);
    CHECK_INT(ta.live, 0);
}

static void test_fault_rename(void)
{
    tl_alloc_reset(&ta);
    fault_sweep(F_RENAME, 0, 0, 0);
    fault_sweep(F_RENAME, 0, 1, 0);
    CHECK_INT(ta.live, 0);
}

static void test_failed_put_leaves_no_trace(void)
{
    fixture fx;
    fault f;
    pl_journal *j;
    tl_alloc_reset(&ta);
    memset(&f, 0, sizeof f);
    fx_init(&fx, "journal-fault");
    f.inner = fx.io;
    pl_journal_io io = fault_io(&f);
    CHECK_INT(pl_journal_open(&pa, &io, NULL, NULL, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "a", "1"), PARLEY_OK);
    size_t before = log_bytes(j);
    f.partial = 1;
    f.fail_at[F_APPEND] = f.calls[F_APPEND] + 1;
    CHECK_INT(put_str(j, 0, "b", "2"), PARLEY_ERR_IO);
    CHECK(pl_journal_get(j, 0, "b", NULL) == NULL);
    CHECK_INT(log_bytes(j), before);
    size_t len = 0;
    unsigned char *data = read_file(&fx, "journal", &len);
    CHECK_INT(len, before);
    free(data);
    f.fail_at[F_SYNC] = f.calls[F_SYNC] + 1;
    CHECK_INT(put_str(j, 0, "c", "3"), PARLEY_ERR_IO);
    CHECK(pl_journal_get(j, 0, "c", NULL) == NULL);
    long syncs = f.calls[F_SYNC];
    CHECK_INT(pl_journal_put(j, 0, "d", "4", 2, 0), PARLEY_OK);
    CHECK_INT(f.calls[F_SYNC], syncs);
    CHECK_INT(pl_journal_put(j, 0, "e", "5", 2, 1), PARLEY_OK);
    CHECK_INT(f.calls[F_SYNC], syncs + 1);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 0, "a"), "1");
    CHECK(pl_journal_get(j, 0, "b", NULL) == NULL);
    CHECK(pl_journal_get(j, 0, "c", NULL) == NULL);
    CHECK(pl_journal_get(j, 0, "e", NULL) != NULL);
    pl_journal_close(j);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

/* A rename that happened but reported an error: the log is now the new
 * file, and a later failed write must be cut back to its real length. */
static void test_rename_done_but_failed(void)
{
    fixture fx;
    fault f;
    pl_journal *j;
    tl_alloc_reset(&ta);
    memset(&f, 0, sizeof f);
    fx_init(&fx, "journal-fault");
    f.inner = fx.io;
    pl_journal_io io = fault_io(&f);
    CHECK_INT(pl_journal_open(&pa, &io, NULL, NULL, &j), PARLEY_OK);
    for (int i = 0; i < 20; i++)
        CHECK_INT(put_str(j, 0, "a", i % 2 ? "odd" : "even"), PARLEY_OK);
    f.rename_anyway = 1;
    f.fail_at[F_RENAME] = f.calls[F_RENAME] + 1;
    CHECK_INT(pl_journal_compact(j, 1), PARLEY_ERR_IO);
    f.partial = 1;
    f.fail_at[F_APPEND] = f.calls[F_APPEND] + 1;
    CHECK_INT(put_str(j, 0, "b", "lost"), PARLEY_ERR_IO);
    CHECK_INT(put_str(j, 0, "c", "kept"), PARLEY_OK);
    size_t len = 0;
    unsigned char *data = read_file(&fx, "journal", &len);
    CHECK_INT(len, log_bytes(j));
    free(data);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_INT(dropped(j), 0);
    CHECK_STR(get_str(j, 0, "a"), "odd");
    CHECK(pl_journal_get(j, 0, "b", NULL) == NULL);
    CHECK_STR(get_str(j, 0, "c"), "kept");
    pl_journal_close(j);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

/* A compaction that keeps failing is not retried on every write. */
static void test_failing_compaction_backs_off(void)
{
    fixture fx;
    fault f;
    pl_journal *j;
    tl_alloc_reset(&ta);
    memset(&f, 0, sizeof f);
    fx_init(&fx, "journal-fault");
    f.inner = fx.io;
    pl_journal_io io = fault_io(&f);
    CHECK_INT(pl_journal_open(&pa, &io, NULL, NULL, &j), PARLEY_OK);
    f.fail_at[F_RENAME] = 1;
    f.rename_anyway = 0;
    long renames = 0;
    for (int i = 0; i < 400; i++) {
        CHECK_INT(pl_journal_put(j, 0, "hot", "v", 2, 0), PARLEY_OK);
        if (f.calls[F_RENAME] > renames) {
            renames = f.calls[F_RENAME];
            f.fail_at[F_RENAME] = renames + 1; /* every rename fails */
        }
    }
    CHECK(renames >= 2);
    CHECK(renames <= 4);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 0, "hot"), "v");
    CHECK_INT(live(j), 1);
    pl_journal_close(j);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

static void test_auto_compaction(void)
{
    fixture fx;
    pl_journal *j;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    CHECK_INT(fx_open(&fx, key_a, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "keep", "kept"), PARLEY_OK);
    size_t small = log_bytes(j);
    char val[32];
    for (int i = 0; i < 300; i++) {
        snprintf(val, sizeof val, "v%d", i);
        CHECK_INT(pl_journal_put(j, 0, "hot", val, strlen(val) + 1, 0), PARLEY_OK);
    }
    CHECK_INT(pl_journal_sync(j), PARLEY_OK);
    pl_journal_stats s;
    pl_journal_get_stats(j, &s);
    CHECK(s.dead_records <= 65);
    CHECK(s.log_bytes < small + 70 * 80);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, key_a, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 0, "hot"), "v299");
    CHECK_STR(get_str(j, 0, "keep"), "kept");
    CHECK_INT(pl_journal_compact(j, 1), PARLEY_OK);
    pl_journal_get_stats(j, &s);
    CHECK_INT(s.dead_records, 0);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, key_a, &j), PARLEY_OK);
    CHECK_INT(live(j), 2);
    CHECK_STR(get_str(j, 0, "hot"), "v299");
    pl_journal_close(j);
    size_t len = 0;
    unsigned char *tmp = read_file(&fx, "journal.tmp", &len);
    CHECK(tmp == NULL);
    free(tmp);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

/* ---- environment ------------------------------------------------------ */

static void test_unusable_dir(void)
{
    char dir[256], file[300];
    pl_journal_io io;
    void *st = NULL;
    tl_alloc_reset(&ta);
    CHECK_INT(tl_mkdtemp(dir, sizeof dir, "journal-bad"), 0);
    snprintf(file, sizeof file, "%s/plain-file", dir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK_INT(pl_journal_file_io(&pa, file, &io, &st), PARLEY_ERR_IO);
    CHECK(st == NULL);
    CHECK_INT(pl_journal_file_io(&pa, "", &io, &st), PARLEY_ERR_INVALID_ARG);
    tl_rmrf(dir);
    CHECK_INT(ta.live, 0);
}

static void test_readonly_dir(void)
{
    fixture fx;
    pl_journal *j = NULL;
#if defined(_WIN32)
    printf("  skipped: Windows has no read-only directories (ACLs decide)\n");
    return;
#else
    if (geteuid() == 0) {
        printf("  skipped: root ignores directory permissions\n");
        return;
    }
#endif
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal-ro");
    CHECK_INT(chmod(fx.dir, 0500), 0);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_ERR_IO);
    CHECK(j == NULL);
    CHECK_INT(chmod(fx.dir, 0700), 0);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

static void test_creates_missing_dirs(void)
{
    char base[256], dir[300];
    pl_journal_io io;
    void *st;
    pl_journal *j;
    tl_alloc_reset(&ta);
    CHECK_INT(tl_mkdtemp(base, sizeof base, "journal-mk"), 0);
    snprintf(dir, sizeof dir, "%s/a/b", base);
    CHECK_INT(pl_journal_file_io(&pa, dir, &io, &st), PARLEY_OK);
    CHECK_INT(pl_journal_open(&pa, &io, NULL, NULL, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "k", "v"), PARLEY_OK);
    pl_journal_close(j);
    pl_journal_file_io_free(&pa, st);
    struct stat sb;
    CHECK_INT(stat(dir, &sb), 0);
#if !defined(_WIN32) /* Windows: the ACLs of the parent, no mode bits */
    CHECK_INT(sb.st_mode & 0777, 0700);
#endif
    tl_rmrf(base);
    CHECK_INT(ta.live, 0);
}

/* ---- encryption ------------------------------------------------------- */

static void test_encrypted(void)
{
    fixture fx, plain;
    pl_journal *j = NULL;
    size_t len = 0, len2 = 0;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal-enc");
    CHECK_INT(fx_open(&fx, key_a, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 3, "zanzibar-key", "XYZZY-PLUGH-SECRET"), PARLEY_OK);
    pl_journal_close(j);
    CHECK_INT(fx_open(&fx, key_a, &j), PARLEY_OK);
    CHECK_STR(get_str(j, 3, "zanzibar-key"), "XYZZY-PLUGH-SECRET");
    pl_journal_close(j);

    unsigned char *data = read_file(&fx, "journal", &len);
    CHECK(len > 0);
    CHECK(!has_bytes(data, len, "XYZZY-PLUGH"));
    CHECK(!has_bytes(data, len, "zanzibar"));

    j = NULL;
    CHECK_INT(fx_open(&fx, key_b, &j), PARLEY_ERR_AUTH);
    CHECK(j == NULL);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_ERR_AUTH);
    unsigned char *after = read_file(&fx, "journal", &len2);
    CHECK(len2 == len && memcmp(data, after, len) == 0); /* refused opens change nothing */
    free(data);
    free(after);

    fx_init(&plain, "journal-plain");
    CHECK_INT(fx_open(&plain, NULL, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 3, "zanzibar-key", "XYZZY-PLUGH-SECRET"), PARLEY_OK);
    pl_journal_close(j);
    data = read_file(&plain, "journal", &len);
    CHECK(has_bytes(data, len, "XYZZY-PLUGH")); /* the grep above can see plaintext */
    free(data);
    j = NULL;
    CHECK_INT(fx_open(&plain, key_a, &j), PARLEY_ERR_AUTH);
    CHECK(j == NULL);
    fx_done(&plain);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

/* ---- out of memory ---------------------------------------------------- */

static void oom_loop(const unsigned char *key)
{
    fixture fx;
    pl_journal *j;
    int done = 0;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal-oom");
    long base = ta.live; /* the file io's state */
    CHECK_INT(fx_open(&fx, key, &j), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "a", "1"), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "b", "2"), PARLEY_OK);
    CHECK_INT(put_str(j, 0, "a", "3"), PARLEY_OK);
    pl_journal_close(j);
    for (long n = 0; !done && n < 10000; n++) {
        int put_ok = 0, del_ok = 0;
        j = NULL;
        tl_alloc_fail(&ta, n, TL_FAIL_REALLOC);
        int rc = fx_open(&fx, key, &j);
        if (rc == PARLEY_OK) {
            rc = put_str(j, 0, "c", "4");
            put_ok = rc == PARLEY_OK;
            if (rc == PARLEY_OK)
                rc = pl_journal_compact(j, 1);
            if (rc == PARLEY_OK)
                rc = pl_journal_del(j, 0, "b", 1);
            del_ok = rc == PARLEY_OK;
            pl_journal_close(j);
        } else {
            CHECK(j == NULL);
        }
        if (rc != PARLEY_OK)
            CHECK_INT(rc, PARLEY_ERR_NOMEM);
        done = !ta.failed;
        tl_alloc_fail(&ta, -1, 0);
        CHECK_INT(ta.live, base);
        CHECK_INT(fx_open(&fx, key, &j), PARLEY_OK);
        if (!j)
            break;
        CHECK_STR(get_str(j, 0, "a"), "3");
        CHECK(del_ok ? pl_journal_get(j, 0, "b", NULL) == NULL : get_str(j, 0, "b") != NULL);
        if (put_ok)
            CHECK_STR(get_str(j, 0, "c"), "4");
        /* Back to the starting state for the next round. */
        CHECK_INT(put_str(j, 0, "b", "2"), PARLEY_OK);
        CHECK_INT(pl_journal_del(j, 0, "c", 1), PARLEY_OK);
        pl_journal_close(j);
    }
    CHECK(done);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

static void test_oom(void)
{
    oom_loop(NULL);
    oom_loop(key_a);
}

/* The bytes on disk: a header and one put, their CRCs computed by zlib's
 * crc32 (the body of the put is longer than eight bytes, so a CRC that
 * goes several bytes per step is checked past its first step). Journals
 * written by older versions must replay, and new ones stay readable by
 * them. */
static const unsigned char golden_log[] = {
    0x50, 0x4a, 0x06, 0x00, 0x00, 0x00, 0xf6, 0x2f, 0xad, 0x52, 0x7f, 0x00, 0x00, 0x00, 0x01,
    0x00, 0x50, 0x4a, 0x2e, 0x00, 0x00, 0x00, 0xc7, 0x32, 0x26, 0x14, 0x01, 0x05, 0x03, 0x00,
    0x6b, 0x65, 0x79, 0x61, 0x20, 0x76, 0x61, 0x6c, 0x75, 0x65, 0x20, 0x74, 0x68, 0x61, 0x74,
    0x20, 0x69, 0x73, 0x20, 0x6c, 0x6f, 0x6e, 0x67, 0x65, 0x72, 0x20, 0x74, 0x68, 0x61, 0x6e,
    0x20, 0x65, 0x69, 0x67, 0x68, 0x74, 0x20, 0x62, 0x79, 0x74, 0x65, 0x73};
static const char golden_value[] = "a value that is longer than eight bytes";

static void test_format_golden_bytes(void)
{
    fixture fx;
    tl_alloc_reset(&ta);
    fx_init(&fx, "journal");
    pl_journal *j = NULL;
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    CHECK_INT(pl_journal_put(j, 5, "key", golden_value, strlen(golden_value), 1), PARLEY_OK);
    pl_journal_close(j);
    size_t len = 0;
    unsigned char *got = read_file(&fx, "journal", &len);
    CHECK(got != NULL);
    CHECK_INT((long)len, (long)sizeof golden_log);
    CHECK(got && len == sizeof golden_log && memcmp(got, golden_log, len) == 0);
    free(got);

    write_file(&fx, "journal", golden_log, sizeof golden_log);
    CHECK_INT(fx_open(&fx, NULL, &j), PARLEY_OK);
    size_t vlen = 0;
    const char *v = pl_journal_get(j, 5, "key", &vlen);
    CHECK(v && vlen == strlen(golden_value) && memcmp(v, golden_value, vlen) == 0);
    pl_journal_stats st;
    pl_journal_get_stats(j, &st);
    CHECK_INT((long)st.dropped_tail_bytes, 0);
    pl_journal_close(j);
    fx_done(&fx);
    CHECK_INT(ta.live, 0);
}

int main(void)
{
    RUN(test_put_get_del_foreach);
    RUN(test_format_golden_bytes);
    RUN(test_limits);
    RUN(test_torn_tail_every_offset);
    RUN(test_torn_tail_every_offset_encrypted);
    RUN(test_corrupt_middle_record);
    RUN(test_corrupt_header_starts_afresh);
    RUN(test_failed_put_leaves_no_trace);
    RUN(test_fault_append);
    RUN(test_fault_append_disk_full);
    RUN(test_fault_append_and_cut_back);
    RUN(test_fault_sync);
    RUN(test_fault_rename);
    RUN(test_rename_done_but_failed);
    RUN(test_failing_compaction_backs_off);
    RUN(test_auto_compaction);
    RUN(test_unusable_dir);
    RUN(test_readonly_dir);
    RUN(test_creates_missing_dirs);
    RUN(test_encrypted);
    RUN(test_oom);
    return tl_finish();
}
