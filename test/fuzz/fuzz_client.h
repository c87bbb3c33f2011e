/* What the client fuzz targets share: a session engine with its modules
 * (the user's context, receipts, requests, typing, postbacks, proactive
 * content, surveys) over a journal in host storage in memory, driven
 * line by line by the fuzzer's input, as the facade would drive it but
 * without a socket, a clock or threads.
 *
 * A line that starts with '!' is an action of the host or the transport
 * (see fz_line in fuzz_client.c); any other line is one text frame from the
 * server. In frames, "$CONV" and "$CID" stand for the last conversation id
 * and client id the session minted, so an input can answer what the client
 * sent although ids are random. After every line the frames the session
 * wants to write are taken out and every event is read through the public
 * accessors (blocks, options, cards, surveys, questions), then freed. */
#ifndef PARLEY_FUZZ_CLIENT_H
#define PARLEY_FUZZ_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "feature/postbacks.h"
#include "feature/proactive.h"
#include "feature/receipts.h"
#include "feature/requests.h"
#include "feature/surveys.h"
#include "feature/typing.h"
#include "feature/user_context.h"
#include "session/event.h"
#include "session/session.h"
#include "store/storage.h"
#include "testlib.h"

typedef struct fz_world {
    tl_memfs fs;
    pl_storage_host host;
    pl_journal *journal;
    pl_rand *rand;
    pl_sess *sess;
    pl_ctx *ctx;
    pl_receipts *receipts;
    pl_requests *requests;
    pl_typing *typing;
    pl_postbacks *postbacks;
    pl_proactive *proactive;
    pl_surveys *survey;
    int64_t now;
    char conv[PARLEY_ID_SIZE];     /* the last conversation started */
    char cid[PARLEY_ID_SIZE];      /* the last client id minted */
    char survey_id[PL_MAX_ID + 1]; /* the last survey received */
    int restarts;                  /* how many `!r` this input has run */
    size_t replay_left;            /* journal bytes later restarts may replay */
    int trace;                     /* PARLEY_FUZZ_TRACE is set */
} fz_world;

/* A fresh world for an input of `size` bytes: journal in memory, modules
 * registered, online and welcomed. 0, or -1 when out of memory (the caller
 * skips the input). */
int fz_open(fz_world *w, size_t size);
void fz_close(fz_world *w);

/* One line of input, `len` bytes (not NUL-terminated). */
void fz_line(fz_world *w, const char *line, size_t len);
/* Every line of data[size], in order. */
void fz_lines(fz_world *w, const uint8_t *data, size_t size);

/* Frames out and events out, as after each line. */
void fz_pump(fz_world *w);
/* Reads every public accessor of an event and what it holds. */
void fz_walk_event(const parley_event *ev);

/* The length of the first line of data[size] (up to, not including, '\n'). */
size_t fz_line_len(const uint8_t *data, size_t size);

#endif
