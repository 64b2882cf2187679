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

size_t money_format_decimal(int64_t value_nano, char *out, size_t size) {
    assert(size >= MONEY_DECIMAL_MAX);
    /* The magnitude as unsigned, so INT64_MIN has one too. */
    uint64_t magnitude = value_nano < 0 ? 0 - (uint64_t)value_nano : (uint64_t)value_nano;
    uint64_t units = magnitude / (uint64_t)NANO_PER_UNIT;
    uint64_t frac = magnitude % (uint64_t)NANO_PER_UNIT;
    char digits[MONEY_DECIMAL_MAX];
    size_t n = 0;
    do {
        digits[n++] = (char)('0' + units % 10);
        units /= 10;
    } while (units > 0);
    size_t len = 0;
    if (value_nano < 0)
        out[len++] = '-';
    while (n > 0)
        out[len++] = digits[--n];
    if (frac != 0) {
        out[len++] = '.';
        int places = 9;
        while (frac % 10 == 0) {
            frac /= 10;
            places--;
        }
        for (int i = places - 1; i >= 0; i--) {
            out[len + (size_t)i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        len += (size_t)places;
    }
    out[len] = '\0';
    return len;
}
