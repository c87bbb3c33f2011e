#include "sla_policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"

#define MAX_FILE 65536

static const char *const PRIORITIES[SLA_NPRIO] = {"urgent", "high", "normal", "low"};

int sla_priority_index(const char *name)
{
    int i;

    for (i = 0; name && i < SLA_NPRIO; i++) {
        if (strcmp(name, PRIORITIES[i]) == 0)
            return i;
    }
    return -1;
}

const char *sla_priority_name(int index)
{
    return index >= 0 && index < SLA_NPRIO ? PRIORITIES[index] : NULL;
}

static int fail(char *why, size_t cap, const char *where, const char *what)
{
    snprintf(why, cap, "%s: %s", where, what);
    return -1;
}

/* A whole number of seconds in 1 … SLA_MAX_TARGET_S. */
static int seconds(const cJSON *v, int64_t *out)
{
    double d;

    if (!cJSON_IsNumber(v))
        return -1;
    d = v->valuedouble;
    if (d < 1 || d > SLA_MAX_TARGET_S || d != (double)(int64_t)d)
        return -1;
    *out = (int64_t)d;
    return 0;
}

/* The warning comes warn_before_s before the due time: given, or a fifth
 * of the target (at least 1 s), always less than the target. */
static int finish(sla_target *t, const cJSON *warn, const char *where, char *why, size_t cap)
{
    if (!t->target_s)
        return 0;
    if (!warn) {
        t->warn_before_s = t->target_s / 5 ? t->target_s / 5 : 1;
        if (t->warn_before_s >= t->target_s)
            t->warn_before_s = 0;
        return 0;
    }
    if (seconds(warn, &t->warn_before_s) || t->warn_before_s >= t->target_s)
        return fail(why, cap, where,
                    "warn_before_s must be a whole number of seconds below every target");
    return 0;
}

static int parse_one(const cJSON *o, const char *prio, sla_target *first, sla_target *next,
                     char *why, size_t cap)
{
    char where[64];
    const cJSON *it, *warn = NULL;

    snprintf(where, sizeof where, "policies.%s", prio);
    if (!cJSON_IsObject(o))
        return fail(why, cap, where, "must be an object");
    cJSON_ArrayForEach(it, o) {
        int64_t *dst = strcmp(it->string, "first_response_s") == 0  ? &first->target_s
                       : strcmp(it->string, "next_response_s") == 0 ? &next->target_s
                                                                    : NULL;

        if (strcmp(it->string, "warn_before_s") == 0) {
            warn = it;
            continue;
        }
        snprintf(where, sizeof where, "policies.%s.%s", prio, it->string);
        if (!dst)
            return fail(why, cap, where, "unknown member");
        if (seconds(it, dst))
            return fail(why, cap, where, "must be a whole number of seconds, 1 to 2592000");
    }
    snprintf(where, sizeof where, "policies.%s.warn_before_s", prio);
    if (warn && !first->target_s && !next->target_s)
        return fail(why, cap, where, "has no target to warn before");
    return finish(first, warn, where, why, cap) || finish(next, warn, where, why, cap) ? -1 : 0;
}

static int parse_file(const cJSON *root, sla_policy *out, char *why, size_t cap)
{
    const cJSON *it, *pol = NULL;
    int i;

    cJSON_ArrayForEach(it, root) {
        if (strcmp(it->string, "policies") == 0)
            pol = it;
        else if (strcmp(it->string, "description") != 0)
            return fail(why, cap, it->string, "unknown member");
    }
    if (!cJSON_IsObject(pol))
        return fail(why, cap, "policies", "required, an object of priority -> targets");
    cJSON_ArrayForEach(it, pol) {
        i = sla_priority_index(it->string);
        if (i < 0)
            return fail(why, cap, it->string, "not a priority (urgent, high, normal or low)");
        if (parse_one(it, it->string, &out->first[i], &out->next[i], why, cap))
            return -1;
    }
    out->enabled = 1;
    return 0;
}

int sla_policy_parse(const char *text, size_t len, sla_policy *out, char *why, size_t cap)
{
    const char *reason = NULL;
    cJSON *root;
    int rc;

    memset(out, 0, sizeof *out);
    root = pj_parse(text, len, &reason);
    if (!root) {
        snprintf(why, cap, "not valid JSON: %s", reason ? reason : "unknown error");
        return -1;
    }
    rc = parse_file(root, out, why, cap);
    cJSON_Delete(root);
    if (rc)
        memset(out, 0, sizeof *out);
    return rc;
}

int sla_policy_load(const char *path, sla_policy *out, char *why, size_t cap)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    size_t n;
    int rc;

    memset(out, 0, sizeof *out);
    if (!f) {
        snprintf(why, cap, "cannot read the file");
        return -1;
    }
    buf = malloc(MAX_FILE + 1);
    n = buf ? fread(buf, 1, MAX_FILE + 1, f) : 0;
    rc = !buf || ferror(f) ? -1 : n > MAX_FILE ? -2 : 0;
    fclose(f);
    if (rc) {
        snprintf(why, cap, rc == -2 ? "larger than 64 KiB" : "cannot read the file");
        free(buf);
        return -1;
    }
    buf[n] = '\0';
    rc = sla_policy_parse(buf, n, out, why, cap);
    free(buf);
    return rc;
}

static void set_clock(sla_clock *c, const sla_target *t, int64_t start, int64_t met)
{
    c->start = start;
    c->target_s = t->target_s;
    c->due = start + t->target_s * 1000;
    c->warn = c->due - t->warn_before_s * 1000;
    c->met = met;
    c->running = !met;
}

void sla_clocks(const sla_policy *p, const tl_facts *f, sla_clock *first, sla_clock *next)
{
    const tl_episode *ep = tl_current(f);
    int prio = sla_priority_index(f->priority);

    memset(first, 0, sizeof *first);
    memset(next, 0, sizeof *next);
    if (!p->enabled || !ep || prio < 0)
        return;
    if (p->first[prio].target_s)
        set_clock(first, &p->first[prio], ep->start, ep->first_response);
    if (p->next[prio].target_s && ep->first_response && f->awaiting_since)
        set_clock(next, &p->next[prio], f->awaiting_since, 0);
}
