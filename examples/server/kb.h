/* The knowledge base: help articles read from a directory of Markdown files
 * at startup and indexed for full-text search (store_kb). It answers the
 * kb.search and kb.get requests and the bot's FAQ nodes. File format:
 * README.md, "Knowledge base". */
#ifndef PARLEY_SERVER_KB_H
#define PARLEY_SERVER_KB_H

#include <stddef.h>

#include "store.h"

#define KB_MAX_ID 64
#define KB_MAX_TITLE 256
#define KB_MAX_BODY 16384 /* the longest string a client accepts */
#define KB_MAX_ARTICLES 10000
#define KB_MAX_QUERY 256
#define KB_MAX_RESULTS 20

typedef struct kb kb;

/* An article, borrowed for the duration of a callback. `url` may be NULL;
 * `snippet` is set by kb_search only. */
typedef store_article kb_article;

/* Returns 0 to go on, nonzero to stop. */
typedef store_article_cb kb_cb;

/* Reads every "*.md" file of `dir`. 0, or -1 with the reason (naming the
 * file at fault) in `why`. */
int kb_load(const char *dir, kb **out, char *why, size_t cap);
/* The same, the index copied from `model`'s rather than created: what a
 * fuzz target that loads a knowledge base per input saves on creating
 * each. `model`: NULL, or a knowledge base of no article (-1 otherwise). */
int kb_load_like(const kb *model, const char *dir, kb **out, char *why, size_t cap);
void kb_free(kb *k);
size_t kb_count(const kb *k);

/* The articles that share a word with `query` (common words ignored), best
 * first, at most `limit`. The number of articles passed to `cb`, or -1 on
 * error. */
int kb_search(kb *k, const char *query, int limit, kb_cb cb, void *ud);

/* 1 after passing the article `id` to `cb`, 0 when there is none, -1 on
 * error. */
int kb_get(kb *k, const char *id, kb_cb cb, void *ud);

/* The first paragraph of an article's body (after its title), cut to fit
 * `cap` bytes on a UTF-8 boundary with "..." when it had to be cut. */
void kb_summary(const char *body, char *out, size_t cap);

#endif
