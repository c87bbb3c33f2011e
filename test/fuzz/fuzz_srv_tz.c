/* libFuzzer target: parley-server's TZif reader (tz.c), versions 1 to 4
 * with the POSIX TZ rule of the footer, then offsets, local-to-UTC
 * conversion and office hours in the zone at instants across the range
 * of 64-bit time. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hours.h"
#include "tz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const int64_t instants[] = {
    INT64_C(-67768040609740800), INT64_C(-2000000000), 0,
    INT64_C(1743296400),         INT64_C(1761440400),  INT64_C(4102444800),
    INT64_C(67767976233316800)};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char why[256];
    tz *z = tz_parse(data, size, why, sizeof why);
    cJSON *spec;
    hours *h;
    jerr err;
    char out[64];

    if (!z) {
        if (getenv("PARLEY_FUZZ_TRACE"))
            fprintf(stderr, "tz refused: %s\n", why);
        return 0;
    }
    for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
        const char *abbr = NULL;
        int32_t off = tz_offset(z, instants[i], &abbr);
        if (!abbr || off < -89999 || off > 93599)
            abort();
        (void)tz_to_utc(z, instants[i] + off);
    }
    spec = cJSON_Parse("{\"mon-fri\":[\"08:00-12:00\",\"22:00-02:00\"],\"sun\":\"00:00-24:00\"}");
    h = hours_new(spec, NULL, z, &err);
    for (size_t i = 2; h && i < 6; i++) {
        int64_t ms = instants[i] * 1000, next = hours_next_open(h, ms);
        if (hours_open(h, ms) && next != ms)
            abort();
        hours_format(h, next >= 0 ? next : ms, out, sizeof out);
    }
    hours_free(h);
    cJSON_Delete(spec);
    return 0;
}
