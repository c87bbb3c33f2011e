#include "websession.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <mbedtls/md.h>

#include "util.h"

#define SHA256_LEN 32

static const char CSRF_LABEL[] = "parley.csrf.v1";

int websess_new_token(char out[WEBSESS_BUF])
{
    return util_random_token("", WEBSESS_TOKEN_LEN / 2, out, WEBSESS_BUF);
}

int websess_token_ok(const char *token)
{
    size_t i;

    if (!token)
        return 0;
    for (i = 0; i < WEBSESS_TOKEN_LEN; i++) {
        if (!((token[i] >= '0' && token[i] <= '9') || (token[i] >= 'a' && token[i] <= 'f')))
            return 0;
    }
    return token[WEBSESS_TOKEN_LEN] == '\0';
}

int websess_hash(const char *token, char out[WEBSESS_BUF])
{
    unsigned char d[SHA256_LEN];

    if (mbedtls_md(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)token,
                   strlen(token), d))
        return -1;
    util_hex(d, sizeof d, out);
    return 0;
}

int websess_csrf(const char *token, char out[WEBSESS_BUF])
{
    unsigned char d[SHA256_LEN];

    if (mbedtls_md_hmac(mbedtls_md_info_from_type(MBEDTLS_MD_SHA256), (const unsigned char *)token,
                        strlen(token), (const unsigned char *)CSRF_LABEL, sizeof CSRF_LABEL - 1, d))
        return -1;
    util_hex(d, sizeof d, out);
    return 0;
}

int websess_csrf_ok(const char *token, const char *given)
{
    char want[WEBSESS_BUF];
    unsigned char diff = 0;
    size_t i;

    if (!given || strlen(given) != WEBSESS_TOKEN_LEN || websess_csrf(token, want))
        return 0;
    for (i = 0; i < WEBSESS_TOKEN_LEN; i++)
        diff |= (unsigned char)(want[i] ^ given[i]);
    return diff == 0;
}

int websess_set_cookie(char *buf, size_t cap, const char *token, int64_t max_age_s, int secure)
{
    int n = snprintf(buf, cap, "%s=%s; Path=/; HttpOnly; SameSite=Strict; Max-Age=%lld%s",
                     WEBSESS_COOKIE, token ? token : "", token ? (long long)max_age_s : 0LL,
                     secure ? "; Secure" : "");

    return n > 0 && (size_t)n < cap ? 0 : -1;
}

int websess_cookie_find(const char *header, char out[WEBSESS_BUF])
{
    static const char name[] = WEBSESS_COOKIE "=";
    const char *p = header;
    int found = 0;

    if (!header)
        return 0;
    while (*p) {
        const char *end;
        size_t len;

        while (*p == ' ' || *p == ';' || *p == '\t')
            p++;
        end = strchr(p, ';');
        len = end ? (size_t)(end - p) : strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            len--;
        if (len > sizeof name - 1 && strncmp(p, name, sizeof name - 1) == 0) {
            size_t vlen = len - (sizeof name - 1);

            if (found || vlen != WEBSESS_TOKEN_LEN)
                return 0;
            memcpy(out, p + sizeof name - 1, vlen);
            out[vlen] = '\0';
            if (!websess_token_ok(out))
                return 0;
            found = 1;
        }
        p = end ? end + 1 : p + len;
    }
    return found;
}

/* Lowercases "host[:port]" into out, adding the default port when absent.
 * 0, or -1 when malformed or too long. */
static int norm_hostport(const char *s, size_t len, int default_port, char *out, size_t cap)
{
    size_t i, colon = len;
    int n;

    if (len == 0 || len >= cap - 8)
        return -1;
    for (i = 0; i < len; i++) {
        unsigned char c = (unsigned char)s[i];

        if (c == ':' && s[0] != '[')
            colon = i;
        else if (c == ']' && s[0] == '[' && i + 1 < len && s[i + 1] == ':')
            colon = i + 1;
        if (c <= 0x20 || c >= 0x7f || c == '/' || c == '@')
            return -1;
        out[i] = (char)tolower(c);
    }
    if (colon < len) {
        out[len] = '\0';
        return colon + 1 < len ? 0 : -1;
    }
    n = snprintf(out + len, cap - len, ":%d", default_port);
    return n > 0 && (size_t)n < cap - len ? 0 : -1;
}

int websess_origin_ok(const char *origin, const char *host, int tls)
{
    char a[300], b[300];
    const char *hp;
    int port;

    if (!origin || !host)
        return 0;
    if (strncasecmp(origin, "https://", 8) == 0) {
        hp = origin + 8;
        port = 443;
        if (!tls)
            return 0;
    } else if (strncasecmp(origin, "http://", 7) == 0) {
        hp = origin + 7;
        port = 80;
        if (tls)
            return 0;
    } else
        return 0;
    if (norm_hostport(hp, strlen(hp), port, a, sizeof a) ||
        norm_hostport(host, strlen(host), tls ? 443 : 80, b, sizeof b))
        return 0;
    return strcmp(a, b) == 0;
}

int websess_expired(int64_t created_ms, int64_t seen_ms, int64_t now_ms)
{
    return now_ms - seen_ms >= WEBSESS_IDLE_MS || now_ms - created_ms >= WEBSESS_MAX_MS;
}
