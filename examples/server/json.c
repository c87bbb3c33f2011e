#include "json.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Length of the UTF-8 sequence starting at s[0] (at most `left` bytes), or 0
 * when it is invalid: overlong forms, surrogates and code points above
 * U+10FFFF are rejected, as a WebSocket peer validating UTF-8 would. */
static size_t utf8_seq_len(const unsigned char *s, size_t left)
{
    size_t n, i;
    uint32_t cp;

    if (s[0] < 0x80)
        return 1;
    if (s[0] >= 0xc2 && s[0] <= 0xdf) {
        n = 2;
        cp = s[0] & 0x1fu;
    } else if (s[0] >= 0xe0 && s[0] <= 0xef) {
        n = 3;
        cp = s[0] & 0x0fu;
    } else if (s[0] >= 0xf0 && s[0] <= 0xf4) {
        n = 4;
        cp = s[0] & 0x07u;
    } else {
        return 0;
    }
    if (n > left)
        return 0;
    for (i = 1; i < n; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3fu);
    }
    if ((n == 3 && cp < 0x800) || (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
        (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return n;
}

int pj_utf8_valid(const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t i = 0, n;

    while (i < len) {
        n = utf8_seq_len(p + i, len - i);
        if (!n)
            return 0;
        i += n;
    }
    return 1;
}

/* cJSON decodes \u0000 into a C string that silently ends there, so the
 * escape is rejected on the raw text. Backslashes pair up inside JSON strings
 * and are invalid elsewhere, so skipping the escaped byte is enough. */
static int has_nul_escape(const char *buf, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i++) {
        if (buf[i] != '\\')
            continue;
        if (buf[i + 1] == 'u' && len - i >= 6 && memcmp(buf + i + 2, "0000", 4) == 0)
            return 1;
        i++;
    }
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Sorting keeps the check O(n log n) on a frame made of thousands of keys. */
static int has_duplicate_keys(const cJSON *obj, const char **why)
{
    const cJSON *it;
    const char **names;
    size_t n = 0, i;
    int dup = 0;

    cJSON_ArrayForEach(it, obj)
        n++;
    if (n < 2)
        return 0;
    names = malloc(n * sizeof *names);
    if (!names) {
        *why = "out of memory";
        return 1;
    }
    i = 0;
    cJSON_ArrayForEach(it, obj)
        names[i++] = it->string;
    qsort(names, n, sizeof *names, cmp_names);
    for (i = 1; i < n && !dup; i++)
        dup = strcmp(names[i - 1], names[i]) == 0;
    free(names);
    if (dup)
        *why = "duplicate key";
    return dup;
}

static int check_string(const char *s, const char **why)
{
    size_t len = strlen(s);

    if (len > PJ_MAX_STRING) {
        *why = "string too long";
        return -1;
    }
    if (!pj_utf8_valid(s, len)) {
        *why = "invalid UTF-8 in string";
        return -1;
    }
    return 0;
}

static int check_tree(const cJSON *node, int depth, const char **why)
{
    const cJSON *it;

    if (cJSON_IsString(node))
        return check_string(node->valuestring, why);
    if (!cJSON_IsObject(node) && !cJSON_IsArray(node))
        return 0;
    if (depth > PJ_MAX_DEPTH) {
        *why = "nesting too deep";
        return -1;
    }
    if (cJSON_IsObject(node) && has_duplicate_keys(node, why))
        return -1;
    cJSON_ArrayForEach(it, node) {
        if (it->string && check_string(it->string, why))
            return -1;
        if (check_tree(it, depth + 1, why))
            return -1;
    }
    return 0;
}

cJSON *pj_parse(const char *buf, size_t len, const char **why)
{
    cJSON *root;

    if (len > PJ_MAX_FRAME) {
        *why = "frame too large";
        return NULL;
    }
    if (memchr(buf, '\0', len) || has_nul_escape(buf, len)) {
        *why = "NUL character in frame";
        return NULL;
    }
    /* len + 1 includes the terminating NUL, which is what makes cJSON reject
     * trailing garbage after the value. */
    root = cJSON_ParseWithLengthOpts(buf, len + 1, NULL, 1);
    if (!root) {
        *why = "not valid JSON";
        return NULL;
    }
    if (!cJSON_IsObject(root)) {
        *why = "frame is not a JSON object";
        cJSON_Delete(root);
        return NULL;
    }
    if (check_tree(root, 1, why)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

int pj_is_ident(const char *s)
{
    size_t i;

    if (!s || !s[0])
        return 0;
    for (i = 0; s[i]; i++) {
        if (i >= PJ_MAX_ID || (unsigned char)s[i] < 0x21 || (unsigned char)s[i] > 0x7e)
            return 0;
    }
    return 1;
}

int pj_parse_seq(const char *s, int64_t *out)
{
    int64_t v = 0;
    size_t i;

    if (!s || !s[0] || (s[0] == '0' && s[1]))
        return -1;
    for (i = 0; s[i]; i++) {
        if (s[i] < '0' || s[i] > '9' || i >= 16)
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    if (v > PJ_SEQ_MAX)
        return -1;
    *out = v;
    return 0;
}

void pj_format_seq(int64_t seq, char out[PJ_SEQ_BUF])
{
    snprintf(out, PJ_SEQ_BUF, "%" PRId64, seq);
}

const char *pj_string(const cJSON *obj, const char *key)
{
    const cJSON *it = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsString(it) ? it->valuestring : NULL;
}
