/* The event loop parley-server runs libwebsockets on: lws' libuv loop
 * (epoll underneath) when the lws build has it, else lws' own poll() loop
 * (docs/scaling.md). With poll() every wake-up scans every connection, so
 * 10,000 idle connections cost a large share of a core; with epoll an idle
 * connection costs nothing until it has something to say.
 *
 * Signals end the loop the same way on both: SIGINT and SIGTERM make
 * evloop_service return with evloop_signal() set. */
#ifndef PARLEY_SERVER_EVLOOP_H
#define PARLEY_SERVER_EVLOOP_H

struct lws_context;
struct lws_context_creation_info;

typedef enum { EVLOOP_POLL, EVLOOP_LIBUV } evloop_kind;

/* The loop used when none is asked for: libuv when built in. */
evloop_kind evloop_default(void);
/* "poll" or "libuv": 0 and *out, or -1 (unknown, or not built in). */
int evloop_parse(const char *name, evloop_kind *out);
const char *evloop_name(evloop_kind k);

/* Sets the context options and signal handling of loop `k` in `info`
 * before lws_create_context. */
void evloop_configure(struct lws_context_creation_info *info, evloop_kind k);
/* Once the context exists: SIGINT and SIGTERM now end evloop_service. */
void evloop_catch_signals(struct lws_context *ctx);
/* Services the context until a signal comes, or for about `timeout_ms`
 * (-1: until a signal). <0 when lws failed. */
int evloop_service(struct lws_context *ctx, int timeout_ms);
/* Closes the listening socket: new connections are refused (the drain). */
void evloop_stop_accepting(struct lws_context *ctx);
/* The context's uv_loop_t when it runs on libuv, else NULL (for what
 * shares the loop: fanout.c's Redis connections). */
void *evloop_uv_loop(struct lws_context *ctx);
/* Ends evloop_service as if signal `sig` had come (an admin's drain). */
void evloop_raise(int sig);
/* The last signal that came, 0 while none did. */
int evloop_signal(void);

#endif
