#include "evloop.h"

#include <signal.h>
#include <stddef.h>
#include <string.h>

#include <lws_config.h>
#if defined(LWS_WITH_LIBUV)
/* Before libwebsockets.h, which declares its libuv helpers only then. */
#include <uv.h>
#endif
#include <libwebsockets.h>

/* Process-global because signals are: the one signal seen, and the wake-up
 * that bounds a call of evloop_service (one lws context per process). */
static volatile sig_atomic_t caught, signals;
static struct {
    lws_sorted_usec_list_t sul;
    struct lws_context *ctx;
    int uv;
    int expired;
} wake;

evloop_kind evloop_default(void)
{
#if defined(LWS_WITH_LIBUV)
    return EVLOOP_LIBUV;
#else
    return EVLOOP_POLL;
#endif
}

int evloop_parse(const char *name, evloop_kind *out)
{
    if (strcmp(name, "poll") == 0) {
        *out = EVLOOP_POLL;
        return 0;
    }
#if defined(LWS_WITH_LIBUV)
    if (strcmp(name, "libuv") == 0) {
        *out = EVLOOP_LIBUV;
        return 0;
    }
#endif
    return -1;
}

const char *evloop_name(evloop_kind k)
{
    return k == EVLOOP_LIBUV ? "libuv" : "poll";
}

static void on_sigaction(int sig)
{
    caught = sig;
    signals++;
}

#if defined(LWS_WITH_LIBUV)
/* lws' libuv loop watches SIGINT and SIGTERM itself (uv_signal: the
 * handler runs on the loop, not in signal context) and hands them here. */
static void on_uv_signal(void *handle, int sig)
{
    caught = sig;
    signals++;
    uv_stop(((uv_signal_t *)handle)->loop);
}
#endif

void evloop_configure(struct lws_context_creation_info *info, evloop_kind k)
{
    memset(&wake, 0, sizeof wake);
#if defined(LWS_WITH_LIBUV)
    if (k == EVLOOP_LIBUV) {
        /* Only SIGINT and SIGTERM: a SIGSEGV must crash, not spin. */
        info->options |= LWS_SERVER_OPTION_LIBUV | LWS_SERVER_OPTION_UV_NO_SIGSEGV_SIGFPE_SPIN;
        info->signal_cb = on_uv_signal;
        wake.uv = 1;
    }
#else
    (void)info;
    (void)k;
#endif
}

void evloop_catch_signals(struct lws_context *ctx)
{
    struct sigaction sa;

    wake.ctx = ctx;
    if (wake.uv)
        return;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigaction;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

static void on_wake(lws_sorted_usec_list_t *sul)
{
    (void)sul;
    wake.expired = 1;
#if defined(LWS_WITH_LIBUV)
    if (wake.uv)
        uv_stop(lws_uv_getloop(wake.ctx, 0));
#endif
}

/* With libuv, lws_service runs the loop until uv_stop (a signal or the
 * wake-up); with poll() it returns after each wake-up, and the signal
 * interrupts poll() itself. */
int evloop_service(struct lws_context *ctx, int timeout_ms)
{
    sig_atomic_t seen = signals;
    int rc;

    wake.ctx = ctx;
    wake.expired = 0;
    if (timeout_ms >= 0)
        lws_sul_schedule(ctx, 0, &wake.sul, on_wake, (lws_usec_t)timeout_ms * LWS_US_PER_MS);
    do
        rc = lws_service(ctx, timeout_ms < 0 ? 1000 : timeout_ms);
    while (!wake.uv && signals == seen && !wake.expired && rc >= 0);
    if (timeout_ms >= 0)
        lws_sul_cancel(&wake.sul);
    return rc < 0 ? rc : 0;
}

/* lws 4.1.6's lws_context_deprecate writes through the listening wsi after
 * closing it: harmless on the libuv loop, where the close completes later,
 * a use after free on the poll() loop unless lws is parley-server's own
 * build, patched for it (scripts/lws-patches/server/). Elsewhere the
 * listening socket stays open during a drain. */
void evloop_stop_accepting(struct lws_context *ctx)
{
#if defined(LWS_WITH_LIBUV) && !defined(PARLEY_SYSTEM_LWS)
    lws_context_deprecate(ctx, NULL);
#else
    if (wake.uv)
        lws_context_deprecate(ctx, NULL);
#endif
}

void *evloop_uv_loop(struct lws_context *ctx)
{
#if defined(LWS_WITH_LIBUV)
    if (wake.uv)
        return lws_uv_getloop(ctx, 0);
#endif
    (void)ctx;
    return NULL;
}

void evloop_raise(int sig)
{
    caught = sig;
    signals++;
    if (!wake.ctx)
        return;
#if defined(LWS_WITH_LIBUV)
    if (wake.uv) {
        uv_stop(lws_uv_getloop(wake.ctx, 0));
        return;
    }
#endif
    lws_cancel_service(wake.ctx);
}

int evloop_signal(void)
{
    return (int)caught;
}
