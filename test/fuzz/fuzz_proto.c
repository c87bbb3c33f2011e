/* libFuzzer target for the wire codec: any bytes a server could send in a
 * text frame must decode cleanly or be rejected, never crash or leak. Every
 * frame that passes the envelope is also given to each module's reader
 * (blocks, answers to requests, surveys, proactive messages), whatever its
 * type, so their handling of hostile members is fuzzed too.
 * Not part of the default build; see README.md. */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"
#include "rich.h"
#include "survey.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void module_readers(const palloc *a, const pframe *f)
{
    char err[128], skipped[128];
    pev_rich *blocks = NULL;
    if (proto_rich_msg_blocks(a, f, &blocks, err, sizeof err) == PARLEY_OK)
        pev_rich_free(a, blocks);
    parley_event *ev = NULL;
    if (proto_rich_decode(a, f, &ev, err, sizeof err) == PARLEY_OK)
        parley_event_free(ev);
    parley_survey *s = NULL;
    if (proto_decode_survey(a, f, &s, err, sizeof err) == PARLEY_OK)
        psv_model_unref(s);
    pproactive p = {0};
    if (proto_decode_proactive(a, f, &p, err, sizeof err, skipped, sizeof skipped) == PARLEY_OK)
        proto_proactive_clear(a, &p);
    int pos;
    uint32_t wait_s;
    proto_rich_queue(f, &pos, &wait_s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pframe f;
    char err[128];
    if (proto_decode(palloc_libc(), (const char *)data, size, &f, err, sizeof err) == PARLEY_OK) {
        module_readers(palloc_libc(), &f);
        proto_frame_clear(palloc_libc(), &f);
    }
    return 0;
}
