#include "console_files.h"

#include <stdio.h>
#include <string.h>

static const struct {
    const char *ext, *type;
} TYPES[] = {
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".html", "text/html; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
};

static const char *type_of(const char *name)
{
    const char *dot = strrchr(name, '.');
    size_t i;

    for (i = 0; dot && i < sizeof TYPES / sizeof TYPES[0]; i++) {
        if (strcmp(dot, TYPES[i].ext) == 0)
            return TYPES[i].type;
    }
    return NULL;
}

static int name_ok(const char *name)
{
    size_t i;

    if (!name[0] || name[0] == '.' || strstr(name, ".."))
        return 0;
    for (i = 0; name[i]; i++) {
        char c = name[i];

        if (i >= CONSOLE_NAME_MAX ||
            !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return 0;
    }
    return 1;
}

int console_resolve(const char *dir, const char *path, char *out, size_t cap, const char **type)
{
    static const char prefix[] = "/console/";
    const char *name;
    int n;

    if (strcmp(path, "/") == 0 || strcmp(path, prefix) == 0 || strcmp(path, "/console") == 0)
        name = "index.html";
    else if (strncmp(path, prefix, sizeof prefix - 1) == 0)
        name = path + sizeof prefix - 1;
    else
        return 0;
    if (!name_ok(name) || !(*type = type_of(name)))
        return 0;
    n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap ? 1 : -1;
}
