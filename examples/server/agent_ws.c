#include "agent_ws.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libwebsockets.h>

#include "outq.h"
#include "store.h"
#include "websession.h"

struct agent_conn {
    struct lws *wsi;
    server *s;
    caller who;
    outq q;
    int closing; /* session.end sent: close once flushed */
    int held;    /* frames wait for the open group of writes (store.h) */
    struct agent_conn *next;
};

static server *server_of(struct lws *wsi)
{
    return lws_context_user(lws_get_context(wsi));
}

const caller *agent_ws_caller(const agent_conn *c)
{
    return &c->who;
}

int agent_ws_count(const server *s, const char *agent)
{
    const agent_conn *c;
    int n = 0;

    for (c = s->aconns; c; c = c->next)
        n += strcmp(c->who.name, agent) == 0 && !c->closing;
    return n;
}

/* A console reconnects and loads its lists again. */
static void drop(agent_conn *c, const char *why)
{
    fprintf(stderr, "parley-server: agent channel of %s: %s, dropped\n", c->who.name, why);
    outq_clear(&c->q);
    c->closing = 1;
    lws_set_timeout(c->wsi, PENDING_TIMEOUT_USER_OK, LWS_TO_KILL_ASYNC);
}

/* A frame queued while a group of writes is open waits for its commit. */
void agent_ws_send(agent_conn *c, const char *json)
{
    if (c->closing)
        return;
    if (outq_push(&c->q, json, strlen(json), (size_t)c->s->abuse.outq_kb * 1024)) {
        drop(c, "output queue full");
        return;
    }
    c->q.tail->hold = store_group_pending(c->s->store);
    if (c->q.tail->hold)
        c->held = 1;
    else
        lws_callback_on_writable(c->wsi);
}

/* The few consoles are walked in full. */
void agent_ws_group_done(server *s, int committed)
{
    agent_conn *c;

    for (c = s->aconns; c; c = c->next) {
        if (!c->held)
            continue;
        c->held = 0;
        if (committed)
            lws_callback_on_writable(c->wsi);
        else if (!c->closing)
            drop(c, "the database could not commit");
    }
}

void agent_ws_broadcast(server *s, const char *json)
{
    agent_conn *c;

    for (c = s->aconns; c; c = c->next)
        agent_ws_send(c, json);
}

/* {"t":"session.end","reason"}, then the close once it is flushed. */
static void end_channel(agent_conn *c, const char *reason)
{
    char frame[128];

    snprintf(frame, sizeof frame, "{\"t\":\"session.end\",\"reason\":\"%s\"}", reason);
    agent_ws_send(c, frame);
    c->closing = 1;
}

void agent_ws_end(server *s, const char *agent, const char *token, const char *reason)
{
    agent_conn *c;

    for (c = s->aconns; c; c = c->next) {
        if (strcmp(c->who.name, agent) == 0 && (!token || strcmp(c->who.token, token) == 0))
            end_channel(c, reason);
    }
}

void agent_ws_end_unless(server *s, int (*live)(server *s, const caller *who), const char *reason)
{
    agent_conn *c;

    for (c = s->aconns; c; c = c->next) {
        if (!c->who.via_token && !c->closing && !live(s, &c->who))
            end_channel(c, reason);
    }
}

/* Without an early exit, so timing says nothing about a prefix. */
static int same_token(const char *a, const char *b)
{
    size_t n = strlen(a), i;
    unsigned char diff = 0;

    if (n != strlen(b))
        return 0;
    for (i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

/* The upgrade is accepted only from this origin, with a session or the
 * API token. */
static int admit(struct lws *wsi, server *s, caller *who)
{
    char origin[300], host[300], cookie[2048], auth[512];
    int n;

    if (lws_hdr_copy(wsi, origin, sizeof origin, WSI_TOKEN_ORIGIN) > 0 &&
        (lws_hdr_copy(wsi, host, sizeof host, WSI_TOKEN_HOST) <= 0 ||
         !websess_origin_ok(origin, host, s->tls)))
        return 0;
    memset(who, 0, sizeof *who);
    lws_get_peer_simple(wsi, who->addr, sizeof who->addr);
    n = lws_hdr_copy(wsi, auth, sizeof auth, WSI_TOKEN_HTTP_AUTHORIZATION);
    if (n > 7 && strncmp(auth, "Bearer ", 7) == 0 && same_token(auth + 7, s->agent_token)) {
        snprintf(who->name, sizeof who->name, "api-token");
        snprintf(who->display, sizeof who->display, "API");
        snprintf(who->role, sizeof who->role, "admin");
        who->via_token = 1;
        return 1;
    }
    if (!s->session_of || lws_hdr_copy(wsi, cookie, sizeof cookie, WSI_TOKEN_HTTP_COOKIE) <= 0 ||
        !websess_cookie_find(cookie, who->token) || s->session_of(s, who->token, who) != 1)
        return 0;
    return agent_ws_count(s, who->name) < AGENT_WS_MAX_PER_AGENT;
}

static void unlink_conn(server *s, agent_conn *c)
{
    agent_conn **pp;

    for (pp = &s->aconns; *pp; pp = &(*pp)->next) {
        if (*pp == c) {
            *pp = c->next;
            s->naconns--;
            return;
        }
    }
}

static int on_writeable(agent_conn *c)
{
    outq_item *it = outq_peek(&c->q);

    if (!it)
        return c->closing ? -1 : 0;
    if (it->hold > store_group_committed(c->s->store))
        return 0; /* agent_ws_group_done asks again */
    if (lws_write(c->wsi, it->buf + LWS_PRE, it->len, LWS_WRITE_TEXT) < (int)it->len)
        return -1;
    outq_pop(&c->q);
    if (outq_peek(&c->q) || c->closing)
        lws_callback_on_writable(c->wsi);
    return 0;
}

static int callback(struct lws *wsi, enum lws_callback_reasons reason, void *user, void *in,
                    size_t len)
{
    agent_conn *c = user;
    server *s;

    switch (reason) {
    case LWS_CALLBACK_FILTER_PROTOCOL_CONNECTION:
        return admit(wsi, server_of(wsi), &c->who) ? 0 : 1;
    case LWS_CALLBACK_ESTABLISHED:
        s = server_of(wsi);
        c->wsi = wsi;
        c->s = s;
        c->next = s->aconns;
        s->aconns = c;
        s->naconns++;
        if (s->on_agent_open)
            s->on_agent_open(s, c);
        return 0;
    case LWS_CALLBACK_SERVER_WRITEABLE:
        if (c->closing && !outq_peek(&c->q)) {
            lws_close_reason(wsi, (enum lws_close_status)AGENT_WS_SESSION_END,
                             (unsigned char *)"session ended", 13);
            return -1;
        }
        return on_writeable(c);
    case LWS_CALLBACK_RECEIVE:
        (void)in;
        (void)len;
        return 0;
    case LWS_CALLBACK_CLOSED:
        if (!c->s)
            return 0;
        s = c->s;
        unlink_conn(s, c);
        outq_clear(&c->q);
        if (s->on_agent_close)
            s->on_agent_close(s, c);
        c->s = NULL;
        return 0;
    default: return 0;
    }
}

void agent_ws_protocol(struct lws_protocols *p)
{
    memset(p, 0, sizeof *p);
    p->name = AGENT_WS_PROTOCOL;
    p->callback = callback;
    p->per_session_data_size = sizeof(agent_conn);
    p->rx_buffer_size = 4096;
}
