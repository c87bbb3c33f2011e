/* The envelope of every frame and the session engine's own frames
 * (docs/protocol.md, "Frames the client sends", "Frames the server sends"). */
#include "codec/proto_frames.h"

#include <string.h>

#include "codec/json.h"
#include "util/utf8.h"

/* history.end's "last" may be "0" (nothing after a request from the start). */
static int get_last(pl_json_dec *d, const cJSON *obj, uint64_t *dst)
{
    const cJSON *v = pl_json_member(obj, "last");
    if (v && cJSON_IsString(v) && strcmp(v->valuestring, "0") == 0) {
        *dst = 0;
        return PARLEY_OK;
    }
    if (!v || !cJSON_IsString(v) || !pl_json_parse_seq(v->valuestring, dst))
        return pl_json_bad_member(d, "last");
    return PARLEY_OK;
}

static int decode_welcome(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    const cJSON *limits = NULL;
    int64_t max_frame = 0, max_text = 0, max_attachment = 0;
    int rc = pl_json_ref_id(d, root, "session", 1, &f->session);
    if (!rc)
        rc = pl_json_ref_id(d, root, "anon_secret", 0, &f->anon_secret);
    if (!rc)
        rc = pl_json_get_object(d, root, "limits", 0, &limits);
    if (rc || !limits)
        return rc;
    d->where = "limits.";
    rc = pl_json_get_integral(d, limits, "max_frame", 1, UINT32_MAX, &max_frame);
    if (!rc)
        rc = pl_json_get_integral(d, limits, "max_text", 1, UINT32_MAX, &max_text);
    if (!rc)
        rc = pl_json_get_integral(d, limits, "max_attachment", 1, 9007199254740991.0,
                                  &max_attachment);
    f->max_frame = (uint32_t)max_frame;
    f->max_text = (uint32_t)max_text;
    f->max_attachment = (uint64_t)max_attachment;
    return rc;
}

static int decode_conv_ack(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_ref_id(d, root, "cid", 1, &f->cid);
    return rc ? rc : pl_json_ref_id(d, root, "conv", 1, &f->conv);
}

static int decode_msg_ack(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = decode_conv_ack(d, root, f);
    if (!rc)
        rc = pl_json_ref_id(d, root, "id", 1, &f->id);
    return rc ? rc : pl_json_get_seq(d, root, &f->seq);
}

static int decode_author(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    static const char *const kinds[] = {"user", "bot", "agent", "system"};
    const cJSON *author = NULL;
    int kind = 0;
    int rc = pl_json_get_object(d, root, "author", 1, &author);
    if (rc)
        return rc;
    d->where = "author.";
    rc = pl_json_get_enum(d, author, "kind", kinds, sizeof kinds / sizeof *kinds, &kind);
    f->author_kind = (pl_author_kind)kind;
    if (!rc)
        rc = pl_json_ref_string(d, author, "name", 0, &f->author_name);
    d->where = "";
    return rc;
}

static int decode_msg(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_ref_id(d, root, "conv", 1, &f->conv);
    if (!rc)
        rc = pl_json_ref_id(d, root, "id", 1, &f->id);
    if (!rc)
        rc = pl_json_get_seq(d, root, &f->seq);
    if (!rc)
        rc = decode_author(d, root, f);
    if (!rc)
        rc = pl_json_ref_string(d, root, "text", 1, &f->text);
    return rc ? rc
              : pl_json_get_integral(d, root, "ts", -PL_JSON_TS_LIMIT, PL_JSON_TS_LIMIT, &f->ts);
}

/* conv.update's queue: read leniently, a bad one is as good as none. */
static void decode_queue(const cJSON *root, pl_frame *f)
{
    f->queue_pos = -1;
    f->wait_s = 0;
    const cJSON *q = pl_json_member(root, "queue");
    if (!cJSON_IsObject(q))
        return;
    int64_t p = -1, w = 0;
    const cJSON *pv = pl_json_member(q, "position"), *wv = pl_json_member(q, "wait_s");
    if ((pv && !pl_json_integral_in(pv, 0, 2147483647.0, &p)) ||
        (wv && !pl_json_integral_in(wv, 0, 4294967295.0, &w)))
        return;
    f->queue_pos = (int)p;
    f->wait_s = (uint32_t)w;
}

static int decode_conv_update(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    static const char *const states[] = {"bot", "agent", "queued", "closed", "open"};
    const cJSON *agent = NULL;
    int state = 0;
    decode_queue(root, f);
    int rc = pl_json_ref_id(d, root, "conv", 1, &f->conv);
    if (!rc)
        rc = pl_json_get_enum(d, root, "state", states, sizeof states / sizeof *states, &state);
    f->conv_state = (pl_conv_state)state;
    if (!rc)
        rc = pl_json_get_object(d, root, "agent", 0, &agent);
    if (rc || !agent)
        return rc;
    d->where = "agent.";
    return pl_json_ref_string(d, agent, "name", 0, &f->author_name);
}

static int decode_error(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_ref_string(d, root, "code", 1, &f->code);
    if (!rc && f->code[0] == '\0')
        rc = pl_json_bad_member(d, "code");
    if (!rc)
        rc = pl_json_ref_string(d, root, "message", 0, &f->message);
    if (!rc)
        rc = pl_json_ref_id(d, root, "req", 0, &f->req);
    return rc ? rc : pl_json_ref_id(d, root, "cid", 0, &f->cid);
}

static int decode_ack(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    return pl_json_ref_id(d, root, "cid", 1, &f->cid);
}

#define RECONNECT_MAX_MS 3600000

static int decode_goaway(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    const cJSON *v = pl_json_member(root, "reconnect_ms");
    if (v) {
        /* Clamped, not rejected: a server asking for "later" is still
         * obeyed as far as we allow. The negated test also catches NaN. */
        if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
            return pl_json_bad_member(d, "reconnect_ms");
        double ms = v->valuedouble;
        f->reconnect_ms = ms >= RECONNECT_MAX_MS ? RECONNECT_MAX_MS : (uint32_t)ms;
    }
    return pl_json_ref_string(d, root, "reason", 0, &f->message);
}

static int decode_history_end(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    int rc = pl_json_ref_id(d, root, "conv", 1, &f->conv);
    if (!rc)
        rc = get_last(d, root, &f->seq);
    if (rc)
        return rc;
    const cJSON *more = pl_json_member(root, "more");
    if (more && !cJSON_IsBool(more))
        return pl_json_bad_member(d, "more");
    f->more = more && cJSON_IsTrue(more);
    return PARLEY_OK;
}

typedef int (*decode_fn)(pl_json_dec *, const cJSON *, pl_frame *);

static const struct {
    const char *name;
    pl_frame_type type;
    decode_fn fn;
} frame_types[] = {
    {"welcome", PL_FRAME_WELCOME, decode_welcome},
    {"conv.ack", PL_FRAME_CONV_ACK, decode_conv_ack},
    {"msg.ack", PL_FRAME_MSG_ACK, decode_msg_ack},
    {"msg", PL_FRAME_MSG, decode_msg},
    {"conv.update", PL_FRAME_CONV_UPDATE, decode_conv_update},
    {"error", PL_FRAME_ERROR, decode_error},
    {"goaway", PL_FRAME_GOAWAY, decode_goaway},
    {"history.end", PL_FRAME_HISTORY_END, decode_history_end},
    {"ack", PL_FRAME_ACK, decode_ack},
};

static int decode_root(pl_json_dec *d, const cJSON *root, pl_frame *f)
{
    if (!cJSON_IsObject(root))
        return pl_json_bad(d, "frame is not an object");
    const cJSON *t = pl_json_member(root, "t");
    if (!t || !cJSON_IsString(t))
        return pl_json_bad_member(d, "t");
    size_t n = strlen(t->valuestring);
    if (n == 0 || n > PL_MAX_TYPE)
        return pl_json_bad_member(d, "t");
    memcpy(f->type_name, t->valuestring, n + 1);
    f->type = PL_FRAME_UNKNOWN;
    for (size_t i = 0; i < sizeof frame_types / sizeof *frame_types; i++)
        if (strcmp(frame_types[i].name, f->type_name) == 0) {
            f->type = frame_types[i].type;
            return frame_types[i].fn(d, root, f);
        }
    return PARLEY_OK;
}

/* ---- msg and msg.ack read in place ------------------------------------------ */

/* The members these frames may have, in the order of enum flat_key; any
 * other (blocks, an attachment, a context...) is for the modules' readers,
 * which need the tree. */
enum flat_key { K_T, K_CONV, K_ID, K_SEQ, K_CID, K_AUTHOR, K_TEXT, K_TS, K_COUNT };
static const char *const flat_keys[K_COUNT] = {"t",   "conv",   "id",   "seq",
                                               "cid", "author", "text", "ts"};

#define FLAT_MAX 8

/* Files each member under its key (slot[k], NULL when absent). 0 when a
 * member is not one of the frame's or is a string longer than the full
 * parse allows; objects are checked by their reader. */
static int flat_slots(const pl_json_flat_member *m, int n, pl_frame_type type,
                      const pl_json_flat_member **slot)
{
    memset(slot, 0, K_COUNT * sizeof *slot);
    for (int i = 0; i < n; i++) {
        int k = 0;
        while (k < K_COUNT && !pl_json_flat_is(&m[i], flat_keys[k]))
            k++;
        if (k == K_COUNT || (m[i].kind == 's' && m[i].val_len > PL_MAX_STRING))
            return 0;
        int ack_only = k == K_CID, msg_only = k >= K_AUTHOR;
        if ((type == PL_FRAME_MSG && ack_only) || (type == PL_FRAME_MSG_ACK && msg_only))
            return 0;
        slot[k] = &m[i];
    }
    return 1;
}

static const pl_json_flat_member *flat_get(const pl_json_flat_member *m, int n, const char *key)
{
    for (int i = 0; i < n; i++)
        if (pl_json_flat_is(&m[i], key))
            return &m[i];
    return NULL;
}

static const char *flat_id(const pl_json_flat_member *m, char **arena)
{
    if (!m || m->kind != 's')
        return NULL;
    const char *v = pl_json_flat_str(m, arena);
    return pl_id_valid(v, PL_MAX_ID) ? v : NULL;
}

static int flat_seq(const pl_json_flat_member *m, char **arena, uint64_t *seq)
{
    return m && m->kind == 's' && pl_json_parse_seq(pl_json_flat_str(m, arena), seq);
}

/* An integral ts without fraction or exponent, |ts| < 2^53 (the full
 * parse reads the others). Absent: 0. */
static int flat_ts(const pl_json_flat_member *m, int64_t *ts)
{
    if (!m)
        return 1;
    if (m->kind != 'n')
        return 0;
    const char *p = m->val, *end = m->val + m->val_len;
    p += *p == '-';
    if (end - p > 16 || p == end)
        return 0;
    uint64_t v = 0;
    for (; p < end; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        v = v * 10 + (uint64_t)(*p - '0');
    }
    if (v > 9007199254740991ull)
        return 0;
    *ts = *m->val == '-' ? -(int64_t)v : (int64_t)v;
    return 1;
}

static int flat_author(const pl_json_flat_member *m, char **arena, pl_frame *f)
{
    static const char *const kinds[] = {"user", "bot", "agent", "system"};
    pl_json_flat_member am[4];
    int n = m && m->kind == '{' ? pl_json_flat(m->val, m->val_len, am, 4) : -1;
    const pl_json_flat_member *kind = flat_get(am, n, "kind"), *name = flat_get(am, n, "name");
    for (int i = 0; i < n; i++)
        if (am[i].kind == '{' || am[i].key_len > PL_MAX_STRING ||
            (am[i].kind == 's' && am[i].val_len > PL_MAX_STRING))
            return 0;
    if (!kind || kind->kind != 's' || (name && name->kind != 's'))
        return 0;
    const char *k = pl_json_flat_str(kind, arena);
    for (int i = 0; i < 4; i++)
        if (strcmp(k, kinds[i]) == 0)
            f->author_kind = (pl_author_kind)(i + 1);
    f->author_name = name ? pl_json_flat_str(name, arena) : NULL;
    return f->author_kind != 0;
}

static int flat_fields(const pl_json_flat_member **slot, char **arena, pl_frame *f)
{
    f->conv = flat_id(slot[K_CONV], arena);
    f->id = flat_id(slot[K_ID], arena);
    if (!f->conv || !f->id || !flat_seq(slot[K_SEQ], arena, &f->seq))
        return 0;
    if (f->type == PL_FRAME_MSG_ACK)
        return (f->cid = flat_id(slot[K_CID], arena)) != NULL;
    const pl_json_flat_member *text = slot[K_TEXT];
    if (!text || text->kind != 's' || !flat_author(slot[K_AUTHOR], arena, f) ||
        !flat_ts(slot[K_TS], &f->ts))
        return 0;
    f->text = pl_json_flat_str(text, arena);
    return 1;
}

/* The two frames nearly every inbound message is, read from the checked
 * text without building a tree: one allocation per frame instead of one
 * per member. 1 when decoded; 0 when the frame is anything else or unusual
 * in any way (the full parse then decides, with its reasons); NOMEM. */
static int decode_flat(const pl_alloc *a, const char *buf, size_t len, pl_frame *f)
{
    pl_json_flat_member m[FLAT_MAX];
    const pl_json_flat_member *slot[K_COUNT];
    int n = pl_json_flat(buf, len, m, FLAT_MAX);
    const pl_json_flat_member *t = flat_get(m, n, "t");
    if (!t || t->kind != 's' || t->escaped)
        return 0;
    if (t->val_len == 3 && memcmp(t->val, "msg", 3) == 0)
        f->type = PL_FRAME_MSG;
    else if (t->val_len == 7 && memcmp(t->val, "msg.ack", 7) == 0)
        f->type = PL_FRAME_MSG_ACK;
    else
        return 0;
    if (!flat_slots(m, n, f->type, slot))
        return 0;
    /* The text itself (for readers that want the tree after all), then
     * the decoded strings, which are never longer than the text. */
    char *arena = pl_malloc(a, 2 * len + 2);
    if (!arena)
        return PARLEY_ERR_NOMEM;
    memcpy(arena, buf, len);
    arena[len] = '\0';
    f->raw = arena;
    f->raw_len = len;
    f->arena = arena;
    memcpy(f->type_name, t->val, t->val_len);
    char *next = arena + len + 1;
    if (flat_fields(slot, &next, f))
        return 1;
    pl_proto_frame_clear(a, f);
    return 0;
}

int pl_proto_decode(const pl_alloc *a, const char *buf, size_t len, pl_frame *out, char *err,
                    size_t err_size)
{
    pl_json_dec d = {a, err, err_size, ""};
    memset(out, 0, sizeof *out);
    if (err && err_size)
        err[0] = '\0';
    if (len > PL_MAX_FRAME)
        return pl_json_bad(&d, "frame exceeds %d bytes", PL_MAX_FRAME);
    if (!buf) {
        if (len)
            return pl_json_bad(&d, "no buffer");
        buf = "";
    }
    const char *doc_end;
    int rc = pl_json_check(&d, buf, len, &doc_end);
    if (!rc)
        rc = decode_flat(a, buf, len, out);
    if (rc)
        return rc < 0 ? rc : PARLEY_OK;
    cJSON *root = NULL;
    rc = pl_json_parse_checked(&d, buf, len, doc_end, &root);
    if (!rc)
        rc = decode_root(&d, root, out);
    if (rc) {
        cJSON_Delete(root);
        pl_proto_frame_clear(a, out);
        return rc;
    }
    out->doc = root;
    return PARLEY_OK;
}

void pl_proto_frame_clear(const pl_alloc *a, pl_frame *f)
{
    if (!f)
        return;
    cJSON_Delete((cJSON *)f->doc);
    pl_free(a, f->arena);
    memset(f, 0, sizeof *f);
}

static int add_sdk(cJSON *root, const pl_hello *h)
{
    cJSON *sdk = cJSON_AddObjectToObject(root, "sdk");
    return sdk && pl_json_add_str(sdk, "name", "parley-c") &&
           pl_json_add_str(sdk, "version", h->sdk_version) &&
           pl_json_add_str(sdk, "platform", h->platform);
}

static int add_user(cJSON *root, const pl_hello *h)
{
    cJSON *user = cJSON_AddObjectToObject(root, "user");
    if (!user)
        return 0;
    if (!h->user_id)
        return pl_json_add_str(user, "anon", h->anon_id);
    /* The anonymous id lets the server merge what the user did before
     * logging in; the proof (the secret the server issued to it) is what
     * allows the merge. */
    return pl_json_add_str(user, "id", h->user_id) &&
           pl_json_add_opt_str(user, "token", h->token) &&
           pl_json_add_opt_str(user, "anon", h->anon_id) &&
           pl_json_add_opt_str(user, "proof", h->anon_id ? h->anon_proof : NULL);
}

static int add_resume(cJSON *root, const pl_hello *h)
{
    if (!h->session && h->n_cursors == 0)
        return 1;
    cJSON *resume = cJSON_AddObjectToObject(root, "resume");
    if (!resume || !pl_json_add_opt_str(resume, "session", h->session))
        return 0;
    if (h->n_cursors == 0)
        return 1;
    cJSON *cursors = cJSON_AddObjectToObject(resume, "cursors");
    if (!cursors)
        return 0;
    for (size_t i = 0; i < h->n_cursors; i++) {
        char seq[21];
        pl_proto_seq_str(h->cursors[i].seq, seq);
        cJSON_DeleteItemFromObjectCaseSensitive(cursors, h->cursors[i].conv);
        if (!pl_json_add_str(cursors, h->cursors[i].conv, seq))
            return 0;
    }
    return 1;
}

static int hello_ok(const pl_hello *h)
{
    if (!h->app || !h->sdk_version || !h->platform || (!h->user_id && !h->anon_id))
        return 0;
    if (h->n_cursors && !h->cursors)
        return 0;
    for (size_t i = 0; i < h->n_cursors; i++)
        if (!h->cursors[i].conv)
            return 0;
    return 1;
}

int pl_proto_encode_hello(const pl_alloc *a, const pl_hello *h, char **out, size_t *out_len)
{
    if (!h || !out || !hello_ok(h))
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("hello");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = cJSON_AddNumberToObject(root, "v", 1) && pl_json_add_str(root, "app", h->app) &&
             add_sdk(root, h) && add_user(root, h) && add_resume(root, h);
    return pl_json_finish(a, root, ok, out, out_len);
}

/* "context": the snapshot text, already encoded by pl_proto_encode_snapshot. */
static int add_snapshot(cJSON *obj, const char *context)
{
    return !context || cJSON_AddRawToObject(obj, "context", context) != NULL;
}

static int add_about(cJSON *root, const pl_conv_about *about)
{
    if (!about || (!about->category && !about->area && !about->severity))
        return 1;
    cJSON *o = cJSON_AddObjectToObject(root, "about");
    return o && pl_json_add_opt_str(o, "category", about->category) &&
           pl_json_add_opt_str(o, "area", about->area) &&
           pl_json_add_opt_str(o, "severity", about->severity);
}

int pl_proto_encode_conv_start(const pl_alloc *a, const char *cid, const char *conv,
                               const char *subject, const pl_conv_about *about, const char *context,
                               char **out, size_t *out_len)
{
    if (!cid || !conv || !out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("conv.start");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "conv", conv) &&
             pl_json_add_opt_str(root, "subject", subject) && add_about(root, about) &&
             add_snapshot(root, context);
    return pl_json_finish(a, root, ok, out, out_len);
}

static int add_postback(cJSON *root, const pl_postback *pb)
{
    if (!pb)
        return 1;
    cJSON *o = cJSON_AddObjectToObject(root, "postback");
    return o && pl_json_add_str(o, "msg", pb->msg) && pl_json_add_str(o, "option", pb->option) &&
           pl_json_add_opt_str(o, "payload", pb->payload);
}

/* A msg.send without a postback, the frame of every message typed, written
 * straight into its buffer: the same bytes cJSON would print, without the
 * tree, the print buffer and the copy. */
static int encode_plain_msg_send(const pl_alloc *a, const char *cid, const char *conv,
                                 const char *text, const char *context, char **out, size_t *out_len)
{
    static const char head[] = "{\"t\":\"msg.send\",\"cid\":", conv_key[] = ",\"conv\":",
                      text_key[] = ",\"text\":", ctx_key[] = ",\"context\":";
    size_t tlen = strlen(text), clen = context ? strlen(context) : 0;
    if (!pl_utf8_valid(text, tlen) || (context && !pl_utf8_valid(context, clen)) ||
        !pl_utf8_valid(cid, strlen(cid)) || !pl_utf8_valid(conv, strlen(conv)))
        return PARLEY_ERR_INVALID_ARG;
    size_t n = sizeof head - 1 + pl_json_str_size(cid) + sizeof conv_key - 1 +
               pl_json_str_size(conv) + sizeof text_key - 1 + pl_json_str_size(text) +
               (context ? sizeof ctx_key - 1 + clen : 0) + 1;
    char *buf = pl_malloc(a, n + 1), *o = buf;
    if (!buf)
        return PARLEY_ERR_NOMEM;
    memcpy(o, head, sizeof head - 1);
    o = pl_json_put_str(o + sizeof head - 1, cid);
    memcpy(o, conv_key, sizeof conv_key - 1);
    o = pl_json_put_str(o + sizeof conv_key - 1, conv);
    memcpy(o, text_key, sizeof text_key - 1);
    o = pl_json_put_str(o + sizeof text_key - 1, text);
    if (context) {
        memcpy(o, ctx_key, sizeof ctx_key - 1);
        memcpy(o + sizeof ctx_key - 1, context, clen);
        o += sizeof ctx_key - 1 + clen;
    }
    *o++ = '}';
    *o = '\0';
    *out = buf;
    if (out_len)
        *out_len = (size_t)(o - buf);
    return PARLEY_OK;
}

int pl_proto_encode_msg_send(const pl_alloc *a, const char *cid, const char *conv, const char *text,
                             const char *context, const pl_postback *pb, char **out,
                             size_t *out_len)
{
    if (!cid || !conv || !text || !out || (pb && (!pb->msg || !pb->option)))
        return PARLEY_ERR_INVALID_ARG;
    if (!pb)
        return encode_plain_msg_send(a, cid, conv, text, context, out, out_len);
    cJSON *root = pl_json_new_frame("msg.send");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "cid", cid) && pl_json_add_str(root, "conv", conv) &&
             pl_json_add_str(root, "text", text) && add_postback(root, pb) &&
             add_snapshot(root, context);
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_history_get(const pl_alloc *a, const char *conv, uint64_t after, uint32_t limit,
                                char **out, size_t *out_len)
{
    if (!conv || !out || after > PL_SEQ_MAX || limit > PL_MAX_HISTORY_LIMIT)
        return PARLEY_ERR_INVALID_ARG;
    char seq[21];
    pl_proto_seq_str(after, seq);
    cJSON *root = pl_json_new_frame("history.get");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "conv", conv) && pl_json_add_str(root, "after", seq) &&
             (!limit || cJSON_AddNumberToObject(root, "limit", limit));
    return pl_json_finish(a, root, ok, out, out_len);
}

int pl_proto_encode_bye(const pl_alloc *a, char **out, size_t *out_len)
{
    if (!out)
        return PARLEY_ERR_INVALID_ARG;
    cJSON *root = pl_json_new_frame("bye");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(a, root, 1, out, out_len);
}

int pl_proto_frame_without(const pl_alloc *a, const char *frame, size_t len, const char *key,
                           char **out, size_t *out_len)
{
    if (!frame || !key || !out)
        return PARLEY_ERR_INVALID_ARG;
    /* Our frames are valid JSON (the journal checksums them), so a failed
     * parse is taken as out of memory. */
    cJSON *root = cJSON_ParseWithLength(frame, len);
    if (!cJSON_IsObject(root)) {
        int rc = root ? PARLEY_ERR_INVALID_ARG : PARLEY_ERR_NOMEM;
        cJSON_Delete(root);
        return rc;
    }
    cJSON *member = cJSON_DetachItemFromObjectCaseSensitive(root, key);
    if (!member) {
        cJSON_Delete(root);
        return PARLEY_ERR_NOT_FOUND;
    }
    cJSON_Delete(member);
    return pl_json_finish(a, root, 1, out, out_len);
}

const char *pl_proto_frame_req(const pl_frame *f)
{
    const cJSON *v = f->doc ? pl_json_member(f->doc, "req") : NULL;
    return cJSON_IsString(v) && pl_id_valid(v->valuestring, PL_MAX_ID) ? v->valuestring : NULL;
}

int pl_proto_parse_seq(const char *s, uint64_t *out)
{
    return s && pl_json_parse_seq(s, out);
}

void pl_proto_seq_str(uint64_t seq, char buf[21])
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + seq % 10);
        seq /= 10;
    } while (seq);
    for (size_t i = 0; i < n; i++)
        buf[i] = tmp[n - 1 - i];
    buf[n] = '\0';
}
