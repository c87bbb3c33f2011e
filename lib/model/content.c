#include "model/content.h"

#include <string.h>

static void options_free(const pl_alloc *a, struct parley_option *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        pl_free(a, v[i].id);
        pl_free(a, v[i].label);
        pl_free(a, v[i].payload);
        pl_free(a, v[i].url);
    }
    pl_free(a, v);
}

static void blocks_free(const pl_alloc *a, struct parley_block *v, int n)
{
    for (int i = 0; v && i < n; i++)
        pl_block_clear(a, &v[i]);
    pl_free(a, v);
}

void pl_block_clear(const pl_alloc *a, struct parley_block *b)
{
    pl_free(a, b->title);
    pl_free(a, b->text);
    pl_free(a, b->image);
    options_free(a, b->opts, b->n_opts);
    blocks_free(a, b->cards, b->n_cards);
    memset(b, 0, sizeof *b);
}

pl_content *pl_content_new(const pl_alloc *a)
{
    return pl_calloc(a, 1, sizeof(pl_content));
}

void pl_content_free(const pl_alloc *a, pl_content *c)
{
    if (!c)
        return;
    blocks_free(a, c->blocks, c->n_blocks);
    pl_free(a, c->raw_json);
    pl_free(a, c);
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static size_t blocks_size(const struct parley_block *v, int n)
{
    size_t total = 0;
    for (int i = 0; v && i < n; i++) {
        const struct parley_block *b = &v[i];
        total += sizeof *b + str_size(b->title) + str_size(b->text) + str_size(b->image) +
                 blocks_size(b->cards, b->n_cards);
        for (int j = 0; b->opts && j < b->n_opts; j++)
            total += sizeof b->opts[j] + str_size(b->opts[j].id) + str_size(b->opts[j].label) +
                     str_size(b->opts[j].payload) + str_size(b->opts[j].url);
    }
    return total;
}

size_t pl_content_size(const pl_content *c)
{
    return c ? sizeof *c + blocks_size(c->blocks, c->n_blocks) + str_size(c->raw_json) : 0;
}

static const struct parley_option *option_in(const struct parley_block *v, int n, const char *id)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < v[i].n_opts; j++)
            if (strcmp(v[i].opts[j].id, id) == 0)
                return &v[i].opts[j];
        const struct parley_option *o = option_in(v[i].cards, v[i].n_cards, id);
        if (o)
            return o;
    }
    return NULL;
}

const struct parley_option *pl_content_option(const pl_content *c, const char *id)
{
    return c && id ? option_in(c->blocks, c->n_blocks, id) : NULL;
}

static int has_postback(const struct parley_block *v, int n)
{
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < v[i].n_opts; j++)
            if (v[i].opts[j].action == PARLEY_ACTION_POSTBACK)
                return 1;
        if (has_postback(v[i].cards, v[i].n_cards))
            return 1;
    }
    return 0;
}

int pl_content_has_postback(const pl_content *c)
{
    return c && has_postback(c->blocks, c->n_blocks);
}
