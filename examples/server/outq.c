#include "outq.h"

#include <stdlib.h>
#include <string.h>

size_t outq_cost(size_t len)
{
    return sizeof(outq_item) + LWS_PRE + len;
}

int outq_push(outq *q, const char *data, size_t len, size_t max)
{
    size_t cost = outq_cost(len);
    outq_item *it;

    if (cost > max || q->bytes > max - cost)
        return -1;
    it = malloc(cost);
    if (!it)
        return -1;
    it->next = NULL;
    it->len = len;
    it->hold = 0;
    memcpy(it->buf + LWS_PRE, data, len);
    if (q->tail)
        q->tail->next = it;
    else
        q->head = it;
    q->tail = it;
    q->bytes += cost;
    return 0;
}

outq_item *outq_peek(const outq *q)
{
    return q->head;
}

void outq_pop(outq *q)
{
    outq_item *it = q->head;

    if (!it)
        return;
    q->head = it->next;
    if (!q->head)
        q->tail = NULL;
    q->bytes -= outq_cost(it->len);
    free(it);
}

void outq_clear(outq *q)
{
    while (q->head)
        outq_pop(q);
}
