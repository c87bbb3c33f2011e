#include "triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "conv_priority.h"
#include "json.h"
#include "presence.h"
#include "rules.h"
#include "util.h"
#include "waitest.h"

/* ---- gathering what conditions see ---- */

typedef struct gather {
    triage_input *ti;
    int64_t since;
} gather;

static int take_attr(void *ud, const store_attr *a)
{
    cJSON *v;

    /* A stale attribute is a last known value, not the user's present. */
    if (a->stale)
        return 0;
    v = cJSON_Parse(a->value);
    if (!v || !cJSON_AddItemToObject(ud, a->key, v)) {
        cJSON_Delete(v);
        return 1;
    }
    return 0;
}

static int take_event(void *ud, const store_event *e)
{
    gather *g = ud;
    triage_input *ti = g->ti;
    size_t n = ti->in.nevents;

    if (e->ts < g->since || n == TRIAGE_MAX_EVENTS)
        return 0;
    snprintf(ti->names[n], sizeof ti->names[n], "%s", e->name);
    ti->metas[n] = e->meta ? cJSON_Parse(e->meta) : NULL;
    ti->events[n] = (cond_event){ti->names[n], ti->metas[n], e->ts};
    ti->in.nevents++;
    return 0;
}

static int take_asked(void *ud, int64_t ms)
{
    triage_input *ti = ud;

    if (ti->in.nasked < TRIAGE_MAX_ASKED)
        ti->asked[ti->in.nasked++] = ms;
    return 0;
}

/* How far back the rules and the flow look. */
static void windows(server *s, int64_t *events_s, int64_t *asked_s)
{
    int64_t fe, fa;

    *events_s = *asked_s = 0;
    if (s->routing)
        rules_windows(s->routing, events_s, asked_s);
    flow_windows(s->flow, &fe, &fa);
    if (fe > *events_s)
        *events_s = fe;
    if (fa > *asked_s)
        *asked_s = fa;
}

static int gather_picture(store *st, const char *user, triage_input *ti)
{
    store_picture p;
    int rc = store_picture_get(st, user, &p);

    if (rc == 0 && p.screen && !p.screen_stale && !(ti->screen = strdup(p.screen)))
        rc = -1;
    store_picture_clear(&p);
    ti->in.screen = ti->screen;
    return rc;
}

int triage_gather(server *s, const char *user, const char *conv, const char *text, int64_t now,
                  triage_input *out)
{
    gather g = {out, 0};
    int64_t events_s, asked_s;

    memset(out, 0, sizeof *out);
    out->in.now_ms = now;
    out->in.text = text;
    out->in.events = out->events;
    out->in.asked_ms = out->asked;
    out->attributes = cJSON_CreateObject();
    out->in.attributes = out->attributes;
    windows(s, &events_s, &asked_s);
    g.since = now - events_s * 1000;
    if (!out->attributes || store_attr_each(s->store, user, take_attr, out->attributes) ||
        gather_picture(s->store, user, out) ||
        (events_s && store_event_recent(s->store, user, TRIAGE_MAX_EVENTS, take_event, &g)) ||
        (asked_s && store_user_asked(s->store, user, now - asked_s * 1000, TRIAGE_MAX_ASKED,
                                     take_asked, out) < 0) ||
        (conv && store_about_get(s->store, conv, &out->about) < 0))
        return -1;
    out->in.category = out->about.category[0] ? out->about.category : NULL;
    out->in.area = out->about.area[0] ? out->about.area : NULL;
    out->in.severity = out->about.severity[0] ? out->about.severity : NULL;
    return 0;
}

void triage_input_clear(triage_input *ti)
{
    cJSON_Delete(ti->attributes);
    free(ti->screen);
    for (size_t i = 0; i < ti->in.nevents; i++)
        cJSON_Delete(ti->metas[i]);
    ti->attributes = NULL;
    ti->screen = NULL;
    ti->in.nevents = 0;
}

/* ---- storing a triage ---- */

static int put(server *s, const char *conv, const triage *t, int64_t now)
{
    char *reasons = cJSON_PrintUnformatted(t->reasons);
    store_triage row = {t->complexity,
                        t->severity,
                        t->effort,
                        t->score,
                        rules_route_name(t->route),
                        rules_priority_name(t->priority),
                        t->team,
                        t->node,
                        t->jump,
                        reasons,
                        0,
                        NULL};
    int rc = reasons ? store_triage_put(s->store, conv, &row, now) : -1;

    cJSON_free(reasons);
    return rc;
}

/* Triages `conv` for `text` (NULL: no message), from `ctx` when the caller
 * gathered it. 0 or -1. */
static int compute(server *s, const char *user, const char *conv, const char *text,
                   const cond_input *ctx, int64_t now, triage *out)
{
    triage_input ti;
    int rc;

    memset(out, 0, sizeof *out);
    if (ctx)
        return rules_triage(s->routing, ctx, out);
    rc = triage_gather(s, user, conv, text, now, &ti);
    if (rc == 0)
        rc = rules_triage(s->routing, &ti.in, out);
    triage_input_clear(&ti);
    return rc;
}

/* What the stored triage said before this message. */
typedef struct previous {
    int found, routed, jump, priority;
    char team[RULES_MAX_NAME + 1];
    char kb_article[KB_MAX_ID + 1];
    cJSON *reasons;
} previous;

static int take_previous(void *ud, const store_triage *t)
{
    previous *p = ud;

    p->found = 1;
    p->routed = t->routed;
    p->jump = t->jump;
    p->priority = rules_priority_parse(t->priority);
    snprintf(p->team, sizeof p->team, "%s", t->team);
    snprintf(p->kb_article, sizeof p->kb_article, "%s", t->kb_article ? t->kb_article : "");
    p->reasons = cJSON_Parse(t->reasons);
    return 0;
}

static int get_previous(server *s, const char *conv, previous *p)
{
    memset(p, 0, sizeof *p);
    return store_triage_get(s->store, conv, take_previous, p) < 0 ? -1 : 0;
}

int triage_conv_started(server *s, const char *user, const char *conv)
{
    int64_t now = util_now_ms();
    previous prev;
    triage t;
    int rc;

    if (!s->routing)
        return 0;
    if (store_begin(s->store))
        return -1;
    memset(&t, 0, sizeof t);
    /* A resent conv.start finds its triage there. */
    rc = get_previous(s, conv, &prev);
    cJSON_Delete(prev.reasons);
    if (rc == 0 && !prev.found)
        rc = compute(s, user, conv, NULL, NULL, now, &t) || put(s, conv, &t, now);
    triage_clear(&t);
    if (rc == 0 && store_commit(s->store) == 0)
        return 0;
    store_rollback(s->store);
    return -1;
}

/* ---- who of a team is there (docs/routing.md, "Teams and office hours") ---- */

static int in_json_list(const char *json, const char *name)
{
    cJSON *list = json ? cJSON_Parse(json) : NULL;
    const cJSON *it;
    int found = 0;

    cJSON_ArrayForEach(it, list) {
        found |= cJSON_IsString(it) && strcmp(it->valuestring, name) == 0;
    }
    cJSON_Delete(list);
    return found;
}

/* 1 when the agent belongs to `team`: the routing file lists its account
 * name or its display name, or the account's own teams name the team. */
static int member(const rules *r, const char *team, const char *name, const char *display,
                  const char *teams)
{
    return rules_team_has_agent(r, team, name) ||
           (display && rules_team_has_agent(r, team, display)) || in_json_list(teams, team);
}

typedef struct staffing {
    const rules *r;
    const char *team;
    int online;
} staffing;

static int count_online(void *ud, const presence_agent *a)
{
    staffing *st = ud;

    if (a->presence == PRES_ONLINE && member(st->r, st->team, a->name, a->display_name, a->teams))
        st->online++;
    return 0;
}

static int any_account(void *ud, const store_agent *a)
{
    (void)ud;
    (void)a;
    return 1;
}

/* The team's agents online now; -1 when the server knows no presence (it
 * has no agent accounts, only the API token: one agent is assumed). */
static int team_online(server *s, const char *team)
{
    staffing st = {s->routing, team, 0};
    int rc = store_agent_each(s->store, any_account, NULL);

    if (rc <= 0)
        return -1;
    return presence_each(s, count_online, &st) ? -1 : st.online;
}

/* ---- what a message leads to ---- */

/* Where the conversation's route stands after this message. */
typedef struct decision {
    int mark;            /* store routed (and kb_article) */
    const char *article; /* the article awaiting "did this solve it?" */
} decision;

static int say(flow_reply *r, const char *text)
{
    memset(r, 0, sizeof *r);
    r->text = strdup(text);
    return r->text ? 0 : -1;
}

static int reasonf(triage *t, const char *rule, const char *fmt, const char *a, const char *b)
{
    char text[400];

    snprintf(text, sizeof text, fmt, a, b);
    return triage_add_reason(t, rule, text);
}

/* Open, but is anybody there? The flow's hand-off text when someone of
 * the team is online (or presence is unknown), else the honest truth. */
static int staffed_handoff(server *s, triage *t, triage_action *out)
{
    int online = team_online(s, t->team);
    char text[160];

    if (online < 0)
        return say(&out->reply, flow_handoff_text(s->flow)) ||
               reasonf(t, "hours", "team %s is open: queued%s", t->team, "");
    if (online > 0) {
        snprintf(text, sizeof text, "team %s is open, %d agent%s online: queued", t->team, online,
                 online == 1 ? "" : "s");
        return say(&out->reply, flow_handoff_text(s->flow)) ||
               triage_add_reason(t, "presence", text);
    }
    memset(&out->reply, 0, sizeof out->reply);
    out->reply.text = rules_nobody_online(s->routing, t->team);
    return !out->reply.text ||
                   reasonf(t, "presence",
                           "team %s is open but nobody of it is online: queued, and the user was "
                           "told%s",
                           t->team, "")
               ? -1
               : 0;
}

/* To the human queue: the flow's hand-off text, or the honest truth when
 * the team is away or nobody of it is online (docs/routing.md, "Teams and
 * office hours"). */
static int handoff(server *s, triage *t, int64_t now, triage_action *out)
{
    char opens[64];

    out->act = TRIAGE_HANDOFF;
    if (rules_team_open(s->routing, t->team, now))
        return staffed_handoff(s, t, out);
    memset(&out->reply, 0, sizeof out->reply);
    out->reply.text = rules_out_of_hours(s->routing, t->team, now);
    rules_team_opens(s->routing, t->team, now, opens, sizeof opens);
    return !out->reply.text ||
                   reasonf(t, "hours",
                           "team %s is away until %s: queued, and the user was told when", t->team,
                           opens)
               ? -1
               : 0;
}

/* The knowledge base first: an article with "did this solve it?", or the
 * flow when none matches. */
static int kb_first(server *s, triage *t, const char *text, decision *d, triage_action *out)
{
    const rules_kb *k = rules_kb_texts(s->routing);
    int rc = text ? flow_kb_answer(s->kb, text, k->intro, k->ask, k->yes, k->no, &out->reply) : 0;

    if (rc < 0)
        return -1;
    if (rc == 0) {
        flow_reply_clear(&out->reply);
        out->act = TRIAGE_FLOW;
        return reasonf(t, "kb", "no article matches: the bot flow answers%s%s", "", "");
    }
    out->act = TRIAGE_SAY;
    d->article = out->reply.article;
    return reasonf(t, "kb", "article %s sent, asking \"%s\"", out->reply.article, k->ask);
}

/* The first text of a conversation takes the route. */
static int take_route(server *s, triage *t, const char *text, int64_t now, decision *d,
                      triage_action *out)
{
    d->mark = 1;
    if (t->route == RULES_KB)
        return kb_first(s, t, text, d, out);
    if (t->route == RULES_HUMAN)
        return handoff(s, t, now, out);
    out->node = t->node;
    return 0;
}

/* The answer to "did this solve it?": 1 when `in` was one (handled), 0
 * when it is a new question, -1. */
static int kb_answer(server *s, const previous *p, triage *t, const flow_input *in, int64_t now,
                     decision *d, triage_action *out)
{
    const char *pb = in->postback ? in->payload : NULL;
    const char *article = p->kb_article[0] ? p->kb_article : "shown";
    int no =
        in->postback ? pb && strcmp(pb, FLOW_KB_NO) == 0 : rules_kb_says_no(s->routing, in->text);

    d->mark = 1;
    if (pb && strcmp(pb, FLOW_KB_YES) == 0) {
        out->act = TRIAGE_SAY;
        return say(&out->reply, rules_kb_texts(s->routing)->solved) ||
                       reasonf(t, "kb", "the article %s solved it%s", article, "")
                   ? -1
                   : 1;
    }
    if (!no)
        return 0;
    t->effort += rules_kb_texts(s->routing)->escalate_effort;
    rules_rescore(s->routing, t);
    t->route = RULES_HUMAN;
    if (t->priority < RULES_NORMAL)
        t->priority = RULES_NORMAL;
    return reasonf(t, "kb", "the article %s did not solve it: escalated to %s", article, t->team) ||
                   handoff(s, t, now, out)
               ? -1
               : 1;
}

/* The bot has the conversation: a pending "did this solve it?", the first
 * text's route, a later text's escalation, or the flow. */
static int in_bot(server *s, const previous *prev, triage *t, const flow_input *in, int64_t now,
                  decision *d, triage_action *out)
{
    int kb_choice = in->postback && in->payload &&
                    (strcmp(in->payload, FLOW_KB_YES) == 0 || strcmp(in->payload, FLOW_KB_NO) == 0);
    int rc = prev->kb_article[0] || kb_choice ? kb_answer(s, prev, t, in, now, d, out) : 0;

    if (rc)
        return rc < 0 ? -1 : 0;
    /* A choice among the bot's own options follows the flow. */
    if (in->postback)
        return 0;
    if (!prev->routed)
        return take_route(s, t, in->text, now, d, out);
    if (t->route == RULES_HUMAN)
        return reasonf(t, "route", "escalated to the human queue of %s%s", t->team, "") ||
               handoff(s, t, now, out);
    return 0;
}

/* While queued a message only ever raises the priority; the lane and the
 * team follow the newest triage, and the reasons that brought it here
 * stay, with the new rules that fired after them. */
static int keep_queued(const previous *p, triage *t, triage_action *out)
{
    cJSON *merged = p->reasons ? cJSON_Duplicate(p->reasons, 1) : cJSON_CreateArray(), *it, *c;
    char text[160];

    if (p->found && p->priority > (int)t->priority)
        t->priority = (rules_priority)p->priority;
    t->jump |= p->found && p->jump;
    out->act = TRIAGE_NONE;
    out->reordered = !p->found || p->priority != (int)t->priority || p->jump != t->jump ||
                     strcmp(p->team, t->team) != 0;
    cJSON_ArrayForEach(it, t->reasons) {
        if (!merged || strcmp(pj_string(it, "rule"), "routes") == 0 ||
            strcmp(pj_string(it, "rule"), "route") == 0)
            continue;
        if (!(c = cJSON_Duplicate(it, 1)) || !cJSON_AddItemToArray(merged, c)) {
            cJSON_Delete(c);
            break;
        }
    }
    while (merged && cJSON_GetArraySize(merged) > TRIAGE_MAX_REASONS)
        cJSON_DeleteItemFromArray(merged, 0);
    cJSON_Delete(t->reasons);
    t->reasons = merged;
    snprintf(text, sizeof text, "a new message while queued: priority %s, team %s%s",
             rules_priority_name(t->priority), t->team, t->jump ? ", VIP lane" : "");
    return merged && out->reordered ? triage_add_reason(t, "queue", text) : merged ? 0 : -1;
}

int triage_message(server *s, const char *user, const char *conv, const char *state,
                   const flow_input *in, triage_action *out)
{
    int64_t now = util_now_ms();
    int queued = strcmp(state, "queued") == 0;
    decision d = {0, NULL};
    previous prev;
    triage t;
    int rc;

    memset(out, 0, sizeof *out);
    memset(&t, 0, sizeof t);
    out->act = TRIAGE_FLOW;
    if (!s->routing || (!queued && strcmp(state, "bot") != 0))
        return 0;
    rc = get_previous(s, conv, &prev) || compute(s, user, conv, in->text, in->ctx, now, &t);
    if (rc == 0)
        rc = queued ? keep_queued(&prev, &t, out) : in_bot(s, &prev, &t, in, now, &d, out);
    /* The row first: marking the route needs it. */
    if (rc == 0)
        rc = put(s, conv, &t, now);
    if (rc == 0 && d.mark)
        rc = store_triage_routed(s->store, conv, d.article);
    triage_clear(&t);
    cJSON_Delete(prev.reasons);
    return rc;
}

void triage_action_clear(triage_action *a)
{
    flow_reply_clear(&a->reply);
    memset(a, 0, sizeof *a);
}

/* ---- handle times and the wait ---- */

static int take_team(void *ud, const store_triage *t)
{
    snprintf(ud, RULES_MAX_NAME + 1, "%s", t->team);
    return 0;
}

/* The conversation's team: its triage's, else the default team. */
static int team_of_conv(server *s, const char *conv, char team[RULES_MAX_NAME + 1])
{
    team[0] = '\0';
    if (store_triage_get(s->store, conv, take_team, team) < 0)
        return -1;
    if (rules_team_index(s->routing, team) < 0)
        snprintf(team, RULES_MAX_NAME + 1, "%s", rules_default_team(s->routing));
    return 0;
}

/* 1 when `agent` (an account's name, or a name the API token wrote as)
 * belongs to `team`. */
static int agent_in_team(server *s, const char *team, const char *agent)
{
    store_agent acc;
    int rc;

    if (rules_team_has_agent(s->routing, team, agent))
        return 1;
    rc = store_agent_get(s->store, agent, &acc);
    return rc < 0 ? -1 : rc == 1 && member(s->routing, team, acc.name, acc.display_name, acc.teams);
}

/* An agent took the conversation: allowed outside its team, but said. */
static int check_team(server *s, const char *conv, const char *agent)
{
    char team[RULES_MAX_NAME + 1], text[200];
    int rc;

    if (!agent || !agent[0])
        return 0;
    if (team_of_conv(s, conv, team) || (rc = agent_in_team(s, team, agent)) < 0)
        return -1;
    if (rc)
        return 0;
    snprintf(text, sizeof text, "assigned to %s, outside team %s", agent, team);
    return store_triage_reason_add(s->store, conv, "assign", text);
}

int triage_on_state(server *s, const char *conv, const char *from, const char *to,
                    const char *agent, int64_t now)
{
    char team[RULES_MAX_NAME + 1];
    int64_t started;
    int rc;

    if (!s->routing || (strcmp(from, to) == 0 && strcmp(to, "agent") != 0))
        return 0;
    if (strcmp(to, "agent") == 0)
        return (strcmp(from, "agent") != 0 && store_assign_start(s->store, conv, now)) ||
               check_team(s, conv, agent);
    if (strcmp(from, "agent") != 0)
        return 0;
    rc = store_assign_end(s->store, conv, &started);
    if (rc <= 0)
        return rc;
    if (team_of_conv(s, conv, team) || store_handle_add(s->store, team, conv, now - started, now))
        return -1;
    waitest_add(s->waits, (size_t)rules_team_index(s->routing, team), now - started);
    return 0;
}

static int add_wait(void *ud, int64_t ms)
{
    void **team = ud;

    waitest_add(team[0], (size_t)(intptr_t)team[1], ms);
    return 0;
}

int triage_load_waits(server *s)
{
    size_t n = s->routing ? rules_team_count(s->routing) : 0;

    for (size_t i = 0; i < n; i++) {
        void *ud[2] = {s->waits, (void *)(intptr_t)i};
        if (store_handle_recent(s->store, rules_team_name(s->routing, i),
                                rules_wait_window(s->routing), add_wait, ud) < 0)
            return -1;
    }
    return 0;
}

/* The measured wait of the position-th of `team` (seconds), plus the time
 * until the team opens. */
static int64_t measured(server *s, const char *team, int64_t position)
{
    int i = rules_team_index(s->routing, team);
    int64_t now = util_now_ms(), next, wait;
    int online;

    if (i < 0)
        i = rules_team_index(s->routing, rules_default_team(s->routing));
    online = team_online(s, rules_team_name(s->routing, (size_t)i));
    wait = waitest_wait_s(s->waits, (size_t)i, position, online > 1 ? online : 1);
    next = rules_team_next_open(s->routing, team, now);
    return next > now ? wait + (next - now + 999) / 1000 : wait;
}

int triage_wait(server *s, const char *conv, int64_t *position, int64_t *wait_s)
{
    int per = flow_wait_per_position(s->flow);
    char team[RULES_MAX_NAME + 1];

    *wait_s = -1;
    if (!s->routing) {
        if (store_queue_position(s->store, conv, position))
            return -1;
        if (per)
            *wait_s = *position * per;
        return 0;
    }
    if (store_queue_team_position(s->store, conv, position, team, sizeof team))
        return -1;
    if (*position)
        *wait_s = measured(s, team[0] ? team : rules_default_team(s->routing), *position);
    return 0;
}

int64_t triage_wait_of(server *s, const store_queued *q)
{
    int per = flow_wait_per_position(s->flow);

    if (!s->routing)
        return per ? q->position * per : -1;
    return measured(s, q->team ? q->team : rules_default_team(s->routing), q->team_position);
}

/* ---- the next conversation for an agent ---- */

typedef struct next_pick {
    const rules *r;
    const char *name, *display, *teams;
    int any; /* the agent is in no team: the whole queue */
    char *conv;
} next_pick;

static int pick_next(void *ud, const store_queued *q)
{
    next_pick *p = ud;

    if (!p->any &&
        !member(p->r, q->team ? q->team : rules_default_team(p->r), p->name, p->display, p->teams))
        return 0;
    snprintf(p->conv, PJ_MAX_ID + 1, "%s", q->conv);
    return 1;
}

int triage_next_for(server *s, const char *agent, char conv[PJ_MAX_ID + 1])
{
    next_pick p = {s->routing, agent, NULL, NULL, 1, conv};
    store_agent acc;
    int rc = store_agent_get(s->store, agent, &acc);

    conv[0] = '\0';
    if (rc < 0)
        return -1;
    if (rc == 1) {
        p.display = acc.display_name;
        p.teams = acc.teams;
    }
    for (size_t i = 0; s->routing && i < rules_team_count(s->routing); i++)
        p.any &= !member(s->routing, rules_team_name(s->routing, i), p.name, p.display, p.teams);
    rc = store_queue_each(s->store, pick_next, &p);
    return rc < 0 ? -1 : conv[0] != '\0';
}

/* ---- the conversation's priority follows its triage ---- */

static int take_priority(void *ud, const store_triage *t)
{
    snprintf(ud, 8, "%s", t->priority);
    return 0;
}

void triage_sync_priority(server *s, const char *conv)
{
    char want[8] = "", have[8], by[STORE_AGENT_NAME_BUF];

    if (!s->routing || store_triage_get(s->store, conv, take_priority, want) != 1 ||
        store_priority_get(s->store, conv, have, by))
        return;
    /* A priority an agent chose stays theirs. */
    if (by[0] && strcmp(by, "rules") != 0)
        return;
    if (conv_priority_set(s, conv, want, "rules") != CONV_PRIORITY_OK)
        fprintf(stderr, "parley-server: cannot set the priority of %s\n", conv);
}

/* ---- the agents' view ---- */

static int add_triage(void *ud, const store_triage *t)
{
    cJSON *o = cJSON_AddObjectToObject(ud, "triage");
    cJSON *reasons = cJSON_Parse(t->reasons);

    if (!reasons)
        reasons = cJSON_CreateArray();
    if (!o || !reasons || !cJSON_AddNumberToObject(o, "complexity", t->complexity) ||
        !cJSON_AddNumberToObject(o, "severity", t->severity) ||
        !cJSON_AddNumberToObject(o, "effort", t->effort) ||
        !cJSON_AddNumberToObject(o, "score", t->score) ||
        !cJSON_AddStringToObject(o, "route", t->route) ||
        !cJSON_AddStringToObject(o, "priority", t->priority) ||
        !cJSON_AddStringToObject(o, "team", t->team) ||
        !(t->node ? cJSON_AddStringToObject(o, "node", t->node)
                  : cJSON_AddNullToObject(o, "node")) ||
        !cJSON_AddBoolToObject(o, "jump", t->jump) ||
        !(t->kb_article ? cJSON_AddStringToObject(o, "kb_article", t->kb_article)
                        : cJSON_AddNullToObject(o, "kb_article")) ||
        !cJSON_AddItemToObject(o, "reasons", reasons)) {
        cJSON_Delete(reasons);
        return 1;
    }
    return 0;
}

static int add_about(cJSON *obj, const store_about *a, int found)
{
    cJSON *o;

    if (!found)
        return cJSON_AddNullToObject(obj, "about") ? 0 : -1;
    o = cJSON_AddObjectToObject(obj, "about");
    return o &&
                   (a->category[0] ? cJSON_AddStringToObject(o, "category", a->category)
                                   : cJSON_AddNullToObject(o, "category")) &&
                   (a->area[0] ? cJSON_AddStringToObject(o, "area", a->area)
                               : cJSON_AddNullToObject(o, "area")) &&
                   (a->severity[0] ? cJSON_AddStringToObject(o, "severity", a->severity)
                                   : cJSON_AddNullToObject(o, "severity"))
               ? 0
               : -1;
}

int triage_add_to_conv(server *s, cJSON *obj, const char *conv)
{
    store_about about;
    int rc = store_triage_get(s->store, conv, add_triage, obj);

    if (rc == 0 && !cJSON_AddNullToObject(obj, "triage"))
        return -1;
    if (rc < 0)
        return -1;
    rc = store_about_get(s->store, conv, &about);
    return rc < 0 ? -1 : add_about(obj, &about, rc);
}
