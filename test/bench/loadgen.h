/* A load generator for parley-server: many raw parley.v1 connections
 * (TLS with mbedTLS, or plain TCP) from one process on one epoll loop,
 * each through the WebSocket upgrade, hello and welcome, then idle
 * (answering the server's pings) or sending messages. It is what a fleet
 * of clients looks like to a server, at a cost per connection of its TLS
 * buffers and a few hundred bytes: tens of thousands fit in one process.
 * Used by bench_scale (make bench-server). Not thread-safe. */
#ifndef PARLEY_BENCH_LOADGEN_H
#define PARLEY_BENCH_LOADGEN_H

#include <stddef.h>

typedef struct lg lg;

typedef struct lg_cfg {
    int port;            /* on 127.0.0.1 */
    const char *ca_file; /* TLS to "localhost" verified by this CA; NULL: plain ws:// */
    const char *app;     /* the hello's app id */
    int max_conns;       /* capacity */
} lg_cfg;

/* NULL when out of memory or the CA file is unusable (reason on stderr). */
lg *lg_new(const lg_cfg *cfg);
void lg_free(lg *g);

/* Opens `n` more connections, at most `inflight` being set up at once, and
 * takes each through the upgrade, hello and welcome. Returns how many were
 * welcomed within `timeout_ms`; the others are closed. */
int lg_open(lg *g, int n, int inflight, int timeout_ms);
/* Connections open and welcomed. */
int lg_count(const lg *g);
/* Services the open connections (pongs, frames read and dropped) for ms. */
void lg_idle(lg *g, int ms);

typedef struct lg_msg_stats {
    long sent, acked, errors;
    double first_ack_ms, last_ack_ms; /* since the run started */
} lg_msg_stats;

/* On the first `m` open connections: one conv.start each, then msg.send
 * with at most `window` unacknowledged per connection, for `ms`; then
 * waits up to 10 s for the last acks. */
int lg_messages(lg *g, int m, int window, int ms, lg_msg_stats *st);

/* Closes every connection at once (RST: nothing lingers in TIME_WAIT). */
void lg_close_all(lg *g);

#endif
