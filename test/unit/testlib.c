/* nftw is an XSI interface. */
#define _XOPEN_SOURCE 700

#include "testlib.h"

#include <errno.h>
#include <ftw.h>
#include <stdlib.h>

int tl_passed, tl_failed;

void tl_check(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        tl_passed++;
        return;
    }
    tl_failed++;
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
}

void tl_check_int(long long got, long long want, const char *expr, const char *file, int line)
{
    if (got == want) {
        tl_passed++;
        return;
    }
    tl_failed++;
    fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", file, line, expr, got, want);
}

void tl_check_str(const char *got, const char *want, const char *expr, const char *file, int line)
{
    if ((got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0)) {
        tl_passed++;
        return;
    }
    tl_failed++;
    fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", file, line, expr,
            got ? got : "(null)", want ? want : "(null)");
}

void tl_run(const char *name, void (*fn)(void))
{
    int before = tl_failed;
    fn();
    printf("%s %s\n", tl_failed == before ? "ok  " : "FAIL", name);
}

int tl_finish(void)
{
    printf("%d passed, %d failed\n", tl_passed, tl_failed);
    return tl_failed == 0 && tl_passed > 0 ? 0 : 1;
}

void tl_skip_all(const char *why)
{
    printf("skipped: %s\n", why);
    exit(77);
}

static int tl_should_fail(tl_alloc *t)
{
    if (t->fail_at < 0)
        return 0;
    long n = t->calls++;
    if (n == t->fail_at || (n > t->fail_at && (t->mode & TL_FAIL_ONWARD))) {
        t->failed = 1;
        return 1;
    }
    return 0;
}

void *tl_malloc(void *user, size_t size)
{
    tl_alloc *t = user;
    t->allocs++;
    if (tl_should_fail(t))
        return NULL;
    void *p = malloc(size);
    if (p)
        t->live++;
    return p;
}

void *tl_realloc(void *user, void *ptr, size_t size)
{
    tl_alloc *t = user;
    if (!ptr)
        t->allocs++;
    if ((t->mode & TL_FAIL_REALLOC) && tl_should_fail(t))
        return NULL;
    void *q = realloc(ptr, size);
    if (q && !ptr)
        t->live++;
    return q;
}

void tl_free(void *user, void *ptr)
{
    tl_alloc *t = user;
    t->frees++;
    if (ptr)
        t->live--;
    free(ptr);
}

void tl_alloc_reset(tl_alloc *t)
{
    memset(t, 0, sizeof *t);
    t->fail_at = -1;
}

void tl_alloc_fail(tl_alloc *t, long fail_at, int mode)
{
    t->calls = 0;
    t->failed = 0;
    t->fail_at = fail_at;
    t->mode = mode;
}

int tl_mkdtemp(char *buf, size_t size, const char *name)
{
    int n = snprintf(buf, size, "/tmp/parley-%s-XXXXXX", name);
    if (n < 0 || (size_t)n >= size) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return mkdtemp(buf) ? 0 : -1;
}

static int tl_rm_entry(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
    (void)st;
    (void)type;
    (void)ftw;
    if (remove(path) != 0)
        fprintf(stderr, "could not remove %s\n", path);
    return 0;
}

void tl_rmrf(const char *dir)
{
    if (nftw(dir, tl_rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
        fprintf(stderr, "could not remove %s\n", dir);
}
