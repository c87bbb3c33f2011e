/* Codec for surveys (docs/protocol.md, "survey", "survey.submit",
 * "survey.dismiss"): the survey frame into the model, validated as a
 * whole; answers as the wire writes them, out and back (the journal keeps
 * them in the same form). */
#ifndef PARLEY_PROTO_SURVEYS_H
#define PARLEY_PROTO_SURVEYS_H

#include <stddef.h>

#include "codec/proto_frames.h"
#include "model/survey.h"
#include "util/alloc.h"

/* A `survey` frame (f->doc) validated as a whole into a new model (one
 * reference). PARLEY_ERR_PROTOCOL with the reason (naming the survey and
 * the rule) in err; NOMEM. */
int pl_proto_decode_survey(const pl_alloc *a, const pl_frame *f, parley_survey **out, char *err,
                           size_t err_size);

/* The answers object ({"q1":4,"q3":"fast",...}) of every answer with `set`
 * (one per question of s). */
int pl_proto_encode_survey_answers(const pl_alloc *a, const parley_survey *s,
                                   const pl_survey_answer *ans, char **out, size_t *out_len);
/* Fills ans (zeroed by the caller, one per question) from an answers object
 * text; entries that do not fit the model are skipped. NOMEM only. */
int pl_proto_decode_survey_answers(const pl_alloc *a, const parley_survey *s, const char *json,
                                   size_t len, pl_survey_answer *ans);
/* `answers` is an object text from pl_proto_encode_survey_answers. */
int pl_proto_encode_survey_submit(const pl_alloc *a, const char *cid, const char *survey,
                                  const char *answers, char **out, size_t *out_len);
int pl_proto_encode_survey_dismiss(const pl_alloc *a, const char *cid, const char *survey,
                                   char **out, size_t *out_len);

#endif
