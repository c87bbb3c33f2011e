/* libFuzzer target: the survey model (lib/model/survey.c, its codec
 * lib/codec/proto_surveys.c and the feature lib/feature/surveys.c).
 * The first line is a `survey` frame; the second an answers object, as the
 * journal keeps a partial response; the rest are session lines
 * (fuzz_session.c), typically the host answering (!N !C !M !T !X !V),
 * submitting (!U), dismissing (!D) and restarting (!r) to replay what was
 * journaled.
 *
 * The decoded model is read through every public accessor. Answers decoded
 * against it must survive a round trip (decode, encode, decode gives the
 * same answers); then the frame goes to a live session and the lines run. */
#include <stdlib.h>
#include <string.h>

#include "codec/proto_surveys.h"
#include "fuzz_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void free_answers(pl_survey_answer *a, size_t n)
{
    for (size_t i = 0; i < n; i++)
        pl_free(pl_alloc_libc(), a[i].text);
    free(a);
}

static int same_answers(const pl_survey_answer *x, const pl_survey_answer *y, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (x[i].set != y[i].set)
            return 0;
        if (x[i].set &&
            (x[i].value != y[i].value || x[i].mask != y[i].mask || !x[i].text != !y[i].text ||
             (x[i].text && strcmp(x[i].text, y[i].text) != 0)))
            return 0;
    }
    return 1;
}

static void round_trip(const parley_survey *s, const char *json, size_t len)
{
    const pl_alloc *a = pl_alloc_libc();
    size_t n = s->n_questions ? s->n_questions : 1;
    pl_survey_answer *first = calloc(n, sizeof *first), *again = calloc(n, sizeof *again);
    char *enc = NULL;
    size_t enc_len = 0;
    if (first && again && pl_proto_decode_survey_answers(a, s, json, len, first) == PARLEY_OK &&
        pl_proto_encode_survey_answers(a, s, first, &enc, &enc_len) == PARLEY_OK &&
        pl_proto_decode_survey_answers(a, s, enc, enc_len, again) == PARLEY_OK &&
        !same_answers(first, again, s->n_questions))
        abort(); /* what the journal keeps must come back as it was */
    pl_free(a, enc);
    free_answers(first, n);
    free_answers(again, n);
}

static void model(const uint8_t *data, size_t size)
{
    const pl_alloc *a = pl_alloc_libc();
    size_t l1 = fz_line_len(data, size);
    const uint8_t *rest = data + l1 + (l1 < size);
    size_t rest_len = size - l1 - (l1 < size);
    size_t l2 = fz_line_len(rest, rest_len);
    char err[160];
    pl_frame f;
    parley_survey *s = NULL;
    if (pl_proto_decode(a, (const char *)data, l1, &f, err, sizeof err) != PARLEY_OK)
        return;
    if (pl_proto_decode_survey(a, &f, &s, err, sizeof err) == PARLEY_OK) {
        parley_event ev = {.type = PARLEY_EV_SURVEY, .survey = s};
        fz_walk_event(&ev);
        round_trip(s, (const char *)rest, l2);
        pl_survey_unref(s);
    }
    pl_proto_frame_clear(a, &f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_world w;
    model(data, size);
    if (fz_open(&w, size) != 0)
        return 0;
    size_t l1 = fz_line_len(data, size);
    fz_line(&w, (const char *)data, l1);
    if (l1 < size) {
        size_t l2 = fz_line_len(data + l1 + 1, size - l1 - 1);
        if (l1 + 1 + l2 < size)
            fz_lines(&w, data + l1 + l2 + 2, size - l1 - l2 - 2);
    }
    fz_close(&w);
    return 0;
}
