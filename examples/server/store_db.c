#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A PostgreSQL connection URL (libpq's two schemes); anything else is the
 * path of a SQLite file. */
int store_is_url(const char *where)
{
    return strncmp(where, "postgres://", 11) == 0 || strncmp(where, "postgresql://", 13) == 0;
}

/* Opens the store and migrates it up to `upto` (0: the newest). */
static int open_at(const char *where, int durable, int upto, store **out)
{
    store *s = calloc(1, sizeof *s);
    int rc;

    *out = NULL;
    if (!s)
        return -1;
    rc = store_is_url(where) ? sq_pg_open(s, where, durable) : sq_sqlite_open(s, where, durable);
    if (rc || store_migrate(s, upto)) {
        store_close(s);
        return -1;
    }
    *out = s;
    return 0;
}

int store_open(const char *where, int durable, store **out)
{
    return open_at(where, durable, 0, out);
}

int store_open_at(const char *where, int upto, store **out)
{
    return open_at(where, 0, upto, out);
}

void store_close(store *s)
{
    size_t i;

    if (!s)
        return;
    for (i = 0; i < SQ_CACHE; i++) {
        if (s->cache[i].st)
            s->drv->finalize(s->cache[i].st);
    }
    for (i = 0; i < s->nwipe; i++)
        s->drv->finalize(s->wipe[i]);
    free(s->wipe);
    if (s->db)
        s->drv->close(s);
    free(s);
}

/* The database ends a transaction by itself on some errors (SQLite: a
 * full disk, an I/O error; PostgreSQL: a lost connection), and PostgreSQL
 * spoils it on any error (a deadlock, a constraint): outside a savepoint
 * that a rollback could return to, the group's writes so far are gone. 1
 * when that happened (the spoiled transaction is rolled back then). */
static int group_vanished(store *s)
{
    int state;

    if (!s->group_open)
        return 0;
    state = s->drv->tx_state(s);
    if (state == 1 || (state == 2 && s->depth))
        return 0;
    if (state == 2)
        s->drv->script(s, "ROLLBACK");
    s->lost = 1;
    s->depth = 0;
    return 1;
}

int sq_group(store *s, sq_stmt *st)
{
    int opening;

    if (!s->grouping || (st && !s->drv->writes(st)))
        return 0;
    if (s->group_open && !group_vanished(s))
        return 0;
    /* After a vanished group, what follows still joins one (the same
     * number: its commit fails either way). */
    opening = !s->group_open;
    if (sq_tx(s, s->drv->begin_sql))
        return -1;
    s->group_open = 1;
    if (!opening)
        return 0;
    s->lost = 0;
    s->group_no++;
    if (s->on_group)
        s->on_group(s->on_group_ud);
    return 0;
}

void store_grouping(store *s, void (*on_open)(void *ud), void *ud)
{
    if (!on_open)
        store_group_commit(s);
    s->grouping = on_open != NULL;
    s->on_group = on_open;
    s->on_group_ud = ud;
}

int64_t store_group_pending(const store *s)
{
    return s->group_open ? s->group_no : 0;
}

int64_t store_group_committed(const store *s)
{
    return s->committed_no;
}

int store_group_commit(store *s)
{
    int ok;

    if (!s->group_open)
        return 0;
    /* A savepoint left open has nothing to return to any more. */
    s->depth = 0;
    group_vanished(s);
    s->group_open = 0;
    ok = !s->drv->tx_state(s) || sq_tx(s, "COMMIT") == 0;
    if (ok && !s->lost) {
        s->committed_no = s->group_no;
        return 0;
    }
    if (s->drv->tx_state(s))
        sq_tx(s, "ROLLBACK");
    s->lost = 0;
    fprintf(stderr, "parley-server: db: a group of writes could not be committed: rolled back\n");
    return -1;
}

/* In a group, a transaction is a savepoint: its writes become durable with
 * the group's, and a rollback undoes its own writes only. */
int store_begin(store *s)
{
    if (!s->grouping)
        return sq_tx(s, s->drv->begin_sql);
    if (sq_group(s, NULL) || sq_tx(s, "SAVEPOINT tx"))
        return -1;
    s->depth++;
    return 0;
}

int store_commit(store *s)
{
    if (!s->grouping)
        return sq_tx(s, "COMMIT");
    if (group_vanished(s))
        return -1;
    if (!s->depth)
        return 0;
    if (sq_tx(s, "RELEASE tx"))
        return -1;
    s->depth--;
    return 0;
}

void store_rollback(store *s)
{
    if (s->grouping) {
        if (!group_vanished(s) && s->depth && sq_script(s, "ROLLBACK TO tx; RELEASE tx") == 0)
            s->depth--;
        return;
    }
    if (s->drv->tx_state(s))
        sq_tx(s, "ROLLBACK");
}

int store_wipe(store *s)
{
    return store_group_commit(s) || s->drv->wipe(s) ? -1 : 0;
}
