#include "hours.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DAY 86400

typedef struct span {
    int32_t start, end; /* seconds after local midnight; end up to 2 days */
} span;

struct hours {
    tz *zone;
    int always;
    span spans[7][HOURS_MAX_SPANS]; /* 0 = Monday, sorted by start */
    int nspans[7];
    int64_t closed[HOURS_MAX_CLOSED]; /* local day numbers, sorted */
    size_t nclosed;
};

static const char *const day_names[7] = {"mon", "tue", "wed", "thu", "fri", "sat", "sun"};

/* ---- reading ---- */

static int day_of(const char *s)
{
    for (int i = 0; i < 7; i++)
        if (strncmp(s, day_names[i], 3) == 0)
            return i;
    return -1;
}

/* "mon" or "mon-fri" (wrapping allowed: "fri-mon"). */
static int read_days(const char *key, int *from, int *to)
{
    size_t len = strlen(key);

    if (len != 3 && !(len == 7 && key[3] == '-'))
        return -1;
    *from = day_of(key);
    *to = len == 3 ? *from : day_of(key + 4);
    return *from < 0 || *to < 0 ? -1 : 0;
}

static int two_digits(const char *s, int max, int *out)
{
    if (s[0] < '0' || s[0] > '9' || s[1] < '0' || s[1] > '9')
        return -1;
    *out = (s[0] - '0') * 10 + (s[1] - '0');
    return *out > max ? -1 : 0;
}

/* "HH:MM" (24:00 allowed when `end`); seconds. */
static int read_clock(const char *s, int end, int32_t *out)
{
    int h, m;

    if (two_digits(s, 24, &h) || s[2] != ':' || two_digits(s + 3, 59, &m))
        return -1;
    if (h == 24 && (m != 0 || !end))
        return -1;
    *out = h * 3600 + m * 60;
    return 0;
}

static int read_span(const cJSON *v, span *sp, jerr *err)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;

    if (!s || strlen(s) != 11 || s[5] != '-' || read_clock(s, 0, &sp->start) ||
        read_clock(s + 6, 1, &sp->end))
        return jerr_set(err, v, "a span must be \"HH:MM-HH:MM\" (00:00 to 24:00)");
    /* An end at or before the start runs past midnight. */
    if (sp->end <= sp->start)
        sp->end += DAY;
    return 0;
}

static int by_start(const void *a, const void *b)
{
    const span *x = a, *y = b;

    return (x->start > y->start) - (x->start < y->start);
}

static int read_day_spans(hours *h, const cJSON *v, int day, jerr *err)
{
    const cJSON *it;
    int n = 0;

    if (cJSON_IsString(v))
        n = read_span(v, &h->spans[day][0], err) ? -1 : 1;
    else if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > HOURS_MAX_SPANS)
        return jerr_set(err, v, "a day's hours must be a span or an array of 0 to %d spans",
                        HOURS_MAX_SPANS);
    else {
        cJSON_ArrayForEach(it, v) {
            if (read_span(it, &h->spans[day][n++], err))
                return -1;
        }
    }
    if (n < 0)
        return -1;
    h->nspans[day] = n;
    qsort(h->spans[day], (size_t)n, sizeof(span), by_start);
    return 0;
}

static int read_week(hours *h, const cJSON *spec, jerr *err)
{
    int named[7] = {0}, from, to, d;
    const cJSON *it;

    if (!cJSON_IsObject(spec) || !spec->child)
        return jerr_set(err, spec,
                        "hours must be an object of days (\"mon\" … \"sun\", "
                        "\"mon-fri\") to spans");
    cJSON_ArrayForEach(it, spec) {
        if (read_days(it->string, &from, &to))
            return jerr_set(err, it, "\"%.16s\" is not a day or a range of days like \"mon-fri\"",
                            it->string);
        for (d = from;; d = (d + 1) % 7) {
            if (named[d]++)
                return jerr_set(err, it, "%s is named twice", day_names[d]);
            if (read_day_spans(h, it, d, err))
                return -1;
            if (d == to)
                break;
        }
    }
    return 0;
}

static int read_date(const cJSON *v, int64_t *day)
{
    const char *s = cJSON_IsString(v) ? v->valuestring : NULL;
    int y1, y2, m, d;

    if (!s || strlen(s) != 10 || s[4] != '-' || s[7] != '-' || two_digits(s, 99, &y1) ||
        two_digits(s + 2, 99, &y2) || two_digits(s + 5, 12, &m) || two_digits(s + 8, 31, &d) ||
        m < 1 || d < 1)
        return -1;
    *day = tz_days_from_civil(y1 * 100 + y2, m, d);
    /* 2025-02-30 would come back as a March day. */
    {
        int64_t yy;
        int mm, dd;
        tz_civil_from_days(*day, &yy, &mm, &dd);
        return mm == m && dd == d ? 0 : -1;
    }
}

static int by_day(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

    return (x > y) - (x < y);
}

static int read_closed(hours *h, const cJSON *closed, jerr *err)
{
    const cJSON *it;

    if (!closed)
        return 0;
    if (!cJSON_IsArray(closed) || cJSON_GetArraySize(closed) > HOURS_MAX_CLOSED)
        return jerr_set(err, closed, "closed must be an array of at most %d dates",
                        HOURS_MAX_CLOSED);
    cJSON_ArrayForEach(it, closed) {
        if (read_date(it, &h->closed[h->nclosed++]))
            return jerr_set(err, it, "a closed date must be a date \"YYYY-MM-DD\"");
    }
    qsort(h->closed, h->nclosed, sizeof h->closed[0], by_day);
    return 0;
}

hours *hours_new(const cJSON *spec, const cJSON *closed, tz *zone, jerr *err)
{
    hours *h = calloc(1, sizeof *h);

    if (!h) {
        tz_free(zone);
        jerr_set(err, spec, "out of memory");
        return NULL;
    }
    h->zone = zone;
    h->always = spec == NULL;
    if ((spec && read_week(h, spec, err)) || read_closed(h, closed, err)) {
        hours_free(h);
        return NULL;
    }
    return h;
}

void hours_free(hours *h)
{
    if (!h)
        return;
    tz_free(h->zone);
    free(h);
}

/* ---- answering ---- */

static int is_closed(const hours *h, int64_t day)
{
    return bsearch(&day, h->closed, h->nclosed, sizeof day, by_day) != NULL;
}

/* 1 when a span of local day `day` covers second `sec` of it (sec may be
 * beyond the day, for the spans that run past midnight). */
static int day_covers(const hours *h, int64_t day, int64_t sec)
{
    int wd = tz_weekday(day);

    if (is_closed(h, day))
        return 0;
    for (int i = 0; i < h->nspans[wd]; i++)
        if (h->spans[wd][i].start <= sec && sec < h->spans[wd][i].end)
            return 1;
    return 0;
}

int hours_open(const hours *h, int64_t now_ms)
{
    int64_t t = tz_floor_div(now_ms, 1000), local, day;

    if (h->always)
        return 1;
    local = t + tz_offset(h->zone, t, NULL);
    day = tz_floor_div(local, DAY);
    return day_covers(h, day, local - day * DAY) || day_covers(h, day - 1, local - (day - 1) * DAY);
}

int64_t hours_next_open(const hours *h, int64_t now_ms)
{
    int64_t t = tz_floor_div(now_ms, 1000), day, u;
    int wd;

    if (hours_open(h, now_ms))
        return now_ms;
    day = tz_floor_div(t + tz_offset(h->zone, t, NULL), DAY);
    for (int64_t d = day - 1; d <= day + HOURS_HORIZON_DAYS; d++) {
        wd = tz_weekday(d);
        if (is_closed(h, d))
            continue;
        for (int i = 0; i < h->nspans[wd]; i++) {
            u = tz_to_utc(h->zone, d * DAY + h->spans[wd][i].start);
            if (u * 1000 >= now_ms)
                return u * 1000;
        }
    }
    return -1;
}

void hours_format(const hours *h, int64_t ms, char *out, size_t cap)
{
    static const char *const wd[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
    static const char *const mon[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
    const char *abbr = "";
    int64_t t = tz_floor_div(ms, 1000), local, day, y;
    int m, d, sec;

    local = t + tz_offset(h->zone, t, &abbr);
    day = tz_floor_div(local, DAY);
    sec = (int)(local - day * DAY);
    tz_civil_from_days(day, &y, &m, &d);
    snprintf(out, cap, "%s %d %s %02d:%02d %s", wd[tz_weekday(day)], d, mon[m - 1], sec / 3600,
             sec / 60 % 60, abbr);
}

void hours_format_in(int64_t ms, char *out, size_t cap)
{
    int64_t min = ms <= 0 ? 1 : (ms + 59999) / 60000;

    if (min < 60)
        snprintf(out, cap, "in %lld min", (long long)min);
    else if (min < 48 * 60 && min % 60)
        snprintf(out, cap, "in %lld h %lld min", (long long)(min / 60), (long long)(min % 60));
    else if (min < 48 * 60)
        snprintf(out, cap, "in %lld h", (long long)(min / 60));
    else
        snprintf(out, cap, "in %lld days", (long long)(min / 1440));
}
