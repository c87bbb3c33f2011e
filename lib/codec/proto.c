#include "codec/proto.h"
#include "codec/proto_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

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
    case '"':
        return scan_string(s);
    case 't':
        return scan_literal(s, "true");
    case 'f':
        return scan_literal(s, "false");
    case 'n':
        return scan_literal(s, "null");
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

/* ==== decoding ============================================================ */

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

const cJSON *pl_json_member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int copy_string(pl_json_dec *d, const cJSON *v, char **dst)
{
    *dst = pl_strdup(d->a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

int pl_json_get_string(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (!v)
        return required ? pl_json_bad_member(d, key) : PARLEY_OK;
    if (!cJSON_IsString(v))
        return pl_json_bad_member(d, key);
    return copy_string(d, v, dst);
}

int pl_json_get_id(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (!v)
        return required ? pl_json_bad_member(d, key) : PARLEY_OK;
    if (!cJSON_IsString(v) || !pl_id_valid(v->valuestring, PL_MAX_ID))
        return pl_json_bad_member(d, key);
    return copy_string(d, v, dst);
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

/* history.end's "last" may be "0" (nothing after a request from the start). */
static int get_last(pl_json_dec *d, const cJSON *obj, uint64_t *dst)
{
    const cJSON *v = pl_json_member(obj, "last");
    if (v && cJSON_IsString(v) && strcmp(v->valuestring, "0") == 0) {
        *dst = 0;
        return PARLEY_OK;
    }
    if (!v || !cJSON_IsString(v) || !pl_json_parse_seq(v->valuestring, dst))
        return pl_json_bad_member(d, "last");
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
int pl_json_get_integral(pl_json_dec *d, const cJSON *obj, const char *key, double lo, double hi, int64_t *dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (v && !pl_json_integral_in(v, lo, hi, dst))
        return pl_json_bad_member(d, key);
    return PARLEY_OK;
}

/* Optional nested object; *dst stays NULL when absent. */
int pl_json_get_object(pl_json_dec *d, const cJSON *obj, const char *key, int required, const cJSON **dst)
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
int pl_json_get_enum(pl_json_dec *d, const cJSON *obj, const char *key, const char *const *names, size_t n, int *dst)
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

static int decode_welcome(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    const cJSON *limits = NULL;
    int64_t max_frame = 0, max_text = 0;
    int rc = pl_json_get_id(d, root, "session", 1, &f->session);
    if (!rc)
        rc = pl_json_get_id(d, root, "anon_secret", 0, &f->anon_secret);
    if (!rc)
        rc = pl_json_get_object(d, root, "limits", 0, &limits);
    if (rc || !limits)
        return rc;
    d->where = "limits.";
    rc = pl_json_get_integral(d, limits, "max_frame", 1, UINT32_MAX, &max_frame);
    if (!rc)
        rc = pl_json_get_integral(d, limits, "max_text", 1, UINT32_MAX, &max_text);
    f->max_frame = (uint32_t)max_frame;
    f->max_text = (uint32_t)max_text;
    return rc;
}

static int decode_conv_ack(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_get_id(d, root, "cid", 1, &f->cid);
    return rc ? rc : pl_json_get_id(d, root, "conv", 1, &f->conv);
}

static int decode_msg_ack(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = decode_conv_ack(d, root, f);
    if (!rc)
        rc = pl_json_get_id(d, root, "id", 1, &f->id);
    return rc ? rc : pl_json_get_seq(d, root, &f->seq);
}

static int decode_author(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    static const char *const kinds[] = {"user", "bot", "agent", "system"};
    const cJSON *author = NULL;
    int kind = 0;
    int rc = pl_json_get_object(d, root, "author", 1, &author);
    if (rc)
        return rc;
    d->where = "author.";
    rc = pl_json_get_enum(d, author, "kind", kinds, sizeof kinds / sizeof *kinds, &kind);
    f->author_kind = (pl_author_kind)kind;
    if (!rc)
        rc = pl_json_get_string(d, author, "name", 0, &f->author_name);
    d->where = "";
    return rc;
}

/* Any integral ms value a double holds exactly. */
#define TS_LIMIT 9007199254740991.0

static int decode_msg(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_get_id(d, root, "conv", 1, &f->conv);
    if (!rc)
        rc = pl_json_get_id(d, root, "id", 1, &f->id);
    if (!rc)
        rc = pl_json_get_seq(d, root, &f->seq);
    if (!rc)
        rc = decode_author(d, root, f);
    if (!rc)
        rc = pl_json_get_string(d, root, "text", 1, &f->text);
    return rc ? rc : pl_json_get_integral(d, root, "ts", -TS_LIMIT, TS_LIMIT, &f->ts);
}

static int decode_conv_update(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    static const char *const states[] = {"bot", "agent", "queued", "closed", "open"};
    const cJSON *agent = NULL;
    int state = 0;
    int rc = pl_json_get_id(d, root, "conv", 1, &f->conv);
    if (!rc)
        rc = pl_json_get_enum(d, root, "state", states, sizeof states / sizeof *states, &state);
    f->conv_state = (pl_conv_state)state;
    if (!rc)
        rc = pl_json_get_object(d, root, "agent", 0, &agent);
    if (rc || !agent)
        return rc;
    d->where = "agent.";
    return pl_json_get_string(d, agent, "name", 0, &f->author_name);
}

static int decode_error(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_get_string(d, root, "code", 1, &f->code);
    if (!rc && f->code[0] == '\0')
        rc = pl_json_bad_member(d, "code");
    if (!rc)
        rc = pl_json_get_string(d, root, "message", 0, &f->message);
    if (!rc)
        rc = pl_json_get_id(d, root, "req", 0, &f->req);
    return rc ? rc : pl_json_get_id(d, root, "cid", 0, &f->cid);
}

static int decode_ack(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    return pl_json_get_id(d, root, "cid", 1, &f->cid);
}

#define RECONNECT_MAX_MS 3600000

static int decode_goaway(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    const cJSON *v = pl_json_member(root, "reconnect_ms");
    if (v) {
        /* Clamped, not rejected: a server asking for "later" is still
         * obeyed as far as we allow. The negated test also catches NaN. */
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
            return pl_json_bad_member(d, "reconnect_ms");
        double ms = v->valuedouble;
        f->reconnect_ms = ms >= RECONNECT_MAX_MS ? RECONNECT_MAX_MS : (uint32_t)ms;
    }
    return pl_json_get_string(d, root, "reason", 0, &f->message);
}

static int decode_history_end(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_get_id(d, root, "conv", 1, &f->conv);
    if (!rc)
        rc = get_last(d, root, &f->seq);
    if (rc)
        return rc;
    const cJSON *more = pl_json_member(root, "more");
    if (more && !cJSON_IsBool(more))
        return pl_json_bad_member(d, "more");
    f->more = more && cJSON_IsTrue(more);
    return PARLEY_OK;
}

typedef int (*decode_fn)(pl_json_dec *, const cJSON *, pl_frame *);

static const struct {
    const char *name;
    pl_frame_type type;
    decode_fn fn;
} frame_types[] = {
    {"welcome", PL_FRAME_WELCOME, decode_welcome},
    {"conv.ack", PL_FRAME_CONV_ACK, decode_conv_ack},
    {"msg.ack", PL_FRAME_MSG_ACK, decode_msg_ack},
    {"msg", PL_FRAME_MSG, decode_msg},
    {"conv.update", PL_FRAME_CONV_UPDATE, decode_conv_update},
    {"error", PL_FRAME_ERROR, decode_error},
    {"goaway", PL_FRAME_GOAWAY, decode_goaway},
    {"history.end", PL_FRAME_HISTORY_END, decode_history_end},
    {"ack", PL_FRAME_ACK, decode_ack},
};

static int decode_root(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    if (!cJSON_IsObject(root))
        return pl_json_bad(d, "frame is not an object");
    const cJSON *t = pl_json_member(root, "t");
    if (!t || !cJSON_IsString(t))
        return pl_json_bad_member(d, "t");
    size_t n = strlen(t->valuestring);
    if (n == 0 || n > PL_MAX_TYPE)
        return pl_json_bad_member(d, "t");
    memcpy(f->type_name, t->valuestring, n + 1);
    f->type = PL_FRAME_UNKNOWN;
    for (size_t i = 0; i < sizeof frame_types / sizeof *frame_types; i++)
        if (strcmp(frame_types[i].name, f->type_name) == 0) {
            f->type = frame_types[i].type;
            return frame_types[i].fn(d, root, f);
        }
    return PARLEY_OK;
}

int pl_proto_decode(const pl_alloc *a, const char *buf, size_t len, pl_frame *out, char *err, size_t err_size)
{
    pl_json_dec d = {a, err, err_size, ""};
    memset(out, 0, sizeof *out);
    if (err && err_size)
        err[0] = '\0';
    if (len > PL_MAX_FRAME)
        return pl_json_bad(&d, "frame exceeds %d bytes", PL_MAX_FRAME);
    if (!buf) {
        if (len)
            return pl_json_bad(&d, "no buffer");
        buf = "";
    }
    if (!pl_utf8_valid(buf, len))
        return pl_json_bad(&d, "invalid UTF-8");
    jscan s;
    const char *doc_end;
    if (!scan_document(&s, buf, len, &doc_end))
        return pl_json_bad(&d, "%s", s.why);
    /* Never cJSON_GetErrorPtr(): it reads a process-global. The scan has
     * proven the text well-formed, so a NULL here is cJSON out of memory. */
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(buf, len, &end, 0);
    if (!root)
        return PARLEY_ERR_NOMEM;
    int rc = end == doc_end ? check_tree(&d, root) : pl_json_bad(&d, "invalid JSON");
    if (!rc)
        rc = decode_root(&d, root, out);
    if (rc) {
        cJSON_Delete(root);
        pl_proto_frame_clear(a, out);
        return rc;
    }
    out->doc = root;
    return PARLEY_OK;
}

void pl_proto_frame_clear(const pl_alloc *a, pl_frame *f)
{
    if (!f)
        return;
    pl_free(a, f->session);
    pl_free(a, f->anon_secret);
    pl_free(a, f->cid);
    pl_free(a, f->conv);
    pl_free(a, f->id);
    pl_free(a, f->author_name);
    pl_free(a, f->text);
    pl_free(a, f->code);
    pl_free(a, f->message);
    pl_free(a, f->req);
    cJSON_Delete((cJSON *)f->doc);
    memset(f, 0, sizeof *f);
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

static int add_sdk(cJSON *root, const pl_hello *h)
{
    cJSON *sdk = cJSON_AddObjectToObject(root, "sdk");
    return sdk && pl_json_add_str(sdk, "name", "parley-c") && pl_json_add_str(sdk, "version", h->sdk_version) &&
           pl_json_add_str(sdk, "platform", h->platform);
}

static int add_user(cJSON *root, const pl_hello *h)
{
    cJSON *user = cJSON_AddObjectToObject(root, "user");
    if (!user)
        return 0;
    if (!h->user_id)
        return pl_json_add_str(user, "anon", h->anon_id);
    /* The anonymous id lets the server merge what the user did before
     * logging in; the proof (the secret the server issued to it) is what
     * allows the merge. */
    return pl_json_add_str(user, "id", h->user_id) && pl_json_add_opt_str(user, "token", h->token) &&
           pl_json_add_opt_str(user, "anon", h->anon_id) &&
           pl_json_add_opt_str(user, "proof", h->anon_id ? h->anon_proof : NULL);
}

static int add_resume(cJSON *root, const pl_hello *h)
{
    if (!h->session && h->n_cursors == 0)
        return 1;
    cJSON *resume = cJSON_AddObjectToObject(root, "resume");
    if (!resume || !pl_json_add_opt_str(resume, "session", h->session))
        return 0;
    if (h->n_cursors == 0)
        return 1;
    cJSON *cursors = cJSON_AddObjectToObject(resume, "cursors");
    if (!cursors)
        return 0;
    for (size_t i = 0; i < h->n_cursors; i++) {
        char seq[21];
        pl_proto_seq_str(h->cursors[i].seq, seq);
        cJSON_DeleteItemFromObjectCaseSensitive(cursors, h->cursors[i].conv);
        if (!pl_json_add_str(cursors, h->cursors[i].conv, seq))
            return 0;
    }
    return 1;
}

static int hello_ok(const pl_hello *h)
{
    if (!h->app || !h->sdk_version || !h->platform || (!h->user_id && !h->anon_id))
        return 0;
    if (h->n_cursors && !h->cursors)
        return 0;
    for (size_t i = 0; i < h->n_cursors; i++)
        if (!h->cursors[i].conv)
            return 0;
    return 1;
}

int pl_proto_encode_hello(const pl_alloc *a, const pl_hello *h, char **out, size_t *out_len)
{
    if (!h || !out || !hello_ok(h))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("hello");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = cJSON_AddNumberToObject(root, "v", 1) && pl_json_add_str(root, "app", h->app) && add_sdk(root, h) &&
             add_user(root, h) && add_resume(root, h);
    return pl_json_finish(a, root, ok, out, out_len);
}

/* "context": the snapshot text, already encoded by pl_proto_encode_snapshot. */
static int add_snapshot(cJSON *obj, const char *context)
{
    return !context || cJSON_AddRawToObject(obj, "context", context) != NULL;
}

int pl_proto_encode_conv_start(const pl_alloc *a, const char *cid, const char *conv, const char *subject,
                            const char *context, char **out, size_t *out_len)
{
    if (!cid || !conv || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("conv.start");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "conv", conv) && pl_json_add_opt_str(root, "subject", subject) &&
             add_snapshot(root, context);
    return pl_json_finish(a, root, ok, out, out_len);
}

static int add_postback(cJSON *root, const pl_postback *pb)
{
    if (!pb)
        return 1;
    cJSON *o = cJSON_AddObjectToObject(root, "postback");
    return o && pl_json_add_str(o, "msg", pb->msg) && pl_json_add_str(o, "option", pb->option) &&
           pl_json_add_opt_str(o, "payload", pb->payload);
}

int pl_proto_encode_msg_send(const pl_alloc *a, const char *cid, const char *conv, const char *text,
                          const char *context, const pl_postback *pb, char **out, size_t *out_len)
{
    if (!cid || !conv || !text || !out || (pb && (!pb->msg || !pb->option)))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("msg.send");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "conv", conv) && pl_json_add_str(root, "text", text) &&
             add_postback(root, pb) && add_snapshot(root, context);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_history_get(const pl_alloc *a, const char *conv, uint64_t after, uint32_t limit, char **out,
                             size_t *out_len)
{
    if (!conv || !out || after > PL_SEQ_MAX || limit > PL_MAX_HISTORY_LIMIT)
        return PARLEY_ERR_INVALID_ARG;
    char seq[21];
    pl_proto_seq_str(after, seq);
    cJSON *root = pl_json_new_frame("history.get");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "conv", conv) && pl_json_add_str(root, "after", seq) &&
             (!limit || cJSON_AddNumberToObject(root, "limit", limit));
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_bye(const pl_alloc *a, char **out, size_t *out_len)
{
    if (!out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("bye");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(a, root, 1, out, out_len);
}

int pl_proto_frame_without(const pl_alloc *a, const char *frame, size_t len, const char *key, char **out,
                        size_t *out_len)
{
    if (!frame || !key || !out)
        return PARLEY_ERR_INVALID_ARG;
    /* Our frames are valid JSON (the journal checksums them), so a failed
     * parse is taken as out of memory. */
    cJSON *root = cJSON_ParseWithLength(frame, len);
    if (!cJSON_IsObject(root)) {
        int rc = root ? PARLEY_ERR_INVALID_ARG : PARLEY_ERR_NOMEM;
        cJSON_Delete(root);
        return rc;
    }
    cJSON *member = cJSON_DetachItemFromObjectCaseSensitive(root, key);
    if (!member) {
        cJSON_Delete(root);
        return PARLEY_ERR_NOT_FOUND;
    }
    cJSON_Delete(member);
    return pl_json_finish(a, root, 1, out, out_len);
}

static int depth_of(const cJSON *node)
{
    int deepest = 0;
    for (const cJSON *c = node->child; c; c = c->next) {
        int d = c->child || cJSON_IsObject(c) || cJSON_IsArray(c) ? depth_of(c) : 0;
        if (d > deepest)
            deepest = d;
    }
    return deepest + 1;
}

int pl_proto_json_object(const pl_alloc *a, const char *text, size_t max_len, int max_depth, char **canon)
{
    if (!text || !canon)
        return PARLEY_ERR_INVALID_ARG;
    size_t len = strnlen(text, max_len + 1);
    if (len > max_len)
        return PARLEY_ERR_TOO_LONG;
    jscan s;
    const char *doc_end;
    if (!pl_utf8_valid(text, len) || !scan_document(&s, text, len, &doc_end))
        return PARLEY_ERR_INVALID_ARG;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!root)
        return PARLEY_ERR_NOMEM;
    pl_json_dec d = {a, NULL, 0, ""};
    int rc = end != doc_end || !cJSON_IsObject(root) ? PARLEY_ERR_PROTOCOL : check_tree(&d, root);
    if (rc == PARLEY_OK && depth_of(root) > max_depth)
        rc = PARLEY_ERR_PROTOCOL;
    if (rc != PARLEY_OK) {
        cJSON_Delete(root);
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_INVALID_ARG;
    }
    return pl_json_finish(a, root, 1, canon, NULL);
}

void pl_proto_seq_str(uint64_t seq, char buf[21])
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}
