/* Structured content of a message (docs/protocol.md, "Structured
 * content"): blocks of quick replies, buttons, cards and carousels, the
 * public parley_block and parley_option of parley.h. The codec builds it
 * from a message's "blocks", events carry it to the host, the postbacks
 * feature keeps a copy to check the answers against. */
#ifndef PARLEY_MODEL_CONTENT_H
#define PARLEY_MODEL_CONTENT_H

#include <stddef.h>

#include "parley.h"
#include "util/alloc.h"

/* Strings are owned, NULL when absent. */
struct parley_option {
    int action; /* PARLEY_ACTION_* */
    int quick;  /* a quick reply (the set is used up once answered) */
    char *id, *label, *payload, *url;
};

struct parley_block {
    int kind; /* PARLEY_BLOCK_* */
    char *title, *text, *image;
    struct parley_option *opts;
    int n_opts;
    struct parley_block *cards;
    int n_cards;
};

/* The blocks of one message that kept to the rules, and their JSON. */
typedef struct pl_content {
    struct parley_block *blocks;
    int n_blocks;
    char *raw_json; /* the kept blocks as a JSON array text */
} pl_content;

/* A zeroed content allocated with `a`; NULL when out of memory. */
pl_content *pl_content_new(const pl_alloc *a);
/* NULL is a no-op. */
void pl_content_free(const pl_alloc *a, pl_content *c);
/* Frees what a block holds and zeroes it (a block the codec gave up on). */
void pl_block_clear(const pl_alloc *a, struct parley_block *b);
/* The memory c holds, in bytes (0 for NULL). */
size_t pl_content_size(const pl_content *c);

/* The option `id` anywhere in c (cards included), or NULL. */
const struct parley_option *pl_content_option(const pl_content *c, const char *id);
/* 1 when some option of c is a postback. */
int pl_content_has_postback(const pl_content *c);

#endif
