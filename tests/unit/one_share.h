/* A reference-data fixture for unit tests: one share (lot 1, step 0.01, reference 100 rub,
 * price band ±50 %), one account "A1" with `cash_rub` roubles, one token "full" with full access
 * to it. */
#ifndef TINVESTD_TESTS_ONE_SHARE_H
#define TINVESTD_TESTS_ONE_SHARE_H

#include <string.h>

#include "core/refdata.h"

static inline void one_share_refdata(refdata *rd, int64_t cash_rub) {
    const int64_t nano = 1000000000LL;
    refdata_init(rd);
    rd->instrument_count = 1;
    rd->instruments[0] = (instrument){.index = 0,
                                      .kind = INSTRUMENT_KIND_SHARE,
                                      .figi = "FIGI0",
                                      .ticker = "AAA",
                                      .class_code = "TQBR",
                                      .uid = "uid-0",
                                      .position_uid = "pos-0",
                                      .isin = "",
                                      .name = "Share A",
                                      .currency = "rub",
                                      .lot = 1,
                                      .min_price_increment_nano = nano / 100,
                                      .reference_price_nano = 100 * nano,
                                      .price_band_bp = 5000,
                                      .trading_status = 5,
                                      .api_trade_available = true,
                                      .buy_available = true,
                                      .sell_available = true};
    rd->account_count = 1;
    rd->accounts[0] = (account){.index = 0, .id = "A1", .name = "", .cash_count = 1};
    strcpy(rd->accounts[0].cash[0].currency, "rub");
    rd->accounts[0].cash[0].value_nano = cash_rub * nano;
    rd->token_count = 1;
    rd->tokens[0].secret = "full";
    rd->tokens[0].access[0] = ACCESS_FULL;
}

#endif
