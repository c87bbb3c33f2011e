#include "identity.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>

#include "frame_context.h"
#include "store_sqlite.h"
#include "survey.h"
#include "util.h"

#define SHA256_LEN 32
#define HASH_HEX_BUF (2 * SHA256_LEN + 1)
#define ANON_SHAPE "a-xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx"
#define ANON_BUF sizeof ANON_SHAPE
#define ANON_GLOB_BUF (sizeof ANON_SHAPE + 32 * 7)
#define MAX_REFS 32

static int is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

int identity_is_anon_id(const char *id)
{
    static const char shape[] = ANON_SHAPE;
    size_t i;

    if (!id || strlen(id) != sizeof shape - 1)
        return 0;
    for (i = 0; shape[i]; i++) {
        if (shape[i] == 'x' ? !is_lower_hex(id[i]) : id[i] != shape[i])
            return 0;
    }
    return 1;
}

/* A fresh anonymous id, as libparley mints them (a version 4 UUID). */
static int new_anon_id(char out[ANON_BUF])
{
    char hex[33];

    if (util_random_token("", 16, hex, sizeof hex))
        return -1;
    hex[12] = '4';
    hex[16] = "89ab"[hex[16] % 4];
    snprintf(out, ANON_BUF, "a-%.8s-%.4s-%.4s-%.4s-%.12s", hex, hex + 8, hex + 12, hex + 16,
             hex + 20);
    return 0;
}

static int sha256_hex(const char *s, char out[HASH_HEX_BUF])
{
    static const char digits[] = "0123456789abcdef";
    unsigned char h[SHA256_LEN];
    size_t i;

    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)s,
                   strlen(s), h))
        return -1;
    for (i = 0; i < SHA256_LEN; i++) {
        out[2 * i] = digits[h[i] >> 4];
        out[2 * i + 1] = digits[h[i] & 0x0f];
    }
    out[2 * SHA256_LEN] = '\0';
    return 0;
}

/* ---- migration ---- */

/* The columns that name a user: every foreign key to users(id), wherever
 * its module keeps its table, so that a rename reaches all of them. */
typedef struct refs {
    char *sql[MAX_REFS]; /* "UPDATE t SET c = ?2 WHERE c = ?1" */
    size_t n;
} refs;

static void refs_free(refs *r)
{
    while (r->n)
        sqlite3_free(r->sql[--r->n]);
}

static int refs_load(db *d, refs *r)
{
    sqlite3_stmt *st = sq_prepare(d,
                                  "SELECT m.name, f.\"from\" FROM sqlite_schema AS m "
                                  "JOIN pragma_foreign_key_list(m.name) AS f "
                                  "WHERE m.type = 'table' AND f.\"table\" = 'users'", "");
    int rc;

    while ((rc = sq_step(d, st)) == 1) {
        char *sql = r->n < MAX_REFS
                        ? sqlite3_mprintf("UPDATE \"%w\" SET \"%w\" = ?2 WHERE \"%w\" = ?1",
                                          sq_text(st, 0), sq_text(st, 1), sq_text(st, 1))
                        : NULL;
        if (!sql) {
            rc = -1;
            break;
        }
        r->sql[r->n++] = sql;
    }
    sqlite3_finalize(st);
    return rc;
}

/* Renames the anonymous user `old` (not of the anonymous form) to a fresh
 * anonymous id everywhere. Foreign keys are deferred by the caller. */
static int rename_anon(db *d, const refs *r, const char *old)
{
    char fresh[ANON_BUF];
    size_t i;

    if (new_anon_id(fresh))
        return -1;
    for (i = 0; i < r->n; i++) {
        if (sq_exec(d, r->sql[i], "tt", old, fresh))
            return -1;
    }
    if (sq_exec(d, "UPDATE users SET id = ?2 WHERE id = ?1", "tt", old, fresh))
        return -1;
    fprintf(stderr, "parley-server: db: anonymous user '%s' had no a-<uuid> id: now '%s', out of "
                    "reach of the identified user '%s'\n", old, fresh, old);
    return 0;
}

static int fix_row(db *d, const refs *r, const char *id, const char *kind)
{
    int anon_form = identity_is_anon_id(id);

    if (strcmp(kind, "anon") == 0 && !anon_form)
        return rename_anon(d, r, id);
    if (strcmp(kind, "anon") != 0 && anon_form) {
        fprintf(stderr, "parley-server: db: identified user '%s' has the anonymous form: now "
                        "anonymous\n", id);
        return sq_exec(d, "UPDATE users SET kind = 'anon' WHERE id = ?1", "t", id);
    }
    return 0;
}

/* The GLOB pattern of the anonymous form: each x a lowercase hex digit. */
static void anon_glob(char out[ANON_GLOB_BUF])
{
    static const char shape[] = ANON_SHAPE;
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

/* The rows that break the rule are read first, then fixed: a rename must
 * not be met again. */
static int fix_rows(db *d)
{
    char glob[ANON_GLOB_BUF];
    sqlite3_stmt *st;
    char **ids = NULL, **grown;
    size_t n = 0, i;
    int rc;
    refs r = {{NULL}, 0};

    anon_glob(glob);
    st = sq_prepare(d, "SELECT id, kind FROM users WHERE (kind = 'anon') <> (id GLOB ?1)", "t", glob);
    while ((rc = sq_step(d, st)) == 1) {
        grown = realloc(ids, (n + 2) * sizeof *ids);
        if (!grown) {
            rc = -1;
            break;
        }
        ids = grown;
        ids[n] = strdup(sq_text(st, 0));
        ids[n + 1] = strdup(sq_text(st, 1));
        if (!ids[n] || !ids[n + 1]) {
            n += 2;
            rc = -1;
            break;
        }
        n += 2;
    }
    sqlite3_finalize(st);
    if (rc == 0)
        rc = refs_load(d, &r);
    for (i = 0; rc == 0 && i < n; i += 2)
        rc = fix_row(d, &r, ids[i], ids[i + 1]);
    refs_free(&r);
    for (i = 0; i < n; i++)
        free(ids[i]);
    free(ids);
    return rc;
}

int identity_init(db *d)
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT 1 FROM pragma_table_info('users') "
                                     "WHERE name = 'secret_hash'", "");
    int rc = sq_step(d, st);

    sqlite3_finalize(st);
    if (rc != 0)
        return rc < 0 ? -1 : 0;
    if (db_begin(d))
        return -1;
    /* A rename touches users(id) and its children one statement at a time. */
    rc = sq_exec(d, "PRAGMA defer_foreign_keys = ON", "") ||
         sq_exec(d, "ALTER TABLE users ADD COLUMN secret_hash TEXT", "") || fix_rows(d);
    if (rc == 0 && db_commit(d) == 0)
        return 0;
    db_rollback(d);
    fprintf(stderr, "parley-server: db: cannot separate anonymous and identified users\n");
    return -1;
}

/* ---- sign-in ---- */

/* 1 and the kind copied when `user` is known, 0 when not, -1 on error. */
static int user_kind(db *d, const char *user, char kind[8])
{
    sqlite3_stmt *st = sq_prepare(d, "SELECT kind FROM users WHERE id = ?1", "t", user);
    int rc = sq_step(d, st);

    if (rc == 1)
        snprintf(kind, 8, "%s", sq_text(st, 0));
    sqlite3_finalize(st);
    return rc;
}

const char *identity_check(db *d, const char *kind, const char *user, const char *anon)
{
    char known[8];
    int anonymous = strcmp(kind, "anon") == 0;

    if (anonymous && !identity_is_anon_id(user))
        return "anonymous id must be a-<uuid>";
    if (!anonymous && identity_is_anon_id(user))
        return "an identified id may not have the anonymous form a-<uuid>";
    if (anon && !identity_is_anon_id(anon))
        return "user.anon must be a-<uuid>";
    /* Only a database changed by hand can still hold such a row. */
    if (user_kind(d, user, known) == 1 && strcmp(known, kind) != 0)
        return "user id belongs to another kind of user";
    return NULL;
}

int identity_issue_secret(db *d, const char *anon, char secret[IDENTITY_SECRET_BUF])
{
    char hash[HASH_HEX_BUF];
    sqlite3_stmt *st = sq_prepare(d, "SELECT secret_hash IS NULL FROM users "
                                     "WHERE id = ?1 AND kind = 'anon'", "t", anon);
    int rc = sq_step(d, st), needed = rc == 1 && sqlite3_column_int(st, 0);

    sqlite3_finalize(st);
    if (rc < 0)
        return -1;
    if (!needed)
        return 0;
    if (util_random_token("ps-", 32, secret, IDENTITY_SECRET_BUF) || sha256_hex(secret, hash) ||
        sq_exec(d, "UPDATE users SET secret_hash = ?2 WHERE id = ?1", "tt", anon, hash))
        return -1;
    return 1;
}

/* 1 when `proof` is the anonymous user's secret, 0 when not, -1 on error. */
static int proven(db *d, const char *anon, const char *proof)
{
    char hash[HASH_HEX_BUF];
    sqlite3_stmt *st;
    int rc, ok = 0;

    if (!proof || sha256_hex(proof, hash))
        return proof ? -1 : 0;
    st = sq_prepare(d, "SELECT secret_hash FROM users WHERE id = ?1 AND kind = 'anon' "
                       "AND secret_hash IS NOT NULL", "t", anon);
    rc = sq_step(d, st);
    if (rc == 1 && strlen(sq_text(st, 0)) == HASH_HEX_BUF - 1)
        ok = mbedtls_ct_memcmp(sq_text(st, 0), hash, HASH_HEX_BUF - 1) == 0;
    sqlite3_finalize(st);
    return rc < 0 ? -1 : ok;
}

int identity_merge(db *d, const char *anon, const char *proof, const char *user)
{
    int rc = proven(d, anon, proof);

    if (rc <= 0)
        return rc;
    if (sq_exec(d, "UPDATE conversations SET user = ?2 WHERE user = ?1", "tt", anon, user))
        return -1;
    if (context_merge_user(d, anon, user) || survey_merge_user(d, anon, user))
        return -1;
    return 1;
}
