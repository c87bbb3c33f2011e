/* A raw parley.v1 client over plain ws:// (or wss://) for server tests: it sends exactly
 * the bytes a test writes (hostile frames included) and records every frame
 * the server sends, so a test can wait for one and check what came before. */
#ifndef PARLEY_E2E_WSC_H
#define PARLEY_E2E_WSC_H

#include <stddef.h>

#include <cjson/cJSON.h>

#include "harness.h"

typedef struct wsc_tls wsc_tls;

typedef struct wsc {
    int fd;
    wsc_tls *tls; /* NULL: plain ws:// */
    unsigned char *in;
    size_t in_len, in_cap;
    char *msg; /* a fragmented message being reassembled */
    size_t msg_len;
    cJSON **frames; /* every text frame received, in order */
    unsigned char *used;
    size_t n, cap;
    int closed;
    int close_code; /* of the server's close frame; 0 without one */
} wsc;

/* Connects to ws://127.0.0.1:port/ with the parley.v1 subprotocol. 0 or -1.
 * Until wsc_close (which every wsc_open needs, failed or not), the frames
 * it received are printed when a check fails (h_watch). */
int wsc_open(wsc *c, int port, int timeout_ms);
/* The same over TLS to "localhost", verified by the PEM CA in `ca_file`
 * (mbedTLS). Frames go out in records as large as TLS allows (16 KB of
 * plaintext), unlike libwebsockets' mbedTLS wrapper (1,460 bytes). */
int wsc_open_tls(wsc *c, int port, const char *ca_file, int timeout_ms);
/* The agents' live channel (parley.agent.v1) with the API token. */
int wsc_open_agent(wsc *c, int port, const char *token, int timeout_ms);
/* The same with a browser session: `cookie` is "parley_session=...". */
int wsc_open_agent_cookie(wsc *c, int port, const char *cookie, int timeout_ms);
void wsc_close(wsc *c);

/* Sends one text frame (masked, as a client must), exactly `text`. 0 or -1. */
int wsc_send(wsc *c, const char *text);
/* Sends the frame h_json(fmt, ...) writes: single quotes stand for double
 * ones. 0 or -1. */
int wsc_sendf(wsc *c, const char *fmt, ...) H_PRINTF(2, 3);

/* The first frame at index >= `after` not returned yet whose "t" is `type`
 * and, when `key` is not NULL, whose string member `key` equals `value`,
 * waiting up to `timeout_ms`. Borrowed until wsc_close; NULL on timeout. */
const cJSON *wsc_await(wsc *c, size_t after, const char *type, const char *key, const char *value,
                       int timeout_ms);

/* 1 when frame `f` has type `type` and, when `key` is not NULL, string
 * member `key` equal to `value`. */
int wsc_matches(const cJSON *f, const char *type, const char *key, const char *value);

/* Frames at index >= `after` of `type` (returned or not). */
size_t wsc_count(const wsc *c, size_t after, const char *type);

/* Reads what arrives within `ms`. */
void wsc_pump(wsc *c, int ms);

/* cJSON accessors that tolerate NULL and wrong types. */
const char *wsc_str(const cJSON *o, const char *key);
double wsc_num(const cJSON *o, const char *key); /* -1 when not a number */
const cJSON *wsc_get(const cJSON *o, const char *key);

#endif
