/* Fan-out between instances (--redis, docs/scaling.md, "Several
 * instances"): every live frame an instance produces for users or agents is
 * published on one Redis pub/sub channel, and every instance delivers what
 * the others publish to its own connections. So a user on instance A and an
 * agent on instance B see each other live, while the conversations
 * themselves (messages, their seq, states) live in the shared store.
 *
 * A frame published while a group of writes is open leaves only once that
 * group has committed (it is dropped with a group that could not): another
 * instance never shows what the store may lose. An instance ignores its
 * own publications (it delivered them itself). Pub/sub is at most once:
 * what is published while Redis is unreachable is not seen elsewhere live;
 * a `msg` that then arrives after a gap makes the receiving connection read
 * the missing ones from the store (ws.c), and clients resuming read it too.
 *
 * Without --redis every call here does nothing. Needs the libuv event loop
 * (hiredis' libuv adapter runs on lws' loop) and a build with hiredis. */
#ifndef PARLEY_SERVER_FANOUT_H
#define PARLEY_SERVER_FANOUT_H

#include <stdint.h>

#include "server.h"

struct lws_context;

/* 1 when this build can fan out (hiredis and lws' libuv loop). */
int fanout_available(void);
/* Connects to `url` (redis://host:port) on `uv_loop`, the context's libuv
 * loop (evloop_uv_loop; NULL: the context does not run on libuv), and
 * subscribes; reconnects by itself when Redis goes away (a timer of the
 * context). 0, or -1 with the reason on stderr (a bad URL, no libuv loop,
 * out of memory). */
int fanout_start(server *s, struct lws_context *ctx, void *uv_loop, const char *url);
/* Publishes what is still waiting and disconnects; before the context goes. */
void fanout_stop(server *s);

/* Publishing, beside the local delivery: a frame to the connections of
 * `user`; a `msg` frame of `conv` with its seq; a frame to every agent
 * channel. No-ops without --redis. */
void fanout_user(server *s, const char *user, const char *json);
void fanout_msg(server *s, const char *user, const char *conv, int64_t seq, const char *json);
void fanout_agents(server *s, const char *json);
/* The open group of writes was committed (1) or rolled back (0): what was
 * published meanwhile leaves, or is dropped. */
void fanout_group_done(server *s, int committed);

/* Counters since the start, for logs and tests. */
typedef struct fanout_stats {
    int64_t published, received, dropped;
} fanout_stats;
void fanout_get_stats(const server *s, fanout_stats *out);

#endif
