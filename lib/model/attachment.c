#include "model/attachment.h"

#include <string.h>

#include "util/utf8.h"

pl_attachment *pl_attachment_new(const pl_alloc *a)
{
    return pl_calloc(a, 1, sizeof(pl_attachment));
}

void pl_attachment_free(const pl_alloc *a, pl_attachment *att)
{
    if (!att)
        return;
    pl_free(a, att->id);
    pl_free(a, att->name);
    pl_free(a, att->type);
    pl_free(a, att->sha256);
    pl_free(a, att);
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

size_t pl_attachment_size(const pl_attachment *att)
{
    if (!att)
        return 0;
    return sizeof *att + str_size(att->id) + str_size(att->name) + str_size(att->type) +
           str_size(att->sha256);
}

int pl_attachment_name_valid(const char *name)
{
    size_t n = name ? strlen(name) : 0;
    if (!n || n > PL_ATT_MAX_NAME || !pl_utf8_valid(name, n))
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\')
            return 0;
    }
    return strcmp(name, ".") != 0 && strcmp(name, "..") != 0;
}

int pl_attachment_type_valid(const char *type)
{
    size_t n = type ? strlen(type) : 0;
    if (n < 3 || n > PL_ATT_MAX_TYPE)
        return 0;
    size_t semi = strcspn(type, ";"), slash = strcspn(type, "/");
    if (slash == 0 || slash + 1 >= semi)
        return 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)type[i];
        if (c < 0x20 || c > 0x7e || (i < semi && (c == ' ' || (c == '/' && i != slash))))
            return 0;
    }
    return 1;
}

uint64_t pl_attachment_chunks(uint64_t size)
{
    return (size + PL_ATT_CHUNK - 1) / PL_ATT_CHUNK;
}
