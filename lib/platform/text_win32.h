/* UTF-8 <-> UTF-16 for the Win32 implementations of the platform layer: the
 * library speaks UTF-8, the wide-character APIs UTF-16. Windows only. */
#ifndef PARLEY_PLATFORM_TEXT_WIN32_H
#define PARLEY_PLATFORM_TEXT_WIN32_H

#include <wchar.h>

#include "util/alloc.h"

/* A UTF-16 copy of `utf8` from `a`, or NULL (not UTF-8, or no memory). */
wchar_t *pl_win32_wide(const pl_alloc *a, const char *utf8);
/* The same for `dir` + '\' + `name`. */
wchar_t *pl_win32_wide_join(const pl_alloc *a, const char *dir, const char *name);
/* A UTF-8 copy of `wide` from `a`, or NULL. */
char *pl_win32_utf8(const pl_alloc *a, const wchar_t *wide);

#endif
