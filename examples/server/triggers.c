#include "triggers.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "flow.h"
#include "json.h"
#include "proactive.h"
#include "store.h"
#include "survey.h"
#include "survey_def.h"
#include "userctx.h"

/* No second pending instance of a survey, no second unacknowledged copy
 * of a message; and a conversation gets each survey once. 1/0/-1. */
static int already_there(store *st, const char *user, const char *survey, const char *conv,
                         const char *msg_text)
{
    if (survey && conv)
        return store_survey_given(st, survey, conv);
    if (survey)
        return store_survey_pending(st, user, survey);
    return store_proactive_pending(st, user, msg_text);
}

/* The trigger's message with the default author filled in. */
static cJSON *trigger_message(const cJSON *t)
{
    cJSON *msg = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(t, "message"), 1), *author;

    if (!msg || cJSON_GetObjectItemCaseSensitive(msg, "author"))
        return msg;
    author = cJSON_AddObjectToObject(msg, "author");
    if (!author || !cJSON_AddStringToObject(author, "kind", "bot") ||
        !cJSON_AddStringToObject(author, "name", FLOW_BOT_NAME_DEFAULT)) {
        cJSON_Delete(msg);
        return NULL;
    }
    return msg;
}

static int fire_message(server *s, const cJSON *t, const char *user, int64_t now)
{
    cJSON *msg = trigger_message(t);
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    int64_t n;
    int rc = text ? already_there(s->store, user, NULL, NULL, text) : -1;

    if (rc == 0)
        rc = proactive_deliver(s, user, msg, now, &n);
    cJSON_free(text);
    cJSON_Delete(msg);
    return rc < 0 ? -1 : 0;
}

static void fire(server *s, const cJSON *t, const char *user, const char *conv, int64_t now)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(t, "attributes");
    const char *name = pj_string(t, "survey");
    int64_t n;
    int rc = attrs ? userctx_attrs_match(s->store, user, attrs) : 1;

    if (rc == 1 && name) {
        rc = already_there(s->store, user, name, conv, NULL);
        if (rc == 0)
            rc = survey_deliver(s, user, survey_def_find(s->surveys, name), conv, now, &n);
    } else if (rc == 1) {
        rc = fire_message(s, t, user, now);
    }
    if (rc < 0)
        fprintf(stderr, "parley-server: a '%s' trigger failed for '%s'\n", pj_string(t, "on"),
                user);
}

/* Fires every trigger `on` whose `key` member equals `value` (no key: all). */
static void fire_all(server *s, const char *on, const char *key, const char *value,
                     const char *user, const char *conv, int64_t now)
{
    const cJSON *t;
    const char *v;

    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s->surveys, "triggers")) {
        v = key ? pj_string(t, key) : NULL;
        if (strcmp(pj_string(t, "on"), on) == 0 && (!key || (v && strcmp(v, value) == 0)))
            fire(s, t, user, conv, now);
    }
}

void triggers_on_conv_closed(server *s, const char *conv, int64_t now_ms)
{
    char owner[PJ_MAX_ID + 1];

    if (store_conv_owner(s->store, conv, owner, sizeof owner) == 1)
        fire_all(s, "conv.closed", NULL, NULL, owner, conv, now_ms);
}

void triggers_on_event(server *s, const char *user, const char *name, int64_t now_ms)
{
    fire_all(s, "event", "name", name, user, NULL, now_ms);
}

void triggers_on_screen(server *s, const char *user, const char *screen, int64_t now_ms)
{
    fire_all(s, "screen", "screen", screen, user, NULL, now_ms);
}
