#include "jpos.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int jerr_set(jerr *err, const cJSON *at, const char *fmt, ...)
{
    va_list ap;

    err->at = at;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return -1;
}

int jpos_line_at(const char *text, size_t len, size_t off)
{
    int line = 1;

    for (size_t i = 0; i < off && i < len; i++)
        line += text[i] == '\n';
    return line;
}

/* ---- the path from the root to a node ---- */

/* chain[0] = root ... chain[depth] = node; the depth, or -1. */
static int find_chain(const cJSON *cur, const cJSON *node, int depth, const cJSON **chain)
{
    const cJSON *child;
    int d;

    chain[depth] = cur;
    if (cur == node)
        return depth;
    if (depth >= JPOS_MAX_DEPTH || !(cJSON_IsObject(cur) || cJSON_IsArray(cur)))
        return -1;
    for (child = cur->child; child; child = child->next) {
        d = find_chain(child, node, depth + 1, chain);
        if (d >= 0)
            return d;
    }
    return -1;
}

static int index_in(const cJSON *parent, const cJSON *child)
{
    int i = 0;

    for (const cJSON *it = parent->child; it && it != child; it = it->next)
        i++;
    return i;
}

/* Appends one step to the path, keys with unprintable bytes made '?'. */
static void path_step(char *path, size_t cap, const cJSON *parent, const cJSON *child)
{
    size_t used = strlen(path);
    char key[72];
    size_t i;

    if (used + 1 >= cap)
        return;
    if (cJSON_IsArray(parent)) {
        snprintf(path + used, cap - used, "[%d]", index_in(parent, child));
        return;
    }
    for (i = 0; child->string && child->string[i] && i < 64; i++) {
        unsigned char ch = (unsigned char)child->string[i];
        key[i] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
    }
    key[i] = '\0';
    snprintf(path + used, cap - used, "%s%s", used ? "." : "", key);
}

/* ---- following the path through the text ---- */

typedef struct scan {
    const char *s;
    size_t len, i;
} scan;

static void skip_ws(scan *sc)
{
    while (sc->i < sc->len && (sc->s[sc->i] == ' ' || sc->s[sc->i] == '\t' ||
                               sc->s[sc->i] == '\n' || sc->s[sc->i] == '\r'))
        sc->i++;
}

static int skip_string(scan *sc)
{
    if (sc->i >= sc->len || sc->s[sc->i] != '"')
        return -1;
    for (sc->i++; sc->i < sc->len; sc->i++) {
        if (sc->s[sc->i] == '\\')
            sc->i++;
        else if (sc->s[sc->i] == '"') {
            sc->i++;
            return 0;
        }
    }
    return -1;
}

static int skip_value(scan *sc)
{
    int depth = 0;

    if (sc->i >= sc->len)
        return -1;
    if (sc->s[sc->i] == '"')
        return skip_string(sc);
    if (sc->s[sc->i] != '{' && sc->s[sc->i] != '[') {
        while (sc->i < sc->len && !strchr(",}] \t\r\n", sc->s[sc->i]))
            sc->i++;
        return 0;
    }
    while (sc->i < sc->len) {
        char ch = sc->s[sc->i];
        if (ch == '"') {
            if (skip_string(sc))
                return -1;
            continue;
        }
        depth += (ch == '{' || ch == '[') - (ch == '}' || ch == ']');
        sc->i++;
        if (depth == 0)
            return 0;
    }
    return -1;
}

/* From the container at sc->i to its k-th member (leaving sc->i at its
 * value); *at gets where the member starts (its key, in an object). */
static int enter(scan *sc, int object, int k, size_t *at)
{
    sc->i++;
    for (int n = 0;; n++) {
        skip_ws(sc);
        *at = sc->i;
        if (object) {
            if (skip_string(sc))
                return -1;
            skip_ws(sc);
            if (sc->i >= sc->len || sc->s[sc->i] != ':')
                return -1;
            sc->i++;
            skip_ws(sc);
        }
        if (n == k)
            return 0;
        if (skip_value(sc))
            return -1;
        skip_ws(sc);
        if (sc->i >= sc->len || sc->s[sc->i] != ',')
            return -1;
        sc->i++;
    }
}

int jpos_find(const char *text, size_t len, const cJSON *root, const cJSON *node, int *line,
              char *path, size_t cap)
{
    const cJSON *chain[JPOS_MAX_DEPTH + 1];
    scan sc = {text, len, 0};
    size_t at;
    int depth = find_chain(root, node, 0, chain);

    *line = 0;
    if (cap)
        path[0] = '\0';
    if (depth < 0)
        return -1;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        sc.i = 3;
    skip_ws(&sc);
    at = sc.i;
    for (int d = 1; d <= depth; d++) {
        path_step(path, cap, chain[d - 1], chain[d]);
        if (enter(&sc, cJSON_IsObject(chain[d - 1]), index_in(chain[d - 1], chain[d]), &at))
            return -1;
    }
    *line = jpos_line_at(text, len, at);
    return 0;
}

/* ---- whole-document checks ---- */

int jpos_depth(const cJSON *v, int limit)
{
    int max = 0, d;

    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return 0;
    if (limit < 0)
        return 1;
    for (const cJSON *it = v->child; it; it = it->next) {
        d = jpos_depth(it, limit - 1);
        if (d > max)
            max = d;
        if (max > limit)
            break;
    }
    return max + 1;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The second member named like an earlier one, or NULL. Sorting the names
 * keeps an object of many members cheap. */
static const cJSON *duplicate_in(const cJSON *obj)
{
    size_t n = 0, i;
    const char **names;
    const char *dup = NULL;
    const cJSON *it, *first = NULL;

    for (it = obj->child; it; it = it->next)
        n++;
    if (n < 2 || !(names = malloc(n * sizeof *names)))
        return NULL;
    for (i = 0, it = obj->child; it; it = it->next)
        names[i++] = it->string ? it->string : "";
    qsort(names, n, sizeof *names, by_name);
    for (i = 1; i < n && !dup; i++)
        if (strcmp(names[i - 1], names[i]) == 0)
            dup = names[i];
    for (it = obj->child; dup && it; it = it->next) {
        if (strcmp(it->string ? it->string : "", dup) != 0)
            continue;
        if (first)
            break;
        first = it;
    }
    free(names);
    return dup ? it : NULL;
}

const cJSON *jpos_duplicate_key(const cJSON *v)
{
    const cJSON *found;

    if (!cJSON_IsObject(v) && !cJSON_IsArray(v))
        return NULL;
    if (cJSON_IsObject(v) && (found = duplicate_in(v)) != NULL)
        return found;
    for (const cJSON *it = v->child; it; it = it->next) {
        if ((found = jpos_duplicate_key(it)) != NULL)
            return found;
    }
    return NULL;
}

void jpos_explain(const char *text, size_t len, const cJSON *root, const jerr *err,
                  const char *prefix, char *why, size_t cap)
{
    char path[160];
    int line = 0;

    if (!err->at || jpos_find(text, len, root, err->at, &line, path, sizeof path) != 0)
        path[0] = '\0';
    if (line <= 0)
        line = 1;
    snprintf(why, cap, "%s%s%d: %s%s%s", prefix ? prefix : "", prefix ? ":" : "line ", line, path,
             path[0] ? ": " : "", err->msg);
}

void jpos_explain_at(const char *text, size_t len, size_t off, const char *msg, const char *prefix,
                     char *why, size_t cap)
{
    snprintf(why, cap, "%s%s%d: %s", prefix ? prefix : "", prefix ? ":" : "line ",
             jpos_line_at(text, len, off), msg);
}
