/* SignalService's reference data: the strategies and the signals they produced, and the rules of
 * a GetSignals request (filters and paging) as plain values. Loaded once by config/
 * (docs/REFERENCE-DATA.md), read-only afterwards. A signal is active until it has a close time;
 * a strategy's active and total signal counts are counted from the signals, never stored. */
#ifndef TINVESTD_REFBOOK_SIGNALS_H
#define TINVESTD_REFBOOK_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

#define REFBOOK_MAX_STRATEGIES 256
#define REFBOOK_MAX_SIGNALS 4096
/* GetSignals answers this many signals a page when the request sets no `limit`. */
#define REFBOOK_SIGNALS_DEFAULT_LIMIT 20

typedef struct refbook_strategy {
    const char *uid, *name, *description, *url; /* description, url: NULL when absent */
    int32_t type;                               /* StrategyType */
    int64_t time_in_position;
    int64_t average_signal_yield_nano, average_signal_yield_year_nano;
    int64_t yield_nano, yield_year_nano;
    int32_t active_signals, total_signals; /* counted from the signals */
} refbook_strategy;

typedef struct refbook_signal {
    const char *uid, *name, *info;    /* info: NULL when absent */
    uint32_t strategy;                /* index into strategies */
    uint32_t instrument;              /* refdata index */
    int64_t create_s, end_s, close_s; /* close_s 0: still active */
    int32_t direction;                /* SignalDirection */
    int64_t initial_price_nano, target_price_nano;
    bool has_probability, has_stoploss, has_close_price;
    int32_t probability;
    int64_t stoploss_nano, close_price_nano;
} refbook_signal;

typedef struct refbook_signals {
    uint32_t strategy_count, signal_count;
    refbook_strategy strategies[REFBOOK_MAX_STRATEGIES];
    refbook_signal signals[REFBOOK_MAX_SIGNALS];
} refbook_signals;

/* SignalState values. */
#define REFBOOK_SIGNAL_STATE_ACTIVE 1
#define REFBOOK_SIGNAL_STATE_CLOSED 2
#define REFBOOK_SIGNAL_STATE_ALL 3

/* What GetSignals selects; a field left at its zero (NULL, 0, INT64_MIN/MAX for the times) does
 * not filter. */
typedef struct refbook_signal_filter {
    const char *signal_id, *strategy_id;
    int32_t strategy_type;
    bool by_instrument;
    uint32_t instrument;
    int64_t from_s, to_s; /* on the creation time, inclusive */
    int32_t direction;
    int32_t state; /* ACTIVE, CLOSED or ALL */
} refbook_signal_filter;

const refbook_strategy *refbook_find_strategy(const refbook_signals *s, const char *uid);
const refbook_signal *refbook_find_signal(const refbook_signals *s, const char *uid);
bool refbook_signal_selected(const refbook_signals *s, const refbook_signal *signal,
                             const refbook_signal_filter *filter);
/* Counts each strategy's active and total signals (once, after loading). */
void refbook_signals_count(refbook_signals *s);

#endif
