/* Files through ISO C stdio: nothing here needs POSIX, so a port keeps it
 * or swaps the table (util/file.h). Attachments are at most 1 GiB, which
 * `long` offsets hold everywhere. */
#include "util/file.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "parley.h"

static int seek_to(FILE *f, uint64_t off)
{
    return off <= (uint64_t)LONG_MAX && fseek(f, (long)off, SEEK_SET) == 0;
}

static int f_size(void *user, const char *path, uint64_t *out)
{
    (void)user;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    fclose(f);
    if (n < 0)
        return PARLEY_ERR_IO;
    *out = (uint64_t)n;
    return PARLEY_OK;
}

static int f_read_at(void *user, const char *path, uint64_t off, void *buf, size_t len)
{
    (void)user;
    FILE *f = fopen(path, "rb");
    if (!f)
        return errno == ENOENT ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    int ok = seek_to(f, off) && fread(buf, 1, len, f) == len;
    fclose(f);
    return ok ? PARLEY_OK : PARLEY_ERR_IO;
}

static int f_write_at(void *user, const char *path, uint64_t off, const void *data, size_t len)
{
    (void)user;
    FILE *f = fopen(path, "r+b");
    if (!f)
        f = fopen(path, "w+b");
    if (!f)
        return PARLEY_ERR_IO;
    int ok = seek_to(f, off) && fwrite(data, 1, len, f) == len;
    ok = fclose(f) == 0 && ok;
    return ok ? PARLEY_OK : PARLEY_ERR_IO;
}

static int f_rename(void *user, const char *from, const char *to)
{
    (void)user;
    return rename(from, to) == 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static int f_remove(void *user, const char *path)
{
    (void)user;
    return remove(path) == 0 || errno == ENOENT ? PARLEY_OK : PARLEY_ERR_IO;
}

void pl_file_io_stdio(pl_file_io *io)
{
    *io = (pl_file_io){NULL, f_size, f_read_at, f_write_at, f_rename, f_remove};
}
