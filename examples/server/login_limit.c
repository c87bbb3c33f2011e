#include "login_limit.h"

#include <stdlib.h>
#include <string.h>

typedef struct entry {
    char key[LOGIN_LIMIT_KEY_MAX + 3]; /* "n:" or "a:", the name or address, NUL */
    double tokens;
    int64_t last_ms; /* when tokens was last brought up to date */
    int64_t seen_ms; /* the last attempt for this key */
    int used;
} entry;

struct login_limit {
    entry *e;
    size_t cap, n;
};

typedef struct rule {
    double burst;
    int64_t every_ms;
} rule;

static const rule NAME_RULE = {LOGIN_LIMIT_NAME_BURST, LOGIN_LIMIT_NAME_EVERY_MS};
static const rule ADDR_RULE = {LOGIN_LIMIT_ADDR_BURST, LOGIN_LIMIT_ADDR_EVERY_MS};

login_limit *login_limit_new(size_t entries)
{
    login_limit *l = calloc(1, sizeof *l);

    if (!l)
        return NULL;
    /* A login needs two entries at once. */
    l->cap = entries == 0 ? LOGIN_LIMIT_ENTRIES : entries < 2 ? 2 : entries;
    l->e = calloc(l->cap, sizeof *l->e);
    if (!l->e) {
        free(l);
        return NULL;
    }
    return l;
}

void login_limit_free(login_limit *l)
{
    if (l)
        free(l->e);
    free(l);
}

size_t login_limit_count(const login_limit *l)
{
    return l->n;
}

static void make_key(char *key, char kind, const char *s)
{
    size_t len = strlen(s);

    if (len > LOGIN_LIMIT_KEY_MAX)
        len = LOGIN_LIMIT_KEY_MAX;
    key[0] = kind;
    key[1] = ':';
    memcpy(key + 2, s, len);
    key[2 + len] = '\0';
}

static const rule *rule_of(const entry *e)
{
    return e->key[0] == 'n' ? &NAME_RULE : &ADDR_RULE;
}

static void refill(entry *e, int64_t now_ms)
{
    const rule *r = rule_of(e);

    if (now_ms > e->last_ms) {
        e->tokens += (double)(now_ms - e->last_ms) / (double)r->every_ms;
        if (e->tokens > r->burst)
            e->tokens = r->burst;
    }
    e->last_ms = now_ms;
}

static entry *find(login_limit *l, const char *key)
{
    size_t i;

    for (i = 0; i < l->cap; i++) {
        if (l->e[i].used && strcmp(l->e[i].key, key) == 0)
            return &l->e[i];
    }
    return NULL;
}

/* A slot for a new key other than `keep`: a free one, else one whose
 * budget is full again (it remembers nothing), else the one left alone
 * longest. */
static entry *slot(login_limit *l, const entry *keep, int64_t now_ms)
{
    entry *oldest = NULL;
    size_t i;

    for (i = 0; i < l->cap; i++) {
        entry *e = &l->e[i];

        if (e == keep)
            continue;
        if (!e->used)
            return e;
        refill(e, now_ms);
        if (e->tokens >= rule_of(e)->burst)
            return e;
        if (!oldest || e->seen_ms < oldest->seen_ms)
            oldest = e;
    }
    return oldest;
}

/* The key's entry; a new one (with a full budget, not in `keep`'s slot)
 * when `create`. */
static entry *get(login_limit *l, char kind, const char *s, int create, const entry *keep,
                  int64_t now_ms)
{
    char key[LOGIN_LIMIT_KEY_MAX + 3];
    entry *e;

    make_key(key, kind, s);
    e = find(l, key);
    if (e) {
        refill(e, now_ms);
        e->seen_ms = now_ms;
        return e;
    }
    if (!create)
        return NULL;
    e = slot(l, keep, now_ms);
    if (!e->used)
        l->n++;
    memcpy(e->key, key, sizeof key);
    e->used = 1;
    e->last_ms = e->seen_ms = now_ms;
    e->tokens = rule_of(e)->burst;
    return e;
}

/* Seconds until the entry has a whole token (0 when it has one). */
static int64_t wait_s(const entry *e)
{
    double missing = 1.0 - e->tokens;
    int64_t ms;

    if (missing <= 0)
        return 0;
    ms = (int64_t)(missing * (double)rule_of(e)->every_ms);
    if ((double)ms < missing * (double)rule_of(e)->every_ms)
        ms++;
    return ms < 1000 ? 1 : (ms + 999) / 1000;
}

int64_t login_limit_begin(login_limit *l, const char *name, const char *addr, int64_t now_ms)
{
    entry *n = get(l, 'n', name, 1, NULL, now_ms), *a = get(l, 'a', addr, 1, n, now_ms);
    int64_t wn, wa;

    wn = wait_s(n);
    wa = wait_s(a);
    if (wn || wa)
        return wn > wa ? wn : wa;
    n->tokens -= 1;
    a->tokens -= 1;
    return 0;
}

void login_limit_success(login_limit *l, const char *name, const char *addr, int64_t now_ms)
{
    entry *n = get(l, 'n', name, 0, NULL, now_ms), *a = get(l, 'a', addr, 0, NULL, now_ms);

    if (n)
        n->tokens = NAME_RULE.burst;
    if (a) {
        a->tokens += 1;
        if (a->tokens > ADDR_RULE.burst)
            a->tokens = ADDR_RULE.burst;
    }
}
