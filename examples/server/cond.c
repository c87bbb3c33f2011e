#include "cond.h"

#include <math.h>
#include <string.h>

#define MAX_IN 64
#define MAX_MAP 64
#define MAX_KEY 64
#define MAX_PREFIX 256
#define MIN_CAPS_LETTERS 8

static const char *const severities[] = {"low", "medium", "high", "critical"};

int cond_severity_rank(const char *s)
{
    for (int i = 0; s && i < 4; i++)
        if (strcmp(s, severities[i]) == 0)
            return i;
    return -1;
}

/* ---- words ---- */

static int is_word_byte(unsigned char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch >= 0x80;
}

static char lower(char ch)
{
    return ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
}

int cond_has_word(const char *text, const char *word)
{
    size_t tlen = strlen(text), wlen = strlen(word), i, j;

    if (!wlen)
        return 0;
    for (i = 0; i + wlen <= tlen; i++) {
        if (i > 0 && is_word_byte((unsigned char)text[i - 1]) &&
            is_word_byte((unsigned char)word[0]))
            continue;
        for (j = 0; j < wlen && lower(text[i + j]) == lower(word[j]); j++)
            ;
        if (j == wlen && (i + wlen == tlen || !is_word_byte((unsigned char)text[i + wlen]) ||
                          !is_word_byte((unsigned char)word[wlen - 1])))
            return 1;
    }
    return 0;
}

/* ---- checking ---- */

static int check_at(const cJSON *when, int depth, jerr *err);

static int is_one_of(const char *s, const char *const *names, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, names[i]) == 0)
            return 1;
    return 0;
}

static int only_members(const cJSON *obj, const char *const *names, size_t n, const char *what,
                        jerr *err)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, obj) {
        if (!is_one_of(it->string, names, n))
            return jerr_set(err, it, "unknown member \"%.64s\" of %s", it->string, what);
    }
    return 0;
}

/* An integer member within min..max; absent is fine unless required. */
static int check_int(const cJSON *obj, const char *key, double min, double max, int required,
                     jerr *err)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

    if (!v)
        return required ? jerr_set(err, obj, "%s is required", key) : 0;
    if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
        v->valuedouble > max)
        return jerr_set(err, v, "must be an integer of %.0f to %.0f", min, max);
    return 0;
}

static const cJSON *member(const cJSON *obj, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(obj, key);
}

static int check_test(const cJSON *t, jerr *err)
{
    static const char *const keys[] = {"equals", "in", "min", "max", "prefix", "exists"};
    const cJSON *v;
    size_t len;

    if (!cJSON_IsObject(t))
        return 0;
    if (!t->child)
        return jerr_set(err, t, "an empty test: write {\"equals\": {}} to compare with {}");
    cJSON_ArrayForEach(v, t) {
        if (!is_one_of(v->string, keys, 6))
            return jerr_set(err, v,
                            "a test has equals, in, min, max, prefix or exists (to compare with "
                            "an object, write {\"equals\": {...}})");
    }
    v = member(t, "in");
    if (v && (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > MAX_IN))
        return jerr_set(err, v, "in must be an array of 1 to %d values", MAX_IN);
    if ((v = member(t, "min")) != NULL && !cJSON_IsNumber(v))
        return jerr_set(err, v, "min must be a number");
    if ((v = member(t, "max")) != NULL && !cJSON_IsNumber(v))
        return jerr_set(err, v, "max must be a number");
    v = member(t, "prefix");
    len = cJSON_IsString(v) ? strlen(v->valuestring) : 0;
    if (v && (len < 1 || len > MAX_PREFIX))
        return jerr_set(err, v, "prefix must be a string of 1 to %d bytes", MAX_PREFIX);
    if ((v = member(t, "exists")) != NULL && !cJSON_IsBool(v))
        return jerr_set(err, v, "exists must be true or false");
    return 0;
}

/* name -> test, for attributes and event metadata. */
static int check_map(const cJSON *map, const char *what, jerr *err)
{
    const cJSON *it;

    if (!cJSON_IsObject(map) || !map->child || cJSON_GetArraySize(map) > MAX_MAP)
        return jerr_set(err, map, "%s must be an object of 1 to %d names to tests", what, MAX_MAP);
    cJSON_ArrayForEach(it, map) {
        if (!it->string[0] || strlen(it->string) > MAX_KEY)
            return jerr_set(err, it, "a name must be 1 to %d bytes", MAX_KEY);
        if (check_test(it, err))
            return -1;
    }
    return 0;
}

static int check_severity(const cJSON *v, jerr *err)
{
    static const char *const keys[] = {"equals", "in", "min", "max", "exists"};
    const char *bad = "a severity is \"low\", \"medium\", \"high\" or \"critical\"";
    const cJSON *it, *x;

    if (cJSON_IsString(v))
        return cond_severity_rank(v->valuestring) < 0 ? jerr_set(err, v, "%s", bad) : 0;
    if (!cJSON_IsObject(v) || !v->child)
        return jerr_set(err, v, "severity_hint must be a severity or a test");
    if (only_members(v, keys, 5, "a severity test", err))
        return -1;
    cJSON_ArrayForEach(it, v) {
        if (strcmp(it->string, "exists") == 0) {
            if (!cJSON_IsBool(it))
                return jerr_set(err, it, "exists must be true or false");
        } else if (strcmp(it->string, "in") == 0) {
            if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) < 1 || cJSON_GetArraySize(it) > 4)
                return jerr_set(err, it, "in must be an array of 1 to 4 severities");
            cJSON_ArrayForEach(x, it) {
                if (!cJSON_IsString(x) || cond_severity_rank(x->valuestring) < 0)
                    return jerr_set(err, x, "%s", bad);
            }
        } else if (!cJSON_IsString(it) || cond_severity_rank(it->valuestring) < 0)
            return jerr_set(err, it, "%s", bad);
    }
    return 0;
}

static int check_string_test(const cJSON *v, jerr *err)
{
    if (cJSON_IsString(v))
        return 0;
    if (!cJSON_IsObject(v))
        return jerr_set(err, v, "must be a string or a test");
    return check_test(v, err);
}

static int check_event(const cJSON *ev, jerr *err)
{
    static const char *const keys[] = {"name", "within_s", "min_count", "meta"};
    const cJSON *name = member(ev, "name");

    if (!cJSON_IsObject(ev))
        return jerr_set(err, ev, "event must be an object {\"name\",\"within_s\",...}");
    if (only_members(ev, keys, 4, "event", err))
        return -1;
    if (!cJSON_IsString(name) || !name->valuestring[0] || strlen(name->valuestring) > MAX_KEY)
        return jerr_set(err, name ? name : ev, "event needs a name of 1 to %d bytes", MAX_KEY);
    if (check_int(ev, "within_s", 1, COND_MAX_WINDOW_S, 1, err) ||
        check_int(ev, "min_count", 1, 1000, 0, err))
        return -1;
    return member(ev, "meta") ? check_map(member(ev, "meta"), "meta", err) : 0;
}

static int check_keywords(const cJSON *v, jerr *err)
{
    const cJSON *w;
    int n = cJSON_GetArraySize(v);

    if (!cJSON_IsArray(v) || n < 1 || n > COND_MAX_WORDS)
        return jerr_set(err, v, "keywords must be an array of 1 to %d words", COND_MAX_WORDS);
    cJSON_ArrayForEach(w, v) {
        if (!cJSON_IsString(w) || !w->valuestring[0] || strlen(w->valuestring) > COND_MAX_WORD)
            return jerr_set(err, w, "a keyword must be a string of 1 to %d bytes", COND_MAX_WORD);
    }
    return 0;
}

static int check_text(const cJSON *v, jerr *err)
{
    static const char *const keys[] = {"min_length",       "max_length", "min_words", "max_words",
                                       "min_exclamations", "min_caps",   "question"};
    const cJSON *caps = member(v, "min_caps"), *q = member(v, "question");

    if (!cJSON_IsObject(v) || !v->child)
        return jerr_set(err, v, "text must be an object of shape tests");
    if (only_members(v, keys, 7, "text", err) || check_int(v, "min_length", 0, 65536, 0, err) ||
        check_int(v, "max_length", 0, 65536, 0, err) ||
        check_int(v, "min_words", 0, 10000, 0, err) ||
        check_int(v, "max_words", 0, 10000, 0, err) ||
        check_int(v, "min_exclamations", 0, 1000, 0, err))
        return -1;
    if (caps && (!cJSON_IsNumber(caps) || caps->valuedouble < 0 || caps->valuedouble > 1))
        return jerr_set(err, caps, "min_caps must be a share of 0 to 1");
    if (q && !cJSON_IsBool(q))
        return jerr_set(err, q, "question must be true or false");
    return 0;
}

static int check_asked(const cJSON *v, jerr *err)
{
    static const char *const keys[] = {"min", "max", "within_s"};
    const cJSON *min = member(v, "min"), *max = member(v, "max");

    if (!cJSON_IsObject(v))
        return jerr_set(err, v, "asked must be an object {\"min\",\"within_s\"}");
    if (only_members(v, keys, 3, "asked", err) || check_int(v, "min", 1, 10000, 1, err) ||
        check_int(v, "max", 1, 10000, 0, err) ||
        check_int(v, "within_s", 1, COND_MAX_WINDOW_S, 1, err))
        return -1;
    if (max && max->valuedouble < min->valuedouble)
        return jerr_set(err, max, "max must be at least min");
    return 0;
}

static int check_list(const cJSON *v, int depth, jerr *err)
{
    const cJSON *it;
    int n = cJSON_GetArraySize(v);

    if (!cJSON_IsArray(v) || n < 1 || n > COND_MAX_LIST)
        return jerr_set(err, v, "must be an array of 1 to %d conditions", COND_MAX_LIST);
    cJSON_ArrayForEach(it, v) {
        if (check_at(it, depth + 1, err))
            return -1;
    }
    return 0;
}

static int check_member(const cJSON *m, int depth, jerr *err)
{
    const char *k = m->string;

    if (strcmp(k, "attributes") == 0)
        return check_map(m, "attributes", err);
    if (strcmp(k, "screen") == 0 || strcmp(k, "category") == 0 || strcmp(k, "area") == 0)
        return check_string_test(m, err);
    if (strcmp(k, "severity_hint") == 0)
        return check_severity(m, err);
    if (strcmp(k, "event") == 0)
        return check_event(m, err);
    if (strcmp(k, "keywords") == 0)
        return check_keywords(m, err);
    if (strcmp(k, "text") == 0)
        return check_text(m, err);
    if (strcmp(k, "asked") == 0)
        return check_asked(m, err);
    if (strcmp(k, "all") == 0 || strcmp(k, "any") == 0)
        return check_list(m, depth, err);
    if (strcmp(k, "not") == 0)
        return check_at(m, depth + 1, err);
    return jerr_set(err, m, "unknown condition \"%.64s\"", k);
}

static int check_at(const cJSON *when, int depth, jerr *err)
{
    const cJSON *m;

    if (!cJSON_IsObject(when))
        return jerr_set(err, when, "a condition must be an object");
    if (depth > COND_MAX_DEPTH)
        return jerr_set(err, when, "conditions nest deeper than %d", COND_MAX_DEPTH);
    cJSON_ArrayForEach(m, when) {
        if (check_member(m, depth, err))
            return -1;
    }
    return 0;
}

int cond_check(const cJSON *when, jerr *err)
{
    return check_at(when, 1, err);
}

/* ---- evaluating ---- */

/* `v` (NULL: unset, counted as null) passes the test `t`. */
static int test_eval(const cJSON *t, const cJSON *v)
{
    const cJSON *x;
    int hit = 0, present = v && !cJSON_IsNull(v);

    if (!cJSON_IsObject(t))
        return v ? cJSON_Compare(t, v, 1) : cJSON_IsNull(t);
    if ((x = member(t, "exists")) != NULL && cJSON_IsTrue(x) != present)
        return 0;
    if ((x = member(t, "equals")) != NULL && !(v ? cJSON_Compare(x, v, 1) : cJSON_IsNull(x)))
        return 0;
    if ((x = member(t, "in")) != NULL) {
        const cJSON *it;
        cJSON_ArrayForEach(it, x)
            hit |= v ? cJSON_Compare(it, v, 1) : cJSON_IsNull(it);
        if (!hit)
            return 0;
    }
    if ((x = member(t, "min")) != NULL && !(cJSON_IsNumber(v) && v->valuedouble >= x->valuedouble))
        return 0;
    if ((x = member(t, "max")) != NULL && !(cJSON_IsNumber(v) && v->valuedouble <= x->valuedouble))
        return 0;
    x = member(t, "prefix");
    return !x || (cJSON_IsString(v) &&
                  strncmp(v->valuestring, x->valuestring, strlen(x->valuestring)) == 0);
}

static int test_str(const cJSON *t, const char *s)
{
    cJSON v;

    memset(&v, 0, sizeof v);
    v.type = cJSON_String;
    v.valuestring = (char *)s;
    return test_eval(t, s ? &v : NULL);
}

static int map_eval(const cJSON *map, const cJSON *obj)
{
    const cJSON *t;

    cJSON_ArrayForEach(t, map) {
        if (!test_eval(t, cJSON_IsObject(obj) ? member(obj, t->string) : NULL))
            return 0;
    }
    return 1;
}

static int rank_in(const cJSON *list, int rank)
{
    const cJSON *it;

    cJSON_ArrayForEach(it, list) {
        if (cond_severity_rank(it->valuestring) == rank)
            return 1;
    }
    return 0;
}

static int severity_eval(const cJSON *t, const char *s)
{
    int rank = cond_severity_rank(s);
    const cJSON *x;

    if (cJSON_IsString(t))
        return rank >= 0 && rank == cond_severity_rank(t->valuestring);
    if ((x = member(t, "exists")) != NULL && cJSON_IsTrue(x) != (rank >= 0))
        return 0;
    if (rank < 0)
        return member(t, "exists") && !member(t, "equals") && !member(t, "in") &&
               !member(t, "min") && !member(t, "max");
    if ((x = member(t, "equals")) != NULL && cond_severity_rank(x->valuestring) != rank)
        return 0;
    if ((x = member(t, "in")) != NULL && !rank_in(x, rank))
        return 0;
    if ((x = member(t, "min")) != NULL && rank < cond_severity_rank(x->valuestring))
        return 0;
    x = member(t, "max");
    return !x || rank <= cond_severity_rank(x->valuestring);
}

static int64_t window_ms(const cJSON *obj)
{
    return (int64_t)member(obj, "within_s")->valuedouble * 1000;
}

static int event_eval(const cJSON *ev, const cond_input *in)
{
    const char *name = member(ev, "name")->valuestring;
    const cJSON *meta = member(ev, "meta"), *mc = member(ev, "min_count");
    int64_t since = in->now_ms - window_ms(ev);
    int need = mc ? (int)mc->valuedouble : 1, n = 0;

    for (size_t i = 0; i < in->nevents && n < need; i++) {
        const cond_event *e = &in->events[i];
        if (e->name && strcmp(e->name, name) == 0 && e->ts_ms >= since &&
            (!meta || map_eval(meta, e->meta)))
            n++;
    }
    return n >= need;
}

static int keywords_eval(const cJSON *words, const char *text)
{
    const cJSON *w;

    if (!text)
        return 0;
    cJSON_ArrayForEach(w, words) {
        if (cond_has_word(text, w->valuestring))
            return 1;
    }
    return 0;
}

typedef struct shape {
    double length, words, exclamations, caps;
    int question;
} shape;

static void measure(const char *text, shape *s)
{
    double upper = 0, letters = 0;
    int in_word = 0;

    memset(s, 0, sizeof *s);
    for (const unsigned char *p = (const unsigned char *)text; *p; p++) {
        s->length++;
        s->words += is_word_byte(*p) && !in_word;
        in_word = is_word_byte(*p);
        s->exclamations += *p == '!';
        s->question |= *p == '?';
        upper += *p >= 'A' && *p <= 'Z';
        letters += (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z');
    }
    s->caps = letters >= MIN_CAPS_LETTERS ? upper / letters : 0;
}

static int at_least(const cJSON *t, const char *key, double v)
{
    const cJSON *x = member(t, key);

    return !x || v >= x->valuedouble;
}

static int at_most(const cJSON *t, const char *key, double v)
{
    const cJSON *x = member(t, key);

    return !x || v <= x->valuedouble;
}

static int text_eval(const cJSON *t, const char *text)
{
    const cJSON *q = member(t, "question");
    shape s;

    if (!text)
        return 0;
    measure(text, &s);
    return at_least(t, "min_length", s.length) && at_most(t, "max_length", s.length) &&
           at_least(t, "min_words", s.words) && at_most(t, "max_words", s.words) &&
           at_least(t, "min_exclamations", s.exclamations) && at_least(t, "min_caps", s.caps) &&
           (!q || cJSON_IsTrue(q) == s.question);
}

static int asked_eval(const cJSON *t, const cond_input *in)
{
    int64_t since = in->now_ms - window_ms(t);
    double n = 0;

    for (size_t i = 0; i < in->nasked; i++)
        n += in->asked_ms[i] >= since;
    return at_least(t, "min", n) && at_most(t, "max", n);
}

static int member_eval(const cJSON *m, const cond_input *in)
{
    const char *k = m->string;
    const cJSON *it;

    if (strcmp(k, "attributes") == 0)
        return map_eval(m, in->attributes);
    if (strcmp(k, "screen") == 0)
        return test_str(m, in->screen);
    if (strcmp(k, "category") == 0)
        return test_str(m, in->category);
    if (strcmp(k, "area") == 0)
        return test_str(m, in->area);
    if (strcmp(k, "severity_hint") == 0)
        return severity_eval(m, in->severity);
    if (strcmp(k, "event") == 0)
        return event_eval(m, in);
    if (strcmp(k, "keywords") == 0)
        return keywords_eval(m, in->text);
    if (strcmp(k, "text") == 0)
        return text_eval(m, in->text);
    if (strcmp(k, "asked") == 0)
        return asked_eval(m, in);
    if (strcmp(k, "not") == 0)
        return !cond_eval(m, in);
    if (strcmp(k, "all") == 0) {
        cJSON_ArrayForEach(it, m) {
            if (!cond_eval(it, in))
                return 0;
        }
        return 1;
    }
    cJSON_ArrayForEach(it, m) {
        if (cond_eval(it, in))
            return 1;
    }
    return 0;
}

int cond_eval(const cJSON *when, const cond_input *in)
{
    const cJSON *m;

    cJSON_ArrayForEach(m, when) {
        if (!member_eval(m, in))
            return 0;
    }
    return 1;
}

void cond_windows(const cJSON *when, int64_t *events_s, int64_t *asked_s)
{
    const cJSON *m, *it;
    int64_t w;

    cJSON_ArrayForEach(m, when) {
        if (strcmp(m->string, "event") == 0 || strcmp(m->string, "asked") == 0) {
            w = (int64_t)member(m, "within_s")->valuedouble;
            int64_t *into = m->string[0] == 'e' ? events_s : asked_s;
            if (w > *into)
                *into = w;
        } else if (strcmp(m->string, "not") == 0)
            cond_windows(m, events_s, asked_s);
        else if (strcmp(m->string, "all") == 0 || strcmp(m->string, "any") == 0) {
            cJSON_ArrayForEach(it, m)
                cond_windows(it, events_s, asked_s);
        }
    }
}
