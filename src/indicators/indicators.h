/* Technical indicators over candles (GetTechAnalysis): SMA, EMA, RSI, MACD and Bollinger bands,
 * and the rules a request for one must satisfy.
 *
 * DESIGN: pure, like src/core and src/venue (cmake/pure_module.h, the test build.layering): a
 * function of the request and the candles it is given, with no clock, no I/O, no locks and no
 * allocation. The API layer turns a GetTechAnalysisRequest into an indicator_request
 * (api_request_tech_analysis), checks it here (indicators_check), reads the candles the request
 * needs (its window plus indicators_warmup() candles before it) and calls indicators_compute().
 *
 * Precision. Prices are int64 nano-units (the contract's Quotation). Every sum is exact: the
 * price of a candle is held as an integer numerator over a denominator of 1, or of 4 for the
 * average price (open + high + low + close) / 4, and the window sums are __int128, so an SMA (and
 * the Bollinger middle band) is the exact mean rounded once to the nearest nano-unit. What
 * cannot be exact in integers (an EMA's weights 2 / (n + 1), Wilder's 1 / n, a square root) is
 * computed in long double, whose 64-bit mantissa holds every int64 exactly; seeds start from
 * the exact integer sums. Each value is rounded once, half away from zero, to the nano-unit. A
 * value that does not fit int64 nano-units is never wrapped: moving averages and RSI are convex
 * combinations of the prices (or a number from 0 to 100) and are kept inside that range; a MACD
 * line or a Bollinger band past int64 refuses the request (indicators_compute's codes). */
#ifndef TINVESTD_INDICATORS_INDICATORS_H
#define TINVESTD_INDICATORS_INDICATORS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The contract's GetTechAnalysisRequest.IndicatorType values. */
typedef enum indicator_type {
    INDICATOR_BB = 1,
    INDICATOR_EMA = 2,
    INDICATOR_RSI = 3,
    INDICATOR_MACD = 4,
    INDICATOR_SMA = 5,
} indicator_type;

/* The contract's GetTechAnalysisRequest.IndicatorInterval values; each equals the
 * CandleInterval value of the same candle length (1 = one minute ... 13 = one month), so the
 * candle store is asked with the same number. */
typedef enum indicator_interval {
    INDICATOR_INTERVAL_1_MIN = 1,
    INDICATOR_INTERVAL_5_MIN = 2,
    INDICATOR_INTERVAL_15_MIN = 3,
    INDICATOR_INTERVAL_HOUR = 4,
    INDICATOR_INTERVAL_DAY = 5,
    INDICATOR_INTERVAL_2_MIN = 6,
    INDICATOR_INTERVAL_3_MIN = 7,
    INDICATOR_INTERVAL_10_MIN = 8,
    INDICATOR_INTERVAL_30_MIN = 9,
    INDICATOR_INTERVAL_2_HOUR = 10,
    INDICATOR_INTERVAL_4_HOUR = 11,
    INDICATOR_INTERVAL_WEEK = 12,
    INDICATOR_INTERVAL_MONTH = 13,
} indicator_interval;

/* The contract's GetTechAnalysisRequest.TypeOfPrice values. */
typedef enum indicator_price {
    INDICATOR_PRICE_CLOSE = 1,
    INDICATOR_PRICE_OPEN = 2,
    INDICATOR_PRICE_HIGH = 3,
    INDICATOR_PRICE_LOW = 4,
    INDICATOR_PRICE_AVG = 5, /* (open + high + low + close) / 4, exactly */
} indicator_price;

/* The ranges the contract documents for the parameters. */
#define INDICATORS_LENGTH_MIN 1
#define INDICATORS_LENGTH_MAX 1000
#define INDICATORS_DEVIATION_MAX_NANO INT64_C(50000000000) /* 0 .. 50 standard deviations */
#define INDICATORS_SIGNAL_SMOOTHING_MAX 50                 /* 0 .. 50; 0: no signal line */

/* One candle as the candle store gives it: its start time and OHLC prices in nano-units. */
typedef struct indicator_candle {
    int64_t time_ns;
    int64_t open_nano, high_nano, low_nano, close_nano;
    int64_t volume_lots;
} indicator_candle;

/* A request as plain values (api_request_tech_analysis builds it from the message). The enums
 * hold whatever number the client sent; indicators_check() says whether it is one of them. */
typedef struct indicator_request {
    int32_t type;     /* indicator_type */
    int32_t interval; /* indicator_interval */
    int32_t price;    /* indicator_price */
    int64_t from_ns, to_ns;
    int32_t length; /* SMA, EMA, RSI, BB */
    /* BB: `deviation.deviation_multiplier` was sent and is a Quotation that fits. */
    bool has_deviation;
    int64_t deviation_nano;
    /* MACD: `smoothing` was sent. */
    bool has_smoothing;
    int32_t fast_length, slow_length, signal_smoothing;
} indicator_request;

/* One item of the reply: the candle's start time and the values the indicator defines there
 * (SMA, EMA, RSI: signal; BB: the three bands; MACD: macd, and signal once it is defined). */
typedef struct indicator_value {
    int64_t time_ns;
    bool has_signal, has_macd, has_middle, has_upper, has_lower;
    int64_t signal_nano, macd_nano, middle_nano, upper_nano, lower_nano;
} indicator_value;

/* The longest `to - from` a request may span at `interval` (the candle limits of the contract:
 * one day of 1-3 minute candles, a week of 5 and 10, three weeks of 15 and 30, three months of
 * 1-4 hour, six years of days, five of weeks, ten of months); 0 for an unknown interval. */
int64_t indicators_max_period_ns(int32_t interval);

/* 0 when the request may be computed, else the T-Invest code, in this order: 30213 the
 * indicator type, 30011 the interval, 30214 the price type, then the indicator's parameters
 * (only those its type uses; the others are ignored): 30215 `length` outside 1 .. 1000 (SMA,
 * EMA, RSI, BB), 30216 no `deviation_multiplier` or one outside 0 .. 50 (BB), 30217 no
 * `smoothing`, or `fast_length` / `slow_length` outside 1 .. 1000 or `signal_smoothing` outside
 * 0 .. 50 (MACD); then 30012 when `to` is before `from`, 30014 when `to - from` exceeds
 * indicators_max_period_ns(). */
int indicators_check(const indicator_request *req);

/* How many candles before `from` the first value in the window needs (a checked request):
 * length - 1 for SMA, EMA and BB, length for RSI, max(fast, slow) - 1 + signal_smoothing - 1
 * for MACD (max(fast, slow) - 1 without a signal line). */
size_t indicators_warmup(const indicator_request *req);

/* The most candles a checked request can need: its window's candles at the interval's shortest
 * length (a month counts 28 days) plus indicators_warmup(). Bounded by INDICATORS_MAX_CANDLES. */
size_t indicators_candle_capacity(const indicator_request *req);
#define INDICATORS_MAX_CANDLES 3300

/* Computes the request's indicator over `candles` (n of them, strictly ascending by time: the
 * warm-up candles first, then the window) and writes one value for each candle from `from` to
 * `to` at which the indicator is defined, in time order, into `out` (room for `max`, which must
 * be at least n). *count receives how many. The request must have passed indicators_check().
 * Returns 0, or 30216 (BB) / 30217 (MACD) when a band or a MACD value does not fit int64
 * nano-units; then *count is 0. */
int indicators_compute(const indicator_request *req, const indicator_candle *candles, size_t n,
                       indicator_value *out, size_t max, size_t *count);

#endif
