/* Margin trading in the core: a cash account refuses futures, credit and shorts with the real
 * codes; a margin account shorts and buys on credit within its margin, with the figures of
 * GetMarginAttributes computed by hand here; futures hold their guarantee and are paid their
 * variation margin at clearings; overnight fees; the broker's margin call; and every recorded
 * event replays into the same state. The exchange is a fake whose prices the tests set. */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "core/core.h"
#include "core/margin.h"

#define NANO 1000000000LL
#define MAX_EVENTS 4096
#define DAY_NS (86400LL * NANO)

static refdata rd;
static token *full;
static core_event recorded[MAX_EVENTS];
static int recorded_count;
static int64_t price[4] = {100 * NANO, 100 * NANO, 80000 * NANO, 100 * NANO};
static int64_t bid[4], ask[4]; /* the quotes; 0: none */

static void record(void *ctx, const core_event *ev) {
    (void)ctx;
    if (recorded_count < MAX_EVENTS)
        recorded[recorded_count++] = *ev;
}

static void drain(core *c) {
    core_request req;
    while (core_next_request(c, &req))
        ;
}

static void on_market(void *ctx, uint32_t instrument_index, core_market *out) {
    (void)ctx;
    out->trading = true;
    out->last_price_nano = price[instrument_index];
    out->limit_up_nano = price[instrument_index] * 6 / 5;
    out->limit_down_nano = price[instrument_index] * 4 / 5;
    out->best_bid_nano = bid[instrument_index];
    out->best_ask_nano = ask[instrument_index];
}

/* Instruments: 0 a share that may be shorted (dlong 0.25, dshort 0.5; high level 0.125 / 0.25),
 * 1 a share without rates, 2 a future (step 1 point worth 1 rub, guarantee 10000 / 12000).
 * Accounts: 0 cash, 1 margin (margin call on), 2 margin at the high risk level. */
static void setup_refdata(void) {
    refdata_init(&rd);
    rd.instrument_count = 4;
    instrument share = {.kind = INSTRUMENT_KIND_SHARE,
                        .ticker = "T",
                        .class_code = "TQBR",
                        .name = "",
                        .isin = "",
                        .currency = "rub",
                        .lot = 10,
                        .min_price_increment_nano = NANO / 100,
                        .reference_price_nano = 100 * NANO,
                        .trading_status = 5,
                        .api_trade_available = true,
                        .buy_available = true,
                        .sell_available = true};
    rd.instruments[0] = share;
    instrument *s0 = &rd.instruments[0];
    s0->figi = "SHORTABLE";
    s0->uid = "u0";
    s0->short_enabled = true;
    s0->dlong_nano = NANO / 4;
    s0->dshort_nano = NANO / 2;
    s0->dlong_min_nano = NANO / 8;
    s0->dshort_min_nano = NANO / 4;
    rd.instruments[1] = share;
    rd.instruments[1].index = 1;
    rd.instruments[1].figi = "PLAIN";
    rd.instruments[1].uid = "u1";
    rd.instruments[2] = share;
    rd.instruments[2].index = 2;
    rd.instruments[2].kind = INSTRUMENT_KIND_FUTURE;
    rd.instruments[2].figi = "FUT";
    rd.instruments[2].uid = "u2";
    rd.instruments[2].lot = 1;
    rd.instruments[2].min_price_increment_nano = NANO;
    rd.instruments[2].min_price_increment_amount_nano = NANO;
    rd.instruments[2].reference_price_nano = 80000 * NANO;
    rd.instruments[2].initial_margin_on_buy_nano = 10000 * NANO;
    rd.instruments[2].initial_margin_on_sell_nano = 12000 * NANO;
    /* 3: a shortable share with rates, quoted in a currency without a rouble rate. */
    rd.instruments[3] = rd.instruments[0];
    rd.instruments[3].index = 3;
    rd.instruments[3].figi = "NORATE";
    rd.instruments[3].uid = "u3";
    rd.instruments[3].currency = "xxx";
    rd.account_count = 3;
    const char *ids[3] = {"CASH", "MARGIN", "HIGH"};
    for (uint32_t a = 0; a < 3; a++) {
        rd.accounts[a] =
            (account){.index = a,
                      .id = ids[a],
                      .name = "",
                      .cash_count = 1,
                      .status = ACCOUNT_STATUS_OPEN,
                      .margin = a > 0,
                      .margin_call = a == 1,
                      .risk_level = a == 2 ? ACCOUNT_RISK_HIGH : ACCOUNT_RISK_STANDARD};
        strcpy(rd.accounts[a].cash[0].currency, "rub");
        rd.accounts[a].cash[0].value_nano = 100000 * NANO;
    }
    rd.token_count = 1;
    full = &rd.tokens[0];
    full->secret = "full";
    for (uint32_t a = 0; a < 3; a++)
        full->access[a] = ACCESS_FULL;
}

static core_config make_config(void) {
    return (core_config){.refdata = &rd,
                         .commission_bp = 0,
                         .max_orders = 256,
                         .max_trades = 512,
                         .order_retention_ns = 30LL * 86400 * NANO,
                         .max_orders_per_account = 1000,
                         .max_trades_per_order = 16,
                         .id_seed = 11,
                         .margin = {.clearing_count = 2,
                                    .clearing_s = {11 * 3600, 15 * 3600 + 50 * 60},
                                    .money_rate_per_day_nano = NANO / 1000,   /* 0.1 % */
                                    .shares_rate_per_day_nano = NANO / 500}}; /* 0.2 % */
}

static void init_core(core *c) {
    core_config cfg = make_config();
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.market = on_market};
    c->sink = (core_event_sink){.append = record};
    recorded_count = 0;
    price[0] = price[1] = price[3] = 100 * NANO;
    price[2] = 80000 * NANO;
    memset(bid, 0, sizeof bid);
    memset(ask, 0, sizeof ask);
}

static int key_counter;

/* A limit order at `price_nano`, or a market order with price 0, under a fresh key. */
static core_result place_limit(core *c, const char *account_id, const char *figi, int direction,
                               int64_t lots, int64_t price_nano, int64_t now_ns) {
    char key[40];
    snprintf(key, sizeof key, "00000000-0000-4000-8000-%012d", ++key_counter);
    core_order_request req = {.token = full,
                              .account_id = account_id,
                              .instrument_id = figi,
                              .key = key,
                              .quantity = lots,
                              .has_price = price_nano != 0,
                              .price_nano = price_nano,
                              .direction = direction,
                              .type = price_nano != 0 ? ORDER_TYPE_LIMIT : ORDER_TYPE_MARKET,
                              .source = ORDER_SOURCE_ASYNC,
                              .now_ns = now_ns};
    core_result r = core_place_order(c, &req);
    drain(c);
    return r;
}

static core_result place(core *c, const char *account_id, const char *figi, int direction,
                         int64_t lots, int64_t now_ns) {
    return place_limit(c, account_id, figi, direction, lots, 0, now_ns);
}

static uint64_t next_trade = 1;

/* The exchange fills the whole order at `price_nano`. */
static void fill(core *c, core_result r, int64_t price_nano, int64_t now_ns) {
    CHECK_EQ_INT(r.error, CORE_OK);
    if (r.error != CORE_OK)
        return;
    const core_order *o = &c->orders[r.order.index];
    uint64_t ref = core_client_ref(o);
    core_exchange_report ack = {.kind = REPORT_ACK,
                                .client_ref = ref,
                                .exchange_order_id = 9000 + next_trade,
                                .time_ns = now_ns};
    core_on_exchange_report(c, &ack);
    core_exchange_report trade = {.kind = REPORT_TRADE,
                                  .client_ref = ref,
                                  .lots = o->lots_requested,
                                  .price_nano = price_nano,
                                  .trade_id = next_trade++,
                                  .time_ns = now_ns};
    core_on_exchange_report(c, &trade);
    drain(c);
}

static int64_t units(const core *c, uint32_t account_index, uint32_t instrument_index) {
    return core_account_position(c, account_index, instrument_index).balance_units;
}

static ledger_cash rub(const core *c, uint32_t account_index) {
    ledger_cash cash[REFDATA_MAX_CURRENCIES];
    core_account_cash(c, account_index, cash);
    return cash[0];
}

static void check_replay(const core *c) {
    core_config cfg = make_config();
    core replica;
    CHECK(core_init(&replica, &cfg) == 0);
    replica.exchange = (core_exchange){.market = on_market};
    for (int i = 0; i < recorded_count; i++) {
        bool ok = core_event_applicable(&replica, &recorded[i]);
        CHECK(ok);
        if (!ok)
            break;
        core_apply(&replica, &recorded[i]);
    }
    CHECK(core_state_hash(&replica) == core_state_hash(c));
    CHECK(core_operations_hash(&replica) == core_operations_hash(c));
    core_check_invariants(&replica);
    core_deinit(&replica);
}

static void test_cash_account_refuses_margin(void) {
    core c;
    init_core(&c);
    uint64_t before = core_state_hash(&c);
    CHECK_EQ_INT(place(&c, "CASH", "FUT", DIRECTION_BUY, 1, 1000).error, CORE_ERR_MARGIN_DISABLED);
    CHECK_EQ_INT(place(&c, "CASH", "SHORTABLE", DIRECTION_SELL, 1, 1000).error,
                 CORE_ERR_NOT_ENOUGH_ASSETS);
    /* 101 lots x 10 x 100 = 101000 > 100000 rub. */
    CHECK_EQ_INT(place(&c, "CASH", "SHORTABLE", DIRECTION_BUY, 101, 1000).error,
                 CORE_ERR_NOT_ENOUGH_ASSETS);
    CHECK(core_state_hash(&c) == before);
    CHECK_EQ_INT(recorded_count, 0);
    core_deinit(&c);
}

static void test_short_and_buy_back(void) {
    core c;
    init_core(&c);
    /* Not shortable: no rate, no flag. */
    CHECK_EQ_INT(place(&c, "MARGIN", "PLAIN", DIRECTION_SELL, 1, 1000).error,
                 CORE_ERR_SHORT_NOT_ALLOWED);
    /* Short 100 lots = 1000 shares x 100 = 100000 rub: starting margin 50000 <= 100000. */
    core_result r = place(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 100, 1000);
    CHECK_EQ_INT(r.error, CORE_OK);
    CHECK_EQ_INT(r.order.reserved_units, 0);
    margin_figures f;
    CHECK(core_margin_figures(&c, 1, NULL, &f));
    CHECK_EQ_INT(f.corrected_margin_nano, 50000 * NANO);
    CHECK_EQ_INT(f.starting_margin_nano, 0);
    /* Another 101 lots would take 100500 > 100000 of corrected margin. */
    CHECK_EQ_INT(place(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 101, 1000).error,
                 CORE_ERR_MARGIN_NOT_ENOUGH);
    fill(&c, r, 100 * NANO, 2000);
    CHECK_EQ_INT(units(&c, 1, 0), -1000);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, 200000 * NANO);
    CHECK(core_margin_figures(&c, 1, NULL, &f));
    /* liquid = 200000 cash - 100000 short; starting = 100000 x 0.5; minimal half of it. */
    CHECK_EQ_INT(f.liquid_portfolio_nano, 100000 * NANO);
    CHECK_EQ_INT(f.starting_margin_nano, 50000 * NANO);
    CHECK_EQ_INT(f.minimal_margin_nano, 25000 * NANO);
    CHECK_EQ_INT(f.missing_funds_nano, -50000 * NANO);
    /* (100000 - 25000) / (50000 - 25000) = 3.00 */
    CHECK_EQ_INT(f.funds_sufficiency_nano, 3 * NANO);
    /* The price rises 10 %: the short loses 10000. */
    price[0] = 110 * NANO;
    CHECK(core_margin_figures(&c, 1, NULL, &f));
    CHECK_EQ_INT(f.liquid_portfolio_nano, 90000 * NANO);
    CHECK_EQ_INT(f.starting_margin_nano, 55000 * NANO);
    /* Buying back only reduces exposure: accepted whatever the margin. */
    r = place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 100, 3000);
    fill(&c, r, 110 * NANO, 3000);
    CHECK_EQ_INT(units(&c, 1, 0), 0);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, 90000 * NANO);
    CHECK_EQ_INT(rub(&c, 1).blocked_nano, 0);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

static void test_credit_and_risk_levels(void) {
    core c;
    init_core(&c);
    /* Standard level: dlong 0.25, so 100000 of portfolio carries 400000 of longs. */
    CHECK_EQ_INT(place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 401, 1000).error,
                 CORE_ERR_MARGIN_NOT_ENOUGH);
    core_result r = place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 300, 1000);
    CHECK_EQ_INT(r.error, CORE_OK);
    fill(&c, r, 100 * NANO, 2000);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, -200000 * NANO);
    /* A share without a long rate is not bought on credit. */
    CHECK_EQ_INT(place(&c, "MARGIN", "PLAIN", DIRECTION_BUY, 1, 2000).error,
                 CORE_ERR_NOT_ENOUGH_ASSETS);
    /* The high level (dlong_min 0.125) carries twice as much. */
    CHECK_EQ_INT(place(&c, "HIGH", "SHORTABLE", DIRECTION_BUY, 801, 1000).error,
                 CORE_ERR_MARGIN_NOT_ENOUGH);
    CHECK_EQ_INT(place(&c, "HIGH", "SHORTABLE", DIRECTION_BUY, 800, 1000).error, CORE_OK);
    /* The most lots GetMaxLots shows are the ones the check takes. */
    CHECK_EQ_INT(
        core_margin_max_lots(&c, &rd.accounts[1], &rd.instruments[0], true, 100 * NANO, 1000000),
        100);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

static void test_futures_guarantee_and_variation_margin(void) {
    core c;
    init_core(&c);
    int64_t day = 20000 * DAY_NS; /* a day far after the epoch */
    core_margin_tick(&c, day + 9 * 3600 * NANO);
    core_result r = place(&c, "MARGIN", "FUT", DIRECTION_BUY, 2, day + 9 * 3600 * NANO);
    CHECK_EQ_INT(r.error, CORE_OK);
    CHECK_EQ_INT(r.order.reserved_cash_nano, 20000 * NANO);
    fill(&c, r, 80000 * NANO, day + 9 * 3600 * NANO);
    CHECK_EQ_INT(units(&c, 1, 2), 2);
    /* No value moved; the guarantee of two contracts is blocked. */
    CHECK_EQ_INT(rub(&c, 1).balance_nano, 100000 * NANO);
    CHECK_EQ_INT(rub(&c, 1).blocked_nano, 20000 * NANO);
    /* The morning clearing at 80100: +100 points x 2 contracts x 1 rub. */
    price[2] = 80100 * NANO;
    core_margin_tick(&c, day + 11 * 3600 * NANO + 1);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, 100200 * NANO);
    CHECK_EQ_INT(c.margin.last_clearing_ns, day + 11 * 3600 * NANO);
    /* Sell one at 80050 (its -50 is due at the next clearing), flip short with two more. */
    r = place(&c, "MARGIN", "FUT", DIRECTION_SELL, 3, day + 12 * 3600 * NANO);
    fill(&c, r, 80050 * NANO, day + 12 * 3600 * NANO);
    CHECK_EQ_INT(units(&c, 1, 2), -1);
    CHECK_EQ_INT(rub(&c, 1).blocked_nano, 12000 * NANO);
    /* Evening clearing at 80000: the two long contracts closed at 80050 realised -50 each, the
     * short of one from 80050 makes +50: -50 in all. */
    price[2] = 80000 * NANO;
    core_margin_tick(&c, day + 16 * 3600 * NANO);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, 100150 * NANO);
    /* Closing releases the guarantee. */
    r = place(&c, "MARGIN", "FUT", DIRECTION_BUY, 1, day + 17 * 3600 * NANO);
    fill(&c, r, 80000 * NANO, day + 17 * 3600 * NANO);
    CHECK_EQ_INT(units(&c, 1, 2), 0);
    CHECK_EQ_INT(rub(&c, 1).blocked_nano, 0);
    /* The variation margin operations: one in, one out. */
    core_operation ops[16];
    uint64_t more;
    uint32_t n = core_list_operations(&c, 1, UINT64_MAX, NULL, NULL, ops, 16, &more);
    int in = 0, out = 0;
    for (uint32_t i = 0; i < n; i++) {
        in += ops[i].type == CORE_OP_ACCRUING_VARMARGIN && ops[i].payment_nano == 200 * NANO;
        out += ops[i].type == CORE_OP_WRITING_OFF_VARMARGIN && ops[i].payment_nano == -50 * NANO;
    }
    CHECK_EQ_INT(in, 1);
    CHECK_EQ_INT(out, 1);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

static void test_overnight_fees(void) {
    core c;
    init_core(&c);
    int64_t day = 20000 * DAY_NS;
    core_margin_tick(&c, day + 9 * 3600 * NANO);
    /* Borrow 200000 rub (buy 300000 worth) and short 1000 of nothing else: the fee is charged at
     * the evening clearing only. */
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 300, day + 9 * 3600 * NANO),
         100 * NANO, day + 9 * 3600 * NANO);
    core_margin_tick(&c, day + 12 * 3600 * NANO);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, -200000 * NANO);
    core_margin_tick(&c, day + 16 * 3600 * NANO);
    /* 0.1 % of 200000 = 200 rub. */
    CHECK_EQ_INT(rub(&c, 1).balance_nano, -200200 * NANO);
    /* A short in HIGH: 0.2 % of its value. */
    fill(&c, place(&c, "HIGH", "SHORTABLE", DIRECTION_SELL, 10, day + 17 * 3600 * NANO), 100 * NANO,
         day + 17 * 3600 * NANO);
    core_margin_tick(&c, day + DAY_NS + 16 * 3600 * NANO);
    CHECK_EQ_INT(rub(&c, 2).balance_nano, (110000 - 20) * NANO);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

static void test_margin_call(void) {
    core c;
    init_core(&c);
    /* Long 400 lots on 100000: starting margin 100000, all of the portfolio. */
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 400, 1000), 100 * NANO, 1000);
    core_margin_tick(&c, 2 * NANO);
    CHECK_EQ_INT(c.pools.orders_in_use, 1); /* nothing to do yet */
    /* The price falls 15 %: liquid 340000 - 300000 = 40000 < minimal 42500. */
    price[0] = 85 * NANO;
    margin_figures f;
    CHECK(core_margin_figures(&c, 1, NULL, &f));
    CHECK(f.liquid_portfolio_nano < f.minimal_margin_nano);
    /* HIGH (margin call off) would not be touched; MARGIN gets one closing order. */
    core_margin_tick(&c, 3 * NANO);
    CHECK_EQ_INT(c.pools.orders_in_use, 2);
    const core_order *call = NULL;
    for (uint32_t s = 0; s < c.pools.order_high; s++)
        if (c.orders[s].status != 0 && c.orders[s].source == ORDER_SOURCE_MARGIN_CALL)
            call = &c.orders[s];
    CHECK(call != NULL);
    if (call == NULL) {
        core_deinit(&c);
        return;
    }
    CHECK_EQ_INT(call->direction, DIRECTION_SELL);
    CHECK_EQ_INT(call->lots_requested, 400);
    /* While it is active, no second one. */
    core_margin_tick(&c, 4 * NANO);
    CHECK_EQ_INT(c.pools.orders_in_use, 2);
    fill(&c, (core_result){.error = CORE_OK, .order = *call}, 85 * NANO, 5 * NANO);
    CHECK_EQ_INT(units(&c, 1, 0), 0);
    core_operation ops[8];
    uint64_t more;
    uint32_t n = core_list_operations(&c, 1, UINT64_MAX, NULL, NULL, ops, 8, &more);
    bool seen = false;
    for (uint32_t i = 0; i < n; i++)
        seen = seen || ops[i].type == CORE_OP_SELL_MARGIN;
    CHECK(seen);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

/* A margin account's sells held back the units they found free: a second sell, finding none free,
 * went short and filled first, and the position fell below what the first still held back (the
 * core refused the exchange's fill and asserted). Its sells hold nothing back now. */
static void test_sells_behind_a_held_sell(void) {
    core c;
    init_core(&c);
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 10, 1000), 100 * NANO, 1000);
    core_result first = place(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 10, 2000);
    CHECK_EQ_INT(first.error, CORE_OK);
    CHECK_EQ_INT(first.order.reserved_units, 0);
    core_result second = place(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 5, 2000);
    fill(&c, second, 100 * NANO, 3000);
    CHECK_EQ_INT(units(&c, 1, 0), 50);
    fill(&c, first, 100 * NANO, 4000);
    CHECK_EQ_INT(units(&c, 1, 0), -50);
    CHECK_EQ_INT(core_account_position(&c, 1, 0).blocked_units, 0);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

/* Money leaving a margin account by CurrencyTransfer must leave its liquid portfolio covering the
 * corrected margin, even when the cash is free (a short's proceeds). */
static void test_transfer_keeps_the_margin(void) {
    core c;
    init_core(&c);
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 100, 1000), 100 * NANO, 1000);
    /* Cash 200000 (free), liquid 100000, corrected margin 50000. */
    bool duplicate;
    uint64_t before = core_state_hash(&c);
    CHECK_EQ_INT(core_currency_transfer(&c, full, "MARGIN", "CASH", "rub", 60000 * NANO,
                                        "00000000-0000-4000-8000-00000000aaaa", 2000, &duplicate),
                 CORE_ERR_TRANSFER_NOT_ENOUGH);
    CHECK(core_state_hash(&c) == before);
    CHECK_EQ_INT(core_currency_transfer(&c, full, "MARGIN", "CASH", "rub", 50000 * NANO,
                                        "00000000-0000-4000-8000-00000000bbbb", 2000, &duplicate),
                 CORE_OK);
    CHECK_EQ_INT(rub(&c, 1).balance_nano, 150000 * NANO);
    core_check_invariants(&c);
    check_replay(&c);
    core_deinit(&c);
}

/* The market maker walks its quotes down with no trade since: the last trade is stale, positions
 * are valued inside the quotes, and the margin call comes without waiting for a print. */
static void test_margin_call_on_quotes_alone(void) {
    core c;
    init_core(&c);
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 400, 1000), 100 * NANO, 1000);
    bid[0] = 99 * NANO;
    ask[0] = 101 * NANO;
    CHECK_EQ_INT(core_margin_mark_price(&c, &rd.instruments[0]), 100 * NANO);
    core_margin_tick(&c, 2 * NANO);
    CHECK_EQ_INT(c.pools.orders_in_use, 1);
    bid[0] = 84 * NANO;
    ask[0] = 85 * NANO;
    CHECK_EQ_INT(core_margin_mark_price(&c, &rd.instruments[0]), 85 * NANO);
    core_margin_tick(&c, 3 * NANO);
    CHECK_EQ_INT(c.pools.orders_in_use, 2);
    core_check_invariants(&c);
    core_deinit(&c);
}

/* Review findings, each failing on the code before its fix. */

/* An instrument in a currency without a rouble rate was outside the figures: bought on credit
 * without limit. Now the cash account's rules apply to it. */
static void test_currency_without_rate_takes_no_credit(void) {
    core c;
    init_core(&c);
    CHECK_EQ_INT(place(&c, "MARGIN", "NORATE", DIRECTION_BUY, 1, 1000).error,
                 CORE_ERR_NOT_ENOUGH_ASSETS);
    CHECK_EQ_INT(place(&c, "MARGIN", "NORATE", DIRECTION_SELL, 1, 1000).error,
                 CORE_ERR_NOT_ENOUGH_ASSETS);
    CHECK_EQ_INT(recorded_count, 0);
    core_deinit(&c);
}

/* A buy of an instrument without a long rate spent money the liquid portfolio counted and bought
 * what it does not count; only free cash was checked. */
static void test_illiquid_buy_counts_in_full(void) {
    core c;
    init_core(&c);
    /* Short 100 lots: cash 200 000 (free), liquid 100 000, corrected margin 50 000. */
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 100, 1000), 100 * NANO, 1000);
    /* 60 000 of the plain share: free cash has it, the margin does not (50 000 + 60 000). */
    CHECK_EQ_INT(place(&c, "MARGIN", "PLAIN", DIRECTION_BUY, 60, 2000).error,
                 CORE_ERR_MARGIN_NOT_ENOUGH);
    CHECK_EQ_INT(place(&c, "MARGIN", "PLAIN", DIRECTION_BUY, 40, 2000).error, CORE_OK);
    margin_figures f;
    CHECK(core_margin_figures(&c, 1, NULL, &f));
    CHECK_EQ_INT(f.corrected_margin_nano, 90000 * NANO);
    core_deinit(&c);
}

/* The margin call counted the client's resting sell of the same position and was refused as a
 * short beyond the margin: it never fired. It is the broker's own close now. */
static void test_margin_call_despite_a_resting_sell(void) {
    core c;
    init_core(&c);
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 400, 1000), 100 * NANO, 1000);
    CHECK_EQ_INT(
        place_limit(&c, "MARGIN", "SHORTABLE", DIRECTION_SELL, 400, 150 * NANO, 1500).error,
        CORE_OK);
    price[0] = 85 * NANO;
    core_margin_tick(&c, 3 * NANO);
    uint32_t calls = 0;
    for (uint32_t s = 0; s < c.pools.order_high; s++)
        calls += c.orders[s].status != 0 && c.orders[s].source == ORDER_SOURCE_MARGIN_CALL;
    CHECK_EQ_INT(calls, 1);
    core_check_invariants(&c);
    core_deinit(&c);
}

/* ReplaceOrder of a sell that only reduces the position counted the old order too, and was
 * refused as a short of an instrument that may not be shorted. */
static void test_replace_of_a_reducing_sell(void) {
    core c;
    init_core(&c);
    fill(&c, place(&c, "MARGIN", "PLAIN", DIRECTION_BUY, 10, 1000), 100 * NANO, 1000);
    core_result sell = place_limit(&c, "MARGIN", "PLAIN", DIRECTION_SELL, 10, 150 * NANO, 1500);
    CHECK_EQ_INT(sell.error, CORE_OK);
    core_result replaced =
        core_replace_order(&c, full, "MARGIN", sell.order.intent_id,
                           "00000000-0000-4000-8000-0000000fffff", 10, true, 140 * NANO, 0, 2000);
    CHECK_EQ_INT(replaced.error, CORE_OK);
    core_deinit(&c);
}

/* A clearing with nothing to settle left no trace: after a restart it was made again, and
 * charged the day's fees on a loan taken after it. */
static void test_a_passed_clearing_is_not_made_again(void) {
    core c;
    init_core(&c);
    int64_t day = 20000 * DAY_NS, h = 3600 * NANO;
    core_margin_tick(&c, day + 9 * h);
    core_result r = place(&c, "MARGIN", "FUT", DIRECTION_BUY, 1, day + 9 * h);
    fill(&c, r, 80000 * NANO, day + 9 * h);
    core_margin_tick(&c, day + 11 * h + 1); /* the 11:00 clearing settles the future */
    fill(&c, place(&c, "MARGIN", "FUT", DIRECTION_SELL, 1, day + 12 * h), 80000 * NANO,
         day + 12 * h);
    core_margin_tick(&c, day + 16 * h); /* 15:50: the future's last VM, no loan yet */
    /* A loan after the day's last clearing, then a restart. */
    fill(&c, place(&c, "MARGIN", "SHORTABLE", DIRECTION_BUY, 300, day + 16 * h + h / 6), 100 * NANO,
         day + 16 * h + h / 6);
    int64_t balance = rub(&c, 1).balance_nano;
    core_config cfg = make_config();
    core replica;
    CHECK(core_init(&replica, &cfg) == 0);
    replica.exchange = (core_exchange){.market = on_market};
    for (int i = 0; i < recorded_count; i++) {
        CHECK(core_event_applicable(&replica, &recorded[i]));
        core_apply(&replica, &recorded[i]);
    }
    replica.sink = (core_event_sink){.append = record};
    core_margin_tick(&replica, day + 17 * h);
    CHECK_EQ_INT(rub(&replica, 1).balance_nano, balance);
    /* The next day's last clearing charges it once. */
    core_margin_tick(&replica, day + DAY_NS + 16 * h);
    CHECK(rub(&replica, 1).balance_nano < balance);
    core_deinit(&replica);
    core_deinit(&c);
}

int main(void) {
    setup_refdata();
    test_cash_account_refuses_margin();
    test_short_and_buy_back();
    test_credit_and_risk_levels();
    test_futures_guarantee_and_variation_margin();
    test_overnight_fees();
    test_margin_call();
    test_sells_behind_a_held_sell();
    test_transfer_keeps_the_margin();
    test_margin_call_on_quotes_alone();
    test_currency_without_rate_takes_no_credit();
    test_illiquid_buy_counts_in_full();
    test_margin_call_despite_a_resting_sell();
    test_replace_of_a_reducing_sell();
    test_a_passed_clearing_is_not_made_again();
    refdata_deinit(&rd);
    return check_finish("core margin");
}
