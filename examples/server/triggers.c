#include "triggers.h"

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "flow.h"
#include "json.h"
#include "pacer.h"
#include "proactive.h"
#include "store.h"
#include "survey.h"
#include "survey_def.h"
#include "triage.h"
#include "userctx.h"
#include "ws.h"

#define TRIGGER_ID_MAX 32

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

static int number(const cJSON *obj, const char *key, int64_t fallback)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return cJSON_IsNumber(v) ? (int)v->valuedouble : (int)fallback;
}

/* A message delivered; 1 when it was (not a duplicate), 0/-1. */
static int fire_message(server *s, const cJSON *t, const char *user, int64_t now)
{
    cJSON *msg = trigger_message(t);
    char *text = msg ? cJSON_PrintUnformatted(msg) : NULL;
    int expires = number(t, "expires_s", 0);
    int64_t n;
    int rc = text ? already_there(s->store, user, NULL, NULL, text) : -1;

    if (rc == 0)
        rc = proactive_deliver(s, user, msg, now, &n) ? -1 : 1;
    if (rc == 1 && expires && store_proactive_expiry_set(s->store, n, now + expires * 1000LL))
        rc = -1;
    cJSON_free(text);
    cJSON_Delete(msg);
    return rc;
}

/* The trigger's name for its cap: its id, else its place in the file. */
static void trigger_id(const cJSON *t, int index, char out[TRIGGER_ID_MAX + 65])
{
    const char *id = pj_string(t, "id");

    if (id)
        snprintf(out, TRIGGER_ID_MAX + 65, "%s", id);
    else
        snprintf(out, TRIGGER_ID_MAX + 65, "triggers[%d]", index);
}

/* The trigger's gates at delivery time (docs/routing.md, "Proactive
 * triggers at the right moment"): attributes, its condition, the user's
 * conversations since the cause, the cap. 1 when it may fire, 0/-1. */
static int may_fire(server *s, const cJSON *t, const char *id, const char *user, int64_t cause,
                    int64_t now)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(t, "attributes");
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(t, "when");
    const cJSON *cap = cJSON_GetObjectItemCaseSensitive(t, "cap");
    triage_input ti;
    int64_t n = 0;
    int rc = attrs ? userctx_attrs_match(s->store, user, attrs) : 1;

    if (rc == 1 && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "unless_conversation")))
        rc = store_user_busy(s->store, user, cause) == 0 ? 1 : 0;
    if (rc == 1 && cap &&
        store_trigger_count(s->store, user, id, now - number(cap, "per_s", 0) * 1000LL, &n))
        rc = -1;
    if (rc == 1 && cap && n >= number(cap, "max", 0))
        rc = 0;
    if (rc == 1 && when) {
        rc = triage_gather(s, user, NULL, NULL, now, &ti) ? -1 : cond_eval(when, &ti.in);
        triage_input_clear(&ti);
    }
    return rc;
}

static void fire(server *s, const cJSON *t, int index, const char *user, const char *conv,
                 int64_t cause, int64_t now)
{
    const char *name = pj_string(t, "survey");
    char id[TRIGGER_ID_MAX + 65];
    int64_t n;
    int rc;

    trigger_id(t, index, id);
    rc = may_fire(s, t, id, user, cause, now);
    if (rc == 1 && name) {
        rc = already_there(s->store, user, name, conv, NULL);
        if (rc == 0)
            rc = survey_deliver(s, user, survey_def_find(s->surveys, name), conv, now, &n) ? -1 : 1;
    } else if (rc == 1) {
        rc = fire_message(s, t, user, now);
    }
    if (rc == 1 && cJSON_GetObjectItemCaseSensitive(t, "cap"))
        rc = store_trigger_fired(s->store, user, id, now) ? -1 : 1;
    if (rc < 0)
        fprintf(stderr, "parley-server: a '%s' trigger failed for '%s'\n", pj_string(t, "on"),
                user);
}

/* Fires every trigger `on` whose `key` member equals `value` (no key: all);
 * those with a delay or a dwell time wait in the pacer. */
static void fire_all(server *s, const char *on, const char *key, const char *value,
                     const char *user, const char *conv, int64_t now)
{
    const cJSON *t;
    const char *v;
    int index = 0, wait;

    cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(s->surveys, "triggers")) {
        v = key ? pj_string(t, key) : NULL;
        if (strcmp(pj_string(t, "on"), on) == 0 && (!key || (v && strcmp(v, value) == 0))) {
            wait = number(t, "dwell_s", 0) + number(t, "delay_s", 0);
            if (!wait || !s->pacer)
                fire(s, t, index, user, conv, now, now);
            else if (pacer_add(s->pacer, user, index, now, now + wait * 1000LL,
                               cJSON_GetObjectItemCaseSensitive(t, "dwell_s") ? value : NULL) < 0)
                fprintf(stderr, "parley-server: too many proactive deliveries waiting\n");
        }
        index++;
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
    /* Leaving a screen ends the dwell there. */
    if (s->pacer)
        pacer_screen(s->pacer, user, screen);
    fire_all(s, "screen", "screen", screen, user, NULL, now_ms);
}

/* A dwell is over: the user is still signed in and on that screen. */
static int still_there(server *s, const pacer_item *it)
{
    store_picture p;
    int there;

    if (!ws_user_online(s, it->user))
        return 0;
    if (store_picture_get(s->store, it->user, &p))
        return 0;
    there = p.screen && !p.screen_stale && strcmp(p.screen, it->screen) == 0;
    store_picture_clear(&p);
    return there;
}

void triggers_tick(server *s, int64_t now_ms)
{
    const cJSON *triggers = cJSON_GetObjectItemCaseSensitive(s->surveys, "triggers");
    pacer_item it;
    const cJSON *t;

    while (s->pacer && pacer_take_due(s->pacer, now_ms, &it)) {
        t = cJSON_GetArrayItem(triggers, it.trigger);
        if (t && (!it.screen[0] || still_there(s, &it)))
            fire(s, t, it.trigger, it.user, NULL, it.cause_ms, now_ms);
    }
}
