/* Codec for rich conversations (docs/protocol.md, "Structured content",
 * "typing", "read", "unread", "Requests", "Answers to requests"). */
#include <stdio.h>
#include <string.h>

#include "session/event.h"
#include "codec/proto_internal.h"
#include "feature/rich.h"
#include "util/utf8.h"

/* ---- owned structures ------------------------------------------------------ */

static void options_free(const pl_alloc *a, struct parley_option *v, int n)
{
    for (int i = 0; v && i < n; i++) {
        pl_free(a, v[i].id);
        pl_free(a, v[i].label);
        pl_free(a, v[i].payload);
        pl_free(a, v[i].url);
    }
    pl_free(a, v);
}

static void block_clear(const pl_alloc *a, struct parley_block *b)
{
    pl_free(a, b->title);
    pl_free(a, b->text);
    pl_free(a, b->image);
    options_free(a, b->opts, b->n_opts);
    pl_blocks_free(a, b->cards, b->n_cards);
    memset(b, 0, sizeof *b);
}

void pl_blocks_free(const pl_alloc *a, struct parley_block *v, int n)
{
    for (int i = 0; v && i < n; i++)
        block_clear(a, &v[i]);
    pl_free(a, v);
}

pl_ev_rich *pl_ev_rich_new(const pl_alloc *a)
{
    pl_ev_rich *r = pl_calloc(a, 1, sizeof *r);
    if (r)
        r->queue_pos = -1;
    return r;
}

void pl_ev_rich_free(const pl_alloc *a, pl_ev_rich *r)
{
    if (!r)
        return;
    pl_blocks_free(a, r->blocks, r->n_blocks);
    for (int i = 0; r->items && i < r->n_items; i++)
        parley_event_free(r->items[i]);
    pl_free(a, r->items);
    pl_free(a, r->raw_json);
    pl_free(a, r->req);
    pl_free(a, r->title);
    pl_free(a, r->url);
    pl_free(a, r);
}

static size_t str_size(const char *s)
{
    return s ? strlen(s) + 1 : 0;
}

static size_t blocks_size(const struct parley_block *v, int n)
{
    size_t total = 0;
    for (int i = 0; v && i < n; i++) {
        const struct parley_block *b = &v[i];
        total += sizeof *b + str_size(b->title) + str_size(b->text) + str_size(b->image) +
                 blocks_size(b->cards, b->n_cards);
        for (int j = 0; b->opts && j < b->n_opts; j++)
            total += sizeof b->opts[j] + str_size(b->opts[j].id) + str_size(b->opts[j].label) +
                     str_size(b->opts[j].payload) + str_size(b->opts[j].url);
    }
    return total;
}

size_t pl_ev_rich_size(const pl_ev_rich *r)
{
    if (!r)
        return 0;
    size_t n = sizeof *r + blocks_size(r->blocks, r->n_blocks) + str_size(r->raw_json) + str_size(r->req) +
               str_size(r->title) + str_size(r->url) + (size_t)r->n_items * sizeof *r->items;
    for (int i = 0; r->items && i < r->n_items; i++)
        n += r->items[i] ? pl_event_size(r->items[i]) : 0;
    return n;
}

/* ---- blocks ------------------------------------------------------------------ */

/* Option ids seen so far in one message: they must be unique in it. */
typedef struct idset {
    const char *ids[PL_MAX_BLOCKS * PL_MAX_CARDS * PL_MAX_OPTIONS];
    size_t n;
} idset;

typedef struct bctx {
    pl_json_dec d;
    idset *seen;
    size_t seen_mark; /* ids added by the block being decoded start here */
} bctx;

/* A string member of 1..max bytes (0..max with allow_empty); absent
 * optional ones leave *dst NULL. */
static int get_bounded(pl_json_dec *d, const cJSON *obj, const char *key, int required, size_t max, char **dst)
{
    const cJSON *v = pl_json_member(obj, key);
    if (!v)
        return required ? pl_json_bad(d, "%s'%s' missing", d->where, key) : PARLEY_OK;
    if (!cJSON_IsString(v) || !v->valuestring[0])
        return pl_json_bad(d, "%s'%s' is not a non-empty string", d->where, key);
    if (strlen(v->valuestring) > max)
        return pl_json_bad(d, "%s'%s' exceeds %zu bytes", d->where, key, max);
    *dst = pl_strdup(d->a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int http_url(const char *s)
{
    return strncmp(s, "https://", 8) == 0 || strncmp(s, "http://", 7) == 0;
}

static int get_url(pl_json_dec *d, const cJSON *obj, const char *key, int required, char **dst)
{
    int rc = get_bounded(d, obj, key, required, PL_MAX_URL, dst);
    if (rc == PARLEY_OK && *dst && !http_url(*dst))
        return pl_json_bad(d, "%s'%s' is not an http(s) URL", d->where, key);
    return rc;
}

static int get_option_id(bctx *b, const cJSON *obj, char **dst)
{
    const cJSON *v = pl_json_member(obj, "id");
    if (!v || !cJSON_IsString(v) || !pl_id_valid(v->valuestring, PL_MAX_ID))
        return pl_json_bad(&b->d, "%s'id' missing or not an identifier", b->d.where);
    for (size_t i = 0; i < b->seen->n; i++)
        if (strcmp(b->seen->ids[i], v->valuestring) == 0)
            return pl_json_bad(&b->d, "option id '%s' repeated", v->valuestring);
    if (b->seen->n == sizeof b->seen->ids / sizeof b->seen->ids[0])
        return pl_json_bad(&b->d, "too many options");
    b->seen->ids[b->seen->n++] = v->valuestring;
    *dst = pl_strdup(b->d.a, v->valuestring);
    return *dst ? PARLEY_OK : PARLEY_ERR_NOMEM;
}

static int decode_option(bctx *b, const cJSON *o, int quick, struct parley_option *out)
{
    static const char *const actions[] = {"postback", "url"};
    if (!cJSON_IsObject(o))
        return pl_json_bad(&b->d, "an option is not an object");
    out->quick = quick;
    out->action = PARLEY_ACTION_POSTBACK;
    int rc = get_option_id(b, o, &out->id);
    if (!rc)
        rc = get_bounded(&b->d, o, "label", 1, PL_MAX_LABEL, &out->label);
    if (!rc && !quick && pl_json_member(o, "action"))
        rc = pl_json_get_enum(&b->d, o, "action", actions, 2, &out->action);
    if (!rc)
        rc = get_bounded(&b->d, o, "payload", 0, PL_MAX_PAYLOAD, &out->payload);
    if (!rc && out->action == PARLEY_ACTION_URL)
        rc = get_url(&b->d, o, "url", 1, &out->url);
    return rc;
}

/* An array member of min..max entries; NULL (OK) when absent and min 0. */
static int get_array(pl_json_dec *d, const cJSON *obj, const char *key, int min, int max, const cJSON **arr, int *n)
{
    const cJSON *v = pl_json_member(obj, key);
    *arr = NULL;
    *n = 0;
    if (!v && !min)
        return PARLEY_OK;
    if (!v || !cJSON_IsArray(v))
        return pl_json_bad(d, "'%s' missing or not an array", key);
    int count = cJSON_GetArraySize(v);
    if (count < min || count > max)
        return pl_json_bad(d, "'%s' has %d entries (%d ... %d allowed)", key, count, min, max);
    *arr = v;
    *n = count;
    return PARLEY_OK;
}

static int decode_options(bctx *b, const cJSON *blk, const char *key, int min, int quick, struct parley_block *out)
{
    const cJSON *arr;
    int n, rc = get_array(&b->d, blk, key, min, PL_MAX_OPTIONS, &arr, &n);
    if (rc || !n)
        return rc;
    if (!(out->opts = pl_calloc(b->d.a, (size_t)n, sizeof *out->opts)))
        return PARLEY_ERR_NOMEM;
    const cJSON *o = arr->child;
    for (int i = 0; i < n && !rc; i++, o = o->next) {
        rc = decode_option(b, o, quick, &out->opts[i]);
        out->n_opts = i + 1;
    }
    return rc;
}

static int decode_card(bctx *b, const cJSON *c, struct parley_block *out)
{
    if (!cJSON_IsObject(c))
        return pl_json_bad(&b->d, "a card is not an object");
    out->kind = PARLEY_BLOCK_CARD;
    int rc = get_bounded(&b->d, c, "title", 1, PL_MAX_TITLE, &out->title);
    if (!rc)
        rc = get_bounded(&b->d, c, "text", 0, PL_MAX_TEXT, &out->text);
    if (!rc)
        rc = get_url(&b->d, c, "image", 0, &out->image);
    return rc ? rc : decode_options(b, c, "buttons", 0, 0, out);
}

static int decode_carousel(bctx *b, const cJSON *blk, struct parley_block *out)
{
    const cJSON *arr;
    int n, rc = get_array(&b->d, blk, "cards", 1, PL_MAX_CARDS, &arr, &n);
    if (rc)
        return rc;
    if (!(out->cards = pl_calloc(b->d.a, (size_t)n, sizeof *out->cards)))
        return PARLEY_ERR_NOMEM;
    const cJSON *c = arr->child;
    for (int i = 0; i < n && !rc; i++, c = c->next) {
        rc = decode_card(b, c, &out->cards[i]);
        out->n_cards = i + 1;
    }
    return rc;
}

static int decode_block(bctx *b, const cJSON *blk, struct parley_block *out)
{
    static const char *const kinds[] = {"quick_replies", "buttons", "card", "carousel"};
    if (!cJSON_IsObject(blk))
        return pl_json_bad(&b->d, "not an object");
    const cJSON *k = pl_json_member(blk, "kind");
    if (!k || !cJSON_IsString(k))
        return pl_json_bad(&b->d, "'kind' missing");
    int kind = 0;
    for (int i = 0; i < 4; i++)
        if (strcmp(k->valuestring, kinds[i]) == 0)
            kind = i + 1;
    if (!kind)
        return pl_json_bad(&b->d, "unknown kind '%.32s'", k->valuestring);
    out->kind = kind;
    switch (kind) {
    case PARLEY_BLOCK_QUICK_REPLIES: return decode_options(b, blk, "options", 1, 1, out);
    case PARLEY_BLOCK_BUTTONS: return decode_options(b, blk, "buttons", 1, 0, out);
    case PARLEY_BLOCK_CARD: return decode_card(b, blk, out);
    default: return decode_carousel(b, blk, out);
    }
}

/* Notes the first problem of a message (later ones add a count). */
static void note_skip(char *err, size_t err_size, int *skipped, int index, const char *why)
{
    if (err && err_size && !*skipped)
        snprintf(err, err_size, "block %d skipped: %s", index, why);
    (*skipped)++;
}

/* Decodes the array `arr` into r->blocks, keeping the good blocks and
 * their JSON. */
static int decode_blocks(const pl_alloc *a, const cJSON *arr, pl_ev_rich *r, char *err, size_t err_size, int *skipped)
{
    int n = cJSON_GetArraySize(arr);
    int keep = n < PL_MAX_BLOCKS ? n : PL_MAX_BLOCKS;
    idset *seen = pl_calloc(a, 1, sizeof *seen);
    cJSON *json = cJSON_CreateArray();
    if (!seen || !json || (keep && !(r->blocks = pl_calloc(a, (size_t)keep, sizeof *r->blocks)))) {
        pl_free(a, seen);
        cJSON_Delete(json);
        return PARLEY_ERR_NOMEM;
    }
    int rc = PARLEY_OK, i = 0;
    for (const cJSON *blk = arr->child; blk && rc == PARLEY_OK; blk = blk->next, i++) {
        char why[160] = "";
        if (i >= PL_MAX_BLOCKS) {
            note_skip(err, err_size, skipped, i, "more than 10 blocks");
            continue;
        }
        bctx b = {{a, why, sizeof why, ""}, seen, seen->n};
        struct parley_block *out = &r->blocks[r->n_blocks];
        rc = decode_block(&b, blk, out);
        if (rc == PARLEY_OK) {
            cJSON *copy = cJSON_Duplicate(blk, 1);
            if (!copy || !cJSON_AddItemToArray(json, copy)) {
                cJSON_Delete(copy);
                rc = PARLEY_ERR_NOMEM;
            }
        }
        if (rc == PARLEY_OK) {
            r->n_blocks++;
            continue;
        }
        /* A rejected block's ids do not claim anything. */
        seen->n = b.seen_mark;
        block_clear(a, out);
        if (rc == PARLEY_ERR_PROTOCOL) {
            note_skip(err, err_size, skipped, i, why);
            rc = PARLEY_OK;
        }
    }
    pl_free(a, seen);
    if (rc == PARLEY_OK && r->n_blocks) {
        char *text = cJSON_PrintUnformatted(json);
        r->raw_json = text ? pl_strdup(a, text) : NULL;
        cJSON_free(text);
        if (!r->raw_json)
            rc = PARLEY_ERR_NOMEM;
    }
    cJSON_Delete(json);
    return rc;
}

/* Blocks of a message object into *out (NULL when none kept). */
static int blocks_of(const pl_alloc *a, const cJSON *msg, pl_ev_rich **out, char *err, size_t err_size)
{
    *out = NULL;
    if (err && err_size)
        err[0] = '\0';
    const cJSON *arr = pl_json_member(msg, "blocks");
    if (!arr)
        return PARLEY_OK;
    int skipped = 0;
    if (!cJSON_IsArray(arr)) {
        note_skip(err, err_size, &skipped, 0, "'blocks' is not an array");
        return PARLEY_OK;
    }
    pl_ev_rich *r = pl_ev_rich_new(a);
    if (!r)
        return PARLEY_ERR_NOMEM;
    int rc = decode_blocks(a, arr, r, err, err_size, &skipped);
    if (rc != PARLEY_OK || !r->n_blocks) {
        pl_ev_rich_free(a, r);
        r = NULL;
    }
    if (rc == PARLEY_OK && skipped > 1 && err && err_size) {
        size_t used = strlen(err);
        snprintf(err + used, err_size - used, " (and %d more)", skipped - 1);
    }
    *out = r;
    return rc;
}

int pl_proto_rich_msg_blocks(const pl_alloc *a, const pl_frame *f, pl_ev_rich **out, char *err, size_t err_size)
{
    return blocks_of(a, f->doc, out, err, err_size);
}

int pl_proto_rich_parse_blocks(const pl_alloc *a, const char *json, pl_ev_rich **out)
{
    *out = NULL;
    cJSON *arr = json ? cJSON_Parse(json) : NULL;
    if (!arr)
        return PARLEY_ERR_PROTOCOL;
    cJSON *wrap = cJSON_CreateObject();
    int rc = PARLEY_ERR_NOMEM;
    if (wrap && cJSON_IsArray(arr) && cJSON_AddItemReferenceToObject(wrap, "blocks", arr)) {
        char err[8];
        rc = blocks_of(a, wrap, out, err, sizeof err);
        if (rc == PARLEY_OK && (err[0] || !*out))
            rc = PARLEY_ERR_PROTOCOL;
    } else if (wrap && !cJSON_IsArray(arr)) {
        rc = PARLEY_ERR_PROTOCOL;
    }
    if (rc != PARLEY_OK) {
        pl_ev_rich_free(a, *out);
        *out = NULL;
    }
    cJSON_Delete(wrap);
    cJSON_Delete(arr);
    return rc;
}

void pl_proto_rich_queue(const pl_frame *f, int *pos, uint32_t *wait_s)
{
    *pos = -1;
    *wait_s = 0;
    const cJSON *q = pl_json_member(f->doc, "queue");
    if (!cJSON_IsObject(q))
        return;
    int64_t p = -1, w = 0;
    const cJSON *pv = pl_json_member(q, "position"), *wv = pl_json_member(q, "wait_s");
    if ((pv && !pl_json_integral_in(pv, 0, 2147483647.0, &p)) || (wv && !pl_json_integral_in(wv, 0, 4294967295.0, &w)))
        return;
    *pos = (int)p;
    *wait_s = (uint32_t)w;
}

/* ---- frames in ---------------------------------------------------------------- */

static const char *const authors[] = {"user", "bot", "agent", "system"};
static const int author_kinds[] = {PARLEY_AUTHOR_USER, PARLEY_AUTHOR_BOT, PARLEY_AUTHOR_AGENT, PARLEY_AUTHOR_SYSTEM};

/* Copies a string member into an event field. */
static int ev_string(pl_json_dec *d, parley_event *ev, char **field, const cJSON *obj, const char *key, int required)
{
    char *s = NULL;
    int rc = pl_json_get_string(d, obj, key, required, &s);
    if (rc == PARLEY_OK) {
        pl_free(&ev->alloc, *field);
        *field = s;
    }
    return rc;
}

static int ev_id(pl_json_dec *d, parley_event *ev, char **field, const cJSON *obj, const char *key, int required)
{
    char *s = NULL;
    int rc = pl_json_get_id(d, obj, key, required, &s);
    if (rc == PARLEY_OK) {
        pl_free(&ev->alloc, *field);
        *field = s;
    }
    return rc;
}

static int ev_seq(pl_json_dec *d, parley_event *ev, const cJSON *obj, const char *key, int required)
{
    const cJSON *v = pl_json_member(obj, key);
    uint64_t seq;
    if (!v && !required)
        return PARLEY_OK;
    if (!v || !cJSON_IsString(v) || !pl_json_parse_seq(v->valuestring, &seq))
        return pl_json_bad_member(d, key);
    return pl_event_set(ev, &ev->seq, v->valuestring);
}

static int ev_author(pl_json_dec *d, parley_event *ev, const cJSON *obj, int required)
{
    const cJSON *author = NULL;
    int kind = 0;
    int rc = pl_json_get_object(d, obj, "author", required, &author);
    if (rc || !author)
        return rc;
    d->where = "author.";
    rc = pl_json_get_enum(d, author, "kind", authors, 4, &kind);
    if (!rc) {
        ev->author_kind = author_kinds[kind - 1];
        rc = ev_string(d, ev, &ev->author_name, author, "name", 0);
    }
    d->where = "";
    return rc;
}

static int ev_rich(parley_event *ev)
{
    if (!ev->rich && !(ev->rich = pl_ev_rich_new(&ev->alloc)))
        return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}

static int get_count(pl_json_dec *d, const cJSON *obj, const char *key, uint32_t *out)
{
    int64_t v = 0;
    int rc = pl_json_get_integral(d, obj, key, 0, 4294967295.0, &v);
    *out = (uint32_t)v;
    return rc;
}

static int decode_typing(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    const cJSON *on = pl_json_member(root, "on");
    if (!cJSON_IsBool(on))
        return pl_json_bad_member(d, "on");
    ev->state = cJSON_IsTrue(on) ? PARLEY_TYPING_ON : PARLEY_TYPING_OFF;
    int rc = ev_id(d, ev, &ev->conv, root, "conv", 1);
    return rc ? rc : ev_author(d, ev, root, 0);
}

static int decode_read(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    int rc = ev_id(d, ev, &ev->conv, root, "conv", 1);
    return rc ? rc : ev_seq(d, ev, root, "seq", 1);
}

static int decode_unread(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    int rc = ev_id(d, ev, &ev->conv, root, "conv", 1);
    if (!rc && !pl_json_member(root, "count"))
        rc = pl_json_bad_member(d, "count");
    if (!rc)
        rc = ev_rich(ev);
    return rc ? rc : get_count(d, root, "count", &ev->rich->count);
}

/* The items array of an answer: an event per entry, decoded by fn. */
typedef int (*item_fn)(pl_json_dec *d, const cJSON *obj, parley_event *item);

static int decode_items(pl_json_dec *d, const cJSON *root, const char *key, int max, int type, item_fn fn,
                        parley_event *ev)
{
    const cJSON *arr;
    int n, rc = get_array(d, root, key, 0, max, &arr, &n);
    if (!rc && !arr)
        rc = pl_json_bad_member(d, key);
    if (!rc)
        rc = ev_rich(ev);
    if (rc || !n)
        return rc;
    if (!(ev->rich->items = pl_calloc(&ev->alloc, (size_t)n, sizeof *ev->rich->items)))
        return PARLEY_ERR_NOMEM;
    const cJSON *o = arr->child;
    for (int i = 0; i < n; i++, o = o->next) {
        parley_event *item = pl_event_new(&ev->alloc, type);
        if (!item)
            return PARLEY_ERR_NOMEM;
        ev->rich->items[ev->rich->n_items++] = item;
        if (!cJSON_IsObject(o))
            return pl_json_bad(d, "%s entry %d is not an object", key, i);
        rc = fn(d, o, item);
        if (rc)
            return rc;
    }
    return PARLEY_OK;
}

static int conv_state(pl_json_dec *d, const cJSON *obj, parley_event *item)
{
    static const char *const states[] = {"bot", "agent", "queued", "closed", "open"};
    if (!pl_json_member(obj, "state"))
        return PARLEY_OK;
    int st = 0;
    int rc = pl_json_get_enum(d, obj, "state", states, 5, &st);
    item->state = st + 1; /* PARLEY_CONV_BOT is 2 */
    return rc;
}

#define TS_LIMIT 9007199254740991.0

static int conv_item(pl_json_dec *d, const cJSON *o, parley_event *item)
{
    int rc = ev_id(d, item, &item->conv, o, "conv", 1);
    if (!rc)
        rc = conv_state(d, o, item);
    if (!rc)
        rc = ev_rich(item);
    if (!rc)
        rc = get_bounded(d, o, "subject", 0, PL_MAX_SUBJECT, &item->rich->title);
    if (!rc)
        rc = ev_seq(d, item, o, "last_seq", 0);
    if (!rc)
        rc = get_count(d, o, "unread", &item->rich->count);
    if (!rc)
        rc = pl_json_get_integral(d, o, "updated_ms", -TS_LIMIT, TS_LIMIT, &item->ts);
    return rc ? rc : ev_string(d, item, &item->text, o, "last_text", 0);
}

static int message_item(pl_json_dec *d, const cJSON *o, parley_event *item)
{
    int rc = ev_id(d, item, &item->id, o, "id", 1);
    if (!rc)
        rc = ev_seq(d, item, o, "seq", 1);
    if (!rc)
        rc = ev_author(d, item, o, 1);
    if (!rc)
        rc = ev_string(d, item, &item->text, o, "text", 1);
    if (!rc)
        rc = pl_json_get_integral(d, o, "ts", -TS_LIMIT, TS_LIMIT, &item->ts);
    if (rc)
        return rc;
    /* Broken blocks in an old message only cost that block. */
    char why[8];
    return blocks_of(d->a, o, &item->rich, why, sizeof why);
}

static int article_item(pl_json_dec *d, const cJSON *o, parley_event *item, const char *text_key, int text_required)
{
    int rc = ev_id(d, item, &item->id, o, "id", 1);
    if (!rc)
        rc = ev_rich(item);
    if (!rc)
        rc = get_bounded(d, o, "title", 1, PL_MAX_TITLE, &item->rich->title);
    if (!rc)
        rc = ev_string(d, item, &item->text, o, text_key, text_required);
    return rc ? rc : get_url(d, o, "url", 0, &item->rich->url);
}

static int search_item(pl_json_dec *d, const cJSON *o, parley_event *item)
{
    return article_item(d, o, item, "snippet", 0);
}

static int decode_conv_list(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    return decode_items(d, root, "conversations", PL_MAX_CONV_LIST, PARLEY_EV_CONVERSATION, conv_item, ev);
}

static int decode_history_page(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    const cJSON *more = pl_json_member(root, "more");
    if (more && !cJSON_IsBool(more))
        return pl_json_bad_member(d, "more");
    int rc = ev_id(d, ev, &ev->conv, root, "conv", 1);
    if (!rc)
        rc = decode_items(d, root, "messages", PL_MAX_PAGE, PARLEY_EV_MESSAGE, message_item, ev);
    if (rc)
        return rc;
    ev->rich->more = cJSON_IsTrue(more);
    for (int i = 0; i < ev->rich->n_items; i++)
        if (pl_event_set(ev->rich->items[i], &ev->rich->items[i]->conv, ev->conv) != PARLEY_OK)
            return PARLEY_ERR_NOMEM;
    return PARLEY_OK;
}

static int decode_kb_results(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    return decode_items(d, root, "articles", PL_MAX_ARTICLES, PARLEY_EV_ARTICLE, search_item, ev);
}

static int decode_kb_article(pl_json_dec *d, const cJSON *root, parley_event *ev)
{
    const cJSON *art = NULL;
    int rc = pl_json_get_object(d, root, "article", 1, &art);
    return rc ? rc : article_item(d, art, ev, "body", 1);
}

typedef int (*frame_fn)(pl_json_dec *d, const cJSON *root, parley_event *ev);

static const struct {
    const char *name;
    int type;
    int is_answer;
    frame_fn fn;
} rich_frames[] = {
    {"typing", PARLEY_EV_TYPING, 0, decode_typing},
    {"read", PARLEY_EV_READ, 0, decode_read},
    {"unread", PARLEY_EV_UNREAD, 0, decode_unread},
    {"conv.list", PARLEY_EV_CONVERSATIONS, 1, decode_conv_list},
    {"history.page", PARLEY_EV_HISTORY, 1, decode_history_page},
    {"kb.results", PARLEY_EV_ARTICLES, 1, decode_kb_results},
    {"kb.article", PARLEY_EV_ARTICLE, 1, decode_kb_article},
};

int pl_proto_rich_decode(const pl_alloc *a, const pl_frame *f, parley_event **ev, char *err, size_t err_size)
{
    *ev = NULL;
    if (err && err_size)
        err[0] = '\0';
    size_t i = 0, n = sizeof rich_frames / sizeof rich_frames[0];
    while (i < n && strcmp(rich_frames[i].name, f->type_name) != 0)
        i++;
    if (i == n || !f->doc)
        return PARLEY_OK;
    pl_json_dec d = {a, err, err_size, ""};
    parley_event *e = pl_event_new(a, rich_frames[i].type);
    if (!e)
        return PARLEY_ERR_NOMEM;
    int rc = PARLEY_OK;
    if (rich_frames[i].is_answer) {
        char *req = NULL;
        rc = pl_json_get_id(&d, f->doc, "req", 1, &req);
        if (!rc && !(rc = ev_rich(e)))
            e->rich->req = req;
        else
            pl_free(a, req);
    }
    if (!rc)
        rc = rich_frames[i].fn(&d, f->doc, e);
    if (rc) {
        parley_event_free(e);
        return rc;
    }
    *ev = e;
    return PARLEY_OK;
}

const char *pl_proto_rich_req(const pl_frame *f)
{
    const cJSON *v = f->doc ? pl_json_member(f->doc, "req") : NULL;
    return cJSON_IsString(v) && pl_id_valid(v->valuestring, PL_MAX_ID) ? v->valuestring : NULL;
}

int pl_proto_rich_seq(const char *s, uint64_t *out)
{
    return s && pl_json_parse_seq(s, out);
}

/* ---- frames out -------------------------------------------------------------- */

const char *pl_proto_rich_answer_type(pl_req_kind kind)
{
    switch (kind) {
    case PL_REQ_CONV_LIST: return "conv.list";
    case PL_REQ_HISTORY: return "history.page";
    case PL_REQ_SEARCH: return "kb.results";
    case PL_REQ_ARTICLE: return "kb.article";
    }
    return "";
}

static int add_request_args(cJSON *root, pl_req_kind kind, const pl_req_args *args)
{
    char seq[21];
    switch (kind) {
    case PL_REQ_CONV_LIST: return 1;
    case PL_REQ_HISTORY:
        if (args->before)
            pl_proto_seq_str(args->before, seq);
        return pl_json_add_str(root, "conv", args->conv) && (!args->before || pl_json_add_str(root, "before", seq)) &&
               (!args->limit || cJSON_AddNumberToObject(root, "limit", args->limit));
    case PL_REQ_SEARCH: return pl_json_add_str(root, "query", args->query);
    case PL_REQ_ARTICLE: return pl_json_add_str(root, "id", args->id);
    }
    return 0;
}

int pl_proto_encode_request(const pl_alloc *a, pl_req_kind kind, const char *req, const pl_req_args *args, char **out,
                         size_t *out_len)
{
    static const char *const types[] = {"conv.list", "history.page", "kb.search", "kb.get"};
    if (kind < PL_REQ_CONV_LIST || kind > PL_REQ_ARTICLE || !req || !args || !out ||
        (kind == PL_REQ_HISTORY && !args->conv) || (kind == PL_REQ_SEARCH && !args->query) ||
        (kind == PL_REQ_ARTICLE && !args->id))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame(types[kind - 1]);
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "req", req) && add_request_args(root, kind, args);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_typing(const pl_alloc *a, const char *conv, int on, char **out, size_t *out_len)
{
    if (!conv || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("typing");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "conv", conv) && cJSON_AddBoolToObject(root, "on", on != 0);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_read(const pl_alloc *a, const char *conv, uint64_t seq, char **out, size_t *out_len)
{
    if (!conv || !out || !seq)
        return PARLEY_ERR_INVALID_ARG;
    char s[21];
    pl_proto_seq_str(seq, s);
    cJSON *root = pl_json_new_frame("read");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "conv", conv) && pl_json_add_str(root, "seq", s);
    return pl_json_finish(a, root, ok, out, out_len);
}
