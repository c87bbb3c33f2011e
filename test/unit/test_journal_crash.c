/* A journal in a directory whose name is not ASCII survives a crash. A
 * child process writes durable records, one more it does not sync, and the
 * start of a record the crash tears, then dies on the spot (_Exit: no
 * close, no flush, nothing of the library's cleanup). The parent reopens
 * the journal and finds every durable record, the torn one cut off, and
 * the journal writable again. On Windows the name travels as UTF-8 into
 * the platform layer and reaches the file system through the wide APIs;
 * the child is this program run again (there is no fork), on POSIX a fork. */
#include "testlib.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#if defined(_WIN32)
#include <process.h>
#else
#include <sys/wait.h>
#include <unistd.h>
#endif

#include "platform/fs.h"
#include "store/journal.h"

#define NS 1
#define RECORDS 40
/* "crash-ünïcødé-日本語-💬": Latin-1, CJK and a character beyond the BMP
 * (a surrogate pair in UTF-16). */
#define DIR_NAME u8"crash-\u00fcn\u00efc\u00f8d\u00e9-\u65e5\u672c\u8a9e-\U0001F4AC"

static void journal_dir(char *out, size_t size, const char *base)
{
    snprintf(out, size, "%s/%s", base, DIR_NAME);
}

static void key_of(char *out, size_t size, int i)
{
    snprintf(out, size, "k%03d", i);
}

/* The child: never returns. Exit status 9 means it got as far as the crash. */
static void writer(const char *base)
{
    char dir[512], key[16], value[64];
    journal_dir(dir, sizeof dir, base);
    pl_journal_io io;
    void *st = NULL;
    pl_journal *j = NULL;
    if (pl_journal_file_io(pl_alloc_libc(), dir, &io, &st) != PARLEY_OK ||
        pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j) != PARLEY_OK)
        _Exit(2);
    for (int i = 0; i < RECORDS; i++) {
        key_of(key, sizeof key, i);
        snprintf(value, sizeof value, "durable value %d", i);
        if (pl_journal_put(j, NS, key, value, strlen(value), 1) != PARLEY_OK)
            _Exit(3);
    }
    if (pl_journal_put(j, NS, "unsynced", "maybe", 5, 0) != PARLEY_OK)
        _Exit(4);
    /* A record cut short: its header promises 200 bytes, 3 arrived. */
    pl_dir *d = NULL;
    pl_file f;
    int created = 0;
    static const unsigned char torn[] = {0x50, 0x4a, 200, 0, 0, 0, 1, 2, 3, 4, 'a', 'b', 'c'};
    if (pl_dir_open(pl_alloc_libc(), dir, &d) != PARLEY_OK ||
        pl_file_open_append(d, "journal", &created, &f) != PARLEY_OK || created ||
        pl_file_append(&f, torn, sizeof torn) != PARLEY_OK || pl_file_sync(&f) != PARLEY_OK)
        _Exit(5);
    _Exit(9);
}

/* Runs writer(base) in another process; its exit status, or -1. */
static int run_writer(const char *self, const char *base)
{
    fflush(NULL);
#if defined(_WIN32)
    /* base is ASCII (the temporary directory), so the ANSI command line
     * carries it; the child builds the non-ASCII name itself. */
    return (int)_spawnl(_P_WAIT, self, self, "--writer", base, (char *)NULL);
#else
    (void)self;
    pid_t pid = fork();
    if (pid == 0)
        writer(base);
    int status = 0;
    if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
        return -1;
    return WEXITSTATUS(status);
#endif
}

static const char *self_path;

static void test_reopen_after_crash(void)
{
    char base[256], dir[512], key[16], want[64];
    REQUIRE_INT(tl_mkdtemp(base, sizeof base, "crash"), 0);
    journal_dir(dir, sizeof dir, base);
    REQUIRE_INT(run_writer(self_path, base), 9);
    /* The directory really has the name (not a mangled one). */
    CHECK_INT(pl_path_kind_of(dir), PL_PATH_DIR);

    pl_journal_io io;
    void *st = NULL;
    pl_journal *j = NULL;
    REQUIRE_INT(pl_journal_file_io(pl_alloc_libc(), dir, &io, &st), PARLEY_OK);
    REQUIRE_INT(pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j), PARLEY_OK);
    for (int i = 0; i < RECORDS; i++) {
        key_of(key, sizeof key, i);
        snprintf(want, sizeof want, "durable value %d", i);
        size_t len = 0;
        const char *v = pl_journal_get(j, NS, key, &len);
        REQUIRE(v != NULL);
        CHECK(len == strlen(want) && memcmp(v, want, len) == 0);
    }
    /* Not synced, but written before the crash: a process that dies keeps
     * what it wrote (only a power loss could take it). */
    size_t ulen = 0;
    const char *u = pl_journal_get(j, NS, "unsynced", &ulen);
    CHECK(u != NULL && ulen == 5 && memcmp(u, "maybe", 5) == 0);
    pl_journal_stats stats;
    pl_journal_get_stats(j, &stats);
    CHECK_INT(stats.dropped_tail_bytes, 13);
    /* Writable again, and what it writes now survives a clean reopen. */
    CHECK_INT(pl_journal_put(j, NS, "after", "crash", 5, 1), PARLEY_OK);
    pl_journal_close(j);
    REQUIRE_INT(pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j), PARLEY_OK);
    size_t len = 0;
    const char *v = pl_journal_get(j, NS, "after", &len);
    CHECK(v != NULL && len == 5 && memcmp(v, "crash", 5) == 0);
    pl_journal_get_stats(j, &stats);
    CHECK_INT(stats.dropped_tail_bytes, 0);
    pl_journal_close(j);
    pl_journal_file_io_free(pl_alloc_libc(), st);
    tl_rmrf(base);
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--writer") == 0)
        writer(argv[2]);
    self_path = argv[0];
    RUN(test_reopen_after_crash);
    return tl_finish();
}
