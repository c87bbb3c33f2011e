/* What a pl_journal_put costs next to the system calls it cannot avoid.
 * Baselines in the same run and directory: a plain write + fsync (for a
 * durable put, journal_put_sync) or a plain write (journal_put_nosync) of
 * the same number of bytes, so the figures compare on a noisy shared
 * machine. journal_open: opening the journal those puts left (replay:
 * every record's CRC checked, the map rebuilt) next to reading its bytes.
 * Medians in microseconds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bench.h"
#include "store/journal.h"

#define ITERS 300
#define VALUE_LEN 100

/* Median µs per put; keys are distinct so no compaction runs. */
static int bench_put(pl_journal *j, int sync, int round, double *out)
{
    static double t[ITERS];
    unsigned char value[VALUE_LEN];
    memset(value, 'v', sizeof value);
    for (int i = 0; i < ITERS; i++) {
        char key[32];
        snprintf(key, sizeof key, "r%d-%06d", round, i);
        double t0 = bench_now_us();
        if (pl_journal_put(j, 1, key, value, sizeof value, sync) != PARLEY_OK)
            return -1;
        t[i] = bench_now_us() - t0;
    }
    *out = bench_median(t, ITERS);
    return 0;
}

static int bench_baseline(const char *dir, size_t len, int sync, double *out)
{
    static double t[ITERS];
    char path[512];
    unsigned char buf[512];
    snprintf(path, sizeof path, "%s/baseline", dir);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    memset(buf, 'b', sizeof buf);
    int rc = 0;
    for (int i = 0; i < ITERS && rc == 0; i++) {
        double t0 = bench_now_us();
        if (write(fd, buf, len) != (ssize_t)len || (sync && fsync(fd) != 0))
            rc = -1;
        t[i] = bench_now_us() - t0;
    }
    close(fd);
    unlink(path);
    *out = bench_median(t, ITERS);
    return rc;
}

#define OPENS 40

/* Median µs to open (replay) and close the journal in dir. */
static int bench_open(const pl_journal_io *io, double *out)
{
    static double t[OPENS];
    for (int i = 0; i < OPENS; i++) {
        pl_journal *j = NULL;
        double t0 = bench_now_us();
        int rc = pl_journal_open(pl_alloc_libc(), io, NULL, NULL, &j);
        pl_journal_close(j);
        t[i] = bench_now_us() - t0;
        if (rc != PARLEY_OK)
            return -1;
    }
    *out = bench_median(t, OPENS);
    return 0;
}

/* Median µs to read the same file whole, as the open does first. */
static int bench_read(const char *dir, double *out)
{
    static double t[OPENS];
    char path[512];
    snprintf(path, sizeof path, "%s/journal", dir);
    static unsigned char buf[1 << 20];
    for (int i = 0; i < OPENS; i++) {
        double t0 = bench_now_us();
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd < 0)
            return -1;
        ssize_t n = read(fd, buf, sizeof buf);
        close(fd);
        t[i] = bench_now_us() - t0;
        if (n <= 0)
            return -1;
    }
    *out = bench_median(t, OPENS);
    return 0;
}

int main(void)
{
    char dir[] = "/tmp/parley-bench-journal-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    pl_journal_io io;
    void *st = NULL;
    pl_journal *j = NULL;
    int rc = pl_journal_file_io(pl_alloc_libc(), dir, &io, &st);
    if (rc == PARLEY_OK)
        rc = pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j);
    double durable = 0, buffered = 0, base_sync = 0, base_write = 0, opened = 0, base_read = 0;
    size_t before = 0;
    if (rc == PARLEY_OK) {
        pl_journal_stats s;
        pl_journal_get_stats(j, &s);
        before = s.log_bytes;
        rc = bench_put(j, 1, 0, &durable) || bench_put(j, 0, 1, &buffered);
        pl_journal_get_stats(j, &s);
        /* The same bytes per record as the journal wrote. */
        size_t len = (s.log_bytes - before) / (2 * ITERS);
        if (rc == 0)
            rc =
                bench_baseline(dir, len, 1, &base_sync) || bench_baseline(dir, len, 0, &base_write);
        pl_journal_close(j);
        if (rc == 0)
            rc = bench_open(&io, &opened) || bench_read(dir, &base_read);
    }
    if (st)
        pl_journal_file_io_free(pl_alloc_libc(), st);
    char path[512];
    snprintf(path, sizeof path, "%s/journal", dir);
    unlink(path);
    rmdir(dir);
    if (rc != 0)
        return bench_fail("journal_put");
    bench_report("journal_put_sync", durable, base_sync, "us");
    bench_report("journal_put_nosync", buffered, base_write, "us");
    bench_report("journal_open", opened, base_read, "us");
    return 0;
}
