#include "api_push.h"

#include "store.h"

unsigned api_push_sensitive(server *s, const char *conv, const cJSON *body, cJSON **out)
{
    const cJSON *on = cJSON_GetObjectItemCaseSensitive(body, "sensitive");
    int rc;

    if (!cJSON_IsBool(on))
        return http_error(out, HTTP_BAD_REQUEST, "sensitive must be true or false");
    rc = store_conv_sensitive_set(s->store, conv, cJSON_IsTrue(on));
    if (rc < 0)
        return http_error(out, HTTP_SERVER_ERROR, "cannot store");
    if (rc == 0)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    *out = cJSON_CreateObject();
    if (*out && (!cJSON_AddStringToObject(*out, "conv", conv) ||
                 !cJSON_AddBoolToObject(*out, "sensitive", cJSON_IsTrue(on)))) {
        cJSON_Delete(*out);
        *out = NULL;
    }
    return HTTP_OK;
}
