#include "auth.h"

#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "json.h"
#include "util.h"

#define SHA256_LEN 32
#define HASH_HEX_LEN (2 * SHA256_LEN)
/* A hello is at most one frame, so no token part can be longer. */
#define PART_MAX PJ_MAX_FRAME

static const char R_MISSING[] = "missing token";
static const char R_MALFORMED[] = "malformed token";
static const char R_SIGNATURE[] = "bad signature";
static const char R_ALG[] = "unsupported alg (HS256 only)";
static const char R_SUB[] = "sub mismatch";
static const char R_EXPIRED[] = "expired";
static const char R_NBF[] = "not yet valid";
static const char R_AUD[] = "wrong audience";
static const char R_ISS[] = "wrong issuer";
static const char R_LIFETIME[] = "lifetime too long";
static const char R_NO_SECRET[] =
    "identified users are not accepted: the server has no --jwt-secret or --hmac-secret";

/* Signatures are compared without an early exit, so the time taken does not
 * tell an attacker how many leading bytes were right. */
static int ct_equal(const unsigned char *a, const unsigned char *b, size_t n)
{
    unsigned char diff = 0;
    size_t i;

    for (i = 0; i < n; i++)
        diff |= (unsigned char)(a[i] ^ b[i]);
    return diff == 0;
}

static int hmac_sha256(const char *secret, const char *data, size_t len,
                       unsigned char out[SHA256_LEN])
{
    return mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                           (const unsigned char *)secret, strlen(secret),
                           (const unsigned char *)data, len, out);
}

static int is_lower_hex(const char *s, size_t n)
{
    size_t i;

    for (i = 0; i < n; i++) {
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return 0;
    }
    return 1;
}

static const char *verify_user_hash(const char *secret, const char *user, const char *token)
{
    unsigned char mac[SHA256_LEN];
    char hex[HASH_HEX_LEN + 1];

    if (hmac_sha256(secret, user, strlen(user), mac))
        return R_SIGNATURE;
    util_hex(mac, sizeof mac, hex);
    return ct_equal((const unsigned char *)hex, (const unsigned char *)token, HASH_HEX_LEN)
               ? NULL
               : R_SIGNATURE;
}

/* Decodes unpadded base64url (RFC 7515 section 2) into a new NUL-terminated
 * buffer; NULL when `s` is not strictly that. mbedTLS wants the standard
 * alphabet with padding, so the text is translated first. */
static unsigned char *b64url_decode(const char *s, size_t len, size_t *out_len)
{
    size_t i, padded = len + (4 - len % 4) % 4, cap = padded / 4 * 3 + 1;
    unsigned char *std, *out;

    if (len == 0 || len > PART_MAX || len % 4 == 1)
        return NULL;
    std = malloc(padded);
    out = malloc(cap);
    if (!std || !out)
        goto fail;
    for (i = 0; i < len; i++) {
        char ch = s[i];
        if (ch == '-')
            ch = '+';
        else if (ch == '_')
            ch = '/';
        else if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
                   (ch >= '0' && ch <= '9')))
            goto fail;
        std[i] = (unsigned char)ch;
    }
    memset(std + len, '=', padded - len);
    if (mbedtls_base64_decode(out, cap - 1, out_len, std, padded))
        goto fail;
    out[*out_len] = '\0';
    free(std);
    return out;
fail:
    free(std);
    free(out);
    return NULL;
}

/* Decodes one JWT segment into a JSON object; NULL when it is not one. */
static cJSON *decode_json(const char *s, size_t len)
{
    const char *why;
    size_t n;
    unsigned char *raw = b64url_decode(s, len, &n);
    cJSON *obj = raw ? pj_parse((const char *)raw, n, &why) : NULL;

    free(raw);
    return obj;
}

static const char *check_signature(const char *secret, const char *token, size_t signed_len,
                                   const char *sig, size_t sig_len)
{
    unsigned char want[SHA256_LEN];
    size_t n;
    unsigned char *got = b64url_decode(sig, sig_len, &n);
    const char *why = R_SIGNATURE;

    if (!got)
        return R_MALFORMED;
    if (n == SHA256_LEN && hmac_sha256(secret, token, signed_len, want) == 0 &&
        ct_equal(want, got, n))
        why = NULL;
    free(got);
    return why;
}

static const char *check_header(const char *s, size_t len)
{
    cJSON *header = decode_json(s, len);
    const char *alg = pj_string(header, "alg");
    const char *why = !header ? R_MALFORMED : (alg && strcmp(alg, "HS256") == 0) ? NULL : R_ALG;

    cJSON_Delete(header);
    return why;
}

/* `aud` may be one string or an array of them (RFC 7519 section 4.1.3). */
static int audience_ok(const cJSON *aud, const char *want)
{
    const cJSON *it;

    if (cJSON_IsString(aud))
        return strcmp(aud->valuestring, want) == 0;
    if (!cJSON_IsArray(aud))
        return 0;
    cJSON_ArrayForEach(it, aud) {
        if (cJSON_IsString(it) && strcmp(it->valuestring, want) == 0)
            return 1;
    }
    return 0;
}

/* exp, nbf and the lifetime, once the claims are known to be well-typed. A
 * token valid for longer than the limit, counted from its issue (`iat`, when
 * present) or from now, is refused: a leaked long-lived token would
 * otherwise open the account for that long. */
static const char *check_times(const auth_cfg *cfg, const cJSON *claims, int64_t now_s)
{
    double exp = cJSON_GetObjectItemCaseSensitive(claims, "exp")->valuedouble;
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");
    double max = (double)cfg->jwt_max_lifetime_s;

    if ((double)now_s >= exp + AUTH_LEEWAY_S)
        return R_EXPIRED;
    if (nbf && (double)now_s + AUTH_LEEWAY_S < nbf->valuedouble)
        return R_NBF;
    if (cfg->jwt_max_lifetime_s > 0 &&
        (exp - (double)now_s > max + AUTH_LEEWAY_S || (iat && exp - iat->valuedouble > max)))
        return R_LIFETIME;
    return NULL;
}

static int well_typed(const cJSON *claims)
{
    const cJSON *nbf = cJSON_GetObjectItemCaseSensitive(claims, "nbf");
    const cJSON *iat = cJSON_GetObjectItemCaseSensitive(claims, "iat");

    return cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(claims, "exp")) &&
           (!nbf || cJSON_IsNumber(nbf)) && (!iat || cJSON_IsNumber(iat));
}

/* Claims are read only once the signature holds: before that they are
 * anybody's words. */
static const char *check_claims(const auth_cfg *cfg, const char *s, size_t len, const char *user,
                                int64_t now_s)
{
    cJSON *claims = decode_json(s, len);
    const char *sub = pj_string(claims, "sub"), *iss = pj_string(claims, "iss");
    const char *why = NULL;

    if (!claims || !well_typed(claims))
        why = R_MALFORMED;
    else if (!sub || strcmp(sub, user) != 0)
        why = R_SUB;
    else
        why = check_times(cfg, claims, now_s);
    if (!why && cfg->jwt_issuer && (!iss || strcmp(iss, cfg->jwt_issuer) != 0))
        why = R_ISS;
    if (!why && cfg->jwt_audience &&
        !audience_ok(cJSON_GetObjectItemCaseSensitive(claims, "aud"), cfg->jwt_audience))
        why = R_AUD;
    cJSON_Delete(claims);
    return why;
}

static const char *verify_jwt(const auth_cfg *cfg, const char *user, const char *token,
                              int64_t now_s)
{
    const char *dot1 = strchr(token, '.');
    const char *dot2 = dot1 ? strchr(dot1 + 1, '.') : NULL;
    const char *why;

    if (!dot2 || strchr(dot2 + 1, '.'))
        return R_MALFORMED;
    why = check_header(token, (size_t)(dot1 - token));
    if (!why)
        why = check_signature(cfg->jwt_secret, token, (size_t)(dot2 - token), dot2 + 1,
                              strlen(dot2 + 1));
    if (!why)
        why = check_claims(cfg, dot1 + 1, (size_t)(dot2 - dot1 - 1), user, now_s);
    return why;
}

static int looks_like_user_hash(const char *token)
{
    return strlen(token) == HASH_HEX_LEN && is_lower_hex(token, HASH_HEX_LEN);
}

const char *auth_verify(const auth_cfg *cfg, const char *user, const char *token, int64_t now_s)
{
    if (!cfg->jwt_secret && !cfg->hmac_secret)
        return cfg->insecure ? NULL : R_NO_SECRET;
    if (!token || !*token)
        return R_MISSING;
    if (cfg->hmac_secret && looks_like_user_hash(token))
        return verify_user_hash(cfg->hmac_secret, user, token);
    if (cfg->jwt_secret)
        return verify_jwt(cfg, user, token, now_s);
    return R_MALFORMED;
}
