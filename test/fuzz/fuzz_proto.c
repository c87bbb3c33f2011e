/* libFuzzer target for the wire codec: any bytes a server could send in a
 * text frame must decode cleanly or be rejected, never crash or leak. Every
 * frame that passes the envelope is also given to each module's reader
 * (blocks, typing/read/unread, answers to requests, surveys, proactive
 * messages), whatever its
 * type, so their handling of hostile members is fuzzed too. A msg or
 * msg.ack read in place is decoded again through the cJSON tree (an extra
 * member forces it), and the two must agree.
 * Not part of the default build; see README.md. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec/proto_blocks.h"
#include "codec/proto_frames.h"
#include "codec/proto_notices.h"
#include "codec/proto_proactive.h"
#include "codec/proto_requests.h"
#include "codec/proto_surveys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void module_readers(const pl_alloc *a, const pl_frame *f)
{
    char err[128], skipped[128];
    pl_content *content = NULL;
    if (pl_proto_msg_content(a, f, &content, err, sizeof err) == PARLEY_OK)
        pl_content_free(a, content);
    int (*notices[])(const pl_alloc *, const pl_frame *, pl_item *, char *, size_t) = {
        pl_proto_decode_typing, pl_proto_decode_read, pl_proto_decode_unread};
    for (size_t i = 0; i < sizeof notices / sizeof notices[0]; i++) {
        pl_item it;
        if (notices[i](a, f, &it, err, sizeof err) == PARLEY_OK)
            pl_item_clear(a, &it);
    }
    pl_answer ans;
    if (pl_proto_decode_answer(a, f, &ans, err, sizeof err) == PARLEY_OK)
        pl_answer_clear(a, &ans);
    parley_survey *s = NULL;
    if (pl_proto_decode_survey(a, f, &s, err, sizeof err) == PARLEY_OK)
        pl_survey_unref(s);
    pl_item p;
    if (pl_proto_decode_proactive(a, f, &p, err, sizeof err, skipped, sizeof skipped) == PARLEY_OK)
        pl_item_clear(a, &p);
    (void)pl_proto_frame_req(f);
}

static int same(const char *x, const char *y)
{
    return (!x && !y) || (x && y && strcmp(x, y) == 0);
}

/* `f` was read in place from data; the tree must read the same frame. */
static void same_through_tree(const pl_frame *f, const uint8_t *data, size_t size)
{
    static const char extra[] = "{\"zz\":[],";
    const char *open = memchr(data, '{', size);
    if (!open)
        abort();
    size_t head = (size_t)(open - (const char *)data);
    char *copy = malloc(size + sizeof extra);
    memcpy(copy, data, head);
    memcpy(copy + head, extra, sizeof extra - 1);
    memcpy(copy + head + sizeof extra - 1, open + 1, size - head - 1);
    pl_frame t;
    char err[128];
    if (pl_proto_decode(pl_alloc_libc(), copy, size + sizeof extra - 2, &t, err, sizeof err) !=
            PARLEY_OK ||
        !t.doc || t.type != f->type || !same(t.conv, f->conv) || !same(t.id, f->id) ||
        !same(t.cid, f->cid) || !same(t.text, f->text) || !same(t.author_name, f->author_name) ||
        t.seq != f->seq || t.ts != f->ts || t.author_kind != f->author_kind)
        abort();
    pl_proto_frame_clear(pl_alloc_libc(), &t);
    free(copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_frame f;
    char err[128];
    if (pl_proto_decode(pl_alloc_libc(), (const char *)data, size, &f, err, sizeof err) ==
        PARLEY_OK) {
        if (f.arena)
            same_through_tree(&f, data, size);
        module_readers(pl_alloc_libc(), &f);
        pl_proto_frame_clear(pl_alloc_libc(), &f);
    }
    return 0;
}
