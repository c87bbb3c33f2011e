#include "chat.h"

#include <string.h>

#include "bot.h"
#include "json.h"
#include "util.h"

int chat_owns(db *d, const char *user, const char *conv)
{
    char owner[PJ_MAX_ID + 1];
    int rc = db_conv_owner(d, conv, owner, sizeof owner);

    if (rc <= 0)
        return rc;
    return strcmp(owner, user) == 0;
}

static int finish(db *d, int rc)
{
    if (rc == CHAT_OK && db_commit(d))
        rc = CHAT_ERR;
    if (rc != CHAT_OK)
        db_rollback(d);
    return rc;
}

int chat_set_attributes(db *d, const char *user, const cJSON *attributes)
{
    const cJSON *it;
    char *value;
    int64_t now = util_now_ms();
    int rc = CHAT_OK;

    if (db_begin(d))
        return CHAT_ERR;
    cJSON_ArrayForEach(it, attributes) {
        value = cJSON_IsNull(it) ? NULL : cJSON_PrintUnformatted(it);
        if ((!value && !cJSON_IsNull(it)) || db_attr_set(d, user, it->string, value, now))
            rc = CHAT_ERR;
        cJSON_free(value);
        if (rc != CHAT_OK)
            break;
    }
    return finish(d, rc);
}

int chat_start(db *d, const char *user, const char *conv, const char *subject,
               const char *cid, const char *context)
{
    char owner[PJ_MAX_ID + 1];
    int rc;

    if (db_begin(d))
        return CHAT_ERR;
    rc = db_conv_owner(d, conv, owner, sizeof owner);
    if (rc < 0)
        return finish(d, CHAT_ERR);
    if (rc > 0)
        return finish(d, strcmp(owner, user) == 0 ? CHAT_OK : CHAT_UNKNOWN_CONV);
    if (db_conv_create(d, conv, user, subject, cid, context, util_now_ms()))
        return finish(d, CHAT_ERR);
    return finish(d, CHAT_OK);
}

static void init_msg(db_msg *m, const char *conv, const char *kind, const char *name,
                     const char *text)
{
    memset(m, 0, sizeof *m);
    m->conv = conv;
    m->author_kind = kind;
    m->author_name = name;
    m->text = text;
    m->ts = util_now_ms();
}

/* Stores the bot's reply, if it has one, after the user's message. */
static int add_bot_reply(db *d, int first, chat_sent *out)
{
    const char *reply = bot_reply(first);

    if (!reply)
        return CHAT_OK;
    init_msg(&out->bot, out->user.conv, "bot", BOT_NAME, reply);
    if (db_msg_insert(d, &out->bot))
        return CHAT_ERR;
    out->has_bot = 1;
    return CHAT_OK;
}

int chat_user_message(db *d, const char *user, const char *conv, const char *cid,
                      const char *text, const char *context, chat_sent *out)
{
    int64_t earlier = 0;
    int rc;

    memset(out, 0, sizeof *out);
    init_msg(&out->user, conv, "user", NULL, text);
    out->user.cid = cid;
    out->user.context = context;
    if (db_begin(d))
        return CHAT_ERR;
    rc = chat_owns(d, user, conv);
    if (rc <= 0)
        return finish(d, rc < 0 ? CHAT_ERR : CHAT_UNKNOWN_CONV);
    rc = db_msg_by_cid(d, conv, cid, &out->user);
    if (rc != 0) {
        out->duplicate = rc > 0;
        return finish(d, rc > 0 ? CHAT_OK : CHAT_ERR);
    }
    if (db_msg_count_kind(d, conv, "user", &earlier) || db_msg_insert(d, &out->user))
        return finish(d, CHAT_ERR);
    return finish(d, add_bot_reply(d, earlier == 0, out));
}

int chat_agent_message(db *d, const char *conv, const char *name, const char *text,
                       db_msg *out, char *user_out, size_t cap)
{
    int rc;

    init_msg(out, conv, "agent", name, text);
    if (db_begin(d))
        return CHAT_ERR;
    rc = db_conv_owner(d, conv, user_out, cap);
    if (rc <= 0)
        return finish(d, rc < 0 ? CHAT_ERR : CHAT_UNKNOWN_CONV);
    return finish(d, db_msg_insert(d, out) ? CHAT_ERR : CHAT_OK);
}
