/* The feature tests' fixture (test_content, test_postbacks, test_typing,
 * test_receipts, test_requests, test_surveys, test_proactive,
 * test_features): the session engine with every feature module the client
 * has, registered in the client's order, over a counting allocator, a fake
 * clock and an optional journal. Frames go in as JSON text (Q() writes
 * them), frames come out parsed, events are taken one by one; on a failed
 * check the events and the next frame still queued are printed. */
#ifndef PARLEY_TEST_FIXTURE_H
#define PARLEY_TEST_FIXTURE_H

#include <stdint.h>

#include <cjson/cJSON.h>

#include "feature/postbacks.h"
#include "feature/proactive.h"
#include "feature/receipts.h"
#include "feature/requests.h"
#include "feature/surveys.h"
#include "feature/typing.h"
#include "feature/user_context.h"
#include "session/session.h"
#include "sessprobe.h"
#include "testlib.h"

typedef struct fx {
    tl_alloc ta;
    pl_alloc a;
    pl_rand *rand;
    pl_journal *j;    /* NULL: everything in memory */
    pl_ctx_config cc; /* the context module's: consent, built-in redactor */
    pl_sess *s;
    pl_ctx *ctx;
    pl_receipts *receipts;
    pl_requests *requests;
    pl_typing *typing;
    pl_postbacks *postbacks;
    pl_proactive *pro;
    pl_surveys *sv;
    int64_t now;
    pl_event_queue evq;
} fx;

/* A fixture over `j` (may be NULL), offline; the test stops unless every
 * module came up. */
void fx_init(fx *f, pl_journal *j);
/* The same without the session and modules: an out-of-memory loop arms
 * f->ta and then calls fx_open. */
void fx_prepare(fx *f, pl_journal *j);
/* The session and the modules over f->j (again after fx_close: a restart,
 * or under an allocator armed to fail); 1 when all came up. */
int fx_open(fx *f);
void fx_close(fx *f);
/* Closes, frees the events, and checks that nothing allocated is left. */
void fx_free(fx *f);

/* Connects (at once, or when the backoff is over): hello out, welcome in,
 * the events drained. What a new connection gets (context, read marks,
 * requests, resends) is left to the test. */
void fx_connect(fx *f);
/* fx_connect, then the context frames taken; nothing else may be queued. */
void fx_online(fx *f);
/* fx_init, then fx_online. */
void fx_start(fx *f, pl_journal *j);
/* The connection drops; the clock moves on to the reconnect; the events
 * are drained. */
void fx_drop(fx *f);

parley_event *next_event(fx *f);
int event_count(fx *f);
void drain_events(fx *f);
/* The next frame out, parsed (caller deletes), or NULL. */
cJSON *take_frame(fx *f);

/* A bot message in c-1 with id m-<seq>, seq <seq>, text "pick" and the
 * blocks given (a JSON array text). */
void fx_feed_blocks(fx *f, const char *seq, const char *blocks);

/* Frames the feature tests share. */
#define QR_OK "{'kind':'quick_replies','options':[{'id':'ok1','label':'Fine'}]}" /* for Q() */
#define ALL_KINDS FRAME("blocks_all_kinds.json") /* one block of each kind */
#define CSAT FRAME("survey_csat.json")           /* the protocol's example survey, sv-12 */

#define FEED(f, json) sp_feed((f)->s, (f)->now, (json), __FILE__, __LINE__)
/* The next event, of `type` (required; caller frees). */
#define EXPECT_EVENT(f, type)                                                                      \
    sp_expect_event((f)->s, &(f)->evq, (type), SP_ANY_STATE, __FILE__, __LINE__)
#define EXPECT_EVENT_STATE(f, type, state)                                                         \
    sp_expect_event((f)->s, &(f)->evq, (type), (state), __FILE__, __LINE__)
/* The next frame out, of `type` (required; caller deletes). */
#define EXPECT_FRAME(f, type) sp_expect_frame((f)->s, (type), __FILE__, __LINE__)
#define EXPECT_NO_FRAME(f) sp_expect_no_frame((f)->s, __FILE__, __LINE__)

#endif
