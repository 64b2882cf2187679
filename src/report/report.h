/* The backtest report: what each account did over a replay, as JSON (docs/REPORT.md, the schema)
 * and as one self-contained HTML page with SVG charts.
 *
 * DESIGN: pure, like src/candles (no clock, no threads, no I/O other than writing to the FILE the
 * caller gives). The input is plain data the caller fills from the broker's operations and the
 * history store; the output depends on it alone, byte for byte. Every money sum is int64 nano
 * through util/checked.h (a sum past int64 refuses the report with -EOVERFLOW rather than wrap),
 * products go through 128 bits; only percentages and chart coordinates are doubles.
 *
 * Two stages: report_prepare checks the whole input and builds what every account shares (the
 * sample times: every price time of the replay); report_account_compute then works out one
 * account (equity curve, drawdown, exposure, average-cost P&L per instrument). The writers run
 * both for every account before they write a byte, so a refused report writes nothing.
 *
 * Ownership: the input is borrowed for the duration of a call; results own their arrays (freed by
 * report_account_free, report_prepared_free). */
#ifndef TINVESTD_REPORT_REPORT_H
#define TINVESTD_REPORT_REPORT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/* At most this many points per curve in the output (equity and each price line): the full curve
 * is cut into (REPORT_MAX_POINTS - 1) / 3 buckets of consecutive samples, each giving its first,
 * lowest and highest sample in time order, and the last sample ends the curve. */
#define REPORT_MAX_POINTS 1500u
/* The HTML page lists at most this many fills per account (the JSON lists them all). */
#define REPORT_MAX_FILL_ROWS 1000u
/* A price chart of the HTML page marks at most this many fills (the first ones). */
#define REPORT_MAX_MARKERS 2000u

typedef struct report_price {
    int64_t time_ns;    /* when this close became the instrument's price */
    int64_t close_nano; /* per unit */
} report_price;

typedef struct report_instrument {
    const char *uid, *ticker, *name; /* UTF-8; name may be NULL */
    const char *currency;            /* "rub", "usd": 1 to 15 lower-case Latin letters */
    int64_t lot;                     /* units per lot, > 0 */
    const report_price *prices;      /* strictly increasing times, none after now_ns */
    uint32_t price_count;
} report_instrument;

typedef struct report_money {
    const char *currency;
    int64_t amount_nano;
} report_money;

typedef struct report_fill {      /* one execution of an account's order; fills in time order */
    uint32_t account, instrument; /* indexes into the input's arrays */
    int64_t time_ns;              /* from_ns <= time_ns <= now_ns */
    bool buy;
    int64_t units;           /* lots x lot, > 0 */
    int64_t price_nano;      /* per unit */
    int64_t value_nano;      /* price_nano x units exactly, in the instrument's currency */
    int64_t commission_nano; /* >= 0, in the instrument's currency */
} report_fill;

typedef struct report_account {
    const char *id, *name;       /* name may be NULL */
    const report_money *opening; /* opening cash per currency, each currency once */
    uint32_t opening_count;
} report_account;

typedef struct report_input {
    int64_t from_ns, to_ns, now_ns; /* the replay's period and the simulated time of the report */
    const char *title;              /* may be NULL */
    uint64_t fingerprint;
    const report_account *accounts;
    uint32_t account_count;
    const report_instrument *instruments;
    uint32_t instrument_count;
    const report_fill *fills;
    uint32_t fill_count;
} report_input;

/* 0, or -EINVAL (input out of order or inconsistent: the reason in *why), -EOVERFLOW (a sum past
 * int64 nano-units), -ENOMEM, -EIO (the FILE failed). Nothing is written unless the whole report
 * can be. Output depends on the input only. `why` may be NULL. */
int report_write_json(const report_input *in, FILE *out, const char **why);
int report_write_html(const report_input *in, FILE *out, const char **why);

/* ---- The computation the writers print (also for callers and tests that want numbers). ---- */

typedef struct report_point {
    int64_t time_ns;
    uint32_t sample;    /* the index of time_ns among the sample times (the charts' x) */
    int64_t value_nano; /* equity, or a close */
    int64_t peak_nano;  /* equity curves: the highest equity so far (the drawdown band) */
} report_point;

typedef struct report_prepared {
    const report_input *in;
    int64_t *sample_times; /* from_ns, every distinct price time in [from_ns, now_ns], now_ns */
    uint32_t sample_count;
    uint32_t *account_fills;      /* fill indexes grouped by account, time order within each */
    uint32_t *account_fill_start; /* account a's are [start[a], start[a + 1]) */
} report_prepared;

typedef struct report_currency {
    const char *currency;
    int64_t opening_cash_nano, final_cash_nano;
    int64_t opening_equity_nano, final_equity_nano; /* equity = cash + positions at their marks */
    int64_t realised_nano, unrealised_nano, fees_nano, turnover_nano;
    int64_t net_pnl_nano; /* final - opening equity = realised + unrealised - fees */
    uint32_t fills, buys, sells;
    /* The largest fall from a running peak of the full-resolution curve (the peak starts at the
     * opening equity); its percentage is of that peak, and only when the peak is positive. */
    int64_t drawdown_nano, drawdown_peak_nano, drawdown_trough_nano;
    int64_t drawdown_peak_time_ns, drawdown_trough_time_ns;
    bool drawdown_pct_known;
    double drawdown_pct;
    /* Exposure: samples at which a position in this currency was open, of all samples; the
     * largest gross position value (sum of |units x mark|) and the largest ratio of it to the
     * equity at one sample (samples with equity <= 0 give no ratio). */
    uint32_t samples, samples_in_position;
    int64_t max_gross_nano;
    double max_gross_pct;
    bool return_pct_known; /* the opening equity is positive */
    double return_pct, exposure_pct;
    report_point *points; /* the downsampled curve, at most REPORT_MAX_POINTS */
    uint32_t point_count;
} report_currency;

typedef struct report_position { /* one instrument the account traded */
    uint32_t instrument;
    uint32_t currency; /* index into report_account_result.currencies */
    uint32_t fills, buys, sells;
    int64_t bought_units, sold_units;
    int64_t position_units; /* at now, signed (negative: short) */
    int64_t cost_nano;      /* of the open position, signed like it (average cost x units) */
    int64_t mark_nano;      /* the newest close at now, or the last fill's price if none */
    bool marked_by_close;
    int64_t realised_nano;   /* average-cost method, commissions not included */
    int64_t unrealised_nano; /* position x mark - cost */
    int64_t fees_nano, turnover_nano;
} report_position;

typedef struct report_account_result {
    uint32_t account;
    uint32_t fills, buys, sells;
    report_currency *currencies; /* opening currencies first, then in the order first traded */
    uint32_t currency_count;
    report_position *positions; /* instruments traded, in the input's instrument order */
    uint32_t position_count;
} report_account_result;

/* Checks the whole input (-EINVAL, reason in *why) and builds the sample times and the per-account
 * fill index; -ENOMEM. On success free with report_prepared_free. */
int report_prepare(const report_input *in, report_prepared *out, const char **why);
void report_prepared_free(report_prepared *p);

/* One account: 0, -EOVERFLOW (reason in *why) or -ENOMEM. On success free with
 * report_account_free. */
int report_account_compute(const report_prepared *p, uint32_t account, report_account_result *out,
                           const char **why);
void report_account_free(report_account_result *r);

#endif
