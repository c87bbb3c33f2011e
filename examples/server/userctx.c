#include "userctx.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

/* A reconnecting client sends its full state, which may lack what it has
 * not learnt again yet (an app just started, attributes set after login).
 * What a full state lacks is kept as the last known value and marked
 * stale, so the agent still sees it, with when it was last reported; a
 * later report of a stale part replaces it, of a fresh one adds to it. */

/* ---- the picture: screen, breadcrumbs, device ---- */

/* When a part was last reported, and whether it is stale. */
typedef struct part {
    int64_t ms;
    int stale;
} part;

typedef struct picture {
    char *screen;  /* NULL when none */
    cJSON *crumbs; /* array of {text, ts}, oldest first */
    cJSON *device; /* object */
    part screen_at, crumbs_at, device_at;
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
    cJSON *v = text ? cJSON_Parse(text) : NULL;

    if (v && (array ? cJSON_IsArray(v) : cJSON_IsObject(v)))
        return v;
    cJSON_Delete(v);
    return array ? cJSON_CreateArray() : cJSON_CreateObject();
}

static int picture_load(store *s, const char *user, picture *p)
{
    store_picture sp;

    memset(p, 0, sizeof *p);
    if (store_picture_get(s, user, &sp))
        return -1;
    p->found = sp.found;
    p->screen = sp.screen;
    sp.screen = NULL;
    p->crumbs = parse_or(sp.crumbs, 1);
    p->device = parse_or(sp.device, 0);
    p->screen_at = (part){sp.screen_ms, sp.screen_stale};
    p->crumbs_at = (part){sp.crumbs_ms, sp.crumbs_stale};
    p->device_at = (part){sp.device_ms, sp.device_stale};
    p->updated_ms = sp.updated_ms;
    store_picture_clear(&sp);
    if (!p->crumbs || !p->device) {
        picture_free(p);
        return -1;
    }
    return 0;
}

static int picture_save(store *s, const char *user, const picture *p)
{
    store_picture sp;
    int rc = -1;

    memset(&sp, 0, sizeof sp);
    sp.screen = p->screen;
    sp.crumbs = cJSON_PrintUnformatted(p->crumbs);
    sp.device = cJSON_PrintUnformatted(p->device);
    sp.updated_ms = p->updated_ms;
    sp.screen_ms = p->screen_at.ms;
    sp.crumbs_ms = p->crumbs_at.ms;
    sp.device_ms = p->device_at.ms;
    sp.screen_stale = p->screen_at.stale;
    sp.crumbs_stale = p->crumbs_at.stale;
    sp.device_stale = p->device_at.stale;
    if (sp.crumbs && sp.device)
        rc = store_picture_put(s, user, &sp);
    cJSON_free(sp.crumbs);
    cJSON_free(sp.device);
    return rc;
}

static void trim_crumbs(cJSON *crumbs)
{
    while (cJSON_GetArraySize(crumbs) > USERCTX_KEEP_BREADCRUMBS)
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

static void empty_array(cJSON *arr)
{
    while (cJSON_GetArraySize(arr) > 0)
        cJSON_DeleteItemFromArray(arr, 0);
}

/* A part the frame reports: replaced when the frame is a full state or the
 * part was stale, else added to; now fresh. A part a full state lacks:
 * kept, stale. 1 when the frame reports it. */
static int report(part *at, int reported, int full, int has_value, int64_t now, int *replace)
{
    *replace = reported && (full || at->stale);
    if (reported)
        *at = (part){now, 0};
    else if (full && has_value)
        at->stale = 1;
    return reported;
}

static int apply_screen(picture *p, const char *screen, int full, int64_t now)
{
    int replace;

    if (!report(&p->screen_at, screen != NULL, full, p->screen != NULL, now, &replace))
        return 0;
    free(p->screen);
    p->screen = dup_str(screen);
    return p->screen ? 0 : -1;
}

static int apply_crumbs(picture *p, const cJSON *crumbs, int full, int64_t now)
{
    int replace;

    if (!report(&p->crumbs_at, crumbs != NULL, full, cJSON_GetArraySize(p->crumbs) > 0, now,
                &replace))
        return 0;
    if (replace)
        empty_array(p->crumbs);
    return append_crumbs(p->crumbs, crumbs);
}

static int apply_device(picture *p, const cJSON *device, int full, int64_t now)
{
    int replace;

    if (!report(&p->device_at, device != NULL, full, cJSON_GetArraySize(p->device) > 0, now,
                &replace))
        return 0;
    if (replace) {
        cJSON_Delete(p->device);
        p->device = cJSON_CreateObject();
        if (!p->device)
            return -1;
    }
    return merge_object(p->device, device);
}

/* Applies the frame to the picture. 0 or -1 (out of memory). */
static int picture_apply(picture *p, const cJSON *f, int full, int64_t now)
{
    p->updated_ms = now;
    if (apply_screen(p, pj_string(f, "screen"), full, now) ||
        apply_crumbs(p, cJSON_GetObjectItemCaseSensitive(f, "breadcrumbs"), full, now) ||
        apply_device(p, cJSON_GetObjectItemCaseSensitive(f, "device"), full, now))
        return -1;
    return 0;
}

/* ---- attributes ---- */

/* A null value is stored as null, not deleted: the agent sees that the host
 * cleared it. The cap counts what the client reported; stale attributes
 * make room for it, the longest unreported first. 0, -1 on error, 1 when
 * the user would have too many. */
static int set_attributes(store *s, const char *user, const cJSON *attrs, int full, int64_t now)
{
    const cJSON *it;
    char *value;
    int64_t n = 0;
    int rc;

    if (full && store_attr_mark_stale(s, user))
        return -1;
    cJSON_ArrayForEach(it, attrs) {
        value = cJSON_PrintUnformatted(it);
        rc = value ? store_attr_set(s, user, it->string, value, now) : -1;
        cJSON_free(value);
        if (rc)
            return -1;
    }
    if (store_attr_count_fresh(s, user, &n))
        return -1;
    if (n > USERCTX_MAX_KEYS)
        return 1;
    return store_attr_trim_stale(s, user, USERCTX_MAX_KEYS - n);
}

static int same_screen(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The picture and attributes after the frame; *old gets the screen before
 * it (malloc'd; NULL when none, or stale). 0, -1, 1 over the attribute cap. */
static int apply_frame(store *s, const char *user, const cJSON *f, int64_t now, picture *p,
                       char **old)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(f, "attributes");
    int full = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "full"));
    int rc = picture_load(s, user, p);

    /* A stale screen is not where the user is: seeing it again is a change. */
    if (rc == 0 && p->screen && !p->screen_at.stale && !(*old = dup_str(p->screen)))
        rc = -1;
    if (rc == 0)
        rc = picture_apply(p, f, full, now);
    if (rc == 0 && (attrs || full))
        rc = set_attributes(s, user, attrs, full, now);
    if (rc == 0)
        rc = picture_save(s, user, p);
    return rc;
}

int userctx_apply(store *s, const char *user, const cJSON *f, int64_t now, char **screen_out)
{
    char *old = NULL;
    picture p;
    int rc;

    *screen_out = NULL;
    if (store_begin(s))
        return -1;
    rc = apply_frame(s, user, f, now, &p, &old);
    if (rc == 0 && store_commit(s))
        rc = -1;
    if (rc != 0)
        store_rollback(s);
    else if (p.screen && !same_screen(old, p.screen))
        *screen_out = dup_str(p.screen);
    free(old);
    picture_free(&p);
    return rc;
}

/* ---- the agent's view ---- */

static int add_parsed(cJSON *obj, const char *key, const char *text)
{
    cJSON *v = text ? cJSON_Parse(text) : cJSON_CreateNull();

    if (!v)
        v = cJSON_CreateNull();
    return v && cJSON_AddItemToObject(obj, key, v) ? 0 : -1;
}

/* reported[key] = {"stale", "reported_ms"}. 0 or -1. */
static int add_report(cJSON *reported, const char *key, part at)
{
    cJSON *o = cJSON_AddObjectToObject(reported, key);

    return o && cJSON_AddBoolToObject(o, "stale", at.stale) &&
                   cJSON_AddNumberToObject(o, "reported_ms", (double)at.ms)
               ? 0
               : -1;
}

typedef struct attr_view {
    cJSON *values, *reported;
    int stale;
} attr_view;

static int add_attribute(void *ud, const store_attr *a)
{
    attr_view *v = ud;

    v->stale |= a->stale;
    if (add_parsed(v->values, a->key, a->value) ||
        add_report(v->reported, a->key, (part){a->updated_ms, a->stale}))
        return 1;
    return 0;
}

/* "attributes" in `uc`, and in `reported`; *stale set when one is. */
static int add_attributes(store *s, cJSON *uc, cJSON *reported, const char *user, int *stale)
{
    attr_view v = {cJSON_AddObjectToObject(uc, "attributes"),
                   cJSON_AddObjectToObject(reported, "attributes"), 0};

    if (!v.values || !v.reported || store_attr_each(s, user, add_attribute, &v))
        return -1;
    *stale |= v.stale;
    return 0;
}

/* "screen", "breadcrumbs", "device" and "updated_ms" in `uc`; the parts it
 * has in `reported`, *stale set when one is. Takes the picture's trees. */
static int add_picture(cJSON *uc, cJSON *reported, picture *p, int *stale)
{
    int has_crumbs = cJSON_GetArraySize(p->crumbs) > 0;
    int has_device = cJSON_GetArraySize(p->device) > 0;

    if (!(p->screen ? cJSON_AddStringToObject(uc, "screen", p->screen)
                    : cJSON_AddNullToObject(uc, "screen")))
        return -1;
    cJSON_AddItemToObject(uc, "breadcrumbs", p->crumbs);
    cJSON_AddItemToObject(uc, "device", p->device);
    p->crumbs = p->device = NULL;
    if (!(p->found ? cJSON_AddNumberToObject(uc, "updated_ms", (double)p->updated_ms)
                   : cJSON_AddNullToObject(uc, "updated_ms")))
        return -1;
    *stale |= (p->screen && p->screen_at.stale) || (has_crumbs && p->crumbs_at.stale) ||
              (has_device && p->device_at.stale);
    return (p->screen && add_report(reported, "screen", p->screen_at)) ||
                   (has_crumbs && add_report(reported, "breadcrumbs", p->crumbs_at)) ||
                   (has_device && add_report(reported, "device", p->device_at))
               ? -1
               : 0;
}

/* "user_context": the user's attributes and picture, "stale" when some of
 * it is the last known value rather than what the client reported since,
 * and "reported": when each part was last reported, and whether it is
 * stale. */
static int add_user_context(store *s, cJSON *obj, const char *user)
{
    cJSON *uc = cJSON_AddObjectToObject(obj, "user_context"), *reported = cJSON_CreateObject();
    picture p;
    int stale = 0, rc;

    if (!uc || !reported || add_attributes(s, uc, reported, user, &stale) ||
        picture_load(s, user, &p)) {
        cJSON_Delete(reported);
        return -1;
    }
    rc = add_picture(uc, reported, &p, &stale);
    picture_free(&p);
    if (rc == 0 && cJSON_AddBoolToObject(uc, "stale", stale) &&
        cJSON_AddItemToObject(uc, "reported", reported))
        return 0;
    cJSON_Delete(reported);
    return -1;
}

static int add_event(void *ud, const store_event *ev)
{
    cJSON *e = cJSON_CreateObject();

    if (!e)
        return 1;
    cJSON_AddItemToArray(ud, e);
    if (!cJSON_AddStringToObject(e, "name", ev->name) || add_parsed(e, "meta", ev->meta))
        return 1;
    return cJSON_AddNumberToObject(e, "ts", (double)ev->ts) ? 0 : 1;
}

static int add_start_snapshot(store *s, cJSON *obj, const char *conv)
{
    char *json;
    int rc = store_conv_snapshot(s, conv, &json);

    if (rc == 1)
        rc = add_parsed(obj, "context", json);
    free(json);
    return rc < 0 ? -1 : 0;
}

int userctx_add_to_conv(store *s, cJSON *obj, const char *conv, const char *user)
{
    cJSON *events;

    if (add_start_snapshot(s, obj, conv) || add_user_context(s, obj, user))
        return -1;
    events = cJSON_AddArrayToObject(obj, "events");
    if (!events || store_event_recent(s, user, USERCTX_SHOW_EVENTS, add_event, events))
        return -1;
    return 0;
}

int userctx_add_to_user(store *s, cJSON *obj, const char *user)
{
    cJSON *events, *uc;
    const cJSON *updated;

    if (add_user_context(s, obj, user))
        return -1;
    /* The customer view calls it "context"; whether the app ever sent
     * one tells consent (the server cannot see the host's setting). */
    uc = cJSON_DetachItemFromObjectCaseSensitive(obj, "user_context");
    updated = cJSON_GetObjectItemCaseSensitive(uc, "updated_ms");
    if (!uc || !cJSON_AddItemToObject(obj, "context", uc) ||
        !cJSON_AddBoolToObject(obj, "context_shared", cJSON_IsNumber(updated))) {
        return -1;
    }
    events = cJSON_AddArrayToObject(obj, "events");
    if (!events || store_event_recent(s, user, USERCTX_SHOW_EVENTS, add_event, events))
        return -1;
    return 0;
}

/* ---- triggers ---- */

static int attr_matches(store *s, const char *user, const cJSON *want)
{
    char *value;
    cJSON *have;
    int stale, rc = store_attr_get(s, user, want->string, &value, &stale);

    if (rc < 0)
        return -1;
    have = value && !stale ? cJSON_Parse(value) : NULL;
    free(value);
    /* An attribute never set counts as null; a stale one too: the client
     * no longer says it holds. */
    rc = have ? cJSON_Compare(have, want, 1) : cJSON_IsNull(want);
    cJSON_Delete(have);
    return rc ? 1 : 0;
}

int userctx_attrs_match(store *s, const char *user, const cJSON *filter)
{
    const cJSON *it;
    int rc;

    cJSON_ArrayForEach(it, filter) {
        rc = attr_matches(s, user, it);
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

/* The part reported last. */
static part later(part a, part b)
{
    return b.ms > a.ms ? b : a;
}

/* Both pictures into `into` (the identified user's): the newer screen, the
 * device facts of both (newer wins), the breadcrumbs of both by time; of
 * the merged parts, the later report says when and whether stale. */
static int picture_merge(picture *into, picture *from)
{
    cJSON *item, *older, *newer;
    int from_newer = from->updated_ms > into->updated_ms;

    if (from->screen && (from_newer || !into->screen)) {
        free(into->screen);
        into->screen = from->screen;
        into->screen_at = from->screen_at;
        from->screen = NULL;
    }
    into->crumbs_at = later(into->crumbs_at, from->crumbs_at);
    into->device_at = later(into->device_at, from->device_at);
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

static int merge_pictures(store *s, const char *anon, const char *user)
{
    picture a, u;
    int rc;

    if (picture_load(s, anon, &a))
        return -1;
    if (!a.found) {
        picture_free(&a);
        return 0;
    }
    rc = picture_load(s, user, &u);
    if (rc == 0) {
        rc = picture_merge(&u, &a);
        if (rc == 0)
            rc = picture_save(s, user, &u);
        picture_free(&u);
    }
    picture_free(&a);
    return rc ? -1 : store_picture_delete(s, anon);
}

int userctx_merge(store *s, const char *anon, const char *user)
{
    if (store_attr_move(s, anon, user) || merge_pictures(s, anon, user) ||
        store_event_move(s, anon, user))
        return -1;
    return 0;
}
