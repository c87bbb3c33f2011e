#include "identity.h"

#include <string.h>

#include <mbedtls/constant_time.h>
#include <mbedtls/md.h>

#include "anonid.h"
#include "userctx.h"
#include "util.h"

#define SHA256_LEN 32
#define HASH_HEX_BUF (2 * SHA256_LEN + 1)

static int sha256_hex(const char *s, char out[HASH_HEX_BUF])
{
    unsigned char h[SHA256_LEN];

    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)s,
                   strlen(s), h))
        return -1;
    util_hex(h, sizeof h, out);
    return 0;
}

const char *identity_check(store *s, const char *kind, const char *user, const char *anon)
{
    char known[STORE_KIND_BUF];
    int anonymous = strcmp(kind, "anon") == 0;

    if (anonymous && !anonid_valid(user))
        return "anonymous id must be a-<uuid>";
    if (!anonymous && anonid_valid(user))
        return "an identified id may not have the anonymous form a-<uuid>";
    if (anon && !anonid_valid(anon))
        return "user.anon must be a-<uuid>";
    /* Only a database changed by hand can still hold such a row. */
    if (store_user_kind(s, user, known) == 1 && strcmp(known, kind) != 0)
        return "user id belongs to another kind of user";
    return NULL;
}

int identity_issue_secret(store *s, const char *anon, char secret[IDENTITY_SECRET_BUF])
{
    char hash[HASH_HEX_BUF];
    int missing = store_anon_secret_missing(s, anon);

    if (missing <= 0)
        return missing;
    if (util_random_token("ps-", 32, secret, IDENTITY_SECRET_BUF) || sha256_hex(secret, hash) ||
        store_anon_secret_set(s, anon, hash))
        return -1;
    return 1;
}

/* 1 when `proof` is the anonymous user's secret, 0 when not, -1 on error. */
static int proven(store *s, const char *anon, const char *proof)
{
    char hash[HASH_HEX_BUF], stored[HASH_HEX_BUF + 1];
    int rc;

    if (!proof || sha256_hex(proof, hash))
        return proof ? -1 : 0;
    rc = store_anon_secret_get(s, anon, stored, sizeof stored);
    if (rc <= 0)
        return rc;
    return strlen(stored) == HASH_HEX_BUF - 1 &&
           mbedtls_ct_memcmp(stored, hash, HASH_HEX_BUF - 1) == 0;
}

int identity_merge(store *s, const char *anon, const char *proof, const char *user)
{
    int rc = proven(s, anon, proof);

    if (rc <= 0)
        return rc;
    if (store_user_move(s, anon, user) || userctx_merge(s, anon, user))
        return -1;
    return 1;
}
