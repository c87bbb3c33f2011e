/* The store's statement cache (store_sql.c) on SQLite: a query's statement
 * is prepared once and run again and again; the same query run again while
 * it iterates (from its callback) gets a statement of its own and neither
 * disturbs the other; statements beyond the cache's capacity still run,
 * prepared for their use alone; a transaction's BEGIN, COMMIT and ROLLBACK
 * are prepared once too; SQL that fails to prepare is an error and leaves
 * the store working; a kept statement lets go of its arguments when its
 * run ends. */
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "store.h"
#include "store_sql.h"
#include "testlib.h"

#define ROWS 5
#define MANY (SQ_CACHE * 2)

static const char q_all[] = "SELECT n FROM t ORDER BY n";

static store *open_store(char *dir, size_t cap)
{
    char db[300];
    store *s = NULL;

    REQUIRE(tl_mkdtemp(dir, cap, "sqcache") == 0);
    snprintf(db, sizeof db, "%s/cache.db", dir);
    REQUIRE(store_open(db, 0, &s) == 0);
    REQUIRE(sq_script(s, "CREATE TABLE t(n INTEGER);"
                         "INSERT INTO t VALUES (1), (2), (3), (4), (5);") == 0);
    return s;
}

/* The connection's prepared statement of `sql`, or NULL. */
static sqlite3_stmt *stmt_of(store *s, const char *sql)
{
    sqlite3_stmt *st = NULL;

    while ((st = sqlite3_next_stmt((sqlite3 *)s->db, st)) != NULL) {
        if (strcmp(sqlite3_sql(st), sql) == 0)
            return st;
    }
    return NULL;
}

/* How often SQLite ran the connection's statement of `sql`; -1: none. */
static int runs_of(store *s, const char *sql)
{
    sqlite3_stmt *st = stmt_of(s, sql);

    return st ? sqlite3_stmt_status(st, SQLITE_STMTSTATUS_RUN, 0) : -1;
}

/* The rest of an iteration's rows, summed. */
static int sum_rest(store *s, sq_stmt *st)
{
    int sum = 0;

    while (sq_step(s, st) == 1)
        sum += sq_int(st, 0);
    return sum;
}

static void test_prepared_once(void)
{
    char dir[256];
    store *s = open_store(dir, sizeof dir);
    sq_stmt *first = NULL;

    for (int i = 1; i <= 3; i++) {
        sq_stmt *st = sq_query(s, q_all, "");

        CHECK_INT(sum_rest(s, st), 15);
        CHECK(i == 1 || st == first);
        first = st;
        sq_finish(st);
        /* Still prepared, and run as many times as it was used. */
        CHECK_INT(runs_of(s, q_all), i);
    }
    store_close(s);
    tl_rmrf(dir);
}

static void test_same_query_nested(void)
{
    char dir[256];
    store *s = open_store(dir, sizeof dir);
    sq_stmt *outer = sq_query(s, q_all, ""), *inner, *row;
    int rc;

    REQUIRE(outer != NULL);
    CHECK_INT(sq_step(s, outer), 1);
    CHECK_INT(sq_int(outer, 0), 1);
    /* As a callback would: the same query to its end, and its first row. */
    inner = sq_query(s, q_all, "");
    CHECK(inner != NULL && inner != outer);
    CHECK_INT(sum_rest(s, inner), 15);
    sq_finish(inner);
    row = sq_row(s, &rc, q_all, "");
    CHECK_INT(rc, 1);
    CHECK(row != outer && row && sq_int(row, 0) == 1);
    sq_done(row);
    /* The outer iteration goes on where it was. */
    CHECK_INT(sum_rest(s, outer), 14);
    sq_finish(outer);
    /* And the cached statement is free again. */
    inner = sq_query(s, q_all, "");
    CHECK(inner == outer);
    sq_finish(inner);
    store_close(s);
    tl_rmrf(dir);
}

static void test_beyond_capacity(void)
{
    static char sql[MANY][32];
    char dir[256];
    store *s = open_store(dir, sizeof dir);

    for (int i = 0; i < MANY; i++)
        snprintf(sql[i], sizeof sql[i], "SELECT %d + count(*) FROM t", i);
    for (int round = 0; round < 2; round++) {
        int right = 0;

        for (int i = 0; i < MANY; i++) {
            int rc;
            sq_stmt *st = sq_row(s, &rc, sql[i], "");

            right += rc == 1 && sq_int(st, 0) == i + ROWS;
            sq_done(st);
        }
        CHECK_INT(right, MANY);
        /* The store's own statements and these filled the cache up to its
         * limit; the rest ran and were finalized. */
        CHECK_INT(s->cached, SQ_CACHE / 4 * 3);
        CHECK_INT(runs_of(s, sql[MANY - 1]), -1);
    }
    store_close(s);
    tl_rmrf(dir);
}

/* A write's transaction (not grouped): BEGIN IMMEDIATE and COMMIT prepared
 * once, the rollback's ROLLBACK too; what they do is unchanged. */
static void test_transactions(void)
{
    char dir[256];
    store *s = open_store(dir, sizeof dir);
    int rc;

    for (int i = 1; i <= 3; i++) {
        REQUIRE(store_begin(s) == 0);
        CHECK_INT(sq_run(s, "INSERT INTO t VALUES (?1)", "i", (int64_t)(100 + i)), 0);
        CHECK_INT(store_commit(s), 0);
        CHECK_INT(s->drv->tx_state(s), 0);
        CHECK_INT(runs_of(s, "BEGIN IMMEDIATE"), 2 * i - 1);
        CHECK_INT(runs_of(s, "COMMIT"), i);
        REQUIRE(store_begin(s) == 0);
        CHECK_INT(sq_run(s, "INSERT INTO t VALUES (?1)", "i", (int64_t)-1), 0);
        store_rollback(s);
        CHECK_INT(runs_of(s, "ROLLBACK"), i);
    }
    sq_stmt *st = sq_row(s, &rc, "SELECT count(*), sum(n) FROM t", "");
    CHECK(st && sq_int(st, 0) == ROWS + 3 && sq_int(st, 1) == 15 + 306);
    sq_done(st);
    store_close(s);
    tl_rmrf(dir);
}

/* The SQL of the connection's statement of `sql` with the values bound to
 * it now, as SQLite expands it; a static copy. */
static const char *bound_sql(store *s, const char *sql)
{
    static char out[256];
    sqlite3_stmt *st = stmt_of(s, sql);
    char *expanded = st ? sqlite3_expanded_sql(st) : NULL;

    snprintf(out, sizeof out, "%s", expanded ? expanded : "");
    sqlite3_free(expanded);
    return out;
}

/* A user's text bound to a kept statement is not held past the run: not
 * after a write, a row or an iteration. */
static void test_arguments_released(void)
{
    static const char q_len[] = "SELECT length(?1)";
    static const char q_ins[] = "INSERT INTO t VALUES (length(?1))";
    static const char q_iter[] = "SELECT n FROM t WHERE n < length(?1)";
    char dir[256];
    store *s = open_store(dir, sizeof dir);
    int rc;

    sq_stmt *st = sq_row(s, &rc, q_len, "s", "my password");
    CHECK(rc == 1 && sq_int(st, 0) == 11);
    CHECK_STR(bound_sql(s, q_len), "SELECT length('my password')");
    sq_done(st);
    CHECK_STR(bound_sql(s, q_len), "SELECT length(NULL)");

    CHECK_INT(sq_run(s, q_ins, "s", "my card number"), 0);
    CHECK_STR(bound_sql(s, q_ins), "INSERT INTO t VALUES (length(NULL))");

    st = sq_query(s, q_iter, "s", "abc");
    CHECK_INT(sum_rest(s, st), 3);
    sq_finish(st);
    CHECK_STR(bound_sql(s, q_iter), "SELECT n FROM t WHERE n < length(NULL)");
    store_close(s);
    tl_rmrf(dir);
}

static void test_bad_sql(void)
{
    char dir[256];
    store *s = open_store(dir, sizeof dir);
    int rc;

    for (int i = 0; i < 2; i++) {
        CHECK(sq_query(s, "SELECT n FROM missing", "") == NULL);
        CHECK(sq_row(s, &rc, "SELEKT 1", "") == NULL);
        CHECK_INT(rc, -1);
        CHECK_INT(sq_run(s, "INSERT INTO missing VALUES (1)", ""), -1);
    }
    CHECK_INT(sq_run(s, "INSERT INTO t VALUES (?1)", "i", (int64_t)10), 0);
    sq_stmt *st = sq_query(s, q_all, "");
    CHECK_INT(sum_rest(s, st), 25);
    sq_finish(st);
    store_close(s);
    tl_rmrf(dir);
}

int main(void)
{
    RUN(test_prepared_once);
    RUN(test_same_query_nested);
    RUN(test_beyond_capacity);
    RUN(test_transactions);
    RUN(test_arguments_released);
    RUN(test_bad_sql);
    return tl_finish();
}
