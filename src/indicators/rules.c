/* The rules of a GetTechAnalysis request: which parameters each indicator needs, their ranges,
 * and the longest period per interval. */
#include <assert.h>

#include "indicators/indicators.h"

#define NS_PER_MINUTE INT64_C(60000000000)
#define NS_PER_DAY (1440 * NS_PER_MINUTE)

typedef struct interval_rule {
    int64_t candle_ns;     /* the candle's shortest length (a month: 28 days) */
    int64_t max_period_ns; /* the longest `to - from` */
} interval_rule;

/* Indexed by the contract's IndicatorInterval value. The periods are the contract's candle
 * limits, taken at their longest calendar reading: three months are 92 days, a year 365.25
 * days rounded up (six years 2192 days, five 1827, ten 3653). */
static const interval_rule rules[] = {
    [INDICATOR_INTERVAL_1_MIN] = {NS_PER_MINUTE, NS_PER_DAY},
    [INDICATOR_INTERVAL_2_MIN] = {2 * NS_PER_MINUTE, NS_PER_DAY},
    [INDICATOR_INTERVAL_3_MIN] = {3 * NS_PER_MINUTE, NS_PER_DAY},
    [INDICATOR_INTERVAL_5_MIN] = {5 * NS_PER_MINUTE, 7 * NS_PER_DAY},
    [INDICATOR_INTERVAL_10_MIN] = {10 * NS_PER_MINUTE, 7 * NS_PER_DAY},
    [INDICATOR_INTERVAL_15_MIN] = {15 * NS_PER_MINUTE, 21 * NS_PER_DAY},
    [INDICATOR_INTERVAL_30_MIN] = {30 * NS_PER_MINUTE, 21 * NS_PER_DAY},
    [INDICATOR_INTERVAL_HOUR] = {60 * NS_PER_MINUTE, 92 * NS_PER_DAY},
    [INDICATOR_INTERVAL_2_HOUR] = {120 * NS_PER_MINUTE, 92 * NS_PER_DAY},
    [INDICATOR_INTERVAL_4_HOUR] = {240 * NS_PER_MINUTE, 92 * NS_PER_DAY},
    [INDICATOR_INTERVAL_DAY] = {NS_PER_DAY, 2192 * NS_PER_DAY},
    [INDICATOR_INTERVAL_WEEK] = {7 * NS_PER_DAY, 1827 * NS_PER_DAY},
    [INDICATOR_INTERVAL_MONTH] = {28 * NS_PER_DAY, 3653 * NS_PER_DAY},
};

static const interval_rule *rule_of(int32_t interval) {
    if (interval <= 0 || (size_t)interval >= sizeof rules / sizeof rules[0])
        return NULL;
    return &rules[interval];
}

int64_t indicators_max_period_ns(int32_t interval) {
    const interval_rule *rule = rule_of(interval);
    return rule == NULL ? 0 : rule->max_period_ns;
}

static bool valid_type(int32_t type) {
    return type >= INDICATOR_BB && type <= INDICATOR_SMA;
}

static bool valid_price(int32_t price) {
    return price >= INDICATOR_PRICE_CLOSE && price <= INDICATOR_PRICE_AVG;
}

static bool valid_length(int32_t length) {
    return length >= INDICATORS_LENGTH_MIN && length <= INDICATORS_LENGTH_MAX;
}

/* 0, or the code of the first parameter of the request's indicator that is missing or out of
 * its range. */
static int check_parameters(const indicator_request *req) {
    switch ((indicator_type)req->type) {
    case INDICATOR_SMA:
    case INDICATOR_EMA:
    case INDICATOR_RSI:
        return valid_length(req->length) ? 0 : 30215;
    case INDICATOR_BB:
        if (!valid_length(req->length))
            return 30215;
        if (!req->has_deviation || req->deviation_nano < 0 ||
            req->deviation_nano > INDICATORS_DEVIATION_MAX_NANO)
            return 30216;
        return 0;
    case INDICATOR_MACD:
        if (!req->has_smoothing || !valid_length(req->fast_length) ||
            !valid_length(req->slow_length) || req->signal_smoothing < 0 ||
            req->signal_smoothing > INDICATORS_SIGNAL_SMOOTHING_MAX)
            return 30217;
        return 0;
    }
    assert(!"indicator type checked before its parameters");
    return 30213;
}

int indicators_check(const indicator_request *req) {
    if (!valid_type(req->type))
        return 30213;
    const interval_rule *rule = rule_of(req->interval);
    if (rule == NULL)
        return 30011;
    if (!valid_price(req->price))
        return 30214;
    int code = check_parameters(req);
    if (code != 0)
        return code;
    if (req->to_ns < req->from_ns)
        return 30012;
    /* Both times are inside 1970 .. 2099 here or the caller refused them, but the difference is
     * taken checked all the same. */
    int64_t period_ns;
    if (__builtin_sub_overflow(req->to_ns, req->from_ns, &period_ns) ||
        period_ns > rule->max_period_ns)
        return 30014;
    return 0;
}

size_t indicators_warmup(const indicator_request *req) {
    switch ((indicator_type)req->type) {
    case INDICATOR_SMA:
    case INDICATOR_EMA:
    case INDICATOR_BB:
        return (size_t)req->length - 1;
    case INDICATOR_RSI:
        return (size_t)req->length;
    case INDICATOR_MACD: {
        int32_t longest = req->fast_length > req->slow_length ? req->fast_length : req->slow_length;
        size_t signal = req->signal_smoothing > 0 ? (size_t)req->signal_smoothing - 1 : 0;
        return (size_t)longest - 1 + signal;
    }
    }
    assert(!"indicators_warmup of an unchecked request");
    return 0;
}

size_t indicators_candle_capacity(const indicator_request *req) {
    const interval_rule *rule = rule_of(req->interval);
    assert(rule != NULL && req->to_ns >= req->from_ns);
    size_t window = (size_t)((req->to_ns - req->from_ns) / rule->candle_ns) + 1;
    size_t capacity = window + indicators_warmup(req);
    assert(capacity <= INDICATORS_MAX_CANDLES);
    return capacity;
}
