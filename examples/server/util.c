#include "util.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int64_t util_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t util_mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int read_urandom(unsigned char *buf, size_t n)
{
    FILE *f = fopen("/dev/urandom", "rb");
    size_t got;

    if (!f)
        return -1;
    got = fread(buf, 1, n, f);
    fclose(f);
    return got == n ? 0 : -1;
}

int util_random_bytes(void *out, size_t n)
{
    return read_urandom(out, n);
}

void util_hex(const void *in, size_t n, char *out)
{
    static const char digits[] = "0123456789abcdef";
    const unsigned char *b = in;
    size_t i;

    for (i = 0; i < n; i++) {
        out[2 * i] = digits[b[i] >> 4];
        out[2 * i + 1] = digits[b[i] & 0x0f];
    }
    out[2 * n] = '\0';
}

int util_random_token(const char *prefix, size_t nbytes, char *out, size_t cap)
{
    unsigned char raw[64];
    size_t plen = strlen(prefix);

    if (nbytes > sizeof raw || plen + 2 * nbytes + 1 > cap)
        return -1;
    if (read_urandom(raw, nbytes))
        return -1;
    memcpy(out, prefix, plen);
    util_hex(raw, nbytes, out + plen);
    return 0;
}

/* Doubles the buffer, up to one byte more than max (so that a file that is
 * too large shows) and the NUL. 0, or -1 when out of memory. */
static int grow(char **buf, size_t *cap, size_t max)
{
    size_t want = *cap ? 2 * *cap : 4096;
    char *bigger;

    if (want > max + 1)
        want = max + 1;
    bigger = realloc(*buf, want + 1);
    if (!bigger)
        return -1;
    *buf = bigger;
    *cap = want;
    return 0;
}

char *util_read_file(const char *path, size_t max, size_t *len, int *too_large)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    size_t cap = 0, n = 0, got;
    int failed = 0;

    *too_large = 0;
    if (!f)
        return NULL;
    do {
        if (n == cap && grow(&buf, &cap, max)) {
            failed = 1;
            break;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got && n <= max);
    *too_large = n > max;
    failed |= ferror(f) || *too_large;
    fclose(f);
    if (failed) {
        free(buf);
        return NULL;
    }
    buf[n] = '\0';
    *len = n;
    return buf;
}
