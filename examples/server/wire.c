#include "wire.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

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

char *wire_welcome(const char *session, const char *anon_secret, size_t max_frame, size_t max_text,
                   int64_t max_attachment)
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
        if (max_attachment > 0)
            add_num(&b, limits, "max_attachment", (double)max_attachment);
    }
    return finish(&b);
}

char *wire_conv_ack(const char *cid, const char *conv)
{
    builder b = start("conv.ack");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "cid", cid);
    add_str(&b, b.root, "conv", conv);
    return finish(&b);
}

char *wire_msg_ack(const char *cid, const store_msg *m)
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

char *wire_msg(const store_msg *m)
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
    add_raw(&b, b.root, "attachment", m->attachment);
    return finish(&b);
}

char *wire_ack(const char *cid)
{
    builder b = start("ack");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "cid", cid);
    return finish(&b);
}

char *wire_error(const char *code, const char *message, const char *cid)
{
    builder b = start("error");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "code", code);
    add_str(&b, b.root, "message", message);
    add_str(&b, b.root, "cid", cid);
    return finish(&b);
}

char *wire_req_error(const char *code, const char *message, const char *req, int64_t retry_ms)
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

char *wire_history_end(const char *conv, int64_t last, int more)
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

char *wire_goaway(int reconnect_ms, const char *reason)
{
    builder b = start("goaway");

    if (!b.ok)
        return NULL;
    add_num(&b, b.root, "reconnect_ms", reconnect_ms);
    add_str(&b, b.root, "reason", reason);
    return finish(&b);
}

char *wire_unread(const char *conv, int64_t count, int64_t last_seq)
{
    builder b = start("unread");
    char seq[PJ_SEQ_BUF];

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "conv", conv);
    add_num(&b, b.root, "count", (double)count);
    if (last_seq > 0) {
        pj_format_seq(last_seq, seq);
        add_str(&b, b.root, "last_seq", seq);
    }
    return finish(&b);
}

/* Adds the stored JSON object `json` as `key`, first setting `member` to
 * `value` in it (a string when `text`, else a number). */
static void add_stamped(builder *b, const char *key, const char *json, const char *member,
                        const char *text, double value)
{
    cJSON *obj = cJSON_Parse(json);

    if (!cJSON_IsObject(obj) ||
        !(text ? cJSON_AddStringToObject(obj, member, text)
               : cJSON_AddNumberToObject(obj, member, value)) ||
        !cJSON_AddItemToObject(b->root, key, obj)) {
        cJSON_Delete(obj);
        b->ok = 0;
    }
}

char *wire_survey(int64_t n, const char *conv, int proactive, const char *def)
{
    builder b = start("survey");
    char id[WIRE_ID_BUF];

    if (!b.ok)
        return NULL;
    wire_format_id("sv-", n, id);
    add_str(&b, b.root, "conv", conv);
    if (!cJSON_AddBoolToObject(b.root, "proactive", proactive))
        b.ok = 0;
    add_stamped(&b, "survey", def, "id", id, 0);
    return finish(&b);
}

char *wire_proactive(int64_t n, const char *msg, int64_t ts)
{
    builder b = start("proactive");
    char id[WIRE_ID_BUF];

    if (!b.ok)
        return NULL;
    wire_format_id("p-", n, id);
    add_str(&b, b.root, "id", id);
    add_stamped(&b, "msg", msg, "ts", NULL, (double)ts);
    return finish(&b);
}

char *wire_typed(const char *type, cJSON *body)
{
    cJSON *t = cJSON_CreateString(type);
    char *json = NULL;

    /* "t" goes first, where a person reading a log looks for it. */
    if (body && t && cJSON_AddItemToObject(body, "t", t)) {
        cJSON_InsertItemInArray(body, 0, cJSON_DetachItemViaPointer(body, t));
        json = cJSON_PrintUnformatted(body);
    } else
        cJSON_Delete(t);
    cJSON_Delete(body);
    return json;
}

/* ---- answers to requests ---- */

cJSON *wire_answer(const char *type, const char *req)
{
    cJSON *f = cJSON_CreateObject();

    if (f && (!cJSON_AddStringToObject(f, "t", type) ||
              (req && !cJSON_AddStringToObject(f, "req", req)))) {
        cJSON_Delete(f);
        return NULL;
    }
    return f;
}

char *wire_print(cJSON *frame)
{
    char *json = frame ? cJSON_PrintUnformatted(frame) : NULL;

    cJSON_Delete(frame);
    return json;
}

#define LIST_SUBJECT_MAX 256
#define LIST_TEXT_MAX 200

/* `s` cut to at most `max` bytes on a UTF-8 boundary. */
static int add_cut(cJSON *o, const char *key, const char *s, size_t max)
{
    char buf[LIST_SUBJECT_MAX + 1];
    size_t len = strlen(s);

    if (len > max) {
        len = max;
        while (len > 0 && ((unsigned char)s[len] & 0xc0) == 0x80)
            len--;
    }
    memcpy(buf, s, len);
    buf[len] = '\0';
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

cJSON *wire_conv_row(const store_conv_row *r)
{
    cJSON *o = cJSON_CreateObject();
    char seq[PJ_SEQ_BUF];
    int ok;

    pj_format_seq(r->last_seq, seq);
    ok = o && cJSON_AddStringToObject(o, "conv", r->conv) &&
         (!r->subject || add_cut(o, "subject", r->subject, LIST_SUBJECT_MAX)) &&
         cJSON_AddStringToObject(o, "state", r->state) &&
         cJSON_AddStringToObject(o, "last_seq", seq) &&
         cJSON_AddNumberToObject(o, "unread", (double)r->unread) &&
         cJSON_AddNumberToObject(o, "updated_ms", (double)r->updated_ms) &&
         (!r->last_text || add_cut(o, "last_text", r->last_text, LIST_TEXT_MAX));
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

cJSON *wire_page_msg(const store_msg *m)
{
    cJSON *o = cJSON_CreateObject(), *author = cJSON_CreateObject(), *blocks = NULL;
    char seq[PJ_SEQ_BUF];
    int ok;

    pj_format_seq(m->seq, seq);
    ok = o && author && cJSON_AddItemToObject(o, "author", author);
    if (!ok)
        cJSON_Delete(author);
    ok = ok && cJSON_AddStringToObject(o, "id", m->id) && cJSON_AddStringToObject(o, "seq", seq) &&
         cJSON_AddStringToObject(author, "kind", m->author_kind) &&
         (!m->author_name || cJSON_AddStringToObject(author, "name", m->author_name)) &&
         cJSON_AddStringToObject(o, "text", m->text) &&
         cJSON_AddNumberToObject(o, "ts", (double)m->ts);
    if (ok && m->blocks) {
        blocks = cJSON_Parse(m->blocks);
        ok = blocks && cJSON_AddItemToObject(o, "blocks", blocks);
        if (!ok)
            cJSON_Delete(blocks);
    }
    if (ok && m->attachment) {
        cJSON *att = cJSON_Parse(m->attachment);
        ok = att && cJSON_AddItemToObject(o, "attachment", att);
        if (!ok)
            cJSON_Delete(att);
    }
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int wire_article(cJSON *o, const store_article *a, int full)
{
    return cJSON_AddStringToObject(o, "id", a->id) &&
           cJSON_AddStringToObject(o, "title", a->title) &&
           (full ? cJSON_AddStringToObject(o, "body", a->body) != NULL
                 : cJSON_AddStringToObject(o, "snippet", a->snippet ? a->snippet : "") != NULL) &&
           (!a->url || cJSON_AddStringToObject(o, "url", a->url));
}

/* ---- ids ---- */

void wire_format_id(const char *prefix, int64_t n, char out[WIRE_ID_BUF])
{
    snprintf(out, WIRE_ID_BUF, "%s%" PRId64, prefix, n);
}

int wire_parse_id(const char *id, const char *prefix, int64_t *n)
{
    size_t plen = strlen(prefix);

    if (!id || strncmp(id, prefix, plen) != 0 || pj_parse_seq(id + plen, n) || *n == 0)
        return -1;
    return 0;
}

/* ---- attachments ---- */

static char *att_frame(const char *type, const char *cid, const char *key, int64_t n,
                       const char *reason)
{
    builder b = start(type);

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "cid", cid);
    add_num(&b, b.root, key, (double)n);
    add_str(&b, b.root, "reason", reason);
    return finish(&b);
}

char *wire_att_offset(const char *cid, int64_t next, const char *reason)
{
    return att_frame("att.offset", cid, "next", next, reason);
}

char *wire_att_ack(const char *cid, int64_t next)
{
    return att_frame("att.ack", cid, "next", next, NULL);
}

char *wire_att_nack(const char *cid, int64_t i, const char *reason)
{
    return att_frame("att.nack", cid, "i", i, reason);
}

char *wire_att_done(const char *cid, const char *sha256)
{
    builder b = start("att.done");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "cid", cid);
    add_str(&b, b.root, "sha256", sha256);
    return finish(&b);
}

char *wire_att_data(const wire_chunk *c)
{
    builder b = start("att.data");

    if (!b.ok)
        return NULL;
    add_str(&b, b.root, "req", c->req);
    add_str(&b, b.root, "id", c->id);
    add_num(&b, b.root, "i", (double)c->i);
    add_num(&b, b.root, "size", (double)c->size);
    add_str(&b, b.root, "file_sha256", c->file_sha256);
    add_str(&b, b.root, "data", c->data_b64);
    add_str(&b, b.root, "sha256", c->sha256);
    return finish(&b);
}
