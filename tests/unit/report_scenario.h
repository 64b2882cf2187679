/* The small backtest the report's tests compute by hand (tests/unit/test_report.c).
 *
 * 2024-01-02, one close a minute from 10:00 to 10:06 UTC; the report is at 10:06.
 *   SBER (rub, lot 5): 100 110 108 104 112 105 107
 *   AAPL (usd, lot 1): 50 at 10:00, 40 at 10:03, 45 at 10:06
 * Account "alpha", 10 000 rub:
 *   10:00:30 buy 10 SBER @ 100 (value 1000, commission 0.5)
 *   10:02:00 sell 5 SBER @ 108 (value 540, commission 0.27)
 * Account "beta", 1 000 usd: a short turned long
 *   10:00:00 sell 4 AAPL @ 50 (value 200), 10:03:00 buy 6 AAPL @ 40 (value 240), no commission
 * Account "gamma", 5 000 rub: no trades. */
#ifndef TINVESTD_TESTS_REPORT_SCENARIO_H
#define TINVESTD_TESTS_REPORT_SCENARIO_H

#include "report/report.h"

#define SCN_NANO 1000000000LL
#define SCN_MIN (60LL * SCN_NANO)
#define SCN_T0 (1704189600LL * SCN_NANO) /* 2024-01-02T10:00:00Z */

static const report_price scn_sber_prices[] = {
    {SCN_T0 + 0 * SCN_MIN, 100 * SCN_NANO}, {SCN_T0 + 1 * SCN_MIN, 110 * SCN_NANO},
    {SCN_T0 + 2 * SCN_MIN, 108 * SCN_NANO}, {SCN_T0 + 3 * SCN_MIN, 104 * SCN_NANO},
    {SCN_T0 + 4 * SCN_MIN, 112 * SCN_NANO}, {SCN_T0 + 5 * SCN_MIN, 105 * SCN_NANO},
    {SCN_T0 + 6 * SCN_MIN, 107 * SCN_NANO},
};
static const report_price scn_aapl_prices[] = {
    {SCN_T0 + 0 * SCN_MIN, 50 * SCN_NANO},
    {SCN_T0 + 3 * SCN_MIN, 40 * SCN_NANO},
    {SCN_T0 + 6 * SCN_MIN, 45 * SCN_NANO},
};
static const report_instrument scn_instruments[] = {
    {"sber-uid", "SBER", "Sberbank", "rub", 5, scn_sber_prices, 7},
    {"aapl-uid", "AAPL", "Apple", "usd", 1, scn_aapl_prices, 3},
};
static const report_money scn_alpha_cash[] = {{"rub", 10000 * SCN_NANO}};
static const report_money scn_beta_cash[] = {{"usd", 1000 * SCN_NANO}};
static const report_money scn_gamma_cash[] = {{"rub", 5000 * SCN_NANO}};
static const report_account scn_accounts[] = {
    {"alpha", "Alpha", scn_alpha_cash, 1},
    {"beta", "Beta", scn_beta_cash, 1},
    {"gamma", "Gamma", scn_gamma_cash, 1},
};
static const report_fill scn_fills[] = {
    {1, 1, SCN_T0, false, 4, 50 * SCN_NANO, 200 * SCN_NANO, 0},
    {0, 0, SCN_T0 + 30 * SCN_NANO, true, 10, 100 * SCN_NANO, 1000 * SCN_NANO, 500000000},
    {0, 0, SCN_T0 + 2 * SCN_MIN, false, 5, 108 * SCN_NANO, 540 * SCN_NANO, 270000000},
    {1, 1, SCN_T0 + 3 * SCN_MIN, true, 6, 40 * SCN_NANO, 240 * SCN_NANO, 0},
};

static inline report_input scn_input(void) {
    report_input in = {
        .from_ns = SCN_T0,
        .to_ns = SCN_T0 + 6 * SCN_MIN,
        .now_ns = SCN_T0 + 6 * SCN_MIN,
        .title = "tinvestd replay 2024-01-02",
        .fingerprint = 0x0123456789abcdefULL,
        .accounts = scn_accounts,
        .account_count = 3,
        .instruments = scn_instruments,
        .instrument_count = 2,
        .fills = scn_fills,
        .fill_count = 4,
    };
    return in;
}

#endif
