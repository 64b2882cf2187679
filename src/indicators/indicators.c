/* The indicators themselves. Every definition is the textbook one; the choices the contract
 * leaves open are named where they are made:
 *
 * - SMA(n): the mean of the last n prices.
 * - EMA(n): weight 2 / (n + 1), seeded with the SMA of the first n prices (the first value is
 *   at the n-th candle).
 * - RSI(n): Wilder's: the average gain and loss are seeded with the plain means of the first n
 *   changes and then smoothed with weight 1 / n; RSI = 100 * gain / (gain + loss), 50 when
 *   both are 0 (a flat series: neither side has any strength). The first value is at the
 *   (n + 1)-th candle.
 * - MACD(fast, slow, signal): macd = EMA(fast) - EMA(slow), from the candle where both are
 *   defined; signal = EMA(signal) of the macd line, seeded with the mean of its first `signal`
 *   values; signal_smoothing 0 means no signal line (only macd is sent).
 * - BB(n, k): middle = SMA(n), upper / lower = middle +/- k * the population standard deviation
 *   of the same n prices.
 *
 * Numbers: see the header (exact integer sums, long double where weights are not integers). */
#include <assert.h>
#include <float.h>
#include <math.h>

#include "indicators/indicators.h"

_Static_assert(LDBL_MANT_DIG >= 64, "long double must hold every int64 exactly");

typedef __int128 wide;

/* A candle's price as a numerator over the series' denominator (1, or 4 for the average). */
static wide price_of(const indicator_candle *c, int32_t price) {
    switch ((indicator_price)price) {
    case INDICATOR_PRICE_CLOSE:
        return c->close_nano;
    case INDICATOR_PRICE_OPEN:
        return c->open_nano;
    case INDICATOR_PRICE_HIGH:
        return c->high_nano;
    case INDICATOR_PRICE_LOW:
        return c->low_nano;
    case INDICATOR_PRICE_AVG:
        return (wide)c->open_nano + c->high_nano + c->low_nano + c->close_nano;
    }
    assert(!"price type checked before the computation");
    return 0;
}

static wide denominator_of(int32_t price) {
    return price == INDICATOR_PRICE_AVG ? 4 : 1;
}

/* num / den rounded to the nearest integer, half away from zero (den > 0). The quotient of a
 * mean of int64 prices fits int64. */
static int64_t rounded_div(wide num, wide den) {
    assert(den > 0);
    wide q = num / den, r = num % den;
    wide twice_r = r < 0 ? -2 * r : 2 * r;
    if (twice_r >= den)
        q += num < 0 ? -1 : 1;
    assert(q >= INT64_MIN && q <= INT64_MAX);
    return (int64_t)q;
}

/* `v` rounded to the nearest nano-unit, half away from zero; false when it is not a finite
 * number that fits int64. */
static bool to_nano(long double v, int64_t *out) {
    if (!isfinite(v))
        return false;
    long double r = roundl(v);
    if (r < -0x1p63L || r >= 0x1p63L)
        return false;
    *out = (int64_t)r;
    return true;
}

/* For values that are convex combinations of int64 prices (or lie in 0 .. 100 units): only the
 * last rounding at the very edge of int64 can leave the range, and the edge is the answer. */
static int64_t to_nano_bounded(long double v) {
    int64_t out;
    if (to_nano(v, &out))
        return out;
    assert(isfinite(v));
    return v < 0 ? INT64_MIN : INT64_MAX;
}

typedef struct series {
    const indicator_candle *candles;
    size_t n;
    int32_t price;
    wide den;
} series;

static wide num_at(const series *s, size_t i) {
    return price_of(&s->candles[i], s->price);
}

static long double value_at(const series *s, size_t i) {
    return (long double)num_at(s, i) / (long double)s->den;
}

/* The output: one slot per candle of the window, appended in time order. */
typedef struct output {
    const indicator_request *req;
    const series *s;
    indicator_value *values;
    size_t max, count;
} output;

/* The slot for candle i, or NULL when the candle lies outside `from` .. `to`. Called with
 * increasing i only. */
static indicator_value *slot(output *o, size_t i) {
    int64_t t = o->s->candles[i].time_ns;
    if (t < o->req->from_ns || t > o->req->to_ns)
        return NULL;
    assert(o->count < o->max);
    indicator_value *v = &o->values[o->count++];
    *v = (indicator_value){.time_ns = t};
    return v;
}

static void compute_sma(const series *s, int32_t length, output *o) {
    size_t n = (size_t)length;
    wide sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        sum += num_at(s, i);
        if (i >= n)
            sum -= num_at(s, i - n);
        if (i + 1 < n)
            continue;
        indicator_value *v = slot(o, i);
        if (v != NULL) {
            v->has_signal = true;
            v->signal_nano = rounded_div(sum, s->den * (wide)n);
        }
    }
}

/* An EMA over a sequence fed one value at a time: seeded with the mean of the first `length`. */
typedef struct ema {
    size_t length, seen;
    long double alpha, value;
    wide seed_sum; /* exact, while seeding from prices */
    long double seed_sum_ld;
} ema;

static ema ema_start(int32_t length) {
    return (ema){.length = (size_t)length, .alpha = 2.0L / ((long double)length + 1.0L)};
}

/* Feeds an exact price numerator; true once the EMA is defined. */
static bool ema_feed_num(ema *e, wide num, wide den) {
    e->seen++;
    if (e->seen < e->length) {
        e->seed_sum += num;
        return false;
    }
    if (e->seen == e->length) {
        e->seed_sum += num;
        e->value = (long double)e->seed_sum / ((long double)den * (long double)e->length);
        return true;
    }
    e->value += e->alpha * ((long double)num / (long double)den - e->value);
    return true;
}

/* Feeds a computed value (the MACD line). */
static bool ema_feed(ema *e, long double x) {
    e->seen++;
    if (e->seen < e->length) {
        e->seed_sum_ld += x;
        return false;
    }
    if (e->seen == e->length) {
        e->seed_sum_ld += x;
        e->value = e->seed_sum_ld / (long double)e->length;
        return true;
    }
    e->value += e->alpha * (x - e->value);
    return true;
}

static void compute_ema(const series *s, int32_t length, output *o) {
    ema e = ema_start(length);
    for (size_t i = 0; i < s->n; i++) {
        if (!ema_feed_num(&e, num_at(s, i), s->den))
            continue;
        indicator_value *v = slot(o, i);
        if (v != NULL) {
            v->has_signal = true;
            v->signal_nano = to_nano_bounded(e.value);
        }
    }
}

static void compute_rsi(const series *s, int32_t length, output *o) {
    size_t n = (size_t)length;
    wide gain_sum = 0, loss_sum = 0;
    long double gain = 0, loss = 0;
    for (size_t i = 1; i < s->n; i++) {
        wide change = num_at(s, i) - num_at(s, i - 1);
        wide up = change > 0 ? change : 0, down = change < 0 ? -change : 0;
        if (i < n) {
            gain_sum += up;
            loss_sum += down;
            continue;
        }
        if (i == n) {
            gain_sum += up;
            loss_sum += down;
            gain = (long double)gain_sum / ((long double)s->den * (long double)n);
            loss = (long double)loss_sum / ((long double)s->den * (long double)n);
        } else {
            gain = (gain * (long double)(n - 1) + (long double)up / (long double)s->den) /
                   (long double)n;
            loss = (loss * (long double)(n - 1) + (long double)down / (long double)s->den) /
                   (long double)n;
        }
        indicator_value *v = slot(o, i);
        if (v == NULL)
            continue;
        long double rsi = gain + loss == 0 ? 50.0L : 100.0L * gain / (gain + loss);
        v->has_signal = true;
        v->signal_nano = to_nano_bounded(rsi * 1e9L);
    }
}

static int compute_macd(const series *s, const indicator_request *req, output *o) {
    ema fast = ema_start(req->fast_length), slow = ema_start(req->slow_length);
    ema signal = ema_start(req->signal_smoothing > 0 ? req->signal_smoothing : 1);
    for (size_t i = 0; i < s->n; i++) {
        wide num = num_at(s, i);
        bool fast_ready = ema_feed_num(&fast, num, s->den);
        bool slow_ready = ema_feed_num(&slow, num, s->den);
        if (!fast_ready || !slow_ready)
            continue;
        long double macd = fast.value - slow.value;
        bool signal_ready = req->signal_smoothing > 0 && ema_feed(&signal, macd);
        indicator_value *v = slot(o, i);
        if (v == NULL)
            continue;
        v->has_macd = to_nano(macd, &v->macd_nano);
        v->has_signal = signal_ready && to_nano(signal.value, &v->signal_nano);
        if (!v->has_macd || (signal_ready && !v->has_signal))
            return 30217;
    }
    return 0;
}

static int compute_bb(const series *s, const indicator_request *req, output *o) {
    size_t n = (size_t)req->length;
    long double k = (long double)req->deviation_nano / 1e9L;
    wide sum = 0;
    for (size_t i = 0; i < s->n; i++) {
        sum += num_at(s, i);
        if (i >= n)
            sum -= num_at(s, i - n);
        if (i + 1 < n)
            continue;
        indicator_value *v = slot(o, i);
        if (v == NULL)
            continue;
        /* Two passes over the window: the exact mean, then the squared distances from it. */
        long double mean = (long double)sum / ((long double)s->den * (long double)n);
        long double squares = 0;
        for (size_t j = i + 1 - n; j <= i; j++) {
            long double d = value_at(s, j) - mean;
            squares += d * d;
        }
        long double sd = sqrtl(squares / (long double)n);
        v->has_middle = true;
        v->middle_nano = rounded_div(sum, s->den * (wide)n);
        v->has_upper = to_nano(mean + k * sd, &v->upper_nano);
        v->has_lower = to_nano(mean - k * sd, &v->lower_nano);
        if (!v->has_upper || !v->has_lower)
            return 30216;
    }
    return 0;
}

int indicators_compute(const indicator_request *req, const indicator_candle *candles, size_t n,
                       indicator_value *out, size_t max, size_t *count) {
    assert(indicators_check(req) == 0);
    assert(max >= n);
    for (size_t i = 1; i < n; i++)
        assert(candles[i - 1].time_ns < candles[i].time_ns);
    series s = {.candles = candles, .n = n, .price = req->price, .den = denominator_of(req->price)};
    output o = {.req = req, .s = &s, .values = out, .max = max};
    int code = 0;
    switch ((indicator_type)req->type) {
    case INDICATOR_SMA:
        compute_sma(&s, req->length, &o);
        break;
    case INDICATOR_EMA:
        compute_ema(&s, req->length, &o);
        break;
    case INDICATOR_RSI:
        compute_rsi(&s, req->length, &o);
        break;
    case INDICATOR_MACD:
        code = compute_macd(&s, req, &o);
        break;
    case INDICATOR_BB:
        code = compute_bb(&s, req, &o);
        break;
    }
    *count = code == 0 ? o.count : 0;
    return code;
}
