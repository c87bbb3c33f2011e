/* The baseline: the least a host can do with libwebsockets 4.1 itself to
 * talk parley.v1 to the ack server over TLS: one lws context, frames built
 * with snprintf, every received frame parsed with cJSON and classified by
 * its "t". Driven in the same modes as the Parley client (bench_mode): a
 * tight lws_service(ctx, -1) loop, a blocking lws_service(ctx, 0) loop, or
 * a service thread that the host hands frames to (lws_cancel_service). */
#ifndef PARLEY_BENCH_RAWWS_H
#define PARLEY_BENCH_RAWWS_H

#include <sys/types.h>

#include "bench.h"

typedef struct rawws rawws;

/* A client with its lws context, not connected yet. 0 or -1. */
int rawws_new(const bench_env *e, rawws **out);
void rawws_free(rawws *r);
/* Starts connecting to the ack server; the hello goes out once the
 * WebSocket is up. 0 or -1. */
int rawws_connect(rawws *r);
/* rawws_new + rawws_connect, stepped until welcomed; then the service
 * thread is started in THREAD mode. 0 or -1. */
int rawws_open(const bench_env *e, bench_mode mode, rawws **out);

/* One turn of the host loop: an lws service pass (SPIN: -1, BLOCK: 0), or
 * a sched_yield while the service thread works (THREAD). 0, or -1 once the
 * connection failed. */
int rawws_step(rawws *r, bench_mode mode);

/* Queues a msg.send of `text` (plain text: no quote or backslash); any
 * thread. 0 or -1. */
int rawws_send_text(rawws *r, const char *text);

/* What came in so far (any thread). */
int rawws_welcomed(const rawws *r);
long rawws_acks(const rawws *r); /* msg.ack frames */
long rawws_msgs(const rawws *r); /* msg frames */

/* Steps until `n` acks in all were received, at most timeout_ms. 0 or -1. */
int rawws_await_acks(rawws *r, bench_mode mode, long n, int timeout_ms);
/* Steps (SPIN or BLOCK) until `n` more msg frames arrived; the times the
 * first and the last of them were parsed go to first_us and last_us. */
int rawws_drain(rawws *r, bench_mode mode, long n, double *first_us, double *last_us,
                int timeout_ms);

/* The service thread of THREAD mode. */
int rawws_start(rawws *r);
void rawws_stop(rawws *r);
pid_t rawws_thread_tid(const rawws *r);

#endif
