/* A minimal test harness: checks count, failures are reported with file and
 * line, and main() prints the plain "N passed, N failed" closing line. */
#ifndef PARLEY_TESTLIB_H
#define PARLEY_TESTLIB_H

#include <stdio.h>
#include <string.h>

extern int tl_passed, tl_failed;

void tl_check(int ok, const char *expr, const char *file, int line);
void tl_check_int(long long got, long long want, const char *expr, const char *file, int line);
void tl_check_str(const char *got, const char *want, const char *expr, const char *file, int line);
/* Runs a test function, printing its name. */
void tl_run(const char *name, void (*fn)(void));
/* Prints the closing line; returns the process exit code. */
int tl_finish(void);
/* Skips the whole program (exit code 77, which ctest reports as skipped). */
void tl_skip_all(const char *why);

#define CHECK(e) tl_check(!!(e), #e, __FILE__, __LINE__)
#define CHECK_INT(got, want) tl_check_int((long long)(got), (long long)(want), #got, __FILE__, __LINE__)
#define CHECK_STR(got, want) tl_check_str((got), (want), #got, __FILE__, __LINE__)
#define RUN(fn) tl_run(#fn, fn)

#endif
