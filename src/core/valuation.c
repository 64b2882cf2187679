#include "core/valuation.h"

#define NANO_PER_UNIT 1000000000LL
#define MINOR_UNIT_NANO 10000000LL /* 0.01 */

static bool fits(__int128 v, int64_t *out) {
    if (v > INT64_MAX || v < INT64_MIN)
        return false;
    *out = (int64_t)v;
    return true;
}

bool valuation_amount(const instrument *ins, int64_t price_nano, int64_t units, int64_t *out_nano) {
    /* The value of one unit first: a product of two int64 values, which 128 bits always hold.
     * Times the units it may not fit even there, and is checked. */
    __int128 per_unit;
    switch (ins->kind) {
    case INSTRUMENT_KIND_BOND:
        /* percent of nominal: price% * nominal / 100 per bond */
        per_unit = (__int128)price_nano * ins->nominal_nano / (100 * NANO_PER_UNIT);
        break;
    case INSTRUMENT_KIND_FUTURE:
        if (ins->min_price_increment_amount_nano > 0 && ins->min_price_increment_nano > 0) {
            per_unit = (__int128)price_nano * ins->min_price_increment_amount_nano /
                       ins->min_price_increment_nano;
            break;
        }
        /* Without a step value, points are money. */
        __attribute__((fallthrough));
    default:
        per_unit = price_nano;
        break;
    }
    __int128 value;
    if (__builtin_mul_overflow(per_unit, (__int128)units, &value))
        return false;
    return fits(value, out_nano);
}

int64_t valuation_commission(int64_t value_nano, int32_t rate_bp) {
    if (value_nano <= 0 || rate_bp <= 0)
        return 0;
    __int128 raw = (__int128)value_nano * rate_bp;
    __int128 per_minor = (__int128)10000 * MINOR_UNIT_NANO;
    __int128 minor_units = (raw + per_minor - 1) / per_minor;
    return (int64_t)(minor_units * MINOR_UNIT_NANO);
}
