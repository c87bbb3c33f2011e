/* Which files the server takes (--attachment-types): a list of MIME types
 * ("image/" followed by a star for a whole family), and for the types
 * whose files say what they are (images, PDF, ZIP) a check of their first
 * bytes, so that a file
 * declared image/png is one. Pure logic: no files, no state. */
#ifndef PARLEY_SERVER_FILETYPES_H
#define PARLEY_SERVER_FILETYPES_H

#include <stddef.h>

#define FILETYPES_MAX 32
#define FILETYPES_LEN 127

/* The shipped default: images, text, JSON, PDF, ZIP and opaque bytes. */
#define FILETYPES_DEFAULT                                                                          \
    "image/png,image/jpeg,image/gif,image/webp,text/plain,text/csv,application/json,"              \
    "application/pdf,application/zip,application/octet-stream"

typedef struct filetypes {
    char types[FILETYPES_MAX][FILETYPES_LEN + 1];
    size_t n;
} filetypes;

/* Parses a comma-separated list: 0, or -1 with the reason in why. */
int filetypes_parse(const char *list, filetypes *out, char *why, size_t cap);
/* 1 when `type` (its parameters after ';' ignored) is on the list. */
int filetypes_allowed(const filetypes *ft, const char *type);
/* 1 when a file of `type` may begin with head[n] (n: at most its first 16
 * bytes); types without a signature always pass. */
int filetypes_sniff_ok(const char *type, const unsigned char *head, size_t n);
/* 1 when `type` is a MIME type as the wire allows: type/subtype, 3..127
 * printable ASCII bytes, no comma. */
int filetypes_valid(const char *type);
/* 1 when `name` is a file name as the wire allows: 1..255 bytes of UTF-8,
 * no '/', '\' or control characters. */
int filetypes_name_valid(const char *name);

#endif
