/* The PostgreSQL store (store_pg.c, store_migrate.c) against a private
 * PostgreSQL (test/services/services.sh; skipped when it is not
 * installed): a database one version behind is brought up to date with
 * its rows; servers starting at once against an empty database migrate it
 * once; servers sharing a database allocate a conversation's sequence
 * numbers without gaps or repeats; a deadlock between two servers' groups
 * rolls one group back whole and reports it, and both stores go on; an
 * SLA clock's warning and breach are recorded by one server only; a
 * connection cut mid-group loses that group only; a wipe
 * empties everything and restarts the ids. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store.h"
#include "store_sql.h"
#include "testlib.h"

#define WRITERS 3
#define PER_WRITER 40

static char g_dir[64], g_url[256];

static void stop_pg(void)
{
    char cmd[512];

    snprintf(cmd, sizeof cmd, "bash %s pg stop %s/pg >/dev/null 2>&1; rm -rf %s", PARLEY_SERVICES,
             g_dir, g_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not stop PostgreSQL in %s\n", g_dir);
}

/* Starts the cluster; g_url is its URL without the database. */
static void start_pg(void)
{
    char cmd[512];
    FILE *p;
    int rc;

    snprintf(g_dir, sizeof g_dir, "/tmp/parley-pgunit-XXXXXX");
    if (!mkdtemp(g_dir) || chmod(g_dir, 0755))
        tl_skip_all("no temporary directory");
    snprintf(cmd, sizeof cmd, "bash %s pg start %s/pg", PARLEY_SERVICES, g_dir);
    p = popen(cmd, "r");
    if (!p || !fgets(g_url, sizeof g_url, p))
        g_url[0] = '\0';
    rc = p ? pclose(p) : -1;
    if (rc != 0 || strncmp(g_url, "postgres://", 11) != 0) {
        rmdir(g_dir);
        if (WIFEXITED(rc) && WEXITSTATUS(rc) == 77)
            tl_skip_all("PostgreSQL is not installed (make deps)");
        fprintf(stderr, "cannot start PostgreSQL\n");
        exit(1);
    }
    *strrchr(g_url, '/') = '\0';
    atexit(stop_pg);
}

/* A fresh database's URL in `out`. */
static int fresh_db(const char *name, char *out, size_t cap)
{
    char cmd[700];

    snprintf(cmd, sizeof cmd, "psql -qAt %s/parley -c 'CREATE DATABASE %s' >/dev/null", g_url,
             name);
    snprintf(out, cap, "%s/%s", g_url, name);
    return system(cmd) == 0 ? 0 : -1;
}

static int insert_msg(store *s, const char *conv, const char *text, store_msg *m)
{
    memset(m, 0, sizeof *m);
    m->conv = conv;
    m->author_kind = "user";
    m->text = text;
    m->ts = 1000;
    return store_msg_insert(s, m);
}

static int first_item(void *ud, const store_conv_item *it)
{
    *(int64_t *)ud = it->updated_ms;
    return 0;
}

static void test_migrate_from_previous(void)
{
    char url[320];
    store *s;
    store_msg m;
    store_agent a;
    int64_t updated = 0;

    REQUIRE_INT(fresh_db("behind", url, sizeof url), 0);
    /* A database as a server of the previous version left it. */
    REQUIRE_INT(store_open_at(url, store_schema_newest() - 1, &s), 0);
    CHECK_INT(store_schema_version(s), store_schema_newest() - 1);
    CHECK_INT(store_user_seen(s, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(s, "c-1", "u-1", "old", NULL, NULL, 5), 0);
    CHECK_INT(insert_msg(s, "c-1", "before the console", &m), 0);
    CHECK_INT(store_agent_get(s, "ann", &a), -1); /* no such table yet */
    store_close(s);

    /* This server brings it up to date, the rows kept. */
    REQUIRE_INT(store_open(url, 0, &s), 0);
    CHECK_INT(store_schema_version(s), store_schema_newest());
    CHECK_INT(store_conv_owned(s, "u-1", "c-1"), 1);
    CHECK_INT(store_agent_get(s, "ann", &a), 0);
    /* The console's row of the old conversation: its last message's time. */
    CHECK_INT(store_conv_item_get(s, "c-1", first_item, &updated), 0);
    CHECK_INT(updated, 1000);
    store_close(s);
    /* Opening again changes nothing. */
    REQUIRE_INT(store_open(url, 0, &s), 0);
    CHECK_INT(store_schema_version(s), store_schema_newest());
    /* A database a newer server migrated is left alone. */
    CHECK_INT(sq_run_once(s, "UPDATE schema_version SET version = version + 1", ""), 0);
    store_close(s);
    CHECK_INT(store_open(url, 0, &s), -1);
    CHECK(s == NULL);
}

static void test_concurrent_start(void)
{
    char url[320];
    pid_t kids[4];
    int i, status, ok = 0;
    store *s;

    REQUIRE_INT(fresh_db("racing", url, sizeof url), 0);
    for (i = 0; i < 4; i++) {
        kids[i] = fork();
        if (kids[i] == 0) {
            int rc = store_open(url, 0, &s);
            store_close(s);
            _exit(rc == 0 ? 0 : 1);
        }
    }
    for (i = 0; i < 4; i++)
        ok += waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0;
    CHECK_INT(ok, 4);
    REQUIRE_INT(store_open(url, 0, &s), 0);
    CHECK_INT(store_schema_version(s), store_schema_newest());
    store_close(s);
}

static void on_open(void *ud)
{
    (void)ud;
}

/* A writer: PER_WRITER messages into c-shared, a group commit after every
 * few, as a server's loop turns would. */
static int write_many(const char *url, int who)
{
    char text[32];
    store *s;
    store_msg m;
    int i, rc = 0;

    if (store_open(url, 0, &s))
        return 1;
    store_grouping(s, on_open, NULL);
    for (i = 0; i < PER_WRITER && rc == 0; i++) {
        snprintf(text, sizeof text, "w%d-%d", who, i);
        rc = insert_msg(s, "c-shared", text, &m);
        if (i % 3 == 2 && rc == 0)
            rc = store_group_commit(s);
    }
    if (rc == 0)
        rc = store_group_commit(s);
    store_close(s);
    return rc == 0 ? 0 : 1;
}

static int count_seq(void *ud, const store_msg *m)
{
    int64_t *next = ud;

    if (m->seq != *next)
        return 1; /* a gap or a repeat */
    ++*next;
    return 0;
}

static void test_shared_sequence(void)
{
    char url[320];
    pid_t kids[WRITERS];
    int i, status, ok = 0;
    int64_t next = 1, last = 0;
    store *s;

    REQUIRE_INT(fresh_db("shared", url, sizeof url), 0);
    REQUIRE_INT(store_open(url, 0, &s), 0);
    CHECK_INT(store_user_seen(s, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(s, "c-shared", "u-1", NULL, NULL, NULL, 2), 0);
    for (i = 0; i < WRITERS; i++) {
        kids[i] = fork();
        if (kids[i] == 0)
            _exit(write_many(url, i));
    }
    for (i = 0; i < WRITERS; i++)
        ok += waitpid(kids[i], &status, 0) == kids[i] && WIFEXITED(status) &&
              WEXITSTATUS(status) == 0;
    CHECK_INT(ok, WRITERS);
    CHECK_INT(store_msg_each(s, "c-shared", 0, 0, count_seq, &next), 0);
    CHECK_INT(next, WRITERS * PER_WRITER + 1);
    CHECK_INT(store_conv_last_seq(s, "c-shared", &last), 0);
    CHECK_INT(last, WRITERS * PER_WRITER);
    store_close(s);
}

/* Two servers' groups lock c-1 and c-2 in opposite orders: PostgreSQL
 * ends one as a deadlock. That group is rolled back whole and its commit
 * says so; the other commits; both stores go on. */
static void test_deadlock_loses_one_group(void)
{
    char url[320], go;
    int to_kid[2], to_me[2], status, mine, theirs;
    int64_t s1 = 0, s2 = 0, next1 = 1, next2 = 1;
    store *a, *b;
    store_msg m;
    pid_t kid;

    REQUIRE_INT(fresh_db("deadlock", url, sizeof url), 0);
    REQUIRE_INT(store_open(url, 0, &a), 0);
    CHECK_INT(store_user_seen(a, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(a, "c-1", "u-1", NULL, NULL, NULL, 2), 0);
    CHECK_INT(store_conv_create(a, "c-2", "u-1", NULL, NULL, NULL, 2), 0);
    REQUIRE_INT(pipe(to_kid), 0);
    REQUIRE_INT(pipe(to_me), 0);
    store_grouping(a, on_open, NULL);
    kid = fork();
    if (kid == 0) {
        int rc = store_open(url, 0, &b);
        if (rc == 0) {
            store_grouping(b, on_open, NULL);
            rc = read(to_kid[0], &go, 1) != 1 || insert_msg(b, "c-2", "b first", &m) ||
                 write(to_me[1], "x", 1) != 1;
            /* Waits for a's lock on c-1, or is the deadlock's victim. */
            insert_msg(b, "c-1", "b second", &m);
            rc = rc ? 2 : store_group_commit(b) == 0 ? 0 : 1;
            if (rc == 1) /* the store goes on */
                rc = insert_msg(b, "c-2", "b again", &m) || store_group_commit(b) ? 3 : 1;
        }
        store_close(b);
        _exit(rc);
    }
    CHECK_INT(insert_msg(a, "c-1", "a first", &m), 0);
    CHECK_INT(write(to_kid[1], "x", 1), 1);
    CHECK_INT(read(to_me[0], &go, 1), 1);
    usleep(200 * 1000); /* b is waiting for c-1 by now */
    insert_msg(a, "c-2", "a second", &m);
    mine = store_group_commit(a);
    if (mine != 0) /* the store goes on */
        CHECK_INT(insert_msg(a, "c-1", "a again", &m) || store_group_commit(a), 0);
    REQUIRE(waitpid(kid, &status, 0) == kid && WIFEXITED(status));
    theirs = WEXITSTATUS(status);
    /* Exactly one lost its group. */
    CHECK((mine == 0 && theirs == 1) || (mine == -1 && theirs == 0));
    /* The winner's two messages and the loser's one after: none of the
     * lost group's, and no gap where they were. */
    CHECK_INT(store_conv_last_seq(a, "c-1", &s1), 0);
    CHECK_INT(store_conv_last_seq(a, "c-2", &s2), 0);
    CHECK_INT(s1 + s2, 3);
    CHECK_INT(store_msg_each(a, "c-1", 0, 0, count_seq, &next1), 0);
    CHECK_INT(store_msg_each(a, "c-2", 0, 0, count_seq, &next2), 0);
    CHECK_INT(next1 + next2, 5);
    store_close(a);
}

/* Every server sharing the database sees a clock due; one records (and
 * tells) its warning and its breach. */
static void test_sla_marked_once(void)
{
    char url[320];
    store *a, *b;
    store_sla c = {"c-1", "first_response", 100, 200, 150, "normal", 0, 0, 0, 0};

    REQUIRE_INT(fresh_db("sla", url, sizeof url), 0);
    REQUIRE_INT(store_open(url, 0, &a), 0);
    REQUIRE_INT(store_open(url, 0, &b), 0);
    CHECK_INT(store_sla_put(a, "c-1", "first_response", &c), 0);
    CHECK_INT(store_sla_mark(a, &c, 0, 160), 1);
    CHECK_INT(store_sla_mark(b, &c, 0, 161), 0);
    CHECK_INT(store_sla_mark(b, &c, 1, 210), 1);
    CHECK_INT(store_sla_mark(a, &c, 1, 211), 0);
    store_close(b);
    store_close(a);
}

/* The server's connection is cut in the middle of a group (a restart of
 * PostgreSQL, a failover): the group is lost and says so, and the store
 * connects again for what comes next. */
static void test_connection_lost(void)
{
    char url[320], sql[64];
    store *s, *admin;
    store_msg m;
    sq_stmt *st;
    int rc;

    REQUIRE_INT(fresh_db("cut", url, sizeof url), 0);
    REQUIRE_INT(store_open(url, 0, &s), 0);
    REQUIRE_INT(store_open(url, 0, &admin), 0);
    CHECK_INT(store_user_seen(s, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(s, "c-1", "u-1", NULL, NULL, NULL, 2), 0);
    st = sq_row(s, &rc, "SELECT pg_backend_pid()", "");
    REQUIRE_INT(rc, 1);
    snprintf(sql, sizeof sql, "SELECT pg_terminate_backend(%lld)", (long long)sq_i64(st, 0));
    sq_done(st);
    store_grouping(s, on_open, NULL);
    CHECK_INT(insert_msg(s, "c-1", "lost", &m), 0);
    CHECK_INT(sq_script(admin, sql), 0);
    CHECK_INT(insert_msg(s, "c-1", "fails", &m), -1);
    CHECK_INT(store_group_commit(s), -1);
    /* Connected again: the next group commits, numbered after the lost. */
    CHECK_INT(insert_msg(s, "c-1", "kept", &m), 0);
    CHECK_INT(m.seq, 1);
    CHECK_INT(store_group_commit(s), 0);
    CHECK_INT(store_conv_owned(admin, "u-1", "c-1"), 1);
    store_close(admin);
    store_close(s);
}

static void test_wipe(void)
{
    char url[320];
    store *s;
    store_msg m;

    REQUIRE_INT(fresh_db("wiped", url, sizeof url), 0);
    REQUIRE_INT(store_open(url, 0, &s), 0);
    CHECK_INT(store_user_seen(s, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(s, "c-1", "u-1", NULL, NULL, NULL, 2), 0);
    CHECK_INT(insert_msg(s, "c-1", "one", &m), 0);
    CHECK_INT(insert_msg(s, "c-1", "two", &m), 0);
    CHECK_STR(m.id, "m-2");
    CHECK_INT(store_wipe(s), 0);
    CHECK_INT(store_conv_owned(s, "u-1", "c-1"), 0);
    /* The schema's version stays; the ids start again. */
    CHECK_INT(store_schema_version(s), store_schema_newest());
    CHECK_INT(store_user_seen(s, "u-1", "id", "app", 1), 0);
    CHECK_INT(store_conv_create(s, "c-1", "u-1", NULL, NULL, NULL, 2), 0);
    CHECK_INT(insert_msg(s, "c-1", "again", &m), 0);
    CHECK_STR(m.id, "m-1");
    store_close(s);
}

int main(void)
{
    start_pg();
    RUN(test_migrate_from_previous);
    RUN(test_concurrent_start);
    RUN(test_shared_sequence);
    RUN(test_deadlock_loses_one_group);
    RUN(test_sla_marked_once);
    RUN(test_connection_lost);
    RUN(test_wipe);
    return tl_finish();
}
