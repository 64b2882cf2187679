/* The operator's halt (CORE_EVENT_TRADING_HALT): one event per change and none for a repeat;
 * orders and ReplaceOrder refused with 30079's error (CORE_ERR_NOT_TRADING), nothing recorded;
 * stop orders wait while halted and trigger on the resume; replay's checks refuse what the live
 * path could not have written; the recorded events replayed into a fresh core give the same
 * state and hash; a snapshot keeps the halt (format 11) and a format-10 file loads with none;
 * the exchange withdraws the maker's quotes while halted and takes no order, and its faults and
 * the maker's moves change at run time. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"
#include "engine/snapshot.h"
#include "util/crc32c.h"
#include "venue/exchange.h"

#define NANO 1000000000LL
#define T0 (1700000000LL * NANO)

static refdata rd;
static core_event recorded[64];
static uint32_t recorded_count;

static void record(void *ctx, const core_event *ev) {
    (void)ctx;
    CHECK(recorded_count < 64);
    if (recorded_count < 64)
        recorded[recorded_count++] = *ev;
}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    (void)ctx;
    (void)instrument_index;
    out->trading = true;
    out->last_price_nano = 100 * NANO;
    out->limit_up_nano = 150 * NANO;
    out->limit_down_nano = 50 * NANO;
}

static core_config config(void) {
    return (core_config){.refdata = &rd,
                         .max_orders = 16,
                         .max_trades = 64,
                         .order_retention_ns = 60 * NANO,
                         .max_orders_per_account = 16,
                         .max_trades_per_order = 8,
                         .id_seed = 1};
}

static void init_core(core *c, bool recording) {
    core_config cfg = config();
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.market = open_market};
    if (recording)
        c->sink = (core_event_sink){.append = record};
}

static void drain(core *c) {
    core_request sent;
    while (core_next_request(c, &sent))
        ;
}

static core_result place(core *c, const char *key, int64_t now_ns) {
    core_order_request req = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "uid-0",
                              .key = key,
                              .quantity = 1,
                              .has_price = true,
                              .price_nano = 90 * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = now_ns};
    core_result r = core_place_order(c, &req);
    drain(c);
    return r;
}

static void test_halt_and_resume(void) {
    core c;
    recorded_count = 0;
    init_core(&c, true);
    core_result resting = place(&c, "before", T0);
    CHECK_EQ_INT(resting.error, CORE_OK);
    uint64_t hash_open = core_state_hash(&c);

    bool changed = false;
    uint32_t before = recorded_count;
    core_set_trading_halt(&c, 0, true, T0 + 1, &changed);
    CHECK(changed);
    CHECK(core_instrument_halted(&c, 0));
    CHECK_EQ_INT(core_halted_count(&c), 1);
    CHECK_EQ_INT(recorded_count, before + 1);
    CHECK_EQ_INT(recorded[before].type, CORE_EVENT_TRADING_HALT);
    CHECK_EQ_INT(recorded[before].u.halt.instrument, 0);
    CHECK_EQ_INT(recorded[before].u.halt.halted, 1);
    CHECK(core_state_hash(&c) != hash_open);

    /* A repeat changes nothing and records nothing. */
    core_set_trading_halt(&c, 0, true, T0 + 2, &changed);
    CHECK(!changed);
    CHECK_EQ_INT(recorded_count, before + 1);

    /* Orders and replacements are refused, and a refusal records nothing. */
    uint64_t seq = c.next_seq;
    CHECK_EQ_INT(place(&c, "while-halted", T0 + 3).error, CORE_ERR_NOT_TRADING);
    core_result replaced = core_replace_order(&c, &rd.tokens[0], "A1", resting.order.intent_id,
                                              "replacement", 1, true, 91 * NANO, 0, T0 + 3);
    CHECK_EQ_INT(replaced.error, CORE_ERR_NOT_TRADING);
    CHECK_EQ_INT(c.next_seq, seq);
    /* Cancelling an order of a halted instrument is still asked of the exchange. */
    core_result cancel =
        core_cancel_order(&c, &rd.tokens[0], "A1", resting.order.intent_id, false, T0 + 4);
    CHECK_EQ_INT(cancel.error, CORE_OK);
    core_request sent;
    CHECK(core_next_request(&c, &sent) && sent.kind == CORE_REQUEST_CANCEL);

    /* Replay's checks: what the live path could not have written. */
    core_event again = {.type = CORE_EVENT_TRADING_HALT,
                        .order = CORE_NO_ORDER,
                        .seq = c.next_seq,
                        .time_ns = T0 + 5};
    again.u.halt.instrument = 0;
    again.u.halt.halted = 1;
    CHECK(core_event_well_formed(&again));
    CHECK(!core_event_fits(&c, &again)); /* halted already */
    again.u.halt.halted = 2;
    CHECK(!core_event_well_formed(&again));
    again.u.halt.halted = 0;
    again.u.halt.instrument = 1; /* one instrument only */
    CHECK(!core_event_fits(&c, &again));
    again.u.halt.instrument = 0;
    again.order = 0;
    CHECK(!core_event_well_formed(&again));
    again.order = CORE_NO_ORDER;
    CHECK(core_event_applicable(&c, &again)); /* the resume */

    core_set_trading_halt(&c, 0, false, T0 + 6, &changed);
    CHECK(changed);
    CHECK(!core_instrument_halted(&c, 0));
    CHECK_EQ_INT(place(&c, "after", T0 + 7).error, CORE_OK);

    /* The recorded events replayed through core_apply give the same state. */
    core replayed;
    init_core(&replayed, false);
    for (uint32_t i = 0; i < recorded_count; i++) {
        CHECK(core_event_applicable(&replayed, &recorded[i]));
        core_apply(&replayed, &recorded[i]);
    }
    CHECK(core_state_hash(&replayed) == core_state_hash(&c));
    CHECK(!core_instrument_halted(&replayed, 0));
    core_deinit(&replayed);
    core_deinit(&c);
}

/* A stop-loss sell whose stop a halted instrument's print would reach waits for the resume. */
static void test_stop_orders_wait(void) {
    core c;
    recorded_count = 0;
    init_core(&c, true);
    /* Shares to sell: a buy of 2 lots filled at 100. */
    core_order_request buy = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "uid-0",
                              .key = "buy",
                              .quantity = 2,
                              .has_price = true,
                              .price_nano = 100 * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = T0};
    core_result bought = core_place_order(&c, &buy);
    CHECK_EQ_INT(bought.error, CORE_OK);
    drain(&c);
    core_exchange_report fill = {.kind = REPORT_TRADE,
                                 .client_ref = core_client_ref(&c.orders[bought.order.index]),
                                 .trade_id = 1,
                                 .lots = 2,
                                 .price_nano = 100 * NANO,
                                 .time_ns = T0 + 1,
                                 .aggressor = true};
    core_on_exchange_report(&c, &fill);
    drain(&c);
    core_stop_request stop = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "uid-0",
                              .key = "stop",
                              .quantity = 1,
                              .has_stop_price = true,
                              .stop_price_nano = 95 * NANO,
                              .direction = DIRECTION_SELL,
                              .stop_type = STOP_TYPE_STOP_LOSS,
                              .expiration = STOP_EXPIRES_NEVER,
                              .now_ns = T0 + 2};
    core_stop_result placed = core_post_stop_order(&c, &stop);
    CHECK_EQ_INT(placed.error, CORE_OK);
    bool changed;
    core_set_trading_halt(&c, 0, true, T0 + 3, &changed);
    /* The market prints below the stop while halted (a replay's history goes on). */
    core_record_market_print(&c, 0, 2, 90 * NANO, 0, false, T0 + 4);
    drain(&c);
    CHECK_EQ_INT(c.stops.records[placed.stop.index].status, STOP_STATUS_ACTIVE);
    /* Resumed: the stop order reacts to the last print at once. */
    core_set_trading_halt(&c, 0, false, T0 + 5, &changed);
    CHECK(changed);
    CHECK(c.stops.records[placed.stop.index].status != STOP_STATUS_ACTIVE);
    core_deinit(&c);
}

static void test_snapshot(void) {
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tinvestd-halt-XXXXXX", P_tmpdir);
    CHECK(mkdtemp(dir) != NULL);
    core live;
    init_core(&live, false);
    CHECK_EQ_INT(place(&live, "a", T0).error, CORE_OK);
    bool changed;
    core_set_trading_halt(&live, 0, true, T0 + 1, &changed);
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    core restored;
    init_core(&restored, false);
    char error[256];
    CHECK_EQ_INT(snapshot_load(&restored, dir, error, sizeof error), (int64_t)(live.next_seq - 1));
    CHECK(core_instrument_halted(&restored, 0));
    CHECK(core_state_hash(&restored) == core_state_hash(&live));
    CHECK_EQ_INT(place(&restored, "b", T0 + 2).error, CORE_ERR_NOT_TRADING);
    core_deinit(&restored);

    /* The same file as format 10 wrote it (no halts section): loads, none halted. */
    char path[320];
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir,
             (unsigned long long)(live.next_seq - 1));
    core_set_trading_halt(&live, 0, false, T0 + 3, &changed);
    int64_t seq10 = (int64_t)live.next_seq - 1;
    CHECK_EQ_INT(snapshot_write(&live, dir), 0);
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir, (unsigned long long)seq10);
    int fd = open(path, O_RDWR);
    CHECK(fd >= 0);
    off_t size = lseek(fd, 0, SEEK_END);
    /* Cut the halts section (8 bytes of header and one byte per instrument) and the margin
     * section after it, and rewrite the CRC over what is left as version 10. */
    uint32_t version = SNAPSHOT_FORMAT_VERSION_NO_HALTS;
    CHECK(pwrite(fd, &version, sizeof version, 8) == sizeof version);
    off_t body = size - 4 - 9 - (off_t)snapshot_margin_bytes(&live, live.refdata->instrument_count);
    CHECK(ftruncate(fd, body) == 0);
    uint8_t *bytes = malloc((size_t)body);
    CHECK(bytes != NULL && pread(fd, bytes, (size_t)body, 0) == body);
    uint32_t crc = crc32c_update(0, bytes, (size_t)body);
    free(bytes);
    CHECK(pwrite(fd, &crc, sizeof crc, body) == sizeof crc);
    close(fd);
    core old;
    init_core(&old, false);
    CHECK_EQ_INT(snapshot_load(&old, dir, error, sizeof error), seq10);
    CHECK(!core_instrument_halted(&old, 0));
    CHECK(core_state_hash(&old) == core_state_hash(&live));
    core_deinit(&old);
    core_deinit(&live);
    char command[300];
    snprintf(command, sizeof command, "rm -rf %s", dir);
    CHECK(system(command) == 0);
}

/* ---- The exchange ---------------------------------------------------------------------------- */

static exch_report reports[256];
static uint32_t report_count;

static void on_report(void *ctx, const exch_report *r) {
    (void)ctx;
    if (report_count < 256)
        reports[report_count++] = *r;
}

static void test_exchange(void) {
    exch_instrument_setup setup = {.tick_nano = NANO / 100,
                                   .reference_price_nano = 100 * NANO,
                                   .price_band_bp = 2000,
                                   .trading = true};
    exch_config cfg = {.instrument_count = 1,
                       .max_orders = 64,
                       .max_client_ref = 16,
                       .levels_per_side = 16,
                       .seed = 7,
                       .first_exchange_id = 1,
                       .market_maker = true,
                       .mm_levels = 2,
                       .mm_lots_per_level = 10,
                       .mm_spread_ticks = 1,
                       .mm_refresh_ns = NANO,
                       .mm_walk_ticks = 3,
                       .on_report = on_report};
    exchange *x = exchange_create(&cfg, &setup, T0);
    CHECK(x != NULL);
    exchange_advance(x, T0);
    CHECK(exchange_book(x, 0)->asks.count > 0);

    /* Halted: the maker's quotes leave, an arriving order is rejected, the walk stands still. */
    exchange_set_trading(x, 0, false);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.count, 0);
    CHECK_EQ_INT(exchange_book(x, 0)->bids.count, 0);
    int64_t ref = exchange_market_maker_reference(x, 0);
    report_count = 0;
    exch_new_order order = {.client_ref = 1,
                            .owner = 1,
                            .instrument = 0,
                            .side = BOOK_BUY,
                            .type = EXCH_MARKET,
                            .tif = EXCH_DAY,
                            .qty_lots = 1};
    exchange_submit(x, &order, T0 + 1);
    exchange_advance(x, T0 + 5 * NANO);
    CHECK(report_count >= 1);
    CHECK_EQ_INT(reports[0].kind, EXCH_REPORT_REJECTED);
    CHECK_EQ_INT(reports[0].reason, EXCH_REJECT_NOT_TRADING);
    for (uint32_t i = 0; i < report_count; i++)
        CHECK(reports[i].kind != EXCH_REPORT_MARKET_MAKER_MOVED);
    CHECK_EQ_INT(exchange_market_maker_reference(x, 0), ref);

    /* Resumed: quotes again at the next advance. */
    exchange_set_trading(x, 0, true);
    exchange_advance(x, T0 + 5 * NANO);
    CHECK(exchange_book(x, 0)->asks.count > 0);

    /* A move is reported and quoted around at once; a walk stays on the tick. */
    report_count = 0;
    exchange_move_market_maker(x, 0, 110 * NANO, T0 + 6 * NANO);
    CHECK_EQ_INT(report_count, 1);
    CHECK_EQ_INT(reports[0].kind, EXCH_REPORT_MARKET_MAKER_MOVED);
    CHECK_EQ_INT(reports[0].price_nano, 110 * NANO);
    CHECK_EQ_INT(exchange_book(x, 0)->asks.levels[0].price_nano, 110 * NANO + NANO / 100);
    int64_t walked = exchange_walk_market_maker(x, 0, 50, T0 + 7 * NANO);
    CHECK(walked % (NANO / 100) == 0);
    CHECK_EQ_INT(exchange_market_maker_reference(x, 0), walked);

    /* Faults read back as set; every arrival is rejected at 1 000 000 ppm. */
    exch_faults f = {
        .ack_delay_ns = 5000, .fill_delay_ns = 7000, .reject_probability_ppm = 1000000};
    exchange_set_faults(x, &f);
    exch_faults got = exchange_faults(x);
    CHECK_EQ_INT(got.ack_delay_ns, 5000);
    CHECK_EQ_INT(got.fill_delay_ns, 7000);
    CHECK_EQ_INT(got.reject_probability_ppm, 1000000);
    report_count = 0;
    order.client_ref = 2;
    exchange_submit(x, &order, T0 + 8 * NANO);
    exchange_advance(x, T0 + 8 * NANO + 4000);
    for (uint32_t i = 0; i < report_count; i++)
        CHECK(reports[i].kind != EXCH_REPORT_REJECTED); /* not arrived before the ack delay */
    exchange_advance(x, T0 + 8 * NANO + 5000);
    bool rejected = false;
    for (uint32_t i = 0; i < report_count; i++)
        rejected |=
            reports[i].kind == EXCH_REPORT_REJECTED && reports[i].reason == EXCH_REJECT_INJECTED;
    CHECK(rejected);
    exchange_check_invariants(x);
    exchange_destroy(x);
}

int main(void) {
    one_share_refdata(&rd, 100000);
    test_halt_and_resume();
    test_stop_orders_wait();
    test_snapshot();
    test_exchange();
    return check_finish("core_halt");
}
