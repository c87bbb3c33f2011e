/* The same built-in redaction as the client's (lib/feature/redact.c: the
 * server cannot link the library's internals, and the rules are short). */
#include "redact.h"

#include <stdlib.h>
#include <string.h>

#define CARD_MIN_DIGITS 13
#define CARD_MAX_DIGITS 19
/* Redacted before it is cut, so that a number or address across the cut
 * is found whole: this much of the text is looked at. */
#define REDACT_WINDOW (4 * REDACT_PREVIEW_MAX)

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int luhn_ok(const char *digits, size_t n)
{
    unsigned sum = 0;
    size_t i;

    for (i = 0; i < n; i++) {
        unsigned d = (unsigned)(digits[n - 1 - i] - '0');
        if (i % 2 == 1 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

/* The end of the longest card-like number at p (13 to 19 digits, single
 * spaces or dashes between groups, Luhn-valid), or 0. */
static size_t card_run(const char *p)
{
    char digits[CARD_MAX_DIGITS];
    size_t n = 0, i = 0, best = 0;

    while (is_digit(p[i]) && n < CARD_MAX_DIGITS) {
        digits[n++] = p[i++];
        if (!is_digit(p[i]) && n >= CARD_MIN_DIGITS && !is_alnum(p[i]) && luhn_ok(digits, n))
            best = i;
        if ((p[i] == ' ' || p[i] == '-') && is_digit(p[i + 1]))
            i++;
    }
    return best;
}

static int local_char(char c)
{
    return is_alnum(c) || (c != '\0' && strchr("._%+-", c));
}

static int domain_char(char c)
{
    return is_alnum(c) || c == '.' || c == '-';
}

static int email_at(const char *text, size_t at, size_t *start, size_t *end)
{
    size_t s = at, e = at + 1, last_dot = 0, k;

    while (s > 0 && local_char(text[s - 1]))
        s--;
    while (domain_char(text[e]))
        e++;
    while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-'))
        e--;
    for (k = at + 1; k < e; k++)
        if (text[k] == '.')
            last_dot = k;
    if (s == at || last_dot <= at + 1 || e - last_dot < 3)
        return 0;
    *start = s;
    *end = e;
    return 1;
}

static size_t replace(char *text, size_t len, size_t start, size_t end, const char *with)
{
    size_t n = strlen(with), old = end - start;

    if (n > old) {
        memset(text + start, '*', old);
        return len;
    }
    memcpy(text + start, with, n);
    memmove(text + start + n, text + end, len - end + 1);
    return len - (old - n);
}

static size_t redact_builtin(char *text)
{
    size_t len = strlen(text), i, end, start;

    for (i = 0; i < len; i++) {
        if (is_digit(text[i]) && (i == 0 || !is_alnum(text[i - 1])) && (end = card_run(text + i))) {
            len = replace(text, len, i, i + end, "[card]");
            i += strlen("[card]") - 1;
        } else if (text[i] == '@' && email_at(text, i, &start, &end)) {
            size_t before = len;
            len = replace(text, len, start, end, "[email]");
            i = end - (before - len) - 1;
        }
    }
    return len;
}

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
    n = redact_builtin(window);
    if (n <= REDACT_PREVIEW_MAX && len <= REDACT_WINDOW) {
        memcpy(out, window, n + 1);
        return;
    }
    n = char_start(window, n < REDACT_PREVIEW_MAX ? n : REDACT_PREVIEW_MAX);
    memcpy(out, window, n);
    memcpy(out + n, "...", 4);
}
