/* Per-connection FIFO of outgoing WebSocket frames. Each item keeps LWS_PRE
 * bytes of headroom in front of its payload, as lws_write() requires. */
#ifndef PARLEY_SERVER_OUTQ_H
#define PARLEY_SERVER_OUTQ_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

typedef struct outq_item {
    struct outq_item *next;
    size_t len;
    /* The store's group whose commit the frame waits for (store.h); 0:
     * none, it may go at once. Set by the caller after outq_push. */
    int64_t hold;
    unsigned char buf[]; /* LWS_PRE headroom, then len payload bytes */
} outq_item;

typedef struct outq {
    outq_item *head;
    outq_item *tail;
    /* Memory the queue holds: payloads, headroom and item headers, so a
     * bound on it is a bound on memory however small the frames are. */
    size_t bytes;
} outq;

/* What queuing `len` payload bytes adds to q->bytes. */
size_t outq_cost(size_t len);
/* Copies the payload in unless the queue would then hold more than `max`
 * bytes. 0, or -1 (over `max`, or out of memory). */
int outq_push(outq *q, const char *data, size_t len, size_t max);
/* The oldest item, or NULL when empty; its payload is at buf + LWS_PRE. */
outq_item *outq_peek(const outq *q);
void outq_pop(outq *q);
void outq_clear(outq *q);

#endif
