/* Codec for structured content (docs/protocol.md, "Structured content"):
 * a message's "blocks" into the model's pl_content, keeping the blocks
 * that follow the rules and describing the ones it leaves out. */
#include "codec/proto_blocks.h"

#include <stdio.h>
#include <string.h>

#include "codec/json.h"
#include "util/utf8.h"

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
        rc = pl_json_get_bounded(&b->d, o, "label", 1, PL_MAX_LABEL, &out->label);
    if (!rc && !quick && pl_json_member(o, "action"))
        rc = pl_json_get_enum(&b->d, o, "action", actions, 2, &out->action);
    if (!rc)
        rc = pl_json_get_bounded(&b->d, o, "payload", 0, PL_MAX_PAYLOAD, &out->payload);
    if (!rc && out->action == PARLEY_ACTION_URL)
        rc = pl_json_get_url(&b->d, o, "url", 1, &out->url);
    return rc;
}

static int decode_options(bctx *b, const cJSON *blk, const char *key, int min, int quick,
                          struct parley_block *out)
{
    const cJSON *arr;
    int n, rc = pl_json_get_array(&b->d, blk, key, min, PL_MAX_OPTIONS, &arr, &n);
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
    int rc = pl_json_get_bounded(&b->d, c, "title", 1, PL_MAX_TITLE, &out->title);
    if (!rc)
        rc = pl_json_get_bounded(&b->d, c, "text", 0, PL_MAX_TEXT, &out->text);
    if (!rc)
        rc = pl_json_get_url(&b->d, c, "image", 0, &out->image);
    return rc ? rc : decode_options(b, c, "buttons", 0, 0, out);
}

static int decode_carousel(bctx *b, const cJSON *blk, struct parley_block *out)
{
    const cJSON *arr;
    int n, rc = pl_json_get_array(&b->d, blk, "cards", 1, PL_MAX_CARDS, &arr, &n);
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

/* Block `i` of the message into the next free slot of r->blocks, with a
 * copy of its JSON in `json`; a block that breaks the rules is cleared, its
 * ids given back, and noted. PARLEY_OK (kept or skipped) or NOMEM. */
static int decode_one(const pl_alloc *a, const cJSON *blk, int i, idset *seen, pl_content *r,
                      cJSON *json, char *err, size_t err_size, int *skipped)
{
    char why[160] = "";
    bctx b = {{a, why, sizeof why, ""}, seen, seen->n};
    struct parley_block *out = &r->blocks[r->n_blocks];
    int rc = decode_block(&b, blk, out);
    if (rc == PARLEY_OK) {
        cJSON *copy = cJSON_Duplicate(blk, 1);
        if (!copy || !cJSON_AddItemToArray(json, copy)) {
            cJSON_Delete(copy);
            rc = PARLEY_ERR_NOMEM;
        }
    }
    if (rc == PARLEY_OK) {
        r->n_blocks++;
        return PARLEY_OK;
    }
    /* A rejected block's ids do not claim anything. */
    seen->n = b.seen_mark;
    pl_block_clear(a, out);
    if (rc != PARLEY_ERR_PROTOCOL)
        return rc;
    note_skip(err, err_size, skipped, i, why);
    return PARLEY_OK;
}

/* Decodes the array `arr` into r->blocks, keeping the good blocks and
 * their JSON. */
static int decode_blocks(const pl_alloc *a, const cJSON *arr, pl_content *r, char *err,
                         size_t err_size, int *skipped)
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
        if (i >= PL_MAX_BLOCKS)
            note_skip(err, err_size, skipped, i, "more than 10 blocks");
        else
            rc = decode_one(a, blk, i, seen, r, json, err, err_size, skipped);
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

int pl_proto_content_of(const pl_alloc *a, const void *obj, pl_content **out, char *err,
                        size_t err_size)
{
    const cJSON *msg = obj;
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
    pl_content *r = pl_content_new(a);
    if (!r)
        return PARLEY_ERR_NOMEM;
    int rc = decode_blocks(a, arr, r, err, err_size, &skipped);
    if (rc != PARLEY_OK || !r->n_blocks) {
        pl_content_free(a, r);
        r = NULL;
    }
    if (rc == PARLEY_OK && skipped > 1 && err && err_size) {
        size_t used = strlen(err);
        snprintf(err + used, err_size - used, " (and %d more)", skipped - 1);
    }
    *out = r;
    return rc;
}

int pl_proto_msg_content(const pl_alloc *a, const pl_frame *f, pl_content **out, char *err,
                         size_t err_size)
{
    return pl_proto_content_of(a, f->doc, out, err, err_size);
}

int pl_proto_parse_content(const pl_alloc *a, const char *json, pl_content **out)
{
    *out = NULL;
    cJSON *arr = json ? cJSON_Parse(json) : NULL;
    if (!arr)
        return PARLEY_ERR_PROTOCOL;
    cJSON *wrap = cJSON_CreateObject();
    int rc = PARLEY_ERR_NOMEM;
    if (wrap && cJSON_IsArray(arr) && cJSON_AddItemReferenceToObject(wrap, "blocks", arr)) {
        char err[8];
        rc = pl_proto_content_of(a, wrap, out, err, sizeof err);
        if (rc == PARLEY_OK && (err[0] || !*out))
            rc = PARLEY_ERR_PROTOCOL;
    } else if (wrap && !cJSON_IsArray(arr)) {
        rc = PARLEY_ERR_PROTOCOL;
    }
    if (rc != PARLEY_OK) {
        pl_content_free(a, *out);
        *out = NULL;
    }
    cJSON_Delete(wrap);
    cJSON_Delete(arr);
    return rc;
}
