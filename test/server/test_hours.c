/* Time zones (tz.c), office hours (hours.c) and the wait estimate
 * (waitest.c): pure modules, checked at fixed instants. The TZif reader is
 * also compared with the C library's own reading of the same files (TZ
 * switched in this test process only, which is the very thing tz.c avoids
 * in the server). */
#define _DEFAULT_SOURCE
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hours.h"
#include "testlib.h"
#include "tz.h"
#include "waitest.h"

#define H 3600
#define ZONEINFO "/usr/share/zoneinfo"

/* 2025-03-30 (a Sunday): Europe/Berlin goes from CET to CEST at 01:00 UTC. */
#define BERLIN_SPRING_UTC INT64_C(1743296400)
/* 2025-10-26: back to CET at 01:00 UTC. */
#define BERLIN_FALL_UTC INT64_C(1761440400)

static int have_zoneinfo(void)
{
    char why[200];
    tz *z = tz_load("Europe/Berlin", ZONEINFO, why, sizeof why);

    tz_free(z);
    return z != NULL;
}

static tz *zone(const char *name)
{
    char why[256];
    tz *z = tz_load(name, ZONEINFO, why, sizeof why);

    if (!z)
        fprintf(stderr, "  %s: %s\n", name, why);
    CHECK(z != NULL);
    return z;
}

static int64_t utc(int y, int m, int d, int hh, int mm)
{
    return tz_days_from_civil(y, m, d) * 86400 + hh * H + mm * 60;
}

static void test_calendar(void)
{
    int64_t y;
    int m, d;

    CHECK_INT(tz_days_from_civil(1970, 1, 1), 0);
    CHECK_INT(tz_days_from_civil(2000, 3, 1), 11017);
    CHECK_INT(tz_weekday(0), 3); /* Thursday */
    CHECK_INT(tz_weekday(tz_days_from_civil(2025, 12, 29)), 0);
    CHECK_INT(tz_weekday(-1), 2);
    tz_civil_from_days(tz_days_from_civil(2024, 2, 29), &y, &m, &d);
    CHECK(y == 2024 && m == 2 && d == 29);
    tz_civil_from_days(-719468, &y, &m, &d);
    CHECK(y == 0 && m == 3 && d == 1);
    CHECK_INT(tz_floor_div(-1, 86400), -1);
    CHECK_INT(tz_floor_div(86400, 86400), 1);
}

static void test_offsets(void)
{
    tz *berlin = zone("Europe/Berlin"), *kolkata = zone("Asia/Kolkata"), *utcz = zone("UTC");
    tz *lord_howe = zone("Australia/Lord_Howe");
    const char *abbr = NULL;

    if (!berlin || !kolkata || !utcz || !lord_howe)
        goto out;
    CHECK_INT(tz_offset(berlin, BERLIN_SPRING_UTC - 1, &abbr), H);
    CHECK_STR(abbr, "CET");
    CHECK_INT(tz_offset(berlin, BERLIN_SPRING_UTC, &abbr), 2 * H);
    CHECK_STR(abbr, "CEST");
    CHECK_INT(tz_offset(berlin, BERLIN_FALL_UTC - 1, NULL), 2 * H);
    CHECK_INT(tz_offset(berlin, BERLIN_FALL_UTC, NULL), H);
    /* Far past the file's transitions: the footer's rule decides. */
    CHECK_INT(tz_offset(berlin, utc(2300, 7, 1, 12, 0), &abbr), 2 * H);
    CHECK_STR(abbr, "CEST");
    CHECK_INT(tz_offset(berlin, utc(2300, 1, 1, 12, 0), NULL), H);
    CHECK_INT(tz_offset(kolkata, utc(2025, 6, 1, 0, 0), &abbr), 5 * H + 1800);
    CHECK_STR(abbr, "IST");
    CHECK_INT(tz_offset(utcz, utc(2025, 6, 1, 0, 0), &abbr), 0);
    CHECK_STR(abbr, "UTC");
    /* Half an hour of daylight saving, in the southern summer. */
    CHECK_INT(tz_offset(lord_howe, utc(2026, 1, 15, 0, 0), NULL), 11 * H);
    CHECK_INT(tz_offset(lord_howe, utc(2026, 7, 15, 0, 0), NULL), 10 * H + 1800);
out:
    tz_free(berlin);
    tz_free(kolkata);
    tz_free(utcz);
    tz_free(lord_howe);
}

/* Local → UTC across both changes: a skipped time lands as far after the
 * change as it was into the gap; a repeated time gives its first instant. */
static void test_to_utc(void)
{
    tz *berlin = zone("Europe/Berlin");
    int64_t spring_local = tz_days_from_civil(2025, 3, 30) * 86400;
    int64_t fall_local = tz_days_from_civil(2025, 10, 26) * 86400;

    if (!berlin)
        return;
    CHECK_INT(tz_to_utc(berlin, spring_local + 1 * H + 30 * 60), BERLIN_SPRING_UTC - 30 * 60);
    CHECK_INT(tz_to_utc(berlin, spring_local + 2 * H + 30 * 60), BERLIN_SPRING_UTC + 30 * 60);
    CHECK_INT(tz_to_utc(berlin, spring_local + 3 * H), BERLIN_SPRING_UTC);
    CHECK_INT(tz_to_utc(berlin, fall_local + 2 * H + 30 * 60), BERLIN_FALL_UTC - 30 * 60);
    CHECK_INT(tz_to_utc(berlin, fall_local + 3 * H + 30 * 60), BERLIN_FALL_UTC + 90 * 60);
    tz_free(berlin);
}

/* Every 19 h 1 min from 1906 to 2103, in zones with unusual rules: our
 * reading of the files must agree with glibc's. */
static void test_against_libc(void)
{
    static const char *const zones[] = {
        "Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Sao_Paulo",
        "Asia/Kolkata",  "Pacific/Apia",     "Africa/Casablanca",   "America/Santiago",
        "Europe/Dublin", "Antarctica/Troll", "Pacific/Chatham",     "Asia/Tehran"};
    long mismatches = 0, checked = 0;

    for (size_t i = 0; i < sizeof zones / sizeof zones[0]; i++) {
        tz *z = zone(zones[i]);
        if (!z)
            continue;
        setenv("TZ", zones[i], 1);
        tzset();
        for (int64_t t = -2000000000; t < INT64_C(4200000000); t += 19 * H + 61) {
            time_t tt = (time_t)t;
            struct tm tm;
            int32_t off = tz_offset(z, t, NULL);
            localtime_r(&tt, &tm);
            checked++;
            if (off != tm.tm_gmtoff && mismatches++ < 5)
                fprintf(stderr, "  %s at %lld: %d, libc %ld\n", zones[i], (long long)t, off,
                        tm.tm_gmtoff);
            if (tz_offset(z, tz_to_utc(z, t + off), NULL) + tz_to_utc(z, t + off) != t + off)
                mismatches++;
        }
        tz_free(z);
    }
    unsetenv("TZ");
    tzset();
    CHECK(checked > 800000);
    CHECK_INT(mismatches, 0);
}

static void test_bad_zones(void)
{
    static const char *const names[] = {"",
                                        "../etc/passwd",
                                        "/etc/localtime",
                                        "Europe/../../x",
                                        "Europe//Berlin",
                                        "Mars/Olympus",
                                        "Europe/Berlin\n",
                                        "a b"};
    static const unsigned char not_tzif[] = "TZxf2 nope";
    unsigned char buf[4096];
    char why[256];
    FILE *fp = fopen(ZONEINFO "/Europe/Berlin", "rb");
    size_t len = fp ? fread(buf, 1, sizeof buf, fp) : 0;

    if (fp)
        fclose(fp);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        why[0] = '\0';
        CHECK(tz_load(names[i], ZONEINFO, why, sizeof why) == NULL);
        CHECK(why[0] != '\0');
    }
    CHECK(tz_load("../x", ZONEINFO, why, sizeof why) == NULL);
    CHECK_STR(why, "not a time zone name");
    CHECK(tz_parse(not_tzif, sizeof not_tzif, why, sizeof why) == NULL);
    CHECK_STR(why, "not a TZif file");
    /* Every truncation of a real file is refused, none crashes. */
    CHECK(len > 1000);
    for (size_t cut = 0; cut + 1 < len; cut++) {
        tz *z = tz_parse(buf, cut, why, sizeof why);
        CHECK(z == NULL || cut > len - 40);
        tz_free(z);
    }
}

static hours *make_hours(const char *zone_name, const char *spec, const char *closed)
{
    cJSON *s = spec ? cJSON_Parse(spec) : NULL, *c = closed ? cJSON_Parse(closed) : NULL;
    jerr err;
    hours *h = hours_new(s, c, zone(zone_name), &err);

    if (!h)
        fprintf(stderr, "  hours: %s\n", err.msg);
    cJSON_Delete(s);
    cJSON_Delete(c);
    return h;
}

static void test_open(void)
{
    /* Berlin, weekdays 08:00-12:30 and 13:30-20:00, Saturday into the
     * night, closed on Christmas day. */
    hours *h = make_hours("Europe/Berlin",
                          "{\"mon-fri\":[\"13:30-20:00\",\"08:00-12:30\"],\"sat\":\"22:00-02:00\"}",
                          "[\"2025-12-25\"]");
    int64_t ms;

    if (!h)
        return;
    /* Mon 2025-12-29 07:59 CET is 06:59 UTC. */
    ms = utc(2025, 12, 29, 6, 59) * 1000;
    CHECK(!hours_open(h, ms));
    CHECK_INT(hours_next_open(h, ms), utc(2025, 12, 29, 7, 0) * 1000);
    CHECK(hours_open(h, utc(2025, 12, 29, 7, 0) * 1000));
    CHECK(!hours_open(h, utc(2025, 12, 29, 11, 45) * 1000)); /* lunch */
    CHECK_INT(hours_next_open(h, utc(2025, 12, 29, 11, 45) * 1000),
              utc(2025, 12, 29, 12, 30) * 1000);
    /* Christmas day (Thu) is closed: from Wed evening the next opening is Fri. */
    CHECK(!hours_open(h, utc(2025, 12, 25, 10, 0) * 1000));
    CHECK_INT(hours_next_open(h, utc(2025, 12, 24, 20, 0) * 1000), utc(2025, 12, 26, 7, 0) * 1000);
    /* Saturday 22:00 into Sunday 02:00. */
    CHECK(hours_open(h, utc(2025, 12, 27, 21, 0) * 1000));
    CHECK(hours_open(h, utc(2025, 12, 28, 0, 59) * 1000));
    CHECK(!hours_open(h, utc(2025, 12, 28, 1, 0) * 1000));
    /* Summer time: 08:00 CEST is 06:00 UTC. */
    CHECK(!hours_open(h, utc(2025, 7, 1, 5, 59) * 1000));
    CHECK(hours_open(h, utc(2025, 7, 1, 6, 0) * 1000));
    hours_free(h);
}

static void test_open_edges(void)
{
    hours *always = make_hours("UTC", NULL, NULL);
    hours *never = make_hours("UTC", "{\"mon-sun\":[]}", NULL);
    hours *full = make_hours("UTC", "{\"fri-mon\":\"00:00-24:00\"}", NULL);
    int64_t wed = utc(2025, 12, 31, 12, 0) * 1000;

    if (!always || !never || !full)
        goto out;
    CHECK(hours_open(always, 0));
    CHECK_INT(hours_next_open(always, 5), 5);
    CHECK(!hours_open(never, wed));
    CHECK_INT(hours_next_open(never, wed), -1);
    CHECK(!hours_open(full, wed));
    CHECK(hours_open(full, utc(2026, 1, 2, 0, 0) * 1000));
    CHECK(hours_open(full, utc(2026, 1, 5, 23, 59) * 1000));
    CHECK_INT(hours_next_open(full, wed), utc(2026, 1, 2, 0, 0) * 1000);
out:
    hours_free(always);
    hours_free(never);
    hours_free(full);
}

static void test_bad_hours(void)
{
    static const struct {
        const char *spec, *closed, *msg;
    } cases[] = {
        {"{}", NULL, "hours must be an object of days"},
        {"[]", NULL, "hours must be an object of days"},
        {"{\"monday\":\"08:00-17:00\"}", NULL, "is not a day"},
        {"{\"mon-xyz\":\"08:00-17:00\"}", NULL, "is not a day"},
        {"{\"mon\":\"8:00-17:00\"}", NULL, "a span must be"},
        {"{\"mon\":\"08:00-24:01\"}", NULL, "a span must be"},
        {"{\"mon\":\"24:00-08:00\"}", NULL, "a span must be"},
        {"{\"mon\":\"08:60-17:00\"}", NULL, "a span must be"},
        {"{\"mon\":17}", NULL, "a day's hours must be"},
        {"{\"mon\":[1]}", NULL, "a span must be"},
        {"{\"mon-fri\":\"08:00-17:00\",\"wed\":[]}", NULL, "wed is named twice"},
        {"{\"mon\":[\"00:00-01:00\",\"01:00-02:00\",\"02:00-03:00\",\"03:00-04:00\",\"04:00-05:"
         "00\","
         "\"05:00-06:00\",\"06:00-07:00\",\"07:00-08:00\",\"08:00-09:00\"]}",
         NULL, "a day's hours must be"},
        {"{\"mon\":[]}", "[\"2025-02-30\"]", "a closed date must be"},
        {"{\"mon\":[]}", "[\"25-12-2025\"]", "a closed date must be"},
        {"{\"mon\":[]}", "\"2025-12-25\"", "closed must be an array"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        cJSON *s = cJSON_Parse(cases[i].spec),
              *c = cases[i].closed ? cJSON_Parse(cases[i].closed) : NULL;
        jerr err;
        hours *h;
        memset(&err, 0, sizeof err);
        h = hours_new(s, c, tz_load("UTC", NULL, err.msg, sizeof err.msg), &err);
        CHECK(h == NULL);
        if (!strstr(err.msg, cases[i].msg)) {
            fprintf(stderr, "  case %zu: \"%s\" lacks \"%s\"\n", i, err.msg, cases[i].msg);
            CHECK(0);
        }
        CHECK(err.at != NULL);
        hours_free(h);
        cJSON_Delete(s);
        cJSON_Delete(c);
    }
}

static void test_format(void)
{
    hours *h = make_hours("Europe/Berlin", "{\"mon\":\"08:00-09:00\"}", NULL);
    char out[64];

    if (!h)
        return;
    hours_format(h, utc(2025, 12, 29, 7, 0) * 1000, out, sizeof out);
    CHECK_STR(out, "Mon 29 Dec 08:00 CET");
    hours_format(h, utc(2025, 7, 7, 6, 5) * 1000, out, sizeof out);
    CHECK_STR(out, "Mon 7 Jul 08:05 CEST");
    hours_format_in(1, out, sizeof out);
    CHECK_STR(out, "in 1 min");
    hours_format_in(45 * 60000, out, sizeof out);
    CHECK_STR(out, "in 45 min");
    hours_format_in((3 * 60 + 20) * 60000, out, sizeof out);
    CHECK_STR(out, "in 3 h 20 min");
    hours_format_in(5 * 3600000, out, sizeof out);
    CHECK_STR(out, "in 5 h");
    hours_format_in(INT64_C(4) * 86400000 + 5, out, sizeof out);
    CHECK_STR(out, "in 4 days");
    hours_free(h);
}

static void test_wait_estimate(void)
{
    waitest *w = waitest_new(2, 4, 300000);

    CHECK(w != NULL);
    if (!w)
        return;
    /* No measurement yet: the default, per round of agents. */
    CHECK_INT(waitest_median_ms(w, 0), 300000);
    CHECK_INT(waitest_wait_s(w, 0, 1, 1), 300);
    CHECK_INT(waitest_wait_s(w, 0, 3, 2), 600);
    CHECK_INT(waitest_wait_s(w, 0, 0, 1), 0);
    waitest_add(w, 0, 60000);
    waitest_add(w, 0, 120000);
    waitest_add(w, 0, 90000);
    CHECK_INT(waitest_median_ms(w, 0), 90000);
    /* One conversation left open over a weekend barely moves it. */
    waitest_add(w, 0, INT64_C(200000000));
    CHECK_INT(waitest_median_ms(w, 0), 105000);
    /* The window moves: the oldest (60 s) falls out. */
    waitest_add(w, 0, 30000);
    CHECK_INT(waitest_median_ms(w, 0), 105000);
    waitest_add(w, 0, 30000);
    waitest_add(w, 0, 30000);
    CHECK_INT(waitest_median_ms(w, 0), 30000);
    CHECK_INT(waitest_wait_s(w, 0, 2, 0), 60);
    /* The other team is untouched; an unknown one is the default. */
    CHECK_INT(waitest_median_ms(w, 1), 300000);
    CHECK_INT(waitest_median_ms(w, 7), 300000);
    waitest_add(w, 7, 1);
    waitest_free(w);
}

int main(void)
{
    RUN(test_calendar);
    RUN(test_wait_estimate);
    RUN(test_bad_hours);
    if (!have_zoneinfo()) {
        fprintf(stderr, "no TZ database in " ZONEINFO " (make deps installs tzdata)\n");
        return tl_finish() || 1;
    }
    RUN(test_offsets);
    RUN(test_to_utc);
    RUN(test_against_libc);
    RUN(test_bad_zones);
    RUN(test_open);
    RUN(test_open_edges);
    RUN(test_format);
    return tl_finish();
}
