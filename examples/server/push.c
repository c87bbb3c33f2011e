#include "push.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "redact.h"
#include "webhook.h"

typedef struct notice {
    server *s;
    const char *user;
    const store_msg *m;
    cJSON *body; /* everything but the token and platform */
} notice;

/* The body for one token: the notice's members plus the device's. */
static int post_one(void *ud, const char *platform, const char *token)
{
    notice *n = ud;
    cJSON *t = cJSON_CreateString(token), *p = cJSON_CreateString(platform);
    char *json;

    if (!t || !p || !cJSON_AddItemToObject(n->body, "token", t)) {
        cJSON_Delete(t);
        cJSON_Delete(p);
        return 0;
    }
    if (!cJSON_AddItemToObject(n->body, "platform", p))
        cJSON_Delete(p);
    json = cJSON_PrintUnformatted(n->body);
    if (!json || webhook_post(n->s->push, "push", json, strlen(json), NULL))
        fprintf(stderr, "parley-server: push for '%s' not queued: out of memory\n", n->user);
    cJSON_free(json);
    cJSON_DeleteItemFromObjectCaseSensitive(n->body, "token");
    cJSON_DeleteItemFromObjectCaseSensitive(n->body, "platform");
    return 0;
}

static int add_preview(notice *n)
{
    char preview[REDACT_PREVIEW_MAX + 4];
    int sensitive = store_conv_sensitive(n->s->store, n->m->conv);

    if (!n->s->push_preview || sensitive != 0 || !n->m->text[0])
        return 1;
    redact_preview(n->m->text, preview, sizeof preview);
    return cJSON_AddStringToObject(n->body, "preview", preview) != NULL;
}

static cJSON *body_of(notice *n)
{
    const store_msg *m = n->m;
    cJSON *o = cJSON_CreateObject(), *author = NULL;
    char seq[PJ_SEQ_BUF];
    int64_t unread = 0;
    int ok;

    pj_format_seq(m->seq, seq);
    if (store_unread(n->s->store, m->conv, &unread))
        unread = 0;
    n->body = o;
    ok = o && cJSON_AddStringToObject(o, "type", "message") &&
         cJSON_AddStringToObject(o, "user", n->user) &&
         cJSON_AddStringToObject(o, "conv", m->conv) && cJSON_AddStringToObject(o, "msg", m->id) &&
         cJSON_AddStringToObject(o, "seq", seq) &&
         (author = cJSON_AddObjectToObject(o, "author")) &&
         cJSON_AddStringToObject(author, "kind", m->author_kind) &&
         (!m->author_name || cJSON_AddStringToObject(author, "name", m->author_name)) &&
         add_preview(n) && cJSON_AddNumberToObject(o, "unread", (double)unread) &&
         cJSON_AddNumberToObject(o, "ts", (double)m->ts);
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void push_notify(server *s, const char *user, const store_msg *m)
{
    notice n = {s, user, m, NULL};

    if (!s->push)
        return;
    if (!body_of(&n)) {
        fprintf(stderr, "parley-server: push for '%s' not built: out of memory\n", user);
        return;
    }
    if (store_push_each(s->store, user, post_one, &n) < 0)
        fprintf(stderr, "parley-server: push tokens of '%s' not read\n", user);
    cJSON_Delete(n.body);
}
