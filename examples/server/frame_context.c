#include "frame_context.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "store_sqlite.h"
#include "survey.h"
#include "util.h"
#include "ws.h"

/* The limits the client enforces at its API (docs/protocol.md, context): a
 * frame beyond them did not come from a well-behaved client. */
#define MAX_KEYS 100
#define MAX_KEY 64
#define MAX_VALUE 1024
#define MAX_OBJECT 4096
#define MAX_OBJECT_DEPTH 8
#define MAX_SCREEN 256
#define MAX_CRUMB 256
#define MAX_CRUMBS_IN 500
#define MAX_TS 9007199254740991.0

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS user_context("
    " user TEXT PRIMARY KEY REFERENCES users(id), screen TEXT,"
    " breadcrumbs TEXT NOT NULL, device TEXT NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS events("
    " n INTEGER PRIMARY KEY, user TEXT NOT NULL REFERENCES users(id), cid TEXT NOT NULL,"
    " name TEXT NOT NULL, meta TEXT, ts INTEGER NOT NULL, received_ms INTEGER NOT NULL,"
    " UNIQUE(user, cid));"
    "CREATE INDEX IF NOT EXISTS events_user_ts ON events(user, ts);";

int context_init(db *d)
{
    return sq_script(d, schema);
}

/* ---- validation ---- */

static int key_ok(const char *k)
{
    return pj_is_ident(k) && strlen(k) <= MAX_KEY;
}

static int depth_of(const cJSON *n)
{
    const cJSON *it;
    int max = 0, d;

    if (!cJSON_IsObject(n) && !cJSON_IsArray(n))
        return 0;
    cJSON_ArrayForEach(it, n) {
        d = depth_of(it);
        if (d > max)
            max = d;
    }
    return max + 1;
}

/* A JSON object value (attribute or event metadata): 4,096 bytes, depth 8. */
static const char *object_why(const cJSON *v)
{
    char *text;
    size_t len;

    if (!cJSON_IsObject(v))
        return "must be a JSON object";
    if (depth_of(v) > MAX_OBJECT_DEPTH)
        return "is nested deeper than 8";
    text = cJSON_PrintUnformatted(v);
    len = text ? strlen(text) : MAX_OBJECT + 1;
    cJSON_free(text);
    return len > MAX_OBJECT ? "is longer than 4096 bytes" : NULL;
}

static int count_members(const cJSON *o)
{
    const cJSON *it;
    int n = 0;

    cJSON_ArrayForEach(it, o)
        n++;
    return n;
}

static const char *attributes_why(const cJSON *attrs)
{
    const cJSON *it;

    if (!cJSON_IsObject(attrs))
        return "attributes must be an object";
    if (count_members(attrs) > MAX_KEYS)
        return "more than 100 attributes";
    cJSON_ArrayForEach(it, attrs) {
        if (!key_ok(it->string))
            return "attribute key must be 1..64 bytes of printable ASCII";
        if (cJSON_IsString(it) && strlen(it->valuestring) > MAX_VALUE)
            return "attribute value longer than 1024 bytes";
        if (cJSON_IsObject(it) && object_why(it))
            return "attribute object longer than 4096 bytes or deeper than 8";
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it) &&
            !cJSON_IsNull(it) && !cJSON_IsObject(it))
            return "attribute value must be a string, number, boolean, null or object";
    }
    return NULL;
}

static const char *breadcrumbs_why(const cJSON *crumbs)
{
    const cJSON *it, *text, *ts;

    if (!cJSON_IsArray(crumbs))
        return "breadcrumbs must be an array";
    if (cJSON_GetArraySize(crumbs) > MAX_CRUMBS_IN)
        return "more than 500 breadcrumbs";
    cJSON_ArrayForEach(it, crumbs) {
        text = cJSON_GetObjectItemCaseSensitive(it, "text");
        ts = cJSON_GetObjectItemCaseSensitive(it, "ts");
        if (!cJSON_IsString(text) || !text->valuestring[0] ||
            strlen(text->valuestring) > MAX_CRUMB)
            return "breadcrumb text must be a string of 1..256 bytes";
        if (!cJSON_IsNumber(ts) || ts->valuedouble < 0 || ts->valuedouble > MAX_TS)
            return "breadcrumb ts must be a non-negative number";
    }
    return NULL;
}

static const char *device_why(const cJSON *device)
{
    const cJSON *it;

    if (!cJSON_IsObject(device))
        return "device must be an object";
    if (count_members(device) > MAX_KEYS)
        return "more than 100 device facts";
    cJSON_ArrayForEach(it, device) {
        if (!key_ok(it->string))
            return "device key must be 1..64 bytes of printable ASCII";
        if (!cJSON_IsString(it) || strlen(it->valuestring) > MAX_VALUE)
            return "device values must be strings of at most 1024 bytes";
    }
    return NULL;
}

/* NULL when the context frame is acceptable, else why not. */
static const char *context_why(const cJSON *f)
{
    const cJSON *full = cJSON_GetObjectItemCaseSensitive(f, "full");
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(f, "attributes");
    const cJSON *screen = cJSON_GetObjectItemCaseSensitive(f, "screen");
    const cJSON *crumbs = cJSON_GetObjectItemCaseSensitive(f, "breadcrumbs");
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(f, "device");
    const char *why;

    if (full && !cJSON_IsBool(full))
        return "full must be a boolean";
    if (screen && !(cJSON_IsString(screen) && screen->valuestring[0] &&
                    strlen(screen->valuestring) <= MAX_SCREEN))
        return "screen must be a string of 1..256 bytes";
    why = attrs ? attributes_why(attrs) : NULL;
    if (!why && crumbs)
        why = breadcrumbs_why(crumbs);
    if (!why && device)
        why = device_why(device);
    return why;
}

/* ---- the stored picture ---- */

typedef struct picture {
    char *screen; /* NULL when none */
    cJSON *crumbs; /* array of {text, ts}, oldest first */
    cJSON *device; /* object */
    int64_t updated_ms;
    int found;
} picture;

static void picture_free(picture *p)
{
    free(p->screen);
    cJSON_Delete(p->crumbs);
    cJSON_Delete(p->device);
    memset(p, 0, sizeof *p);
}

static char *dup_str(const char *s)
{
    size_t len = strlen(s) + 1;
    char *out = malloc(len);

    if (out)
        memcpy(out, s, len);
    return out;
}

/* Parses a stored JSON text, falling back to an empty array or object. */
static cJSON *parse_or(const char *text, int array)
{
    cJSON *v = cJSON_Parse(text);

    if (v && (array ? cJSON_IsArray(v) : cJSON_IsObject(v)))
        return v;
    cJSON_Delete(v);
    return array ? cJSON_CreateArray() : cJSON_CreateObject();
}

static int picture_load(db *d, const char *user, picture *p)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT screen, breadcrumbs, device, updated_ms "
                                     "FROM user_context WHERE user = ?1", "t", user);
    int rc = sq_step(d, st);

    memset(p, 0, sizeof *p);
    if (rc == 1) {
        p->found = 1;
        if (sqlite3_column_type(st, 0) != SQLITE_NULL && !(p->screen = dup_str(sq_text(st, 0))))
            rc = -1;
        p->crumbs = parse_or(sq_text(st, 1), 1);
        p->device = parse_or(sq_text(st, 2), 0);
        p->updated_ms = sqlite3_column_int64(st, 3);
    } else if (rc == 0) {
        p->crumbs = cJSON_CreateArray();
        p->device = cJSON_CreateObject();
    }
    sqlite3_finalize(st);
    if (rc < 0 || !p->crumbs || !p->device) {
        picture_free(p);
        return -1;
    }
    return 0;
}

static int picture_save(db *d, const char *user, const picture *p)
{
    char *crumbs = cJSON_PrintUnformatted(p->crumbs), *device = cJSON_PrintUnformatted(p->device);
    int rc = -1;

    if (crumbs && device)
        rc = sq_exec(d,
                     "INSERT INTO user_context(user, screen, breadcrumbs, device, updated_ms) "
                     "VALUES(?1, ?2, ?3, ?4, ?5) ON CONFLICT(user) DO UPDATE SET "
                     "screen = excluded.screen, breadcrumbs = excluded.breadcrumbs, "
                     "device = excluded.device, updated_ms = excluded.updated_ms",
                     "tttti", user, p->screen, crumbs, device, p->updated_ms);
    cJSON_free(crumbs);
    cJSON_free(device);
    return rc;
}

static void trim_crumbs(cJSON *crumbs)
{
    while (cJSON_GetArraySize(crumbs) > CONTEXT_KEEP_BREADCRUMBS)
        cJSON_DeleteItemFromArray(crumbs, 0);
}

/* Appends {text, ts} copies of `from` (validated) to `to`. 0 or -1. */
static int append_crumbs(cJSON *to, const cJSON *from)
{
    const cJSON *it;
    cJSON *c;

    cJSON_ArrayForEach(it, from) {
        c = cJSON_CreateObject();
        if (!c)
            return -1;
        cJSON_AddItemToArray(to, c);
        if (!cJSON_AddStringToObject(c, "text", pj_string(it, "text")) ||
            !cJSON_AddNumberToObject(c, "ts",
                                     cJSON_GetObjectItemCaseSensitive(it, "ts")->valuedouble))
            return -1;
    }
    trim_crumbs(to);
    return 0;
}

/* Sets (replacing) every member of `from` in `to`. 0 or -1. */
static int merge_object(cJSON *to, const cJSON *from)
{
    const cJSON *it;
    cJSON *copy;

    cJSON_ArrayForEach(it, from) {
        copy = cJSON_Duplicate(it, 1);
        if (!copy)
            return -1;
        cJSON_DeleteItemFromObjectCaseSensitive(to, it->string);
        cJSON_AddItemToObject(to, it->string, copy);
    }
    return 0;
}

/* Applies the frame to the picture: a full state replaces it, a patch adds
 * to it. 0 or -1 (out of memory). */
static int picture_apply(picture *p, const cJSON *f, int full, int64_t now)
{
    const char *screen = pj_string(f, "screen");
    const cJSON *crumbs = cJSON_GetObjectItemCaseSensitive(f, "breadcrumbs");
    const cJSON *device = cJSON_GetObjectItemCaseSensitive(f, "device");

    if (full || screen) {
        free(p->screen);
        p->screen = screen ? dup_str(screen) : NULL;
        if (screen && !p->screen)
            return -1;
    }
    if (full) {
        while (cJSON_GetArraySize(p->crumbs) > 0)
            cJSON_DeleteItemFromArray(p->crumbs, 0);
        cJSON_Delete(p->device);
        p->device = cJSON_CreateObject();
        if (!p->device)
            return -1;
    }
    p->updated_ms = now;
    return (crumbs && append_crumbs(p->crumbs, crumbs)) ||
                   (device && merge_object(p->device, device))
               ? -1
               : 0;
}

static int set_attribute(db *d, const char *user, const char *key, const char *value, int64_t ms)
{
    return sq_exec(d,
                   "INSERT INTO attributes(user, key, value, updated_ms) VALUES(?1, ?2, ?3, ?4) "
                   "ON CONFLICT(user, key) DO UPDATE SET value = excluded.value, "
                   "updated_ms = excluded.updated_ms",
                   "ttti", user, key, value, ms);
}

static int count_attributes(db *d, const char *user, int64_t *n)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT count(*) FROM attributes WHERE user = ?1", "t", user);
    int rc = sq_step(d, st);

    if (rc == 1)
        *n = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == 1 ? 0 : -1;
}

/* A null value is stored as null, not deleted: the agent sees that the host
 * cleared it. 0, -1 on error, 1 when the user would have too many. */
static int store_attributes(db *d, const char *user, const cJSON *attrs, int full, int64_t now)
{
    const cJSON *it;
    char *value;
    int64_t n = 0;
    int rc;

    if (full && sq_exec(d, "DELETE FROM attributes WHERE user = ?1", "t", user))
        return -1;
    cJSON_ArrayForEach(it, attrs) {
        value = cJSON_PrintUnformatted(it);
        rc = value ? set_attribute(d, user, it->string, value, now) : -1;
        cJSON_free(value);
        if (rc)
            return -1;
    }
    if (count_attributes(d, user, &n))
        return -1;
    return n > MAX_KEYS ? 1 : 0;
}

static int same_screen(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* Stores the frame in one transaction; *screen_out receives the new screen
 * when it changed (to free). 0, -1 on error, 1 when over the attribute cap. */
static int store_context(db *d, const char *user, const cJSON *f, char **screen_out)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(f, "attributes");
    int full = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "full"));
    int64_t now = util_now_ms();
    char *old = NULL;
    picture p;
    int rc;

    *screen_out = NULL;
    if (db_begin(d))
        return -1;
    rc = picture_load(d, user, &p);
    if (rc == 0 && p.screen && !(old = dup_str(p.screen)))
        rc = -1;
    if (rc == 0)
        rc = picture_apply(&p, f, full, now);
    if (rc == 0 && (attrs || full))
        rc = store_attributes(d, user, attrs, full, now);
    if (rc == 0)
        rc = picture_save(d, user, &p);
    if (rc == 0 && db_commit(d))
        rc = -1;
    if (rc != 0)
        db_rollback(d);
    else if (p.screen && !same_screen(old, p.screen))
        *screen_out = dup_str(p.screen);
    free(old);
    picture_free(&p);
    return rc;
}

void context_on_frame(struct ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    const char *why = context_why(f);
    char *screen = NULL;
    int rc;

    if (why) {
        ws_conn_error(c, "bad_frame", why, NULL);
        return;
    }
    rc = store_context(s->db, ws_conn_user(c), f, &screen);
    if (rc > 0)
        ws_conn_error(c, "bad_frame", "more than 100 attributes", NULL);
    else if (rc < 0)
        ws_conn_error(c, "internal", "cannot store the context", NULL);
    else if (screen)
        survey_on_screen(s, ws_conn_user(c), screen, util_now_ms());
    free(screen);
}

/* ---- events ---- */

static const char *event_why(const cJSON *f)
{
    const char *name = pj_string(f, "name");
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(f, "meta");
    const cJSON *ts = cJSON_GetObjectItemCaseSensitive(f, "ts");

    if (!name || !key_ok(name))
        return "event name must be 1..64 bytes of printable ASCII";
    if (meta && object_why(meta))
        return "event meta must be an object of at most 4096 bytes, depth 8";
    if (!cJSON_IsNumber(ts) || ts->valuedouble < 0 || ts->valuedouble > MAX_TS)
        return "event ts must be a non-negative number";
    return NULL;
}

/* 1 when stored, 0 when the cid was seen before, -1 on error. */
static int store_event(db *d, const char *user, const cJSON *f)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(f, "meta");
    char *meta_text = meta ? cJSON_PrintUnformatted(meta) : NULL;
    int64_t ts = (int64_t)cJSON_GetObjectItemCaseSensitive(f, "ts")->valuedouble;
    int rc = -1;

    if (meta && !meta_text)
        return -1;
    if (sq_exec(d,
                "INSERT INTO events(user, cid, name, meta, ts, received_ms) "
                "VALUES(?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT(user, cid) DO NOTHING",
                "ttttii", user, pj_string(f, "cid"), pj_string(f, "name"), meta_text, ts,
                util_now_ms()) == 0)
        rc = sqlite3_changes(db_sqlite(d)) > 0;
    cJSON_free(meta_text);
    return rc;
}

static char *frame_ack(const char *cid)
{
    cJSON *o = cJSON_CreateObject();
    char *out = NULL;

    if (o && cJSON_AddStringToObject(o, "t", "ack") && cJSON_AddStringToObject(o, "cid", cid))
        out = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return out;
}

void context_on_event(struct ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    const char *cid = pj_string(f, "cid"), *why;
    int rc;

    if (!pj_is_ident(cid)) {
        ws_conn_error(c, "bad_frame", "event needs a cid identifier", NULL);
        return;
    }
    why = event_why(f);
    if (why) {
        ws_conn_error(c, "bad_frame", why, cid);
        return;
    }
    rc = store_event(s->db, ws_conn_user(c), f);
    if (rc < 0) {
        ws_conn_error(c, "internal", "cannot store the event, try again later", NULL);
        return;
    }
    ws_conn_send(c, frame_ack(cid));
    if (rc > 0)
        survey_on_event(s, ws_conn_user(c), pj_string(f, "name"), util_now_ms());
}

/* ---- the agent's view ---- */

static int add_parsed(cJSON *obj, const char *key, const char *text)
{
    cJSON *v = text ? cJSON_Parse(text) : cJSON_CreateNull();

    if (!v)
        v = cJSON_CreateNull();
    return v && cJSON_AddItemToObject(obj, key, v) ? 0 : -1;
}

static int add_attributes(db *d, cJSON *uc, const char *user)
{
    cJSON *attrs = cJSON_AddObjectToObject(uc, "attributes");
    sqlite3_stmt *st = sq_prepare(d, "SELECT key, value FROM attributes WHERE user = ?1 "
                                     "ORDER BY key", "t", user);
    int rc;

    while (attrs && (rc = sq_step(d, st)) == 1) {
        if (add_parsed(attrs, sq_text(st, 0), sq_text(st, 1))) {
            rc = -1;
            break;
        }
    }
    sqlite3_finalize(st);
    return attrs && rc == 0 ? 0 : -1;
}

static int add_user_context(db *d, cJSON *obj, const char *user)
{
    cJSON *uc = cJSON_AddObjectToObject(obj, "user_context");
    picture p;
    int ok;

    if (!uc || add_attributes(d, uc, user) || picture_load(d, user, &p))
        return -1;
    ok = (p.screen ? cJSON_AddStringToObject(uc, "screen", p.screen)
                   : cJSON_AddNullToObject(uc, "screen")) != NULL;
    if (ok) {
        cJSON_AddItemToObject(uc, "breadcrumbs", p.crumbs);
        cJSON_AddItemToObject(uc, "device", p.device);
        p.crumbs = p.device = NULL;
        ok = (p.found ? cJSON_AddNumberToObject(uc, "updated_ms", (double)p.updated_ms)
                      : cJSON_AddNullToObject(uc, "updated_ms")) != NULL;
    }
    picture_free(&p);
    return ok ? 0 : -1;
}

static int add_event(cJSON *arr, sqlite3_stmt *st)
{
    cJSON *e = cJSON_CreateObject();

    if (!e)
        return -1;
    cJSON_AddItemToArray(arr, e);
    if (!cJSON_AddStringToObject(e, "name", sq_text(st, 0)))
        return -1;
    if (add_parsed(e, "meta", sqlite3_column_type(st, 1) == SQLITE_NULL ? NULL : sq_text(st, 1)))
        return -1;
    return cJSON_AddNumberToObject(e, "ts", (double)sqlite3_column_int64(st, 2)) ? 0 : -1;
}

static int add_events(db *d, cJSON *obj, const char *user)
{
    cJSON *arr = cJSON_AddArrayToObject(obj, "events");
    sqlite3_stmt *st = sq_prepare(d,
                                  "SELECT name, meta, ts FROM (SELECT n, name, meta, ts FROM events "
                                  "WHERE user = ?1 ORDER BY ts DESC, n DESC LIMIT ?2) "
                                  "ORDER BY ts, n",
                                  "ti", user, (int64_t)CONTEXT_SHOW_EVENTS);
    int rc;

    while (arr && (rc = sq_step(d, st)) == 1) {
        if (add_event(arr, st)) {
            rc = -1;
            break;
        }
    }
    sqlite3_finalize(st);
    return arr && rc == 0 ? 0 : -1;
}

static int add_start_snapshot(db *d, cJSON *obj, const char *conv)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT context FROM conversations WHERE id = ?1", "t", conv);
    int rc = sq_step(d, st);

    if (rc == 1 && sqlite3_column_type(st, 0) != SQLITE_NULL)
        rc = add_parsed(obj, "context", sq_text(st, 0));
    sqlite3_finalize(st);
    return rc < 0 ? -1 : 0;
}

int context_add_to_conv(db *d, cJSON *obj, const char *conv, const char *user)
{
    if (add_start_snapshot(d, obj, conv) || add_user_context(d, obj, user) ||
        add_events(d, obj, user))
        return -1;
    return 0;
}

/* ---- triggers ---- */

static int attr_matches(db *d, const char *user, const cJSON *want)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT value FROM attributes WHERE user = ?1 AND key = ?2",
                                  "tt", user, want->string);
    int rc = sq_step(d, st);
    cJSON *have = rc == 1 ? cJSON_Parse(sq_text(st, 0)) : NULL;

    sqlite3_finalize(st);
    if (rc < 0)
        return -1;
    /* An attribute never set counts as null. */
    rc = have ? cJSON_Compare(have, want, 1) : cJSON_IsNull(want);
    cJSON_Delete(have);
    return rc ? 1 : 0;
}

int context_attrs_match(db *d, const char *user, const cJSON *filter)
{
    const cJSON *it;
    int rc;

    cJSON_ArrayForEach(it, filter) {
        rc = attr_matches(d, user, it);
        if (rc != 1)
            return rc;
    }
    return 1;
}

/* ---- identity merge ---- */

static double crumb_ts(const cJSON *c)
{
    return cJSON_GetObjectItemCaseSensitive(c, "ts")->valuedouble;
}

/* Insertion into the (sorted) `to`: breadcrumb rings are short. */
static void insert_sorted(cJSON *to, cJSON *item)
{
    int i, n = cJSON_GetArraySize(to);

    for (i = n; i > 0 && crumb_ts(cJSON_GetArrayItem(to, i - 1)) > crumb_ts(item); i--)
        ;
    if (i == n)
        cJSON_AddItemToArray(to, item);
    else
        cJSON_InsertItemInArray(to, i, item);
}

/* Both pictures into `into` (the identified user's): the newer screen, the
 * device facts of both (newer wins), the breadcrumbs of both by time. */
static int picture_merge(picture *into, picture *from)
{
    cJSON *item, *older, *newer;
    int from_newer = from->updated_ms > into->updated_ms;

    if (from->screen && (from_newer || !into->screen)) {
        free(into->screen);
        into->screen = from->screen;
        from->screen = NULL;
    }
    older = from_newer ? into->device : from->device;
    newer = from_newer ? from->device : into->device;
    if (merge_object(older, newer))
        return -1;
    into->device = older;
    from->device = newer;
    while ((item = cJSON_DetachItemFromArray(from->crumbs, 0)) != NULL)
        insert_sorted(into->crumbs, item);
    trim_crumbs(into->crumbs);
    if (from_newer)
        into->updated_ms = from->updated_ms;
    return 0;
}

static int merge_pictures(db *d, const char *anon, const char *user)
{
    picture a, u;
    int rc;

    if (picture_load(d, anon, &a))
        return -1;
    if (!a.found) {
        picture_free(&a);
        return 0;
    }
    rc = picture_load(d, user, &u);
    if (rc == 0) {
        rc = picture_merge(&u, &a);
        if (rc == 0)
            rc = picture_save(d, user, &u);
        picture_free(&u);
    }
    picture_free(&a);
    return rc ? -1 : sq_exec(d, "DELETE FROM user_context WHERE user = ?1", "t", anon);
}

int context_merge_user(db *d, const char *anon, const char *user)
{
    /* The newer value of an attribute both users have wins. */
    if (sq_exec(d,
                "INSERT INTO attributes(user, key, value, updated_ms) "
                "SELECT ?2, key, value, updated_ms FROM attributes WHERE user = ?1 "
                "ON CONFLICT(user, key) DO UPDATE SET value = excluded.value, "
                "updated_ms = excluded.updated_ms WHERE excluded.updated_ms > attributes.updated_ms",
                "tt", anon, user) ||
        sq_exec(d, "DELETE FROM attributes WHERE user = ?1", "t", anon) ||
        merge_pictures(d, anon, user) ||
        sq_exec(d, "UPDATE OR IGNORE events SET user = ?2 WHERE user = ?1", "tt", anon, user) ||
        sq_exec(d, "DELETE FROM events WHERE user = ?1", "t", anon))
        return -1;
    return 0;
}
