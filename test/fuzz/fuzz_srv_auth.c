/* libFuzzer target: parley-server's identity verification (auth.c): the
 * JWT parser, its base64url decoder and the user-hash check. A signature
 * cannot be guessed by mutation, so the first byte picks how the token is
 * made from the rest ("user\n" then the token material):
 *
 *   'r'  the token as given (signature checks, malformed input);
 *   's'  "HEADER.PAYLOAD" as given, signed here with the secret, so the
 *        claims behind a valid signature are parsed;
 *   'j'  "HEADERJSON\nPAYLOADJSON", base64url-encoded and signed here, so
 *        the mutations work on the JSON itself.
 *
 * The time is fixed, so expiry and not-before follow from the input. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/md.h>

#include "auth.h"

#define SECRET "fuzz-secret"
#define NOW_S INT64_C(1800000000)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t b64url(const unsigned char *in, size_t len, char *out)
{
    static const char a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16 | (i + 1 < len ? (uint32_t)in[i + 1] << 8 : 0) |
                     (i + 2 < len ? in[i + 2] : 0);
        out[o++] = a[v >> 18 & 63];
        out[o++] = a[v >> 12 & 63];
        if (i + 1 < len)
            out[o++] = a[v >> 6 & 63];
        if (i + 2 < len)
            out[o++] = a[v & 63];
    }
    return o;
}

/* token[len] + "." + signature, in a new string. */
static char *sign(const char *token, size_t len)
{
    unsigned char mac[32];
    char *out = malloc(len + 1 + 44 + 1);
    if (!out ||
        mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)SECRET,
                        strlen(SECRET), (const unsigned char *)token, len, mac) != 0) {
        free(out);
        return NULL;
    }
    memcpy(out, token, len);
    out[len] = '.';
    size_t n = b64url(mac, sizeof mac, out + len + 1);
    out[len + 1 + n] = '\0';
    return out;
}

/* "HEADERJSON\nPAYLOADJSON" as a signed JWT. */
static char *from_json(const char *in, size_t len)
{
    const char *nl = memchr(in, '\n', len);
    size_t hl = nl ? (size_t)(nl - in) : len, pl = nl ? len - hl - 1 : 0;
    char *t = malloc((hl + pl) / 3 * 4 + 10);
    if (!t)
        return NULL;
    size_t n = b64url((const unsigned char *)in, hl, t);
    t[n++] = '.';
    n += b64url((const unsigned char *)(nl ? nl + 1 : in + len), pl, t + n);
    char *jwt = sign(t, n);
    free(t);
    return jwt;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 100000)
        return 0;
    char mode = (char)data[0];
    char *in = malloc(size);
    if (!in)
        return 0;
    memcpy(in, data + 1, size - 1);
    in[size - 1] = '\0';
    char *nl = strchr(in, '\n');
    const char *user = nl ? in : "u-fuzz";
    char *rest = nl ? nl + 1 : in;
    if (nl)
        *nl = '\0';
    if (strlen(user) > 128) { /* hello refuses longer ids before auth */
        free(in);
        return 0;
    }
    size_t rest_len = strlen(rest);
    char *token = mode == 's'   ? sign(rest, rest_len)
                  : mode == 'j' ? from_json(rest, size - 1 - (size_t)(rest - in))
                                : NULL;
    const auth_cfg both = {.jwt_secret = SECRET, .hmac_secret = SECRET};
    const auth_cfg jwt_only = {.jwt_secret = SECRET};
    const char *t = token ? token : rest;
    /* One token never proves two users: "sub" (or the hash) names one. */
    char other[160];
    snprintf(other, sizeof other, "%.128s~", user);
    if (auth_verify(&both, user, t, NOW_S) == NULL && auth_verify(&both, other, t, NOW_S) == NULL)
        abort();
    auth_verify(&jwt_only, user, t, NOW_S);
    free(token);
    free(in);
    return 0;
}
