/* libFuzzer target: parley-server's bot flow loader (flow.c, the --bot
 * file) and, when a flow loads, the bot walking it: every node run, routes
 * followed from the start for texts and postbacks, notes taken. FAQ nodes
 * answer from the shipped knowledge base. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "fuzz_server.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const flow_input inputs[] = {
    {.text = "hi"},
    {.text = "I want a refund for my purchase"},
    {.text = "talk to a human"},
    {.text = "Billing", .payload = "billing", .postback = 1},
    {.text = "Talk to a human", .payload = "human", .postback = 1},
    {.text = "Refund", .payload = "refund", .postback = 1, .origin = "billing"},
    {.text = "Other", .payload = NULL, .postback = 1},
};

static void walk(flow *f, kb *k)
{
    const char *node = flow_start(f);
    cJSON *notes = NULL;
    (void)flow_bot_name(f);
    (void)flow_greets_on_start(f);
    (void)flow_resume(f);
    (void)flow_wait_per_position(f);
    for (size_t step = 0; node && step < 16; step++) {
        const flow_input *in = &inputs[step % (sizeof inputs / sizeof inputs[0])];
        flow_reply r;
        memset(&r, 0, sizeof r);
        if (flow_run(f, k, node, in->text, &r) == 0)
            flow_note(&notes, in, &r);
        flow_reply_clear(&r);
        node = flow_route(f, node, in);
    }
    cJSON_Delete(notes);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    server *s = fz_server();
    const char *path = s ? fz_tmp_file("flow.json", data, size) : NULL;
    char why[256];
    flow *f = path ? flow_load(path, s->kb, why, sizeof why) : NULL;
    if (f)
        walk(f, s->kb);
    else if (path && getenv("PARLEY_FUZZ_TRACE"))
        fprintf(stderr, "flow refused: %s\n", why);
    flow_free(f);
    return 0;
}
