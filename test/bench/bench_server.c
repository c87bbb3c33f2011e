/* bench_server CERT KEY: the benchmarks' ack server. Speaks just enough
 * parley.v1 (docs/protocol.md) over TLS for a client to connect, start
 * conversations and send, with no database and no logic behind it, so that
 * what the benchmarks time is the client:
 *   hello      -> welcome (with limits)
 *   conv.start -> conv.ack
 *   msg.send   -> msg.ack (next seq of the connection); a text "burst N"
 *                 then pushes N bot messages (msg) in that conversation
 *   event, survey.submit, survey.dismiss -> ack
 *   history.get -> history.end (nothing stored)
 *   other client frames are accepted silently, unknown types get an error.
 * Listens on a free port on every interface and prints "port N" on stdout.
 * Stops on SIGTERM. */
#include <lws_config.h>
#include <libwebsockets.h>

#include <cjson/cJSON.h>

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define SUBPROTOCOL "parley.v1"
#define QUEUE_CAP 256
#define FRAME_MAX 65536
#define ID_MAX 129
/* Bytes of frames written at once (one TLS record). */
#define BATCH_MAX 16000

typedef struct conn {
    char *queue[QUEUE_CAP];
    size_t q_head, q_len;
    char *rx;
    size_t rx_len;
    unsigned long seq, ids;
    char burst_conv[ID_MAX];
    long burst_left;
} conn;

static long long now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Identifiers echoed into frames are printable ASCII without quotes. */
static const char *ident(const cJSON *o, const char *key)
{
    const char *s = str(o, key);
    if (!s || !*s || strlen(s) >= ID_MAX)
        return "x";
    for (const char *p = s; *p; p++)
        if (*p <= 0x20 || *p >= 0x7f || *p == '"' || *p == '\\')
            return "x";
    return s;
}

/* ---- the outgoing queue ------------------------------------------------------ */

static void enqueue(conn *c, const char *frame)
{
    char *copy = c->q_len < QUEUE_CAP ? strdup(frame) : NULL;
    if (copy)
        c->queue[(c->q_head + c->q_len++) % QUEUE_CAP] = copy;
}

static void push(conn *c, struct lws *wsi, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    enqueue(c, buf);
    lws_callback_on_writable(wsi);
}

static void drop_head(conn *c)
{
    free(c->queue[c->q_head]);
    c->q_head = (c->q_head + 1) % QUEUE_CAP;
    c->q_len--;
}

/* A bot message of the burst, like the reference server's bot writes. */
static void enqueue_burst_frame(conn *c)
{
    char buf[512];
    unsigned long seq = ++c->seq;
    snprintf(buf, sizeof buf,
             "{\"t\":\"msg\",\"conv\":\"%s\",\"id\":\"m-%lu\",\"seq\":\"%lu\","
             "\"author\":{\"kind\":\"bot\",\"name\":\"Helper\"},"
             "\"text\":\"Sorry to hear that! Which purchase was it? (%ld left)\",\"ts\":%lld}",
             c->burst_conv, ++c->ids, seq, --c->burst_left, now_ms());
    enqueue(c, buf);
}

/* The next frame to send, refilled from the burst; NULL when none. */
static const char *peek(conn *c)
{
    if (!c->q_len && c->burst_left > 0)
        enqueue_burst_frame(c);
    return c->q_len ? c->queue[c->q_head] : NULL;
}

/* ---- frames in ------------------------------------------------------------------- */

static void on_msg_send(conn *c, struct lws *wsi, const cJSON *f)
{
    const char *conv = ident(f, "conv"), *text = str(f, "text");
    unsigned long seq = ++c->seq;
    push(c, wsi,
         "{\"t\":\"msg.ack\",\"cid\":\"%s\",\"id\":\"m-%lu\",\"conv\":\"%s\",\"seq\":\"%lu\"}",
         ident(f, "cid"), ++c->ids, conv, seq);
    long n;
    if (text && sscanf(text, "burst %ld", &n) == 1 && n > 0) {
        snprintf(c->burst_conv, sizeof c->burst_conv, "%s", conv);
        c->burst_left = n;
    }
}

static void on_frame(conn *c, struct lws *wsi, const cJSON *f)
{
    const char *t = str(f, "t");
    if (!t)
        push(c, wsi, "{\"t\":\"error\",\"code\":\"bad_frame\"}");
    else if (strcmp(t, "hello") == 0)
        push(c, wsi,
             "{\"t\":\"welcome\",\"session\":\"s-bench-%p\",\"limits\":{\"max_frame\":%d,"
             "\"max_text\":4096}}",
             (void *)c, FRAME_MAX);
    else if (strcmp(t, "conv.start") == 0)
        push(c, wsi, "{\"t\":\"conv.ack\",\"cid\":\"%s\",\"conv\":\"%s\"}", ident(f, "cid"),
             ident(f, "conv"));
    else if (strcmp(t, "msg.send") == 0)
        on_msg_send(c, wsi, f);
    else if (strcmp(t, "event") == 0 || strcmp(t, "survey.submit") == 0 ||
             strcmp(t, "survey.dismiss") == 0)
        push(c, wsi, "{\"t\":\"ack\",\"cid\":\"%s\"}", ident(f, "cid"));
    else if (strcmp(t, "history.get") == 0)
        push(c, wsi, "{\"t\":\"history.end\",\"conv\":\"%s\",\"last\":\"%s\",\"more\":false}",
             ident(f, "conv"), ident(f, "after"));
    else if (strcmp(t, "context") != 0 && strcmp(t, "read") != 0 && strcmp(t, "typing") != 0 &&
             strcmp(t, "proactive.ack") != 0 && strcmp(t, "bye") != 0)
        push(c, wsi, "{\"t\":\"error\",\"code\":\"unknown_type\"}");
}

static int on_receive(conn *c, struct lws *wsi, const void *in, size_t len)
{
    if (lws_is_first_fragment(wsi))
        c->rx_len = 0;
    if (!c->rx && !(c->rx = malloc(FRAME_MAX + 1)))
        return -1;
    if (len > FRAME_MAX - c->rx_len)
        return -1; /* over the frame limit: drop the connection */
    memcpy(c->rx + c->rx_len, in, len);
    c->rx_len += len;
    if (!lws_is_final_fragment(wsi) || lws_remaining_packet_payload(wsi))
        return 0;
    cJSON *f = cJSON_ParseWithLength(c->rx, c->rx_len);
    on_frame(c, wsi, f);
    cJSON_Delete(f);
    return 0;
}

/* ---- frames out ------------------------------------------------------------------- */

/* Appends `frame` to `out` as one unmasked text frame; 0, or -1 when it
 * does not fit in `room` bytes. */
static int frame_into(unsigned char *out, size_t room, size_t *len, const char *frame)
{
    size_t n = strlen(frame), head = n < 126 ? 2 : 4;
    if (n > 65535 || *len + head + n > room)
        return -1;
    unsigned char *p = out + *len;
    p[0] = 0x81; /* FIN, text */
    if (n < 126) {
        p[1] = (unsigned char)n;
    } else {
        p[1] = 126;
        p[2] = (unsigned char)(n >> 8);
        p[3] = (unsigned char)n;
    }
    memcpy(p + head, frame, n);
    *len += head + n;
    return 0;
}

/* Frames are framed here and written as one TLS record per callback
 * (LWS_WRITE_HTTP is a raw write on a WebSocket), so that a burst costs the
 * server a syscall per batch rather than per message: the client, not the
 * server, must be what limits the benchmarks. */
static int on_writeable(conn *c, struct lws *wsi)
{
    static unsigned char buf[LWS_PRE + BATCH_MAX];
    size_t len = 0;
    const char *f;
    while ((f = peek(c)) != NULL && frame_into(buf + LWS_PRE, BATCH_MAX, &len, f) == 0)
        drop_head(c);
    if (len && lws_write(wsi, buf + LWS_PRE, len, LWS_WRITE_HTTP) < (int)len)
        return -1;
    if (c->q_len || c->burst_left > 0)
        lws_callback_on_writable(wsi);
    return 0;
}

static void on_closed(conn *c)
{
    while (c->q_len)
        drop_head(c);
    free(c->rx);
    memset(c, 0, sizeof *c);
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    conn *c = user;
    switch (reason) {
    case LWS_CALLBACK_ESTABLISHED: memset(c, 0, sizeof *c); return 0;
    case LWS_CALLBACK_RECEIVE: return on_receive(c, wsi, in, len);
    case LWS_CALLBACK_SERVER_WRITEABLE: return on_writeable(c, wsi);
    case LWS_CALLBACK_CLOSED: on_closed(c); return 0;
    default: return 0;
    }
}

static struct lws_protocols protocols[] = {
    {"http", lws_callback_http_dummy, 0, 0, 0, NULL, 0},
    {SUBPROTOCOL, callback, sizeof(conn), 4096, 0, NULL, 0},
    {NULL, NULL, 0, 0, 0, NULL, 0},
};

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: bench_server CERT.pem KEY.pem\n");
        return 2;
    }
    struct lws_context_creation_info info;
    memset(&info, 0, sizeof info);
    info.options = LWS_SERVER_OPTION_EXPLICIT_VHOSTS | LWS_SERVER_OPTION_DO_SSL_GLOBAL_INIT |
                   LWS_SERVER_OPTION_VALIDATE_UTF8 | LWS_SERVER_OPTION_FAIL_UPON_UNABLE_TO_BIND;
    info.gid = -1;
    info.uid = -1;
    lws_set_log_level(LLL_ERR | LLL_WARN, NULL);
    struct lws_context *ctx = lws_create_context(&info);
    if (!ctx)
        return 1;
    info.vhost_name = "bench";
    info.port = 0; /* any free port */
    info.protocols = protocols;
    info.ssl_cert_filepath = argv[1];
    info.ssl_private_key_filepath = argv[2];
    struct lws_vhost *vh = lws_create_vhost(ctx, &info);
    if (!vh) {
        fprintf(stderr, "bench_server: cannot listen (certificate or key unusable?)\n");
        lws_context_destroy(ctx);
        return 1;
    }
    printf("port %d\n", lws_get_vhost_listen_port(vh));
    fflush(stdout);
    for (;;)
        if (lws_service(ctx, 0) < 0)
            break;
    lws_context_destroy(ctx);
    return 0;
}
