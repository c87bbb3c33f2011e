#include "api_admin.h"

#include <string.h>

#include "fanout.h"
#include "ws.h"

static int is_admin(const server *s)
{
    return s->req && strcmp(s->req->role, "admin") == 0;
}

static unsigned answer(cJSON *o, cJSON **out, unsigned status)
{
    *out = o;
    return o ? status : http_error(out, HTTP_SERVER_ERROR, "out of memory");
}

/* 202: the drain starts once this answer is on its way (main.c). */
unsigned api_admin_drain(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    cJSON *o;

    (void)arg;
    (void)body;
    if (!is_admin(s))
        return http_error(out, HTTP_FORBIDDEN, "only an admin may drain an instance");
    if (!s->request_drain)
        return http_error(out, HTTP_UNAVAILABLE, "this server cannot drain");
    o = cJSON_CreateObject();
    if (o && (!cJSON_AddBoolToObject(o, "draining", 1) ||
              !cJSON_AddNumberToObject(o, "connections", (double)s->nconns))) {
        cJSON_Delete(o);
        o = NULL;
    }
    if (!s->draining)
        s->request_drain(s);
    return answer(o, out, 202);
}

unsigned api_admin_instance(server *s, const char *arg, const cJSON *body, cJSON **out)
{
    fanout_stats st;
    cJSON *o, *f;
    int ok;

    (void)arg;
    (void)body;
    if (!is_admin(s))
        return http_error(out, HTTP_FORBIDDEN, "admin only");
    fanout_get_stats(s, &st);
    o = cJSON_CreateObject();
    ok = o && cJSON_AddBoolToObject(o, "draining", s->draining) &&
         cJSON_AddNumberToObject(o, "connections", (double)s->nconns) &&
         cJSON_AddNumberToObject(o, "agent_channels", (double)s->naconns) &&
         (f = cJSON_AddObjectToObject(o, "fanout")) != NULL &&
         cJSON_AddBoolToObject(f, "enabled", s->fanout != NULL) &&
         cJSON_AddNumberToObject(f, "published", (double)st.published) &&
         cJSON_AddNumberToObject(f, "received", (double)st.received) &&
         cJSON_AddNumberToObject(f, "dropped", (double)st.dropped);
    if (!ok) {
        cJSON_Delete(o);
        o = NULL;
    }
    return answer(o, out, HTTP_OK);
}

unsigned api_admin_online(server *s, const char *user, const cJSON *body, cJSON **out)
{
    cJSON *o;

    (void)body;
    if (!is_admin(s))
        return http_error(out, HTTP_FORBIDDEN, "admin only");
    o = cJSON_CreateObject();
    if (o && (!cJSON_AddStringToObject(o, "user", user) ||
              !cJSON_AddBoolToObject(o, "online", ws_user_online(s, user)))) {
        cJSON_Delete(o);
        o = NULL;
    }
    return answer(o, out, HTTP_OK);
}
