#include "store/storage.h"

static int host_read_all(void *user, const pl_alloc *a, const char *name, unsigned char **data,
                         size_t *len)
{
    pl_storage_host *h = user;
    size_t n = 0;
    pl_mutex_lock(&h->lock);
    int rc = h->ops.size(h->user, name, &n);
    pl_mutex_unlock(&h->lock);
    if (rc != PARLEY_OK)
        return rc == PARLEY_ERR_NOT_FOUND ? rc : PARLEY_ERR_IO;
    unsigned char *buf = pl_malloc(a, n);
    if (!buf)
        return PARLEY_ERR_NOMEM;
    pl_mutex_lock(&h->lock);
    rc = n > 0 ? h->ops.read(h->user, name, buf, n) : PARLEY_OK;
    pl_mutex_unlock(&h->lock);
    if (rc != PARLEY_OK) {
        pl_free(a, buf);
        return PARLEY_ERR_IO;
    }
    *data = buf;
    *len = n;
    return PARLEY_OK;
}

/* A host's own error codes are reported as I/O failures: the journal's
 * recovery rules are written for PARLEY_ERR_IO. */
static int io_rc(int rc)
{
    return rc == PARLEY_OK ? PARLEY_OK : PARLEY_ERR_IO;
}

static int host_append(void *user, const char *name, const void *data, size_t len)
{
    pl_storage_host *h = user;
    pl_mutex_lock(&h->lock);
    int rc = h->ops.append(h->user, name, data, len);
    pl_mutex_unlock(&h->lock);
    return io_rc(rc);
}

static int host_sync(void *user, const char *name)
{
    pl_storage_host *h = user;
    pl_mutex_lock(&h->lock);
    int rc = h->ops.sync(h->user, name);
    pl_mutex_unlock(&h->lock);
    return io_rc(rc);
}

static int host_truncate(void *user, const char *name, size_t len)
{
    pl_storage_host *h = user;
    pl_mutex_lock(&h->lock);
    int rc = h->ops.truncate(h->user, name, len);
    pl_mutex_unlock(&h->lock);
    return io_rc(rc);
}

static int host_rename(void *user, const char *from, const char *to)
{
    pl_storage_host *h = user;
    pl_mutex_lock(&h->lock);
    int rc = h->ops.rename(h->user, from, to);
    pl_mutex_unlock(&h->lock);
    return io_rc(rc);
}

static int host_remove(void *user, const char *name)
{
    pl_storage_host *h = user;
    pl_mutex_lock(&h->lock);
    int rc = h->ops.remove(h->user, name);
    pl_mutex_unlock(&h->lock);
    return io_rc(rc);
}

int pl_storage_host_io(pl_storage_host *host, pl_journal_io *io)
{
    if (pl_mutex_init(&host->lock, 0) != PARLEY_OK)
        return PARLEY_ERR_NOMEM;
    *io = (pl_journal_io){
        .user = host,
        .read_all = host_read_all,
        .append = host_append,
        .sync = host_sync,
        .truncate = host_truncate,
        .rename = host_rename,
        .remove = host_remove,
    };
    return PARLEY_OK;
}

void pl_storage_host_done(pl_storage_host *host)
{
    pl_mutex_destroy(&host->lock);
}
