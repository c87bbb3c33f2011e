/* The metrics' window bounds what the store reads (store.h,
 * store_conv_active_each): conversations created at or after `until` are
 * not read at all, so `since=0&until=1` costs nothing, where it once read
 * every conversation ever stored. */
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "testlib.h"

typedef struct seen {
    char ids[64];
} seen;

static int add_id(void *ud, const store_conv *c)
{
    seen *s = ud;
    size_t n = strlen(s->ids);

    snprintf(s->ids + n, sizeof s->ids - n, "%s%s", n ? "," : "", c->id);
    return 0;
}

static const char *active(store *st, int64_t since, int64_t until)
{
    static seen s;

    memset(&s, 0, sizeof s);
    return store_conv_active_each(st, since, until, add_id, &s) ? "error" : s.ids;
}

static void test_window_bounds_the_read(void)
{
    char dir[256], db[512];
    store *st;

    if (tl_mkdtemp(dir, sizeof dir, "window")) {
        CHECK(0);
        return;
    }
    snprintf(db, sizeof db, "%s/window.db", dir);
    if (store_open(db, 1, &st)) {
        CHECK(0);
        return;
    }
    CHECK_INT(store_user_seen(st, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(st, "c-old", "u-1", NULL, NULL, NULL, 1000), 0);
    CHECK_INT(store_conv_create(st, "c-new", "u-1", NULL, NULL, NULL, 5000), 0);
    CHECK_STR(active(st, 0, 10000), "c-new,c-old");
    CHECK_STR(active(st, 0, 2000), "c-old");
    CHECK_STR(active(st, 0, 1000), "");
    CHECK_STR(active(st, 3000, 10000), "c-new");
    CHECK_STR(active(st, 0, 1), "");
    store_close(st);
}

int main(void)
{
    RUN(test_window_bounds_the_read);
    return tl_finish();
}
