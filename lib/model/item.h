/* What the server tells about, beyond the engine's own frames
 * (docs/protocol.md): a conversation signal (typing, read, unread), a
 * message of a history page or a proactive message, a conversation of a
 * list, a help article; and an answer to one of the host's requests, made
 * of such items. The codec fills them from frames; the features turn them
 * into events (session/event.h takes an item's fields over). */
#ifndef PARLEY_MODEL_ITEM_H
#define PARLEY_MODEL_ITEM_H

#include <stdint.h>

#include "model/attachment.h"
#include "model/content.h"
#include "util/alloc.h"

/* Which fields a kind fills is listed with each field; the rest stay NULL
 * or 0. Strings are owned. */
typedef struct pl_item {
    char *conv;        /* typing, read, unread, conversation; message (its page's) */
    char *id;          /* message, proactive message, article */
    char *seq;         /* read, message; conversation (its last_seq) */
    char *text;        /* message; conversation (last_text); article (snippet or body) */
    char *title;       /* conversation (subject), article */
    char *url;         /* article */
    char *author_name; /* typing, message */
    int author_kind;   /* typing, message: PARLEY_AUTHOR_* (0 when absent) */
    int state;      /* typing: PARLEY_TYPING_ON/OFF; conversation: PARLEY_CONV_* (0 when absent) */
    uint32_t count; /* unread; conversation (its unread count) */
    int64_t ts;     /* message; conversation (updated_ms) */
    pl_content *content;       /* message: its kept blocks, or NULL */
    pl_attachment *attachment; /* message: the file it carries, or NULL */
} pl_item;

/* Frees what the item holds and zeroes it. */
void pl_item_clear(const pl_alloc *a, pl_item *it);

/* The host's requests (docs/protocol.md, "Requests"). */
typedef enum { PL_REQ_CONV_LIST = 1, PL_REQ_HISTORY, PL_REQ_SEARCH, PL_REQ_ARTICLE } pl_req_kind;

typedef struct pl_answer {
    pl_req_kind kind;
    char *req;      /* the request it answers */
    char *conv;     /* history page */
    int more;       /* history page: cut short */
    pl_item *items; /* conversation list, history page, search results */
    int n_items;
    pl_item article; /* a help article */
} pl_answer;

/* Frees what the answer holds and zeroes it. */
void pl_answer_clear(const pl_alloc *a, pl_answer *ans);

#endif
