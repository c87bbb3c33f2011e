/* The codec's strict JSON: a pre-scan against RFC 8259 with our limits,
 * cJSON behind it, the checks cJSON does not make, and the readers and
 * builders every codec file shares (json.h). */
#include "codec/json.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* ==== strict syntax pre-scan ===============================================
 * cJSON is lenient (leading zeros, "1.", raw control characters in strings,
 * trailing garbage, a BOM), truncates strings at \u0000, recurses up to 1000
 * levels (too deep for a 64 KB game-thread stack) and, in 1.7.15, can read
 * past the end of a buffer that ends inside a string escape. So the raw text
 * is first checked against the RFC 8259 grammar with our limits, iteratively
 * and in linear time; cJSON then only ever sees well-formed, shallow JSON. */

/* Upstream cJSON 1.7.15 copies a number into a 64-byte buffer and fails on
 * longer ones; capping here keeps behaviour the same on every cJSON build
 * and lets a cJSON failure after the scan mean "out of memory". */
#define SCAN_MAX_NUMBER 63

typedef struct jscan {
    const unsigned char *p, *end;
    const char *why;
    int depth;
    unsigned char stack[PL_MAX_DEPTH]; /* '{' or '[' per open container */
} jscan;

static int scan_bad(jscan *s, const char *why)
{
    s->why = why;
    return 0;
}

static void skip_ws(jscan *s)
{
    while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' || *s->p == '\n' || *s->p == '\r'))
        s->p++;
}

static int hex_val(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Reads "XXXX" of a \u escape (the "\u" already consumed). */
static int scan_hex4(jscan *s, unsigned *cp)
{
    if (s->end - s->p < 4)
        return scan_bad(s, "bad \\u escape");
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        int h = hex_val(s->p[i]);
        if (h < 0)
            return scan_bad(s, "bad \\u escape");
        v = v << 4 | (unsigned)h;
    }
    s->p += 4;
    *cp = v;
    return 1;
}

/* A \u escape; a high surrogate must be followed by an escaped low one so the
 * decoded string is valid UTF-8. */
static int scan_unicode(jscan *s)
{
    unsigned cp;
    if (!scan_hex4(s, &cp))
        return 0;
    if (cp == 0)
        return scan_bad(s, "\\u0000 in string");
    if (cp >= 0xdc00 && cp <= 0xdfff)
        return scan_bad(s, "unpaired surrogate");
    if (cp < 0xd800 || cp > 0xdbff)
        return 1;
    if (s->end - s->p < 2 || s->p[0] != '\\' || s->p[1] != 'u')
        return scan_bad(s, "unpaired surrogate");
    s->p += 2;
    if (!scan_hex4(s, &cp))
        return 0;
    if (cp < 0xdc00 || cp > 0xdfff)
        return scan_bad(s, "unpaired surrogate");
    return 1;
}

static int scan_escape(jscan *s)
{
    if (s->p >= s->end)
        return scan_bad(s, "unterminated string");
    unsigned char c = *s->p++;
    if (c == 'u')
        return scan_unicode(s);
    if (c != '\0' && strchr("\"\\/bfnrt", c))
        return 1;
    return scan_bad(s, "bad escape in string");
}

static int scan_string(jscan *s)
{
    s->p++; /* opening quote */
    while (s->p < s->end) {
        unsigned char c = *s->p++;
        if (c == '"')
            return 1;
        if (c < 0x20)
            return scan_bad(s, "control character in string");
        if (c == '\\' && !scan_escape(s))
            return 0;
    }
    return scan_bad(s, "unterminated string");
}

static int is_digit(const jscan *s)
{
    return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

/* At least one digit. */
static int scan_digits(jscan *s)
{
    if (!is_digit(s))
        return scan_bad(s, "bad number");
    while (is_digit(s))
        s->p++;
    return 1;
}

static int scan_number(jscan *s)
{
    const unsigned char *start = s->p;
    if (*s->p == '-')
        s->p++;
    if (s->p < s->end && *s->p == '0')
        s->p++;
    else if (!scan_digits(s))
        return 0;
    if (s->p < s->end && *s->p == '.') {
        s->p++;
        if (!scan_digits(s))
            return 0;
    }
    if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
        s->p++;
        if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
            s->p++;
        if (!scan_digits(s))
            return 0;
    }
    if (s->p - start > SCAN_MAX_NUMBER)
        return scan_bad(s, "number too long");
    return 1;
}

static int scan_literal(jscan *s, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(s->end - s->p) < n || memcmp(s->p, word, n) != 0)
        return scan_bad(s, "invalid JSON");
    s->p += n;
    return 1;
}

static int scan_scalar(jscan *s)
{
    if (s->p >= s->end)
        return scan_bad(s, "truncated JSON");
    switch (*s->p) {
    case '"': return scan_string(s);
    case 't': return scan_literal(s, "true");
    case 'f': return scan_literal(s, "false");
    case 'n': return scan_literal(s, "null");
    default:
        if (*s->p == '-' || (*s->p >= '0' && *s->p <= '9'))
            return scan_number(s);
        return scan_bad(s, "invalid JSON");
    }
}

/* A member name and its colon; the value follows. */
static int scan_key(jscan *s)
{
    skip_ws(s);
    if (s->p >= s->end || *s->p != '"')
        return scan_bad(s, s->p >= s->end ? "truncated JSON" : "invalid JSON");
    if (!scan_string(s))
        return 0;
    skip_ws(s);
    if (s->p >= s->end || *s->p != ':')
        return scan_bad(s, s->p >= s->end ? "truncated JSON" : "invalid JSON");
    s->p++;
    return 1;
}

/* Opens a container. *closed is set when it is empty ("{}" / "[]"); otherwise
 * the position is at its first value. */
static int scan_open(jscan *s, int *closed)
{
    if (s->depth == PL_MAX_DEPTH)
        return scan_bad(s, "nesting deeper than 16");
    unsigned char open = *s->p++;
    s->stack[s->depth++] = open;
    skip_ws(s);
    *closed = s->p < s->end && *s->p == (open == '{' ? '}' : ']');
    if (*closed) {
        s->p++;
        s->depth--;
        return 1;
    }
    return open == '{' ? scan_key(s) : 1;
}

/* After a value: closes finished containers. *more is set when a ',' leads
 * to another value of the innermost container. */
static int scan_after_value(jscan *s, int *more)
{
    *more = 0;
    while (s->depth > 0) {
        skip_ws(s);
        if (s->p >= s->end)
            return scan_bad(s, "truncated JSON");
        unsigned char open = s->stack[s->depth - 1];
        if (*s->p == ',') {
            s->p++;
            *more = 1;
            return open == '{' ? scan_key(s) : 1;
        }
        if (*s->p != (open == '{' ? '}' : ']'))
            return scan_bad(s, "invalid JSON");
        s->p++;
        s->depth--;
    }
    return 1;
}

/* On success *doc_end is where the top-level value ends (before trailing
 * whitespace), for the cross-check against cJSON. */
static int scan_document(jscan *s, const char *buf, size_t len, const char **doc_end)
{
    s->p = (const unsigned char *)buf;
    s->end = s->p + len;
    s->depth = 0;
    s->why = NULL;
    int more = 1;
    while (more) {
        skip_ws(s);
        if (s->p >= s->end)
            return scan_bad(s, len ? "truncated JSON" : "empty frame");
        int closed = 1;
        if (*s->p == '{' || *s->p == '[') {
            if (!scan_open(s, &closed))
                return 0;
        } else if (!scan_scalar(s))
            return 0;
        if (closed && !scan_after_value(s, &more))
            return 0;
    }
    *doc_end = (const char *)s->p;
    skip_ws(s);
    if (s->p != s->end)
        return scan_bad(s, "trailing data after JSON");
    return 1;
}

/* ==== reading =============================================================== */

int pl_json_bad(pl_json_dec *d, const char *fmt, ...)
{
    if (d->err && d->err_size) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(d->err, d->err_size, fmt, ap);
        va_end(ap);
    }
    return PARLEY_ERR_PROTOCOL;
}

int pl_json_bad_member(pl_json_dec *d, const char *key)
{
    return pl_json_bad(d, "missing or bad '%s%s'", d->where, key);
}

static int cmp_keys(const void *x, const void *y)
{
    return strcmp(*(const char *const *)x, *(const char *const *)y);
}

/* Small objects are compared pairwise; large ones sorted so a 64 KB object
 * of tiny members costs n log n, not n^2. */
static int has_duplicate_keys(const pl_alloc *a, const cJSON *obj, int *dup)
{
    size_t n = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        n++;
    *dup = 0;
    if (n <= 16) {
        for (const cJSON *x = obj->child; x; x = x->next)
            for (const cJSON *y = x->next; y; y = y->next)
                if (strcmp(x->string, y->string) == 0)
                    *dup = 1;
        return PARLEY_OK;
    }
    const char **keys = pl_calloc(a, n, sizeof *keys);
    if (!keys)
        return PARLEY_ERR_NOMEM;
    size_t i = 0;
    for (const cJSON *c = obj->child; c; c = c->next)
        keys[i++] = c->string;
    qsort(keys, n, sizeof *keys, cmp_keys);
    for (i = 1; i < n && !*dup; i++)
        *dup = strcmp(keys[i - 1], keys[i]) == 0;
    pl_free(a, keys);
    return PARLEY_OK;
}

/* Checks what the syntax scan cannot see: decoded string lengths (member
 * names count as strings too) and duplicate keys. Recursion depth is bounded
 * by the scan's nesting limit. */
static int check_tree(pl_json_dec *d, const cJSON *node)
{
    int is_obj = cJSON_IsObject(node);
    for (const cJSON *c = node->child; c; c = c->next) {
        if ((is_obj && strnlen(c->string, PL_MAX_STRING + 1) > PL_MAX_STRING) ||
            (cJSON_IsString(c) && strnlen(c->valuestring, PL_MAX_STRING + 1) > PL_MAX_STRING))
            return pl_json_bad(d, "string exceeds %d bytes", PL_MAX_STRING);
        if (c->child) {
            int rc = check_tree(d, c);
            if (rc)
                return rc;
        }
    }
    if (!is_obj)
        return PARLEY_OK;
    int dup;
    int rc = has_duplicate_keys(d->a, node, &dup);
    if (rc)
        return rc;
    return dup ? pl_json_bad(d, "duplicate key") : PARLEY_OK;
}

int pl_json_check(pl_json_dec *d, const char *buf, size_t len, const char **doc_end)
{
    if (!pl_utf8_valid(buf, len))
        return pl_json_bad(d, "invalid UTF-8");
    jscan s;
    if (!scan_document(&s, buf, len, doc_end))
        return pl_json_bad(d, "%s", s.why);
    return PARLEY_OK;
}

int pl_json_parse_checked(pl_json_dec *d, const char *buf, size_t len, const char *doc_end,
                          cJSON **out)
{
    *out = NULL;
    /* Never cJSON_GetErrorPtr(): it reads a process-global. The scan has
     * proven the text well-formed, so a NULL here is cJSON out of memory. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root)
        return PARLEY_ERR_NOMEM;
    int rc = end == doc_end ? check_tree(d, root) : pl_json_bad(d, "invalid JSON");
    if (rc != PARLEY_OK) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return PARLEY_OK;
}

int pl_json_parse(pl_json_dec *d, const char *buf, size_t len, cJSON **out)
{
    const char *doc_end;
    *out = NULL;
    int rc = pl_json_check(d, buf, len, &doc_end);
    return rc ? rc : pl_json_parse_checked(d, buf, len, doc_end, out);
}

/* ==== flat objects ==========================================================
 * Most frames are one object of strings and numbers; read straight from the
 * checked text they cost no tree and no allocation per member. Everything
 * here runs on text pl_json_check accepted, so it only has to find where
 * things end, never whether they are well-formed. */

static const char *flat_ws(const char *p, const char *end)
{
    while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
        p++;
    return p;
}

/* p at an opening quote; returns the closing one. memchr finds it in
 * strides; only a backslash before it makes the walk go byte by byte. */
static const char *flat_string_end(const char *p, const char *end, int *escaped)
{
    const char *q = memchr(p + 1, '"', (size_t)(end - p - 1));
    if (!q)
        return end;
    if (!memchr(p + 1, '\\', (size_t)(q - p - 1)))
        return q;
    *escaped = 1;
    for (p++; p < end && *p != '"'; p++)
        if (*p == '\\')
            p++;
    return p;
}

/* p at '{' or '['; returns what follows the matching close. */
static const char *flat_skip_container(const char *p, const char *end)
{
    int depth = 0, escaped = 0;
    for (; p < end; p++) {
        if (*p == '"')
            p = flat_string_end(p, end, &escaped);
        else if (*p == '{' || *p == '[')
            depth++;
        else if ((*p == '}' || *p == ']') && --depth == 0)
            return p + 1;
    }
    return end;
}

/* One member's value at p; returns what follows it, NULL when not flat. */
static const char *flat_value(const char *p, const char *end, pl_json_flat_member *m)
{
    int escaped = 0;
    m->escaped = 0;
    if (*p == '"') {
        const char *q = flat_string_end(p, end, &escaped);
        m->kind = 's';
        m->val = p + 1;
        m->val_len = (size_t)(q - p - 1);
        m->escaped = escaped;
        return q + 1;
    }
    if (*p == '{') {
        const char *q = flat_skip_container(p, end);
        m->kind = '{';
        m->val = p;
        m->val_len = (size_t)(q - p);
        return q;
    }
    if (*p != '-' && (*p < '0' || *p > '9'))
        return NULL; /* an array, true, false or null */
    const char *q = p;
    while (q < end && (*q == '-' || *q == '+' || *q == '.' || *q == 'e' || *q == 'E' ||
                       (*q >= '0' && *q <= '9')))
        q++;
    m->kind = 'n';
    m->val = p;
    m->val_len = (size_t)(q - p);
    return q;
}

int pl_json_flat(const char *obj, size_t len, pl_json_flat_member *m, int max)
{
    const char *end = obj + len, *p = flat_ws(obj, end);
    if (p >= end || *p != '{')
        return -1;
    p = flat_ws(p + 1, end);
    int n = 0;
    while (p < end && *p == '"') {
        int escaped = 0;
        const char *q = flat_string_end(p, end, &escaped);
        if (n == max || escaped)
            return -1;
        m[n].key = p + 1;
        m[n].key_len = (size_t)(q - p - 1);
        p = flat_ws(flat_ws(q + 1, end) + 1, end); /* past the colon */
        if (p >= end || !(p = flat_value(p, end, &m[n])))
            return -1;
        for (int i = 0; i < n; i++)
            if (m[i].key_len == m[n].key_len && memcmp(m[i].key, m[n].key, m[n].key_len) == 0)
                return -1; /* a duplicate: the full parse names the error */
        n++;
        p = flat_ws(p, end);
        if (p < end && *p == ',')
            p = flat_ws(p + 1, end);
    }
    return n;
}

int pl_json_flat_is(const pl_json_flat_member *m, const char *key)
{
    /* Compared in place: names are short, and most differ at once. */
    size_t i = 0;
    while (i < m->key_len && key[i] == m->key[i])
        i++;
    return i == m->key_len && key[i] == '\0';
}

static unsigned flat_hex4(const char *p)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++)
        v = v << 4 | (unsigned)hex_val((unsigned char)p[i]);
    return v;
}

static char *flat_utf8(char *o, unsigned cp)
{
    if (cp < 0x80) {
        *o++ = (char)cp;
    } else if (cp < 0x800) {
        *o++ = (char)(0xc0 | cp >> 6);
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        *o++ = (char)(0xe0 | cp >> 12);
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    } else {
        *o++ = (char)(0xf0 | cp >> 18);
        *o++ = (char)(0x80 | (cp >> 12 & 0x3f));
        *o++ = (char)(0x80 | (cp >> 6 & 0x3f));
        *o++ = (char)(0x80 | (cp & 0x3f));
    }
    return o;
}

/* One escape at in (past the backslash); *in moves past it. The scan
 * proved every \u escape complete and every surrogate paired. */
static char *flat_unescape(char *o, const char **in)
{
    const char *p = *in;
    const char *from = "\"\\/bfnrt", *to = "\"\\/\b\f\n\r\t";
    if (*p != 'u') {
        *o++ = to[strchr(from, *p) - from];
        *in = p + 1;
        return o;
    }
    unsigned cp = flat_hex4(p + 1);
    p += 5;
    if (cp >= 0xd800 && cp <= 0xdbff) {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (flat_hex4(p + 2) - 0xdc00);
        p += 6;
    }
    *in = p;
    return flat_utf8(o, cp);
}

char *pl_json_flat_str(const pl_json_flat_member *m, char **arena)
{
    char *start = *arena, *o = start;
    if (!m->escaped) {
        memcpy(o, m->val, m->val_len);
        o += m->val_len;
    } else {
        const char *p = m->val, *end = m->val + m->val_len;
        while (p < end) {
            if (*p != '\\') {
                *o++ = *p++;
                continue;
            }
            p++;
            o = flat_unescape(o, &p);
        }
    }
    *o++ = '\0';
    *arena = o;
    return start;
}

const cJSON *pl_json_member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

int pl_json_ref_string(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                       const char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (!v)
        return required ? pl_json_bad_member(d, key) : PARLEY_OK;
    if (!cJSON_IsString(v))
        return pl_json_bad_member(d, key);
    *dst = v->valuestring;
    return PARLEY_OK;
}

int pl_json_ref_id(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                   const char **dst)
{
    const char *v = NULL;
    int rc = pl_json_ref_string(d, obj, key, required, &v);
    if (rc == PARLEY_OK && v && !pl_id_valid(v, PL_MAX_ID))
        return pl_json_bad_member(d, key);
    if (v)
        *dst = v;
    return rc;
}

static int copy_ref(pl_json_dec *d, int rc, const char *v, char **dst)
{
    if (rc != PARLEY_OK || !v)
        return rc;
    *dst = pl_strdup(d->a, v);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

int pl_json_get_string(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    const char *v = NULL;
    int rc = pl_json_ref_string(d, obj, key, required, &v);
    return copy_ref(d, rc, v, dst);
}

int pl_json_get_id(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    const char *v = NULL;
    int rc = pl_json_ref_id(d, obj, key, required, &v);
    return copy_ref(d, rc, v, dst);
}

/* Parsed by hand: going through a double would round above 2^53. */
int pl_json_parse_seq(const char *s, uint64_t *out)
{
    size_t n = strnlen(s, 17);
    if (n == 0 || n > 16 || s[0] == '0')
        return 0;
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > PL_SEQ_MAX)
        return 0;
    *out = v;
    return 1;
}

int pl_json_get_seq(pl_json_dec *d, const cJSON *obj, uint64_t *dst)
{
    const cJSON *v = pl_json_member(obj, "seq");
    if (!v || !cJSON_IsString(v) || !pl_json_parse_seq(v->valuestring, dst))
        return pl_json_bad_member(d, "seq");
    return PARLEY_OK;
}

/* An integral number in [lo, hi]; |lo|, |hi| <= 2^63 so the cast is defined. */
int pl_json_integral_in(const cJSON *v, double lo, double hi, int64_t *out)
{
    if (!cJSON_IsNumber(v))
        return 0;
    double x = v->valuedouble;
    if (!(x >= lo && x <= hi) || (double)(int64_t)x != x)
        return 0;
    *out = (int64_t)x;
    return 1;
}

/* Optional member holding an integral number in [lo, hi]; *dst untouched
 * when absent. */
int pl_json_get_integral(pl_json_dec *d, const cJSON *obj, const char *key, double lo, double hi,
                         int64_t *dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (v && !pl_json_integral_in(v, lo, hi, dst))
        return pl_json_bad_member(d, key);
    return PARLEY_OK;
}

/* Optional nested object; *dst stays NULL when absent. */
int pl_json_get_object(pl_json_dec *d, const cJSON *obj, const char *key, int required,
                       const cJSON **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    *dst = NULL;
    if (!v)
        return required ? pl_json_bad_member(d, key) : PARLEY_OK;
    if (!cJSON_IsObject(v))
        return pl_json_bad_member(d, key);
    *dst = v;
    return PARLEY_OK;
}

/* Enum member: names[i] maps to value i + 1. */
int pl_json_get_enum(pl_json_dec *d, const cJSON *obj, const char *key, const char *const *names,
                     size_t n, int *dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (v && cJSON_IsString(v))
        for (size_t i = 0; i < n; i++)
            if (strcmp(v->valuestring, names[i]) == 0) {
                *dst = (int)i + 1;
                return PARLEY_OK;
            }
    return pl_json_bad_member(d, key);
}
int pl_json_get_bounded(pl_json_dec *d, const cJSON *obj, const char *key, int required, size_t max,
                        char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (!v)
        return required ? pl_json_bad(d, "%s'%s' missing", d->where, key) : PARLEY_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return pl_json_bad(d, "%s'%s' is not a non-empty string", d->where, key);
    if (strlen(v->valuestring) > max)
        return pl_json_bad(d, "%s'%s' exceeds %zu bytes", d->where, key, max);
    *dst = pl_strdup(d->a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

int pl_json_get_url(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    int rc = pl_json_get_bounded(d, obj, key, required, PL_MAX_URL, dst);
    if (rc == PARLEY_OK && *dst && !http_url(*dst))
        return pl_json_bad(d, "%s'%s' is not an http(s) URL", d->where, key);
    return rc;
}

int pl_json_get_array(pl_json_dec *d, const cJSON *obj, const char *key, int min, int max,
                      const cJSON **arr, int *n)
{
    const cJSON *v = pl_json_member(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v && !min)
        return PARLEY_OK;
    if (!v || !cJSON_IsArray(v))
        return pl_json_bad(d, "'%s' missing or not an array", key);
    int count = cJSON_GetArraySize(v);
    if (count < min || count > max)
        return pl_json_bad(d, "'%s' has %d entries (%d ... %d allowed)", key, count, min, max);
    *arr = v;
    *n = count;
    return PARLEY_OK;
}

int pl_json_get_seq_str(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    uint64_t seq;
    if (!v && !required)
        return PARLEY_OK;
    if (!v || !cJSON_IsString(v) || !pl_json_parse_seq(v->valuestring, &seq))
        return pl_json_bad_member(d, key);
    *dst = pl_strdup(d->a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

int pl_json_get_count(pl_json_dec *d, const cJSON *obj, const char *key, uint32_t *out)
{
    int64_t v = 0;
    int rc = pl_json_get_integral(d, obj, key, 0, 4294967295.0, &v);
    *out = (uint32_t)v;
    return rc;
}

int pl_json_get_author(pl_json_dec *d, const cJSON *obj, int required, int *kind, char **name)
{
    static const char *const kinds[] = {"user", "bot", "agent", "system"};
    const cJSON *author = NULL;
    int rc = pl_json_get_object(d, obj, "author", required, &author);
    if (rc || !author)
        return rc;
    d->where = "author.";
    rc = pl_json_get_enum(d, author, "kind", kinds, 4, kind);
    if (!rc)
        rc = pl_json_get_string(d, author, "name", 0, name);
    d->where = "";
    return rc;
}

/* ==== encoding ============================================================
 * Each builder returns 0 when cJSON ran out of memory; the caller frees the
 * half-built tree, so no builder cleans up after itself. */

int pl_json_add_str(cJSON *obj, const char *key, const char *val)
{
    return cJSON_AddStringToObject(obj, key, val) != NULL;
}

int pl_json_add_opt_str(cJSON *obj, const char *key, const char *val)
{
    return !val || pl_json_add_str(obj, key, val);
}

/* Starts {"t":type}; NULL when out of memory. */
cJSON *pl_json_new_frame(const char *type)
{
    cJSON *root = cJSON_CreateObject();
    if (root && !pl_json_add_str(root, "t", type)) {
        cJSON_Delete(root);
        return NULL;
    }
    return root;
}

/* Prints the tree into `a`'s memory and frees it. cJSON escapes control
 * characters but copies other bytes as they are, so a caller that broke the
 * "inputs are valid UTF-8" promise gets an error, not a frame the server
 * would reject. */
/* The escapes cJSON prints (quote, backslash, control characters), so a
 * frame written by hand is byte for byte the frame cJSON would print. */
static const char *short_escape(unsigned char c)
{
    switch (c) {
    case '"': return "\\\"";
    case '\\': return "\\\\";
    case '\b': return "\\b";
    case '\f': return "\\f";
    case '\n': return "\\n";
    case '\r': return "\\r";
    case '\t': return "\\t";
    default: return NULL;
    }
}

/* What cJSON escapes besides the NUL that ends the string. */
static const char escaped_chars[] = "\"\\\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0a\x0b\x0c\x0d"
                                    "\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b"
                                    "\x1c\x1d\x1e\x1f";

size_t pl_json_str_size(const char *s)
{
    size_t n = 2;
    for (;;) {
        size_t run = strcspn(s, escaped_chars);
        n += run;
        s += run;
        if (!*s)
            return n;
        n += short_escape((unsigned char)*s++) ? 2 : 6;
    }
}

char *pl_json_put_str(char *o, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    *o++ = '"';
    for (;;) {
        size_t run = strcspn(s, escaped_chars);
        memcpy(o, s, run);
        o += run;
        s += run;
        if (!*s)
            break;
        unsigned char c = (unsigned char)*s++;
        const char *e = short_escape(c);
        if (e) {
            memcpy(o, e, 2);
            o += 2;
        } else {
            memcpy(o, "\\u00", 4);
            o[4] = hex[c >> 4];
            o[5] = hex[c & 15];
            o += 6;
        }
    }
    *o++ = '"';
    return o;
}

int pl_json_finish(const pl_alloc *a, cJSON *root, int ok, char **out, size_t *out_len)
{
    char *text = ok ? cJSON_PrintUnformatted(root) : NULL;
    cJSON_Delete(root);
    if (!text)
        return PARLEY_ERR_NOMEM;
    size_t n = strlen(text);
    if (!pl_utf8_valid(text, n)) {
        cJSON_free(text);
        return PARLEY_ERR_INVALID_ARG;
    }
    *out = pl_strndup(a, text, n);
    cJSON_free(text);
    if (!*out)
        return PARLEY_ERR_NOMEM;
    if (out_len)
        *out_len = n;
    return PARLEY_OK;
}
