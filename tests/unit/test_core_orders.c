/* Broker core: pre-trade checks and their codes, idempotency, reservations, fills, cancels,
 * replace, checked money, recycled records, and replay of the recorded events into an identical
 * state. The exchange is a recording fake: the core's requests are drained by hand and these
 * tests drive its reports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "core/core.h"
#include "core/valuation.h"
#include "engine/snapshot.h"

#define NANO 1000000000LL
#define MAX_EVENTS 4096

static refdata rd;
static token *full, *readonly;
static core_event recorded[MAX_EVENTS];
static int recorded_count;
static int submits, cancels;
static bool market_trading = true;

static void record(void *ctx, const core_event *ev) {
    if (recorded_count < MAX_EVENTS)
        recorded[recorded_count++] = *ev;
}

/* Takes the core's queued requests, as the exchange link would. */
static void drain(core *c) {
    core_request req;
    while (core_next_request(c, &req)) {
        if (req.kind == CORE_REQUEST_NEW)
            submits++;
        else
            cancels++;
    }
}

static void on_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = market_trading;
    out->last_price_nano = 100 * NANO;
    out->limit_up_nano = 120 * NANO;
    out->limit_down_nano = 80 * NANO;
}

static void setup_refdata(void) {
    refdata_init(&rd);
    rd.instrument_count = 2;
    instrument *share = &rd.instruments[0];
    *share = (instrument){.index = 0,
                          .kind = INSTRUMENT_KIND_SHARE,
                          .figi = "FIGI0",
                          .ticker = "AAA",
                          .class_code = "TQBR",
                          .uid = "uid-0",
                          .position_uid = "pos-0",
                          .isin = "",
                          .name = "Share A",
                          .currency = "rub",
                          .lot = 10,
                          .min_price_increment_nano = NANO / 100,
                          .reference_price_nano = 100 * NANO,
                          .trading_status = 5,
                          .api_trade_available = true,
                          .buy_available = true,
                          .sell_available = true};
    rd.instruments[1] = *share;
    rd.instruments[1].index = 1;
    rd.instruments[1].figi = "FIGI1";
    rd.instruments[1].uid = "uid-1";
    rd.instruments[1].ticker = "BBB";
    rd.instruments[1].api_trade_available = false;
    rd.account_count = 2;
    rd.accounts[0] = (account){.index = 0, .id = "A1", .name = "", .cash_count = 1};
    strcpy(rd.accounts[0].cash[0].currency, "rub");
    rd.accounts[0].cash[0].value_nano = 10000 * NANO;
    rd.accounts[1] =
        (account){.index = 1, .id = "S1", .name = "", .sandbox = true, .cash_count = 0};
    rd.token_count = 2;
    full = &rd.tokens[0];
    full->secret = "full";
    full->access[0] = ACCESS_FULL;
    full->access[1] = ACCESS_FULL;
    readonly = &rd.tokens[1];
    readonly->secret = "ro";
    readonly->access[0] = ACCESS_READ_ONLY;
}

static core_config make_config(void) {
    return (core_config){.refdata = &rd,
                         .commission_bp = 5,
                         .max_orders = 64,
                         .max_trades = 128,
                         .order_retention_ns = 30LL * 86400 * NANO,
                         .max_orders_per_account = 1000,
                         .max_trades_per_order = 16,
                         .id_seed = 7,
                         .openable_sandbox_accounts = 4,
                         .value_limit_count = 1,
                         .value_limits = {{.currency = "rub", .max_value_nano = 50000 * NANO}}};
}

static void init_core_with(core *c, core_config cfg) {
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.market = on_market};
    c->sink = (core_event_sink){.append = record};
    recorded_count = 0;
    submits = cancels = 0;
}

static void init_core(core *c) {
    init_core_with(c, make_config());
}

static core_order_request buy(const char *key, int64_t lots, int64_t price_nano) {
    return (core_order_request){.token = full,
                                .account_id = "A1",
                                .instrument_id = "FIGI0",
                                .key = key,
                                .quantity = lots,
                                .has_price = true,
                                .price_nano = price_nano,
                                .direction = DIRECTION_BUY,
                                .type = ORDER_TYPE_LIMIT,
                                .source = ORDER_SOURCE_ASYNC,
                                .require_uuid_key = true,
                                .now_ns = 1000};
}

#define KEY1 "11111111-1111-4111-8111-111111111111"
#define KEY2 "22222222-2222-4222-8222-222222222222"
#define KEY3 "33333333-3333-4333-8333-333333333333"
#define KEY4 "44444444-4444-4444-8444-444444444444"

static core_error place_error(core *c, core_order_request req) {
    return core_place_order(c, &req).error;
}

/* The live order a result names. */
static const core_order *live(const core *c, core_result r) {
    return r.error == CORE_OK ? &c->orders[r.order.index] : NULL;
}

static void test_rejections_change_nothing(void) {
    core c;
    init_core(&c);
    uint64_t before = core_state_hash(&c);
    core_order_request r;
    r = buy("", 1, 100 * NANO);
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ORDER_ID_MISSING);
    r = buy("0123456789012345678901234567890123456", 1, 100 * NANO);
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ORDER_ID_TOO_LONG);
    r = buy("not-a-uuid", 1, 100 * NANO);
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ORDER_ID_NOT_UUID);
    r = buy(KEY1, 1, 100 * NANO);
    r.account_id = "nope";
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ACCOUNT_NOT_FOUND);
    r = buy(KEY1, 1, 100 * NANO);
    r.token = readonly;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ACCOUNT_NO_ACCESS);
    r = buy(KEY1, 1, 100 * NANO);
    r.instrument_id = "";
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_INSTRUMENT_MISSING);
    r.instrument_id = "NOPE";
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_INSTRUMENT_NOT_FOUND);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 0, 100 * NANO)), CORE_ERR_QUANTITY_ZERO);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, -3, 100 * NANO)), CORE_ERR_QUANTITY_NEGATIVE);
    r = buy(KEY1, 1, 100 * NANO);
    r.direction = 0;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_DIRECTION_MISSING);
    r.direction = 7;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_DIRECTION_INVALID);
    r = buy(KEY1, 1, 100 * NANO);
    r.type = 0;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ORDER_TYPE_MISSING);
    r.type = 9;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ORDER_TYPE_INVALID);
    r = buy(KEY1, 1, 100 * NANO);
    r.tif = 5;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_TIME_IN_FORCE_INVALID);
    r = buy(KEY1, 1, 100 * NANO);
    r.has_price = false;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_PRICE_MISSING);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 1, 0)), CORE_ERR_PRICE_NOT_POSITIVE);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 1, -NANO)), CORE_ERR_PRICE_NOT_POSITIVE);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 1, 100 * NANO + 5)), CORE_ERR_PRICE_STEP);
    r = buy(KEY1, 1, 100 * NANO);
    r.instrument_id = "FIGI1";
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_API_TRADING_FORBIDDEN);
    market_trading = false;
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 1, 100 * NANO)), CORE_ERR_NOT_TRADING);
    market_trading = true;
    /* 60 lots * 10 * 100 = 60000 > the 50000 rub order value limit. */
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 60, 100 * NANO)), CORE_ERR_PRICE_TOO_HIGH);
    /* 11 lots * 10 * 100 = 11000 > 10000 rub of cash. */
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 11, 100 * NANO)), CORE_ERR_NOT_ENOUGH_ASSETS);
    r = buy(KEY1, 1, 100 * NANO);
    r.account_id = "S1";
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_NOT_ENOUGH_BALANCE);
    r = buy(KEY1, 1, 100 * NANO);
    r.direction = DIRECTION_SELL;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_NOT_ENOUGH_ASSETS);
    CHECK(core_state_hash(&c) == before);
    CHECK_EQ_INT(recorded_count, 0);
    drain(&c);
    CHECK_EQ_INT(submits, 0);
    /* None of the rejected requests consumed the key. */
    core_result ok = core_place_order(&c, &(core_order_request){.token = full,
                                                                .account_id = "A1",
                                                                .instrument_id = "FIGI0",
                                                                .key = KEY1,
                                                                .quantity = 1,
                                                                .has_price = true,
                                                                .price_nano = 100 * NANO,
                                                                .direction = DIRECTION_BUY,
                                                                .type = ORDER_TYPE_LIMIT,
                                                                .source = ORDER_SOURCE_ASYNC,
                                                                .require_uuid_key = true,
                                                                .now_ns = 1000});
    CHECK_EQ_INT(ok.error, CORE_OK);
    CHECK(!ok.duplicate);
    core_check_invariants(&c);
    core_deinit(&c);
}

static void test_idempotency(void) {
    core c;
    init_core(&c);
    core_order_request r = buy(KEY1, 2, 100 * NANO);
    core_result first = core_place_order(&c, &r);
    CHECK_EQ_INT(first.error, CORE_OK);
    core_result again = core_place_order(&c, &r);
    CHECK_EQ_INT(again.error, CORE_OK);
    CHECK(again.duplicate);
    CHECK_EQ_INT(again.order.index, first.order.index);
    CHECK_EQ_INT(c.pools.orders_in_use, 1);
    drain(&c);
    CHECK_EQ_INT(submits, 1);
    core_order_request different = buy(KEY1, 3, 100 * NANO);
    CHECK_EQ_INT(place_error(&c, different), CORE_ERR_DUPLICATE_KEY);
    /* PostOrder accepts a non-UUID key and shows a generated UUID as order_request_id. */
    core_order_request sync = buy("my-order-1", 1, 100 * NANO);
    sync.require_uuid_key = false;
    sync.source = ORDER_SOURCE_SYNC;
    core_result named = core_place_order(&c, &sync);
    CHECK_EQ_INT(named.error, CORE_OK);
    CHECK(strcmp(named.order.key, "my-order-1") == 0);
    CHECK(strlen(named.order.request_id) == 36 &&
          strcmp(named.order.request_id, "my-order-1") != 0);
    /* Keys are scoped by account: the same key on another account is a new order. */
    core_order_request other = buy(KEY1, 2, 100 * NANO);
    other.account_id = "S1";
    CHECK_EQ_INT(place_error(&c, other), CORE_ERR_NOT_ENOUGH_BALANCE);
    core_deinit(&c);
}

static uint64_t next_trade = 1;

static void report_ref(core *c, core_report_kind kind, uint64_t client_ref, int64_t lots,
                       int64_t price_nano, int64_t time_ns) {
    core_exchange_report rep = {.kind = kind,
                                .client_ref = client_ref,
                                .lots = lots,
                                .price_nano = price_nano,
                                .exchange_order_id = 5000 + (client_ref & 0xFFFF) - 1,
                                .trade_id = next_trade,
                                .aggressor = next_trade++ % 2 == 1,
                                .cause = kind == REPORT_CANCELLED
                                             ? ORDER_CAUSE_CANCELLED_BY_CLIENT
                                             : ORDER_CAUSE_REJECTED_BY_EXCHANGE,
                                .reject_reason = CORE_ERR_EXCHANGE_PRICE_LIMITS,
                                .time_ns = time_ns};
    core_on_exchange_report(c, &rep);
}

static void report(core *c, core_report_kind kind, const core_order *o, int64_t lots,
                   int64_t price_nano) {
    report_ref(c, kind, core_client_ref(o), lots, price_nano, 2000);
}

/* Replays everything recorded into a fresh core and compares. */
static void check_replay(const core *c, core_config cfg) {
    /* The replica starts from the configured accounts, as a restarted broker does; it publishes
     * the opened ones into the shared refdata again, to the same slots and values. */
    rd.account_count = c->accounts.configured_count;
    core replica;
    CHECK(core_init(&replica, &cfg) == 0);
    for (int i = 0; i < recorded_count; i++) {
        CHECK(core_event_applicable(&replica, &recorded[i]));
        core_apply(&replica, &recorded[i]);
    }
    CHECK(core_state_hash(&replica) == core_state_hash(c));
    core_check_invariants(&replica);
    core_deinit(&replica);
}

static void test_fills_move_cash_and_positions(void) {
    core c;
    init_core(&c);
    core_order_request first = buy(KEY1, 3, 100 * NANO);
    first.require_uuid_key = false;
    const core_order *o = live(&c, core_place_order(&c, &first));
    CHECK(o != NULL);
    /* 3 lots * 10 * 100 = 3000 plus 0.05% commission = 1.50. */
    CHECK_EQ_INT(o->reserved_cash_nano, 3001 * NANO + NANO / 2);
    CHECK_EQ_INT(ledger_cash_free(&c.ledger, 0, "rub"), 10000 * NANO - 3001 * NANO - NANO / 2);
    report(&c, REPORT_ACK, o, 0, 0);
    CHECK_EQ_INT(o->exchange_order_id, 5000);
    report(&c, REPORT_TRADE, o, 1, 99 * NANO);
    CHECK_EQ_INT(o->status, ORDER_STATUS_PARTIALLYFILL);
    CHECK_EQ_INT(core_order_average_price_nano(o), 99 * NANO);
    report(&c, REPORT_TRADE, o, 2, 100 * NANO);
    CHECK_EQ_INT(o->status, ORDER_STATUS_FILL);
    CHECK_EQ_INT(o->trade_count, 2);
    CHECK_EQ_INT(o->reserved_cash_nano, 0);
    CHECK_EQ_INT(core_order_average_price_nano(o), (99 * NANO + 200 * NANO) / 3);
    const ledger_cash *rub = ledger_cash_find(&c.ledger, 0, "rub");
    CHECK_EQ_INT(rub->blocked_nano, 0);
    /* 990 + 2000 = 2990 executed; commission on the running total: 0.50, then 1.00. */
    CHECK_EQ_INT(rub->balance_nano, 10000 * NANO - 2990 * NANO - 3 * NANO / 2);
    const ledger_position *pos = ledger_position_get(&c.ledger, 0, 0);
    CHECK_EQ_INT(pos->balance_units, 30);
    CHECK_EQ_INT(pos->average_price_nano, 2990 * NANO / 30);

    /* Sell 2 lots, then cancel: units are held back, then released. */
    core_order_request sell = buy(KEY2, 2, 110 * NANO);
    sell.direction = DIRECTION_SELL;
    const core_order *s = live(&c, core_place_order(&c, &sell));
    CHECK(s != NULL);
    CHECK_EQ_INT(ledger_units_free(&c.ledger, 0, 0), 10);
    CHECK_EQ_INT(place_error(&c, (sell.key = KEY3, sell.quantity = 2, sell)),
                 CORE_ERR_NOT_ENOUGH_ASSETS);
    drain(&c);
    CHECK_EQ_INT(core_cancel_order(&c, full, "A1", s->intent_id, false, 3000).error, CORE_OK);
    /* A second cancel before the exchange answered sends nothing more. */
    CHECK_EQ_INT(core_cancel_order(&c, full, "A1", s->intent_id, false, 3000).error, CORE_OK);
    drain(&c);
    CHECK_EQ_INT(cancels, 1);
    report(&c, REPORT_CANCELLED, s, 2, 0);
    CHECK_EQ_INT(s->status, ORDER_STATUS_CANCELLED);
    CHECK_EQ_INT(s->lots_cancelled, 2);
    CHECK_EQ_INT(ledger_units_free(&c.ledger, 0, 0), 30);
    CHECK_EQ_INT(core_cancel_order(&c, full, "A1", s->intent_id, false, 3000).error,
                 CORE_ERR_ORDER_NOT_ACTIVE);
    /* Found by key and by exchange number. */
    CHECK_EQ_INT(core_find_order(&c, full, "A1", KEY1, true).order.index, o->index);
    CHECK_EQ_INT(core_find_order(&c, full, "A1", "5000", false).order.index, o->index);
    CHECK_EQ_INT(core_find_order(&c, full, "A1", "5000", true).error, CORE_ERR_ORDER_NOT_FOUND);
    CHECK_EQ_INT(core_find_order(&c, readonly, "A1", KEY1, true).error, CORE_OK);

    /* An exchange reject releases everything. */
    core_order_request third = buy(KEY3, 1, 100 * NANO);
    third.source = ORDER_SOURCE_SYNC;
    const core_order *rej = live(&c, core_place_order(&c, &third));
    int64_t free_before = ledger_cash_free(&c.ledger, 0, "rub");
    report(&c, REPORT_REJECTED, rej, 0, 0);
    CHECK_EQ_INT(rej->status, ORDER_STATUS_REJECTED);
    CHECK_EQ_INT(rej->reject_reason, CORE_ERR_EXCHANGE_PRICE_LIMITS);
    CHECK(ledger_cash_free(&c.ledger, 0, "rub") > free_before);
    CHECK_EQ_INT(ledger_cash_find(&c.ledger, 0, "rub")->blocked_nano, 0);

    /* The market maker's moves are broker state too: recorded, hashed, replayed. */
    uint64_t hash_before_move = core_state_hash(&c);
    const uint64_t random_state[4] = {1, 2, 3, 4};
    core_record_market_maker(&c, 1, 101 * NANO, random_state, 5000);
    CHECK_EQ_INT(c.venue.mm_reference_nano[1], 101 * NANO);
    CHECK_EQ_INT(c.venue.mm_reference_nano[0], 0);
    CHECK(c.venue.random_state[3] == 4);
    CHECK(core_state_hash(&c) != hash_before_move);
    core_check_invariants(&c);

    /* Replay: the recorded events rebuild an identical state in a fresh core. */
    check_replay(&c, make_config());
    core_deinit(&c);
}

/* A buy whose value plus commission does not fit int64 was accepted and wrapped the reservation
 * negative; now every amount is checked and the order is refused with 30109. */
static void test_money_cannot_overflow(void) {
    core_config cfg = make_config();
    cfg.value_limit_count = 0; /* no max_order_value: the default */
    core c;
    init_core_with(&c, cfg);
    uint64_t before = core_state_hash(&c);
    /* 100 rub per unit, lot 10: this many lots is worth more than int64 nano can hold. */
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 9300000000LL, 100 * NANO)), CORE_ERR_AMOUNT_TOO_LARGE);
    /* Fits int64, but past the largest order value the broker takes. */
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 1000000001LL, 100 * NANO)), CORE_ERR_AMOUNT_TOO_LARGE);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, INT64_MAX, 100 * NANO)), CORE_ERR_AMOUNT_TOO_LARGE);
    core_order_request sell = buy(KEY1, INT64_MAX / 5, 100 * NANO);
    sell.direction = DIRECTION_SELL;
    CHECK_EQ_INT(place_error(&c, sell), CORE_ERR_AMOUNT_TOO_LARGE);
    CHECK(core_state_hash(&c) == before);
    /* Pay-ins: a balance past 10^9 units is refused, never wrapped. */
    int64_t balance = 0;
    CHECK_EQ_INT(core_pay_in(&c, full, "S1", "rub", 9000000000LL * NANO, 1000, &balance),
                 CORE_ERR_PAY_IN_TOO_LARGE);
    CHECK_EQ_INT(core_pay_in(&c, full, "S1", "rub", 600000000LL * NANO, 1000, &balance), CORE_OK);
    CHECK_EQ_INT(core_pay_in(&c, full, "S1", "rub", 600000000LL * NANO, 1000, &balance),
                 CORE_ERR_PAY_IN_TOO_LARGE);
    CHECK_EQ_INT(balance, 600000000LL * NANO);
    CHECK_EQ_INT(core_pay_in(&c, full, "S1", "rub", INT64_MAX, 1000, &balance),
                 CORE_ERR_PAY_IN_TOO_LARGE);
    core_check_invariants(&c);
    core_deinit(&c);
}

/* For bonds and futures the 128-bit intermediate itself overflowed with huge quantities. */
static void test_valuation_overflow_is_refused(void) {
    instrument bond = {.kind = INSTRUMENT_KIND_BOND, .nominal_nano = 1000 * NANO};
    instrument future = {.kind = INSTRUMENT_KIND_FUTURE,
                         .min_price_increment_nano = NANO / 100,
                         .min_price_increment_amount_nano = INT64_MAX / 2};
    int64_t value = 0;
    CHECK(!valuation_amount(&bond, INT64_MAX, INT64_MAX, &value));
    CHECK(!valuation_amount(&future, INT64_MAX, INT64_MAX, &value));
    CHECK(!valuation_amount(&future, -INT64_MAX, INT64_MAX, &value));
    CHECK(valuation_amount(&bond, 100 * NANO, 10, &value));
    CHECK_EQ_INT(value, 10000 * NANO);
}

/* A copy of the order taken after its first fill (what a stream message is built from) carries
 * the average of that fill alone, whatever fills come after it. */
static void test_average_price_travels_with_the_copy(void) {
    core c;
    init_core(&c);
    core_order_request market = buy(KEY1, 5, 0);
    market.type = ORDER_TYPE_MARKET;
    market.has_price = false;
    const core_order *o = live(&c, core_place_order(&c, &market));
    CHECK(o != NULL);
    if (o == NULL)
        return;
    report(&c, REPORT_TRADE, o, 3, 100 * NANO);
    core_order after_first = *o;
    report(&c, REPORT_TRADE, o, 2, 100 * NANO + NANO / 100);
    CHECK_EQ_INT(core_order_average_price_nano(&after_first), 100 * NANO);
    CHECK_EQ_INT(core_order_average_price_nano(o), (500 * NANO + 2 * NANO / 100) / 5);
    core_deinit(&c);
}

/* The trade pool was never checked before acceptance: the process aborted when it filled. Now
 * acceptance reserves a record for every fill an order can make, or refuses the order. */
static void test_trade_capacity_is_reserved(void) {
    core_config cfg = make_config();
    cfg.max_trades = 20;
    cfg.max_trades_per_order = 8;
    core c;
    init_core_with(&c, cfg);
    const core_order *a =
        live(&c, core_place_order(&c, (core_order_request[]){buy(KEY1, 5, 10 * NANO)}));
    const core_order *b =
        live(&c, core_place_order(&c, (core_order_request[]){buy(KEY2, 9, 10 * NANO)}));
    CHECK(a != NULL && b != NULL);
    CHECK_EQ_INT(a->trades_reserved, 5);
    CHECK_EQ_INT(b->trades_reserved, 8); /* capped by max_trades_per_order */
    /* 13 of 20 reserved: an order that may need 8 more does not fit, one that needs 7 does. */
    CHECK_EQ_INT(place_error(&c, buy(KEY3, 8, 10 * NANO)), CORE_ERR_BROKER_CAPACITY);
    CHECK_EQ_INT(place_error(&c, buy(KEY3, 7, 10 * NANO)), CORE_OK);
    for (int i = 0; i < 5; i++)
        report(&c, REPORT_TRADE, a, 1, 10 * NANO);
    CHECK_EQ_INT(a->status, ORDER_STATUS_FILL);
    /* A fill beyond what an order reserved is not one the exchange may report: ignored. */
    for (int i = 0; i < 9; i++)
        report(&c, REPORT_TRADE, b, 1, 10 * NANO);
    CHECK_EQ_INT(b->lots_executed, 8);
    CHECK_EQ_INT(c.pools.trades_in_use, 13);
    core_check_invariants(&c);
    check_replay(&c, cfg);
    core_deinit(&c);
}

/* ReplaceOrder released the old order's reservation before the exchange confirmed its cancel;
 * the old order filled meanwhile and free cash went negative. Now the replacement holds nothing
 * until the cancel is confirmed, and is rejected if the old order filled instead. */
static void test_replace_never_spends_twice(void) {
    core c;
    init_core(&c);
    core_result placed_old = core_place_order(&c, (core_order_request[]){buy(KEY1, 5, 100 * NANO)});
    CHECK_EQ_INT(placed_old.error, CORE_OK);
    const core_order *old = live(&c, placed_old);
    report(&c, REPORT_ACK, old, 0, 0);
    drain(&c);
    submits = cancels = 0;
    int64_t free_before = ledger_cash_free(&c.ledger, 0, "rub");
    core_result r = core_replace_order(&c, full, "A1", old->exchange_id_text, KEY2, 5, true,
                                       101 * NANO, 0, 3000);
    CHECK_EQ_INT(r.error, CORE_OK);
    const core_order *fresh = live(&c, r);
    CHECK(fresh->awaiting_replaced);
    CHECK_EQ_INT(fresh->reserved_cash_nano, 0);
    CHECK_EQ_INT(ledger_cash_free(&c.ledger, 0, "rub"), free_before);
    drain(&c);
    CHECK_EQ_INT(cancels, 1);
    CHECK_EQ_INT(submits, 0); /* not sent before the cancel is confirmed */
    /* The old order fills before the exchange sees the cancel. */
    report(&c, REPORT_TRADE, old, 5, 100 * NANO);
    CHECK_EQ_INT(old->status, ORDER_STATUS_FILL);
    CHECK_EQ_INT(fresh->status, ORDER_STATUS_REJECTED);
    CHECK_EQ_INT(fresh->reject_reason, CORE_ERR_REPLACED_ORDER_ENDED);
    CHECK(ledger_cash_free(&c.ledger, 0, "rub") >= 0);
    drain(&c);
    CHECK_EQ_INT(submits, 0);

    /* The usual case: the cancel is confirmed, then the replacement reserves and is sent. */
    const core_order *second =
        live(&c, core_place_order(&c, (core_order_request[]){buy(KEY3, 2, 100 * NANO)}));
    report(&c, REPORT_ACK, second, 0, 0);
    drain(&c);
    submits = cancels = 0;
    r = core_replace_order(&c, full, "A1", second->intent_id, KEY4, 3, true, 99 * NANO, 0, 4000);
    CHECK_EQ_INT(r.error, CORE_OK);
    fresh = live(&c, r);
    /* The same key again is the same replacement. */
    core_result repeat =
        core_replace_order(&c, full, "A1", second->intent_id, KEY4, 3, true, 99 * NANO, 0, 4000);
    CHECK(repeat.duplicate);
    report(&c, REPORT_CANCELLED, second, 2, 0);
    CHECK(!fresh->awaiting_replaced);
    CHECK_EQ_INT(fresh->status, ORDER_STATUS_NEW);
    CHECK_EQ_INT(fresh->reserved_cash_nano, 2970 * NANO + 149 * NANO / 100);
    drain(&c);
    CHECK_EQ_INT(cancels, 1);
    CHECK_EQ_INT(submits, 1);
    core_check_invariants(&c);
    check_replay(&c, make_config());
    core_deinit(&c);
}

/* Orders, trades and keys used to stay for ever: after max_orders orders every order got 70001.
 * Now finished orders leave after the retention and their records are reused; a stale report
 * about an earlier order of a reused slot is ignored. */
static void test_records_are_recycled(void) {
    core_config cfg = make_config();
    cfg.order_retention_ns = 1000;
    core c;
    init_core_with(&c, cfg);
    int64_t now = 10000;
    uint64_t first_ref = 0;
    for (int i = 0; i < 5000; i++) {
        char key[40];
        snprintf(key, sizeof key, "%08x-0000-4000-8000-000000000000", i);
        /* Buy and fill, sell it back and fill, then two that are cancelled. */
        core_order_request r = buy(key, 1, 100 * NANO);
        r.now_ns = now;
        if (i % 4 == 1)
            r.direction = DIRECTION_SELL;
        core_result placed = core_place_order(&c, &r);
        CHECK_EQ_INT(placed.error, CORE_OK);
        if (placed.error != CORE_OK)
            break;
        const core_order *o = live(&c, placed);
        if (i == 0)
            first_ref = core_client_ref(o);
        report_ref(&c, i % 4 < 2 ? REPORT_TRADE : REPORT_CANCELLED, core_client_ref(o), 1,
                   99 * NANO, now);
        drain(&c);
        now += 100;
        recorded_count = 0; /* not replayed here: the buffer is for short tests */
    }
    CHECK(c.pools.orders_in_use <= 12);
    CHECK(c.pools.order_high <= 12);
    /* A report naming the very first order (its slot long reused) changes nothing. */
    uint64_t before = core_state_hash(&c);
    report_ref(&c, REPORT_TRADE, first_ref, 1, 99 * NANO, now);
    CHECK(core_state_hash(&c) == before);
    /* Keys of retired orders name new orders; those within the retention are duplicates. */
    core_order_request again = buy("00000000-0000-4000-8000-000000000000", 1, 100 * NANO);
    again.now_ns = now;
    CHECK_EQ_INT(core_place_order(&c, &again).duplicate, false);
    core_check_invariants(&c);
    core_deinit(&c);
}

/* max_orders_per_account was parsed and never enforced. */
static void test_orders_per_account(void) {
    core_config cfg = make_config();
    cfg.max_orders_per_account = 2;
    core c;
    init_core_with(&c, cfg);
    CHECK_EQ_INT(place_error(&c, buy(KEY1, 1, 100 * NANO)), CORE_OK);
    CHECK_EQ_INT(place_error(&c, buy(KEY2, 1, 100 * NANO)), CORE_OK);
    CHECK_EQ_INT(place_error(&c, buy(KEY3, 1, 100 * NANO)), CORE_ERR_ACCOUNT_ORDER_LIMIT);
    core_deinit(&c);
}

/* After `openable_sandbox_accounts` openings, opening failed for ever even when every account was
 * closed. Now a closed account's slot is given to a new account (with a new id, empty) once its
 * orders have left the history. */
static void test_closed_sandbox_slots_are_reused(void) {
    core_config cfg = make_config();
    cfg.openable_sandbox_accounts = 2;
    cfg.order_retention_ns = 1000;
    core c;
    init_core_with(&c, cfg);
    char first[ORDER_ID_SIZE], second[ORDER_ID_SIZE], third[ORDER_ID_SIZE];
    CHECK_EQ_INT(core_open_sandbox_account(&c, full, "one", 100, first), CORE_OK);
    CHECK_EQ_INT(core_open_sandbox_account(&c, full, "two", 100, second), CORE_OK);
    CHECK_EQ_INT(core_open_sandbox_account(&c, full, "three", 100, third),
                 CORE_ERR_SANDBOX_ACCOUNT_LIMIT);
    int64_t balance;
    CHECK_EQ_INT(core_pay_in(&c, full, first, "rub", 5000 * NANO, 100, &balance), CORE_OK);
    core_order_request r = buy(KEY1, 1, 100 * NANO);
    r.account_id = first;
    r.now_ns = 200;
    const core_order *o = live(&c, core_place_order(&c, &r));
    CHECK(o != NULL);
    drain(&c);
    CHECK_EQ_INT(core_close_sandbox_account(&c, full, first, 300), CORE_OK);
    drain(&c);
    CHECK_EQ_INT(cancels, 1);
    /* Its order still holds the slot until it ends and its retention passes. */
    CHECK_EQ_INT(core_open_sandbox_account(&c, full, "three", 400, third),
                 CORE_ERR_SANDBOX_ACCOUNT_LIMIT);
    report_ref(&c, REPORT_CANCELLED, core_client_ref(o), 1, 0, 500);
    CHECK_EQ_INT(core_open_sandbox_account(&c, full, "three", 1000, third),
                 CORE_ERR_SANDBOX_ACCOUNT_LIMIT);
    CHECK_EQ_INT(core_open_sandbox_account(&c, full, "three", 1600, third), CORE_OK);
    CHECK(strcmp(first, third) != 0);
    const account *reused = refdata_find_account(&rd, third);
    CHECK(reused != NULL && reused->index == c.accounts.configured_count);
    CHECK(refdata_find_account(&rd, first) == NULL);
    /* The new account starts empty. */
    CHECK_EQ_INT(ledger_cash_free(&c.ledger, reused->index, "rub"), 0);
    core_check_invariants(&c);
    check_replay(&c, cfg);
    core_deinit(&c);
}

/* The same UUID in upper and lower case made two orders. A UUID key now names one order in
 * either case (placing, finding, cancelling, replaying, retiring); other keys stay exact. */
static void test_uuid_keys_ignore_case(void) {
    core_config cfg = make_config();
    cfg.order_retention_ns = 1000;
    core c;
    init_core_with(&c, cfg);
    static const char upper[] = "ABCDEF01-2345-4789-ABCD-EF0123456789";
    static const char lower[] = "abcdef01-2345-4789-abcd-ef0123456789";
    static const char mixed[] = "AbCdEf01-2345-4789-aBcD-eF0123456789";
    core_order_request r = buy(upper, 2, 100 * NANO);
    core_result first = core_place_order(&c, &r);
    CHECK_EQ_INT(first.error, CORE_OK);
    CHECK(!first.duplicate);
    /* The order keeps the key as the client spelled it. */
    CHECK(strcmp(first.order.key, upper) == 0);
    r = buy(lower, 2, 100 * NANO);
    core_result again = core_place_order(&c, &r);
    CHECK_EQ_INT(again.error, CORE_OK);
    CHECK(again.duplicate);
    CHECK_EQ_INT(again.order.index, first.order.index);
    /* Other terms under the same UUID in another case: the key is taken. */
    CHECK_EQ_INT(place_error(&c, buy(mixed, 3, 100 * NANO)), CORE_ERR_DUPLICATE_KEY);
    CHECK_EQ_INT(c.pools.orders_in_use, 1);
    drain(&c);
    CHECK_EQ_INT(submits, 1);

    core_result found = core_find_order(&c, full, "A1", mixed, true);
    CHECK_EQ_INT(found.error, CORE_OK);
    CHECK_EQ_INT(found.order.index, first.order.index);
    /* One upper-case letter in the middle of the key (a whole 8-byte word is checked at once). */
    found = core_find_order(&c, full, "A1", "abcdef01-2345-4789-aBcd-ef0123456789", true);
    CHECK_EQ_INT(found.error, CORE_OK);
    CHECK_EQ_INT(found.order.index, first.order.index);

    /* Keys that are not UUIDs (PostOrder takes any string) stay exact, letter case included. */
    core_order_request named = buy("My-Order", 1, 100 * NANO);
    named.require_uuid_key = false;
    named.source = ORDER_SOURCE_SYNC;
    core_result named_first = core_place_order(&c, &named);
    named.key = "my-order";
    core_result named_second = core_place_order(&c, &named);
    CHECK_EQ_INT(named_first.error, CORE_OK);
    CHECK_EQ_INT(named_second.error, CORE_OK);
    CHECK(!named_second.duplicate);
    CHECK(named_second.order.index != named_first.order.index);
    CHECK_EQ_INT(c.pools.orders_in_use, 3);
    drain(&c);
    core_check_invariants(&c);
    check_replay(&c, cfg);

    /* Cancelled under the lower-case spelling, the order leaves the history with its key; then
     * the key (in any case) names a new order. */
    core_result cancelled = core_cancel_order(&c, full, "A1", lower, true, 1500);
    CHECK_EQ_INT(cancelled.error, CORE_OK);
    drain(&c);
    report_ref(&c, REPORT_CANCELLED, core_client_ref(live(&c, first)), 2, 0, 1600);
    core_order_request later = buy(lower, 2, 100 * NANO);
    later.now_ns = 1000000;
    core_result renewed = core_place_order(&c, &later);
    CHECK_EQ_INT(renewed.error, CORE_OK);
    CHECK(!renewed.duplicate);
    /* Upper-case letters only among the last four characters (past the last whole word). */
    core_order_request tail = buy("00000000-0000-4000-8000-00000000abcd", 1, 100 * NANO);
    tail.now_ns = 1000000;
    core_result tail_first = core_place_order(&c, &tail);
    CHECK_EQ_INT(tail_first.error, CORE_OK);
    found = core_find_order(&c, full, "A1", "00000000-0000-4000-8000-00000000ABcD", true);
    CHECK_EQ_INT(found.error, CORE_OK);
    CHECK_EQ_INT(found.order.index, tail_first.order.index);
    core_check_invariants(&c);
    core_deinit(&c);
}

/* After a restart the exchange numbered orders and trades above the highest numbers the orders
 * still in the history carried: once those orders had left, it handed out numbers clients had
 * already seen. The core now keeps the highest exchange number and trade id it applied. */
static void test_numbers_outlive_retirement(void) {
    core_config cfg = make_config();
    cfg.order_retention_ns = 1000;
    core c;
    init_core_with(&c, cfg);
    core_order_request r = buy(KEY1, 2, 100 * NANO);
    r.now_ns = 1000;
    const core_order *o = live(&c, core_place_order(&c, &r));
    CHECK(o != NULL);
    if (o == NULL)
        return;
    uint64_t ref = core_client_ref(o);
    report_ref(&c, REPORT_ACK, ref, 0, 0, 1500);
    uint64_t exchange_id = o->exchange_order_id;
    uint64_t trade_id = next_trade;
    report_ref(&c, REPORT_TRADE, ref, 2, 100 * NANO, 2000);
    CHECK_EQ_INT(o->status, ORDER_STATUS_FILL);
    drain(&c);
    /* The next command after the retention retires the filled order with its trade. */
    core_order_request later = buy(KEY2, 1, 100 * NANO);
    later.now_ns = 5000;
    CHECK_EQ_INT(core_place_order(&c, &later).error, CORE_OK);
    CHECK_EQ_INT(c.pools.trades_in_use, 0);
    CHECK_EQ_INT(c.venue.last_exchange_order_id, exchange_id);
    CHECK_EQ_INT(c.venue.last_trade_id, trade_id);
    core_check_invariants(&c);
    check_replay(&c, cfg);
    core_deinit(&c);
}

/* A snapshot copies order records whole, the mark that a cancel was sent included. A process
 * restarted from one taken while a cancel was on its way (which died with the old process) sent
 * nothing for a later CancelOrder: the order stayed active and the client waited for ever. */
static void test_cancel_is_sent_again_after_a_snapshot(void) {
    core c;
    init_core(&c);
    const core_order *o =
        live(&c, core_place_order(&c, (core_order_request[]){buy(KEY1, 1, 100 * NANO)}));
    CHECK(o != NULL);
    if (o == NULL)
        return;
    report(&c, REPORT_ACK, o, 0, 0);
    drain(&c);
    CHECK_EQ_INT(core_cancel_order(&c, full, "A1", o->intent_id, false, 3000).error, CORE_OK);
    char dir[512];
    snprintf(dir, sizeof dir, "%s/tinvestd-core-XXXXXX",
             getenv("TMPDIR") != NULL ? getenv("TMPDIR") : "/tmp");
    CHECK(mkdtemp(dir) != NULL);
    CHECK_EQ_INT(snapshot_write(&c, dir), 0);
    char path[600];
    snprintf(path, sizeof path, "%s/snapshot-%020llu.snap", dir,
             (unsigned long long)(c.next_seq - 1));
    /* The restarted process: the snapshot, and no request on its way to the exchange. */
    core restarted;
    core_config cfg = make_config();
    CHECK(core_init(&restarted, &cfg) == 0);
    char error[256];
    CHECK(snapshot_load(&restarted, dir, error, sizeof error) == (int64_t)(c.next_seq - 1));
    CHECK(core_state_hash(&restarted) == core_state_hash(&c));
    submits = cancels = 0;
    CHECK_EQ_INT(core_cancel_order(&restarted, full, "A1", o->intent_id, false, 4000).error,
                 CORE_OK);
    drain(&restarted);
    CHECK_EQ_INT(cancels, 1);
    core_check_invariants(&restarted);
    unlink(path);
    rmdir(dir);
    core_deinit(&restarted);
    core_deinit(&c);
}

/* Closing a sandbox account cancels its active orders. When the process stopped before those
 * cancels reached the exchange, nothing asked for them again: the orders of the closed account
 * stayed active for good. core_resume now asks again. */
static void test_closed_account_orders_are_cancelled_after_a_restart(void) {
    core c;
    init_core(&c);
    int32_t status_before = rd.accounts[1].status;
    int64_t balance;
    CHECK_EQ_INT(core_pay_in(&c, full, "S1", "rub", 5000 * NANO, 100, &balance), CORE_OK);
    core_order_request r = buy(KEY1, 1, 100 * NANO);
    r.account_id = "S1";
    const core_order *o = live(&c, core_place_order(&c, &r));
    CHECK(o != NULL);
    if (o == NULL)
        return;
    report(&c, REPORT_ACK, o, 0, 0);
    drain(&c);
    CHECK_EQ_INT(core_close_sandbox_account(&c, full, "S1", 3000), CORE_OK);
    /* The process stops before the cancel leaves; the next one replays the journal. */
    core restarted;
    core_config cfg = make_config();
    CHECK(core_init(&restarted, &cfg) == 0);
    for (int i = 0; i < recorded_count; i++)
        core_apply(&restarted, &recorded[i]);
    CHECK(core_state_hash(&restarted) == core_state_hash(&c));
    submits = cancels = 0;
    core_resume(&restarted, 4000);
    drain(&restarted);
    CHECK_EQ_INT(cancels, 1);
    core_check_invariants(&restarted);
    core_deinit(&restarted);
    core_deinit(&c);
    refdata_set_account_status(&rd.accounts[1], status_before);
}

/* A bond's or a future's value per unit times the units was multiplied in 128 bits unchecked:
 * at absurd prices and quantities the product overflowed (undefined behaviour; in practice it
 * could wrap to a value that fits and be taken for the order's value). */
static void test_valuation_refuses_what_does_not_fit(void) {
    instrument future = {.kind = INSTRUMENT_KIND_FUTURE,
                         .min_price_increment_nano = 1,
                         .min_price_increment_amount_nano = 1LL << 33};
    int64_t value = -1;
    CHECK(valuation_amount(&future, 3, 5, &value));
    CHECK_EQ_INT(value, 3 * (1LL << 33) * 5);
    /* 2^66 per unit times 2^62 units is 2^128: wrapped, it would read as 0. */
    CHECK(!valuation_amount(&future, 1LL << 33, 1LL << 62, &value));
    instrument bond = {.kind = INSTRUMENT_KIND_BOND, .nominal_nano = 1000 * NANO};
    CHECK(valuation_amount(&bond, 100 * NANO, 3, &value)); /* 100% of 1000, three bonds */
    CHECK_EQ_INT(value, 3000 * NANO);
    CHECK(!valuation_amount(&bond, INT64_MAX / 2, INT64_MAX / 2, &value));
}

/* GetOrderPrice multiplied a future's initial margin by the lots unchecked: a configured margin
 * and a large quantity wrapped into a wrong guarantee on the wire. */
static void test_order_price_margin_is_checked(void) {
    core c;
    init_core(&c);
    instrument saved = rd.instruments[0];
    rd.instruments[0].kind = INSTRUMENT_KIND_FUTURE;
    rd.instruments[0].min_price_increment_amount_nano = NANO / 100;
    rd.instruments[0].initial_margin_nano = 1000 * NANO;
    core_order_price price;
    CHECK_EQ_INT(
        core_order_price_for(&c, full, "A1", "uid-0", DIRECTION_BUY, 3, true, 100 * NANO, &price),
        CORE_OK);
    /* The guarantee is per contract: 3 lots of 10. */
    CHECK_EQ_INT(price.initial_margin_nano, 30000 * NANO);
    rd.instruments[0].initial_margin_nano = INT64_MAX / 2;
    CHECK_EQ_INT(
        core_order_price_for(&c, full, "A1", "uid-0", DIRECTION_BUY, 3, true, 100 * NANO, &price),
        CORE_ERR_AMOUNT_TOO_LARGE);
    rd.instruments[0] = saved;
    CHECK_EQ_INT(
        core_order_price_for(&c, full, "A1", "uid-0", DIRECTION_BUY, 3, true, 100 * NANO, &price),
        CORE_OK);
    CHECK_EQ_INT(price.initial_margin_nano, 0);
    core_deinit(&c);
}

/* A token seen through an endpoint (refdata_token_view_init): the broker's view knows only
 * broker accounts, the sandbox view only sandbox accounts; an account outside the view is unknown
 * (not "no access"), its rights are the configured token's, and a sandbox account opened through
 * a view belongs to the configured token. */
static void test_token_views(void) {
    /* Only the configured accounts: an earlier test's opened ones went with its core. */
    rd.account_count = 2;
    core c;
    init_core(&c);
    token broker_view, sandbox_view, readonly_sandbox;
    refdata_token_view_init(&broker_view, full, TOKEN_VIEW_BROKER);
    refdata_token_view_init(&sandbox_view, full, TOKEN_VIEW_SANDBOX);
    refdata_token_view_init(&readonly_sandbox, readonly, TOKEN_VIEW_SANDBOX);
    const account *broker = &rd.accounts[0], *sandbox = &rd.accounts[1];
    CHECK(refdata_token_sees(full, broker) && refdata_token_sees(full, sandbox));
    CHECK(refdata_token_sees(&broker_view, broker) && !refdata_token_sees(&broker_view, sandbox));
    CHECK(!refdata_token_sees(&sandbox_view, broker) && refdata_token_sees(&sandbox_view, sandbox));
    CHECK_EQ_INT(refdata_access(&broker_view, broker), ACCESS_FULL);
    CHECK_EQ_INT(refdata_access(&broker_view, sandbox), ACCESS_NONE);
    CHECK_EQ_INT(refdata_access(&sandbox_view, sandbox), ACCESS_FULL);
    CHECK_EQ_INT(refdata_access(&sandbox_view, broker), ACCESS_NONE);
    CHECK_EQ_INT(refdata_token_index(&rd, &sandbox_view), 0);
    CHECK_EQ_INT(refdata_token_index(&rd, &readonly_sandbox), 1);
    CHECK(strcmp(sandbox_view.secret, full->secret) == 0);

    const account *acc;
    CHECK_EQ_INT(core_account_for(&c, &broker_view, "S1", false, &acc), CORE_ERR_ACCOUNT_NOT_FOUND);
    CHECK_EQ_INT(core_account_for(&c, &sandbox_view, "A1", false, &acc),
                 CORE_ERR_ACCOUNT_NOT_FOUND);
    CHECK_EQ_INT(core_account_for(&c, &sandbox_view, "S1", true, &acc), CORE_OK);
    CHECK_EQ_INT(core_account_for(&c, &readonly_sandbox, "S1", false, &acc),
                 CORE_ERR_ACCOUNT_NO_ACCESS);

    /* A command through the wrong view changes nothing. */
    core_order_request r = buy(KEY1, 1, 100 * NANO);
    r.token = &sandbox_view;
    CHECK_EQ_INT(place_error(&c, r), CORE_ERR_ACCOUNT_NOT_FOUND);
    CHECK_EQ_INT(recorded_count, 0);
    r.token = &broker_view;
    CHECK_EQ_INT(place_error(&c, r), CORE_OK);
    int64_t balance;
    CHECK_EQ_INT(core_pay_in(&c, &broker_view, "S1", "rub", NANO, 100, &balance),
                 CORE_ERR_ACCOUNT_NOT_FOUND);

    char opened[ORDER_ID_SIZE];
    CHECK_EQ_INT(core_open_sandbox_account(&c, &sandbox_view, "mine", 100, opened), CORE_OK);
    const account *mine = refdata_find_account(&rd, opened);
    CHECK(mine != NULL);
    CHECK_EQ_INT(refdata_access(full, mine), ACCESS_FULL);
    CHECK_EQ_INT(refdata_access(&sandbox_view, mine), ACCESS_FULL);
    CHECK_EQ_INT(refdata_access(&broker_view, mine), ACCESS_NONE);
    CHECK_EQ_INT(refdata_access(readonly, mine), ACCESS_NONE);
    core_check_invariants(&c);
    core_deinit(&c);
}

int main(void) {
    setup_refdata();
    test_rejections_change_nothing();
    test_idempotency();
    test_fills_move_cash_and_positions();
    test_money_cannot_overflow();
    test_valuation_overflow_is_refused();
    test_average_price_travels_with_the_copy();
    test_trade_capacity_is_reserved();
    test_replace_never_spends_twice();
    test_records_are_recycled();
    test_orders_per_account();
    test_closed_sandbox_slots_are_reused();
    test_uuid_keys_ignore_case();
    test_numbers_outlive_retirement();
    test_cancel_is_sent_again_after_a_snapshot();
    test_closed_account_orders_are_cancelled_after_a_restart();
    test_valuation_refuses_what_does_not_fit();
    test_order_price_margin_is_checked();
    test_token_views();
    refdata_deinit(&rd);
    return check_finish("core orders");
}
