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
    const char **pins;
    size_t n_pins;
    long outbox_cap; /* 0: library default */
    const char **sends;
    size_t n_sends;
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
    long wait_replies;
    double timeout_s; /* 0: no timeout */
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
    size_t choose_next;       /* the next --choose label to look for */
    char search_req[PARLEY_ID_SIZE];
    int search_answered;
    long surveys_done;        /* submitted or dismissed */
    int failed;
} interact;

/* Sends what is asked up front (--search). PARLEY_OK or the error, told. */
int interact_start(parley_client *pc, const options *o, interact *it);
/* Picks --choose options, answers or dismisses surveys, notes answers. */
void interact_event(parley_client *pc, const options *o, interact *it, const parley_event *ev);
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

#endif
