/* Fixed-point money: int64 nano units (1e-9), the resolution of the contract's Quotation and
 * MoneyValue. No value is ever held as a double. */
#ifndef TINVESTD_UTIL_MONEY_H
#define TINVESTD_UTIL_MONEY_H

#include <stdint.h>

/* Parses an exact decimal such as "250.35" or "-0.000000001" (at most 9 fractional digits, no
 * exponent). Returns 0, -EINVAL for anything else, or -ERANGE when it does not fit. */
int money_parse_decimal(const char *text, int64_t *out_nano);

/* Contract units + nano to nano. The contract requires |nano| < 1e9 and the same sign as units
 * (when both are non-zero). Returns 0, -EINVAL or -ERANGE. */
int money_from_units_nano(int64_t units, int32_t nano, int64_t *out_nano);

/* Nano to contract units + nano (both carry the sign). */
void money_to_units_nano(int64_t value_nano, int64_t *units, int32_t *nano);

#endif
