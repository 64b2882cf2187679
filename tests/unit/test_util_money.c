#include <errno.h>
#include <string.h>

#include "check.h"
#include "util/money.h"

#define NANO 1000000000LL

int main(void) {
    int64_t v = 0;
    CHECK_EQ_INT(money_parse_decimal("250.35", &v), 0);
    CHECK_EQ_INT(v, 250 * NANO + 350000000);
    CHECK_EQ_INT(money_parse_decimal("0.000000001", &v), 0);
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(money_parse_decimal("-12.5", &v), 0);
    CHECK_EQ_INT(v, -12 * NANO - 500000000);
    CHECK_EQ_INT(money_parse_decimal("100", &v), 0);
    CHECK_EQ_INT(v, 100 * NANO);
    CHECK_EQ_INT(money_parse_decimal("9223372036", &v), 0);
    CHECK_EQ_INT(money_parse_decimal("9223372037", &v), -ERANGE);
    CHECK_EQ_INT(money_parse_decimal("1.0000000001", &v), -EINVAL);
    CHECK_EQ_INT(money_parse_decimal("1e3", &v), -EINVAL);
    CHECK_EQ_INT(money_parse_decimal("", &v), -EINVAL);
    CHECK_EQ_INT(money_parse_decimal(".5", &v), -EINVAL);
    CHECK_EQ_INT(money_parse_decimal("5.", &v), -EINVAL);
    CHECK_EQ_INT(money_parse_decimal("1,5", &v), -EINVAL);

    CHECK_EQ_INT(money_from_units_nano(114, 250000000, &v), 0);
    CHECK_EQ_INT(v, 114 * NANO + 250000000);
    CHECK_EQ_INT(money_from_units_nano(-1, -500000000, &v), 0);
    CHECK_EQ_INT(v, -NANO - 500000000);
    CHECK_EQ_INT(money_from_units_nano(0, -5, &v), 0);
    CHECK_EQ_INT(v, -5);
    CHECK_EQ_INT(money_from_units_nano(1, -5, &v), -EINVAL);
    CHECK_EQ_INT(money_from_units_nano(1, 1000000000, &v), -EINVAL);
    CHECK_EQ_INT(money_from_units_nano(INT64_MAX / 2, 0, &v), -ERANGE);

    int64_t units;
    int32_t nano;
    money_to_units_nano(-NANO - 500000000, &units, &nano);
    CHECK_EQ_INT(units, -1);
    CHECK_EQ_INT(nano, -500000000);
    money_to_units_nano(250 * NANO + 10000000, &units, &nano);
    CHECK_EQ_INT(units, 250);
    CHECK_EQ_INT(nano, 10000000);
    /* Conversion at a rate: to the nearest nano, halves away from zero; too large is -ERANGE. */
    CHECK_EQ_INT(money_convert(900 * NANO, 90 * NANO, &v), 0);
    CHECK_EQ_INT(v, 10 * NANO);
    CHECK_EQ_INT(money_convert(1, 2 * NANO, &v), 0); /* 0.5 nano */
    CHECK_EQ_INT(v, 1);
    CHECK_EQ_INT(money_convert(-1, 2 * NANO, &v), 0);
    CHECK_EQ_INT(v, -1);
    CHECK_EQ_INT(money_convert(1, 3 * NANO, &v), 0); /* a third of a nano */
    CHECK_EQ_INT(v, 0);
    CHECK_EQ_INT(money_convert(100 * NANO, 3 * NANO, &v), 0);
    CHECK_EQ_INT(v, 33333333333);
    CHECK_EQ_INT(money_convert(INT64_MAX, NANO, &v), 0);
    CHECK_EQ_INT(v, INT64_MAX);
    CHECK_EQ_INT(money_convert(INT64_MAX, NANO - 1, &v), -ERANGE);
    CHECK_EQ_INT(money_convert(INT64_MIN, 1, &v), -ERANGE);

    /* Exact decimals: trailing zeros trimmed, no point for whole values, the int64 edges, and
     * each one reads back to the same value. */
    static const struct {
        int64_t nano;
        const char *text;
    } formats[] = {
        {0, "0"},
        {1, "0.000000001"},
        {-1, "-0.000000001"},
        {1234 * NANO + 560000000, "1234.56"},
        {-12 * NANO - 500000000, "-12.5"},
        {100 * NANO, "100"},
        {10 * NANO + 10, "10.00000001"},
        {INT64_MAX, "9223372036.854775807"},
        {INT64_MIN, "-9223372036.854775808"},
    };
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        char text[MONEY_DECIMAL_MAX];
        size_t len = money_format_decimal(formats[i].nano, text, sizeof text);
        CHECK(strcmp(text, formats[i].text) == 0);
        CHECK_EQ_INT(len, strlen(formats[i].text));
        if (formats[i].nano != INT64_MIN) { /* its magnitude is past the parser's range */
            CHECK_EQ_INT(money_parse_decimal(text, &v), 0);
            CHECK_EQ_INT(v, formats[i].nano);
        }
    }
    return check_finish("money");
}
