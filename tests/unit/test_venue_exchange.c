/* The embedded exchange: priority, partial fills, every order type and time in force, price
 * limits, cancels, the latency and reject model, the market maker, self-trade prevention,
 * capacity, bounded event queues, reused client references, fill limits, restore refusals, the
 * exchange's clock, and determinism. Reports are recorded and inspected.
 *
 * With an argument, only the tests whose names contain it run. */
#include <string.h>

#include "check.h"
#include "venue/exchange.h"

#define NANO 1000000000LL
#define MAX_REPORTS 4096

static exch_report reports[MAX_REPORTS];
static int report_count;

static void record(void *ctx, const exch_report *r) {
    if (report_count < MAX_REPORTS)
        reports[report_count++] = *r;
}

static exch_instrument_setup setup = {.tick_nano = NANO / 100,
                                      .reference_price_nano = 100 * NANO,
                                      .price_band_bp = 1000,
                                      .trading = true};

static exch_config base_config(void) {
    return (exch_config){.instrument_count = 1,
                         .max_orders = 64,
                         .max_client_ref = 1000,
                         .levels_per_side = 16,
                         .seed = 1,
                         .first_exchange_id = 1000,
                         .on_report = record};
}

static exchange *make(exch_config cfg) {
    report_count = 0;
    return exchange_create(&cfg, &setup, 0);
}

static void place(exchange *x, uint64_t ref, uint32_t owner, book_side side, exch_order_type type,
                  exch_tif tif, int64_t price, int64_t qty, int64_t now) {
    exch_new_order o = {.client_ref = ref,
                        .owner = owner,
                        .instrument = 0,
                        .side = side,
                        .type = type,
                        .tif = tif,
                        .price_nano = price,
                        .qty_lots = qty};
    exchange_submit(x, &o, now);
    exchange_advance(x, now);
}

static int count(exch_report_kind kind, uint64_t ref) {
    int n = 0;
    for (int i = 0; i < report_count; i++)
        n += reports[i].kind == kind && reports[i].client_ref == ref;
    return n;
}

static const exch_report *last(exch_report_kind kind, uint64_t ref) {
    for (int i = report_count - 1; i >= 0; i--)
        if (reports[i].kind == kind && reports[i].client_ref == ref)
            return &reports[i];
    return NULL;
}

/* Position of the last report of `kind` for `ref`, -1 when there is none. */
static int last_at(exch_report_kind kind, uint64_t ref) {
    for (int i = report_count - 1; i >= 0; i--)
        if (reports[i].kind == kind && reports[i].client_ref == ref)
            return i;
    return -1;
}

static bool reports_in_time_order(void) {
    for (int i = 1; i < report_count; i++)
        if (reports[i].time_ns < reports[i - 1].time_ns)
            return false;
    return true;
}

static int64_t traded(uint64_t ref) {
    int64_t lots = 0;
    for (int i = 0; i < report_count; i++)
        if (reports[i].kind == EXCH_REPORT_TRADE && reports[i].client_ref == ref)
            lots += reports[i].qty_lots;
    return lots;
}

static void test_price_time_priority_and_partial_fills(void) {
    exchange *x = make(base_config());
    place(x, 1, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 101 * NANO, 5, 1);
    place(x, 2, 2, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 5, 2);
    place(x, 3, 3, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 5, 3);
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, 1) + count(EXCH_REPORT_ACK, 2) + count(EXCH_REPORT_ACK, 3),
                 3);
    CHECK(last(EXCH_REPORT_ACK, 2)->exchange_id > last(EXCH_REPORT_ACK, 1)->exchange_id);
    /* A buy of 7 at 101: best price first (100), and at 100 the earlier order first. */
    place(x, 4, 4, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 101 * NANO, 7, 4);
    CHECK_EQ_INT(traded(2), 5);
    CHECK_EQ_INT(traded(3), 2);
    CHECK_EQ_INT(traded(1), 0);
    CHECK_EQ_INT(traded(4), 7);
    CHECK_EQ_INT(last(EXCH_REPORT_TRADE, 4)->price_nano, 100 * NANO);
    const order_book *book = exchange_book(x, 0);
    CHECK_EQ_INT(book->asks.count, 2);
    CHECK_EQ_INT(book->asks.levels[0].total_lots, 3);
    CHECK_EQ_INT(exchange_last_price(x, 0, NULL), 100 * NANO);
    exch_trade_print prints[8];
    CHECK_EQ_INT(exchange_trades(x, 0, 0, 100, prints, 8), 2);
    exchange_destroy(x);
}

/* GetLastTrades asks for the newest trades of its window: with more in the window than it may
 * take, it got the oldest ones. */
static void test_trades_are_the_newest_of_the_window(void) {
    exchange *x = make(base_config());
    for (int64_t i = 1; i <= 300; i++) {
        place(x, (uint64_t)(2 * i), 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, i);
        place(x, (uint64_t)(2 * i + 1), 2, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, i);
        report_count = 0;
    }
    exch_trade_print prints[256];
    CHECK_EQ_INT(exchange_trades(x, 0, 0, 1000, prints, 256), 256);
    CHECK_EQ_INT(prints[0].time_ns, 45);
    CHECK_EQ_INT(prints[255].time_ns, 300);
    CHECK_EQ_INT(exchange_trades(x, 0, 0, 100, prints, 10), 10);
    CHECK_EQ_INT(prints[0].time_ns, 91);
    CHECK_EQ_INT(prints[9].time_ns, 100);
    CHECK_EQ_INT(exchange_trades(x, 0, 299, 1000, prints, 10), 2);
    CHECK_EQ_INT(prints[1].time_ns, 300);
    exchange_destroy(x);
}

static void test_time_in_force_and_types(void) {
    exchange *x = make(base_config());
    place(x, 1, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 3, 1);
    /* FILL_AND_KILL: takes the 3 available, the other 2 are cancelled by the exchange. */
    place(x, 2, 2, BOOK_BUY, EXCH_LIMIT, EXCH_FILL_AND_KILL, 100 * NANO, 5, 2);
    CHECK_EQ_INT(traded(2), 3);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 2)->qty_lots, 2);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 2)->reason, EXCH_CANCEL_UNFILLED_REST);
    /* FILL_OR_KILL that cannot fill entirely trades nothing. */
    place(x, 3, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 3, 3);
    place(x, 4, 2, BOOK_BUY, EXCH_LIMIT, EXCH_FILL_OR_KILL, 100 * NANO, 4, 4);
    CHECK_EQ_INT(traded(4), 0);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 4)->qty_lots, 4);
    place(x, 5, 2, BOOK_BUY, EXCH_LIMIT, EXCH_FILL_OR_KILL, 100 * NANO, 3, 5);
    CHECK_EQ_INT(traded(5), 3);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 5), 0);
    /* MARKET with no liquidity is cancelled whole; MARKET sweeps levels then cancels the rest. */
    place(x, 6, 2, BOOK_BUY, EXCH_MARKET, EXCH_DAY, 0, 2, 6);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 6)->reason, EXCH_CANCEL_NO_LIQUIDITY);
    place(x, 7, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, 7);
    place(x, 8, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 105 * NANO, 1, 8);
    place(x, 9, 2, BOOK_BUY, EXCH_MARKET, EXCH_DAY, 0, 3, 9);
    CHECK_EQ_INT(traded(9), 2);
    CHECK_EQ_INT(last(EXCH_REPORT_TRADE, 9)->price_nano, 105 * NANO);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 9)->qty_lots, 1);
    /* BESTPRICE trades only within 0.3% of the last price (105 now): 105.30 at most. */
    place(x, 10, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 10530 * NANO / 100, 1, 10);
    place(x, 11, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 10540 * NANO / 100, 1, 11);
    place(x, 12, 2, BOOK_BUY, EXCH_BESTPRICE, EXCH_DAY, 0, 2, 12);
    CHECK_EQ_INT(traded(12), 1);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 12)->qty_lots, 1);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 1);
    exchange_destroy(x);
}

static void test_limits_cancel_self_trade_capacity(void) {
    exch_config cfg = base_config();
    cfg.max_orders = 3;
    exchange *x = make(cfg);
    int64_t down, up;
    exchange_limits(x, 0, &down, &up);
    CHECK_EQ_INT(down, 90 * NANO);
    CHECK_EQ_INT(up, 110 * NANO);
    place(x, 1, 1, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 111 * NANO, 1, 1);
    CHECK_EQ_INT(last(EXCH_REPORT_REJECTED, 1)->reason, EXCH_REJECT_PRICE_OUTSIDE_LIMITS);
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, 1), 0);
    place(x, 2, 1, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 99 * NANO, 4, 2);
    exchange_cancel(x, 2, 3);
    exchange_advance(x, 3);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 2)->reason, EXCH_CANCEL_BY_CLIENT);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 2)->qty_lots, 4);
    CHECK_EQ_INT(exchange_book(x, 0)->bids.count, 0);
    exchange_cancel(x, 2, 4); /* already gone: nothing happens */
    exchange_advance(x, 4);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 2), 1);
    /* The same owner never trades with itself: the incoming order is cancelled. */
    place(x, 3, 7, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, 5);
    place(x, 4, 7, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, 6);
    CHECK_EQ_INT(traded(4), 0);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 4)->reason, EXCH_CANCEL_SELF_TRADE);
    /* Capacity 3: two resting orders fill it (with the one above), the next is rejected. */
    place(x, 5, 1, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 95 * NANO, 1, 7);
    place(x, 6, 1, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 94 * NANO, 1, 8);
    place(x, 7, 1, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 93 * NANO, 1, 9);
    CHECK_EQ_INT(last(EXCH_REPORT_REJECTED, 7)->reason, EXCH_REJECT_CAPACITY);
    exchange_destroy(x);
}

static void test_latency_and_reject_model(void) {
    exch_config cfg = base_config();
    cfg.ack_delay_ns = 1000;
    exchange *x = make(cfg);
    exch_new_order o = {.client_ref = 1,
                        .owner = 1,
                        .side = BOOK_BUY,
                        .type = EXCH_LIMIT,
                        .tif = EXCH_DAY,
                        .price_nano = 99 * NANO,
                        .qty_lots = 1};
    exchange_submit(x, &o, 0);
    exchange_cancel(x, 1, 10);
    exchange_advance(x, 999);
    CHECK_EQ_INT(report_count, 0);
    CHECK_EQ_INT(exchange_next_due_ns(x), 1000);
    exchange_advance(x, 1000);
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, 1), 1);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 1), 0);
    exchange_advance(x, 1010);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 1), 1);
    CHECK_EQ_INT(last(EXCH_REPORT_ACK, 1)->time_ns, 1000);
    exchange_destroy(x);

    /* Half of the orders rejected, and the same seed rejects the same ones. */
    int rejected_first[40], rejected_second[40], total = 0;
    for (int round = 0; round < 2; round++) {
        exch_config rc = base_config();
        rc.reject_probability_ppm = 500000;
        rc.seed = 99;
        rc.max_orders = 64;
        exchange *y = make(rc);
        for (int i = 0; i < 40; i++) {
            place(y, (uint64_t)i + 1, 1, BOOK_BUY, EXCH_LIMIT, EXCH_FILL_AND_KILL, 95 * NANO, 1, i);
            (round == 0 ? rejected_first : rejected_second)[i] =
                count(EXCH_REPORT_REJECTED, (uint64_t)i + 1);
        }
        exchange_destroy(y);
    }
    for (int i = 0; i < 40; i++) {
        CHECK_EQ_INT(rejected_first[i], rejected_second[i]);
        total += rejected_first[i];
    }
    CHECK(total > 8 && total < 32);
}

/* A maker quoting 3 levels of 10 lots, one tick out, moving every millisecond. */
static exch_config market_maker_config(int32_t walk_ticks) {
    exch_config cfg = base_config();
    cfg.max_orders = 256;
    cfg.market_maker = true;
    cfg.mm_levels = 3;
    cfg.mm_lots_per_level = 10;
    cfg.mm_spread_ticks = 1;
    cfg.mm_refresh_ns = 1000000;
    cfg.mm_walk_ticks = walk_ticks;
    return cfg;
}

static void test_market_maker(void) {
    exch_config cfg = market_maker_config(2);
    exchange *x = make(cfg);
    const order_book *book = exchange_book(x, 0);
    CHECK_EQ_INT(book->bids.count, 3);
    CHECK_EQ_INT(book->asks.count, 3);
    CHECK_EQ_INT(book->asks.levels[0].price_nano, 100 * NANO + NANO / 100);
    CHECK_EQ_INT(book->bids.levels[0].price_nano, 100 * NANO - NANO / 100);
    CHECK_EQ_INT(book->asks.levels[0].total_lots, 10);
    /* A market buy fills against the quotes; the maker replenishes at once. */
    place(x, 1, 1, BOOK_BUY, EXCH_MARKET, EXCH_DAY, 0, 15, 10);
    CHECK_EQ_INT(traded(1), 15);
    CHECK_EQ_INT(book->asks.count, 3);
    CHECK_EQ_INT(book->asks.levels[0].total_lots, 10);
    /* The reference walks on refresh, deterministically for a seed. */
    exchange_advance(x, 5000000);
    uint64_t h1 = exchange_state_hash(x);
    exchange_destroy(x);
    exchange *y = make(cfg);
    place(y, 1, 1, BOOK_BUY, EXCH_MARKET, EXCH_DAY, 0, 15, 10);
    exchange_advance(y, 5000000);
    CHECK(exchange_state_hash(y) == h1);
    exchange_destroy(y);
}

/* A tick as coarse as the price, a wide spread and a long walk: the maker's prices, worked out
 * in int64, overflowed (UndefinedBehaviorSanitizer; found by the config fuzz target). Quotes
 * outside the limits are not placed, and the walk stays inside them. */
static void test_market_maker_coarse_tick(void) {
    exch_instrument_setup coarse = {.tick_nano = 1000000000 * NANO,
                                    .reference_price_nano = 1000000000 * NANO,
                                    .price_band_bp = 9999,
                                    .trading = true};
    exch_config cfg = market_maker_config(10000);
    cfg.mm_spread_ticks = 10000;
    cfg.mm_levels = 50;
    report_count = 0;
    exchange *x = exchange_create(&cfg, &coarse, 0);
    CHECK(x != NULL);
    exchange_advance(x, 5000000);
    int64_t down, up;
    exchange_limits(x, 0, &down, &up);
    const order_book *book = exchange_book(x, 0);
    for (uint32_t i = 0; i < book->bids.count; i++)
        CHECK(book->bids.levels[i].price_nano >= down && book->bids.levels[i].price_nano <= up);
    for (uint32_t i = 0; i < book->asks.count; i++)
        CHECK(book->asks.levels[i].price_nano >= down && book->asks.levels[i].price_nano <= up);
    exchange_destroy(x);
}

static void test_restore(void) {
    exchange *x = make(base_config());
    exch_new_order rest = {.client_ref = 5,
                           .owner = 1,
                           .side = BOOK_SELL,
                           .type = EXCH_LIMIT,
                           .tif = EXCH_DAY,
                           .price_nano = 100 * NANO,
                           .qty_lots = 2};
    CHECK(exchange_restore(x, &rest, 5000));
    CHECK_EQ_INT(report_count, 0);
    place(x, 6, 2, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 2, 1);
    CHECK_EQ_INT(traded(5), 2);
    CHECK(last(EXCH_REPORT_ACK, 6)->exchange_id > 5000);
    CHECK(!last(EXCH_REPORT_TRADE, 5)->aggressor);
    CHECK(last(EXCH_REPORT_TRADE, 6)->aggressor);
    exchange_destroy(x);
}

/* A restarted exchange given the market maker's last recorded move quotes exactly where the old
 * one quoted, and walks on exactly as the old one walks on. */
static void test_market_maker_restore(void) {
    exch_config cfg = market_maker_config(20);
    exchange *x = make(cfg);
    exchange_advance(x, 7500000);
    const exch_report *moved = last(EXCH_REPORT_MARKET_MAKER_MOVED, 0);
    CHECK(moved != NULL && moved->instrument == 0);
    CHECK_EQ_INT(count(EXCH_REPORT_MARKET_MAKER_MOVED, 0), 8); /* at start, then every 1 ms */
    int64_t reference = moved->price_nano;
    uint64_t random_state[4];
    exchange_random_state(x, random_state);
    const order_book *old_book = exchange_book(x, 0);
    int64_t old_best_ask = old_book->asks.levels[0].price_nano;
    CHECK_EQ_INT(old_best_ask, reference + NANO / 100);

    report_count = 0;
    exchange *y = exchange_create(&cfg, &setup, 7600000);
    exchange_restore_market_maker(y, &reference, random_state, 7600000);
    exchange_advance(y, 7600000);
    const order_book *new_book = exchange_book(y, 0);
    CHECK_EQ_INT(new_book->asks.count, 3);
    CHECK_EQ_INT(new_book->asks.levels[0].price_nano, old_best_ask);
    CHECK_EQ_INT(new_book->bids.levels[0].price_nano, old_book->bids.levels[0].price_nano);
    CHECK_EQ_INT(new_book->bids.levels[2].total_lots, 10);
    /* The next move: both draw the same step from the same generator state. */
    exchange_advance(x, 8500000);
    exchange_advance(y, 8600000);
    CHECK_EQ_INT(new_book->asks.levels[0].price_nano, old_book->asks.levels[0].price_nano);
    exchange_destroy(x);
    exchange_destroy(y);
}

/* A flood of submits and repeated cancels against a small pool, with an ack delay and the given
 * fill delay: every cancel still lands after its order (no cancelled order ever trades or rests),
 * no work is dropped, and the market maker keeps moving and requoting afterwards. */
static void flood_submits_and_cancels(int64_t fill_delay_ns) {
    exch_config cfg = market_maker_config(1);
    cfg.max_orders = 16;
    cfg.mm_levels = 1;
    cfg.ack_delay_ns = 1000;
    cfg.fill_delay_ns = fill_delay_ns;
    exchange *x = make(cfg);
    exchange_check_invariants(x);
    enum { STEPS = 60, PER_STEP = 4, CANCELS_PER_ORDER = 3 };
    uint64_t submitted = 0;
    int64_t flood_end_ns = 0;
    for (int step = 0; step < STEPS; step++) {
        int64_t now = (int64_t)step * 100;
        for (int i = 0; i < PER_STEP; i++) {
            uint64_t ref = ++submitted;
            exch_new_order o = {.client_ref = ref,
                                .owner = 1,
                                .side = BOOK_BUY,
                                .type = EXCH_LIMIT,
                                .tif = EXCH_DAY,
                                .price_nano = 95 * NANO,
                                .qty_lots = 1};
            exchange_submit(x, &o, now);
            exchange_check_invariants(x);
            for (int c = 0; c < CANCELS_PER_ORDER; c++) {
                exchange_cancel(x, ref, now);
                exchange_check_invariants(x);
            }
            /* Another generation of the same slot, and a reference never submitted. */
            exchange_cancel(x, (8ULL << 32) | ref, now);
            exchange_cancel(x, 999, now);
            exchange_check_invariants(x);
        }
        exchange_advance(x, now);
        exchange_check_invariants(x);
        flood_end_ns = now;
    }
    exchange_advance(x, flood_end_ns + 5000);
    exchange_check_invariants(x);
    int cancelled = 0;
    for (uint64_t ref = 1; ref <= submitted; ref++) {
        CHECK_EQ_INT(traded(ref), 0);
        CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, ref) + count(EXCH_REPORT_REJECTED, ref), 1);
        if (count(EXCH_REPORT_CANCELLED, ref) == 1) {
            CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, ref)->reason, EXCH_CANCEL_BY_CLIENT);
            cancelled++;
        }
    }
    CHECK(cancelled > 0);
    /* Only the maker's bid rests: no cancelled order came in after its cancel. */
    const order_book *book = exchange_book(x, 0);
    CHECK_EQ_INT(book->bids.count, 1);
    CHECK(book->bids.levels[0].price_nano > 95 * NANO);
    /* The maker keeps walking on its timer... */
    exchange_advance(x, 5000000);
    exchange_check_invariants(x);
    int moves = 0;
    for (int i = 0; i < report_count; i++)
        moves +=
            reports[i].kind == EXCH_REPORT_MARKET_MAKER_MOVED && reports[i].time_ns > flood_end_ns;
    CHECK_EQ_INT(moves, 5);
    /* ...and requotes what is taken. A sell down to 95 meets only the maker's bid. */
    place(x, 900, 2, BOOK_SELL, EXCH_LIMIT, EXCH_FILL_AND_KILL, 95 * NANO, 100, 5000000);
    exchange_advance(x, 5002000);
    exchange_check_invariants(x);
    CHECK_EQ_INT(traded(900), 10);
    CHECK(last(EXCH_REPORT_TRADE, 900) != NULL &&
          last(EXCH_REPORT_TRADE, 900)->price_nano > 95 * NANO);
    CHECK_EQ_INT(book->bids.count, 1);
    CHECK_EQ_INT(book->bids.levels[0].total_lots, 10);
    exchange_destroy(x);
}

static void test_event_queue_bounded_under_flood(void) {
    flood_submits_and_cancels(0);
    flood_submits_and_cancels(300);
}

/* A broker slot carries a sequence of orders (the generation in the high 32 bits): a cancel for
 * an older generation, sent at once or still queued, never touches the newer order. */
static void test_client_ref_generations(void) {
    exch_config cfg = base_config();
    cfg.max_client_ref = 10;
    uint64_t old_ref = (1ULL << 32) | 5, new_ref = (2ULL << 32) | 5;
    exchange *x = make(cfg);
    place(x, old_ref, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 2, 1);
    place(x, 6, 2, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 2, 2);
    CHECK_EQ_INT(traded(old_ref), 2);
    place(x, new_ref, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 101 * NANO, 3, 3);
    exchange_cancel(x, old_ref, 4);
    exchange_advance(x, 4);
    exchange_check_invariants(x);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, old_ref), 0);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, new_ref), 0);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 1);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.levels[0].total_lots, 3);
    exchange_cancel(x, new_ref, 5);
    exchange_advance(x, 5);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, new_ref)->qty_lots, 3);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 0);
    exchange_destroy(x);

    /* With latency: the old order's cancel is queued, the old order fills before it comes due,
     * and the newer order in the slot is submitted meanwhile. */
    cfg.ack_delay_ns = 100;
    x = make(cfg);
    exch_new_order old_order = {.client_ref = old_ref,
                                .owner = 1,
                                .side = BOOK_SELL,
                                .type = EXCH_LIMIT,
                                .tif = EXCH_DAY,
                                .price_nano = 100 * NANO,
                                .qty_lots = 2};
    exch_new_order taker = {.client_ref = 7,
                            .owner = 2,
                            .side = BOOK_BUY,
                            .type = EXCH_LIMIT,
                            .tif = EXCH_DAY,
                            .price_nano = 100 * NANO,
                            .qty_lots = 2};
    exch_new_order new_order = old_order;
    new_order.client_ref = new_ref;
    new_order.price_nano = 101 * NANO;
    new_order.qty_lots = 3;
    exchange_submit(x, &old_order, 0);
    exchange_submit(x, &taker, 50);
    exchange_advance(x, 120);
    exchange_cancel(x, old_ref, 120); /* due at 220 */
    exchange_advance(x, 150);         /* the taker fills the old order */
    CHECK_EQ_INT(traded(old_ref), 2);
    exchange_submit(x, &new_order, 160); /* arrives at 260 */
    exchange_check_invariants(x);
    exchange_advance(x, 300);
    exchange_check_invariants(x);
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, new_ref), 1);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, old_ref), 0);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, new_ref), 0);
    exchange_cancel(x, old_ref, 300);
    exchange_advance(x, 500);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, new_ref), 0);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 1);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.levels[0].total_lots, 3);
    exchange_check_invariants(x);
    exchange_destroy(x);
}

static exch_new_order limit_order(uint64_t ref, uint32_t owner, book_side side, int64_t price,
                                  int64_t qty, uint32_t max_fills) {
    return (exch_new_order){.client_ref = ref,
                            .owner = owner,
                            .side = side,
                            .type = EXCH_LIMIT,
                            .tif = EXCH_DAY,
                            .price_nano = price,
                            .qty_lots = qty,
                            .max_fills = max_fills};
}

static void submit_now(exchange *x, exch_new_order o, int64_t now) {
    exchange_submit(x, &o, now);
    exchange_advance(x, now);
    exchange_check_invariants(x);
}

/* An incoming order stops at its fill limit; the rest is cancelled after its last trade. */
static void test_fill_limit_incoming(void) {
    exchange *x = make(base_config());
    submit_now(x, limit_order(1, 1, BOOK_SELL, 100 * NANO, 1, 0), 1);
    submit_now(x, limit_order(2, 2, BOOK_SELL, 100 * NANO, 1, 0), 2);
    submit_now(x, limit_order(3, 3, BOOK_SELL, 10050 * NANO / 100, 2, 0), 3);
    submit_now(x, limit_order(4, 4, BOOK_SELL, 101 * NANO, 1, 0), 4);
    submit_now(x, limit_order(10, 9, BOOK_BUY, 101 * NANO, 10, 2), 5);
    CHECK_EQ_INT(count(EXCH_REPORT_TRADE, 10), 2);
    CHECK_EQ_INT(traded(10), 2);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 10)->reason, EXCH_CANCEL_FILL_LIMIT);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 10)->qty_lots, 8);
    CHECK(last_at(EXCH_REPORT_CANCELLED, 10) > last_at(EXCH_REPORT_TRADE, 2));
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 2);
    CHECK_EQ_INT(exchange_book(x, 0)->bids.count, 0);
    /* Reaching the limit with nothing left is a plain fill. */
    submit_now(x, limit_order(11, 9, BOOK_BUY, 101 * NANO, 3, 2), 6);
    CHECK_EQ_INT(traded(11), 3);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 11), 0);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 0);
    /* Fill-or-kill: killed whole when filling would take more trades than allowed. */
    for (uint64_t ref = 20; ref < 23; ref++)
        submit_now(x, limit_order(ref, (uint32_t)ref, BOOK_SELL, 100 * NANO, 1, 0), 7);
    exch_new_order fok = limit_order(24, 9, BOOK_BUY, 100 * NANO, 3, 2);
    fok.tif = EXCH_FILL_OR_KILL;
    submit_now(x, fok, 8);
    CHECK_EQ_INT(traded(24), 0);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 24)->reason, EXCH_CANCEL_FILL_LIMIT);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 24)->qty_lots, 3);
    fok.client_ref = 25;
    fok.max_fills = 3;
    submit_now(x, fok, 9);
    CHECK_EQ_INT(traded(25), 3);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 25), 0);
    /* A market order stops at its limit too. */
    submit_now(x, limit_order(30, 1, BOOK_SELL, 100 * NANO, 1, 0), 10);
    submit_now(x, limit_order(31, 2, BOOK_SELL, 100 * NANO, 1, 0), 10);
    exch_new_order market = limit_order(32, 9, BOOK_BUY, 0, 5, 1);
    market.type = EXCH_MARKET;
    submit_now(x, market, 11);
    CHECK_EQ_INT(traded(32), 1);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 32)->reason, EXCH_CANCEL_FILL_LIMIT);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 32)->qty_lots, 4);
    exchange_destroy(x);
}

/* A resting order hit up to its fill limit leaves the book, cancelled after that trade; one put
 * back after a restart keeps counting from the fills it had made. */
static void test_fill_limit_resting(void) {
    exchange *x = make(base_config());
    submit_now(x, limit_order(1, 1, BOOK_BUY, 100 * NANO, 10, 3), 1);
    submit_now(x, limit_order(2, 2, BOOK_SELL, 100 * NANO, 1, 0), 2);
    submit_now(x, limit_order(3, 2, BOOK_SELL, 100 * NANO, 2, 0), 3);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 1), 0);
    CHECK_EQ_INT(exchange_book(x, 0)->bids.levels[0].total_lots, 7);
    submit_now(x, limit_order(4, 3, BOOK_SELL, 100 * NANO, 3, 0), 4);
    CHECK_EQ_INT(traded(1), 6);
    CHECK_EQ_INT(traded(4), 3);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 1)->reason, EXCH_CANCEL_FILL_LIMIT);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 1)->qty_lots, 4);
    CHECK(last_at(EXCH_REPORT_CANCELLED, 1) > last_at(EXCH_REPORT_TRADE, 1));
    CHECK(last_at(EXCH_REPORT_CANCELLED, 1) > last_at(EXCH_REPORT_TRADE, 4));
    CHECK_EQ_INT(exchange_book(x, 0)->bids.count, 0);
    /* Put back with one of its two trades made: the next trade is its last. */
    exch_new_order restored = limit_order(5, 1, BOOK_SELL, 100 * NANO, 5, 2);
    restored.fills_done = 1;
    CHECK(exchange_restore(x, &restored, 9000));
    exchange_check_invariants(x);
    submit_now(x, limit_order(6, 2, BOOK_BUY, 100 * NANO, 1, 0), 5);
    CHECK_EQ_INT(traded(5), 1);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 5)->reason, EXCH_CANCEL_FILL_LIMIT);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 5)->qty_lots, 4);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 0);
    /* One that already made all its trades is refused. */
    restored.client_ref = 7;
    restored.fills_done = 2;
    CHECK(!exchange_restore(x, &restored, 9001));
    exchange_check_invariants(x);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 0);
    exchange_destroy(x);
}

/* A refused restore leaves nothing of the order behind (its reference can be used again at once)
 * and still reserves its exchange number. */
static void test_restore_refused(void) {
    exch_config cfg = base_config();
    cfg.max_orders = 2;
    cfg.levels_per_side = 1;
    exchange *x = make(cfg);
    exch_new_order first = limit_order(1, 1, BOOK_SELL, 100 * NANO, 2, 0);
    CHECK(exchange_restore(x, &first, 5000));
    /* No room for a second ask level. */
    exch_new_order second = limit_order(2, 1, BOOK_SELL, 101 * NANO, 2, 0);
    CHECK(!exchange_restore(x, &second, 6000));
    exchange_check_invariants(x);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 1);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.levels[0].total_lots, 2);
    exchange_cancel(x, 2, 1);
    exchange_advance(x, 1);
    CHECK_EQ_INT(report_count, 0);
    submit_now(x, limit_order(2, 2, BOOK_BUY, 99 * NANO, 1, 0), 2);
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, 2), 1);
    CHECK(last(EXCH_REPORT_ACK, 2)->exchange_id > 6000);
    /* The pool is full now (two resting orders). */
    exch_new_order third = limit_order(3, 1, BOOK_SELL, 100 * NANO, 1, 0);
    CHECK(!exchange_restore(x, &third, 7000));
    exchange_check_invariants(x);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.levels[0].total_lots, 2);
    /* Nothing left to trade. */
    exch_new_order empty = limit_order(4, 1, BOOK_SELL, 100 * NANO, 0, 0);
    exchange_cancel(x, 1, 3);
    exchange_advance(x, 3);
    CHECK(!exchange_restore(x, &empty, 7001));
    exchange_check_invariants(x);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 0);
    exchange_destroy(x);
}

/* Calls made with a time earlier than one already processed act at the later time: reports never
 * go back in time, and a late cancel still comes after its order. */
static void test_time_never_goes_backwards(void) {
    exch_config cfg = base_config();
    cfg.ack_delay_ns = 100;
    exchange *x = make(cfg);
    exchange_advance(x, 1000);
    exch_new_order o = limit_order(1, 1, BOOK_BUY, 99 * NANO, 1, 0);
    exchange_submit(x, &o, 500); /* acts at 1000, arrives at 1100 */
    exchange_advance(x, 1050);
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, 1), 0);
    CHECK_EQ_INT(exchange_next_due_ns(x), 1100);
    exchange_cancel(x, 1, 200); /* acts at 1050, due at 1150 */
    exchange_advance(x, 900);   /* an older time processes nothing new */
    CHECK_EQ_INT(count(EXCH_REPORT_ACK, 1), 0);
    exchange_advance(x, 1100);
    CHECK_EQ_INT(last(EXCH_REPORT_ACK, 1)->time_ns, 1100);
    CHECK_EQ_INT(count(EXCH_REPORT_CANCELLED, 1), 0);
    exchange_advance(x, 1150);
    CHECK_EQ_INT(last(EXCH_REPORT_CANCELLED, 1)->time_ns, 1150);
    CHECK(reports_in_time_order());
    exchange_check_invariants(x);
    exchange_destroy(x);

    /* Without latency the order is handled at once, at the exchange's time. */
    x = make(base_config());
    exchange_advance(x, 1000);
    place(x, 2, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, 10);
    place(x, 3, 2, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 1, 20);
    CHECK_EQ_INT(last(EXCH_REPORT_ACK, 2)->time_ns, 1000);
    CHECK_EQ_INT(last(EXCH_REPORT_TRADE, 3)->time_ns, 1000);
    int64_t last_trade_ns = 0;
    exchange_last_price(x, 0, &last_trade_ns);
    CHECK_EQ_INT(last_trade_ns, 1000);
    CHECK(reports_in_time_order());
    exchange_destroy(x);
}

typedef struct named_test {
    const char *name;
    void (*run)(void);
} named_test;

#define TEST(fn)                                                                                   \
    { #fn, fn }

/* What the market-data feed reads: the book's change counter moves with every order in or out
 * and every fill (a fill that leaves the resting order in the book included) and stays put
 * otherwise; the prints after a count are the newest ones, oldest first, and the count only
 * grows. */
static void test_observers(void) {
    exchange *x = make(base_config());
    uint64_t v0 = exchange_book_version(x, 0);
    exch_trade_print prints[8];
    uint64_t printed = 99;
    CHECK_EQ_INT(exchange_trades_after(x, 0, 0, prints, 8, &printed), 0);
    CHECK_EQ_INT(printed, 0);
    place(x, 1, 1, BOOK_SELL, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 10, 1);
    uint64_t v1 = exchange_book_version(x, 0);
    CHECK(v1 != v0);
    exchange_advance(x, 2);
    CHECK(exchange_book_version(x, 0) == v1);                         /* nothing happened */
    place(x, 2, 2, BOOK_BUY, EXCH_LIMIT, EXCH_DAY, 100 * NANO, 3, 3); /* partial: 7 rest */
    uint64_t v2 = exchange_book_version(x, 0);
    CHECK(v2 != v1);
    place(x, 3, 2, BOOK_BUY, EXCH_MARKET, EXCH_FILL_AND_KILL, 0, 2, 4);
    CHECK(exchange_book_version(x, 0) != v2);
    CHECK_EQ_INT(exchange_trades_after(x, 0, 0, prints, 8, &printed), 2);
    CHECK_EQ_INT(printed, 2);
    CHECK_EQ_INT(prints[0].qty_lots, 3);
    CHECK_EQ_INT(prints[1].qty_lots, 2);
    CHECK_EQ_INT(prints[1].aggressor_side, BOOK_BUY);
    CHECK_EQ_INT(exchange_trades_after(x, 0, 1, prints, 8, &printed), 1);
    CHECK_EQ_INT(prints[0].qty_lots, 2);
    CHECK_EQ_INT(exchange_trades_after(x, 0, 2, prints, 8, &printed), 0);
    CHECK_EQ_INT(exchange_trades_after(x, 0, 0, prints, 1, &printed), 1); /* the newest one */
    CHECK_EQ_INT(prints[0].qty_lots, 2);
    exchange_destroy(x);
}

int main(int argc, char **argv) {
    static const named_test tests[] = {
        TEST(test_observers),
        TEST(test_price_time_priority_and_partial_fills),
        TEST(test_trades_are_the_newest_of_the_window),
        TEST(test_time_in_force_and_types),
        TEST(test_limits_cancel_self_trade_capacity),
        TEST(test_latency_and_reject_model),
        TEST(test_market_maker),
        TEST(test_market_maker_coarse_tick),
        TEST(test_restore),
        TEST(test_market_maker_restore),
        TEST(test_event_queue_bounded_under_flood),
        TEST(test_client_ref_generations),
        TEST(test_fill_limit_incoming),
        TEST(test_fill_limit_resting),
        TEST(test_restore_refused),
        TEST(test_time_never_goes_backwards),
    };
    for (size_t i = 0; i < sizeof tests / sizeof tests[0]; i++)
        if (argc < 2 || strstr(tests[i].name, argv[1]) != NULL)
            tests[i].run();
    return check_finish("venue exchange");
}
