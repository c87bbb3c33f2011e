/* parley-chat as a user drives it, against the reference server and its
 * shipped bot flow over TLS on localhost: continuing a conversation (--conv,
 * --resume), picking offered options by number, stdin read whatever else
 * the run waits for, the wait for support's answer after piped input, and
 * surveys shown whole with their conditional questions. Also: every flag
 * --help lists is in the README. */
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "harness.h"
#include "testlib.h"

static h_server g_srv;
static char g_dir[256];

/* ---- running parley-chat ------------------------------------------------------ */

typedef struct run {
    int rc;
    char *out, *err;
} run;

static void run_free(run *r)
{
    free(r->out);
    free(r->err);
    memset(r, 0, sizeof *r);
}

static void dump(const run *r, const char *tag)
{
    fprintf(stderr, "---- parley-chat %s (exit %d)\nstdout:\n%s\nstderr:\n%s\n", tag, r->rc,
            r->out ? r->out : "", r->err ? r->err : "");
}

/* argv for parley-chat --url ... --ca ... ARGS; `url` is the caller's. */
static void chat_argv(char *argv[], size_t max, char *url, size_t url_size, char **args)
{
    size_t a = 0;
    snprintf(url, url_size, "wss://localhost:%d", g_srv.port);
    argv[a++] = PARLEY_CHAT_BIN;
    argv[a++] = "--url";
    argv[a++] = url;
    argv[a++] = "--ca";
    argv[a++] = g_srv.ca;
    while (*args && a + 1 < max)
        argv[a++] = *args++;
    argv[a] = NULL;
}

static void paths(const char *tag, char in[H_PATH], char out[H_PATH], char err[H_PATH])
{
    snprintf(in, H_PATH, "%s/cli-%s.in", g_dir, tag);
    snprintf(out, H_PATH, "%s/cli-%s.out", g_dir, tag);
    snprintf(err, H_PATH, "%s/cli-%s.err", g_dir, tag);
}

/* Runs parley-chat with `input` on stdin (NULL: /dev/null); a failed check
 * prints what it said. */
static run chat(const char *tag, const char *input, char **args)
{
    char url[64], in[H_PATH], out[H_PATH], err[H_PATH], *argv[48];
    int failed_before = tl_failed;
    paths(tag, in, out, err);
    if (input)
        CHECK_INT(h_write_file(in, input), 0);
    chat_argv(argv, 48, url, sizeof url, args);
    run r = {h_run(argv, input ? in : NULL, out, err, h_ms(90000)), NULL, NULL};
    r.out = tl_read_file(out, NULL);
    r.err = tl_read_file(err, NULL);
    if (!r.out || !r.err)
        CHECK(!"parley-chat output");
    if (tl_failed != failed_before)
        dump(&r, tag);
    return r;
}

/* parley-chat in the background, stdin from `input`. */
static pid_t chat_spawn(const char *tag, const char *input, char **args)
{
    char url[64], in[H_PATH], out[H_PATH], err[H_PATH], *argv[48];
    paths(tag, in, out, err);
    CHECK_INT(h_write_file(in, input), 0);
    chat_argv(argv, 48, url, sizeof url, args);
    pid_t pid = h_spawn(argv, in, out, err);
    CHECK(pid > 0);
    return pid;
}

static run chat_reap(const char *tag, pid_t pid)
{
    char in[H_PATH], out[H_PATH], err[H_PATH];
    paths(tag, in, out, err);
    run r = {h_wait(pid, h_ms(90000)), NULL, NULL};
    r.out = tl_read_file(out, NULL);
    r.err = tl_read_file(err, NULL);
    return r;
}

static int has(const run *r, const char *text)
{
    return r->out && strstr(r->out, text) != NULL;
}

static int said(const run *r, const char *text)
{
    return r->err && strstr(r->err, text) != NULL;
}

/* The conversation a human-readable run started or continued ("" if none). */
static void conv_of(const run *r, const char *how, char conv[PARLEY_ID_SIZE])
{
    char prefix[64];
    snprintf(prefix, sizeof prefix, "[conversation] %s ", how);
    const char *p = r->out ? strstr(r->out, prefix) : NULL;
    conv[0] = '\0';
    if (p)
        sscanf(p + strlen(prefix), "%63s", conv);
}

static void sub_path(char *out, const char *name)
{
    snprintf(out, H_PATH, "%s/%s", g_dir, name);
}

static void sleep_ms(int ms)
{
    struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

static int api_post(const char *conv, const char *what, const char *body)
{
    char path[256];
    snprintf(path, sizeof path, "/api/conversations/%s/%s", conv, what);
    return h_api(&g_srv, "POST", path, body, NULL);
}

/* ---- numbered options ------------------------------------------------------------ */

/* Each number picks the option printed with it, from the answer to the line
 * before: the greeting's 2 is Bugs, then Bugs' 1 is "The game crashes". The
 * picks are postbacks: the server stores their labels as the user's
 * messages, and the bot follows the flow. Piped in one go, so every number
 * must wait for the answer that brings its options. */
static void test_pick_by_number(void)
{
    char *args[] = {NULL};
    run r = chat("pick", "hello bot\n2\n1\n", args);
    CHECK_INT(r.rc, 0);
    CHECK(has(&r, "\n    1. [Billing]\n    2. [Bugs]\n    3. [Talk to a human]\n"));
    CHECK(has(&r, "[chose] Bugs\n"));
    CHECK(has(&r, "[chose] The game crashes\n"));
    CHECK(has(&r, "[bot Parley Bot] Sorry about that! What's happening?"));
    /* The answer to the last pick arrived before parley-chat ended. */
    CHECK(has(&r, "[bot Parley Bot] Let's get you running again"));
    char conv[PARLEY_ID_SIZE];
    conv_of(&r, "started", conv);
    CHECK_INT(h_api_count_text(&g_srv, conv, "Bugs"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "The game crashes"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "2"), 0);
    run_free(&r);

    /* The same from the library's I/O thread. */
    char *threaded[] = {"--threaded", NULL};
    r = chat("pick-threaded", "hello bot\n3\n", threaded);
    CHECK_INT(r.rc, 0);
    CHECK(has(&r, "[chose] Talk to a human\n"));
    CHECK(has(&r, "[conversation] queued"));
    run_free(&r);
}

/* "\2" says the number itself; a number with no options shown is text; one
 * outside the options is refused (and fails a scripted run). */
static void test_number_as_text(void)
{
    char *args[] = {NULL};
    run r = chat("escaped", "hello bot\n\\2\n", args);
    CHECK_INT(r.rc, 0);
    CHECK(!has(&r, "[chose]"));
    char conv[PARLEY_ID_SIZE];
    conv_of(&r, "started", conv);
    CHECK_INT(h_api_count_text(&g_srv, conv, "2"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "Bugs"), 0);
    run_free(&r);

    r = chat("plain-number", "42\n", args);
    CHECK_INT(r.rc, 0);
    conv_of(&r, "started", conv);
    CHECK_INT(h_api_count_text(&g_srv, conv, "42"), 1);
    run_free(&r);

    r = chat("no-such-option", "hello bot\n7\n", args);
    CHECK_INT(r.rc, 2);
    CHECK(said(&r, "there is no option 7: pick 1 to 3, or type \\7"));
    conv_of(&r, "started", conv);
    CHECK_INT(h_api_count_text(&g_srv, conv, "7"), 0);
    run_free(&r);
}

/* ---- continuing a conversation ------------------------------------------------------ */

static void test_conv_and_resume(void)
{
    char data[H_PATH], other[H_PATH], conv[PARLEY_ID_SIZE], again[PARLEY_ID_SIZE];
    sub_path(data, "resume-data");
    sub_path(other, "resume-other");
    char *first[] = {"--data-dir", data, "--send", "first words", NULL};
    run r = chat("conv-1", NULL, first);
    CHECK_INT(r.rc, 0);
    conv_of(&r, "started", conv);
    CHECK(strncmp(conv, "c-", 2) == 0);
    run_free(&r);

    char *named[] = {"--data-dir", data, "--conv", conv, "--send", "second words", NULL};
    r = chat("conv-2", NULL, named);
    CHECK_INT(r.rc, 0);
    conv_of(&r, "continuing", again);
    CHECK_STR(again, conv);
    CHECK(!has(&r, "[conversation] started"));
    CHECK_INT(h_api_count_text(&g_srv, conv, "second words"), 1);
    run_free(&r);

    char *resume[] = {"--data-dir", data, "--resume", NULL};
    r = chat("conv-3", "third words\n", resume);
    CHECK_INT(r.rc, 0);
    conv_of(&r, "continuing", again);
    CHECK_STR(again, conv);
    CHECK_INT(h_api_count_text(&g_srv, conv, "third words"), 1);
    CHECK_INT(h_api_count_text(&g_srv, conv, "first words"), 1);
    run_free(&r);

    /* Another user (another data dir, anonymous) asks the server, whose
     * list lacks it: a clear refusal, nothing sent. */
    char *stranger[] = {"--data-dir", other, "--conv", conv, "--send", "not mine", NULL};
    r = chat("conv-unknown", NULL, stranger);
    CHECK_INT(r.rc, 2);
    CHECK(said(&r, "not a conversation of this user"));
    CHECK_INT(h_api_count_text(&g_srv, conv, "not mine"), 0);
    run_free(&r);

    char *no_dir[] = {"--resume", "--send", "x", NULL};
    r = chat("resume-no-dir", NULL, no_dir);
    CHECK_INT(r.rc, 1);
    CHECK(said(&r, "--resume needs --data-dir"));
    run_free(&r);

    /* Logging out forgets the conversation with the user. */
    char *logout[] = {"--data-dir", data, "--logout", "--resume", "--send", "a new me", NULL};
    r = chat("resume-logout", NULL, logout);
    CHECK_INT(r.rc, 0);
    conv_of(&r, "started", again);
    CHECK(again[0] && strcmp(again, conv) != 0);
    CHECK_INT(h_api_count_text(&g_srv, conv, "a new me"), 0);
    run_free(&r);
}

/* ---- stdin whatever the run waits for ------------------------------------------------- */

/* These modes used to ignore stdin: its lines never left. */
static void test_stdin_in_every_mode(void)
{
    char data[H_PATH];
    sub_path(data, "modes-data");
    char *search[] = {"--search", "refund", NULL};
    char *event[] = {"--event", "tutorial_done", NULL};
    char *logout[] = {"--data-dir", data, "--logout", NULL};
    char **modes[] = {search, event, logout};
    const char *texts[] = {"typed while searching\n", "typed with an event\n", "typed at logout\n"};
    for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
        char tag[32], conv[PARLEY_ID_SIZE], text[64];
        snprintf(tag, sizeof tag, "mode-%zu", i);
        run r = chat(tag, texts[i], modes[i]);
        CHECK_INT(r.rc, 0);
        conv_of(&r, "started", conv);
        snprintf(text, sizeof text, "%.*s", (int)strcspn(texts[i], "\n"), texts[i]);
        CHECK_INT(h_api_count_text(&g_srv, conv, text), 1);
        if (i == 0)
            CHECK(has(&r, "[articles] 1 found"));
        run_free(&r);
    }
}

/* ---- waiting for the answer after piped input ----------------------------------------- */

/* A conversation waiting for a human: nothing answers automatically. (The
 * bot's greeting answers the first message whatever it says.) */
static void queued_conversation(const char *data, char conv[PARLEY_ID_SIZE])
{
    char *args[] = {"--data-dir",     (char *)data,     "--send", "hello", "--send",
                    "I want a human", "--wait-replies", "2",      NULL};
    run r = chat("queue", NULL, args);
    CHECK_INT(r.rc, 0);
    CHECK(has(&r, "[conversation] queued"));
    conv_of(&r, "started", conv);
    run_free(&r);
}

/* parley-chat is still running `ms` after its line reached the server. */
static int still_running(pid_t pid, const char *conv, const char *text, int ms)
{
    int64_t deadline = h_now_ms() + h_ms(30000);
    while (h_api_count_text(&g_srv, conv, text) != 1 && h_now_ms() < deadline)
        sleep_ms(100);
    sleep_ms(ms);
    int status;
    return waitpid(pid, &status, WNOHANG) == 0;
}

static void test_waits_for_answer(void)
{
    char data[H_PATH], conv[PARLEY_ID_SIZE];
    sub_path(data, "wait-data");
    queued_conversation(data, conv);

    char *resume[] = {"--data-dir", data, "--resume", "--timeout", "60", NULL};
    pid_t pid = chat_spawn("wait-agent", "is anyone there?\n", resume);
    CHECK(still_running(pid, conv, "is anyone there?", 1000));
    CHECK_INT(api_post(conv, "messages", "{\"text\":\"Yes, Ann here.\",\"name\":\"Ann\"}"), 201);
    run r = chat_reap("wait-agent", pid);
    CHECK_INT(r.rc, 0);
    CHECK(has(&r, "[agent Ann] Yes, Ann here."));
    if (r.rc != 0)
        dump(&r, "wait-agent");
    run_free(&r);

    /* The wait is bounded by --timeout ... */
    char *bounded[] = {"--data-dir", data, "--resume", "--timeout", "2", NULL};
    int64_t t0 = h_now_ms();
    r = chat("wait-timeout", "hello again?\n", bounded);
    CHECK_INT(r.rc, 3);
    CHECK(h_now_ms() - t0 >= 1900);
    CHECK(said(&r, "no answer yet to the last line"));
    run_free(&r);

    /* ... and --wait-replies 0 does not wait at all. */
    char *no_wait[] = {"--data-dir", data,        "--resume", "--wait-replies",
                       "0",          "--timeout", "60",       NULL};
    t0 = h_now_ms();
    r = chat("wait-none", "bye for now\n", no_wait);
    CHECK_INT(r.rc, 0);
    CHECK(h_now_ms() - t0 < h_ms(20000));
    CHECK_INT(h_api_count_text(&g_srv, conv, "bye for now"), 1);
    run_free(&r);
}

/* ---- surveys ------------------------------------------------------------------------- */

/* The response the server stored for the CSAT survey of `conv`, in *doc. */
static const cJSON *csat_response(const char *conv, cJSON **doc)
{
    char *body = NULL;
    CHECK_INT(h_api(&g_srv, "GET", "/api/surveys/csat/responses", NULL, &body), 200);
    *doc = body ? cJSON_Parse(body) : NULL;
    free(body);
    const cJSON *item;
    cJSON_ArrayForEach(item, cJSON_GetObjectItemCaseSensitive(*doc, "responses")) {
        if (h_json_str(item, "conv") && strcmp(h_json_str(item, "conv"), conv) == 0)
            return cJSON_GetObjectItemCaseSensitive(item, "answers");
    }
    return NULL;
}

/* A closed conversation, whose CSAT survey waits for its user. */
static void closed_conversation(const char *data, const char *tag, char conv[PARLEY_ID_SIZE])
{
    char *args[] = {"--data-dir", (char *)data, "--send", "help me", NULL};
    run r = chat(tag, NULL, args);
    CHECK_INT(r.rc, 0);
    conv_of(&r, "started", conv);
    run_free(&r);
    CHECK_INT(api_post(conv, "close", "{}"), 200);
}

/* Every question is shown with what answers it; the conditional q3 says
 * when it is asked; the answers apply in the survey's order, whatever the
 * order of the flags, and one to a question left hidden is skipped. */
static void test_survey_questions(void)
{
    char data[H_PATH], conv[PARLEY_ID_SIZE];
    sub_path(data, "survey-data");
    closed_conversation(data, "survey-low", conv);
    char *low[] = {"--data-dir",     data, "--answer", "q3=too slow", "--answer", "q1=2",
                   "--wait-surveys", "1",  NULL};
    run r = chat("survey-low-answer", NULL, low);
    CHECK_INT(r.rc, 0);
    CHECK(has(
        &r, "q1. How satisfied are you with the help you got? (1 Not at all .. 5 Very; required)"));
    CHECK(has(
        &r,
        "q2. What mattered most? (one of: fast = Speed, kind = Kindness, fixed = It got fixed)"));
    CHECK(has(&r, "q3. What went wrong? (text, at most 500 bytes; asked only when q1 is 1 or 2)"));
    run_free(&r);
    cJSON *doc = NULL;
    const cJSON *answers = csat_response(conv, &doc);
    CHECK(answers != NULL);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(answers, "q1")), 2);
    CHECK_STR(h_json_str(answers, "q3"), "too slow");
    cJSON_Delete(doc);

    closed_conversation(data, "survey-high", conv);
    char *high[] = {"--data-dir",     data, "--answer", "q3=nothing", "--answer", "q1=5",
                    "--wait-surveys", "1",  NULL};
    r = chat("survey-high-answer", NULL, high);
    CHECK_INT(r.rc, 0);
    CHECK(said(&r, "--answer q3=nothing left out: q3 is asked only when q1 is 1 or 2"));
    run_free(&r);
    answers = csat_response(conv, &doc);
    CHECK(answers != NULL);
    CHECK_INT(cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(answers, "q1")), 5);
    CHECK(cJSON_GetObjectItemCaseSensitive(answers, "q3") == NULL);
    cJSON_Delete(doc);

    /* A survey to wait for does not stop stdin either. */
    closed_conversation(data, "survey-stdin", conv);
    char *dismiss[] = {"--data-dir", data, "--dismiss-surveys", "--wait-surveys", "1", NULL};
    r = chat("survey-stdin-dismiss", "typed while a survey waits\n", dismiss);
    CHECK_INT(r.rc, 0);
    CHECK(has(&r, "[survey] "));
    conv_of(&r, "started", conv);
    CHECK_INT(h_api_count_text(&g_srv, conv, "typed while a survey waits"), 1);
    run_free(&r);
}

/* ---- the README ------------------------------------------------------------------------ */

/* The README's section on parley-chat, from its heading to the next. */
static char *readme_section(void)
{
    char *readme = tl_read_file(PARLEY_README, NULL);
    char *start = readme ? strstr(readme, "\n## The command-line client") : NULL;
    if (!start) {
        free(readme);
        return NULL;
    }
    char *end = strstr(start + 1, "\n## ");
    if (end)
        *end = '\0';
    memmove(readme, start, strlen(start) + 1);
    return readme;
}

/* `flag` (like "--url") in `text` as a whole word. */
static int mentions(const char *text, const char *flag)
{
    size_t n = strlen(flag);
    for (const char *p = strstr(text, flag); p; p = strstr(p + 1, flag))
        if (!(p[n] == '-' || (p[n] >= 'a' && p[n] <= 'z')) && (p == text || p[-1] != '-'))
            return 1;
    return 0;
}

static void test_help_flags_in_readme(void)
{
    char *args[] = {"--help", NULL};
    run r = chat("help", NULL, args);
    CHECK_INT(r.rc, 0);
    char *section = readme_section();
    CHECK(section != NULL);
    int flags = 0;
    for (const char *p = r.out ? strstr(r.out, "--") : NULL; p && section;
         p = strstr(p + 2, "--")) {
        char flag[64];
        if (sscanf(p, "%63[-a-z]", flag) != 1 || strlen(flag) < 3 || flag[2] == '-')
            continue;
        flags++;
        if (!mentions(section, flag)) {
            fprintf(stderr, "README's parley-chat section does not mention %s\n", flag);
            CHECK(!"every flag of --help is in the README");
        }
    }
    CHECK(flags >= 40);
    free(section);
    run_free(&r);
}

int main(void)
{
    if (tl_mkdtemp(g_dir, sizeof g_dir, "cli") != 0 || h_server_init(&g_srv, g_dir) != 0) {
        fprintf(stderr, "cannot prepare %s (certificates need the openssl tool)\n", g_dir);
        return 1;
    }
    if (h_server_start(&g_srv, 0) != 0) {
        h_server_dump_log(&g_srv);
        return 1;
    }
    RUN(test_help_flags_in_readme);
    RUN(test_pick_by_number);
    RUN(test_number_as_text);
    RUN(test_conv_and_resume);
    RUN(test_stdin_in_every_mode);
    RUN(test_waits_for_answer);
    RUN(test_survey_questions);
    h_server_stop(&g_srv, SIGTERM);
    if (tl_failed)
        h_server_dump_log(&g_srv);
    if (!tl_failed && !getenv("PARLEY_E2E_KEEP"))
        tl_rmrf(g_dir);
    else
        fprintf(stderr, "test files kept in %s\n", g_dir);
    return tl_finish();
}
