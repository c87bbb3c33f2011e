#include "filetypes.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json.h"

/* The type without its parameters, lowercased, into out; 0 or -1. */
static int base_type(const char *type, char out[FILETYPES_LEN + 1])
{
    size_t n = strcspn(type, ";"), i;

    while (n && type[n - 1] == ' ')
        n--;
    if (n == 0 || n > FILETYPES_LEN)
        return -1;
    for (i = 0; i < n; i++)
        out[i] = (char)(type[i] >= 'A' && type[i] <= 'Z' ? type[i] - 'A' + 'a' : type[i]);
    out[n] = '\0';
    return 0;
}

int filetypes_valid(const char *type)
{
    size_t n = type ? strlen(type) : 0, semi, slash, i;

    if (n < 3 || n > FILETYPES_LEN)
        return 0;
    semi = strcspn(type, ";");
    slash = strcspn(type, "/");
    if (slash == 0 || slash + 1 >= semi)
        return 0;
    /* A browser reads "text/plain;a=b, text/html" as its last type: the
     * type a download is served with must be the one that was checked. */
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)type[i];
        if (c < 0x20 || c > 0x7e || c == ',' ||
            (i < semi && (c == ' ' || (c == '/' && i != slash))))
            return 0;
    }
    return 1;
}

int filetypes_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0, i;

    if (!n || n > 255 || !pj_utf8_valid(name, n) || !strcmp(name, ".") || !strcmp(name, ".."))
        return 0;
    for (i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return 0;
    }
    return 1;
}

int filetypes_parse(const char *list, filetypes *out, char *why, size_t cap)
{
    const char *p = list;

    memset(out, 0, sizeof *out);
    while (*p) {
        size_t n = strcspn(p, ",");
        char one[FILETYPES_LEN + 2];

        if (n == 0 || n > FILETYPES_LEN || out->n == FILETYPES_MAX) {
            snprintf(why, cap, "1 ... %d types of at most %d bytes, comma-separated", FILETYPES_MAX,
                     FILETYPES_LEN);
            return -1;
        }
        memcpy(one, p, n);
        one[n] = '\0';
        if (!filetypes_valid(one) || base_type(one, out->types[out->n])) {
            snprintf(why, cap, "'%s' is not a MIME type (type/subtype)", one);
            return -1;
        }
        out->n++;
        p += n + (p[n] == ',');
    }
    if (!out->n)
        snprintf(why, cap, "no types");
    return out->n ? 0 : -1;
}

int filetypes_allowed(const filetypes *ft, const char *type)
{
    char t[FILETYPES_LEN + 1];
    size_t i, fam;

    if (!filetypes_valid(type) || base_type(type, t))
        return 0;
    fam = strcspn(t, "/");
    for (i = 0; i < ft->n; i++) {
        const char *a = ft->types[i];
        if (strcmp(a, t) == 0 ||
            (strcmp(a + strcspn(a, "/"), "/*") == 0 && strncmp(a, t, fam + 1) == 0))
            return 1;
    }
    return 0;
}

/* The first bytes files of a type begin with. */
static const struct {
    const char *type;
    const char *magic;
    size_t len;
} signatures[] = {
    {"image/png", "\x89PNG\r\n\x1a\n", 8},
    {"image/jpeg", "\xff\xd8\xff", 3},
    {"image/gif", "GIF8", 4},
    {"application/pdf", "%PDF-", 5},
    {"application/zip", "PK", 2},
};

int filetypes_sniff_ok(const char *type, const unsigned char *head, size_t n)
{
    char t[FILETYPES_LEN + 1];
    size_t i;

    if (base_type(type, t))
        return 0;
    if (strcmp(t, "image/webp") == 0)
        return n >= 12 && memcmp(head, "RIFF", 4) == 0 && memcmp(head + 8, "WEBP", 4) == 0;
    for (i = 0; i < sizeof signatures / sizeof signatures[0]; i++) {
        if (strcmp(t, signatures[i].type) == 0)
            return n >= signatures[i].len &&
                   memcmp(head, signatures[i].magic, signatures[i].len) == 0;
    }
    return 1;
}
