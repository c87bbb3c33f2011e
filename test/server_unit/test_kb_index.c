/* The knowledge base's index (kb.c, store_kb.c): searches and lookups run
 * again and again on statements prepared once, with the same answers; an
 * index copied from an empty model (kb_load_like) answers as one created
 * for it, leaves the model empty, and a model that holds articles is
 * refused. */
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "kb.h"
#include "testlib.h"

typedef struct seen {
    int n;
    char ids[256];
} seen;

static int on_article(void *ud, const kb_article *a)
{
    seen *s = ud;
    size_t len = strlen(s->ids);

    s->n++;
    snprintf(s->ids + len, sizeof s->ids - len, "%s%s", len ? "," : "", a->id);
    return 0;
}

static void write_article(const char *dir, const char *id, const char *title, const char *body)
{
    char path[400];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s.md", dir, id);
    f = fopen(path, "w");
    REQUIRE(f != NULL);
    fprintf(f, "# %s\nkeywords: help\n\n%s\n", title, body);
    REQUIRE(fclose(f) == 0);
}

/* "refund" finds both articles, the one titled so first; "gems" one. */
static void check_answers(kb *k)
{
    seen s;

    for (int round = 0; round < 3; round++) {
        memset(&s, 0, sizeof s);
        CHECK_INT(kb_search(k, "refund", KB_MAX_RESULTS, on_article, &s), 2);
        CHECK_STR(s.ids, "refunds,gems");
        memset(&s, 0, sizeof s);
        CHECK_INT(kb_search(k, "missing gems", KB_MAX_RESULTS, on_article, &s), 1);
        CHECK_STR(s.ids, "gems");
        memset(&s, 0, sizeof s);
        CHECK_INT(kb_get(k, "refunds", on_article, &s), 1);
        CHECK_INT(kb_get(k, "nothing", on_article, &s), 0);
        CHECK_STR(s.ids, "refunds");
    }
    CHECK_INT(kb_count(k), 2);
}

static void test_created_and_copied(void)
{
    char root[256], full[300], none[300], why[256];
    kb *made = NULL, *empty = NULL, *copy = NULL, *refused = NULL;
    seen s;

    REQUIRE(tl_mkdtemp(root, sizeof root, "kbindex") == 0);
    snprintf(full, sizeof full, "%s/full", root);
    snprintf(none, sizeof none, "%s/none", root);
    REQUIRE(mkdir(full, 0700) == 0 && mkdir(none, 0700) == 0);
    write_article(full, "refunds", "Refunds", "Ask the store for a refund within 14 days.");
    write_article(full, "gems", "Missing gems", "Gems bought but not shown: a refund or a retry.");

    REQUIRE(kb_load(full, &made, why, sizeof why) == 0);
    check_answers(made);
    REQUIRE(kb_load(none, &empty, why, sizeof why) == 0);
    CHECK_INT(kb_count(empty), 0);
    for (int i = 0; i < 2; i++) {
        REQUIRE(kb_load_like(empty, full, &copy, why, sizeof why) == 0);
        check_answers(copy);
        kb_free(copy);
    }
    /* The model is as it was. */
    memset(&s, 0, sizeof s);
    CHECK_INT(kb_search(empty, "refund", KB_MAX_RESULTS, on_article, &s), 0);
    /* One with articles is no model. */
    CHECK_INT(kb_load_like(made, none, &refused, why, sizeof why), -1);
    CHECK(refused == NULL);
    CHECK_STR(why, "the model holds articles");
    kb_free(made);
    kb_free(empty);
    tl_rmrf(root);
}

int main(void)
{
    RUN(test_created_and_copied);
    return tl_finish();
}
