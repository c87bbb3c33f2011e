/* Where a member of a parsed JSON document is written in its text, so that
 * a loader's error can name the line. cJSON keeps no positions: the member
 * is found by pointer under the root, and the same path (the n-th member,
 * the n-th element, level by level) is followed through the text with a
 * light scanner. Also the errors loaders pass around: the node at fault
 * and why. */
#ifndef PARLEY_SERVER_JPOS_H
#define PARLEY_SERVER_JPOS_H

#include <stddef.h>

#include <cjson/cJSON.h>

/* Deepest path jpos follows (loaders refuse deeper documents first). */
#define JPOS_MAX_DEPTH 64

/* A loader's error: the node at fault (NULL: the document as a whole) and
 * the reason. */
typedef struct jerr {
    const cJSON *at;
    char msg[256];
} jerr;

/* Sets err (at, printf-style reason); returns -1 for `return jerr_set(...)`. */
int jerr_set(jerr *err, const cJSON *at, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

/* The 1-based line of byte `off` of `text`. */
int jpos_line_at(const char *text, size_t len, size_t off);

/* Finds `node` under `root` (which cJSON parsed from text[len]): its line
 * (the line of its key for an object member) into *line and its path
 * ("rules[2].when.event", "" for the root) into path[cap]. 0, or -1 when
 * `node` is not under `root` or deeper than JPOS_MAX_DEPTH (then *line is
 * 0 and path empty). */
int jpos_find(const char *text, size_t len, const cJSON *root, const cJSON *node, int *line,
              char *path, size_t cap);

/* The depth of a document (a scalar is 0, [] is 1), counted up to `limit`
 * + 1 so that a hostile document costs nothing more. */
int jpos_depth(const cJSON *v, int limit);

/* The first object under `v` (itself included) that has two members of the
 * same name, and that name's second member; NULL when there is none. */
const cJSON *jpos_duplicate_key(const cJSON *v);

/* Formats a loader's failure as "PREFIX:LINE: PATH: msg" (PREFIX, usually
 * the file's name, may be NULL; PATH is left out for the root) into
 * why[cap]. */
void jpos_explain(const char *text, size_t len, const cJSON *root, const jerr *err,
                  const char *prefix, char *why, size_t cap);
/* The same for text that does not parse: `off` is where cJSON stopped. */
void jpos_explain_at(const char *text, size_t len, size_t off, const char *msg, const char *prefix,
                     char *why, size_t cap);

#endif
