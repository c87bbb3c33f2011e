/* Command-line parsing for parley-chat. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* In parts: C99 promises string literals of 4095 bytes only. */
static const char USAGE_CONNECT[] =
    "Usage: parley-chat --url URL [options]\n"
    "\n"
    "Chat with a parley.v1 support server from the command line.\n"
    "\n"
    "  --url URL            server, wss://host[:port][/path] (required)\n"
    "  --ca FILE            trust anchors (PEM file; or the PEM text itself);\n"
    "                       default: the system CA bundle\n"
    "  --pin PIN            also require the server's public key to be PIN\n"
    "                       (base64 SHA-256 of its SubjectPublicKeyInfo, as\n"
    "                       scripts/parley-pin.sh prints it); repeatable, at\n"
    "                       least twice: the key in use and a backup key\n"
    "  --insecure           allow ws:// (local development only)\n"
    "  --app-id ID          the app id sent to the server (default parley-demo)\n"
    "  --user ID            identify as user ID (default: anonymous)\n"
    "  --token TOKEN        proof of identity for --user (JWT or user hash)\n"
    "  --data-dir DIR       keep durable state in DIR: the anonymous id and the\n"
    "                       outbox, so unsent messages survive a restart\n"
    "  --key-file FILE      encrypt the state in --data-dir with the 32-byte\n"
    "                       key stored raw in FILE\n"
    "  --outbox-cap N       most unsent items kept (default 1000)\n";

static const char USAGE_CHAT[] =
    "  --attr KEY=VALUE     user attribute, repeatable; true/false, null,\n"
    "                       numbers and {JSON objects} are typed, anything\n"
    "                       else is a string\n"
    "  --screen NAME        the screen or level the user is on\n"
    "  --breadcrumb TEXT    a recent user action, repeatable (oldest first)\n"
    "  --event NAME[=JSON]  track an event with optional JSON object metadata,\n"
    "                       repeatable; rides the outbox like a message\n"
    "  --app-version V      the app version reported with the device facts\n"
    "  --no-consent         do not allow context (attributes, screen,\n"
    "                       breadcrumbs, events, device facts) to be sent\n"
    "  --logout             forget the user first: wipe --data-dir's state of\n"
    "                       them and continue as a new anonymous user\n"
    "  --choose LABEL       when a message offers a quick reply or button\n"
    "                       labelled LABEL, pick it; repeatable, used in order\n"
    "  --search QUERY       search the help articles and print them\n"
    "  --answer QID=VALUE   answer question QID of a survey when one arrives\n"
    "                       (numbers, option ids, a,b,c for multiple choice,\n"
    "                       or text), repeatable; the survey is then submitted\n"
    "  --dismiss-surveys    dismiss surveys instead\n"
    "  --wait-surveys N     wait until N surveys were submitted or dismissed\n"
    "  --subject TEXT       subject of a new conversation\n"
    "  --category NAME      what a new conversation is about, as the app knows\n"
    "                       it (payments, bug, account ...), for the server's\n"
    "                       triage and the agents\n"
    "  --area NAME          the game or app area it is about (shop/gems ...)\n"
    "  --severity LEVEL     the app's severity hint: low, medium, high, critical\n"
    "  --conv ID            continue conversation ID (one that --data-dir\n"
    "                       wrote in) instead of starting a new one\n"
    "  --resume             continue the last conversation of --data-dir, or\n"
    "                       start one when there is none\n"
    "  --send TEXT          message to send, repeatable (in order, in one\n"
    "                       conversation); without --send, lines typed on a\n"
    "                       terminal or read from stdin are sent (below)\n"
    "  --wait-replies N     wait for N messages not written by the user\n"
    "                       (default: after piped input, for the answer to\n"
    "                       the last line; 0: do not wait)\n"
    "  --timeout SECONDS    give up this long after the last input was queued\n"
    "                       (default 30; 0 waits forever)\n"
    "  --reconnect MS[:MAX] reconnect backoff: initial and maximum delay\n"
    "  --threaded           run the library's own I/O thread (default: drive\n"
    "                       it from the main loop)\n"
    "  --json               one JSON object per event and line on stdout\n"
    "  --verbose, -v        library log on stderr\n"
    "  --mem-stats          report the library's heap use on exit\n"
    "  --anon-id            print the anonymous id (see --data-dir) and exit\n"
    "  --help, -h           this help\n"
    "  --version, -V        versions of parley-chat and libparley\n";

static const char USAGE_FILES[] =
    "  --attach PATH        send the file at PATH as an attachment, after the\n"
    "                       --send texts, repeatable; its MIME type comes from\n"
    "                       its extension (application/octet-stream when unknown)\n"
    "  --push-token PLATFORM:TOKEN  register this device's push token (apns, fcm\n"
    "                       or a name of yours) so replies reach it when offline\n";

static const char USAGE_LINES[] =
    "\n"
    "Lines from stdin are messages. When support offers options (printed\n"
    "numbered), a line holding just a number picks that option; \\N sends the\n"
    "number N as text. From a pipe, a number waits for the answer to the line\n"
    "before it, and after the last line parley-chat waits for its answer\n"
    "(--timeout bounds both waits).\n"
    "\n"
    "Exit status: 0 when every message was acknowledged and the awaited\n"
    "replies arrived, 1 usage error, 2 a message failed or a fatal error,\n"
    "3 timeout, 130 interrupted.\n";

enum {
    OPT_URL = 256,
    OPT_CA,
    OPT_APP_ID,
    OPT_USER,
    OPT_TOKEN,
    OPT_DATA_DIR,
    OPT_SUBJECT,
    OPT_SEND,
    OPT_ATTR,
    OPT_WAIT,
    OPT_TIMEOUT,
    OPT_RECONNECT,
    OPT_JSON,
    OPT_INSECURE,
    OPT_THREADED,
    OPT_ANON_ID,
    OPT_MEM_STATS,
    OPT_KEY_FILE,
    OPT_OUTBOX_CAP,
    OPT_SCREEN,
    OPT_BREADCRUMB,
    OPT_EVENT,
    OPT_APP_VERSION,
    OPT_NO_CONSENT,
    OPT_LOGOUT,
    OPT_CHOOSE,
    OPT_SEARCH,
    OPT_ANSWER,
    OPT_DISMISS_SURVEYS,
    OPT_WAIT_SURVEYS,
    OPT_PIN,
    OPT_CONV,
    OPT_RESUME,
    OPT_ATTACH,
    OPT_PUSH_TOKEN,
    OPT_CATEGORY,
    OPT_AREA,
    OPT_SEVERITY
};

static const struct option LONG_OPTS[] = {
    {"url", required_argument, NULL, OPT_URL},
    {"ca", required_argument, NULL, OPT_CA},
    {"app-id", required_argument, NULL, OPT_APP_ID},
    {"user", required_argument, NULL, OPT_USER},
    {"token", required_argument, NULL, OPT_TOKEN},
    {"data-dir", required_argument, NULL, OPT_DATA_DIR},
    {"subject", required_argument, NULL, OPT_SUBJECT},
    {"category", required_argument, NULL, OPT_CATEGORY},
    {"area", required_argument, NULL, OPT_AREA},
    {"severity", required_argument, NULL, OPT_SEVERITY},
    {"send", required_argument, NULL, OPT_SEND},
    {"attr", required_argument, NULL, OPT_ATTR},
    {"wait-replies", required_argument, NULL, OPT_WAIT},
    {"timeout", required_argument, NULL, OPT_TIMEOUT},
    {"reconnect", required_argument, NULL, OPT_RECONNECT},
    {"json", no_argument, NULL, OPT_JSON},
    {"insecure", no_argument, NULL, OPT_INSECURE},
    {"threaded", no_argument, NULL, OPT_THREADED},
    {"anon-id", no_argument, NULL, OPT_ANON_ID},
    {"mem-stats", no_argument, NULL, OPT_MEM_STATS},
    {"key-file", required_argument, NULL, OPT_KEY_FILE},
    {"outbox-cap", required_argument, NULL, OPT_OUTBOX_CAP},
    {"screen", required_argument, NULL, OPT_SCREEN},
    {"breadcrumb", required_argument, NULL, OPT_BREADCRUMB},
    {"event", required_argument, NULL, OPT_EVENT},
    {"app-version", required_argument, NULL, OPT_APP_VERSION},
    {"no-consent", no_argument, NULL, OPT_NO_CONSENT},
    {"logout", no_argument, NULL, OPT_LOGOUT},
    {"choose", required_argument, NULL, OPT_CHOOSE},
    {"search", required_argument, NULL, OPT_SEARCH},
    {"answer", required_argument, NULL, OPT_ANSWER},
    {"dismiss-surveys", no_argument, NULL, OPT_DISMISS_SURVEYS},
    {"wait-surveys", required_argument, NULL, OPT_WAIT_SURVEYS},
    {"pin", required_argument, NULL, OPT_PIN},
    {"conv", required_argument, NULL, OPT_CONV},
    {"resume", no_argument, NULL, OPT_RESUME},
    {"attach", required_argument, NULL, OPT_ATTACH},
    {"push-token", required_argument, NULL, OPT_PUSH_TOKEN},
    {"verbose", no_argument, NULL, 'v'},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0}};

static int usage_error(const char *fmt, const char *arg)
{
    fputs("parley-chat: ", stderr);
    fprintf(stderr, fmt, arg);
    fputs("\nTry 'parley-chat --help'.\n", stderr);
    return CHAT_USAGE;
}

/* Grows an array by one slot; NULL when out of memory. */
static void *push_slot(void *arr, size_t *n, size_t size)
{
    void *grown = realloc(arr, (*n + 1) * size);
    if (grown)
        (*n)++;
    return grown;
}

/* Appends to a repeatable option's list. */
static int add_text(const char ***list, size_t *n, const char *text, const char *what)
{
    if (!*text)
        return usage_error("%s wants a non-empty text", what);
    const char **grown = push_slot(*list, n, sizeof **list);
    if (!grown)
        return usage_error("%s", "out of memory");
    *list = grown;
    (*list)[*n - 1] = text;
    return -1;
}

/* KEY=VALUE, split in place (argv strings are writable). */
static int add_attr(options *o, char *arg)
{
    char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return usage_error("--attr wants KEY=VALUE, got '%s'", arg);
    attr_opt *grown = push_slot(o->attrs, &o->n_attrs, sizeof *o->attrs);
    if (!grown)
        return usage_error("%s", "out of memory");
    o->attrs = grown;
    *eq = '\0';
    o->attrs[o->n_attrs - 1] = (attr_opt){arg, eq + 1};
    return -1;
}

static int parse_count(const char *s, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 0)
        return -1;
    *out = v;
    return 0;
}

static int parse_seconds(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v) || v < 0 || v > 1e9)
        return -1;
    *out = v;
    return 0;
}

static int parse_ms(const char *s, char **end, uint32_t *out)
{
    errno = 0;
    unsigned long v = strtoul(s, end, 10);
    if (errno || *end == s || v == 0 || v > UINT32_MAX || s[0] == '-')
        return -1;
    *out = (uint32_t)v;
    return 0;
}

/* MS or MS:MAX; MAX defaults to the larger of MS and the library's 30 s. */
static int parse_reconnect(options *o, const char *s)
{
    char *end;
    if (parse_ms(s, &end, &o->reconnect_initial_ms) < 0)
        return usage_error("--reconnect wants MS[:MAX] (milliseconds), got '%s'", s);
    if (*end == '\0') {
        o->reconnect_max_ms = o->reconnect_initial_ms > 30000 ? o->reconnect_initial_ms : 30000;
        return -1;
    }
    const char *max = end + 1;
    if (*end != ':' || parse_ms(max, &end, &o->reconnect_max_ms) < 0 || *end ||
        o->reconnect_max_ms < o->reconnect_initial_ms)
        return usage_error("--reconnect wants MS[:MAX] with MAX >= MS, got '%s'", s);
    return -1;
}

/* PLATFORM:TOKEN, split in place (argv strings are writable). */
static int parse_push_token(options *o, char *arg)
{
    char *colon = strchr(arg, ':');
    if (!colon || colon == arg || !colon[1])
        return usage_error("--push-token wants PLATFORM:TOKEN, got '%s'", arg);
    *colon = '\0';
    o->push_platform = arg;
    o->push_token = colon + 1;
    return -1;
}

static int print_version(void)
{
    int major, minor, patch;
    const char *lib = parley_version(&major, &minor, &patch);
    printf("parley-chat %s (libparley %s)\n", PARLEY_VERSION_STRING, lib);
    if (major != PARLEY_VERSION_MAJOR || minor < PARLEY_VERSION_MINOR)
        output_note("warning: built against libparley %s, running with %s", PARLEY_VERSION_STRING,
                    lib);
    return CHAT_OK;
}

static int parse_severity(options *o, const char *s)
{
    static const char *const levels[] = {"low", "medium", "high", "critical"};
    for (int i = 0; i < 4; i++) {
        if (strcmp(s, levels[i]) == 0) {
            o->severity = PARLEY_SEVERITY_LOW + i;
            return -1;
        }
    }
    return usage_error("--severity wants low, medium, high or critical, got '%s'", s);
}

static int handle_opt(options *o, int c, char *arg)
{
    switch (c) {
    case OPT_URL: o->url = arg; return -1;
    case OPT_CA: o->ca = arg; return -1;
    case OPT_PIN: return add_text(&o->pins, &o->n_pins, arg, "--pin");
    case OPT_APP_ID: o->app_id = arg; return -1;
    case OPT_USER: o->user = arg; return -1;
    case OPT_TOKEN: o->token = arg; return -1;
    case OPT_DATA_DIR: o->data_dir = arg; return -1;
    case OPT_SUBJECT: o->subject = arg; return -1;
    case OPT_CATEGORY: o->category = arg; return -1;
    case OPT_AREA: o->area = arg; return -1;
    case OPT_SEVERITY: return parse_severity(o, arg);
    case OPT_CONV:
        if (!*arg)
            return usage_error("%s", "--conv wants a conversation id");
        o->conv = arg;
        return -1;
    case OPT_RESUME: o->resume = 1; return -1;
    case OPT_SEND: return add_text(&o->sends, &o->n_sends, arg, "--send");
    case OPT_ATTACH: return add_text(&o->attaches, &o->n_attaches, arg, "--attach");
    case OPT_PUSH_TOKEN: return parse_push_token(o, arg);
    case OPT_BREADCRUMB: return add_text(&o->breadcrumbs, &o->n_breadcrumbs, arg, "--breadcrumb");
    case OPT_EVENT: return add_text(&o->events, &o->n_events, arg, "--event");
    case OPT_SCREEN: o->screen = arg; return -1;
    case OPT_APP_VERSION: o->app_version = arg; return -1;
    case OPT_NO_CONSENT: o->no_consent = 1; return -1;
    case OPT_LOGOUT: o->logout = 1; return -1;
    case OPT_CHOOSE: return add_text(&o->chooses, &o->n_chooses, arg, "--choose");
    case OPT_ANSWER:
        if (!strchr(arg, '=') || arg[0] == '=')
            return usage_error("--answer wants QUESTION_ID=VALUE, got '%s'", arg);
        return add_text(&o->answers, &o->n_answers, arg, "--answer");
    case OPT_SEARCH:
        if (!*arg)
            return usage_error("%s", "--search wants a query");
        o->search = arg;
        return -1;
    case OPT_DISMISS_SURVEYS: o->dismiss_surveys = 1; return -1;
    case OPT_WAIT_SURVEYS:
        if (parse_count(arg, &o->wait_surveys) < 0)
            return usage_error("--wait-surveys wants a count, got '%s'", arg);
        return -1;
    case OPT_ATTR: return add_attr(o, arg);
    case OPT_WAIT:
        if (parse_count(arg, &o->wait_replies) < 0)
            return usage_error("--wait-replies wants a count, got '%s'", arg);
        return -1;
    case OPT_TIMEOUT:
        if (parse_seconds(arg, &o->timeout_s) < 0)
            return usage_error("--timeout wants seconds, got '%s'", arg);
        return -1;
    case OPT_RECONNECT: return parse_reconnect(o, arg);
    case OPT_KEY_FILE: o->key_file = arg; return -1;
    case OPT_OUTBOX_CAP:
        if (parse_count(arg, &o->outbox_cap) < 0 || o->outbox_cap == 0 ||
            o->outbox_cap > UINT32_MAX)
            return usage_error("--outbox-cap wants a positive count, got '%s'", arg);
        return -1;
    case OPT_JSON: o->json = 1; return -1;
    case OPT_INSECURE: o->insecure = 1; return -1;
    case OPT_THREADED: o->threaded = 1; return -1;
    case OPT_ANON_ID: o->anon_id = 1; return -1;
    case OPT_MEM_STATS: o->mem_stats = 1; return -1;
    case 'v': o->verbose = 1; return -1;
    case 'h':
        fputs(USAGE_CONNECT, stdout);
        fputs(USAGE_CHAT, stdout);
        fputs(USAGE_FILES, stdout);
        fputs(USAGE_LINES, stdout);
        return CHAT_OK;
    case 'V': return print_version();
    default: fputs("Try 'parley-chat --help'.\n", stderr); return CHAT_USAGE;
    }
}

static int check_conversation(const options *o)
{
    if (o->conv && o->resume)
        return usage_error("%s", "--conv and --resume exclude each other");
    if (o->conv && (o->subject || o->category || o->area || o->severity))
        return usage_error("%s", "--subject, --category, --area and --severity describe a new "
                                 "conversation; --conv continues one");
    if (o->resume && !o->data_dir)
        return usage_error("%s", "--resume needs --data-dir, where the last conversation is kept");
    return -1;
}

static int check_options(const options *o, int argc, char **argv)
{
    if (optind < argc)
        return usage_error("unexpected argument '%s'", argv[optind]);
    if (!o->url && !o->anon_id)
        return usage_error("%s", "--url is required");
    if (o->token && !o->user)
        return usage_error("%s", "--token needs --user");
    if (o->dismiss_surveys && o->n_answers)
        return usage_error("%s", "--answer and --dismiss-surveys exclude each other");
    if (o->n_pins == 1)
        return usage_error("%s",
                           "--pin needs a second pin, for a backup key: with one, replacing the "
                           "server's key locks every client out");
    if (o->subject && strlen(o->subject) > 256)
        return usage_error("%s", "--subject is limited to 256 bytes");
    return check_conversation(o);
}

int options_parse(options *o, int argc, char **argv)
{
    *o = (options){.app_id = "parley-demo", .timeout_s = 30, .wait_replies = -1};
    int c;
    while ((c = getopt_long(argc, argv, "hvV", LONG_OPTS, NULL)) != -1) {
        int rc = handle_opt(o, c, optarg);
        if (rc >= 0)
            return rc;
    }
    return check_options(o, argc, argv);
}

void options_free(options *o)
{
    free(o->sends);
    free(o->attrs);
    free(o->breadcrumbs);
    free(o->events);
    free(o->chooses);
    free(o->answers);
    free(o->pins);
    free(o->attaches);
    o->sends = o->breadcrumbs = o->events = o->chooses = o->answers = o->pins = NULL;
    o->attaches = NULL;
    o->attrs = NULL;
}

static int parse_number(const char *s, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || end == s || *end || !isfinite(v))
        return -1;
    *out = v;
    return 0;
}

int options_apply_attr(parley_client *pc, const attr_opt *a)
{
    double num;
    if (strcmp(a->value, "true") == 0 || strcmp(a->value, "false") == 0)
        return parley_set_attribute_bool(pc, a->key, a->value[0] == 't');
    if (strcmp(a->value, "null") == 0)
        return parley_set_attribute_null(pc, a->key);
    if (a->value[0] == '{')
        return parley_set_attribute_json(pc, a->key, a->value);
    if (parse_number(a->value, &num) == 0)
        return parley_set_attribute_num(pc, a->key, num);
    return parley_set_attribute_str(pc, a->key, a->value);
}

/* NAME or NAME=JSON, split in place. */
int options_apply_event(parley_client *pc, char *arg)
{
    char *eq = strchr(arg, '=');
    if (eq)
        *eq = '\0';
    int rc = parley_track_event(pc, arg, eq ? eq + 1 : NULL);
    if (eq)
        *eq = '=';
    return rc;
}
