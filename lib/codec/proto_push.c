/* Codec for push notifications: see proto_push.h. */
#include "codec/proto_push.h"

#include <string.h>

#include "codec/json.h"
#include "util/utf8.h"

int pl_proto_encode_push_register(const pl_alloc *a, const char *platform, const char *token,
                                  char **out, size_t *len)
{
    cJSON *root = pl_json_new_frame("push.register");
    if (!root)
        return PARLEY_ERR_NOMEM;
    int ok = pl_json_add_str(root, "platform", platform) && pl_json_add_str(root, "token", token);
    return pl_json_finish(a, root, ok, out, len);
}

int pl_proto_encode_push_unregister(const pl_alloc *a, const char *token, char **out, size_t *len)
{
    cJSON *root = pl_json_new_frame("push.unregister");
    if (!root)
        return PARLEY_ERR_NOMEM;
    return pl_json_finish(a, root, pl_json_add_str(root, "token", token), out, len);
}

/* The object that holds "conv": the payload itself, or its "parley". */
static const cJSON *parley_part(const cJSON *root)
{
    const cJSON *inner = pl_json_member(root, "parley");
    return cJSON_IsObject(inner) ? inner : root;
}

int pl_proto_decode_push(const pl_alloc *a, const char *payload, size_t len, char *conv,
                         size_t conv_size, uint64_t *seq)
{
    char why[96];
    pl_json_dec d = {a, why, sizeof why, ""};
    cJSON *root = NULL;
    int rc = pl_json_parse(&d, payload, len, &root);
    if (rc != PARLEY_OK)
        return rc == PARLEY_ERR_NOMEM ? rc : PARLEY_ERR_INVALID_ARG;
    rc = PARLEY_ERR_INVALID_ARG;
    if (cJSON_IsObject(root)) {
        const cJSON *p = parley_part(root), *c = pl_json_member(p, "conv");
        const cJSON *s = pl_json_member(p, "seq");
        rc = cJSON_IsString(c) && pl_id_valid(c->valuestring, PL_MAX_ID) &&
                     strlen(c->valuestring) < conv_size
                 ? PARLEY_OK
                 : PARLEY_ERR_NOT_FOUND;
        *seq = 0;
        if (rc == PARLEY_OK && s && !(cJSON_IsString(s) && pl_json_parse_seq(s->valuestring, seq)))
            rc = PARLEY_ERR_INVALID_ARG;
        if (rc == PARLEY_OK)
            memcpy(conv, c->valuestring, strlen(c->valuestring) + 1);
    }
    cJSON_Delete(root);
    return rc;
}
