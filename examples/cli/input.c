/* The user's lines from stdin, typed or piped. Each line is a message,
 * except:
 *  - a number while options are offered picks that option (see offers.c);
 *  - backslashes before a number send it as text, one backslash fewer: "\1"
 *    sends "1", so a number can always be said.
 * From a pipe a number means an option of the answer to what was sent
 * before it, so it waits for that answer, and the lines after it wait
 * with it (in order); --timeout bounds the wait. */
#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

enum {
    MAX_LINE = 64 * 1024, /* far over any text limit: a longer line goes out cut, and is refused */
    MAX_PICK_DIGITS = 9   /* more digits than any count of options is text */
};

int input_begin(chat *c)
{
    input *in = &c->in;
    in->reading = in->open = 1;
    in->tty = isatty(STDIN_FILENO);
    if (!(in->buf = malloc(MAX_LINE + 1))) {
        output_note("out of memory");
        return PARLEY_ERR_NOMEM;
    }
    if (in->tty)
        output_note("type a message and press Enter to send it; a number picks one of the options "
                    "shown (\\N sends N as text); Ctrl-D to finish");
    return PARLEY_OK;
}

void input_free(chat *c)
{
    free(c->in.buf);
    c->in.buf = NULL;
}

int input_pending(const chat *c)
{
    return c->in.reading && !c->in.done;
}

int input_readable(const chat *c)
{
    const input *in = &c->in;
    return in->reading && in->open && !in->held && in->len < MAX_LINE;
}

/* ---- lines ---------------------------------------------------------------- */

/* The line is not NUL-terminated yet. */
static int all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] < '0' || s[i] > '9')
            return 0;
    return n > 0;
}

static int is_pick(const char *s, size_t n)
{
    return n <= MAX_PICK_DIGITS && all_digits(s, n);
}

static size_t leading_backslashes(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && s[i] == '\\')
        i++;
    return i;
}

static void handle_line(chat *c, char *line, size_t n)
{
    line[n] = '\0';
    if (n == 0)
        return;
    if (c->offer && is_pick(line, n)) {
        chat_pick(c, strtol(line, NULL, 10));
        return;
    }
    size_t bs = leading_backslashes(line, n);
    if (bs > 0 && all_digits(line + bs, n - bs))
        line++;
    chat_send_text(c, line);
}

/* A number from a pipe while what was sent before it is unanswered. */
static int must_hold(const chat *c, const char *line, size_t n)
{
    return !c->in.tty && is_pick(line, n) && answer_pending(c);
}

/* The timeout runs while a number waits; typing again stops it. */
static void hold(chat *c, int on)
{
    if (on && !c->in.held)
        chat_start_deadline(c);
    else if (!on && c->in.held && c->in.open)
        c->deadline = 0;
    c->in.held = on;
}

/* Handles every complete line in order, up to one that must wait. */
static void handle_lines(chat *c)
{
    input *in = &c->in;
    size_t start = 0;
    while (start < in->len && !c->fatal) {
        char *line = in->buf + start;
        char *nl = memchr(line, '\n', in->len - start);
        if (!nl && in->open && in->len - start < MAX_LINE)
            break; /* the rest of the line is still coming */
        size_t n = nl ? (size_t)(nl - line) : in->len - start;
        size_t used = n + (nl != NULL);
        if (n > 0 && line[n - 1] == '\r')
            n--;
        hold(c, must_hold(c, line, n));
        if (in->held)
            break;
        handle_line(c, line, n);
        start += used;
    }
    memmove(in->buf, in->buf + start, in->len - start);
    in->len -= start;
    if (!in->open && (in->len == 0 || c->fatal) && !in->done) {
        in->done = 1;
        chat_start_deadline(c);
    }
}

static void read_input(chat *c)
{
    input *in = &c->in;
    ssize_t n = read(STDIN_FILENO, in->buf + in->len, MAX_LINE - in->len);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return;
    if (n < 0)
        output_note("reading stdin: %s", strerror(errno));
    if (n <= 0)
        in->open = 0;
    else
        in->len += (size_t)n;
}

void input_pump(chat *c, int timeout_ms)
{
    struct pollfd p = {.fd = STDIN_FILENO, .events = POLLIN};
    int n = poll(&p, 1, timeout_ms);
    if (n > 0 && (p.revents & (POLLIN | POLLHUP | POLLERR)))
        read_input(c);
    else if (n > 0 && (p.revents & POLLNVAL))
        c->in.open = 0;
    handle_lines(c);
}

void input_resume(chat *c)
{
    if (input_pending(c))
        handle_lines(c);
}
