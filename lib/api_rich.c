/* Public API of rich conversations (parley.h, "rich conversations"). */
#include <string.h>

#include "client.h"
#include "feature/rich.h"
#include "util/clock.h"
#include "util/utf8.h"

/* ---- event accessors --------------------------------------------------------- */

static const pl_ev_rich *rich_of(const parley_event *ev)
{
    return ev ? ev->rich : NULL;
}

int parley_event_block_count(const parley_event *ev)
{
    return rich_of(ev) ? ev->rich->n_blocks : 0;
}

const parley_block *parley_event_block(const parley_event *ev, int i)
{
    return i >= 0 && i < parley_event_block_count(ev) ? &ev->rich->blocks[i] : NULL;
}

const char *parley_event_raw_json(const parley_event *ev)
{
    return rich_of(ev) ? ev->rich->raw_json : NULL;
}

int parley_block_kind(const parley_block *b) { return b ? b->kind : 0; }
const char *parley_block_title(const parley_block *b) { return b ? b->title : NULL; }
const char *parley_block_text(const parley_block *b) { return b ? b->text : NULL; }
const char *parley_block_image_url(const parley_block *b) { return b ? b->image : NULL; }
int parley_block_option_count(const parley_block *b) { return b ? b->n_opts : 0; }
int parley_block_card_count(const parley_block *b) { return b ? b->n_cards : 0; }

const parley_option *parley_block_option(const parley_block *b, int j)
{
    return b && j >= 0 && j < b->n_opts ? &b->opts[j] : NULL;
}

const parley_block *parley_block_card(const parley_block *b, int j)
{
    return b && j >= 0 && j < b->n_cards ? &b->cards[j] : NULL;
}

const char *parley_option_id(const parley_option *o) { return o ? o->id : NULL; }
const char *parley_option_label(const parley_option *o) { return o ? o->label : NULL; }
const char *parley_option_payload(const parley_option *o) { return o ? o->payload : NULL; }
const char *parley_option_url(const parley_option *o) { return o ? o->url : NULL; }
int parley_option_action(const parley_option *o) { return o ? o->action : 0; }

int parley_event_queue_position(const parley_event *ev) { return rich_of(ev) ? ev->rich->queue_pos : -1; }
uint32_t parley_event_wait_s(const parley_event *ev) { return rich_of(ev) ? ev->rich->wait_s : 0; }
uint32_t parley_event_count(const parley_event *ev) { return rich_of(ev) ? ev->rich->count : 0; }
const char *parley_event_request_id(const parley_event *ev) { return rich_of(ev) ? ev->rich->req : NULL; }
int parley_event_more(const parley_event *ev) { return rich_of(ev) ? ev->rich->more : 0; }
int parley_event_item_count(const parley_event *ev) { return rich_of(ev) ? ev->rich->n_items : 0; }
const char *parley_event_title(const parley_event *ev) { return rich_of(ev) ? ev->rich->title : NULL; }
const char *parley_event_url(const parley_event *ev) { return rich_of(ev) ? ev->rich->url : NULL; }

const parley_event *parley_event_item(const parley_event *ev, int i)
{
    return i >= 0 && i < parley_event_item_count(ev) ? ev->rich->items[i] : NULL;
}

/* ---- calls ---------------------------------------------------------------------- */

static int copy_out(const char *id, char *out)
{
    if (out)
        memcpy(out, id, strlen(id) + 1);
    return PARLEY_OK;
}

int parley_postback(parley_client *pc, const char *conv_id, const char *message_id, const char *option_id,
                    char *msg_id_out, size_t out_size)
{
    if (!pc || (msg_id_out && out_size < PARLEY_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char cid[PARLEY_ID_SIZE];
    pl_client_enter(pc);
    int rc = pl_client_leave(pc, pl_rich_postback(pc->rich, pc->ctx, conv_id, message_id, option_id, cid));
    return rc == PARLEY_OK ? copy_out(cid, msg_id_out) : rc;
}

int parley_set_typing(parley_client *pc, const char *conv_id, int on)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_rich_set_typing(pc->rich, conv_id, on, pl_clock_mono_ms()));
}

int parley_mark_read(parley_client *pc, const char *conv_id, const char *seq)
{
    if (!pc)
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_rich_mark_read(pc->rich, conv_id, seq));
}

int parley_unread_count(parley_client *pc, const char *conv_id, uint32_t *out)
{
    if (!pc || !out || (conv_id && !pl_id_valid(conv_id, PL_MAX_ID)))
        return PARLEY_ERR_INVALID_ARG;
    pl_client_enter(pc);
    return pl_client_leave(pc, pl_rich_unread(pc->rich, conv_id, out));
}

static int request(parley_client *pc, pl_req_kind kind, const pl_req_args *args, char *req_out, size_t out_size)
{
    if (!pc || (req_out && out_size < PARLEY_ID_SIZE))
        return PARLEY_ERR_INVALID_ARG;
    char id[PARLEY_ID_SIZE];
    pl_client_enter(pc);
    int rc = pl_client_leave(pc, pl_rich_request(pc->rich, kind, args, id));
    return rc == PARLEY_OK ? copy_out(id, req_out) : rc;
}

int parley_list_conversations(parley_client *pc, char *req_out, size_t out_size)
{
    pl_req_args args = {0};
    return request(pc, PL_REQ_CONV_LIST, &args, req_out, out_size);
}

int parley_load_history(parley_client *pc, const char *conv_id, const char *before_seq, int limit, char *req_out,
                        size_t out_size)
{
    pl_req_args args = {.conv = conv_id, .limit = (uint32_t)(limit > 0 ? limit : 0)};
    if (!pl_id_valid(conv_id, PL_MAX_ID) || limit < 0 || limit > PL_MAX_PAGE ||
        (before_seq && !pl_proto_rich_seq(before_seq, &args.before)))
        return PARLEY_ERR_INVALID_ARG;
    return request(pc, PL_REQ_HISTORY, &args, req_out, out_size);
}

int parley_search_articles(parley_client *pc, const char *query, char *req_out, size_t out_size)
{
    size_t n = query ? strnlen(query, PL_MAX_QUERY + 1) : 0;
    if (!n || n > PL_MAX_QUERY || !pl_utf8_valid(query, n))
        return n > PL_MAX_QUERY ? PARLEY_ERR_TOO_LONG : PARLEY_ERR_INVALID_ARG;
    pl_req_args args = {.query = query};
    return request(pc, PL_REQ_SEARCH, &args, req_out, out_size);
}

int parley_get_article(parley_client *pc, const char *article_id, char *req_out, size_t out_size)
{
    if (!pl_id_valid(article_id, PL_MAX_ID))
        return PARLEY_ERR_INVALID_ARG;
    pl_req_args args = {.id = article_id};
    return request(pc, PL_REQ_ARTICLE, &args, req_out, out_size);
}
