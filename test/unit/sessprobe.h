/* Driving the session engine frame by frame in unit tests (test_session,
 * test_rich, test_survey): frames fed in as JSON text, frames taken out and
 * parsed with cJSON, events checked one by one, a journal in memory. The
 * feature tests share one fixture (fixture.h); test_session keeps its own. */
#ifndef PARLEY_TEST_SESSPROBE_H
#define PARLEY_TEST_SESSPROBE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "session/session.h"
#include "store/storage.h"
#include "testlib.h"

/* A frame (or part of one) kept as a file in test/unit/frames/. */
#define FRAME(name) tl_text_file(PARLEY_FRAMES "/" name)

/* app "my-game", anonymous "a-0000", platform "test-os", backoff 500..30000. */
extern const pl_sess_config sp_default_cfg;

/* The string at a dotted path ("user.anon"), or NULL. */
const char *sp_jstr(const cJSON *obj, const char *path);
const cJSON *sp_jget(const cJSON *obj, const char *key);

/* The next frame the session would write, parsed, and marked written; NULL
 * when there is none. Caller deletes. */
cJSON *sp_take_frame(pl_sess *s);
/* The same, required: the test stops when there is none or its "t" is not
 * `type`. */
cJSON *sp_expect_frame(pl_sess *s, const char *type, const char *file, int line);
/* Checks there is no frame to write (and prints one that is). */
void sp_expect_no_frame(pl_sess *s, const char *file, int line);

/* Feeds one frame; the session must take it (PARLEY_OK), else the test stops. */
void sp_feed(pl_sess *s, int64_t now, const char *json, const char *file, int line);

/* Events: `q` collects what the session produced. */
parley_event *sp_next_event(pl_sess *s, pl_event_queue *q);
int sp_event_count(pl_sess *s, pl_event_queue *q);
void sp_drain_events(pl_sess *s, pl_event_queue *q);
/* Pops the next event and checks its type (required: the test stops when
 * there is none or it is of another type) and, unless SP_ANY_STATE, its
 * state; returns it (caller frees). */
#define SP_ANY_STATE (-1)
parley_event *sp_expect_event(pl_sess *s, pl_event_queue *q, int type, int state, const char *file,
                              int line);
/* Prints the events still queued and the next frame out, consuming
 * nothing: what a fixture's tl_on_failure hook shows. */
void sp_dump(pl_sess *s, pl_event_queue *q);

/* A journal over an in-memory file system, so a "restart" is pl_sess_free
 * then pl_sess_new on the same bytes. Close the journal, then
 * tl_memfs_free(&m->fs). */
typedef struct sp_memio {
    tl_memfs fs;
    pl_storage_host host;
} sp_memio;
pl_journal *sp_open_mem_journal(sp_memio *m);

#endif
