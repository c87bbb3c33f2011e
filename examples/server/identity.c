#include "identity.h"

#include <stdio.h>
#include <string.h>

#include "context.h"
#include "sq.h"
#include "survey.h"

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

const char *identity_check(db *d, const char *user, const char *kind)
{
    char known[8];

    if (strcmp(kind, "anon") != 0 || user_kind(d, user, known) != 1)
        return NULL;
    return strcmp(known, "id") == 0 ? "anonymous id names an identified user" : NULL;
}

int identity_merge(db *d, const char *anon, const char *user)
{
    char kind[8];
    int rc = user_kind(d, anon, kind);

    if (rc <= 0 || strcmp(kind, "anon") != 0 || strcmp(anon, user) == 0)
        return rc < 0 ? -1 : 0;
    if (sq_exec(d, "UPDATE conversations SET user = ?2 WHERE user = ?1", "tt", anon, user))
        return -1;
    if (context_merge_user(d, anon, user) || survey_merge_user(d, anon, user))
        return -1;
    return 0;
}
