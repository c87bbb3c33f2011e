/* store_wipe (the fuzz targets' clean slate before every input) and
 * util_read_file (how the flow and knowledge base loaders read a file).
 * The wipe empties every table, children before the parents their foreign
 * keys name, with foreign keys still enforced afterwards; it can run again
 * and again on the statements it prepared once, and ids start over. The
 * reader returns the file whatever its size up to the limit, and refuses
 * one byte more. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_sql.h"
#include "testlib.h"
#include "util.h"

static int64_t count(store *s, const char *sql)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, sql, "");
    int64_t n = st ? sq_i64(st, 0) : -1;

    sq_done(st);
    return n;
}

/* Rows in all tables together (sqlite_sequence included, the schema's
 * version not: the wipe keeps it). */
static int64_t rows(store *s)
{
    sq_stmt *st = sq_query(s,
                           "SELECT name FROM sqlite_schema WHERE type = 'table' "
                           "AND name NOT LIKE 'sqlite_stat%' AND name <> 'schema_version'",
                           "");
    int64_t n = 0;

    while (sq_step(s, st) == 1) {
        char sql[256];
        sq_stmt *c;

        snprintf(sql, sizeof sql, "SELECT count(*) FROM \"%s\"", sq_text(st, 0));
        c = sq_query_once(s, sql, "");
        n += sq_step(s, c) == 1 ? sq_i64(c, 0) : -1000000;
        sq_finish(c);
    }
    sq_finish(st);
    return n;
}

/* A user with context, a conversation with a message and an attachment
 * row's parents: rows in parent and child tables. */
static int fill(store *s, const char *conv)
{
    store_msg m;

    memset(&m, 0, sizeof m);
    m.conv = conv;
    m.author_kind = "user";
    m.text = "hello";
    m.ts = 10;
    if (store_user_seen(s, "u-1", "id", "app", 1) || store_attr_set(s, "u-1", "plan", "gold", 2) ||
        store_conv_create(s, conv, "u-1", "help", NULL, NULL, 3) || store_begin(s))
        return -1;
    if (store_msg_insert(s, &m)) {
        store_rollback(s);
        return -1;
    }
    return store_commit(s);
}

static void test_wipe_empties_every_table(void)
{
    char dir[256], db[300];
    store *s = NULL;

    REQUIRE(tl_mkdtemp(dir, sizeof dir, "wipe") == 0);
    snprintf(db, sizeof db, "%s/wipe.db", dir);
    REQUIRE(store_open(db, 0, &s) == 0);
    for (int round = 0; round < 3; round++) {
        CHECK_INT(fill(s, "c-1"), 0);
        CHECK(rows(s) >= 5);
        CHECK_INT(store_wipe(s), 0);
        CHECK_INT(rows(s), 0);
        /* Outside any transaction, foreign keys still enforced. */
        CHECK_INT(s->drv->tx_state(s), 0);
        CHECK_INT(count(s, "PRAGMA foreign_keys"), 1);
        CHECK_INT(store_conv_create(s, "c-orphan", "u-nobody", NULL, NULL, NULL, 4), -1);
    }
    /* Prepared once, on the first wipe. */
    CHECK(s->nwipe > 3);
    /* And the store is as good as new: the same rows go in again. */
    CHECK_INT(fill(s, "c-1"), 0);
    CHECK_INT(store_conv_owned(s, "u-1", "c-1"), 1);
    store_close(s);
    tl_rmrf(dir);
}

static char *write_bytes(const char *dir, const char *name, size_t n)
{
    static char path[400];
    FILE *f;

    snprintf(path, sizeof path, "%s/%s", dir, name);
    f = fopen(path, "wb");
    for (size_t i = 0; f && i < n; i++)
        fputc('a' + (int)(i % 26), f);
    return f && fclose(f) == 0 ? path : NULL;
}

/* Sizes around the reader's growth steps (4 KiB, doubling) and the limit. */
static void test_read_file_sizes(void)
{
    static const size_t sizes[] = {0, 1, 4095, 4096, 4097, 8192, 20000, 30000};
    const size_t max = 30000;
    char dir[256];

    REQUIRE(tl_mkdtemp(dir, sizeof dir, "readfile") == 0);
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        const char *path = write_bytes(dir, "f", sizes[i]);
        size_t len = 12345;
        int too_large = -1;
        char *buf = path ? util_read_file(path, max, &len, &too_large) : NULL;

        CHECK(buf != NULL);
        CHECK_INT(too_large, 0);
        CHECK_INT(len, sizes[i]);
        CHECK(buf && buf[len] == '\0' && strlen(buf) == sizes[i]);
        CHECK(buf && (sizes[i] == 0 || buf[sizes[i] - 1] == 'a' + (int)((sizes[i] - 1) % 26)));
        free(buf);
    }
    /* One byte over the limit, and far over it. */
    for (size_t extra = 1; extra <= 50000; extra += 49999) {
        const char *path = write_bytes(dir, "big", max + extra);
        int too_large = 0;
        size_t len = 0;

        CHECK(util_read_file(path, max, &len, &too_large) == NULL);
        CHECK_INT(too_large, 1);
    }
    /* Missing, and a directory: not read, not too large. */
    for (int k = 0; k < 2; k++) {
        char path[300];
        int too_large = -1;
        size_t len = 0;

        snprintf(path, sizeof path, "%s%s", dir, k ? "" : "/missing");
        CHECK(util_read_file(path, max, &len, &too_large) == NULL);
        CHECK_INT(too_large, 0);
    }
    tl_rmrf(dir);
}

int main(void)
{
    RUN(test_wipe_empties_every_table);
    RUN(test_read_file_sizes);
    return tl_finish();
}
