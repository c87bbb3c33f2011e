/* The parley.v1 endpoint's abuse limits (README "Limits"): token buckets on
 * the frames of one connection, the cap on connections per remote address
 * and the bound on a connection's output queue. Pure logic and settings: the
 * caller owns the clock and the connections. */
#ifndef PARLEY_SERVER_ABUSE_H
#define PARLEY_SERVER_ABUSE_H

#include <stdint.h>
#include <stdio.h>

/* Rates are per second; a rate of 0 turns that limit off. */
typedef struct abuse_cfg {
    long msg_rate, msg_burst;     /* frames that write: msg.send, context, event, ... */
    long req_rate, req_burst;     /* frames that read: history.get, conv.list, kb.*, ... */
    long chunk_rate, chunk_burst; /* attachment chunks: att.chunk, att.get */
    long conns_per_addr;          /* open parley.v1 connections per address; 0: no cap */
    long outq_kb;                 /* a connection's output queue, KiB */
} abuse_cfg;

void abuse_defaults(abuse_cfg *a);
/* One "--name value" option: 0 when it was ours and valid, -1 when it was
 * ours and invalid, 1 when it is not one of ours. */
int abuse_option(abuse_cfg *a, const char *name, const char *value);
void abuse_usage(FILE *out);

/* A token bucket in thousandths of a token, so refills need no floats. */
typedef struct abuse_bucket {
    int64_t milli;
    int64_t at_ms; /* when `milli` was last brought up to date */
} abuse_bucket;

void abuse_bucket_init(abuse_bucket *b, long burst, int64_t now_ms);
/* Takes one token: 0, or the milliseconds until one is there (nothing
 * taken). Always 0 when `rate` is 0. */
int64_t abuse_take(abuse_bucket *b, long rate, long burst, int64_t now_ms);

typedef enum { ABUSE_FREE, ABUSE_MSG, ABUSE_REQ, ABUSE_CHUNK } abuse_class;

/* The bucket a frame of `type` draws from; NULL (a malformed frame) and
 * unknown types draw from the message bucket, `bye` from none. */
abuse_class abuse_class_of(const char *type);

/* Refusals a connection may collect before it is closed for flooding: a
 * bucket of ABUSE_STRIKES that refills ABUSE_STRIKE_RATE a second. */
#define ABUSE_STRIKES 10
#define ABUSE_STRIKE_RATE 1

#endif
