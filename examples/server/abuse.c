#include "abuse.h"

#include <stdlib.h>
#include <string.h>

/* A person sends well under one message a second. The burst is what
 * libparley may send at once after a reconnect before its outbox: hello,
 * the full context and up to 512 read marks (lib/rich.c); a refused outbox
 * item closes the connection (ws.c), so if the burst did not cover those,
 * every reconnect would spend it on them and the outbox would never move. A
 * larger outbox goes through over several connections, in order. Requests:
 * what a UI asks while in use, and the 16 a client holds across a
 * reconnect. */
#define MSG_RATE 10
#define MSG_BURST 600
#define REQ_RATE 5
#define REQ_BURST 30
/* Chunks of attachments (att.chunk up, att.get down): 400 a second move
 * 4.8 MB/s each way, a 25 MB file in seconds, while a flood of chunks
 * cannot starve the other buckets. */
#define CHUNK_RATE 400
#define CHUNK_BURST 800
#define CONNS_PER_ADDR 32
/* Twice what a reading client can ask for at once: answers to its 16 held
 * requests of up to a frame each (65,536 bytes), plus the small frames
 * around them. A replay keeps far less than this queued (replay.c). */
#define OUTQ_KB 2048
#define OUTQ_KB_MIN 128 /* one frame of 65,536 bytes must always fit */
#define OUTQ_KB_MAX (1024 * 1024)
#define RATE_MAX 1000000

void abuse_defaults(abuse_cfg *a)
{
    a->msg_rate = MSG_RATE;
    a->msg_burst = MSG_BURST;
    a->req_rate = REQ_RATE;
    a->req_burst = REQ_BURST;
    a->chunk_rate = CHUNK_RATE;
    a->chunk_burst = CHUNK_BURST;
    a->conns_per_addr = CONNS_PER_ADDR;
    a->outq_kb = OUTQ_KB;
}

static int parse(const char *s, long min, long max, long *out)
{
    char *end;
    long v;

    if (!s || !*s)
        return -1;
    v = strtol(s, &end, 10);
    if (*end || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int abuse_option(abuse_cfg *a, const char *name, const char *value)
{
    const struct {
        const char *name;
        long *field;
        long min, max;
    } opts[] = {
        {"--msg-rate", &a->msg_rate, 0, RATE_MAX},
        {"--msg-burst", &a->msg_burst, 1, RATE_MAX},
        {"--req-rate", &a->req_rate, 0, RATE_MAX},
        {"--req-burst", &a->req_burst, 1, RATE_MAX},
        {"--chunk-rate", &a->chunk_rate, 0, RATE_MAX},
        {"--chunk-burst", &a->chunk_burst, 1, RATE_MAX},
        {"--max-conns-per-addr", &a->conns_per_addr, 0, RATE_MAX},
        {"--max-outq-kb", &a->outq_kb, OUTQ_KB_MIN, OUTQ_KB_MAX},
    };
    size_t i;

    for (i = 0; i < sizeof opts / sizeof opts[0]; i++) {
        if (strcmp(name, opts[i].name) == 0)
            return parse(value, opts[i].min, opts[i].max, opts[i].field);
    }
    return 1;
}

void abuse_usage(FILE *out)
{
    fprintf(out,
            "  --msg-rate N       frames that write (msg.send, context, event, ...) per\n"
            "                     second and connection (default %d; 0: no limit)\n"
            "  --msg-burst N      ... of which this many may come at once (default %d)\n"
            "  --req-rate N       requests (history.get, conv.list, kb.search, ...) per\n"
            "                     second and connection (default %d; 0: no limit)\n"
            "  --req-burst N      ... of which this many may come at once (default %d)\n"
            "  --chunk-rate N     attachment chunks (att.chunk, att.get) per second and\n"
            "                     connection (default %d; 0: no limit)\n"
            "  --chunk-burst N    ... of which this many may come at once (default %d)\n"
            "  --max-conns-per-addr N  open WebSocket connections per remote address\n"
            "                     (default %d; 0: no cap)\n"
            "  --max-outq-kb N    a connection's output queue in KiB; a client that reads\n"
            "                     slower is dropped (default %d, min %d)\n",
            MSG_RATE, MSG_BURST, REQ_RATE, REQ_BURST, CHUNK_RATE, CHUNK_BURST, CONNS_PER_ADDR,
            OUTQ_KB, OUTQ_KB_MIN);
}

void abuse_bucket_init(abuse_bucket *b, long burst, int64_t now_ms)
{
    b->milli = (int64_t)burst * 1000;
    b->at_ms = now_ms;
}

int64_t abuse_take(abuse_bucket *b, long rate, long burst, int64_t now_ms)
{
    int64_t cap = (int64_t)burst * 1000;

    if (rate == 0)
        return 0;
    /* A rate of r tokens a second is r thousandths a millisecond. */
    if (now_ms > b->at_ms) {
        b->milli += (now_ms - b->at_ms) * rate;
        if (b->milli > cap)
            b->milli = cap;
        b->at_ms = now_ms;
    }
    if (b->milli >= 1000) {
        b->milli -= 1000;
        return 0;
    }
    return (1000 - b->milli + rate - 1) / rate;
}

abuse_class abuse_class_of(const char *type)
{
    static const char *const requests[] = {"history.get", "conv.list", "history.page", "kb.search",
                                           "kb.get"};
    size_t i;

    if (!type)
        return ABUSE_MSG;
    if (strcmp(type, "bye") == 0)
        return ABUSE_FREE;
    if (strcmp(type, "att.chunk") == 0 || strcmp(type, "att.get") == 0)
        return ABUSE_CHUNK;
    for (i = 0; i < sizeof requests / sizeof requests[0]; i++) {
        if (strcmp(type, requests[i]) == 0)
            return ABUSE_REQ;
    }
    return ABUSE_MSG;
}
