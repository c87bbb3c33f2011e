/* Local store: atomic records, missing records, unusable directories. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "store.h"
#include "testlib.h"

static char tmpdir[64];
static palloc alloc;

static void test_put_get_roundtrip(void)
{
    pstore *s = NULL;
    char dir[256];
    snprintf(dir, sizeof dir, "%s/a/b/c", tmpdir);
    CHECK_INT(pstore_open(&alloc, dir, &s), PARLEY_OK);
    char buf[64];
    size_t len = 0;
    CHECK_INT(pstore_get(s, "rec", buf, sizeof buf, &len), PARLEY_ERR_NOT_FOUND);
    CHECK_INT(pstore_put(s, "rec", "hello", 5), PARLEY_OK);
    CHECK_INT(pstore_get(s, "rec", buf, sizeof buf, &len), PARLEY_OK);
    CHECK_STR(buf, "hello");
    CHECK_INT(len, 5);
    CHECK_INT(pstore_put(s, "rec", "hi", 2), PARLEY_OK);
    CHECK_INT(pstore_get(s, "rec", buf, sizeof buf, &len), PARLEY_OK);
    CHECK_STR(buf, "hi");
    char tmp[300];
    snprintf(tmp, sizeof tmp, "%s/rec.tmp", dir);
    CHECK(access(tmp, F_OK) != 0); /* no temporary left behind */
    struct stat st;
    CHECK(stat(dir, &st) == 0 && (st.st_mode & 0777) == 0700);
    pstore_close(s);
}

static void test_record_too_big_for_buffer(void)
{
    pstore *s = NULL;
    CHECK_INT(pstore_open(&alloc, tmpdir, &s), PARLEY_OK);
    CHECK_INT(pstore_put(s, "big", "0123456789", 10), PARLEY_OK);
    char buf[10];
    size_t len;
    CHECK_INT(pstore_get(s, "big", buf, sizeof buf, &len), PARLEY_ERR_TOO_LONG);
    char buf2[11];
    CHECK_INT(pstore_get(s, "big", buf2, sizeof buf2, &len), PARLEY_OK);
    pstore_close(s);
}

static void test_unusable_dirs(void)
{
    pstore *s = NULL;
    char file[256];
    snprintf(file, sizeof file, "%s/plainfile", tmpdir);
    FILE *f = fopen(file, "w");
    CHECK(f != NULL);
    if (f)
        fclose(f);
    CHECK_INT(pstore_open(&alloc, file, &s), PARLEY_ERR_IO);
    char under[300];
    snprintf(under, sizeof under, "%s/sub", file);
    CHECK_INT(pstore_open(&alloc, under, &s), PARLEY_ERR_IO);
    CHECK_INT(pstore_open(&alloc, "", &s), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pstore_open(&alloc, NULL, &s), PARLEY_ERR_INVALID_ARG);
    if (geteuid() != 0) { /* root ignores directory permissions */
        char ro[300];
        snprintf(ro, sizeof ro, "%s/ro", tmpdir);
        mkdir(ro, 0500);
        CHECK_INT(pstore_open(&alloc, ro, &s), PARLEY_ERR_IO);
    }
}

int main(void)
{
    palloc_default(&alloc);
    if (tl_mkdtemp(tmpdir, sizeof tmpdir, "store") != 0) {
        perror("mkdtemp");
        return 1;
    }
    RUN(test_put_get_roundtrip);
    RUN(test_record_too_big_for_buffer);
    RUN(test_unusable_dirs);
    tl_rmrf(tmpdir);
    return tl_finish();
}
