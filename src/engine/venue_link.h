/* The exchange link between the broker core and the embedded venue.
 *
 * It turns the core's new/cancel requests into venue orders and the venue's execution reports
 * into core reports, and owns the venue. Everything here runs on the core thread. */
#ifndef TINVESTD_ENGINE_VENUE_LINK_H
#define TINVESTD_ENGINE_VENUE_LINK_H

#include <stdint.h>

#include "core/core.h"
#include "core/refdata.h"

typedef struct engine_venue_settings {
    int64_t ack_delay_ns;
    int64_t fill_delay_ns;
    uint32_t reject_probability_ppm;
    uint64_t seed;
    bool market_maker_enabled;
    int32_t market_maker_levels;
    int64_t market_maker_lots_per_level;
    int32_t market_maker_spread_ticks;
    int64_t market_maker_refresh_ns;
    int32_t market_maker_walk_ticks;
    /* A replay of history: the market maker quotes around the market's prints instead of
     * walking (venue_link_set_history). */
    bool market_follows_history;
    uint32_t max_orders;
} engine_venue_settings;

typedef struct engine_venue_link engine_venue_link;

engine_venue_link *venue_link_create(const refdata *rd, const engine_venue_settings *settings,
                                     int64_t start_ns);
void venue_link_destroy(engine_venue_link *link);

/* Installs the link as the core's exchange. */
void venue_link_attach(engine_venue_link *link, core *c);
/* Graceful stop: the market maker stops moving (see engine_close_market). */
void venue_link_close_market(engine_venue_link *link);
/* A replay of history: the market prints the points of `market` as the clock reaches them
 * (CORE_EVENT_MARKET_PRINT), in time order with the exchange's own timers. The link borrows it. */
struct history_market;
void venue_link_set_history(engine_venue_link *link, struct history_market *market);
/* Sends the core's queued requests (new orders, cancels) to the exchange, whose reports go back
 * to the core; repeats until nothing is queued (a report may queue more: a replacement armed by
 * a cancel). Call after every core command. */
void venue_link_pump(engine_venue_link *link);
/* Lets the venue process everything due by `now_ns`, feeding its reports to the core. */
void venue_link_advance(engine_venue_link *link, int64_t now_ns);
/* After recovery: puts the broker's open orders back into the exchange's books (acknowledged
 * ones resting with their numbers, unacknowledged ones sent again; one that no longer fits is
 * reported cancelled by the exchange), then lets the core ask again for what the crash lost
 * (core_resume). */
void venue_link_restore(engine_venue_link *link, int64_t now_ns);
uint64_t venue_link_state_hash(const engine_venue_link *link);
/* When the venue next has something to do; INT64_MAX when nothing is scheduled. */
int64_t venue_link_next_due_ns(const engine_venue_link *link);

/* Market data for MarketDataService, read on the core thread. */
#define VENUE_LINK_MAX_DEPTH 50

typedef struct venue_link_level {
    int64_t price_nano;
    int64_t qty_lots;
} venue_link_level;

typedef struct venue_link_book {
    uint32_t bid_count, ask_count;
    venue_link_level bids[VENUE_LINK_MAX_DEPTH]; /* best first */
    venue_link_level asks[VENUE_LINK_MAX_DEPTH]; /* best first */
    int64_t limit_down_nano, limit_up_nano;
    int64_t last_price_nano, last_price_ns;
} venue_link_book;

typedef struct venue_link_trade {
    int64_t price_nano, qty_lots, time_ns;
    int direction; /* 1 buy (the aggressor bought), 2 sell */
} venue_link_trade;

void venue_link_order_book(const engine_venue_link *link, uint32_t instrument_index, uint32_t depth,
                           venue_link_book *out);
/* Trades of the instrument between the times (inclusive), oldest first; returns the count. */
uint32_t venue_link_last_trades(const engine_venue_link *link, uint32_t instrument_index,
                                int64_t from_ns, int64_t to_ns, venue_link_trade *out,
                                uint32_t max);
bool venue_link_trading(const engine_venue_link *link, uint32_t instrument_index);

/* The operator's controls (api/admin_service.c), on the core thread. */
/* Halts or resumes trading in the instrument: the exchange catches up to `now_ns`, the core
 * records the change (core_set_trading_halt; *changed false when there was none), and the
 * exchange's trading flag follows (the configured status and the halt together). */
void venue_link_set_halt(engine_venue_link *link, uint32_t instrument_index, bool halted,
                         int64_t now_ns, bool *changed);
/* The exchange's latency and reject model now (venue_settings at start, then the operator's). */
typedef struct venue_link_faults {
    int64_t ack_delay_ns, fill_delay_ns;
    uint32_t reject_probability_ppm;
} venue_link_faults;
venue_link_faults venue_link_get_faults(const engine_venue_link *link);
/* The caller has checked the values (no negative delay, at most 1 000 000 ppm). */
void venue_link_set_faults(engine_venue_link *link, const venue_link_faults *faults);
bool venue_link_has_market_maker(const engine_venue_link *link);
/* Moves the market maker's reference to `price_nano` (walk_steps 0), or walks it `walk_steps`
 * steps; the move is journaled (CORE_EVENT_MARKET_MAKER_MOVED) and the maker requotes around it,
 * which may trade with resting client orders. Returns the new reference. Needs the market
 * maker. */
int64_t venue_link_move_price(engine_venue_link *link, uint32_t instrument_index,
                              int64_t price_nano, uint32_t walk_steps, int64_t now_ns);
int64_t venue_link_market_maker_reference(const engine_venue_link *link,
                                          uint32_t instrument_index);
/* When the instrument last printed (its last price's time), without copying its book. */
int64_t venue_link_last_price_ns(const engine_venue_link *link, uint32_t instrument_index);

/* The size of the instrument's book on each side (core thread; for the metrics): the number of
 * price levels and the lots resting on them. */
typedef struct venue_link_depth {
    uint32_t bid_levels, ask_levels;
    int64_t bid_lots, ask_lots;
} venue_link_depth;
void venue_link_book_depth(const engine_venue_link *link, uint32_t instrument_index,
                           venue_link_depth *out);

/* For the market-data streams' feed (core thread): a counter that changes whenever the
 * instrument's book does, and the prints after the first `seen` the instrument ever printed
 * (oldest first, at most `max`: the newest of them). *printed receives the new total. */
uint64_t venue_link_book_version(const engine_venue_link *link, uint32_t instrument_index);
uint32_t venue_link_trades_after(const engine_venue_link *link, uint32_t instrument_index,
                                 uint64_t seen, venue_link_trade *out, uint32_t max,
                                 uint64_t *printed);

#endif
