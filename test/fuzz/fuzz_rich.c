/* libFuzzer target: structured content and the conversation features
 * (lib/model/content.c, lib/codec/proto_blocks.c, proto_notices.c,
 * proto_requests.c and lib/feature/): structured blocks (quick replies,
 * buttons, cards, images), answers to requests (conversation lists, history
 * pages, articles), typing, read and unread frames.
 *
 * The first line is a frame. Its blocks are decoded and read through every
 * public accessor, and must survive a round trip: the JSON the client keeps
 * of them (parley_event_raw_json, and what the journal holds for offers)
 * parses back into the same blocks. The frame also goes through the answer
 * readers. Then it goes to a live session, followed by the remaining lines
 * (fuzz_session.c): postbacks on its options (!p), read marks, requests. */
#include <stdlib.h>
#include <string.h>

#include "codec/proto_blocks.h"
#include "codec/proto_notices.h"
#include "codec/proto_requests.h"
#include "fuzz_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int same_str(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

static int same_blocks(const struct parley_block *x, int nx, const struct parley_block *y, int ny)
{
    if (nx != ny)
        return 0;
    for (int i = 0; i < nx; i++) {
        const struct parley_block *a = &x[i], *b = &y[i];
        if (a->kind != b->kind || !same_str(a->title, b->title) || !same_str(a->text, b->text) ||
            !same_str(a->image, b->image) || a->n_opts != b->n_opts ||
            !same_blocks(a->cards, a->n_cards, b->cards, b->n_cards))
            return 0;
        for (int j = 0; j < a->n_opts; j++) {
            const struct parley_option *o = &a->opts[j], *p = &b->opts[j];
            if (o->action != p->action || o->quick != p->quick || !same_str(o->id, p->id) ||
                !same_str(o->label, p->label) || !same_str(o->payload, p->payload) ||
                !same_str(o->url, p->url))
                return 0;
        }
    }
    return 1;
}

static void blocks(const pl_alloc *a, const pl_frame *f)
{
    char err[160];
    pl_content *c = NULL, *again = NULL;
    if (pl_proto_msg_content(a, f, &c, err, sizeof err) != PARLEY_OK || !c)
        return;
    parley_event ev = {.type = PARLEY_EV_MESSAGE, .queue_pos = -1, .content = c};
    fz_walk_event(&ev);
    if (c->raw_json && pl_proto_parse_content(a, c->raw_json, &again) == PARLEY_OK &&
        !(again ? same_blocks(c->blocks, c->n_blocks, again->blocks, again->n_blocks)
                : c->n_blocks == 0))
        abort(); /* the kept JSON must mean the same blocks */
    pl_content_free(a, again);
    pl_content_free(a, c);
}

/* An item read through the public accessors, as the event it becomes. */
static void walk_item(const pl_alloc *a, int type, pl_item *it)
{
    parley_event *ev = pl_event_from_item(a, type, it);
    if (ev)
        fz_walk_event(ev);
    parley_event_free(ev);
}

static void notices_and_answers(const pl_alloc *a, const pl_frame *f)
{
    char err[160];
    pl_item it;
    if (pl_proto_decode_typing(a, f, &it, err, sizeof err) == PARLEY_OK)
        walk_item(a, PARLEY_EV_TYPING, &it);
    if (pl_proto_decode_read(a, f, &it, err, sizeof err) == PARLEY_OK)
        walk_item(a, PARLEY_EV_READ, &it);
    if (pl_proto_decode_unread(a, f, &it, err, sizeof err) == PARLEY_OK)
        walk_item(a, PARLEY_EV_UNREAD, &it);
    pl_answer ans;
    if (pl_proto_decode_answer(a, f, &ans, err, sizeof err) != PARLEY_OK)
        return;
    for (int i = 0; i < ans.n_items; i++)
        walk_item(a, PARLEY_EV_MESSAGE, &ans.items[i]);
    walk_item(a, PARLEY_EV_ARTICLE, &ans.article);
    pl_answer_clear(a, &ans);
}

static void model(const uint8_t *data, size_t size)
{
    const pl_alloc *a = pl_alloc_libc();
    char err[160];
    pl_frame f;
    if (pl_proto_decode(a, (const char *)data, fz_line_len(data, size), &f, err, sizeof err) !=
        PARLEY_OK)
        return;
    blocks(a, &f);
    notices_and_answers(a, &f);
    (void)pl_proto_frame_req(&f);
    pl_proto_frame_clear(a, &f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_world w;
    model(data, size);
    if (fz_open(&w, size) == 0) {
        fz_lines(&w, data, size);
        fz_close(&w);
    }
    return 0;
}
