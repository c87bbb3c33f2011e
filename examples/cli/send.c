/* What the user sends: messages, options picked by number, the record of
 * messages waiting for their status, and whether support has answered the
 * last of them yet. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cli.h"

/* ---- the record of sent messages ------------------------------------------ */

void chat_remember_sent(chat *c, const char *cid, const char *text)
{
    sent_msg *grown = realloc(c->sent, (c->n_sent + 1) * sizeof *c->sent);
    char *copy = strdup(text);
    if (!grown || !copy) {
        free(copy);
        if (grown)
            c->sent = grown;
        return; /* only the echo of the text is lost */
    }
    c->sent = grown;
    snprintf(c->sent[c->n_sent].cid, sizeof c->sent[c->n_sent].cid, "%s", cid);
    c->sent[c->n_sent++].text = copy;
}

sent_msg *chat_find_sent(chat *c, const char *cid)
{
    for (size_t i = 0; cid && i < c->n_sent; i++)
        if (strcmp(c->sent[i].cid, cid) == 0)
            return &c->sent[i];
    return NULL;
}

void chat_forget_sent(chat *c, sent_msg *m)
{
    free(m->text);
    *m = c->sent[--c->n_sent];
}

/* ---- answers ----------------------------------------------------------------- */

static uint64_t seq_of(const parley_event *ev)
{
    const char *s = parley_event_seq(ev);
    char *end;
    if (!s || *s < '0' || *s > '9')
        return 0;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    return errno || *end ? 0 : (uint64_t)v;
}

static void await_answer(chat *c, const char *conv, const char *cid)
{
    answer_wait *w = &c->await;
    if (strcmp(w->conv, conv) != 0)
        w->newest = 0;
    snprintf(w->conv, sizeof w->conv, "%s", conv);
    snprintf(w->cid, sizeof w->cid, "%s", cid);
    w->seq = 0;
    w->answered = 0;
}

static void on_status(answer_wait *w, const parley_event *ev)
{
    const char *cid = parley_event_client_id(ev);
    if (!cid || strcmp(cid, w->cid) != 0)
        return;
    if (parley_event_state(ev) == PARLEY_MSG_FAILED) {
        w->answered = 1; /* nothing will answer it */
    } else if (parley_event_state(ev) == PARLEY_MSG_SENT) {
        /* Without a seq, any support message from now on answers it. */
        w->seq = seq_of(ev) ? seq_of(ev) : w->newest;
        w->answered = w->newest > w->seq;
    }
}

static void on_message(answer_wait *w, const parley_event *ev)
{
    const char *conv = parley_event_conversation_id(ev);
    if (parley_event_author_kind(ev) == PARLEY_AUTHOR_USER || !conv || strcmp(conv, w->conv) != 0)
        return;
    uint64_t seq = seq_of(ev);
    if (seq > w->newest)
        w->newest = seq;
    if (w->seq && seq > w->seq)
        w->answered = 1;
}

void answer_on_event(chat *c, const parley_event *ev)
{
    if (parley_event_type(ev) == PARLEY_EV_MESSAGE_STATUS)
        on_status(&c->await, ev);
    else if (parley_event_type(ev) == PARLEY_EV_MESSAGE)
        on_message(&c->await, ev);
}

int answer_pending(const chat *c)
{
    return c->await.cid[0] && !c->await.answered;
}

/* ---- sending ------------------------------------------------------------------ */

/* The conversation starts with the first message, so a session in which
 * nothing is typed leaves no empty conversation for the agents. Like every
 * send, it works offline. */
static int ensure_conversation(chat *c)
{
    if (c->conv[0])
        return PARLEY_OK;
    int rc = parley_conversation_start_about(c->pc, c->opt.subject, c->opt.category, c->opt.area,
                                             c->opt.severity, c->conv, sizeof c->conv);
    if (rc != PARLEY_OK) {
        output_note("cannot start a conversation: %s", parley_strerror(rc));
        c->conv[0] = '\0';
        c->fatal = 1;
        return rc;
    }
    conversation_remember(c);
    return PARLEY_OK;
}

void chat_clear_offer(chat *c)
{
    parley_event_free(c->offer);
    c->offer = NULL;
}

void chat_send_text(chat *c, const char *text)
{
    char cid[PARLEY_ID_SIZE];
    if (ensure_conversation(c) != PARLEY_OK)
        return;
    int rc = parley_send_text(c->pc, c->conv, text, cid, sizeof cid);
    if (rc == PARLEY_OK) {
        chat_remember_sent(c, cid, text);
        await_answer(c, c->conv, cid);
        chat_clear_offer(c);
        return;
    }
    output_note("cannot send \"%.60s%s\": %s", text, strlen(text) > 60 ? "..." : "",
                parley_strerror(rc));
    c->failed = 1;
}

/* The MIME type from the file's extension. */
static const char *type_of(const char *path)
{
    static const char *const TYPES[][2] = {
        {"png", "image/png"},       {"jpg", "image/jpeg"},      {"jpeg", "image/jpeg"},
        {"gif", "image/gif"},       {"webp", "image/webp"},     {"txt", "text/plain"},
        {"log", "text/plain"},      {"csv", "text/csv"},        {"json", "application/json"},
        {"pdf", "application/pdf"}, {"zip", "application/zip"},
    };
    const char *dot = strrchr(path, '.'), *slash = strrchr(path, '/');
    for (size_t i = 0; dot && dot > slash && i < sizeof TYPES / sizeof TYPES[0]; i++)
        if (strcasecmp(dot + 1, TYPES[i][0]) == 0)
            return TYPES[i][1];
    return "application/octet-stream";
}

void chat_send_file(chat *c, const char *path)
{
    char cid[PARLEY_ID_SIZE];
    if (ensure_conversation(c) != PARLEY_OK)
        return;
    int rc =
        parley_send_attachment(c->pc, c->conv, path, NULL, type_of(path), NULL, cid, sizeof cid);
    if (rc == PARLEY_OK) {
        chat_remember_sent(c, cid, path);
        await_answer(c, c->conv, cid);
        return;
    }
    output_note("cannot attach %s: %s", path,
                rc == PARLEY_ERR_TOO_LONG ? "the file is larger than the server takes"
                                          : parley_strerror(rc));
    c->failed = 1;
}

/* A number with no such option is a mistake, not a message: it is told, and
 * ends a scripted run as failed; "\N" sends N as text. */
static void no_such_option(chat *c, long n)
{
    output_note("there is no option %ld: pick 1 to %d, or type \\%ld to send the number as text", n,
                offer_count(c->offer), n);
    if (!c->in.tty)
        c->failed = 1;
}

void chat_pick(chat *c, long n)
{
    const parley_option *o = offer_get(c->offer, n);
    if (!o) {
        no_such_option(c, n);
        return;
    }
    const char *label = parley_option_label(o);
    if (parley_option_action(o) == PARLEY_ACTION_URL) {
        printf("[open] %s\n", parley_option_url(o));
        fflush(stdout);
        return;
    }
    const char *conv = parley_event_conversation_id(c->offer);
    char cid[PARLEY_ID_SIZE];
    int rc = parley_postback(c->pc, conv, parley_event_message_id(c->offer), parley_option_id(o),
                             cid, sizeof cid);
    if (rc != PARLEY_OK) {
        output_note("cannot choose \"%s\": %s", label,
                    rc == PARLEY_ERR_STATE ? "these options were already answered"
                                           : parley_strerror(rc));
        c->failed = 1;
        return;
    }
    if (!c->opt.json) {
        printf("[chose] %s\n", label);
        fflush(stdout);
    }
    chat_remember_sent(c, cid, label);
    await_answer(c, conv, cid);
    chat_clear_offer(c);
}
