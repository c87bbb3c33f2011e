/* Utilities: strict UTF-8, id validation, UUIDv4, allocator helpers. */
#include <string.h>

#include "testlib.h"
#include "util/alloc.h"
#include "util/crc32.h"
#include "util/rand.h"
#include "util/utf8.h"
#include "platform/entropy.h"

static void test_utf8_accepts_valid(void)
{
    const char *ok[] = {"",
                        "plain ascii",
                        "caf\xc3\xa9",
                        "\xe2\x82\xac",
                        "\xf0\x9f\x98\x80",
                        "\xed\x9f\xbf",
                        "\xf4\x8f\xbf\xbf"};
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++)
        CHECK(pl_utf8_valid(ok[i], strlen(ok[i])));
}

static void test_utf8_rejects_invalid(void)
{
    const char *bad[] = {
        "\x80",             /* lone continuation */
        "\xc3",             /* truncated */
        "\xc0\xaf",         /* overlong '/' */
        "\xe0\x80\xaf",     /* overlong */
        "\xed\xa0\x80",     /* surrogate U+D800 */
        "\xf4\x90\x80\x80", /* above U+10FFFF */
        "\xf5\x80\x80\x80", /* invalid lead */
        "\xe2\x82",         /* truncated 3-byte */
        "ok\xffok",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        CHECK(!pl_utf8_valid(bad[i], strlen(bad[i])));
}

/* ASCII is checked eight bytes at a time: every sequence, good or bad, at
 * every offset around and across those words, and cut short at every
 * length. */
static void test_utf8_at_every_offset(void)
{
    static const struct {
        const char *seq;
        int ok;
    } seqs[] = {{"\xc3\xa9", 1}, {"\xe2\x82\xac", 1}, {"\xf0\x9f\x98\x80", 1}, {"\x80", 0},
                {"\xc0\xaf", 0}, {"\xed\xa0\x80", 0}, {"\xf4\x90\x80\x80", 0}, {"\xff", 0}};
    char buf[64];
    for (size_t k = 0; k < sizeof seqs / sizeof *seqs; k++) {
        size_t n = strlen(seqs[k].seq);
        for (size_t at = 0; at + n <= 40; at++) {
            memset(buf, 'a', sizeof buf);
            memcpy(buf + at, seqs[k].seq, n);
            CHECK_INT(pl_utf8_valid(buf, 40), seqs[k].ok);
            /* Cut inside the sequence: never valid. */
            for (size_t cut = 1; cut < n; cut++)
                CHECK_INT(pl_utf8_valid(buf, at + cut), 0);
        }
    }
}

static void test_id_validation(void)
{
    CHECK(pl_id_valid("player-42", 128));
    CHECK(!pl_id_valid("", 128));
    CHECK(!pl_id_valid(NULL, 128));
    CHECK(!pl_id_valid("has space", 128));
    CHECK(!pl_id_valid("tab\there", 128));
    CHECK(!pl_id_valid("caf\xc3\xa9", 128));
    CHECK(pl_id_valid("abcd", 4));
    CHECK(!pl_id_valid("abcde", 4));
}

static void test_uuid4_format_and_uniqueness(void)
{
    pl_alloc a;
    pl_alloc_default(&a);
    pl_rand *r = pl_rand_new(&a, pl_entropy, NULL);
    CHECK(r != NULL);
    char u1[PL_UUID_STR_LEN + 1], u2[PL_UUID_STR_LEN + 1];
    CHECK_INT(pl_rand_uuid4(r, u1), PARLEY_OK);
    CHECK_INT(pl_rand_uuid4(r, u2), PARLEY_OK);
    CHECK_INT(strlen(u1), 36);
    CHECK(u1[8] == '-' && u1[13] == '-' && u1[18] == '-' && u1[23] == '-');
    CHECK(u1[14] == '4');
    CHECK(strchr("89ab", u1[19]) != NULL);
    CHECK(strcmp(u1, u2) != 0);
    pl_rand_free(r);
}

static void test_uniform_stays_in_bounds(void)
{
    pl_alloc a;
    pl_alloc_default(&a);
    pl_rand *r = pl_rand_new(&a, pl_entropy, NULL);
    uint32_t max_seen = 0, min_seen = UINT32_MAX;
    for (int i = 0; i < 2000; i++) {
        uint32_t v = pl_rand_uniform(r, 100);
        max_seen = v > max_seen ? v : max_seen;
        min_seen = v < min_seen ? v : min_seen;
    }
    CHECK(max_seen <= 100);
    CHECK(max_seen > 90);
    CHECK(min_seen < 10);
    CHECK_INT(pl_rand_uniform(r, 0), 0);
    pl_rand_free(r);
}

static void test_calloc_overflow(void)
{
    pl_alloc a;
    pl_alloc_default(&a);
    CHECK(pl_calloc(&a, SIZE_MAX / 2, 4) == NULL);
    char *s = pl_strndup(&a, "abcdef", 3);
    CHECK_STR(s, "abc");
    pl_free(&a, s);
    CHECK(pl_strdup(&a, NULL) == NULL);
}

/* Bit by bit, the definition the journal's frames were written with. */
static uint32_t crc32_bitwise(const unsigned char *p, size_t n)
{
    uint32_t c = 0xffffffffu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xedb88320u & (0u - (c & 1u)));
    }
    return c ^ 0xffffffffu;
}

/* Known values, then every length and alignment around the eight-byte
 * steps against the bitwise definition. */
static void test_crc32(void)
{
    CHECK_INT(pl_crc32("", 0), 0);
    CHECK_INT(pl_crc32("a", 1), 0xe8b7be43LL);
    CHECK_INT(pl_crc32("123456789", 9), 0xcbf43926LL);
    unsigned char buf[96];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245u + 12345u;
        buf[i] = (unsigned char)(x >> 16);
    }
    for (size_t off = 0; off < 8; off++)
        for (size_t n = 0; off + n <= sizeof buf; n++)
            if (pl_crc32(buf + off, n) != crc32_bitwise(buf + off, n)) {
                CHECK_INT(pl_crc32(buf + off, n), crc32_bitwise(buf + off, n));
                return;
            }
}

int main(void)
{
    RUN(test_crc32);
    RUN(test_utf8_accepts_valid);
    RUN(test_utf8_rejects_invalid);
    RUN(test_utf8_at_every_offset);
    RUN(test_id_validation);
    RUN(test_uuid4_format_and_uniqueness);
    RUN(test_uniform_stays_in_bounds);
    RUN(test_calloc_overflow);
    return tl_finish();
}
