#include "bot.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "deliver.h"
#include "json.h"
#include "triage.h"
#include "util.h"

/* The choice a postback names, copied out of the message's stored blocks. */
typedef struct choice {
    char label[BLOCKS_MAX_LABEL + 1];
    char payload[BLOCKS_MAX_PAYLOAD + 1];
    int has_payload;
    char origin[PJ_MAX_ID + 1]; /* the flow node that wrote the message, or "" */
} choice;

const char *bot_check_postback(const cJSON *pb)
{
    const cJSON *payload = cJSON_GetObjectItemCaseSensitive(pb, "payload");

    if (!cJSON_IsObject(pb))
        return "postback must be an object";
    if (!pj_is_ident(pj_string(pb, "msg")))
        return "postback.msg must be a message id";
    if (!pj_is_ident(pj_string(pb, "option")))
        return "postback.option must be an option id";
    if (payload && (!cJSON_IsString(payload) || strlen(payload->valuestring) > BLOCKS_MAX_PAYLOAD))
        return "postback.payload must be a string of at most 1024 bytes";
    return NULL;
}

/* 1 with the choice when the message postback.msg of `conv` offers the
 * postback option postback.option, 0 when not, -1 on error. */
static int find_choice(store *st, const char *conv, const cJSON *pb, choice *ch)
{
    const char *label, *payload;
    char *text;
    cJSON *blocks;
    int rc = store_msg_offer(st, conv, pj_string(pb, "msg"), &text, ch->origin);

    if (rc <= 0)
        return rc;
    blocks = cJSON_Parse(text);
    free(text);
    if (!blocks)
        return -1;
    rc = blocks_find_postback(blocks, pj_string(pb, "option"), &label, &payload);
    if (rc) {
        snprintf(ch->label, sizeof ch->label, "%s", label);
        snprintf(ch->payload, sizeof ch->payload, "%s", payload ? payload : "");
        ch->has_payload = payload != NULL;
    }
    cJSON_Delete(blocks);
    return rc;
}

/* What the user message stores: the choice as the server knows it. */
static char *postback_json(const cJSON *pb, const choice *ch)
{
    cJSON *o = cJSON_CreateObject();
    char *json = NULL;

    if (o && cJSON_AddStringToObject(o, "msg", pj_string(pb, "msg")) &&
        cJSON_AddStringToObject(o, "option", pj_string(pb, "option")) &&
        (!ch->has_payload || cJSON_AddStringToObject(o, "payload", ch->payload)))
        json = cJSON_PrintUnformatted(o);
    cJSON_Delete(o);
    return json;
}

static int finish(store *st, bot_result *out, int rc)
{
    if (rc == BOT_OK && store_commit(st))
        rc = BOT_ERR;
    if (rc != BOT_OK) {
        store_rollback(st);
        bot_result_clear(out);
    }
    return rc;
}

/* Folds one step into the stored bot notes. */
static int note(store_state *st, const flow_input *in, const flow_reply *r)
{
    cJSON *notes = st->notes ? cJSON_Parse(st->notes) : NULL;
    char *printed = NULL;

    if (flow_note(&notes, in, r) == 0)
        printed = cJSON_PrintUnformatted(notes);
    cJSON_Delete(notes);
    if (!printed)
        return -1;
    free(st->notes);
    st->notes = strdup(printed);
    cJSON_free(printed);
    return st->notes ? 0 : -1;
}

/* Stores the bot's message out->run (its node may be NULL: not the flow's)
 * and moves the state along: the node it ran, a hand-off. */
static int keep_reply(server *s, const char *conv, store_state *st, const flow_input *in,
                      bot_result *out)
{
    store_msg *m = &out->reply;

    memset(m, 0, sizeof *m);
    m->conv = conv;
    m->author_kind = "bot";
    m->author_name = flow_bot_name(s->flow);
    m->text = out->run.text;
    m->blocks = out->run.blocks;
    m->ts = util_now_ms();
    if (store_msg_insert(s->store, m) ||
        (out->run.node && store_bot_message(s->store, m->id, out->run.node)) ||
        note(st, in, &out->run))
        return -1;
    out->has_reply = 1;
    /* A message outside the flow leaves it where it stands, or at its start
     * (the flow has then answered the first message). */
    snprintf(st->node, sizeof st->node, "%s",
             out->run.node ? out->run.node
             : st->node[0] ? st->node
                           : flow_start(s->flow));
    if (out->run.handoff) {
        snprintf(st->state, sizeof st->state, "queued");
        st->queued_ms = m->ts;
        out->state_changed = 1;
        /* With routing it may join ahead of others (a VIP, a higher
         * priority): their places move. */
        out->queue_moved |= s->routing != NULL;
        if (store_action_add(s->store, conv, "handoff", "bot", NULL, m->ts))
            return -1;
    }
    return 0;
}

/* Runs `node`, stores the bot's message and moves the state along. */
static int run_node(server *s, const char *conv, store_state *st, const char *node,
                    const flow_input *in, bot_result *out)
{
    if (flow_run(s->flow, s->kb, node, in ? in->text : NULL, &out->run))
        return -1;
    return keep_reply(s, conv, st, in, out);
}

int bot_conv_started(server *s, const char *conv, bot_result *out)
{
    store_state st;
    int rc;

    memset(out, 0, sizeof *out);
    if (store_begin(s->store))
        return BOT_ERR;
    rc = store_state_get(s->store, conv, &st);
    if (rc == 0 && !st.node[0] && strcmp(st.state, "bot") == 0 && flow_greets_on_start(s->flow))
        rc = run_node(s, conv, &st, flow_start(s->flow), NULL, out) ||
             store_state_put(s->store, conv, &st, util_now_ms());
    store_state_clear(&st);
    return finish(s->store, out, rc ? BOT_ERR : BOT_OK);
}

/* The flow's answer: `node` when triage named one, else the flow's own
 * rules (on a first message, a rule on the user's context before the
 * greeting). */
static int flow_answer(server *s, const bot_msg_in *in, store_state *st, const flow_input *fin,
                       const char *node, bot_result *out)
{
    const char *next = node;
    flow_reply none;

    /* A bot that greets on the first message has not run yet: the
     * greeting is the answer, and the message goes into the notes. */
    if (!next && !st->node[0] && !flow_greets_on_start(s->flow)) {
        next = flow_route_context(s->flow, fin);
        if (!next)
            next = flow_start(s->flow);
    } else if (!next) {
        next = flow_route(s->flow, st->node, fin);
    }
    if (next)
        return run_node(s, in->conv, st, next, fin, out);
    /* No rule answers it, but the agent who takes over should still know. */
    memset(&none, 0, sizeof none);
    return note(st, fin, &none);
}

/* Does what triage said (triage.h). */
static int follow(server *s, const bot_msg_in *in, store_state *st, const flow_input *fin,
                  triage_action *act, bot_result *out)
{
    switch (act->act) {
    case TRIAGE_NONE: out->queue_moved |= act->reordered; return 0;
    case TRIAGE_HANDOFF:
        act->reply.handoff = 1;
        /* fall through */
    case TRIAGE_SAY:
        out->run = act->reply;
        memset(&act->reply, 0, sizeof act->reply);
        return keep_reply(s, in->conv, st, fin, out);
    case TRIAGE_FLOW: break;
    }
    return strcmp(st->state, "bot") == 0 ? flow_answer(s, in, st, fin, act->node, out) : 0;
}

/* The bot's part once the user's message is stored: triage (with
 * --routing), then the flow, while the bot or the queue has it. */
static int react(server *s, const bot_msg_in *in, const choice *ch, store_state *st,
                 bot_result *out)
{
    triage_input ti;
    triage_action act;
    flow_input fin;
    int rc;

    if (strcmp(st->state, "closed") == 0) {
        snprintf(st->state, sizeof st->state, "open");
        out->state_changed = 1;
        /* The user writing again is a new episode for the agents. */
        return store_action_add(s->store, in->conv, "reopen", "user", NULL, util_now_ms());
    }
    /* A file without a caption says nothing a flow could route. */
    if ((strcmp(st->state, "bot") != 0 && strcmp(st->state, "queued") != 0) ||
        (!in->postback && !in->text[0]))
        return 0;
    fin.postback = in->postback != NULL;
    fin.text = fin.postback ? ch->label : in->text;
    fin.payload = fin.postback && ch->has_payload ? ch->payload : NULL;
    fin.origin = fin.postback && ch->origin[0] ? ch->origin : NULL;
    fin.ctx = NULL;
    memset(&act, 0, sizeof act);
    rc = triage_gather(s, in->user, in->conv, fin.text, util_now_ms(), &ti);
    if (rc == 0) {
        fin.ctx = &ti.in;
        rc = triage_message(s, in->user, in->conv, st->state, &fin, &act);
    }
    if (rc == 0)
        rc = follow(s, in, st, &fin, &act, out);
    triage_action_clear(&act);
    triage_input_clear(&ti);
    return rc;
}

static void init_user_msg(store_msg *m, const bot_msg_in *in)
{
    memset(m, 0, sizeof *m);
    m->conv = in->conv;
    m->author_kind = "user";
    m->text = in->text;
    m->cid = in->cid;
    m->context = in->context;
    m->attachment = in->attachment;
    m->ts = util_now_ms();
}

/* The postback's choice, stored with the message as the server knows it. */
static int take_postback(store *st, const bot_msg_in *in, choice *ch, bot_result *out)
{
    int rc = find_choice(st, in->conv, in->postback, ch);

    if (rc <= 0)
        return rc < 0 ? BOT_ERR : BOT_BAD_POSTBACK;
    out->postback = postback_json(in->postback, ch);
    out->user.postback = out->postback;
    return out->postback ? BOT_OK : BOT_ERR;
}

int bot_user_message(server *s, const bot_msg_in *in, bot_result *out)
{
    store *st = s->store;
    store_state state;
    choice ch;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&ch, 0, sizeof ch);
    init_user_msg(&out->user, in);
    if (store_begin(st))
        return BOT_ERR;
    rc = store_conv_owned(st, in->user, in->conv);
    if (rc <= 0)
        return finish(st, out, rc < 0 ? BOT_ERR : BOT_UNKNOWN_CONV);
    rc = store_msg_by_cid(st, in->conv, in->cid, &out->user);
    if (rc != 0) {
        out->duplicate = rc > 0;
        return finish(st, out, rc > 0 ? BOT_OK : BOT_ERR);
    }
    if (in->postback && (rc = take_postback(st, in, &ch, out)) != BOT_OK)
        return finish(st, out, rc);
    if (store_msg_insert(st, &out->user) || store_state_get(st, in->conv, &state))
        return finish(st, out, BOT_ERR);
    rc = react(s, in, &ch, &state, out) || store_state_put(st, in->conv, &state, out->user.ts);
    store_state_clear(&state);
    return finish(st, out, rc ? BOT_ERR : BOT_OK);
}

/* Back to the bot: the flow starts over, and its resume node speaks. */
static int hand_back(server *s, const char *conv, store_state *st, bot_result *out)
{
    const char *resume = flow_resume(s->flow);

    out->queue_moved = strcmp(st->state, "queued") == 0;
    out->state_changed = 1;
    if (triage_on_state(s, conv, st->state, "bot", NULL, util_now_ms()))
        return -1;
    snprintf(st->state, sizeof st->state, "bot");
    st->agent[0] = '\0';
    st->queued_ms = 0;
    snprintf(st->node, sizeof st->node, "%s", flow_start(s->flow));
    if (resume && run_node(s, conv, st, resume, NULL, out))
        return -1;
    return store_state_put(s->store, conv, st, util_now_ms());
}

int bot_hand_back(server *s, const char *conv, bot_result *out, char *user_out)
{
    store_state st;
    int rc;

    memset(out, 0, sizeof *out);
    if (store_begin(s->store))
        return BOT_ERR;
    rc = store_conv_owner(s->store, conv, user_out, PJ_MAX_ID + 1);
    if (rc <= 0)
        return finish(s->store, out, rc < 0 ? BOT_ERR : BOT_UNKNOWN_CONV);
    if (store_state_get(s->store, conv, &st))
        return finish(s->store, out, BOT_ERR);
    rc = strcmp(st.state, "bot") != 0 ? hand_back(s, conv, &st, out) : 0;
    store_state_clear(&st);
    return finish(s->store, out, rc ? BOT_ERR : BOT_OK);
}

void bot_deliver(server *s, const char *user, const char *conv, const bot_result *r)
{
    /* The new state first: a client that shows the bot's "connecting you
     * with a human" already knows it is queued. */
    if (r->state_changed)
        deliver_state(s, user, conv);
    if (r->has_reply)
        deliver_msg(s, user, &r->reply, NULL);
    if (r->queue_moved)
        deliver_queue(s);
}

void bot_result_clear(bot_result *r)
{
    flow_reply_clear(&r->run);
    cJSON_free(r->postback);
    r->postback = NULL;
    r->has_reply = 0;
    r->state_changed = 0;
    r->queue_moved = 0;
}
