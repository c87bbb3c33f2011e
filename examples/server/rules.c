#include "rules.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "blocks.h"
#include "hours.h"
#include "json.h"

#define MAX_ROUTES 16
#define MAX_REASON 256
#define MAX_DOC_DEPTH 32
#define DEFAULT_WINDOW 20
#define DEFAULT_HANDLE_S 300
#define DEFAULT_OUT_OF_HOURS                                                                       \
    "Our team is away right now. We are back {opens} ({opens_in}). Your conversation stays "       \
    "open and the answer will arrive here."
#define DEFAULT_NOBODY_ONLINE                                                                      \
    "Nobody from our {team} team is online right now. Your conversation stays open and the "       \
    "answer will arrive here, even if you close the app."

enum { DIM_COMPLEXITY, DIM_SEVERITY, DIM_EFFORT, NDIMS };
static const char *const dim_names[NDIMS] = {"complexity", "severity", "effort"};
static const char *const route_names[] = {"kb", "bot", "human"};
static const char *const priority_names[] = {"low", "normal", "high", "urgent"};

typedef struct team {
    const char *name;
    const cJSON *agents;
    hours *hours;
    const char *out_of_hours;
    const char *nobody_online;
} team;

typedef struct rule {
    const char *id, *reason, *team, *node;
    const cJSON *when;
    int add[NDIMS];
    int priority, route; /* -1: not set */
    int jump;
} rule;

typedef struct route_entry {
    int min_score, route, priority; /* priority -1: not set */
    const char *node;
} route_entry;

struct rules {
    cJSON *root;
    team teams[RULES_MAX_TEAMS];
    size_t nteams;
    const char *default_team;
    rule rules[RULES_MAX_RULES];
    size_t nrules;
    route_entry routes[MAX_ROUTES];
    size_t nroutes;
    int base[NDIMS], weights[NDIMS];
    rules_kb kb;
    const cJSON *no_words;
    int wait_window;
    int64_t default_handle_ms;
    int64_t events_s, asked_s;
};

typedef struct loader {
    rules *r;
    const rules_env *env;
    jerr err;
} loader;

const char *rules_route_name(rules_route r)
{
    return route_names[r];
}

const char *rules_priority_name(rules_priority p)
{
    return priority_names[p];
}

static int name_index(const char *s, const char *const *names, int n)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return i;
    return -1;
}

int rules_priority_parse(const char *s)
{
    return name_index(s, priority_names, 4);
}

/* ---- loading: members ---- */

static int only(loader *l, const cJSON *obj, const char *const *names, size_t n, const char *what)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj) {
        if (name_index(it->string, names, (int)n) < 0)
            return jerr_set(&l->err, it, "unknown member \"%.64s\" of %s", it->string, what);
    }
    return 0;
}

/* An integer member; *out keeps its default when absent. */
static int int_member(loader *l, const cJSON *obj, const char *key, int min, int max, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max)
        return jerr_set(&l->err, v, "must be an integer of %d to %d", min, max);
    *out = (int)v->valuedouble;
    return 0;
}

/* A string member of min..max bytes of UTF-8; *out keeps its default when
 * absent. */
static int str_member(loader *l, const cJSON *obj, const char *key, size_t min, size_t max,
                      const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    size_t len = cJSON_IsString(v) ? strlen(v->valuestring) : 0;

    if (!v)
        return 0;
    if (!cJSON_IsString(v) || len < min || len > max || !pj_utf8_valid(v->valuestring, len))
        return jerr_set(&l->err, v, "must be a string of %zu to %zu bytes", min, max);
    *out = v->valuestring;
    return 0;
}

static int name_ok(const char *s)
{
    return pj_is_ident(s) && strlen(s) <= RULES_MAX_NAME;
}

/* A member naming one of `names`; *out keeps its default when absent. */
static int enum_member(loader *l, const cJSON *obj, const char *key, const char *const *names,
                       int n, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    int i = v ? name_index(cJSON_IsString(v) ? v->valuestring : NULL, names, n) : -2;

    if (i == -1) {
        char list[96] = "";
        for (int k = 0; k < n; k++)
            snprintf(list + strlen(list), sizeof list - strlen(list), "%s\"%s\"",
                     k ? (k == n - 1 ? " or " : ", ") : "", names[k]);
        return jerr_set(&l->err, v, "must be %s", list);
    }
    if (i >= 0)
        *out = i;
    return 0;
}

static int dims_member(loader *l, const cJSON *obj, const char *key, int min, int max, int *dims)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return 0;
    if (!cJSON_IsObject(v))
        return jerr_set(&l->err, v, "must be an object {\"complexity\",\"severity\",\"effort\"}");
    if (only(l, v, dim_names, NDIMS, key))
        return -1;
    for (int d = 0; d < NDIMS; d++)
        if (int_member(l, v, dim_names[d], min, max, &dims[d]))
            return -1;
    return 0;
}

/* ---- loading: teams ---- */

static int read_agents(loader *l, const cJSON *agents)
{
    const cJSON *a;

    if (!agents)
        return 0;
    if (!cJSON_IsArray(agents) || cJSON_GetArraySize(agents) > RULES_MAX_AGENTS)
        return jerr_set(&l->err, agents, "agents must be an array of at most %d names",
                        RULES_MAX_AGENTS);
    cJSON_ArrayForEach(a, agents) {
        size_t len = cJSON_IsString(a) ? strlen(a->valuestring) : 0;
        if (len < 1 || len > PJ_MAX_ID || !pj_utf8_valid(a->valuestring, len))
            return jerr_set(&l->err, a, "an agent's name must be a string of 1 to %d bytes",
                            PJ_MAX_ID);
    }
    return 0;
}

static int read_hours(loader *l, team *t, const cJSON *obj)
{
    const char *zone_name = "UTC";
    const cJSON *zv = cJSON_GetObjectItemCaseSensitive(obj, "timezone");
    char why[200];
    tz *zone;

    if (str_member(l, obj, "timezone", 1, TZ_MAX_NAME, &zone_name))
        return -1;
    zone = tz_load(zone_name, l->env ? l->env->tzdir : NULL, why, sizeof why);
    if (!zone)
        return jerr_set(&l->err, zv, "%s: %s", zone_name, why);
    t->hours = hours_new(cJSON_GetObjectItemCaseSensitive(obj, "hours"),
                         cJSON_GetObjectItemCaseSensitive(obj, "closed"), zone, &l->err);
    return t->hours ? 0 : -1;
}

static int read_team(loader *l, const cJSON *obj)
{
    static const char *const keys[] = {"agents",       "timezone",      "hours",      "closed",
                                       "out_of_hours", "nobody_online", "description"};
    team *t = &l->r->teams[l->r->nteams];

    if (!name_ok(obj->string))
        return jerr_set(&l->err, obj, "a team's name must be 1 to %d bytes of printable ASCII",
                        RULES_MAX_NAME);
    if (!cJSON_IsObject(obj))
        return jerr_set(&l->err, obj, "a team must be an object");
    if (only(l, obj, keys, 7, "a team"))
        return -1;
    t->name = obj->string;
    t->agents = cJSON_GetObjectItemCaseSensitive(obj, "agents");
    t->out_of_hours = DEFAULT_OUT_OF_HOURS;
    t->nobody_online = DEFAULT_NOBODY_ONLINE;
    l->r->nteams++;
    return read_agents(l, t->agents) ||
                   str_member(l, obj, "out_of_hours", 1, RULES_MAX_TEXT, &t->out_of_hours) ||
                   str_member(l, obj, "nobody_online", 1, RULES_MAX_TEXT, &t->nobody_online) ||
                   read_hours(l, t, obj)
               ? -1
               : 0;
}

static int read_teams(loader *l)
{
    const cJSON *teams = cJSON_GetObjectItemCaseSensitive(l->r->root, "teams"), *it;
    const cJSON *def = cJSON_GetObjectItemCaseSensitive(l->r->root, "default_team");

    if (!cJSON_IsObject(teams) || !teams->child || cJSON_GetArraySize(teams) > RULES_MAX_TEAMS)
        return jerr_set(&l->err, teams ? teams : l->r->root,
                        "teams must be an object of 1 to %d teams", RULES_MAX_TEAMS);
    cJSON_ArrayForEach(it, teams) {
        if (read_team(l, it))
            return -1;
    }
    if (!def)
        return jerr_set(&l->err, l->r->root, "default_team is required");
    if (!cJSON_IsString(def) || rules_team_index(l->r, def->valuestring) < 0)
        return jerr_set(&l->err, def, "default_team must name a team of the file");
    l->r->default_team = def->valuestring;
    return 0;
}

/* ---- loading: rules and routes ---- */

static int read_target(loader *l, const cJSON *obj, int *route, const char **node)
{
    const cJSON *nv = cJSON_GetObjectItemCaseSensitive(obj, "node");

    if (enum_member(l, obj, "route", route_names, 3, route) ||
        str_member(l, obj, "node", 1, PJ_MAX_ID, node))
        return -1;
    if (!*node)
        return 0;
    if (*route >= 0 && *route != RULES_BOT)
        return jerr_set(&l->err, nv, "a node is for route \"bot\"");
    *route = RULES_BOT;
    if (l->env && l->env->node_exists && !l->env->node_exists(l->env->ud, *node))
        return jerr_set(&l->err, nv, "the bot flow has no node \"%.64s\"", *node);
    return 0;
}

static int unique_id(loader *l, const cJSON *at, const char *id)
{
    for (size_t i = 0; i < l->r->nrules; i++)
        if (strcmp(l->r->rules[i].id, id) == 0)
            return jerr_set(&l->err, at, "id \"%.64s\" is used by an earlier rule", id);
    return 0;
}

static int read_rule_effects(loader *l, rule *ru, const cJSON *obj)
{
    const cJSON *tv = cJSON_GetObjectItemCaseSensitive(obj, "team");
    const cJSON *jump = cJSON_GetObjectItemCaseSensitive(obj, "jump");

    if (dims_member(l, obj, "add", -RULES_DIM_MAX, RULES_DIM_MAX, ru->add) ||
        enum_member(l, obj, "priority", priority_names, 4, &ru->priority) ||
        read_target(l, obj, &ru->route, &ru->node))
        return -1;
    if (tv && (!cJSON_IsString(tv) || rules_team_index(l->r, tv->valuestring) < 0))
        return jerr_set(&l->err, tv, "team must name a team of the file");
    ru->team = tv ? tv->valuestring : NULL;
    if (jump && !cJSON_IsBool(jump))
        return jerr_set(&l->err, jump, "jump must be true or false");
    ru->jump = cJSON_IsTrue(jump);
    return 0;
}

static int read_rule(loader *l, const cJSON *obj)
{
    static const char *const keys[] = {"id",   "reason", "when", "add",  "priority",
                                       "team", "route",  "node", "jump", "description"};
    rule *ru = &l->r->rules[l->r->nrules];
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");

    memset(ru, 0, sizeof *ru);
    ru->priority = ru->route = -1;
    if (!cJSON_IsObject(obj))
        return jerr_set(&l->err, obj, "a rule must be an object");
    if (only(l, obj, keys, 10, "a rule"))
        return -1;
    if (!id || !cJSON_IsString(id) || !name_ok(id->valuestring))
        return jerr_set(&l->err, id ? id : obj,
                        "a rule needs an id of 1 to %d bytes of "
                        "printable ASCII",
                        RULES_MAX_NAME);
    if (unique_id(l, id, id->valuestring))
        return -1;
    ru->id = ru->reason = id->valuestring;
    ru->when = cJSON_GetObjectItemCaseSensitive(obj, "when");
    if (!ru->when)
        return jerr_set(&l->err, obj, "a rule needs a condition (when)");
    if (str_member(l, obj, "reason", 1, MAX_REASON, &ru->reason) || cond_check(ru->when, &l->err) ||
        read_rule_effects(l, ru, obj))
        return -1;
    cond_windows(ru->when, &l->r->events_s, &l->r->asked_s);
    l->r->nrules++;
    return 0;
}

static int read_rules(loader *l)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(l->r->root, "rules"), *it;

    if (!list)
        return 0;
    if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) > RULES_MAX_RULES)
        return jerr_set(&l->err, list, "rules must be an array of at most %d rules",
                        RULES_MAX_RULES);
    cJSON_ArrayForEach(it, list) {
        if (read_rule(l, it))
            return -1;
    }
    return 0;
}

static int read_route(loader *l, const cJSON *obj)
{
    static const char *const keys[] = {"min_score", "route", "priority", "node", "description"};
    route_entry *e = &l->r->routes[l->r->nroutes];

    e->min_score = -1;
    e->route = e->priority = -1;
    e->node = NULL;
    if (!cJSON_IsObject(obj))
        return jerr_set(&l->err, obj, "a route must be an object {\"min_score\",\"route\"}");
    if (only(l, obj, keys, 5, "a route") ||
        int_member(l, obj, "min_score", 0, 100, &e->min_score) ||
        enum_member(l, obj, "priority", priority_names, 4, &e->priority) ||
        read_target(l, obj, &e->route, &e->node))
        return -1;
    if (e->min_score < 0 || e->route < 0)
        return jerr_set(&l->err, obj, "a route needs min_score and route");
    if (l->r->nroutes && e->min_score >= l->r->routes[l->r->nroutes - 1].min_score)
        return jerr_set(&l->err, obj, "routes must be in descending min_score order");
    l->r->nroutes++;
    return 0;
}

static int read_routes(loader *l)
{
    const cJSON *list = cJSON_GetObjectItemCaseSensitive(l->r->root, "routes"), *it;

    if (!list) {
        l->r->routes[0] = (route_entry){0, RULES_BOT, -1, NULL};
        l->r->nroutes = 1;
        return 0;
    }
    if (!cJSON_IsArray(list) || !list->child || cJSON_GetArraySize(list) > MAX_ROUTES)
        return jerr_set(&l->err, list, "routes must be an array of 1 to %d routes", MAX_ROUTES);
    cJSON_ArrayForEach(it, list) {
        if (read_route(l, it))
            return -1;
    }
    if (l->r->routes[l->r->nroutes - 1].min_score != 0)
        return jerr_set(&l->err, list,
                        "the last route must have min_score 0 (every score needs "
                        "a route)");
    return 0;
}

/* ---- loading: settings ---- */

static int read_no_words(loader *l, const cJSON *kb)
{
    const cJSON *words = cJSON_GetObjectItemCaseSensitive(kb, "no_words"), *w;
    int n = cJSON_GetArraySize(words);

    if (!words)
        return 0;
    if (!cJSON_IsArray(words) || n < 1 || n > COND_MAX_WORDS)
        return jerr_set(&l->err, words, "no_words must be an array of 1 to %d words",
                        COND_MAX_WORDS);
    cJSON_ArrayForEach(w, words) {
        if (!cJSON_IsString(w) || !w->valuestring[0] || strlen(w->valuestring) > COND_MAX_WORD)
            return jerr_set(&l->err, w, "a word must be a string of 1 to %d bytes", COND_MAX_WORD);
    }
    l->r->no_words = words;
    return 0;
}

static int read_kb(loader *l)
{
    static const char *const keys[] = {"intro",          "ask", "yes", "no", "solved", "no_words",
                                       "escalate_effort"};
    const cJSON *kb = cJSON_GetObjectItemCaseSensitive(l->r->root, "kb");
    rules_kb *t = &l->r->kb;

    *t = (rules_kb){"This article might help:", "Did this solve it?",          "Yes, thanks",
                    "No, I still need help",    "Great, glad that sorted it!", 2};
    if (!kb)
        return 0;
    if (!cJSON_IsObject(kb))
        return jerr_set(&l->err, kb, "kb must be an object");
    return only(l, kb, keys, 7, "kb") || str_member(l, kb, "intro", 1, RULES_MAX_TEXT, &t->intro) ||
                   str_member(l, kb, "ask", 1, RULES_MAX_TEXT, &t->ask) ||
                   str_member(l, kb, "yes", 1, BLOCKS_MAX_LABEL, &t->yes) ||
                   str_member(l, kb, "no", 1, BLOCKS_MAX_LABEL, &t->no) ||
                   str_member(l, kb, "solved", 1, RULES_MAX_TEXT, &t->solved) ||
                   read_no_words(l, kb) ||
                   int_member(l, kb, "escalate_effort", 0, RULES_DIM_MAX, &t->escalate_effort)
               ? -1
               : 0;
}

static int read_wait(loader *l)
{
    static const char *const keys[] = {"window", "default_handle_s"};
    const cJSON *w = cJSON_GetObjectItemCaseSensitive(l->r->root, "wait");
    int handle_s = DEFAULT_HANDLE_S;

    l->r->wait_window = DEFAULT_WINDOW;
    if (w && !cJSON_IsObject(w))
        return jerr_set(&l->err, w, "wait must be an object {\"window\",\"default_handle_s\"}");
    if (w &&
        (only(l, w, keys, 2, "wait") || int_member(l, w, "window", 1, 1000, &l->r->wait_window) ||
         int_member(l, w, "default_handle_s", 1, 86400, &handle_s)))
        return -1;
    l->r->default_handle_ms = (int64_t)handle_s * 1000;
    return 0;
}

static int read_scoring(loader *l)
{
    rules *r = l->r;

    for (int d = 0; d < NDIMS; d++)
        r->weights[d] = 1;
    if (dims_member(l, r->root, "base", 0, RULES_DIM_MAX, r->base) ||
        dims_member(l, r->root, "weights", 0, 100, r->weights))
        return -1;
    if (r->weights[0] + r->weights[1] + r->weights[2] == 0)
        return jerr_set(&l->err, cJSON_GetObjectItemCaseSensitive(r->root, "weights"),
                        "at least one weight must be above 0");
    return 0;
}

static int read_file_members(loader *l)
{
    static const char *const keys[] = {"teams",   "default_team", "rules", "routes",     "base",
                                       "weights", "kb",           "wait",  "description"};
    const cJSON *dup;

    if (!cJSON_IsObject(l->r->root))
        return jerr_set(&l->err, NULL, "the routing file must be a JSON object");
    if (jpos_depth(l->r->root, MAX_DOC_DEPTH) > MAX_DOC_DEPTH)
        return jerr_set(&l->err, NULL, "nested deeper than %d", MAX_DOC_DEPTH);
    if ((dup = jpos_duplicate_key(l->r->root)) != NULL)
        return jerr_set(&l->err, dup, "duplicate key \"%.64s\"", dup->string);
    return only(l, l->r->root, keys, 9, "the file") || read_teams(l) || read_rules(l) ||
                   read_routes(l) || read_scoring(l) || read_kb(l) || read_wait(l)
               ? -1
               : 0;
}

/* The line holding a NUL byte or invalid UTF-8 (a '\n' is never part of a
 * multibyte sequence, so lines can be checked one by one), or NULL. */
static const char *bad_text(const char *text, size_t len)
{
    const char *line = text, *end = text + len, *nl;

    while (line < end) {
        nl = memchr(line, '\n', (size_t)(end - line));
        if (!nl)
            nl = end;
        if (memchr(line, '\0', (size_t)(nl - line)) || !pj_utf8_valid(line, (size_t)(nl - line)))
            return line;
        line = nl + 1;
    }
    return NULL;
}

rules *rules_parse(const char *text, size_t len, const rules_env *env, const char *name, char *why,
                   size_t cap)
{
    loader l;
    const char *end = NULL;

    memset(&l, 0, sizeof l);
    l.env = env;
    if ((end = bad_text(text, len)) != NULL) {
        jpos_explain_at(text, len, (size_t)(end - text), "not UTF-8 text", name, why, cap);
        return NULL;
    }
    if (!(l.r = calloc(1, sizeof *l.r))) {
        snprintf(why, cap, "out of memory");
        return NULL;
    }
    l.r->root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!l.r->root) {
        jpos_explain_at(text, len, end ? (size_t)(end - text) : 0, "not valid JSON", name, why,
                        cap);
        rules_free(l.r);
        return NULL;
    }
    if (read_file_members(&l)) {
        jpos_explain(text, len, l.r->root, &l.err, name, why, cap);
        rules_free(l.r);
        return NULL;
    }
    return l.r;
}

rules *rules_load(const char *path, const rules_env *env, char *why, size_t cap)
{
    FILE *fp = fopen(path, "rb");
    char *buf = fp ? malloc(RULES_MAX_FILE + 1) : NULL;
    size_t len = buf ? fread(buf, 1, RULES_MAX_FILE + 1, fp) : 0;
    int bad = !fp || !buf || ferror(fp) || len > RULES_MAX_FILE;
    rules *r = NULL;

    if (bad)
        snprintf(why, cap, "%s: %s", path,
                 !fp                    ? "cannot open the file"
                 : !buf                 ? "out of memory"
                 : len > RULES_MAX_FILE ? "file larger than 1 MB"
                                        : "cannot read the file");
    else
        r = rules_parse(buf, len, env, path, why, cap);
    if (fp)
        fclose(fp);
    free(buf);
    return r;
}

void rules_free(rules *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nteams; i++)
        hours_free(r->teams[i].hours);
    cJSON_Delete(r->root);
    free(r);
}

/* ---- triage ---- */

static int clamp(int v)
{
    return v < 0 ? 0 : v > RULES_DIM_MAX ? RULES_DIM_MAX : v;
}

/* {"rule","text"} and what the rule changed. */
static cJSON *rule_reason(const rule *ru)
{
    cJSON *o = cJSON_CreateObject();
    int ok = o && cJSON_AddStringToObject(o, "rule", ru->id) &&
             cJSON_AddStringToObject(o, "text", ru->reason);

    for (int d = 0; ok && d < NDIMS; d++)
        if (ru->add[d])
            ok = cJSON_AddNumberToObject(o, dim_names[d], ru->add[d]) != NULL;
    if (ok && ru->priority >= 0)
        ok = cJSON_AddStringToObject(o, "priority", priority_names[ru->priority]) != NULL;
    if (ok && ru->team)
        ok = cJSON_AddStringToObject(o, "team", ru->team) != NULL;
    if (ok && ru->route >= 0)
        ok = cJSON_AddStringToObject(o, "route", route_names[ru->route]) != NULL;
    if (ok && ru->node)
        ok = cJSON_AddStringToObject(o, "node", ru->node) != NULL;
    if (ok && ru->jump)
        ok = cJSON_AddTrueToObject(o, "jump") != NULL;
    if (!ok) {
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

int triage_add_reason(triage *t, const char *source, const char *text)
{
    cJSON *o = cJSON_CreateObject();

    if (!o || !cJSON_AddStringToObject(o, "rule", source) ||
        !cJSON_AddStringToObject(o, "text", text) || !cJSON_AddItemToArray(t->reasons, o)) {
        cJSON_Delete(o);
        return -1;
    }
    return 0;
}

/* What one triage gathers on its way. */
typedef struct tally {
    int dims[NDIMS];
    int priority; /* the highest set, -1: none */
    const rule *route_rule, *team_rule;
} tally;

/* Every rule whose condition holds: points, what it sets, its reason. */
static int apply_rules(const rules *r, const cond_input *in, triage *t, tally *ty)
{
    cJSON *reason;

    for (size_t i = 0; i < r->nrules; i++) {
        const rule *ru = &r->rules[i];
        if (!cond_eval(ru->when, in))
            continue;
        for (int d = 0; d < NDIMS; d++)
            ty->dims[d] += ru->add[d];
        if (ru->priority > ty->priority)
            ty->priority = ru->priority;
        if (ru->route >= 0 && !ty->route_rule)
            ty->route_rule = ru;
        if (ru->team && !ty->team_rule)
            ty->team_rule = ru;
        t->jump |= ru->jump;
        if (!(reason = rule_reason(ru)) || !cJSON_AddItemToArray(t->reasons, reason)) {
            cJSON_Delete(reason);
            return -1;
        }
    }
    return 0;
}

static int score_of(const rules *r, const triage *t)
{
    int sum = r->weights[0] + r->weights[1] + r->weights[2];
    int w = r->weights[0] * t->complexity + r->weights[1] * t->severity + r->weights[2] * t->effort;

    /* round(100 * w / (10 * sum)) in integers. */
    return (w * 100 + 5 * sum) / (10 * sum);
}

/* The route: the first firing rule that names one, else the route table
 * (whose priority counts either way). */
static int choose_route(const rules *r, tally *ty, triage *t)
{
    const route_entry *e = r->routes;
    char text[200];

    while (e->min_score > t->score)
        e++;
    if (e->priority > ty->priority)
        ty->priority = e->priority;
    /* Nobody said: normal, the conversation's default. */
    t->priority = ty->priority >= 0 ? (rules_priority)ty->priority : RULES_NORMAL;
    if (ty->route_rule) {
        t->route = (rules_route)ty->route_rule->route;
        t->node = ty->route_rule->node;
        snprintf(text, sizeof text, "route %s from rule %s", route_names[t->route],
                 ty->route_rule->id);
        return triage_add_reason(t, "route", text);
    }
    t->route = (rules_route)e->route;
    t->node = e->node;
    snprintf(text, sizeof text, "score %d is at least %d: %s%s%s%s%s", t->score, e->min_score,
             route_names[t->route], e->priority >= 0 ? ", priority " : "",
             e->priority >= 0 ? priority_names[e->priority] : "", e->node ? ", node " : "",
             e->node ? e->node : "");
    return triage_add_reason(t, "routes", text);
}

int rules_triage(const rules *r, const cond_input *in, triage *out)
{
    tally ty;

    memset(out, 0, sizeof *out);
    memset(&ty, 0, sizeof ty);
    memcpy(ty.dims, r->base, sizeof ty.dims);
    ty.priority = -1;
    out->reasons = cJSON_CreateArray();
    if (!out->reasons || apply_rules(r, in, out, &ty))
        goto fail;
    out->complexity = clamp(ty.dims[DIM_COMPLEXITY]);
    out->severity = clamp(ty.dims[DIM_SEVERITY]);
    out->effort = clamp(ty.dims[DIM_EFFORT]);
    out->score = score_of(r, out);
    out->team = ty.team_rule ? ty.team_rule->team : r->default_team;
    if (choose_route(r, &ty, out))
        goto fail;
    return 0;
fail:
    triage_clear(out);
    return -1;
}

void rules_rescore(const rules *r, triage *t)
{
    t->complexity = clamp(t->complexity);
    t->severity = clamp(t->severity);
    t->effort = clamp(t->effort);
    t->score = score_of(r, t);
}

void triage_clear(triage *t)
{
    cJSON_Delete(t->reasons);
    memset(t, 0, sizeof *t);
}

cJSON *triage_to_json(const triage *t)
{
    cJSON *o = cJSON_CreateObject(), *reasons = cJSON_Duplicate(t->reasons, 1);

    if (!o || !reasons || !cJSON_AddNumberToObject(o, "complexity", t->complexity) ||
        !cJSON_AddNumberToObject(o, "severity", t->severity) ||
        !cJSON_AddNumberToObject(o, "effort", t->effort) ||
        !cJSON_AddNumberToObject(o, "score", t->score) ||
        !cJSON_AddStringToObject(o, "route", route_names[t->route]) ||
        !cJSON_AddStringToObject(o, "priority", priority_names[t->priority]) ||
        !cJSON_AddStringToObject(o, "team", t->team) ||
        !(t->node ? cJSON_AddStringToObject(o, "node", t->node)
                  : cJSON_AddNullToObject(o, "node")) ||
        !cJSON_AddBoolToObject(o, "jump", t->jump) ||
        !cJSON_AddItemToObject(o, "reasons", reasons)) {
        cJSON_Delete(reasons);
        cJSON_Delete(o);
        return NULL;
    }
    return o;
}

void rules_windows(const rules *r, int64_t *events_s, int64_t *asked_s)
{
    *events_s = r->events_s;
    *asked_s = r->asked_s;
}

/* ---- teams ---- */

size_t rules_team_count(const rules *r)
{
    return r->nteams;
}

const char *rules_team_name(const rules *r, size_t i)
{
    return i < r->nteams ? r->teams[i].name : NULL;
}

int rules_team_index(const rules *r, const char *name)
{
    for (size_t i = 0; name && i < r->nteams; i++)
        if (strcmp(r->teams[i].name, name) == 0)
            return (int)i;
    return -1;
}

const char *rules_default_team(const rules *r)
{
    return r->default_team;
}

static const team *team_of(const rules *r, const char *name)
{
    int i = rules_team_index(r, name);

    return &r->teams[i >= 0 ? i : rules_team_index(r, r->default_team)];
}

int rules_team_has_agent(const rules *r, const char *name, const char *agent)
{
    int i = rules_team_index(r, name);
    const cJSON *a;

    if (i < 0 || !agent)
        return 0;
    cJSON_ArrayForEach(a, r->teams[i].agents) {
        /* "Dana" in the file is the account "dana". */
        if (strcasecmp(a->valuestring, agent) == 0)
            return 1;
    }
    return 0;
}

int rules_team_open(const rules *r, const char *name, int64_t now_ms)
{
    return hours_open(team_of(r, name)->hours, now_ms);
}

int64_t rules_team_next_open(const rules *r, const char *name, int64_t now_ms)
{
    return hours_next_open(team_of(r, name)->hours, now_ms);
}

/* Copies `tpl` into out (NULL: only counts) with the placeholders filled;
 * the length. */
static size_t fill(const char *tpl, const char *const keys[3], const char *const vals[3], char *out)
{
    size_t n = 0, k;

    while (*tpl) {
        for (k = 0; k < 3 && strncmp(tpl, keys[k], strlen(keys[k])) != 0; k++)
            ;
        if (k < 3) {
            if (out)
                memcpy(out + n, vals[k], strlen(vals[k]));
            n += strlen(vals[k]);
            tpl += strlen(keys[k]);
        } else {
            if (out)
                out[n] = *tpl;
            n++;
            tpl++;
        }
    }
    if (out)
        out[n] = '\0';
    return n;
}

void rules_team_opens(const rules *r, const char *name, int64_t now_ms, char *out, size_t cap)
{
    const team *t = team_of(r, name);
    int64_t next = hours_next_open(t->hours, now_ms);

    if (next >= 0)
        hours_format(t->hours, next, out, cap);
    else
        snprintf(out, cap, "later");
}

char *rules_out_of_hours(const rules *r, const char *name, int64_t now_ms)
{
    static const char *const keys[3] = {"{team}", "{opens}", "{opens_in}"};
    const team *t = team_of(r, name);
    int64_t next = hours_next_open(t->hours, now_ms);
    char opens[64] = "later", in[64] = "no time set yet";
    const char *vals[3] = {t->name, opens, in};
    char *out;

    if (next >= 0) {
        hours_format(t->hours, next, opens, sizeof opens);
        hours_format_in(next - now_ms, in, sizeof in);
    }
    out = malloc(fill(t->out_of_hours, keys, vals, NULL) + 1);
    if (out)
        fill(t->out_of_hours, keys, vals, out);
    return out;
}

char *rules_nobody_online(const rules *r, const char *name)
{
    static const char *const keys[3] = {"{team}", "{team}", "{team}"};
    const team *t = team_of(r, name);
    const char *vals[3] = {t->name, t->name, t->name};
    char *out = malloc(fill(t->nobody_online, keys, vals, NULL) + 1);

    if (out)
        fill(t->nobody_online, keys, vals, out);
    return out;
}

/* ---- the KB-first route and the wait estimate ---- */

const rules_kb *rules_kb_texts(const rules *r)
{
    return &r->kb;
}

int rules_kb_says_no(const rules *r, const char *text)
{
    static const char *const defaults[] = {
        "no", "nope", "didn't help", "did not help", "not solved", "doesn't work", "does not work"};
    const cJSON *w;

    if (!text)
        return 0;
    if (!r->no_words) {
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++)
            if (cond_has_word(text, defaults[i]))
                return 1;
        return 0;
    }
    cJSON_ArrayForEach(w, r->no_words) {
        if (cond_has_word(text, w->valuestring))
            return 1;
    }
    return 0;
}

int rules_wait_window(const rules *r)
{
    return r->wait_window;
}

int64_t rules_default_handle_ms(const rules *r)
{
    return r->default_handle_ms;
}
