/* The embedded exchange: order books for every instrument, matching with price-time priority,
 * exchange-side checks, a latency and reject model, and a market maker.
 *
 * DESIGN: pure and single-threaded. Time comes in as an argument and randomness from a seeded
 * generator, so the same calls with the same times always give the same reports. New orders and
 * cancels are queued with their arrival time (now + ack delay); exchange_advance() processes
 * everything due, in time order, and reports through the callback given at init: like a real
 * exchange link, the venue never reaches into the broker. Pools are sized at init; matching
 * never allocates, and a full pool is a clean reject. The report callback may read the exchange but
 * must not submit, cancel or advance: reports are sent in the middle of matching.
 *
 * Every queue is bounded by construction, so no work is ever dropped: a pool slot has at most one
 * pending arrival or match and at most one pending cancel, and an instrument at most one pending
 * market-maker refresh and one requote.
 *
 * Time never goes backwards inside the exchange: a call with a time earlier than one already
 * processed acts at the later time, so reports carry non-decreasing times.
 *
 * Client references: a broker's reference is 64 bits. The low 32 bits are its dense order slot
 * (1 ... max_client_ref) and the high 32 bits a generation the broker chooses, so that one slot
 * carries a sequence of different orders. A new generation may be submitted once the exchange has
 * reported the previous order in the slot as ended (filled, cancelled or rejected). Cancels name
 * the full reference: a cancel for an older generation never touches a newer order in the same
 * slot. Reference 0 is the market maker's. */
#ifndef TINVESTD_VENUE_EXCHANGE_H
#define TINVESTD_VENUE_EXCHANGE_H

#include <stdbool.h>
#include <stdint.h>

#include "venue/order_book.h"

typedef enum { EXCH_LIMIT = 1, EXCH_MARKET = 2, EXCH_BESTPRICE = 3 } exch_order_type;
typedef enum { EXCH_DAY = 1, EXCH_FILL_AND_KILL = 2, EXCH_FILL_OR_KILL = 3 } exch_tif;

typedef enum {
    EXCH_REPORT_ACK,
    EXCH_REPORT_TRADE,
    EXCH_REPORT_CANCELLED,
    EXCH_REPORT_REJECTED,
    EXCH_REPORT_MARKET_MAKER_MOVED, /* instrument, price_nano = the new reference price */
} exch_report_kind;

typedef enum {
    EXCH_CANCEL_BY_CLIENT = 1,
    EXCH_CANCEL_NO_LIQUIDITY,  /* market order with nothing (more) to trade against */
    EXCH_CANCEL_UNFILLED_REST, /* FAK / FOK / best-price remainder */
    EXCH_CANCEL_SELF_TRADE,    /* would have traded with the same owner's order */
    EXCH_CANCEL_FILL_LIMIT,    /* made its max_fills trades with quantity left */
} exch_cancel_reason;

typedef enum {
    EXCH_REJECT_PRICE_OUTSIDE_LIMITS = 1, /* T-Invest 30099 */
    EXCH_REJECT_INJECTED,                 /* the configured reject model */
    EXCH_REJECT_NOT_TRADING,              /* instrument halted */
    EXCH_REJECT_CAPACITY,                 /* pool or book full */
} exch_reject_reason;

typedef struct exch_report {
    exch_report_kind kind;
    uint64_t client_ref;
    uint64_t exchange_id;
    uint32_t instrument;
    int64_t qty_lots;   /* TRADE: executed; CANCELLED: cancelled */
    int64_t price_nano; /* TRADE */
    uint64_t trade_id;  /* TRADE */
    int reason;         /* exch_cancel_reason / exch_reject_reason */
    bool aggressor;     /* TRADE: this order was the incoming side */
    int64_t time_ns;
} exch_report;

typedef void (*exch_report_fn)(void *ctx, const exch_report *report);

typedef struct exch_instrument_setup {
    int64_t tick_nano;
    int64_t reference_price_nano;
    int32_t price_band_bp; /* limit_down / limit_up around the reference price */
    bool trading;
} exch_instrument_setup;

typedef struct exch_config {
    uint32_t instrument_count;
    /* Resting plus queued orders; an ended order keeps its slot until its queued cancel comes
     * due. */
    uint32_t max_orders;
    uint32_t max_client_ref; /* bounds the low 32 bits (the slot) of client references */
    uint32_t levels_per_side;
    int64_t ack_delay_ns, fill_delay_ns;
    uint32_t reject_probability_ppm;
    uint64_t seed;
    uint64_t first_exchange_id;
    bool market_maker;
    int32_t mm_levels;
    int64_t mm_lots_per_level;
    int32_t mm_spread_ticks;
    int64_t mm_refresh_ns;
    int32_t mm_walk_ticks;
    /* The market maker neither walks nor requotes on a timer: it quotes around the price of
     * each exchange_market_print (a replay of history, where the prints are the market). */
    bool mm_follows_prints;
    exch_report_fn on_report;
    void *report_ctx;
} exch_config;

typedef struct exch_trade_print {
    int64_t price_nano, qty_lots, time_ns;
    uint8_t aggressor_side;
} exch_trade_print;

typedef struct exchange exchange;

exchange *exchange_create(const exch_config *config, const exch_instrument_setup *instruments,
                          int64_t start_ns);
void exchange_destroy(exchange *x);

typedef struct exch_new_order {
    uint64_t client_ref;
    uint32_t owner; /* account + 1 */
    uint32_t instrument;
    book_side side;
    exch_order_type type;
    exch_tif tif;
    int64_t price_nano; /* limit orders */
    int64_t qty_lots;
    /* The most trades the order may make, incoming and resting together (0 = no limit). When it
     * has made that many with quantity left, the exchange cancels the rest with
     * EXCH_CANCEL_FILL_LIMIT, so the broker can reserve room for every trade at acceptance. */
    uint32_t max_fills;
    /* Trades the order has already made (an order put back by exchange_restore after a restart);
     * they count against max_fills. */
    uint32_t fills_done;
} exch_new_order;

void exchange_submit(exchange *x, const exch_new_order *order, int64_t now_ns);
/* Cancels the order with this full reference after the ack delay, never before the order itself
 * arrives. A cancel for an order the exchange does not hold (ended, never submitted, or an older
 * generation of the slot) is dropped, and so is a second cancel while one is pending. */
void exchange_cancel(exchange *x, uint64_t client_ref, int64_t now_ns);
void exchange_advance(exchange *x, int64_t now_ns);
/* A trade of the market outside the broker's clients (a replay of history): printed with the next
 * trade id, which it returns, as the instrument's last price and, when `lots` > 0, among its
 * trades; the price limits move to the instrument's band around it, and the market maker quotes
 * around it at once. Reports nothing: the caller records the print. */
uint64_t exchange_market_print(exchange *x, uint32_t instrument, int64_t price_nano, int64_t lots,
                               bool buy, int64_t now_ns);
/* The market maker stops walking and requoting on its timer (before a graceful stop). */
void exchange_stop_market_maker(exchange *x);
/* INT64_MAX when nothing is scheduled. */
int64_t exchange_next_due_ns(const exchange *x);

/* Puts back a resting order after a restart, in time priority (call oldest first), without
 * matching or reporting; order->fills_done carries the trades it already made. The exchange
 * numbers its later orders above every restored number, a refused one included.
 *
 * Returns false, holding nothing of the order, when the pool or that side of the book is full, or
 * when the order has no quantity or no trade left under max_fills. No report is sent: the caller
 * must then treat the order as cancelled by the exchange. */
bool exchange_restore(exchange *x, const exch_new_order *order, uint64_t exchange_id);
/* Puts a trade back into the instrument's recent trades (and last price) after a restart. */
void exchange_restore_trade(exchange *x, uint32_t instrument, const exch_trade_print *print);
/* The generator state, recorded with every market-maker move. */
void exchange_random_state(const exchange *x, uint64_t out[4]);
/* After a restart: the market maker quotes again around the recorded references (0 = keep the
 * configured one) and its generator continues from `random_state` (all zero = from the seed). */
void exchange_restore_market_maker(exchange *x, const int64_t *reference_nano,
                                   const uint64_t random_state[4], int64_t now_ns);
/* After a restart: numbers already handed out must never be handed out again. */
void exchange_reserve_numbers(exchange *x, uint64_t last_exchange_id, uint64_t last_trade_id);

/* Market data. */
const order_book *exchange_book(const exchange *x, uint32_t instrument);
void exchange_limits(const exchange *x, uint32_t instrument, int64_t *limit_down_nano,
                     int64_t *limit_up_nano);
int64_t exchange_last_price(const exchange *x, uint32_t instrument, int64_t *time_ns);
bool exchange_trading(const exchange *x, uint32_t instrument);
/* Opens or closes trading in the instrument. Closed: arriving orders are rejected
 * (EXCH_REJECT_NOT_TRADING), the market maker withdraws its quotes and neither walks nor quotes;
 * resting client orders stay in the book and may be cancelled. Opened again: the maker quotes
 * at the next advance. */
void exchange_set_trading(exchange *x, uint32_t instrument, bool trading);

/* The latency and reject model, changed at run time (the operator's fault injection): the
 * delays apply to orders and cancels submitted from then on, the reject probability to orders
 * arriving from then on. */
typedef struct exch_faults {
    int64_t ack_delay_ns, fill_delay_ns;
    uint32_t reject_probability_ppm; /* at most 1 000 000 */
} exch_faults;
void exchange_set_faults(exchange *x, const exch_faults *faults);
exch_faults exchange_faults(const exchange *x);

/* The operator moves the market maker's reference price to `reference_nano` (> 0; the caller
 * keeps it inside the instrument's limits), or lets it walk `steps` random-walk steps at once
 * (clamped as the walk is; returns the new reference). Either is reported as
 * EXCH_REPORT_MARKET_MAKER_MOVED, and the maker requotes around it at once unless the instrument
 * is halted. Needs the market maker (exch_config.market_maker). */
void exchange_move_market_maker(exchange *x, uint32_t instrument, int64_t reference_nano,
                                int64_t now_ns);
int64_t exchange_walk_market_maker(exchange *x, uint32_t instrument, uint32_t steps,
                                   int64_t now_ns);
int64_t exchange_market_maker_reference(const exchange *x, uint32_t instrument);
/* Copies the newest `max` trades with time in [from, to] (the exchange keeps the last 1024),
 * oldest first. */
uint32_t exchange_trades(const exchange *x, uint32_t instrument, int64_t from_ns, int64_t to_ns,
                         exch_trade_print *out, uint32_t max);

/* Observers of market data (stream fan-out): a counter of the instrument's book changes, and the
 * prints after the first `seen` of all the instrument ever printed, oldest first (at most `max`,
 * the newest of them; the exchange keeps the last 1024). *printed receives the new total. */
uint64_t exchange_book_version(const exchange *x, uint32_t instrument);
uint32_t exchange_trades_after(const exchange *x, uint32_t instrument, uint64_t seen,
                               exch_trade_print *out, uint32_t max, uint64_t *printed);

/* Fingerprint of books, counters and last prices. */
uint64_t exchange_state_hash(const exchange *x);

/* Asserts that books, pool, reference index and event queue agree with each other (for tests and
 * the simulator: it walks every slot). */
void exchange_check_invariants(const exchange *x);

#endif
