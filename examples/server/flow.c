#include "flow.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "cond.h"
#include "json.h"
#include "util.h"

#define MAX_RULES 64
#define MAX_WORDS 32
#define MAX_WORD 64
#define MAX_FAQ_INTRO 2048 /* leaves room for the article in a 4096-byte text */
#define MAX_QUERY 256
#define MAX_WAIT_S 86400
#define SUMMARY_MAX 600
#define NOTES_KEEP 20
#define NOTE_TEXT_MAX 500
/* What a msg frame adds around a node's text and blocks: ids, seq, author,
 * ts, keys. */
#define FRAME_OVERHEAD 1024

enum node_type { NODE_MESSAGE, NODE_FAQ, NODE_HANDOFF };

struct flow {
    cJSON *root;
    const cJSON *nodes;
    const char *bot_name, *start, *resume, *fallback;
    const cJSON *postbacks, *keywords;
    int wait;
    int greet_on_start;
    int64_t events_s, asked_s; /* how far back the rules' conditions look */
};

/* ---- loading ---- */

typedef struct loader {
    flow *f;
    kb *k;
    char *why;
    size_t cap;
    char where[96]; /* "node \"billing\"", prefixed to reasons */
} loader;

static int failf(loader *l, const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (l->where[0])
        snprintf(l->why, l->cap, "%s: %s", l->where, msg);
    else
        snprintf(l->why, l->cap, "%s", msg);
    return -1;
}

static int check_members(loader *l, const cJSON *obj, const char *const *allowed, size_t n)
{
    const cJSON *it;
    size_t i;

    cJSON_ArrayForEach(it, obj) {
        for (i = 0; i < n && strcmp(it->string, allowed[i]) != 0; i++)
            ;
        if (i == n)
            return failf(l, "unknown member \"%.64s\"", it->string);
    }
    return 0;
}

/* The string member `key` (min..max bytes of UTF-8), or NULL when absent;
 * *bad is set when present but wrong. */
static const char *get_str(loader *l, const cJSON *obj, const char *key, size_t min, size_t max,
                           int *bad)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t len;

    if (!v)
        return NULL;
    len = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    if (!cJSON_IsString(v) || len < min || len > max || !pj_utf8_valid(v->valuestring, len)) {
        failf(l, "%s must be a string of %zu to %zu bytes", key, min, max);
        *bad = 1;
        return NULL;
    }
    return v->valuestring;
}

static const cJSON *node_by_id(const flow *f, const char *id)
{
    return id ? cJSON_GetObjectItemCaseSensitive(f->nodes, id) : NULL;
}

static enum node_type type_of(const cJSON *node)
{
    const char *t = pj_string(node, "type");

    if (t && strcmp(t, "faq") == 0)
        return NODE_FAQ;
    if (t && strcmp(t, "handoff") == 0)
        return NODE_HANDOFF;
    return NODE_MESSAGE;
}

/* `v` must be a string naming a node. */
static int check_ref(loader *l, const cJSON *v, const char *what)
{
    if (!cJSON_IsString(v))
        return failf(l, "%s must be a node id", what);
    if (!node_by_id(l->f, v->valuestring))
        return failf(l, "%s names no node: \"%.64s\"", what, v->valuestring);
    return 0;
}

static int check_opt_ref(loader *l, const cJSON *obj, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return v ? check_ref(l, v, key) : 0;
}

static int check_postbacks(loader *l, const cJSON *map)
{
    const cJSON *it;
    size_t len;

    if (!map)
        return 0;
    if (!cJSON_IsObject(map))
        return failf(l, "postbacks must be an object: payload -> node id");
    cJSON_ArrayForEach(it, map) {
        len = strlen(it->string);
        if (len == 0 || len > BLOCKS_MAX_PAYLOAD)
            return failf(l, "postbacks: a payload must be 1 to 1024 bytes");
        if (check_ref(l, it, "postbacks"))
            return -1;
    }
    return 0;
}

static int check_words(loader *l, const cJSON *words)
{
    const cJSON *w;
    int n = cJSON_GetArraySize(words);

    if (!cJSON_IsArray(words) || n < 1 || n > MAX_WORDS)
        return failf(l, "keywords: \"any\" must be an array of 1 to %d words", MAX_WORDS);
    cJSON_ArrayForEach(w, words) {
        if (!cJSON_IsString(w) || !w->valuestring[0] || strlen(w->valuestring) > MAX_WORD ||
            !pj_utf8_valid(w->valuestring, strlen(w->valuestring)))
            return failf(l, "keywords: every word must be a string of 1 to %d bytes", MAX_WORD);
    }
    return 0;
}

/* A rule's condition on the user's context (docs/routing.md, "Conditions"). */
static int check_when(loader *l, const cJSON *when)
{
    jerr err;

    if (cond_check(when, &err))
        return failf(l, "keywords: when: %.64s%s%.160s",
                     err.at && err.at->string ? err.at->string : "",
                     err.at && err.at->string ? ": " : "", err.msg);
    cond_windows(when, &l->f->events_s, &l->f->asked_s);
    return 0;
}

static int check_keywords(loader *l, const cJSON *rules)
{
    static const char *const allowed[] = {"any", "next", "when"};
    const cJSON *r, *when;

    if (!rules)
        return 0;
    if (!cJSON_IsArray(rules) || cJSON_GetArraySize(rules) > MAX_RULES)
        return failf(l, "keywords must be an array of at most %d rules", MAX_RULES);
    cJSON_ArrayForEach(r, rules) {
        if (!cJSON_IsObject(r))
            return failf(l, "keywords: every rule must be an object {\"any\":[...],\"next\":...}");
        when = cJSON_GetObjectItemCaseSensitive(r, "when");
        /* A rule on the context alone needs no words. */
        if (check_members(l, r, allowed, 3) || (when && check_when(l, when)) ||
            ((!when || cJSON_GetObjectItemCaseSensitive(r, "any")) &&
             check_words(l, cJSON_GetObjectItemCaseSensitive(r, "any"))) ||
            check_ref(l, cJSON_GetObjectItemCaseSensitive(r, "next"), "keywords: next"))
            return -1;
    }
    return 0;
}

/* A node's message must fit in one msg frame. */
static int check_frame_size(loader *l, const char *text, const cJSON *blocks)
{
    char *json = blocks ? cJSON_PrintUnformatted(blocks) : NULL;
    size_t len = (json ? strlen(json) : 0) + (text ? 6 * strlen(text) : 0);

    if (blocks && !json)
        return failf(l, "out of memory");
    cJSON_free(json);
    if (len + FRAME_OVERHEAD > PJ_MAX_FRAME)
        return failf(l, "text and blocks do not fit in one frame");
    return 0;
}

/* Replaces the node's blocks by their checked copy. */
static int check_blocks(loader *l, cJSON *node, enum node_type type)
{
    cJSON *in = cJSON_GetObjectItemCaseSensitive(node, "blocks"), *out;
    char why[256];

    if (!in)
        return 0;
    out = blocks_normalize(in, why, sizeof why);
    if (!out)
        return failf(l, "blocks: %s", why);
    cJSON_ReplaceItemInObjectCaseSensitive(node, "blocks", out);
    if (type == NODE_FAQ && cJSON_GetArraySize(out) >= BLOCKS_MAX)
        return failf(l, "blocks: an faq node has room for %d blocks (its answer adds one)",
                     BLOCKS_MAX - 1);
    if (type == NODE_FAQ && blocks_has_id(out, FLOW_ARTICLE_BUTTON))
        return failf(l, "blocks: the id \"%s\" is reserved for the article button",
                     FLOW_ARTICLE_BUTTON);
    return 0;
}

static int no_article(void *ud, const kb_article *a)
{
    (void)ud;
    (void)a;
    return 0;
}

static int check_faq(loader *l, const cJSON *node)
{
    const char *article;
    int bad = 0;

    if (!get_str(l, node, "no_match", 1, BLOCKS_MAX_TEXT, &bad)) {
        return bad ? -1 : failf(l, "an faq node needs no_match (what to say without an answer)");
    }
    get_str(l, node, "text", 1, MAX_FAQ_INTRO, &bad);
    get_str(l, node, "query", 1, MAX_QUERY, &bad);
    article = get_str(l, node, "article", 1, KB_MAX_ID, &bad);
    if (bad)
        return -1;
    if (article && kb_get(l->k, article, no_article, NULL) != 1)
        return failf(l, "article \"%.64s\" is not in the knowledge base", article);
    return 0;
}

static int check_node_kind(loader *l, const cJSON *node, enum node_type type)
{
    static const char *const faq_only[] = {"no_match", "query", "article"};
    const char *t = pj_string(node, "type");
    size_t i;
    int bad = 0;

    if (cJSON_GetObjectItemCaseSensitive(node, "type") &&
        (!t || (strcmp(t, "message") != 0 && strcmp(t, "faq") != 0 && strcmp(t, "handoff") != 0)))
        return failf(l, "type must be \"message\", \"faq\" or \"handoff\"");
    if (type == NODE_FAQ)
        return check_faq(l, node);
    for (i = 0; i < sizeof faq_only / sizeof faq_only[0]; i++) {
        if (cJSON_GetObjectItemCaseSensitive(node, faq_only[i]))
            return failf(l, "%s is for faq nodes only", faq_only[i]);
    }
    if (!get_str(l, node, "text", 1, BLOCKS_MAX_TEXT, &bad))
        return bad ? -1 : failf(l, "text is required");
    return 0;
}

static int check_node(loader *l, cJSON *node)
{
    static const char *const allowed[] = {"type", "text",     "blocks", "postbacks", "keywords",
                                          "next", "no_match", "query",  "article",   "description"};
    enum node_type type = type_of(node);
    const char *text = pj_string(node, "text");
    size_t tlen = text ? strlen(text) : 0;

    snprintf(l->where, sizeof l->where, "node \"%.64s\"", node->string);
    if (!pj_is_ident(node->string))
        return failf(l, "a node id must be 1 to 128 printable ASCII bytes");
    if (!cJSON_IsObject(node))
        return failf(l, "must be an object");
    if (check_members(l, node, allowed, sizeof allowed / sizeof allowed[0]) ||
        check_node_kind(l, node, type) || check_blocks(l, node, type) ||
        check_postbacks(l, cJSON_GetObjectItemCaseSensitive(node, "postbacks")) ||
        check_keywords(l, cJSON_GetObjectItemCaseSensitive(node, "keywords")) ||
        check_opt_ref(l, node, "next"))
        return -1;
    if (type == NODE_FAQ && pj_string(node, "no_match") &&
        strlen(pj_string(node, "no_match")) > tlen)
        text = pj_string(node, "no_match");
    return check_frame_size(l, text, cJSON_GetObjectItemCaseSensitive(node, "blocks"));
}

/* A node the flow runs without user input must not need any. */
static int check_entry(loader *l, const char *key, const char *id)
{
    const cJSON *node = node_by_id(l->f, id);

    l->where[0] = '\0';
    if (id && !node)
        return failf(l, "%s names no node: \"%.64s\"", key, id);
    if (node && type_of(node) == NODE_FAQ && !pj_string(node, "query") &&
        !pj_string(node, "article"))
        return failf(l, "%s: an faq node without query or article cannot run on its own", key);
    return 0;
}

/* "greet" and "wait_per_position_s", with their defaults. */
static int check_options(loader *l)
{
    flow *f = l->f;
    const cJSON *wait = cJSON_GetObjectItemCaseSensitive(f->root, "wait_per_position_s");
    int bad = 0;
    const char *greet = get_str(l, f->root, "greet", 1, 16, &bad);

    if (bad)
        return -1;
    if (greet && strcmp(greet, "conv.start") != 0 && strcmp(greet, "first_message") != 0)
        return failf(l, "greet must be \"conv.start\" or \"first_message\"");
    f->greet_on_start = !greet || strcmp(greet, "conv.start") == 0;
    if (wait && (!cJSON_IsNumber(wait) || wait->valuedouble < 0 || wait->valuedouble > MAX_WAIT_S ||
                 wait->valuedouble != (double)(int)wait->valuedouble))
        return failf(l, "wait_per_position_s must be an integer of 0 to %d", MAX_WAIT_S);
    f->wait = wait ? (int)wait->valuedouble : 120;
    return 0;
}

static int check_top(loader *l)
{
    static const char *const allowed[] = {
        "bot",      "start",      "greet",    "resume",
        "fallback", "postbacks",  "keywords", "wait_per_position_s",
        "nodes",    "description"};
    flow *f = l->f;
    int bad = 0;

    if (check_members(l, f->root, allowed, sizeof allowed / sizeof allowed[0]))
        return -1;
    f->bot_name = get_str(l, f->root, "bot", 1, PJ_MAX_ID, &bad);
    f->start = get_str(l, f->root, "start", 1, PJ_MAX_ID, &bad);
    f->resume = get_str(l, f->root, "resume", 1, PJ_MAX_ID, &bad);
    f->fallback = get_str(l, f->root, "fallback", 1, PJ_MAX_ID, &bad);
    if (bad || check_options(l))
        return -1;
    if (!f->bot_name)
        f->bot_name = FLOW_BOT_NAME_DEFAULT;
    if (!f->start)
        return failf(l, "start (the greeting node's id) is required");
    f->nodes = cJSON_GetObjectItemCaseSensitive(f->root, "nodes");
    if (!cJSON_IsObject(f->nodes) || cJSON_GetArraySize(f->nodes) < 1 ||
        cJSON_GetArraySize(f->nodes) > FLOW_MAX_NODES)
        return failf(l, "nodes must be an object of 1 to %d nodes", FLOW_MAX_NODES);
    return 0;
}

static int check_flow(loader *l)
{
    flow *f = l->f;
    cJSON *node;

    if (!cJSON_IsObject(f->root))
        return failf(l, "the flow must be a JSON object");
    if (check_top(l))
        return -1;
    cJSON_ArrayForEach(node, (cJSON *)f->nodes) {
        if (check_node(l, node))
            return -1;
    }
    if (check_entry(l, "start", f->start) || check_entry(l, "resume", f->resume))
        return -1;
    if (f->fallback && !node_by_id(f, f->fallback))
        return failf(l, "fallback names no node: \"%.64s\"", f->fallback);
    f->postbacks = cJSON_GetObjectItemCaseSensitive(f->root, "postbacks");
    f->keywords = cJSON_GetObjectItemCaseSensitive(f->root, "keywords");
    return check_postbacks(l, f->postbacks) || check_keywords(l, f->keywords);
}

flow *flow_load(const char *path, kb *k, char *why, size_t cap)
{
    loader l;
    size_t len = 0;
    int too_large;
    char *text = util_read_file(path, FLOW_MAX_FILE, &len, &too_large);

    memset(&l, 0, sizeof l);
    l.why = why;
    l.cap = cap;
    l.k = k;
    if (!text) {
        snprintf(why, cap, "%s", too_large ? "file larger than 1 MB" : "cannot read the file");
        return NULL;
    }
    l.f = calloc(1, sizeof *l.f);
    if (l.f && !memchr(text, '\0', len))
        l.f->root = cJSON_ParseWithLength(text, len);
    free(text);
    if (!l.f || !l.f->root) {
        snprintf(why, cap, "%s", l.f ? "not valid JSON" : "out of memory");
        flow_free(l.f);
        return NULL;
    }
    if (check_flow(&l)) {
        flow_free(l.f);
        return NULL;
    }
    return l.f;
}

void flow_free(flow *f)
{
    if (!f)
        return;
    cJSON_Delete(f->root);
    free(f);
}

const char *flow_bot_name(const flow *f)
{
    return f->bot_name;
}

const char *flow_start(const flow *f)
{
    return f->start;
}

int flow_greets_on_start(const flow *f)
{
    return f->greet_on_start;
}

const char *flow_resume(const flow *f)
{
    return f->resume;
}

int flow_wait_per_position(const flow *f)
{
    return f->wait;
}

/* ---- routing ---- */

/* A rule matches when its condition (if any) holds for the user's context
 * and its words (if any) are in the text; only rules with a condition when
 * `context_only`. */
static int rule_matches(const cJSON *r, const flow_input *in, int context_only)
{
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(r, "when");
    const cJSON *any = cJSON_GetObjectItemCaseSensitive(r, "any"), *w;

    if (when ? !in->ctx || !cond_eval(when, in->ctx) : context_only)
        return 0;
    if (!any)
        return 1;
    cJSON_ArrayForEach(w, any) {
        if (cond_has_word(in->text, w->valuestring))
            return 1;
    }
    return 0;
}

static const char *match_keywords(const cJSON *rules, const flow_input *in, int context_only)
{
    const cJSON *r;

    cJSON_ArrayForEach(r, rules) {
        if (rule_matches(r, in, context_only))
            return pj_string(r, "next");
    }
    return NULL;
}

int flow_has_node(const flow *f, const char *id)
{
    return node_by_id(f, id) != NULL;
}

const char *flow_handoff_text(const flow *f)
{
    const cJSON *node;

    cJSON_ArrayForEach(node, f->nodes) {
        if (type_of(node) == NODE_HANDOFF)
            return pj_string(node, "text");
    }
    return FLOW_HANDOFF_TEXT_DEFAULT;
}

const char *flow_route_context(const flow *f, const flow_input *in)
{
    return in->text ? match_keywords(f->keywords, in, 1) : NULL;
}

void flow_windows(const flow *f, int64_t *events_s, int64_t *asked_s)
{
    *events_s = f->events_s;
    *asked_s = f->asked_s;
}

const char *flow_route(const flow *f, const char *current, const flow_input *in)
{
    const cJSON *node = node_by_id(f, current);
    const char *next = NULL;

    if (!node)
        node = node_by_id(f, f->start);
    if (in->postback && in->payload) {
        next = pj_string(cJSON_GetObjectItemCaseSensitive(node_by_id(f, in->origin), "postbacks"),
                         in->payload);
        if (!next)
            next = pj_string(cJSON_GetObjectItemCaseSensitive(node, "postbacks"), in->payload);
        if (!next)
            next = pj_string(f->postbacks, in->payload);
        if (next)
            return next;
    }
    /* A choice the flow has no rule for is read like the words of its label. */
    if (in->text)
        next = match_keywords(cJSON_GetObjectItemCaseSensitive(node, "keywords"), in, 0);
    if (!next && in->text)
        next = match_keywords(f->keywords, in, 0);
    if (!next)
        next = pj_string(node, "next");
    return next ? next : f->fallback;
}

/* ---- running a node ---- */

typedef struct faq_hit {
    int found;
    char id[KB_MAX_ID + 1];
    char title[KB_MAX_TITLE + 1];
    char summary[SUMMARY_MAX + 1];
    char url[BLOCKS_MAX_URL + 1];
} faq_hit;

static int take_hit(void *ud, const kb_article *a)
{
    faq_hit *h = ud;

    h->found = 1;
    snprintf(h->id, sizeof h->id, "%s", a->id);
    snprintf(h->title, sizeof h->title, "%s", a->title);
    kb_summary(a->body, h->summary, sizeof h->summary);
    snprintf(h->url, sizeof h->url, "%s", a->url ? a->url : "");
    return 1;
}

static int lookup(kb *k, const cJSON *node, const char *text, faq_hit *hit)
{
    const char *article = pj_string(node, "article"), *query = pj_string(node, "query");

    memset(hit, 0, sizeof *hit);
    if (article)
        return kb_get(k, article, take_hit, hit) < 0 ? -1 : 0;
    if (!query)
        query = text;
    if (!query)
        return 0;
    return kb_search(k, query, 1, take_hit, hit) < 0 ? -1 : 0;
}

static cJSON *article_button(const faq_hit *hit)
{
    cJSON *block = cJSON_CreateObject(), *b = cJSON_CreateObject(), *buttons = NULL;

    if (!block || !b || !cJSON_AddStringToObject(block, "kind", "buttons") ||
        !(buttons = cJSON_AddArrayToObject(block, "buttons")) ||
        !cJSON_AddItemToArray(buttons, b)) {
        cJSON_Delete(b);
        cJSON_Delete(block);
        return NULL;
    }
    if (!cJSON_AddStringToObject(b, "id", FLOW_ARTICLE_BUTTON) ||
        !cJSON_AddStringToObject(b, "label", "Read the article") ||
        !cJSON_AddStringToObject(b, "action", "url") ||
        !cJSON_AddStringToObject(b, "url", hit->url)) {
        cJSON_Delete(block);
        return NULL;
    }
    return block;
}

/* The node's blocks, after the article button when there is one. */
static int answer_blocks(const cJSON *node, const faq_hit *hit, flow_reply *out)
{
    const cJSON *own = cJSON_GetObjectItemCaseSensitive(node, "blocks");
    cJSON *all = hit && hit->url[0] ? cJSON_CreateArray() : NULL, *btn, *copy;

    if (!all) {
        if (hit && hit->url[0])
            return -1;
        out->blocks = own ? cJSON_PrintUnformatted(own) : NULL;
        return own && !out->blocks ? -1 : 0;
    }
    btn = article_button(hit);
    copy = own ? cJSON_Duplicate(own, 1) : NULL;
    if (!btn || !cJSON_AddItemToArray(all, btn) || (own && !copy)) {
        cJSON_Delete(copy);
        cJSON_Delete(all);
        return -1;
    }
    while (copy && copy->child)
        cJSON_AddItemToArray(all, cJSON_DetachItemViaPointer(copy, copy->child));
    cJSON_Delete(copy);
    out->blocks = cJSON_PrintUnformatted(all);
    cJSON_Delete(all);
    return out->blocks ? 0 : -1;
}

static int run_faq(kb *k, const cJSON *node, const char *text, flow_reply *out)
{
    const char *intro = pj_string(node, "text");
    faq_hit hit;
    size_t need;

    if (lookup(k, node, text, &hit))
        return -1;
    if (!hit.found) {
        out->text = strdup(pj_string(node, "no_match"));
        return out->text ? answer_blocks(node, NULL, out) : -1;
    }
    snprintf(out->article, sizeof out->article, "%s", hit.id);
    need = (intro ? strlen(intro) + 2 : 0) + strlen(hit.title) + strlen(hit.summary) + 2;
    out->text = malloc(need);
    if (!out->text)
        return -1;
    snprintf(out->text, need, "%s%s%s%s%s", intro ? intro : "", intro ? "\n\n" : "", hit.title,
             hit.summary[0] ? "\n" : "", hit.summary);
    return answer_blocks(node, &hit, out);
}

/* An faq node for the KB-first answer: the intro and the yes/no question. */
static cJSON *kb_node(const char *intro, const char *yes, const char *no)
{
    cJSON *node = cJSON_CreateObject(), *blocks = NULL, *qr = NULL, *options = NULL, *o = NULL;
    const char *labels[2] = {yes, no}, *ids[2] = {FLOW_KB_YES, FLOW_KB_NO};
    int ok = node && cJSON_AddStringToObject(node, "type", "faq") &&
             cJSON_AddStringToObject(node, "text", intro) &&
             cJSON_AddStringToObject(node, "no_match", "") &&
             (blocks = cJSON_AddArrayToObject(node, "blocks")) && (qr = cJSON_CreateObject()) &&
             cJSON_AddItemToArray(blocks, qr) &&
             cJSON_AddStringToObject(qr, "kind", "quick_replies") &&
             (options = cJSON_AddArrayToObject(qr, "options"));

    for (int i = 0; ok && i < 2; i++)
        ok = (o = cJSON_CreateObject()) && cJSON_AddItemToArray(options, o) &&
             cJSON_AddStringToObject(o, "id", ids[i]) &&
             cJSON_AddStringToObject(o, "label", labels[i]) &&
             cJSON_AddStringToObject(o, "payload", ids[i]);
    if (!ok) {
        cJSON_Delete(node);
        return NULL;
    }
    return node;
}

int flow_kb_answer(kb *k, const char *query, const char *intro, const char *ask, const char *yes,
                   const char *no, flow_reply *out)
{
    cJSON *node = kb_node(intro, yes, no);
    size_t len;
    char *text;
    int rc;

    memset(out, 0, sizeof *out);
    rc = node ? run_faq(k, node, query, out) : -1;
    cJSON_Delete(node);
    if (rc || !out->article[0])
        return rc ? -1 : 0;
    len = strlen(out->text) + strlen(ask) + 3;
    text = realloc(out->text, len);
    if (!text)
        return -1;
    out->text = text;
    snprintf(text + strlen(text), len - strlen(text), "\n\n%s", ask);
    return 1;
}

int flow_run(const flow *f, kb *k, const char *node_id, const char *text, flow_reply *out)
{
    const cJSON *node = node_by_id(f, node_id);

    memset(out, 0, sizeof *out);
    if (!node)
        return -1;
    out->node = node->string;
    switch (type_of(node)) {
    case NODE_FAQ: return run_faq(k, node, text, out);
    case NODE_HANDOFF: out->handoff = 1; break;
    case NODE_MESSAGE: break;
    }
    out->text = strdup(pj_string(node, "text"));
    return out->text ? answer_blocks(node, NULL, out) : -1;
}

void flow_reply_clear(flow_reply *r)
{
    free(r->text);
    cJSON_free(r->blocks);
    memset(r, 0, sizeof *r);
}

/* ---- bot notes ---- */

/* Appends `s` (cut to NOTE_TEXT_MAX bytes on a UTF-8 boundary) to the array
 * `key` of `notes`, keeping the newest NOTES_KEEP entries. */
static int note_push(cJSON *notes, const char *key, const char *s)
{
    cJSON *arr = cJSON_GetObjectItemCaseSensitive(notes, key), *v;
    char buf[NOTE_TEXT_MAX + 1];
    size_t len = strlen(s);

    if (!arr && !(arr = cJSON_AddArrayToObject(notes, key)))
        return -1;
    if (len > NOTE_TEXT_MAX) {
        len = NOTE_TEXT_MAX;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    v = cJSON_CreateString(buf);
    if (!v || !cJSON_AddItemToArray(arr, v)) {
        cJSON_Delete(v);
        return -1;
    }
    while (cJSON_GetArraySize(arr) > NOTES_KEEP)
        cJSON_DeleteItemFromArray(arr, 0);
    return 0;
}

static int has_string(const cJSON *arr, const char *s)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, arr) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, s) == 0)
            return 1;
    }
    return 0;
}

int flow_note(cJSON **notes, const flow_input *in, const flow_reply *r)
{
    if (!*notes && !(*notes = cJSON_CreateObject()))
        return -1;
    if (in && in->text && note_push(*notes, in->postback ? "choices" : "questions", in->text))
        return -1;
    if (r->node && note_push(*notes, "path", r->node))
        return -1;
    if (r->article[0] &&
        !has_string(cJSON_GetObjectItemCaseSensitive(*notes, "articles"), r->article))
        return note_push(*notes, "articles", r->article);
    return 0;
}
