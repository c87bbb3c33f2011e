#include "wire.h"

#include "json.h"

/* cJSON reports allocation failures through NULL returns on every call; they
 * are collected in `ok` so each builder checks once at the end. */
typedef struct builder {
    cJSON *root;
    int ok;
} builder;

static void add_str(builder *b, cJSON *obj, const char *key, const char *val)
{
    if (val && !cJSON_AddStringToObject(obj, key, val))
        b->ok = 0;
}

static void add_num(builder *b, cJSON *obj, const char *key, double val)
{
    if (!cJSON_AddNumberToObject(obj, key, val))
        b->ok = 0;
}

/* Stored JSON text (checked when it was stored), parsed back in; absent when
 * NULL. */
static void add_raw(builder *b, cJSON *obj, const char *key, const char *json)
{
    cJSON *v = json ? cJSON_Parse(json) : NULL;

    if (json && (!v || !cJSON_AddItemToObject(obj, key, v))) {
        cJSON_Delete(v);
        b->ok = 0;
    }
}

static void add_seq(builder *b, cJSON *obj, int64_t seq)
{
    char buf[PJ_SEQ_BUF];

    pj_format_seq(seq, buf);
    add_str(b, obj, "seq", buf);
}

static builder start(const char *type)
{
    builder b;

    b.root = cJSON_CreateObject();
    b.ok = b.root != NULL;
    if (b.ok)
        add_str(&b, b.root, "t", type);
    return b;
}

static char *finish(builder *b)
{
    char *out = NULL;

    if (b->ok)
        out = cJSON_PrintUnformatted(b->root);
    cJSON_Delete(b->root);
    return out;
}

char *frame_welcome(const char *session, const char *anon_secret, size_t max_frame,
                    size_t max_text)
{
    builder b = start("welcome");
    cJSON *limits;

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "session", session);
    if (anon_secret)
        add_str(&b, b.root, "anon_secret", anon_secret);
    limits = cJSON_AddObjectToObject(b.root, "limits");
    if (!limits)
        b.ok = 0;
    else {
        add_num(&b, limits, "max_frame", (double)max_frame);
        add_num(&b, limits, "max_text", (double)max_text);
    }
    return finish(&b);
}

char *frame_conv_ack(const char *cid, const char *conv)
{
    builder b = start("conv.ack");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "cid", cid);
    add_str(&b, b.root, "conv", conv);
    return finish(&b);
}

char *frame_msg_ack(const char *cid, const db_msg *m)
{
    builder b = start("msg.ack");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "cid", cid);
    add_str(&b, b.root, "id", m->id);
    add_str(&b, b.root, "conv", m->conv);
    add_seq(&b, b.root, m->seq);
    return finish(&b);
}

char *frame_msg(const db_msg *m)
{
    builder b = start("msg");
    cJSON *author;

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "conv", m->conv);
    add_str(&b, b.root, "id", m->id);
    add_seq(&b, b.root, m->seq);
    author = cJSON_AddObjectToObject(b.root, "author");
    if (!author)
        b.ok = 0;
    else {
        add_str(&b, author, "kind", m->author_kind);
        add_str(&b, author, "name", m->author_name);
    }
    add_str(&b, b.root, "text", m->text);
    add_num(&b, b.root, "ts", (double)m->ts);
    add_raw(&b, b.root, "blocks", m->blocks);
    return finish(&b);
}

char *frame_error(const char *code, const char *message, const char *cid)
{
    builder b = start("error");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "code", code);
    add_str(&b, b.root, "message", message);
    add_str(&b, b.root, "cid", cid);
    return finish(&b);
}

char *frame_refusal(const char *code, const char *message, const char *req, int64_t retry_ms)
{
    builder b = start("error");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "code", code);
    add_str(&b, b.root, "message", message);
    add_str(&b, b.root, "req", req);
    if (retry_ms > 0)
        add_num(&b, b.root, "retry_ms", (double)retry_ms);
    return finish(&b);
}

char *frame_history_end(const char *conv, int64_t last, int more)
{
    builder b = start("history.end");
    char buf[PJ_SEQ_BUF];

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "conv", conv);
    pj_format_seq(last, buf);
    add_str(&b, b.root, "last", buf);
    if (!cJSON_AddBoolToObject(b.root, "more", more ? 1 : 0))
        b.ok = 0;
    return finish(&b);
}

char *frame_goaway(int reconnect_ms, const char *reason)
{
    builder b = start("goaway");

    if (!b.ok)
        return NULL;
    add_num(&b, b.root, "reconnect_ms", reconnect_ms);
    add_str(&b, b.root, "reason", reason);
    return finish(&b);
}
