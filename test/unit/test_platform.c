/* The platform layer (lib/platform/) on the OS the test runs on (Linux, and
 * Windows under wine): replacing a file over another (POSIX rename
 * semantics, even with the target open), appending, syncing, reading with
 * limits, truncating, removing, directories and files with non-ASCII
 * names, listing; a rename made durable apart, a file synced through a
 * handle of its own; recursive and plain locks under two threads, a
 * condition, a detached thread; name resolution; entropy, clocks, device
 * facts and the CA store. */
#if defined(__linux__) && !defined(_GNU_SOURCE)
#define _GNU_SOURCE /* SCHED_BATCH */
#endif
#include "testlib.h"

#include <stdio.h>
#include <string.h>
#if defined(__linux__)
#include <sched.h>
#endif

#include "platform/ca.h"
#include "platform/clock.h"
#include "platform/device.h"
#include "platform/entropy.h"
#include "platform/fs.h"
#include "platform/net.h"
#include "platform/thread.h"

static tl_alloc ta;
static pl_alloc pa = {tl_malloc, tl_realloc, tl_free, &ta};

/* "données-日本-ü" */
#define UNI u8"donn\u00e9es-\u65e5\u672c-\u00fc"

typedef struct fixture {
    char base[256];
    char path[512];
    pl_dir *d;
} fixture;

static void fx_open(fixture *fx, const char *name)
{
    tl_alloc_reset(&ta);
    REQUIRE_INT(tl_mkdtemp(fx->base, sizeof fx->base, name), 0);
    snprintf(fx->path, sizeof fx->path, "%s/%s/%s", fx->base, UNI, "inner");
    REQUIRE_INT(pl_dir_open(&pa, fx->path, &fx->d), PARLEY_OK);
}

static void fx_close(fixture *fx)
{
    pl_dir_close(fx->d);
    CHECK_INT(ta.live, 0);
    tl_rmrf(fx->base);
}

static void put(pl_dir *d, const char *name, const char *text)
{
    pl_file f;
    int created = 0;
    REQUIRE_INT(pl_file_open_append(d, name, &created, &f), PARLEY_OK);
    REQUIRE_INT(pl_file_append(&f, text, strlen(text)), PARLEY_OK);
    REQUIRE_INT(pl_file_sync(&f), PARLEY_OK);
    pl_file_close(&f);
}

/* The file's text, checked against `want` (NULL: must be missing). */
static void expect(pl_dir *d, const char *name, const char *want)
{
    unsigned char *data = NULL;
    size_t len = 0;
    int rc = pl_dir_read(d, &pa, name, 1 << 20, &data, &len);
    if (!want) {
        CHECK_INT(rc, PARLEY_ERR_NOT_FOUND);
        pl_free(&pa, data);
        return;
    }
    REQUIRE_INT(rc, PARLEY_OK);
    CHECK_INT(len, strlen(want));
    CHECK_STR((const char *)data, want);
    pl_free(&pa, data);
}

static void test_dirs_with_non_ascii_names(void)
{
    fixture fx;
    fx_open(&fx, "plat-dirs");
    CHECK_INT(pl_path_kind_of(fx.path), PL_PATH_DIR);
    char parent[512];
    snprintf(parent, sizeof parent, "%s/%s", fx.base, UNI);
    CHECK_INT(pl_path_kind_of(parent), PL_PATH_DIR);
    /* Opening an existing directory is no error. */
    pl_dir *again = NULL;
    CHECK_INT(pl_dir_open(&pa, fx.path, &again), PARLEY_OK);
    pl_dir_close(again);
    CHECK_INT(pl_dir_sync(fx.d), PARLEY_OK);
    fx_close(&fx);
}

static void test_append_sync_read(void)
{
    fixture fx;
    fx_open(&fx, "plat-append");
    pl_file f;
    int created = 0;
    REQUIRE_INT(pl_file_open_append(fx.d, "log", &created, &f), PARLEY_OK);
    CHECK_INT(created, 1);
    CHECK_INT(pl_file_append(&f, "one,", 4), PARLEY_OK);
    CHECK_INT(pl_file_append(&f, "two", 3), PARLEY_OK);
    CHECK_INT(pl_file_sync(&f), PARLEY_OK);
    pl_file_close(&f);
    /* Another handle appends after what is there, never over it. */
    REQUIRE_INT(pl_file_open_append(fx.d, "log", &created, &f), PARLEY_OK);
    CHECK_INT(created, 0);
    CHECK_INT(pl_file_append(&f, ",three", 6), PARLEY_OK);
    pl_file_close(&f);
    expect(fx.d, "log", "one,two,three");
    /* More than the cap is refused, not cut. */
    unsigned char *data = NULL;
    size_t len = 0;
    CHECK_INT(pl_dir_read(fx.d, &pa, "log", 5, &data, &len), PARLEY_ERR_IO);
    CHECK(data == NULL);
    expect(fx.d, "missing", NULL);
    CHECK_INT(pl_dir_truncate(fx.d, "log", 3), PARLEY_OK);
    expect(fx.d, "log", "one");
    CHECK_INT(pl_dir_truncate(fx.d, "missing", 0), PARLEY_ERR_NOT_FOUND);
    fx_close(&fx);
}

/* POSIX rename() replaces its target in one step; so must the platform
 * (MoveFileExW only with MOVEFILE_REPLACE_EXISTING). With the target open
 * elsewhere, POSIX replaces it all the same; Windows refuses, and then
 * both files must be as they were: an error, nothing lost. */
static void test_replace_semantics(void)
{
    fixture fx;
    fx_open(&fx, "plat-replace");
    put(fx.d, "old", "the old log");
    put(fx.d, "new", "the compacted log");
    pl_file held;
    int created = 0;
    REQUIRE_INT(pl_file_open_append(fx.d, "old", &created, &held), PARLEY_OK);
#if defined(_WIN32)
    CHECK_INT(pl_dir_replace(fx.d, "new", "old"), PARLEY_ERR_IO);
    expect(fx.d, "old", "the old log");
    expect(fx.d, "new", "the compacted log");
    pl_file_close(&held);
    CHECK_INT(pl_dir_replace(fx.d, "new", "old"), PARLEY_OK);
#else
    CHECK_INT(pl_dir_replace(fx.d, "new", "old"), PARLEY_OK);
    pl_file_close(&held);
#endif
    expect(fx.d, "old", "the compacted log");
    expect(fx.d, "new", NULL);
    CHECK_INT(pl_dir_replace(fx.d, "new", "old"), PARLEY_ERR_NOT_FOUND);
    expect(fx.d, "old", "the compacted log");
    /* Names are names: no path may sneak in. */
    CHECK_INT(pl_dir_replace(fx.d, "old", "../escaped"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_dir_remove(fx.d, "sub/x"), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_dir_remove(fx.d, "old"), PARLEY_OK);
    expect(fx.d, "old", NULL);
    CHECK_INT(pl_dir_remove(fx.d, "old"), PARLEY_OK);
    fx_close(&fx);
}

/* pl_dir_rename replaces as pl_dir_replace does (made durable by a
 * pl_dir_sync); pl_dir_sync_file syncs a file through its own handle while
 * another appends to it. */
static void test_rename_and_sync_file(void)
{
    fixture fx;
    fx_open(&fx, "plat-rename");
    put(fx.d, "journal", "old");
    put(fx.d, "journal.tmp", "compacted");
    CHECK_INT(pl_dir_rename(fx.d, "journal.tmp", "journal"), PARLEY_OK);
    CHECK_INT(pl_dir_sync(fx.d), PARLEY_OK);
    expect(fx.d, "journal", "compacted");
    expect(fx.d, "journal.tmp", NULL);
    CHECK_INT(pl_dir_rename(fx.d, "journal.tmp", "journal"), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_dir_rename(fx.d, "journal", "../x"), PARLEY_ERR_INVALID_ARG);

    pl_file f;
    int created = 1;
    REQUIRE_INT(pl_file_open_append(fx.d, "journal", &created, &f), PARLEY_OK);
    CHECK_INT(created, 0);
    CHECK_INT(pl_file_append(&f, "+more", 5), PARLEY_OK);
    CHECK_INT(pl_dir_sync_file(fx.d, "journal"), PARLEY_OK);
    CHECK_INT(pl_file_append(&f, "+again", 6), PARLEY_OK);
    pl_file_close(&f);
    expect(fx.d, "journal", "compacted+more+again");
    CHECK_INT(pl_dir_sync_file(fx.d, "none"), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_dir_sync_file(fx.d, "a/b"), PARLEY_ERR_INVALID_ARG);
    fx_close(&fx);
}

typedef struct listing {
    int files;
    int saw_unicode;
} listing;

static int count_file(void *ctx, const char *path)
{
    listing *l = ctx;
    l->files++;
    char text[64] = "";
    char *data = NULL;
    size_t len = 0;
    if (pl_path_read(&pa, path, sizeof text, &data, &len) == PARLEY_OK) {
        snprintf(text, sizeof text, "%s", data);
        pl_free(&pa, data);
    }
    if (strstr(path, UNI ".pem") && strcmp(text, "unicode") == 0)
        l->saw_unicode = 1;
    return 0;
}

static void test_list_and_read_paths(void)
{
    fixture fx;
    fx_open(&fx, "plat-list");
    put(fx.d, UNI ".pem", "unicode");
    put(fx.d, "b.pem", "plain");
    pl_dir *sub = NULL;
    char subpath[600];
    snprintf(subpath, sizeof subpath, "%s/subdir", fx.path);
    REQUIRE_INT(pl_dir_open(&pa, subpath, &sub), PARLEY_OK);
    pl_dir_close(sub);
    listing l = {0, 0};
    CHECK_INT(pl_path_each_file(&pa, fx.path, count_file, &l), 0);
    CHECK_INT(l.files, 2); /* the subdirectory is not a file */
    CHECK_INT(l.saw_unicode, 1);
    char missing[600];
    snprintf(missing, sizeof missing, "%s/none", fx.path);
    CHECK_INT(pl_path_each_file(&pa, missing, count_file, &l), PARLEY_ERR_NOT_FOUND);
    char *data = NULL;
    size_t len = 0;
    CHECK_INT(pl_path_read(&pa, missing, 100, &data, &len), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pl_path_kind_of(missing), PL_PATH_NONE);
    fx_close(&fx);
}

typedef struct counter {
    pl_mutex lock;
    long n;
} counter;

static void bump(void *arg)
{
    counter *c = arg;
    for (int i = 0; i < 100000; i++) {
        pl_mutex_lock(&c->lock);
        c->n++;
        pl_mutex_unlock(&c->lock);
    }
}

static void test_threads_and_locks(void)
{
    for (int recursive = 0; recursive < 2; recursive++) {
        counter c = {.n = 0};
        REQUIRE_INT(pl_mutex_init(&c.lock, recursive), PARLEY_OK);
        pl_thread a, b;
        REQUIRE_INT(pl_thread_start(&a, bump, &c), PARLEY_OK);
        REQUIRE_INT(pl_thread_start(&b, bump, &c), PARLEY_OK);
        pl_thread_join(&a);
        pl_thread_join(&b);
        CHECK_INT(c.n, 200000);
        if (recursive) {
            /* The holder may take it again. */
            pl_mutex_lock(&c.lock);
            pl_mutex_lock(&c.lock);
            c.n++;
            pl_mutex_unlock(&c.lock);
            pl_mutex_unlock(&c.lock);
            CHECK_INT(c.n, 200001);
        }
        pl_mutex_destroy(&c.lock);
    }
}

/* A waiter on a condition sleeps until signalled (the flag is set only
 * under the lock, so it cannot miss it), and a detached thread runs on
 * its own. */
typedef struct handoff {
    pl_mutex lock;
    pl_cond cond;
    int flag, seen;
    pl_thread th;
} handoff;

static void signal_after_work(void *arg)
{
    handoff *h = arg;
    pl_mutex_lock(&h->lock);
    h->flag = 1;
    pl_cond_signal(&h->cond);
    pl_mutex_unlock(&h->lock);
}

static void test_condition_and_detached_thread(void)
{
    handoff h = {.flag = 0};
    REQUIRE_INT(pl_mutex_init(&h.lock, 0), PARLEY_OK);
    REQUIRE_INT(pl_cond_init(&h.cond), PARLEY_OK);
    REQUIRE_INT(pl_thread_start(&h.th, signal_after_work, &h), PARLEY_OK);
    pl_thread_detach(&h.th);
    pl_mutex_lock(&h.lock);
    while (!h.flag)
        pl_cond_wait(&h.cond, &h.lock);
    h.seen = h.flag;
    pl_mutex_unlock(&h.lock);
    CHECK_INT(h.seen, 1);
    /* The detached thread may still be leaving signal_after_work: take the
     * lock once more so it has let go before the lock goes. */
    pl_mutex_lock(&h.lock);
    pl_mutex_unlock(&h.lock);
    pl_cond_destroy(&h.cond);
    pl_mutex_destroy(&h.lock);
}

/* A library thread that yields to the host is SCHED_BATCH on Linux (and
 * says so), and its creator's policy is untouched. */
static void yield_and_report(void *arg)
{
    pl_thread_yield_to_host();
#if defined(__linux__)
    *(int *)arg = sched_getscheduler(0);
#else
    *(int *)arg = 0;
#endif
}

static void test_thread_yields_to_host(void)
{
    int policy = -1;
    pl_thread th;
    REQUIRE_INT(pl_thread_start(&th, yield_and_report, &policy), PARLEY_OK);
    pl_thread_join(&th);
#if defined(__linux__)
    CHECK_INT(policy, SCHED_BATCH);
    CHECK_INT(sched_getscheduler(0), SCHED_OTHER);
#else
    CHECK_INT(policy, 0);
#endif
}

/* The system resolver: localhost has an IPv4 address (every test machine
 * maps it, no DNS server needed); a numeric address is told apart from a
 * name. (A failing lookup is tested through the transport's hook.) */
static void test_name_resolution(void)
{
    char addr[4][PL_NET_ADDR_MAX], why[160] = "";
    int n = pl_net_resolve_ipv4("localhost", addr, 4, why, sizeof why);
    CHECK(n >= 1);
    if (n >= 1)
        CHECK(strncmp(addr[0], "127.", 4) == 0);
    CHECK_INT(pl_net_is_numeric("127.0.0.1"), 1);
    CHECK_INT(pl_net_is_numeric("::1"), 1);
    CHECK_INT(pl_net_is_numeric("localhost"), 0);
    CHECK_INT(pl_net_is_numeric("1.2.3"), 0);
}

static void test_entropy(void)
{
    unsigned char a[64], b[64], zero[64] = {0};
    REQUIRE_INT(pl_entropy(NULL, a, sizeof a), 0);
    REQUIRE_INT(pl_entropy(NULL, b, sizeof b), 0);
    CHECK(memcmp(a, b, sizeof a) != 0);
    CHECK(memcmp(a, zero, sizeof a) != 0);
    /* More than one call's worth of the OS's limits (getentropy: 256). */
    static unsigned char big[4096];
    CHECK_INT(pl_entropy(NULL, big, sizeof big), 0);
    CHECK(memcmp(big + sizeof big - sizeof zero, zero, sizeof zero) != 0);
}

static void test_clocks(void)
{
    /* The library never sleeps (it waits in poll or on a condition), so
     * the monotonic clock is watched move instead: 30 ms pass, and it
     * never goes back. */
    int64_t t0 = pl_clock_mono_ms(), t1 = t0;
    while (t1 - t0 < 30) {
        int64_t t = pl_clock_mono_ms();
        CHECK(t >= t1);
        t1 = t;
    }
    CHECK(t1 - t0 < 5000);
    /* Unix epoch milliseconds: after 2024-01-01, before 2100. */
    int64_t wall = pl_clock_wall_ms();
    CHECK(wall > INT64_C(1704067200000));
    CHECK(wall < INT64_C(4102444800000));
}

static void test_device_facts(void)
{
    pl_device d;
    memset(&d, 'x', sizeof d);
    pl_device_read(&d);
    CHECK(memchr(d.os, '\0', sizeof d.os) != NULL && d.os[0] != '\0');
    CHECK(memchr(d.locale, '\0', sizeof d.locale) != NULL && d.locale[0] != '\0');
#if defined(_WIN32)
    CHECK(strncmp(d.os, "Windows ", 8) == 0);
    CHECK(strncmp(d.platform, "windows-", 8) == 0);
#elif defined(__linux__)
    CHECK(strncmp(d.os, "Linux ", 6) == 0);
    CHECK(strncmp(d.platform, "linux-", 6) == 0);
#endif
#if defined(__x86_64__) || defined(_M_X64)
    CHECK_STR(d.arch, "x86_64");
#endif
    for (const char *p = d.platform; *p; p++)
        CHECK(!(*p >= 'A' && *p <= 'Z'));
}

static int count_der(void *ctx, const unsigned char *der, size_t len)
{
    /* Every certificate is a DER SEQUENCE. */
    if (len < 2 || der[0] != 0x30)
        return -1;
    ++*(int *)ctx;
    return 0;
}

static void test_ca_sources(void)
{
    int n = 0;
    int rc = pl_ca_store_each(count_der, &n);
#if defined(_WIN32)
    CHECK(pl_ca_bundle_paths[0] == NULL);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOT_FOUND);
    printf("  Windows ROOT store: %d certificates\n", n);
#else
    CHECK_INT(rc, PARLEY_ERR_NOT_FOUND);
    CHECK(pl_ca_bundle_paths[0] != NULL);
    CHECK_INT(pl_process_privileged(), 0);
#endif
}

int main(void)
{
    RUN(test_dirs_with_non_ascii_names);
    RUN(test_append_sync_read);
    RUN(test_replace_semantics);
    RUN(test_rename_and_sync_file);
    RUN(test_list_and_read_paths);
    RUN(test_threads_and_locks);
    RUN(test_condition_and_detached_thread);
    RUN(test_thread_yields_to_host);
    RUN(test_name_resolution);
    RUN(test_entropy);
    RUN(test_clocks);
    RUN(test_device_facts);
    RUN(test_ca_sources);
    return tl_finish();
}
