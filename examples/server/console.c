#include "console.h"

#include <stdio.h>
#include <string.h>

#include "agent_ws.h"
#include "agents.h"
#include "fanout.h"
#include "json.h"
#include "sla_policy.h"

#define LAST_TEXT_MAX 200

static int add_seq(cJSON *o, const char *key, int64_t seq)
{
    char buf[PJ_SEQ_BUF];

    pj_format_seq(seq, buf);
    return cJSON_AddStringToObject(o, key, buf) != NULL;
}

static int add_str_or_null(cJSON *o, const char *key, const char *v)
{
    return (v ? cJSON_AddStringToObject(o, key, v) : cJSON_AddNullToObject(o, key)) != NULL;
}

/* Cut at a character boundary, at most max bytes. */
static void cut_utf8(char *s, size_t max)
{
    size_t n = strlen(s);

    if (n <= max)
        return;
    while (max > 0 && ((unsigned char)s[max] & 0xc0) == 0x80)
        max--;
    s[max] = '\0';
}

static int add_last(void *ud, const store_msg *m)
{
    cJSON *o = cJSON_CreateObject(), *a;
    char text[LAST_TEXT_MAX + 4];

    if (!o || !cJSON_AddItemToObject(ud, "last_message", o)) {
        cJSON_Delete(o);
        return 1;
    }
    snprintf(text, sizeof text, "%s", m->text);
    cut_utf8(text, LAST_TEXT_MAX);
    a = cJSON_AddObjectToObject(o, "author");
    return !(a && cJSON_AddStringToObject(a, "kind", m->author_kind) &&
             add_str_or_null(a, "name", m->author_name) &&
             cJSON_AddStringToObject(o, "text", text) &&
             cJSON_AddNumberToObject(o, "ts", (double)m->ts));
}

static int add_action(void *ud, const store_action *a)
{
    cJSON *o = cJSON_CreateObject();

    cJSON_Delete(cJSON_DetachItemFromObject(ud, "last_action"));
    if (!o || !cJSON_AddItemToObject(ud, "last_action", o)) {
        cJSON_Delete(o);
        return 1;
    }
    return !(cJSON_AddStringToObject(o, "action", a->action) && add_str_or_null(o, "by", a->by) &&
             cJSON_AddNumberToObject(o, "ts", (double)a->ts));
}

typedef struct sla_add {
    cJSON *sla;
    int first, next;
} sla_add;

static int add_clock(void *ud, const store_sla *c)
{
    sla_add *a = ud;
    int is_first = strcmp(c->kind, "first_response") == 0;
    cJSON *o;

    /* The newest clock of each kind (newest first). */
    if (is_first ? a->first++ : a->next++)
        return 0;
    o = cJSON_AddObjectToObject(a->sla, c->kind);
    return !(o && cJSON_AddNumberToObject(o, "started_ms", (double)c->start_ms) &&
             cJSON_AddNumberToObject(o, "due_ms", (double)c->due_ms) &&
             cJSON_AddNumberToObject(o, "warn_ms", (double)c->warn_ms) &&
             (c->met_ms ? cJSON_AddNumberToObject(o, "met_ms", (double)c->met_ms)
                        : cJSON_AddNullToObject(o, "met_ms")) &&
             (c->breached_ms ? cJSON_AddNumberToObject(o, "breached_ms", (double)c->breached_ms)
                             : cJSON_AddNullToObject(o, "breached_ms")));
}

static int add_sla(server *s, cJSON *obj, const char *conv)
{
    sla_add a = {cJSON_AddObjectToObject(obj, "sla"), 0, 0};

    if (!a.sla || store_sla_conv_each(s->store, conv, add_clock, &a) < 0)
        return -1;
    if ((!a.first && !cJSON_AddNullToObject(a.sla, "first_response")) ||
        (!a.next && !cJSON_AddNullToObject(a.sla, "next_response")))
        return -1;
    return 0;
}

static int add_assignee(server *s, cJSON *obj, const char *agent)
{
    cJSON *a;
    char display[STORE_AGENT_DISPLAY_BUF];

    if (!agent)
        return cJSON_AddNullToObject(obj, "assignee") ? 0 : -1;
    a = cJSON_AddObjectToObject(obj, "assignee");
    agents_display_name(s, agent, display, sizeof display);
    return a && cJSON_AddStringToObject(a, "name", agent) &&
                   cJSON_AddStringToObject(a, "display_name", display)
               ? 0
               : -1;
}

/* What triage decided, in short (docs/routing.md): the whole of it, with
 * the reasons, is in GET /api/conversations/{id}. */
static int add_triage(cJSON *o, const store_conv_item *it)
{
    cJSON *t;

    if (!it->team)
        return cJSON_AddNullToObject(o, "triage") ? 0 : -1;
    t = cJSON_AddObjectToObject(o, "triage");
    return t && cJSON_AddStringToObject(t, "team", it->team) &&
                   cJSON_AddNumberToObject(t, "score", (double)it->score) &&
                   cJSON_AddStringToObject(t, "route", it->route ? it->route : "bot") &&
                   cJSON_AddBoolToObject(t, "jump", it->jump)
               ? 0
               : -1;
}

int console_item_members(server *s, cJSON *o, const store_conv_item *it)
{
    int64_t position = 0;
    int ok;

    if (strcmp(it->state, "queued") == 0 && store_queue_position(s->store, it->id, &position))
        return -1;
    ok = cJSON_AddStringToObject(o, "id", it->id) && cJSON_AddStringToObject(o, "user", it->user) &&
         add_str_or_null(o, "subject", it->subject) &&
         cJSON_AddNumberToObject(o, "created_ms", (double)it->created_ms) &&
         cJSON_AddNumberToObject(o, "updated_ms", (double)it->updated_ms) &&
         add_seq(o, "last_seq", it->last_seq) && cJSON_AddStringToObject(o, "state", it->state) &&
         cJSON_AddStringToObject(o, "priority", it->priority) &&
         add_str_or_null(o, "priority_by", it->priority_by) && add_assignee(s, o, it->agent) == 0 &&
         (position ? cJSON_AddNumberToObject(o, "queue_position", (double)position)
                   : cJSON_AddNullToObject(o, "queue_position")) &&
         (it->queued_ms && position ? cJSON_AddNumberToObject(o, "queued_ms", (double)it->queued_ms)
                                    : cJSON_AddNullToObject(o, "queued_ms")) &&
         cJSON_AddNumberToObject(o, "unread", (double)it->unread);
    if (!ok || add_triage(o, it) || store_msg_last(s->store, it->id, add_last, o) < 0 ||
        (!cJSON_GetObjectItemCaseSensitive(o, "last_message") &&
         !cJSON_AddNullToObject(o, "last_message")) ||
        add_sla(s, o, it->id) || store_action_each(s->store, it->id, 1, add_action, o) < 0 ||
        (!cJSON_GetObjectItemCaseSensitive(o, "last_action") &&
         !cJSON_AddNullToObject(o, "last_action")))
        return -1;
    return 0;
}

typedef struct one_item {
    server *s;
    cJSON *out;
} one_item;

static int take_item(void *ud, const store_conv_item *it)
{
    one_item *o = ud;

    o->out = cJSON_CreateObject();
    if (o->out && console_item_members(o->s, o->out, it)) {
        cJSON_Delete(o->out);
        o->out = NULL;
    }
    return 1;
}

cJSON *console_item(server *s, const char *conv)
{
    one_item o = {s, NULL};

    store_conv_item_get(s->store, conv, take_item, &o);
    return o.out;
}

/* ---- frames ---- */

/* With fan-out, a console on another instance may be watching. */
static int nobody_watches(const server *s)
{
    return !s->naconns && !s->fanout;
}

void console_broadcast(server *s, const char *type, cJSON *body)
{
    cJSON *t = cJSON_CreateString(type);
    char *json = NULL;

    if (body && t && cJSON_AddItemToObject(body, "t", t)) {
        cJSON_InsertItemInArray(body, 0, cJSON_DetachItemViaPointer(body, t));
        json = cJSON_PrintUnformatted(body);
    } else {
        cJSON_Delete(t);
    }
    if (json) {
        agent_ws_broadcast(s, json);
        fanout_agents(s, json);
    } else
        fprintf(stderr, "parley-server: out of memory, %s not sent to the consoles\n", type);
    cJSON_free(json);
    cJSON_Delete(body);
}

void console_conv(server *s, const char *conv, int is_new)
{
    cJSON *o, *item;

    if (nobody_watches(s))
        return;
    item = console_item(s, conv);
    o = cJSON_CreateObject();
    if (!item || !o || !cJSON_AddItemToObject(o, "conv", item)) {
        cJSON_Delete(item);
        cJSON_Delete(o);
        return;
    }
    console_broadcast(s, is_new ? "conv.new" : "conv.update", o);
}

static int add_stored(cJSON *o, const char *key, const char *json)
{
    cJSON *v;

    if (!json)
        return 1;
    v = cJSON_Parse(json);
    if (v && cJSON_AddItemToObject(o, key, v))
        return 1;
    cJSON_Delete(v);
    return 0;
}

void console_msg(server *s, const char *conv, const store_msg *m)
{
    cJSON *o, *msg, *a;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    msg = cJSON_CreateObject();
    if (!o || !msg || !cJSON_AddStringToObject(o, "conv", conv) ||
        !cJSON_AddItemToObject(o, "msg", msg)) {
        cJSON_Delete(msg);
        cJSON_Delete(o);
        return;
    }
    a = cJSON_AddObjectToObject(msg, "author");
    if (!cJSON_AddStringToObject(msg, "id", m->id) || !add_seq(msg, "seq", m->seq) || !a ||
        !cJSON_AddStringToObject(a, "kind", m->author_kind) ||
        (m->author_name && !cJSON_AddStringToObject(a, "name", m->author_name)) ||
        !cJSON_AddStringToObject(msg, "text", m->text) ||
        !cJSON_AddNumberToObject(msg, "ts", (double)m->ts) ||
        !add_stored(msg, "context", m->context) || !add_stored(msg, "blocks", m->blocks) ||
        !add_stored(msg, "postback", m->postback) ||
        !add_stored(msg, "attachment", m->attachment) ||
        (m->by && !cJSON_AddStringToObject(msg, "by", m->by))) {
        cJSON_Delete(o);
        return;
    }
    console_broadcast(s, "msg", o);
}

void console_typing(server *s, const char *conv, const char *who, const char *name, int on)
{
    cJSON *o;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "conv", conv) && cJSON_AddStringToObject(o, "who", who) &&
        (!name || cJSON_AddStringToObject(o, "name", name)) && cJSON_AddBoolToObject(o, "on", on))
        console_broadcast(s, "typing", o);
    else
        cJSON_Delete(o);
}

void console_read(server *s, const char *conv, const char *side, int64_t seq)
{
    cJSON *o;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "conv", conv) && cJSON_AddStringToObject(o, "side", side) &&
        add_seq(o, "seq", seq))
        console_broadcast(s, "read", o);
    else
        cJSON_Delete(o);
}

void console_context(server *s, const char *user, const cJSON *frame)
{
    static const char *const keys[] = {"full", "attributes", "screen", "breadcrumbs", "device"};
    cJSON *o;
    size_t i;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    if (!o || !cJSON_AddStringToObject(o, "user", user)) {
        cJSON_Delete(o);
        return;
    }
    for (i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(frame, keys[i]);
        cJSON *copy = v ? cJSON_Duplicate(v, 1) : NULL;

        if (copy && !cJSON_AddItemToObject(o, keys[i], copy))
            cJSON_Delete(copy);
    }
    console_broadcast(s, "context", o);
}

void console_event(server *s, const char *user, const char *name, const char *meta, int64_t ts)
{
    cJSON *o, *e;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    e = cJSON_CreateObject();
    if (o && e && cJSON_AddStringToObject(o, "user", user) &&
        cJSON_AddItemToObject(o, "event", e)) {
        if (cJSON_AddStringToObject(e, "name", name) &&
            (meta ? add_stored(e, "meta", meta) : cJSON_AddNullToObject(e, "meta") != NULL) &&
            cJSON_AddNumberToObject(e, "ts", (double)ts)) {
            console_broadcast(s, "event", o);
            return;
        }
    } else {
        cJSON_Delete(e);
    }
    cJSON_Delete(o);
}

/* The first answer to a question of `kind` in the definition. */
static const cJSON *first_answer(const cJSON *def, const cJSON *answers, const char *kind)
{
    const cJSON *q;

    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions")) {
        const char *k = pj_string(q, "kind"), *id = pj_string(q, "id");

        if (k && id && strcmp(k, kind) == 0)
            return cJSON_GetObjectItemCaseSensitive(answers, id);
    }
    return NULL;
}

cJSON *console_survey_json(const store_survey_row *r)
{
    cJSON *o = cJSON_CreateObject(), *def = cJSON_Parse(r->def),
          *answers = r->answers ? cJSON_Parse(r->answers) : NULL;
    const cJSON *csat = first_answer(def, answers, "rating"),
                *nps = first_answer(def, answers, "nps");
    char id[32];
    int ok;

    snprintf(id, sizeof id, "sv-%lld", (long long)r->n);
    ok = o && cJSON_AddStringToObject(o, "id", id) &&
         cJSON_AddStringToObject(o, "survey", r->name) && add_str_or_null(o, "conv", r->conv) &&
         cJSON_AddStringToObject(o, "status", r->status) &&
         (answers ? cJSON_AddItemToObject(o, "answers", cJSON_Duplicate(answers, 1))
                  : cJSON_AddNullToObject(o, "answers") != NULL) &&
         (cJSON_IsNumber(csat) ? cJSON_AddNumberToObject(o, "csat", csat->valuedouble)
                               : cJSON_AddNullToObject(o, "csat")) &&
         (cJSON_IsNumber(nps) ? cJSON_AddNumberToObject(o, "nps", nps->valuedouble)
                              : cJSON_AddNullToObject(o, "nps")) &&
         cJSON_AddNumberToObject(o, "delivered_ms", (double)r->created_ms) &&
         (r->done_ms ? cJSON_AddNumberToObject(o, "submitted_ms", (double)r->done_ms)
                     : cJSON_AddNullToObject(o, "submitted_ms"));
    cJSON_Delete(def);
    cJSON_Delete(answers);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

typedef struct survey_push {
    server *s;
} survey_push;

static int push_survey(void *ud, const store_survey_row *r)
{
    survey_push *p = ud;
    cJSON *o = cJSON_CreateObject(), *sv = console_survey_json(r);

    if (o && sv && cJSON_AddStringToObject(o, "user", r->user) &&
        add_str_or_null(o, "conv", r->conv) && cJSON_AddItemToObject(o, "survey", sv)) {
        console_broadcast(p->s, "survey", o);
        return 1;
    }
    cJSON_Delete(sv);
    cJSON_Delete(o);
    return 1;
}

void console_survey(server *s, int64_t n)
{
    survey_push p = {s};

    if (!nobody_watches(s))
        store_survey_row_get(s->store, n, push_survey, &p);
}

static int add_queued(void *ud, const store_queued *q)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddItemToArray(ud, o)) {
        cJSON_Delete(o);
        return 1;
    }
    return !(
        cJSON_AddStringToObject(o, "conv", q->conv) &&
        cJSON_AddNumberToObject(o, "position", (double)q->position) &&
        cJSON_AddNumberToObject(o, "queued_ms", (double)q->queued_ms) &&
        cJSON_AddStringToObject(o, "priority", q->priority ? q->priority : "normal") &&
        (q->team ? cJSON_AddStringToObject(o, "team", q->team) : cJSON_AddNullToObject(o, "team")));
}

void console_queue(server *s)
{
    cJSON *o, *items;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    items = o ? cJSON_AddArrayToObject(o, "items") : NULL;
    if (!items || store_queue_each(s->store, add_queued, items) < 0) {
        cJSON_Delete(o);
        return;
    }
    console_broadcast(s, "queue", o);
}

void console_presence(server *s, const char *agent)
{
    cJSON *o, *a;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    a = agents_json(s, agent);
    if (o && a && cJSON_AddItemToObject(o, "agent", a)) {
        console_broadcast(s, "presence", o);
        return;
    }
    cJSON_Delete(a);
    cJSON_Delete(o);
}

void console_sla(server *s, const store_sla *c, const char *level)
{
    cJSON *o;

    if (nobody_watches(s))
        return;
    o = cJSON_CreateObject();
    if (o && cJSON_AddStringToObject(o, "conv", c->conv) &&
        cJSON_AddStringToObject(o, "kind", c->kind) && cJSON_AddStringToObject(o, "level", level) &&
        cJSON_AddNumberToObject(o, "due_ms", (double)c->due_ms) &&
        cJSON_AddStringToObject(o, "priority", c->priority))
        console_broadcast(s, "sla", o);
    else
        cJSON_Delete(o);
}
