/* What agents do to a conversation, whoever asks (the HTTP API today):
 * write in it (taking it over from the bot or the queue), assign it, close
 * and reopen it. Each change is stored in one transaction, then reaches the
 * user's connections (msg, conv.update, the queue's new positions), and a
 * close fires the conv.closed survey triggers. */
#ifndef PARLEY_SERVER_AGENT_H
#define PARLEY_SERVER_AGENT_H

#include "server.h"
#include "store.h"

#define AGENT_NAME_DEFAULT "Agent"

enum {
    AGENT_OK = 0,
    AGENT_ERR = -1,          /* database failure; nothing was stored */
    AGENT_UNKNOWN_CONV = -2, /* no such conversation */
};

/* Stores an agent message (blocks: checked JSON array text, or NULL) and
 * sends it; an agent writing in a conversation the bot or the queue had
 * takes it over (recorded as an assign by `by`, the agent account; by the
 * API token when `by` is NULL, and then the holder is `name`). *out gets
 * the message's id and seq. */
int agent_message(server *s, const char *conv, const char *name, const char *text,
                  const char *blocks, const char *by, store_msg *out);
/* The same carrying a file (`attachment`: the message's "attachment" JSON
 * text, or NULL; attach.c makes it). */
int agent_file_message(server *s, const char *conv, const char *name, const char *text,
                       const char *blocks, const char *attachment, const char *by, store_msg *out);

/* 1 when an agent message of that text and blocks fits in one msg frame,
 * whatever id and seq it gets. */
int agent_message_fits(const char *conv, const char *name, const char *text, const char *blocks);

/* Moves `conv` to `state` (and to the agent `name`, unless NULL): "agent",
 * "closed" or "open". A change is recorded as `action` (NULL: none) by
 * `by` with `detail` (JSON text, may be NULL) in the same transaction. */
int agent_set_state(server *s, const char *conv, const char *state, const char *name,
                    const char *by, const char *action, const char *detail);

#endif
