#include "http_files.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/sha256.h>

#include "util.h"

struct http_sink {
    FILE *f;
    char path[BLOBS_PATH_MAX];
    int64_t size;
    mbedtls_sha256_context sha;
};

http_sink *httpf_sink_new(blobs *b)
{
    http_sink *k = calloc(1, sizeof *k);

    if (!k || blobs_temp_path(b, k->path, sizeof k->path) || !(k->f = fopen(k->path, "wb"))) {
        free(k);
        return NULL;
    }
    mbedtls_sha256_init(&k->sha);
    mbedtls_sha256_starts_ret(&k->sha, 0);
    return k;
}

int httpf_sink_write(http_sink *k, const void *data, size_t len)
{
    if (!k->f || fwrite(data, 1, len, k->f) != len)
        return -1;
    mbedtls_sha256_update_ret(&k->sha, data, len);
    k->size += (int64_t)len;
    return 0;
}

int httpf_sink_finish(http_sink *k, const char **path, int64_t *size, char sha[BLOBS_SHA_HEX])
{
    unsigned char d[32];
    int ok = k->f && fclose(k->f) == 0;

    k->f = NULL;
    mbedtls_sha256_finish_ret(&k->sha, d);
    util_hex(d, sizeof d, sha);
    *path = k->path;
    *size = k->size;
    return ok ? 0 : -1;
}

void httpf_sink_free(http_sink *k)
{
    if (!k)
        return;
    if (k->f)
        fclose(k->f);
    remove(k->path);
    mbedtls_sha256_free(&k->sha);
    free(k);
}
