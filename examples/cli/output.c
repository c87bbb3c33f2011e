/* Printing events: one JSON object per line (--json, built with cJSON) or a
 * human-friendly line. Problems a human must see also go to stderr. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cli.h"

const char *name_event_type(int type)
{
    switch (type) {
    case PARLEY_EV_CONNECTION: return "connection";
    case PARLEY_EV_MESSAGE: return "message";
    case PARLEY_EV_MESSAGE_STATUS: return "message_status";
    case PARLEY_EV_CONVERSATION: return "conversation";
    case PARLEY_EV_ERROR: return "error";
    case PARLEY_EV_TYPING: return "typing";
    case PARLEY_EV_READ: return "read";
    case PARLEY_EV_UNREAD: return "unread";
    case PARLEY_EV_CONVERSATIONS: return "conversations";
    case PARLEY_EV_HISTORY: return "history";
    case PARLEY_EV_ARTICLES: return "articles";
    case PARLEY_EV_ARTICLE: return "article";
    case PARLEY_EV_SURVEY: return "survey";
    case PARLEY_EV_PROACTIVE: return "proactive";
    case PARLEY_EV_ATTACHMENT: return "attachment";
    default: return "unknown";
    }
}

static const char *name_conn(int state)
{
    switch (state) {
    case PARLEY_CONN_CONNECTING: return "connecting";
    case PARLEY_CONN_ONLINE: return "online";
    case PARLEY_CONN_RECONNECTING: return "reconnecting";
    case PARLEY_CONN_OFFLINE: return "offline";
    default: return "unknown";
    }
}

static const char *name_msg(int state)
{
    switch (state) {
    case PARLEY_MSG_PENDING: return "pending";
    case PARLEY_MSG_SENT: return "sent";
    case PARLEY_MSG_FAILED: return "failed";
    default: return "unknown";
    }
}

static const char *name_conv(int state)
{
    switch (state) {
    case PARLEY_CONV_STARTED: return "started";
    case PARLEY_CONV_BOT: return "bot";
    case PARLEY_CONV_AGENT: return "agent";
    case PARLEY_CONV_QUEUED: return "queued";
    case PARLEY_CONV_CLOSED: return "closed";
    case PARLEY_CONV_OPEN: return "open";
    default: return "unknown";
    }
}

static const char *name_attachment(int state)
{
    switch (state) {
    case PARLEY_ATT_PROGRESS: return "progress";
    case PARLEY_ATT_UPLOADED: return "uploaded";
    case PARLEY_ATT_DATA: return "data";
    case PARLEY_ATT_DOWNLOADED: return "downloaded";
    case PARLEY_ATT_FAILED: return "failed";
    default: return "unknown";
    }
}

const char *name_state(int type, int state)
{
    switch (type) {
    case PARLEY_EV_CONNECTION: return name_conn(state);
    case PARLEY_EV_MESSAGE_STATUS: return name_msg(state);
    case PARLEY_EV_CONVERSATION: return name_conv(state);
    case PARLEY_EV_TYPING: return state == PARLEY_TYPING_ON ? "on" : "off";
    case PARLEY_EV_ATTACHMENT: return name_attachment(state);
    default: return NULL;
    }
}

const char *name_author(int kind)
{
    switch (kind) {
    case PARLEY_AUTHOR_USER: return "user";
    case PARLEY_AUTHOR_BOT: return "bot";
    case PARLEY_AUTHOR_AGENT: return "agent";
    case PARLEY_AUTHOR_SYSTEM: return "system";
    default: return "unknown";
    }
}

const char *name_error(int code)
{
    static const char *const NAMES[] = {
        "PARLEY_OK",         "PARLEY_ERR_INVALID_ARG", "PARLEY_ERR_NOMEM",    "PARLEY_ERR_STATE",
        "PARLEY_ERR_AGAIN",  "PARLEY_ERR_CONFIG",      "PARLEY_ERR_INSECURE", "PARLEY_ERR_TOO_LONG",
        "PARLEY_ERR_IO",     "PARLEY_ERR_TLS",         "PARLEY_ERR_CONNECT",  "PARLEY_ERR_PROTOCOL",
        "PARLEY_ERR_AUTH",   "PARLEY_ERR_NOT_FOUND",   "PARLEY_ERR_FULL",     "PARLEY_ERR_REJECTED",
        "PARLEY_ERR_THREAD", "PARLEY_ERR_CLOSED",      "PARLEY_ERR_OFFLINE",  "PARLEY_ERR_CONSENT",
        "PARLEY_ERR_RANGE",  "PARLEY_ERR_INCOMPLETE"};
    if (code > 0 || -code >= (int)(sizeof NAMES / sizeof NAMES[0]))
        return "PARLEY_ERR_UNKNOWN";
    return NAMES[-code];
}

void output_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("parley-chat: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

/* ---- JSON -------------------------------------------------------------- */

static void add_str(cJSON *o, const char *key, const char *s)
{
    if (s)
        cJSON_AddStringToObject(o, key, s);
}

static void add_error(cJSON *o, int code)
{
    if (code == 0)
        return;
    cJSON_AddStringToObject(o, "error", name_error(code));
    cJSON_AddStringToObject(o, "error_message", parley_strerror(code));
}

/* The structured part (blocks, survey model) as JSON, parsed back. */
static void add_raw(cJSON *o, const char *key, const char *raw)
{
    cJSON *v = raw ? cJSON_Parse(raw) : NULL;
    if (v && !cJSON_AddItemToObject(o, key, v))
        cJSON_Delete(v);
}

/* A message's file, or an upload's or download's. */
static void add_attachment(cJSON *o, const parley_event *ev)
{
    cJSON *a;
    if (parley_event_type(ev) == PARLEY_EV_ATTACHMENT) {
        cJSON_AddNumberToObject(o, "bytes_done", (double)parley_event_bytes_done(ev));
        cJSON_AddNumberToObject(o, "bytes_total", (double)parley_event_bytes_total(ev));
    }
    if (!parley_event_attachment_name(ev) || !(a = cJSON_AddObjectToObject(o, "attachment")))
        return;
    add_str(a, "id", parley_event_attachment_id(ev));
    add_str(a, "name", parley_event_attachment_name(ev));
    add_str(a, "type", parley_event_attachment_type(ev));
    cJSON_AddNumberToObject(a, "size", (double)parley_event_attachment_size(ev));
    add_str(a, "sha256", parley_event_attachment_sha256(ev));
}

static void add_details(cJSON *o, const parley_event *ev)
{
    int type = parley_event_type(ev);
    add_attachment(o, ev);
    if (type == PARLEY_EV_MESSAGE || type == PARLEY_EV_PROACTIVE) {
        cJSON_AddStringToObject(o, "author", name_author(parley_event_author_kind(ev)));
        add_str(o, "author_name", parley_event_author_name(ev));
        if (parley_event_timestamp_ms(ev) > 0)
            cJSON_AddNumberToObject(o, "ts", (double)parley_event_timestamp_ms(ev));
        add_raw(o, "blocks", parley_event_raw_json(ev));
    } else if (type == PARLEY_EV_CONVERSATION) {
        add_str(o, "agent_name", parley_event_author_name(ev));
        if (parley_event_queue_position(ev) >= 0)
            cJSON_AddNumberToObject(o, "queue_position", parley_event_queue_position(ev));
        if (parley_event_wait_s(ev) > 0)
            cJSON_AddNumberToObject(o, "wait_s", parley_event_wait_s(ev));
    } else if (type == PARLEY_EV_TYPING) {
        add_str(o, "author_name", parley_event_author_name(ev));
    } else if (type == PARLEY_EV_UNREAD) {
        cJSON_AddNumberToObject(o, "count", parley_event_count(ev));
    } else if (type == PARLEY_EV_SURVEY) {
        add_raw(o, "survey", parley_event_raw_json(ev));
    }
    add_str(o, "req", parley_event_request_id(ev));
    add_str(o, "title", parley_event_title(ev));
    add_str(o, "url", parley_event_url(ev));
}

static cJSON *event_json(const parley_event *ev, const char *sent_text);

/* "tls": the names of the certificate problems, when there are any. */
static void add_tls(cJSON *o, uint32_t failures)
{
    static const struct {
        uint32_t bit;
        const char *name;
    } names[] = {
        {PARLEY_TLS_HOSTNAME_MISMATCH, "hostname_mismatch"},
        {PARLEY_TLS_UNTRUSTED, "untrusted"},
        {PARLEY_TLS_EXPIRED, "expired"},
        {PARLEY_TLS_NOT_YET_VALID, "not_yet_valid"},
        {PARLEY_TLS_PIN_MISMATCH, "pin_mismatch"},
        {PARLEY_TLS_OTHER, "other"},
    };
    cJSON *arr = failures ? cJSON_AddArrayToObject(o, "tls") : NULL;
    for (size_t i = 0; arr && i < sizeof names / sizeof names[0]; i++)
        if (failures & names[i].bit)
            cJSON_AddItemToArray(arr, cJSON_CreateString(names[i].name));
}

static void add_items(cJSON *o, const parley_event *ev)
{
    int n = parley_event_item_count(ev);
    cJSON *arr = n > 0 ? cJSON_AddArrayToObject(o, "items") : NULL;
    for (int i = 0; arr && i < n; i++) {
        cJSON *item = event_json(parley_event_item(ev, i), NULL);
        if (item && !cJSON_AddItemToArray(arr, item))
            cJSON_Delete(item);
    }
}

static cJSON *event_json(const parley_event *ev, const char *sent_text)
{
    int type = parley_event_type(ev);
    cJSON *o = cJSON_CreateObject();
    if (!o)
        return NULL;
    cJSON_AddStringToObject(o, "type", name_event_type(type));
    add_str(o, "state", name_state(type, parley_event_state(ev)));
    add_str(o, "conv", parley_event_conversation_id(ev));
    add_str(o, "id", parley_event_message_id(ev));
    add_str(o, "cid", parley_event_client_id(ev));
    add_str(o, "seq", parley_event_seq(ev));
    add_details(o, ev);
    add_str(o, "text", parley_event_text(ev));
    if (type == PARLEY_EV_MESSAGE_STATUS)
        add_str(o, "sent_text", sent_text);
    add_error(o, parley_event_error_code(ev));
    add_tls(o, parley_event_tls_failures(ev));
    if (type == PARLEY_EV_CONNECTION && parley_event_state(ev) == PARLEY_CONN_RECONNECTING)
        cJSON_AddNumberToObject(o, "retry_ms", parley_event_retry_ms(ev));
    add_items(o, ev);
    return o;
}

static void print_json(const parley_event *ev, const char *sent_text)
{
    cJSON *o = event_json(ev, sent_text);
    char *line = o ? cJSON_PrintUnformatted(o) : NULL;
    if (line)
        puts(line);
    else
        output_note("out of memory printing an event");
    cJSON_free(line);
    cJSON_Delete(o);
}

/* ---- human-friendly ------------------------------------------------------ */

static const char *or_empty(const char *s)
{
    return s ? s : "";
}

static void print_connection(const parley_event *ev)
{
    int state = parley_event_state(ev);
    if (state != PARLEY_CONN_RECONNECTING) {
        printf("[connection] %s\n", name_conn(state));
        return;
    }
    const char *why = parley_event_text(ev);
    printf("[connection] reconnecting in %.1f s%s%s\n", parley_event_retry_ms(ev) / 1000.0,
           why ? ": " : "", or_empty(why));
}

/* `num` counts the options when they can be picked by number (offers.c
 * counts them in the same order); NULL prints them unnumbered. */
static void print_options(const parley_block *b, int *num)
{
    for (int j = 0; j < parley_block_option_count(b); j++) {
        const parley_option *o = parley_block_option(b, j);
        if (num)
            printf("    %d. ", ++*num);
        else
            printf("    ");
        if (parley_option_action(o) == PARLEY_ACTION_URL)
            printf("[%s -> %s]\n", parley_option_label(o), or_empty(parley_option_url(o)));
        else
            printf("[%s]\n", parley_option_label(o));
    }
}

static void print_block(const parley_block *b, int *num)
{
    if (parley_block_title(b))
        printf("    %s%s%s\n", parley_block_title(b), parley_block_text(b) ? ": " : "",
               or_empty(parley_block_text(b)));
    print_options(b, num);
    for (int j = 0; j < parley_block_card_count(b); j++)
        print_block(parley_block_card(b, j), num);
}

static void print_message(const parley_event *ev)
{
    const char *name = parley_event_author_name(ev);
    int num = 0;
    printf("[%s%s%s%s] %s\n", parley_event_type(ev) == PARLEY_EV_PROACTIVE ? "proactive " : "",
           name_author(parley_event_author_kind(ev)), name ? " " : "", or_empty(name),
           or_empty(parley_event_text(ev)));
    for (int i = 0; i < parley_event_block_count(ev); i++)
        print_block(parley_event_block(ev, i), offer_usable(ev) ? &num : NULL);
    if (parley_event_attachment_name(ev))
        printf("    [file %s] %s, %s, %lld bytes\n", or_empty(parley_event_attachment_id(ev)),
               parley_event_attachment_name(ev), or_empty(parley_event_attachment_type(ev)),
               (long long)parley_event_attachment_size(ev));
}

static void print_attachment(const parley_event *ev)
{
    int state = parley_event_state(ev);
    const char *name = parley_event_attachment_name(ev);
    if (state == PARLEY_ATT_PROGRESS)
        printf("[upload] %s: %lld of %lld bytes\n", or_empty(name),
               (long long)parley_event_bytes_done(ev), (long long)parley_event_bytes_total(ev));
    else if (state == PARLEY_ATT_UPLOADED)
        printf("[upload] %s: done\n", or_empty(name));
    else if (state == PARLEY_ATT_FAILED)
        printf("[upload] %s: failed\n", or_empty(name));
}

static void print_articles(const parley_event *ev)
{
    printf("[articles] %d found\n", parley_event_item_count(ev));
    for (int i = 0; i < parley_event_item_count(ev); i++) {
        const parley_event *a = parley_event_item(ev, i);
        printf("    %s: %s (%s)\n", or_empty(parley_event_message_id(a)),
               or_empty(parley_event_title(a)), or_empty(parley_event_url(a)));
    }
}

/* ---- surveys ---------------------------------------------------------------- */

/* Appends to a fixed buffer, cutting what does not fit. */
static void append(char *buf, size_t size, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 3, 4)))
#endif
    ;

static void append(char *buf, size_t size, const char *fmt, ...)
{
    size_t len = strlen(buf);
    if (len + 1 >= size)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf + len, size - len, fmt, ap);
    va_end(ap);
}

void output_show_if(const parley_question *q, char *buf, size_t size)
{
    int n = parley_question_show_if_value_count(q);
    buf[0] = '\0';
    if (!parley_question_show_if_question(q))
        return;
    append(buf, size, "%s is ", parley_question_show_if_question(q));
    for (int j = 0; j < n; j++)
        append(buf, size, "%s%s",
               j == 0       ? ""
               : j == n - 1 ? " or "
                            : ", ",
               parley_question_show_if_value(q, j));
}

static void describe_options(const parley_question *q, char *buf, size_t size)
{
    int n = parley_question_option_count(q);
    for (int j = 0; j < n; j++)
        append(buf, size, "%s%s = %s", j ? ", " : "", parley_question_option_id(q, j),
               parley_question_option_label(q, j));
}

static void describe_scale(const parley_question *q, char *buf, size_t size)
{
    const char *lo = parley_question_min_label(q), *hi = parley_question_max_label(q);
    append(buf, size, "%d%s%s .. %d%s%s", parley_question_min(q), lo ? " " : "", or_empty(lo),
           parley_question_max(q), hi ? " " : "", or_empty(hi));
}

/* What an answer looks like, and when the question is asked at all. */
static void describe_question(const parley_question *q, char *buf, size_t size)
{
    char cond[512];
    buf[0] = '\0';
    switch (parley_question_kind(q)) {
    case PARLEY_Q_RATING:
    case PARLEY_Q_NPS: describe_scale(q, buf, size); break;
    case PARLEY_Q_SINGLE:
        append(buf, size, "one of: ");
        describe_options(q, buf, size);
        break;
    case PARLEY_Q_MULTI:
        append(buf, size, "%d to %d of: ", parley_question_min(q), parley_question_max(q));
        describe_options(q, buf, size);
        break;
    default: append(buf, size, "text, at most %d bytes", parley_question_max_length(q)); break;
    }
    if (parley_question_required(q))
        append(buf, size, "; required");
    output_show_if(q, cond, sizeof cond);
    if (cond[0])
        append(buf, size, "; asked only when %s", cond);
}

static void print_survey(const parley_event *ev)
{
    const parley_survey *s = parley_event_survey(ev);
    char about[2048];
    if (!s)
        return;
    printf("[survey] %s: %s\n", parley_survey_id(s), or_empty(parley_survey_title(s)));
    if (parley_survey_intro(s))
        printf("    %s\n", parley_survey_intro(s));
    for (int i = 0; i < parley_survey_question_count(s); i++) {
        const parley_question *q = parley_survey_question(s, i);
        describe_question(q, about, sizeof about);
        printf("    %s. %s (%s)\n", parley_question_id(q), or_empty(parley_question_text(q)),
               about);
    }
}

/* PENDING is not shown: the user has just typed or passed the text. */
static void print_status(const parley_event *ev, const char *sent_text)
{
    int state = parley_event_state(ev);
    if (state == PARLEY_MSG_SENT)
        printf("[sent%s%s]%s%s\n", parley_event_seq(ev) ? " #" : "", or_empty(parley_event_seq(ev)),
               sent_text ? " " : "", or_empty(sent_text));
    else if (state == PARLEY_MSG_FAILED)
        printf("[failed] %s (%s)\n", or_empty(sent_text), or_empty(parley_event_text(ev)));
}

static void print_conversation(const parley_event *ev)
{
    int state = parley_event_state(ev);
    const char *agent = parley_event_author_name(ev);
    if (state == PARLEY_CONV_STARTED)
        printf("[conversation] started %s\n", or_empty(parley_event_conversation_id(ev)));
    else if (state == PARLEY_CONV_AGENT && agent)
        printf("[conversation] agent %s joined\n", agent);
    else if (state == PARLEY_CONV_QUEUED && parley_event_queue_position(ev) >= 0)
        printf("[conversation] queued, position %d\n", parley_event_queue_position(ev));
    else
        printf("[conversation] %s\n", name_conv(state));
}

static void print_human(const parley_event *ev, const char *sent_text)
{
    switch (parley_event_type(ev)) {
    case PARLEY_EV_CONNECTION: print_connection(ev); break;
    case PARLEY_EV_MESSAGE: print_message(ev); break;
    case PARLEY_EV_MESSAGE_STATUS: print_status(ev, sent_text); break;
    case PARLEY_EV_CONVERSATION: print_conversation(ev); break;
    case PARLEY_EV_PROACTIVE: print_message(ev); break;
    case PARLEY_EV_ARTICLES: print_articles(ev); break;
    case PARLEY_EV_SURVEY: print_survey(ev); break;
    case PARLEY_EV_ATTACHMENT: print_attachment(ev); break;
    default: break; /* errors go to stderr only; typing and read marks are noise here */
    }
}

/* ---- stderr ---------------------------------------------------------------- */

static int seen_before(output *out, int code, const char *text)
{
    if (code == out->last_code && strncmp(text, out->last_text, sizeof out->last_text - 1) == 0)
        return 1;
    out->last_code = code;
    snprintf(out->last_text, sizeof out->last_text, "%s", text);
    return 0;
}

/* One hint per problem, each naming what to check. */
static void note_tls(uint32_t failures, const char *text)
{
    static const struct {
        uint32_t bit;
        const char *hint;
    } hints[] = {
        {PARLEY_TLS_HOSTNAME_MISMATCH,
         "the certificate is for another host: check the host name in --url "
         "(a DNS name the certificate lists; IP addresses never match)"},
        {PARLEY_TLS_UNTRUSTED,
         "no trusted CA signed the certificate: pass --ca with the CA that did"},
        {PARLEY_TLS_EXPIRED,
         "the certificate has expired: renew it on the server, or fix this machine's clock"},
        {PARLEY_TLS_NOT_YET_VALID, "the certificate is not valid yet: check this machine's clock"},
        {PARLEY_TLS_PIN_MISMATCH,
         "the server's key is none of the --pin values: if the server changed its key "
         "on purpose, pin the new one (scripts/parley-pin.sh prints it)"},
        {PARLEY_TLS_OTHER, "the certificate failed another check: see the reason above"},
    };
    output_note("%s%s", strstr(text, "TLS") ? "" : "TLS failed: ", text);
    if (!failures)
        output_note("hint: is there a TLS server at --url? (a plain ws:// server wants ws:// and "
                    "--insecure)");
    for (size_t i = 0; i < sizeof hints / sizeof hints[0]; i++)
        if (failures & hints[i].bit)
            output_note("hint: %s", hints[i].hint);
    if (failures)
        output_note("a refused certificate is retried only after %u to %u minutes",
                    PARLEY_CERT_RETRY_MS / 60000, 2 * PARLEY_CERT_RETRY_MS / 60000);
}

static void note_problem(output *out, const parley_event *ev)
{
    int code = parley_event_error_code(ev);
    const char *text = or_empty(parley_event_text(ev));
    int is_error = parley_event_type(ev) == PARLEY_EV_ERROR;
    if ((!is_error && code != PARLEY_ERR_TLS && code != PARLEY_ERR_AUTH) ||
        seen_before(out, code, text))
        return;
    if (code == PARLEY_ERR_TLS)
        note_tls(parley_event_tls_failures(ev), text);
    else if (code == PARLEY_ERR_AUTH)
        output_note("the server refused the user's identity: %s", text);
    else
        output_note("error: %s (%s): %s", parley_strerror(code), name_error(code), text);
}

void output_event(output *out, const parley_event *ev, const char *sent_text)
{
    int type = parley_event_type(ev);
    int state = parley_event_state(ev);
    if (type == PARLEY_EV_ERROR ||
        (type == PARLEY_EV_CONNECTION && state == PARLEY_CONN_RECONNECTING))
        note_problem(out, ev);
    else if (type == PARLEY_EV_CONNECTION && state == PARLEY_CONN_ONLINE)
        out->last_code = 0;
    if (out->json)
        print_json(ev, sent_text);
    else
        print_human(ev, sent_text);
    fflush(stdout);
}
