/* The holdings each batch changed (core/changes.h), for the account streams: which events mark
 * which account, cash slot and position, that a mark is listed once, and that a clear leaves
 * nothing marked for the next batch. */
#include <string.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"

#define NANO 1000000000LL

static refdata rd;

static void record(void *ctx, const core_event *ev) {}

static void open_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->last_price_nano = 100 * NANO;
    out->limit_up_nano = 150 * NANO;
    out->limit_down_nano = 50 * NANO;
}

/* A1 (1000 rub), A2 (no cash) and the sandbox account S1; one token with full access to all. */
static void accounts(void) {
    one_share_refdata(&rd, 1000);
    rd.account_count = 3;
    rd.accounts[1] = (account){.index = 1, .id = "A2", .name = "", .status = 2};
    rd.accounts[2] = (account){.index = 2, .id = "S1", .name = "", .status = 2, .sandbox = true};
    rd.accounts[0].status = 2;
    rd.tokens[0].access[1] = ACCESS_FULL;
    rd.tokens[0].access[2] = ACCESS_FULL;
}

static void start(core *c) {
    core_config cfg = {.refdata = &rd,
                       .commission_bp = 30,
                       .max_orders = 64,
                       .max_trades = 128,
                       .order_retention_ns = 3600 * NANO,
                       .max_orders_per_account = 64,
                       .max_trades_per_order = 8,
                       .id_seed = 7};
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.market = open_market};
    c->sink = (core_event_sink){.append = record};
    core_changes_clear(c);
}

static uint32_t changed_count(const core *c) {
    uint32_t n = 0;
    core_changed_accounts(c, &n);
    return n;
}

/* Bit of `currency` in the account's cash mask (its place among core_account_cash's entries). */
static uint32_t cash_bit(const core *c, uint32_t account_index, const char *currency) {
    ledger_cash cash[REFDATA_MAX_CURRENCIES];
    uint32_t n = core_account_cash(c, account_index, cash);
    for (uint32_t i = 0; i < n; i++)
        if (strcmp(cash[i].currency, currency) == 0)
            return 1u << i;
    return 0;
}

static void test_changes_module(void) {
    core_changes ch;
    CHECK(changes_init(&ch, 4, 3) == 0);
    CHECK_EQ_INT(ch.account_count, 0);
    changes_mark_position(&ch, 2, 1);
    changes_mark_cash(&ch, 2, 3);
    changes_mark_cash(&ch, 0, 0);
    changes_mark_account(&ch, 2);
    CHECK_EQ_INT(ch.account_count, 2); /* each account listed once, in the order first marked */
    CHECK_EQ_INT(ch.accounts[0], 2);
    CHECK_EQ_INT(ch.accounts[1], 0);
    CHECK_EQ_INT(changes_cash_mask(&ch, 2), 1u << 3);
    CHECK_EQ_INT(changes_cash_mask(&ch, 0), 1u);
    CHECK(changes_position_marked(&ch, 2, 1));
    CHECK(!changes_position_marked(&ch, 2, 0));
    CHECK(!changes_position_marked(&ch, 0, 1));
    changes_clear(&ch);
    CHECK_EQ_INT(ch.account_count, 0);
    CHECK_EQ_INT(changes_cash_mask(&ch, 2), 0);
    CHECK_EQ_INT(changes_cash_mask(&ch, 0), 0);
    CHECK(!changes_position_marked(&ch, 2, 1));
    /* After a clear an account is listed again when marked again. */
    changes_mark_account(&ch, 3);
    CHECK_EQ_INT(ch.account_count, 1);
    CHECK_EQ_INT(ch.accounts[0], 3);
    CHECK_EQ_INT(changes_cash_mask(&ch, 3), 0);
    changes_deinit(&ch);
}

static void test_events(void) {
    core c;
    start(&c);
    const token *tok = &rd.tokens[0];
    CHECK_EQ_INT(changed_count(&c), 0);

    /* An accepted order marks its account's cash in the instrument's currency and its position. */
    core_order_request req = {.token = tok,
                              .account_id = "A1",
                              .instrument_id = "FIGI0",
                              .key = "k1",
                              .quantity = 2,
                              .has_price = true,
                              .price_nano = 100 * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_SYNC,
                              .now_ns = 10 * NANO};
    core_result placed = core_place_order(&c, &req);
    CHECK_EQ_INT(placed.error, CORE_OK);
    core_request sent;
    while (core_next_request(&c, &sent))
        ;
    uint32_t count = 0;
    const uint32_t *changed = core_changed_accounts(&c, &count);
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(changed[0], 0);
    CHECK(cash_bit(&c, 0, "rub") != 0);
    CHECK_EQ_INT(core_changed_cash(&c, 0), cash_bit(&c, 0, "rub"));
    CHECK(core_changed_position(&c, 0, 0));
    core_changes_clear(&c);
    CHECK_EQ_INT(changed_count(&c), 0);
    CHECK_EQ_INT(core_changed_cash(&c, 0), 0);
    CHECK(!core_changed_position(&c, 0, 0));

    /* The exchange's ack moves nothing: nothing marked. */
    uint32_t slot = placed.order.index;
    core_exchange_report ack = {.kind = REPORT_ACK,
                                .client_ref = core_client_ref(&c.orders[slot]),
                                .exchange_order_id = 10000000001ULL,
                                .time_ns = 11 * NANO};
    core_on_exchange_report(&c, &ack);
    CHECK_EQ_INT(changed_count(&c), 0);

    /* A market maker's move marks nothing either. */
    uint64_t random_state[4] = {1, 2, 3, 4};
    core_record_market_maker(&c, 0, 101 * NANO, random_state, 12 * NANO);
    CHECK_EQ_INT(changed_count(&c), 0);

    /* A fill marks the cash and the position again. */
    core_exchange_report trade = {.kind = REPORT_TRADE,
                                  .client_ref = core_client_ref(&c.orders[slot]),
                                  .trade_id = 1,
                                  .lots = 1,
                                  .price_nano = 100 * NANO,
                                  .time_ns = 13 * NANO};
    core_on_exchange_report(&c, &trade);
    changed = core_changed_accounts(&c, &count);
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(changed[0], 0);
    CHECK_EQ_INT(core_changed_cash(&c, 0), cash_bit(&c, 0, "rub"));
    CHECK(core_changed_position(&c, 0, 0));
    core_changes_clear(&c);

    /* A currency transfer marks the cash of both accounts, and no position. */
    bool dup = false;
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "rub", 5 * NANO,
                                        "0b7e3c1a-52d4-4f6e-9a8b-1c2d3e4f5a6b", 14 * NANO, &dup),
                 CORE_OK);
    changed = core_changed_accounts(&c, &count);
    CHECK_EQ_INT(count, 2);
    CHECK(count == 2 &&
          ((changed[0] == 0 && changed[1] == 1) || (changed[0] == 1 && changed[1] == 0)));
    CHECK(cash_bit(&c, 1, "rub") != 0);
    CHECK_EQ_INT(core_changed_cash(&c, 0), cash_bit(&c, 0, "rub"));
    CHECK_EQ_INT(core_changed_cash(&c, 1), cash_bit(&c, 1, "rub"));
    CHECK(!core_changed_position(&c, 0, 0));
    CHECK(!core_changed_position(&c, 1, 0));
    core_changes_clear(&c);

    /* A refused transfer changes nothing and marks nothing. */
    CHECK_EQ_INT(core_currency_transfer(&c, tok, "A1", "A2", "rub", 100000 * NANO,
                                        "1c8f4d2b-63e5-4a7f-8b9c-2d3e4f5a6b7c", 15 * NANO, &dup),
                 CORE_ERR_TRANSFER_NOT_ENOUGH);
    CHECK_EQ_INT(changed_count(&c), 0);

    /* A pay-in marks its account's cash in its currency. */
    int64_t balance = 0;
    CHECK_EQ_INT(core_pay_in(&c, tok, "S1", "rub", 7 * NANO, 16 * NANO, &balance), CORE_OK);
    changed = core_changed_accounts(&c, &count);
    CHECK_EQ_INT(count, 1);
    CHECK_EQ_INT(changed[0], 2);
    CHECK_EQ_INT(core_changed_cash(&c, 2), cash_bit(&c, 2, "rub"));
    CHECK(!core_changed_position(&c, 2, 0));
    core_changes_clear(&c);

    /* Several events of one batch: each account listed once, the marks the union. */
    CHECK_EQ_INT(core_pay_in(&c, tok, "S1", "rub", NANO, 17 * NANO, &balance), CORE_OK);
    CHECK_EQ_INT(core_pay_in(&c, tok, "S1", "rub", NANO, 18 * NANO, &balance), CORE_OK);
    core_result cancel =
        core_cancel_order(&c, tok, "A1", c.orders[slot].intent_id, false, 19 * NANO);
    CHECK_EQ_INT(cancel.error, CORE_OK);
    while (core_next_request(&c, &sent))
        ;
    core_exchange_report cancelled = {.kind = REPORT_CANCELLED,
                                      .client_ref = core_client_ref(&c.orders[slot]),
                                      .lots = 1,
                                      .cause = ORDER_CAUSE_CANCELLED_BY_CLIENT,
                                      .time_ns = 20 * NANO};
    core_on_exchange_report(&c, &cancelled);
    changed = core_changed_accounts(&c, &count);
    CHECK_EQ_INT(count, 2);
    CHECK_EQ_INT(changed[0], 2);
    CHECK_EQ_INT(changed[1], 0);
    CHECK(core_changed_position(&c, 0, 0)); /* the cancel released the reservation */
    CHECK(!core_changed_position(&c, 1, 0));
    CHECK_EQ_INT(core_changed_cash(&c, 1), 0);
    core_changes_clear(&c);
    CHECK_EQ_INT(changed_count(&c), 0);

    core_check_invariants(&c);
    core_deinit(&c);
}

int main(void) {
    accounts();
    test_changes_module();
    test_events();
    return check_finish("test_core_changes");
}
