/*
 * parley.c - the Lua binding of libparley: a C module for Lua 5.4 that
 * also builds for Lua 5.1 / LuaJIT (LÖVE, Defold). bindings/lua/README.md.
 *
 * Handles are userdata with __gc (and __close in 5.4): a client, a survey
 * response. Events are plain tables, copied out when polled. Errors from
 * the library are raised as tables {code, name, func, message} with a
 * __tostring; bad arguments raise Lua's usual "bad argument" errors.
 *
 * Threads: Lua is single-threaded, so nothing here calls into Lua from the
 * client's I/O thread. The log sink runs there (parley_log_fn) and only
 * queues lines under a mutex: client:logs() hands them over. The redactor
 * runs on the thread of the call carrying the string, which is the Lua
 * call in progress, so it calls the Lua function directly. Host storage
 * and allocator hooks are not offered (they too run on the I/O thread).
 */
#define _POSIX_C_SOURCE 200809L /* strdup, strncasecmp */

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <lauxlib.h>
#include <lua.h>
#include <parley.h>

#include "parley_api.h"

#if LUA_VERSION_NUM < 502
#define pl_rawlen(L, i) lua_objlen((L), (i))
static void pl_setfuncs(lua_State *L, const luaL_Reg *l)
{
    for (; l->name; l++) {
        lua_pushcfunction(L, l->func);
        lua_setfield(L, -2, l->name);
    }
}
#else
#define pl_rawlen(L, i) lua_rawlen((L), (i))
#define pl_setfuncs(L, l) luaL_setfuncs((L), (l), 0)
#endif

#define CLIENT_MT "parley.client"
#define RESPONSE_MT "parley.response"
#define ERROR_MT "parley.error"
#define LOG_CAP 256

/* parley.null, for set_attribute: the address is the value. */
static const char null_key;

/* Functions of bindings/api.json this module deliberately does not wrap
 * (test/test_parley.lua checks the list against the description). */
static const char *const pl_omitted[][2] = {
    {"parley_config_set_allocator", "runs on the I/O thread; Lua hosts keep the C library's allocator"},
    {"parley_config_set_storage", "runs on the I/O thread, where no Lua state may be entered; use data_dir"},
    {"parley_config_set_redactor", "writes into a native buffer; the redactor option uses the replacement hook"},
    {NULL, NULL},
};

/* ---- the log queue: filled on any thread, drained by client:logs() ------- */

typedef struct log_queue {
    pthread_mutex_t mu;
    int levels[LOG_CAP];
    char *lines[LOG_CAP];
    int head, n;
    unsigned long dropped;
} log_queue;

static void log_sink(void *user, int level, const char *msg)
{
    log_queue *q = user;
    char *copy = strdup(msg ? msg : "");
    pthread_mutex_lock(&q->mu);
    if (q->n == LOG_CAP) { /* full: the oldest line goes */
        free(q->lines[q->head]);
        q->head = (q->head + 1) % LOG_CAP;
        q->n--;
        q->dropped++;
    }
    int at = (q->head + q->n) % LOG_CAP;
    q->levels[at] = level;
    q->lines[at] = copy;
    q->n += copy != NULL;
    pthread_mutex_unlock(&q->mu);
}

static void log_queue_free(log_queue *q)
{
    if (!q)
        return;
    for (int i = 0; i < q->n; i++)
        free(q->lines[(q->head + i) % LOG_CAP]);
    pthread_mutex_destroy(&q->mu);
    free(q);
}

/* ---- userdata ---------------------------------------------------------------- */

typedef struct lclient {
    parley_client *pc;
    lua_State *L;      /* the state of the call in progress, for the redactor */
    int redactor_ref;  /* LUA_NOREF without one */
    int in_hook;       /* inside the redactor: calls into the client would deadlock */
    int responses;     /* open survey responses, which need pc */
    int closed;        /* close() was called: pc goes with the last response */
    log_queue *logs;
} lclient;

typedef struct lresponse {
    parley_survey_response *r;
    lclient *owner;
    int owner_ref; /* keeps the client's userdata alive */
} lresponse;

/* ---- errors ------------------------------------------------------------------ */

static const char *enum_name(const pl_const *values, long long v)
{
    for (; values->name; values++)
        if (values->value == v)
            return values->name;
    return NULL;
}

static int error_tostring(lua_State *L)
{
    lua_getfield(L, 1, "message");
    return 1;
}

/* The error table for the library's error `rc` from C function `fn`. */
static void push_error(lua_State *L, int rc, const char *fn)
{
    const char *name = enum_name(pl_error_code, rc);
    lua_createtable(L, 0, 5);
    lua_pushinteger(L, rc);
    lua_setfield(L, -2, "code");
    lua_pushstring(L, name ? name : "UNKNOWN");
    lua_setfield(L, -2, "name");
    lua_pushstring(L, fn);
    lua_setfield(L, -2, "func");
    lua_pushfstring(L, "%s: %s (%s)", fn, parley_strerror(rc), name ? name : "?");
    lua_setfield(L, -2, "message");
    luaL_getmetatable(L, ERROR_MT);
    lua_setmetatable(L, -2);
}

static int raise_error(lua_State *L, int rc, const char *fn)
{
    push_error(L, rc, fn);
    return lua_error(L);
}

static int check(lua_State *L, int rc, const char *fn)
{
    if (rc < 0)
        raise_error(L, rc, fn);
    return rc;
}

/* A string argument without NUL inside (it would cut the C string short). */
static const char *arg_str(lua_State *L, int i)
{
    size_t len;
    const char *s = luaL_checklstring(L, i, &len);
    if (strlen(s) != len)
        luaL_argerror(L, i, "contains a NUL character");
    return s;
}

static const char *arg_optstr(lua_State *L, int i)
{
    return lua_isnoneornil(L, i) ? NULL : arg_str(L, i);
}

static uint32_t arg_u32(lua_State *L, int i)
{
    lua_Number n = luaL_checknumber(L, i);
    luaL_argcheck(L, n >= 0 && n <= 4294967295.0 && n == (lua_Number)(uint32_t)n, i, "not an integer in 0..2^32-1");
    return (uint32_t)n;
}

static lclient *to_client(lua_State *L, int i)
{
    lclient *c = luaL_checkudata(L, i, CLIENT_MT);
    if (c->closed || !c->pc)
        luaL_error(L, "parley: the client is closed");
    if (c->in_hook)
        luaL_error(L, "parley: the redactor must not call into its client");
    c->L = L;
    return c;
}

static lresponse *to_response(lua_State *L, int i)
{
    lresponse *r = luaL_checkudata(L, i, RESPONSE_MT);
    if (!r->r)
        luaL_error(L, "parley: the survey response is closed");
    if (r->owner->in_hook)
        luaL_error(L, "parley: the redactor must not call into its client");
    r->owner->L = L;
    return r;
}

/* ---- configuration (parley.new's options table) ------------------------------- */

static void redact_hook(void *user, int field, const char *text, parley_redaction *r)
{
    lclient *c = user;
    lua_State *L = c->L;
    const char *name = enum_name(pl_redact_field, field);
    c->in_hook = 1;
    lua_rawgeti(L, LUA_REGISTRYINDEX, c->redactor_ref);
    lua_pushstring(L, name ? name : "?");
    lua_pushstring(L, text);
    int ok = lua_pcall(L, 2, 1, 0) == 0;
    c->in_hook = 0;
    /* nil keeps the text; anything else but a fitting string blanks it:
     * a failed redaction never lets the original out. */
    if (ok && lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return;
    }
    size_t len = 0;
    const char *out = ok && lua_type(L, -1) == LUA_TSTRING ? lua_tolstring(L, -1, &len) : NULL;
    if (!out || strlen(out) != len || parley_redaction_replace(r, out) != PARLEY_OK)
        parley_redaction_replace(r, "");
    lua_pop(L, 1);
}

static int opt_pair(lua_State *L, const char *key, uint32_t *a, uint32_t *b)
{
    lua_getfield(L, 1, key);
    if (lua_isnil(L, -1)) {
        lua_pop(L, 1);
        return 0;
    }
    luaL_argcheck(L, lua_istable(L, -1), 1, key);
    lua_rawgeti(L, -1, 1);
    lua_rawgeti(L, -2, 2);
    *a = arg_u32(L, -2);
    *b = arg_u32(L, -1);
    lua_pop(L, 3);
    return 1;
}

static const char *opt_string(lua_State *L, const char *key, size_t *len)
{
    lua_getfield(L, 1, key);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "parley.new: option '%s' must be a string", key);
        s = lua_tolstring(L, -1, len);
    }
    lua_pop(L, 1); /* the string stays referenced by the options table */
    return s;
}

static int opt_flag(lua_State *L, const char *key, int *out)
{
    lua_getfield(L, 1, key);
    int present = !lua_isnil(L, -1);
    *out = lua_toboolean(L, -1);
    lua_pop(L, 1);
    return present;
}

/* Options that are one string each, in the order they are applied. */
static const struct {
    const char *key;
    int (*set)(parley_config *, const char *);
    const char *fn;
} string_options[] = {
    {"url", parley_config_set_url, "parley_config_set_url"},
    {"app_id", parley_config_set_app_id, "parley_config_set_app_id"},
    {"ca_file", parley_config_set_ca_file, "parley_config_set_ca_file"},
    {"data_dir", parley_config_set_data_dir, "parley_config_set_data_dir"},
    {"app_version", parley_config_set_app_version, "parley_config_set_app_version"},
};

static const char *const known_options[] = {"url", "app_id", "ca_file", "ca_pem", "pins", "data_dir",
    "durability", "outbox_cap", "event_limits", "encryption_key", "log_level", "allow_insecure", "reconnect",
    "context_limits", "app_version", "consent", "redactor", "default_redactor", "local_history", NULL};

static void check_option_names(lua_State *L)
{
    lua_pushnil(L);
    while (lua_next(L, 1)) {
        lua_pop(L, 1);
        const char *k = lua_type(L, -1) == LUA_TSTRING ? lua_tostring(L, -1) : "?";
        int known = 0;
        for (int i = 0; known_options[i]; i++)
            known |= strcmp(k, known_options[i]) == 0;
        if (!known)
            luaL_error(L, "parley.new: unknown option '%s'", k);
    }
}

static void apply_strings(lua_State *L, parley_config *cfg)
{
    size_t len;
    for (size_t i = 0; i < sizeof string_options / sizeof string_options[0]; i++) {
        const char *s = opt_string(L, string_options[i].key, &len);
        if (s && strlen(s) != len)
            luaL_error(L, "parley.new: option '%s' contains a NUL character", string_options[i].key);
        if (s)
            check(L, string_options[i].set(cfg, s), string_options[i].fn);
    }
    const char *pem = opt_string(L, "ca_pem", &len);
    if (pem)
        check(L, parley_config_set_ca_pem(cfg, pem, len), "parley_config_set_ca_pem");
    const char *key = opt_string(L, "encryption_key", &len);
    if (key)
        check(L, parley_config_set_encryption_key(cfg, (const unsigned char *)key, len),
              "parley_config_set_encryption_key");
    lua_getfield(L, 1, "pins");
    if (!lua_isnil(L, -1)) {
        luaL_argcheck(L, lua_istable(L, -1), 1, "pins must be a list of strings");
        check(L, parley_config_clear_pins(cfg), "parley_config_clear_pins");
        for (int i = 1; i <= (int)pl_rawlen(L, -1); i++) {
            lua_rawgeti(L, -1, i);
            check(L, parley_config_add_pin(cfg, arg_str(L, -1)), "parley_config_add_pin");
            lua_pop(L, 1);
        }
    }
    lua_pop(L, 1);
}

static void apply_numbers(lua_State *L, parley_config *cfg)
{
    uint32_t a, b;
    int flag;
    lua_getfield(L, 1, "outbox_cap");
    if (!lua_isnil(L, -1))
        check(L, parley_config_set_outbox_cap(cfg, arg_u32(L, -1)), "parley_config_set_outbox_cap");
    lua_pop(L, 1);
    lua_getfield(L, 1, "durability");
    if (!lua_isnil(L, -1))
        check(L, parley_config_set_durability(cfg, (int)arg_u32(L, -1)), "parley_config_set_durability");
    lua_pop(L, 1);
    lua_getfield(L, 1, "local_history");
    if (!lua_isnil(L, -1))
        check(L, parley_config_set_local_history(cfg, arg_u32(L, -1)), "parley_config_set_local_history");
    lua_pop(L, 1);
    if (opt_pair(L, "event_limits", &a, &b))
        check(L, parley_config_set_event_limits(cfg, a, b), "parley_config_set_event_limits");
    if (opt_pair(L, "reconnect", &a, &b))
        check(L, parley_config_set_reconnect(cfg, a, b), "parley_config_set_reconnect");
    if (opt_pair(L, "context_limits", &a, &b))
        check(L, parley_config_set_context_limits(cfg, a, b), "parley_config_set_context_limits");
    if (opt_flag(L, "allow_insecure", &flag))
        check(L, parley_config_set_allow_insecure(cfg, flag), "parley_config_set_allow_insecure");
    if (opt_flag(L, "consent", &flag))
        check(L, parley_config_set_consent(cfg, flag), "parley_config_set_consent");
    if (opt_flag(L, "default_redactor", &flag))
        check(L, parley_config_set_default_redactor(cfg, flag), "parley_config_set_default_redactor");
}

/* The hooks need the client's userdata, which exists before the config. */
static void apply_hooks(lua_State *L, parley_config *cfg, lclient *c)
{
    size_t len;
    const char *level = opt_string(L, "log_level", &len);
    if (level) {
        int lv = -1;
        for (const pl_const *v = pl_log_level; v->name; v++)
            if (strlen(v->name) == len && strncasecmp(v->name, level, len) == 0)
                lv = (int)v->value;
        if (lv < 0)
            luaL_error(L, "parley.new: log_level must be error, warn, info or debug");
        c->logs = calloc(1, sizeof *c->logs);
        if (!c->logs)
            raise_error(L, PARLEY_ERR_NOMEM, "parley.new");
        pthread_mutex_init(&c->logs->mu, NULL);
        check(L, parley_config_set_log(cfg, log_sink, c->logs, lv), "parley_config_set_log");
    }
    lua_getfield(L, 1, "redactor");
    if (!lua_isnil(L, -1)) {
        luaL_argcheck(L, lua_isfunction(L, -1), 1, "redactor must be a function");
        c->redactor_ref = luaL_ref(L, LUA_REGISTRYINDEX);
        check(L, parley_config_set_text_redactor(cfg, redact_hook, c), "parley_config_set_text_redactor");
    } else {
        lua_pop(L, 1);
    }
}

/* Builds the config from the options table at 1; the config is left on the
 * stack in a userdata whose __gc frees it, so an error cannot leak it. */
static int config_gc(lua_State *L)
{
    parley_config **p = lua_touserdata(L, 1);
    parley_config_free(*p);
    *p = NULL;
    return 0;
}

static int l_new(lua_State *L)
{
    luaL_checktype(L, 1, LUA_TTABLE);
    lua_settop(L, 1);
    check_option_names(L);
    lclient *c = lua_newuserdata(L, sizeof *c); /* 2 */
    memset(c, 0, sizeof *c);
    c->redactor_ref = LUA_NOREF;
    c->L = L;
    luaL_getmetatable(L, CLIENT_MT);
    lua_setmetatable(L, 2);
    parley_config **cfg = lua_newuserdata(L, sizeof *cfg); /* 3 */
    *cfg = NULL;
    lua_createtable(L, 0, 1);
    lua_pushcfunction(L, config_gc);
    lua_setfield(L, -2, "__gc");
    lua_setmetatable(L, 3);
    if (!(*cfg = parley_config_new()))
        raise_error(L, PARLEY_ERR_NOMEM, "parley_config_new");
    apply_strings(L, *cfg);
    apply_numbers(L, *cfg);
    apply_hooks(L, *cfg, c);
    check(L, parley_client_new(*cfg, &c->pc), "parley_client_new");
    parley_config_free(*cfg);
    *cfg = NULL;
    lua_settop(L, 2);
    return 1;
}

/* ---- client: lifetime ------------------------------------------------------------ */

/* Frees the native client once it is closed (or collected) and no survey
 * response needs it any more. */
static void client_release(lua_State *L, lclient *c)
{
    if (!c->closed || c->responses > 0)
        return;
    parley_client_free(c->pc);
    c->pc = NULL;
    log_queue_free(c->logs);
    c->logs = NULL;
    luaL_unref(L, LUA_REGISTRYINDEX, c->redactor_ref);
    c->redactor_ref = LUA_NOREF;
}

static int l_close(lua_State *L)
{
    lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
    if (c->in_hook)
        return luaL_error(L, "parley: the redactor must not close its client");
    c->closed = 1;
    client_release(L, c);
    return 0;
}

static int l_is_closed(lua_State *L)
{
    lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
    lua_pushboolean(L, c->closed);
    return 1;
}

static int l_logs(lua_State *L)
{
    lclient *c = to_client(L, 1);
    lua_newtable(L);
    if (!c->logs)
        return 1;
    pthread_mutex_lock(&c->logs->mu);
    for (int i = 0; i < c->logs->n; i++) {
        int at = (c->logs->head + i) % LOG_CAP;
        lua_createtable(L, 0, 2);
        const char *lv = enum_name(pl_log_level, c->logs->levels[at]);
        lua_pushstring(L, lv ? lv : "?");
        lua_setfield(L, -2, "level");
        lua_pushstring(L, c->logs->lines[at]);
        lua_setfield(L, -2, "message");
        lua_rawseti(L, -2, i + 1);
        free(c->logs->lines[at]);
    }
    c->logs->head = c->logs->n = 0;
    pthread_mutex_unlock(&c->logs->mu);
    return 1;
}

/* ---- client: calls ------------------------------------------------------------ */

static int l_start(lua_State *L)
{
    check(L, parley_start(to_client(L, 1)->pc), "parley_start");
    return 0;
}

static int l_stop(lua_State *L)
{
    check(L, parley_stop(to_client(L, 1)->pc), "parley_stop");
    return 0;
}

static int l_reconnect_now(lua_State *L)
{
    check(L, parley_reconnect_now(to_client(L, 1)->pc), "parley_reconnect_now");
    return 0;
}

static int l_service(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_service(c->pc, (int)luaL_optinteger(L, 2, 0)), "parley_service");
    return 0;
}

static int l_identify(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_identify(c->pc, arg_str(L, 2), arg_optstr(L, 3)), "parley_identify");
    return 0;
}

static int push_id(lua_State *L, const char *id)
{
    lua_pushstring(L, id);
    return 1;
}

static int l_anonymous_id(lua_State *L)
{
    char out[PARLEY_ID_SIZE];
    check(L, parley_anonymous_id(to_client(L, 1)->pc, out, sizeof out), "parley_anonymous_id");
    return push_id(L, out);
}

static int l_logout(lua_State *L)
{
    check(L, parley_logout(to_client(L, 1)->pc), "parley_logout");
    return 0;
}

static int l_set_consent(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_set_consent(c->pc, lua_toboolean(L, 2)), "parley_set_consent");
    return 0;
}

/* set_attribute(key, value): a string, number, boolean, or parley.null. */
static int l_set_attribute(lua_State *L)
{
    lclient *c = to_client(L, 1);
    const char *key = arg_str(L, 2);
    switch (lua_type(L, 3)) {
    case LUA_TSTRING:
        return check(L, parley_set_attribute_str(c->pc, key, arg_str(L, 3)), "parley_set_attribute_str"), 0;
    case LUA_TNUMBER:
        return check(L, parley_set_attribute_num(c->pc, key, lua_tonumber(L, 3)), "parley_set_attribute_num"), 0;
    case LUA_TBOOLEAN:
        return check(L, parley_set_attribute_bool(c->pc, key, lua_toboolean(L, 3)), "parley_set_attribute_bool"), 0;
    case LUA_TLIGHTUSERDATA:
        if (lua_touserdata(L, 3) == (void *)&null_key)
            return check(L, parley_set_attribute_null(c->pc, key), "parley_set_attribute_null"), 0;
        /* fall through */
    default:
        return luaL_argerror(L, 3, "a string, number, boolean or parley.null");
    }
}

static int l_set_attribute_json(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_set_attribute_json(c->pc, arg_str(L, 2), arg_str(L, 3)), "parley_set_attribute_json");
    return 0;
}

static int l_set_screen(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_set_screen(c->pc, arg_str(L, 2)), "parley_set_screen");
    return 0;
}

static int l_add_breadcrumb(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_add_breadcrumb(c->pc, arg_str(L, 2)), "parley_add_breadcrumb");
    return 0;
}

static int l_set_device_fact(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_set_device_fact(c->pc, arg_str(L, 2), arg_str(L, 3)), "parley_set_device_fact");
    return 0;
}

static int l_track_event(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_track_event(c->pc, arg_str(L, 2), arg_optstr(L, 3)), "parley_track_event");
    return 0;
}

/* about.<key> of the table at index i: a string without NUL, or NULL. */
static const char *about_string(lua_State *L, int i, const char *key)
{
    lua_getfield(L, i, key);
    const char *s = NULL;
    if (!lua_isnil(L, -1)) {
        size_t len;
        if (lua_type(L, -1) != LUA_TSTRING)
            luaL_error(L, "conversation_start: about.%s must be a string", key);
        s = lua_tolstring(L, -1, &len);
        if (strlen(s) != len)
            luaL_error(L, "conversation_start: about.%s contains a NUL character", key);
    }
    lua_pop(L, 1); /* the string stays referenced by the table */
    return s;
}

/* about.severity: a name ("high", any case) or a number; 0 when absent. */
static int about_severity(lua_State *L, int i)
{
    int v = -1;
    lua_getfield(L, i, "severity");
    if (lua_isnil(L, -1))
        v = PARLEY_SEVERITY_NONE;
    else if (lua_type(L, -1) == LUA_TNUMBER)
        v = (int)lua_tointeger(L, -1);
    else if (lua_type(L, -1) == LUA_TSTRING) {
        size_t len;
        const char *name = lua_tolstring(L, -1, &len);
        for (const pl_const *e = pl_severity; e->name; e++)
            if (strlen(e->name) == len && strncasecmp(e->name, name, len) == 0)
                v = (int)e->value;
        if (v < 0)
            luaL_error(L, "conversation_start: about.severity must be none, low, medium, high or critical");
    } else
        luaL_error(L, "conversation_start: about.severity must be a name or a number");
    lua_pop(L, 1);
    return v;
}

/* c:conversation_start([subject [, about]]): `about` is a table
 * {category=, area=, severity=} saying what the app knows about the request. */
static int l_conversation_start(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    const char *subject = arg_optstr(L, 2);
    if (lua_isnoneornil(L, 3)) {
        check(L, parley_conversation_start(c->pc, subject, out, sizeof out), "parley_conversation_start");
        return push_id(L, out);
    }
    luaL_checktype(L, 3, LUA_TTABLE);
    const char *category = about_string(L, 3, "category"), *area = about_string(L, 3, "area");
    int severity = about_severity(L, 3);
    check(L, parley_conversation_start_about(c->pc, subject, category, area, severity, out, sizeof out),
          "parley_conversation_start_about");
    return push_id(L, out);
}

static int l_send_text(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_send_text(c->pc, arg_str(L, 2), arg_str(L, 3), out, sizeof out), "parley_send_text");
    return push_id(L, out);
}

static int l_unsynced_count(lua_State *L)
{
    uint32_t n = 0;
    check(L, parley_unsynced_count(to_client(L, 1)->pc, &n), "parley_unsynced_count");
    lua_pushnumber(L, n);
    return 1;
}

static int l_outbox_count(lua_State *L)
{
    uint32_t n = 0;
    check(L, parley_outbox_count(to_client(L, 1)->pc, &n), "parley_outbox_count");
    lua_pushnumber(L, n);
    return 1;
}

static int l_postback(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_postback(c->pc, arg_str(L, 2), arg_str(L, 3), arg_str(L, 4), out, sizeof out),
          "parley_postback");
    return push_id(L, out);
}

static int l_set_typing(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_set_typing(c->pc, arg_str(L, 2), lua_toboolean(L, 3)), "parley_set_typing");
    return 0;
}

static int l_mark_read(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_mark_read(c->pc, arg_str(L, 2), arg_str(L, 3)), "parley_mark_read");
    return 0;
}

static int l_unread_count(lua_State *L)
{
    lclient *c = to_client(L, 1);
    uint32_t n = 0;
    check(L, parley_unread_count(c->pc, arg_optstr(L, 2), &n), "parley_unread_count");
    lua_pushnumber(L, n);
    return 1;
}

static int l_list_conversations(lua_State *L)
{
    char out[PARLEY_ID_SIZE];
    check(L, parley_list_conversations(to_client(L, 1)->pc, out, sizeof out), "parley_list_conversations");
    return push_id(L, out);
}

static int l_load_history(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_load_history(c->pc, arg_str(L, 2), arg_optstr(L, 3), (int)luaL_optinteger(L, 4, 0), out,
                                 sizeof out), "parley_load_history");
    return push_id(L, out);
}

static int l_search_articles(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_search_articles(c->pc, arg_str(L, 2), out, sizeof out), "parley_search_articles");
    return push_id(L, out);
}

static int l_get_article(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_get_article(c->pc, arg_str(L, 2), out, sizeof out), "parley_get_article");
    return push_id(L, out);
}

static int l_dismiss_survey(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_survey_dismiss(c->pc, arg_str(L, 2), out, sizeof out), "parley_survey_dismiss");
    return push_id(L, out);
}

static int l_mute_proactive(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_mute_proactive(c->pc, arg_u32(L, 2)), "parley_mute_proactive");
    return 0;
}

/* client:send_attachment(conv, path [, name [, mime_type [, caption]]]) -> client id */
static int l_send_attachment(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_send_attachment(c->pc, arg_str(L, 2), arg_str(L, 3), arg_optstr(L, 4), arg_optstr(L, 5),
                                    arg_optstr(L, 6), out, sizeof out), "parley_send_attachment");
    return push_id(L, out);
}

/* client:send_attachment_bytes(conv, data, name [, mime_type [, caption]]): data is any Lua string. */
static int l_send_attachment_bytes(lua_State *L)
{
    lclient *c = to_client(L, 1);
    size_t len;
    const char *data = luaL_checklstring(L, 3, &len);
    char out[PARLEY_ID_SIZE];
    check(L, parley_send_attachment_bytes(c->pc, arg_str(L, 2), (const unsigned char *)data, len, arg_str(L, 4),
                                          arg_optstr(L, 5), arg_optstr(L, 6), out, sizeof out),
          "parley_send_attachment_bytes");
    return push_id(L, out);
}

/* client:fetch_attachment(id [, dest_path]) -> request id */
static int l_fetch_attachment(lua_State *L)
{
    lclient *c = to_client(L, 1);
    char out[PARLEY_ID_SIZE];
    check(L, parley_fetch_attachment(c->pc, arg_str(L, 2), arg_optstr(L, 3), out, sizeof out),
          "parley_fetch_attachment");
    return push_id(L, out);
}

/* client:set_push_token(platform, token); nil, nil removes it */
static int l_set_push_token(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_set_push_token(c->pc, arg_optstr(L, 2), arg_optstr(L, 3)), "parley_set_push_token");
    return 0;
}

static int l_handle_push(lua_State *L)
{
    lclient *c = to_client(L, 1);
    check(L, parley_handle_push(c->pc, arg_str(L, 2)), "parley_handle_push");
    return 0;
}

/* ---- events as tables -------------------------------------------------------- */

static void set_str(lua_State *L, const char *key, const char *v)
{
    if (v) {
        lua_pushstring(L, v);
        lua_setfield(L, -2, key);
    }
}

static void set_num(lua_State *L, const char *key, lua_Number v)
{
    lua_pushnumber(L, v);
    lua_setfield(L, -2, key);
}

/* The value's lower-case name ("quick_replies"), or the number when it is
 * newer than this module. */
static void set_enum(lua_State *L, const char *key, const pl_const *values, int v)
{
    const char *name = enum_name(values, v);
    if (!name) {
        set_num(L, key, v);
        return;
    }
    char lower[64];
    size_t i = 0;
    for (; name[i] && i + 1 < sizeof lower; i++)
        lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] - 'A' + 'a' : name[i]);
    lower[i] = '\0';
    lua_pushstring(L, lower);
    lua_setfield(L, -2, key);
}

static void push_option(lua_State *L, const parley_option *o)
{
    lua_createtable(L, 0, 5);
    set_str(L, "id", parley_option_id(o));
    set_str(L, "label", parley_option_label(o));
    set_str(L, "payload", parley_option_payload(o));
    set_str(L, "url", parley_option_url(o));
    set_enum(L, "action", pl_option_action, parley_option_action(o));
}

static void push_block(lua_State *L, const parley_block *b)
{
    lua_createtable(L, 0, 6);
    set_enum(L, "kind", pl_block_kind, parley_block_kind(b));
    set_str(L, "title", parley_block_title(b));
    set_str(L, "text", parley_block_text(b));
    set_str(L, "image_url", parley_block_image_url(b));
    lua_newtable(L);
    for (int j = 0; j < parley_block_option_count(b); j++) {
        push_option(L, parley_block_option(b, j));
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "options");
    lua_newtable(L);
    for (int j = 0; j < parley_block_card_count(b); j++) {
        push_block(L, parley_block_card(b, j));
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "cards");
}

static void push_question(lua_State *L, const parley_question *q)
{
    lua_createtable(L, 0, 12);
    set_str(L, "id", parley_question_id(q));
    set_str(L, "text", parley_question_text(q));
    set_enum(L, "kind", pl_question_kind, parley_question_kind(q));
    lua_pushboolean(L, parley_question_required(q));
    lua_setfield(L, -2, "required");
    set_num(L, "min", parley_question_min(q));
    set_num(L, "max", parley_question_max(q));
    set_str(L, "min_label", parley_question_min_label(q));
    set_str(L, "max_label", parley_question_max_label(q));
    set_num(L, "max_length", parley_question_max_length(q));
    lua_newtable(L);
    for (int j = 0; j < parley_question_option_count(q); j++) {
        lua_createtable(L, 0, 2);
        set_str(L, "id", parley_question_option_id(q, j));
        set_str(L, "label", parley_question_option_label(q, j));
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "options");
    set_str(L, "show_if_question", parley_question_show_if_question(q));
    lua_newtable(L);
    for (int j = 0; j < parley_question_show_if_value_count(q); j++) {
        lua_pushstring(L, parley_question_show_if_value(q, j));
        lua_rawseti(L, -2, j + 1);
    }
    lua_setfield(L, -2, "show_if_values");
}

static void push_survey(lua_State *L, const parley_survey *s)
{
    lua_createtable(L, 0, 7);
    set_str(L, "id", parley_survey_id(s));
    set_str(L, "name", parley_survey_name(s));
    set_str(L, "title", parley_survey_title(s));
    set_str(L, "intro", parley_survey_intro(s));
    set_str(L, "conversation_id", parley_survey_conversation_id(s));
    lua_pushboolean(L, parley_survey_is_proactive(s));
    lua_setfield(L, -2, "proactive");
    lua_newtable(L);
    for (int i = 0; i < parley_survey_question_count(s); i++) {
        push_question(L, parley_survey_question(s, i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "questions");
}

static const pl_const *state_values(int type)
{
    switch (type) {
    case PARLEY_EV_CONNECTION: return pl_conn_state;
    case PARLEY_EV_MESSAGE_STATUS: return pl_msg_state;
    case PARLEY_EV_CONVERSATION: return pl_conv_state;
    case PARLEY_EV_TYPING: return pl_typing_state;
    case PARLEY_EV_ATTACHMENT: return pl_attachment_state;
    default: return NULL;
    }
}

static void push_event_lists(lua_State *L, const parley_event *ev);

/* The attachment's fields, the transfer's progress, a DATA chunk (a Lua
 * string of bytes) and whether a HISTORY came from the device. */
static void push_event_attachment(lua_State *L, const parley_event *ev)
{
    char chunk[PARLEY_ATTACHMENT_CHUNK_SIZE];
    int n = parley_event_attachment_chunk(ev, chunk, sizeof chunk);
    set_str(L, "attachment_id", parley_event_attachment_id(ev));
    set_str(L, "attachment_name", parley_event_attachment_name(ev));
    set_str(L, "attachment_type", parley_event_attachment_type(ev));
    set_str(L, "attachment_sha256", parley_event_attachment_sha256(ev));
    set_num(L, "attachment_size", (lua_Number)parley_event_attachment_size(ev));
    set_num(L, "bytes_done", (lua_Number)parley_event_bytes_done(ev));
    set_num(L, "bytes_total", (lua_Number)parley_event_bytes_total(ev));
    if (n > 0) {
        lua_pushlstring(L, chunk, (size_t)n);
        lua_setfield(L, -2, "chunk");
    }
    lua_pushboolean(L, parley_event_from_device(ev));
    lua_setfield(L, -2, "from_device");
}

static void push_event(lua_State *L, const parley_event *ev)
{
    int type = parley_event_type(ev), state = parley_event_state(ev);
    lua_createtable(L, 0, 24);
    set_enum(L, "type", pl_event_type, type);
    if (state_values(type))
        set_enum(L, "state", state_values(type), state);
    else
        set_num(L, "state", state);
    set_str(L, "conversation_id", parley_event_conversation_id(ev));
    set_str(L, "message_id", parley_event_message_id(ev));
    set_str(L, "client_id", parley_event_client_id(ev));
    set_str(L, "seq", parley_event_seq(ev));
    set_str(L, "text", parley_event_text(ev));
    set_enum(L, "author_kind", pl_author_kind, parley_event_author_kind(ev));
    set_str(L, "author_name", parley_event_author_name(ev));
    set_num(L, "timestamp_ms", (lua_Number)parley_event_timestamp_ms(ev));
    set_num(L, "retry_ms", parley_event_retry_ms(ev));
    int err = parley_event_error_code(ev);
    set_num(L, "error_code", err);
    if (err)
        set_enum(L, "error", pl_error_code, err);
    set_num(L, "tls_failures", parley_event_tls_failures(ev));
    set_num(L, "queue_position", parley_event_queue_position(ev));
    set_num(L, "wait_s", parley_event_wait_s(ev));
    set_num(L, "count", parley_event_count(ev));
    set_str(L, "request_id", parley_event_request_id(ev));
    lua_pushboolean(L, parley_event_more(ev));
    lua_setfield(L, -2, "more");
    set_str(L, "title", parley_event_title(ev));
    set_str(L, "url", parley_event_url(ev));
    set_str(L, "raw_json", parley_event_raw_json(ev));
    push_event_attachment(L, ev);
    push_event_lists(L, ev);
}

static void push_event_lists(lua_State *L, const parley_event *ev)
{
    lua_newtable(L);
    for (int i = 0; i < parley_event_block_count(ev); i++) {
        push_block(L, parley_event_block(ev, i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "blocks");
    lua_newtable(L);
    for (int i = 0; i < parley_event_item_count(ev); i++) {
        push_event(L, parley_event_item(ev, i));
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "items");
    const parley_survey *s = parley_event_survey(ev);
    if (s) {
        push_survey(L, s);
        lua_setfield(L, -2, "survey");
    }
}

/* The event is converted in a protected call, so a memory error while
 * building the table cannot leak the native event. */
static int push_event_protected(lua_State *L)
{
    push_event(L, lua_touserdata(L, 1));
    return 1;
}

static int l_poll(lua_State *L)
{
    lclient *c = to_client(L, 1);
    parley_event *ev = NULL;
    int rc = parley_poll(c->pc, &ev);
    if (rc == PARLEY_ERR_AGAIN) {
        lua_pushnil(L);
        return 1;
    }
    check(L, rc, "parley_poll");
    lua_pushcfunction(L, push_event_protected);
    lua_pushlightuserdata(L, ev);
    int status = lua_pcall(L, 1, 1, 0);
    parley_event_free(ev);
    if (status != 0)
        return lua_error(L);
    return 1;
}

static int events_next(lua_State *L)
{
    lua_settop(L, 0);
    lua_pushvalue(L, lua_upvalueindex(1));
    return l_poll(L);
}

/* for ev in client:events() do ... end: the events pending now. */
static int l_events(lua_State *L)
{
    to_client(L, 1);
    lua_settop(L, 1);
    lua_pushcclosure(L, events_next, 1);
    return 1;
}

/* ---- survey responses ---------------------------------------------------------- */

static int l_survey_response(lua_State *L)
{
    lclient *c = to_client(L, 1);
    const char *id = arg_str(L, 2);
    lresponse *r = lua_newuserdata(L, sizeof *r);
    memset(r, 0, sizeof *r);
    r->owner_ref = LUA_NOREF;
    luaL_getmetatable(L, RESPONSE_MT);
    lua_setmetatable(L, -2);
    check(L, parley_survey_response_new(c->pc, id, &r->r), "parley_survey_response_new");
    r->owner = c;
    c->responses++;
    lua_pushvalue(L, 1);
    r->owner_ref = luaL_ref(L, LUA_REGISTRYINDEX);
    return 1;
}

static int r_close(lua_State *L)
{
    lresponse *r = luaL_checkudata(L, 1, RESPONSE_MT);
    if (!r->r)
        return 0;
    parley_survey_response_free(r->r);
    r->r = NULL;
    r->owner->responses--;
    client_release(L, r->owner);
    luaL_unref(L, LUA_REGISTRYINDEX, r->owner_ref);
    r->owner_ref = LUA_NOREF;
    return 0;
}

static int r_answer_number(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    check(L, parley_survey_answer_number(r->r, arg_str(L, 2), (int)luaL_checkinteger(L, 3)),
          "parley_survey_answer_number");
    return 0;
}

static int r_answer_choice(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    check(L, parley_survey_answer_choice(r->r, arg_str(L, 2), arg_str(L, 3)), "parley_survey_answer_choice");
    return 0;
}

static int r_answer_choices(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    const char *q = arg_str(L, 2);
    luaL_checktype(L, 3, LUA_TTABLE);
    size_t n = pl_rawlen(L, 3);
    luaL_argcheck(L, n <= 64, 3, "too many options");
    const char *ids[64];
    for (size_t i = 0; i < n; i++) {
        lua_rawgeti(L, 3, (int)i + 1);
        ids[i] = arg_str(L, -1); /* stays referenced by the table */
        lua_pop(L, 1);
    }
    check(L, parley_survey_answer_choices(r->r, q, ids, n), "parley_survey_answer_choices");
    return 0;
}

static int r_answer_text(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    check(L, parley_survey_answer_text(r->r, arg_str(L, 2), arg_str(L, 3)), "parley_survey_answer_text");
    return 0;
}

static int r_clear_answer(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    check(L, parley_survey_clear_answer(r->r, arg_str(L, 2)), "parley_survey_clear_answer");
    return 0;
}

static int r_question_visible(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    lua_pushboolean(L, check(L, parley_survey_question_visible(r->r, arg_str(L, 2)),
                             "parley_survey_question_visible") == 1);
    return 1;
}

/* The submission's client id; an INCOMPLETE error carries `question_id`. */
static int r_submit(lua_State *L)
{
    lresponse *r = to_response(L, 1);
    char missing[PARLEY_SURVEY_ID_SIZE] = "", cid[PARLEY_ID_SIZE] = "";
    int rc = parley_survey_submit(r->r, missing, sizeof missing, cid, sizeof cid);
    if (rc == PARLEY_ERR_INCOMPLETE) {
        push_error(L, rc, "parley_survey_submit");
        lua_pushstring(L, missing);
        lua_setfield(L, -2, "question_id");
        return lua_error(L);
    }
    check(L, rc, "parley_survey_submit");
    return push_id(L, cid);
}

/* ---- the module -------------------------------------------------------------------- */

static int l_version(lua_State *L)
{
    lua_pushstring(L, parley_version(NULL, NULL, NULL));
    return 1;
}

static int l_strerror(lua_State *L)
{
    lua_pushstring(L, parley_strerror((int)luaL_checkinteger(L, 1)));
    return 1;
}

static int l_compatible(lua_State *L)
{
    int lmaj = (int)luaL_checkinteger(L, 1), lmin = (int)luaL_checkinteger(L, 2);
    int gmaj = (int)luaL_checkinteger(L, 3), gmin = (int)luaL_checkinteger(L, 4);
    lua_pushboolean(L, lmaj == gmaj && (gmaj == 0 ? lmin == gmin : lmin >= gmin));
    return 1;
}

static const luaL_Reg client_methods[] = {
    {"close", l_close}, {"is_closed", l_is_closed}, {"logs", l_logs}, {"start", l_start}, {"stop", l_stop},
    {"reconnect_now", l_reconnect_now}, {"service", l_service}, {"poll", l_poll}, {"events", l_events},
    {"identify", l_identify}, {"anonymous_id", l_anonymous_id}, {"logout", l_logout},
    {"set_consent", l_set_consent}, {"set_attribute", l_set_attribute}, {"set_attribute_json", l_set_attribute_json},
    {"set_screen", l_set_screen}, {"add_breadcrumb", l_add_breadcrumb}, {"set_device_fact", l_set_device_fact},
    {"track_event", l_track_event}, {"conversation_start", l_conversation_start}, {"send_text", l_send_text},
    {"outbox_count", l_outbox_count}, {"unsynced_count", l_unsynced_count}, {"postback", l_postback}, {"set_typing", l_set_typing},
    {"mark_read", l_mark_read}, {"unread_count", l_unread_count}, {"list_conversations", l_list_conversations},
    {"load_history", l_load_history}, {"search_articles", l_search_articles}, {"get_article", l_get_article},
    {"survey_response", l_survey_response}, {"dismiss_survey", l_dismiss_survey},
    {"mute_proactive", l_mute_proactive}, {"send_attachment", l_send_attachment},
    {"send_attachment_bytes", l_send_attachment_bytes}, {"fetch_attachment", l_fetch_attachment},
    {"set_push_token", l_set_push_token}, {"handle_push", l_handle_push}, {NULL, NULL},
};

static const luaL_Reg response_methods[] = {
    {"close", r_close}, {"answer_number", r_answer_number}, {"answer_choice", r_answer_choice},
    {"answer_choices", r_answer_choices}, {"answer_text", r_answer_text}, {"clear_answer", r_clear_answer},
    {"question_visible", r_question_visible}, {"submit", r_submit}, {NULL, NULL},
};

static const luaL_Reg module_functions[] = {
    {"new", l_new}, {"version", l_version}, {"strerror", l_strerror}, {"compatible", l_compatible}, {NULL, NULL},
};

static void new_metatable(lua_State *L, const char *name, const luaL_Reg *methods, lua_CFunction gc)
{
    luaL_newmetatable(L, name);
    lua_newtable(L);
    pl_setfuncs(L, methods);
    lua_setfield(L, -2, "__index");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__gc");
    lua_pushcfunction(L, gc);
    lua_setfield(L, -2, "__close"); /* Lua 5.4's to-be-closed variables */
    lua_pop(L, 1);
}

static void push_api_tables(lua_State *L)
{
    for (const pl_enum *e = pl_enums; e->name; e++) {
        lua_newtable(L);
        for (const pl_const *v = e->values; v->name; v++) {
            lua_pushnumber(L, (lua_Number)v->value);
            lua_setfield(L, -2, v->name);
        }
        lua_setfield(L, -2, e->name);
    }
    for (const pl_const *v = pl_constants; v->name; v++) {
        lua_pushnumber(L, (lua_Number)v->value);
        lua_setfield(L, -2, v->name);
    }
    lua_newtable(L); /* _api: what the coverage test compares */
    lua_newtable(L);
    for (int i = 0; pl_api_functions[i]; i++) {
        lua_pushstring(L, pl_api_functions[i]);
        lua_rawseti(L, -2, i + 1);
    }
    lua_setfield(L, -2, "functions");
    lua_newtable(L);
    for (int i = 0; pl_omitted[i][0]; i++) {
        lua_pushstring(L, pl_omitted[i][1]);
        lua_setfield(L, -2, pl_omitted[i][0]);
    }
    lua_setfield(L, -2, "omitted");
    lua_pushstring(L, PL_GENERATED_VERSION);
    lua_setfield(L, -2, "generated_version");
    lua_setfield(L, -2, "_api");
}

static int client_gc(lua_State *L)
{
    lclient *c = luaL_checkudata(L, 1, CLIENT_MT);
    c->closed = 1;
    client_release(L, c);
    return 0;
}

int luaopen_parley(lua_State *L);

int luaopen_parley(lua_State *L)
{
    int major = 0, minor = 0;
    const char *have = parley_version(&major, &minor, NULL);
    if (major != PL_GENERATED_MAJOR ||
        (PL_GENERATED_MAJOR == 0 ? minor != PL_GENERATED_MINOR : minor < PL_GENERATED_MINOR))
        return luaL_error(L, "parley: libparley %s is not compatible with this module, generated from %s "
                             "(docs/abi.md)", have, PL_GENERATED_VERSION);
    new_metatable(L, CLIENT_MT, client_methods, client_gc);
    new_metatable(L, RESPONSE_MT, response_methods, r_close);
    luaL_newmetatable(L, ERROR_MT);
    lua_pushcfunction(L, error_tostring);
    lua_setfield(L, -2, "__tostring");
    lua_pop(L, 1);
    lua_newtable(L);
    pl_setfuncs(L, module_functions);
    lua_pushlightuserdata(L, (void *)&null_key);
    lua_setfield(L, -2, "null");
    push_api_tables(L);
    return 1;
}
