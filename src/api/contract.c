#include "api/contract.h"

#include "util/money.h"

bool pb_quotation_to_nano(const PB(Quotation) * q, int64_t *out_nano) {
    return money_from_units_nano(q->units, q->nano, out_nano) == 0;
}

int64_t pb_timestamp_to_ns_saturated(const Google__Protobuf__Timestamp *t) {
    int64_t ns;
    if (__builtin_mul_overflow(t->seconds, (int64_t)1000000000, &ns) ||
        __builtin_add_overflow(ns, (int64_t)t->nanos, &ns))
        return t->seconds < 0 ? INT64_MIN : INT64_MAX;
    return ns;
}

pb_time_check pb_timestamp_to_ns_checked(const Google__Protobuf__Timestamp *t, int64_t *out_ns) {
    if (t->nanos < 0 || t->nanos > 999999999)
        return PB_TIME_INVALID;
    if (t->seconds < PB_TIME_MIN_S || t->seconds > PB_TIME_MAX_S)
        return PB_TIME_OUT_OF_RANGE;
    /* Inside the range the product stays below 4.2e18, under INT64_MAX (9.2e18). */
    *out_ns = t->seconds * 1000000000 + t->nanos;
    return PB_TIME_OK;
}

int pb_timestamp_to_ns_code(const Google__Protobuf__Timestamp *t, int invalid_code, int range_code,
                            int64_t *out_ns) {
    switch (pb_timestamp_to_ns_checked(t, out_ns)) {
    case PB_TIME_OK:
        return 0;
    case PB_TIME_INVALID:
        return invalid_code;
    case PB_TIME_OUT_OF_RANGE:
        return range_code;
    }
    return invalid_code;
}
