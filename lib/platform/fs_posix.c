/* Files and directories on POSIX: descriptors relative to the directory's
 * own (openat, renameat), EINTR retried, fsync for durability. */
#include "platform/fs.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parley.h"

struct pl_dir {
    pl_alloc alloc;
    int fd;
};

static int open_retry(int dirfd, const char *name, int flags)
{
    int fd;
    do
        fd = openat(dirfd, name, flags, 0600);
    while (fd < 0 && errno == EINTR);
    return fd;
}

static int fsync_retry(int fd)
{
    int rc;
    do
        rc = fsync(fd);
    while (rc != 0 && errno == EINTR);
    return rc == 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

static int plain_name(const char *name)
{
    return name && *name && !strchr(name, '/') && strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

pl_path_kind pl_path_kind_of(const char *path)
{
    struct stat st;
    if (!path || stat(path, &st) != 0)
        return PL_PATH_NONE;
    return S_ISREG(st.st_mode) ? PL_PATH_FILE : S_ISDIR(st.st_mode) ? PL_PATH_DIR : PL_PATH_OTHER;
}

/* Reads all of fd; one byte more than fstat said shows a file that grew. */
static int read_fd(int fd, const pl_alloc *a, size_t cap, unsigned char **data, size_t *len)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || (unsigned long long)st.st_size > cap)
        return PARLEY_ERR_IO;
    size_t size = (size_t)st.st_size, got = 0;
    unsigned char *buf = pl_malloc(a, size + 1);
    if (!buf)
        return PARLEY_ERR_NOMEM;
    int rc = PARLEY_OK;
    for (;;) {
        ssize_t r = read(fd, buf + got, size + 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0 || (size_t)r + got > size)
            rc = PARLEY_ERR_IO;
        if (r <= 0 || rc != PARLEY_OK)
            break;
        got += (size_t)r;
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

static int read_at(int dirfd, const char *name, const pl_alloc *a, size_t cap, unsigned char **data,
                   size_t *len)
{
    *data = NULL;
    *len = 0;
    int fd = open_retry(dirfd, name, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT || errno == ENOTDIR ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    int rc = read_fd(fd, a, cap, data, len);
    close(fd);
    return rc;
}

int pl_path_read(const pl_alloc *a, const char *path, size_t cap, char **data, size_t *len)
{
    if (!a || !path || !*path || !data || !len)
        return PARLEY_ERR_INVALID_ARG;
    return read_at(AT_FDCWD, path, a, cap, (unsigned char **)data, len);
}

int pl_path_each_file(const pl_alloc *a, const char *dir, int (*fn)(void *ctx, const char *path),
                      void *ctx)
{
    DIR *d = dir ? opendir(dir) : NULL;
    if (!d)
        return PARLEY_ERR_NOT_FOUND;
    int rc = 0;
    struct dirent *de;
    while (rc == 0 && (de = readdir(d)) != NULL) {
        size_t n = strlen(dir) + strlen(de->d_name) + 2;
        char *path = pl_malloc(a, n);
        if (!path) {
            rc = PARLEY_ERR_NOMEM;
            break;
        }
        snprintf(path, n, "%s/%s", dir, de->d_name);
        if (pl_path_kind_of(path) == PL_PATH_FILE)
            rc = fn(ctx, path);
        pl_free(a, path);
    }
    closedir(d);
    return rc;
}

/* mkdir -p, owner only for the components it creates. */
static int make_dirs(const pl_alloc *a, const char *dir)
{
    char *p = pl_strdup(a, dir);
    if (!p)
        return PARLEY_ERR_NOMEM;
    int rc = PARLEY_OK;
    for (char *s = p + 1; rc == PARLEY_OK; s++) {
        int end = *s == '\0';
        if (*s != '/' && !end)
            continue;
        *s = '\0';
        if (mkdir(p, 0700) != 0 && errno != EEXIST)
            rc = PARLEY_ERR_IO;
        if (end)
            break;
        *s = '/';
    }
    pl_free(a, p);
    return rc;
}

int pl_dir_open(const pl_alloc *a, const char *path, pl_dir **out)
{
    if (!a || !path || !*path || !out)
        return PARLEY_ERR_INVALID_ARG;
    *out = NULL;
    int rc = make_dirs(a, path);
    if (rc != PARLEY_OK)
        return rc;
    pl_dir *d = pl_calloc(a, 1, sizeof *d);
    if (!d)
        return PARLEY_ERR_NOMEM;
    d->alloc = *a;
    d->fd = open_retry(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (d->fd < 0) {
        pl_free(a, d);
        return PARLEY_ERR_IO;
    }
    *out = d;
    return PARLEY_OK;
}

void pl_dir_close(pl_dir *d)
{
    if (!d)
        return;
    close(d->fd);
    pl_alloc a = d->alloc;
    pl_free(&a, d);
}

int pl_dir_sync(pl_dir *d)
{
    return fsync_retry(d->fd);
}

int pl_dir_read(pl_dir *d, const pl_alloc *a, const char *name, size_t cap, unsigned char **data,
                size_t *len)
{
    if (!plain_name(name))
        return PARLEY_ERR_INVALID_ARG;
    return read_at(d->fd, name, a, cap, data, len);
}

int pl_dir_truncate(pl_dir *d, const char *name, size_t len)
{
    if (!plain_name(name))
        return PARLEY_ERR_INVALID_ARG;
    int fd = open_retry(d->fd, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    int rc;
    do
        rc = ftruncate(fd, (off_t)len);
    while (rc != 0 && errno == EINTR);
    close(fd);
    return rc == 0 ? PARLEY_OK : PARLEY_ERR_IO;
}

int pl_dir_rename(pl_dir *d, const char *from, const char *to)
{
    if (!plain_name(from) || !plain_name(to))
        return PARLEY_ERR_INVALID_ARG;
    if (renameat(d->fd, from, d->fd, to) != 0)
        return errno == ENOENT ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    return PARLEY_OK;
}

int pl_dir_replace(pl_dir *d, const char *from, const char *to)
{
    int rc = pl_dir_rename(d, from, to);
    return rc == PARLEY_OK ? fsync_retry(d->fd) : rc;
}

int pl_dir_sync_file(pl_dir *d, const char *name)
{
    if (!plain_name(name))
        return PARLEY_ERR_INVALID_ARG;
    int fd = open_retry(d->fd, name, O_WRONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    int rc = fsync_retry(fd);
    close(fd);
    return rc;
}

int pl_dir_remove(pl_dir *d, const char *name)
{
    if (!plain_name(name))
        return PARLEY_ERR_INVALID_ARG;
    return unlinkat(d->fd, name, 0) == 0 || errno == ENOENT ? PARLEY_OK : PARLEY_ERR_IO;
}

int pl_file_open_append(pl_dir *d, const char *name, int *created, pl_file *out)
{
    if (!plain_name(name) || !created || !out)
        return PARLEY_ERR_INVALID_ARG;
    *created = 0;
    int flags = O_WRONLY | O_APPEND | O_CLOEXEC;
    int fd = open_retry(d->fd, name, flags);
    if (fd < 0 && errno == ENOENT) {
        fd = open_retry(d->fd, name, flags | O_CREAT);
        *created = fd >= 0;
    }
    if (fd < 0)
        return PARLEY_ERR_IO;
    out->os.fd = fd;
    return PARLEY_OK;
}

int pl_file_append(pl_file *f, const void *data, size_t len)
{
    const unsigned char *p = data;
    while (len > 0) {
        ssize_t w = write(f->os.fd, p, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return PARLEY_ERR_IO;
        p += w;
        len -= (size_t)w;
    }
    return PARLEY_OK;
}

int pl_file_sync(pl_file *f)
{
    return fsync_retry(f->os.fd);
}

void pl_file_close(pl_file *f)
{
    close(f->os.fd);
    f->os.fd = -1;
}
