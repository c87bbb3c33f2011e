/* Group commit in the SQLite store (store.h): the writes of a group are
 * invisible to another connection until store_group_commit, reads open no
 * group, a transaction inside the group is a savepoint whose rollback
 * undoes its own writes only, and a group that cannot commit is rolled
 * back whole and reported, so that nothing held for it is sent. */
#include <stdio.h>
#include <string.h>

#include "store.h"
#include "store_sql.h"
#include "testlib.h"

typedef struct opened {
    int n;
} opened;

static void on_open(void *ud)
{
    ((opened *)ud)->n++;
}

/* The writer with grouping on and a second connection that reads. */
static int open_pair(const char *dir, store **w, store **r, opened *o)
{
    char db[512];

    snprintf(db, sizeof db, "%s/group.db", dir);
    if (store_open(db, 1, w))
        return -1;
    if (store_open(db, 1, r)) {
        store_close(*w);
        return -1;
    }
    store_grouping(*w, on_open, o);
    return 0;
}

static int count_msg(void *ud, const store_msg *m)
{
    (void)m;
    ++*(int *)ud;
    return 0;
}

static int messages(store *s, const char *conv)
{
    int n = 0;

    return store_msg_each(s, conv, 0, 0, count_msg, &n) ? -1 : n;
}

static void test_group_is_one_commit(void)
{
    char dir[256];
    store *w, *r;
    opened o = {0};

    if (tl_mkdtemp(dir, sizeof dir, "group") || open_pair(dir, &w, &r, &o)) {
        CHECK(0);
        return;
    }
    /* A read opens nothing. */
    CHECK_INT(store_conv_owned(w, "u-1", "c-1"), 0);
    CHECK_INT(store_group_pending(w), 0);
    CHECK_INT(o.n, 0);

    /* Several writes, one group, announced once. */
    CHECK_INT(store_user_seen(w, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_group_pending(w), 1);
    CHECK_INT(store_conv_create(w, "c-1", "u-1", "first", NULL, NULL, 2), 0);
    CHECK_INT(store_conv_create(w, "c-2", "u-1", "second", NULL, NULL, 3), 0);
    CHECK_INT(o.n, 1);
    CHECK_INT(store_group_pending(w), 1);
    CHECK_INT(store_group_committed(w), 0);
    /* The writer sees its group; nobody else does before the commit. */
    CHECK_INT(store_conv_owned(w, "u-1", "c-2"), 1);
    CHECK_INT(store_conv_owned(r, "u-1", "c-1"), 0);

    CHECK_INT(store_group_commit(w), 0);
    CHECK_INT(store_group_pending(w), 0);
    CHECK_INT(store_group_committed(w), 1);
    CHECK_INT(store_conv_owned(r, "u-1", "c-1"), 1);
    CHECK_INT(store_conv_owned(r, "u-1", "c-2"), 1);
    /* Nothing open: a commit is a no-op that succeeds. */
    CHECK_INT(store_group_commit(w), 0);
    CHECK_INT(store_group_committed(w), 1);

    /* The next write opens the next group. */
    CHECK_INT(store_conv_create(w, "c-3", "u-1", NULL, NULL, NULL, 4), 0);
    CHECK_INT(store_group_pending(w), 2);
    CHECK_INT(o.n, 2);
    /* Turning grouping off commits what is open. */
    store_grouping(w, NULL, NULL);
    CHECK_INT(store_group_committed(w), 2);
    CHECK_INT(store_conv_owned(r, "u-1", "c-3"), 1);
    /* Without grouping every write is its own transaction again. */
    CHECK_INT(store_conv_create(w, "c-4", "u-1", NULL, NULL, NULL, 5), 0);
    CHECK_INT(store_group_pending(w), 0);
    CHECK_INT(store_conv_owned(r, "u-1", "c-4"), 1);
    store_close(r);
    store_close(w);
    tl_rmrf(dir);
}

static int insert_msg(store *s, const char *conv, const char *text)
{
    store_msg m;

    memset(&m, 0, sizeof m);
    m.conv = conv;
    m.author_kind = "user";
    m.text = text;
    m.ts = 10;
    return store_msg_insert(s, &m);
}

static void test_transactions_are_savepoints(void)
{
    char dir[256];
    store *w, *r;
    opened o = {0};

    if (tl_mkdtemp(dir, sizeof dir, "group") || open_pair(dir, &w, &r, &o)) {
        CHECK(0);
        return;
    }
    CHECK_INT(store_user_seen(w, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(w, "c-1", "u-1", NULL, NULL, NULL, 2), 0);

    /* A transaction that commits joins the group... */
    CHECK_INT(store_begin(w), 0);
    CHECK_INT(insert_msg(w, "c-1", "kept"), 0);
    CHECK_INT(store_commit(w), 0);
    /* ... one that rolls back, nested or not, undoes its own writes only. */
    CHECK_INT(store_begin(w), 0);
    CHECK_INT(insert_msg(w, "c-1", "undone"), 0);
    CHECK_INT(store_begin(w), 0);
    CHECK_INT(insert_msg(w, "c-1", "undone too"), 0);
    CHECK_INT(store_commit(w), 0);
    store_rollback(w);
    CHECK_INT(messages(w, "c-1"), 1);
    CHECK_INT(store_group_pending(w), 1);
    CHECK_INT(messages(r, "c-1"), 0);

    CHECK_INT(store_group_commit(w), 0);
    CHECK_INT(messages(r, "c-1"), 1);
    CHECK_INT(o.n, 1);
    store_close(r);
    store_close(w);
    tl_rmrf(dir);
}

static void test_failed_group_is_lost_whole(void)
{
    char dir[256];
    store *w, *r;
    opened o = {0};

    if (tl_mkdtemp(dir, sizeof dir, "group") || open_pair(dir, &w, &r, &o)) {
        CHECK(0);
        return;
    }
    CHECK_INT(store_user_seen(w, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_group_commit(w), 0);

    /* A COMMIT that fails (here a deferred foreign key: a conversation of
     * a user nobody knows) leaves SQLite's transaction open: the group is
     * rolled back, the good write in it too, and the failure reported. */
    CHECK_INT(store_conv_create(w, "c-good", "u-1", NULL, NULL, NULL, 2), 0);
    CHECK_INT(sq_script(w, "PRAGMA defer_foreign_keys=ON"), 0);
    CHECK_INT(store_conv_create(w, "c-bad", "u-nobody", NULL, NULL, NULL, 3), 0);
    CHECK_INT(store_group_pending(w), 2);
    CHECK_INT(store_group_commit(w), -1);
    CHECK_INT(store_group_committed(w), 1);
    CHECK_INT(store_group_pending(w), 0);
    CHECK_INT(store_conv_owned(r, "u-1", "c-good"), 0);
    CHECK_INT(store_conv_owned(w, "u-1", "c-good"), 0);

    /* A group SQLite ended by itself (a full disk, an I/O error) fails its
     * commit too, even when later writes joined a new transaction. */
    CHECK_INT(store_conv_create(w, "c-gone", "u-1", NULL, NULL, NULL, 4), 0);
    CHECK_INT(store_begin(w), 0);
    CHECK_INT(sq_script(w, "ROLLBACK"), 0);
    CHECK_INT(store_commit(w), -1);
    CHECK_INT(store_conv_create(w, "c-after", "u-1", NULL, NULL, NULL, 5), 0);
    CHECK_INT(store_group_pending(w), 3);
    CHECK_INT(store_group_commit(w), -1);
    CHECK_INT(store_group_committed(w), 1);
    CHECK_INT(store_conv_owned(r, "u-1", "c-gone"), 0);

    /* And the store goes on: the next group commits. */
    CHECK_INT(store_conv_create(w, "c-next", "u-1", NULL, NULL, NULL, 6), 0);
    CHECK_INT(store_group_commit(w), 0);
    CHECK_INT(store_group_committed(w), 4);
    CHECK_INT(store_conv_owned(r, "u-1", "c-next"), 1);
    store_close(r);
    store_close(w);
    tl_rmrf(dir);
}

int main(void)
{
    RUN(test_group_is_one_commit);
    RUN(test_transactions_are_savepoints);
    RUN(test_failed_group_is_lost_whole);
    return tl_finish();
}
