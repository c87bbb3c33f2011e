/* What a durable pjournal_put costs next to the fsync it cannot avoid.
 * Baseline in the same run and directory: a plain write + fsync of the same
 * number of bytes, so the figures compare on a noisy shared machine. Prints
 * medians in microseconds. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"

#define ITERS 300
#define VALUE_LEN 100

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median(double *v)
{
    qsort(v, ITERS, sizeof v[0], cmp);
    return v[ITERS / 2];
}

/* Median µs per put; keys are distinct so no compaction runs. */
static int bench_put(pjournal *j, int sync, int round, double *out)
{
    static double t[ITERS];
    unsigned char value[VALUE_LEN];
    memset(value, 'v', sizeof value);
    for (int i = 0; i < ITERS; i++) {
        char key[32];
        snprintf(key, sizeof key, "r%d-%06d", round, i);
        double t0 = now_us();
        if (pjournal_put(j, 1, key, value, sizeof value, sync) != PARLEY_OK)
            return -1;
        t[i] = now_us() - t0;
    }
    *out = median(t);
    return 0;
}

static int bench_baseline(const char *dir, size_t len, double *out)
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
        double t0 = now_us();
        if (write(fd, buf, len) != (ssize_t)len || fsync(fd) != 0)
            rc = -1;
        t[i] = now_us() - t0;
    }
    close(fd);
    unlink(path);
    *out = median(t);
    return rc;
}

int main(void)
{
    char dir[] = "/tmp/parley-bench-journal-XXXXXX";
    if (!mkdtemp(dir))
        return 1;
    pjournal_io io;
    void *st;
    pjournal *j = NULL;
    int rc = pjournal_file_io(palloc_libc(), dir, &io, &st);
    if (rc == PARLEY_OK)
        rc = pjournal_open(palloc_libc(), &io, NULL, NULL, &j);
    double durable = 0, buffered = 0, base = 0;
    size_t before = 0;
    if (rc == PARLEY_OK) {
        pjournal_stats s;
        pjournal_get_stats(j, &s);
        before = s.log_bytes;
        rc = bench_put(j, 1, 0, &durable) || bench_put(j, 0, 1, &buffered);
        pjournal_get_stats(j, &s);
        /* The same bytes per record as the journal wrote. */
        if (rc == 0)
            rc = bench_baseline(dir, (s.log_bytes - before) / (2 * ITERS), &base);
        pjournal_close(j);
    }
    if (st)
        pjournal_file_io_free(palloc_libc(), st);
    char path[512];
    snprintf(path, sizeof path, "%s/journal", dir);
    unlink(path);
    rmdir(dir);
    if (rc != 0) {
        fprintf(stderr, "bench_journal: failed (%d)\n", rc);
        return 1;
    }
    printf("pjournal_put (%d-byte value): sync=1 median %.1f us, sync=0 median %.1f us; "
           "write+fsync baseline %.1f us; sync=1/baseline %.2f (%d puts each)\n",
           VALUE_LEN, durable, buffered, base, durable / base, ITERS);
    return 0;
}
