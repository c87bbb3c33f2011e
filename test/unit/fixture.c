#include "fixture.h"
#include "platform/entropy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void dump(void *user)
{
    fx *f = user;
    sp_dump(f->s, &f->evq);
}

int fx_open(fx *f)
{
    pl_sess_config cfg = sp_default_cfg;
    cfg.journal = f->j;
    const pl_alloc *a = &f->a;
    f->s = pl_sess_new(a, &cfg, f->rand, NULL);
    f->ctx = f->s ? pl_ctx_new(a, f->s, &f->cc, NULL) : NULL;
    f->receipts = f->ctx ? pl_receipts_new(a, f->s, f->j, NULL) : NULL;
    f->requests = f->receipts ? pl_requests_new(a, f->s, NULL) : NULL;
    f->typing = f->requests ? pl_typing_new(a, f->s, NULL) : NULL;
    f->postbacks = f->typing ? pl_postbacks_new(a, f->s, f->j, NULL) : NULL;
    f->pro = f->postbacks ? pl_proactive_new(a, f->s, f->j, NULL) : NULL;
    f->sv = f->pro ? pl_surveys_new(a, f->s, f->ctx, f->pro, f->j, NULL) : NULL;
    return f->sv != NULL;
}

void fx_close(fx *f)
{
    pl_surveys_free(f->sv);
    pl_proactive_free(f->pro);
    pl_postbacks_free(f->postbacks);
    pl_typing_free(f->typing);
    pl_requests_free(f->requests);
    pl_receipts_free(f->receipts);
    pl_ctx_free(f->ctx);
    pl_sess_free(f->s);
    f->sv = NULL;
    f->pro = NULL;
    f->postbacks = NULL;
    f->typing = NULL;
    f->requests = NULL;
    f->receipts = NULL;
    f->ctx = NULL;
    f->s = NULL;
}

void fx_prepare(fx *f, pl_journal *j)
{
    memset(f, 0, sizeof *f);
    tl_alloc_reset(&f->ta);
    f->a = (pl_alloc){tl_malloc, tl_realloc, tl_free, &f->ta};
    f->rand = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
    f->now = 1000;
    f->j = j;
    f->cc = (pl_ctx_config){.consent = 1, .redact = {.builtin = 1}};
    tl_on_failure(dump, f);
}

void fx_init(fx *f, pl_journal *j)
{
    fx_prepare(f, j);
    REQUIRE(fx_open(f));
}

void fx_free(fx *f)
{
    fx_close(f);
    pl_event_queue_clear(&f->evq);
    pl_rand_free(f->rand);
    f->rand = NULL;
    CHECK_INT(f->ta.live, 0);
}

parley_event *next_event(fx *f)
{
    return sp_next_event(f->s, &f->evq);
}

int event_count(fx *f)
{
    return sp_event_count(f->s, &f->evq);
}

void drain_events(fx *f)
{
    sp_drain_events(f->s, &f->evq);
}

cJSON *take_frame(fx *f)
{
    return sp_take_frame(f->s);
}

void fx_connect(fx *f)
{
    pl_sess_go_online(f->s, f->now);
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    if (deadline > f->now)
        f->now = deadline;
    REQUIRE(pl_sess_want(f->s, f->now, NULL) & PL_SESS_WANT_CONNECT);
    pl_sess_on_connecting(f->s, f->now);
    pl_sess_on_open(f->s, f->now);
    cJSON_Delete(EXPECT_FRAME(f, "hello"));
    FEED(f, Q("{'t':'welcome','session':'s-1'}"));
    drain_events(f);
}

void fx_online(fx *f)
{
    fx_connect(f);
    cJSON *j;
    while ((j = take_frame(f)) && strcmp(sp_jstr(j, "t"), "context") == 0)
        cJSON_Delete(j);
    /* Tests that expect more after the welcome use fx_connect. */
    int only_context = j == NULL;
    cJSON_Delete(j);
    REQUIRE(only_context);
}

void fx_start(fx *f, pl_journal *j)
{
    fx_init(f, j);
    fx_online(f);
}

void fx_drop(fx *f)
{
    pl_sess_on_closed(f->s, f->now, PARLEY_ERR_CLOSED, "gone");
    int64_t deadline = -1;
    pl_sess_want(f->s, f->now, &deadline);
    if (deadline > f->now)
        f->now = deadline;
    drain_events(f);
}

/* The blocks go in as they are (they may hold an apostrophe). */
void fx_feed_blocks(fx *f, const char *seq, const char *blocks)
{
    const char *format = Q("{'t':'msg','conv':'c-1','id':'m-%s','seq':'%s','author':{'kind':'bot'},"
                           "'text':'pick','blocks':%s}");
    size_t n = strlen(format) + 2 * strlen(seq) + strlen(blocks) + 1;
    char *msg = malloc(n);
    REQUIRE(msg != NULL);
    snprintf(msg, n, format, seq, seq, blocks);
    FEED(f, msg);
    free(msg);
}
