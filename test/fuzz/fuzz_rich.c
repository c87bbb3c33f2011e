/* libFuzzer target: the content model of rich conversations
 * (lib/proto_rich.c, lib/rich.c): structured blocks (quick replies,
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
                !same_str(o->label, p->label) || !same_str(o->payload, p->payload) || !same_str(o->url, p->url))
                return 0;
        }
    }
    return 1;
}

static void blocks(const pl_alloc *a, const pl_frame *f)
{
    char err[160];
    pl_ev_rich *r = NULL, *again = NULL;
    if (pl_proto_rich_msg_blocks(a, f, &r, err, sizeof err) != PARLEY_OK || !r)
        return;
    parley_event ev = {.type = PARLEY_EV_MESSAGE, .rich = r};
    fz_walk_event(&ev);
    if (r->raw_json && pl_proto_rich_parse_blocks(a, r->raw_json, &again) == PARLEY_OK &&
        !(again ? same_blocks(r->blocks, r->n_blocks, again->blocks, again->n_blocks) : r->n_blocks == 0))
        abort(); /* the kept JSON must mean the same blocks */
    pl_ev_rich_free(a, again);
    pl_ev_rich_free(a, r);
}

static void model(const uint8_t *data, size_t size)
{
    const pl_alloc *a = pl_alloc_libc();
    char err[160];
    pl_frame f;
    if (pl_proto_decode(a, (const char *)data, fz_line_len(data, size), &f, err, sizeof err) != PARLEY_OK)
        return;
    blocks(a, &f);
    parley_event *ev = NULL;
    if (pl_proto_rich_decode(a, &f, &ev, err, sizeof err) == PARLEY_OK && ev)
        fz_walk_event(ev);
    parley_event_free(ev);
    int pos;
    uint32_t wait_s;
    pl_proto_rich_queue(&f, &pos, &wait_s);
    (void)pl_proto_rich_req(&f);
    pl_proto_frame_clear(a, &f);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_world w;
    model(data, size);
    if (fz_open(&w) == 0) {
        fz_lines(&w, data, size);
        fz_close(&w);
    }
    return 0;
}
