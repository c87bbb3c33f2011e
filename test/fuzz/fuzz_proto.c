/* libFuzzer target for the wire codec: any bytes a server could send in a
 * text frame must decode cleanly or be rejected, never crash or leak.
 * Not part of the default build; see README.md. */
#include <stddef.h>
#include <stdint.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    pframe f;
    char err[128];
    if (proto_decode(palloc_libc(), (const char *)data, size, &f, err, sizeof err) == PARLEY_OK)
        proto_frame_clear(palloc_libc(), &f);
    return 0;
}
