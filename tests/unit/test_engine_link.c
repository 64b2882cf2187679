/* The exchange link after a restart: an acknowledged order the exchange cannot take back into its
 * book used to stay NEW for ever (its CancelOrder waited until shutdown). Now the link reports it
 * cancelled by the exchange, so it ends and nothing is left holding money. */
#include <string.h>

#include "check.h"
#include "one_share.h"
#include "core/core.h"
#include "engine/venue_link.h"

#define NANO 1000000000LL
/* More resting prices than one side of the exchange's book holds (512 levels). */
#define RESTING 600

static refdata rd;

static void setup_refdata(void) {
    one_share_refdata(&rd, 1000000);
}

static core_config link_config(void) {
    return (core_config){.refdata = &rd,
                         .max_orders = 1024,
                         .max_trades = 2048,
                         .order_retention_ns = 3600 * NANO,
                         .max_orders_per_account = 1024,
                         .max_trades_per_order = 16,
                         .id_seed = 1,
                         .openable_sandbox_accounts = 2};
}

/* Applies, as the journal would replay them, an accepted order and (when `acked`) its exchange
 * number. */
static void replay_order(core *c, uint32_t slot, uint32_t account_index, order_type type,
                         order_tif tif, int64_t price_nano, bool acked) {
    core_event ev = {
        .type = CORE_EVENT_ORDER_ACCEPTED, .order = slot, .seq = c->next_seq, .time_ns = 1000};
    core_event_accepted *a = &ev.u.accepted;
    a->account = account_index;
    a->instrument = 0;
    a->direction = DIRECTION_BUY;
    a->type = (uint8_t)type;
    a->tif = (uint8_t)tif;
    a->source = ORDER_SOURCE_ASYNC;
    a->price_nano = type == ORDER_TYPE_LIMIT ? price_nano : 0;
    a->reserve_price_nano = price_nano;
    a->lots = 1;
    a->reserved_cash_nano = price_nano;
    a->trades_reserved = 1;
    a->replaces_order = CORE_NO_ORDER;
    snprintf(a->key, sizeof a->key, "key-%u", slot);
    /* The broker's ids are UUIDs (replay refuses any other). */
    snprintf(a->intent_id, sizeof a->intent_id, "00000000-0000-4000-8000-%012u", slot);
    snprintf(a->request_id, sizeof a->request_id, "00000000-0000-4000-9000-%012u", slot);
    CHECK(core_event_applicable(c, &ev));
    core_apply(c, &ev);
    if (!acked)
        return;
    core_event ack = {
        .type = CORE_EVENT_ORDER_ACKED, .order = slot, .seq = c->next_seq, .time_ns = 2000};
    ack.u.acked.exchange_order_id = 10000000001ULL + slot;
    core_apply(c, &ack);
}

/* Acknowledged but not yet matched when the process stopped (a fill delay): a market order used
 * to come back as a day limit at price 0 and a fill-and-kill order to rest in the book. Only a
 * day limit order rests; the others end, cancelled by the exchange. */
static void test_immediate_orders_do_not_rest_after_restart(void) {
    core_config cfg = link_config();
    core c;
    CHECK(core_init(&c, &cfg) == 0);
    engine_venue_settings settings = {.seed = 1, .max_orders = cfg.max_orders};
    engine_venue_link *link = venue_link_create(&rd, &settings, 1000);
    replay_order(&c, 0, 0, ORDER_TYPE_MARKET, TIF_DAY, 150 * NANO, true);
    replay_order(&c, 1, 0, ORDER_TYPE_LIMIT, TIF_FILL_AND_KILL, 90 * NANO, true);
    replay_order(&c, 2, 0, ORDER_TYPE_BESTPRICE, TIF_DAY, 150 * NANO, true);
    replay_order(&c, 3, 0, ORDER_TYPE_LIMIT, TIF_DAY, 90 * NANO, true);
    venue_link_attach(link, &c);
    venue_link_restore(link, 5000);
    for (uint32_t i = 0; i < 3; i++) {
        CHECK_EQ_INT(c.orders[i].status, ORDER_STATUS_CANCELLED);
        CHECK_EQ_INT(c.orders[i].cause, ORDER_CAUSE_CANCELLED_BY_EXCHANGE);
    }
    CHECK_EQ_INT(c.orders[3].status, ORDER_STATUS_NEW);
    venue_link_book book;
    venue_link_order_book(link, 0, 10, &book);
    CHECK_EQ_INT(book.bid_count, 1);
    CHECK_EQ_INT(book.bids[0].price_nano, 90 * NANO);
    core_check_invariants(&c);
    venue_link_destroy(link);
    core_deinit(&c);
}

/* Closing a sandbox account is durable and answered at once; the cancels of its orders were
 * queued at the exchange and died with the process, leaving them active for ever. After a
 * restart they are asked for again. */
static void test_closed_account_orders_are_cancelled_after_restart(void) {
    core_config cfg = link_config();
    core c;
    CHECK(core_init(&c, &cfg) == 0);
    engine_venue_settings settings = {.seed = 1, .max_orders = cfg.max_orders};
    engine_venue_link *link = venue_link_create(&rd, &settings, 1000);
    core_event opened = {.type = CORE_EVENT_ACCOUNT_OPENED,
                         .order = CORE_NO_ORDER,
                         .seq = c.next_seq,
                         .time_ns = 500};
    opened.u.account_opened.account = 1;
    snprintf(opened.u.account_opened.id, sizeof opened.u.account_opened.id, "S-opened");
    core_apply(&c, &opened);
    core_event cash = {.type = CORE_EVENT_CASH_ADJUSTED,
                       .order = CORE_NO_ORDER,
                       .seq = c.next_seq,
                       .time_ns = 600};
    cash.u.cash.account = 1;
    strcpy(cash.u.cash.currency, "rub");
    cash.u.cash.amount_nano = 1000 * NANO;
    core_apply(&c, &cash);
    replay_order(&c, 0, 1, ORDER_TYPE_LIMIT, TIF_DAY, 90 * NANO, true);
    core_event closed = {.type = CORE_EVENT_ACCOUNT_CLOSED,
                         .order = CORE_NO_ORDER,
                         .seq = c.next_seq,
                         .time_ns = 3000};
    closed.u.account_closed.account = 1;
    core_apply(&c, &closed);
    venue_link_attach(link, &c);
    venue_link_restore(link, 5000);
    CHECK_EQ_INT(c.orders[0].status, ORDER_STATUS_CANCELLED);
    core_check_invariants(&c);
    venue_link_destroy(link);
    core_deinit(&c);
}

static void test_unrestorable_order_ends(void) {
    core_config cfg = link_config();
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
        snprintf(a->intent_id, sizeof a->intent_id, "00000000-0000-4000-8000-%012u", i);
        snprintf(a->request_id, sizeof a->request_id, "00000000-0000-4000-9000-%012u", i);
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
    test_immediate_orders_do_not_rest_after_restart();
    test_closed_account_orders_are_cancelled_after_restart();
    refdata_deinit(&rd);
    return check_finish("engine link");
}
