#include "account.h"

#include <string.h>

#include "json.h"
#include "pwhash.h"

int account_name_ok(const char *name)
{
    size_t i;

    if (!name || !name[0])
        return 0;
    for (i = 0; name[i]; i++) {
        char c = name[i];

        if (i >= ACCOUNT_NAME_MAX || !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                                       (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int account_display_ok(const char *s)
{
    size_t i, len = s ? strlen(s) : 0;

    if (len == 0 || len > ACCOUNT_DISPLAY_MAX || !pj_utf8_valid(s, len))
        return 0;
    for (i = 0; i < len; i++) {
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return 0;
    }
    return 1;
}

int account_role_ok(const char *role)
{
    return role && (strcmp(role, "agent") == 0 || strcmp(role, "admin") == 0);
}

static int fail(char *buf, size_t cap, const char **why, const char *reason)
{
    volatile char *v = buf;
    size_t i;

    for (i = 0; i < cap; i++)
        v[i] = 0;
    *why = reason;
    return -1;
}

int account_read_password(FILE *f, char *buf, size_t cap, const char **why)
{
    size_t len = 0;
    int c;

    while ((c = fgetc(f)) != EOF && c != '\n') {
        if (c == '\0')
            return fail(buf, cap, why, "the password holds a NUL byte");
        if (len + 1 >= cap || len >= PWHASH_MAX_PASSWORD) {
            while ((c = fgetc(f)) != EOF && c != '\n')
                ;
            return fail(buf, cap, why, "the password is longer than 1024 bytes");
        }
        buf[len++] = (char)c;
    }
    if (c == EOF && len == 0)
        return fail(buf, cap, why, "no password on standard input");
    if (len && buf[len - 1] == '\r')
        len--;
    buf[len] = '\0';
    if (len < PWHASH_MIN_PASSWORD)
        return fail(buf, cap, why, "the password is shorter than 8 bytes");
    return 0;
}
