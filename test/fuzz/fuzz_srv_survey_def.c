/* libFuzzer target: parley-server's survey definitions (survey_def.c, the
 * --surveys file): loading and validation, then, for every definition that
 * loads, the wire copy, the first question of each kind and a user's
 * answers checked against it. The input is the file, optionally followed
 * by a line "%%" and the answers object to check. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_server.h"
#include "json.h"
#include "survey_def.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *find_sep(const char *s, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(s + i, "\n%%\n", 4) == 0)
            return s + i;
    return NULL;
}

static void check_all(const cJSON *file, const cJSON *answers)
{
    static const char *const kinds[] = {"rating", "nps", "single", "multi", "text"};
    const cJSON *def;
    char buf[256];
    cJSON_ArrayForEach(def, cJSON_GetObjectItemCaseSensitive(file, "surveys")) {
        const char *name = pj_string(def, "name");
        if (!name || survey_def_find(file, name) != def)
            continue;
        cJSON_Delete(survey_def_wire_copy(def));
        for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++)
            (void)survey_def_first_question(def, kinds[i]);
        if (answers)
            (void)survey_def_answers_why(def, answers, buf, sizeof buf);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *in = (const char *)data, *sep = find_sep(in, size);
    size_t flen = sep ? (size_t)(sep - in) : size;
    const char *path = fz_server() ? fz_tmp_file("surveys.json", in, flen) : NULL;
    char why[256];
    cJSON *file = path ? survey_def_load(path, why, sizeof why) : NULL;
    cJSON *answers = NULL;
    if (file && sep)
        answers = cJSON_ParseWithLength(sep + 4, size - flen - 4);
    if (file)
        check_all(file, answers);
    else if (path && getenv("PARLEY_FUZZ_TRACE"))
        fprintf(stderr, "surveys refused: %s\n", why);
    cJSON_Delete(answers);
    cJSON_Delete(file);
    return 0;
}
