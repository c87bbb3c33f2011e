#include "tz.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_TRANS 20000
#define MAX_TYPES 256
#define MAX_CHARS 256
#define MAX_ABBR 16
/* RFC 8536: offsets of local time types lie in [-89999, 93599]. */
#define MIN_OFF (-89999)
#define MAX_OFF 93599
#define HDR 44

typedef struct rule {
    char kind; /* 'J': Jn, 'n': n, 'M': Mm.w.d */
    int n, m, w, d;
    int32_t time; /* seconds after local midnight (may exceed a day) */
} rule;

/* The POSIX TZ string of the footer. */
typedef struct posix {
    char std_abbr[MAX_ABBR], dst_abbr[MAX_ABBR];
    int32_t std_off, dst_off; /* east positive */
    int has_dst;
    rule start, end;
} posix;

struct tz {
    int64_t *trans;
    unsigned char *idx;
    size_t ntrans;
    int32_t off[MAX_TYPES];
    char abbr[MAX_TYPES][MAX_ABBR];
    size_t ntypes;
    int has_posix;
    posix px;
};

/* ---- calendar ---- */

int64_t tz_floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && ((a < 0) != (b < 0))) ? q - 1 : q;
}

/* Howard Hinnant's days_from_civil / civil_from_days. */
int64_t tz_days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;

    y -= m <= 2;
    era = tz_floor_div(y, 400);
    yoe = y - era * 400;
    doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

void tz_civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
    int64_t era, doe, yoe, doy, mp;

    z += 719468;
    era = tz_floor_div(z, 146097);
    doe = z - era * 146097;
    yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    mp = (5 * doy + 2) / 153;
    *d = (int)(doy - (153 * mp + 2) / 5 + 1);
    *m = (int)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

int tz_weekday(int64_t days)
{
    /* 1970-01-01 was a Thursday. */
    return (int)(((days + 3) % 7 + 7) % 7);
}

static int is_leap(int64_t y)
{
    return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int month_days(int64_t y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};

    return m == 2 && is_leap(y) ? 29 : days[m - 1];
}

/* ---- the POSIX TZ string ---- */

typedef struct cursor {
    const char *s;
} cursor;

static int read_num(cursor *c, int max, int *out)
{
    int v = 0, digits = 0;

    while (*c->s >= '0' && *c->s <= '9' && digits < 4) {
        v = v * 10 + (*c->s++ - '0');
        digits++;
    }
    if (!digits || v > max)
        return -1;
    *out = v;
    return 0;
}

/* [+-]hh[:mm[:ss]] with hh at most max_h; seconds, sign applied. */
static int read_hms(cursor *c, int max_h, int32_t *out)
{
    int sign = 1, h, m = 0, s = 0;

    if (*c->s == '+' || *c->s == '-')
        sign = *c->s++ == '-' ? -1 : 1;
    if (read_num(c, max_h, &h))
        return -1;
    if (*c->s == ':') {
        c->s++;
        if (read_num(c, 59, &m))
            return -1;
        if (*c->s == ':') {
            c->s++;
            if (read_num(c, 59, &s))
                return -1;
        }
    }
    *out = sign * (h * 3600 + m * 60 + s);
    return 0;
}

static int read_abbr(cursor *c, char *out)
{
    size_t n = 0;
    int quoted = *c->s == '<';

    if (quoted)
        c->s++;
    while (n + 1 < MAX_ABBR &&
           ((*c->s >= 'A' && *c->s <= 'Z') || (*c->s >= 'a' && *c->s <= 'z') ||
            (quoted && ((*c->s >= '0' && *c->s <= '9') || *c->s == '+' || *c->s == '-'))))
        out[n++] = *c->s++;
    out[n] = '\0';
    if (quoted && *c->s++ != '>')
        return -1;
    return n >= 3 ? 0 : -1;
}

static int read_rule(cursor *c, rule *r)
{
    memset(r, 0, sizeof *r);
    r->time = 7200;
    if (*c->s == 'J') {
        c->s++;
        r->kind = 'J';
        if (read_num(c, 365, &r->n) || r->n < 1)
            return -1;
    } else if (*c->s == 'M') {
        c->s++;
        r->kind = 'M';
        if (read_num(c, 12, &r->m) || r->m < 1 || *c->s++ != '.' || read_num(c, 5, &r->w) ||
            r->w < 1 || *c->s++ != '.' || read_num(c, 6, &r->d))
            return -1;
    } else {
        r->kind = 'n';
        if (read_num(c, 365, &r->n))
            return -1;
    }
    if (*c->s == '/') {
        c->s++;
        /* RFC 8536 extends the hours of a rule's time to -167 … 167. */
        return read_hms(c, 167, &r->time);
    }
    return 0;
}

static int parse_posix(const char *s, posix *px)
{
    cursor c = {s};
    int32_t v;

    memset(px, 0, sizeof *px);
    if (read_abbr(&c, px->std_abbr) || read_hms(&c, 24, &v))
        return -1;
    px->std_off = -v;
    if (!*c.s)
        return 0;
    if (read_abbr(&c, px->dst_abbr))
        return -1;
    px->has_dst = 1;
    px->dst_off = px->std_off + 3600;
    if (*c.s && *c.s != ',') {
        if (read_hms(&c, 24, &v))
            return -1;
        px->dst_off = -v;
    }
    /* Without rules there is nothing to say when daylight time applies:
     * standard time it is. */
    if (!*c.s) {
        px->has_dst = 0;
        return 0;
    }
    if (*c.s++ != ',' || read_rule(&c, &px->start) || *c.s++ != ',' || read_rule(&c, &px->end))
        return -1;
    return *c.s ? -1 : 0;
}

/* Local seconds since the epoch at which `r` happens in year y. */
static int64_t rule_local(int64_t y, const rule *r)
{
    int64_t first, day;

    if (r->kind == 'J')
        day = tz_days_from_civil(y, 1, 1) + r->n - 1 + (is_leap(y) && r->n >= 60);
    else if (r->kind == 'n')
        day = tz_days_from_civil(y, 1, 1) + r->n;
    else {
        first = tz_days_from_civil(y, r->m, 1);
        /* POSIX counts weekdays from Sunday. */
        day = first + ((r->d - (tz_weekday(first) + 1) % 7) + 7) % 7 + 7 * (r->w - 1);
        while (day - first >= month_days(y, r->m))
            day -= 7;
    }
    return day * 86400 + r->time;
}

static int posix_is_dst(const posix *px, int64_t t)
{
    int64_t y, start, end;
    int m, d;

    if (!px->has_dst)
        return 0;
    tz_civil_from_days(tz_floor_div(t + px->std_off, 86400), &y, &m, &d);
    start = rule_local(y, &px->start) - px->std_off;
    end = rule_local(y, &px->end) - px->dst_off;
    if (start < end)
        return t >= start && t < end;
    return !(t >= end && t < start);
}

/* ---- TZif ---- */

typedef struct hdr {
    uint32_t isut, isstd, leap, time, type, chars;
} hdr;

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static int64_t be64(const unsigned char *p)
{
    return (int64_t)((uint64_t)be32(p) << 32 | be32(p + 4));
}

static const char *read_hdr(const unsigned char *p, size_t len, hdr *h)
{
    if (len < HDR || memcmp(p, "TZif", 4) != 0)
        return "not a TZif file";
    h->isut = be32(p + 20);
    h->isstd = be32(p + 24);
    h->leap = be32(p + 28);
    h->time = be32(p + 32);
    h->type = be32(p + 36);
    h->chars = be32(p + 40);
    if (h->type < 1 || h->type > MAX_TYPES || h->chars < 1 || h->chars > MAX_CHARS ||
        h->time > MAX_TRANS || h->leap > MAX_TRANS || (h->isut && h->isut != h->type) ||
        (h->isstd && h->isstd != h->type))
        return "TZif header counts out of range";
    return NULL;
}

static uint64_t block_size(const hdr *h, unsigned tsize)
{
    return (uint64_t)h->time * (tsize + 1) + (uint64_t)h->type * 6 + h->chars +
           (uint64_t)h->leap * (tsize + 4) + h->isstd + h->isut;
}

static const char *read_types(tz *z, const hdr *h, const unsigned char *p)
{
    const char *chars = (const char *)p + h->type * 6;

    if (chars[h->chars - 1] != '\0')
        return "TZif abbreviations not terminated";
    for (uint32_t i = 0; i < h->type; i++, p += 6) {
        int32_t off = (int32_t)be32(p);
        if (off < MIN_OFF || off > MAX_OFF || p[4] > 1 || p[5] >= h->chars)
            return "TZif local time type out of range";
        z->off[i] = off;
        snprintf(z->abbr[i], MAX_ABBR, "%s", chars + p[5]);
    }
    z->ntypes = h->type;
    return NULL;
}

static const char *read_block(tz *z, const hdr *h, const unsigned char *p, unsigned tsize)
{
    if (h->time) {
        z->trans = malloc(h->time * sizeof *z->trans);
        z->idx = malloc(h->time);
        if (!z->trans || !z->idx)
            return "out of memory";
    }
    for (uint32_t i = 0; i < h->time; i++) {
        z->trans[i] = tsize == 8 ? be64(p + i * 8) : (int32_t)be32(p + i * 4);
        z->idx[i] = p[h->time * tsize + i];
        if (z->idx[i] >= h->type || (i > 0 && z->trans[i] <= z->trans[i - 1]))
            return "TZif transitions out of order or naming no type";
    }
    z->ntrans = h->time;
    return read_types(z, h, p + (size_t)h->time * (tsize + 1));
}

/* The v2+ data after the v1 block, and the footer after it. */
static const char *read_v2(tz *z, const unsigned char *data, size_t len, size_t at)
{
    hdr h;
    const char *why = read_hdr(data + at, len - at, &h);
    uint64_t size;
    const unsigned char *foot, *nl;
    char buf[128];

    if (why)
        return why;
    size = block_size(&h, 8);
    if (size > len - at - HDR)
        return "TZif file truncated";
    if ((why = read_block(z, &h, data + at + HDR, 8)) != NULL)
        return why;
    foot = data + at + HDR + size;
    if (foot >= data + len || *foot != '\n')
        return "TZif footer missing";
    nl = memchr(foot + 1, '\n', (size_t)(data + len - foot - 1));
    if (!nl || (size_t)(nl - foot - 1) >= sizeof buf)
        return "TZif footer not terminated";
    memcpy(buf, foot + 1, (size_t)(nl - foot - 1));
    buf[nl - foot - 1] = '\0';
    if (!buf[0])
        return NULL;
    if (parse_posix(buf, &z->px))
        return "TZif footer is not a POSIX TZ string";
    z->has_posix = 1;
    return NULL;
}

tz *tz_parse(const unsigned char *data, size_t len, char *why, size_t cap)
{
    tz *z = calloc(1, sizeof *z);
    hdr h;
    uint64_t size = 0;
    const char *err = z ? read_hdr(data, len, &h) : "out of memory";

    if (!err) {
        size = block_size(&h, 4);
        if (size > len - HDR)
            err = "TZif file truncated";
    }
    if (!err && data[4] >= '2')
        err = read_v2(z, data, len, HDR + (size_t)size);
    else if (!err)
        err = read_block(z, &h, data + HDR, 4);
    if (err) {
        snprintf(why, cap, "%s", err);
        tz_free(z);
        return NULL;
    }
    return z;
}

static int name_ok(const char *name)
{
    size_t len = strlen(name), part = 0;

    if (len < 1 || len > TZ_MAX_NAME || name[0] == '/')
        return 0;
    for (size_t i = 0; i <= len; i++) {
        char ch = name[i];
        if (ch == '/' || ch == '\0') {
            if (part == 0 || (part == 1 && name[i - 1] == '.') ||
                (part == 2 && name[i - 1] == '.' && name[i - 2] == '.'))
                return 0;
            part = 0;
        } else if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9') || strchr("_+-.", ch))
            part++;
        else
            return 0;
    }
    return 1;
}

static tz *utc_zone(void)
{
    tz *z = calloc(1, sizeof *z);

    if (z) {
        z->ntypes = 1;
        snprintf(z->abbr[0], MAX_ABBR, "UTC");
    }
    return z;
}

static unsigned char *read_zone_file(const char *path, size_t *len, const char **err)
{
    FILE *fp = fopen(path, "rb");
    unsigned char *buf = fp ? malloc(TZ_MAX_FILE + 1) : NULL;

    *err = fp ? "out of memory" : strerror(errno);
    *len = buf ? fread(buf, 1, TZ_MAX_FILE + 1, fp) : 0;
    if (fp && buf && ferror(fp))
        *err = "cannot read the file";
    else if (buf && *len > TZ_MAX_FILE)
        *err = "file larger than 256 KB";
    else if (buf) {
        fclose(fp);
        return buf;
    }
    if (fp)
        fclose(fp);
    free(buf);
    return NULL;
}

tz *tz_load(const char *name, const char *dir, char *why, size_t cap)
{
    char path[512], inner[160];
    const char *err;
    unsigned char *data;
    size_t len;
    tz *z;

    if (!name_ok(name)) {
        snprintf(why, cap, "not a time zone name");
        return NULL;
    }
    if (strcmp(name, "UTC") == 0)
        return utc_zone();
    if (!dir)
        dir = getenv("TZDIR");
    if (!dir || !dir[0])
        dir = "/usr/share/zoneinfo";
    snprintf(path, sizeof path, "%s/%s", dir, name);
    data = read_zone_file(path, &len, &err);
    if (!data) {
        snprintf(why, cap, "unknown time zone (%s: %s)", path, err);
        return NULL;
    }
    z = tz_parse(data, len, inner, sizeof inner);
    free(data);
    if (!z)
        snprintf(why, cap, "%s: %s", path, inner);
    return z;
}

void tz_free(tz *z)
{
    if (!z)
        return;
    free(z->trans);
    free(z->idx);
    free(z);
}

static int32_t posix_offset(const tz *z, int64_t t, const char **abbr)
{
    int dst = posix_is_dst(&z->px, t);

    if (abbr)
        *abbr = dst ? z->px.dst_abbr : z->px.std_abbr;
    return dst ? z->px.dst_off : z->px.std_off;
}

int32_t tz_offset(const tz *z, int64_t t, const char **abbr)
{
    size_t lo = 0, hi = z->ntrans, type = 0;

    if (z->has_posix && (z->ntrans == 0 || t >= z->trans[z->ntrans - 1]))
        return posix_offset(z, t, abbr);
    if (z->ntrans && t >= z->trans[0]) {
        /* The last transition at or before t. */
        while (hi - lo > 1) {
            size_t mid = lo + (hi - lo) / 2;
            if (z->trans[mid] <= t)
                lo = mid;
            else
                hi = mid;
        }
        type = z->idx[lo];
    }
    if (abbr)
        *abbr = z->abbr[type];
    return z->off[type];
}

int64_t tz_to_utc(const tz *z, int64_t local)
{
    /* The offsets in force a day before and a day after: a local time is
     * valid under one of them, both (it happens twice), or neither (a
     * change skips it). */
    int32_t before = tz_offset(z, local - 86400, NULL), after = tz_offset(z, local + 86400, NULL);
    int64_t ua = local - before, ub = local - after;
    int va = tz_offset(z, ua, NULL) == before, vb = tz_offset(z, ub, NULL) == after;

    if (va && vb)
        return ua < ub ? ua : ub;
    if (vb)
        return ub;
    return ua;
}
