/* UTF-8 validation of client strings (RFC 3629's table, byte by byte at every edge), and case
 * folding for instrument search: ASCII and Cyrillic, lengths kept, other text untouched. */
#include <string.h>

#include "check.h"
#include "util/text.h"

/* Whether the bytes of a string literal (without its terminating NUL) are valid UTF-8. */
#define UTF8_OK(literal) text_utf8_valid((literal), sizeof(literal) - 1)

static void test_utf8_validation(void) {
    CHECK(UTF8_OK(""));
    CHECK(UTF8_OK("plain ASCII 0123"));
    CHECK(UTF8_OK("Песочница"));
    CHECK(UTF8_OK("€ 中文 \xF0\x9F\x98\x80")); /* 3- and 4-byte forms */
    /* U+0000 is valid UTF-8; whether a NUL may appear is the caller's rule. */
    CHECK(UTF8_OK("a\0b"));
    /* The edges of every range: U+007F, U+0080, U+07FF, U+0800, U+D7FF, U+E000, U+FFFF,
     * U+10000, U+10FFFF. */
    CHECK(UTF8_OK("\x7F"));
    CHECK(UTF8_OK("\xC2\x80"));
    CHECK(UTF8_OK("\xDF\xBF"));
    CHECK(UTF8_OK("\xE0\xA0\x80"));
    CHECK(UTF8_OK("\xED\x9F\xBF"));
    CHECK(UTF8_OK("\xEE\x80\x80"));
    CHECK(UTF8_OK("\xEF\xBF\xBF"));
    CHECK(UTF8_OK("\xF0\x90\x80\x80"));
    CHECK(UTF8_OK("\xF4\x8F\xBF\xBF"));

    /* Overlong forms: "/" in two, three and four bytes, and C0/C1 leads. */
    CHECK(!UTF8_OK("\xC0\xAF"));
    CHECK(!UTF8_OK("\xC1\xBF"));
    CHECK(!UTF8_OK("\xE0\x80\xAF"));
    CHECK(!UTF8_OK("\xE0\x9F\xBF"));
    CHECK(!UTF8_OK("\xF0\x80\x80\xAF"));
    CHECK(!UTF8_OK("\xF0\x8F\xBF\xBF"));
    /* Surrogates U+D800 and U+DFFF, alone and as a CESU-8 pair. */
    CHECK(!UTF8_OK("\xED\xA0\x80"));
    CHECK(!UTF8_OK("\xED\xBF\xBF"));
    CHECK(!UTF8_OK("\xED\xA0\xBD\xED\xB8\x80"));
    /* Past U+10FFFF: U+110000, and leads F5..FF. */
    CHECK(!UTF8_OK("\xF4\x90\x80\x80"));
    CHECK(!UTF8_OK("\xF5\x80\x80\x80"));
    CHECK(!UTF8_OK("\xF8\x88\x80\x80\x80"));
    CHECK(!UTF8_OK("\xFF"));
    /* Stray continuation bytes, sequences cut short (also at the very end), and a lead
     * followed by a non-continuation byte in the middle of its sequence. */
    CHECK(!UTF8_OK("\x80"));
    CHECK(!UTF8_OK("a\xBF"
                   "b"));
    CHECK(!UTF8_OK("\xC3"));
    CHECK(!UTF8_OK("abc\xE2\x82"));
    CHECK(!UTF8_OK("\xF0\x9F\x98"));
    CHECK(!UTF8_OK("\xC3("));
    CHECK(!UTF8_OK("\xE2\x28\xA1"));
    CHECK(!UTF8_OK("\xE2\x82\x28"));
    CHECK(!UTF8_OK("\xF0\x9F\x28\x80"));
    /* Latin-1 text sent as is, the usual way invalid UTF-8 arrives. */
    CHECK(!UTF8_OK("caf\xE9"));
    /* Only `len` bytes are read: a valid prefix of an invalid buffer is valid. */
    CHECK(text_utf8_valid("ok\xFF", 2));
}

int main(void) {
    test_utf8_validation();
    char latin[] = "SBER MOEX Tqbr";
    text_fold_case(latin);
    CHECK(strcmp(latin, "sber moex tqbr") == 0);
    char cyrillic[] = "СБЕРБАНК Ёлка ПАО ЯЗЬ";
    size_t before = strlen(cyrillic);
    text_fold_case(cyrillic);
    CHECK(strcmp(cyrillic, "сбербанк ёлка пао язь") == 0);
    CHECK(strlen(cyrillic) == before);
    char mixed[] = "Газпром 2-Й вып. €5";
    text_fold_case(mixed);
    CHECK(strcmp(mixed, "газпром 2-й вып. €5") == 0);

    CHECK(text_contains_folded("Сбер Банк", "сбер"));
    CHECK(text_contains_folded("Сбер Банк", "БАНК"));
    CHECK(text_contains_folded("TRUR", "tru"));
    CHECK(!text_contains_folded("Сбер Банк", "газ"));
    CHECK(text_contains_folded("anything", ""));
    return check_finish("util text");
}
