#include "userctx.h"

#include <stdlib.h>
#include <string.h>

#include "json.h"

/* ---- the picture: screen, breadcrumbs, device ---- */

typedef struct picture {
    char *screen;  /* NULL when none */
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

/* ---- attributes ---- */

/* A null value is stored as null, not deleted: the agent sees that the host
 * cleared it. 0, -1 on error, 1 when the user would have too many. */
static int set_attributes(store *s, const char *user, const cJSON *attrs, int full, int64_t now)
{
    const cJSON *it;
    char *value;
    int64_t n = 0;
    int rc;

    if (full && store_attr_delete_all(s, user))
        return -1;
    cJSON_ArrayForEach(it, attrs) {
        value = cJSON_PrintUnformatted(it);
        rc = value ? store_attr_set(s, user, it->string, value, now) : -1;
        cJSON_free(value);
        if (rc)
            return -1;
    }
    if (store_attr_count(s, user, &n))
        return -1;
    return n > USERCTX_MAX_KEYS ? 1 : 0;
}

static int same_screen(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The picture and attributes after the frame; *old gets the screen before
 * it (malloc'd). 0, -1, 1 over the attribute cap. */
static int apply_frame(store *s, const char *user, const cJSON *f, int64_t now, picture *p,
                       char **old)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(f, "attributes");
    int full = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, "full"));
    int rc = picture_load(s, user, p);

    if (rc == 0 && p->screen && !(*old = dup_str(p->screen)))
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

static int add_attribute(void *ud, const store_attr *a)
{
    return add_parsed(ud, a->key, a->value) ? 1 : 0;
}

static int add_user_context(store *s, cJSON *obj, const char *user)
{
    cJSON *uc = cJSON_AddObjectToObject(obj, "user_context");
    cJSON *attrs = uc ? cJSON_AddObjectToObject(uc, "attributes") : NULL;
    picture p;
    int ok;

    if (!attrs || store_attr_each(s, user, add_attribute, attrs) || picture_load(s, user, &p))
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

/* ---- triggers ---- */

static int attr_matches(store *s, const char *user, const cJSON *want)
{
    char *value;
    cJSON *have;
    int rc = store_attr_get(s, user, want->string, &value);

    if (rc < 0)
        return -1;
    have = value ? cJSON_Parse(value) : NULL;
    free(value);
    /* An attribute never set counts as null. */
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
