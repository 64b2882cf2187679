/* Case folding for instrument search: ASCII and Cyrillic, lengths kept, other text untouched. */
#include <string.h>

#include "check.h"
#include "util/text.h"

int main(void) {
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
