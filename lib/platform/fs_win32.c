/* Files and directories on Windows: UTF-8 paths converted to UTF-16 for the
 * wide-character APIs; every handle shares read, write and delete, so a
 * file may be replaced or removed while another handle has it open (as on
 * POSIX). Durability: FlushFileBuffers for a file's bytes; MoveFileExW
 * with MOVEFILE_WRITE_THROUGH for a replacement, which returns once the
 * move is on disk. NTFS journals directory entries, so there is no
 * directory to sync. */
#include "platform/fs.h"

#include <string.h>
#include <windows.h>

#include "parley.h"
#include "platform/text_win32.h"

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

struct pl_dir {
    pl_alloc alloc;
    char *path; /* UTF-8, as given */
};

static int plain_name(const char *name)
{
    return name && *name && !strpbrk(name, "/\\:") && strcmp(name, ".") != 0 &&
           strcmp(name, "..") != 0;
}

static int missing(DWORD err)
{
    return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND;
}

static pl_path_kind kind_of_wide(const wchar_t *w)
{
    DWORD attr = GetFileAttributesW(w);
    if (attr == INVALID_FILE_ATTRIBUTES)
        return PL_PATH_NONE;
    return (attr & FILE_ATTRIBUTE_DIRECTORY) ? PL_PATH_DIR
           : (attr & FILE_ATTRIBUTE_DEVICE)  ? PL_PATH_OTHER
                                             : PL_PATH_FILE;
}

pl_path_kind pl_path_kind_of(const char *path)
{
    if (!path)
        return PL_PATH_NONE;
    wchar_t *w = pl_win32_wide(pl_alloc_libc(), path);
    pl_path_kind k = w ? kind_of_wide(w) : PL_PATH_NONE;
    pl_free(pl_alloc_libc(), w);
    return k;
}

/* Reads all of h; one byte more than its size shows a file that grew. */
static int read_handle(HANDLE h, const pl_alloc *a, size_t cap, unsigned char **data, size_t *len)
{
    LARGE_INTEGER size;
    if (!GetFileSizeEx(h, &size) || (unsigned long long)size.QuadPart > cap)
        return PARLEY_ERR_IO;
    size_t want = (size_t)size.QuadPart, got = 0;
    unsigned char *buf = pl_malloc(a, want + 1);
    if (!buf)
        return PARLEY_ERR_NOMEM;
    int rc = PARLEY_OK;
    for (;;) {
        DWORD chunk = want + 1 - got > 1u << 30 ? 1u << 30 : (DWORD)(want + 1 - got), r = 0;
        if (!ReadFile(h, buf + got, chunk, &r, NULL) || got + r > want)
            rc = PARLEY_ERR_IO;
        if (r == 0 || rc != PARLEY_OK)
            break;
        got += r;
    }
    if (rc != PARLEY_OK) {
        pl_free(a, buf);
        return rc;
    }
    buf[got] = '\0';
    *data = buf;
    *len = got;
    return PARLEY_OK;
}

static int read_wide(const wchar_t *w, const pl_alloc *a, size_t cap, unsigned char **data,
                     size_t *len)
{
    HANDLE h =
        CreateFileW(w, GENERIC_READ, SHARE_ALL, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    if (h == INVALID_HANDLE_VALUE)
        return missing(GetLastError()) ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    int rc = read_handle(h, a, cap, data, len);
    CloseHandle(h);
    return rc;
}

int pl_path_read(const pl_alloc *a, const char *path, size_t cap, char **data, size_t *len)
{
    if (!a || !path || !*path || !data || !len)
        return PARLEY_ERR_INVALID_ARG;
    *data = NULL;
    *len = 0;
    wchar_t *w = pl_win32_wide(a, path);
    if (!w)
        return PARLEY_ERR_INVALID_ARG;
    int rc = read_wide(w, a, cap, (unsigned char **)data, len);
    pl_free(a, w);
    return rc;
}

static int each_found(const pl_alloc *a, const char *dir, const WIN32_FIND_DATAW *fd,
                      int (*fn)(void *ctx, const char *path), void *ctx)
{
    if (fd->dwFileAttributes & (FILE_ATTRIBUTE_DIRECTORY | FILE_ATTRIBUTE_DEVICE))
        return 0;
    char *name = pl_win32_utf8(a, fd->cFileName);
    size_t n = name ? strlen(dir) + strlen(name) + 2 : 0;
    char *path = name ? pl_malloc(a, n) : NULL;
    int rc = PARLEY_ERR_NOMEM;
    if (path) {
        memcpy(path, dir, strlen(dir));
        path[strlen(dir)] = '\\';
        memcpy(path + strlen(dir) + 1, name, strlen(name) + 1);
        rc = fn(ctx, path);
    }
    pl_free(a, path);
    pl_free(a, name);
    return rc;
}

int pl_path_each_file(const pl_alloc *a, const char *dir, int (*fn)(void *ctx, const char *path),
                      void *ctx)
{
    wchar_t *pattern = dir ? pl_win32_wide_join(a, dir, "*") : NULL;
    if (!pattern)
        return PARLEY_ERR_NOT_FOUND;
    WIN32_FIND_DATAW fd;
    HANDLE h = FindFirstFileW(pattern, &fd);
    pl_free(a, pattern);
    if (h == INVALID_HANDLE_VALUE)
        return PARLEY_ERR_NOT_FOUND;
    int rc = 0;
    do
        rc = each_found(a, dir, &fd, fn, ctx);
    while (rc == 0 && FindNextFileW(h, &fd));
    FindClose(h);
    return rc;
}

/* Every prefix ending before a separator is tried as a directory (the
 * drive, a UNC share or an existing parent simply fail); then the whole
 * path must be one. */
static int make_dirs(wchar_t *w)
{
    for (wchar_t *s = w + 1; *s; s++) {
        if (*s != L'\\' && *s != L'/')
            continue;
        wchar_t sep = *s;
        *s = L'\0';
        CreateDirectoryW(w, NULL);
        *s = sep;
    }
    if (!CreateDirectoryW(w, NULL) && GetLastError() != ERROR_ALREADY_EXISTS)
        return PARLEY_ERR_IO;
    return kind_of_wide(w) == PL_PATH_DIR ? PARLEY_OK : PARLEY_ERR_IO;
}

int pl_dir_open(const pl_alloc *a, const char *path, pl_dir **out)
{
    if (!a || !path || !*path || !out)
        return PARLEY_ERR_INVALID_ARG;
    *out = NULL;
    wchar_t *w = pl_win32_wide(a, path);
    if (!w)
        return PARLEY_ERR_INVALID_ARG;
    int rc = make_dirs(w);
    pl_free(a, w);
    if (rc != PARLEY_OK)
        return rc;
    pl_dir *d = pl_calloc(a, 1, sizeof *d);
    if (!d || !(d->path = pl_strdup(a, path))) {
        pl_free(a, d);
        return PARLEY_ERR_NOMEM;
    }
    d->alloc = *a;
    *out = d;
    return PARLEY_OK;
}

void pl_dir_close(pl_dir *d)
{
    if (!d)
        return;
    pl_alloc a = d->alloc;
    pl_free(&a, d->path);
    pl_free(&a, d);
}

int pl_dir_sync(pl_dir *d)
{
    (void)d;
    return PARLEY_OK;
}

/* dir\name in UTF-16: PARLEY_ERR_INVALID_ARG or NOMEM when it cannot be. */
static int wide_name(pl_dir *d, const char *name, wchar_t **w)
{
    if (!plain_name(name))
        return PARLEY_ERR_INVALID_ARG;
    *w = pl_win32_wide_join(&d->alloc, d->path, name);
    return *w ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

int pl_dir_read(pl_dir *d, const pl_alloc *a, const char *name, size_t cap, unsigned char **data,
                size_t *len)
{
    *data = NULL;
    *len = 0;
    wchar_t *w = NULL;
    int rc = wide_name(d, name, &w);
    if (rc == PARLEY_OK)
        rc = read_wide(w, a, cap, data, len);
    pl_free(&d->alloc, w);
    return rc;
}

int pl_dir_truncate(pl_dir *d, const char *name, size_t len)
{
    wchar_t *w = NULL;
    int rc = wide_name(d, name, &w);
    if (rc != PARLEY_OK)
        return rc;
    HANDLE h =
        CreateFileW(w, GENERIC_WRITE, SHARE_ALL, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    pl_free(&d->alloc, w);
    if (h == INVALID_HANDLE_VALUE)
        return missing(GetLastError()) ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    LARGE_INTEGER at;
    at.QuadPart = (LONGLONG)len;
    rc = SetFilePointerEx(h, at, NULL, FILE_BEGIN) && SetEndOfFile(h) ? PARLEY_OK : PARLEY_ERR_IO;
    CloseHandle(h);
    return rc;
}

/* POSIX rename() replaces the target atomically; MoveFileExW does so only
 * when asked to (MOVEFILE_REPLACE_EXISTING), and returns before the move
 * is durable unless MOVEFILE_WRITE_THROUGH is given too. */
int pl_dir_replace(pl_dir *d, const char *from, const char *to)
{
    wchar_t *wf = NULL, *wt = NULL;
    int rc = wide_name(d, from, &wf);
    if (rc == PARLEY_OK)
        rc = wide_name(d, to, &wt);
    if (rc == PARLEY_OK && !MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        rc = missing(GetLastError()) ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    pl_free(&d->alloc, wf);
    pl_free(&d->alloc, wt);
    return rc;
}

/* MOVEFILE_WRITE_THROUGH all the same: there is no directory to sync
 * afterwards (pl_dir_sync is a no-op). */
int pl_dir_rename(pl_dir *d, const char *from, const char *to)
{
    return pl_dir_replace(d, from, to);
}

int pl_dir_sync_file(pl_dir *d, const char *name)
{
    wchar_t *w = NULL;
    int rc = wide_name(d, name, &w);
    if (rc != PARLEY_OK)
        return rc;
    HANDLE h =
        CreateFileW(w, GENERIC_WRITE, SHARE_ALL, NULL, OPEN_EXISTING, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD err = GetLastError();
    pl_free(&d->alloc, w);
    if (h == INVALID_HANDLE_VALUE)
        return missing(err) ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    rc = FlushFileBuffers(h) ? PARLEY_OK : PARLEY_ERR_IO;
    CloseHandle(h);
    return rc;
}

int pl_dir_remove(pl_dir *d, const char *name)
{
    wchar_t *w = NULL;
    int rc = wide_name(d, name, &w);
    if (rc == PARLEY_OK && !DeleteFileW(w) && !missing(GetLastError()))
        rc = PARLEY_ERR_IO;
    pl_free(&d->alloc, w);
    return rc;
}

int pl_file_open_append(pl_dir *d, const char *name, int *created, pl_file *out)
{
    if (!created || !out)
        return PARLEY_ERR_INVALID_ARG;
    *created = 0;
    wchar_t *w = NULL;
    int rc = wide_name(d, name, &w);
    if (rc != PARLEY_OK)
        return rc;
    /* GENERIC_WRITE, which FlushFileBuffers documents as required; the
     * writes say where they go (pl_file_append). */
    HANDLE h =
        CreateFileW(w, GENERIC_WRITE, SHARE_ALL, NULL, OPEN_ALWAYS, FILE_ATTRIBUTE_NORMAL, NULL);
    DWORD err = GetLastError();
    pl_free(&d->alloc, w);
    if (h == INVALID_HANDLE_VALUE)
        return PARLEY_ERR_IO;
    *created = err != ERROR_ALREADY_EXISTS;
    out->os.handle = h;
    return PARLEY_OK;
}

/* An offset of all ones writes at the end of the file, whatever the file
 * pointer says: O_APPEND. */
int pl_file_append(pl_file *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        DWORD chunk = len > 1u << 30 ? 1u << 30 : (DWORD)len, w = 0;
        OVERLAPPED at;
        memset(&at, 0, sizeof at);
        at.Offset = at.OffsetHigh = 0xFFFFFFFF;
        if (!WriteFile(f->os.handle, p, chunk, &w, &at) || w == 0)
            return PARLEY_ERR_IO;
        p += w;
        len -= w;
    }
    return PARLEY_OK;
}

int pl_file_sync(pl_file *f)
{
    return FlushFileBuffers(f->os.handle) ? PARLEY_OK : PARLEY_ERR_IO;
}

void pl_file_close(pl_file *f)
{
    CloseHandle(f->os.handle);
    f->os.handle = INVALID_HANDLE_VALUE;
}
