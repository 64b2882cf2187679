#include "util/money.h"

#include <assert.h>
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

int money_convert(int64_t value_nano, int64_t rate_nano, int64_t *out_nano) {
    assert(rate_nano > 0);
    /* |value| * 10^9 < 2^93 fits in 128 bits, and so does the quotient. */
    __int128 scaled = (__int128)value_nano * NANO_PER_UNIT;
    __int128 q = scaled / rate_nano, r = scaled % rate_nano;
    if (2 * (r < 0 ? -r : r) >= rate_nano)
        q += scaled < 0 ? -1 : 1;
    if (q > INT64_MAX || q < INT64_MIN)
        return -ERANGE;
    *out_nano = (int64_t)q;
    return 0;
}
