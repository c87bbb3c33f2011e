/* The host's files on POSIX: pread/pwrite at an offset, EINTR retried;
 * descriptors close on exec so a host's child never inherits them. */
#include "platform/hostfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parley.h"

static int open_retry(const char *path, int flags)
{
    int fd;
    do
        fd = open(path, flags | O_CLOEXEC, 0600);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int open_error(void)
{
    return errno == ENOENT || errno == ENOTDIR ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
}

static int h_size(void *user, const char *path, uint64_t *out)
{
    (void)user;
    struct stat st;
    if (stat(path, &st) != 0)
        return open_error();
    if (!S_ISREG(st.st_mode))
        return PARLEY_ERR_IO;
    *out = (uint64_t)st.st_size;
    return PARLEY_OK;
}

static int h_read_at(void *user, const char *path, uint64_t off, void *buf, size_t len)
{
    (void)user;
    int fd = open_retry(path, O_RDONLY);
    if (fd < 0)
        return open_error();
    unsigned char *p = buf;
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(fd, p + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd);
    return got == len ? PARLEY_OK : PARLEY_ERR_IO;
}

static int h_write_at(void *user, const char *path, uint64_t off, const void *data, size_t len)
{
    (void)user;
    int fd = open_retry(path, O_WRONLY | O_CREAT);
    if (fd < 0)
        return PARLEY_ERR_IO;
    const unsigned char *p = data;
    size_t put = 0;
    while (put < len) {
        ssize_t n = pwrite(fd, p + put, len - put, (off_t)(off + put));
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        put += (size_t)n;
    }
    return close(fd) == 0 && put == len ? PARLEY_OK : PARLEY_ERR_IO;
}

static int h_rename(void *user, const char *from, const char *to)
{
    (void)user;
    return rename(from, to) == 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static int h_remove(void *user, const char *path)
{
    (void)user;
    return unlink(path) == 0 || errno == ENOENT ? PARLEY_OK : PARLEY_ERR_IO;
}

void pl_hostfile_io(const pl_alloc *a, pl_file_io *io)
{
    (void)a;
    *io = (pl_file_io){NULL, h_size, h_read_at, h_write_at, h_rename, h_remove};
}
