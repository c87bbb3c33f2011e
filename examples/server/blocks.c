#include "blocks.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "json.h"

/* Every option and button id of one message: 10 carousels of 10 cards of
 * 13 buttons at most. */
#define MAX_IDS (BLOCKS_MAX * BLOCKS_MAX_CARDS * BLOCKS_MAX_OPTIONS)

typedef struct checker {
    char *why;
    size_t cap;
    char where[64]; /* "block 2 (buttons)", prefixed to every reason */
    const char *ids[MAX_IDS];
    size_t nids;
} checker;

static int failf(checker *ck, const char *fmt, ...)
{
    char msg[160];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    snprintf(ck->why, ck->cap, "%s: %s", ck->where, msg);
    return -1;
}

static int oom(checker *ck)
{
    snprintf(ck->why, ck->cap, "out of memory");
    return -1;
}

/* The string member `key` of `src`, checked (min..max bytes of UTF-8) and
 * copied to `dst`; absent is fine unless `required`. */
static int copy_str(checker *ck, cJSON *dst, const cJSON *src, const char *key, int required,
                    size_t min, size_t max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(src, key);
    size_t len;

    if (!v)
        return required ? failf(ck, "%s is required", key) : 0;
    if (!cJSON_IsString(v))
        return failf(ck, "%s must be a string", key);
    len = strlen(v->valuestring);
    if (len < min || len > max)
        return failf(ck, "%s must be %zu to %zu bytes", key, min, max);
    if (!pj_utf8_valid(v->valuestring, len))
        return failf(ck, "%s is not UTF-8", key);
    return cJSON_AddStringToObject(dst, key, v->valuestring) ? 0 : oom(ck);
}

/* http or https, and nothing a client would have to escape or trim. */
static int copy_url(checker *ck, cJSON *dst, const cJSON *src, const char *key, int required)
{
    const char *url = pj_string(src, key);
    size_t i;

    if (copy_str(ck, dst, src, key, required, 1, BLOCKS_MAX_URL))
        return -1;
    if (!url)
        return 0;
    if (strncasecmp(url, "http://", 7) != 0 && strncasecmp(url, "https://", 8) != 0)
        return failf(ck, "%s must be an http or https URL", key);
    for (i = 0; url[i]; i++) {
        if ((unsigned char)url[i] <= 0x20 || url[i] == 0x7f)
            return failf(ck, "%s must not contain spaces or control characters", key);
    }
    return 0;
}

static int copy_id(checker *ck, cJSON *dst, const cJSON *src)
{
    const char *id = pj_string(src, "id");

    if (!pj_is_ident(id))
        return failf(ck, "id must be an identifier (1 to 128 printable ASCII bytes)");
    if (ck->nids == MAX_IDS)
        return failf(ck, "too many ids");
    ck->ids[ck->nids++] = id;
    return cJSON_AddStringToObject(dst, "id", id) ? 0 : oom(ck);
}

/* The array member `key` of `src` with min..max object elements. */
static const cJSON *get_list(checker *ck, const cJSON *src, const char *key, int min, int max)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(src, key), *it;
    int n;

    if (!arr && min == 0)
        return NULL;
    if (!cJSON_IsArray(arr)) {
        failf(ck, "%s must be an array", key);
        return NULL;
    }
    n = cJSON_GetArraySize(arr);
    if (n < min || n > max) {
        failf(ck, "%s must hold %d to %d entries, not %d", key, min, max, n);
        return NULL;
    }
    cJSON_ArrayForEach(it, arr) {
        if (!cJSON_IsObject(it)) {
            failf(ck, "every entry of %s must be an object", key);
            return NULL;
        }
    }
    return arr;
}

static int copy_option(checker *ck, cJSON *dst, const cJSON *src)
{
    return copy_id(ck, dst, src) || copy_str(ck, dst, src, "label", 1, 1, BLOCKS_MAX_LABEL) ||
           copy_str(ck, dst, src, "payload", 0, 1, BLOCKS_MAX_PAYLOAD);
}

static int copy_button(checker *ck, cJSON *dst, const cJSON *src)
{
    const cJSON *action = cJSON_GetObjectItemCaseSensitive(src, "action");
    int url;

    if (copy_id(ck, dst, src) || copy_str(ck, dst, src, "label", 1, 1, BLOCKS_MAX_LABEL))
        return -1;
    if (action && !cJSON_IsString(action))
        return failf(ck, "action must be a string");
    url = action && strcmp(action->valuestring, "url") == 0;
    if (action && !url && strcmp(action->valuestring, "postback") != 0)
        return failf(ck, "action must be \"postback\" or \"url\"");
    if (!cJSON_AddStringToObject(dst, "action", url ? "url" : "postback"))
        return oom(ck);
    return url ? copy_url(ck, dst, src, "url", 1)
               : copy_str(ck, dst, src, "payload", 0, 1, BLOCKS_MAX_PAYLOAD);
}

typedef int (*copy_fn)(checker *ck, cJSON *dst, const cJSON *src);

/* Copies the list `key` of `src` (min..max objects) into `dst`, each entry
 * through `fn`. An absent optional list stays absent. */
static int copy_list(checker *ck, cJSON *dst, const cJSON *src, const char *key, int min, int max,
                     copy_fn fn)
{
    const cJSON *list = get_list(ck, src, key, min, max), *it;
    cJSON *out, *entry;

    if (!list)
        return min == 0 && !cJSON_GetObjectItemCaseSensitive(src, key) ? 0 : -1;
    out = cJSON_AddArrayToObject(dst, key);
    if (!out)
        return oom(ck);
    cJSON_ArrayForEach(it, list) {
        entry = cJSON_CreateObject();
        if (!entry || !cJSON_AddItemToArray(out, entry)) {
            cJSON_Delete(entry);
            return oom(ck);
        }
        if (fn(ck, entry, it))
            return -1;
    }
    return 0;
}

static int copy_card(checker *ck, cJSON *dst, const cJSON *src)
{
    return copy_str(ck, dst, src, "title", 1, 1, BLOCKS_MAX_TITLE) ||
           copy_str(ck, dst, src, "text", 0, 0, BLOCKS_MAX_TEXT) ||
           copy_url(ck, dst, src, "image", 0) ||
           copy_list(ck, dst, src, "buttons", 0, BLOCKS_MAX_OPTIONS, copy_button);
}

static int copy_block(checker *ck, cJSON *dst, const cJSON *src, int index)
{
    const char *kind = pj_string(src, "kind");

    snprintf(ck->where, sizeof ck->where, "block %d", index + 1);
    if (!cJSON_IsObject(src))
        return failf(ck, "must be an object");
    if (!kind)
        return failf(ck, "kind must be a string");
    snprintf(ck->where, sizeof ck->where, "block %d (%.24s)", index + 1, kind);
    if (!cJSON_AddStringToObject(dst, "kind", kind))
        return oom(ck);
    if (strcmp(kind, "quick_replies") == 0)
        return copy_list(ck, dst, src, "options", 1, BLOCKS_MAX_OPTIONS, copy_option);
    if (strcmp(kind, "buttons") == 0)
        return copy_list(ck, dst, src, "buttons", 1, BLOCKS_MAX_OPTIONS, copy_button);
    if (strcmp(kind, "card") == 0)
        return copy_card(ck, dst, src);
    if (strcmp(kind, "carousel") == 0)
        return copy_list(ck, dst, src, "cards", 1, BLOCKS_MAX_CARDS, copy_card);
    return failf(ck, "unknown kind");
}

static int cmp_ids(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static int check_unique(checker *ck)
{
    size_t i;

    qsort(ck->ids, ck->nids, sizeof ck->ids[0], cmp_ids);
    for (i = 1; i < ck->nids; i++) {
        if (strcmp(ck->ids[i - 1], ck->ids[i]) == 0) {
            snprintf(ck->why, ck->cap, "id \"%.64s\" is used twice", ck->ids[i]);
            return -1;
        }
    }
    return 0;
}

cJSON *blocks_normalize(const cJSON *in, char *why, size_t cap)
{
    checker *ck;
    cJSON *out, *block;
    const cJSON *it;
    int i = 0, rc = 0;

    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) > BLOCKS_MAX) {
        snprintf(why, cap, "blocks must be an array of at most %d blocks", BLOCKS_MAX);
        return NULL;
    }
    ck = calloc(1, sizeof *ck);
    out = cJSON_CreateArray();
    if (!ck || !out) {
        snprintf(why, cap, "out of memory");
        free(ck);
        cJSON_Delete(out);
        return NULL;
    }
    ck->why = why;
    ck->cap = cap;
    cJSON_ArrayForEach(it, in) {
        block = cJSON_CreateObject();
        if (!block || !cJSON_AddItemToArray(out, block)) {
            cJSON_Delete(block);
            rc = oom(ck);
        } else
            rc = copy_block(ck, block, it, i++);
        if (rc)
            break;
    }
    if (rc == 0)
        rc = check_unique(ck);
    free(ck);
    if (rc == 0)
        return out;
    cJSON_Delete(out);
    return NULL;
}

/* ---- lookups in checked blocks ---- */

typedef struct finder {
    const char *id;
    int postback_only;
    const cJSON *found;
} finder;

static int find_in(finder *f, const cJSON *list)
{
    const cJSON *it;
    const char *action;

    cJSON_ArrayForEach(it, list) {
        if (strcmp(pj_string(it, "id") ? pj_string(it, "id") : "", f->id) != 0)
            continue;
        action = pj_string(it, "action");
        if (!f->postback_only || !action || strcmp(action, "postback") == 0)
            f->found = it;
        return 1;
    }
    return 0;
}

static int find_in_cards(finder *f, const cJSON *cards)
{
    const cJSON *card;

    cJSON_ArrayForEach(card, cards) {
        if (find_in(f, cJSON_GetObjectItemCaseSensitive(card, "buttons")))
            return 1;
    }
    return 0;
}

/* Ids are unique within a message, so the first one with the id is it. */
static void find(finder *f, const cJSON *blocks)
{
    const cJSON *b;

    cJSON_ArrayForEach(b, blocks) {
        if (find_in(f, cJSON_GetObjectItemCaseSensitive(b, "options")) ||
            find_in(f, cJSON_GetObjectItemCaseSensitive(b, "buttons")) ||
            find_in_cards(f, cJSON_GetObjectItemCaseSensitive(b, "cards")))
            return;
    }
}

int blocks_find_postback(const cJSON *blocks, const char *id, const char **label,
                         const char **payload)
{
    finder f = {id, 1, NULL};

    find(&f, blocks);
    if (!f.found)
        return 0;
    *label = pj_string(f.found, "label");
    *payload = pj_string(f.found, "payload");
    return *label != NULL;
}

int blocks_has_id(const cJSON *blocks, const char *id)
{
    finder f = {id, 0, NULL};

    find(&f, blocks);
    return f.found != NULL;
}
