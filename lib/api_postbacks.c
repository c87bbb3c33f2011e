/* Public API of postbacks (parley.h, "rich conversations"): the structured
 * content a message offers (blocks, options, cards) and parley_postback
 * answering one of its options. */
#include <string.h>

#include "client.h"

int parley_block_kind(const parley_block *b)
{
    return b ? b->kind : 0;
}
const char *parley_block_title(const parley_block *b)
{
    return b ? b->title : NULL;
}
const char *parley_block_text(const parley_block *b)
{
    return b ? b->text : NULL;
}
const char *parley_block_image_url(const parley_block *b)
{
    return b ? b->image : NULL;
}
int parley_block_option_count(const parley_block *b)
{
    return b ? b->n_opts : 0;
}
int parley_block_card_count(const parley_block *b)
{
    return b ? b->n_cards : 0;
}

const parley_option *parley_block_option(const parley_block *b, int j)
{
    return b && j >= 0 && j < b->n_opts ? &b->opts[j] : NULL;
}

const parley_block *parley_block_card(const parley_block *b, int j)
{
    return b && j >= 0 && j < b->n_cards ? &b->cards[j] : NULL;
}

const char *parley_option_id(const parley_option *o)
{
    return o ? o->id : NULL;
}
const char *parley_option_label(const parley_option *o)
{
    return o ? o->label : NULL;
}
const char *parley_option_payload(const parley_option *o)
{
    return o ? o->payload : NULL;
}
const char *parley_option_url(const parley_option *o)
{
    return o ? o->url : NULL;
}
int parley_option_action(const parley_option *o)
{
    return o ? o->action : 0;
}

int parley_postback(parley_client *pc, const char *conv_id, const char *message_id,
                    const char *option_id, char *msg_id_out, size_t out_size)
{
    if (!pc || (msg_id_out && out_size < PL_MINTED_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char cid[PARLEY_ID_SIZE];
    pl_client_enter(pc);
    int rc = pl_client_leave(
        pc, pl_postbacks_send(pc->postbacks, pc->ctx, conv_id, message_id, option_id, cid));
    if (rc == PARLEY_OK && msg_id_out)
        memcpy(msg_id_out, cid, strlen(cid) + 1);
    return rc;
}
