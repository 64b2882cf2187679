/* Broker core: pre-trade checks and their codes, idempotency, reservations, fills, cancels,
 * and replay of the recorded events into an identical state. The exchange is a recording fake:
 * these tests drive its reports by hand. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/core.h"

#define NANO 1000000000LL
#define MAX_EVENTS 256

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

static void on_submit(void *ctx, const core_order *order, int64_t now_ns) {
    submits++;
}

static void on_cancel(void *ctx, const core_order *order, int64_t now_ns) {
    cancels++;
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
                         .idempotency_retention_ns = 30LL * 86400 * NANO,
                         .id_seed = 7,
                         .value_limit_count = 1,
                         .value_limits = {{.currency = "rub", .max_value_nano = 50000 * NANO}}};
}

static void init_core(core *c) {
    core_config cfg = make_config();
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.submit = on_submit, .cancel = on_cancel, .market = on_market};
    c->sink = (core_event_sink){.append = record};
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

static int place_code(core *c, core_order_request req) {
    return core_place_order(c, &req).code;
}

static void test_rejections_change_nothing(void) {
    core c;
    init_core(&c);
    uint64_t before = core_state_hash(&c);
    core_order_request r;
    r = buy("", 1, 100 * NANO);
    CHECK_EQ_INT(place_code(&c, r), 30027);
    r = buy("0123456789012345678901234567890123456", 1, 100 * NANO);
    CHECK_EQ_INT(place_code(&c, r), 30055);
    r = buy("not-a-uuid", 1, 100 * NANO);
    CHECK_EQ_INT(place_code(&c, r), 30028);
    r = buy(KEY1, 1, 100 * NANO);
    r.account_id = "nope";
    CHECK_EQ_INT(place_code(&c, r), 50004);
    r = buy(KEY1, 1, 100 * NANO);
    r.token = readonly;
    CHECK_EQ_INT(place_code(&c, r), 40002);
    r = buy(KEY1, 1, 100 * NANO);
    r.instrument_id = "";
    CHECK_EQ_INT(place_code(&c, r), 30237);
    r.instrument_id = "NOPE";
    CHECK_EQ_INT(place_code(&c, r), 50002);
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 0, 100 * NANO)), 30015);
    CHECK_EQ_INT(place_code(&c, buy(KEY1, -3, 100 * NANO)), 30080);
    r = buy(KEY1, 1, 100 * NANO);
    r.direction = 0;
    CHECK_EQ_INT(place_code(&c, r), 30019);
    r.direction = 7;
    CHECK_EQ_INT(place_code(&c, r), 30020);
    r = buy(KEY1, 1, 100 * NANO);
    r.type = 0;
    CHECK_EQ_INT(place_code(&c, r), 30025);
    r.type = 9;
    CHECK_EQ_INT(place_code(&c, r), 30026);
    r = buy(KEY1, 1, 100 * NANO);
    r.tif = 5;
    CHECK_EQ_INT(place_code(&c, r), 30254);
    r = buy(KEY1, 1, 100 * NANO);
    r.has_price = false;
    CHECK_EQ_INT(place_code(&c, r), 30017);
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 1, 0)), 30100);
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 1, -NANO)), 30100);
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 1, 100 * NANO + 5)), 30078);
    r = buy(KEY1, 1, 100 * NANO);
    r.instrument_id = "FIGI1";
    CHECK_EQ_INT(place_code(&c, r), 30052);
    market_trading = false;
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 1, 100 * NANO)), 30079);
    market_trading = true;
    /* 60 lots * 10 * 100 = 60000 > the 50000 rub order value limit. */
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 60, 100 * NANO)), 90003);
    /* 11 lots * 10 * 100 = 11000 > 10000 rub of cash. */
    CHECK_EQ_INT(place_code(&c, buy(KEY1, 11, 100 * NANO)), 30042);
    r = buy(KEY1, 1, 100 * NANO);
    r.account_id = "S1";
    CHECK_EQ_INT(place_code(&c, r), 30034);
    r = buy(KEY1, 1, 100 * NANO);
    r.direction = DIRECTION_SELL;
    CHECK_EQ_INT(place_code(&c, r), 30042);
    CHECK(core_state_hash(&c) == before);
    CHECK_EQ_INT(recorded_count, 0);
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
    CHECK_EQ_INT(ok.code, 0);
    CHECK(!ok.duplicate);
    core_deinit(&c);
}

static void test_idempotency(void) {
    core c;
    init_core(&c);
    recorded_count = 0;
    submits = 0;
    core_order_request r = buy(KEY1, 2, 100 * NANO);
    core_result first = core_place_order(&c, &r);
    CHECK_EQ_INT(first.code, 0);
    core_result again = core_place_order(&c, &r);
    CHECK_EQ_INT(again.code, 0);
    CHECK(again.duplicate);
    CHECK(again.order == first.order);
    CHECK_EQ_INT(c.order_count, 1);
    CHECK_EQ_INT(submits, 1);
    core_order_request different = buy(KEY1, 3, 100 * NANO);
    core_result clash = core_place_order(&c, &different);
    CHECK_EQ_INT(clash.code, 30057);
    CHECK(clash.message != NULL);
    /* PostOrder accepts a non-UUID key and shows a generated UUID as order_request_id. */
    core_order_request sync = buy("my-order-1", 1, 100 * NANO);
    sync.require_uuid_key = false;
    sync.source = ORDER_SOURCE_SYNC;
    core_result named = core_place_order(&c, &sync);
    CHECK_EQ_INT(named.code, 0);
    CHECK(strcmp(named.order->key, "my-order-1") == 0);
    CHECK(strlen(named.order->request_id) == 36 &&
          strcmp(named.order->request_id, "my-order-1") != 0);
    /* Keys are scoped by account: the same key on another account is a new order. */
    core_order_request other = buy(KEY1, 2, 100 * NANO);
    other.account_id = "S1";
    CHECK_EQ_INT(place_code(&c, other), 30034);
    core_deinit(&c);
}

static void report(core *c, core_report_kind kind, uint32_t order, int64_t lots,
                   int64_t price_nano) {
    static uint64_t next_trade = 1;
    core_exchange_report rep = {.kind = kind,
                                .order = order,
                                .lots = lots,
                                .price_nano = price_nano,
                                .exchange_order_id = 5000 + order,
                                .trade_id = next_trade,
                                .aggressor = next_trade++ % 2 == 1,
                                .cause = kind == REPORT_CANCELLED
                                             ? ORDER_CAUSE_CANCELLED_BY_CLIENT
                                             : ORDER_CAUSE_REJECTED_BY_EXCHANGE,
                                .reject_code = 30099,
                                .time_ns = 2000};
    core_on_exchange_report(c, &rep);
}

static void test_fills_move_cash_and_positions(void) {
    core c;
    init_core(&c);
    recorded_count = 0;
    const core_order *o = core_place_order(&c, &(core_order_request){.token = full,
                                                                     .account_id = "A1",
                                                                     .instrument_id = "FIGI0",
                                                                     .key = KEY1,
                                                                     .quantity = 3,
                                                                     .has_price = true,
                                                                     .price_nano = 100 * NANO,
                                                                     .direction = DIRECTION_BUY,
                                                                     .type = ORDER_TYPE_LIMIT,
                                                                     .source = ORDER_SOURCE_ASYNC,
                                                                     .now_ns = 1000})
                              .order;
    CHECK(o != NULL);
    /* 3 lots * 10 * 100 = 3000 plus 0.05% commission = 1.50. */
    CHECK_EQ_INT(o->reserved_cash_nano, 3001 * NANO + NANO / 2);
    CHECK_EQ_INT(ledger_cash_free(&c.ledger, 0, "rub"), 10000 * NANO - 3001 * NANO - NANO / 2);
    report(&c, REPORT_ACK, o->index, 0, 0);
    CHECK_EQ_INT(o->exchange_order_id, 5000);
    report(&c, REPORT_TRADE, o->index, 1, 99 * NANO);
    CHECK_EQ_INT(o->status, ORDER_STATUS_PARTIALLYFILL);
    report(&c, REPORT_TRADE, o->index, 2, 100 * NANO);
    CHECK_EQ_INT(o->status, ORDER_STATUS_FILL);
    CHECK_EQ_INT(o->trade_count, 2);
    CHECK_EQ_INT(o->reserved_cash_nano, 0);
    const ledger_cash *rub = ledger_cash_find(&c.ledger, 0, "rub");
    CHECK_EQ_INT(rub->blocked_nano, 0);
    /* 990 + 2000 = 2990 executed; commission 0.50 + 1.00. */
    CHECK_EQ_INT(rub->balance_nano, 10000 * NANO - 2990 * NANO - 3 * NANO / 2);
    const ledger_position *pos = ledger_position_get(&c.ledger, 0, 0);
    CHECK_EQ_INT(pos->balance_units, 30);
    CHECK_EQ_INT(pos->average_price_nano, 2990 * NANO / 30);

    /* Sell 2 lots, then cancel: units are held back, then released. */
    core_order_request sell = buy(KEY2, 2, 110 * NANO);
    sell.direction = DIRECTION_SELL;
    const core_order *s = core_place_order(&c, &sell).order;
    CHECK(s != NULL);
    CHECK_EQ_INT(ledger_units_free(&c.ledger, 0, 0), 10);
    CHECK_EQ_INT(place_code(&c, (sell.key = KEY3, sell.quantity = 2, sell)), 30042);
    CHECK(core_cancel_order(&c, full, "A1", s->intent_id, false, 3000).code == 0);
    CHECK_EQ_INT(cancels, 1);
    report(&c, REPORT_CANCELLED, s->index, 2, 0);
    CHECK_EQ_INT(s->status, ORDER_STATUS_CANCELLED);
    CHECK_EQ_INT(s->lots_cancelled, 2);
    CHECK_EQ_INT(ledger_units_free(&c.ledger, 0, 0), 30);
    CHECK_EQ_INT(core_cancel_order(&c, full, "A1", s->intent_id, false, 3000).code, 30059);
    /* Found by key and by exchange number. */
    CHECK(core_find_order(&c, full, "A1", KEY1, true, 0).order == o);
    CHECK(core_find_order(&c, full, "A1", "5000", false, 0).order == o);
    CHECK_EQ_INT(core_find_order(&c, full, "A1", "5000", true, 0).code, 50005);
    CHECK_EQ_INT(core_find_order(&c, readonly, "A1", KEY1, true, 0).code, 0);

    /* An exchange reject releases everything. */
    const core_order *rej = core_place_order(&c, &(core_order_request){.token = full,
                                                                       .account_id = "A1",
                                                                       .instrument_id = "FIGI0",
                                                                       .key = KEY3,
                                                                       .quantity = 1,
                                                                       .has_price = true,
                                                                       .price_nano = 100 * NANO,
                                                                       .direction = DIRECTION_BUY,
                                                                       .type = ORDER_TYPE_LIMIT,
                                                                       .source = ORDER_SOURCE_SYNC,
                                                                       .now_ns = 4000})
                                .order;
    int64_t free_before = ledger_cash_free(&c.ledger, 0, "rub");
    report(&c, REPORT_REJECTED, rej->index, 0, 0);
    CHECK_EQ_INT(rej->status, ORDER_STATUS_REJECTED);
    CHECK_EQ_INT(rej->reject_code, 30099);
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

    /* Replay: the recorded events rebuild an identical state in a fresh core. */
    core replica;
    core_config cfg = make_config();
    CHECK(core_init(&replica, &cfg) == 0);
    for (int i = 0; i < recorded_count; i++)
        core_apply(&replica, &recorded[i]);
    CHECK(core_state_hash(&replica) == core_state_hash(&c));
    CHECK_EQ_INT(replica.order_count, c.order_count);
    CHECK(strcmp(replica.orders[0].intent_id, c.orders[0].intent_id) == 0);
    CHECK_EQ_INT(ledger_cash_find(&replica.ledger, 0, "rub")->balance_nano, rub->balance_nano);
    CHECK_EQ_INT(replica.venue.mm_reference_nano[1], 101 * NANO);
    CHECK(memcmp(replica.venue.random_state, random_state, sizeof random_state) == 0);
    CHECK(c.trade_count == 2 && c.trades[0].aggressor != c.trades[1].aggressor);
    for (uint32_t t = 0; t < c.trade_count; t++)
        CHECK_EQ_INT(replica.trades[t].aggressor, c.trades[t].aggressor);
    core_deinit(&replica);
    core_deinit(&c);
}

int main(void) {
    setup_refdata();
    test_rejections_change_nothing();
    test_idempotency();
    test_fills_move_cash_and_positions();
    refdata_deinit(&rd);
    return check_finish("core orders");
}
