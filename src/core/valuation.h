/* What an order costs: the money value of a quantity at a price, and the broker commission.
 *
 * Prices are quoted per unit the way the exchange quotes them: shares, funds and currencies in
 * money, bonds in percent of nominal, futures in points (each step of min_price_increment is
 * worth min_price_increment_amount). Every product is computed in 128 bits and refused when it
 * does not fit in int64 nano. */
#ifndef TINVESTD_CORE_VALUATION_H
#define TINVESTD_CORE_VALUATION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"

/* Money value of `units` at `price_nano` per unit; false on overflow. */
bool valuation_amount(const instrument *ins, int64_t price_nano, int64_t units, int64_t *out_nano);

/* Commission on `value_nano` at `rate_bp` basis points, rounded up to a hundredth of the
 * currency unit (a kopeck), the way brokers charge it. */
int64_t valuation_commission(int64_t value_nano, int32_t rate_bp);

#endif
