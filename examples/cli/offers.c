/* The options a support message offers, numbered so that the user can pick
 * one by typing its number. The count runs through the message's blocks in
 * order, each block's own options before those of its cards: the order in
 * which output.c prints them. */
#include <stddef.h>

#include "cli.h"

int offer_usable(const parley_event *ev)
{
    return parley_event_type(ev) == PARLEY_EV_MESSAGE &&
           parley_event_author_kind(ev) != PARLEY_AUTHOR_USER && offer_count(ev) > 0;
}

static int block_count(const parley_block *b)
{
    int n = parley_block_option_count(b);
    for (int j = 0; j < parley_block_card_count(b); j++)
        n += block_count(parley_block_card(b, j));
    return n;
}

int offer_count(const parley_event *ev)
{
    int n = 0;
    for (int i = 0; i < parley_event_block_count(ev); i++)
        n += block_count(parley_event_block(ev, i));
    return n;
}

/* Option *n of the block (1-based); otherwise *n less the options passed. */
static const parley_option *block_get(const parley_block *b, long *n)
{
    int own = parley_block_option_count(b);
    if (*n <= own)
        return parley_block_option(b, (int)*n - 1);
    *n -= own;
    for (int j = 0; j < parley_block_card_count(b); j++) {
        const parley_option *o = block_get(parley_block_card(b, j), n);
        if (o)
            return o;
    }
    return NULL;
}

const parley_option *offer_get(const parley_event *ev, long n)
{
    if (!ev || n < 1)
        return NULL;
    for (int i = 0; i < parley_event_block_count(ev); i++) {
        const parley_option *o = block_get(parley_event_block(ev, i), &n);
        if (o)
            return o;
    }
    return NULL;
}
