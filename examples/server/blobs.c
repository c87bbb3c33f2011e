#include "blobs.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <mbedtls/sha256.h>

#include "util.h"

#define HASH_PIECE 65536

struct blobs {
    char dir[BLOBS_PATH_MAX];
};

static int make_dir(const char *path)
{
    return mkdir(path, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int sub_path(const blobs *b, char *out, size_t cap, const char *fmt, const char *a,
                    const char *c)
{
    int n = snprintf(out, cap, "%s/", b->dir);
    int m = n > 0 && (size_t)n < cap ? snprintf(out + n, cap - (size_t)n, fmt, a, c) : -1;
    return m >= 0 && (size_t)(n + m) < cap ? 0 : -1;
}

int blobs_open(const char *dir, blobs **out, char *why, size_t cap)
{
    blobs *b = calloc(1, sizeof *b);
    char path[BLOBS_PATH_MAX];

    *out = NULL;
    if (!b || strlen(dir) + 16 > sizeof b->dir) {
        snprintf(why, cap, b ? "path too long" : "out of memory");
        free(b);
        return -1;
    }
    snprintf(b->dir, sizeof b->dir, "%s", dir);
    if (make_dir(dir) || sub_path(b, path, sizeof path, "%s%s", "blobs", "") || make_dir(path) ||
        sub_path(b, path, sizeof path, "%s%s", "uploads", "") || make_dir(path)) {
        snprintf(why, cap, "cannot create %s: %s", dir, strerror(errno));
        free(b);
        return -1;
    }
    *out = b;
    return 0;
}

void blobs_close(blobs *b)
{
    free(b);
}

/* ---- paths ---- */

static int part_path(const blobs *b, int64_t n, char *out, size_t cap)
{
    char num[24];

    snprintf(num, sizeof num, "%" PRId64, n);
    return sub_path(b, out, cap, "uploads/%s%s", num, ".part");
}

int blobs_path(blobs *b, const char *sha, char *out, size_t cap)
{
    char dir2[3] = {sha[0], sha[1], '\0'};
    struct stat st;

    if (strlen(sha) != 64 || sub_path(b, out, cap, "blobs/%s/%s", dir2, sha))
        return -1;
    return stat(out, &st) == 0 ? 0 : -1;
}

/* ---- files ---- */

static int sync_dir(const char *path)
{
    char dir[BLOBS_PATH_MAX];
    char *slash;
    int fd, rc;

    snprintf(dir, sizeof dir, "%s", path);
    slash = strrchr(dir, '/');
    if (!slash)
        return 0;
    *slash = '\0';
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int sync_file(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

    if (fd < 0)
        return -1;
    rc = fsync(fd);
    close(fd);
    return rc;
}

static int hash_path(const char *path, char sha[BLOBS_SHA_HEX])
{
    unsigned char *buf = malloc(HASH_PIECE), d[32];
    mbedtls_sha256_context ctx;
    FILE *f = fopen(path, "rb");
    size_t n;
    int ok = f && buf;

    mbedtls_sha256_init(&ctx);
    mbedtls_sha256_starts_ret(&ctx, 0);
    while (ok && (n = fread(buf, 1, HASH_PIECE, f)) > 0)
        mbedtls_sha256_update_ret(&ctx, buf, n);
    ok = ok && !ferror(f);
    mbedtls_sha256_finish_ret(&ctx, d);
    mbedtls_sha256_free(&ctx);
    if (f)
        fclose(f);
    free(buf);
    util_hex(d, sizeof d, sha);
    return ok ? 0 : -1;
}

int blobs_file_head(const char *path, unsigned char *head, size_t cap)
{
    FILE *f = fopen(path, "rb");
    size_t n;

    if (!f)
        return -1;
    n = fread(head, 1, cap, f);
    fclose(f);
    return (int)n;
}

/* Durable in its place, or dropped when the same bytes are there. */
int blobs_commit_file(blobs *b, const char *path, const char *sha)
{
    char dest[BLOBS_PATH_MAX], dir[BLOBS_PATH_MAX];
    char dir2[3] = {sha[0], sha[1], '\0'};

    if (blobs_path(b, sha, dest, sizeof dest) == 0)
        return unlink(path) == 0 || errno == ENOENT ? 0 : -1;
    if (sub_path(b, dir, sizeof dir, "blobs/%s%s", dir2, "") || make_dir(dir) || sync_file(path) ||
        rename(path, dest) || sync_dir(dest))
        return -1;
    return 0;
}

/* ---- uploads in progress ---- */

int64_t blobs_part_size(blobs *b, int64_t n)
{
    char path[BLOBS_PATH_MAX];
    struct stat st;

    if (part_path(b, n, path, sizeof path))
        return -1;
    if (stat(path, &st) != 0)
        return errno == ENOENT ? 0 : -1;
    return (int64_t)st.st_size;
}

int blobs_part_write(blobs *b, int64_t n, int64_t off, const void *data, size_t len)
{
    char path[BLOBS_PATH_MAX];
    int fd, ok;

    if (part_path(b, n, path, sizeof path))
        return -1;
    fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    ok = ftruncate(fd, (off_t)off) == 0 && pwrite(fd, data, len, (off_t)off) == (ssize_t)len;
    return close(fd) == 0 && ok ? 0 : -1;
}

int blobs_part_head(blobs *b, int64_t n, unsigned char *head, size_t cap)
{
    char path[BLOBS_PATH_MAX];

    return part_path(b, n, path, sizeof path) ? -1 : blobs_file_head(path, head, cap);
}

int blobs_part_hash(blobs *b, int64_t n, char sha[BLOBS_SHA_HEX])
{
    char path[BLOBS_PATH_MAX];

    return part_path(b, n, path, sizeof path) ? -1 : hash_path(path, sha);
}

int blobs_part_commit(blobs *b, int64_t n, const char *sha)
{
    char path[BLOBS_PATH_MAX];

    return part_path(b, n, path, sizeof path) ? -1 : blobs_commit_file(b, path, sha);
}

void blobs_part_discard(blobs *b, int64_t n)
{
    char path[BLOBS_PATH_MAX];

    if (part_path(b, n, path, sizeof path) == 0)
        unlink(path);
}

int blobs_temp_path(blobs *b, char *out, size_t cap)
{
    char token[48];

    if (util_random_token("agent-", 12, token, sizeof token))
        return -1;
    return sub_path(b, out, cap, "uploads/%s%s", token, ".tmp");
}
