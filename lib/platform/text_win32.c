#include "platform/text_win32.h"

#include <stdio.h>
#include <string.h>
#include <windows.h>

wchar_t *pl_win32_wide(const pl_alloc *a, const char *utf8)
{
    int n = MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, NULL, 0);
    if (n <= 0)
        return NULL;
    wchar_t *w = pl_malloc(a, (size_t)n * sizeof *w);
    if (w && MultiByteToWideChar(CP_UTF8, MB_ERR_INVALID_CHARS, utf8, -1, w, n) != n) {
        pl_free(a, w);
        w = NULL;
    }
    return w;
}

wchar_t *pl_win32_wide_join(const pl_alloc *a, const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = pl_malloc(a, n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s\\%s", dir, name);
    wchar_t *w = pl_win32_wide(a, path);
    pl_free(a, path);
    return w;
}

char *pl_win32_utf8(const pl_alloc *a, const wchar_t *wide)
{
    int n = WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide, -1, NULL, 0, NULL, NULL);
    if (n <= 0)
        return NULL;
    char *s = pl_malloc(a, (size_t)n);
    if (s && WideCharToMultiByte(CP_UTF8, WC_ERR_INVALID_CHARS, wide, -1, s, n, NULL, NULL) != n) {
        pl_free(a, s);
        s = NULL;
    }
    return s;
}
