#include "anonid.h"

#include <stdio.h>
#include <string.h>

#include "util.h"

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int anonid_valid(const char *id)
{
    static const char shape[] = ANONID_SHAPE;
    size_t i;

    if (!id || strlen(id) != sizeof shape - 1)
        return 0;
    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'x' ? !is_lower_hex(id[i]) : id[i] != shape[i])
            return 0;
    }
    return 1;
}

int anonid_new(char out[ANONID_BUF])
{
    char hex[33];

    if (util_random_token("", 16, hex, sizeof hex))
        return -1;
    hex[12] = '4';
    hex[16] = "89ab"[hex[16] % 4];
    snprintf(out, ANONID_BUF, "a-%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    return 0;
}
