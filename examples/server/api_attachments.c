#include "api_attachments.h"

#include <stdio.h>
#include <string.h>

#include "agent.h"
#include "attach.h"
#include "json.h"

#define HTTP_NAME_MAX 256
#define HTTP_CAPTION_MAX 16385

unsigned api_attachments_get(server *s, const char *id, http_file *f, cJSON **out)
{
    attach_file a;
    int rc = attach_find(s, NULL, id, &a);

    if (rc < 0)
        return http_error(out, HTTP_SERVER_ERROR, "cannot read the attachment");
    if (rc == 0)
        return http_error(out, HTTP_NOT_FOUND, "unknown attachment");
    snprintf(f->send_path, sizeof f->send_path, "%s", a.path);
    snprintf(f->send_type, sizeof f->send_type, "%s", a.type);
    snprintf(f->send_name, sizeof f->send_name, "%s", a.name);
    f->send_size = a.size;
    *out = cJSON_CreateObject();
    return HTTP_OK;
}

/* 201 {"id","seq","attachment":{...}}. */
static unsigned created(const store_msg *m, cJSON **out)
{
    char seq[PJ_SEQ_BUF];
    cJSON *att = cJSON_Parse(m->attachment);

    pj_format_seq(m->seq, seq);
    *out = cJSON_CreateObject();
    if (!*out || !att || !cJSON_AddStringToObject(*out, "id", m->id) ||
        !cJSON_AddStringToObject(*out, "seq", seq) ||
        !cJSON_AddItemToObject(*out, "attachment", att)) {
        cJSON_Delete(att);
        cJSON_Delete(*out);
        *out = NULL;
    }
    return HTTP_CREATED;
}

unsigned api_attachments_post(server *s, const char *conv, http_file *f, cJSON **out)
{
    char name[HTTP_NAME_MAX], caption[HTTP_CAPTION_MAX], agent[PJ_MAX_ID + 1];
    const char *why = "name (the query's name=) is required", *text, *who, *by = NULL;
    char *att = NULL;
    store_msg m;
    int rc;

    if (!f->query(f->ctx, "name", name, sizeof name))
        return http_error(out, HTTP_BAD_REQUEST, why);
    text = f->query(f->ctx, "caption", caption, sizeof caption);
    who = f->query(f->ctx, "agent", agent, sizeof agent);
    if (text && (strlen(text) > s->max_text || !pj_utf8_valid(text, strlen(text))))
        return http_error(out, HTTP_BAD_REQUEST, "caption: UTF-8 of at most --max-text bytes");
    if (who && (!who[0] || !pj_utf8_valid(who, strlen(who))))
        return http_error(out, HTTP_BAD_REQUEST, "agent: a name of 1 ... 128 bytes");
    /* A signed-in agent writes under their own display name. */
    if (s->req && !s->req->via_token) {
        who = s->req->display;
        by = s->req->name;
    }
    rc = attach_agent_file(s, conv, f->path, f->size, f->sha256, name, f->type, &att, &why);
    if (rc == -3)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    if (rc == -1)
        return http_error(out, HTTP_BAD_REQUEST, why);
    rc = rc ? AGENT_ERR
            : agent_file_message(s, conv, who ? who : AGENT_NAME_DEFAULT, text ? text : "", NULL,
                                 att, by, &m);
    if (rc == AGENT_OK)
        rc = created(&m, out) && *out ? AGENT_OK : AGENT_ERR;
    cJSON_free(att);
    if (rc == AGENT_UNKNOWN_CONV)
        return http_error(out, HTTP_NOT_FOUND, "unknown conversation");
    return rc == AGENT_OK ? HTTP_CREATED : http_error(out, HTTP_SERVER_ERROR, "cannot store");
}
