/* The --surveys file and the survey definitions in it: loading, validation
 * (the rules of docs/protocol.md, survey), and checking a user's answers
 * against a definition. Pure functions: no database, no connections. */
#ifndef PARLEY_SERVER_SURVEY_DEF_H
#define PARLEY_SERVER_SURVEY_DEF_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Loads and validates the --surveys file. The parsed file, or NULL with the
 * reason (naming the entry at fault) in why. */
cJSON *survey_def_load(const char *path, char *why, size_t cap);

/* The definition named `name` in the loaded file (may be NULL), or NULL. */
const cJSON *survey_def_find(const cJSON *file, const char *name);

/* The trigger whose "id" is `id`, or NULL. */
const cJSON *survey_def_trigger(const cJSON *file, const char *id);

/* A copy of a (validated) definition holding only what goes on the wire:
 * name, title, intro, questions. NULL when out of memory. */
cJSON *survey_def_wire_copy(const cJSON *def);

/* The first question of `kind` in the definition, or NULL. */
const cJSON *survey_def_first_question(const cJSON *def, const char *kind);

/* NULL when `answers` is a valid submission for the definition `def`, else
 * why not (written into buf). */
const char *survey_def_answers_why(const cJSON *def, const cJSON *answers, char *buf, size_t cap);

#endif
