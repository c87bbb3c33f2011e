/* The parley.v1 WebSocket transport (docs/protocol.md, "Transport"): the
 * lws callbacks of the endpoint "/", reassembly of fragmented frames, each
 * connection's output queue and paged replay, closing, and the rate limits
 * every frame passes before its handler runs. Which handler a frame type
 * has is the server's table (server.h, frame_table.c): this file knows
 * none of them, and no handler sees libwebsockets. */
#ifndef PARLEY_SERVER_WS_H
#define PARLEY_SERVER_WS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "server.h"

struct lws_protocols;

typedef struct ws_conn ws_conn;

/* A handler of one client frame type; `f` is the parsed frame. */
typedef void (*ws_frame_fn)(ws_conn *c, const cJSON *f);

typedef struct ws_route {
    const char *type;
    ws_frame_fn fn;
} ws_route;

/* Fills the "parley.v1" protocol lws serves (its name, callback and
 * per-connection size). */
void ws_protocol(struct lws_protocols *p);

/* ---- for frame handlers: the connection a frame came on ---- */

server *ws_conn_server(const ws_conn *c);
/* The user signed in on it ("" before hello). */
const char *ws_conn_user(const ws_conn *c);
int ws_conn_signed_in(const ws_conn *c);
/* hello was accepted: the connection now acts for `user`. */
void ws_conn_sign_in(ws_conn *c, const char *user);

/* Queues a frame and frees it (NULL: out of memory, the connection is
 * dropped). */
void ws_conn_send(ws_conn *c, char *json);
/* `cid` is dropped unless it is an identifier. */
void ws_conn_error(ws_conn *c, const char *code, const char *message, const char *cid);

typedef enum { WS_CLOSE_NORMAL, WS_CLOSE_POLICY, WS_CLOSE_ERROR } ws_close;
/* Reads nothing more and closes once everything queued is written. */
void ws_conn_close(ws_conn *c, ws_close why);

/* Queues stored messages of `conv` with seq > after, sent a page at a time
 * as the client reads (replay.h): all of them for a resume, at most
 * `limit` and a history.end for a history.get (`history` set). 0, 1 when
 * the connection already has the most history.get answers pending, -1
 * when out of memory (the connection is dropped). */
int ws_conn_replay(ws_conn *c, const char *conv, int64_t after, int history, int64_t limit);

/* Refuses the frame `f` of `type` over a limit with `rate_limited`: a frame
 * the client keeps until answered (one with a cid, or a history.get) must
 * not be overtaken by later ones, so the connection is closed and the
 * client sends it again, in order, on its next one; other refusals close
 * it only when they keep coming. */
void ws_conn_refuse(ws_conn *c, const cJSON *f, const char *type, const char *message,
                    int64_t retry_ms);

/* ---- pushes to every connection signed in as a user ---- */

void ws_push(server *s, const char *user, const char *json);
/* 1 when a connection is signed in as `user`. */
int ws_user_online(const server *s, const char *user);
/* A `msg` of `conv` with `seq`: not to `except` (may be NULL), nor to a
 * connection with a replay of that conversation pending, which brings it
 * in its place; never twice, nor after a gap, to one connection (a gap is
 * read from the store first). */
void ws_push_msg(server *s, const char *user, const char *conv, int64_t seq, const char *json,
                 const ws_conn *except);
/* Tells the user's connections why they end (an `error` of `code`) and
 * closes them. */
void ws_close_user(server *s, const char *user, const char *code, const char *message);
/* The open group of writes was committed (`committed` 1) or rolled back
 * (0): the frames held for it go out, or their connections are dropped. */
void ws_group_done(server *s, int committed);
/* Tells every connection to go away, each told to come back after its own
 * delay, spread evenly from reconnect_ms to reconnect_ms + window_ms, and
 * closes each once its queue is flushed. */
void ws_goaway_all(server *s, int reconnect_ms, int window_ms, const char *reason);

#endif
