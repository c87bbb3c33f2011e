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
    const char *tmp = getenv("TMPDIR");
    int n = snprintf(buf, size, "%s/parley-%s-XXXXXX", tmp && *tmp ? tmp : "/tmp", name);
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

/* ---- host storage in memory ------------------------------------------------- */

static tl_memfile *memfs_find(tl_memfs *m, const char *name, int create)
{
    for (int i = 0; i < TL_MEMFS_FILES; i++)
        if (m->files[i].used && strcmp(m->files[i].name, name) == 0)
            return &m->files[i];
    for (int i = 0; create && i < TL_MEMFS_FILES; i++)
        if (!m->files[i].used) {
            memset(&m->files[i], 0, sizeof m->files[i]);
            m->files[i].used = 1;
            snprintf(m->files[i].name, sizeof m->files[i].name, "%s", name);
            return &m->files[i];
        }
    return NULL;
}

tl_memfile *tl_memfs_file(tl_memfs *m, const char *name)
{
    return memfs_find(m, name, 0);
}

static int memfs_size(void *user, const char *name, size_t *len)
{
    tl_memfs *m = user;
    m->calls++;
    tl_memfile *f = memfs_find(m, name, 0);
    if (!f)
        return PARLEY_ERR_NOT_FOUND;
    *len = f->len;
    return PARLEY_OK;
}

static int memfs_read(void *user, const char *name, void *buf, size_t len)
{
    tl_memfile *f = memfs_find(user, name, 0);
    if (!f || f->len != len)
        return PARLEY_ERR_IO;
    memcpy(buf, f->data, len);
    return PARLEY_OK;
}

static int memfs_append(void *user, const char *name, const void *data, size_t len)
{
    tl_memfs *m = user;
    m->calls++;
    tl_memfile *f = m->fail ? NULL : memfs_find(m, name, 1);
    unsigned char *n = f ? realloc(f->data, f->len + len + 1) : NULL;
    if (!n)
        return PARLEY_ERR_IO;
    memcpy(n + f->len, data, len);
    f->data = n;
    f->len += len;
    return PARLEY_OK;
}

static int memfs_sync(void *user, const char *name)
{
    tl_memfs *m = user;
    (void)name;
    m->calls++;
    return m->fail ? PARLEY_ERR_IO : PARLEY_OK;
}

static int memfs_truncate(void *user, const char *name, size_t len)
{
    tl_memfile *f = memfs_find(user, name, 0);
    if (f && len < f->len)
        f->len = len;
    return PARLEY_OK;
}

static int memfs_remove(void *user, const char *name)
{
    tl_memfile *f = memfs_find(user, name, 0);
    if (f) {
        free(f->data);
        memset(f, 0, sizeof *f);
    }
    return PARLEY_OK;
}

static int memfs_rename(void *user, const char *from, const char *to)
{
    tl_memfs *m = user;
    tl_memfile *f = m->fail ? NULL : memfs_find(m, from, 0);
    if (!f)
        return PARLEY_ERR_IO;
    memfs_remove(m, to);
    snprintf(f->name, sizeof f->name, "%s", to);
    return PARLEY_OK;
}

const parley_storage tl_memfs_ops = {PARLEY_STORAGE_VERSION, memfs_size, memfs_read, memfs_append,
                                     memfs_sync, memfs_truncate, memfs_rename, memfs_remove};

void tl_memfs_free(tl_memfs *m)
{
    for (int i = 0; i < TL_MEMFS_FILES; i++)
        free(m->files[i].data);
    memset(m, 0, sizeof *m);
}

char *tl_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    size_t cap = 4096, n = 0, got;
    char *buf = malloc(cap);
    while (buf && (got = fread(buf + n, 1, cap - n - 1, f)) > 0) {
        n += got;
        if (n + 1 == cap) {
            char *grown = realloc(buf, cap *= 2);
            if (!grown)
                free(buf);
            buf = grown;
        }
    }
    fclose(f);
    if (!buf)
        return NULL;
    buf[n] = '\0';
    if (len)
        *len = n;
    return buf;
}
