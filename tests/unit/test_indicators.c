/* The indicators (src/indicators) against references computed here independently: the textbook
 * formulas in double over whole arrays, a published RSI example, and exact integer means; and
 * the request rules, code by code. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "indicators/indicators.h"

#define NANO 1000000000LL
#define MINUTE_NS (60LL * NANO)
#define T0_NS (1700000000LL * NANO) /* a minute boundary */
#define MAX_N 512

static indicator_candle candles[MAX_N];
static indicator_value values[MAX_N];

/* Closes (in units, exactly representable to the nano) become one-minute candles whose open,
 * high and low differ from the close, so that each price type picks its own field. */
static size_t make_candles(const double *closes, size_t n) {
    for (size_t i = 0; i < n; i++) {
        int64_t close = llround(closes[i] * NANO);
        candles[i] = (indicator_candle){.time_ns = T0_NS + (int64_t)i * MINUTE_NS,
                                        .open_nano = close - 7,
                                        .high_nano = close + 1000,
                                        .low_nano = close - 2000,
                                        .close_nano = close,
                                        .volume_lots = 1};
    }
    return n;
}

static indicator_request request(int32_t type, int32_t length) {
    return (indicator_request){.type = type,
                               .interval = INDICATOR_INTERVAL_1_MIN,
                               .price = INDICATOR_PRICE_CLOSE,
                               .from_ns = T0_NS,
                               .to_ns = T0_NS + 1439 * MINUTE_NS,
                               .length = length};
}

static size_t compute(const indicator_request *req, size_t n) {
    CHECK_EQ_INT(indicators_check(req), 0);
    size_t count = 99999;
    CHECK_EQ_INT(indicators_compute(req, candles, n, values, MAX_N, &count), 0);
    return count;
}

/* |got - want| <= 1 nano-unit: the double reference and the module round independently. */
static void check_near(int64_t got_nano, double want, const char *what, size_t i) {
    double diff = fabs((double)got_nano - want * NANO);
    if (diff > 1.0 + fabs(want) * 1e-15 * NANO)
        fprintf(stderr, "%s[%zu]: got %lld, want %.3f nano\n", what, i, (long long)got_nano,
                want * NANO);
    CHECK(diff <= 1.0 + fabs(want) * 1e-15 * NANO);
}

/* ---- References, in double over whole arrays -------------------------------------------- */

static double ref_sma(const double *p, size_t i, size_t len) {
    double sum = 0;
    for (size_t j = i + 1 - len; j <= i; j++)
        sum += p[j];
    return sum / (double)len;
}

/* EMA over p[0..n-1], seeded with the SMA of the first len; out[i] = NAN before. */
static void ref_ema(const double *p, size_t n, size_t len, double *out) {
    for (size_t i = 0; i < n; i++) {
        if (i + 1 < len)
            out[i] = NAN;
        else if (i + 1 == len)
            out[i] = ref_sma(p, i, len);
        else
            out[i] = p[i] * (2.0 / (len + 1)) + out[i - 1] * (1 - 2.0 / (len + 1));
    }
}

static double ref_stddev(const double *p, size_t i, size_t len) {
    double mean = ref_sma(p, i, len), sq = 0;
    for (size_t j = i + 1 - len; j <= i; j++)
        sq += (p[j] - mean) * (p[j] - mean);
    return sqrt(sq / (double)len);
}

/* A deterministic random walk in cents around 250. */
static size_t walk(double *p, size_t n, unsigned seed) {
    double x = 250.0;
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        int step = (int)((seed >> 16) % 201) - 100;
        x = round((x + step / 100.0) * 100) / 100;
        p[i] = x;
    }
    return n;
}

/* ---- Indicators ------------------------------------------------------------------------- */

static void test_sma_matches_reference(void) {
    double p[300];
    size_t n = make_candles(p, walk(p, 300, 7));
    for (int32_t len = 1; len <= 40; len += 13) {
        indicator_request req = request(INDICATOR_SMA, len);
        size_t count = compute(&req, n);
        CHECK_EQ_INT(count, n - (size_t)len + 1);
        for (size_t k = 0; k < count; k++) {
            size_t i = k + (size_t)len - 1;
            CHECK_EQ_INT(values[k].time_ns, candles[i].time_ns);
            CHECK(values[k].has_signal && !values[k].has_macd && !values[k].has_middle);
            check_near(values[k].signal_nano, ref_sma(p, i, (size_t)len), "sma", i);
        }
    }
}

/* Prices near 10^18 nano-units: a double mean would be off by hundreds; the module's is exact. */
static void test_sma_is_exact_at_large_prices(void) {
    const int64_t base = 999999999999999001LL;
    for (size_t i = 0; i < 3; i++)
        candles[i] = (indicator_candle){.time_ns = T0_NS + (int64_t)i * MINUTE_NS,
                                        .close_nano = base + (int64_t)i * 2 + (i == 2)};
    /* closes: base, base + 2, base + 5; mean = base + 7/3 -> base + 2 */
    indicator_request req = request(INDICATOR_SMA, 3);
    CHECK_EQ_INT(compute(&req, 3), 1);
    CHECK_EQ_INT(values[0].signal_nano, base + 2);
    /* EMA of length 1 is the price itself, to the nano-unit. */
    req = request(INDICATOR_EMA, 1);
    CHECK_EQ_INT(compute(&req, 3), 3);
    CHECK_EQ_INT(values[2].signal_nano, base + 5);
}

static void test_price_types(void) {
    double p[] = {10.0, 11.0, 12.0};
    size_t n = make_candles(p, 3);
    indicator_request req = request(INDICATOR_SMA, 1);
    int64_t close = llround(12.0 * NANO);
    struct {
        int32_t price;
        int64_t want;
    } cases[] = {
        {INDICATOR_PRICE_CLOSE, close},
        {INDICATOR_PRICE_OPEN, close - 7},
        {INDICATOR_PRICE_HIGH, close + 1000},
        {INDICATOR_PRICE_LOW, close - 2000},
        /* (close - 7 + close + 1000 + close - 2000 + close) / 4 = close - 251.75 -> close - 252 */
        {INDICATOR_PRICE_AVG, close - 252},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        req.price = cases[c].price;
        CHECK_EQ_INT(compute(&req, n), 3);
        CHECK_EQ_INT(values[2].signal_nano, cases[c].want);
    }
    /* The average keeps its quarters through a mean: (x.25 + x.75) / 2 is exact. */
    candles[0] = (indicator_candle){.time_ns = T0_NS, .open_nano = 1, .high_nano = 0};
    candles[1] = (indicator_candle){.time_ns = T0_NS + MINUTE_NS, .open_nano = 3};
    req = request(INDICATOR_SMA, 2);
    req.price = INDICATOR_PRICE_AVG;
    CHECK_EQ_INT(compute(&req, 2), 1);
    CHECK_EQ_INT(values[0].signal_nano, 1); /* (0.25 + 0.75) / 2 = 0.5 -> 1, half away */
}

static void test_ema_matches_reference(void) {
    double p[300], ref[300];
    size_t n = make_candles(p, walk(p, 300, 11));
    for (int32_t len = 1; len <= 60; len += 19) {
        ref_ema(p, n, (size_t)len, ref);
        indicator_request req = request(INDICATOR_EMA, len);
        size_t count = compute(&req, n);
        CHECK_EQ_INT(count, n - (size_t)len + 1);
        for (size_t k = 0; k < count; k++) {
            size_t i = k + (size_t)len - 1;
            CHECK_EQ_INT(values[k].time_ns, candles[i].time_ns);
            check_near(values[k].signal_nano, ref[i], "ema", i);
        }
    }
}

/* The classic worked example of Wilder's RSI(14) (daily closes of a stock): the first value at
 * the 15th close. Its published table rounds the average gain and loss to two decimals before
 * dividing, so it is met within 0.08; the first three values are also checked exactly, worked
 * out here in fractions: the first 14 changes gain 3.34 and lose 1.40, RSI = 100 * 3.34 / 4.74 =
 * 70.464135021..., then 217100 / 3277 = 66.249618553... and 570340 / 8579 = 66.480941834... */
static void test_rsi_published_example(void) {
    static const double closes[] = {44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84,
                                    46.08, 45.89, 46.03, 45.61, 46.28, 46.28, 46.00, 46.03, 46.41,
                                    46.22, 45.64, 46.21, 46.25, 45.71, 46.45, 45.78, 45.35, 44.03,
                                    44.18, 44.22, 44.57, 43.42, 42.66, 43.13};
    static const double rsi[] = {70.53, 66.32, 66.55, 69.41, 66.36, 57.97, 62.93,
                                 63.26, 56.06, 62.38, 54.71, 50.42, 39.99, 41.46,
                                 41.87, 45.46, 37.30, 33.08, 37.77};
    size_t n = make_candles(closes, sizeof closes / sizeof closes[0]);
    indicator_request req = request(INDICATOR_RSI, 14);
    size_t count = compute(&req, n);
    CHECK_EQ_INT(count, sizeof rsi / sizeof rsi[0]);
    for (size_t k = 0; k < count && k < sizeof rsi / sizeof rsi[0]; k++) {
        double got = (double)values[k].signal_nano / NANO;
        if (fabs(got - rsi[k]) > 0.08)
            fprintf(stderr, "rsi[%zu]: got %.4f, want %.2f\n", k, got, rsi[k]);
        CHECK(fabs(got - rsi[k]) <= 0.08);
        CHECK_EQ_INT(values[k].time_ns, candles[k + 14].time_ns);
    }
    CHECK_EQ_INT(values[0].signal_nano, 70464135021LL);
    CHECK_EQ_INT(values[1].signal_nano, 66249618554LL);
    CHECK_EQ_INT(values[2].signal_nano, 66480941835LL);
}

static void test_rsi_matches_reference(void) {
    double p[300];
    size_t n = make_candles(p, walk(p, 300, 3));
    const size_t len = 9;
    indicator_request req = request(INDICATOR_RSI, (int32_t)len);
    size_t count = compute(&req, n);
    CHECK_EQ_INT(count, n - len);
    double gain = 0, loss = 0;
    for (size_t i = 1; i < n; i++) {
        double d = p[i] - p[i - 1], up = d > 0 ? d : 0, down = d < 0 ? -d : 0;
        if (i <= len) {
            gain += up / len;
            loss += down / len;
        } else {
            gain = (gain * (len - 1) + up) / len;
            loss = (loss * (len - 1) + down) / len;
        }
        if (i >= len) /* RSI in units of "percent": compare as a value of that many units */
            check_near(values[i - len].signal_nano, 100 * gain / (gain + loss), "rsi", i);
    }
}

static void test_rsi_edges(void) {
    double flat[20], rising[20], falling[20];
    for (size_t i = 0; i < 20; i++) {
        flat[i] = 100;
        rising[i] = 100 + (double)i;
        falling[i] = 100 - (double)i;
    }
    indicator_request req = request(INDICATOR_RSI, 5);
    size_t count = compute(&req, make_candles(flat, 20));
    CHECK_EQ_INT(count, 15);
    for (size_t k = 0; k < count; k++)
        CHECK_EQ_INT(values[k].signal_nano, 50 * NANO);
    count = compute(&req, make_candles(rising, 20));
    CHECK(count == 15 && values[0].signal_nano == 100 * NANO &&
          values[14].signal_nano == 100 * NANO);
    count = compute(&req, make_candles(falling, 20));
    CHECK(count == 15 && values[0].signal_nano == 0 && values[14].signal_nano == 0);
    /* RSI(1): each change alone. */
    double zigzag[] = {10, 11, 11, 9};
    req = request(INDICATOR_RSI, 1);
    CHECK_EQ_INT(compute(&req, make_candles(zigzag, 4)), 3);
    CHECK(values[0].signal_nano == 100 * NANO && values[1].signal_nano == 50 * NANO &&
          values[2].signal_nano == 0);
}

static void test_macd_matches_reference(void) {
    double p[300], fast[300], slow[300], line[300], signal[300];
    size_t n = make_candles(p, walk(p, 300, 5));
    const size_t f = 12, s = 26, g = 9;
    ref_ema(p, n, f, fast);
    ref_ema(p, n, s, slow);
    for (size_t i = s - 1; i < n; i++)
        line[i - (s - 1)] = fast[i] - slow[i];
    ref_ema(line, n - (s - 1), g, signal);

    indicator_request req = request(INDICATOR_MACD, 0);
    req.has_smoothing = true;
    req.fast_length = (int32_t)f;
    req.slow_length = (int32_t)s;
    req.signal_smoothing = (int32_t)g;
    size_t count = compute(&req, n);
    CHECK_EQ_INT(count, n - (s - 1));
    for (size_t k = 0; k < count; k++) {
        CHECK_EQ_INT(values[k].time_ns, candles[k + s - 1].time_ns);
        CHECK(values[k].has_macd && !values[k].has_middle);
        check_near(values[k].macd_nano, line[k], "macd", k);
        CHECK(values[k].has_signal == (k + 1 >= g));
        if (k + 1 >= g)
            check_near(values[k].signal_nano, signal[k], "signal", k);
    }
    /* Fast longer than slow is taken as sent (the line changes sign), and no signal line at 0. */
    req.fast_length = (int32_t)s;
    req.slow_length = (int32_t)f;
    req.signal_smoothing = 0;
    count = compute(&req, n);
    CHECK_EQ_INT(count, n - (s - 1));
    for (size_t k = 0; k < count; k++) {
        CHECK(values[k].has_macd && !values[k].has_signal);
        check_near(values[k].macd_nano, -line[k], "macd reversed", k);
    }
}

static void test_bollinger_matches_reference(void) {
    double p[300];
    size_t n = make_candles(p, walk(p, 300, 9));
    const size_t len = 20;
    indicator_request req = request(INDICATOR_BB, (int32_t)len);
    req.has_deviation = true;
    req.deviation_nano = 2 * NANO + NANO / 2; /* 2.5 standard deviations */
    size_t count = compute(&req, n);
    CHECK_EQ_INT(count, n - len + 1);
    for (size_t k = 0; k < count; k++) {
        size_t i = k + len - 1;
        double mid = ref_sma(p, i, len), sd = ref_stddev(p, i, len);
        CHECK(values[k].has_middle && values[k].has_upper && values[k].has_lower &&
              !values[k].has_signal);
        check_near(values[k].middle_nano, mid, "middle", i);
        check_near(values[k].upper_nano, mid + 2.5 * sd, "upper", i);
        check_near(values[k].lower_nano, mid - 2.5 * sd, "lower", i);
    }
    /* A flat series and a zero multiplier: the bands are the middle. */
    double flat[5] = {7, 7, 7, 7, 7};
    req.length = 3;
    CHECK_EQ_INT(compute(&req, make_candles(flat, 5)), 3);
    CHECK(values[2].upper_nano == 7 * NANO && values[2].lower_nano == 7 * NANO);
    req.deviation_nano = 0;
    CHECK_EQ_INT(compute(&req, make_candles(p, 30)), 28);
    CHECK(values[5].upper_nano == values[5].middle_nano &&
          values[5].lower_nano == values[5].middle_nano);
}

static void test_length_longer_than_the_series(void) {
    double p[10];
    size_t n = make_candles(p, walk(p, 10, 1));
    int32_t types[] = {INDICATOR_SMA, INDICATOR_EMA, INDICATOR_RSI, INDICATOR_BB};
    for (size_t t = 0; t < 4; t++) {
        indicator_request req = request(types[t], 11);
        req.has_deviation = true;
        size_t count = 99;
        CHECK_EQ_INT(indicators_compute(&req, candles, n, values, MAX_N, &count), 0);
        CHECK_EQ_INT(count, 0);
    }
    indicator_request req = request(INDICATOR_RSI, 10); /* 10 prices make 9 changes */
    CHECK_EQ_INT(compute(&req, n), 0);
    req = request(INDICATOR_SMA, 10);
    CHECK_EQ_INT(compute(&req, n), 1);
    CHECK_EQ_INT(compute(&req, 0), 0);
}

/* Candles before `from` only warm the indicator up; none after `to` is reported. */
static void test_window(void) {
    double p[50];
    size_t n = make_candles(p, walk(p, 50, 2));
    indicator_request req = request(INDICATOR_SMA, 5);
    size_t all = compute(&req, n);
    CHECK_EQ_INT(all, 46);
    int64_t sma_at_20 = values[20 - 4].signal_nano;
    req.from_ns = candles[20].time_ns;
    req.to_ns = candles[29].time_ns;
    CHECK_EQ_INT(compute(&req, n), 10);
    CHECK_EQ_INT(values[0].time_ns, candles[20].time_ns);
    CHECK_EQ_INT(values[0].signal_nano, sma_at_20);
    CHECK_EQ_INT(values[9].time_ns, candles[29].time_ns);
    CHECK_EQ_INT(indicators_warmup(&req), 4);
}

static void test_values_past_int64_are_refused(void) {
    candles[0] = (indicator_candle){.time_ns = T0_NS, .close_nano = INT64_MIN};
    candles[1] = (indicator_candle){.time_ns = T0_NS + MINUTE_NS, .close_nano = INT64_MAX};
    candles[2] = (indicator_candle){.time_ns = T0_NS + 2 * MINUTE_NS, .close_nano = INT64_MAX};
    indicator_request req = request(INDICATOR_BB, 2);
    req.has_deviation = true;
    req.deviation_nano = 50 * NANO;
    size_t count = 99;
    CHECK_EQ_INT(indicators_compute(&req, candles, 3, values, MAX_N, &count), 30216);
    CHECK_EQ_INT(count, 0);
    /* MACD(1, 2): fast = the price, slow = the mean of two: 2^63 - 1 - (-1/2) does not fit. */
    req = request(INDICATOR_MACD, 0);
    req.has_smoothing = true;
    req.fast_length = 1;
    req.slow_length = 2;
    CHECK_EQ_INT(indicators_compute(&req, candles, 3, values, MAX_N, &count), 30217);
    /* Averages of extreme prices stay exact and in range: (INT64_MIN + INT64_MAX) / 2 = -0.5,
     * rounded half away from zero; the EMA of length 1 is the price itself. */
    req = request(INDICATOR_SMA, 2);
    CHECK_EQ_INT(compute(&req, 3), 2);
    CHECK_EQ_INT(values[0].signal_nano, -1);
    CHECK_EQ_INT(values[1].signal_nano, INT64_MAX);
    req = request(INDICATOR_EMA, 2);
    CHECK_EQ_INT(compute(&req, 3), 2);
    CHECK_EQ_INT(values[0].signal_nano, -1);
    req = request(INDICATOR_EMA, 1);
    CHECK_EQ_INT(compute(&req, 3), 3);
    CHECK(values[0].signal_nano == INT64_MIN && values[2].signal_nano == INT64_MAX);
}

/* ---- Rules ------------------------------------------------------------------------------ */

static void test_rules(void) {
    indicator_request ok = request(INDICATOR_SMA, 20), r;
    CHECK_EQ_INT(indicators_check(&ok), 0);

    r = ok, r.type = 0;
    CHECK_EQ_INT(indicators_check(&r), 30213);
    r = ok, r.type = 6;
    CHECK_EQ_INT(indicators_check(&r), 30213);
    r = ok, r.interval = 0;
    CHECK_EQ_INT(indicators_check(&r), 30011);
    r = ok, r.interval = 14;
    CHECK_EQ_INT(indicators_check(&r), 30011);
    r = ok, r.price = 0;
    CHECK_EQ_INT(indicators_check(&r), 30214);
    r = ok, r.price = 6;
    CHECK_EQ_INT(indicators_check(&r), 30214);

    int32_t with_length[] = {INDICATOR_SMA, INDICATOR_EMA, INDICATOR_RSI, INDICATOR_BB};
    for (size_t t = 0; t < 4; t++) {
        r = ok, r.type = with_length[t], r.has_deviation = true;
        r.length = 0;
        CHECK_EQ_INT(indicators_check(&r), 30215);
        r.length = -5;
        CHECK_EQ_INT(indicators_check(&r), 30215);
        r.length = 1001;
        CHECK_EQ_INT(indicators_check(&r), 30215);
        r.length = 1;
        CHECK_EQ_INT(indicators_check(&r), 0);
        r.length = 1000;
        CHECK_EQ_INT(indicators_check(&r), 0);
    }

    r = ok, r.type = INDICATOR_BB;
    CHECK_EQ_INT(indicators_check(&r), 30216); /* no deviation */
    r.has_deviation = true, r.deviation_nano = -1;
    CHECK_EQ_INT(indicators_check(&r), 30216);
    r.deviation_nano = 50 * NANO + 1;
    CHECK_EQ_INT(indicators_check(&r), 30216);
    r.deviation_nano = 50 * NANO;
    CHECK_EQ_INT(indicators_check(&r), 0);
    r.deviation_nano = 0;
    CHECK_EQ_INT(indicators_check(&r), 0);

    r = ok, r.type = INDICATOR_MACD, r.length = 0; /* `length` is not MACD's */
    CHECK_EQ_INT(indicators_check(&r), 30217);     /* no smoothing */
    r.has_smoothing = true, r.fast_length = 12, r.slow_length = 26, r.signal_smoothing = 9;
    CHECK_EQ_INT(indicators_check(&r), 0);
    indicator_request m = r;
    r.fast_length = 0;
    CHECK_EQ_INT(indicators_check(&r), 30217);
    r = m, r.slow_length = 1001;
    CHECK_EQ_INT(indicators_check(&r), 30217);
    r = m, r.signal_smoothing = 51;
    CHECK_EQ_INT(indicators_check(&r), 30217);
    r = m, r.signal_smoothing = -1;
    CHECK_EQ_INT(indicators_check(&r), 30217);
    r = m, r.signal_smoothing = 0;
    CHECK_EQ_INT(indicators_check(&r), 0);
    CHECK_EQ_INT(indicators_warmup(&r), 25);
    CHECK_EQ_INT(indicators_warmup(&m), 25 + 8);

    r = ok, r.to_ns = r.from_ns - 1;
    CHECK_EQ_INT(indicators_check(&r), 30012);
    r = ok, r.to_ns = r.from_ns;
    CHECK_EQ_INT(indicators_check(&r), 0);
    /* The parameters are judged before the times. */
    r.to_ns = r.from_ns - 1, r.length = 0;
    CHECK_EQ_INT(indicators_check(&r), 30215);
}

static void test_max_period_per_interval(void) {
    const int64_t day = 86400 * NANO;
    struct {
        int32_t interval;
        int64_t max_ns;
    } cases[] = {
        {INDICATOR_INTERVAL_1_MIN, day},        {INDICATOR_INTERVAL_2_MIN, day},
        {INDICATOR_INTERVAL_3_MIN, day},        {INDICATOR_INTERVAL_5_MIN, 7 * day},
        {INDICATOR_INTERVAL_10_MIN, 7 * day},   {INDICATOR_INTERVAL_15_MIN, 21 * day},
        {INDICATOR_INTERVAL_30_MIN, 21 * day},  {INDICATOR_INTERVAL_HOUR, 92 * day},
        {INDICATOR_INTERVAL_2_HOUR, 92 * day},  {INDICATOR_INTERVAL_4_HOUR, 92 * day},
        {INDICATOR_INTERVAL_DAY, 2192 * day},   {INDICATOR_INTERVAL_WEEK, 1827 * day},
        {INDICATOR_INTERVAL_MONTH, 3653 * day},
    };
    CHECK_EQ_INT(indicators_max_period_ns(0), 0);
    CHECK_EQ_INT(indicators_max_period_ns(14), 0);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        CHECK_EQ_INT(indicators_max_period_ns(cases[c].interval), cases[c].max_ns);
        /* The longest window with the longest warm-up stays inside the bound. */
        indicator_request r = request(INDICATOR_MACD, 0);
        r.interval = cases[c].interval;
        r.has_smoothing = true;
        r.fast_length = r.slow_length = 1000;
        r.signal_smoothing = 50;
        r.to_ns = r.from_ns + cases[c].max_ns;
        CHECK_EQ_INT(indicators_check(&r), 0);
        CHECK(indicators_candle_capacity(&r) <= INDICATORS_MAX_CANDLES);
        CHECK(indicators_candle_capacity(&r) > indicators_warmup(&r));
        r.to_ns++;
        CHECK_EQ_INT(indicators_check(&r), 30014);
    }
    /* A window far past what the limit allows never reaches a subtraction that wraps. */
    indicator_request r = request(INDICATOR_SMA, 1);
    r.from_ns = INT64_MIN;
    r.to_ns = INT64_MAX;
    CHECK_EQ_INT(indicators_check(&r), 30014);
}

int main(void) {
    test_sma_matches_reference();
    test_sma_is_exact_at_large_prices();
    test_price_types();
    test_ema_matches_reference();
    test_rsi_published_example();
    test_rsi_matches_reference();
    test_rsi_edges();
    test_macd_matches_reference();
    test_bollinger_matches_reference();
    test_length_longer_than_the_series();
    test_window();
    test_values_past_int64_are_refused();
    test_rules();
    test_max_period_per_interval();
    return check_finish("test_indicators");
}
