/* Events handed to the host (the public parley_event): built by the session
 * engine and the features, from the model's objects, and queued by the
 * facade. */
#ifndef PARLEY_EVENT_H
#define PARLEY_EVENT_H

#include <stddef.h>
#include <stdint.h>

#include "model/attachment.h"
#include "model/content.h"
#include "model/item.h"
#include "model/survey.h"
#include "parley.h"
#include "util/alloc.h"

struct parley_event {
    pl_alloc alloc; /* a copy: events may outlive their client */
    int type;       /* PARLEY_EV_* */
    int state;      /* PARLEY_CONN_* / PARLEY_MSG_* / PARLEY_CONV_* / PARLEY_TYPING_* */
    int author_kind;
    int error_code;
    uint32_t retry_ms;
    uint32_t tls_failures; /* PARLEY_TLS_* */
    int64_t ts;
    char *conv, *id, *cid, *seq, *text, *author_name;
    /* What some types add; NULL or 0 when not carried. */
    pl_content *content;         /* MESSAGE, PROACTIVE: the message's blocks */
    parley_survey *survey;       /* SURVEY: a reference, dropped on free */
    int queue_pos;               /* CONVERSATION: place in the agent queue, -1 when unknown */
    uint32_t wait_s;             /* CONVERSATION: estimated wait */
    uint32_t count;              /* UNREAD; a listed conversation's unread count */
    char *req;                   /* an answer: the request it answers */
    char *title, *url;           /* a listed conversation's subject; an article's title and link */
    int more;                    /* HISTORY: the page was cut short */
    struct parley_event **items; /* an answer's entries */
    pl_attachment *attachment;   /* MESSAGE: the file it carries; ATTACHMENT: the file */
    int64_t bytes_done;          /* ATTACHMENT: bytes moved so far (DATA: to this chunk's end) */
    int64_t bytes_total;         /* ATTACHMENT: the file's size, 0 until known */
    unsigned char *data;         /* ATTACHMENT DATA: one chunk of the file */
    size_t data_len;
    int from_device; /* HISTORY: answered from the local history */
    int n_items;
    struct parley_event *next; /* queue link, owned by whoever queues it */
    size_t qbytes;             /* what it counts for in a queue (pl_event_size) */
    size_t inline_len;         /* bytes of strings stored right after the event */
};

/* A zeroed event of `type` (queue_pos -1); NULL when out of memory. */
parley_event *pl_event_new(const pl_alloc *a, int type);

/* An event of `type` whose string members at offsets offs[i] (offsetof a
 * `char *` member) are copies of vals[i] (NULL: left NULL), all held in the
 * event's own allocation: one allocation per event instead of one per
 * string, for the messages that arrive by the thousand. The fields stay
 * settable with pl_event_set. NULL when out of memory. */
parley_event *pl_event_new_strings(const pl_alloc *a, int type, const size_t *offs,
                                   const char *const *vals, size_t n);

/* Sets a string field to a copy of s (NULL allowed). PARLEY_OK or NOMEM. */
int pl_event_set(parley_event *ev, char **field, const char *s);

/* An event of `type` taking over every field of `it` (strings, content),
 * which is left cleared; NULL when out of memory (`it` cleared too). */
parley_event *pl_event_from_item(const pl_alloc *a, int type, pl_item *it);

/* An ERROR event with `code`, `text` and, when not NULL, `cid` (the client
 * id or request id it concerns); NULL when out of memory. */
parley_event *pl_event_error(const pl_alloc *a, int code, const char *cid, const char *text);

/* The memory an event holds, in bytes: the event, its strings, its content,
 * the items of an answer and its survey model. What the host's queue limit
 * (parley_config_set_event_limits) counts. */
size_t pl_event_size(const parley_event *ev);

/* A FIFO of events, with their count and their pl_event_size total. */
typedef struct pl_event_queue {
    parley_event *head, *tail;
    uint32_t count;
    size_t bytes;
} pl_event_queue;

void pl_event_queue_push(pl_event_queue *q, parley_event *ev);
parley_event *pl_event_queue_pop(pl_event_queue *q);
/* Moves all of src to the end of dst. */
void pl_event_queue_splice(pl_event_queue *dst, pl_event_queue *src);
void pl_event_queue_clear(pl_event_queue *q);

#endif
