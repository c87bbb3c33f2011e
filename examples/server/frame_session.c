#include "frame_session.h"

#include <stdio.h>
#include <string.h>

#include "deliver.h"
#include "identity.h"
#include "json.h"
#include "proactive.h"
#include "store.h"
#include "survey.h"
#include "util.h"
#include "wire.h"

#define SESSION_BUF 48

typedef struct hello {
    const char *app;
    const char *user;
    const char *kind;  /* "id" or "anon" */
    const char *token; /* NULL when absent */
    const char *anon;  /* an identified user's anonymous id, to merge; or NULL */
    const char *proof; /* the secret issued to `anon`, proving it is theirs; or NULL */
    const char *session;
    const cJSON *cursors;
} hello;

static const char *parse_user(const cJSON *user, hello *h)
{
    const char *id = pj_string(user, "id"), *anon = pj_string(user, "anon");
    const cJSON *token = cJSON_GetObjectItemCaseSensitive(user, "token");
    const cJSON *proof = cJSON_GetObjectItemCaseSensitive(user, "proof");

    if (!cJSON_IsObject(user))
        return "user must be an object";
    if ((!id && cJSON_GetObjectItemCaseSensitive(user, "id")) ||
        (!anon && cJSON_GetObjectItemCaseSensitive(user, "anon")))
        return "user.id and user.anon must be strings";
    if (!id && !anon)
        return "user needs id or anon";
    if (!pj_is_ident(id ? id : anon) || (id && anon && !pj_is_ident(anon)))
        return "invalid user id";
    if ((token && !cJSON_IsString(token)) || (proof && !cJSON_IsString(proof)))
        return "user.token and user.proof must be strings";
    h->user = id ? id : anon;
    h->kind = id ? "id" : "anon";
    h->token = token ? token->valuestring : NULL;
    h->anon = id ? anon : NULL;
    h->proof = id && proof ? proof->valuestring : NULL;
    return NULL;
}

static const char *parse_cursors(const cJSON *cursors)
{
    const cJSON *it;
    int64_t seq;

    if (!cJSON_IsObject(cursors))
        return "resume.cursors must be an object";
    cJSON_ArrayForEach(it, cursors) {
        if (!pj_is_ident(it->string) || !cJSON_IsString(it) || pj_parse_seq(it->valuestring, &seq))
            return "invalid resume cursor";
    }
    return NULL;
}

static const char *parse_resume(const cJSON *resume, hello *h)
{
    const cJSON *session, *cursors;

    if (!resume)
        return NULL;
    if (!cJSON_IsObject(resume))
        return "resume must be an object";
    session = cJSON_GetObjectItemCaseSensitive(resume, "session");
    cursors = cJSON_GetObjectItemCaseSensitive(resume, "cursors");
    if (session && !(cJSON_IsString(session) && pj_is_ident(session->valuestring)))
        return "invalid resume.session";
    h->session = session ? session->valuestring : NULL;
    h->cursors = cursors;
    return cursors ? parse_cursors(cursors) : NULL;
}

/* NULL when the hello is acceptable, else why not. */
static const char *parse_hello(const cJSON *f, hello *h)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(f, "v");
    const char *why;

    memset(h, 0, sizeof *h);
    if (!cJSON_IsNumber(v) || v->valuedouble != 1)
        return "unsupported protocol version";
    h->app = pj_string(f, "app");
    if (!pj_is_ident(h->app))
        return "missing or invalid app";
    if (!cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(f, "sdk")))
        return "missing sdk";
    why = parse_user(cJSON_GetObjectItemCaseSensitive(f, "user"), h);
    return why ? why : parse_resume(cJSON_GetObjectItemCaseSensitive(f, "resume"), h);
}

/* What signing in settled: the session token for welcome, the anonymous
 * user's merge secret when it was issued now, and whether `anon` was merged. */
typedef struct opened {
    char session[SESSION_BUF];
    char secret[IDENTITY_SECRET_BUF];
    int issued, merged;
} opened;

/* Records the user, issues an anonymous user's secret or merges the
 * anonymous user a proof names, and picks the session token: the resumed
 * one when it is this user's, else a fresh one. All in one transaction. */
static int open_session(store *st, const hello *h, opened *o)
{
    int64_t now = util_now_ms();
    int anonymous = strcmp(h->kind, "anon") == 0, rc = 0;

    memset(o, 0, sizeof *o);
    if (store_begin(st))
        return -1;
    if (store_user_seen(st, h->user, h->kind, h->app, now) ||
        (anonymous && (o->issued = identity_issue_secret(st, h->user, o->secret)) < 0) ||
        (h->anon && (o->merged = identity_merge(st, h->anon, h->proof, h->user)) < 0))
        rc = -1;
    else if (h->session && store_session_check(st, h->session, h->user, now) == 1)
        snprintf(o->session, SESSION_BUF, "%s", h->session);
    else if (util_random_token("s-", 16, o->session, SESSION_BUF) ||
             store_session_create(st, o->session, h->user, now))
        rc = -1;
    if (rc == 0 && store_commit(st) == 0)
        return 0;
    store_rollback(st);
    return -1;
}

/* Queues the replay the cursors ask for. A conversation the client does
 * not own is skipped, not reported: its id reveals nothing then. */
static void resume(ws_conn *c, const cJSON *cursors)
{
    store *st = ws_conn_server(c)->store;
    const cJSON *it;
    int64_t after;

    cJSON_ArrayForEach(it, cursors) {
        if (pj_parse_seq(it->valuestring, &after) == 0 &&
            store_conv_owned(st, ws_conn_user(c), it->string) == 1 &&
            ws_conn_replay(c, it->string, after, 0, 0) < 0)
            return;
    }
}

/* NULL when `h` may sign in, else why not (for auth_failed). */
static const char *refusal(ws_conn *c, const cJSON *f, hello *h)
{
    server *s = ws_conn_server(c);
    const char *why = parse_hello(f, h);

    if (!why && strcmp(h->kind, "id") == 0)
        why = auth_verify(&s->auth, h->user, h->token, util_now_ms() / 1000);
    if (!why)
        why = identity_check(s->store, h->kind, h->user, h->anon);
    return why;
}

void frame_session_hello(ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    const char *why;
    opened o;
    hello h;

    if (ws_conn_signed_in(c)) {
        ws_conn_error(c, "bad_frame", "hello was already accepted", NULL);
        return;
    }
    why = refusal(c, f, &h);
    if (why) {
        ws_conn_error(c, "auth_failed", why, NULL);
        ws_conn_close(c, WS_CLOSE_POLICY);
        return;
    }
    if (open_session(s->store, &h, &o)) {
        ws_conn_error(c, "internal", "cannot open a session, try again later", NULL);
        ws_conn_close(c, WS_CLOSE_ERROR);
        return;
    }
    /* Nothing may keep acting in the name of an anonymous user that now
     * belongs to an identified one. */
    if (o.merged)
        ws_close_user(s, h.anon, "auth_failed",
                      "this anonymous user was merged into an identified user");
    ws_conn_sign_in(c, h.user);
    ws_conn_send(c, wire_welcome(o.session, o.issued ? o.secret : NULL, PJ_MAX_FRAME, s->max_text,
                                 s->blobs ? s->max_attachment : 0));
    if (h.cursors)
        resume(c, h.cursors);
    deliver_unread_to(c);
    survey_resend(c);
    proactive_resend(c);
}

void frame_session_bye(ws_conn *c, const cJSON *f)
{
    (void)f;
    ws_conn_close(c, WS_CLOSE_NORMAL);
}
