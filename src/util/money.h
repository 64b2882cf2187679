/* Fixed-point money: int64 nano units (1e-9). Placeholder until the full money module lands. */
#ifndef TINVESTD_UTIL_MONEY_H
#define TINVESTD_UTIL_MONEY_H

#include <stdint.h>

int money_parse_decimal(const char *text, int64_t *out_nano);
int money_from_units_nano(int64_t units, int32_t nano, int64_t *out_nano);
void money_to_units_nano(int64_t value_nano, int64_t *units, int32_t *nano);

#endif
