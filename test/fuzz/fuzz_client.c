#include "fuzz_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"
#include "platform/entropy.h"

#define FZ_MAX_LINE (PL_MAX_FRAME + 1024)
#define FZ_MAX_ARGS 8

/* The journal bytes an input's restarts may replay in all: a restart
 * replays the whole journal, which grows with every line, so an input of
 * n lines with a restart on every other one replayed O(n^2) bytes (four
 * fifths of fuzz_survey's time, issue 10). With this budget, linear in the
 * input's size, the cost stays linear too. The first restart always runs,
 * whatever the journal holds, so a restart after any kind of action (and
 * everything the journal can then hold) is still reached; later ones run
 * while the budget lasts, e.g. 32 restarts of 4 KiB journals in a 4 KiB
 * input, and an `!r` past it is a line that does nothing. */
#define FZ_REPLAY_PER_INPUT_BYTE 32
#define FZ_REPLAY_MIN (64 * 1024)

static const char welcome[] = "{\"t\":\"welcome\",\"session\":\"s-1\"}";

/* ---- lifecycle ------------------------------------------------------------ */

static int open_modules(fz_world *w)
{
    pl_sess_config sc = {
        .app_id = "fuzz-app",
        .anon_id = "a-00000000-0000-4000-8000-000000000000",
        .platform = "fuzz-os",
        .backoff_initial_ms = 500,
        .backoff_max_ms = 30000,
        .outbox_cap = 64,
        .journal = w->journal,
    };
    w->sess = pl_sess_new(pl_alloc_libc(), &sc, w->rand, NULL);
    pl_ctx_config cc = {.consent = 1, .redact = {.builtin = 1}};
    w->ctx = w->sess ? pl_ctx_new(pl_alloc_libc(), w->sess, &cc, NULL) : NULL;
    const pl_alloc *a = pl_alloc_libc();
    if (!w->ctx || !(w->receipts = pl_receipts_new(a, w->sess, w->journal, NULL)) ||
        !(w->requests = pl_requests_new(a, w->sess, NULL)) ||
        !(w->typing = pl_typing_new(a, w->sess, NULL)) ||
        !(w->postbacks = pl_postbacks_new(a, w->sess, w->journal, NULL)) ||
        !(w->proactive = pl_proactive_new(a, w->sess, w->journal, NULL)))
        return -1;
    w->survey = pl_surveys_new(a, w->sess, w->ctx, w->proactive, w->journal, NULL);
    return w->survey ? 0 : -1;
}

static void close_modules(fz_world *w)
{
    pl_surveys_free(w->survey);
    pl_proactive_free(w->proactive);
    pl_postbacks_free(w->postbacks);
    pl_typing_free(w->typing);
    pl_requests_free(w->requests);
    pl_receipts_free(w->receipts);
    pl_ctx_free(w->ctx);
    pl_sess_free(w->sess);
    pl_journal_close(w->journal);
    w->survey = NULL;
    w->proactive = NULL;
    w->postbacks = NULL;
    w->typing = NULL;
    w->requests = NULL;
    w->receipts = NULL;
    w->ctx = NULL;
    w->sess = NULL;
    w->journal = NULL;
}

static int open_journal(fz_world *w)
{
    w->host = (pl_storage_host){.ops = tl_memfs_ops, .user = &w->fs};
    pl_journal_io io;
    pl_storage_host_io(&w->host, &io);
    return pl_journal_open(pl_alloc_libc(), &io, NULL, NULL, &w->journal) == PARLEY_OK ? 0 : -1;
}

/* Online: connecting, open, welcomed, the hello and the first frames taken. */
static void bring_online(fz_world *w)
{
    pl_sess_go_online(w->sess, w->now);
    fz_line(w, "!o", 2);
    fz_line(w, welcome, sizeof welcome - 1);
}

int fz_open(fz_world *w, size_t size)
{
    memset(w, 0, sizeof *w);
    w->now = 1000;
    w->replay_left = FZ_REPLAY_MIN + FZ_REPLAY_PER_INPUT_BYTE * size;
    w->trace = getenv("PARLEY_FUZZ_TRACE") != NULL;
    w->rand = pl_rand_new(pl_alloc_libc(), pl_entropy, NULL);
    if (!w->rand || open_journal(w) || open_modules(w)) {
        fz_close(w);
        return -1;
    }
    bring_online(w);
    return 0;
}

void fz_close(fz_world *w)
{
    close_modules(w);
    pl_rand_free(w->rand);
    tl_memfs_free(&w->fs);
    w->rand = NULL;
}

/* Whether the budget above lets this restart run; it pays for it. */
static int restart_allowed(fz_world *w)
{
    pl_journal_stats st;
    pl_journal_get_stats(w->journal, &st);
    size_t cost = st.log_bytes;
    if (w->restarts++ > 0 && cost > w->replay_left)
        return 0;
    w->replay_left -= cost < w->replay_left ? cost : w->replay_left;
    return 1;
}

/* A restart of the app: everything rebuilt from the journal's bytes. */
static void restart(fz_world *w)
{
    if (w->journal && !restart_allowed(w))
        return;
    close_modules(w);
    if (open_journal(w) || open_modules(w)) {
        close_modules(w);
        return;
    }
    bring_online(w);
}

/* ---- reading events the way a host would ---------------------------------- */

static volatile size_t sink; /* keeps the reads below from being optimised out */

static void touch(const char *s)
{
    sink += s ? strlen(s) : 0;
}

static void walk_block(const parley_block *b, int depth)
{
    sink += (size_t)parley_block_kind(b);
    touch(parley_block_title(b));
    touch(parley_block_text(b));
    touch(parley_block_image_url(b));
    for (int j = 0; j < parley_block_option_count(b); j++) {
        const parley_option *o = parley_block_option(b, j);
        touch(parley_option_id(o));
        touch(parley_option_label(o));
        touch(parley_option_payload(o));
        touch(parley_option_url(o));
        sink += (size_t)parley_option_action(o);
    }
    for (int j = 0; depth < 4 && j < parley_block_card_count(b); j++)
        walk_block(parley_block_card(b, j), depth + 1);
}

static void walk_survey(const parley_survey *s)
{
    touch(parley_survey_id(s));
    touch(parley_survey_name(s));
    touch(parley_survey_title(s));
    touch(parley_survey_intro(s));
    touch(parley_survey_conversation_id(s));
    sink += (size_t)parley_survey_is_proactive(s);
    for (int i = 0; i < parley_survey_question_count(s); i++) {
        const parley_question *q = parley_survey_question(s, i);
        touch(parley_question_id(q));
        touch(parley_question_text(q));
        touch(parley_question_min_label(q));
        touch(parley_question_max_label(q));
        touch(parley_question_show_if_question(q));
        sink += (size_t)(parley_question_kind(q) + parley_question_required(q) +
                         parley_question_min(q) + parley_question_max(q) +
                         parley_question_max_length(q));
        for (int j = 0; j < parley_question_option_count(q); j++) {
            touch(parley_question_option_id(q, j));
            touch(parley_question_option_label(q, j));
        }
        for (int j = 0; j < parley_question_show_if_value_count(q); j++)
            touch(parley_question_show_if_value(q, j));
    }
}

static void walk_event_depth(const parley_event *ev, int depth)
{
    sink += (size_t)(parley_event_type(ev) + parley_event_state(ev) + parley_event_author_kind(ev) +
                     parley_event_error_code(ev) + parley_event_queue_position(ev));
    sink += (size_t)(parley_event_timestamp_ms(ev) + parley_event_retry_ms(ev) +
                     parley_event_wait_s(ev) + parley_event_count(ev) + parley_event_more(ev));
    touch(parley_event_conversation_id(ev));
    touch(parley_event_message_id(ev));
    touch(parley_event_client_id(ev));
    touch(parley_event_seq(ev));
    touch(parley_event_text(ev));
    touch(parley_event_author_name(ev));
    touch(parley_event_raw_json(ev));
    touch(parley_event_request_id(ev));
    touch(parley_event_title(ev));
    touch(parley_event_url(ev));
    for (int i = 0; i < parley_event_block_count(ev); i++)
        walk_block(parley_event_block(ev, i), 0);
    for (int i = 0; depth < 2 && i < parley_event_item_count(ev); i++)
        walk_event_depth(parley_event_item(ev, i), depth + 1);
    if (parley_event_survey(ev))
        walk_survey(parley_event_survey(ev));
}

void fz_walk_event(const parley_event *ev)
{
    walk_event_depth(ev, 0);
}

/* ---- the transport's side --------------------------------------------------- */

static void take_events(fz_world *w)
{
    pl_event_queue q = {0};
    pl_sess_take_events(w->sess, &q);
    parley_event *ev;
    while ((ev = pl_event_queue_pop(&q)) != NULL) {
        const parley_survey *s = parley_event_survey(ev);
        if (s && strlen(parley_survey_id(s)) < sizeof w->survey_id)
            strcpy(w->survey_id, parley_survey_id(s));
        fz_walk_event(ev);
        if (w->trace)
            fprintf(stderr, "event %d state %d: %s\n", ev->type, ev->state,
                    ev->text ? ev->text : "");
        parley_event_free(ev);
    }
}

/* The client id a written frame carries becomes $CID: a conversation
 * start's is known no other way. */
static void note_cid(fz_world *w, const char *data, size_t len)
{
    static const char key[] = "\"cid\":\"";
    const char *end = data + len;
    /* From quote to quote: a memcmp at every byte, each one traced by the
     * fuzzer's hooks, cost more than the frame's own encoding. */
    for (const char *q = data; (q = memchr(q, '"', (size_t)(end - q))) != NULL; q++) {
        if ((size_t)(end - q) <= sizeof key - 1)
            return;
        if (q[1] != 'c' || memcmp(q, key, sizeof key - 1) != 0)
            continue;
        const char *v = q + sizeof key - 1;
        size_t n = 0;
        while (v + n < end && v[n] != '"' && n < sizeof w->cid - 1)
            n++;
        memcpy(w->cid, v, n);
        w->cid[n] = '\0';
        return;
    }
}

void fz_pump(fz_world *w)
{
    if (!w->sess)
        return;
    int64_t deadline = -1;
    int want = pl_sess_want(w->sess, w->now, &deadline);
    if (want & PL_SESS_WANT_CLOSE)
        pl_sess_on_closed(w->sess, w->now, PARLEY_ERR_CLOSED, "closed by client");
    const char *data;
    size_t len;
    for (int i = 0; i < 1000 && pl_sess_peek_frame(w->sess, &data, &len); i++) {
        note_cid(w, data, len);
        if (w->trace) /* to see what a seed makes the client say */
            fprintf(stderr, "client wrote: %.*s\n", (int)len, data);
        pl_sess_frame_written(w->sess);
    }
    if (deadline >= 0 && deadline <= w->now)
        pl_sess_tick(w->sess, w->now);
    take_events(w);
}

/* ---- host actions ------------------------------------------------------------ */

/* Splits `s` at spaces into at most `max` words, the last one keeping the
 * rest of the line; missing words are "". */
static void split(char *s, char *argv[FZ_MAX_ARGS], int max)
{
    int n = 0;
    while (n < max && s) {
        argv[n++] = s;
        char *sp = n < max ? strchr(s, ' ') : NULL;
        if (sp)
            *sp++ = '\0';
        s = sp;
    }
    while (n < FZ_MAX_ARGS)
        argv[n++] = "";
}

static void set_cid(fz_world *w, int rc, const char *cid)
{
    if (rc == PARLEY_OK)
        memcpy(w->cid, cid, strlen(cid) + 1);
}

/* What parley_conversation_start and parley_send_text do under the lock. */
static void host_message(fz_world *w, int start, const char *text)
{
    char id[PARLEY_ID_SIZE], *t = NULL;
    size_t n = strlen(text);
    if (start && (n > PL_MAX_SUBJECT || !pl_utf8_valid(text, n)))
        return;
    if (!start && pl_sess_check_text(w->sess, w->conv, text) != PARLEY_OK)
        return;
    if (pl_ctx_prepare_message(w->ctx, n ? text : NULL, &t) != PARLEY_OK)
        return;
    int rc = start ? pl_sess_conv_start(w->sess, t, id)
                   : pl_sess_send_text(w->sess, w->conv, t, NULL, id);
    if (rc == PARLEY_OK && start)
        memcpy(w->conv, id, strlen(id) + 1);
    else
        set_cid(w, rc, id);
    pl_free(pl_alloc_libc(), t);
}

static void host_request(fz_world *w, const char *kind, const char *arg)
{
    pl_req_args args = {0};
    pl_req_kind k;
    size_t n = strlen(arg);
    if (*kind == 'l')
        k = PL_REQ_CONV_LIST;
    else if (*kind == 'h' && pl_id_valid(w->conv, PL_MAX_ID) &&
             (!n || pl_proto_parse_seq(arg, &args.before))) {
        k = PL_REQ_HISTORY;
        args.conv = w->conv;
    } else if (*kind == 's' && n && n <= PL_MAX_QUERY && pl_utf8_valid(arg, n)) {
        k = PL_REQ_SEARCH;
        args.query = arg;
    } else if (*kind == 'a' && pl_id_valid(arg, PL_MAX_ID)) {
        k = PL_REQ_ARTICLE;
        args.id = arg;
    } else
        return;
    char id[PARLEY_ID_SIZE];
    pl_requests_send(w->requests, k, &args, id);
}

static void host_context(fz_world *w, char op, char *argv[])
{
    pl_attr a = {.key = argv[0], .type = PL_ATTR_STR, .str = argv[1]};
    switch (op) {
    case 'a': pl_ctx_set_attr(w->ctx, &a); break;
    case 'j':
        a.type = PL_ATTR_JSON;
        pl_ctx_set_attr(w->ctx, &a);
        break;
    case 'e': pl_ctx_track_event(w->ctx, argv[0], *argv[1] ? argv[1] : NULL, 1700000000000); break;
    case 'b': pl_ctx_add_breadcrumb(w->ctx, argv[0], 1700000000000); break;
    case 'w': pl_ctx_set_screen(w->ctx, argv[0]); break;
    case 'k': pl_ctx_set_consent(w->ctx, *argv[0] == '1'); break;
    }
}

static void host_survey(fz_world *w, char op, char *argv[])
{
    const char *sid = w->survey_id;
    char missing[PL_MAX_ID + 1], cid[PARLEY_ID_SIZE];
    int rc = PARLEY_ERR_INVALID_ARG;
    const char *ids[FZ_MAX_ARGS];
    size_t n = 0;
    if (!pl_id_valid(sid, PL_MAX_ID))
        return;
    switch (op) {
    case 'N': pl_surveys_answer_number(w->survey, sid, argv[0], atoi(argv[1])); break;
    case 'C': pl_surveys_answer_choice(w->survey, sid, argv[0], argv[1]); break;
    case 'M':
        for (int i = 1; i < FZ_MAX_ARGS && *argv[i]; i++)
            ids[n++] = argv[i];
        pl_surveys_answer_choices(w->survey, sid, argv[0], ids, n);
        break;
    case 'T': pl_surveys_answer_text(w->survey, sid, argv[0], argv[1]); break;
    case 'X': pl_surveys_clear_answer(w->survey, sid, argv[0]); break;
    case 'V': pl_surveys_visible(w->survey, sid, argv[0]); break;
    case 'U': rc = pl_surveys_submit(w->survey, sid, missing, cid); break;
    case 'D': rc = pl_surveys_dismiss(w->survey, sid, cid); break;
    case 'Z': pl_proactive_mute(w->proactive, w->now, (uint32_t)strtoul(argv[0], NULL, 10)); break;
    }
    set_cid(w, rc, cid);
}

static void host_rich(fz_world *w, char op, char *argv[])
{
    char cid[PARLEY_ID_SIZE];
    uint32_t unread;
    switch (op) {
    case 'p':
        set_cid(w, pl_postbacks_send(w->postbacks, w->ctx, w->conv, argv[0], argv[1], cid), cid);
        break;
    case 'y': pl_typing_set(w->typing, w->conv, *argv[0] == '1', w->now); break;
    case 'R': pl_receipts_mark_read(w->receipts, w->conv, argv[0]); break;
    case 'u': pl_receipts_unread(w->receipts, *argv[0] ? w->conv : NULL, &unread); break;
    case 'q': host_request(w, argv[0], argv[1]); break;
    }
}

static void host_session(fz_world *w, char op, char *argv[])
{
    char anon[PARLEY_ID_SIZE];
    switch (op) {
    case 'o':
        if (pl_sess_want(w->sess, w->now, NULL) & PL_SESS_WANT_CONNECT)
            pl_sess_on_connecting(w->sess, w->now);
        pl_sess_on_open(w->sess, w->now);
        break;
    case 'c':
        pl_sess_on_closed(w->sess, w->now, *argv[0] == 't' ? PARLEY_ERR_TLS : PARLEY_ERR_CLOSED,
                          argv[1]);
        break;
    case 't':
        w->now += *argv[0] ? strtol(argv[0], NULL, 10) % 100000000 : 1000;
        pl_sess_tick(w->sess, w->now);
        break;
    case 'S':
    case 's': host_message(w, op == 'S', argv[0]); break;
    case 'i': pl_sess_identify(w->sess, argv[0], *argv[1] ? argv[1] : NULL); break;
    case 'L':
        snprintf(anon, sizeof anon, "a-%08x-0000-4000-8000-000000000000", (unsigned)w->now);
        pl_sess_logout(w->sess, anon);
        break;
    case 'f': pl_sess_go_offline(w->sess, w->now); break;
    case 'n': pl_sess_go_online(w->sess, w->now); break;
    }
}

static void host_action(fz_world *w, char *s)
{
    char op = s[0], *argv[FZ_MAX_ARGS];
    if (!op) /* strchr would find the terminator */
        return;
    /* Free text (a message, a subject, a crumb, a screen) is the whole rest. */
    int words = strchr("sSbw", op) ? 1 : strchr("M", op) ? FZ_MAX_ARGS : 2;
    split(s[1] == ' ' ? s + 2 : s + 1, argv, words);
    if (op == 'r') {
        restart(w);
        return;
    }
    if (!w->sess)
        return;
    if (strchr("octSsiLfn", op))
        host_session(w, op, argv);
    else if (strchr("ajebwk", op))
        host_context(w, op, argv);
    else if (strchr("NCMTXVUDZ", op))
        host_survey(w, op, argv);
    else if (strchr("pyRuq", op))
        host_rich(w, op, argv);
}

/* ---- frames from the server ------------------------------------------------- */

/* Copies in[len] to out, replacing $CONV and $CID; the length written.
 * What lies between two '$' goes in one memcpy. */
static size_t substitute(const fz_world *w, const char *in, size_t len, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < len && o < cap;) {
        const char *dollar = memchr(in + i, '$', len - i);
        size_t plain = (dollar ? (size_t)(dollar - in) : len) - i;
        if (plain) {
            size_t n = plain < cap - o ? plain : cap - o;
            memcpy(out + o, in + i, n);
            o += n;
            i += n;
            continue;
        }
        const char *rep = NULL;
        size_t skip = 0;
        if (len - i >= 5 && memcmp(in + i, "$CONV", 5) == 0)
            rep = w->conv, skip = 5;
        else if (len - i >= 4 && memcmp(in + i, "$CID", 4) == 0)
            rep = w->cid, skip = 4;
        if (!rep) {
            out[o++] = in[i++];
            continue;
        }
        size_t r = strlen(rep);
        if (r > cap - o)
            break;
        memcpy(out + o, rep, r);
        o += r;
        i += skip;
    }
    return o;
}

void fz_line(fz_world *w, const char *line, size_t len)
{
    static char buf[FZ_MAX_LINE + 1];
    if (len > FZ_MAX_LINE)
        len = FZ_MAX_LINE;
    if (len && line[0] == '!') {
        memcpy(buf, line + 1, len - 1);
        buf[len - 1] = '\0';
        host_action(w, buf);
    } else if (w->sess) {
        size_t n = substitute(w, line, len, buf, FZ_MAX_LINE);
        /* A malloc'd copy of exactly n bytes, so ASan sees any over-read. */
        char *frame = malloc(n ? n : 1);
        if (frame) {
            memcpy(frame, buf, n);
            pl_sess_on_frame(w->sess, w->now, frame, n);
            free(frame);
        }
    }
    w->now += 1;
    fz_pump(w);
}

size_t fz_line_len(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    return nl ? (size_t)(nl - data) : size;
}

void fz_lines(fz_world *w, const uint8_t *data, size_t size)
{
    while (size) {
        size_t n = fz_line_len(data, size);
        fz_line(w, (const char *)data, n);
        if (n == size)
            break;
        data += n + 1;
        size -= n + 1;
    }
}
