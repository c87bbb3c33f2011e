/* The server's SQLite store: users, sessions, conversations, messages and
 * user attributes. Every write is durable (WAL, synchronous=FULL) when its
 * transaction commits, which happens before anything is acknowledged. */
#ifndef PARLEY_SERVER_DB_H
#define PARLEY_SERVER_DB_H

#include <stddef.h>
#include <stdint.h>

typedef struct db db;

/* A stored message. Strings are borrowed: from the caller on insert, from
 * SQLite for the duration of a db_msg_each callback. */
typedef struct db_msg {
    const char *conv;
    char id[32];             /* "m-<n>", assigned by the store */
    int64_t seq;             /* per conversation, assigned by the store */
    const char *cid;         /* client id of a user message, else NULL */
    const char *author_kind; /* "user", "bot", "agent", "system" */
    const char *author_name; /* may be NULL */
    const char *text;
    int64_t ts;
    const char *context;     /* JSON object text, or NULL */
    const char *blocks;      /* structured content: JSON array text, or NULL */
    const char *postback;    /* the choice a user message answers: JSON object text, or NULL */
} db_msg;

typedef struct db_conv {
    const char *id;
    const char *user;
    const char *subject; /* may be NULL */
    int64_t created_ms;
    int64_t last_seq;
} db_conv;

/* Both callbacks return 0 to continue, nonzero to stop the iteration; the
 * iterating function then returns that value (and -1 on a database error). */
typedef int (*db_msg_cb)(void *ud, const db_msg *m);
typedef int (*db_conv_cb)(void *ud, const db_conv *c);

/* Opens (creating if needed, mode 0600) the database file. Returns 0 or -1
 * (reason on stderr). */
int db_open(const char *path, db **out);
void db_close(db *d);

/* The SQLite handle, for modules that keep their own tables (context.c,
 * survey.c). */
struct sqlite3 *db_sqlite(db *d);

/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. 0 or -1. */
int db_begin(db *d);
int db_commit(db *d);
void db_rollback(db *d);

/* Records that `user` of `kind` ("id" or "anon") signed in: 0, 1 when the id
 * is known as the other kind (nothing changed), -1 on error. */
int db_user_seen(db *d, const char *user, const char *kind, const char *app, int64_t now);
/* 1 when `token` is a session of `user` (and refreshes it), 0 when not, -1 on
 * error. */
int db_session_check(db *d, const char *token, const char *user, int64_t now);
int db_session_create(db *d, const char *token, const char *user, int64_t now);

/* 1 and the owner copied into user_out when the conversation exists, 0 when
 * it does not (or the owner does not fit), -1 on error. */
int db_conv_owner(db *d, const char *conv, char *user_out, size_t cap);
int db_conv_create(db *d, const char *conv, const char *user, const char *subject,
                   const char *cid, const char *context, int64_t now);
int db_conv_each(db *d, db_conv_cb cb, void *ud);
/* Calls cb once with the conversation `id`: 1 when it exists (and cb
 * returned 0), 0 when it does not, -1 on error or when cb returned nonzero. */
int db_conv_get(db *d, const char *id, db_conv_cb cb, void *ud);

/* 1 and out->id/out->seq filled when `cid` was already stored in `conv`, 0
 * when not, -1 on error. */
int db_msg_by_cid(db *d, const char *conv, const char *cid, db_msg *out);
/* Assigns m->seq (next in the conversation) and m->id, and stores the
 * message. Must run inside db_begin/db_commit. */
int db_msg_insert(db *d, db_msg *m);
/* Messages of `conv` with seq > after_seq, in seq order. */
int db_msg_each(db *d, const char *conv, int64_t after_seq, db_msg_cb cb, void *ud);

#endif
