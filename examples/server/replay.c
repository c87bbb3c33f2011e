#include "replay.h"

#include <stdlib.h>
#include <string.h>

#include "wire.h"

/* A page is cut after this many messages even when they are small, and
 * this many empty conversations are looked up per step at most, so one
 * callback does a bounded amount of work. */
#define PAGE_MAX_MSGS 256
#define STEP_MAX_JOBS 16

struct replay_job {
    replay_job *next;
    int64_t after; /* the last seq sent, or the cursor */
    int64_t left;  /* history.get: messages it may still send */
    int history;   /* ends with history.end */
    char conv[];
};

int replay_add(replay_q *r, const char *conv, int64_t after, int history, int64_t limit)
{
    size_t len = strlen(conv) + 1;
    replay_job *j = malloc(sizeof *j + len);

    if (!j)
        return -1;
    j->next = NULL;
    j->after = after;
    j->left = limit;
    j->history = history;
    memcpy(j->conv, conv, len);
    if (r->tail)
        r->tail->next = j;
    else
        r->head = j;
    r->tail = j;
    r->n_history += history != 0;
    return 0;
}

int replay_pending(const replay_q *r)
{
    return r->head != NULL;
}

int replay_covers(const replay_q *r, const char *conv)
{
    const replay_job *j;

    for (j = r->head; j; j = j->next) {
        if (strcmp(j->conv, conv) == 0)
            return 1;
    }
    return 0;
}

static void pop(replay_q *r)
{
    replay_job *j = r->head;

    r->head = j->next;
    if (!r->head)
        r->tail = NULL;
    r->n_history -= j->history != 0;
    free(j);
}

void replay_clear(replay_q *r)
{
    while (r->head)
        pop(r);
}

enum { PAGE_DONE, PAGE_FULL, PAGE_LIMIT };

typedef struct page {
    const replay_sink *sink;
    replay_job *job;
    size_t bytes, budget;
    int msgs;
} page;

static int page_one(void *ud, const store_msg *m)
{
    page *p = ud;
    char *json;

    if (p->job->history && p->job->left == 0)
        return PAGE_LIMIT;
    json = wire_msg(m);
    p->bytes += json ? strlen(json) : 0;
    p->sink->send(p->sink->ud, json);
    p->job->after = m->seq;
    if (p->sink->sent)
        p->sink->sent(p->sink->ud, p->job->conv, m->seq);
    if (p->job->history)
        p->job->left--;
    p->msgs++;
    return p->bytes >= p->budget || p->msgs >= PAGE_MAX_MSGS ? PAGE_FULL : PAGE_DONE;
}

/* Ends the head job; a history.get answer says where it stopped. */
static void finish(replay_q *r, const replay_sink *sink, int rc)
{
    replay_job *j = r->head;

    if (j->history && rc < 0)
        sink->send(sink->ud, wire_error("internal", "cannot read history, try again later", NULL));
    else if (j->history)
        sink->send(sink->ud, wire_history_end(j->conv, j->after, rc == PAGE_LIMIT));
    pop(r);
}

void replay_step(replay_q *r, store *s, const replay_sink *sink, size_t budget)
{
    page p = {sink, NULL, 0, budget, 0};
    int64_t rows;
    int jobs, rc;

    for (jobs = 0; r->head && jobs < STEP_MAX_JOBS && p.bytes < budget && p.msgs < PAGE_MAX_MSGS;
         jobs++) {
        p.job = r->head;
        /* One row more than the page takes: page_one sees whether more follow. */
        rows = PAGE_MAX_MSGS - p.msgs;
        if (p.job->history && p.job->left < rows)
            rows = p.job->left;
        rc = store_msg_each(s, p.job->conv, p.job->after, rows + 1, page_one, &p);
        if (rc == PAGE_FULL)
            return;
        finish(r, sink, rc);
    }
}
