/* Stop orders in the core: placement checks and their codes (a refusal changes nothing),
 * idempotency, triggering of each type on the exchange's prints (take-profit, stop-loss,
 * stop-limit, trailing with absolute and relative values), expiry, cancel, a child refused by
 * its pre-trade checks, retirement, a trigger missed by a crash, and replay of the recorded
 * events into the same state. The exchange is a fake: the tests drive its reports. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "core/core.h"
#include "one_share.h"

#define NANO 1000000000LL
#define MAX_EVENTS 4096
#define T0 (1700000000LL * NANO)

static refdata rd;
static core_event recorded[MAX_EVENTS];
static int recorded_count;

static void record(void *ctx, const core_event *ev) {
    if (recorded_count < MAX_EVENTS)
        recorded[recorded_count++] = *ev;
}

static void on_market(void *ctx, uint32_t instrument_index, core_market *out) {
    out->trading = true;
    out->limit_up_nano = 150 * NANO;
    out->limit_down_nano = 50 * NANO;
}

static core_config make_config(void) {
    return (core_config){.refdata = &rd,
                         .max_orders = 256,
                         .max_trades = 1024,
                         .order_retention_ns = 3600 * NANO,
                         .max_orders_per_account = 256,
                         .max_trades_per_order = 64,
                         .id_seed = 3,
                         .max_stop_orders = 16,
                         .max_stop_orders_per_account = 8};
}

static void init_core(core *c) {
    one_share_refdata(&rd, 1000000);
    core_config cfg = make_config();
    CHECK(core_init(c, &cfg) == 0);
    c->exchange = (core_exchange){.market = on_market};
    c->sink = (core_event_sink){.append = record};
    recorded_count = 0;
}

static void drain(core *c) {
    core_request req;
    while (core_next_request(c, &req)) {
    }
}

/* A resting buy of many lots that every print fills one lot of, at any price up to 150. */
static core_order feeder(core *c, int64_t now_ns) {
    core_order_request req = {.token = &rd.tokens[0],
                              .account_id = "A1",
                              .instrument_id = "uid-0",
                              .key = "feeder",
                              .quantity = 60,
                              .has_price = true,
                              .price_nano = 150 * NANO,
                              .direction = DIRECTION_BUY,
                              .type = ORDER_TYPE_LIMIT,
                              .source = ORDER_SOURCE_ASYNC,
                              .now_ns = now_ns};
    core_result r = core_place_order(c, &req);
    CHECK_EQ_INT(r.error, CORE_OK);
    drain(c);
    return r.order;
}

static uint64_t next_trade_id = 1;

/* One lot of `order` trades at `price`: a print of the exchange. */
static void print_at(core *c, const core_order *order, int64_t price_nano, int64_t now_ns) {
    core_exchange_report rep = {.kind = REPORT_TRADE,
                                .client_ref = core_client_ref(order),
                                .trade_id = next_trade_id++,
                                .lots = 1,
                                .price_nano = price_nano,
                                .time_ns = now_ns,
                                .aggressor = true};
    core_on_exchange_report(c, &rep);
    drain(c);
}

static core_stop_request stop(int32_t type, int32_t direction, int64_t stop_price_nano,
                              const char *key) {
    return (core_stop_request){.token = &rd.tokens[0],
                               .account_id = "A1",
                               .instrument_id = "uid-0",
                               .key = key,
                               .quantity = 1,
                               .has_stop_price = true,
                               .stop_price_nano = stop_price_nano,
                               .direction = direction,
                               .stop_type = type,
                               .expiration = STOP_EXPIRES_NEVER,
                               .now_ns = T0 + NANO};
}

static core_error post_error(core *c, core_stop_request r) {
    uint64_t seq = c->next_seq;
    core_error err = core_post_stop_order(c, &r).error;
    if (err != CORE_OK)
        CHECK_EQ_INT(c->next_seq, seq); /* a refusal records nothing */
    return err;
}

static const core_stop_order *record_of(const core *c, core_stop_result r) {
    return &c->stops.records[r.stop.index];
}

static void test_placement_checks(void) {
    core c;
    init_core(&c);
    core_order f = feeder(&c, T0);
    print_at(&c, &f, 100 * NANO, T0);
    core_stop_request r;
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "k");
    r.quantity = 0;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_QUANTITY_ZERO);
    r.quantity = -1;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_QUANTITY_NEGATIVE);
    r = stop(STOP_TYPE_STOP_LOSS, 0, 90 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_DIRECTION_MISSING);
    r = stop(0, DIRECTION_SELL, 90 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_TYPE_MISSING);
    r = stop(7, DIRECTION_SELL, 90 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_TYPE_INVALID);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "k");
    r.expiration = 0;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_EXPIRATION_MISSING);
    r.expiration = 3;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_EXPIRATION_INVALID);
    r.expiration = STOP_EXPIRES_AT_DATE;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_EXPIRE_DATE_INVALID);
    r.has_expire = true;
    r.expire_ns = T0; /* before now */
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_EXPIRE_DATE_RANGE);
    r.expire_state = 1;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_EXPIRE_DATE_INVALID);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "k");
    r.has_stop_price = false;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_PRICE_MISSING);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO + 1, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_PRICE_STEP);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 0, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_PRICE_NOT_POSITIVE);
    r = stop(STOP_TYPE_STOP_LIMIT, DIRECTION_SELL, 90 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_PRICE_MISSING);
    r.child_type = STOP_CHILD_MARKET;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_CHILD_TYPE_INVALID);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "k");
    r.take_profit_type = STOP_TAKE_PROFIT_REGULAR;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_TAKE_PROFIT_TYPE_INVALID);
    r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_SELL, 110 * NANO, "k");
    r.take_profit_type = STOP_TAKE_PROFIT_TRAILING;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_TRAILING_MISSING);
    r.has_trailing = r.has_indent = true;
    r.indent_nano = NANO;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_INDENT_TYPE_MISSING);
    r.indent_type = TRAILING_RELATIVE;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_SPREAD_TYPE_MISSING);
    r.spread_type = TRAILING_ABSOLUTE;
    r.indent_nano = 100 * NANO; /* 100 % */
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_TRAILING_INVALID);
    /* The last print is 100: a stop-loss that sells at or above it, a take-profit that sells at
     * or below it, would trigger at once. */
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 100 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_WRONG_SIDE);
    r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_SELL, 99 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_WRONG_SIDE);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_BUY, 99 * NANO, "k");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_WRONG_SIDE);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "k");
    r.account_id = "nope";
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_ACCOUNT_NOT_FOUND);
    r.account_id = "A1";
    r.instrument_id = "";
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_INSTRUMENT_MISSING);
    r.instrument_id = "nope";
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_INSTRUMENT_NOT_FOUND);
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO,
             "0123456789012345678901234567890123456");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_ORDER_ID_TOO_LONG);
    CHECK_EQ_INT(c.stops.in_use, 0);
    core_check_invariants(&c);
    core_deinit(&c);
}

static void test_idempotency_and_limits(void) {
    core c;
    init_core(&c);
    core_stop_request r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "key-1");
    core_stop_result a = core_post_stop_order(&c, &r);
    CHECK_EQ_INT(a.error, CORE_OK);
    CHECK(!a.duplicate);
    CHECK(strcmp(a.stop.key, "key-1") == 0);
    core_stop_result b = core_post_stop_order(&c, &r);
    CHECK_EQ_INT(b.error, CORE_OK);
    CHECK(b.duplicate);
    CHECK(strcmp(a.stop.id, b.stop.id) == 0);
    r.stop_price_nano = 80 * NANO;
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_DUPLICATE_KEY);
    /* Without a key every request is a new stop order, keyed by its own id. */
    core_stop_request nokey = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "");
    core_stop_result n1 = core_post_stop_order(&c, &nokey);
    core_stop_result n2 = core_post_stop_order(&c, &nokey);
    CHECK(strcmp(n1.stop.id, n2.stop.id) != 0);
    CHECK(strcmp(n1.stop.key, n1.stop.id) == 0);
    /* max_stop_orders_per_account = 8. */
    char key[16];
    for (int i = 0; i < 5; i++) {
        snprintf(key, sizeof key, "more-%d", i);
        r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, key);
        CHECK_EQ_INT(post_error(&c, r), CORE_OK);
    }
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "one-too-many");
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_ACCOUNT_LIMIT);
    /* Cancel: once; then it is not active; an unknown id is not found. */
    core_stop_result x = core_cancel_stop_order(&c, &rd.tokens[0], "A1", a.stop.id, T0 + 2 * NANO);
    CHECK_EQ_INT(x.error, CORE_OK);
    CHECK_EQ_INT(x.stop.status, STOP_STATUS_CANCELED);
    CHECK_EQ_INT(x.stop.completion_ns, T0 + 2 * NANO);
    x = core_cancel_stop_order(&c, &rd.tokens[0], "A1", a.stop.id, T0 + 3 * NANO);
    CHECK_EQ_INT(x.error, CORE_ERR_STOP_NOT_ACTIVE);
    x = core_cancel_stop_order(&c, &rd.tokens[0], "A1", "nope", T0 + 3 * NANO);
    CHECK_EQ_INT(x.error, CORE_ERR_STOP_NOT_FOUND);
    /* The account is full until the retention passes: the cancelled one then leaves. */
    CHECK_EQ_INT(post_error(&c, r), CORE_ERR_STOP_ACCOUNT_LIMIT);
    r.now_ns = T0 + 3700 * NANO;
    CHECK_EQ_INT(post_error(&c, r), CORE_OK);
    CHECK_EQ_INT(c.stops.in_use, 8);
    core_stop_order list[16];
    CHECK_EQ_INT(core_list_stop_orders(&c, 0, STOP_STATUS_CANCELED, INT64_MIN, INT64_MAX, r.now_ns,
                                       list, 16),
                 0);
    CHECK_EQ_INT(core_list_stop_orders(&c, 0, 1, INT64_MIN, INT64_MAX, r.now_ns, list, 16), 8);
    CHECK(list[0].placed_seq > list[7].placed_seq); /* newest first */
    core_check_invariants(&c);
    core_deinit(&c);
}

/* The stop order's child: the order its id keys. */
static const core_order *child_of(const core *c, const core_stop_order *s) {
    return s->child_order == CORE_NO_ORDER ? NULL : &c->orders[s->child_order];
}

static void test_trigger_types(void) {
    core c;
    init_core(&c);
    core_order f = feeder(&c, T0);
    print_at(&c, &f, 100 * NANO, T0);
    print_at(&c, &f, 100 * NANO, T0); /* two units held, to sell */
    core_stop_request r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 95 * NANO, "sl");
    const core_stop_order *sl = record_of(&c, core_post_stop_order(&c, &r));
    r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_BUY, 97 * NANO, "tp");
    const core_stop_order *tp = record_of(&c, core_post_stop_order(&c, &r));
    r = stop(STOP_TYPE_STOP_LIMIT, DIRECTION_BUY, 104 * NANO, "slim");
    r.has_price = true;
    r.price_nano = 105 * NANO;
    const core_stop_order *slim = record_of(&c, core_post_stop_order(&c, &r));
    r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_SELL, 108 * NANO, "tp-limit");
    r.has_price = true;
    r.price_nano = 107 * NANO;
    const core_stop_order *tpl = record_of(&c, core_post_stop_order(&c, &r));
    CHECK_EQ_INT(tpl->child_type, STOP_CHILD_LIMIT);
    CHECK_EQ_INT(sl->child_type, STOP_CHILD_MARKET);
    print_at(&c, &f, 96 * NANO, T0 + 10);
    CHECK_EQ_INT(sl->status, STOP_STATUS_ACTIVE);
    CHECK_EQ_INT(tp->status, STOP_STATUS_EXECUTED); /* 96 <= 97: the buy's take-profit */
    CHECK_EQ_INT(tp->trigger_price_nano, 96 * NANO);
    print_at(&c, &f, 95 * NANO, T0 + 20);
    CHECK_EQ_INT(sl->status, STOP_STATUS_EXECUTED);
    CHECK_EQ_INT(sl->trigger_price_nano, 95 * NANO);
    CHECK_EQ_INT(sl->completion_ns, T0 + 20);
    const core_order *child = child_of(&c, sl);
    CHECK(child != NULL && strcmp(child->key, sl->id) == 0);
    CHECK(child != NULL && child->type == ORDER_TYPE_MARKET && child->direction == DIRECTION_SELL);
    CHECK(strcmp(core_stop_child_exchange_id(&c, sl), child->intent_id) == 0);
    CHECK_EQ_INT(slim->status, STOP_STATUS_ACTIVE);
    print_at(&c, &f, 104 * NANO, T0 + 30);
    CHECK_EQ_INT(slim->status, STOP_STATUS_EXECUTED);
    child = child_of(&c, slim);
    CHECK(child != NULL && child->type == ORDER_TYPE_LIMIT && child->price_nano == 105 * NANO);
    CHECK_EQ_INT(tpl->status, STOP_STATUS_ACTIVE);
    print_at(&c, &f, 108 * NANO, T0 + 40);
    CHECK_EQ_INT(tpl->status, STOP_STATUS_EXECUTED);
    child = child_of(&c, tpl);
    CHECK(child != NULL && child->price_nano == 107 * NANO);
    /* The child's exchange number, once the exchange acknowledged it. */
    core_exchange_report ack = {.kind = REPORT_ACK,
                                .client_ref = core_client_ref(child),
                                .exchange_order_id = 777,
                                .time_ns = T0 + 41};
    core_on_exchange_report(&c, &ack);
    CHECK(strcmp(core_stop_child_exchange_id(&c, tpl), "777") == 0);
    core_check_invariants(&c);
    core_deinit(&c);
}

static void test_trailing(void) {
    core c;
    init_core(&c);
    core_order f = feeder(&c, T0);
    for (int i = 0; i < 3; i++)
        print_at(&c, &f, 100 * NANO, T0);
    /* Sell, activation at 110, indent 2 (absolute), spread 0.5 % of the level. */
    core_stop_request r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_SELL, 110 * NANO, "trail");
    r.take_profit_type = STOP_TAKE_PROFIT_TRAILING;
    r.child_type = STOP_CHILD_LIMIT;
    r.has_trailing = r.has_indent = r.has_spread = true;
    r.indent_type = TRAILING_ABSOLUTE;
    r.indent_nano = 2 * NANO;
    r.spread_type = TRAILING_RELATIVE;
    r.spread_nano = NANO / 2;
    core_stop_result res = core_post_stop_order(&c, &r);
    CHECK_EQ_INT(res.error, CORE_OK);
    const core_stop_order *t = record_of(&c, res);
    CHECK_EQ_INT(t->trailing, TRAILING_WAITING);
    print_at(&c, &f, 105 * NANO, T0 + 1);
    CHECK_EQ_INT(t->trailing, TRAILING_WAITING);
    print_at(&c, &f, 110 * NANO, T0 + 2);
    CHECK_EQ_INT(t->trailing, TRAILING_ACTIVATED);
    CHECK_EQ_INT(t->extremum_nano, 110 * NANO);
    CHECK_EQ_INT(t->level_nano, 108 * NANO);
    print_at(&c, &f, 115 * NANO, T0 + 3);
    CHECK_EQ_INT(t->extremum_nano, 115 * NANO);
    CHECK_EQ_INT(t->level_nano, 113 * NANO);
    /* 113 - 0.5 % = 112.435, down to the tick. */
    CHECK_EQ_INT(t->trail_price_nano, 112430000000LL);
    print_at(&c, &f, 114 * NANO, T0 + 4);
    CHECK_EQ_INT(t->extremum_nano, 115 * NANO);
    CHECK_EQ_INT(t->status, STOP_STATUS_ACTIVE);
    print_at(&c, &f, 113 * NANO, T0 + 5);
    CHECK_EQ_INT(t->status, STOP_STATUS_EXECUTED);
    const core_order *child = child_of(&c, t);
    CHECK(child != NULL && child->type == ORDER_TYPE_LIMIT && child->price_nano == 112430000000LL);
    /* Buy, relative indent 1 %: activation at 100 or below, then follows the lowest price. */
    r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_BUY, 100 * NANO, "trail-buy");
    r.take_profit_type = STOP_TAKE_PROFIT_TRAILING;
    r.has_trailing = r.has_indent = true;
    r.indent_type = TRAILING_RELATIVE;
    r.indent_nano = NANO;
    r.spread_type = TRAILING_ABSOLUTE;
    res = core_post_stop_order(&c, &r);
    CHECK_EQ_INT(res.error, CORE_OK);
    t = record_of(&c, res);
    print_at(&c, &f, 100 * NANO, T0 + 6);
    CHECK_EQ_INT(t->trailing, TRAILING_ACTIVATED);
    CHECK_EQ_INT(t->level_nano, 101 * NANO);
    print_at(&c, &f, 90 * NANO, T0 + 7);
    CHECK_EQ_INT(t->level_nano, 90900000000LL);
    print_at(&c, &f, 89990000000LL, T0 + 8);
    CHECK_EQ_INT(t->extremum_nano, 89990000000LL);
    CHECK_EQ_INT(t->level_nano, 90890000000LL); /* 89.99 + 0.8999, up to the tick */
    print_at(&c, &f, 90880000000LL, T0 + 9);
    CHECK_EQ_INT(t->status, STOP_STATUS_ACTIVE);
    print_at(&c, &f, 90890000000LL, T0 + 10);
    CHECK_EQ_INT(t->status, STOP_STATUS_EXECUTED);
    child = child_of(&c, t);
    CHECK(child != NULL && child->type == ORDER_TYPE_MARKET && child->direction == DIRECTION_BUY);
    core_check_invariants(&c);
    core_deinit(&c);
}

static void test_expiry_and_refused_child(void) {
    core c;
    init_core(&c);
    core_order f = feeder(&c, T0);
    print_at(&c, &f, 100 * NANO, T0);
    core_stop_request r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 90 * NANO, "gtd");
    r.expiration = STOP_EXPIRES_AT_DATE;
    r.has_expire = true;
    r.expire_ns = T0 + 60 * NANO;
    const core_stop_order *gtd = record_of(&c, core_post_stop_order(&c, &r));
    /* Sells 50 units of the 1 held: its child fails the pre-trade checks. */
    r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 95 * NANO, "too-big");
    r.quantity = 50;
    const core_stop_order *big = record_of(&c, core_post_stop_order(&c, &r));
    core_stop_order list[4];
    CHECK_EQ_INT(core_list_stop_orders(&c, 0, STOP_STATUS_EXPIRED, INT64_MIN, INT64_MAX,
                                       T0 + 61 * NANO, list, 4),
                 1); /* seen as expired before its event */
    stop_orders_expire(&c, T0 + 59 * NANO);
    CHECK_EQ_INT(gtd->status, STOP_STATUS_ACTIVE);
    stop_orders_expire(&c, T0 + 61 * NANO);
    CHECK_EQ_INT(gtd->status, STOP_STATUS_EXPIRED);
    CHECK_EQ_INT(gtd->completion_ns, T0 + 61 * NANO);
    print_at(&c, &f, 95 * NANO, T0 + 62 * NANO);
    CHECK_EQ_INT(big->status, STOP_STATUS_CANCELED);
    CHECK_EQ_INT(big->reject_reason, CORE_ERR_NOT_ENOUGH_ASSETS);
    CHECK(big->child_order == CORE_NO_ORDER);
    CHECK(core_stop_child_exchange_id(&c, big) == NULL);
    /* Both leave after the retention. */
    stop_orders_expire(&c, T0 + 3700 * NANO);
    CHECK_EQ_INT(c.stops.in_use, 0);
    CHECK_EQ_INT(c.stops.per_account[0], 0);
    core_check_invariants(&c);
    core_deinit(&c);
}

/* Replays the recorded events into a fresh core through core_apply, as recovery does. */
static void replay_into(core *fresh) {
    one_share_refdata(&rd, 1000000);
    core_config cfg = make_config();
    CHECK(core_init(fresh, &cfg) == 0);
    fresh->exchange = (core_exchange){.market = on_market};
    for (int i = 0; i < recorded_count; i++) {
        CHECK(core_event_applicable(fresh, &recorded[i]));
        core_apply(fresh, &recorded[i]);
    }
}

static void test_replay_and_missed_trigger(void) {
    core c;
    init_core(&c);
    core_order f = feeder(&c, T0);
    print_at(&c, &f, 100 * NANO, T0);
    core_stop_request r = stop(STOP_TYPE_STOP_LOSS, DIRECTION_SELL, 95 * NANO, "sl");
    CHECK_EQ_INT(core_post_stop_order(&c, &r).error, CORE_OK);
    r = stop(STOP_TYPE_TAKE_PROFIT, DIRECTION_SELL, 120 * NANO, "tp");
    r.take_profit_type = STOP_TAKE_PROFIT_TRAILING;
    r.has_trailing = r.has_indent = true;
    r.indent_type = TRAILING_ABSOLUTE;
    r.spread_type = TRAILING_ABSOLUTE;
    r.indent_nano = 5 * NANO;
    CHECK_EQ_INT(core_post_stop_order(&c, &r).error, CORE_OK);
    print_at(&c, &f, 121 * NANO, T0 + 1);
    print_at(&c, &f, 94 * NANO, T0 + 2); /* triggers both */
    CHECK_EQ_INT(c.stops.finished_count, 2);
    core fresh;
    replay_into(&fresh);
    CHECK(core_state_hash(&fresh) == core_state_hash(&c));
    for (uint32_t s = 0; s < 2; s++) {
        CHECK_EQ_INT(fresh.stops.records[s].status, c.stops.records[s].status);
        CHECK_EQ_INT(fresh.stops.records[s].child_order, c.stops.records[s].child_order);
        CHECK_EQ_INT(fresh.stops.records[s].extremum_nano, c.stops.records[s].extremum_nano);
        CHECK(strcmp(fresh.stops.records[s].id, c.stops.records[s].id) == 0);
    }
    core_check_invariants(&fresh);
    core_deinit(&fresh);

    /* A crash after the print's TRADE event but before the trigger: the journal ends with the
     * trade, and after recovery the stop order triggers on the last price it recorded. */
    int upto = 0;
    for (int i = 0; i < recorded_count; i++)
        if (recorded[i].type == CORE_EVENT_ORDER_TRADE &&
            recorded[i].u.trade.price_nano == 94 * NANO)
            upto = i + 1;
    CHECK(upto > 0);
    recorded_count = upto;
    replay_into(&fresh);
    CHECK_EQ_INT(fresh.stops.finished_count, 0);
    fresh.sink = (core_event_sink){.append = record};
    core_resume(&fresh, T0 + 3);
    CHECK_EQ_INT(fresh.stops.finished_count, 2);
    CHECK_EQ_INT(fresh.stops.records[0].status, STOP_STATUS_EXECUTED);
    core_check_invariants(&fresh);
    core_deinit(&fresh);
    core_deinit(&c);
}

int main(void) {
    test_placement_checks();
    test_idempotency_and_limits();
    test_trigger_types();
    test_trailing();
    test_expiry_and_refused_child();
    test_replay_and_missed_trigger();
    return check_finish("core stop orders");
}
