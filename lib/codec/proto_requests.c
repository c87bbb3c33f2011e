/* Codec for requests and their answers (docs/protocol.md, "Requests",
 * "Answers to requests"). */
#include "codec/proto_requests.h"

#include <string.h>

#include "codec/json.h"
#include "codec/proto_attach.h"
#include "codec/proto_blocks.h"

/* ---- answers ------------------------------------------------------------------- */

typedef int (*item_fn)(pl_json_dec *d, const cJSON *obj, pl_item *item);

static int decode_items(pl_json_dec *d, const cJSON *root, const char *key, int max, item_fn fn,
                        pl_answer *out)
{
    const cJSON *arr;
    int n, rc = pl_json_get_array(d, root, key, 0, max, &arr, &n);
    if (!rc && !arr)
        rc = pl_json_bad_member(d, key);
    if (rc || !n)
        return rc;
    if (!(out->items = pl_calloc(d->a, (size_t)n, sizeof *out->items)))
        return PARLEY_ERR_NOMEM;
    const cJSON *o = arr->child;
    for (int i = 0; i < n; i++, o = o->next) {
        out->n_items++;
        if (!cJSON_IsObject(o))
            return pl_json_bad(d, "%s entry %d is not an object", key, i);
        if ((rc = fn(d, o, &out->items[i])))
            return rc;
    }
    return PARLEY_OK;
}

static int conv_state(pl_json_dec *d, const cJSON *obj, pl_item *item)
{
    static const char *const states[] = {"bot", "agent", "queued", "closed", "open"};
    if (!pl_json_member(obj, "state"))
        return PARLEY_OK;
    int st = 0;
    int rc = pl_json_get_enum(d, obj, "state", states, 5, &st);
    item->state = st + 1; /* PARLEY_CONV_BOT is 2 */
    return rc;
}

static int conv_item(pl_json_dec *d, const cJSON *o, pl_item *item)
{
    int rc = pl_json_get_id(d, o, "conv", 1, &item->conv);
    if (!rc)
        rc = conv_state(d, o, item);
    if (!rc)
        rc = pl_json_get_bounded(d, o, "subject", 0, PL_MAX_SUBJECT, &item->title);
    if (!rc)
        rc = pl_json_get_seq_str(d, o, "last_seq", 0, &item->seq);
    if (!rc)
        rc = pl_json_get_count(d, o, "unread", &item->count);
    if (!rc)
        rc = pl_json_get_integral(d, o, "updated_ms", -PL_JSON_TS_LIMIT, PL_JSON_TS_LIMIT,
                                  &item->ts);
    return rc ? rc : pl_json_get_string(d, o, "last_text", 0, &item->text);
}

static int message_item(pl_json_dec *d, const cJSON *o, pl_item *item)
{
    int rc = pl_json_get_id(d, o, "id", 1, &item->id);
    if (!rc)
        rc = pl_json_get_seq_str(d, o, "seq", 1, &item->seq);
    if (!rc)
        rc = pl_json_get_author(d, o, 1, &item->author_kind, &item->author_name);
    if (!rc)
        rc = pl_json_get_string(d, o, "text", 1, &item->text);
    if (!rc)
        rc = pl_json_get_integral(d, o, "ts", -PL_JSON_TS_LIMIT, PL_JSON_TS_LIMIT, &item->ts);
    if (rc)
        return rc;
    /* Broken blocks or a broken attachment in an old message only cost
     * that part. */
    char why[8];
    rc = pl_proto_content_of(d->a, o, &item->content, why, sizeof why);
    return rc ? rc : pl_proto_attachment_of(d->a, o, &item->attachment, why, sizeof why);
}

static int article_item(pl_json_dec *d, const cJSON *o, pl_item *item, const char *text_key,
                        int text_required)
{
    int rc = pl_json_get_id(d, o, "id", 1, &item->id);
    if (!rc)
        rc = pl_json_get_bounded(d, o, "title", 1, PL_MAX_TITLE, &item->title);
    if (!rc)
        rc = pl_json_get_string(d, o, text_key, text_required, &item->text);
    return rc ? rc : pl_json_get_url(d, o, "url", 0, &item->url);
}

static int search_item(pl_json_dec *d, const cJSON *o, pl_item *item)
{
    return article_item(d, o, item, "snippet", 0);
}

static int conv_list(pl_json_dec *d, const cJSON *root, pl_answer *out)
{
    return decode_items(d, root, "conversations", PL_MAX_CONV_LIST, conv_item, out);
}

static int history_page(pl_json_dec *d, const cJSON *root, pl_answer *out)
{
    const cJSON *more = pl_json_member(root, "more");
    if (more && !cJSON_IsBool(more))
        return pl_json_bad_member(d, "more");
    int rc = pl_json_get_id(d, root, "conv", 1, &out->conv);
    if (!rc)
        rc = decode_items(d, root, "messages", PL_MAX_PAGE, message_item, out);
    out->more = cJSON_IsTrue(more);
    return rc;
}

static int kb_results(pl_json_dec *d, const cJSON *root, pl_answer *out)
{
    return decode_items(d, root, "articles", PL_MAX_ARTICLES, search_item, out);
}

static int kb_article(pl_json_dec *d, const cJSON *root, pl_answer *out)
{
    const cJSON *art = NULL;
    int rc = pl_json_get_object(d, root, "article", 1, &art);
    return rc ? rc : article_item(d, art, &out->article, "body", 1);
}

typedef int (*answer_fn)(pl_json_dec *d, const cJSON *root, pl_answer *out);

/* Indexed by pl_req_kind. */
static const struct {
    const char *request, *answer;
    answer_fn fn;
} kinds[] = {
    [PL_REQ_CONV_LIST] = {"conv.list", "conv.list", conv_list},
    [PL_REQ_HISTORY] = {"history.page", "history.page", history_page},
    [PL_REQ_SEARCH] = {"kb.search", "kb.results", kb_results},
    [PL_REQ_ARTICLE] = {"kb.get", "kb.article", kb_article},
};

pl_req_kind pl_proto_answer_kind(const char *type_name)
{
    for (int k = PL_REQ_CONV_LIST; k <= PL_REQ_ARTICLE; k++)
        if (strcmp(kinds[k].answer, type_name) == 0)
            return (pl_req_kind)k;
    return 0;
}

const char *pl_proto_answer_type(pl_req_kind kind)
{
    return kind >= PL_REQ_CONV_LIST && kind <= PL_REQ_ARTICLE ? kinds[kind].answer : "";
}

int pl_proto_decode_answer(const pl_alloc *a, const pl_frame *f, pl_answer *out, char *err,
                           size_t err_size)
{
    memset(out, 0, sizeof *out);
    if (err && err_size)
        err[0] = '\0';
    pl_req_kind kind = pl_proto_answer_kind(f->type_name);
    if (!kind || !f->doc)
        return PARLEY_ERR_INVALID_ARG;
    pl_json_dec d = {a, err, err_size, ""};
    out->kind = kind;
    int rc = pl_json_get_id(&d, f->doc, "req", 1, &out->req);
    if (!rc)
        rc = kinds[kind].fn(&d, f->doc, out);
    if (rc)
        pl_answer_clear(a, out);
    return rc;
}

/* ---- requests ------------------------------------------------------------------- */

static int add_request_args(cJSON *root, pl_req_kind kind, const pl_req_args *args)
{
    char seq[21];
    switch (kind) {
    case PL_REQ_CONV_LIST: return 1;
    case PL_REQ_HISTORY:
        if (args->before)
            pl_proto_seq_str(args->before, seq);
        return pl_json_add_str(root, "conv", args->conv) &&
               (!args->before || pl_json_add_str(root, "before", seq)) &&
               (!args->limit || cJSON_AddNumberToObject(root, "limit", args->limit));
    case PL_REQ_SEARCH: return pl_json_add_str(root, "query", args->query);
    case PL_REQ_ARTICLE: return pl_json_add_str(root, "id", args->id);
    }
    return 0;
}

int pl_proto_encode_request(const pl_alloc *a, pl_req_kind kind, const char *req,
                            const pl_req_args *args, char **out, size_t *out_len)
{
    if (kind < PL_REQ_CONV_LIST || kind > PL_REQ_ARTICLE || !req || !args || !out ||
        (kind == PL_REQ_HISTORY && !args->conv) || (kind == PL_REQ_SEARCH && !args->query) ||
        (kind == PL_REQ_ARTICLE && !args->id))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame(kinds[kind].request);
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "req", req) && add_request_args(root, kind, args);
    return pl_json_finish(a, root, ok, out, out_len);
}

/* ---- local history records ------------------------------------------------------- */

/* A copy of `obj` without the members that belong to a frame, printed. */
static int print_record(const pl_alloc *a, const cJSON *obj, char **out, size_t *len)
{
    cJSON *copy = cJSON_Duplicate(obj, 1);
    if (!copy)
        return PARLEY_ERR_NOMEM;
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "t");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "conv");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "context");
    cJSON_DeleteItemFromObjectCaseSensitive(copy, "cid");
    return pl_json_finish(a, copy, 1, out, len);
}

int pl_proto_record_of_msg(const pl_alloc *a, const pl_frame *f, char **out, size_t *len)
{
    if (f->doc)
        return print_record(a, f->doc, out, len);
    if (!f->raw)
        return PARLEY_ERR_INVALID_ARG;
    /* A frame read in place (pl_proto_decode): the tree is built only now,
     * for the clients that keep a local history. */
    pl_json_dec d = {a, NULL, 0, ""};
    cJSON *doc = NULL;
    int rc = pl_json_parse(&d, f->raw, f->raw_len, &doc);
    if (rc == PARLEY_OK)
        rc = print_record(a, doc, out, len);
    cJSON_Delete(doc);
    return rc;
}

int pl_proto_record_of_sent(const pl_alloc *a, const char *frame, size_t flen, const char *id,
                            uint64_t seq, int64_t ts, char **out, size_t *len)
{
    cJSON *sent = cJSON_ParseWithLength(frame, flen), *rec = NULL, *author = NULL;
    const cJSON *text = pl_json_member(sent, "text");
    char seqs[21];
    pl_proto_seq_str(seq, seqs);
    if (!cJSON_IsString(text)) {
        cJSON_Delete(sent);
        return sent ? PARLEY_ERR_INVALID_ARG : PARLEY_ERR_NOMEM;
    }
    int ok = (rec = cJSON_CreateObject()) && pl_json_add_str(rec, "id", id) &&
             pl_json_add_str(rec, "seq", seqs) &&
             (author = cJSON_AddObjectToObject(rec, "author")) &&
             pl_json_add_str(author, "kind", "user") &&
             pl_json_add_str(rec, "text", text->valuestring) &&
             cJSON_AddNumberToObject(rec, "ts", (double)ts);
    cJSON_Delete(sent);
    if (!rec)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(a, rec, ok, out, len);
}

int pl_proto_page_records(const pl_alloc *a, const pl_frame *f, pl_record_fn fn, void *user)
{
    const cJSON *conv = pl_json_member(f->doc, "conv");
    const cJSON *msgs = pl_json_member(f->doc, "messages"), *m;
    if (!cJSON_IsString(conv) || !cJSON_IsArray(msgs))
        return PARLEY_OK;
    cJSON_ArrayForEach(m, msgs) {
        const cJSON *seq = pl_json_member(m, "seq");
        uint64_t n;
        char *rec = NULL;
        size_t len = 0;
        if (!cJSON_IsObject(m) || !cJSON_IsString(seq) || !pl_json_parse_seq(seq->valuestring, &n))
            continue;
        int rc = print_record(a, m, &rec, &len);
        if (rc == PARLEY_OK)
            rc = fn(user, conv->valuestring, n, rec, len);
        pl_free(a, rec);
        if (rc != PARLEY_OK)
            return rc;
    }
    return PARLEY_OK;
}

int pl_proto_decode_record(const pl_alloc *a, const char *rec, size_t len, pl_item *out)
{
    memset(out, 0, sizeof *out);
    char why[96];
    pl_json_dec d = {a, why, sizeof why, ""};
    cJSON *root = NULL;
    int rc = pl_json_parse(&d, rec, len, &root);
    if (rc == PARLEY_OK)
        rc = cJSON_IsObject(root) ? message_item(&d, root, out) : PARLEY_ERR_PROTOCOL;
    cJSON_Delete(root);
    if (rc != PARLEY_OK)
        pl_item_clear(a, out);
    return rc;
}
