#include "agents.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "account.h"
#include "agent_ws.h"
#include "http.h"
#include "login_limit.h"
#include "pwhash.h"
#include "pwworker.h"
#include "store.h"
#include "util.h"
#include "websession.h"

typedef struct login {
    long long job;
    char name[STORE_AGENT_NAME_BUF];
    char addr[64];
} login;

struct agents {
    pwworker *worker;
    login_limit *limit;
    login logins[SERVER_MAX_WAITING];
    int64_t channels_checked_ms;
};

int agents_init(server *s, void (*wake)(void *ud), void *wake_ud, presence_change_fn on_presence,
                void *presence_ud)
{
    struct agents *a = calloc(1, sizeof *a);

    if (!a)
        return -1;
    a->worker = pwworker_new(SERVER_MAX_WAITING, wake, wake_ud);
    a->limit = login_limit_new(0);
    s->presence = presence_tab_new(on_presence, presence_ud);
    if (!a->worker || !a->limit || !s->presence) {
        pwworker_free(a->worker);
        login_limit_free(a->limit);
        presence_tab_free(s->presence);
        s->presence = NULL;
        free(a);
        return -1;
    }
    s->agents = a;
    return 0;
}

void agents_free(server *s)
{
    struct agents *a = s->agents;

    if (!a)
        return;
    pwworker_free(a->worker);
    login_limit_free(a->limit);
    presence_tab_free(s->presence);
    s->presence = NULL;
    free(a);
    s->agents = NULL;
}

/* ---- who is who ---- */

void agents_display_name(server *s, const char *name, char *out, size_t cap)
{
    store_agent a;

    snprintf(out, cap, "%s", store_agent_get(s->store, name, &a) == 1 ? a.display_name : name);
}

int agents_exists(server *s, const char *name)
{
    store_agent a;

    return account_name_ok(name) && store_agent_get(s->store, name, &a) == 1;
}

static int64_t active_of(server *s, const char *agent)
{
    int64_t n = 0;

    store_agent_active(s->store, agent, &n);
    return n;
}

static cJSON *agent_obj(server *s, const store_agent *a)
{
    cJSON *o = cJSON_CreateObject(), *teams = cJSON_Parse(a->teams);
    presence_t p = s->presence ? presence_tab_get(s->presence, a->name) : PRES_OFFLINE;

    if (!teams)
        teams = cJSON_CreateArray();
    if (o && cJSON_AddStringToObject(o, "name", a->name) &&
        cJSON_AddStringToObject(o, "display_name", a->display_name) &&
        cJSON_AddStringToObject(o, "role", a->role) &&
        cJSON_AddStringToObject(o, "presence", presence_name(p)) && teams &&
        cJSON_AddItemToObject(o, "teams", teams) &&
        cJSON_AddNumberToObject(o, "capacity", (double)a->capacity) &&
        cJSON_AddNumberToObject(o, "active", (double)active_of(s, a->name)))
        return o;
    cJSON_Delete(o);
    return NULL;
}

cJSON *agents_json(server *s, const char *name)
{
    store_agent a;

    return store_agent_get(s->store, name, &a) == 1 ? agent_obj(s, &a) : NULL;
}

typedef struct list_ctx {
    server *s;
    cJSON *arr;
} list_ctx;

static int add_agent(void *ud, const store_agent *a)
{
    list_ctx *l = ud;
    cJSON *o = agent_obj(l->s, a);

    if (!o || !cJSON_AddItemToArray(l->arr, o)) {
        cJSON_Delete(o);
        return 1;
    }
    return 0;
}

cJSON *agents_list(server *s)
{
    list_ctx l = {s, cJSON_CreateArray()};

    if (!l.arr || store_agent_each(s->store, add_agent, &l)) {
        cJSON_Delete(l.arr);
        return NULL;
    }
    return l.arr;
}

/* 1 with *a and *seen filled when `token` is a live session of an existing
 * agent, 0 when it is not (an expired one is deleted), -1 when the store
 * cannot tell. */
static int live_session(server *s, const char *token, char hash[WEBSESS_BUF], store_agent *a,
                        int64_t *seen)
{
    char name[STORE_AGENT_NAME_BUF];
    int64_t created;
    int rc;

    if (!websess_token_ok(token) || websess_hash(token, hash))
        return 0;
    rc = store_agent_session_get(s->store, hash, name, &created, seen);
    if (rc != 1)
        return rc;
    if (websess_expired(created, *seen, util_now_ms())) {
        store_agent_session_delete(s->store, hash);
        return 0;
    }
    return store_agent_get(s->store, name, a);
}

int agents_session_of(server *s, const char *token, caller *out)
{
    char hash[WEBSESS_BUF];
    int64_t seen, now = util_now_ms();
    store_agent a;

    if (live_session(s, token, hash, &a, &seen) != 1)
        return 0;
    /* A touch a minute is enough for a 12-hour idle limit. */
    if (now - seen > 60000)
        store_agent_session_touch(s->store, hash, now);
    snprintf(out->name, sizeof out->name, "%s", a.name);
    snprintf(out->display, sizeof out->display, "%s", a.display_name);
    snprintf(out->role, sizeof out->role, "%s", a.role);
    /* The caller may pass out->token itself. */
    if (token != out->token)
        snprintf(out->token, sizeof out->token, "%s", token);
    out->via_token = 0;
    return 1;
}

/* An open channel is no use of its session: it is not touched, so a console
 * left open still ends 12 hours after the agent's last request. A store
 * that cannot tell keeps the channel until the next check. */
static int channel_live(server *s, const caller *who)
{
    char hash[WEBSESS_BUF];
    int64_t seen;
    store_agent a;

    return live_session(s, who->token, hash, &a, &seen) != 0;
}

/* ---- logins ---- */

static unsigned too_many(server *s, int64_t wait_s, cJSON **out)
{
    unsigned st = http_error(out, HTTP_TOO_MANY, "too many failed logins");

    if (*out)
        cJSON_AddNumberToObject(*out, "retry_s", (double)wait_s);
    s->req->retry_after_s = (long)wait_s;
    return st;
}

unsigned agents_login(server *s, const char *name, const char *password, cJSON **out)
{
    struct agents *a = s->agents;
    int64_t wait_s, job;
    store_agent acc;
    size_t i;
    int known;

    if (!name || !password || strlen(password) > PWHASH_MAX_PASSWORD)
        return http_error(out, HTTP_BAD_REQUEST, "name and password must be strings");
    wait_s = login_limit_begin(a->limit, name, s->req->addr, util_now_ms());
    if (wait_s)
        return too_many(s, wait_s, out);
    known = account_name_ok(name) && store_agent_get(s->store, name, &acc) == 1;
    job = pwworker_submit(a->worker, password, strlen(password), known ? acc.pw_hash : NULL);
    if (job <= 0)
        return http_error(out, HTTP_UNAVAILABLE, "busy, try again");
    for (i = 0; i < SERVER_MAX_WAITING && a->logins[i].job; i++)
        ;
    if (i == SERVER_MAX_WAITING)
        return http_error(out, HTTP_UNAVAILABLE, "busy, try again");
    a->logins[i].job = job;
    snprintf(a->logins[i].name, sizeof a->logins[i].name, "%s", known ? acc.name : "");
    snprintf(a->logins[i].addr, sizeof a->logins[i].addr, "%s", s->req->addr);
    s->req->pending = job;
    return 0;
}

/* A right password: a new session, its cookie and the CSRF token. */
static void login_ok(server *s, const login *l)
{
    char token[WEBSESS_BUF], hash[WEBSESS_BUF], csrf[WEBSESS_BUF], cookie[WEBSESS_COOKIE_BUF];
    int64_t now = util_now_ms();
    cJSON *o = NULL, *agent;

    login_limit_success(s->agents->limit, l->name, l->addr, now);
    if (websess_new_token(token) || websess_hash(token, hash) || websess_csrf(token, csrf) ||
        websess_set_cookie(cookie, sizeof cookie, token, WEBSESS_IDLE_MS / 1000, s->tls) ||
        store_agent_session_create(s->store, hash, l->name, now)) {
        http_finish(s, l->job, HTTP_SERVER_ERROR,
                    (http_error(&o, HTTP_SERVER_ERROR, "cannot start a session"), o), NULL);
        return;
    }
    store_agent_session_expire(s->store, now - WEBSESS_IDLE_MS, now - WEBSESS_MAX_MS);
    o = cJSON_CreateObject();
    agent = agents_json(s, l->name);
    if (!o || !agent || !cJSON_AddItemToObject(o, "agent", agent) ||
        !cJSON_AddStringToObject(o, "csrf", csrf)) {
        cJSON_Delete(agent);
        cJSON_Delete(o);
        o = NULL;
        http_error(&o, HTTP_SERVER_ERROR, "out of memory");
    }
    http_finish(s, l->job, o && cJSON_GetObjectItem(o, "csrf") ? HTTP_OK : HTTP_SERVER_ERROR, o,
                cookie);
}

void agents_poll(server *s)
{
    struct agents *a = s->agents;
    int64_t job;
    int result;
    size_t i;

    if (!a)
        return;
    while (pwworker_take(a->worker, &job, &result)) {
        for (i = 0; i < SERVER_MAX_WAITING && a->logins[i].job != job; i++)
            ;
        if (i == SERVER_MAX_WAITING)
            continue;
        if (result == 1 && a->logins[i].name[0]) {
            login_ok(s, &a->logins[i]);
        } else {
            cJSON *o = NULL;

            http_error(&o, HTTP_UNAUTHORIZED, "wrong name or password");
            http_finish(s, job, HTTP_UNAUTHORIZED, o, NULL);
        }
        memset(&a->logins[i], 0, sizeof a->logins[i]);
    }
}

unsigned agents_logout(server *s, cJSON **out)
{
    char hash[WEBSESS_BUF];

    if (!s->req->via_token && websess_hash(s->req->token, hash) == 0) {
        store_agent_session_delete(s->store, hash);
        agent_ws_end(s, s->req->name, s->req->token, "logout");
    }
    websess_set_cookie(s->req->set_cookie, sizeof s->req->set_cookie, NULL, 0, s->tls);
    *out = cJSON_CreateObject();
    return *out ? HTTP_OK : HTTP_SERVER_ERROR;
}

/* The API token as an agent object. */
static cJSON *token_agent(void)
{
    cJSON *o = cJSON_CreateObject();

    if (o && cJSON_AddStringToObject(o, "name", "api-token") &&
        cJSON_AddStringToObject(o, "display_name", "API") &&
        cJSON_AddStringToObject(o, "role", "admin"))
        return o;
    cJSON_Delete(o);
    return NULL;
}

unsigned agents_me(server *s, cJSON **out)
{
    char csrf[WEBSESS_BUF];
    cJSON *agent = s->req->via_token ? token_agent() : agents_json(s, s->req->name);

    *out = cJSON_CreateObject();
    if (!*out || !agent || !cJSON_AddItemToObject(*out, "agent", agent) ||
        !cJSON_AddStringToObject(*out, "via", s->req->via_token ? "token" : "session") ||
        (!s->req->via_token &&
         (websess_csrf(s->req->token, csrf) || !cJSON_AddStringToObject(*out, "csrf", csrf)))) {
        if (!cJSON_GetObjectItem(*out, "agent"))
            cJSON_Delete(agent);
        return http_error(out, HTTP_SERVER_ERROR, "out of memory");
    }
    return HTTP_OK;
}

unsigned agents_presence_set(server *s, const char *status, cJSON **out)
{
    int p = presence_parse_status(status);

    if (p < 0)
        return http_error(out, HTTP_BAD_REQUEST, "presence must be online, busy or away");
    if (s->req->via_token)
        return http_error(out, HTTP_BAD_REQUEST, "the API token has no presence");
    if (store_agent_set_status(s->store, s->req->name, status) ||
        presence_tab_set_status(s->presence, s->req->name, (presence_t)p))
        return http_error(out, HTTP_SERVER_ERROR, "database error");
    *out = agents_json(s, s->req->name);
    return *out ? HTTP_OK : http_error(out, HTTP_SERVER_ERROR, "database error");
}

/* ---- presence ---- */

static void send_hello(server *s, agent_conn *c)
{
    const caller *who = agent_ws_caller(c);
    cJSON *o = cJSON_CreateObject(),
          *me = who->via_token ? token_agent() : agents_json(s, who->name), *list = agents_list(s),
          *sla = cJSON_CreateObject();
    char *json;

    if (!o || !me || !list || !sla || !cJSON_AddStringToObject(o, "t", "hello") ||
        !cJSON_AddNumberToObject(o, "v", 1) || !cJSON_AddItemToObject(o, "agent", me) ||
        !cJSON_AddNumberToObject(o, "server_ms", (double)util_now_ms()) ||
        !cJSON_AddItemToObject(o, "agents", list) ||
        !cJSON_AddBoolToObject(sla, "enabled", s->sla != NULL) ||
        !cJSON_AddItemToObject(o, "sla", sla)) {
        if (!cJSON_GetObjectItem(o, "agent"))
            cJSON_Delete(me);
        if (!cJSON_GetObjectItem(o, "agents"))
            cJSON_Delete(list);
        if (!cJSON_GetObjectItem(o, "sla"))
            cJSON_Delete(sla);
        cJSON_Delete(o);
        return;
    }
    json = cJSON_PrintUnformatted(o);
    if (json)
        agent_ws_send(c, json);
    cJSON_free(json);
    cJSON_Delete(o);
}

void agents_channel_open(server *s, agent_conn *c)
{
    const caller *who = agent_ws_caller(c);
    store_agent a;
    int status = PRES_ONLINE;

    if (!who->via_token && store_agent_get(s->store, who->name, &a) == 1) {
        status = presence_parse_status(a.status);
        presence_tab_open(s->presence, who->name, status > 0 ? (presence_t)status : PRES_ONLINE,
                          util_now_ms());
    }
    send_hello(s, c);
}

void agents_channel_closed(server *s, agent_conn *c)
{
    const caller *who = agent_ws_caller(c);

    if (!who->via_token)
        presence_tab_closed(s->presence, who->name, util_now_ms());
}

int64_t agents_tick(server *s, int64_t now)
{
    struct agents *a = s->agents;

    /* A session also ends without a logout on this instance: expiry, a
     * password reset by --add-agent, a logout on another instance. */
    if (a && now - a->channels_checked_ms >= AGENTS_CHANNEL_CHECK_MS) {
        a->channels_checked_ms = now;
        agent_ws_end_unless(s, channel_live, "ended");
    }
    return s->presence ? presence_tab_tick(s->presence, now) : 0;
}

/* ---- --add-agent ---- */

int agents_add_cli(const char *db, const char *name, const char *role, const char *display,
                   const char *password)
{
    char hash[PWHASH_BUF];
    store *st;
    int rc;

    if (!account_name_ok(name) || !account_role_ok(role) ||
        (display && !account_display_ok(display))) {
        fprintf(stderr, "parley-server: --add-agent needs a name of 1 to 64 of A-Z a-z 0-9 . _ -, "
                        "--role agent or admin, and a --display-name of 1 to 128 bytes\n");
        return 2;
    }
    if (pwhash_make(password, strlen(password), 0, hash, sizeof hash)) {
        fprintf(stderr, "parley-server: cannot hash the password (no random source)\n");
        return 1;
    }
    if (store_open(db, 1, &st))
        return 1;
    rc = store_agent_put(st, name, display ? display : name, role, hash, util_now_ms());
    store_close(st);
    if (rc < 0)
        return 1;
    printf("parley-server: agent %s %s (%s)\n", name, rc == 1 ? "added" : "updated", role);
    return 0;
}
