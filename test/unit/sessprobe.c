#include "sessprobe.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const pl_sess_config sp_default_cfg = {
    .app_id = "my-game",
    .anon_id = "a-0000",
    .platform = "test-os",
    .backoff_initial_ms = 500,
    .backoff_max_ms = 30000,
};

const char *sp_jstr(const cJSON *obj, const char *path)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = obj;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    return cJSON_IsString(cur) ? cur->valuestring : NULL;
}

const cJSON *sp_jget(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

cJSON *sp_take_frame(pl_sess *s)
{
    const char *data;
    size_t len;
    if (!pl_sess_peek_frame(s, &data, &len))
        return NULL;
    cJSON *j = cJSON_ParseWithLength(data, len);
    CHECK(j != NULL);
    pl_sess_frame_written(s);
    return j;
}

cJSON *sp_expect_frame(pl_sess *s, const char *type, const char *file, int line)
{
    cJSON *j = sp_take_frame(s);
    if (!tl_check(j != NULL, "a frame is queued", file, line))
        tl_stop();
    if (!tl_check_str(sp_jstr(j, "t"), type, "frame type", file, line)) {
        cJSON_Delete(j);
        tl_stop();
    }
    return j;
}

void sp_expect_no_frame(pl_sess *s, const char *file, int line)
{
    cJSON *j = sp_take_frame(s);
    tl_check(j == NULL, "no frame queued", file, line);
    if (j) {
        char *t = cJSON_PrintUnformatted(j);
        fprintf(stderr, "  unexpected frame: %s\n", t);
        free(t);
        cJSON_Delete(j);
    }
}

void sp_feed(pl_sess *s, int64_t now, const char *json, const char *file, int line)
{
    if (!tl_check_int(pl_sess_on_frame(s, now, json, strlen(json)), PARLEY_OK, "pl_sess_on_frame",
                      file, line))
        tl_stop();
}

parley_event *sp_next_event(pl_sess *s, pl_event_queue *q)
{
    pl_sess_take_events(s, q);
    return pl_event_queue_pop(q);
}

int sp_event_count(pl_sess *s, pl_event_queue *q)
{
    pl_sess_take_events(s, q);
    return (int)q->count;
}

void sp_drain_events(pl_sess *s, pl_event_queue *q)
{
    pl_sess_take_events(s, q);
    pl_event_queue_clear(q);
}

static void describe(const parley_event *ev)
{
    fprintf(stderr, "    event type %d state %d conv %s id %s cid %s error %d: %s\n", ev->type,
            ev->state, ev->conv ? ev->conv : "-", ev->id ? ev->id : "-", ev->cid ? ev->cid : "-",
            ev->error_code, ev->text ? ev->text : "");
}

parley_event *sp_expect_event(pl_sess *s, pl_event_queue *q, int type, int state, const char *file,
                              int line)
{
    parley_event *ev = sp_next_event(s, q);
    if (!tl_check(ev != NULL, "an event is queued", file, line))
        tl_stop();
    if (!tl_check_int(ev->type, type, "event type", file, line)) {
        fprintf(stderr, "  the event that came instead:\n");
        describe(ev);
        parley_event_free(ev);
        tl_stop();
    }
    if (state != SP_ANY_STATE)
        tl_check_int(ev->state, state, "event state", file, line);
    return ev;
}

void sp_dump(pl_sess *s, pl_event_queue *q)
{
    if (!s)
        return;
    pl_sess_take_events(s, q);
    fprintf(stderr, "  %u event(s) still queued%s\n", (unsigned)q->count, q->count ? ":" : "");
    for (const parley_event *ev = q->head; ev; ev = ev->next)
        describe(ev);
    const char *data;
    size_t len;
    if (pl_sess_peek_frame(s, &data, &len))
        fprintf(stderr, "  next frame out: %.*s\n", (int)(len > 300 ? 300 : len), data);
}

pl_journal *sp_open_mem_journal(sp_memio *m)
{
    m->host.ops = tl_memfs_ops;
    m->host.user = &m->fs;
    pl_journal_io io;
    pl_storage_host_io(&m->host, &io);
    pl_journal *j = NULL;
    CHECK_INT(pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &j), PARLEY_OK);
    return j;
}
