/* Time zones from the TZ database, read by our own code: a TZif file
 * (RFC 8536, versions 1 to 4) gives the UTC offset at any instant, with the
 * POSIX TZ rule of its footer for instants after its last transition.
 * Why not localtime_r with TZ switched: TZ and tzset() are process-global
 * state, not thread-safe and visible to every other part of the process;
 * a zone loaded once is plain data, and a wrong name is an error at load
 * time rather than a silent fall-back to UTC (docs/routing.md). */
#ifndef PARLEY_SERVER_TZ_H
#define PARLEY_SERVER_TZ_H

#include <stddef.h>
#include <stdint.h>

#define TZ_MAX_NAME 128
#define TZ_MAX_FILE (256 * 1024)

typedef struct tz tz;

/* Parses TZif bytes. NULL with the reason in why[cap]. */
tz *tz_parse(const unsigned char *data, size_t len, char *why, size_t cap);

/* Loads the zone `name` ("Europe/Berlin") from the directory `dir`, or
 * when NULL from $TZDIR, else /usr/share/zoneinfo. "UTC" needs no file.
 * A name must be 1 … 128 bytes of A-Z a-z 0-9 _ + - . / without empty,
 * "." or ".." parts and not start with '/': it never leaves the
 * directory. NULL with the reason in why[cap]. */
tz *tz_load(const char *name, const char *dir, char *why, size_t cap);

void tz_free(tz *z);

/* The UTC offset in seconds (east positive) at `utc_s` (seconds since the
 * epoch); *abbr (may be NULL) receives the zone's abbreviation then
 * ("CET", "+0530"), borrowed from `z`. */
int32_t tz_offset(const tz *z, int64_t utc_s, const char **abbr);

/* The UTC instant of local time `local_s` (seconds since the epoch counted
 * in local time). A local time that happens twice gives the first; one
 * that a change skips gives the instant the same distance after it. */
int64_t tz_to_utc(const tz *z, int64_t local_s);

/* Calendar helpers (proleptic Gregorian, any year). */
int64_t tz_days_from_civil(int64_t y, int m, int d);
void tz_civil_from_days(int64_t days, int64_t *y, int *m, int *d);
/* 0 = Monday … 6 = Sunday. */
int tz_weekday(int64_t days);
/* Floor division, for days of negative instants. */
int64_t tz_floor_div(int64_t a, int64_t b);

#endif
