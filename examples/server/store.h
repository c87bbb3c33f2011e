/* The server's storage: every SQL statement the server runs is behind this
 * interface, so no other file sees the database. It speaks plain C: strings
 * (JSON values travel as JSON text), integers, structs filled for the
 * caller and callbacks for lists; transactions are explicit.
 *
 * Two engines implement it (store_sql.h): SQLite, one file in WAL mode,
 * the default; and PostgreSQL (--store postgres://...), which several
 * servers may share. Either way every write is durable when its
 * transaction, or its group (below), commits, which happens before
 * anything is acknowledged, and the schema is versioned: store_open
 * applies the migrations a database lacks (store_migrate.c).
 *
 * Conventions. Functions return 0 or -1 on a database error (reason on
 * stderr) unless they say otherwise; "1/0/-1" means 1 found (or changed),
 * 0 not, -1 error. Strings in structs filled by the store are borrowed
 * from it for the duration of a callback, or malloc'd where a comment says
 * so. Iterations call `cb` once per row; a callback returns 0 to go on or
 * a positive value to stop, which the iteration then returns (-1 stays a
 * database error). A callback may call other store functions. */
#ifndef PARLEY_SERVER_STORE_H
#define PARLEY_SERVER_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct store store;

/* Message ids are "m-<n>", n a number the store assigns. */
#define STORE_MSG_ID_BUF 32
#define STORE_ID_MAX 128  /* users, conversations, nodes: wire identifiers */
#define STORE_KIND_BUF 8  /* "id", "anon" */
#define STORE_STATE_MAX 8 /* "queued" */

/* ---- opening, transactions -------------------------------------------------------- */

/* Opens the store `where` and brings an older database up to date: a
 * PostgreSQL URL (postgres://...) or the path of a SQLite file (created
 * if needed, mode 0600). `durable` 0 trades the sync of every commit for
 * speed (tests only). 0 or -1 (reason on stderr). */
int store_open(const char *where, int durable, store **out);
/* 1 when `where` is a database URL rather than a file's path. */
int store_is_url(const char *where);
void store_close(store *s);

/* A transaction (BEGIN IMMEDIATE). Writes outside one commit one by one.
 * With grouping (below) it is a savepoint in the open group. */
int store_begin(store *s);
int store_commit(store *s);
void store_rollback(store *s); /* no-op outside a transaction */

/* Group commit. A durable commit costs a sync of the disk (milliseconds);
 * a server that commits each message by itself spends its time waiting
 * for it. With grouping on, the first write after the last commit opens
 * a transaction, the group, which stays open: whatever the server
 * does meanwhile (store_begin and store_commit are savepoints in it) is
 * made durable by one store_group_commit, which the server calls soon
 * after `on_open` told it a group began (main.c: on its next loop turn,
 * so a burst that arrived together shares one sync). Nothing that depends
 * on a group's writes may leave the process before its commit returned 0:
 * the server holds every frame queued while a group is open (ws.c,
 * agent_ws.c, groupcommit.c). `on_open` runs inside the write that
 * opened the group. A NULL `on_open` commits what is open and turns
 * grouping off. */
void store_grouping(store *s, void (*on_open)(void *ud), void *ud);
/* The open group's number (> 0), or 0 when none is open. */
int64_t store_group_pending(const store *s);
/* The number of the last group that was committed. */
int64_t store_group_committed(const store *s);
/* Commits the open group (0 at once when none is). -1 when it was rolled
 * back instead: its writes are lost, and the frames held for it must not
 * be sent. */
int store_group_commit(store *s);

/* Deletes every row of every table: a test's clean slate. */
int store_wipe(store *s);

/* ---- users and sessions (store_users.c) ------------------------------------------- */

/* Records that `user` of `kind` ("id" or "anon") signed in: 0, 1 when the id
 * is known as the other kind (nothing changed), -1. */
int store_user_seen(store *s, const char *user, const char *kind, const char *app, int64_t now);
/* 1/0/-1, with the kind copied when the user is known. */
int store_user_kind(store *s, const char *user, char kind[STORE_KIND_BUF]);

/* 1 when `token` is a session of `user` (and refreshes it), 0/-1. */
int store_session_check(store *s, const char *token, const char *user, int64_t now);
int store_session_create(store *s, const char *token, const char *user, int64_t now);

/* The hash of an anonymous user's merge secret (identity.c): 1 when the
 * anonymous user `anon` has none yet, 0/-1. */
int store_anon_secret_missing(store *s, const char *anon);
int store_anon_secret_set(store *s, const char *anon, const char *hash);
/* 1 and the hash copied (cap bytes) when `anon` is anonymous and has one. */
int store_anon_secret_get(store *s, const char *anon, char *hash, size_t cap);

/* ---- conversations and messages (store_convs.c) ----------------------------------- */

typedef struct store_conv {
    const char *id;
    const char *user;
    const char *subject; /* may be NULL */
    int64_t created_ms;
    int64_t last_seq;
} store_conv;

/* A stored message. Strings are borrowed: from the caller on insert, from
 * the store during a callback. */
typedef struct store_msg {
    const char *conv;
    char id[STORE_MSG_ID_BUF]; /* assigned by the store */
    int64_t seq;               /* per conversation, assigned by the store */
    const char *cid;           /* client id of a user message, else NULL */
    const char *author_kind;   /* "user", "bot", "agent", "system" */
    const char *author_name;   /* may be NULL */
    const char *text;
    int64_t ts;
    const char *context;  /* JSON object text, or NULL */
    const char *blocks;   /* structured content: JSON array text, or NULL */
    const char *postback; /* the choice a user message answers: JSON object text, or NULL */
    /* the file it carries: {"id","name","type","size","sha256"} as JSON text, or NULL */
    const char *attachment;
    const char *by; /* the agent account that wrote an agent message, or NULL */
} store_msg;

typedef int (*store_conv_cb)(void *ud, const store_conv *c);
typedef int (*store_msg_cb)(void *ud, const store_msg *m);

/* 1 and the owner copied into user_out when the conversation exists (and
 * the owner fits `cap`), 0/-1. */
int store_conv_owner(store *s, const char *conv, char *user_out, size_t cap);
/* 1 when `conv` exists and belongs to `user`, 0/-1. */
int store_conv_owned(store *s, const char *user, const char *conv);
int store_conv_create(store *s, const char *conv, const char *user, const char *subject,
                      const char *cid, const char *context, int64_t now);
/* Every conversation, oldest first. */
int store_conv_each(store *s, store_conv_cb cb, void *ud);
/* Calls cb with the conversation `id`: 1 when it exists (and cb returned
 * 0), 0 when it does not, -1 on error or when cb returned nonzero. */
int store_conv_get(store *s, const char *id, store_conv_cb cb, void *ud);
/* The context snapshot conv.start carried: 1 with *json (malloc'd), 0 when
 * it carried none, -1. */
int store_conv_snapshot(store *s, const char *conv, char **json);
/* The highest seq of `conv` (0 when it has no messages). */
int store_conv_last_seq(store *s, const char *conv, int64_t *seq);

/* 1 and out->id, out->seq filled when `cid` was already stored in `conv`. */
int store_msg_by_cid(store *s, const char *conv, const char *cid, store_msg *out);
/* Assigns m->seq (next in the conversation) and m->id, and stores the
 * message. Inside a transaction. */
int store_msg_insert(store *s, store_msg *m);
/* Messages of `conv` with seq > after, in seq order, at most `limit` of
 * them (0: all). A caller that reads a page at a time says how many it
 * can take: PostgreSQL hands the whole answer over at once. */
int store_msg_each(store *s, const char *conv, int64_t after, int64_t limit, store_msg_cb cb,
                   void *ud);
/* The newest `limit` messages of `conv` with seq < before, in seq order
 * (oldest first), whole: a page of the transcript read back from its end. */
int store_msg_tail(store *s, const char *conv, int64_t before, int64_t limit, store_msg_cb cb,
                   void *ud);
/* At most `limit` messages of `conv` with seq < before, newest first (no
 * cid, context or postback). */
int store_msg_page(store *s, const char *conv, int64_t before, int64_t limit, store_msg_cb cb,
                   void *ud);
/* The blocks of the message `msg_id` of `conv` and the flow node that wrote
 * it: 1 with *blocks (malloc'd JSON text) and origin ("" when not the
 * bot's), 0 when there is no such message or it has no blocks, -1. */
int store_msg_offer(store *s, const char *conv, const char *msg_id, char **blocks,
                    char origin[STORE_ID_MAX + 1]);
/* Remembers which flow node wrote the bot message `msg_id`. */
int store_bot_message(store *s, const char *msg_id, const char *node);

/* ---- conversation state (store_convs.c) ------------------------------------------- */

/* Who answers a conversation, where the bot's flow stands and what it
 * learned, both sides' read marks and whether the user is typing. A
 * conversation never written is in state "bot" with no node. */
typedef struct store_state {
    char state[STORE_STATE_MAX + 1]; /* bot, queued, agent, closed, open */
    char agent[STORE_ID_MAX + 1];    /* the assigned agent's name, or "" */
    char node[STORE_ID_MAX + 1];     /* the bot's current flow node, or "" */
    char *notes;                     /* bot notes: JSON object text (malloc'd) or NULL */
    int64_t queued_ms;               /* when it entered the queue (state queued) */
    int64_t read_seq;                /* the user's read mark */
    int64_t agent_read_seq;          /* the agents' read mark */
    int user_typing;
    int64_t typing_ms; /* when user_typing last changed */
} store_state;

/* The defaults when the conversation has no state yet. Release with
 * store_state_clear. */
int store_state_get(store *s, const char *conv, store_state *out);
void store_state_clear(store_state *st);
/* Stores state, agent, node, notes and queued_ms (the read marks and
 * typing have their own writers). */
int store_state_put(store *s, const char *conv, const store_state *st, int64_t now);
/* Raises the user's / the agents' read mark to `seq`, never lowers it:
 * 1 when it moved, 0/-1. */
int store_read_user(store *s, const char *conv, int64_t seq, int64_t now);
int store_read_agent(store *s, const char *conv, int64_t seq, int64_t now);
int store_typing_set(store *s, const char *conv, int on, int64_t now);

/* Messages not written by the user above the user's read mark. */
int store_unread(store *s, const char *conv, int64_t *count);
/* Every conversation of `user` with its unread count, oldest first. */
typedef int (*store_unread_cb)(void *ud, const char *conv, int64_t count);
int store_unread_each(store *s, const char *user, store_unread_cb cb, void *ud);

/* A queued conversation, first in line first (position 1). */
typedef struct store_queued {
    const char *conv;
    const char *user;
    const char *subject; /* may be NULL */
    const char *notes;   /* bot notes JSON text, or NULL */
    int64_t queued_ms;
    int64_t position;
    /* Its triage (docs/routing.md), NULL/0 without one: the team, its place
     * among that team's queued conversations, priority, lane and score. */
    const char *team;
    int64_t team_position;
    const char *priority;
    int jump;
    int score;
} store_queued;

/* The queue's order (docs/routing.md, "Queue order"): the VIP lane first,
 * then priority (urgent to low; normal without a triage), then the time
 * the conversation entered the queue. */
typedef int (*store_queued_cb)(void *ud, const store_queued *q);
int store_queue_each(store *s, store_queued_cb cb, void *ud);
/* The 1-based place of `conv` in the queue (0 when it is not queued). */
int store_queue_position(store *s, const char *conv, int64_t *position);
/* The same among the conversations of its team (those without a triage
 * count as one team), and the team ("" without a triage, cap bytes). */
int store_queue_team_position(store *s, const char *conv, int64_t *position, char *team,
                              size_t cap);

/* A conversation as the user's list shows it. */
typedef struct store_conv_row {
    const char *conv;
    const char *subject; /* may be NULL */
    const char *state;
    int64_t last_seq;
    int64_t unread;
    int64_t updated_ms;    /* its last message's ts, else its creation */
    const char *last_text; /* may be NULL */
} store_conv_row;

typedef int (*store_conv_row_cb)(void *ud, const store_conv_row *r);
/* The user's conversations, most recently updated first, at most `limit`. */
int store_conv_list(store *s, const char *user, int64_t limit, store_conv_row_cb cb, void *ud);

/* ---- the user's context and events (store_context.c) ------------------------------ */

/* What a user's last context frames said besides attributes: JSON texts
 * (malloc'd; release with store_picture_clear). Each part carries when the
 * client last reported it, and whether the client's latest full state
 * lacked it: then it is the last known value, kept rather than wiped. */
typedef struct store_picture {
    char *screen; /* NULL when none */
    char *crumbs; /* JSON array of {text, ts}, oldest first */
    char *device; /* JSON object */
    int64_t updated_ms;
    int64_t screen_ms, crumbs_ms, device_ms;
    int screen_stale, crumbs_stale, device_stale;
    int found; /* the user has a stored picture */
} store_picture;

int store_picture_get(store *s, const char *user, store_picture *out);
void store_picture_clear(store_picture *p);
int store_picture_put(store *s, const char *user, const store_picture *p);
int store_picture_delete(store *s, const char *user);

/* An attribute: its value as JSON text, when it was last reported, and
 * whether it is stale (the client's latest full state lacked it). */
typedef struct store_attr {
    const char *key;
    const char *value;
    int64_t updated_ms;
    int stale;
} store_attr;

typedef int (*store_attr_cb)(void *ud, const store_attr *a);
/* Sets the attribute as just reported (not stale). */
int store_attr_set(store *s, const char *user, const char *key, const char *value, int64_t now);
/* 1 with *value (malloc'd JSON text) and *stale when the user has that
 * attribute. */
int store_attr_get(store *s, const char *user, const char *key, char **value, int *stale);
/* The user's attributes by key. */
int store_attr_each(store *s, const char *user, store_attr_cb cb, void *ud);
/* Marks every attribute of the user stale. */
int store_attr_mark_stale(store *s, const char *user);
/* The user's attributes that are not stale. */
int store_attr_count_fresh(store *s, const char *user, int64_t *n);
/* Deletes the user's stale attributes but the `keep` reported last. */
int store_attr_trim_stale(store *s, const char *user, int64_t keep);
int store_attr_delete_all(store *s, const char *user);
/* Moves the attributes of `from` to `to`; where both have one, the one
 * reported last wins. */
int store_attr_move(store *s, const char *from, const char *to);

typedef struct store_event {
    const char *name;
    const char *meta; /* JSON object text, or NULL */
    int64_t ts;
} store_event;

typedef int (*store_event_cb)(void *ud, const store_event *e);
/* 1 when stored, 0 when `cid` was seen before for that user, -1. */
int store_event_add(store *s, const char *user, const char *cid, const char *name, const char *meta,
                    int64_t ts, int64_t now);
/* The user's last `limit` events, oldest first. */
int store_event_recent(store *s, const char *user, int64_t limit, store_event_cb cb, void *ud);
/* Moves the events of `from` to `to` (one `to` already has is dropped). */
int store_event_move(store *s, const char *from, const char *to);

/* ---- surveys and proactive messages (store_surveys.c) ----------------------------- */

/* An instance of a survey sent to a user. */
typedef struct store_survey {
    int64_t n; /* the instance's number ("sv-<n>" on the wire) */
    const char *user;
    const char *conv; /* may be NULL */
    int proactive;
    const char *def;     /* the definition sent: JSON object text */
    const char *status;  /* "pending", "submitted", "dismissed" */
    const char *answers; /* JSON object text, or NULL */
    int64_t done_ms;
} store_survey;

typedef int (*store_survey_cb)(void *ud, const store_survey *sv);
/* Stores a pending instance; its number in *n. */
int store_survey_add(store *s, const char *user, const char *name, const char *conv, int proactive,
                     const char *def, int64_t now, int64_t *n);
/* 1 when the conversation already got a survey `name` / the user has a
 * pending one, 0/-1. */
int store_survey_given(store *s, const char *name, const char *conv);
int store_survey_pending(store *s, const char *user, const char *name);
/* 1 when some instance is named `name`. */
int store_survey_named(store *s, const char *name);
/* The user's newest `limit` pending instances, oldest first. */
int store_survey_pending_each(store *s, const char *user, int64_t limit, store_survey_cb cb,
                              void *ud);
/* Calls cb with the user's instance `n`: 1/0/-1 (-1 too when cb stopped). */
int store_survey_get(store *s, const char *user, int64_t n, store_survey_cb cb, void *ud);
/* Records the answer (status "submitted") or dismissal of a pending
 * instance. */
int store_survey_finish(store *s, int64_t n, const char *status, const char *answers, int64_t now,
                        const char *cid);
/* The answered and dismissed instances of `name`, in the order they were. */
int store_survey_done_each(store *s, const char *name, store_survey_cb cb, void *ud);

/* A proactive message sent to a user. */
typedef struct store_proactive {
    int64_t n;       /* "p-<n>" on the wire */
    const char *msg; /* JSON object text */
    int64_t created_ms;
} store_proactive;

typedef int (*store_proactive_cb)(void *ud, const store_proactive *p);
int store_proactive_add(store *s, const char *user, const char *msg, int64_t now, int64_t *n);
/* 1 when the user has an unacknowledged copy of exactly `msg`. */
int store_proactive_pending(store *s, const char *user, const char *msg);
/* The user's newest `limit` unacknowledged items, oldest first. */
int store_proactive_pending_each(store *s, const char *user, int64_t limit, store_proactive_cb cb,
                                 void *ud);
/* Acknowledges the user's item `n` (an item not theirs is left alone). */
int store_proactive_ack(store *s, const char *user, int64_t n, int64_t now);

/* ---- attachments (store_attach.c) -------------------------------------------------- */

/* An upload of a user's file, named by the client id of the message that
 * will carry it. Its bytes are on disk (blobs.c), not in the store. */
typedef struct store_upload {
    int64_t n; /* the upload's number: names its partial file */
    const char *name, *type, *sha256;
    int64_t size;
    int done; /* the whole file arrived and matched its hash */
} store_upload;

typedef int (*store_upload_cb)(void *ud, const store_upload *u);
/* Calls cb with the user's upload `cid`: 1/0/-1 (-1 too when cb stopped). */
int store_upload_get(store *s, const char *user, const char *cid, store_upload_cb cb, void *ud);
/* A new upload; its number in *n. */
int store_upload_create(store *s, const char *user, const char *cid, const char *name,
                        const char *type, int64_t size, const char *sha256, int64_t now,
                        int64_t *n);
int store_upload_finish(store *s, int64_t n, int64_t now);

/* A file in a conversation, as messages carry it ("f-<n>" on the wire). */
typedef struct store_attachment {
    const char *id, *sha256, *name, *type, *conv;
    int64_t size;
} store_attachment;

typedef int (*store_attachment_cb)(void *ud, const store_attachment *a);
/* The attachment of the done upload `upload_n` in `conv`, created on first
 * use (so a resent message names the same one): its id into id_out. */
int store_attachment_of_upload(store *s, int64_t upload_n, const char *conv, int64_t now,
                               char id_out[STORE_MSG_ID_BUF]);
/* A new attachment of an agent's file; its id into id_out. */
int store_attachment_add(store *s, const char *conv, const char *name, const char *type,
                         int64_t size, const char *sha256, int64_t now,
                         char id_out[STORE_MSG_ID_BUF]);
/* Calls cb with the attachment `id`: 1/0/-1 (-1 too when cb stopped). */
int store_attachment_get(store *s, const char *id, store_attachment_cb cb, void *ud);

/* ---- push notifications (store_push.c) --------------------------------------------- */

/* A device token belongs to the user who registered it last. */
int store_push_set(store *s, const char *token, const char *platform, const char *user,
                   int64_t now);
int store_push_delete(store *s, const char *token);
typedef int (*store_push_cb)(void *ud, const char *platform, const char *token);
/* The user's tokens, most recently registered first. */
int store_push_each(store *s, const char *user, store_push_cb cb, void *ud);
/* A sensitive conversation's pushes carry no preview: 1/0/-1. */
int store_conv_sensitive(store *s, const char *conv);
/* 1 when the conversation exists (and was set), 0/-1. */
int store_conv_sensitive_set(store *s, const char *conv, int on);
/* ---- triage and routing (store_routing.c) ------------------------------------------ */

/* A conversation's triage (docs/routing.md); strings borrowed. */
typedef struct store_triage {
    int complexity, severity, effort, score;
    const char *route, *priority, *team;
    const char *node; /* may be NULL */
    int jump;
    const char *reasons;    /* JSON array text */
    int routed;             /* its route was taken (store_triage_routed) */
    const char *kb_article; /* the article whose "did this solve it?" is open, or NULL */
} store_triage;

typedef int (*store_triage_cb)(void *ud, const store_triage *t);
/* Stores the scores, decision and reasons (routed and kb_article stay). */
int store_triage_put(store *s, const char *conv, const store_triage *t, int64_t now);
/* Calls cb with the conversation's triage: 1, 0 when it has none, -1 (also
 * when cb returned nonzero). */
int store_triage_get(store *s, const char *conv, store_triage_cb cb, void *ud);
/* Marks the route taken, with the article awaiting an answer (NULL: none). */
int store_triage_routed(store *s, const char *conv, const char *kb_article);
/* Appends {"rule","text"} to the conversation's reasons (none: nothing). */
int store_triage_reason_add(store *s, const char *conv, const char *rule, const char *text);

/* What the client said about a request when it started the conversation
 * (conv.start "about"); "" for what it did not say. */
typedef struct store_about {
    char category[65];
    char area[257];
    char severity[9];
} store_about;

/* Stores it once (a resent conv.start changes nothing). */
int store_about_put(store *s, const char *conv, const store_about *a);
/* 1/0/-1; *out is all "" when 0. */
int store_about_get(store *s, const char *conv, store_about *out);

typedef int (*store_ts_cb)(void *ud, int64_t ms);
/* When the user wrote text messages (postbacks not counted) at or after
 * `since`, in all their conversations: the newest `limit`, newest first. */
int store_user_asked(store *s, const char *user, int64_t since, int64_t limit, store_ts_cb cb,
                     void *ud);
/* 1 when the user has a conversation that is not closed, or one started at
 * or after `since`; 0/-1. */
int store_user_busy(store *s, const char *user, int64_t since);

/* An agent took the conversation at `now` (kept when already taken). */
int store_assign_start(store *s, const char *conv, int64_t now);
/* The agent let it go: 1 with when it was taken (and forgotten), 0 when it
 * was not taken, -1. */
int store_assign_end(store *s, const char *conv, int64_t *started);
/* A handle time of `team`'s queue, and the team's newest `limit` (oldest of
 * them first, ms). */
int store_handle_add(store *s, const char *team, const char *conv, int64_t ms, int64_t now);
int store_handle_recent(store *s, const char *team, int64_t limit, store_ts_cb cb, void *ud);

/* A proactive trigger delivered to a user, and how often since `since`. */
int store_trigger_fired(store *s, const char *user, const char *trigger, int64_t now);
int store_trigger_count(store *s, const char *user, const char *trigger, int64_t since, int64_t *n);
/* A proactive item that is not to be sent after `expires_ms`; 1 when item
 * `n` has expired at `now`, 0/-1. */
int store_proactive_expiry_set(store *s, int64_t item, int64_t expires_ms);
int store_proactive_expired(store *s, int64_t item, int64_t now);
/* ---- agents, their sessions and their work (store_agents.c) ----------------------- */

#define STORE_AGENT_NAME_BUF 65
#define STORE_AGENT_DISPLAY_BUF 129
#define STORE_AGENT_HASH_BUF 160
#define STORE_AGENT_TEAMS_BUF 1024

/* An agent account (docs/agent-console.md, "Agent accounts"). */
typedef struct store_agent {
    char name[STORE_AGENT_NAME_BUF];
    char display_name[STORE_AGENT_DISPLAY_BUF];
    char role[8];   /* "agent", "admin" */
    char status[8]; /* the chosen presence: "online", "busy", "away" */
    char pw_hash[STORE_AGENT_HASH_BUF];
    char teams[STORE_AGENT_TEAMS_BUF]; /* JSON array text */
    int64_t capacity;
    int64_t created_ms;
} store_agent;

typedef int (*store_agent_cb)(void *ud, const store_agent *a);
/* Adds the agent, or resets an existing one's display name, role and
 * password and ends its sessions: 1 added, 0 reset, -1. */
int store_agent_put(store *s, const char *name, const char *display, const char *role,
                    const char *pw_hash, int64_t now);
/* 1/0/-1. */
int store_agent_get(store *s, const char *name, store_agent *out);
/* Every agent by name. */
int store_agent_each(store *s, store_agent_cb cb, void *ud);
int store_agent_set_status(store *s, const char *name, const char *status);
/* How many conversations the agent holds (state agent). 0 or -1. */
int store_agent_active(store *s, const char *name, int64_t *n);

/* Browser sessions: the SHA-256 of the token (hex), never the token. */
int store_agent_session_create(store *s, const char *hash, const char *agent, int64_t now);
/* 1 with the agent's name and the session's times, 0/-1. */
int store_agent_session_get(store *s, const char *hash, char agent[STORE_AGENT_NAME_BUF],
                            int64_t *created_ms, int64_t *seen_ms);
int store_agent_session_touch(store *s, const char *hash, int64_t now);
int store_agent_session_delete(store *s, const char *hash);
/* Deletes the sessions unused since idle_before or made before made_before. */
int store_agent_session_expire(store *s, int64_t idle_before, int64_t made_before);

/* What an agent (or the bot, or the user) did to a conversation. */
typedef struct store_action {
    const char *action; /* handoff, assign, transfer, bot, close, reopen, priority */
    const char *by;     /* an agent's name, "bot", "user", "api-token" */
    const char *detail; /* JSON object text, or NULL */
    int64_t ts;
} store_action;

typedef int (*store_action_cb)(void *ud, const store_action *a);
int store_action_add(store *s, const char *conv, const char *action, const char *by,
                     const char *detail, int64_t ts);
/* The conversation's last `limit` actions, oldest first. */
int store_action_each(store *s, const char *conv, int64_t limit, store_action_cb cb, void *ud);

/* Which agent wrote the agent message `msg_id`. */
int store_msg_by_set(store *s, const char *msg_id, const char *agent);

/* A conversation's priority and who set it ("" for the default "normal"). */
int store_priority_get(store *s, const char *conv, char priority[8], char by[STORE_AGENT_NAME_BUF]);
int store_priority_set(store *s, const char *conv, const char *priority, const char *by,
                       int64_t now);

/* A conversation as the console's lists show it. */
typedef struct store_conv_item {
    const char *id, *user;
    const char *subject; /* may be NULL */
    int64_t created_ms, last_seq;
    const char *state;
    const char *agent; /* who holds it (state agent), or NULL */
    int64_t queued_ms, agent_read_seq;
    const char *priority;
    const char *priority_by; /* may be NULL */
    int64_t updated_ms;      /* its last message or action, else its creation */
    int64_t unread;          /* user messages above the agents' read mark */
    /* Its triage (docs/routing.md): team and route NULL without one. */
    const char *team, *route;
    int64_t score;
    int jump;
} store_conv_item;

/* Which conversations a page lists. Lists travel as ",a,b," (NULL: any);
 * assignee NULL any, "" nobody, else the agent; after_id NULL starts at
 * the newest, else the page goes on after (after_updated, after_id). */
typedef struct store_conv_filter {
    const char *states, *priorities, *assignee, *user;
    int64_t updated_since;
    int64_t after_updated;
    const char *after_id;
    int64_t limit;
} store_conv_filter;

typedef int (*store_conv_item_cb)(void *ud, const store_conv_item *it);
/* The newest activity first (updated_ms, then id, descending). */
int store_conv_page(store *s, const store_conv_filter *f, store_conv_item_cb cb, void *ud);
/* One conversation's item: 0 (cb called, or the conversation unknown)/-1. */
int store_conv_item_get(store *s, const char *conv, store_conv_item_cb cb, void *ud);
/* The conversation's last message (with `by`): 1 when cb was called, 0 when
 * it has none, -1. */
int store_msg_last(store *s, const char *conv, store_msg_cb cb, void *ud);
/* Conversations created before `until` with activity since `since`: the
 * window bounds the work, not only the figures. */
int store_conv_active_each(store *s, int64_t since, int64_t until, store_conv_cb cb, void *ud);
/* How many conversations are in each state now. */
typedef int (*store_count_cb)(void *ud, const char *key, int64_t n);
int store_state_counts(store *s, store_count_cb cb, void *ud);

/* A conversation's history as work: its actions and messages by time
 * (an action before a message of the same millisecond). */
typedef struct store_tl_row {
    const char *kind;   /* an action's name, or a message's author kind */
    const char *by;     /* the action's doer, the agent who wrote; may be NULL */
    const char *detail; /* an action's detail JSON, or NULL */
    int64_t ts;
    int is_action;
} store_tl_row;

typedef int (*store_tl_cb)(void *ud, const store_tl_row *r);
int store_timeline(store *s, const char *conv, store_tl_cb cb, void *ud);

/* An SLA clock (docs/agent-console.md, "SLA"); times are 0 when not set. */
typedef struct store_sla {
    const char *conv, *kind; /* "first_response", "next_response" */
    int64_t start_ms, due_ms, warn_ms;
    const char *priority;
    int64_t met_ms, warned_ms, breached_ms, stopped_ms;
} store_sla;

typedef int (*store_sla_cb)(void *ud, const store_sla *c);
/* Starts or updates the clock (conv, kind, start_ms); its warning and
 * breach marks stay. */
int store_sla_put(store *s, const char *conv, const char *kind, const store_sla *c);
/* Stops the running clocks of (conv, kind) but the one started at
 * keep_start (0: all). */
int store_sla_stop(store *s, const char *conv, const char *kind, int64_t keep_start, int64_t now);
/* Running clocks whose warning or breach is due at `now`. */
int store_sla_due_each(store *s, int64_t now, store_sla_cb cb, void *ud);
/* The conversation's clocks not stopped, newest first. */
int store_sla_conv_each(store *s, const char *conv, store_sla_cb cb, void *ud);
/* Clocks met or breached in [since, until). */
int store_sla_window_each(store *s, int64_t since, int64_t until, store_sla_cb cb, void *ud);
/* Records the warning (breached 0) or the breach of a clock at `now`: 1,
 * or 0 when it was recorded already (by another server sharing the
 * database: that one tells), -1. */
int store_sla_mark(store *s, const store_sla *c, int breached, int64_t now);

/* A user as the single customer view shows them. */
typedef struct store_user {
    char id[STORE_ID_MAX + 1];
    char kind[STORE_KIND_BUF];
    char app[STORE_ID_MAX + 1];
    int64_t first_seen_ms, last_seen_ms;
} store_user;

int store_user_get(store *s, const char *id, store_user *out);

/* A survey instance with its name and times. */
typedef struct store_survey_row {
    int64_t n;
    const char *user, *name;
    const char *conv; /* may be NULL */
    const char *def, *status;
    const char *answers; /* may be NULL */
    int64_t created_ms, done_ms;
} store_survey_row;

typedef int (*store_survey_row_cb)(void *ud, const store_survey_row *r);
/* The user's newest `limit` instances, newest first. */
int store_survey_user_each(store *s, const char *user, int64_t limit, store_survey_row_cb cb,
                           void *ud);
/* Instances delivered or finished in [since, until). */
int store_survey_window_each(store *s, int64_t since, int64_t until, store_survey_row_cb cb,
                             void *ud);
int store_survey_row_get(store *s, int64_t n, store_survey_row_cb cb, void *ud);

/* ---- merging an anonymous user into an identified one ----------------------------- */

/* Moves the conversations, survey instances and proactive items of `from`
 * to `to` (identity.c moves the context through the functions above). */
int store_user_move(store *s, const char *from, const char *to);

/* ---- the knowledge base index (store_kb.c) ---------------------------------------- */

/* The help articles, indexed for full-text search. Its own handle: an
 * in-memory index built from files at startup, whatever the database.
 * Its statements are prepared once: a callback must not use the index. */
typedef struct store_kb store_kb;

typedef struct store_article {
    const char *id;
    const char *title;
    const char *keywords; /* may be NULL; indexed, never returned */
    const char *body;
    const char *url;     /* may be NULL */
    const char *snippet; /* search results only: the body around a match */
} store_article;

typedef int (*store_article_cb)(void *ud, const store_article *a);
/* An empty index, or with `model` (may be NULL) a copy of that one: its
 * pages copied rather than its tables created, several times cheaper for
 * whoever makes many. 0, or -1 with the reason in why. */
int store_kb_open(const store_kb *model, store_kb **out, char *why, size_t cap);
void store_kb_close(store_kb *k);
int store_kb_add(store_kb *k, const store_article *a, char *why, size_t cap);
/* The articles matching any of the `n` words (lowercase ASCII letters and
 * digits and UTF-8 sequences: no punctuation, no quote), best first, the
 * title weighing over the keywords over the body; at most `limit`. The
 * number of articles passed to cb, or -1. */
int store_kb_search(store_kb *k, const char *const *words, size_t n, int limit, store_article_cb cb,
                    void *ud);
/* 1 after passing the article `id` to cb, 0 when there is none, -1. */
int store_kb_get(store_kb *k, const char *id, store_article_cb cb, void *ud);

#endif
