/* parley-chat: a command-line client for libparley, in the spirit of
 * mosquitto_pub/sub. Declarations shared by its source files. */
#ifndef PARLEY_CHAT_CLI_H
#define PARLEY_CHAT_CLI_H

#include <stddef.h>
#include <stdint.h>

#include <parley.h>

/* Exit statuses (documented in --help). */
enum {
    CHAT_OK = 0,           /* everything asked for happened */
    CHAT_USAGE = 1,        /* bad command line */
    CHAT_FAILED = 2,       /* a message failed for good, or a fatal error */
    CHAT_TIMEOUT = 3,      /* --timeout ran out first */
    CHAT_INTERRUPTED = 130 /* SIGINT/SIGTERM before everything happened */
};

typedef struct attr_opt {
    const char *key;
    const char *value;
} attr_opt;

typedef struct options {
    const char *url, *ca, *app_id, *user, *token, *data_dir, *subject, *key_file;
    const char *conv; /* --conv: continue this conversation */
    /* What the app says about a new conversation's request: --category,
     * --area, --severity (a PARLEY_SEVERITY_* value, 0: not said). */
    const char *category, *area;
    int severity;
    int resume; /* --resume: continue the last one (remembered in data_dir) */
    const char **pins;
    size_t n_pins;
    long outbox_cap; /* 0: library default */
    const char **sends;
    size_t n_sends;
    const char **attaches; /* --attach: files, sent after the texts */
    size_t n_attaches;
    const char *push_platform, *push_token; /* --push-token */
    const char **breadcrumbs, **events;
    size_t n_breadcrumbs, n_events;
    const char *screen, *app_version;
    int no_consent, logout;
    const char **chooses, **answers;
    size_t n_chooses, n_answers;
    const char *search;
    int dismiss_surveys;
    long wait_surveys;
    attr_opt *attrs;
    size_t n_attrs;
    long wait_replies; /* -1: not given (piped input then waits for an answer) */
    double timeout_s;  /* 0: no timeout */
    uint32_t reconnect_initial_ms, reconnect_max_ms; /* 0: library defaults */
    int json, insecure, verbose, threaded, anon_id, mem_stats;
} options;

/* Parses argv. Returns -1 to continue, or an exit status (0 after --help or
 * --version, CHAT_USAGE on error, with a message already printed). */
int options_parse(options *o, int argc, char **argv);
void options_free(options *o);

/* Applies --attr KEY=VALUE: "true"/"false" become booleans, anything that
 * parses whole as a finite number a number, the rest a string. */
int options_apply_attr(parley_client *pc, const attr_opt *a);
/* Applies --event NAME[=JSON]. */
int options_apply_event(parley_client *pc, char *arg);

/* ---- acting on support's messages (interact.c) ------------------------ */

typedef struct interact {
    size_t choose_next; /* the next --choose label to look for */
    char search_req[PARLEY_ID_SIZE];
    int search_answered;
    long surveys_done; /* submitted or dismissed */
    int failed;
} interact;

/* Every --choose used, the search answered, --wait-surveys handled. */
int interact_done(const options *o, const interact *it);

/* ---- output ---------------------------------------------------------- */

/* Stable names for the library's enums, as printed in --json output. */
const char *name_event_type(int type);
const char *name_state(int type, int state);
const char *name_author(int kind);
const char *name_error(int code);

typedef struct output {
    int json;
    /* The last problem told on stderr: a client that keeps failing the same
     * way while it retries says so once. */
    int last_code;
    char last_text[256];
} output;

/* Prints one event on stdout (a JSON line, or a human-friendly line), and
 * problems worth a human's attention on stderr. `sent_text` is the text of
 * the user's message a MESSAGE_STATUS event refers to (NULL if unknown). */
void output_event(output *out, const parley_event *ev, const char *sent_text);

/* "q1 is 1 or 2": when a conditional question is asked ("" for one that
 * always is). */
void output_show_if(const parley_question *q, char *buf, size_t size);

/* stderr line prefixed with the program name. */
void output_note(const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 1, 2)))
#endif
    ;

/* ---- memory statistics (--mem-stats: the allocator hooks) -------------- */

typedef struct memstats memstats;
memstats *memstats_new(void);
void memstats_free(memstats *m);
int memstats_install(memstats *m, parley_config *cfg);
void memstats_report(memstats *m);

/* ---- offered options, numbered (offers.c) ----------------------------- */

/* A support message whose options the user may pick by number: a
 * PARLEY_EV_MESSAGE not written by the user, with at least one option
 * (proactive messages belong to no conversation, so nothing answers them). */
int offer_usable(const parley_event *ev);
/* How many options the message offers, counted through its blocks and
 * their cards in display order (output.c numbers them the same way). */
int offer_count(const parley_event *ev);
/* Option n (1-based) in that order, or NULL. */
const parley_option *offer_get(const parley_event *ev, long n);

/* ---- the running chat (main.c, send.c, input.c, conversation.c) ------ */

typedef struct sent_msg {
    char cid[PARLEY_ID_SIZE];
    char *text;
} sent_msg;

/* The last message or pick the user sent, and whether support has answered
 * it: a number read from a pipe waits for that answer (it picks from the
 * options the answer brings), and so does the end of piped input. An answer
 * is a support message later in the conversation (by seq) than the user's,
 * whichever of the two arrives first. */
typedef struct answer_wait {
    char conv[PARLEY_ID_SIZE];
    char cid[PARLEY_ID_SIZE]; /* "" when nothing was sent */
    uint64_t seq;             /* the server's seq for it, 0 until acknowledged */
    uint64_t newest;          /* newest seq of a support message in conv */
    int answered;
} answer_wait;

/* stdin, read line by line (input.c). */
typedef struct input {
    int reading; /* stdin is read in this run (no --send) */
    int open;    /* stdin has not ended yet */
    int done;    /* it ended and every line was handled */
    int tty;     /* typed by a person: lines are never held */
    int held;    /* a number waits for the answer to what was sent before */
    char *buf;   /* bytes read and not handled yet */
    size_t len;
} input;

typedef struct chat {
    options opt;
    output out;
    parley_client *pc;
    memstats *mem;
    char conv[PARLEY_ID_SIZE]; /* "" until the first message starts one */
    /* --conv naming a conversation this data dir has not seen (another
     * device's): the request listing the user's conversations, and 1 until
     * its answer made it known. */
    char conv_req[PARLEY_ID_SIZE];
    int conv_waiting;
    interact act;   /* --choose, --search, --answer */
    sent_msg *sent; /* messages not yet SENT or FAILED, to print their text */
    size_t n_sent;
    long replies;
    int failed; /* a message failed for good */
    int fatal;  /* an error that retrying cannot fix */
    input in;
    answer_wait await;
    parley_event *offer; /* the newest message whose options numbers pick */
    double deadline;     /* monotonic seconds; 0 = none yet */
} chat;

/* interact.c: sends what is asked up front (--search); PARLEY_OK or the
 * error, told. */
int interact_start(chat *c);
/* Picks --choose options, answers or dismisses surveys, notes answers. */
void interact_event(chat *c, const parley_event *ev);

/* Starts the --timeout clock now (when there is a timeout). */
void chat_start_deadline(chat *c);

/* send.c: sends `text` in the chat's conversation (started by the first
 * message); problems are told and marked failed. */
void chat_send_text(chat *c, const char *text);
/* Sends the file at `path` as an attachment in the chat's conversation. */
void chat_send_file(chat *c, const char *path);
/* Picks option n of the newest offer (`number` as typed, for messages). */
void chat_pick(chat *c, long n);
/* Remembers the text of a message that has a client id, for its status. */
void chat_remember_sent(chat *c, const char *cid, const char *text);
sent_msg *chat_find_sent(chat *c, const char *cid);
void chat_forget_sent(chat *c, sent_msg *m);
/* Follows the statuses and messages that answer what was sent. */
void answer_on_event(chat *c, const parley_event *ev);
/* Something was sent and support has not answered it yet. */
int answer_pending(const chat *c);
/* Forgets the offered options (a new text moves the conversation on). */
void chat_clear_offer(chat *c);

/* input.c: stdin. PARLEY_OK, or NOMEM (told). */
int input_begin(chat *c);
/* stdin may be read now: open, and no number is waiting for an answer. */
int input_readable(const chat *c);
/* Reads what stdin has (waiting at most timeout_ms), then handles lines. */
void input_pump(chat *c, int timeout_ms);
/* Handles buffered lines a held number was holding back. */
void input_resume(chat *c);
/* stdin is still being read, or lines wait in the buffer. */
int input_pending(const chat *c);
void input_free(chat *c);

/* conversation.c: --conv and --resume. -1 to go on, or an exit status
 * (the reason told). */
int conversation_choose(chat *c);
/* The answer to the request conversation_choose made for a --conv this
 * client did not know: continues in it, or ends the chat (told). 1 when
 * `ev` was that answer. */
int conversation_listed(chat *c, const parley_event *ev);
/* Keeps the chat's conversation in --data-dir for the next --resume. */
void conversation_remember(const chat *c);
/* --logout: the next --resume starts afresh. */
void conversation_forget(const options *o);

#endif
