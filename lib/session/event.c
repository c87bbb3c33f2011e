/* The public event: its lifecycle, its size, the queue, and the host's
 * accessors. It consumes the model (content, items, surveys) and knows
 * nothing of the wire. */
#include "session/event.h"

#include <stdint.h>
#include <string.h>

/* Strings of pl_event_new_strings live in the event's own allocation, right
 * after it, and are freed with it. */
static int inline_str(const parley_event *ev, const char *p)
{
    uintptr_t start = (uintptr_t)(ev + 1), x = (uintptr_t)p;
    return x >= start && x - start < ev->inline_len;
}

static void free_str(parley_event *ev, char *p)
{
    if (!inline_str(ev, p))
        pl_free(&ev->alloc, p);
}

static parley_event *event_init(parley_event *ev, const pl_alloc *a, int type)
{
    if (!ev)
        return NULL;
    ev->alloc = *a;
    ev->type = type;
    ev->queue_pos = -1;
    return ev;
}

parley_event *pl_event_new(const pl_alloc *a, int type)
{
    return event_init(pl_calloc(a, 1, sizeof(parley_event)), a, type);
}

parley_event *pl_event_new_strings(const pl_alloc *a, int type, const size_t *offs,
                                   const char *const *vals, size_t n)
{
    size_t total = 0;
    for (size_t i = 0; i < n; i++)
        total += vals[i] ? strlen(vals[i]) + 1 : 0;
    if (total > SIZE_MAX - sizeof(parley_event))
        return NULL;
    parley_event *ev = event_init(pl_calloc(a, 1, sizeof *ev + total), a, type);
    if (!ev)
        return NULL;
    ev->inline_len = total;
    char *p = (char *)(ev + 1);
    for (size_t i = 0; i < n; i++) {
        if (!vals[i])
            continue;
        size_t len = strlen(vals[i]) + 1;
        memcpy(p, vals[i], len);
        memcpy((char *)ev + offs[i], &p, sizeof p);
        p += len;
    }
    return ev;
}

int pl_event_set(parley_event *ev, char **field, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = pl_strdup(&ev->alloc, s)))
        return PARLEY_ERR_NOMEM;
    free_str(ev, *field);
    *field = copy;
    return PARLEY_OK;
}

parley_event *pl_event_from_item(const pl_alloc *a, int type, pl_item *it)
{
    parley_event *ev = pl_event_new(a, type);
    if (!ev) {
        pl_item_clear(a, it);
        return NULL;
    }
    ev->conv = it->conv;
    ev->id = it->id;
    ev->seq = it->seq;
    ev->text = it->text;
    ev->title = it->title;
    ev->url = it->url;
    ev->author_name = it->author_name;
    ev->author_kind = it->author_kind;
    ev->state = it->state;
    ev->count = it->count;
    ev->ts = it->ts;
    ev->content = it->content;
    ev->attachment = it->attachment;
    memset(it, 0, sizeof *it);
    return ev;
}

parley_event *pl_event_error(const pl_alloc *a, int code, const char *cid, const char *text)
{
    parley_event *ev = pl_event_new(a, PARLEY_EV_ERROR);
    if (ev && (pl_event_set(ev, &ev->cid, cid) != PARLEY_OK ||
               pl_event_set(ev, &ev->text, text) != PARLEY_OK)) {
        parley_event_free(ev);
        return NULL;
    }
    if (ev)
        ev->error_code = code;
    return ev;
}

void parley_event_free(parley_event *ev)
{
    if (!ev)
        return;
    pl_alloc a = ev->alloc;
    char *fields[] = {ev->conv,        ev->id,  ev->cid,   ev->seq, ev->text,
                      ev->author_name, ev->req, ev->title, ev->url};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        free_str(ev, fields[i]);
    for (int i = 0; ev->items && i < ev->n_items; i++)
        parley_event_free(ev->items[i]);
    pl_free(&a, ev->items);
    pl_content_free(&a, ev->content);
    pl_attachment_free(&a, ev->attachment);
    pl_free(&a, ev->data);
    pl_survey_unref(ev->survey);
    pl_free(&a, ev);
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* A survey model is shared with the module that keeps it; counting it in
 * each event that refers to it overstates, never understates. */
size_t pl_event_size(const parley_event *ev)
{
    const char *fields[] = {ev->conv,        ev->id,  ev->cid,   ev->seq, ev->text,
                            ev->author_name, ev->req, ev->title, ev->url};
    size_t n = sizeof *ev + pl_content_size(ev->content) + pl_survey_size(ev->survey) +
               (size_t)ev->n_items * sizeof *ev->items + pl_attachment_size(ev->attachment) +
               ev->data_len;
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        n += str_size(fields[i]);
    for (int i = 0; ev->items && i < ev->n_items; i++)
        n += ev->items[i] ? pl_event_size(ev->items[i]) : 0;
    return n;
}

/* ---- the queue ------------------------------------------------------------- */

void pl_event_queue_push(pl_event_queue *q, parley_event *ev)
{
    ev->next = NULL;
    ev->qbytes = pl_event_size(ev);
    q->bytes += ev->qbytes;
    if (q->tail)
        q->tail->next = ev;
    else
        q->head = ev;
    q->tail = ev;
    q->count++;
}

parley_event *pl_event_queue_pop(pl_event_queue *q)
{
    parley_event *ev = q->head;
    if (!ev)
        return NULL;
    q->head = ev->next;
    if (!q->head)
        q->tail = NULL;
    q->count--;
    q->bytes -= ev->qbytes;
    ev->next = NULL;
    return ev;
}

void pl_event_queue_splice(pl_event_queue *dst, pl_event_queue *src)
{
    if (!src->head)
        return;
    if (dst->tail)
        dst->tail->next = src->head;
    else
        dst->head = src->head;
    dst->tail = src->tail;
    dst->count += src->count;
    dst->bytes += src->bytes;
    src->head = src->tail = NULL;
    src->count = 0;
    src->bytes = 0;
}

void pl_event_queue_clear(pl_event_queue *q)
{
    parley_event *ev;
    while ((ev = pl_event_queue_pop(q)))
        parley_event_free(ev);
}

/* ---- the host's accessors (parley.h, "events") ------------------------------ */

int parley_event_type(const parley_event *ev)
{
    return ev ? ev->type : 0;
}
int parley_event_state(const parley_event *ev)
{
    return ev ? ev->state : 0;
}
const char *parley_event_conversation_id(const parley_event *ev)
{
    return ev ? ev->conv : NULL;
}
const char *parley_event_message_id(const parley_event *ev)
{
    return ev ? ev->id : NULL;
}
const char *parley_event_client_id(const parley_event *ev)
{
    return ev ? ev->cid : NULL;
}
const char *parley_event_seq(const parley_event *ev)
{
    return ev ? ev->seq : NULL;
}
const char *parley_event_text(const parley_event *ev)
{
    return ev ? ev->text : NULL;
}
int parley_event_author_kind(const parley_event *ev)
{
    return ev ? ev->author_kind : 0;
}
const char *parley_event_author_name(const parley_event *ev)
{
    return ev ? ev->author_name : NULL;
}
int64_t parley_event_timestamp_ms(const parley_event *ev)
{
    return ev ? ev->ts : 0;
}
uint32_t parley_event_retry_ms(const parley_event *ev)
{
    return ev ? ev->retry_ms : 0;
}
int parley_event_error_code(const parley_event *ev)
{
    return ev ? ev->error_code : 0;
}
uint32_t parley_event_tls_failures(const parley_event *ev)
{
    return ev ? ev->tls_failures : 0;
}

/* Structured content (a message's blocks), or a survey's definition. */
int parley_event_block_count(const parley_event *ev)
{
    return ev && ev->content ? ev->content->n_blocks : 0;
}

const parley_block *parley_event_block(const parley_event *ev, int i)
{
    return i >= 0 && i < parley_event_block_count(ev) ? &ev->content->blocks[i] : NULL;
}

const char *parley_event_raw_json(const parley_event *ev)
{
    if (!ev)
        return NULL;
    if (ev->content)
        return ev->content->raw_json;
    return ev->survey ? ev->survey->json : NULL;
}

const parley_survey *parley_event_survey(const parley_event *ev)
{
    return ev ? ev->survey : NULL;
}

/* Queues, counts and the answers to requests. */
int parley_event_queue_position(const parley_event *ev)
{
    return ev ? ev->queue_pos : -1;
}
uint32_t parley_event_wait_s(const parley_event *ev)
{
    return ev ? ev->wait_s : 0;
}
uint32_t parley_event_count(const parley_event *ev)
{
    return ev ? ev->count : 0;
}
const char *parley_event_request_id(const parley_event *ev)
{
    return ev ? ev->req : NULL;
}
int parley_event_more(const parley_event *ev)
{
    return ev ? ev->more : 0;
}
int parley_event_item_count(const parley_event *ev)
{
    return ev ? ev->n_items : 0;
}
const char *parley_event_title(const parley_event *ev)
{
    return ev ? ev->title : NULL;
}
const char *parley_event_url(const parley_event *ev)
{
    return ev ? ev->url : NULL;
}

const parley_event *parley_event_item(const parley_event *ev, int i)
{
    return i >= 0 && i < parley_event_item_count(ev) ? ev->items[i] : NULL;
}

/* Attachments and the local history. */
const char *parley_event_attachment_id(const parley_event *ev)
{
    return ev && ev->attachment ? ev->attachment->id : NULL;
}
const char *parley_event_attachment_name(const parley_event *ev)
{
    return ev && ev->attachment ? ev->attachment->name : NULL;
}
const char *parley_event_attachment_type(const parley_event *ev)
{
    return ev && ev->attachment ? ev->attachment->type : NULL;
}
const char *parley_event_attachment_sha256(const parley_event *ev)
{
    return ev && ev->attachment ? ev->attachment->sha256 : NULL;
}
int64_t parley_event_attachment_size(const parley_event *ev)
{
    return ev && ev->attachment ? (int64_t)ev->attachment->size : 0;
}
int64_t parley_event_bytes_done(const parley_event *ev)
{
    return ev ? ev->bytes_done : 0;
}
int64_t parley_event_bytes_total(const parley_event *ev)
{
    return ev ? ev->bytes_total : 0;
}
int parley_event_from_device(const parley_event *ev)
{
    return ev ? ev->from_device : 0;
}

int parley_event_attachment_chunk(const parley_event *ev, char *buf, size_t size)
{
    if (!ev || !buf || size < ev->data_len)
        return PARLEY_ERR_INVALID_ARG;
    if (ev->data_len)
        memcpy(buf, ev->data, ev->data_len);
    return (int)ev->data_len;
}
