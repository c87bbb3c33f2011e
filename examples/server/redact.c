/* The push preview, scrubbed by the client's own built-in rules: the
 * library's pure scrubber (lib/util/scrub.c) is compiled into the server
 * (examples/CMakeLists.txt), so the two can never disagree. */
#include "redact.h"

#include <string.h>

#include "util/scrub.h"

/* Redacted before it is cut, so that a number or address across the cut
 * is found whole: this much of the text is looked at. */
#define REDACT_WINDOW (4 * REDACT_PREVIEW_MAX)

/* Back to the start of the UTF-8 character at `n`. */
static size_t char_start(const char *s, size_t n)
{
    while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
        n--;
    return n;
}

void redact_preview(const char *text, char *out, size_t cap)
{
    char window[REDACT_WINDOW + 1];
    size_t len = strlen(text), n;

    if (cap < REDACT_PREVIEW_MAX + 4) {
        if (cap)
            out[0] = '\0';
        return;
    }
    n = len > REDACT_WINDOW ? char_start(text, REDACT_WINDOW) : len;
    memcpy(window, text, n);
    window[n] = '\0';
    n = pl_redact_builtin(window);
    if (n <= REDACT_PREVIEW_MAX && len <= REDACT_WINDOW) {
        memcpy(out, window, n + 1);
        return;
    }
    n = char_start(window, n < REDACT_PREVIEW_MAX ? n : REDACT_PREVIEW_MAX);
    memcpy(out, window, n);
    memcpy(out + n, "...", 4);
}
