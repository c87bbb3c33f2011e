#include "frame_context.h"

#include <stdlib.h>
#include <string.h>

#include "console.h"
#include "json.h"
#include "store.h"
#include "triggers.h"
#include "userctx.h"
#include "util.h"
#include "wire.h"

/* The limits the client enforces at its API (docs/protocol.md, context): a
 * frame beyond them did not come from a well-behaved client. */
#define MAX_KEYS USERCTX_MAX_KEYS
#define MAX_KEY 64
#define MAX_VALUE 1024
#define MAX_OBJECT 4096
#define MAX_OBJECT_DEPTH 8
#define MAX_SCREEN 256
#define MAX_CRUMB 256
#define MAX_CRUMBS_IN 500
#define MAX_TS 9007199254740991.0

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
        if (!cJSON_IsString(it) && !cJSON_IsNumber(it) && !cJSON_IsBool(it) && !cJSON_IsNull(it) &&
            !cJSON_IsObject(it))
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
        if (!cJSON_IsString(text) || !text->valuestring[0] || strlen(text->valuestring) > MAX_CRUMB)
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

void frame_context_context(ws_conn *c, const cJSON *f)
{
    server *s = ws_conn_server(c);
    const char *why = context_why(f);
    char *screen = NULL;
    int rc;

    if (why) {
        ws_conn_error(c, "bad_frame", why, NULL);
        return;
    }
    rc = userctx_apply(s->store, ws_conn_user(c), f, util_now_ms(), &screen);
    if (rc > 0)
        ws_conn_error(c, "bad_frame", "more than 100 attributes", NULL);
    else if (rc < 0)
        ws_conn_error(c, "internal", "cannot store the context", NULL);
    else
        console_context(s, ws_conn_user(c), f);
    if (rc == 0 && screen)
        triggers_on_screen(s, ws_conn_user(c), screen, util_now_ms());
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
static int record_event(store *s, const char *user, const cJSON *f)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(f, "meta");
    char *meta_text = meta ? cJSON_PrintUnformatted(meta) : NULL;
    int64_t ts = (int64_t)cJSON_GetObjectItemCaseSensitive(f, "ts")->valuedouble;
    int rc;

    if (meta && !meta_text)
        return -1;
    rc = store_event_add(s, user, pj_string(f, "cid"), pj_string(f, "name"), meta_text, ts,
                         util_now_ms());
    cJSON_free(meta_text);
    return rc;
}

void frame_context_event(ws_conn *c, const cJSON *f)
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
    rc = record_event(s->store, ws_conn_user(c), f);
    if (rc < 0) {
        ws_conn_error(c, "internal", "cannot store the event, try again later", NULL);
        return;
    }
    ws_conn_send(c, wire_ack(cid));
    if (rc > 0) {
        const cJSON *meta = cJSON_GetObjectItemCaseSensitive(f, "meta");
        char *meta_text = meta ? cJSON_PrintUnformatted(meta) : NULL;

        console_event(s, ws_conn_user(c), pj_string(f, "name"), meta_text,
                      (int64_t)cJSON_GetObjectItemCaseSensitive(f, "ts")->valuedouble);
        cJSON_free(meta_text);
        triggers_on_event(s, ws_conn_user(c), pj_string(f, "name"), util_now_ms());
    }
}
