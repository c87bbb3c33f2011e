#include "store_sql.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anonid.h"

#define MAX_REFS 32
#define ANON_GLOB_BUF (sizeof ANONID_SHAPE + 32 * 7)

/* A user's id is unique across both kinds ("id", "anon") because their
 * forms are disjoint (anonid.h); secret_hash is the SHA-256 of an anonymous
 * user's merge secret. */
static const char schema[] =
    "CREATE TABLE IF NOT EXISTS users("
    " id TEXT PRIMARY KEY, kind TEXT NOT NULL, app TEXT,"
    " first_seen_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL, secret_hash TEXT);"
    "CREATE TABLE IF NOT EXISTS sessions("
    " token TEXT PRIMARY KEY, \"user\" TEXT NOT NULL REFERENCES users(id),"
    " created_ms INTEGER NOT NULL, last_seen_ms INTEGER NOT NULL);";

int store_users_init(store *s)
{
    return sq_script(s, schema);
}

/* ---- users and sessions ---- */

int store_user_seen(store *s, const char *user, const char *kind, const char *app, int64_t now)
{
    /* A user never changes kind: that would hand an anonymous user's rows to
     * an identified one (or back) without any proof. */
    if (sq_run(s,
               "INSERT INTO users(id, kind, app, first_seen_ms, last_seen_ms) "
               "VALUES(?1, ?2, ?3, ?4, ?4) ON CONFLICT(id) DO UPDATE SET "
               "app = excluded.app, last_seen_ms = excluded.last_seen_ms "
               "WHERE users.kind = excluded.kind",
               "ttti", user, kind, app, now))
        return -1;
    return sq_changes(s) > 0 ? 0 : 1;
}

int store_user_kind(store *s, const char *user, char kind[STORE_KIND_BUF])
{
    int rc;
    sq_stmt *st = sq_row(s, &rc, "SELECT kind FROM users WHERE id = ?1", "t", user);

    if (rc == 1)
        snprintf(kind, STORE_KIND_BUF, "%s", sq_text(st, 0));
    sq_done(st);
    return rc;
}

int store_session_check(store *s, const char *token, const char *user, int64_t now)
{
    if (sq_run(s, "UPDATE sessions SET last_seen_ms = ?3 WHERE token = ?1 AND \"user\" = ?2", "tti",
               token, user, now))
        return -1;
    return sq_changes(s) > 0;
}

int store_session_create(store *s, const char *token, const char *user, int64_t now)
{
    return sq_run(s,
                  "INSERT INTO sessions(token, \"user\", created_ms, last_seen_ms) "
                  "VALUES(?1, ?2, ?3, ?3)",
                  "tti", token, user, now);
}

/* ---- the merge secret ---- */

int store_anon_secret_missing(store *s, const char *anon)
{
    int rc, missing;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT secret_hash IS NULL FROM users "
                         "WHERE id = ?1 AND kind = 'anon'",
                         "t", anon);

    missing = rc == 1 && sq_int(st, 0);
    sq_done(st);
    return rc < 0 ? -1 : missing;
}

int store_anon_secret_set(store *s, const char *anon, const char *hash)
{
    return sq_run(s, "UPDATE users SET secret_hash = ?2 WHERE id = ?1", "tt", anon, hash);
}

int store_anon_secret_get(store *s, const char *anon, char *hash, size_t cap)
{
    int rc;
    sq_stmt *st = sq_row(s, &rc,
                         "SELECT secret_hash FROM users WHERE id = ?1 AND "
                         "kind = 'anon' AND secret_hash IS NOT NULL",
                         "t", anon);

    if (rc == 1)
        snprintf(hash, cap, "%s", sq_text(st, 0));
    sq_done(st);
    return rc;
}

int store_user_move(store *s, const char *from, const char *to)
{
    /* An upload whose client id the other user has already stays. */
    if (sq_run(s, "UPDATE conversations SET \"user\" = ?2 WHERE \"user\" = ?1", "tt", from, to) ||
        sq_run(s, "UPDATE survey_instances SET \"user\" = ?2 WHERE \"user\" = ?1", "tt", from,
               to) ||
        sq_run(s, "UPDATE proactive SET \"user\" = ?2 WHERE \"user\" = ?1", "tt", from, to) ||
        sq_run(s,
               "UPDATE uploads SET \"user\" = ?2 WHERE \"user\" = ?1 AND NOT EXISTS"
               " (SELECT 1 FROM uploads o WHERE o.\"user\" = ?2 AND o.cid = uploads.cid)",
               "tt", from, to) ||
        sq_run(s, "UPDATE push_tokens SET \"user\" = ?2 WHERE \"user\" = ?1", "tt", from, to))
        return -1;
    return 0;
}

/* ---- separating anonymous and identified users (a migration) ---- */

/* The columns that name a user: every foreign key to users(id), wherever
 * its table is, so that a rename reaches all of them. */
typedef struct refs {
    char *sql[MAX_REFS]; /* "UPDATE t SET c = ?2 WHERE c = ?1" */
    size_t n;
} refs;

static void refs_free(refs *r)
{
    while (r->n)
        free(r->sql[--r->n]);
}

static int refs_load(store *s, refs *r)
{
    sq_stmt *st = sq_query(s,
                           "SELECT m.name, f.\"from\" FROM sqlite_schema AS m "
                           "JOIN pragma_foreign_key_list(m.name) AS f "
                           "WHERE m.type = 'table' AND f.\"table\" = 'users'",
                           "");
    int rc;

    while ((rc = sq_step(s, st)) == 1) {
        /* The names are the schema's own, none with a quote. */
        size_t cap = 40 + strlen(sq_text(st, 0)) + 2 * strlen(sq_text(st, 1));
        char *sql = r->n < MAX_REFS ? malloc(cap) : NULL;

        if (sql)
            snprintf(sql, cap, "UPDATE \"%s\" SET \"%s\" = ?2 WHERE \"%s\" = ?1", sq_text(st, 0),
                     sq_text(st, 1), sq_text(st, 1));
        if (!sql) {
            rc = -1;
            break;
        }
        r->sql[r->n++] = sql;
    }
    sq_finish(st);
    return rc;
}

/* Renames the anonymous user `old` (not of the anonymous form) to a fresh
 * anonymous id everywhere. Foreign keys are deferred by the caller. */
static int rename_anon(store *s, const refs *r, const char *old)
{
    char fresh[ANONID_BUF];
    size_t i;

    if (anonid_new(fresh))
        return -1;
    for (i = 0; i < r->n; i++) {
        if (sq_run_once(s, r->sql[i], "tt", old, fresh))
            return -1;
    }
    if (sq_run_once(s, "UPDATE users SET id = ?2 WHERE id = ?1", "tt", old, fresh))
        return -1;
    fprintf(stderr,
            "parley-server: db: anonymous user '%s' had no a-<uuid> id: now '%s', out of "
            "reach of the identified user '%s'\n",
            old, fresh, old);
    return 0;
}

static int fix_row(store *s, const refs *r, const char *id, const char *kind)
{
    int anon_form = anonid_valid(id);

    if (strcmp(kind, "anon") == 0 && !anon_form)
        return rename_anon(s, r, id);
    if (strcmp(kind, "anon") != 0 && anon_form) {
        fprintf(stderr,
                "parley-server: db: identified user '%s' has the anonymous form: now "
                "anonymous\n",
                id);
        return sq_run_once(s, "UPDATE users SET kind = 'anon' WHERE id = ?1", "t", id);
    }
    return 0;
}

/* The GLOB pattern of the anonymous form: each x a lowercase hex digit. */
static void anon_glob(char out[ANON_GLOB_BUF])
{
    static const char shape[] = ANONID_SHAPE;
    size_t i, n = 0;

    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'x') {
            memcpy(out + n, "[0-9a-f]", 8);
            n += 8;
        } else
            out[n++] = shape[i];
    }
    out[n] = '\0';
}

/* The ids and kinds of the users that break the rule, as id, kind pairs
 * in *ids (malloc'd, *n strings). */
static int rows_to_fix(store *s, char ***ids, size_t *n)
{
    char glob[ANON_GLOB_BUF], **grown;
    sq_stmt *st;
    int rc;

    anon_glob(glob);
    st = sq_query(s, "SELECT id, kind FROM users WHERE (kind = 'anon') <> (id GLOB ?1)", "t", glob);
    while ((rc = sq_step(s, st)) == 1) {
        grown = realloc(*ids, (*n + 2) * sizeof **ids);
        if (!grown) {
            rc = -1;
            break;
        }
        *ids = grown;
        (*ids)[*n] = strdup(sq_text(st, 0));
        (*ids)[*n + 1] = strdup(sq_text(st, 1));
        *n += 2;
        if (!(*ids)[*n - 2] || !(*ids)[*n - 1]) {
            rc = -1;
            break;
        }
    }
    sq_finish(st);
    return rc;
}

/* The rows that break the rule are read first, then fixed: a rename must
 * not be met again. */
static int fix_rows(store *s)
{
    char **ids = NULL;
    size_t n = 0, i;
    refs r = {{NULL}, 0};
    int rc = rows_to_fix(s, &ids, &n);

    if (rc == 0)
        rc = refs_load(s, &r);
    for (i = 0; rc == 0 && i < n; i += 2)
        rc = fix_row(s, &r, ids[i], ids[i + 1]);
    refs_free(&r);
    for (i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return rc;
}

/* A database made before the namespaces existed has no users.secret_hash:
 * it gets the column, and the rows that break the rule are moved out of
 * reach, once. An anonymous user whose id is not a-<uuid> (a foreign
 * client's, or one planted under somebody's user id) is renamed to a fresh
 * a-<uuid>, so that the identified user of that id does not inherit it; an
 * identified user whose id has the anonymous form becomes the anonymous
 * user it looks like. Each rename is reported on stderr. */
int store_users_separate(store *s)
{
    sq_stmt *st = sq_query(s,
                           "SELECT 1 FROM pragma_table_info('users') "
                           "WHERE name = 'secret_hash'",
                           "");
    int rc = sq_step(s, st);

    sq_finish(st);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    /* In the migration's transaction. A rename touches users(id) and its
     * children one statement at a time. */
    rc = sq_run_once(s, "PRAGMA defer_foreign_keys = ON", "") ||
         sq_run_once(s, "ALTER TABLE users ADD COLUMN secret_hash TEXT", "") || fix_rows(s);
    if (rc == 0)
        return 0;
    fprintf(stderr, "parley-server: db: cannot separate anonymous and identified users\n");
    return -1;
}
