/* Checked integer arithmetic for money and quantities.
 *
 * DESIGN: every sum, difference and product of money (int64 nano) or quantities goes through
 * these helpers, which report an overflow instead of wrapping. Where a value was proven to fit
 * when the order was accepted (the apply path), callers assert the result; where a client's
 * input decides (checks, pay-ins), an overflow becomes a clear error to that client. */
#ifndef TINVESTD_UTIL_CHECKED_H
#define TINVESTD_UTIL_CHECKED_H

#include <stdbool.h>
#include <stdint.h>

/* *out = a + b; false (and *out untouched) when the sum does not fit. */
static inline bool checked_add(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool checked_sub(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_sub_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

static inline bool checked_mul(int64_t a, int64_t b, int64_t *out) {
    int64_t r;
    if (__builtin_mul_overflow(a, b, &r))
        return false;
    *out = r;
    return true;
}

/* *acc += v, for amounts proven to fit: an overflow here is a broken invariant. */
#define CHECKED_ADD_ASSERT(acc, v)                                                                 \
    do {                                                                                           \
        bool checked_ok_ = checked_add((acc), (v), &(acc));                                        \
        assert(checked_ok_);                                                                       \
        (void)checked_ok_;                                                                         \
    } while (0)

#define CHECKED_SUB_ASSERT(acc, v)                                                                 \
    do {                                                                                           \
        bool checked_ok_ = checked_sub((acc), (v), &(acc));                                        \
        assert(checked_ok_);                                                                       \
        (void)checked_ok_;                                                                         \
    } while (0)

#endif
