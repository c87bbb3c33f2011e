/* The built-in redactor: what it scrubs and, as much, what it leaves. */
#include <string.h>

#include "feature/redact.h"
#include "testlib.h"

static void check_case(const char *in, const char *want, int line)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", in);
    size_t n = pl_redact_builtin(buf);
    tl_check_str(buf, want, in, __FILE__, line);
    tl_check_int((long)n, (long)strlen(want), "returned length", __FILE__, line);
}
#define CASE(in, want) check_case((in), (want), __LINE__)

static void test_cards(void)
{
    CASE("4111111111111111", "[card]");
    CASE("pay 4111 1111 1111 1111 now", "pay [card] now");
    CASE("4111-1111-1111-1111", "[card]");
    CASE("amex 378282246310005.", "amex [card].");
    CASE("card 4111 1111 1111 1111 2 times", "card [card] 2 times");
    CASE("two 4111111111111111 and 5555555555554444", "two [card] and [card]");
    /* Not cards: Luhn fails, too short, too long, glued to letters. */
    CASE("4111111111111112", "4111111111111112");
    CASE("call 555 1234 today", "call 555 1234 today");
    CASE("order 123456789012", "order 123456789012");
    CASE("12345678901234567890123", "12345678901234567890123");
    CASE("id4111111111111111", "id4111111111111111");
    CASE("4111  1111 1111 1111", "4111  1111 1111 1111");
}

static void test_emails(void)
{
    CASE("mail jane.doe@example.com please", "mail [email] please");
    CASE("<a+b@mail.example.org>", "<[email]>");
    CASE("end with dot x@example.com.", "end with dot [email].");
    CASE("a@b.co", "******");
    /* Not addresses. */
    CASE("@handle and me@localhost", "@handle and me@localhost");
    CASE("x@y.z", "x@y.z");
    CASE("user@", "user@");
}

static void test_mixed_and_empty(void)
{
    CASE("", "");
    CASE("4111111111111111 jane@example.com", "[card] [email]");
    CASE("\xc3\xa9 4111111111111111 \xc3\xa9", "\xc3\xa9 [card] \xc3\xa9");
}

int main(void)
{
    RUN(test_cards);
    RUN(test_emails);
    RUN(test_mixed_and_empty);
    return tl_finish();
}
