/* Agent accounts and browser sessions, without a server: password hashes,
 * the password worker thread, session and CSRF tokens, cookies, the Origin
 * rule, login budgets per name and address, account rules. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "account.h"
#include "login_limit.h"
#include "pwhash.h"
#include "pwworker.h"
#include "testlib.h"
#include "websession.h"

/* ---- password hashes ---- */

static void test_pwhash_roundtrip(void)
{
    char a[PWHASH_BUF], b[PWHASH_BUF];
    unsigned long iters;

    CHECK_INT(pwhash_make("correct horse", 13, 0, a, sizeof a), 0);
    CHECK_INT(pwhash_make("correct horse", 13, 0, b, sizeof b), 0);
    CHECK(strncmp(a, "pbkdf2-sha256$", 14) == 0);
    CHECK(sscanf(a + 14, "%lu$", &iters) == 1);
    CHECK(iters >= 100000);
    /* Same password, another salt: another hash. */
    CHECK(strcmp(a, b) != 0);
    CHECK(strlen(a) == 14 + 6 + 1 + 32 + 1 + 64);
    CHECK_INT(pwhash_verify("correct horse", 13, a), 1);
    CHECK_INT(pwhash_verify("correct horse", 13, b), 1);
    CHECK_INT(pwhash_verify("correct hors", 12, a), 0);
    CHECK_INT(pwhash_verify("Correct horse", 13, a), 0);
    /* The length counts: a password with a NUL inside is its own. */
    CHECK_INT(pwhash_verify("correct horse\0x", 15, a), 0);
}

/* The derivation against an independent one: Python's
 * hashlib.pbkdf2_hmac('sha256', b'password', bytes(16), 100000). */
static void test_pwhash_known_vector(void)
{
    static const char stored[] = "pbkdf2-sha256$100000$00000000000000000000000000000000$"
                                 "251f8a288adbd397631627dbaf9fc2cf11bf027e4e36cc88ed51e5237b7e4a98";
    char weak[PWHASH_BUF];

    CHECK_INT(pwhash_verify("password", 8, stored), 1);
    CHECK_INT(pwhash_verify("passwore", 8, stored), 0);
    /* Fewer than 100,000 iterations is refused, stored or new. */
    snprintf(weak, sizeof weak, "pbkdf2-sha256$99999$%032d$%064d", 0, 0);
    CHECK_INT(pwhash_verify("password", 8, weak), -1);
    CHECK_INT(pwhash_make("password", 8, 99999, weak, sizeof weak), -1);
}

static void test_pwhash_malformed(void)
{
    static const char *const bad[] = {
        "",
        "pbkdf2-sha1$100000$00000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$0100000$00000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$100000$0000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$100000$0000000000000000000000000000000G$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$100000$00000000000000000000000000000000$"
        "00000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$100000$00000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000$",
        "pbkdf2-sha256$100000000$00000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000",
        "pbkdf2-sha256$-1$00000000000000000000000000000000$"
        "0000000000000000000000000000000000000000000000000000000000000000",
    };
    char small[32];
    size_t i;

    for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(pwhash_verify("password", 8, bad[i]), -1);
    CHECK_INT(pwhash_verify("password", 8, NULL), -1);
    CHECK_INT(pwhash_make("password", 8, 0, small, sizeof small), -1);
    CHECK_INT(pwhash_verify_dummy("password", 8), 0);
}

/* ---- the worker ---- */

typedef struct wake_count {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int n;
} wake_count;

static void on_wake(void *ud)
{
    wake_count *w = ud;

    pthread_mutex_lock(&w->mu);
    w->n++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

static void wait_wakes(wake_count *w, int n)
{
    pthread_mutex_lock(&w->mu);
    while (w->n < n)
        pthread_cond_wait(&w->cv, &w->mu);
    pthread_mutex_unlock(&w->mu);
}

static void test_pwworker(void)
{
    wake_count wc = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, 0};
    char hash[PWHASH_BUF];
    int64_t id1, id2, id3, id4, got_id;
    int result, seen = 0, r1 = -9, r2 = -9, r3 = -9;
    pwworker *w = pwworker_new(3, on_wake, &wc);

    CHECK(w != NULL);
    if (!w)
        return;
    CHECK_INT(pwhash_make("s3cret-pass", 11, 0, hash, sizeof hash), 0);
    CHECK_INT(pwworker_take(w, &got_id, &result), 0);
    id1 = pwworker_submit(w, "s3cret-pass", 11, hash);
    id2 = pwworker_submit(w, "wrong-pass", 10, hash);
    id3 = pwworker_submit(w, "whatever", 8, NULL);
    /* Three wait or run: the fourth is refused, not queued. */
    id4 = pwworker_submit(w, "more", 4, hash);
    CHECK(id1 > 0 && id2 > id1 && id3 > id2);
    CHECK_INT(id4, 0);
    wait_wakes(&wc, 3);
    while (pwworker_take(w, &got_id, &result)) {
        seen++;
        if (got_id == id1)
            r1 = result;
        else if (got_id == id2)
            r2 = result;
        else if (got_id == id3)
            r3 = result;
    }
    CHECK_INT(seen, 3);
    CHECK_INT(r1, 1);
    CHECK_INT(r2, 0);
    CHECK_INT(r3, 0);
    /* Room again once the results are taken. */
    CHECK(pwworker_submit(w, "again", 5, "not a hash") > id3);
    wait_wakes(&wc, 4);
    CHECK_INT(pwworker_take(w, &got_id, &result), 1);
    CHECK_INT(result, -1);
    /* Freed with a job running and one waiting: joins, nothing leaks
     * (ASan and valgrind watch). */
    pwworker_submit(w, "s3cret-pass", 11, hash);
    pwworker_submit(w, "s3cret-pass", 11, hash);
    pwworker_free(w);
    pwworker_free(NULL);
}

/* ---- sessions ---- */

static void test_session_tokens(void)
{
    char t1[WEBSESS_BUF], t2[WEBSESS_BUF], h[WEBSESS_BUF], c1[WEBSESS_BUF], c2[WEBSESS_BUF];

    CHECK_INT(websess_new_token(t1), 0);
    CHECK_INT(websess_new_token(t2), 0);
    CHECK_INT((int)strlen(t1), 64);
    CHECK(strcmp(t1, t2) != 0);
    CHECK(websess_token_ok(t1));
    CHECK(!websess_token_ok("abc"));
    CHECK(!websess_token_ok(NULL));
    t2[10] = 'G';
    CHECK(!websess_token_ok(t2));
    CHECK_INT(websess_new_token(t2), 0);
    /* The database keeps a hash: stable, not the token. */
    CHECK_INT(websess_hash(t1, h), 0);
    CHECK(strcmp(h, t1) != 0);
    CHECK_INT(websess_hash("abc", h), 0);
    CHECK_STR(h, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    /* CSRF: per session, derived, checked in full. */
    CHECK_INT(websess_csrf(t1, c1), 0);
    CHECK_INT(websess_csrf(t2, c2), 0);
    CHECK(strcmp(c1, c2) != 0);
    CHECK(strcmp(c1, t1) != 0);
    CHECK(websess_csrf_ok(t1, c1));
    CHECK(!websess_csrf_ok(t1, c2));
    CHECK(!websess_csrf_ok(t2, c1));
    CHECK(!websess_csrf_ok(t1, NULL));
    CHECK(!websess_csrf_ok(t1, ""));
    c1[63] = c1[63] == '0' ? '1' : '0';
    CHECK(!websess_csrf_ok(t1, c1));
    c1[40] = '\0';
    CHECK(!websess_csrf_ok(t1, c1));
}

static void test_cookies(void)
{
    char tok[WEBSESS_BUF], buf[WEBSESS_COOKIE_BUF], hdr[512], got[WEBSESS_BUF];

    CHECK_INT(websess_new_token(tok), 0);
    CHECK_INT(websess_set_cookie(buf, sizeof buf, tok, 43200, 0), 0);
    CHECK(strncmp(buf, "parley_session=", 15) == 0);
    CHECK(strstr(buf, "; HttpOnly") != NULL);
    CHECK(strstr(buf, "; SameSite=Strict") != NULL);
    CHECK(strstr(buf, "; Path=/") != NULL);
    CHECK(strstr(buf, "; Max-Age=43200") != NULL);
    CHECK(strstr(buf, "Secure") == NULL);
    CHECK_INT(websess_set_cookie(buf, sizeof buf, tok, 43200, 1), 0);
    CHECK(strstr(buf, "; Secure") != NULL);
    CHECK_INT(websess_set_cookie(buf, sizeof buf, NULL, 0, 1), 0);
    CHECK(strncmp(buf, "parley_session=;", 16) == 0);
    CHECK(strstr(buf, "Max-Age=0") != NULL);
    CHECK_INT(websess_set_cookie(buf, 20, tok, 43200, 1), -1);

    snprintf(hdr, sizeof hdr, "theme=dark; parley_session=%s; lang=en", tok);
    CHECK_INT(websess_cookie_find(hdr, got), 1);
    CHECK_STR(got, tok);
    snprintf(hdr, sizeof hdr, "parley_session=%s", tok);
    CHECK_INT(websess_cookie_find(hdr, got), 1);
    /* Twice (another site may plant one): neither is trusted. */
    snprintf(hdr, sizeof hdr, "parley_session=%s; parley_session=%s", tok, tok);
    CHECK_INT(websess_cookie_find(hdr, got), 0);
    CHECK_INT(websess_cookie_find("parley_session=abc", got), 0);
    CHECK_INT(websess_cookie_find("xparley_session=abc; other=1", got), 0);
    CHECK_INT(websess_cookie_find("", got), 0);
    CHECK_INT(websess_cookie_find(NULL, got), 0);
    snprintf(hdr, sizeof hdr, "my_parley_session=%s", tok);
    CHECK_INT(websess_cookie_find(hdr, got), 0);
}

static void test_origin(void)
{
    CHECK(websess_origin_ok("http://localhost:8443", "localhost:8443", 0));
    CHECK(websess_origin_ok("https://LocalHost:8443", "localhost:8443", 1));
    CHECK(websess_origin_ok("https://support.example.com", "support.example.com:443", 1));
    CHECK(websess_origin_ok("http://support.example.com:80", "support.example.com", 0));
    CHECK(websess_origin_ok("http://[::1]:8080", "[::1]:8080", 0));
    /* Same site, another port: another origin. */
    CHECK(!websess_origin_ok("http://localhost:9999", "localhost:8443", 0));
    CHECK(!websess_origin_ok("http://evil.example", "localhost:8443", 0));
    CHECK(!websess_origin_ok("null", "localhost:8443", 0));
    CHECK(!websess_origin_ok("https://localhost:8443", "localhost:8443", 0));
    CHECK(!websess_origin_ok("http://localhost:8443", "localhost:8443", 1));
    CHECK(!websess_origin_ok("http://user@localhost:8443", "localhost:8443", 0));
    CHECK(!websess_origin_ok("http://localhost:8443/", "localhost:8443", 0));
    CHECK(!websess_origin_ok("http://localhost:", "localhost", 0));
    CHECK(!websess_origin_ok(NULL, "localhost", 0));
    CHECK(!websess_origin_ok("http://localhost", NULL, 0));
}

static void test_expiry(void)
{
    int64_t t0 = 1700000000000LL, h = 3600 * 1000LL;

    CHECK(!websess_expired(t0, t0, t0 + 11 * h));
    CHECK(websess_expired(t0, t0, t0 + 12 * h));
    /* Used every few hours: alive until the 7th day, not after. */
    CHECK(!websess_expired(t0, t0 + 160 * h, t0 + 167 * h));
    CHECK(websess_expired(t0, t0 + 167 * h, t0 + 168 * h));
}

/* ---- login budgets ---- */

static void test_login_limit_name(void)
{
    login_limit *l = login_limit_new(0);
    int64_t t = 1000000, w;
    int i;

    CHECK(l != NULL);
    if (!l)
        return;
    for (i = 0; i < LOGIN_LIMIT_NAME_BURST; i++)
        CHECK_INT(login_limit_begin(l, "dana", "10.0.0.1", t), 0);
    /* The sixth attempt for the name is refused, from any address. */
    w = login_limit_begin(l, "dana", "10.0.0.1", t);
    CHECK(w >= 1 && w <= LOGIN_LIMIT_NAME_EVERY_MS / 1000);
    CHECK(login_limit_begin(l, "dana", "192.0.2.7", t) >= 1);
    /* Another name from the same address goes on. */
    CHECK_INT(login_limit_begin(l, "sam", "10.0.0.1", t), 0);
    /* One more attempt after 30 s, not two. */
    t += LOGIN_LIMIT_NAME_EVERY_MS;
    CHECK_INT(login_limit_begin(l, "dana", "10.0.0.2", t), 0);
    CHECK(login_limit_begin(l, "dana", "10.0.0.2", t) >= 1);
    /* A success (the right password, after waiting) fills the budget. */
    t += LOGIN_LIMIT_NAME_EVERY_MS;
    CHECK_INT(login_limit_begin(l, "dana", "10.0.0.2", t), 0);
    login_limit_success(l, "dana", "10.0.0.2", t);
    for (i = 0; i < LOGIN_LIMIT_NAME_BURST; i++)
        CHECK_INT(login_limit_begin(l, "dana", "10.0.0.3", t), 0);
    CHECK(login_limit_begin(l, "dana", "10.0.0.3", t) >= 1);
    login_limit_free(l);
}

static void test_login_limit_addr(void)
{
    login_limit *l = login_limit_new(0);
    char name[32];
    int64_t t = 5000, w;
    int i;

    if (!l)
        return;
    /* One address trying many names: 20, then refused. */
    for (i = 0; i < LOGIN_LIMIT_ADDR_BURST; i++) {
        snprintf(name, sizeof name, "user%d", i);
        CHECK_INT(login_limit_begin(l, name, "203.0.113.9", t), 0);
    }
    w = login_limit_begin(l, "fresh", "203.0.113.9", t);
    CHECK(w >= 1 && w <= LOGIN_LIMIT_ADDR_EVERY_MS / 1000);
    /* The refused attempt took nothing from the name's budget. */
    for (i = 0; i < LOGIN_LIMIT_NAME_BURST; i++)
        CHECK_INT(login_limit_begin(l, "fresh", "198.51.100.1", t), 0);
    /* Successes give the address its tokens back. */
    t += 1;
    login_limit_success(l, "user0", "203.0.113.9", t);
    CHECK_INT(login_limit_begin(l, "user0", "203.0.113.9", t), 0);
    login_limit_free(l);
}

static void test_login_limit_bounded(void)
{
    login_limit *l = login_limit_new(64);
    char addr[32];
    int i;

    if (!l)
        return;
    /* A flood of addresses never grows the table past its bound, and a
     * limited name survives while others come and go. */
    for (i = 0; i < LOGIN_LIMIT_NAME_BURST; i++)
        login_limit_begin(l, "victim", "198.51.100.1", 0);
    for (i = 0; i < 1000; i++) {
        snprintf(addr, sizeof addr, "10.1.%d.%d", i / 256, i % 256);
        login_limit_begin(l, "x", addr, 100 + i);
        CHECK(login_limit_count(l) <= 64);
        if (login_limit_count(l) > 64)
            break;
    }
    /* Entries whose budget refilled go first; the victim's had 1.1 s of
     * 30 s per token, and the address entries are newer. */
    CHECK(login_limit_begin(l, "victim", "198.51.100.2", 1200) >= 1);
    login_limit_free(l);
    login_limit_free(NULL);
}

/* ---- account rules ---- */

static void test_account_rules(void)
{
    char big[200];

    CHECK(account_name_ok("dana"));
    CHECK(account_name_ok("dana.s_2-x"));
    CHECK(!account_name_ok(""));
    CHECK(!account_name_ok("dana s"));
    CHECK(!account_name_ok("dana<script>"));
    CHECK(!account_name_ok("api/token"));
    CHECK(!account_name_ok(NULL));
    memset(big, 'a', 64);
    big[64] = '\0';
    CHECK(account_name_ok(big));
    big[64] = 'a';
    big[65] = '\0';
    CHECK(!account_name_ok(big));
    CHECK(account_display_ok("Dana S."));
    CHECK(account_display_ok("Dâna \xe2\x9c\x93"));
    CHECK(!account_display_ok(""));
    CHECK(!account_display_ok("a\nb"));
    CHECK(!account_display_ok("bad \xff utf8"));
    CHECK(account_role_ok("agent"));
    CHECK(account_role_ok("admin"));
    CHECK(!account_role_ok("root"));
    CHECK(!account_role_ok(NULL));
}

static FILE *input(const char *bytes, size_t n)
{
    FILE *f = tmpfile();

    if (f) {
        fwrite(bytes, 1, n, f);
        rewind(f);
    }
    return f;
}

static void check_read(const char *bytes, size_t n, int want_rc, const char *want)
{
    char buf[PWHASH_MAX_PASSWORD + 2];
    const char *why = NULL;
    FILE *f = input(bytes, n);
    int rc;

    if (!f) {
        CHECK(f != NULL);
        return;
    }
    rc = account_read_password(f, buf, sizeof buf, &why);
    CHECK_INT(rc, want_rc);
    if (rc == 0)
        CHECK_STR(buf, want);
    else
        CHECK(why != NULL && buf[0] == '\0');
    fclose(f);
}

static void test_read_password(void)
{
    char *longpw = malloc(1100), *want = malloc(1100);

    check_read("correct horse\n", 14, 0, "correct horse");
    check_read("correct horse\r\nnext line\n", 25, 0, "correct horse");
    check_read("no newline at end", 17, 0, "no newline at end");
    check_read("short\n", 6, -1, NULL);
    check_read("", 0, -1, NULL);
    check_read("\n", 1, -1, NULL);
    check_read("nul\0inside-pass\n", 16, -1, NULL);
    if (longpw && want) {
        memset(longpw, 'p', 1100);
        memset(want, 'p', 1024);
        want[1024] = '\0';
        check_read(longpw, 1024, 0, want);
        check_read(longpw, 1025, -1, NULL);
    }
    free(longpw);
    free(want);
}

int main(void)
{
    RUN(test_pwhash_roundtrip);
    RUN(test_pwhash_known_vector);
    RUN(test_pwhash_malformed);
    RUN(test_pwworker);
    RUN(test_session_tokens);
    RUN(test_cookies);
    RUN(test_origin);
    RUN(test_expiry);
    RUN(test_login_limit_name);
    RUN(test_login_limit_addr);
    RUN(test_login_limit_bounded);
    RUN(test_account_rules);
    RUN(test_read_password);
    return tl_finish();
}
