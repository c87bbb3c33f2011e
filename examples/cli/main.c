/* parley-chat: sends messages to a parley.v1 support server and prints what
 * comes back, like mosquitto_pub/sub for support chat.
 *
 * The loop is host-driven by default: one thread poll()s stdin without
 * waiting, then lets parley_service() run the network for a short slice that
 * ends early as soon as an event is ready. One thread means no locking and no
 * sleeping with events pending; the price is that a typed line waits at most
 * one slice (50 ms) before it is sent, which nobody notices. --threaded shows
 * the other mode: the library's I/O thread does the network while the main
 * thread blocks in poll() on stdin (or sleeps) and drains parley_poll(). */
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

enum { SLICE_MS = 50 };

/* Set by the signal handler, read by the loop: the only way a handler may
 * talk to the rest of the program. */
static volatile sig_atomic_t g_interrupted;

static void on_signal(int sig)
{
    (void)sig;
    g_interrupted = 1;
}

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
}

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void chat_start_deadline(chat *c)
{
    if (c->opt.timeout_s > 0)
        c->deadline = now_s() + c->opt.timeout_s;
}

static void log_to_stderr(void *user, int level, const char *msg)
{
    static const char *const LEVELS[] = {"error", "warn", "info", "debug"};
    (void)user;
    fprintf(stderr, "parley-chat: [%s] %s\n", LEVELS[level < 0 || level > 3 ? 0 : level], msg);
}

/* ---- setup ---------------------------------------------------------------- */

static int is_pem_text(const char *s)
{
    return strncmp(s, "-----BEGIN", 10) == 0;
}

static int configure_tls(parley_config *cfg, const options *o)
{
    for (size_t i = 0; i < o->n_pins; i++) {
        if (parley_config_add_pin(cfg, o->pins[i]) != PARLEY_OK) {
            output_note(
                "--pin '%s' is not a pin: want the base64 SHA-256 of a public key (44 characters)",
                o->pins[i]);
            return PARLEY_ERR_INVALID_ARG;
        }
    }
    if (!o->ca)
        return PARLEY_OK;
    if (is_pem_text(o->ca))
        return parley_config_set_ca_pem(cfg, o->ca, strlen(o->ca));
    return parley_config_set_ca_file(cfg, o->ca);
}

/* The key is read raw: exactly PARLEY_ENCRYPTION_KEY_SIZE bytes. */
static int configure_key(parley_config *cfg, const char *path)
{
    unsigned char key[PARLEY_ENCRYPTION_KEY_SIZE + 1];
    FILE *f = fopen(path, "rb");
    size_t n = f ? fread(key, 1, sizeof key, f) : 0;
    if (f)
        fclose(f);
    if (n != PARLEY_ENCRYPTION_KEY_SIZE) {
        output_note("--key-file '%s' must hold exactly %d bytes", path, PARLEY_ENCRYPTION_KEY_SIZE);
        return PARLEY_ERR_INVALID_ARG;
    }
    return parley_config_set_encryption_key(cfg, key, n);
}

/* Returns -1 on success or an exit status, with the reason printed. */
static int configure(parley_config *cfg, chat *c)
{
    const options *o = &c->opt;
    /* --anon-id needs no server, but a client needs a URL. */
    const char *url = o->url ? o->url : "wss://localhost";
    if (parley_config_set_url(cfg, url) != PARLEY_OK) {
        output_note("invalid --url '%s': expected wss://host[:port][/path]", url);
        return CHAT_USAGE;
    }
    if (parley_config_set_app_id(cfg, o->app_id) != PARLEY_OK) {
        output_note("invalid --app-id '%s': 1..128 printable ASCII characters", o->app_id);
        return CHAT_USAGE;
    }
    int rc = configure_tls(cfg, o);
    if (rc == PARLEY_OK && o->data_dir)
        rc = parley_config_set_data_dir(cfg, o->data_dir);
    if (rc == PARLEY_OK && o->key_file)
        rc = configure_key(cfg, o->key_file);
    if (rc == PARLEY_OK && o->outbox_cap)
        rc = parley_config_set_outbox_cap(cfg, (uint32_t)o->outbox_cap);
    /* Errors always: some say more than a code (the CA paths tried). */
    if (rc == PARLEY_OK)
        rc = parley_config_set_log(cfg, log_to_stderr, NULL,
                                   o->verbose ? PARLEY_LOG_DEBUG : PARLEY_LOG_ERROR);
    if (rc == PARLEY_OK)
        rc = parley_config_set_allow_insecure(cfg, o->insecure);
    if (rc == PARLEY_OK && o->reconnect_initial_ms)
        rc = parley_config_set_reconnect(cfg, o->reconnect_initial_ms, o->reconnect_max_ms);
    if (rc == PARLEY_OK && c->mem)
        rc = memstats_install(c->mem, cfg);
    if (rc == PARLEY_OK && o->app_version)
        rc = parley_config_set_app_version(cfg, o->app_version);
    /* Whoever runs this tool typed the context in themselves. */
    if (rc == PARLEY_OK)
        rc = parley_config_set_consent(cfg, !o->no_consent);
    if (rc != PARLEY_OK) {
        output_note("configuration: %s", parley_strerror(rc));
        return CHAT_USAGE;
    }
    return -1;
}

static int explain_client_new(int rc, const options *o)
{
    switch (rc) {
    case PARLEY_ERR_INSECURE:
        output_note("ws:// sends everything in the clear; pass --insecure to allow it "
                    "(local development only)");
        return CHAT_USAGE;
    case PARLEY_ERR_TLS:
        if (o->ca)
            output_note("cannot use the CA certificates in --ca '%s'", o->ca);
        else
            output_note(
                "no usable CA bundle on this system (see the error above): pass --ca FILE, or set "
                "SSL_CERT_FILE");
        return CHAT_FAILED;
    case PARLEY_ERR_AUTH:
        output_note("the state in --data-dir '%s' was encrypted with another key (or none)",
                    o->data_dir ? o->data_dir : "");
        return CHAT_FAILED;
    case PARLEY_ERR_IO:
        output_note("cannot use --data-dir '%s': %s", o->data_dir ? o->data_dir : "",
                    parley_strerror(rc));
        return CHAT_FAILED;
    default:
        output_note("cannot create the client: %s", parley_strerror(rc));
        return rc == PARLEY_ERR_CONFIG || rc == PARLEY_ERR_INVALID_ARG ? CHAT_USAGE : CHAT_FAILED;
    }
}

static int create_client(chat *c)
{
    if (c->opt.mem_stats && !(c->mem = memstats_new())) {
        output_note("out of memory");
        return CHAT_FAILED;
    }
    parley_config *cfg = parley_config_new();
    if (!cfg) {
        output_note("out of memory");
        return CHAT_FAILED;
    }
    int status = configure(cfg, c);
    if (status < 0) {
        int rc = parley_client_new(cfg, &c->pc);
        if (rc != PARLEY_OK)
            status = explain_client_new(rc, &c->opt);
    }
    parley_config_free(cfg);
    return status;
}

static int print_anon_id(chat *c)
{
    char id[PARLEY_ID_SIZE];
    int rc = parley_anonymous_id(c->pc, id, sizeof id);
    if (rc != PARLEY_OK) {
        output_note("anonymous id: %s", parley_strerror(rc));
        return CHAT_FAILED;
    }
    puts(id);
    return CHAT_OK;
}

static int apply_context(chat *c)
{
    const options *o = &c->opt;
    int rc;
    for (size_t i = 0; i < o->n_attrs; i++) {
        if ((rc = options_apply_attr(c->pc, &o->attrs[i])) != PARLEY_OK) {
            output_note("invalid --attr %s: %s", o->attrs[i].key, parley_strerror(rc));
            return CHAT_USAGE;
        }
    }
    if (o->screen && (rc = parley_set_screen(c->pc, o->screen)) != PARLEY_OK) {
        output_note("invalid --screen: %s", parley_strerror(rc));
        return CHAT_USAGE;
    }
    for (size_t i = 0; i < o->n_breadcrumbs; i++) {
        if ((rc = parley_add_breadcrumb(c->pc, o->breadcrumbs[i])) != PARLEY_OK) {
            output_note("invalid --breadcrumb: %s", parley_strerror(rc));
            return CHAT_USAGE;
        }
    }
    for (size_t i = 0; i < o->n_events; i++) {
        if ((rc = options_apply_event(c->pc, (char *)o->events[i])) != PARLEY_OK) {
            output_note("cannot track --event %s: %s", o->events[i], parley_strerror(rc));
            return rc == PARLEY_ERR_INVALID_ARG || rc == PARLEY_ERR_TOO_LONG ? CHAT_USAGE
                                                                             : CHAT_FAILED;
        }
    }
    return -1;
}

/* Logout, identity and context: all work offline, the library queues them
 * until the server welcomes the client. */
static int prepare_session(chat *c)
{
    const options *o = &c->opt;
    int rc;
    if (o->logout && (rc = parley_logout(c->pc)) != PARLEY_OK) {
        output_note("logout: %s", parley_strerror(rc));
        return CHAT_FAILED;
    }
    if (o->logout)
        conversation_forget(o);
    if (o->user && (rc = parley_identify(c->pc, o->user, o->token)) != PARLEY_OK) {
        output_note("invalid --user/--token: %s", parley_strerror(rc));
        return CHAT_USAGE;
    }
    if (o->push_token &&
        (rc = parley_set_push_token(c->pc, o->push_platform, o->push_token)) != PARLEY_OK) {
        output_note("invalid --push-token: %s", parley_strerror(rc));
        return CHAT_USAGE;
    }
    return apply_context(c);
}

/* ---- events ----------------------------------------------------------------- */

/* What the command line gives to send: the texts, then the files. */
static void send_given(chat *c)
{
    for (size_t i = 0; i < c->opt.n_sends && !c->fatal; i++)
        chat_send_text(c, c->opt.sends[i]);
    for (size_t i = 0; i < c->opt.n_attaches && !c->fatal; i++)
        chat_send_file(c, c->opt.attaches[i]);
}

/* 1 when the event was kept: the newest message whose options numbers
 * pick. */
static int handle_event(chat *c, parley_event *ev)
{
    int type = parley_event_type(ev);
    int state = parley_event_state(ev);
    sent_msg *m =
        type == PARLEY_EV_MESSAGE_STATUS ? chat_find_sent(c, parley_event_client_id(ev)) : NULL;
    output_event(&c->out, ev, m ? m->text : NULL);
    if (conversation_listed(c, ev) && !c->fatal)
        send_given(c);
    interact_event(c, ev);
    answer_on_event(c, ev);
    if (type == PARLEY_EV_MESSAGE && parley_event_author_kind(ev) != PARLEY_AUTHOR_USER)
        c->replies++;
    if (type == PARLEY_EV_MESSAGE_STATUS && state == PARLEY_MSG_FAILED)
        c->failed = 1;
    if (m && (state == PARLEY_MSG_SENT || state == PARLEY_MSG_FAILED))
        chat_forget_sent(c, m);
    if (type == PARLEY_EV_ERROR && parley_event_error_code(ev) == PARLEY_ERR_AUTH)
        c->fatal = 1;
    if (!offer_usable(ev))
        return 0;
    chat_clear_offer(c);
    c->offer = ev;
    return 1;
}

static void drain_events(chat *c)
{
    parley_event *ev;
    while (parley_poll(c->pc, &ev) == PARLEY_OK) {
        if (!handle_event(c, ev))
            parley_event_free(ev);
    }
}

/* ---- main loop -------------------------------------------------------------- */

/* After piped input, support's answer to the last line is awaited too,
 * unless --wait-replies says how many replies to wait for. */
static int awaits_answer(const chat *c)
{
    return c->in.reading && !c->in.tty && c->opt.wait_replies < 0 && answer_pending(c);
}

static int all_done(chat *c)
{
    uint32_t outbox = 1;
    if (c->conv_waiting || input_pending(c) || parley_outbox_count(c->pc, &outbox) != PARLEY_OK)
        return 0;
    return outbox == 0 && c->replies >= c->opt.wait_replies && interact_done(&c->opt, &c->act);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = 0, .tv_nsec = (long)ms * 1000000L};
    nanosleep(&ts, NULL);
}

/* One turn: stdin, the network (host-driven) or a short wait (threaded). */
static int pump(chat *c)
{
    if (input_readable(c))
        input_pump(c, c->opt.threaded ? SLICE_MS : 0);
    else if (c->opt.threaded)
        sleep_ms(SLICE_MS / 2);
    if (c->opt.threaded)
        return PARLEY_OK;
    return parley_service(c->pc, SLICE_MS);
}

static void report_timeout(chat *c)
{
    uint32_t outbox = 0;
    parley_outbox_count(c->pc, &outbox);
    char replies[96] = "";
    if (c->opt.wait_replies > 0)
        snprintf(replies, sizeof replies, ", %ld of %ld replies received", c->replies,
                 c->opt.wait_replies);
    else if (c->in.held || awaits_answer(c))
        snprintf(replies, sizeof replies, ", no answer yet to the last line (%s)",
                 c->in.held ? "a number waits for it" : "--wait-replies 0 does not wait for it");
    output_note("timed out after %g s: %u item(s) not acknowledged by the server%s",
                c->opt.timeout_s, (unsigned)outbox, replies);
}

/* Ctrl-C ends the typing too: a chat whose messages all went through ends
 * well, awaited answer or not. */
static int interrupted(chat *c)
{
    c->in.open = 0;
    c->in.done = 1;
    if (c->failed)
        return CHAT_FAILED;
    return all_done(c) ? CHAT_OK : CHAT_INTERRUPTED;
}

static int run_loop(chat *c)
{
    for (;;) {
        int rc = pump(c);
        if (rc != PARLEY_OK) {
            output_note("service: %s", parley_strerror(rc));
            return CHAT_FAILED;
        }
        drain_events(c);
        input_resume(c);
        if (c->fatal)
            return CHAT_FAILED;
        if (all_done(c) && !awaits_answer(c)) {
            /* In threaded mode the last ack may have landed after the drain
             * above; its events were queued before the outbox emptied. */
            drain_events(c);
            return c->failed || c->act.failed ? CHAT_FAILED : CHAT_OK;
        }
        if (g_interrupted)
            return interrupted(c);
        if (c->deadline > 0 && now_s() >= c->deadline) {
            report_timeout(c);
            return c->failed ? CHAT_FAILED : CHAT_TIMEOUT;
        }
    }
}

/* The I/O thread inherits a mask that blocks SIGINT and SIGTERM, so they
 * reach the main thread and cut its poll() short. */
static int start_io_thread(chat *c)
{
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &old);
    int rc = parley_start(c->pc);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

static int run(chat *c)
{
    /* A --conv the server must list first gets them once it did. */
    if (!c->conv_waiting)
        send_given(c);
    if (interact_start(c) != PARLEY_OK)
        return CHAT_FAILED;
    /* Without --send or --attach the messages come from stdin, whatever
     * else the run waits for. */
    if (c->opt.n_sends == 0 && c->opt.n_attaches == 0) {
        if (input_begin(c) != PARLEY_OK)
            return CHAT_FAILED;
    } else {
        chat_start_deadline(c);
    }
    int rc = c->opt.threaded ? start_io_thread(c) : PARLEY_OK;
    if (rc != PARLEY_OK) {
        output_note("cannot start the I/O thread: %s", parley_strerror(rc));
        return CHAT_FAILED;
    }
    int status = run_loop(c);
    if (c->opt.threaded)
        parley_stop(c->pc);
    return status;
}

static void cleanup(chat *c)
{
    chat_clear_offer(c);
    parley_client_free(c->pc);
    if (c->mem)
        memstats_report(c->mem);
    memstats_free(c->mem);
    while (c->n_sent > 0)
        chat_forget_sent(c, &c->sent[0]);
    free(c->sent);
    input_free(c);
    options_free(&c->opt);
}

int main(int argc, char **argv)
{
    chat c;
    memset(&c, 0, sizeof c);
    int status = options_parse(&c.opt, argc, argv);
    if (status < 0) {
        c.out.json = c.opt.json;
        install_signals();
        status = create_client(&c);
    }
    if (status < 0 && c.opt.anon_id)
        status = print_anon_id(&c);
    if (status < 0)
        status = prepare_session(&c);
    if (status < 0)
        status = conversation_choose(&c);
    if (status < 0)
        status = run(&c);
    cleanup(&c);
    return status;
}
