#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "parley.h"

struct pstore {
    palloc alloc;
    char *dir;
};

/* mkdir -p with mode 0700 for every level we create. */
static int make_dirs(char *path)
{
    for (char *p = path + 1; *p; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        int rc = mkdir(path, 0700);
        *p = '/';
        if (rc != 0 && errno != EEXIST)
            return -1;
    }
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

int pstore_open(const palloc *a, const char *dir, pstore **out)
{
    if (!dir || !*dir || !out)
        return PARLEY_ERR_INVALID_ARG;
    pstore *s = pcalloc(a, 1, sizeof *s);
    if (!s || !(s->dir = pstrdup(a, dir))) {
        pfree(a, s);
        return PARLEY_ERR_NOMEM;
    }
    s->alloc = *a;
    struct stat st;
    if (make_dirs(s->dir) != 0 || stat(s->dir, &st) != 0 || !S_ISDIR(st.st_mode) ||
        access(s->dir, W_OK | X_OK) != 0) {
        pstore_close(s);
        return PARLEY_ERR_IO;
    }
    *out = s;
    return PARLEY_OK;
}

void pstore_close(pstore *s)
{
    if (!s)
        return;
    palloc a = s->alloc;
    pfree(&a, s->dir);
    pfree(&a, s);
}

static char *record_path(pstore *s, const char *name, const char *suffix)
{
    size_t n = strlen(s->dir) + strlen(name) + strlen(suffix) + 2;
    char *p = pmalloc(&s->alloc, n);
    if (p)
        snprintf(p, n, "%s/%s%s", s->dir, name, suffix);
    return p;
}

int pstore_get(pstore *s, const char *name, char *buf, size_t size, size_t *len)
{
    char *path = record_path(s, name, "");
    if (!path)
        return PARLEY_ERR_NOMEM;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    pfree(&s->alloc, path);
    if (fd < 0)
        return errno == ENOENT ? PARLEY_ERR_NOT_FOUND : PARLEY_ERR_IO;
    size_t got = 0;
    int rc = PARLEY_OK;
    for (;;) {
        if (got == size) {
            rc = PARLEY_ERR_TOO_LONG;
            break;
        }
        ssize_t r = read(fd, buf + got, size - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = PARLEY_ERR_IO;
            break;
        }
        if (r == 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (rc != PARLEY_OK)
        return rc;
    if (got == size)
        return PARLEY_ERR_TOO_LONG;
    buf[got] = '\0';
    *len = got;
    return PARLEY_OK;
}

static int write_all(int fd, const char *data, size_t len)
{
    while (len > 0) {
        ssize_t w = write(fd, data, len);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        data += w;
        len -= (size_t)w;
    }
    return 0;
}

static int fsync_dir(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int pstore_put(pstore *s, const char *name, const char *data, size_t len)
{
    char *tmp = record_path(s, name, ".tmp");
    char *path = record_path(s, name, "");
    int rc = PARLEY_ERR_NOMEM;
    if (tmp && path) {
        rc = PARLEY_ERR_IO;
        int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd >= 0) {
            int ok = write_all(fd, data, len) == 0 && fsync(fd) == 0;
            ok = close(fd) == 0 && ok;
            if (ok && rename(tmp, path) == 0 && fsync_dir(s->dir) == 0)
                rc = PARLEY_OK;
            else
                unlink(tmp);
        }
    }
    pfree(&s->alloc, tmp);
    pfree(&s->alloc, path);
    return rc;
}
