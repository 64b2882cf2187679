/* Request Timestamps become numbers only through contract.c's two helpers: saturating for
 * filters, and checked against the contract's range where a reply is built from the time. Neither
 * may overflow for any int64 `seconds` or int32 `nanos` a client can send (the sanitizer build
 * aborts on a signed overflow). */
#include <stdint.h>

#include "api/pb.h"
#include "check.h"

#define NANO 1000000000LL

static Google__Protobuf__Timestamp at(int64_t seconds, int32_t nanos) {
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = seconds;
    t.nanos = nanos;
    return t;
}

static int64_t saturated(int64_t seconds, int32_t nanos) {
    Google__Protobuf__Timestamp t = at(seconds, nanos);
    return pb_timestamp_to_ns_saturated(&t);
}

static pb_time_check checked(int64_t seconds, int32_t nanos, int64_t *out_ns) {
    Google__Protobuf__Timestamp t = at(seconds, nanos);
    return pb_timestamp_to_ns_checked(&t, out_ns);
}

static void test_saturated(void) {
    CHECK_EQ_INT(saturated(0, 0), 0);
    CHECK_EQ_INT(saturated(1700000000, 5), 1700000000 * NANO + 5);
    CHECK_EQ_INT(saturated(-1, 0), -NANO);
    CHECK(saturated(5000000000000000000LL, 0) == INT64_MAX);
    CHECK(saturated(-5000000000000000000LL, 0) == INT64_MIN);
    CHECK(saturated(INT64_MAX, INT32_MAX) == INT64_MAX);
    CHECK(saturated(INT64_MIN, INT32_MIN) == INT64_MIN);
    /* The last second that fits, pushed over by its nanos. */
    CHECK(saturated(INT64_MAX / NANO, 999999999) == INT64_MAX);
    CHECK(saturated(INT64_MIN / NANO, -999999999) == INT64_MIN);
}

static void test_checked(void) {
    int64_t ns = -1;
    CHECK_EQ_INT(checked(0, 0, &ns), PB_TIME_OK);
    CHECK_EQ_INT(ns, 0);
    CHECK_EQ_INT(checked(PB_TIME_MAX_S, 999999999, &ns), PB_TIME_OK);
    CHECK_EQ_INT(ns, PB_TIME_MAX_S * NANO + 999999999);
    ns = 7;
    CHECK_EQ_INT(checked(PB_TIME_MAX_S + 1, 0, &ns), PB_TIME_OUT_OF_RANGE);
    CHECK_EQ_INT(checked(-1, 0, &ns), PB_TIME_OUT_OF_RANGE);
    CHECK_EQ_INT(checked(5000000000000000000LL, 0, &ns), PB_TIME_OUT_OF_RANGE);
    CHECK_EQ_INT(checked(-5000000000000000000LL, 0, &ns), PB_TIME_OUT_OF_RANGE);
    CHECK_EQ_INT(checked(INT64_MAX, 0, &ns), PB_TIME_OUT_OF_RANGE);
    CHECK_EQ_INT(checked(INT64_MIN, 0, &ns), PB_TIME_OUT_OF_RANGE);
    /* A Timestamp's nanos are 0 .. 999 999 999, whatever its seconds. */
    CHECK_EQ_INT(checked(100, -1, &ns), PB_TIME_INVALID);
    CHECK_EQ_INT(checked(100, 1000000000, &ns), PB_TIME_INVALID);
    CHECK_EQ_INT(checked(INT64_MAX, INT32_MAX, &ns), PB_TIME_INVALID);
    CHECK_EQ_INT(ns, 7); /* untouched by every refusal */
}

/* The same as a request's code: the caller's pair, the time untouched by a refusal. */
static void test_code(void) {
    int64_t ns = 7;
    Google__Protobuf__Timestamp t = at(PB_TIME_MAX_S + 1, 0);
    CHECK_EQ_INT(pb_timestamp_to_ns_code(&t, 30009, 30061, &ns), 30061);
    t = at(100, 1000000000);
    CHECK_EQ_INT(pb_timestamp_to_ns_code(&t, 30010, 30062, &ns), 30010);
    CHECK_EQ_INT(ns, 7);
    t = at(1700000000, 5);
    CHECK_EQ_INT(pb_timestamp_to_ns_code(&t, 30009, 30061, &ns), 0);
    CHECK_EQ_INT(ns, 1700000000 * NANO + 5);
}

int main(void) {
    test_saturated();
    test_checked();
    test_code();
    return check_finish("api pb");
}
