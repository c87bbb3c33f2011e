#include "api_query.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int api_query_get(const char *q, const char *name, char *out, size_t cap)
{
    size_t n = strlen(name);

    while (q && *q) {
        const char *end = strchr(q, '&');
        size_t len = end ? (size_t)(end - q) : strlen(q);

        if (len > n && strncmp(q, name, n) == 0 && q[n] == '=') {
            if (len - n - 1 >= cap)
                return -1;
            memcpy(out, q + n + 1, len - n - 1);
            out[len - n - 1] = '\0';
            return 1;
        }
        q = end ? end + 1 : NULL;
    }
    return 0;
}

/* Digits, after a '-' when one may be: strtoll alone also takes spaces, a
 * '+' and numbers past its range (clamped). */
int api_query_int(const char *s, int64_t min, int64_t max, int64_t *out)
{
    const char *d = s + (*s == '-' && min < 0);
    char *end;
    long long v;

    if (*d < '0' || *d > '9')
        return -1;
    errno = 0;
    v = strtoll(s, &end, 10);
    if (*end || errno == ERANGE || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int api_query_escape(const char *in, char *out, size_t cap)
{
    static const char keep[] = "-._~";
    size_t n = 0;

    for (; *in; in++) {
        unsigned char c = (unsigned char)*in;
        int plain = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    strchr(keep, c);

        if (n + (plain ? 1 : 3) >= cap)
            return -1;
        if (plain)
            out[n++] = (char)c;
        else
            n += (size_t)snprintf(out + n, cap - n, "%%%02X", c);
    }
    out[n] = '\0';
    return 0;
}
