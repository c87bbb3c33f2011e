#include "feature/user_context.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include "util/utf8.h"

/* A key/value table: attributes or device facts. vals[i].key and .str
 * point at keys[i] and strs[i], owned here. */
typedef struct ptable {
    pl_attr vals[PL_MAX_ATTRS];
    char *keys[PL_MAX_ATTRS];
    char *strs[PL_MAX_ATTRS];
    unsigned char dirty[PL_MAX_ATTRS]; /* changed since the last frame */
    size_t n, cap;
} ptable;

struct pl_ctx {
    pl_alloc alloc;
    pl_sess *sess;
    const pl_log *log;
    pl_redact redact;
    int consent;
    uint32_t interval_ms;
    int64_t last_frame; /* monotonic ms of the last context frame */
    int64_t now;        /* the latest time the session passed in */
    uint64_t frames;

    ptable attrs, device;
    char *screen;
    int screen_dirty;

    char **crumb_text; /* ring of crumb_cap */
    int64_t *crumb_ts;
    size_t crumb_cap, crumb_head, crumb_count, crumb_unsent;
};

/* ---- tables ------------------------------------------------------------- */

/* The slots are reused by table_set, which frees a slot's old string. */
static void table_clear(pl_ctx *c, ptable *t)
{
    for (size_t i = 0; i < t->n; i++) {
        pl_free(&c->alloc, t->keys[i]);
        pl_free(&c->alloc, t->strs[i]);
        t->keys[i] = NULL;
        t->strs[i] = NULL;
    }
    t->n = 0;
}

static size_t table_find(const ptable *t, const char *key)
{
    size_t i = 0;
    while (i < t->n && strcmp(t->keys[i], key) != 0)
        i++;
    return i;
}

/* Stores v (its string already owned: `str`, taken on success). */
static int table_set(pl_ctx *c, ptable *t, const pl_attr *v, char *str)
{
    size_t i = table_find(t, v->key);
    if (i == t->cap)
        return PARLEY_ERR_FULL;
    char *key = i == t->n ? pl_strdup(&c->alloc, v->key) : t->keys[i];
    if (!key)
        return PARLEY_ERR_NOMEM;
    if (i == t->n)
        t->keys[t->n++] = key;
    pl_free(&c->alloc, t->strs[i]);
    t->strs[i] = str;
    t->vals[i] = *v;
    t->vals[i].key = key;
    t->vals[i].str = str;
    t->dirty[i] = 1;
    return PARLEY_OK;
}

/* ---- what goes out -------------------------------------------------------- */

static size_t crumb_index(const pl_ctx *c, size_t k)
{
    return (c->crumb_head + c->crumb_cap - c->crumb_count + k) % c->crumb_cap;
}

/* The context as a pl_context; with `patch`, only what changed since the last
 * frame. Arrays are allocated here (free with view_free). */
typedef struct view {
    pl_context pc;
    pl_attr *attrs, *device;
    pl_crumb *crumbs;
} view;

static void view_free(pl_ctx *c, view *v)
{
    pl_free(&c->alloc, v->attrs);
    pl_free(&c->alloc, v->device);
    pl_free(&c->alloc, v->crumbs);
}

static int view_values(pl_ctx *c, const ptable *t, int patch, pl_attr **out, size_t *n)
{
    *out = NULL;
    *n = 0;
    if (!t->n)
        return PARLEY_OK;
    if (!(*out = pl_calloc(&c->alloc, t->n, sizeof **out)))
        return PARLEY_ERR_NOMEM;
    for (size_t i = 0; i < t->n; i++)
        if (!patch || t->dirty[i])
            (*out)[(*n)++] = t->vals[i];
    return PARLEY_OK;
}

static int view_build(pl_ctx *c, int patch, view *v)
{
    memset(v, 0, sizeof *v);
    size_t first = patch ? c->crumb_count - c->crumb_unsent : 0;
    size_t n_crumbs = c->crumb_count - first;
    int rc = view_values(c, &c->attrs, patch, &v->attrs, &v->pc.n_attrs);
    if (rc == PARLEY_OK)
        rc = view_values(c, &c->device, patch, &v->device, &v->pc.n_device);
    if (rc == PARLEY_OK && n_crumbs &&
        !(v->crumbs = pl_calloc(&c->alloc, n_crumbs, sizeof *v->crumbs)))
        rc = PARLEY_ERR_NOMEM;
    if (rc != PARLEY_OK) {
        view_free(c, v);
        return rc;
    }
    for (size_t k = 0; k < n_crumbs; k++) {
        size_t i = crumb_index(c, first + k);
        v->crumbs[k] = (pl_crumb){c->crumb_text[i], c->crumb_ts[i]};
    }
    v->pc.attrs = v->attrs;
    v->pc.device = v->device;
    v->pc.crumbs = v->crumbs;
    v->pc.n_crumbs = n_crumbs;
    v->pc.screen = !patch || c->screen_dirty ? c->screen : NULL;
    return PARLEY_OK;
}

static int view_empty(const view *v)
{
    return !v->pc.n_attrs && !v->pc.n_device && !v->pc.n_crumbs && !v->pc.screen;
}

static void mark_sent(pl_ctx *c)
{
    memset(c->attrs.dirty, 0, sizeof c->attrs.dirty);
    memset(c->device.dirty, 0, sizeof c->device.dirty);
    c->screen_dirty = 0;
    c->crumb_unsent = 0;
}

static int dirty(const pl_ctx *c)
{
    if (c->screen_dirty || c->crumb_unsent)
        return 1;
    for (size_t i = 0; i < c->attrs.n; i++)
        if (c->attrs.dirty[i])
            return 1;
    for (size_t i = 0; i < c->device.n; i++)
        if (c->device.dirty[i])
            return 1;
    return 0;
}

/* ---- fitting the frame limit -----------------------------------------------
 * A context larger than a frame (100 attributes of a few KB, 500 long
 * breadcrumbs) is cut into parts: the screen, each attribute, each device
 * fact, each breadcrumb. A part's cost is what it adds to an encoded
 * context at most (encoded alone, with its section's wrapper and a comma),
 * so a sum of costs never undercounts. */

enum { PART_SCREEN, PART_ATTR, PART_DEVICE, PART_CRUMB };

typedef struct part {
    int kind;
    size_t i; /* index in the view's array of that kind */
    size_t cost;
} part;

static pl_context part_alone(const view *v, const part *p)
{
    pl_context one = {0};
    switch (p->kind) {
    case PART_SCREEN: one.screen = v->pc.screen; break;
    case PART_ATTR: one.attrs = &v->pc.attrs[p->i], one.n_attrs = 1; break;
    case PART_DEVICE: one.device = &v->pc.device[p->i], one.n_device = 1; break;
    default: one.crumbs = &v->pc.crumbs[p->i], one.n_crumbs = 1; break;
    }
    return one;
}

/* The parts of v in order: screen, attributes, device facts, breadcrumbs
 * oldest first; *crumbs_first is where the breadcrumbs start. */
static int parts_of(pl_ctx *c, const view *v, part **out, size_t *n, size_t *crumbs_first)
{
    const size_t counts[] = {v->pc.screen != NULL, v->pc.n_attrs, v->pc.n_device, v->pc.n_crumbs};
    size_t total = counts[0] + counts[1] + counts[2] + counts[3];
    part *p = pl_calloc(&c->alloc, total ? total : 1, sizeof *p);
    if (!p)
        return PARLEY_ERR_NOMEM;
    *n = 0;
    for (int kind = PART_SCREEN; kind <= PART_CRUMB; kind++) {
        if (kind == PART_CRUMB)
            *crumbs_first = *n;
        for (size_t i = 0; i < counts[kind]; i++, (*n)++) {
            p[*n] = (part){kind, i, 0};
            pl_context one = part_alone(v, &p[*n]);
            char *enc = NULL;
            int rc = pl_proto_encode_snapshot(&c->alloc, &one, &enc, &p[*n].cost);
            pl_free(&c->alloc, enc);
            if (rc != PARLEY_OK) {
                pl_free(&c->alloc, p);
                return rc;
            }
            p[*n].cost -= 1; /* "{" and "}" go, a comma comes */
        }
    }
    *out = p;
    return PARLEY_OK;
}

/* The view of the parts whose `on` is set (arrays allocated: view_free). */
static int view_select(pl_ctx *c, const view *v, const part *p, size_t n, const unsigned char *on,
                       view *out)
{
    memset(out, 0, sizeof *out);
    if ((v->pc.n_attrs &&
         !(out->attrs = pl_calloc(&c->alloc, v->pc.n_attrs, sizeof *out->attrs))) ||
        (v->pc.n_device &&
         !(out->device = pl_calloc(&c->alloc, v->pc.n_device, sizeof *out->device))) ||
        (v->pc.n_crumbs &&
         !(out->crumbs = pl_calloc(&c->alloc, v->pc.n_crumbs, sizeof *out->crumbs)))) {
        view_free(c, out);
        return PARLEY_ERR_NOMEM;
    }
    for (size_t k = 0; k < n; k++) {
        if (!on[k])
            continue;
        switch (p[k].kind) {
        case PART_SCREEN: out->pc.screen = v->pc.screen; break;
        case PART_ATTR: out->attrs[out->pc.n_attrs++] = v->pc.attrs[p[k].i]; break;
        case PART_DEVICE: out->device[out->pc.n_device++] = v->pc.device[p[k].i]; break;
        default: out->crumbs[out->pc.n_crumbs++] = v->pc.crumbs[p[k].i]; break;
        }
    }
    out->pc.attrs = out->attrs;
    out->pc.device = out->device;
    out->pc.crumbs = out->crumbs;
    return PARLEY_OK;
}

/* Sends the parts marked in `on` as one context frame. */
static int send_chunk(pl_ctx *c, int full, const view *v, const part *p, size_t n,
                      const unsigned char *on)
{
    view sel;
    int rc = view_select(c, v, p, n, on, &sel);
    char *frame = NULL;
    size_t len = 0;
    if (rc == PARLEY_OK)
        rc = pl_proto_encode_context(&c->alloc, full, &sel.pc, &frame, &len);
    view_free(c, &sel);
    if (rc == PARLEY_OK)
        rc = pl_sess_send_control(c->sess, "context", frame, len);
    if (rc == PARLEY_OK)
        c->frames++;
    return rc;
}

/* A context over the frame limit goes out as several frames: the first
 * one `full` (when the whole state is sent), the rest patches, parts in
 * order so breadcrumbs stay oldest first. A part that cannot fit even
 * alone (only under a tiny server limit) is left out and logged. */
static int send_split(pl_ctx *c, int full, const view *v, size_t limit)
{
    part *p = NULL;
    size_t n = 0, crumbs_first = 0, base = sizeof "{\"t\":\"context\",\"full\":false}" - 1;
    int rc = parts_of(c, v, &p, &n, &crumbs_first);
    unsigned char *on = rc == PARLEY_OK ? pl_calloc(&c->alloc, n ? n : 1, 1) : NULL;
    if (rc == PARLEY_OK && !on)
        rc = PARLEY_ERR_NOMEM;
    size_t used = base, in_chunk = 0;
    for (size_t k = 0; rc == PARLEY_OK && k <= n; k++) {
        if (k < n && base + p[k].cost > limit) {
            PL_LOG_W(c->log, "a context entry of %zu bytes does not fit the frame limit: left out",
                     p[k].cost);
            continue;
        }
        if (in_chunk && (k == n || used + p[k].cost > limit)) {
            rc = send_chunk(c, full, v, p, n, on);
            full = 0;
            memset(on, 0, n);
            used = base;
            in_chunk = 0;
        }
        if (k < n) {
            on[k] = 1;
            used += p[k].cost;
            in_chunk++;
        }
    }
    pl_free(&c->alloc, on);
    pl_free(&c->alloc, p);
    return rc;
}

/* Sends the full state or a patch now; an empty one is not sent. */
static int send_frame(pl_ctx *c, int full, int64_t now)
{
    view v;
    int rc = view_build(c, !full, &v);
    if (rc != PARLEY_OK)
        return rc;
    char *frame = NULL;
    size_t len = 0, limit = pl_sess_max_frame(c->sess);
    int empty = view_empty(&v);
    if (!empty)
        rc = pl_proto_encode_context(&c->alloc, full, &v.pc, &frame, &len);
    if (!empty && rc == PARLEY_OK && len > limit) {
        pl_free(&c->alloc, frame);
        rc = send_split(c, full, &v, limit);
    } else if (!empty && rc == PARLEY_OK) {
        rc = pl_sess_send_control(c->sess, "context", frame, len);
        c->frames += rc == PARLEY_OK;
    }
    view_free(c, &v);
    if (rc != PARLEY_OK)
        return rc;
    mark_sent(c);
    /* Only a frame sent opens an interval: the first change after a quiet
     * spell goes out at once. */
    if (!empty)
        c->last_frame = now;
    return PARLEY_OK;
}

/* What a snapshot keeps when the whole context does not fit in `max`
 * bytes: the screen, attributes, device facts, then breadcrumbs newest
 * first, each while it fits, marked "truncated". NULL when not even that
 * mark fits. */
static int snapshot_trimmed(pl_ctx *c, const view *v, size_t max, char **out)
{
    part *p = NULL;
    size_t n = 0, crumbs_first = 0, used = sizeof "{\"truncated\":true}" - 1;
    int rc = parts_of(c, v, &p, &n, &crumbs_first);
    unsigned char *on = rc == PARLEY_OK ? pl_calloc(&c->alloc, n ? n : 1, 1) : NULL;
    if (rc == PARLEY_OK && !on)
        rc = PARLEY_ERR_NOMEM;
    for (size_t j = 0; rc == PARLEY_OK && j < n; j++) {
        size_t k = j < crumbs_first ? j : n - 1 - (j - crumbs_first);
        if (used + p[k].cost <= max) {
            on[k] = 1;
            used += p[k].cost;
        }
    }
    view sel;
    if (rc == PARLEY_OK && used <= max && (rc = view_select(c, v, p, n, on, &sel)) == PARLEY_OK) {
        sel.pc.truncated = 1;
        rc = pl_proto_encode_snapshot(&c->alloc, &sel.pc, out, NULL);
        view_free(c, &sel);
    }
    pl_free(&c->alloc, on);
    pl_free(&c->alloc, p);
    return rc;
}

static int snapshot_within(pl_ctx *c, size_t max, char **out)
{
    *out = NULL;
    if (!c->consent)
        return PARLEY_OK;
    view v;
    size_t len = 0;
    int rc = view_build(c, 0, &v);
    if (rc == PARLEY_OK && !view_empty(&v))
        rc = pl_proto_encode_snapshot(&c->alloc, &v.pc, out, &len);
    if (rc == PARLEY_OK && *out && len > max) {
        pl_free(&c->alloc, *out);
        *out = NULL;
        rc = snapshot_trimmed(c, &v, max, out);
    }
    view_free(c, &v);
    return rc;
}

int pl_ctx_snapshot(pl_ctx *c, char **out)
{
    return snapshot_within(c, SIZE_MAX, out);
}

/* ---- session hooks -------------------------------------------------------- */

static int on_welcome(void *user, int64_t now)
{
    pl_ctx *c = user;
    c->now = now;
    return c->consent ? send_frame(c, 1, now) : PARLEY_OK;
}

static int64_t next_due(void *user)
{
    pl_ctx *c = user;
    if (!c->consent || !pl_sess_online(c->sess) || !dirty(c))
        return -1;
    int64_t due = c->last_frame + c->interval_ms;
    return due < 0 ? 0 : due; /* no frame yet: due at once */
}

static void on_tick(void *user, int64_t now)
{
    pl_ctx *c = user;
    c->now = now;
    int64_t due = next_due(c);
    if (due >= 0 && now >= due && send_frame(c, 0, now) != PARLEY_OK)
        PL_LOG_W(c->log, "context patch not sent: out of memory");
}

static int on_snapshot(void *user, size_t max, char **out)
{
    return snapshot_within(user, max, out);
}

static void on_logout(void *user)
{
    pl_ctx *c = user;
    table_clear(c, &c->attrs);
    for (size_t i = 0; c->crumb_text && i < c->crumb_cap; i++) {
        pl_free(&c->alloc, c->crumb_text[i]);
        c->crumb_text[i] = NULL;
    }
    c->crumb_count = c->crumb_head = c->crumb_unsent = 0;
    pl_free(&c->alloc, c->screen);
    c->screen = NULL;
    c->screen_dirty = 0;
}

/* ---- lifecycle ------------------------------------------------------------ */

pl_ctx *pl_ctx_new(const pl_alloc *a, pl_sess *sess, const pl_ctx_config *cfg, const pl_log *log)
{
    pl_ctx *c = pl_calloc(a, 1, sizeof *c);
    if (!c)
        return NULL;
    c->alloc = *a;
    c->sess = sess;
    c->log = log;
    c->redact = cfg->redact;
    c->consent = cfg->consent != 0;
    c->interval_ms = cfg->interval_ms ? cfg->interval_ms : PL_CTX_DEFAULT_INTERVAL_MS;
    c->crumb_cap = cfg->breadcrumb_cap ? cfg->breadcrumb_cap : PL_CTX_DEFAULT_CRUMBS;
    c->attrs.cap = PL_MAX_ATTRS;
    c->device.cap = PL_MAX_DEVICE;
    /* The first change goes out at once, later ones once per interval. */
    c->last_frame = INT64_MIN / 2;
    c->crumb_text = pl_calloc(a, c->crumb_cap, sizeof *c->crumb_text);
    c->crumb_ts = pl_calloc(a, c->crumb_cap, sizeof *c->crumb_ts);
    pl_sess_ext ext = {.user = c,
                       .on_welcome = on_welcome,
                       .deadline = next_due,
                       .on_tick = on_tick,
                       .on_logout = on_logout,
                       .snapshot = on_snapshot};
    if (!c->crumb_text || !c->crumb_ts || pl_sess_add_ext(sess, &ext) != PARLEY_OK) {
        pl_ctx_free(c);
        return NULL;
    }
    return c;
}

void pl_ctx_free(pl_ctx *c)
{
    if (!c)
        return;
    on_logout(c);
    table_clear(c, &c->device);
    pl_free(&c->alloc, c->crumb_text);
    pl_free(&c->alloc, c->crumb_ts);
    pl_alloc a = c->alloc;
    pl_free(&a, c);
}

uint64_t pl_ctx_frames_sent(const pl_ctx *c)
{
    return c->frames;
}

/* ---- host API ------------------------------------------------------------- */

int pl_ctx_redact(pl_ctx *c, int field, const char *in, char **out)
{
    return pl_redact_copy(&c->redact, &c->alloc, field, in, out);
}

int pl_ctx_prepare_message(pl_ctx *c, const char *text, char **redacted)
{
    *redacted = NULL;
    return text ? pl_ctx_redact(c, PARLEY_FIELD_MESSAGE, text, redacted) : PARLEY_OK;
}

/* A user string checked against its limit, then redacted. */
static int user_string(pl_ctx *c, int field, const char *in, size_t max, char **out)
{
    if (!in || !*in)
        return PARLEY_ERR_INVALID_ARG;
    size_t n = strnlen(in, max + 1);
    if (n > max)
        return PARLEY_ERR_TOO_LONG;
    if (!pl_utf8_valid(in, n))
        return PARLEY_ERR_INVALID_ARG;
    return pl_ctx_redact(c, field, in, out);
}

typedef struct redact_ctx {
    pl_ctx *c;
    int field;
} redact_ctx;

static int redact_json_string(void *user, const char *in, char **out)
{
    redact_ctx *r = user;
    return pl_ctx_redact(r->c, r->field, in, out);
}

/* A host JSON object: validated, compacted, its strings redacted. */
static int user_json(pl_ctx *c, int field, const char *in, char **out)
{
    char *canon = NULL;
    int rc = pl_proto_json_object(&c->alloc, in, PL_MAX_JSON_VALUE, PL_MAX_JSON_DEPTH, &canon);
    if (rc != PARLEY_OK)
        return rc;
    redact_ctx r = {c, field};
    rc = pl_proto_json_map_strings(&c->alloc, canon, redact_json_string, &r, out);
    pl_free(&c->alloc, canon);
    return rc;
}

static int attr_value(pl_ctx *c, const pl_attr *attr, char **str)
{
    *str = NULL;
    switch (attr->type) {
    case PL_ATTR_STR:
        return user_string(c, PARLEY_FIELD_ATTRIBUTE, attr->str, PL_MAX_ATTR_STR, str);
    case PL_ATTR_JSON: return user_json(c, PARLEY_FIELD_ATTRIBUTE, attr->str, str);
    case PL_ATTR_NUM: return isfinite(attr->num) ? PARLEY_OK : PARLEY_ERR_INVALID_ARG;
    case PL_ATTR_BOOL:
    case PL_ATTR_NULL: return PARLEY_OK;
    }
    return PARLEY_ERR_INVALID_ARG;
}

int pl_ctx_set_attr(pl_ctx *c, const pl_attr *attr)
{
    if (!attr || !pl_id_valid(attr->key, PL_MAX_ATTR_KEY))
        return PARLEY_ERR_INVALID_ARG;
    if (attr->type == PL_ATTR_STR && attr->str && !*attr->str) {
        /* An empty string is a value like any other; it needs no redaction. */
        pl_attr v = {attr->key, PL_ATTR_STR, "", 0, 0};
        char *empty = pl_strdup(&c->alloc, "");
        int rc = empty ? table_set(c, &c->attrs, &v, empty) : PARLEY_ERR_NOMEM;
        if (rc != PARLEY_OK)
            pl_free(&c->alloc, empty);
        return rc;
    }
    char *str;
    int rc = attr_value(c, attr, &str);
    if (rc != PARLEY_OK)
        return rc;
    pl_attr v = {attr->key, attr->type, str, attr->type == PL_ATTR_NUM ? attr->num : 0,
                 attr->type == PL_ATTR_BOOL && attr->boolean != 0};
    rc = table_set(c, &c->attrs, &v, str);
    if (rc != PARLEY_OK)
        pl_free(&c->alloc, str);
    return rc;
}

int pl_ctx_set_device(pl_ctx *c, const char *key, const char *value)
{
    if (!pl_id_valid(key, PL_MAX_ATTR_KEY))
        return PARLEY_ERR_INVALID_ARG;
    char *str;
    int rc = user_string(c, PARLEY_FIELD_DEVICE, value, PL_MAX_ATTR_STR, &str);
    if (rc != PARLEY_OK)
        return rc;
    pl_attr v = {key, PL_ATTR_STR, str, 0, 0};
    rc = table_set(c, &c->device, &v, str);
    if (rc != PARLEY_OK)
        pl_free(&c->alloc, str);
    return rc;
}

int pl_ctx_set_screen(pl_ctx *c, const char *screen)
{
    /* The common case in a game: the same screen every frame. */
    if (screen && c->screen && strcmp(screen, c->screen) == 0 && !c->redact.fn)
        return PARLEY_OK;
    char *s;
    int rc = user_string(c, PARLEY_FIELD_SCREEN, screen, PL_MAX_SCREEN, &s);
    if (rc != PARLEY_OK)
        return rc;
    if (c->screen && strcmp(s, c->screen) == 0) {
        pl_free(&c->alloc, s);
        return PARLEY_OK;
    }
    pl_free(&c->alloc, c->screen);
    c->screen = s;
    c->screen_dirty = 1;
    return PARLEY_OK;
}

int pl_ctx_add_breadcrumb(pl_ctx *c, const char *text, int64_t wall_ms)
{
    char *t;
    int rc = user_string(c, PARLEY_FIELD_BREADCRUMB, text, PL_MAX_CRUMB, &t);
    if (rc != PARLEY_OK)
        return rc;
    pl_free(&c->alloc, c->crumb_text[c->crumb_head]);
    c->crumb_text[c->crumb_head] = t;
    c->crumb_ts[c->crumb_head] = wall_ms;
    c->crumb_head = (c->crumb_head + 1) % c->crumb_cap;
    if (c->crumb_count < c->crumb_cap)
        c->crumb_count++;
    if (c->crumb_unsent < c->crumb_cap)
        c->crumb_unsent++;
    return PARLEY_OK;
}

int pl_ctx_track_event(pl_ctx *c, const char *name, const char *meta, int64_t wall_ms)
{
    if (!pl_id_valid(name, PL_MAX_EVENT_NAME))
        return PARLEY_ERR_INVALID_ARG;
    if (!c->consent)
        return PARLEY_ERR_CONSENT;
    char *m = NULL, *frame = NULL, cid[PARLEY_ID_SIZE];
    size_t len = 0;
    int rc = meta ? user_json(c, PARLEY_FIELD_EVENT, meta, &m) : PARLEY_OK;
    if (rc == PARLEY_OK)
        rc = pl_sess_mint_cid(c->sess, cid);
    if (rc == PARLEY_OK)
        rc = pl_proto_encode_event(&c->alloc, cid, name, m, wall_ms, &frame, &len);
    pl_free(&c->alloc, m);
    return rc == PARLEY_OK ? pl_sess_enqueue(c->sess, PL_SESS_ITEM_SILENT, NULL, cid, frame, len)
                           : rc;
}

void pl_ctx_set_consent(pl_ctx *c, int allowed)
{
    int was = c->consent;
    c->consent = allowed != 0;
    if (c->consent && !was && pl_sess_online(c->sess) && send_frame(c, 1, c->now) != PARLEY_OK)
        PL_LOG_W(c->log, "context not sent: out of memory");
}
