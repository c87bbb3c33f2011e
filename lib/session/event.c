#include "session/event.h"

#include <string.h>

#include "feature/surveys.h"
#include "feature/rich.h"

parley_event *pl_event_new(const pl_alloc *a, int type)
{
    parley_event *ev = pl_calloc(a, 1, sizeof *ev);
    if (!ev)
        return NULL;
    ev->alloc = *a;
    ev->type = type;
    return ev;
}

int pl_event_set(parley_event *ev, char **field, const char *s)
{
    char *copy = NULL;
    if (s && !(copy = pl_strdup(&ev->alloc, s)))
        return PARLEY_ERR_NOMEM;
    pl_free(&ev->alloc, *field);
    *field = copy;
    return PARLEY_OK;
}

void parley_event_free(parley_event *ev)
{
    if (!ev)
        return;
    pl_alloc a = ev->alloc;
    char *fields[] = {ev->conv, ev->id, ev->cid, ev->seq, ev->text, ev->author_name};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        pl_free(&a, fields[i]);
    pl_ev_rich_free(&a, ev->rich);
    pl_survey_unref(ev->survey);
    pl_free(&a, ev);
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

/* A survey model is shared with the module that keeps it; counting it in
 * each event that refers to it overstates, never understates. */
static size_t survey_size(const parley_survey *sv)
{
    if (!sv)
        return 0;
    return sizeof *sv + sv->n_questions * sizeof *sv->questions + str_size(sv->json) + str_size(sv->frame);
}

size_t pl_event_size(const parley_event *ev)
{
    const char *fields[] = {ev->conv, ev->id, ev->cid, ev->seq, ev->text, ev->author_name};
    size_t n = sizeof *ev + pl_ev_rich_size(ev->rich) + survey_size(ev->survey);
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++)
        n += str_size(fields[i]);
    return n;
}

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

int parley_event_type(const parley_event *ev) { return ev ? ev->type : 0; }
int parley_event_state(const parley_event *ev) { return ev ? ev->state : 0; }
const char *parley_event_conversation_id(const parley_event *ev) { return ev ? ev->conv : NULL; }
const char *parley_event_message_id(const parley_event *ev) { return ev ? ev->id : NULL; }
const char *parley_event_client_id(const parley_event *ev) { return ev ? ev->cid : NULL; }
const char *parley_event_seq(const parley_event *ev) { return ev ? ev->seq : NULL; }
const char *parley_event_text(const parley_event *ev) { return ev ? ev->text : NULL; }
int parley_event_author_kind(const parley_event *ev) { return ev ? ev->author_kind : 0; }
const char *parley_event_author_name(const parley_event *ev) { return ev ? ev->author_name : NULL; }
int64_t parley_event_timestamp_ms(const parley_event *ev) { return ev ? ev->ts : 0; }
uint32_t parley_event_retry_ms(const parley_event *ev) { return ev ? ev->retry_ms : 0; }
int parley_event_error_code(const parley_event *ev) { return ev ? ev->error_code : 0; }
uint32_t parley_event_tls_failures(const parley_event *ev) { return ev ? ev->tls_failures : 0; }
