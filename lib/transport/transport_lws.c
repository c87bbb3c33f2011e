/* Transport over libwebsockets 4.1 built on mbedTLS: the only file of the
 * library that includes libwebsockets. See transport.h for the contract.
 *
 * lws 4.1 facts this file is shaped around (checked in its source):
 * - lws_service(ctx, t) ignores any t >= 0 and sleeps until the next event
 *   (network activity, lws_cancel_service, or the next due lws_sul timer);
 *   only -1 makes one non-blocking pass. A bounded wait is therefore a timer
 *   (sul_deadline) at its end and a blocking pass.
 * - lws_cancel_service() is the only call safe from another thread; it shows
 *   up as LWS_CALLBACK_EVENT_WAIT_CANCELLED on the servicing thread.
 * - With mbedTLS, lws verifies with MBEDTLS_SSL_VERIFY_OPTIONAL and checks the
 *   result after the handshake (lws_tls_client_confirm_peer_cert): a bad
 *   chain or name fails the connection unless one of the LCCSCF_ALLOW_* /
 *   SKIP_* flags is set, and none of them is ever set here. Its reason
 *   text carries one X509_V_ERR code for mbedTLS' flags, the first of
 *   untrusted, hostname, key, hash, not yet valid, expired: the other flags
 *   are read again from the chain itself (see cert_failures).
 * - After the handshake and the certificate check, lws builds the upgrade
 *   request and asks LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER first:
 *   refusing there closes the connection before a byte of it is sent. That
 *   is where pins are checked.
 * - mbedTLS ignores IP-address subjectAltNames, so wss:// needs a DNS name.
 * - lws resolves names with a blocking getaddrinfo on the servicing thread,
 *   and its optional asynchronous resolver (LWS_WITH_SYS_ASYNC_DNS) reads
 *   only the first nameserver of /etc/resolv.conf (no /etc/hosts, no
 *   nsswitch, nothing on Android). So names are resolved on a helper thread
 *   (resolve.c) and lws is given a numeric address, with the name as Host,
 *   SNI and verification name; a numeric address needs no lookup in lws.
 * - lws_client_connect_via_info() returning NULL fires no callback. */
#include <lws_config.h>
#include <libwebsockets.h>

#if !defined(LWS_WITH_MBEDTLS) && !defined(PARLEY_SYSTEM_LWS)
#error "libparley needs libwebsockets built with LWS_WITH_MBEDTLS"
#endif
#if !defined(PARLEY_SYSTEM_LWS) &&                                                                 \
    !(LWS_LIBRARY_VERSION_MAJOR == 4 && LWS_LIBRARY_VERSION_MINOR == 1)
#error                                                                                             \
    "libparley is written against libwebsockets 4.1 (lws_service and TLS semantics differ in others)"
#endif

#include <mbedtls/x509_crt.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "parley.h"
#include "model/limits.h"
#include "transport/resolve.h"
#include "transport/tls_trust.h"
#include "transport/transport.h"

_Static_assert(PL_TRANSPORT_PIN_SIZE == PL_TLS_PIN_SIZE && PL_TRANSPORT_MAX_PINS == PL_TLS_MAX_PINS,
               "pins have one size");

#if defined(LWS_WITH_MBEDTLS) && !defined(PARLEY_SYSTEM_LWS)
/* The server's certificate chain as mbedTLS received it. Neither function
 * is in lws' headers, both are in our build of it: lws_get_ssl() (compiled
 * for mbedTLS too by scripts/lws-patches/) gives the connection's SSL of
 * lws' OpenSSL-compatible wrapper, and the wrapper's own accessor, used by
 * lws_tls_peer_cert_info(), gives mbedtls_ssl_get_peer_cert() of it once
 * the handshake is over (NULL before). lws_tls_peer_cert_info() itself
 * offers neither the key nor the names. */
#define HAVE_PEER_CHAIN 1
struct ssl_st;
struct ssl_st *lws_get_ssl(struct lws *wsi);
mbedtls_x509_crt *ssl_get_peer_mbedtls_x509_crt(struct ssl_st *ssl);

static mbedtls_x509_crt *peer_chain(struct lws *wsi)
{
    struct ssl_st *ssl = lws_get_ssl(wsi);
    return ssl ? ssl_get_peer_mbedtls_x509_crt(ssl) : NULL;
}
#endif

#define SUBPROTOCOL "parley.v1"
#define URL_MAX 2048
#define HOST_MAX 253
#define DEFAULT_PING_S 20
#define DEFAULT_HANGUP_S 45
/* Our socket, lws' cancel pipe and sockets still closing after
 * pl_transport_close(). Without a limit lws sizes its tables by `ulimit -n`,
 * megabytes per client on hosts with a high limit. */
#define FD_LIMIT 16
/* How long a caller-closed connection may take to send its close frame. */
#define CLOSE_GRACE_S 2
/* lws_sul_schedule takes microseconds; keep far-away timers well inside it. */
#define TIMER_MAX_MS (24LL * 3600 * 1000)
#define WHY_MAX 480

enum tstate {
    T_IDLE,       /* no connection */
    T_PENDING,    /* pl_transport_connect() called; the attempt starts in service */
    T_RESOLVING,  /* t->lookup runs on its helper thread */
    T_CONNECTING, /* t->wsi exists, handshake not done */
    T_OPEN        /* t->wsi is an established WebSocket */
};

enum rxdrop {
    RX_KEEP,     /* the message is being collected */
    RX_BINARY,   /* binary message: discarded */
    RX_OVERSIZE, /* over max_frame: discarded */
    RX_NOMEM     /* the buffer could not grow: discarded */
};

struct pl_transport {
    pl_alloc alloc;
    const pl_log *log;
    pl_transport_cbs cbs;
    void *user;

    struct lws_context *ctx;
    struct lws *wsi; /* the current connection; closing ones are forgotten */
    enum tstate state;
    int live; /* 0 while lws is being created or destroyed: no callbacks out */

    int tls;
    uint16_t port;
    char *address; /* for the socket: the host without brackets */
    char *host;    /* Host/Origin and TLS name: host[:port] from the URL */
    char *path;
    int numeric; /* address is an IP address: no lookup */

    pl_resolve_fn resolve; /* NULL: the system's */
    void *resolve_user;
    pl_lookup *lookup;   /* T_RESOLVING */
    unsigned addr_next;  /* which of the addresses the next attempt uses */
    int64_t timer_at_us; /* when sul_timer is due; -1 when not set */

    lws_retry_bo_t retry; /* lws keeps a pointer to it per connection */
    lws_sorted_usec_list_t sul_connect, sul_timer, sul_deadline;

    unsigned char pins[PL_TRANSPORT_MAX_PINS][PL_TRANSPORT_PIN_SIZE];
    size_t n_pins;
    uint32_t cert_failures; /* PARLEY_TLS_* of the current attempt */

    uint32_t max_frame_cfg, max_frame;
    char *rx;
    size_t rx_len, rx_cap;
    enum rxdrop rx_drop;
    int rx_paused; /* pl_transport_pause_rx */
    unsigned char *tx;
    size_t tx_cap;
    char why[WHY_MAX]; /* reason for the coming close of the current connection */
};

/* ---- URL ------------------------------------------------------------------ */

typedef struct purl {
    int tls;
    const char *host; /* without brackets */
    size_t host_len;
    int bracketed;
    uint16_t port;
    int port_given;
    const char *path; /* starts with '/' or '?', or is empty */
} purl;

static int ascii_prefix_ci(const char *s, const char *prefix)
{
    for (; *prefix; s++, prefix++) {
        char c = *s >= 'A' && *s <= 'Z' ? (char)(*s - 'A' + 'a') : *s;
        if (c != *prefix)
            return 0;
    }
    return 1;
}

static int is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static int is_alnum(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* Printable ASCII only: no spaces, controls or raw UTF-8 (IDNs go in as
 * punycode). */
static int url_chars_ok(const char *url, size_t *len)
{
    size_t n = 0;
    for (; url[n]; n++) {
        unsigned char c = (unsigned char)url[n];
        if (n >= URL_MAX || c <= 0x20 || c >= 0x7f)
            return 0;
    }
    *len = n;
    return 1;
}

static const char *parse_host(const char *p, purl *u)
{
    if (*p == '[') {
        const char *s = ++p;
        while (is_hex(*p) || *p == ':' || *p == '.')
            p++;
        if (*p != ']' || p == s || p - s > 45)
            return NULL;
        u->host = s;
        u->host_len = (size_t)(p - s);
        u->bracketed = 1;
        return p + 1;
    }
    const char *s = p;
    while (is_alnum(*p) || *p == '-' || *p == '.' || *p == '_')
        p++;
    if (p == s || p - s > HOST_MAX)
        return NULL;
    u->host = s;
    u->host_len = (size_t)(p - s);
    return p;
}

static const char *parse_port(const char *p, purl *u)
{
    u->port = u->tls ? 443 : 80;
    if (*p != ':')
        return p;
    p++;
    unsigned long v = 0;
    int digits = 0;
    for (; is_digit(*p); p++, digits++) {
        if (digits == 5)
            return NULL;
        v = v * 10 + (unsigned long)(*p - '0');
    }
    if (!digits || v == 0 || v > 65535)
        return NULL;
    u->port = (uint16_t)v;
    u->port_given = 1;
    return p;
}

/* ws[s]://host[:port][/path][?query]; no userinfo, no fragment (RFC 6455). */
static int parse_url(const char *url, purl *u)
{
    size_t len;
    memset(u, 0, sizeof *u);
    if (!url || !url_chars_ok(url, &len))
        return PARLEY_ERR_INVALID_ARG;
    const char *p;
    if (ascii_prefix_ci(url, "wss://")) {
        u->tls = 1;
        p = url + 6;
    } else if (ascii_prefix_ci(url, "ws://")) {
        p = url + 5;
    } else {
        return PARLEY_ERR_INVALID_ARG;
    }
    if (!(p = parse_host(p, u)) || !(p = parse_port(p, u)))
        return PARLEY_ERR_INVALID_ARG;
    if (*p && *p != '/' && *p != '?')
        return PARLEY_ERR_INVALID_ARG; /* userinfo ('@') or junk after the host */
    if (strchr(p, '#'))
        return PARLEY_ERR_INVALID_ARG;
    u->path = p;
    return PARLEY_OK;
}

int pl_transport_check_url(const char *url, int allow_insecure)
{
    purl u;
    int rc = parse_url(url, &u);
    if (rc != PARLEY_OK)
        return rc;
    return u.tls || allow_insecure ? PARLEY_OK : PARLEY_ERR_INSECURE;
}

static int copy_url_parts(pl_transport *t, const purl *u)
{
    int default_port = u->port == (u->tls ? 443 : 80);
    size_t hcap = u->host_len + 9; /* brackets, ":65535", NUL */
    size_t plen = strlen(u->path);
    t->tls = u->tls;
    t->port = u->port;
    t->address = pl_strndup(&t->alloc, u->host, u->host_len);
    t->host = pl_malloc(&t->alloc, hcap);
    t->path = pl_malloc(&t->alloc, plen + 2);
    if (!t->address || !t->host || !t->path)
        return PARLEY_ERR_NOMEM;
    snprintf(t->host, hcap, "%s%.*s%s", u->bracketed ? "[" : "", (int)u->host_len, u->host,
             u->bracketed ? "]" : "");
    if (!default_port)
        snprintf(t->host + strlen(t->host), hcap - strlen(t->host), ":%u", (unsigned)u->port);
    /* "ws://h?q" asks for "/?q". */
    snprintf(t->path, plen + 2, "%s%s", u->path[0] == '/' ? "" : "/", u->path);
    return PARLEY_OK;
}

/* ---- connection lifecycle ------------------------------------------------- */

static void rx_reset(pl_transport *t)
{
    t->rx_len = 0;
    t->rx_drop = RX_KEEP;
}

/* The current connection is gone: forget it, then tell the caller (who may
 * start the next attempt from inside on_closed). */
static void report_closed(pl_transport *t, int err, const char *why)
{
    if (t->cert_failures)
        err = PARLEY_ERR_TLS; /* whichever callback lws reports it with */
    if (t->state != T_OPEN)
        t->addr_next++; /* the next attempt tries the next address */
    t->wsi = NULL;
    t->state = T_IDLE;
    rx_reset(t);
    PL_LOG_I(t->log, "transport: %s", why);
    t->cbs.on_closed(t->user, err, why);
}

/* Hands lws an attempt to `address` (numeric, or the URL's IP address). */
static void connect_to(pl_transport *t, const char *address)
{
    struct lws_client_connect_info i;
    memset(&i, 0, sizeof i);
    i.context = t->ctx;
    i.address = address;
    i.port = t->port;
    /* A redirect could lead anywhere; a WebSocket endpoint does not need one. */
    i.ssl_connection = (t->tls ? LCCSCF_USE_SSL : 0) | LCCSCF_HTTP_NO_FOLLOW_REDIRECT;
    i.path = t->path;
    i.host = t->host; /* also the SNI and verification name (lws drops ":port") */
    i.origin = t->host;
    i.protocol = SUBPROTOCOL;
    i.local_protocol_name = SUBPROTOCOL;
    i.retry_and_idle_policy = &t->retry;
    t->state = T_CONNECTING;
    PL_LOG_D(t->log, "transport: connecting to %s://%s%s (%s)", t->tls ? "wss" : "ws", t->host,
             t->path, address);
    struct lws *wsi = lws_client_connect_via_info(&i);
    if (!wsi) {
        char why[WHY_MAX];
        snprintf(why, sizeof why, "cannot connect to %.120s (%s)", t->host, address);
        report_closed(t, PARLEY_ERR_CONNECT, why);
        return;
    }
    t->wsi = wsi;
}

/* On the lookup's thread: the servicing thread picks the result up in
 * EVENT_WAIT_CANCELLED (lws_cancel_service is safe from any thread). */
static void lookup_done(void *user)
{
    pl_transport *t = user;
    lws_cancel_service(t->ctx);
}

/* T_RESOLVING: once the lookup has finished, connects to one of its
 * addresses (the next one after each failed attempt) or reports the
 * failure. */
static void resolved(pl_transport *t)
{
    char addr[PL_RESOLVE_MAX][PL_RESOLVE_ADDR_MAX], why[PL_RESOLVE_WHY];
    int n;
    if (!pl_lookup_finished(t->lookup, &n, addr, why))
        return;
    pl_lookup_abandon(t->lookup);
    t->lookup = NULL;
    if (n <= 0) {
        report_closed(t, PARLEY_ERR_CONNECT, why);
        return;
    }
    connect_to(t, addr[t->addr_next % (unsigned)n]);
}

static void connect_now(lws_sorted_usec_list_t *sul)
{
    pl_transport *t = lws_container_of(sul, pl_transport, sul_connect);
    t->why[0] = '\0';
    t->cert_failures = 0;
    if (t->numeric) {
        connect_to(t, t->address);
        return;
    }
    t->state = T_RESOLVING;
    int rc = pl_lookup_start(&t->alloc, t->address, t->resolve, t->resolve_user, lookup_done, t,
                             &t->lookup);
    if (rc != PARLEY_OK) {
        char why[WHY_MAX];
        snprintf(why, sizeof why, "cannot resolve %.120s: %s", t->address, parley_strerror(rc));
        report_closed(t, PARLEY_ERR_CONNECT, why);
    }
}

/* lws' reason text, bounded, NUL-terminated and without its trailing newline. */
static void copy_reason(char *dst, size_t cap, const void *in, size_t len)
{
    size_t n = 0;
    const char *s = in;
    for (; s && n < len && n + 1 < cap && s[n]; n++)
        dst[n] = (s[n] >= 0x20 && s[n] < 0x7f) ? s[n] : ' ';
    while (n > 0 && dst[n - 1] == ' ')
        n--;
    dst[n] = '\0';
}

static int starts_with(const char *s, const char *prefix)
{
    return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* The X509_V_ERR code in lws' "server's cert didn't look good" reason: its
 * mbedTLS wrapper's summary of mbedTLS' flags (ssl_pm_get_verify_result),
 * with OpenSSL's numbers, so an OpenSSL build of lws reads the same. */
static uint32_t lws_verdict(const char *lws_why)
{
    const char *p = strstr(lws_why, "X509_V_ERR = ");
    if (!p)
        return PARLEY_TLS_OTHER; /* "no peer cert" */
    switch (atoi(p + 13)) {
    case 2:  /* unable to get issuer certificate */
    case 18: /* self-signed leaf */
    case 19: /* self-signed certificate in chain */
    case 20: /* unable to get local issuer certificate */
    case 21: /* unable to verify the leaf signature */
    case 24: /* invalid CA: mbedTLS' BADCERT_NOT_TRUSTED */ return PARLEY_TLS_UNTRUSTED;
    case 62: return PARLEY_TLS_HOSTNAME_MISMATCH;
    case 9: return PARLEY_TLS_NOT_YET_VALID;
    case 10: return PARLEY_TLS_EXPIRED;
    default: return PARLEY_TLS_OTHER;
    }
}

/* lws reports only the first of mbedTLS' flags. Whether the chain reached a
 * trusted anchor only lws knows (it holds the anchors); everything else
 * mbedTLS decides from the chain alone, so it is decided again here from
 * the very chain the handshake received, and every problem is named. */
static void cert_failures(pl_transport *t, struct lws *wsi, const char *lws_why, char *why,
                          size_t size)
{
    t->cert_failures = lws_verdict(lws_why);
    const mbedtls_x509_crt *leaf = NULL;
#if defined(HAVE_PEER_CHAIN)
    mbedtls_x509_crt *chain = peer_chain(wsi);
    if (chain) {
        uint32_t again = pl_tls_failures(pl_tls_check_chain(chain, t->address));
        /* "other" from lws is only a summary when mbedTLS names the flag. */
        t->cert_failures =
            (again && t->cert_failures == PARLEY_TLS_OTHER ? 0 : t->cert_failures) | again;
        leaf = chain;
    }
#else
    (void)wsi;
#endif
    pl_tls_describe(t->cert_failures, leaf, t->address, NULL, 0, why, size);
}

/* Reasons from lws 4.1's TLS client paths (tls-client.c, mbedtls-client.c,
 * openssl-client.c, wsi-timeout.c) map to PARLEY_ERR_TLS; everything else
 * failed to connect. A refused pin was decided (and described) before lws
 * closed the connection. */
static void connection_error(pl_transport *t, struct lws *wsi, const void *in, size_t len)
{
    char lws_why[WHY_MAX], why[WHY_MAX + 160];
    copy_reason(lws_why, sizeof lws_why, in, len);
    if (!lws_why[0])
        snprintf(lws_why, sizeof lws_why, "unknown reason");
    int err = PARLEY_ERR_CONNECT;
    if (t->cert_failures) {
        snprintf(why, sizeof why, "%s", t->why);
    } else if (starts_with(lws_why, "server's cert") || starts_with(lws_why, "no peer cert")) {
        cert_failures(t, wsi, lws_why, why, sizeof why);
    } else if (starts_with(lws_why, "mbedtls") || starts_with(lws_why, "bio_create") ||
               starts_with(lws_why, "tls restriction") || starts_with(lws_why, "connect SSL") ||
               starts_with(lws_why, "connect SYSCALL") || starts_with(lws_why, "connect unk") ||
               starts_with(lws_why, "Timed out waiting SSL")) {
        err = PARLEY_ERR_TLS;
        snprintf(why, sizeof why, "TLS handshake failed: %s", lws_why);
    } else {
        snprintf(why, sizeof why, "cannot connect to %.120s: %s", t->host, lws_why);
    }
    report_closed(t, err, why);
}

/* ---- pins ----------------------------------------------------------------- */

/* The server's certificate has passed verification; its key must also be
 * one of the pins. On a mismatch the reason is kept for the close that
 * follows, and -1 makes lws drop the connection unsent. */
static int check_pins(pl_transport *t, struct lws *wsi)
{
    const mbedtls_x509_crt *leaf = NULL;
    unsigned char pin[PL_TRANSPORT_PIN_SIZE];
    char text[PL_TLS_PIN_TEXT] = "";
#if defined(HAVE_PEER_CHAIN)
    leaf = peer_chain(wsi);
#else
    (void)wsi;
#endif
    if (leaf && pl_tls_pin_of_cert(leaf, pin) == PARLEY_OK) {
        for (size_t i = 0; i < t->n_pins; i++)
            if (memcmp(pin, t->pins[i], sizeof pin) == 0)
                return 0;
        pl_tls_pin_format(pin, text);
    }
    t->cert_failures = leaf ? PARLEY_TLS_PIN_MISMATCH : PARLEY_TLS_OTHER;
    pl_tls_describe(t->cert_failures, leaf, t->address, text, (unsigned)t->n_pins, t->why,
                    sizeof t->why);
    PL_LOG_W(t->log, "transport: %s", t->why);
    return -1;
}

/* The server's close frame: a big-endian status code, then UTF-8 text. */
static void note_peer_close(pl_transport *t, const unsigned char *in, size_t len)
{
    char text[96];
    if (!in || len < 2) {
        snprintf(t->why, sizeof t->why, "closed by the server");
        return;
    }
    copy_reason(text, sizeof text, in + 2, len - 2);
    snprintf(t->why, sizeof t->why, "closed by the server (%u%s%s)", (unsigned)(in[0] << 8 | in[1]),
             text[0] ? ": " : "", text);
}

/* ---- frames --------------------------------------------------------------- */

static int rx_append(pl_transport *t, const char *in, size_t len)
{
    /* The limit may have been lowered since the message began. */
    if (t->rx_len > t->max_frame || len > t->max_frame - t->rx_len)
        return RX_OVERSIZE;
    size_t need = t->rx_len + len + 1, limit = (size_t)t->max_frame_cfg + 1;
    if (need > t->rx_cap) {
        size_t cap = t->rx_cap ? t->rx_cap : 4096;
        while (cap < need && cap <= limit / 2)
            cap *= 2;
        if (cap < need || cap > limit)
            cap = limit;
        char *nb = pl_realloc(&t->alloc, t->rx, cap);
        if (!nb)
            return RX_NOMEM;
        t->rx = nb;
        t->rx_cap = cap;
    }
    if (len)
        memcpy(t->rx + t->rx_len, in, len);
    t->rx_len += len;
    t->rx[t->rx_len] = '\0';
    return RX_KEEP;
}

static void rx_deliver(pl_transport *t)
{
    char why[64];
    enum rxdrop drop = t->rx_drop;
    size_t len = t->rx_len;
    rx_reset(t);
    switch (drop) {
    case RX_KEEP: t->cbs.on_frame(t->user, t->rx ? t->rx : "", len); break;
    case RX_BINARY: t->cbs.on_error(t->user, PARLEY_ERR_PROTOCOL, "binary frame ignored"); break;
    case RX_OVERSIZE:
        snprintf(why, sizeof why, "frame exceeds %lu bytes", (unsigned long)t->max_frame);
        t->cbs.on_error(t->user, PARLEY_ERR_PROTOCOL, why);
        break;
    case RX_NOMEM:
        t->cbs.on_error(t->user, PARLEY_ERR_NOMEM, "out of memory receiving a frame");
        break;
    }
}

/* lws hands a message over in chunks of at most its rx buffer; the chunks of
 * one message are collected and delivered whole. */
static void on_receive(pl_transport *t, struct lws *wsi, const char *in, size_t len)
{
    if (lws_is_first_fragment(wsi))
        rx_reset(t);
    if (t->rx_drop == RX_KEEP && lws_frame_is_binary(wsi))
        t->rx_drop = RX_BINARY;
    if (t->rx_drop == RX_KEEP)
        t->rx_drop = rx_append(t, in, len);
    if (lws_is_final_fragment(wsi))
        rx_deliver(t);
}

/* One frame per writeable callback; keepalive pings also end up here, so an
 * empty peek is normal. Returns -1 to drop the connection. */
static int on_writeable(pl_transport *t, struct lws *wsi)
{
    const char *data;
    size_t len;
    if (!t->cbs.peek_frame(t->user, &data, &len))
        return 0;
    if (wsi != t->wsi)
        return -1;
    if (len > (size_t)INT32_MAX - LWS_PRE) {
        snprintf(t->why, sizeof t->why, "outgoing frame too large");
        return -1;
    }
    if (LWS_PRE + len > t->tx_cap) {
        size_t cap = LWS_PRE + len;
        if (cap < 2 * t->tx_cap)
            cap = 2 * t->tx_cap;
        if (cap < 1024)
            cap = 1024;
        unsigned char *nb = pl_realloc(&t->alloc, t->tx, cap);
        if (!nb) {
            snprintf(t->why, sizeof t->why, "out of memory sending a frame");
            return -1;
        }
        t->tx = nb;
        t->tx_cap = cap;
    }
    if (len)
        memcpy(t->tx + LWS_PRE, data, len);
    if (lws_write(wsi, t->tx + LWS_PRE, len, LWS_WRITE_TEXT) < (int)len) {
        snprintf(t->why, sizeof t->why, "write failed");
        return -1;
    }
    if (t->cbs.frame_written(t->user) && wsi == t->wsi)
        lws_callback_on_writable(wsi);
    return 0;
}

/* ---- the lws callback ----------------------------------------------------- */

/* Events of the current connection; a caller-closed one gets -1 so lws
 * finishes closing it, and is never reported. */
static int on_conn_event(pl_transport *t, struct lws *wsi, enum lws_callback_reasons reason,
                         void *in, size_t len)
{
    if (wsi != t->wsi)
        return reason == LWS_CALLBACK_CLIENT_WRITEABLE || reason == LWS_CALLBACK_CLIENT_RECEIVE ? -1
                                                                                                : 0;
    switch (reason) {
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR: connection_error(t, wsi, in, len); return 0;
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
        return t->tls && t->n_pins ? check_pins(t, wsi) : 0;
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
        t->state = T_OPEN;
        t->addr_next = 0;
        rx_reset(t);
        if (t->rx_paused)
            lws_rx_flow_control(wsi, 0);
        PL_LOG_I(t->log, "transport: connected to %s", t->host);
        t->cbs.on_open(t->user);
        break;
    case LWS_CALLBACK_CLIENT_RECEIVE: on_receive(t, wsi, in, len); break;
    case LWS_CALLBACK_CLIENT_WRITEABLE:
        if (on_writeable(t, wsi) < 0)
            return -1;
        break;
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE: note_peer_close(t, in, len); break;
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY:
        report_closed(t, t->state == T_OPEN ? PARLEY_ERR_CLOSED : PARLEY_ERR_CONNECT,
                      t->why[0] ? t->why : "connection closed");
        return 0;
    default: return 0;
    }
    /* The caller may have closed this connection from inside its callback. */
    return wsi == t->wsi ? 0 : -1;
}

static int lws_cb(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                  size_t len)
{
    (void)user;
    struct lws_context *ctx = wsi ? lws_get_context(wsi) : NULL;
    pl_transport *t = ctx ? lws_context_user(ctx) : NULL;
    if (!t || !t->live)
        return 0;
    switch (reason) {
    case LWS_CALLBACK_EVENT_WAIT_CANCELLED:
        if (t->state == T_RESOLVING)
            resolved(t);
        t->cbs.on_wake(t->user);
        return 0;
    case LWS_CALLBACK_CLIENT_CONNECTION_ERROR:
    case LWS_CALLBACK_CLIENT_APPEND_HANDSHAKE_HEADER:
    case LWS_CALLBACK_CLIENT_ESTABLISHED:
    case LWS_CALLBACK_CLIENT_RECEIVE:
    case LWS_CALLBACK_CLIENT_WRITEABLE:
    case LWS_CALLBACK_WS_PEER_INITIATED_CLOSE:
    case LWS_CALLBACK_CLIENT_CLOSED:
    case LWS_CALLBACK_CLOSED_CLIENT_HTTP:
    case LWS_CALLBACK_WSI_DESTROY: return on_conn_event(t, wsi, reason, in, len);
    default: return 0;
    }
}

static const struct lws_protocols protocols[] = {
    {SUBPROTOCOL, lws_cb, 0, 0, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

/* ---- API ------------------------------------------------------------------ */

/* lws runs due timers at the start of a service pass and then polls until
 * the next event, so on_wake called from here would leave a blocking
 * pl_transport_service() asleep after it. Cancelling the wait instead ends the
 * poll at once and on_wake comes from EVENT_WAIT_CANCELLED in the same pass
 * (merged with any wake from another thread, which is equally a re-check). */
static void timer_fired(lws_sorted_usec_list_t *sul)
{
    pl_transport *t = lws_container_of(sul, pl_transport, sul_timer);
    t->timer_at_us = -1;
    lws_cancel_service(t->ctx);
}

/* A pin refusal makes lws log "Failed to generate handshake for client" as
 * an error; the refusal is the client's to report (on_closed), not stderr's. */
static void lws_log(int level, const char *line)
{
    if (!strstr(line, "Failed to generate handshake for client"))
        lwsl_emit_stderr(level, line);
}

static int create_context(pl_transport *t, const char *ca_pem, size_t ca_len, const char *ca_path)
{
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.port = CONTEXT_PORT_NO_LISTEN;
    info.protocols = protocols;
    /* VALIDATE_UTF8 also makes lws' client parser reject bad UTF-8 text. */
    info.options = LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT | LWS_SERVER_OPTION_VALIDATE_UTF8;
    info.user = t;
    info.fd_limit_per_thread = FD_LIMIT;
    info.gid = -1;
    info.uid = -1;
#if defined(LWS_WITH_MBEDTLS)
    (void)ca_path;
#else
    /* lws on OpenSSL loads bundles from a file itself, while from memory it
     * keeps only the first certificate. */
    if (ca_path) {
        info.client_ssl_ca_filepath = ca_path;
        ca_pem = NULL;
    }
#endif
    if (ca_pem) {
        info.client_ssl_ca_mem = ca_pem;
        info.client_ssl_ca_mem_len = (unsigned int)ca_len;
    }
    /* lws' default log level prints NOTICE lines on every context; this is
     * process-wide for the copy of lws linked into libparley. */
    lws_set_log_level(LLL_ERR | LLL_WARN, lws_log);
    t->ctx = lws_create_context(&info);
    if (!t->ctx) {
        PL_LOG_E(t->log, "transport: libwebsockets context could not be created");
        return PARLEY_ERR_NOMEM;
    }
    return PARLEY_OK;
}

static int check_args(const pl_transport_config *cfg, const pl_transport_cbs *cbs)
{
    if (!cfg || !cbs || !cbs->on_open || !cbs->on_frame || !cbs->on_closed || !cbs->on_error ||
        !cbs->peek_frame || !cbs->frame_written || !cbs->on_wake)
        return PARLEY_ERR_INVALID_ARG;
    unsigned ping = cfg->ping_interval_s ? cfg->ping_interval_s : DEFAULT_PING_S;
    unsigned hangup = cfg->hangup_s ? cfg->hangup_s : DEFAULT_HANGUP_S;
    /* lws asserts that the hangup comes after the ping. */
    return hangup > ping ? PARLEY_OK : PARLEY_ERR_CONFIG;
}

/* One pin would make the server's key impossible to replace without
 * updating every installed app first: refused (parley.h). */
static int setup_pins(pl_transport *t, const pl_transport_config *cfg)
{
    if (!cfg->n_pins)
        return PARLEY_OK;
    if (cfg->n_pins > PL_TRANSPORT_MAX_PINS || !cfg->pins)
        return PARLEY_ERR_CONFIG;
    size_t distinct = 1;
    for (size_t i = 1; i < cfg->n_pins && distinct < 2; i++)
        distinct +=
            memcmp(cfg->pins + i * PL_TRANSPORT_PIN_SIZE, cfg->pins, PL_TRANSPORT_PIN_SIZE) != 0;
    if (distinct < 2) {
        PL_LOG_E(
            t->log,
            "transport: a single public-key pin is refused: pin a backup key too, so the server's "
            "key can be replaced without locking out installed apps");
        return PARLEY_ERR_CONFIG;
    }
    if (!t->tls) {
        PL_LOG_W(t->log, "transport: public-key pins are ignored for ws:// (no TLS)");
        return PARLEY_OK;
    }
#if !defined(HAVE_PEER_CHAIN)
    PL_LOG_E(t->log,
             "transport: public-key pinning needs libparley's own libwebsockets build (mbedTLS)");
    return PARLEY_ERR_CONFIG;
#else
    memcpy(t->pins, cfg->pins, cfg->n_pins * PL_TRANSPORT_PIN_SIZE);
    t->n_pins = cfg->n_pins;
    return PARLEY_OK;
#endif
}

static int setup(pl_transport *t, const pl_transport_config *cfg, const purl *u)
{
    int rc = copy_url_parts(t, u);
    if (rc != PARLEY_OK)
        return rc;
    t->numeric = u->bracketed || pl_resolve_is_numeric(t->address);
    t->resolve = cfg->resolve;
    t->resolve_user = cfg->resolve_user;
    t->timer_at_us = -1;
    t->max_frame_cfg = cfg->max_frame ? cfg->max_frame : PL_MAX_FRAME;
    if (t->max_frame_cfg == UINT32_MAX)
        t->max_frame_cfg--; /* its buffer, with a NUL, must fit a 32-bit size_t */
    t->max_frame = t->max_frame_cfg;
    t->retry.secs_since_valid_ping = cfg->ping_interval_s ? cfg->ping_interval_s : DEFAULT_PING_S;
    t->retry.secs_since_valid_hangup = cfg->hangup_s ? cfg->hangup_s : DEFAULT_HANGUP_S;
    if ((rc = setup_pins(t, cfg)) != PARLEY_OK)
        return rc;
    /* Any configured CA is checked even for ws://, so a broken setting
     * shows up at creation. */
    pl_tls_ca_config ca = {
        .file = cfg->ca_file,
        .pem = cfg->ca_pem,
        .pem_len = cfg->ca_pem_len,
        .needed = t->tls,
        .env_file = pl_tls_env_ca_file(),
        .search = cfg->ca_search,
    };
    char *pem = NULL;
    size_t pem_len = 0;
    const char *ca_path = NULL;
    rc = pl_tls_load_ca(&t->alloc, t->log, &ca, &pem, &pem_len, &ca_path);
    if (rc == PARLEY_OK)
        rc = create_context(t, pem, pem_len, ca_path);
    pl_free(&t->alloc, pem); /* lws parsed its own copy */
    return rc;
}

int pl_transport_new(const pl_alloc *a, const pl_transport_config *cfg, const pl_transport_cbs *cbs,
                     void *user, const pl_log *log, pl_transport **out)
{
    if (!a || !out)
        return PARLEY_ERR_INVALID_ARG;
    *out = NULL;
    int rc = check_args(cfg, cbs);
    if (rc != PARLEY_OK)
        return rc;
    purl u;
    if ((rc = parse_url(cfg->url, &u)) != PARLEY_OK)
        return rc;
    if (!u.tls && !cfg->allow_insecure)
        return PARLEY_ERR_INSECURE;
    pl_transport *t = pl_calloc(a, 1, sizeof *t);
    if (!t)
        return PARLEY_ERR_NOMEM;
    t->alloc = *a;
    t->log = log;
    t->cbs = *cbs;
    t->user = user;
    rc = setup(t, cfg, &u);
    if (rc != PARLEY_OK) {
        pl_transport_free(t);
        return rc;
    }
    t->live = 1;
    *out = t;
    return PARLEY_OK;
}

void pl_transport_free(pl_transport *t)
{
    if (!t)
        return;
    t->live = 0;
    /* First: once abandoned, the lookup's thread no longer touches ctx. */
    pl_lookup_abandon(t->lookup);
    t->lookup = NULL;
    lws_sul_cancel(&t->sul_connect);
    lws_sul_cancel(&t->sul_timer);
    lws_sul_cancel(&t->sul_deadline);
    if (t->ctx)
        lws_context_destroy(t->ctx);
    const pl_alloc a = t->alloc;
    pl_free(&a, t->address);
    pl_free(&a, t->host);
    pl_free(&a, t->path);
    pl_free(&a, t->rx);
    pl_free(&a, t->tx);
    pl_free(&a, t);
}

int pl_transport_connect(pl_transport *t)
{
    if (!t)
        return PARLEY_ERR_INVALID_ARG;
    if (t->state != T_IDLE)
        return PARLEY_ERR_STATE;
    /* The attempt starts at the top of the next service pass, never inside
     * another connection's callback, and its failure is reported from there. */
    t->state = T_PENDING;
    t->max_frame = t->max_frame_cfg;
    rx_reset(t);
    lws_sul_schedule(t->ctx, 0, &t->sul_connect, connect_now, 0);
    return PARLEY_OK;
}

void pl_transport_close(pl_transport *t)
{
    if (!t)
        return;
    switch (t->state) {
    case T_IDLE: return;
    case T_PENDING: lws_sul_cancel(&t->sul_connect); break;
    case T_RESOLVING:
        pl_lookup_abandon(t->lookup);
        t->lookup = NULL;
        break;
    case T_CONNECTING: lws_set_timeout(t->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC); break;
    case T_OPEN:
        /* A close frame goes out from the next writeable callback (which
         * returns -1 for a forgotten connection); the timeout is the backstop. */
        lws_close_reason(t->wsi, LWS_CLOSE_STATUS_NORMAL, NULL, 0);
        lws_callback_on_writable(t->wsi);
        lws_set_timeout(t->wsi, PENDING_TIMEOUT_USER_OK, CLOSE_GRACE_S);
        break;
    }
    t->wsi = NULL;
    t->state = T_IDLE;
    rx_reset(t);
}

void pl_transport_request_write(pl_transport *t)
{
    if (t && t->state == T_OPEN)
        lws_callback_on_writable(t->wsi);
}

/* The facade sets the timer after every step; rescheduling an unchanged
 * one would cost a sorted-list removal and insertion each time. */
void pl_transport_set_timer(pl_transport *t, int64_t delay_ms)
{
    if (!t)
        return;
    if (delay_ms < 0) {
        if (t->timer_at_us >= 0)
            lws_sul_cancel(&t->sul_timer);
        t->timer_at_us = -1;
        return;
    }
    if (delay_ms > TIMER_MAX_MS)
        delay_ms = TIMER_MAX_MS;
    int64_t at = (int64_t)lws_now_usecs() + delay_ms * LWS_US_PER_MS;
    /* Within a millisecond is the same timer. */
    if (t->timer_at_us >= 0 && at - t->timer_at_us < 1000 && t->timer_at_us - at < 1000)
        return;
    t->timer_at_us = at;
    lws_sul_schedule(t->ctx, 0, &t->sul_timer, timer_fired, (lws_usec_t)delay_ms * LWS_US_PER_MS);
}

/* Nothing to do: its only purpose is to be due, which ends lws' poll. */
static void deadline_reached(lws_sorted_usec_list_t *sul)
{
    (void)sul;
}

int pl_transport_service(pl_transport *t, int timeout_ms)
{
    if (!t)
        return PARLEY_ERR_INVALID_ARG;
    if (timeout_ms > 0)
        /* lws turns the time to the next timer into poll()'s milliseconds
         * by truncating: 999 us more make it wait the whole timeout. */
        lws_sul_schedule(t->ctx, 0, &t->sul_deadline, deadline_reached,
                         (lws_usec_t)timeout_ms * LWS_US_PER_MS + 999);
    int rc = lws_service(t->ctx, timeout_ms == 0 ? -1 : 0);
    if (timeout_ms > 0)
        lws_sul_cancel(&t->sul_deadline);
    return rc < 0 ? PARLEY_ERR_STATE : PARLEY_OK;
}

void pl_transport_wake(pl_transport *t)
{
    if (t && t->ctx)
        lws_cancel_service(t->ctx);
}

/* lws keeps the rest of a read buffer it was handling when rx stops and
 * hands it over once rx is allowed again. */
void pl_transport_pause_rx(pl_transport *t, int paused)
{
    if (!t || t->rx_paused == (paused != 0))
        return;
    t->rx_paused = paused != 0;
    if (t->state == T_OPEN)
        lws_rx_flow_control(t->wsi, !t->rx_paused);
}

uint32_t pl_transport_cert_failures(const pl_transport *t)
{
    return t ? t->cert_failures : 0;
}

void pl_transport_set_max_frame(pl_transport *t, uint32_t max_frame)
{
    if (!t)
        return;
    t->max_frame = max_frame && max_frame < t->max_frame_cfg ? max_frame : t->max_frame_cfg;
}
