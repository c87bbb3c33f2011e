#include "testlib.h"

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
