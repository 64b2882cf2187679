#include "util/money.h"

#include <errno.h>

#define NANO_PER_UNIT INT64_C(1000000000)

int money_parse_decimal(const char *text, int64_t *out_nano) {
    const char *p = text;
    int sign = 1;
    if (*p == '-') {
        sign = -1;
        p++;
    }
    if (*p < '0' || *p > '9')
        return -EINVAL;
    int64_t units = 0;
    while (*p >= '0' && *p <= '9') {
        if (__builtin_mul_overflow(units, 10, &units) ||
            __builtin_add_overflow(units, *p - '0', &units))
            return -ERANGE;
        p++;
    }
    int64_t frac = 0, scale = NANO_PER_UNIT;
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -EINVAL;
        while (*p >= '0' && *p <= '9') {
            if (scale == 1)
                return -EINVAL;
            scale /= 10;
            frac += (*p - '0') * scale;
            p++;
        }
    }
    if (*p != '\0')
        return -EINVAL;
    int64_t value;
    if (__builtin_mul_overflow(units, NANO_PER_UNIT, &value) ||
        __builtin_add_overflow(value, frac, &value))
        return -ERANGE;
    *out_nano = sign * value;
    return 0;
}

int money_from_units_nano(int64_t units, int32_t nano, int64_t *out_nano) {
    if (nano <= -NANO_PER_UNIT || nano >= NANO_PER_UNIT || (units > 0 && nano < 0) ||
        (units < 0 && nano > 0))
        return -EINVAL;
    int64_t value;
    if (__builtin_mul_overflow(units, NANO_PER_UNIT, &value) ||
        __builtin_add_overflow(value, nano, &value))
        return -ERANGE;
    *out_nano = value;
    return 0;
}

void money_to_units_nano(int64_t value_nano, int64_t *units, int32_t *nano) {
    *units = value_nano / NANO_PER_UNIT;
    *nano = (int32_t)(value_nano % NANO_PER_UNIT);
}
