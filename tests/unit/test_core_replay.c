/* Replay's checks (core_event_applicable): a journal record damaged past its checksum, or
 * written with another configuration, is refused, so recovery stops with an error naming it. The
 * journal fuzz target found records that passed the check and then broke an assertion of
 * core_apply(), read past the order pool, or left a state that crashed the restore: each case
 * below is one of them, next to the intact record it was made from. */
#include <string.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"
#include "core/history.h"

#define NANO 1000000000LL

static refdata rd;
static core c;
static core_event accepted; /* the ACCEPTED event of the resting order "k1" */
static uint32_t k1;

static void record(void *ctx, const core_event *ev) {
    if (ev->type == CORE_EVENT_ORDER_ACCEPTED)
        accepted = *ev;
}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->last_price_nano = 100 * NANO;
    out->limit_up_nano = 120 * NANO;
    out->limit_down_nano = 80 * NANO;
}

/* A1 with 1000 roubles and a buy of 2 lots at 90, acknowledged by the exchange. */
static void setup(void) {
    one_share_refdata(&rd, 1000);
    core_config cfg = {.refdata = &rd,
                       .max_orders = 16,
                       .max_trades = 32,
                       .order_retention_ns = 60 * NANO,
                       .max_orders_per_account = 16,
                       .max_trades_per_order = 4,
                       .id_seed = 1};
    CHECK(core_init(&c, &cfg) == 0);
    c.exchange = (core_exchange){.market = open_market};
    c.sink = (core_event_sink){.append = record};
    core_order_request req = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "FIGI0",
                              .key = "k1",
                              .quantity = 2,
                              .has_price = true,
                              .price_nano = 90 * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = 1000};
    core_result placed = core_place_order(&c, &req);
    CHECK_EQ_INT(placed.error, CORE_OK);
    k1 = placed.order.index;
    core_request sent;
    while (core_next_request(&c, &sent))
        ;
    core_exchange_report ack = {.kind = REPORT_ACK,
                                .client_ref = core_client_ref(&c.orders[k1]),
                                .exchange_order_id = 777,
                                .time_ns = 2000};
    core_on_exchange_report(&c, &ack);
    CHECK(c.orders[k1].exchange_order_id == 777);
}

static core_event next(core_event_type type, uint32_t order) {
    return (core_event){.type = type, .order = order, .seq = c.next_seq, .time_ns = 3000};
}

/* A second order, as the live path would accept it: a new key, ids and slot. */
static core_event new_order(void) {
    core_event ev = accepted;
    ev.seq = c.next_seq;
    ev.order = history_peek_free_order(&c);
    strcpy(ev.u.accepted.key, "k2");
    strcpy(ev.u.accepted.intent_id, "6f1c3a52-8d0e-4b8a-9a57-3c7f2b1e9d40");
    strcpy(ev.u.accepted.request_id, "6f1c3a52-8d0e-4b8a-9a57-3c7f2b1e9d41");
    return ev;
}

/* core_apply() checks the order an event names, also for events about no order: a cash record
 * naming a slot past the pool read outside it (AddressSanitizer). */
static void test_events_without_an_order_name_none(void) {
    core_event cash = next(CORE_EVENT_CASH_ADJUSTED, CORE_NO_ORDER);
    cash.u.cash.account = 0;
    strcpy(cash.u.cash.currency, "rub");
    cash.u.cash.amount_nano = NANO;
    CHECK(core_event_applicable(&c, &cash));
    cash.order = 5000;
    CHECK(!core_event_applicable(&c, &cash));
    core_event moved = next(CORE_EVENT_MARKET_MAKER_MOVED, 7);
    CHECK(!core_event_applicable(&c, &moved));
}

/* A cash record that takes the balance below zero or below what orders hold (check_account). */
static void test_cash_stays_covered(void) {
    core_event cash = next(CORE_EVENT_CASH_ADJUSTED, CORE_NO_ORDER);
    cash.u.cash.account = 0;
    strcpy(cash.u.cash.currency, "rub");
    cash.u.cash.amount_nano = -800 * NANO; /* 180 of the 1000 are held by k1 */
    CHECK(core_event_applicable(&c, &cash));
    cash.u.cash.amount_nano = -900 * NANO;
    CHECK(!core_event_applicable(&c, &cash));
    cash.u.cash.amount_nano = -2000 * NANO;
    CHECK(!core_event_applicable(&c, &cash));
    cash.u.cash.amount_nano = INT64_MAX;
    CHECK(!core_event_applicable(&c, &cash));
}

/* Fills of no lots or of more lots than are open (apply_trade's assertions), and a sell of units
 * the account does not hold (check_account). */
static void test_fills_fit_the_order(void) {
    core_event trade = next(CORE_EVENT_ORDER_TRADE, k1);
    trade.u.trade = (core_event_trade){.trade_id = 1, .lots = 1, .price_nano = 90 * NANO};
    trade.u.trade.value_nano = 90 * NANO;
    CHECK(core_event_applicable(&c, &trade));
    trade.u.trade.lots = 0;
    CHECK(!core_event_applicable(&c, &trade));
    trade.u.trade.lots = 3;
    CHECK(!core_event_applicable(&c, &trade));
    trade.u.trade.lots = 1;
    trade.u.trade.value_nano = 2000 * NANO; /* more than the balance */
    CHECK(!core_event_applicable(&c, &trade));

    core_event sell = new_order();
    sell.u.accepted.direction = DIRECTION_SELL;
    sell.u.accepted.reserved_cash_nano = 0;
    sell.u.accepted.reserved_units = 1; /* A1 holds none */
    CHECK(!core_event_applicable(&c, &sell));
}

/* A cancel of more lots than are open (check_order). */
static void test_cancels_fit_the_order(void) {
    core_event cancel = next(CORE_EVENT_ORDER_CANCELLED, k1);
    cancel.u.cancelled.lots = 2;
    CHECK(core_event_applicable(&c, &cancel));
    cancel.u.cancelled.lots = 3;
    CHECK(!core_event_applicable(&c, &cancel));
    cancel.u.cancelled.lots = -1;
    CHECK(!core_event_applicable(&c, &cancel));
}

/* Acceptances the live path never makes: a key the account holds already (the index then found
 * one of the two orders only), an id that is not a UUID, more trade records than the pool has, a
 * negative reservation, more cash than is free or less than the order costs, and a replacement of
 * no order (core_resume read orders[UINT32_MAX]). */
static void test_acceptances_fit_the_state(void) {
    core_event order = new_order();
    CHECK(core_event_applicable(&c, &order));

    core_event held_key = order;
    strcpy(held_key.u.accepted.key, "k1");
    CHECK(!core_event_applicable(&c, &held_key));

    core_event held_id = order;
    strcpy(held_id.u.accepted.intent_id, c.orders[k1].intent_id);
    CHECK(!core_event_applicable(&c, &held_id));

    /* An id that reads as an exchange number: the exchange's next number then found it. */
    core_event number = order;
    strcpy(number.u.accepted.intent_id, "10000000001");
    CHECK(!core_event_applicable(&c, &number));

    core_event records = order;
    records.u.accepted.trades_reserved = 32;
    CHECK(!core_event_applicable(&c, &records));

    core_event negative = order;
    negative.u.accepted.reserved_cash_nano = -NANO;
    CHECK(!core_event_applicable(&c, &negative));

    core_event too_much = order;
    too_much.u.accepted.lots = 5;
    too_much.u.accepted.reserved_cash_nano = 450 * NANO; /* 820 are free */
    CHECK(core_event_applicable(&c, &too_much));
    too_much.u.accepted.lots = 10;
    too_much.u.accepted.reserved_cash_nano = 900 * NANO;
    CHECK(!core_event_applicable(&c, &too_much));

    /* Less than its limit price: a fill of the restored order then spent cash nobody held (the
     * exchange link's restore broke the ledger invariants). */
    core_event short_of_price = order;
    short_of_price.u.accepted.reserved_cash_nano = NANO; /* 2 lots at 90 are 180 */
    CHECK(!core_event_applicable(&c, &short_of_price));

    core_event orphan = order;
    orphan.u.accepted.reserved_cash_nano = 0;
    orphan.u.accepted.awaiting_replaced = 1;
    CHECK(!core_event_applicable(&c, &orphan));
    orphan.u.accepted.replaces_order = k1;
    CHECK(core_event_applicable(&c, &orphan));
}

/* An exchange number given to an order that has one, or one after which the exchange's next
 * number wrapped round to 0 (its acknowledgement of a restored order was then refused). */
static void test_exchange_numbers_are_unique(void) {
    core_event ack = next(CORE_EVENT_ORDER_ACKED, k1);
    ack.u.acked.exchange_order_id = 778;
    CHECK(!core_event_applicable(&c, &ack));

    core_event order = new_order();
    core_apply(&c, &order);
    ack.order = order.order;
    ack.seq = c.next_seq;
    ack.u.acked.exchange_order_id = UINT64_MAX;
    CHECK(!core_event_applicable(&c, &ack));
    ack.u.acked.exchange_order_id = 777; /* k1's */
    CHECK(!core_event_applicable(&c, &ack));
    ack.u.acked.exchange_order_id = 779;
    CHECK(core_event_applicable(&c, &ack));

    core_event trade = next(CORE_EVENT_ORDER_TRADE, k1);
    trade.u.trade = (core_event_trade){.trade_id = UINT64_MAX, .lots = 1, .price_nano = 90 * NANO};
    trade.u.trade.value_nano = 90 * NANO;
    CHECK(!core_event_applicable(&c, &trade));
    trade.u.trade.trade_id = 1;
    CHECK(core_event_applicable(&c, &trade));
}

/* Replay must not refuse what the live path makes (it asserts so before every event): a buy worth
 * nothing (a bond priced at a nano of its nominal) holds no cash, in a currency the account does
 * not have; the first version of these checks asked for a cash slot (the config fuzz target's
 * probe order hit the assertion). */
static void test_free_orders_are_applicable(void) {
    static refdata bond_rd;
    one_share_refdata(&bond_rd, 1000);
    instrument *bond = &bond_rd.instruments[0];
    bond->kind = INSTRUMENT_KIND_BOND;
    bond->currency = "usd";
    bond->nominal_nano = NANO;
    bond->min_price_increment_nano = 1;
    core_config cfg = {.refdata = &bond_rd,
                       .commission_bp = 5,
                       .max_orders = 4,
                       .max_trades = 8,
                       .order_retention_ns = NANO,
                       .max_orders_per_account = 4,
                       .max_trades_per_order = 2,
                       .id_seed = 2};
    core free_core;
    CHECK(core_init(&free_core, &cfg) == 0);
    free_core.exchange = (core_exchange){.market = open_market};
    core_order_request req = {.token = &bond_rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "FIGI0",
                              .key = "free",
                              .quantity = 1,
                              .has_price = true,
                              .price_nano = 1,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = 1000};
    core_result placed = core_place_order(&free_core, &req);
    CHECK_EQ_INT(placed.error, CORE_OK);
    CHECK_EQ_INT(placed.order.reserved_cash_nano, 0);
    core_event fill = {.type = CORE_EVENT_ORDER_TRADE,
                       .order = placed.order.index,
                       .seq = free_core.next_seq,
                       .time_ns = 2000};
    fill.u.trade = (core_event_trade){.trade_id = 1, .lots = 1, .price_nano = 1};
    CHECK(core_event_applicable(&free_core, &fill));
    core_apply(&free_core, &fill);
    core_check_invariants(&free_core);
    core_deinit(&free_core);
}

/* Replay checks each event in two halves on two threads (core_event_well_formed as it decodes,
 * core_event_fits as it applies): what the event says alone is the first half's, what it asks of
 * the state the second's, and together they are core_event_applicable. */
static void test_the_two_halves(void) {
    core_event order = new_order();
    CHECK(core_event_well_formed(&order) && core_event_fits(&c, &order));
    CHECK(core_event_applicable(&c, &order));
    core_event not_an_id = order;
    strcpy(not_an_id.u.accepted.intent_id, "6f1c3a52-8d0e-4b8a-9a57-3c7f2b1e9dZ0");
    CHECK(!core_event_well_formed(&not_an_id));
    CHECK(!core_event_applicable(&c, &not_an_id));
    core_event upper = order;
    strcpy(upper.u.accepted.request_id, "6F1C3A52-8D0E-4B8A-9A57-3C7F2B1E9D41");
    CHECK(core_event_well_formed(&upper));
    core_event no_records = order;
    no_records.u.accepted.trades_reserved = 0;
    CHECK(!core_event_well_formed(&no_records));
    /* Well formed, but out of turn, or into a slot that is taken: the state refuses it. */
    core_event late = order;
    late.seq = c.next_seq + 1;
    CHECK(core_event_well_formed(&late) && !core_event_fits(&c, &late));
    core_event taken = order;
    taken.order = k1;
    CHECK(core_event_well_formed(&taken) && !core_event_fits(&c, &taken));
    core_event currency = next(CORE_EVENT_CASH_ADJUSTED, CORE_NO_ORDER);
    CHECK(!core_event_well_formed(&currency)); /* no currency */
    core_event reason = next(CORE_EVENT_ORDER_REJECTED, k1);
    reason.u.rejected.reason = CORE_ERROR_COUNT;
    CHECK(!core_event_well_formed(&reason));
}

int main(void) {
    test_free_orders_are_applicable();
    setup();
    test_the_two_halves();
    test_events_without_an_order_name_none();
    test_cash_stays_covered();
    test_fills_fit_the_order();
    test_cancels_fit_the_order();
    test_acceptances_fit_the_state();
    test_exchange_numbers_are_unique();
    core_check_invariants(&c);
    core_deinit(&c);
    return check_finish("core replay");
}
