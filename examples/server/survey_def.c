#include "survey_def.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "blocks.h"
#include "cond.h"
#include "json.h"

/* docs/protocol.md, survey. */
#define MAX_QUESTIONS 50
#define MAX_OPTIONS 20
#define MAX_TEXT 1024
#define MAX_LABEL 128
#define MAX_TEXT_ANSWER 4096
#define TEXT_ANSWER_DEFAULT 1000
#define MAX_MESSAGE_TEXT 4096
#define MAX_EVENT_NAME 64
#define MAX_SCREEN 256
#define MAX_FILE ((long)1 << 20)
/* A survey frame must fit in one parley.v1 frame, with room for the
 * envelope. */
#define MAX_WIRE (PJ_MAX_FRAME - 1024)

/* ---- small checks ---- */

static int str_in(const cJSON *s, size_t min, size_t max)
{
    size_t len;

    if (!cJSON_IsString(s))
        return 0;
    len = strlen(s->valuestring);
    return len >= min && len <= max;
}

/* Absent, or a string of min..max bytes. */
static int opt_str(const cJSON *obj, const char *key, size_t min, size_t max)
{
    const cJSON *s = cJSON_GetObjectItemCaseSensitive(obj, key);

    return !s || str_in(s, min, max);
}

static int is_int(const cJSON *n, int min, int max)
{
    return cJSON_IsNumber(n) && n->valuedouble >= min && n->valuedouble <= max &&
           n->valuedouble == (double)(int)n->valuedouble;
}

/* The integer member `key`, `def` when absent; 0, or -1 when it is not an
 * integer in min..max. */
static int int_member(const cJSON *obj, const char *key, int def, int min, int max, int *out)
{
    const cJSON *n = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!n) {
        *out = def;
        return 0;
    }
    if (!is_int(n, min, max))
        return -1;
    *out = (int)n->valuedouble;
    return 0;
}

static const char *kind_of(const cJSON *q)
{
    return pj_string(q, "kind");
}

static int is_kind(const cJSON *q, const char *kind)
{
    const char *k = kind_of(q);

    return k && strcmp(k, kind) == 0;
}

static int is_choice(const cJSON *q)
{
    return is_kind(q, "single") || is_kind(q, "multi");
}

/* The element of `arr` whose "id" is `id`, or NULL. */
static const cJSON *by_id(const cJSON *arr, const char *id)
{
    const cJSON *it;
    const char *s;

    cJSON_ArrayForEach(it, arr) {
        s = pj_string(it, "id");
        if (s && strcmp(s, id) == 0)
            return it;
    }
    return NULL;
}

/* The earlier element of `arr` (before `stop`) whose "id" is `id`. */
static const cJSON *earlier_by_id(const cJSON *arr, const cJSON *stop, const char *id)
{
    const cJSON *it;
    const char *s;

    for (it = arr ? arr->child : NULL; it && it != stop; it = it->next) {
        s = pj_string(it, "id");
        if (s && strcmp(s, id) == 0)
            return it;
    }
    return NULL;
}

/* ---- definitions ---- */

static const char *options_why(const cJSON *q)
{
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options"), *it;
    int n = cJSON_GetArraySize(opts), min, max;

    if (!cJSON_IsArray(opts) || n < 1 || n > MAX_OPTIONS)
        return "options must be an array of 1..20 options";
    cJSON_ArrayForEach(it, opts) {
        if (!pj_is_ident(pj_string(it, "id")))
            return "an option id is not an identifier";
        if (earlier_by_id(opts, it, pj_string(it, "id")))
            return "option ids are not unique";
        if (!str_in(cJSON_GetObjectItemCaseSensitive(it, "label"), 1, MAX_LABEL))
            return "an option label is not a string of 1..128 bytes";
    }
    if (!is_kind(q, "multi"))
        return NULL;
    if (int_member(q, "min", 0, 0, n, &min) || int_member(q, "max", n, 1, n, &max) || min > max)
        return "multi needs 0 <= min <= max <= the number of options, max >= 1";
    return NULL;
}

static const char *kind_why(const cJSON *q)
{
    int min, max;

    if (is_kind(q, "rating")) {
        if (int_member(q, "min", 1, 0, 10, &min) || int_member(q, "max", 5, 0, 10, &max) ||
            min >= max)
            return "rating needs integers 0 <= min < max <= 10";
        if (!opt_str(q, "min_label", 1, MAX_LABEL) || !opt_str(q, "max_label", 1, MAX_LABEL))
            return "rating labels must be strings of 1..128 bytes";
        return NULL;
    }
    if (is_kind(q, "nps"))
        return NULL;
    if (is_choice(q))
        return options_why(q);
    if (is_kind(q, "text"))
        return int_member(q, "max_length", TEXT_ANSWER_DEFAULT, 1, MAX_TEXT_ANSWER, &max)
                   ? "text max_length must be an integer of 1..4096"
                   : NULL;
    return "unknown question kind";
}

/* A value of show_if.in for the question `ref`. */
static int show_value_ok(const cJSON *ref, const cJSON *v)
{
    int min = 0, max = 10;

    if (is_choice(ref))
        return cJSON_IsString(v) &&
               by_id(cJSON_GetObjectItemCaseSensitive(ref, "options"), v->valuestring);
    if (is_kind(ref, "rating") &&
        (int_member(ref, "min", 1, 0, 10, &min) || int_member(ref, "max", 5, 0, 10, &max)))
        return 0;
    return is_int(v, min, max);
}

static const char *show_if_why(const cJSON *questions, const cJSON *q)
{
    const cJSON *show = cJSON_GetObjectItemCaseSensitive(q, "show_if"), *in, *ref, *it;
    const char *name;

    if (!show)
        return NULL;
    name = pj_string(show, "question");
    in = cJSON_GetObjectItemCaseSensitive(show, "in");
    if (!cJSON_IsObject(show) || !name)
        return "show_if needs a question";
    ref = earlier_by_id(questions, q, name);
    if (!ref)
        return "show_if names a later or unknown question";
    if (is_kind(ref, "text"))
        return "show_if cannot name a text question";
    if (!cJSON_IsArray(in) || cJSON_GetArraySize(in) < 1)
        return "show_if.in must be a non-empty array";
    cJSON_ArrayForEach(it, in) {
        if (!show_value_ok(ref, it))
            return "show_if.in holds a value that question cannot have";
    }
    return NULL;
}

static const char *question_why(const cJSON *questions, const cJSON *q)
{
    const cJSON *required = cJSON_GetObjectItemCaseSensitive(q, "required");
    const char *id = pj_string(q, "id"), *why;

    if (!cJSON_IsObject(q))
        return "a question must be an object";
    if (!pj_is_ident(id))
        return "question id is not an identifier";
    if (earlier_by_id(questions, q, id))
        return "question ids are not unique";
    if (!str_in(cJSON_GetObjectItemCaseSensitive(q, "text"), 1, MAX_TEXT))
        return "question text must be a string of 1..1024 bytes";
    if (required && !cJSON_IsBool(required))
        return "required must be a boolean";
    if (!kind_of(q))
        return "question kind missing";
    why = kind_why(q);
    return why ? why : show_if_why(questions, q);
}

/* The wire form must pass the same checks a frame does (UTF-8, no
 * duplicate keys, string and depth limits) and fit in one. */
static const char *wire_why(const cJSON *v)
{
    char *text = cJSON_PrintUnformatted(v);
    const char *why = NULL;
    cJSON *back;

    if (!text)
        return "out of memory";
    if (strlen(text) > MAX_WIRE)
        why = "too large for one frame";
    else if (!(back = pj_parse(text, strlen(text), &why)))
        why = why ? why : "invalid";
    else
        cJSON_Delete(back);
    cJSON_free(text);
    return why;
}

/* Writes "where: why" into buf and returns it. */
static const char *say(char *buf, size_t cap, const char *where, const char *why)
{
    snprintf(buf, cap, "%s: %s", where, why);
    return buf;
}

static const char *def_why(const cJSON *def, char *buf, size_t cap)
{
    const cJSON *questions = cJSON_GetObjectItemCaseSensitive(def, "questions"), *q;
    const char *why;
    char where[192];
    int i = 0, n = cJSON_GetArraySize(questions);

    if (!str_in(cJSON_GetObjectItemCaseSensitive(def, "title"), 1, MAX_TEXT))
        return "title must be a string of 1..1024 bytes";
    if (!opt_str(def, "intro", 0, MAX_TEXT))
        return "intro must be a string of at most 1024 bytes";
    if (!cJSON_IsArray(questions) || n < 1 || n > MAX_QUESTIONS)
        return "questions must be an array of 1..50 questions";
    cJSON_ArrayForEach(q, questions) {
        why = question_why(questions, q);
        if (why) {
            snprintf(where, sizeof where, "questions[%d] (%.64s)", i,
                     pj_string(q, "id") ? pj_string(q, "id") : "?");
            return say(buf, cap, where, why);
        }
        i++;
    }
    return wire_why(def);
}

/* ---- triggers ---- */

static const char *author_why(const cJSON *author)
{
    const char *kind = pj_string(author, "kind");

    if (!cJSON_IsObject(author))
        return "message author must be an object";
    if (!kind ||
        (strcmp(kind, "bot") != 0 && strcmp(kind, "agent") != 0 && strcmp(kind, "system") != 0))
        return "message author kind must be bot, agent or system";
    return opt_str(author, "name", 1, MAX_LABEL) ? NULL
                                                 : "message author name must be 1..128 bytes";
}

/* Checks a trigger's message and replaces its blocks with their normalized
 * copy (blocks.h), so that what is sent is exactly what the protocol
 * defines. NULL, or why not (possibly written into buf). */
static const char *message_check(cJSON *msg, char *buf, size_t cap)
{
    const cJSON *author = cJSON_GetObjectItemCaseSensitive(msg, "author");
    cJSON *blocks = cJSON_GetObjectItemCaseSensitive(msg, "blocks"), *norm;
    const char *why;

    if (!cJSON_IsObject(msg))
        return "message must be an object";
    if (!str_in(cJSON_GetObjectItemCaseSensitive(msg, "text"), 1, MAX_MESSAGE_TEXT))
        return "message text must be a string of 1..4096 bytes";
    why = author ? author_why(author) : NULL;
    if (why)
        return why;
    if (blocks) {
        norm = blocks_normalize(blocks, buf, cap);
        if (!norm)
            return buf;
        cJSON_ReplaceItemInObjectCaseSensitive(msg, "blocks", norm);
    }
    return wire_why(msg);
}

static const char *event_trigger_why(const cJSON *t)
{
    const char *name = pj_string(t, "name");

    if (!name || !pj_is_ident(name) || strlen(name) > MAX_EVENT_NAME)
        return "an event trigger needs a name of 1..64 printable ASCII bytes";
    return NULL;
}

static const char *on_why(const cJSON *t)
{
    const char *on = pj_string(t, "on");

    if (!on)
        return "on must be conv.closed, event or screen";
    if (strcmp(on, "event") == 0)
        return event_trigger_why(t);
    if (strcmp(on, "screen") == 0)
        return str_in(cJSON_GetObjectItemCaseSensitive(t, "screen"), 1, MAX_SCREEN)
                   ? NULL
                   : "a screen trigger needs a screen of 1..256 bytes";
    return strcmp(on, "conv.closed") == 0 ? NULL : "on must be conv.closed, event or screen";
}

/* An absent member, or an integer of min..max. */
static int opt_int(const cJSON *obj, const char *key, double min, double max)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    return !v || (cJSON_IsNumber(v) && v->valuedouble >= min && v->valuedouble <= max &&
                  v->valuedouble == (double)(long)v->valuedouble);
}

static const char *cap_why(const cJSON *c)
{
    if (!c)
        return NULL;
    if (!cJSON_IsObject(c) || !cJSON_GetObjectItemCaseSensitive(c, "max") ||
        !cJSON_GetObjectItemCaseSensitive(c, "per_s") || !opt_int(c, "max", 1, 1000) ||
        !opt_int(c, "per_s", 1, 31536000) || cJSON_GetArraySize(c) != 2)
        return "cap must be {\"max\": 1..1000, \"per_s\": 1..31536000}";
    return NULL;
}

/* The moment (docs/routing.md, "Proactive triggers at the right moment"):
 * delay, dwell, cap, expiry, conversations, a condition. */
static const char *timing_why(const cJSON *t, char *buf, size_t cap)
{
    const cJSON *id = cJSON_GetObjectItemCaseSensitive(t, "id");
    const cJSON *unless = cJSON_GetObjectItemCaseSensitive(t, "unless_conversation");
    const cJSON *when = cJSON_GetObjectItemCaseSensitive(t, "when");
    const char *on = pj_string(t, "on");
    jerr err;

    if (id &&
        !(cJSON_IsString(id) && pj_is_ident(id->valuestring) && strlen(id->valuestring) <= 64))
        return "id must be an identifier of 1..64 bytes";
    if (!opt_int(t, "delay_s", 0, 86400))
        return "delay_s must be an integer of 0..86400 seconds";
    if (!opt_int(t, "dwell_s", 0, 3600))
        return "dwell_s must be an integer of 0..3600 seconds";
    if (cJSON_GetObjectItemCaseSensitive(t, "dwell_s") && strcmp(on, "screen") != 0)
        return "dwell_s is for screen triggers";
    if (!opt_int(t, "expires_s", 1, 2592000))
        return "expires_s must be an integer of 1..2592000 seconds";
    if (unless && !cJSON_IsBool(unless))
        return "unless_conversation must be true or false";
    if (when && cond_check(when, &err)) {
        snprintf(buf, cap, "when: %.64s%s%.180s", err.at && err.at->string ? err.at->string : "",
                 err.at && err.at->string ? ": " : "", err.msg);
        return buf;
    }
    return cap_why(cJSON_GetObjectItemCaseSensitive(t, "cap"));
}

static const char *trigger_members_why(const cJSON *t)
{
    static const char *const known[] = {"on",      "name",       "screen",    "attributes",
                                        "survey",  "message",    "id",        "delay_s",
                                        "dwell_s", "cap",        "expires_s", "unless_conversation",
                                        "when",    "description"};
    const cJSON *it;
    size_t i;

    cJSON_ArrayForEach(it, t) {
        for (i = 0; i < sizeof known / sizeof known[0] && strcmp(it->string, known[i]); i++)
            ;
        if (i == sizeof known / sizeof known[0])
            return "a trigger has on, name, screen, attributes, survey, message, id, delay_s, "
                   "dwell_s, cap, expires_s, unless_conversation, when and description only";
    }
    return NULL;
}

static const char *trigger_why(const cJSON *file, cJSON *t, char *buf, size_t cap)
{
    const cJSON *attrs = cJSON_GetObjectItemCaseSensitive(t, "attributes");
    const cJSON *survey = cJSON_GetObjectItemCaseSensitive(t, "survey");
    cJSON *msg = cJSON_GetObjectItemCaseSensitive(t, "message");
    const char *why;

    if (!cJSON_IsObject(t))
        return "a trigger must be an object";
    why = on_why(t);
    if (!why)
        why = trigger_members_why(t);
    if (!why)
        why = timing_why(t, buf, cap);
    if (why)
        return why;
    if (attrs && !cJSON_IsObject(attrs))
        return "attributes must be an object";
    if (!survey == !msg)
        return "a trigger needs exactly one of survey and message";
    if (survey && !(cJSON_IsString(survey) && survey_def_find(file, survey->valuestring)))
        return "survey names no survey of this file";
    return msg ? message_check(msg, buf, cap) : NULL;
}

/* ---- the file ---- */

static const char *surveys_why(const cJSON *file, char *buf, size_t cap)
{
    const cJSON *surveys = cJSON_GetObjectItemCaseSensitive(file, "surveys"), *it;
    const char *name, *why;
    char where[160], inner[256];
    int i = 0;

    if (surveys && !cJSON_IsArray(surveys))
        return "surveys must be an array";
    cJSON_ArrayForEach(it, surveys) {
        name = pj_string(it, "name");
        snprintf(where, sizeof where, "surveys[%d] (%.64s)", i++, name ? name : "?");
        if (!cJSON_IsObject(it) || !pj_is_ident(name))
            why = "needs a name that is an identifier";
        else if (survey_def_find(file, name) != it)
            why = "the name is used twice";
        else
            why = def_why(it, inner, sizeof inner);
        if (why)
            return say(buf, cap, where, why);
    }
    return NULL;
}

static const char *triggers_why(const cJSON *file, char *buf, size_t cap)
{
    const cJSON *triggers = cJSON_GetObjectItemCaseSensitive(file, "triggers");
    cJSON *it;
    const char *why;
    char where[32], inner[256];
    int i = 0;

    if (triggers && !cJSON_IsArray(triggers))
        return "triggers must be an array";
    cJSON_ArrayForEach(it, triggers) {
        why = trigger_why(file, it, inner, sizeof inner);
        if (!why && pj_string(it, "id") && survey_def_trigger(file, pj_string(it, "id")) != it)
            why = "the id is used by an earlier trigger";
        if (why) {
            snprintf(where, sizeof where, "triggers[%d]", i);
            return say(buf, cap, where, why);
        }
        i++;
    }
    return NULL;
}

static char *read_all(const char *path, const char **why)
{
    FILE *f = fopen(path, "rb");
    char *buf = NULL;
    long len = -1;

    *why = "cannot read the file";
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len <= MAX_FILE &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)len + 1)) != NULL) {
        if (fread(buf, 1, (size_t)len, f) == (size_t)len) {
            buf[len] = '\0';
            *why = NULL;
        } else {
            free(buf);
            buf = NULL;
        }
    } else if (len > MAX_FILE) {
        *why = "larger than 1 MiB";
    }
    fclose(f);
    return buf;
}

cJSON *survey_def_load(const char *path, char *why, size_t cap)
{
    const char *reason;
    char *text = read_all(path, &reason);
    cJSON *file;

    if (!text) {
        snprintf(why, cap, "%s", reason);
        return NULL;
    }
    file = cJSON_Parse(text);
    free(text);
    if (!cJSON_IsObject(file))
        reason = "not a JSON object";
    else if (!(reason = surveys_why(file, why, cap)))
        reason = triggers_why(file, why, cap);
    if (!reason)
        return file;
    if (reason != why)
        snprintf(why, cap, "%s", reason);
    cJSON_Delete(file);
    return NULL;
}

const cJSON *survey_def_find(const cJSON *file, const char *name)
{
    const cJSON *it;
    const char *s;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(file, "surveys")) {
        s = pj_string(it, "name");
        if (s && strcmp(s, name) == 0)
            return it;
    }
    return NULL;
}

cJSON *survey_def_wire_copy(const cJSON *def)
{
    static const char *const keys[] = {"name", "title", "intro", "questions"};
    cJSON *out = cJSON_CreateObject(), *v;
    size_t i;

    for (i = 0; out && i < sizeof keys / sizeof keys[0]; i++) {
        v = cJSON_GetObjectItemCaseSensitive(def, keys[i]);
        if (!v)
            continue;
        v = cJSON_Duplicate(v, 1);
        if (!v || !cJSON_AddItemToObject(out, keys[i], v)) {
            cJSON_Delete(v);
            cJSON_Delete(out);
            return NULL;
        }
    }
    return out;
}

const cJSON *survey_def_first_question(const cJSON *def, const char *kind)
{
    const cJSON *q;

    cJSON_ArrayForEach(q, cJSON_GetObjectItemCaseSensitive(def, "questions")) {
        if (is_kind(q, kind))
            return q;
    }
    return NULL;
}

/* ---- answers ---- */

static int in_list(const cJSON *in, const cJSON *v)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, in) {
        if (cJSON_IsString(v) && cJSON_IsString(it) && strcmp(v->valuestring, it->valuestring) == 0)
            return 1;
        if (cJSON_IsNumber(v) && cJSON_IsNumber(it) && v->valuedouble == it->valuedouble)
            return 1;
    }
    return 0;
}

/* Whether `q` is shown, given the answers to the questions before it. */
static int shown(const cJSON *q, const cJSON *answers)
{
    const cJSON *show = cJSON_GetObjectItemCaseSensitive(q, "show_if"), *in, *a, *it;

    if (!show)
        return 1;
    in = cJSON_GetObjectItemCaseSensitive(show, "in");
    a = cJSON_GetObjectItemCaseSensitive(answers, pj_string(show, "question"));
    if (!cJSON_IsArray(a))
        return a && in_list(in, a);
    cJSON_ArrayForEach(it, a) {
        if (in_list(in, it))
            return 1;
    }
    return 0;
}

static const char *multi_why(const cJSON *q, const cJSON *opts, const cJSON *a)
{
    const cJSON *it, *other;
    int n = cJSON_GetArraySize(a), min, max;

    if (!cJSON_IsArray(a))
        return "must be an array of option ids";
    int_member(q, "min", 0, 0, MAX_OPTIONS, &min);
    int_member(q, "max", cJSON_GetArraySize(opts), 1, MAX_OPTIONS, &max);
    if (n < min || n > max)
        return "selects too few or too many options";
    cJSON_ArrayForEach(it, a) {
        if (!cJSON_IsString(it) || !by_id(opts, it->valuestring))
            return "names an unknown option";
        for (other = a->child; other != it; other = other->next) {
            if (strcmp(other->valuestring, it->valuestring) == 0)
                return "selects an option twice";
        }
    }
    return NULL;
}

static const char *answer_why(const cJSON *q, const cJSON *a)
{
    const cJSON *opts = cJSON_GetObjectItemCaseSensitive(q, "options");
    int min = 0, max = 10;

    if (is_kind(q, "rating") || is_kind(q, "nps")) {
        if (is_kind(q, "rating")) {
            int_member(q, "min", 1, 0, 10, &min);
            int_member(q, "max", 5, 0, 10, &max);
        }
        return is_int(a, min, max) ? NULL : "must be an integer in the question's range";
    }
    if (is_kind(q, "single"))
        return cJSON_IsString(a) && by_id(opts, a->valuestring) ? NULL
                                                                : "must be one of the option ids";
    if (is_kind(q, "multi"))
        return multi_why(q, opts, a);
    int_member(q, "max_length", TEXT_ANSWER_DEFAULT, 1, MAX_TEXT_ANSWER, &max);
    return cJSON_IsString(a) && strlen(a->valuestring) <= (size_t)max
               ? NULL
               : "must be a string within max_length";
}

const char *survey_def_answers_why(const cJSON *def, const cJSON *answers, char *buf, size_t cap)
{
    const cJSON *questions = cJSON_GetObjectItemCaseSensitive(def, "questions"), *q, *a;
    const char *why;

    if (!cJSON_IsObject(answers))
        return "answers must be an object";
    cJSON_ArrayForEach(a, answers) {
        if (!by_id(questions, a->string))
            return say(buf, cap, a->string, "no such question");
    }
    cJSON_ArrayForEach(q, questions) {
        a = cJSON_GetObjectItemCaseSensitive(answers, pj_string(q, "id"));
        if (!shown(q, answers))
            why = a ? "is hidden by its show_if and may not be answered" : NULL;
        else if (!a)
            why = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(q, "required")) ? "is required"
                                                                                : NULL;
        else
            why = answer_why(q, a);
        if (why)
            return say(buf, cap, pj_string(q, "id"), why);
    }
    return NULL;
}

const cJSON *survey_def_trigger(const cJSON *file, const char *id)
{
    const cJSON *it;
    const char *s;

    cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(file, "triggers")) {
        s = pj_string(it, "id");
        if (s && strcmp(s, id) == 0)
            return it;
    }
    return NULL;
}
