/* Fixed-point money: int64 nano units (1e-9), the resolution of the contract's Quotation and
 * MoneyValue. No value is ever held as a double. */
#ifndef TINVESTD_UTIL_MONEY_H
#define TINVESTD_UTIL_MONEY_H

#include <stddef.h>
#include <stdint.h>

#define MONEY_NANO_PER_UNIT 1000000000LL

/* Parses an exact decimal such as "250.35" or "-0.000000001" (at most 9 fractional digits, no
 * exponent). Returns 0, -EINVAL for anything else, or -ERANGE when it does not fit. */
int money_parse_decimal(const char *text, int64_t *out_nano);

/* Contract units + nano to nano. The contract requires |nano| < 1e9 and the same sign as units
 * (when both are non-zero). Returns 0, -EINVAL or -ERANGE. */
int money_from_units_nano(int64_t units, int32_t nano, int64_t *out_nano);

/* Nano to contract units + nano (both carry the sign). */
void money_to_units_nano(int64_t value_nano, int64_t *units, int32_t *nano);

/* `value_nano` of one currency in another of which one unit costs `rate_nano` of the first
 * (rate_nano > 0), rounded to the nearest nano, halves away from zero. Returns 0, or -ERANGE
 * when the result does not fit. */
int money_convert(int64_t value_nano, int64_t rate_nano, int64_t *out_nano);

/* Room for any value money_format_decimal writes, with its NUL: "-9223372036.854775808". */
#define MONEY_DECIMAL_MAX 24

/* Writes `value_nano` as an exact decimal ("1234.56", "-0.000000001", "7"): no exponent, at most
 * 9 fractional digits with the trailing zeros trimmed, and no point when none remain. The text
 * reads back through money_parse_decimal to the same value. `size` >= MONEY_DECIMAL_MAX. Returns
 * the length written. */
size_t money_format_decimal(int64_t value_nano, char *out, size_t size);

#endif
