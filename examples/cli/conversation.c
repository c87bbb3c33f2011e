/* Which conversation the chat writes in: a new one (started by the first
 * message), the one named by --conv, or with --resume the last one this
 * data dir wrote in, kept in DATA_DIR/parley-chat.conv beside the library's
 * own state. The library continues the conversations it knows: those this
 * data dir started or received messages in, and those the server lists
 * (another device's: --conv asks for the list first). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define LAST_FILE "parley-chat.conv"

static int last_path(const options *o, const char *suffix, char *out, size_t size)
{
    if (!o->data_dir)
        return -1;
    int n = snprintf(out, size, "%s/%s%s", o->data_dir, LAST_FILE, suffix);
    return n > 0 && (size_t)n < size ? 0 : -1;
}

/* The id in the file, or "" when there is none worth trying. */
static void read_last(const options *o, char conv[PARLEY_ID_SIZE])
{
    char path[4096];
    conv[0] = '\0';
    FILE *f = last_path(o, "", path, sizeof path) == 0 ? fopen(path, "r") : NULL;
    if (!f)
        return;
    if (!fgets(conv, PARLEY_ID_SIZE, f))
        conv[0] = '\0';
    fclose(f);
    conv[strcspn(conv, "\r\n")] = '\0';
}

/* Written aside and renamed: a crash leaves the old id or the new one. */
void conversation_remember(const chat *c)
{
    char path[4096], tmp[4096];
    if (!c->conv[0] || last_path(&c->opt, "", path, sizeof path) ||
        last_path(&c->opt, ".tmp", tmp, sizeof tmp))
        return;
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    size_t len = strlen(c->conv);
    int ok = fd >= 0 && write(fd, c->conv, len) == (ssize_t)len && write(fd, "\n", 1) == 1;
    if (fd >= 0 && close(fd) != 0)
        ok = 0;
    if (ok && rename(tmp, path) == 0)
        return;
    output_note("cannot keep the conversation for --resume in %s: %s", path, strerror(errno));
    unlink(tmp);
}

void conversation_forget(const options *o)
{
    char path[4096];
    if (last_path(o, "", path, sizeof path) == 0 && unlink(path) != 0 && errno != ENOENT)
        output_note("cannot forget the conversation in %s: %s", path, strerror(errno));
}

/* PARLEY_OK when the library knows `conv`: switching typing off is the
 * one call that says so (NOT_FOUND otherwise) without sending anything. */
static int probe(parley_client *pc, const char *conv)
{
    return parley_set_typing(pc, conv, 0);
}

static void adopt(chat *c, const char *conv)
{
    snprintf(c->conv, sizeof c->conv, "%s", conv);
    if (!c->opt.json)
        printf("[conversation] continuing %s\n", conv);
    fflush(stdout);
    conversation_remember(c);
}

/* A conversation this client has not seen may be the user's on another
 * device: the server's list of the user's conversations says, and makes
 * it known to the library. Sending waits for the answer. */
static int choose_named(chat *c)
{
    const options *o = &c->opt;
    int rc = probe(c->pc, o->conv);
    if (rc == PARLEY_OK) {
        adopt(c, o->conv);
        return -1;
    }
    if (rc == PARLEY_ERR_NOT_FOUND)
        rc = parley_list_conversations(c->pc, c->conv_req, sizeof c->conv_req);
    if (rc == PARLEY_OK) {
        c->conv_waiting = 1;
        return -1;
    }
    output_note("--conv %s: %s", o->conv, parley_strerror(rc));
    return CHAT_USAGE;
}

int conversation_listed(chat *c, const parley_event *ev)
{
    const char *req = parley_event_request_id(ev);
    if (!c->conv_waiting || !req || strcmp(req, c->conv_req) != 0)
        return 0;
    c->conv_waiting = 0;
    if (parley_event_type(ev) == PARLEY_EV_CONVERSATIONS &&
        probe(c->pc, c->opt.conv) == PARLEY_OK) {
        adopt(c, c->opt.conv);
        return 1;
    }
    output_note("--conv %s: not a conversation of this user (the server's list lacks it); "
                "continue it as the --user that wrote in it",
                c->opt.conv);
    c->fatal = 1;
    return 1;
}

int conversation_choose(chat *c)
{
    if (c->opt.conv)
        return choose_named(c);
    if (!c->opt.resume)
        return -1;
    char last[PARLEY_ID_SIZE];
    read_last(&c->opt, last);
    if (last[0] && probe(c->pc, last) == PARLEY_OK)
        adopt(c, last);
    else
        output_note("--resume: no earlier conversation in %s; the first message starts a new one",
                    c->opt.data_dir);
    return -1;
}
