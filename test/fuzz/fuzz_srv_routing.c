/* libFuzzer target: parley-server's routing rules loader (rules.c, the
 * --routing file: conditions, teams, office hours with zones read from the
 * system's TZ database, routes) and, when a file loads, triage of a few
 * fixed requests, the teams' hours at a few instants and the out-of-hours
 * texts. A refused file must say which line. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rules.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int node_exists(void *ud, const char *node)
{
    (void)ud;
    return strcmp(node, "purchase_recovery") == 0 || strcmp(node, "greeting") == 0;
}

static const int64_t instants[] = {0, INT64_C(1767000000000), INT64_C(1743296400000),
                                   INT64_C(4102444800000), -INT64_C(86400000)};

static void exercise(const rules *r)
{
    cJSON *attrs = cJSON_Parse("{\"vip\":true,\"spend\":150,\"plan\":\"gold\"}");
    cJSON *meta = cJSON_Parse("{\"code\":402,\"sku\":\"gems_500\"}");
    cond_event ev[2] = {{"purchase_failed", meta, INT64_C(1767000000000) - 60000},
                        {"level_failed", NULL, 0}};
    int64_t asked[2] = {INT64_C(1767000000000), INT64_C(1766999000000)};
    static const char *const texts[] = {NULL, "how do I reset my password",
                                        "WHERE ARE MY GEMS??? I was charged twice!!!"};
    cond_input in;
    triage t;

    for (size_t i = 0; i < sizeof texts / sizeof texts[0]; i++) {
        memset(&in, 0, sizeof in);
        in.now_ms = instants[1];
        in.attributes = i ? attrs : NULL;
        in.screen = "shop/gems";
        in.events = ev;
        in.nevents = i ? 2 : 0;
        in.category = "payments";
        in.severity = "critical";
        in.text = texts[i];
        in.asked_ms = asked;
        in.nasked = i;
        if (rules_triage(r, &in, &t) == 0) {
            cJSON *j = triage_to_json(&t);
            char *s = j ? cJSON_PrintUnformatted(j) : NULL;
            if (getenv("PARLEY_FUZZ_TRACE") && s)
                fprintf(stderr, "triage: %s\n", s);
            cJSON_free(s);
            cJSON_Delete(j);
            triage_clear(&t);
        }
    }
    for (size_t k = 0; k < rules_team_count(r); k++)
        for (size_t i = 0; i < sizeof instants / sizeof instants[0]; i++) {
            const char *team = rules_team_name(r, k);
            free(rules_out_of_hours(r, team, instants[i]));
            (void)rules_team_open(r, team, instants[i]);
            (void)rules_team_has_agent(r, team, "Dana");
        }
    (void)rules_kb_says_no(r, "no, that didn't help");
    cJSON_Delete(attrs);
    cJSON_Delete(meta);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const rules_env env = {node_exists, NULL, NULL};
    char why[512];
    rules *r = rules_parse((const char *)data, size, &env, "fuzz.json", why, sizeof why);

    if (r)
        exercise(r);
    else {
        if (getenv("PARLEY_FUZZ_TRACE"))
            fprintf(stderr, "routing refused: %s\n", why);
        /* Every refusal names the file and a line. */
        if (!strstr(why, "out of memory") &&
            (strncmp(why, "fuzz.json:", 10) != 0 || why[10] < '1' || why[10] > '9'))
            abort();
    }
    rules_free(r);
    return 0;
}
