/* The built-in scrubber (docs/protocol.md, "Redaction"). Pure: it needs
 * nothing but <string.h>, so that the reference server compiles this same
 * file for its push previews instead of keeping a copy of the rules. */
#include "util/scrub.h"

#include <string.h>

#define CARD_MIN_DIGITS 13
#define CARD_MAX_DIGITS 19

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
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned)(digits[n - 1 - i] - '0');
        if (i % 2 == 1 && (d *= 2) > 9)
            d -= 9;
        sum += d;
    }
    return sum % 10 == 0;
}

/* The end of the longest card-like number starting at p (a digit not
 * preceded by one): digits with single spaces or dashes between them,
 * ending where a group ends, 13 to 19 digits, Luhn-valid. A run that goes
 * on past such a number ("... 1111 2 times") still has it found. 0 when
 * there is none. */
static size_t card_run(const char *p)
{
    char digits[CARD_MAX_DIGITS];
    size_t n = 0, i = 0, best = 0;
    while (is_digit(p[i]) && n < CARD_MAX_DIGITS) {
        digits[n++] = p[i++];
        int group_end = !is_digit(p[i]);
        if (group_end && n >= CARD_MIN_DIGITS && !is_alnum(p[i]) && luhn_ok(digits, n))
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

/* Bounds [*start, *end) of an address around the '@' at `at`; 0 when the
 * text there is not one (a local part, and a domain with a dot followed by
 * at least two letters). */
static int email_at(const char *text, size_t at, size_t *start, size_t *end)
{
    size_t s = at, e = at + 1, last_dot = 0;
    while (s > 0 && local_char(text[s - 1]))
        s--;
    while (domain_char(text[e]))
        e++;
    while (e > at + 1 && (text[e - 1] == '.' || text[e - 1] == '-'))
        e--;
    for (size_t k = at + 1; k < e; k++)
        if (text[k] == '.')
            last_dot = k;
    if (s == at || last_dot <= at + 1 || e - last_dot < 3)
        return 0;
    *start = s;
    *end = e;
    return 1;
}

/* Puts `with` (or stars when it does not fit) over text[start, end). */
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

size_t pl_redact_builtin(char *text)
{
    size_t len = strlen(text);
    for (size_t i = 0; i < len; i++) {
        size_t end, start;
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
