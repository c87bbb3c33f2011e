/* libFuzzer target: the session engine (lib/session.c, sans-IO) with its
 * modules (context, rich conversations, surveys), fed arbitrary sequences
 * of server frames interleaved with the host's calls and the transport's
 * happenings. The session starts online and welcomed; each line of the
 * input is a frame, or an action when it starts with '!':
 *
 *   !o open        !c [t] closed (t: a TLS failure)   !t MS time passes
 *   !f offline     !n online      !r restart from the journal (budgeted)
 *   !S SUBJECT     !s TEXT        !i USER [TOKEN]     !L logout
 *   !a KEY VALUE   !j KEY JSON    !e NAME [JSON]  !b CRUMB  !w SCREEN  !k 0|1
 *   !p MSG OPTION  !y 0|1 typing  !R SEQ read  !u [x] unread
 *   !q l|h|s|a [ARG]  requests: conversations, history, search, article
 *   !N QID N  !C QID OPT  !M QID OPT...  !T QID TEXT  !X QID  !V QID
 *   !U submit  !D dismiss  !Z MS mute  (on the last survey received)
 *
 * In frames "$CONV" and "$CID" are the last conversation and client ids
 * the session minted (fuzz_client.h). A restart replays the whole journal:
 * past the first, an input's restarts run while the journal bytes they
 * replay stay within a budget linear in its size (fuzz_client.c). */
#include <stdint.h>

#include "fuzz_client.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    fz_world w;
    if (fz_open(&w, size) == 0) {
        fz_lines(&w, data, size);
        fz_close(&w);
    }
    return 0;
}
