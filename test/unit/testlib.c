/* nftw is an XSI interface. */
#define _XOPEN_SOURCE 700

#include "testlib.h"

#include <errno.h>
#include <setjmp.h>
#if defined(_WIN32)
#include <windows.h>
#else
#include <ftw.h>
#endif
#include <stdarg.h>
#include <stdlib.h>

int tl_passed, tl_failed;

/* The test being run: where REQUIRE returns to, and what to say on failure. */
static struct {
    int running;
    jmp_buf stop;
    char note[512];
    tl_dump_fn dump;
    void *dump_user;
} current;

/* Counts a failure and says what the test registered. */
static int failed(void)
{
    tl_failed++;
    if (current.note[0])
        fprintf(stderr, "  while: %s\n", current.note);
    if (current.dump)
        current.dump(current.dump_user);
    return 0;
}

int tl_check(int ok, const char *expr, const char *file, int line)
{
    if (ok) {
        tl_passed++;
        return 1;
    }
    fprintf(stderr, "%s:%d: check failed: %s\n", file, line, expr);
    return failed();
}

int tl_check_int(long long got, long long want, const char *expr, const char *file, int line)
{
    if (got == want) {
        tl_passed++;
        return 1;
    }
    fprintf(stderr, "%s:%d: %s is %lld, expected %lld\n", file, line, expr, got, want);
    return failed();
}

int tl_check_str(const char *got, const char *want, const char *expr, const char *file, int line)
{
    if ((got == NULL && want == NULL) || (got && want && strcmp(got, want) == 0)) {
        tl_passed++;
        return 1;
    }
    fprintf(stderr, "%s:%d: %s is \"%s\", expected \"%s\"\n", file, line, expr,
            got ? got : "(null)", want ? want : "(null)");
    return failed();
}

void tl_stop(void)
{
    if (current.running)
        longjmp(current.stop, 1);
    fprintf(stderr, "a required check failed outside a test: stopping\n");
    exit(1);
}

void tl_on_failure(tl_dump_fn fn, void *user)
{
    current.dump = fn;
    current.dump_user = user;
}

void tl_note(const char *fmt, ...)
{
    current.note[0] = '\0';
    if (!fmt)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(current.note, sizeof current.note, fmt, ap);
    va_end(ap);
}

void tl_run(const char *name, void (*fn)(void))
{
    int before = tl_failed;
    current.running = 1;
    if (setjmp(current.stop) == 0)
        fn();
    else
        fprintf(stderr, "  %s stopped at the failed requirement above\n", name);
    current.running = 0;
    tl_note(NULL);
    tl_on_failure(NULL, NULL);
    printf("%s %s\n", tl_failed == before ? "ok  " : "FAIL", name);
}

/* ---- frames written with single quotes ----------------------------------------- */

#define JSON_RING 32
static char *json_ring[JSON_RING];
static size_t json_next;

/* Keeps `text` (malloc'd) in the ring, freeing what its slot held. */
static const char *json_keep(char *text)
{
    if (!text) {
        fprintf(stderr, "out of memory in a test helper\n");
        exit(1);
    }
    free(json_ring[json_next]);
    json_ring[json_next] = text;
    json_next = (json_next + 1) % JSON_RING;
    return text;
}

static char *unquote(const char *in)
{
    size_t n = strlen(in);
    char *out = malloc(n + 1), *w = out;
    for (size_t i = 0; out && i < n; i++) {
        if (in[i] == '\\' && in[i + 1] == '\'') {
            *w++ = '\'';
            i++;
        } else {
            *w++ = in[i] == '\'' ? '"' : in[i];
        }
    }
    if (out)
        *w = '\0';
    return out;
}

const char *tl_json(const char *single_quoted)
{
    return json_keep(unquote(single_quoted));
}

const char *tl_jsonf(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (buf) {
        va_start(ap, fmt);
        vsnprintf(buf, (size_t)n + 1, fmt, ap);
        va_end(ap);
    }
    char *text = buf ? unquote(buf) : NULL;
    free(buf);
    return json_keep(text);
}

const char *tl_text_file(const char *path)
{
    char *text = tl_read_file(path, NULL);
    if (!tl_check(text != NULL, path, __FILE__, __LINE__))
        tl_stop();
    return json_keep(text);
}

int tl_finish(void)
{
    for (size_t i = 0; i < JSON_RING; i++) {
        free(json_ring[i]);
        json_ring[i] = NULL;
    }
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

#if defined(_WIN32)
/* Windows has neither mkdtemp nor nftw: a fresh name in the temporary
 * directory, and a recursive removal through the wide-character API (the
 * tests make directories whose names are not ASCII). */
int tl_mkdtemp(char *buf, size_t size, const char *name)
{
    static LONG counter;
    char tmp[MAX_PATH + 1];
    DWORD len = GetTempPathA(sizeof tmp, tmp);
    if (len == 0 || len >= sizeof tmp)
        return -1;
    for (int i = 0; i < 100; i++) {
        unsigned long tag = (unsigned long)GetCurrentProcessId() * 1000003ul +
                            (unsigned long)InterlockedIncrement(&counter);
        int n = snprintf(buf, size, "%sparley-%s-%08lx", tmp, name,
                         tag ^ (unsigned long)GetTickCount());
        if (n < 0 || (size_t)n >= size) {
            errno = ENAMETOOLONG;
            return -1;
        }
        if (CreateDirectoryA(buf, NULL))
            return 0;
        if (GetLastError() != ERROR_ALREADY_EXISTS)
            return -1;
    }
    return -1;
}

static void rm_wide(const wchar_t *path)
{
    DWORD attr = GetFileAttributesW(path);
    if (attr == INVALID_FILE_ATTRIBUTES)
        return;
    if (attr & FILE_ATTRIBUTE_DIRECTORY) {
        size_t n = wcslen(path);
        wchar_t *pattern = malloc((n + 3) * sizeof *pattern);
        WIN32_FIND_DATAW fd;
        HANDLE h = INVALID_HANDLE_VALUE;
        if (pattern) {
            swprintf(pattern, n + 3, L"%ls\\*", path);
            h = FindFirstFileW(pattern, &fd);
        }
        while (h != INVALID_HANDLE_VALUE) {
            if (wcscmp(fd.cFileName, L".") != 0 && wcscmp(fd.cFileName, L"..") != 0) {
                size_t m = n + wcslen(fd.cFileName) + 2;
                wchar_t *child = malloc(m * sizeof *child);
                if (child) {
                    swprintf(child, m, L"%ls\\%ls", path, fd.cFileName);
                    rm_wide(child);
                    free(child);
                }
            }
            if (!FindNextFileW(h, &fd)) {
                FindClose(h);
                h = INVALID_HANDLE_VALUE;
            }
        }
        free(pattern);
        if (!RemoveDirectoryW(path))
            fprintf(stderr, "could not remove a directory (error %lu)\n", GetLastError());
    } else {
        SetFileAttributesW(path, FILE_ATTRIBUTE_NORMAL);
        if (!DeleteFileW(path))
            fprintf(stderr, "could not remove a file (error %lu)\n", GetLastError());
    }
}

void tl_rmrf(const char *dir)
{
    wchar_t wide[1024];
    if (MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, dir, -1, wide, 1024) > 0)
        rm_wide(wide);
    else
        fprintf(stderr, "could not remove %s\n", dir);
}
#else
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

#endif

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

const parley_storage tl_memfs_ops = {PARLEY_STORAGE_VERSION, memfs_size,  memfs_read,
                                     memfs_append,           memfs_sync,  memfs_truncate,
                                     memfs_rename,           memfs_remove};

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

int tl_read_lines(const char *path, char ***lines, size_t *n)
{
    size_t len;
    char *text = tl_read_file(path, &len);
    *lines = NULL;
    *n = 0;
    if (!text)
        return -1;
    size_t cap = 0;
    for (char *line = text, *end; line < text + len; line = end + 1) {
        end = memchr(line, '\n', (size_t)(text + len - line));
        if (!end)
            end = text + len;
        size_t m = (size_t)(end - line);
        if (!m || line[0] == '#')
            continue;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(*lines, cap * sizeof *grown);
            if (!grown)
                break;
            *lines = grown;
        }
        char *copy = malloc(m + 1);
        if (!copy)
            break;
        memcpy(copy, line, m);
        copy[m] = '\0';
        (*lines)[(*n)++] = copy;
    }
    free(text);
    return 0;
}

void tl_free_lines(char **lines, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(lines[i]);
    free(lines);
}
