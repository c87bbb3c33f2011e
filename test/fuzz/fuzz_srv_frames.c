/* libFuzzer target: parley-server's frame handlers. The input is a script
 * of lines run against an empty database, each line one text frame from a
 * client, as lws would hand it to ws_callback:
 *
 *   [#N][~...][^]FRAME   a frame on connection N (0-3, default 0), split
 *                        into one more fragment per '~', binary with '^'
 *   [#N]x                connection N closes (it reopens on its next frame)
 *   %METHOD PATH BODY    an agent's HTTP API call (pushes reach the
 *                        connections: the agent answers, assigns, closes)
 *
 * A connection starts unauthenticated: a script says hello first, as a
 * client would. Identified users prove themselves with the user hash of
 * secret "fuzz-secret". Every queued frame is written out after each line;
 * ASan/UBSan/LSan turn crashes, over-reads and leaks into findings. */
#include <stddef.h>
#include <stdint.h>

#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static fz_conn conns[FZ_CONNS];
    if (!fz_server())
        return 0;
    fz_server_reset();
    fz_script(conns, (const char *)data, size);
    for (int i = 0; i < FZ_CONNS; i++)
        fz_ws_close(&conns[i]);
    return 0;
}
