/* A minimal test harness: checks count, failures are reported with file and
 * line, and main() prints the plain "N passed, N failed" closing line.
 *
 * Tests read as specifications: CHECK states a fact and goes on, REQUIRE
 * states a precondition of the rest of the test and ends the test when it
 * does not hold (so nothing after it needs guarding); a test that wants
 * more said on failure registers it once (tl_note, tl_on_failure); wire
 * frames are written with single quotes (Q) or kept in data files. */
#ifndef PARLEY_TESTLIB_H
#define PARLEY_TESTLIB_H

#include <stdio.h>
#include <string.h>

#include "parley.h"

/* MinGW's "printf" format is the Microsoft runtime's (no %zu); the tests
 * are built with __USE_MINGW_ANSI_STDIO, whose formats are C99's. */
#if defined(__MINGW32__)
#define TL_PRINTF gnu_printf
#else
#define TL_PRINTF printf
#endif

extern int tl_passed, tl_failed;

int tl_check(int ok, const char *expr, const char *file, int line);
int tl_check_int(long long got, long long want, const char *expr, const char *file, int line);
int tl_check_str(const char *got, const char *want, const char *expr, const char *file, int line);
/* Runs a test function, printing its name. */
void tl_run(const char *name, void (*fn)(void));
/* Prints the closing line; returns the process exit code. */
int tl_finish(void);
/* Skips the whole program (exit code 77, which ctest reports as skipped). */
void tl_skip_all(const char *why);

#define CHECK(e) tl_check(!!(e), #e, __FILE__, __LINE__)
#define CHECK_INT(got, want)                                                                       \
    tl_check_int((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
#define CHECK_STR(got, want) tl_check_str((got), (want), #got, __FILE__, __LINE__)
#define RUN(fn) tl_run(#fn, fn)

/* ---- assertions that stop the test ----------------------------------------
 * As CHECK*, but a failure ends the current test at once (tl_run goes on
 * with the next one): what the test allocated so far is not freed, which
 * only matters once it has failed. Only on the thread that runs the test;
 * outside tl_run a failure ends the program. The tl_check* functions
 * return whether the check held. */
void tl_stop(void);
#define REQUIRE(e)                                                                                 \
    do {                                                                                           \
        if (!tl_check(!!(e), #e, __FILE__, __LINE__))                                              \
            tl_stop();                                                                             \
    } while (0)
#define REQUIRE_INT(got, want)                                                                     \
    do {                                                                                           \
        if (!tl_check_int((long long)(got), (long long)(want), #got, __FILE__, __LINE__))          \
            tl_stop();                                                                             \
    } while (0)
#define REQUIRE_STR(got, want)                                                                     \
    do {                                                                                           \
        if (!tl_check_str((got), (want), #got, __FILE__, __LINE__))                                \
            tl_stop();                                                                             \
    } while (0)

/* ---- what to say on failure -------------------------------------------------
 * One hook per test: after every failed check, the current note is printed
 * and then `fn(user)` is called (to dump the events or frames a fixture
 * holds). Both are cleared when the test ends; NULL clears them sooner. */
typedef void (*tl_dump_fn)(void *user);
void tl_on_failure(tl_dump_fn fn, void *user);
/* printf-style context for the failures that follow ("case 3: ..."). */
void tl_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(TL_PRINTF, 1, 2)))
#endif
    ;

/* ---- wire frames written with single quotes ---------------------------------
 * Q("{'t':'welcome','session':'s-1'}") is {"t":"welcome","session":"s-1"}:
 * every ' becomes ", and \' (backslash, quote) stays a literal '. Qf
 * formats first (printf). The text lives in a ring of 32 buffers owned by
 * testlib: valid until 32 later calls, never freed by the caller. Only on
 * the thread that runs the test (the ring has no lock). */
const char *tl_json(const char *single_quoted);
const char *tl_jsonf(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(TL_PRINTF, 1, 2)))
#endif
    ;
#define Q(text) tl_json(text)
#define Qf(...) tl_jsonf(__VA_ARGS__)
/* A whole data file as text (frames kept as files), held in the same ring;
 * the test stops when it cannot be read. */
const char *tl_text_file(const char *path);

/* A counting allocator for the parley_*_fn hooks (user = the tl_alloc) that
 * can be armed to fail: it shows leaks and drives the out-of-memory paths. */
enum {
    TL_FAIL_ONWARD = 1,  /* attempt fail_at and every later one fail, not just that one */
    TL_FAIL_REALLOC = 2, /* realloc is an attempt too and can fail, not only malloc */
};

typedef struct tl_alloc {
    long live;    /* blocks granted (malloc, realloc of NULL) and not yet freed */
    long allocs;  /* requests for a new block, granted or not */
    long frees;   /* calls to free, NULL included */
    long calls;   /* attempts counted while armed */
    long fail_at; /* the attempt with this index fails; -1: never */
    int mode;     /* TL_FAIL_* flags */
    int failed;   /* a failure was injected */
} tl_alloc;

void *tl_malloc(void *user, size_t size);
void *tl_realloc(void *user, void *ptr, size_t size);
void tl_free(void *user, void *ptr);
/* Zeroes every count and disarms. */
void tl_alloc_reset(tl_alloc *t);
/* Restarts the attempt count and fails attempt fail_at (-1 disarms). */
void tl_alloc_fail(tl_alloc *t, long fail_at, int mode);

/* Creates a private directory /tmp/parley-<name>-XXXXXX into buf; 0 or -1
 * with errno set. */
int tl_mkdtemp(char *buf, size_t size, const char *name);
/* Removes a directory tree, reporting on stderr what it could not. */
void tl_rmrf(const char *dir);
/* The whole file, NUL-terminated (it may hold NUL bytes: see *len, which may
 * be NULL); NULL when unreadable or out of memory. Free with free(). */
char *tl_read_file(const char *path, size_t *len);
/* The lines of a text file of test data (one entry per line; empty lines
 * and lines starting with '#' skipped), each NUL-terminated in *lines
 * (free with tl_free_lines); -1 when unreadable. */
int tl_read_lines(const char *path, char ***lines, size_t *n);
void tl_free_lines(char **lines, size_t n);

/* Host storage in memory (a parley_storage over up to TL_MEMFS_FILES named
 * files), so a "restart" reopens the same bytes. With `fail` set, every
 * write (append, sync, rename) fails as a full disk would. `calls` counts
 * size, append and sync calls. */
#define TL_MEMFS_FILES 4
typedef struct tl_memfile {
    char name[32];
    unsigned char *data;
    size_t len;
    int used;
} tl_memfile;

typedef struct tl_memfs {
    tl_memfile files[TL_MEMFS_FILES];
    int fail;
    int calls;
} tl_memfs;

extern const parley_storage tl_memfs_ops;
/* The file called `name`, or NULL. */
tl_memfile *tl_memfs_file(tl_memfs *m, const char *name);
void tl_memfs_free(tl_memfs *m);

#endif
