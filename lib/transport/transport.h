/* Transport: one WebSocket client connection at a time over libwebsockets
 * (lib/transport_lws.c is the only file that includes libwebsockets).
 * It owns the lws context; it knows nothing of the protocol. Everything
 * except pl_transport_wake() runs on the thread that calls
 * pl_transport_service(), or on any thread while none does. */
#ifndef PARLEY_TRANSPORT_H
#define PARLEY_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "transport/resolve.h"
#include "util/alloc.h"
#include "util/log.h"

typedef struct pl_transport pl_transport;

typedef struct pl_transport_cbs {
    /* The WebSocket handshake completed. */
    void (*on_open)(void *user);
    /* One complete text message (fragments reassembled). `data` is borrowed
     * for the call. Oversized messages are not delivered: on_error is called
     * with PARLEY_ERR_PROTOCOL instead and the connection stays up. */
    void (*on_frame)(void *user, const char *data, size_t len);
    /* A connection attempt failed or an open connection closed. `err` is
     * PARLEY_ERR_CONNECT, PARLEY_ERR_TLS or PARLEY_ERR_CLOSED; `why` is a
     * human-readable reason, borrowed for the call. Not called after
     * pl_transport_close() was requested by the caller. For PARLEY_ERR_TLS,
     * pl_transport_cert_failures() tells whether the certificate was refused. */
    void (*on_closed)(void *user, int err, const char *why);
    /* A non-fatal problem (oversized frame). */
    void (*on_error)(void *user, int err, const char *why);
    /* The connection is writeable: return the next frame to send (borrowed
     * until frame_written), or 0 when there is nothing to send. */
    int (*peek_frame)(void *user, const char **data, size_t *len);
    /* The frame went out. Returns 1 when another one is waiting (the
     * transport then asks lws for the next writeable callback), 0 when not:
     * frames queued later come with pl_transport_request_write, so an idle
     * connection is not woken once more after every frame. */
    int (*frame_written)(void *user);
    /* Woken by pl_transport_wake() or a timer: the caller should re-check
     * what its session wants. Wakes may merge, and lws adds an occasional
     * spurious one (e.g. once when it starts). */
    void (*on_wake)(void *user);
} pl_transport_cbs;

#define PL_TRANSPORT_PIN_SIZE 32 /* SHA-256 of a SubjectPublicKeyInfo */
#define PL_TRANSPORT_MAX_PINS 8

typedef struct pl_transport_config {
    const char *url;     /* ws:// or wss://; parsed and copied */
    int allow_insecure;  /* ws:// permitted */
    const char *ca_file; /* PEM file, or NULL */
    const char *ca_pem;  /* PEM bytes, or NULL */
    size_t ca_pem_len;
    /* Where to look for the system's CA bundle when neither is given
     * (NULL-terminated; NULL: the standard places, tls_trust.h). */
    const char *const *ca_search;
    /* Public-key pins, n_pins * PL_TRANSPORT_PIN_SIZE bytes (copied); none,
     * or at least two distinct. */
    const unsigned char *pins;
    size_t n_pins;
    uint32_t max_frame;       /* largest message accepted; 0 = PROTO default 65536 */
    uint16_t ping_interval_s; /* 0 = 20 */
    uint16_t hangup_s;        /* no traffic / pong for this long: drop; 0 = 45 */
    /* How host names are resolved, on a helper thread (resolve.h); NULL:
     * the system's resolver. Tests put a resolver they control here. */
    pl_resolve_fn resolve;
    void *resolve_user;
} pl_transport_config;

/* Parses the URL and checks it: PARLEY_OK, PARLEY_ERR_INVALID_ARG (not a
 * ws/wss URL or no host) or PARLEY_ERR_INSECURE (ws:// not allowed). Used by
 * the config setters and by pl_transport_new. */
int pl_transport_check_url(const char *url, int allow_insecure);

/* Creates the lws context. Errors: CONFIG/INVALID_ARG/INSECURE (URL), CONFIG
 * (a single pin), TLS (CA not loadable or none found), NOMEM. `log` is borrowed and must outlive
 * the transport. CONFIG also when hangup_s <= ping_interval_s. wss:// needs a DNS name: mbedTLS
 * ignores IP-address subjectAltNames. Sets lws' process-wide log level to errors and warnings. */
int pl_transport_new(const pl_alloc *a, const pl_transport_config *cfg, const pl_transport_cbs *cbs,
                     void *user, const pl_log *log, pl_transport **out);
/* From any state; calls back nothing. Not from inside a callback. */
void pl_transport_free(pl_transport *t);

/* Starts a connection attempt. It begins in the next service pass: a host
 * name is resolved on a helper thread (the servicing thread never waits
 * for it), then lws connects to the address. A failure to even start, or
 * to resolve, is reported from a service pass through on_closed
 * (PARLEY_ERR_CONNECT), never from within this call. After a failed
 * attempt the next one uses the next address the name resolved to.
 * PARLEY_ERR_STATE when a connection or attempt exists already. */
int pl_transport_connect(pl_transport *t);
/* Closes the current connection or attempt (if any) without calling
 * on_closed; a new pl_transport_connect() may follow at once. */
void pl_transport_close(pl_transport *t);
/* Ask for a writeable callback on the open connection (no-op when none). */
void pl_transport_request_write(pl_transport *t);
/* Calls on_wake after `delay_ms` (replaces an earlier timer); -1 cancels. */
void pl_transport_set_timer(pl_transport *t, int64_t delay_ms);
/* One service pass. timeout_ms 0: without waiting (lws_service(ctx, -1)).
 * Negative: sleeps in poll() until network activity, a timer or a wake.
 * Positive: the same, but for at most timeout_ms. A waiting pass may also
 * return without having called anything (a timer of lws' own, a wake that
 * merged with an earlier one); call it in a loop. */
int pl_transport_service(pl_transport *t, int timeout_ms);
/* Any thread: interrupt a blocking pl_transport_service and call on_wake. */
void pl_transport_wake(pl_transport *t);
/* Stops (paused != 0) or resumes reading from the open connection: while
 * paused no on_frame is called, what lws has already read is kept for
 * later, and the rest waits in the network (backpressure on the server).
 * The setting carries over to the next connection. Writes go on. */
void pl_transport_pause_rx(pl_transport *t, int paused);
/* The PARLEY_TLS_* bits of the attempt last reported through on_closed:
 * what was wrong with the server's certificate; 0 when it was not refused
 * (other failures, or a TLS handshake that never got to the certificate). */
uint32_t pl_transport_cert_failures(const pl_transport *t);
/* Raise the accepted message size after the server's welcome (never above
 * the configured maximum; 0 restores it). Each new connection starts at the
 * configured maximum. */
void pl_transport_set_max_frame(pl_transport *t, uint32_t max_frame);

#endif
