#include "util/utf8.h"

#include <stdint.h>
#include <string.h>

/* Length of the sequence starting at s[0], or 0 when it is not valid. */
static size_t seq_len(const unsigned char *s, size_t avail)
{
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t n;
    unsigned char lo = 0x80, hi = 0xbf;
    if (c >= 0xc2 && c <= 0xdf)
        n = 2;
    else if (c >= 0xe0 && c <= 0xef) {
        n = 3;
        if (c == 0xe0)
            lo = 0xa0; /* overlong */
        else if (c == 0xed)
            hi = 0x9f; /* surrogates */
    } else if (c >= 0xf0 && c <= 0xf4) {
        n = 4;
        if (c == 0xf0)
            lo = 0x90; /* overlong */
        else if (c == 0xf4)
            hi = 0x8f; /* above U+10FFFF */
    } else
        return 0;
    if (avail < n || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < n; i++)
        if (s[i] < 0x80 || s[i] > 0xbf)
            return 0;
    return n;
}

/* Eight bytes of ASCII at once: the wire is mostly ASCII, and every frame
 * and text is checked on its way in and out. */
#define HIGH_BITS 0x8080808080808080ull

int pl_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0;
    while (i < len) {
        uint64_t w;
        if (len - i >= sizeof w) {
            memcpy(&w, p + i, sizeof w);
            if (!(w & HIGH_BITS)) {
                i += sizeof w;
                continue;
            }
        }
        size_t n = seq_len(p + i, len - i);
        if (n == 0)
            return 0;
        i += n;
    }
    return 1;
}

int pl_id_valid(const char *s, size_t max_len)
{
    if (!s)
        return 0;
    size_t n = strnlen(s, max_len + 1);
    if (n == 0 || n > max_len)
        return 0;
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    return 1;
}
