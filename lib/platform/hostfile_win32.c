/* The host's files on Windows: UTF-8 paths converted to UTF-16, reads and
 * writes at an offset through OVERLAPPED, MoveFileExW replacing the target
 * as POSIX rename() does. Handles share read, write and delete. */
#include "platform/hostfile.h"

#include <string.h>
#include <windows.h>

#include "parley.h"
#include "platform/text_win32.h"

#define SHARE_ALL (FILE_SHARE_READ | FILE_SHARE_WRITE | FILE_SHARE_DELETE)

static int missing(DWORD err)
{
    return err == ERROR_FILE_NOT_FOUND || err == ERROR_PATH_NOT_FOUND;
}

static HANDLE open_wide(const pl_alloc *a, const char *path, DWORD access, DWORD how, int *rc)
{
    wchar_t *w = pl_win32_wide(a, path);
    if (!w) {
        *rc = PARLEY_ERR_INVALID_ARG;
        return INVALID_HANDLE_VALUE;
    }
    HANDLE h = CreateFileW(w, access, SHARE_ALL, NULL, how, FILE_ATTRIBUTE_NORMAL, NULL);
    *rc = h != INVALID_HANDLE_VALUE ? PARLEY_OK
          : missing(GetLastError()) ? PARLEY_ERR_NOT_FOUND
                                    : PARLEY_ERR_IO;
    pl_free(a, w);
    return h;
}

static int h_size(void *user, const char *path, uint64_t *out)
{
    int rc;
    HANDLE h = open_wide(user, path, GENERIC_READ, OPEN_EXISTING, &rc);
    if (h == INVALID_HANDLE_VALUE)
        return rc;
    LARGE_INTEGER n;
    rc = GetFileSizeEx(h, &n) ? PARLEY_OK : PARLEY_ERR_IO;
    CloseHandle(h);
    *out = (uint64_t)n.QuadPart;
    return rc;
}

static void at_offset(OVERLAPPED *o, uint64_t off)
{
    memset(o, 0, sizeof *o);
    o->Offset = (DWORD)(off & 0xFFFFFFFFu);
    o->OffsetHigh = (DWORD)(off >> 32);
}

static int h_read_at(void *user, const char *path, uint64_t off, void *buf, size_t len)
{
    int rc;
    HANDLE h = open_wide(user, path, GENERIC_READ, OPEN_EXISTING, &rc);
    if (h == INVALID_HANDLE_VALUE)
        return rc;
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        DWORD chunk = len - got > 1u << 30 ? 1u << 30 : (DWORD)(len - got), n = 0;
        OVERLAPPED o;
        at_offset(&o, off + got);
        if (!ReadFile(h, p + got, chunk, &n, &o) || n == 0)
            break;
        got += n;
    }
    CloseHandle(h);
    return got == len ? PARLEY_OK : PARLEY_ERR_IO;
}

static int h_write_at(void *user, const char *path, uint64_t off, const void *data, size_t len)
{
    int rc;
    HANDLE h = open_wide(user, path, GENERIC_WRITE, OPEN_ALWAYS, &rc);
    if (h == INVALID_HANDLE_VALUE)
        return PARLEY_ERR_IO;
    const unsigned char *p = data;
    size_t put = 0;
    while (put < len) {
        DWORD chunk = len - put > 1u << 30 ? 1u << 30 : (DWORD)(len - put), n = 0;
        OVERLAPPED o;
        at_offset(&o, off + put);
        if (!WriteFile(h, p + put, chunk, &n, &o) || n == 0)
            break;
        put += n;
    }
    return CloseHandle(h) && put == len ? PARLEY_OK : PARLEY_ERR_IO;
}

static int h_rename(void *user, const char *from, const char *to)
{
    wchar_t *wf = pl_win32_wide(user, from), *wt = pl_win32_wide(user, to);
    int rc = wf && wt && MoveFileExW(wf, wt, MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH)
                 ? PARLEY_OK
                 : PARLEY_ERR_IO;
    pl_free(user, wf);
    pl_free(user, wt);
    return rc;
}

static int h_remove(void *user, const char *path)
{
    wchar_t *w = pl_win32_wide(user, path);
    int rc = w && (DeleteFileW(w) || missing(GetLastError())) ? PARLEY_OK : PARLEY_ERR_IO;
    pl_free(user, w);
    return rc;
}

void pl_hostfile_io(const pl_alloc *a, pl_file_io *io)
{
    *io = (pl_file_io){(void *)a, h_size, h_read_at, h_write_at, h_rename, h_remove};
}
