/* The SLA webhook (--webhook URL, docs/agent-console.md "The webhook"):
 * JSON POSTs made by an lws client connection from the server's own event
 * loop, one at a time and in order, retried 5 times (1, 2, 4, 8, 16 s
 * apart) on a connection failure, a 10 s timeout or a status other than
 * 2xx, then dropped with a log line. At most 256 wait; the oldest goes
 * first when more come. Nothing here blocks the service loop. */
#ifndef PARLEY_SERVER_WEBHOOK_H
#define PARLEY_SERVER_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

#include <libwebsockets.h>

#define WEBHOOK_PROTOCOL "parley-webhook"
#define WEBHOOK_MAX_PENDING 256
#define WEBHOOK_RETRIES 5
#define WEBHOOK_TIMEOUT_S 10
#define WEBHOOK_MAX_BODY 65536

typedef struct webhook webhook;

typedef struct webhook_stats {
    uint64_t delivered, failed_attempts, dropped;
} webhook_stats;

/* Checks the URL (http:// or https://, a host, an optional port and path,
 * no user info or fragment) and makes the sender. `secret` (may be NULL)
 * signs each body (X-Parley-Signature: sha256=<hex HMAC-SHA256>). NULL with
 * the reason in why. */
webhook *webhook_new(const char *url, const char *secret, char *why, size_t cap);
void webhook_free(webhook *w);

/* After the lws context and vhost exist (the vhost's protocols must include
 * webhook_protocol()). An https URL gets a client TLS context trusting
 * `ca_file` (NULL: the system bundle). 0 or -1. */
int webhook_attach(webhook *w, struct lws_context *ctx, struct lws_vhost *vh, const char *ca_file);

/* The protocol entry for the vhost: name WEBHOOK_PROTOCOL, webhook_callback. */
struct lws_protocols webhook_protocol(void);
int webhook_callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                     size_t len);

/* Queues a POST of `body` (JSON text of len bytes, copied) with
 * X-Parley-Event: event. Its delivery id ("wh-<n>") goes to id_out (may be
 * NULL, 24 bytes). 0, or -1 when out of memory or the body is larger than
 * WEBHOOK_MAX_BODY. */
int webhook_post(webhook *w, const char *event, const char *body, size_t len, char *id_out);

size_t webhook_pending(const webhook *w);
webhook_stats webhook_get_stats(const webhook *w);

#endif
