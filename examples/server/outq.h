/* Per-connection FIFO of outgoing WebSocket frames. Each item keeps LWS_PRE
 * bytes of headroom in front of its payload, as lws_write() requires. */
#ifndef PARLEY_SERVER_OUTQ_H
#define PARLEY_SERVER_OUTQ_H

#include <stddef.h>

#include <libwebsockets.h>

typedef struct outq_item {
    struct outq_item *next;
    size_t len;
    unsigned char buf[]; /* LWS_PRE headroom, then len payload bytes */
} outq_item;

typedef struct outq {
    outq_item *head;
    outq_item *tail;
    size_t bytes; /* payload bytes queued */
} outq;

/* Copies the payload in. 0, or -1 when out of memory. */
int outq_push(outq *q, const char *data, size_t len);
/* The oldest item, or NULL when empty; its payload is at buf + LWS_PRE. */
outq_item *outq_peek(const outq *q);
void outq_pop(outq *q);
void outq_clear(outq *q);

#endif
