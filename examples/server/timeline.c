#include "timeline.h"

#include <stdlib.h>
#include <string.h>

typedef struct walk {
    tl_facts *f;
    size_t cap_ep, cap_nrt;
    int64_t hold_since; /* when the current holder took it */
    const char *writers[TL_MAX_AGENTS];
    int oom;
} walk;

static const char *const ACTIONS[] = {
    [TL_HANDOFF] = "handoff", [TL_ASSIGN] = "assign", [TL_TRANSFER] = "transfer", [TL_BOT] = "bot",
    [TL_CLOSE] = "close",     [TL_REOPEN] = "reopen", [TL_PRIORITY] = "priority",
};

int tl_kind_of_action(const char *name)
{
    size_t i;

    for (i = 0; name && i < sizeof ACTIONS / sizeof ACTIONS[0]; i++) {
        if (ACTIONS[i] && strcmp(ACTIONS[i], name) == 0)
            return (int)i;
    }
    return -1;
}

const char *tl_action_name(tl_kind k)
{
    return (size_t)k < sizeof ACTIONS / sizeof ACTIONS[0] ? ACTIONS[k] : NULL;
}

void tl_facts_clear(tl_facts *f)
{
    free(f->episodes);
    free(f->nrt_ms);
    free(f->nrt_at);
    memset(f, 0, sizeof *f);
}

const tl_episode *tl_current(const tl_facts *f)
{
    if (f->n_episodes && !f->episodes[f->n_episodes - 1].end)
        return &f->episodes[f->n_episodes - 1];
    return NULL;
}

static tl_episode *current(tl_facts *f)
{
    return (tl_episode *)tl_current(f);
}

static void start_episode(walk *w, int64_t ts)
{
    tl_facts *f = w->f;

    if (current(f))
        return;
    if (f->n_episodes == w->cap_ep) {
        size_t cap = w->cap_ep ? 2 * w->cap_ep : 4;
        tl_episode *p = realloc(f->episodes, cap * sizeof *p);

        if (!p) {
            w->oom = 1;
            return;
        }
        f->episodes = p;
        w->cap_ep = cap;
    }
    memset(&f->episodes[f->n_episodes], 0, sizeof *f->episodes);
    f->episodes[f->n_episodes++].start = ts;
    if (!f->first_start)
        f->first_start = ts;
    f->awaiting_since = 0;
}

static void end_episode(tl_facts *f, int64_t ts)
{
    tl_episode *e = current(f);

    if (e)
        e->end = ts;
    f->awaiting_since = 0;
}

static tl_hold *hold_of(tl_facts *f, const char *agent)
{
    size_t i;

    for (i = 0; i < f->n_holds; i++) {
        if (strcmp(f->holds[i].agent, agent) == 0)
            return &f->holds[i];
    }
    if (f->n_holds == TL_MAX_AGENTS)
        return NULL;
    f->holds[f->n_holds].agent = agent;
    f->holds[f->n_holds].ms = 0;
    return &f->holds[f->n_holds++];
}

/* The current holder lets go at ts. */
static void release(walk *w, int64_t ts)
{
    tl_facts *f = w->f;
    tl_hold *h;

    if (!f->holder)
        return;
    if (ts > w->hold_since) {
        f->handle_ms += ts - w->hold_since;
        h = hold_of(f, f->holder);
        if (h)
            h->ms += ts - w->hold_since;
    }
    f->holder = NULL;
}

static void hold(walk *w, const char *agent, int64_t ts)
{
    if (!agent)
        return;
    release(w, ts);
    w->f->holder = w->f->last_holder = agent;
    w->hold_since = ts;
}

static void add_writer(walk *w, const char *agent)
{
    int i;

    for (i = 0; i < w->f->writers && i < TL_MAX_AGENTS; i++) {
        if (strcmp(w->writers[i], agent) == 0)
            return;
    }
    if (w->f->writers < TL_MAX_AGENTS)
        w->writers[w->f->writers] = agent;
    w->f->writers++;
}

static void add_nrt(walk *w, int64_t wait, int64_t at)
{
    tl_facts *f = w->f;

    if (f->n_nrt == w->cap_nrt) {
        size_t cap = w->cap_nrt ? 2 * w->cap_nrt : 8;
        int64_t *a = realloc(f->nrt_ms, cap * sizeof *a), *b;

        if (a)
            f->nrt_ms = a;
        b = a ? realloc(f->nrt_at, cap * sizeof *b) : NULL;
        if (!b) {
            w->oom = 1;
            return;
        }
        f->nrt_at = b;
        w->cap_nrt = cap;
    }
    f->nrt_ms[f->n_nrt] = wait;
    f->nrt_at[f->n_nrt++] = at;
}

static void agent_wrote(walk *w, const tl_event *e)
{
    tl_facts *f = w->f;
    tl_episode *ep;
    const char *agent = e->agent ? e->agent : "";

    /* Writing takes the conversation over from the bot or the queue. */
    if (!current(f))
        start_episode(w, e->ts);
    if (!f->holder)
        hold(w, agent, e->ts);
    add_writer(w, agent);
    ep = current(f);
    if (!ep)
        return;
    if (!ep->first_response) {
        ep->first_response = e->ts;
        ep->responder = agent;
    } else if (f->awaiting_since) {
        add_nrt(w, e->ts - f->awaiting_since, e->ts);
    }
    f->awaiting_since = 0;
}

static void user_wrote(walk *w, const tl_event *e)
{
    tl_episode *ep = current(w->f);

    if (ep && ep->first_response && !w->f->awaiting_since)
        w->f->awaiting_since = e->ts;
}

static void step(walk *w, const tl_event *e)
{
    tl_facts *f = w->f;

    switch (e->kind) {
    case TL_USER_MSG: user_wrote(w, e); break;
    case TL_BOT_MSG: break;
    case TL_AGENT_MSG: agent_wrote(w, e); break;
    case TL_HANDOFF:
        release(w, e->ts);
        start_episode(w, e->ts);
        break;
    case TL_TRANSFER:
        f->transfers++;
        /* fall through */
    case TL_ASSIGN:
        start_episode(w, e->ts);
        hold(w, e->agent, e->ts);
        break;
    case TL_BOT:
    case TL_CLOSE:
        release(w, e->ts);
        end_episode(f, e->ts);
        if (e->kind == TL_CLOSE) {
            f->closes++;
            f->last_close = e->ts;
        }
        break;
    case TL_REOPEN:
        f->reopens++;
        release(w, e->ts);
        end_episode(f, e->ts);
        start_episode(w, e->ts);
        break;
    case TL_PRIORITY:
        if (e->priority)
            f->priority = e->priority;
        break;
    }
}

int tl_facts_compute(const tl_event *ev, size_t n, int64_t now, tl_facts *out)
{
    walk w;
    size_t i;

    memset(out, 0, sizeof *out);
    memset(&w, 0, sizeof w);
    w.f = out;
    out->priority = "normal";
    for (i = 0; i < n && !w.oom; i++)
        step(&w, &ev[i]);
    if (w.oom) {
        tl_facts_clear(out);
        return -1;
    }
    /* A running hold counts up to now, without letting go. */
    if (out->holder) {
        const char *holder = out->holder;

        release(&w, now);
        out->holder = holder;
    }
    return 0;
}
