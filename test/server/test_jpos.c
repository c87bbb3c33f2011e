/* Finding a parsed member's line in its text (jpos.c): keys with escapes
 * and duplicates, arrays, strings holding brackets, a BOM; depth and
 * duplicate-key checks. */
#include <stdlib.h>
#include <string.h>

#include "jpos.h"
#include "testlib.h"

static const char doc[] = "\xef\xbb\xbf{\n"
                          "  \"a\\\"b\": \"text with } and ] and \\\" inside\",\n"
                          "  \"list\": [1, \"two\",\n"
                          "     {\"deep\": [\n"
                          "        null,\n"
                          "        {\"x\": 1}]}],\n"
                          "  \"k\": 1,\n"
                          "  \"k\": 2\n"
                          "}\n";

static void test_find(void)
{
    cJSON *root = cJSON_ParseWithLength(doc + 3, sizeof doc - 4);
    const cJSON *list, *deep, *x, *k2;
    char path[128];
    int line = 0;

    CHECK(root != NULL);
    if (!root)
        return;
    list = cJSON_GetObjectItemCaseSensitive(root, "list");
    deep = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(list, 2), "deep");
    x = cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(deep, 1), "x");
    k2 = root->child->next->next->next;
    CHECK_INT(jpos_find(doc, sizeof doc - 1, root, root, &line, path, sizeof path), 0);
    CHECK_INT(line, 1);
    CHECK_STR(path, "");
    CHECK_INT(jpos_find(doc, sizeof doc - 1, root, root->child, &line, path, sizeof path), 0);
    CHECK_INT(line, 2);
    CHECK_STR(path, "a\"b");
    CHECK_INT(
        jpos_find(doc, sizeof doc - 1, root, cJSON_GetArrayItem(list, 1), &line, path, sizeof path),
        0);
    CHECK_INT(line, 3);
    CHECK_STR(path, "list[1]");
    CHECK_INT(
        jpos_find(doc, sizeof doc - 1, root, cJSON_GetArrayItem(deep, 0), &line, path, sizeof path),
        0);
    CHECK_INT(line, 5);
    CHECK_STR(path, "list[2].deep[0]");
    CHECK_INT(jpos_find(doc, sizeof doc - 1, root, x, &line, path, sizeof path), 0);
    CHECK_INT(line, 6);
    CHECK_STR(path, "list[2].deep[1].x");
    /* The second of two members of one name is found as itself. */
    CHECK_INT(jpos_find(doc, sizeof doc - 1, root, k2, &line, path, sizeof path), 0);
    CHECK_INT(line, 8);
    CHECK(jpos_duplicate_key(root) == k2);
    /* Not under the root. */
    {
        cJSON *other = cJSON_CreateNull();
        CHECK_INT(jpos_find(doc, sizeof doc - 1, root, other, &line, path, sizeof path), -1);
        CHECK_INT(line, 0);
        cJSON_Delete(other);
    }
    cJSON_Delete(root);
}

static void test_explain(void)
{
    static const char text[] = "{\n\"a\": [\n1, 2]}";
    cJSON *root = cJSON_Parse(text);
    jerr err;
    char why[256];

    jerr_set(&err, cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(root, "a"), 1), "must be %s",
             "odd");
    jpos_explain(text, strlen(text), root, &err, "f.json", why, sizeof why);
    CHECK_STR(why, "f.json:3: a[1]: must be odd");
    jerr_set(&err, NULL, "whole");
    jpos_explain(text, strlen(text), root, &err, NULL, why, sizeof why);
    CHECK_STR(why, "line 1: whole");
    jpos_explain_at(text, strlen(text), 9, "bad", "f.json", why, sizeof why);
    CHECK_STR(why, "f.json:3: bad");
    cJSON_Delete(root);
}

static void test_depth_and_duplicates(void)
{
    cJSON *flat = cJSON_Parse("{\"a\":1,\"b\":{\"a\":2},\"c\":[{\"x\":1,\"y\":2,\"x\":3}]}");
    cJSON *deep = cJSON_Parse("[[[[[[1]]]]]]");
    cJSON *wide = cJSON_CreateObject();
    char key[16];

    CHECK_INT(jpos_depth(cJSON_GetObjectItemCaseSensitive(flat, "a"), 5), 0);
    CHECK_INT(jpos_depth(flat, 5), 3);
    CHECK_INT(jpos_depth(deep, 10), 6);
    CHECK(jpos_depth(deep, 3) > 3);
    CHECK_STR(jpos_duplicate_key(flat)->string, "x");
    CHECK_INT(jpos_duplicate_key(flat)->valueint, 3);
    /* Many members: sorted, not compared pairwise. */
    for (int i = 0; i < 50000; i++) {
        snprintf(key, sizeof key, "k%d", i);
        cJSON_AddNumberToObject(wide, key, i);
    }
    CHECK(jpos_duplicate_key(wide) == NULL);
    cJSON_AddNumberToObject(wide, "k123", 0);
    CHECK(jpos_duplicate_key(wide) != NULL);
    cJSON_Delete(flat);
    cJSON_Delete(deep);
    cJSON_Delete(wide);
}

int main(void)
{
    RUN(test_find);
    RUN(test_explain);
    RUN(test_depth_and_duplicates);
    return tl_finish();
}
