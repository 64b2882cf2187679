/* The exchange link after a restart: an acknowledged order the exchange cannot take back into its
 * book used to stay NEW for ever (its CancelOrder waited until shutdown). Now the link reports it
 * cancelled by the exchange, so it ends and nothing is left holding money. */
#include <string.h>

#include "check.h"
#include "core/core.h"
#include "engine/venue_link.h"

#define NANO 1000000000LL
/* More resting prices than one side of the exchange's book holds (512 levels). */
#define RESTING 600

static refdata rd;

static void setup_refdata(void) {
    refdata_init(&rd);
    rd.instrument_count = 1;
    rd.instruments[0] = (instrument){.index = 0,
                                     .kind = INSTRUMENT_KIND_SHARE,
                                     .figi = "FIGI0",
                                     .ticker = "AAA",
                                     .class_code = "TQBR",
                                     .uid = "uid-0",
                                     .position_uid = "pos-0",
                                     .isin = "",
                                     .name = "Share A",
                                     .currency = "rub",
                                     .lot = 1,
                                     .min_price_increment_nano = NANO / 100,
                                     .reference_price_nano = 100 * NANO,
                                     .price_band_bp = 5000,
                                     .trading_status = 5,
                                     .api_trade_available = true,
                                     .buy_available = true,
                                     .sell_available = true};
    rd.account_count = 1;
    rd.accounts[0] = (account){.index = 0, .id = "A1", .name = "", .cash_count = 1};
    strcpy(rd.accounts[0].cash[0].currency, "rub");
    rd.accounts[0].cash[0].value_nano = 1000000 * NANO;
    rd.token_count = 1;
    rd.tokens[0].secret = "full";
    rd.tokens[0].access[0] = ACCESS_FULL;
}

static void test_unrestorable_order_ends(void) {
    core_config cfg = {.refdata = &rd,
                       .max_orders = 1024,
                       .max_trades = 2048,
                       .order_retention_ns = 3600 * NANO,
                       .max_orders_per_account = 1024,
                       .max_trades_per_order = 16,
                       .id_seed = 1};
    core c;
    CHECK(core_init(&c, &cfg) == 0);
    engine_venue_settings settings = {.seed = 1, .max_orders = cfg.max_orders};
    engine_venue_link *link = venue_link_create(&rd, &settings, 1000);
    CHECK(link != NULL);
    /* The recorded state of a broker whose orders rest at 600 different prices: applied as the
     * journal would replay it, without an exchange. */
    for (uint32_t i = 0; i < RESTING; i++) {
        core_event ev = {
            .type = CORE_EVENT_ORDER_ACCEPTED, .order = i, .seq = c.next_seq, .time_ns = 1000 + i};
        core_event_accepted *a = &ev.u.accepted;
        a->account = 0;
        a->instrument = 0;
        a->direction = DIRECTION_BUY;
        a->type = ORDER_TYPE_LIMIT;
        a->tif = TIF_DAY;
        a->source = ORDER_SOURCE_ASYNC;
        a->price_nano = 90 * NANO - (int64_t)i * (NANO / 100);
        a->reserve_price_nano = a->price_nano;
        a->lots = 1;
        a->reserved_cash_nano = a->price_nano;
        a->trades_reserved = 1;
        a->replaces_order = CORE_NO_ORDER;
        snprintf(a->key, sizeof a->key, "key-%u", i);
        snprintf(a->intent_id, sizeof a->intent_id, "intent-%u", i);
        snprintf(a->request_id, sizeof a->request_id, "request-%u", i);
        CHECK(core_event_applicable(&c, &ev));
        core_apply(&c, &ev);
        core_event ack = {
            .type = CORE_EVENT_ORDER_ACKED, .order = i, .seq = c.next_seq, .time_ns = 2000 + i};
        ack.u.acked.exchange_order_id = 10000000001ULL + i;
        core_apply(&c, &ack);
    }
    venue_link_attach(link, &c);
    venue_link_restore(link, 5000);
    uint32_t active = 0, cancelled = 0;
    for (uint32_t i = 0; i < RESTING; i++) {
        active += c.orders[i].status == ORDER_STATUS_NEW;
        cancelled += c.orders[i].status == ORDER_STATUS_CANCELLED &&
                     c.orders[i].cause == ORDER_CAUSE_CANCELLED_BY_EXCHANGE;
    }
    CHECK(active > 0);
    CHECK(cancelled > 0);
    CHECK_EQ_INT(active + cancelled, RESTING);
    /* Whatever ended gave its money back: blocked equals what the active orders reserve. */
    core_check_invariants(&c);
    /* A cancel of an order that ended answers at once (not active), never waits. */
    for (uint32_t i = 0; i < RESTING; i++)
        if (c.orders[i].status == ORDER_STATUS_CANCELLED) {
            core_result r =
                core_cancel_order(&c, &rd.tokens[0], "A1", c.orders[i].intent_id, false, 6000);
            CHECK_EQ_INT(r.error, CORE_ERR_ORDER_NOT_ACTIVE);
            break;
        }
    venue_link_destroy(link);
    core_deinit(&c);
}

int main(void) {
    setup_refdata();
    test_unrestorable_order_ends();
    refdata_deinit(&rd);
    return check_finish("engine link");
}
