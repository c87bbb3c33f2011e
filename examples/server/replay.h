/* Paged replay: the stored messages a connection asked for (the resume
 * cursors of its hello, its history.get requests) are read and queued one
 * page at a time, from its writeable callback, when its output queue is
 * nearly empty. A client resuming 100,000 messages then neither holds the
 * service thread in one callback nor makes the server queue them all: the
 * replay moves at the pace the client reads. */
#ifndef PARLEY_SERVER_REPLAY_H
#define PARLEY_SERVER_REPLAY_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"

typedef struct replay_job replay_job;

/* A connection's pending replays, oldest first; zeroed is empty. */
typedef struct replay_q {
    replay_job *head, *tail;
    size_t n_history; /* history.get answers among them */
} replay_q;

/* ws.c asks for the next page once less than this is queued on the
 * connection, and a page adds about this much (at most 256 messages). */
#define REPLAY_PAGE_BYTES 65536

/* At most this many history.get answers may be pending on a connection
 * (the client asks once per conversation with a gap). */
#define REPLAY_MAX_HISTORY 32

/* Queues the messages of `conv` with seq > after. A history.get answer
 * (`history` set) sends at most `limit` of them and ends with history.end;
 * a resume sends all. 0, or -1 when out of memory. The caller checked that
 * the conversation is the connection's. */
int replay_add(replay_q *r, const char *conv, int64_t after, int history, int64_t limit);
int replay_pending(const replay_q *r);
/* 1 when a message of `conv` pushed live now would overtake older ones a
 * pending replay is still to send; the replay sends it in its turn then. */
int replay_covers(const replay_q *r, const char *conv);
/* Where a page goes: `send` queues one frame (a JSON text it takes; NULL
 * when out of memory) on the connection; `sent` learns what it was. */
typedef struct replay_sink {
    void (*send)(void *ud, char *json);
    /* After each message: its conversation and seq (may be NULL). */
    void (*sent)(void *ud, const char *conv, int64_t seq);
    void *ud;
} replay_sink;

/* Queues the next page (about `budget` bytes) of messages read from `s`. */
void replay_step(replay_q *r, store *s, const replay_sink *sink, size_t budget);
void replay_clear(replay_q *r);

#endif
