/* The replay's market through the exchange link and the core: each point of the history is a
 * journaled market print whose apply gives back the candles exactly, moves the exchange (last
 * price, the market maker's quotes), and which a second core replaying the same events ends in the
 * same state; a print that the live path could not have written is refused. */
#include <string.h>

#include "check.h"
#include "one_share.h"
#include "candles/candles.h"
#include "core/core.h"
#include "engine/history_market.h"
#include "engine/venue_link.h"

#define NANO 1000000000LL
#define MINUTE_S 1704265200LL /* 2024-01-03T07:00:00Z */
#define MAX_EVENTS 256

static refdata rd;
static core_event events[MAX_EVENTS];
static uint32_t event_count;

static void record(void *ctx, const core_event *ev) {
    (void)ctx;
    CHECK(event_count < MAX_EVENTS);
    if (event_count < MAX_EVENTS)
        events[event_count++] = *ev;
}

static core_config replay_config(void) {
    return (core_config){.refdata = &rd,
                         .max_orders = 64,
                         .max_trades = 128,
                         .order_retention_ns = 3600 * NANO,
                         .max_orders_per_account = 64,
                         .max_trades_per_order = 16,
                         .id_seed = 1};
}

static history_candle minute_candle(int64_t minute, int64_t o, int64_t h, int64_t l, int64_t c,
                                    int64_t v) {
    return (history_candle){.time_s = MINUTE_S + 60 * minute,
                            .open_nano = o * NANO / 100,
                            .high_nano = h * NANO / 100,
                            .low_nano = l * NANO / 100,
                            .close_nano = c * NANO / 100,
                            .volume_lots = v};
}

static void test_prints_give_back_the_history(void) {
    one_share_refdata(&rd, 1000000);
    core_config cfg = replay_config();
    core live;
    CHECK(core_init(&live, &cfg) == 0);
    live.sink = (core_event_sink){.append = record};
    engine_venue_settings settings = {.seed = 1,
                                      .max_orders = cfg.max_orders,
                                      .market_maker_enabled = true,
                                      .market_maker_levels = 2,
                                      .market_maker_lots_per_level = 10,
                                      .market_maker_spread_ticks = 1,
                                      .market_maker_refresh_ns = NANO,
                                      .market_maker_walk_ticks = 5,
                                      .market_follows_history = true};
    engine_venue_link *link = venue_link_create(&rd, &settings, MINUTE_S * NANO);
    CHECK(link != NULL);
    /* A minute, a gap of one, a flat minute with a volume below its path's points (none: flat),
     * and a minute of 1 lot over four points. */
    history_candle history[] = {minute_candle(0, 10000, 10050, 9990, 10020, 40),
                                minute_candle(2, 10020, 10020, 10020, 10020, 3),
                                minute_candle(3, 10010, 10030, 10000, 10025, 1)};
    history_market_source source = {.instrument = 0, .candles = history, .count = 3};
    history_market *market =
        history_market_create(&source, 1, MINUTE_S * NANO, (MINUTE_S + 600) * NANO);
    venue_link_attach(link, &live);
    venue_link_set_history(link, market);
    /* The market maker does not walk: the clock moves, and before the first print nothing is
     * recorded. */
    venue_link_advance(link, MINUTE_S * NANO - 1);
    CHECK_EQ_INT(event_count, 0);
    CHECK_EQ_INT(venue_link_next_due_ns(link), MINUTE_S * NANO);
    for (int64_t t = MINUTE_S * NANO; t <= (MINUTE_S + 600) * NANO; t += 5 * NANO)
        venue_link_advance(link, t);
    CHECK_EQ_INT(event_count, 4 + 1 + 4);
    for (uint32_t i = 0; i < event_count; i++)
        CHECK_EQ_INT(events[i].type, CORE_EVENT_MARKET_PRINT);
    CHECK_EQ_INT(history_market_taken(market), 9);
    CHECK_EQ_INT(venue_link_next_due_ns(link), INT64_MAX);

    /* The one-minute candles are the history's. */
    candle got[8];
    uint32_t n =
        candles_read(core_candles(&live), 0, CANDLE_1_MIN, INT64_MIN, INT64_MAX, false, got, 8);
    CHECK_EQ_INT(n, 3);
    for (uint32_t i = 0; i < n && i < 3; i++) {
        CHECK_EQ_INT(got[i].time_ns, history[i].time_s * NANO);
        CHECK_EQ_INT(got[i].open_nano, history[i].open_nano);
        CHECK_EQ_INT(got[i].high_nano, history[i].high_nano);
        CHECK_EQ_INT(got[i].low_nano, history[i].low_nano);
        CHECK_EQ_INT(got[i].close_nano, history[i].close_nano);
        CHECK_EQ_INT(got[i].volume_lots, history[i].volume_lots);
    }
    /* The exchange: the last price is the last close, the maker quotes a tick either side. */
    venue_link_book book;
    venue_link_order_book(link, 0, 2, &book);
    CHECK_EQ_INT(book.last_price_nano, history[2].close_nano);
    CHECK_EQ_INT(book.last_price_ns, (MINUTE_S + 180 + 45) * NANO);
    CHECK_EQ_INT(book.ask_count, 2);
    CHECK_EQ_INT(book.asks[0].price_nano, history[2].close_nano + NANO / 100);
    CHECK_EQ_INT(book.bids[0].price_nano, history[2].close_nano - NANO / 100);
    CHECK_EQ_INT(book.asks[0].qty_lots, 10);
    /* Trades with lots only: the 1-lot minute printed one trade of its four points. */
    venue_link_trade trades[16];
    CHECK_EQ_INT(venue_link_last_trades(link, 0, INT64_MIN, INT64_MAX, trades, 16), 4 + 1 + 1);
    CHECK_EQ_INT(live.venue.market_print_ns, (MINUTE_S + 180 + 45) * NANO);

    /* Replayed into a second core, the same events give the same state and candles. */
    core again;
    CHECK(core_init(&again, &cfg) == 0);
    for (uint32_t i = 0; i < event_count; i++) {
        CHECK(core_event_applicable(&again, &events[i]));
        core_apply(&again, &events[i]);
    }
    CHECK_EQ_INT(core_state_hash(&again), core_state_hash(&live));
    CHECK_EQ_INT(candles_hash(core_candles(&again), 0), candles_hash(core_candles(&live), 0));
    CHECK_EQ_INT(again.venue.mm_reference_nano[0], history[2].close_nano);

    /* What the live path could not have written is refused. */
    core_event next = events[event_count - 1];
    next.seq = again.next_seq;
    CHECK(!core_event_applicable(&again, &next)); /* the same trade id and time again */
    next.u.market_print.trade_id = again.venue.last_trade_id + 1;
    next.time_ns += NANO;
    CHECK(core_event_applicable(&again, &next));
    core_event bad = next;
    bad.time_ns -= 2 * NANO; /* before the newest print */
    CHECK(!core_event_applicable(&again, &bad));
    bad = next;
    bad.u.market_print.instrument = 1;
    CHECK(!core_event_applicable(&again, &bad));
    bad = next;
    bad.u.market_print.lots = -1;
    CHECK(!core_event_applicable(&again, &bad));
    bad = next;
    bad.u.market_print.price_nano = 0;
    CHECK(!core_event_applicable(&again, &bad));
    bad = next;
    bad.u.market_print.buy = 2;
    CHECK(!core_event_applicable(&again, &bad));
    bad = next;
    bad.u.market_print.lots = INT64_MAX; /* the day's volume would pass int64 */
    CHECK(!core_event_applicable(&again, &bad));
    bad = next;
    bad.order = 0;
    CHECK(!core_event_applicable(&again, &bad));

    /* Resumed after the third print, a market makes the rest of the prints only. */
    history_market *resumed =
        history_market_create(&source, 1, MINUTE_S * NANO, (MINUTE_S + 600) * NANO);
    history_market_resume_after(resumed, events[2].time_ns, 0);
    CHECK_EQ_INT(history_market_next_due_ns(resumed), events[3].time_ns);

    history_market_destroy(resumed);
    history_market_destroy(market);
    venue_link_destroy(link);
    core_deinit(&again);
    core_deinit(&live);
}

int main(void) {
    test_prints_give_back_the_history();
    return check_finish("test_replay_engine");
}
