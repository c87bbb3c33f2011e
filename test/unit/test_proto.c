/* Wire codec: every server frame type valid and malformed, encoder
 * round-trips, limits, and hostile input (JSONTestSuite, truncation, random
 * bytes). A counting allocator proves nothing leaks through the hooks. */
#include "testlib.h"

#include <dirent.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "codec/proto_context.h"
#include "codec/proto_frames.h"

static tl_alloc cnt = {.fail_at = -1};
static const pl_alloc alloc = {tl_malloc, tl_realloc, tl_free, &cnt};

/* ---- helpers --------------------------------------------------------------- */

static char errbuf[128];

/* Decodes a copy of the text in a buffer of exactly its size (no NUL), so a
 * read past the end is caught under ASan/valgrind. */
static int decode_n(const char *json, size_t len, pl_frame *f)
{
    char *copy = malloc(len ? len : 1);
    memcpy(copy, json, len);
    errbuf[0] = '\0';
    int rc = pl_proto_decode(&alloc, copy, len, f, errbuf, sizeof errbuf);
    free(copy);
    return rc;
}

static int decode(const char *json, pl_frame *f)
{
    return decode_n(json, strlen(json), f);
}

/* Decodes, expects rejection (and an error text), checks nothing leaked and
 * the frame holds nothing. */
static void expect_bad(const char *json, size_t len, const char *why)
{
    pl_frame f;
    long before = cnt.live;
    int rc = decode_n(json, len, &f);
    if (rc != PARLEY_ERR_PROTOCOL)
        fprintf(stderr, "  accepted/odd (rc %d): %.*s\n", rc, (int)(len > 200 ? 200 : len), json);
    CHECK_INT(rc, PARLEY_ERR_PROTOCOL);
    if (rc == PARLEY_OK) {
        pl_proto_frame_clear(&alloc, &f);
        return;
    }
    CHECK(errbuf[0] != '\0');
    if (why && !strstr(errbuf, why)) {
        fprintf(stderr, Q("  reason '%s' lacks '%s' for: %.*s\n"), errbuf, why,
                (int)(len > 200 ? 200 : len), json);
        CHECK(0);
    }
    CHECK(f.session == NULL && f.cid == NULL && f.conv == NULL && f.id == NULL && f.text == NULL &&
          f.author_name == NULL && f.code == NULL && f.message == NULL);
    CHECK_INT(cnt.live, before);
}

static void bad_str(const char *json, const char *why)
{
    expect_bad(json, strlen(json), why);
}

/* Decodes, expects success; the caller checks members then calls done(). */
static void expect_ok(const char *json, pl_frame *f, pl_frame_type type)
{
    int rc = decode(json, f);
    if (rc != PARLEY_OK)
        fprintf(stderr, "  rejected (%s): %s\n", errbuf, json);
    CHECK_INT(rc, PARLEY_OK);
    CHECK_INT(f->type, type);
}

static void done(pl_frame *f)
{
    pl_proto_frame_clear(&alloc, f);
    CHECK_INT(cnt.live, 0);
}

/* A string of n copies of c. */
static char *repeat(char c, size_t n)
{
    char *s = malloc(n + 1);
    memset(s, c, n);
    s[n] = '\0';
    return s;
}

/* Frame text from a prefix, a filler of n copies of c, and a suffix. */
static char *build(const char *pre, char c, size_t n, const char *post)
{
    size_t a = strlen(pre), b = strlen(post);
    char *s = malloc(a + n + b + 1);
    memcpy(s, pre, a);
    memset(s + a, c, n);
    memcpy(s + a + n, post, b + 1);
    return s;
}

/* ---- server frames: valid ---------------------------------------------------- */

static void test_welcome(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'welcome','session':'s-81b2','limits':{'max_frame':32768,'max_text':4096}}"),
              &f, PL_FRAME_WELCOME);
    CHECK_STR(f.type_name, "welcome");
    CHECK_STR(f.session, "s-81b2");
    CHECK_INT(f.max_frame, 32768);
    CHECK_INT(f.max_text, 4096);
    CHECK(f.anon_secret == NULL);
    done(&f);

    expect_ok(Q("{'t':'welcome','session':'s','anon_secret':'ps-0a1b'}"), &f, PL_FRAME_WELCOME);
    CHECK_STR(f.anon_secret, "ps-0a1b");
    done(&f);

    expect_ok(Q(" \r\n\t{'session':'s','t':'welcome','extra':[1,{'a':null}]} \n"), &f,
              PL_FRAME_WELCOME);
    CHECK_STR(f.session, "s");
    CHECK_INT(f.max_frame, 0);
    CHECK_INT(f.max_text, 0);
    done(&f);

    expect_ok(Q("{'t':'welcome','session':'s','limits':{'max_frame':4294967295,'future':'x'}}"), &f,
              PL_FRAME_WELCOME);
    CHECK_INT(f.max_frame, 4294967295u);
    CHECK_INT(f.max_text, 0);
    done(&f);

    expect_ok(Q("{'t':'welcome','session':'s','limits':{'max_text':1e3}}"), &f, PL_FRAME_WELCOME);
    CHECK_INT(f.max_text, 1000);
    done(&f);
}

static void test_conv_ack(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'conv.ack','cid':'0b7e','conv':'c-7c1e'}"), &f, PL_FRAME_CONV_ACK);
    CHECK_STR(f.cid, "0b7e");
    CHECK_STR(f.conv, "c-7c1e");
    CHECK(f.id == NULL && f.seq == 0);
    done(&f);
}

static void test_msg_ack(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'msg.ack','cid':'5d1f','id':'m-1001','conv':'c-7c1e','seq':'4'}"), &f,
              PL_FRAME_MSG_ACK);
    CHECK_STR(f.cid, "5d1f");
    CHECK_STR(f.id, "m-1001");
    CHECK_STR(f.conv, "c-7c1e");
    CHECK_INT(f.seq, 4);
    done(&f);
}

static void test_msg(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'msg','conv':'c-7c1e','id':'m-1002','seq':'5','author':{'kind':'bot',"
                "'name':'Helper'},'text':'Sorry! \\\"Which\\\" purchase? \\u00e9\\ud83d\\ude00',"
                "'ts':1763900000000}"),
              &f, PL_FRAME_MSG);
    CHECK_STR(f.conv, "c-7c1e");
    CHECK_STR(f.id, "m-1002");
    CHECK_INT(f.seq, 5);
    CHECK_INT(f.author_kind, PL_AUTHOR_BOT);
    CHECK_STR(f.author_name, "Helper");
    CHECK_STR(f.text, Q("Sorry! 'Which' purchase? \xc3\xa9\xf0\x9f\x98\x80"));
    CHECK_INT(f.ts, 1763900000000LL);
    done(&f);

    static const struct {
        const char *kind;
        pl_author_kind want;
    } kinds[] = {{"user", PL_AUTHOR_USER},
                 {"bot", PL_AUTHOR_BOT},
                 {"agent", PL_AUTHOR_AGENT},
                 {"system", PL_AUTHOR_SYSTEM}};
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++) {
        char json[200];
        snprintf(json, sizeof json,
                 Q("{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'%s'},'text':''}"),
                 kinds[i].kind);
        expect_ok(json, &f, PL_FRAME_MSG);
        CHECK_INT(f.author_kind, kinds[i].want);
        CHECK(f.author_name == NULL);
        CHECK_STR(f.text, "");
        CHECK_INT(f.ts, 0);
        done(&f);
    }

    expect_ok(Q("{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'user'},'text':'x',"
                "'ts':-9007199254740991}"),
              &f, PL_FRAME_MSG);
    CHECK_INT(f.ts, -9007199254740991LL);
    done(&f);
}

static void test_conv_update(void)
{
    static const struct {
        const char *state;
        pl_conv_state want;
    } states[] = {{"bot", PL_CONV_BOT},
                  {"agent", PL_CONV_AGENT},
                  {"queued", PL_CONV_QUEUED},
                  {"closed", PL_CONV_CLOSED},
                  {"open", PL_CONV_OPEN}};
    pl_frame f;
    for (size_t i = 0; i < sizeof states / sizeof *states; i++) {
        char json[200];
        snprintf(json, sizeof json, Q("{'t':'conv.update','conv':'c-1','state':'%s'}"),
                 states[i].state);
        expect_ok(json, &f, PL_FRAME_CONV_UPDATE);
        CHECK_STR(f.conv, "c-1");
        CHECK_INT(f.conv_state, states[i].want);
        CHECK(f.author_name == NULL);
        done(&f);
    }
    expect_ok(Q("{'t':'conv.update','conv':'c-1','state':'agent','agent':{'name':'Dana'}}"), &f,
              PL_FRAME_CONV_UPDATE);
    CHECK_STR(f.author_name, "Dana");
    done(&f);
    expect_ok(Q("{'t':'conv.update','conv':'c-1','state':'agent','agent':{}}"), &f,
              PL_FRAME_CONV_UPDATE);
    CHECK(f.author_name == NULL);
    done(&f);
}

static void test_error(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'error','code':'too_long','message':'text exceeds 4096 bytes','cid':'5d1f'}"),
              &f, PL_FRAME_ERROR);
    CHECK_STR(f.code, "too_long");
    CHECK_STR(f.message, "text exceeds 4096 bytes");
    CHECK_STR(f.cid, "5d1f");
    done(&f);
    expect_ok(Q("{'t':'error','code':'auth_failed'}"), &f, PL_FRAME_ERROR);
    CHECK_STR(f.code, "auth_failed");
    CHECK(f.message == NULL && f.cid == NULL);
    done(&f);
}

static void test_goaway(void)
{
    static const struct {
        const char *value;
        uint32_t want;
    } cases[] = {{"5000", 5000},
                 {"0", 0},
                 {"-0", 0},
                 {"1500.7", 1500},
                 {"3600000", 3600000},
                 {"3600001", 3600000},
                 {"1e300", 3600000},
                 {"1e999", 3600000}};
    pl_frame f;
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        char json[200];
        snprintf(json, sizeof json, Q("{'t':'goaway','reconnect_ms':%s,'reason':'deploy'}"),
                 cases[i].value);
        expect_ok(json, &f, PL_FRAME_GOAWAY);
        CHECK_INT(f.reconnect_ms, cases[i].want);
        CHECK_STR(f.message, "deploy");
        done(&f);
    }
    expect_ok(Q("{'t':'goaway'}"), &f, PL_FRAME_GOAWAY);
    CHECK_INT(f.reconnect_ms, 0);
    CHECK(f.message == NULL);
    done(&f);
}

static void test_unknown_type(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'future.thing','x':[1,2,{'y':true}]}"), &f, PL_FRAME_UNKNOWN);
    CHECK_STR(f.type_name, "future.thing");
    done(&f);
    /* "bye" is a client frame: unknown to the client's decoder. */
    expect_ok(Q("{'t':'bye'}"), &f, PL_FRAME_UNKNOWN);
    CHECK_STR(f.type_name, "bye");
    done(&f);
    /* Types are case-sensitive. */
    expect_ok(Q("{'t':'Welcome'}"), &f, PL_FRAME_UNKNOWN);
    done(&f);
    char *t32 = build(Q("{'t':'"), 'a', 32, Q("'}"));
    expect_ok(t32, &f, PL_FRAME_UNKNOWN);
    CHECK_INT(strlen(f.type_name), 32);
    done(&f);
    free(t32);
    char *t33 = build(Q("{'t':'"), 'a', 33, Q("'}"));
    bad_str(t33, "'t'");
    free(t33);
}

/* ---- server frames: malformed ------------------------------------------------ */

/* frames/malformed.tsv: a frame per line, after the text its reason must
 * hold ("-": any). */
static void test_malformed(void)
{
    char **lines;
    size_t n;
    REQUIRE_INT(tl_read_lines(PARLEY_FRAMES "/malformed.tsv", &lines, &n), 0);
    CHECK(n > 100);
    for (size_t i = 0; i < n; i++) {
        char *tab = strchr(lines[i], '\t');
        REQUIRE(tab != NULL);
        *tab = '\0';
        bad_str(tab + 1, strcmp(lines[i], "-") == 0 ? NULL : lines[i]);
    }
    tl_free_lines(lines, n);
    /* Whitespace alone (a line break cannot be a line of the file). */
    bad_str("   \n", "truncated");
    /* Embedded NUL bytes, which strlen-based callers would miss. */
    static const char nul_in_string[] = "{\"t\":\"bye\",\"x\":\"a\0b\"}";
    expect_bad(nul_in_string, sizeof nul_in_string - 1, "control character");
    static const char nul_outside[] = "{\"t\":\"bye\",\0\"x\":1}";
    expect_bad(nul_outside, sizeof nul_outside - 1, NULL);
}

static void test_error_buffer(void)
{
    pl_frame f;
    char small[8];
    CHECK_INT(pl_proto_decode(&alloc, "[]", 2, &f, small, sizeof small), PARLEY_ERR_PROTOCOL);
    CHECK_INT(strlen(small), 7); /* truncated, terminated */
    CHECK_INT(pl_proto_decode(&alloc, "[]", 2, &f, NULL, 0), PARLEY_ERR_PROTOCOL);
    CHECK_INT(pl_proto_decode(&alloc, NULL, 0, &f, NULL, 0), PARLEY_ERR_PROTOCOL);
    CHECK_INT(pl_proto_decode(&alloc, NULL, 5, &f, NULL, 0), PARLEY_ERR_PROTOCOL);
}

/* ---- seq, NUL escapes, UTF-8 -------------------------------------------------- */

static void test_seq(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'msg.ack','cid':'a','id':'m','conv':'c','seq':'9007199254740991'}"), &f,
              PL_FRAME_MSG_ACK);
    CHECK(f.seq == 9007199254740991ULL);
    CHECK(f.seq == PL_SEQ_MAX);
    done(&f);
    expect_ok(Q("{'t':'msg.ack','cid':'a','id':'m','conv':'c','seq':'9007199254740990'}"), &f,
              PL_FRAME_MSG_ACK);
    CHECK(f.seq == 9007199254740990ULL); /* a double would round this one */
    done(&f);
    expect_ok(Q("{'t':'msg.ack','cid':'a','id':'m','conv':'c','seq':'10'}"), &f, PL_FRAME_MSG_ACK);
    CHECK_INT(f.seq, 10);
    done(&f);
}

static void test_seq_str(void)
{
    char buf[21];
    pl_proto_seq_str(0, buf);
    CHECK_STR(buf, "0");
    pl_proto_seq_str(1, buf);
    CHECK_STR(buf, "1");
    pl_proto_seq_str(42, buf);
    CHECK_STR(buf, "42");
    pl_proto_seq_str(PL_SEQ_MAX, buf);
    CHECK_STR(buf, "9007199254740991");
    pl_proto_seq_str(UINT64_MAX, buf);
    CHECK_STR(buf, "18446744073709551615");
}

static void test_nul_escape(void)
{
    pl_frame f;
    /* An escaped backslash followed by "u0000" is legal text. */
    expect_ok(Q("{'t':'error','code':'x','message':'a\\\\u0000b'}"), &f, PL_FRAME_ERROR);
    CHECK_STR(f.message, "a\\u0000b");
    done(&f);
    expect_ok(Q("{'t':'error','code':'x','message':'\\\\\\\\u0000\\u0001'}"), &f, PL_FRAME_ERROR);
    CHECK_STR(f.message, "\\\\u0000\x01");
    done(&f);
    bad_str(Q("{'t':'error','code':'x','message':'\\\\\\\\\\u0000'}"), "\\u0000");
    bad_str(Q("{'t':'error','code':'x','message':'\\U0000'}"), "bad escape");
}

static void test_utf8(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'error','code':'x','message':'\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80'}"), &f,
              PL_FRAME_ERROR);
    CHECK_STR(f.message, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80");
    done(&f);
    static const char *const bad_utf8[] = {
        "{'t':'error','code':'x','message':'\xff'}",
        "{'t':'error','code':'x','message':'\xc0\xaf'}",         /* overlong */
        "{'t':'error','code':'x','message':'\xed\xa0\x80'}",     /* surrogate */
        "{'t':'error','code':'x','message':'\xf4\x90\x80\x80'}", /* > U+10FFFF */
        "{'t':'error','code':'x','message':'\xe2\x82'}",         /* cut */
        "{'t':'error','code':'x','\xc3':'x'}",
        "{'t':'error','code':'x'}\x80",
    };
    for (size_t i = 0; i < sizeof bad_utf8 / sizeof *bad_utf8; i++)
        bad_str(Q(bad_utf8[i]), "invalid UTF-8");
}

static void test_not_terminated(void)
{
    /* decode_n copies into an exact-size buffer: a NUL-reliant read would
     * overrun it (caught by ASan/valgrind). Here also the prefix of a longer
     * buffer is decoded on its own. */
    static const char two[] = "{\"t\":\"goaway\",\"reconnect_ms\":12}{\"t\":\"x\"}";
    pl_frame f;
    CHECK_INT(decode_n(two, strlen(Q("{'t':'goaway','reconnect_ms':12}")), &f), PARLEY_OK);
    CHECK_INT(f.reconnect_ms, 12);
    done(&f);
    CHECK_INT(decode_n(two, strlen(Q("{'t':'goaway','reconnect_ms':1")), &f), PARLEY_ERR_PROTOCOL);
}

/* ---- limits ---------------------------------------------------------------------- */

/* Nested arrays under a member of a top-level object: depth 1 + n. */
static char *nested(size_t arrays)
{
    size_t pre = strlen(Q("{'t':'bye','x':"));
    char *s = malloc(pre + 2 * arrays + 2);
    memcpy(s, Q("{'t':'bye','x':"), pre);
    memset(s + pre, '[', arrays);
    memset(s + pre + arrays, ']', arrays);
    memcpy(s + pre + 2 * arrays, "}", 2);
    return s;
}

static void test_depth(void)
{
    pl_frame f;
    char *ok16 = nested(15);
    expect_ok(ok16, &f, PL_FRAME_UNKNOWN);
    done(&f);
    char *bad17 = nested(16);
    bad_str(bad17, "nesting deeper than 16");
    free(ok16);
    free(bad17);

    /* Objects count the same as arrays. */
    char deep_obj[512];
    snprintf(deep_obj, sizeof deep_obj, "%s", Q("{'t':'bye'"));
    for (int i = 1; i < 16; i++)
        strcat(deep_obj, Q(",'a':{'b':0"));
    char *tail = deep_obj + strlen(deep_obj);
    for (int i = 1; i < 16; i++)
        *tail++ = '}';
    strcpy(tail, "}");
    expect_ok(deep_obj, &f, PL_FRAME_UNKNOWN);
    done(&f);

    /* Far beyond cJSON's own limit: rejected by the scan, no deep recursion. */
    char *deep = build(Q("{'t':'bye','x':"), '[', 60000, "");
    bad_str(deep, "nesting");
    free(deep);
    char *deep_open = repeat('{', 60000);
    bad_str(deep_open, NULL);
    free(deep_open);
}

static void test_frame_size(void)
{
    pl_frame f;
    /* Exactly the limit (padded with whitespace) is fine. */
    char *max = build(Q("{'t':'bye'"), ' ', PL_MAX_FRAME - strlen(Q("{'t':'bye'}")), "}");
    CHECK_INT(strlen(max), PL_MAX_FRAME);
    expect_ok(max, &f, PL_FRAME_UNKNOWN);
    done(&f);
    free(max);
    char *over = build(Q("{'t':'bye'"), ' ', PL_MAX_FRAME + 1 - strlen(Q("{'t':'bye'}")), "}");
    bad_str(over, "frame exceeds 65536 bytes");
    free(over);
    /* The size check comes first: garbage that is too long gets that reason. */
    char *junk = repeat('\xff', PL_MAX_FRAME + 1);
    expect_bad(junk, PL_MAX_FRAME + 1, "frame exceeds");
    free(junk);
}

static void test_string_size(void)
{
    pl_frame f;
    char *ok = build(Q("{'t':'error','code':'x','message':'"), 'a', PL_MAX_STRING, Q("'}"));
    expect_ok(ok, &f, PL_FRAME_ERROR);
    CHECK_INT(strlen(f.message), PL_MAX_STRING);
    done(&f);
    free(ok);
    char *big = build(Q("{'t':'error','code':'x','message':'"), 'a', PL_MAX_STRING + 1, Q("'}"));
    bad_str(big, "string exceeds 16384 bytes");
    free(big);
    /* Inside an ignored member and as a key it counts too. */
    char *ignored = build(Q("{'t':'bye','x':['"), 'a', PL_MAX_STRING + 1, Q("']}"));
    bad_str(ignored, "string exceeds");
    free(ignored);
    char *key = build(Q("{'t':'bye','"), 'k', PL_MAX_STRING + 1, Q("':1}"));
    bad_str(key, "string exceeds");
    free(key);

    /* The limit is on decoded bytes: 5462 x "\u20ac" is 16386 bytes decoded
     * from 32772 bytes of text, 5461 of them is 16383. */
    char *esc = malloc(6 * 5462 + 64);
    char *w = esc + sprintf(esc, "%s", Q("{'t':'bye','x':'"));
    for (int i = 0; i < 5461; i++)
        w += sprintf(w, "\\u20ac");
    strcpy(w, Q("'}"));
    expect_ok(esc, &f, PL_FRAME_UNKNOWN);
    done(&f);
    esc[strlen(esc) - 2] = '\0';
    strcat(esc, Q("\\u20ac'}"));
    bad_str(esc, "string exceeds");
    free(esc);

    /* Identifiers: 128 bytes fine, 129 malformed. */
    char *id128 = build(Q("{'t':'welcome','session':'"), 's', PL_MAX_ID, Q("'}"));
    expect_ok(id128, &f, PL_FRAME_WELCOME);
    CHECK_INT(strlen(f.session), PL_MAX_ID);
    done(&f);
    free(id128);
    char *id129 = build(Q("{'t':'welcome','session':'"), 's', PL_MAX_ID + 1, Q("'}"));
    bad_str(id129, "'session'");
    free(id129);
}

static void test_numbers(void)
{
    pl_frame f;
    /* cJSON reads numbers through a 64-byte buffer upstream: the codec caps
     * the token at 63 characters on every cJSON build. */
    char *n63 = build(Q("{'t':'bye','x':"), '1', 63, "}");
    expect_ok(n63, &f, PL_FRAME_UNKNOWN);
    done(&f);
    free(n63);
    char *n64 = build(Q("{'t':'bye','x':"), '1', 64, "}");
    bad_str(n64, "number too long");
    free(n64);
    expect_ok(Q("{'t':'bye','x':[0,-0,0.5,-1.25e+10,1E-3,1e999,-1e999]}"), &f, PL_FRAME_UNKNOWN);
    done(&f);
}

static void test_duplicate_keys_large(void)
{
    /* More members than the pairwise check handles: the sorted path. */
    char json[4096];
    snprintf(json, sizeof json, "%s", Q("{'t':'bye'"));
    for (int i = 0; i < 200; i++)
        snprintf(json + strlen(json), sizeof json - strlen(json), Q(",'k%d':%d"), i, i);
    strcat(json, "}");
    pl_frame f;
    expect_ok(json, &f, PL_FRAME_UNKNOWN);
    done(&f);
    json[strlen(json) - 1] = '\0';
    strcat(json, Q(",'k0':1}"));
    bad_str(json, "duplicate");

    /* A 64 KB object of tiny members decodes quickly (n log n). */
    size_t cap = PL_MAX_FRAME;
    char *wide = malloc(cap + 1);
    size_t n = (size_t)snprintf(wide, cap, "%s", Q("{'t':'bye'"));
    for (int i = 0; n + 16 < cap; i++)
        n += (size_t)snprintf(wide + n, cap - n, Q(",'%x':0"), i);
    strcpy(wide + n, "}");
    expect_ok(wide, &f, PL_FRAME_UNKNOWN);
    done(&f);
    free(wide);
}

/* ---- msg and msg.ack read in place -------------------------------------------------- */

static int same_str(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The frame read in place against the same frame through the tree (an
 * extra member the in-place reader does not take forces the tree): same
 * verdict, same reason, same fields. `fast` says which path the first
 * decode must have taken. */
static void expect_same_both_ways(const char *json, int fast)
{
    char slow_json[1024], slow_err[128];
    snprintf(slow_json, sizeof slow_json, "{\"zz\":[1],%s", json + 1);
    pl_frame a, b;
    int ra = decode(json, &a);
    char fast_err[128];
    snprintf(fast_err, sizeof fast_err, "%s", errbuf);
    int rb = decode(slow_json, &b);
    snprintf(slow_err, sizeof slow_err, "%s", errbuf);
    if (ra != rb || strcmp(fast_err, slow_err) != 0)
        fprintf(stderr, "  in place %d '%s', tree %d '%s': %s\n", ra, fast_err, rb, slow_err, json);
    CHECK_INT(ra, rb);
    CHECK_STR(fast_err, slow_err);
    if (ra == PARLEY_OK) {
        CHECK_INT(a.doc == NULL && a.arena != NULL, fast);
        CHECK(b.doc != NULL && b.arena == NULL);
        CHECK_INT(a.type, b.type);
        CHECK_STR(a.type_name, b.type_name);
        CHECK(same_str(a.conv, b.conv) && same_str(a.id, b.id) && same_str(a.cid, b.cid));
        CHECK(same_str(a.text, b.text) && same_str(a.author_name, b.author_name));
        CHECK(a.seq == b.seq && a.ts == b.ts && a.author_kind == b.author_kind);
        if (a.raw)
            CHECK(a.raw_len == strlen(json) && memcmp(a.raw, json, a.raw_len) == 0);
        pl_proto_frame_clear(&alloc, &a);
    }
    if (rb == PARLEY_OK)
        pl_proto_frame_clear(&alloc, &b);
    CHECK_INT(cnt.live, 0);
}

static void test_in_place(void)
{
    static const char *const taken[] = {
        "{'t':'msg','conv':'c-1','id':'m-1','seq':'7','author':{'kind':'bot'},'text':'hi'}",
        "{ 't' : 'msg' , 'conv':'c','id':'m','seq':'9007199254740991','author':{'kind':'agent',"
        "'name':'Dana','avatar':3},'text':'','ts':1700000000123 }",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'name':'S','kind':'system'},"
        "'text':'a\\n\\t\\\"q\\\" \\\\ \\/ \\b\\f\\r \\u00e9 \\u20ac \\ud83d\\ude00 é €','ts':-5}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'user','name':'\\u0041'},"
        "'text':'x','ts':0}",
        "{'t':'msg.ack','cid':'k-1','id':'m-2','conv':'c-1','seq':'12'}",
        "{'seq':'12','conv':'c','id':'m','cid':'k','t':'msg.ack'}",
    };
    for (size_t i = 0; i < sizeof taken / sizeof *taken; i++)
        expect_same_both_ways(Q(taken[i]), 1);
    /* Left to the tree (a number it would have to round, an escaped type or
     * key, nesting, literals) or refused by it, with its reasons. */
    static const char *const handed_over[] = {
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x','ts':1e3}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x','ts':1.0}",
        ("{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x',"
         "'ts':12345678901234567}"),
        "{'t':'m\\u0073g','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x'}",
        "{'t':'msg','c\\u006fnv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot','x':{}},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x','ts':null}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x','blocks':[]}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'robot'},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot','kind':'bot'},'text':'x'}",
        "{'t':'msg','conv':'c','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'x'}",
        "{'t':'msg','conv':'c d','id':'m','seq':'1','author':{'kind':'bot'},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'01','author':{'kind':'bot'},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':1,'author':{'kind':'bot'},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':'bot','text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot','name':7},'text':'x'}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'}}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':5}",
        "{'t':'msg','conv':'c','id':'m','seq':'1','text':'x'}",
        "{'t':'msg.ack','id':'m','conv':'c','seq':'1'}",
        "{'t':'msg.ack','cid':'','id':'m','conv':'c','seq':'1'}",
        "{'t':'msg.ack','cid':'k','id':'m','conv':'c','seq':'99999999999999999'}",
    };
    for (size_t i = 0; i < sizeof handed_over / sizeof *handed_over; i++)
        expect_same_both_ways(Q(handed_over[i]), 0);
    /* A text longer than any string may be is refused either way. */
    size_t big = PL_MAX_STRING + 10;
    char *json = malloc(big + 200);
    int n =
        snprintf(json, 200, "%s",
                 Q("{'t':'msg','conv':'c','id':'m','seq':'1','author':{'kind':'bot'},'text':'"));
    memset(json + n, 'a', big);
    snprintf(json + n + big, 20, "\"}");
    expect_bad(json, strlen(json), "exceeds");
    free(json);
}

/* ---- allocation failure ----------------------------------------------------------- */

static void test_nomem(void)
{
    /* A msg (read in place) takes one allocation for its strings; frames
     * read through the tree borrow the tree's strings and take none through
     * the hooks (cJSON allocates with its own), so they decode even when
     * every hooked allocation fails. */
    static const char *const frames[] = {
        "{'t':'msg','conv':'c','id':'m','seq':'3','author':{'kind':'agent','name':'D'},"
        "'text':'hi'}",
    };
    {
        pl_frame f;
        tl_alloc_fail(&cnt, 0, TL_FAIL_ONWARD);
        int rc = decode(Q("{'t':'error','code':'x','message':'m','cid':'c'}"), &f);
        tl_alloc_fail(&cnt, -1, 0);
        CHECK_INT(rc, PARLEY_OK);
        CHECK_STR(f.code, "x");
        CHECK_STR(f.cid, "c");
        pl_proto_frame_clear(&alloc, &f);
        CHECK_INT(cnt.live, 0);
    }
    for (size_t k = 0; k < sizeof frames / sizeof *frames; k++) {
        int saw_nomem = 0, saw_ok = 0;
        for (long fail = 0; fail < 20 && !saw_ok; fail++) {
            tl_alloc_fail(&cnt, fail, TL_FAIL_ONWARD);
            pl_frame f;
            int rc = decode(Q(frames[k]), &f);
            tl_alloc_fail(&cnt, -1, 0);
            CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_NOMEM);
            saw_nomem |= rc == PARLEY_ERR_NOMEM;
            saw_ok |= rc == PARLEY_OK;
            if (rc == PARLEY_OK)
                pl_proto_frame_clear(&alloc, &f);
            else
                CHECK(f.conv == NULL && f.code == NULL);
            CHECK_INT(cnt.live, 0);
        }
        CHECK(saw_nomem && saw_ok);
    }
    /* Large objects need the key array. */
    char json[1024];
    snprintf(json, sizeof json, "%s", Q("{'t':'bye'"));
    for (int i = 0; i < 40; i++)
        snprintf(json + strlen(json), sizeof json - strlen(json), Q(",'k%d':%d"), i, i);
    strcat(json, "}");
    pl_frame f;
    tl_alloc_fail(&cnt, 0, TL_FAIL_ONWARD);
    CHECK_INT(decode(json, &f), PARLEY_ERR_NOMEM);
    tl_alloc_fail(&cnt, -1, 0);
    CHECK_INT(cnt.live, 0);

    char *out = NULL;
    size_t len = 0;
    tl_alloc_fail(&cnt, 0, TL_FAIL_ONWARD);
    CHECK_INT(pl_proto_encode_bye(&alloc, &out, &len), PARLEY_ERR_NOMEM);
    tl_alloc_fail(&cnt, -1, 0);
    CHECK_INT(cnt.live, 0);
}

/* ---- hostile input ------------------------------------------------------------------ */

/* Decodes arbitrary bytes: must return OK or PROTOCOL and leave nothing. */
static int feed(const char *buf, size_t len)
{
    pl_frame f;
    char *copy = malloc(len ? len : 1);
    memcpy(copy, buf, len);
    int rc = pl_proto_decode(&alloc, copy, len, &f, errbuf, sizeof errbuf);
    free(copy);
    if (rc == PARLEY_OK)
        pl_proto_frame_clear(&alloc, &f);
    CHECK(rc == PARLEY_OK || rc == PARLEY_ERR_PROTOCOL);
    CHECK_INT(cnt.live, 0);
    return rc;
}

static void test_truncated(void)
{
    static const char *const frames[] = {
        "{'t':'msg','conv':'c-7c1e','id':'m-1002','seq':'5','author':{'kind':'bot','name':"
        "'Helper'},'text':'Sorry! \\u00e9 \\ud83d\\ude00 "
        "\xe2\x82\xac','ts':1763900000000,'x':[true,null,-1.5e3]}",
        "{'t':'welcome','session':'s-81b2','limits':{'max_frame':65536,'max_text':4096}}",
    };
    for (size_t k = 0; k < sizeof frames / sizeof *frames; k++) {
        const char *frame = Q(frames[k]);
        size_t n = strlen(frame);
        pl_frame f;
        CHECK_INT(decode(frame, &f), PARLEY_OK);
        done(&f);
        for (size_t len = 0; len < n; len++) {
            tl_note("frame %zu cut to %zu bytes", k, len);
            CHECK_INT(feed(frame, len), PARLEY_ERR_PROTOCOL);
        }
        tl_note(NULL);
    }
}

static uint32_t lcg(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static void test_random(void)
{
    static const char alphabet[] = "{}[]:,\"\\tfnrue0123456789-+.Eu ";
    static const char base[] =
        "{\"t\":\"msg\",\"conv\":\"c\",\"id\":\"m\",\"seq\":\"12\",\"author\":{\"kind\":\"bot\"},"
        "\"text\":\"hi \\u00e9\",\"ts\":5,\"x\":[1,{\"y\":\"z\"}]}";
    uint32_t seed = 12345;
    char buf[512];
    int ok = 0;
    for (int i = 0; i < 30000; i++) {
        size_t len = lcg(&seed) % sizeof buf;
        int mode = i % 3;
        if (mode == 0) {
            for (size_t j = 0; j < len; j++)
                buf[j] = (char)(lcg(&seed) & 0xff);
        } else if (mode == 1) {
            for (size_t j = 0; j < len; j++)
                buf[j] = alphabet[lcg(&seed) % (sizeof alphabet - 1)];
        } else {
            /* A valid frame with a few bytes mutated. */
            len = sizeof base - 1;
            memcpy(buf, base, len);
            for (int m = (int)(lcg(&seed) % 4); m >= 0; m--)
                buf[lcg(&seed) % len] = (lcg(&seed) & 1)
                                            ? alphabet[lcg(&seed) % (sizeof alphabet - 1)]
                                            : (char)(lcg(&seed) & 0xff);
        }
        ok += feed(buf, len) == PARLEY_OK;
    }
    CHECK(ok > 0); /* some mutations keep the frame valid */
}

/* ---- JSONTestSuite -------------------------------------------------------------------- */

/* Test-side facts about a document, computed independently of the codec:
 * the \u0000 escape (an odd run of backslashes before "u0000") and the
 * nesting depth outside strings. */
static int has_nul_escape(const char *s, size_t n)
{
    for (size_t i = 0; i + 6 <= n; i++) {
        if (memcmp(s + i, "\\u0000", 6) != 0)
            continue;
        size_t run = 0;
        while (run < i && s[i - 1 - run] == '\\')
            run++;
        if (run % 2 == 0)
            return 1;
    }
    return 0;
}

static int max_depth(const char *s, size_t n)
{
    int depth = 0, max = 0, in_str = 0;
    for (size_t i = 0; i < n; i++) {
        if (in_str) {
            if (s[i] == '\\')
                i++;
            else if (s[i] == '"')
                in_str = 0;
        } else if (s[i] == '"')
            in_str = 1;
        else if (s[i] == '[' || s[i] == '{') {
            depth++;
            if (depth > max)
                max = depth;
        } else if (s[i] == ']' || s[i] == '}')
            depth--;
    }
    return max;
}

/* Valid JSON the codec rejects on purpose: duplicate keys (the protocol's
 * rule) and an 82-character number (over the 63-character cap). */
static const char *const y_rejected_by_spec[] = {
    "y_object_duplicated_key.json",
    "y_object_duplicated_key_and_value.json",
    "y_number_double_close_to_zero.json",
};

static int y_expected_bad(const char *name, const char *doc, size_t n)
{
    for (size_t i = 0; i < sizeof y_rejected_by_spec / sizeof *y_rejected_by_spec; i++)
        if (strcmp(name, y_rejected_by_spec[i]) == 0)
            return 1;
    return has_nul_escape(doc, n) || max_depth(doc, n) + 1 > PL_MAX_DEPTH;
}

static void suite_file(const char *dir, const char *name, int counts[3])
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t n;
    char *doc = tl_read_file(path, &n);
    CHECK(doc != NULL);
    if (!doc)
        return;
    int rc = feed(doc, n);
    if (name[0] == 'n' && rc != PARLEY_ERR_PROTOCOL)
        fprintf(stderr, "  %s accepted\n", name);
    if (name[0] == 'n')
        CHECK_INT(rc, PARLEY_ERR_PROTOCOL);

    /* The same document as an ignored member of a valid frame. */
    static const char pre[] = "{\"t\":\"bye\",\"x\":";
    char *wrapped = malloc(sizeof pre + n + 1);
    memcpy(wrapped, pre, sizeof pre - 1);
    memcpy(wrapped + sizeof pre - 1, doc, n);
    wrapped[sizeof pre - 1 + n] = '}';
    size_t wn = sizeof pre + n;
    int wrc = feed(wrapped, wn);
    if (name[0] == 'n' && wrc != PARLEY_ERR_PROTOCOL)
        fprintf(stderr, "  %s accepted when wrapped\n", name);
    if (name[0] == 'n')
        CHECK_INT(wrc, PARLEY_ERR_PROTOCOL);
    if (name[0] == 'y') {
        int want = y_expected_bad(name, doc, n) ? PARLEY_ERR_PROTOCOL : PARLEY_OK;
        if (wrc != want)
            fprintf(stderr, "  %s wrapped: rc %d (%s), expected %d\n", name, wrc, errbuf, want);
        CHECK_INT(wrc, want);
    }
    counts[name[0] == 'y' ? 0 : name[0] == 'n' ? 1 : 2]++;
    free(wrapped);
    free(doc);
}

static void test_json_test_suite(void)
{
    const char *dir = PARLEY_TESTDATA "/JSONTestSuite/test_parsing";
    DIR *d = opendir(dir);
    if (!d) {
        printf("note: %s not found, JSONTestSuite part skipped\n", dir);
        return;
    }
    int counts[3] = {0, 0, 0};
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        const char *name = e->d_name;
        size_t len = strlen(name);
        if (len > 5 && strcmp(name + len - 5, ".json") == 0 && name[1] == '_' &&
            strchr("yni", name[0]))
            suite_file(dir, name, counts);
    }
    closedir(d);
    printf("JSONTestSuite: %d y_, %d n_, %d i_ files\n", counts[0], counts[1], counts[2]);
    CHECK(counts[0] > 0 && counts[1] > 0 && counts[2] > 0);
}

/* ---- encoders ------------------------------------------------------------------------- */

/* Parses an encoder's output, checking length, termination, that it is
 * acceptable to our own strict decoder, and returns the tree. */
static cJSON *parse_out(char *out, size_t len, const char *type)
{
    CHECK(out != NULL);
    if (!out)
        return NULL;
    CHECK_INT(strlen(out), len);
    pl_frame f;
    CHECK_INT(decode_n(out, len, &f), PARLEY_OK);
    CHECK_STR(f.type_name, type);
    pl_proto_frame_clear(&alloc, &f);
    cJSON *j = cJSON_ParseWithLength(out, len);
    CHECK(j != NULL);
    pl_free(&alloc, out);
    CHECK_INT(cnt.live, 0);
    return j;
}

static const char *jstr(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsString(v) ? v->valuestring : NULL;
}

static const cJSON *jobj(const cJSON *o, const char *key)
{
    return cJSON_GetObjectItemCaseSensitive(o, key);
}

static int jcount(const cJSON *o)
{
    return cJSON_GetArraySize(o);
}

static void test_encode_hello(void)
{
    pl_cursor cursors[] = {{"c-1", 3}, {"c-2", PL_SEQ_MAX}};
    pl_hello h = {"my-game", "0.1.0",  "linux-x86_64", "player-42", "jwt.tok",
                  NULL,      "s-81b2", cursors,        2,           NULL};
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_hello(&alloc, &h, &out, &len), PARLEY_OK);
    cJSON *j = parse_out(out, len, "hello");
    CHECK_STR(jstr(j, "t"), "hello");
    CHECK(cJSON_IsNumber(jobj(j, "v")) && jobj(j, "v")->valuedouble == 1);
    CHECK_STR(jstr(j, "app"), "my-game");
    const cJSON *sdk = jobj(j, "sdk");
    CHECK_STR(jstr(sdk, "name"), "parley-c");
    CHECK_STR(jstr(sdk, "version"), "0.1.0");
    CHECK_STR(jstr(sdk, "platform"), "linux-x86_64");
    const cJSON *user = jobj(j, "user");
    CHECK_STR(jstr(user, "id"), "player-42");
    CHECK_STR(jstr(user, "token"), "jwt.tok");
    CHECK(jobj(user, "anon") == NULL);
    const cJSON *resume = jobj(j, "resume");
    CHECK_STR(jstr(resume, "session"), "s-81b2");
    const cJSON *cur = jobj(resume, "cursors");
    CHECK_INT(jcount(cur), 2);
    CHECK_STR(jstr(cur, "c-1"), "3");
    CHECK_STR(jstr(cur, "c-2"), "9007199254740991");
    CHECK_INT(jcount(j), 6);
    cJSON_Delete(j);

    pl_hello anon = {"my-game", "0.1.0", "linux", NULL, NULL,
                     "a-1234",  NULL,    NULL,    0,    "ps-never-sent"};
    CHECK_INT(pl_proto_encode_hello(&alloc, &anon, &out, &len), PARLEY_OK);
    j = parse_out(out, len, "hello");
    CHECK_STR(jstr(jobj(j, "user"), "anon"), "a-1234");
    CHECK_INT(jcount(jobj(j, "user")), 1);
    CHECK(jobj(j, "resume") == NULL);
    CHECK_INT(jcount(j), 5);
    cJSON_Delete(j);

    pl_hello no_token = {"app", "0.1.0", "linux", "u", NULL,
                         NULL,  "s",     NULL,    0,   "ps-no-anon-no-proof"};
    CHECK_INT(pl_proto_encode_hello(&alloc, &no_token, &out, &len), PARLEY_OK);
    j = parse_out(out, len, "hello");
    CHECK_INT(jcount(jobj(j, "user")), 1);
    CHECK_STR(jstr(jobj(j, "resume"), "session"), "s");
    CHECK(jobj(jobj(j, "resume"), "cursors") == NULL);
    cJSON_Delete(j);

    /* An identified user proves the anonymous id it names with the secret
     * the server issued to it. */
    pl_hello merge = {"app", "0.1.0", "linux", "u", "jwt", "a-1234", NULL, NULL, 0, "ps-5ec"};
    CHECK_INT(pl_proto_encode_hello(&alloc, &merge, &out, &len), PARLEY_OK);
    j = parse_out(out, len, "hello");
    CHECK_STR(jstr(jobj(j, "user"), "anon"), "a-1234");
    CHECK_STR(jstr(jobj(j, "user"), "proof"), "ps-5ec");
    CHECK_INT(jcount(jobj(j, "user")), 4);
    cJSON_Delete(j);

    pl_hello broken = {NULL, "0.1.0", "linux", "u", NULL, NULL, NULL, NULL, 0, NULL};
    CHECK_INT(pl_proto_encode_hello(&alloc, &broken, &out, &len), PARLEY_ERR_INVALID_ARG);
}

static void test_encode_context(void)
{
    pl_attr attrs[] = {{"plan", PL_ATTR_STR, "vip", 0, 0},
                       {"level", PL_ATTR_NUM, NULL, 7, 0},
                       {"ratio", PL_ATTR_NUM, NULL, 0.25, 0},
                       {"beta", PL_ATTR_BOOL, NULL, 0, 1},
                       {"gone", PL_ATTR_BOOL, NULL, 0, 0},
                       {"ref", PL_ATTR_NULL, NULL, 0, 0},
                       {"inv", PL_ATTR_JSON, Q("{'gems':120}"), 0, 0},
                       {"plan", PL_ATTR_STR, Q("gold 'x'\n\xc3\xa9"), 0, 0}};
    pl_crumb crumbs[] = {{"opened shop", 1763900000000}, {"tapped buy", 1763900001500}};
    pl_attr device[] = {{"os", PL_ATTR_STR, "Linux 6.1", 0, 0}};
    pl_context c = {attrs, 8, "shop", crumbs, 2, device, 1, 0};
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_context(&alloc, 1, &c, &out, &len), PARLEY_OK);
    cJSON *j = parse_out(out, len, "context");
    CHECK_INT(jcount(j), 6);
    CHECK(cJSON_IsTrue(jobj(j, "full")));
    const cJSON *a = jobj(j, "attributes");
    CHECK_INT(jcount(a), 7); /* the repeated key once, last value */
    CHECK_STR(jstr(a, "plan"), Q("gold 'x'\n\xc3\xa9"));
    CHECK(cJSON_IsNumber(jobj(a, "level")) && jobj(a, "level")->valuedouble == 7);
    CHECK(cJSON_IsNumber(jobj(a, "ratio")) && jobj(a, "ratio")->valuedouble == 0.25);
    CHECK(cJSON_IsTrue(jobj(a, "beta")));
    CHECK(cJSON_IsFalse(jobj(a, "gone")));
    CHECK(cJSON_IsNull(jobj(a, "ref")));
    CHECK(jobj(jobj(a, "inv"), "gems")->valuedouble == 120);
    CHECK_STR(jstr(j, "screen"), "shop");
    CHECK_INT(cJSON_GetArraySize(jobj(j, "breadcrumbs")), 2);
    CHECK_STR(jstr(cJSON_GetArrayItem(jobj(j, "breadcrumbs"), 1), "text"), "tapped buy");
    CHECK_STR(jstr(jobj(j, "device"), "os"), "Linux 6.1");
    cJSON_Delete(j);

    pl_context empty = {0};
    CHECK_INT(pl_proto_encode_context(&alloc, 0, &empty, &out, &len), PARLEY_OK);
    j = parse_out(out, len, "context");
    CHECK(cJSON_IsFalse(jobj(j, "full")));
    CHECK_INT(jcount(j), 2);
    cJSON_Delete(j);
    CHECK_INT(pl_proto_encode_snapshot(&alloc, &c, &out, &len), PARLEY_OK);
    j = cJSON_ParseWithLength(out, len);
    pl_free(&alloc, out);
    CHECK(j && jobj(j, "t") == NULL && jobj(j, "full") == NULL);
    CHECK_STR(jstr(j, "screen"), "shop");
    cJSON_Delete(j);
}

static void test_encode_event(void)
{
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_event(&alloc, "9a0c", "purchase_failed", Q("{'sku':'gems'}"),
                                    1763900002000, &out, &len),
              PARLEY_OK);
    cJSON *j = parse_out(out, len, "event");
    CHECK_STR(jstr(j, "cid"), "9a0c");
    CHECK_STR(jstr(j, "name"), "purchase_failed");
    CHECK_STR(jstr(jobj(j, "meta"), "sku"), "gems");
    CHECK(jobj(j, "ts")->valuedouble == 1763900002000.0);
    cJSON_Delete(j);
    CHECK_INT(pl_proto_encode_event(&alloc, "9a0c", "level_up", NULL, 1, &out, &len), PARLEY_OK);
    j = parse_out(out, len, "event");
    CHECK(jobj(j, "meta") == NULL);
    cJSON_Delete(j);
}

/* Host JSON: one object under the wire rules, compacted. */
static void test_json_object(void)
{
    char *out = NULL;
    CHECK_INT(pl_proto_json_object(&alloc, Q(" {'a' : [1, {'b': null}]} "), 100, 8, &out),
              PARLEY_OK);
    CHECK_STR(out, Q("{'a':[1,{'b':null}]}"));
    pl_free(&alloc, out);
    static const char *const bad[] = {"[]",
                                      "1",
                                      "{'a':1,'a':2}",
                                      "{'a':01}",
                                      "{'a':'\\u0000'}",
                                      "{",
                                      "{} {}",
                                      "{'a':'\xff'}",
                                      "{'a':[[[[[[[[1]]]]]]]]}"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK_INT(pl_proto_json_object(&alloc, Q(bad[i]), 100, 8, &out), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_proto_json_object(&alloc, Q("{'a':'0123456789'}"), 10, 8, &out),
              PARLEY_ERR_TOO_LONG);
    CHECK_INT(cnt.live, 0);
}

static void test_encode_conv_start(void)
{
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_conv_start(&alloc, "0b7e", "c-7c1e", "Payment problem", NULL,
                                         Q("{'attributes':{'plan':'vip'}}"), &out, &len),
              PARLEY_OK);
    cJSON *j = parse_out(out, len, "conv.start");
    CHECK_STR(jstr(j, "cid"), "0b7e");
    CHECK_STR(jstr(j, "conv"), "c-7c1e");
    CHECK_STR(jstr(j, "subject"), "Payment problem");
    CHECK_STR(jstr(jobj(jobj(j, "context"), "attributes"), "plan"), "vip");
    CHECK_INT(jcount(j), 5);
    cJSON_Delete(j);

    CHECK_INT(pl_proto_encode_conv_start(&alloc, "0b7e", "c-7c1e", NULL, NULL, NULL, &out, &len),
              PARLEY_OK);
    j = parse_out(out, len, "conv.start");
    CHECK(jobj(j, "subject") == NULL && jobj(j, "context") == NULL && jobj(j, "about") == NULL);
    CHECK_INT(jcount(j), 3);
    cJSON_Delete(j);

    /* What the host said about the request: only the members it gave. */
    pl_conv_about about = {"payments", NULL, "high"}, none = {NULL, NULL, NULL};
    CHECK_INT(pl_proto_encode_conv_start(&alloc, "0b7e", "c-7c1e", NULL, &about, NULL, &out, &len),
              PARLEY_OK);
    j = parse_out(out, len, "conv.start");
    CHECK_STR(jstr(jobj(j, "about"), "category"), "payments");
    CHECK_STR(jstr(jobj(j, "about"), "severity"), "high");
    CHECK(jobj(jobj(j, "about"), "area") == NULL);
    CHECK_INT(jcount(jobj(j, "about")), 2);
    cJSON_Delete(j);
    CHECK_INT(pl_proto_encode_conv_start(&alloc, "0b7e", "c-7c1e", NULL, &none, NULL, &out, &len),
              PARLEY_OK);
    j = parse_out(out, len, "conv.start");
    CHECK(jobj(j, "about") == NULL);
    cJSON_Delete(j);
}

static void test_encode_msg_send(void)
{
    /* Quotes, backslashes and control characters must come out escaped. */
    const char *text = Q("My 'gems' \\ never\tarrived\x01 \xe2\x82\xac");
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_msg_send(&alloc, "5d1f", "c-7c1e", text,
                                       Q("{'attributes':{'level':12}}"), NULL, &out, &len),
              PARLEY_OK);
    CHECK(out && !memchr(out, '\t', len) && !memchr(out, '\x01', len));
    cJSON *j = parse_out(out, len, "msg.send");
    CHECK_STR(jstr(j, "cid"), "5d1f");
    CHECK_STR(jstr(j, "conv"), "c-7c1e");
    CHECK_STR(jstr(j, "text"), text);
    CHECK(jobj(jobj(jobj(j, "context"), "attributes"), "level")->valuedouble == 12);
    cJSON_Delete(j);

    pl_postback pb = {"m-1002", "o1", "billing"};
    CHECK_INT(pl_proto_encode_msg_send(&alloc, "5d1f", "c-7c1e", "Billing", NULL, &pb, &out, &len),
              PARLEY_OK);
    j = parse_out(out, len, "msg.send");
    CHECK(jobj(j, "context") == NULL);
    CHECK_STR(jstr(jobj(j, "postback"), "msg"), "m-1002");
    CHECK_STR(jstr(jobj(j, "postback"), "option"), "o1");
    CHECK_STR(jstr(jobj(j, "postback"), "payload"), "billing");
    CHECK_INT(jcount(j), 5);
    cJSON_Delete(j);

    /* Written without a tree, the frame is byte for byte what cJSON prints. */
    static const char *const texts[] = {"plain", "\"q\" \\ / \b\f\n\r\t", "\x01\x1f\x7f",
                                        "\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80", "</script>"};
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++) {
        for (int ctx = 0; ctx < 2; ctx++) {
            const char *context = ctx ? Q("{'a':[1,'x']}") : NULL;
            cJSON *want = cJSON_CreateObject();
            cJSON_AddStringToObject(want, "t", "msg.send");
            cJSON_AddStringToObject(want, "cid", "k-1");
            cJSON_AddStringToObject(want, "conv", "c\"1");
            cJSON_AddStringToObject(want, "text", texts[i]);
            if (context)
                cJSON_AddRawToObject(want, "context", context);
            char *printed = cJSON_PrintUnformatted(want);
            CHECK_INT(pl_proto_encode_msg_send(&alloc, "k-1", "c\"1", texts[i], context, NULL, &out,
                                               &len),
                      PARLEY_OK);
            CHECK_STR(out, printed);
            CHECK_INT(len, strlen(printed));
            pl_free(&alloc, out);
            cJSON_free(printed);
            cJSON_Delete(want);
        }
    }

    CHECK_INT(pl_proto_encode_msg_send(&alloc, "5d1f", "c", NULL, NULL, NULL, &out, &len),
              PARLEY_ERR_INVALID_ARG);
    pl_postback half = {"m-1", NULL, NULL};
    CHECK_INT(pl_proto_encode_msg_send(&alloc, "5d1f", "c", "x", NULL, &half, &out, &len),
              PARLEY_ERR_INVALID_ARG);
    /* Broken promises from the caller never reach the wire. */
    CHECK_INT(pl_proto_encode_msg_send(&alloc, "5d1f", "c", "bad \xff", NULL, NULL, &out, &len),
              PARLEY_ERR_INVALID_ARG);
    double zero = 0.0;
    pl_attr inf_attr[] = {{"x", PL_ATTR_NUM, NULL, 1.0 / zero, 0}};
    pl_context bad = {inf_attr, 1, NULL, NULL, 0, NULL, 0, 0};
    CHECK_INT(pl_proto_encode_context(&alloc, 0, &bad, &out, &len), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(cnt.live, 0);
}

static void test_encode_bye(void)
{
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_bye(&alloc, &out, &len), PARLEY_OK);
    CHECK_STR(out, Q("{'t':'bye'}"));
    CHECK_INT(len, 11);
    pl_free(&alloc, out);
    CHECK_INT(cnt.live, 0);
}

static void test_history_end(void)
{
    pl_frame f;
    expect_ok(Q("{'t':'history.end','conv':'c-1','last':'9','more':true}"), &f,
              PL_FRAME_HISTORY_END);
    CHECK_STR(f.conv, "c-1");
    CHECK_INT(f.seq, 9);
    CHECK_INT(f.more, 1);
    done(&f);
    expect_ok(Q("{'t':'history.end','conv':'c-1','last':'0','more':false}"), &f,
              PL_FRAME_HISTORY_END);
    CHECK_INT(f.seq, 0);
    CHECK_INT(f.more, 0);
    done(&f);
    expect_ok(Q("{'t':'history.end','conv':'c-1','last':'3'}"), &f, PL_FRAME_HISTORY_END);
    CHECK_INT(f.more, 0);
    done(&f);
    bad_str(Q("{'t':'history.end','last':'3'}"), "'conv'");
    bad_str(Q("{'t':'history.end','conv':'c-1'}"), "'last'");
    bad_str(Q("{'t':'history.end','conv':'c-1','last':3}"), "'last'");
    bad_str(Q("{'t':'history.end','conv':'c-1','last':'03'}"), "'last'");
    bad_str(Q("{'t':'history.end','conv':'c-1','last':'-1'}"), "'last'");
    bad_str(Q("{'t':'history.end','conv':'c-1','last':'9007199254740992'}"), "'last'");
    bad_str(Q("{'t':'history.end','conv':'c-1','last':'3','more':1}"), "'more'");
}

static void test_encode_history_get(void)
{
    char *out = NULL;
    size_t len = 0;
    CHECK_INT(pl_proto_encode_history_get(&alloc, "c-1", 5, 0, &out, &len), PARLEY_OK);
    CHECK_STR(out, Q("{'t':'history.get','conv':'c-1','after':'5'}"));
    CHECK_INT(len, strlen(out));
    pl_free(&alloc, out);
    CHECK_INT(pl_proto_encode_history_get(&alloc, "c-1", 0, 500, &out, &len), PARLEY_OK);
    CHECK_STR(out, Q("{'t':'history.get','conv':'c-1','after':'0','limit':500}"));
    pl_free(&alloc, out);
    CHECK_INT(pl_proto_encode_history_get(&alloc, "c-1", 0, 501, &out, &len),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_proto_encode_history_get(&alloc, NULL, 0, 0, &out, &len), PARLEY_ERR_INVALID_ARG);
    CHECK_INT(pl_proto_encode_history_get(&alloc, "c-1", PL_SEQ_MAX + 1, 0, &out, &len),
              PARLEY_ERR_INVALID_ARG);
    CHECK_INT(cnt.live, 0);
}

int main(void)
{
    RUN(test_welcome);
    RUN(test_conv_ack);
    RUN(test_msg_ack);
    RUN(test_msg);
    RUN(test_conv_update);
    RUN(test_error);
    RUN(test_goaway);
    RUN(test_unknown_type);
    RUN(test_malformed);
    RUN(test_error_buffer);
    RUN(test_seq);
    RUN(test_seq_str);
    RUN(test_nul_escape);
    RUN(test_utf8);
    RUN(test_not_terminated);
    RUN(test_depth);
    RUN(test_frame_size);
    RUN(test_string_size);
    RUN(test_numbers);
    RUN(test_duplicate_keys_large);
    RUN(test_in_place);
    RUN(test_nomem);
    RUN(test_truncated);
    RUN(test_random);
    RUN(test_json_test_suite);
    RUN(test_encode_hello);
    RUN(test_encode_context);
    RUN(test_encode_event);
    RUN(test_json_object);
    RUN(test_encode_conv_start);
    RUN(test_encode_msg_send);
    RUN(test_encode_bye);
    RUN(test_history_end);
    RUN(test_encode_history_get);
    return tl_finish();
}
