/* libFuzzer target for the wire codec: any bytes a server could send in a
 * text frame must decode cleanly or be rejected, never crash or leak. Every
 * frame that passes the envelope is also given to each module's reader
 * (blocks, answers to requests, surveys, proactive messages), whatever its
 * type, so their handling of hostile members is fuzzed too.
 * Not part of the default build; see README.md. */
#include <stddef.h>
#include <stdint.h>

#include "codec/proto.h"
#include "feature/rich.h"
#include "feature/surveys.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void module_readers(const pl_alloc *a, const pl_frame *f)
{
    char err[128], skipped[128];
    pl_ev_rich *blocks = NULL;
    if (pl_proto_rich_msg_blocks(a, f, &blocks, err, sizeof err) == PARLEY_OK)
        pl_ev_rich_free(a, blocks);
    parley_event *ev = NULL;
    if (pl_proto_rich_decode(a, f, &ev, err, sizeof err) == PARLEY_OK)
        parley_event_free(ev);
    parley_survey *s = NULL;
    if (pl_proto_decode_survey(a, f, &s, err, sizeof err) == PARLEY_OK)
        pl_survey_unref(s);
    pl_proactive p = {0};
    if (pl_proto_decode_proactive(a, f, &p, err, sizeof err, skipped, sizeof skipped) == PARLEY_OK)
        pl_proto_proactive_clear(a, &p);
    int pos;
    uint32_t wait_s;
    pl_proto_rich_queue(f, &pos, &wait_s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pl_frame f;
    char err[128];
    if (pl_proto_decode(pl_alloc_libc(), (const char *)data, size, &f, err, sizeof err) == PARLEY_OK) {
        module_readers(pl_alloc_libc(), &f);
        pl_proto_frame_clear(pl_alloc_libc(), &f);
    }
    return 0;
}
