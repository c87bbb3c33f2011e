/* The push notifier's transport (--push-webhook URL): JSON bodies POSTed
 * to the studio's push service by a thread of its own, so that a slow or
 * dead endpoint never holds up the lws service loop. A POST that fails
 * (no connection, a timeout, an answer that is not 2xx) is retried with
 * exponential backoff and jitter; the queue is bounded (the oldest body
 * goes when it is full) and lives in memory: a restart drops what was
 * still waiting. http:// and https:// (mbedTLS, the system's CAs or
 * --push-ca); optionally signed (--push-secret: X-Parley-Signature, the
 * hex HMAC-SHA256 of the body). */
#ifndef PARLEY_SERVER_WEBHOOK_H
#define PARLEY_SERVER_WEBHOOK_H

#include <stddef.h>

#define WEBHOOK_QUEUE_MAX 1000
#define WEBHOOK_TIMEOUT_MS 10000

typedef struct webhook webhook;

typedef struct webhook_cfg {
    const char *url;    /* http://host[:port]/path or https://... */
    const char *secret; /* NULL: unsigned */
    const char *ca;     /* https: a PEM file of trust anchors; NULL: the system's */
    int attempts;       /* tries per body, at least 1 */
    int backoff_ms;     /* the first retry's delay; doubled each time, at most 60 s */
} webhook_cfg;

/* Parses the URL and starts the thread. 0, or -1 with the reason in why. */
int webhook_start(const webhook_cfg *cfg, webhook **out, char *why, size_t cap);
/* Stops the thread (a POST in progress ends within its timeout); what
 * still waits is dropped, and counted on stderr. NULL is a no-op. */
void webhook_stop(webhook *w);
/* Queues a copy of `body` (JSON text); never blocks on the network.
 * 0, or -1 when out of memory. */
int webhook_post(webhook *w, const char *body);

#endif
