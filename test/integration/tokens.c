#include "tokens.h"

#include <stdio.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/md.h>

#include "testlib.h"

static void hmac256(const char *secret, const char *data, unsigned char mac[32])
{
    CHECK_INT(mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256),
                              (const unsigned char *)secret, strlen(secret),
                              (const unsigned char *)data, strlen(data), mac),
              0);
}

/* Appends the unpadded base64url of `data` to `out` (TOKEN_MAX). */
static void b64url_append(char *out, const unsigned char *data, size_t len)
{
    size_t used = strlen(out), n = 0;
    CHECK_INT(mbedtls_base64_encode((unsigned char *)out + used, TOKEN_MAX - used, &n, data, len),
              0);
    for (char *p = out + used; *p; p++) {
        if (*p == '+')
            *p = '-';
        else if (*p == '/')
            *p = '_';
        else if (*p == '=')
            *p = '\0';
    }
}

void tok_jwt_claims(const char *secret, const char *claims, char out[TOKEN_MAX])
{
    static const char header[] = "{\"alg\":\"HS256\",\"typ\":\"JWT\"}";
    unsigned char mac[32];
    out[0] = '\0';
    b64url_append(out, (const unsigned char *)header, strlen(header));
    strcat(out, ".");
    b64url_append(out, (const unsigned char *)claims, strlen(claims));
    hmac256(secret, out, mac);
    strcat(out, ".");
    b64url_append(out, mac, sizeof mac);
}

void tok_jwt(const char *secret, const char *sub, long long exp, char out[TOKEN_MAX])
{
    char claims[256];
    snprintf(claims, sizeof claims, "{\"sub\":\"%s\",\"exp\":%lld}", sub, exp);
    tok_jwt_claims(secret, claims, out);
}

void tok_user_hash(const char *secret, const char *user, char out[65])
{
    unsigned char mac[32];
    hmac256(secret, user, mac);
    for (size_t i = 0; i < sizeof mac; i++)
        snprintf(out + 2 * i, 3, "%02x", mac[i]);
}
