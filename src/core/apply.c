/* core_apply: the one place broker state changes, for live events and replayed ones alike.
 *
 * Every amount here was checked when the order was accepted (or the pay-in taken), so an
 * arithmetic overflow in this file is a broken invariant and asserts; after each event the
 * touched account's ledger invariants are asserted too. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"
#include "core/history.h"
#include "core/operations.h"
#include "core/valuation.h"
#include "util/checked.h"
#include "util/uuid.h"

static ledger_cash *cash_of(core *c, const core_order *o) {
    ledger_cash *cash =
        ledger_cash_slot(&c->ledger, o->account, core_instrument_of(c, o)->currency);
    assert(cash != NULL);
    return cash;
}

static void index_key(core *c, const core_order *o) {
    if (c->indexes_deferred)
        return;
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len = history_key_bytes(o->account, o->key, bytes);
    bool ok = order_index_insert(&c->by_key, bytes, len, o->index);
    assert(ok);
    (void)ok;
}

/* Blocks what an order reserves: cash for a buy, securities for a sell. */
static void hold_reservation(core *c, core_order *o) {
    if (o->reserved_cash_nano > 0)
        CHECKED_ADD_ASSERT(cash_of(c, o)->blocked_nano, o->reserved_cash_nano);
    if (o->reserved_units > 0)
        CHECKED_ADD_ASSERT(ledger_position_of(&c->ledger, o->account, o->instrument)->blocked_units,
                           o->reserved_units);
}

static void apply_accepted(core *c, const core_event *ev) {
    const core_event_accepted *a = &ev->u.accepted;
    history_take_order_slot(c, ev->order);
    core_order *o = &c->orders[ev->order];
    *o = (core_order){.index = ev->order,
                      .account = a->account,
                      .instrument = a->instrument,
                      .direction = (order_direction)a->direction,
                      .type = (order_type)a->type,
                      .tif = (order_tif)a->tif,
                      .source = (order_source)a->source,
                      .status = ORDER_STATUS_NEW,
                      .key_is_uuid = a->key_is_uuid != 0,
                      .awaiting_replaced = a->awaiting_replaced != 0,
                      .price_nano = a->price_nano,
                      .reserve_price_nano = a->reserve_price_nano,
                      .lots_requested = a->lots,
                      .initial_commission_nano = a->initial_commission_nano,
                      .reserved_cash_nano = a->reserved_cash_nano,
                      .reserved_units = a->reserved_units,
                      .trades_reserved = a->trades_reserved,
                      .accepted_seq = ev->seq,
                      .created_ns = ev->time_ns,
                      .first_trade = CORE_NO_ORDER,
                      .last_trade = CORE_NO_ORDER,
                      .replaces_order = a->replaces_order,
                      .replaced_by = CORE_NO_ORDER};
    memcpy(o->key, a->key, sizeof o->key);
    memcpy(o->request_id, a->request_id, sizeof o->request_id);
    memcpy(o->intent_id, a->intent_id, sizeof o->intent_id);
    c->pools.trades_reserved += o->trades_reserved;
    hold_reservation(c, o);
    if (o->replaces_order != CORE_NO_ORDER)
        c->orders[o->replaces_order].replaced_by = o->index;
    history_link_account(c, o);
    index_key(c, o);
    if (!c->indexes_deferred) {
        bool ok = order_index_insert(&c->by_order_id, o->intent_id, strlen(o->intent_id), o->index);
        assert(ok);
        (void)ok;
    }
}

static void apply_armed(core *c, const core_event *ev) {
    core_order *o = &c->orders[ev->order];
    const core_event_armed *a = &ev->u.armed;
    assert(o->awaiting_replaced);
    o->awaiting_replaced = false;
    o->reserve_price_nano = a->reserve_price_nano;
    o->reserved_cash_nano = a->reserved_cash_nano;
    o->reserved_units = a->reserved_units;
    o->initial_commission_nano = a->initial_commission_nano;
    hold_reservation(c, o);
}

/* Gives back whatever the order still holds: on cancel, reject and the last fill. */
static void release_reservation(core *c, core_order *o) {
    if (o->reserved_cash_nano > 0)
        CHECKED_SUB_ASSERT(cash_of(c, o)->blocked_nano, o->reserved_cash_nano);
    if (o->reserved_units > 0)
        CHECKED_SUB_ASSERT(ledger_position_of(&c->ledger, o->account, o->instrument)->blocked_units,
                           o->reserved_units);
    o->reserved_cash_nano = 0;
    o->reserved_units = 0;
}

static void finish_order(core *c, core_order *o, order_status status, int64_t time_ns) {
    o->status = status;
    o->completion_ns = time_ns;
    o->awaiting_replaced = false;
    release_reservation(c, o);
    history_order_finished(c, o);
}

/* The decimal text of `v` (at most 20 digits) and its length; printf's machinery is most of
 * the cost of an ACK otherwise. Written from its end two digits at a time (an exchange number has
 * eleven: half the divisions of one digit at a time). */
static size_t format_decimal(uint64_t v, char out[24]) {
    static const char pairs[201] = "00010203040506070809101112131415161718192021222324252627282930"
                                   "31323334353637383940414243444546474849505152535455565758596061"
                                   "62636465666768697071727374757677787980818283848586878889909192"
                                   "93949596979899";
    size_t n = 1;
    for (uint64_t rest = v / 10; rest != 0; rest /= 10)
        n++;
    out[n] = '\0';
    size_t at = n;
    while (v >= 100) {
        unsigned two = (unsigned)(v % 100);
        v /= 100;
        at -= 2;
        out[at] = pairs[2 * two];
        out[at + 1] = pairs[2 * two + 1];
    }
    if (v >= 10) {
        out[at - 2] = pairs[2 * v];
        out[at - 1] = pairs[2 * v + 1];
    } else {
        out[at - 1] = (char)('0' + v);
    }
    return n;
}

static void apply_acked(core *c, const core_event *ev) {
    core_order *o = &c->orders[ev->order];
    o->exchange_order_id = ev->u.acked.exchange_order_id;
    o->acked_ns = ev->time_ns;
    if (o->exchange_order_id > c->venue.last_exchange_order_id)
        c->venue.last_exchange_order_id = o->exchange_order_id;
    _Static_assert(sizeof o->exchange_id_text >= 21, "20 digits and the terminator");
    size_t len = format_decimal(o->exchange_order_id, o->exchange_id_text);
    if (c->indexes_deferred)
        return;
    bool ok = order_index_insert(&c->by_order_id, o->exchange_id_text, len, o->index);
    assert(ok);
    (void)ok;
}

static void record_trade(core *c, core_order *o, const core_event *ev) {
    assert(o->trades_reserved > 0);
    o->trades_reserved--;
    c->pools.trades_reserved--;
    uint32_t index = history_take_trade(c);
    c->trades[index] = (core_trade){.trade_id = ev->u.trade.trade_id,
                                    .lots = ev->u.trade.lots,
                                    .price_nano = ev->u.trade.price_nano,
                                    .time_ns = ev->time_ns,
                                    .next = CORE_NO_ORDER,
                                    .order = o->index,
                                    .aggressor = ev->u.trade.aggressor != 0};
    if (o->last_trade == CORE_NO_ORDER)
        o->first_trade = index;
    else
        c->trades[o->last_trade].next = index;
    o->last_trade = index;
    o->trade_count++;
    if (ev->u.trade.trade_id > c->venue.last_trade_id)
        c->venue.last_trade_id = ev->u.trade.trade_id;
}

/* The print goes into the instrument's candles once (its other side, when it is a client's
 * order too, is the same trade id). Its direction is the incoming side's. */
static void count_in_candles(core *c, const core_order *o, const core_event *ev) {
    const core_event_trade *t = &ev->u.trade;
    bool buy = (o->direction == DIRECTION_BUY) == (t->aggressor != 0);
    if (!candles_on_trade(&c->candles, o->instrument, t->trade_id, t->price_nano, t->lots, buy,
                          ev->time_ns))
        return;
    instrument *ins = &c->refdata->instruments[o->instrument];
    refdata_publish_first_candles(ins, candles_first_ns(&c->candles, o->instrument, CANDLE_1_MIN),
                                  candles_first_ns(&c->candles, o->instrument, CANDLE_DAY));
}

void core_publish_candles(core *c) {
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        refdata_publish_first_candles(&c->refdata->instruments[i],
                                      candles_first_ns(&c->candles, i, CANDLE_1_MIN),
                                      candles_first_ns(&c->candles, i, CANDLE_DAY));
}

/* The share of an order's held cash a fill of `lots` releases: in proportion to the lots filled;
 * the last fill releases the remainder, so rounding never leaves cash blocked. */
static int64_t cash_released(const core_order *o, int64_t lots) {
    int64_t lots_open = o->lots_requested - o->lots_executed;
    return lots == lots_open ? o->reserved_cash_nano
                             : (int64_t)((__int128)o->reserved_cash_nano * lots / lots_open);
}

/* Releases the fill's share of what the order holds in cash; returns the cash. */
static ledger_cash *release_for_fill(core *c, core_order *o, int64_t lots) {
    int64_t release = cash_released(o, lots);
    ledger_cash *cash = cash_of(c, o);
    CHECKED_SUB_ASSERT(cash->blocked_nano, release);
    CHECKED_SUB_ASSERT(o->reserved_cash_nano, release);
    return cash;
}

static void settle_buy(core *c, core_order *o, const core_event_trade *t, int64_t units) {
    ledger_cash *cash = release_for_fill(c, o, t->lots);
    int64_t cost;
    bool ok = checked_add(t->value_nano, t->commission_nano, &cost);
    assert(ok);
    (void)ok;
    CHECKED_SUB_ASSERT(cash->balance_nano, cost);
    ledger_position_trade(ledger_position_of(&c->ledger, o->account, o->instrument), units,
                          t->value_nano);
}

/* A sell settles the units it held back (a margin account's holds none, and may go short). */
static void settle_sell(core *c, core_order *o, const core_event_trade *t, int64_t units) {
    ledger_position *pos = ledger_position_of(&c->ledger, o->account, o->instrument);
    int64_t held = units < o->reserved_units ? units : o->reserved_units;
    CHECKED_SUB_ASSERT(pos->blocked_units, held);
    CHECKED_SUB_ASSERT(o->reserved_units, held);
    ledger_position_trade(pos, -units, t->value_nano);
    CHECKED_ADD_ASSERT(cash_of(c, o)->balance_nano, t->value_nano - t->commission_nano);
}

/* A futures fill moves no value: the order's share of its held guarantee is released, the
 * commission paid, and the position takes its guarantee and counts its variation margin
 * (margin_on_futures_fill). */
static void settle_future(core *c, core_order *o, const core_event_trade *t, int64_t units) {
    ledger_cash *cash = release_for_fill(c, o, t->lots);
    CHECKED_SUB_ASSERT(cash->balance_nano, t->commission_nano);
    ledger_position *pos = ledger_position_of(&c->ledger, o->account, o->instrument);
    int64_t signed_units = o->direction == DIRECTION_BUY ? units : -units;
    margin_on_futures_fill(c, o->account, o->instrument, pos->balance_units, signed_units,
                           t->price_nano);
    ledger_position_trade(pos, signed_units, t->value_nano);
}

static void apply_trade(core *c, const core_event *ev) {
    core_order *o = &c->orders[ev->order];
    const core_event_trade *t = &ev->u.trade;
    assert(t->lots > 0);
    assert(o->lots_executed + t->lots <= o->lots_requested);
    assert(!o->awaiting_replaced);
    int64_t units;
    bool ok = checked_mul(t->lots, core_instrument_of(c, o)->lot, &units);
    assert(ok);
    (void)ok;
    if (core_instrument_of(c, o)->kind == INSTRUMENT_KIND_FUTURE)
        settle_future(c, o, t, units);
    else if (o->direction == DIRECTION_BUY)
        settle_buy(c, o, t, units);
    else
        settle_sell(c, o, t, units);
    record_trade(c, o, ev);
    count_in_candles(c, o, ev);
    stop_orders_on_print(c, o->instrument, t->price_nano);
    o->lots_executed += t->lots;
    CHECKED_ADD_ASSERT(o->executed_value_nano, t->value_nano);
    CHECKED_ADD_ASSERT(o->executed_commission_nano, t->commission_nano);
    o->executed_price_lots_nano += (__int128)t->price_nano * t->lots;
    if (o->lots_executed == o->lots_requested)
        finish_order(c, o, ORDER_STATUS_FILL, ev->time_ns);
    else
        o->status = ORDER_STATUS_PARTIALLYFILL;
}

static void apply_finished(core *c, const core_event *ev, order_status status) {
    core_order *o = &c->orders[ev->order];
    if (status == ORDER_STATUS_CANCELLED) {
        o->lots_cancelled += ev->u.cancelled.lots;
        o->cause = (order_cause)ev->u.cancelled.cause;
    } else {
        o->cause = (order_cause)ev->u.rejected.cause;
        o->reject_reason = (core_error)ev->u.rejected.reason;
    }
    finish_order(c, o, status, ev->time_ns);
}

static void apply_market_maker(core *c, const core_event *ev) {
    const core_event_market_maker *m = &ev->u.market_maker;
    assert(m->instrument < c->refdata->instrument_count);
    c->venue.mm_reference_nano[m->instrument] = m->reference_nano;
    memcpy(c->venue.random_state, m->random_state, sizeof c->venue.random_state);
}

/* The market's print counts into the candles like a client's trade, moves the stop orders' last
 * price, and is where the liquidity provider quotes now. */
static void apply_market_print(core *c, const core_event *ev) {
    const core_event_market_print *m = &ev->u.market_print;
    if (candles_on_trade(&c->candles, m->instrument, m->trade_id, m->price_nano, m->lots,
                         m->buy != 0, ev->time_ns)) {
        instrument *ins = &c->refdata->instruments[m->instrument];
        refdata_publish_first_candles(ins,
                                      candles_first_ns(&c->candles, m->instrument, CANDLE_1_MIN),
                                      candles_first_ns(&c->candles, m->instrument, CANDLE_DAY));
    }
    stop_orders_on_print(c, m->instrument, m->price_nano);
    c->venue.mm_reference_nano[m->instrument] = m->price_nano;
    c->venue.last_trade_id = m->trade_id;
    c->venue.market_print_ns = ev->time_ns;
    c->venue.market_print_instrument = m->instrument;
}

static void apply_trading_halt(core *c, const core_event *ev) {
    const core_event_halt *h = &ev->u.halt;
    assert(h->instrument < c->refdata->instrument_count && h->halted <= 1);
    assert(c->venue.halted[h->instrument] != h->halted);
    c->venue.halted[h->instrument] = h->halted;
}

/* Fills the refdata slot of opened account `n` (see refdata.h DESIGN). */
static void fill_opened(core *c, uint32_t n) {
    refdata *rd = c->refdata;
    const core_opened_account *opened = &c->accounts.opened[n];
    uint32_t slot = c->accounts.configured_count + n;
    account *acc = &rd->accounts[slot];
    acc->index = slot;
    acc->id = opened->id;
    acc->name = opened->name;
    acc->type = 1; /* ACCOUNT_TYPE_TINKOFF, as the sandbox opens */
    acc->opened_date_s = opened->opened_ns / 1000000000;
    acc->sandbox = true;
    acc->cash_count = 0;
    for (uint32_t t = 0; t < rd->token_count; t++)
        rd->tokens[t].access[slot] = t == opened->token ? ACCESS_FULL : ACCESS_NONE;
    refdata_set_account_status(acc, ACCOUNT_STATUS_OPEN);
}

/* A new slot: filled, then the larger count is published. */
static void publish_opened(core *c, uint32_t n) {
    assert(c->accounts.configured_count + n == c->refdata->account_count);
    fill_opened(c, n);
    refdata_publish_account(c->refdata);
}

static void record_opened(core_opened_account *opened, const core_event *ev) {
    const core_event_account_opened *e = &ev->u.account_opened;
    memcpy(opened->id, e->id, sizeof opened->id);
    memcpy(opened->name, e->name, sizeof opened->name);
    opened->token = e->token;
    opened->opened_ns = ev->time_ns;
}

/* A reused slot starts empty: the closed account's money and securities went with it, as the
 * real sandbox deletes a closed account. */
static void reuse_slot(core *c, const core_event *ev) {
    core_accounts_state *a = &c->accounts;
    uint32_t slot = ev->u.account_opened.account;
    assert(a->closed[slot]);
    assert(c->account_orders[slot] == 0);
    assert(c->stops.per_account[slot] == 0);
    ledger_clear_account(&c->ledger, slot);
    operations_forget_account(c, slot);
    account *acc = &c->refdata->accounts[slot];
    refdata_begin_account_update(acc);
    record_opened(&a->opened[slot - a->configured_count], ev);
    a->closed[slot] = 0;
    fill_opened(c, slot - a->configured_count);
    refdata_end_account_update(acc);
}

static void apply_account_opened(core *c, const core_event *ev) {
    const core_event_account_opened *e = &ev->u.account_opened;
    core_accounts_state *a = &c->accounts;
    assert(e->account < a->capacity);
    if (e->account < a->configured_count + a->opened_count) {
        reuse_slot(c, ev);
        return;
    }
    assert(e->account == a->configured_count + a->opened_count);
    record_opened(&a->opened[a->opened_count], ev);
    publish_opened(c, a->opened_count++);
}

static void apply_account_closed(core *c, const core_event *ev) {
    uint32_t slot = ev->u.account_closed.account;
    assert(slot < c->refdata->account_count);
    c->accounts.closed[slot] = 1;
    refdata_set_account_status(&c->refdata->accounts[slot], ACCOUNT_STATUS_CLOSED);
}

void core_publish_accounts(core *c) {
    for (uint32_t n = c->refdata->account_count - c->accounts.configured_count;
         n < c->accounts.opened_count; n++)
        publish_opened(c, n);
    for (uint32_t slot = 0; slot < c->refdata->account_count; slot++)
        if (c->accounts.closed[slot])
            refdata_set_account_status(&c->refdata->accounts[slot], ACCOUNT_STATUS_CLOSED);
}

static void apply_cash(core *c, const core_event *ev) {
    ledger_cash *cash = ledger_cash_slot(&c->ledger, ev->u.cash.account, ev->u.cash.currency);
    assert(cash != NULL);
    CHECKED_ADD_ASSERT(cash->balance_nano, ev->u.cash.amount_nano);
    operations_on_pay_in(c, ev);
}

/* CurrencyTransfer: the money leaves one balance and enters the other (the command proved the
 * free cash is there and the receiving balance takes it). */
static void apply_transfer(core *c, const core_event *ev) {
    const core_event_transfer *t = &ev->u.transfer;
    ledger_cash *from = ledger_cash_slot(&c->ledger, t->from, t->currency);
    assert(from != NULL);
    CHECKED_SUB_ASSERT(from->balance_nano, t->amount_nano);
    ledger_cash *to = ledger_cash_slot(&c->ledger, t->to, t->currency);
    assert(to != NULL);
    CHECKED_ADD_ASSERT(to->balance_nano, t->amount_nano);
    operations_on_transfer(c, ev);
}

/* A clearing pays every position in the instrument its variation margin since the last one (and
 * what its trades since then realised), then counts from the clearing's price. */
static void apply_clearing(core *c, const core_event *ev) {
    const core_event_clearing *e = &ev->u.clearing;
    if (e->clearing_ns > c->margin.last_clearing_ns)
        c->margin.last_clearing_ns = e->clearing_ns;
    if (e->instrument == UINT32_MAX)
        return; /* a clearing with nothing to settle: recorded as passed */
    const instrument *ins = &c->refdata->instruments[e->instrument];
    for (uint32_t a = 0; a < c->accounts.capacity; a++) {
        int64_t units = ledger_position_get(&c->ledger, a, e->instrument)->balance_units;
        margin_future *f = margin_future_of(c, a, e->instrument);
        if (units == 0 && f->pending_vm_nano == 0)
            continue;
        int64_t vm = 0;
        bool ok = margin_points_value(ins, e->price_nano - f->clearing_price_nano, units, &vm);
        assert(ok);
        (void)ok;
        CHECKED_ADD_ASSERT(vm, f->pending_vm_nano);
        f->pending_vm_nano = 0;
        f->clearing_price_nano = units != 0 ? e->price_nano : 0;
        if (vm == 0)
            continue;
        ledger_cash *cash = ledger_cash_slot(&c->ledger, a, ins->currency);
        assert(cash != NULL);
        CHECKED_ADD_ASSERT(cash->balance_nano, vm);
        operations_on_payment(c, a, e->instrument, ins->currency,
                              vm > 0 ? CORE_OP_ACCRUING_VARMARGIN : CORE_OP_WRITING_OFF_VARMARGIN,
                              vm, ev->time_ns);
        core_mark_cash_changed(c, a, ins->currency);
    }
}

static void apply_margin_fee(core *c, const core_event *ev) {
    const core_event_margin_fee *e = &ev->u.margin_fee;
    ledger_cash *cash = ledger_cash_slot(&c->ledger, e->account, e->currency);
    assert(cash != NULL);
    CHECKED_SUB_ASSERT(cash->balance_nano, e->amount_nano);
    operations_on_payment(c, e->account,
                          e->instrument == UINT32_MAX ? CORE_OP_NO_INSTRUMENT : e->instrument,
                          e->currency, CORE_OP_MARGIN_FEE, -e->amount_nano, ev->time_ns);
    if (e->clearing_ns > c->margin.last_clearing_ns)
        c->margin.last_clearing_ns = e->clearing_ns;
}

/* Ledger invariants: what the broker may never show, whatever the clients did. Cash accounts
 * cannot go below zero, nothing is blocked beyond the balance, no reservation or position is
 * negative. A margin account may owe money and securities (a negative balance or position); what
 * it holds back is never negative, and securities are held back only from what it has. */
static void check_cash(const ledger_cash *cash, bool margin) {
    assert(cash->blocked_nano >= 0);
    if (margin)
        return;
    assert(cash->balance_nano >= 0);
    assert(cash->blocked_nano <= cash->balance_nano);
}

static void check_position(const ledger_position *pos, bool margin) {
    assert(pos->blocked_units >= 0);
    if (margin) {
        assert(pos->blocked_units <= (pos->balance_units > 0 ? pos->balance_units : 0));
        return;
    }
    assert(pos->balance_units >= 0);
    assert(pos->blocked_units <= pos->balance_units);
}

/* Every holding of one account; it reads the ledger's arrays in place rather than through the
 * copying queries. */
static void check_account(const core *c, uint32_t account_index) {
    const ledger *lg = &c->ledger;
    assert(account_index < lg->account_count);
    const ledger_cash *cash = &lg->cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    bool margin = core_account_is_margin(c, account_index);
    for (uint32_t i = 0; i < REFDATA_MAX_CURRENCIES && cash[i].currency[0] != '\0'; i++)
        check_cash(&cash[i], margin);
    const ledger_position *pos = &lg->positions[(size_t)account_index * lg->instrument_count];
    for (uint32_t i = 0; i < lg->instrument_count; i++)
        check_position(&pos[i], margin);
}

/* After every event, the invariants of the holdings it changed. An order's event changes its
 * account's cash in the instrument's currency and its position in the instrument, nothing else;
 * a pay-in one cash balance; the other events no holding (a reused sandbox slot starts empty).
 * Every holding held them before the event, so checking what changed keeps them for the whole
 * ledger, at the cost of two records instead of all the account's (core_check_invariants checks
 * them all). */
static void check_touched(const core *c, const core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_CASH_ADJUSTED: {
        const ledger_cash *cash =
            ledger_cash_find(&c->ledger, ev->u.cash.account, ev->u.cash.currency);
        assert(cash != NULL);
        check_cash(cash, core_account_is_margin(c, ev->u.cash.account));
        return;
    }
    case CORE_EVENT_CURRENCY_TRANSFER: {
        const core_event_transfer *t = &ev->u.transfer;
        check_cash(ledger_cash_find(&c->ledger, t->from, t->currency),
                   core_account_is_margin(c, t->from));
        check_cash(ledger_cash_find(&c->ledger, t->to, t->currency),
                   core_account_is_margin(c, t->to));
        return;
    }
    case CORE_EVENT_MARGIN_FEE:
        check_account(c, ev->u.margin_fee.account);
        return;
    case CORE_EVENT_FUTURES_CLEARING:
        /* Only margin accounts hold futures: their cash may go below zero. */
        return;
    case CORE_EVENT_MARKET_MAKER_MOVED:
    case CORE_EVENT_MARKET_PRINT:
    case CORE_EVENT_TRADING_HALT:
    case CORE_EVENT_ACCOUNT_OPENED:
    case CORE_EVENT_ACCOUNT_CLOSED:
    case CORE_EVENT_HISTORY_RETIRED:
    case CORE_EVENT_STOP_ORDER_PLACED:
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        return; /* a stop order holds nothing (its child's own events do), nor does a favorite */
    default: {
        const core_order *o = &c->orders[ev->order];
        /* Looked up, never made: an order that held no cash may have none in its currency. */
        const ledger_cash *cash =
            ledger_cash_find(&c->ledger, o->account, core_instrument_of(c, o)->currency);
        bool margin = core_account_is_margin(c, o->account);
        if (cash != NULL)
            check_cash(cash, margin);
        check_position(ledger_position_get(&c->ledger, o->account, o->instrument), margin);
        return;
    }
    }
}

static void check_order(const core_order *o) {
    assert(o->reserved_cash_nano >= 0);
    assert(o->reserved_units >= 0);
    assert(o->lots_executed + o->lots_cancelled <= o->lots_requested);
    assert(!order_status_is_final(o->status) || o->reserved_cash_nano == 0);
    assert(!order_status_is_final(o->status) || o->reserved_units == 0);
    assert(!order_status_is_final(o->status) || o->trades_reserved == 0);
}

/* ---- Replay's checks ------------------------------------------------------------------------ */

/* A journal written with another configuration, or damaged past its checksum, may hold any
 * record: replay applies one only when core_apply() can apply it without breaking what it asserts
 * (the ledger and order invariants included) and leaves a state the rest of the core can work
 * with, the state the live path could have reached. */

/* A cash or position figure as the ledger invariants allow it (check_cash, check_position). */
static bool holding_ok(int64_t balance, int64_t blocked) {
    return balance >= 0 && blocked >= 0 && blocked <= balance;
}

static bool cash_ok(const core *c, uint32_t account_index, int64_t balance, int64_t blocked) {
    return core_account_is_margin(c, account_index) ? blocked >= 0 : holding_ok(balance, blocked);
}

static bool units_ok(const core *c, uint32_t account_index, int64_t balance, int64_t blocked) {
    return core_account_is_margin(c, account_index)
               ? blocked >= 0 && blocked <= (balance > 0 ? balance : 0)
               : holding_ok(balance, blocked);
}

/* What the account's cash in `currency` is, or an empty one when it has none yet and room for
 * it; false when the account holds REFDATA_MAX_CURRENCIES other currencies. */
static bool cash_or_room(const core *c, uint32_t account_index, const char *currency,
                         ledger_cash *out) {
    const ledger_cash *cash = ledger_cash_find(&c->ledger, account_index, currency);
    *out = cash != NULL ? *cash : (ledger_cash){.balance_nano = 0};
    return cash != NULL || ledger_cash_has_room(&c->ledger, account_index, currency);
}

/* The terms of an order as a reservation needs them. */
typedef struct order_reservation {
    uint32_t account, instrument;
    order_direction direction;
    order_type type;
    int64_t lots, price_nano;
    /* What the record says the order holds. */
    int64_t reserve_price_nano, cash_nano, units, commission_nano;
} order_reservation;

/* The reservation is the one the live path makes (core.c, check_funds): a buy holds the value of
 * its units at the reserve price and the commission on it, a sell its units, and the account has
 * that much free. A limit order reserves at its limit, which no fill exceeds. (A market order
 * reserves at the exchange's upper limit then, which replay does not know: it may run without
 * the exchange.) */
static bool reservation_as_made(const core *c, const order_reservation *r) {
    const instrument *ins = &c->refdata->instruments[r->instrument];
    int64_t reserve_price = r->reserve_price_nano;
    if (reserve_price <= 0 || (r->type == ORDER_TYPE_LIMIT && reserve_price != r->price_nano))
        return false;
    int64_t units, value, cash;
    if (!checked_mul(r->lots, ins->lot, &units) ||
        !valuation_amount(ins, reserve_price, units, &value) ||
        r->commission_nano != valuation_commission(value, c->config.commission_bp) ||
        !checked_add(value, r->commission_nano, &cash))
        return false;
    bool margin = core_account_is_margin(c, r->account);
    if (ins->kind == INSTRUMENT_KIND_FUTURE) {
        /* A futures order holds the guarantee of its contracts (margin accounts only). */
        int64_t guarantee;
        return margin && r->units == 0 &&
               margin_guarantee(ins, r->direction == DIRECTION_BUY ? units : -units, &guarantee) &&
               checked_add(guarantee, r->commission_nano, &cash) && r->cash_nano == cash;
    }
    int64_t free_units = ledger_units_free(&c->ledger, r->account, r->instrument);
    if (r->direction == DIRECTION_SELL && margin)
        return r->cash_nano == 0 && r->units == 0; /* a margin account's sell holds nothing */
    if (r->direction == DIRECTION_SELL)
        return r->cash_nano == 0 && r->units == units && free_units >= units;
    /* An order worth nothing (a bond priced at a few nano) holds nothing, in any currency. */
    return r->units == 0 && r->cash_nano == cash &&
           (margin || ledger_cash_free(&c->ledger, r->account, ins->currency) >= cash);
}

static bool text_fits(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

/* The ids the broker gives are UUIDs, so they never read as an exchange number, which shares
 * their index. */
static bool uuid_text(const char *text, size_t size) {
    return text_fits(text, size) && uuid_is_valid(text, strlen(text));
}

/* A limit order has a positive price on the instrument's tick; any other order has none. */
static bool price_as_made(const core *c, const core_event_accepted *a) {
    if (a->type != ORDER_TYPE_LIMIT)
        return a->price_nano == 0;
    int64_t tick = c->refdata->instruments[a->instrument].min_price_increment_nano;
    return a->price_nano > 0 && tick > 0 && a->price_nano % tick == 0;
}

/* What an acceptance must say whatever the state: terms within their domains, texts that fit,
 * the broker's ids as UUIDs, a trade record held for a fill, and a replacement's shape (it holds
 * nothing until the order it replaces is cancelled). */
static bool accepted_well_formed(const core_event_accepted *a) {
    if (a->lots <= 0 || (a->direction != DIRECTION_BUY && a->direction != DIRECTION_SELL) ||
        a->type < ORDER_TYPE_LIMIT || a->type > ORDER_TYPE_BESTPRICE || a->tif < TIF_DAY ||
        a->tif > TIF_FILL_OR_KILL || a->source < ORDER_SOURCE_SYNC ||
        a->source > ORDER_SOURCE_MARGIN_CALL || a->trades_reserved == 0 ||
        !text_fits(a->key, sizeof a->key) || !uuid_text(a->intent_id, sizeof a->intent_id) ||
        !uuid_text(a->request_id, sizeof a->request_id))
        return false;
    if (a->replaces_order == CORE_NO_ORDER)
        return !a->awaiting_replaced;
    return a->awaiting_replaced && a->reserved_cash_nano == 0 && a->reserved_units == 0;
}

static bool accepted_applicable(const core *c, const core_event *ev) {
    const core_event_accepted *a = &ev->u.accepted;
    const refdata *rd = c->refdata;
    if (!history_order_slot_free(c, ev->order) || a->account >= rd->account_count ||
        a->instrument >= rd->instrument_count || !price_as_made(c, a))
        return false;
    /* A key and an id name one order: the live path answers a held key with its order. With the
     * indexes deferred (recovery), they are empty here; recovery checks every key and id once it
     * has built them (core_indexes_valid). */
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    if (!c->indexes_deferred &&
        (order_index_find(&c->by_key, bytes, history_key_bytes(a->account, a->key, bytes)) !=
             ORDER_INDEX_EMPTY ||
         order_index_find(&c->by_order_id, a->intent_id, strlen(a->intent_id)) !=
             ORDER_INDEX_EMPTY))
        return false;
    /* A trade record is held for every fill it can make. */
    uint64_t trades =
        (uint64_t)c->pools.trades_in_use + c->pools.trades_reserved + a->trades_reserved;
    if (trades > c->config.max_trades)
        return false;
    order_reservation r = {.account = a->account,
                           .instrument = a->instrument,
                           .direction = (order_direction)a->direction,
                           .type = (order_type)a->type,
                           .lots = a->lots,
                           .price_nano = a->price_nano,
                           .reserve_price_nano = a->reserve_price_nano,
                           .cash_nano = a->reserved_cash_nano,
                           .units = a->reserved_units,
                           .commission_nano = a->initial_commission_nano};
    if (a->replaces_order == CORE_NO_ORDER)
        return reservation_as_made(c, &r);
    /* The order a replacement replaces is an active order of the same account that nothing
     * replaces yet. */
    if (a->replaces_order >= c->config.max_orders)
        return false;
    const core_order *old = &c->orders[a->replaces_order];
    return old->status != 0 && !order_status_is_final(old->status) && old->account == a->account &&
           old->replaced_by == CORE_NO_ORDER && !old->awaiting_replaced;
}

static bool acked_applicable(const core *c, const core_event *ev) {
    const core_order *o = &c->orders[ev->order];
    uint64_t number = ev->u.acked.exchange_order_id;
    /* Once, with a number no other order is known by, and never before it was sent. The exchange
     * counts its numbers up from one and never wraps: each of them fits in int64, so the next one
     * always exists. */
    if (o->awaiting_replaced || o->exchange_order_id != 0 || number == 0 || number > INT64_MAX)
        return false;
    if (c->indexes_deferred)
        return true; /* the number's uniqueness is checked once recovery builds the indexes */
    char text[sizeof o->exchange_id_text];
    snprintf(text, sizeof text, "%llu", (unsigned long long)number);
    return order_index_find(&c->by_order_id, text, strlen(text)) == ORDER_INDEX_EMPTY;
}

/* A fill of a buy: its cost leaves the balance, and its share of the reservation is released. */
static bool buy_fill_fits(const core *c, const core_order *o, const core_event_trade *t,
                          int64_t units) {
    const ledger_position *pos = ledger_position_get(&c->ledger, o->account, o->instrument);
    int64_t release = cash_released(o, t->lots);
    ledger_cash cash;
    int64_t cost, balance, held;
    return cash_or_room(c, o->account, core_instrument_of(c, o)->currency, &cash) &&
           checked_add(t->value_nano, t->commission_nano, &cost) &&
           checked_sub(cash.balance_nano, cost, &balance) &&
           cash_ok(c, o->account, balance, cash.blocked_nano - release) &&
           checked_add(pos->balance_units, units, &held) &&
           ledger_trade_fits(pos, units, t->value_nano);
}

/* A fill of a sell: the units leave the position, the proceeds less commission come in. */
static bool sell_fill_fits(const core *c, const core_order *o, const core_event_trade *t,
                           int64_t units) {
    const ledger_position *pos = ledger_position_get(&c->ledger, o->account, o->instrument);
    ledger_cash cash;
    int64_t proceeds, balance, after;
    /* A cash account sells only what it held back; a margin account sells the rest short. */
    int64_t held = units < o->reserved_units ? units : o->reserved_units;
    bool margin = core_account_is_margin(c, o->account);
    return (margin || o->reserved_units >= units) &&
           checked_sub(pos->balance_units, units, &after) &&
           units_ok(c, o->account, after, pos->blocked_units - held) &&
           ledger_trade_fits(pos, -units, t->value_nano) &&
           cash_or_room(c, o->account, core_instrument_of(c, o)->currency, &cash) &&
           checked_sub(t->value_nano, t->commission_nano, &proceeds) &&
           checked_add(cash.balance_nano, proceeds, &balance) &&
           cash_ok(c, o->account, balance, cash.blocked_nano);
}

/* A futures fill: the commission leaves the balance, the position's guarantee and variation
 * margin count fit (margin accounts only hold futures). */
static bool future_fill_fits(const core *c, const core_order *o, const core_event_trade *t,
                             int64_t units) {
    const instrument *ins = core_instrument_of(c, o);
    const ledger_position *pos = ledger_position_get(&c->ledger, o->account, o->instrument);
    const margin_future *f = margin_future_get(c, o->account, o->instrument);
    int64_t signed_units = o->direction == DIRECTION_BUY ? units : -units, after, guarantee, vm,
            pending, balance, blocked;
    int64_t reference =
        pos->balance_units == 0 && f->pending_vm_nano == 0 ? t->price_nano : f->clearing_price_nano;
    ledger_cash cash;
    return core_account_is_margin(c, o->account) && t->price_nano > 0 &&
           checked_add(pos->balance_units, signed_units, &after) &&
           margin_guarantee(ins, after, &guarantee) &&
           margin_points_value(ins, reference - t->price_nano, signed_units, &vm) &&
           checked_add(f->pending_vm_nano, vm, &pending) &&
           ledger_trade_fits(pos, signed_units, t->value_nano) &&
           cash_or_room(c, o->account, ins->currency, &cash) &&
           checked_sub(cash.balance_nano, t->commission_nano, &balance) &&
           checked_add(cash.blocked_nano, guarantee - f->guarantee_nano, &blocked) && blocked >= 0;
}

static bool trade_applicable(const core *c, const core_event *ev) {
    const core_order *o = &c->orders[ev->order];
    const core_event_trade *t = &ev->u.trade;
    int64_t units, sum;
    if (o->awaiting_replaced || o->trades_reserved == 0 || t->lots <= 0 || t->trade_id == 0 ||
        t->trade_id > INT64_MAX ||
        t->lots > o->lots_requested - o->lots_executed - o->lots_cancelled || t->value_nano < 0 ||
        t->commission_nano < 0 || !checked_mul(t->lots, core_instrument_of(c, o)->lot, &units) ||
        !checked_add(o->executed_value_nano, t->value_nano, &sum) ||
        !checked_add(o->executed_commission_nano, t->commission_nano, &sum))
        return false;
    if (core_instrument_of(c, o)->kind == INSTRUMENT_KIND_FUTURE)
        return future_fill_fits(c, o, t, units);
    return o->direction == DIRECTION_BUY ? buy_fill_fits(c, o, t, units)
                                         : sell_fill_fits(c, o, t, units);
}

static bool order_event_applicable(const core *c, const core_event *ev) {
    if (ev->order >= c->config.max_orders || c->orders[ev->order].status == 0 ||
        order_status_is_final(c->orders[ev->order].status))
        return false;
    const core_order *o = &c->orders[ev->order];
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACKED:
        return acked_applicable(c, ev);
    case CORE_EVENT_ORDER_TRADE:
        return trade_applicable(c, ev);
    case CORE_EVENT_ORDER_CANCELLED:
        return ev->u.cancelled.lots >= 0 &&
               ev->u.cancelled.lots <= o->lots_requested - o->lots_executed - o->lots_cancelled;
    case CORE_EVENT_ORDER_REJECTED:
        return true; /* its reason was checked with the event alone */
    case CORE_EVENT_REPLACEMENT_ARMED: {
        order_reservation r = {.account = o->account,
                               .instrument = o->instrument,
                               .direction = o->direction,
                               .type = o->type,
                               .lots = o->lots_requested,
                               .price_nano = o->price_nano,
                               .reserve_price_nano = ev->u.armed.reserve_price_nano,
                               .cash_nano = ev->u.armed.reserved_cash_nano,
                               .units = ev->u.armed.reserved_units,
                               .commission_nano = ev->u.armed.initial_commission_nano};
        return o->awaiting_replaced && reservation_as_made(c, &r);
    }
    default:
        return false;
    }
}

static bool cash_applicable(const core *c, const core_event *ev) {
    const core_event_cash *e = &ev->u.cash;
    ledger_cash cash;
    int64_t balance;
    return e->account < c->refdata->account_count &&
           cash_or_room(c, e->account, e->currency, &cash) &&
           checked_add(cash.balance_nano, e->amount_nano, &balance) &&
           cash_ok(c, e->account, balance, cash.blocked_nano);
}

/* A transfer between two different accounts of the ledger: the money is free on the one side and
 * fits on the other (core_currency_transfer's checks, again). */
static bool transfer_applicable(const core *c, const core_event *ev) {
    const core_event_transfer *t = &ev->u.transfer;
    uint32_t accounts = c->refdata->account_count;
    if (t->from >= accounts || t->to >= accounts || t->from == t->to || t->amount_nano <= 0)
        return false;
    const ledger_cash *from = ledger_cash_find(&c->ledger, t->from, t->currency);
    ledger_cash to;
    int64_t left, after;
    return from != NULL && checked_sub(from->balance_nano, t->amount_nano, &left) &&
           cash_ok(c, t->from, left, from->blocked_nano) &&
           cash_or_room(c, t->to, t->currency, &to) &&
           checked_add(to.balance_nano, t->amount_nano, &after) &&
           cash_ok(c, t->to, after, to.blocked_nano);
}

/* A clearing of a futures instrument at a positive price, no older than the newest applied, whose
 * payments fit every balance. */
static bool clearing_applicable(const core *c, const core_event *ev) {
    const core_event_clearing *e = &ev->u.clearing;
    if (e->clearing_ns < c->margin.last_clearing_ns)
        return false;
    if (e->instrument == UINT32_MAX)
        return e->price_nano == 0 && e->clearing_ns > 0; /* the record of a clearing alone */
    if (e->instrument >= c->refdata->instrument_count || e->price_nano <= 0)
        return false;
    const instrument *ins = &c->refdata->instruments[e->instrument];
    if (ins->kind != INSTRUMENT_KIND_FUTURE)
        return false;
    for (uint32_t a = 0; a < c->accounts.capacity; a++) {
        int64_t units = ledger_position_get(&c->ledger, a, e->instrument)->balance_units;
        const margin_future *f = margin_future_get(c, a, e->instrument);
        if (units == 0 && f->pending_vm_nano == 0)
            continue;
        ledger_cash cash;
        int64_t vm, total, balance;
        if (!core_account_is_margin(c, a) ||
            !margin_points_value(ins, e->price_nano - f->clearing_price_nano, units, &vm) ||
            !checked_add(vm, f->pending_vm_nano, &total) ||
            !cash_or_room(c, a, ins->currency, &cash) ||
            !checked_add(cash.balance_nano, total, &balance))
            return false;
    }
    return true;
}

/* An overnight fee of a margin account: positive, in a currency it can hold. */
static bool margin_fee_applicable(const core *c, const core_event *ev) {
    const core_event_margin_fee *e = &ev->u.margin_fee;
    ledger_cash cash;
    int64_t balance;
    return e->account < c->refdata->account_count && core_account_is_margin(c, e->account) &&
           (e->instrument == UINT32_MAX || e->instrument < c->refdata->instrument_count) &&
           e->amount_nano > 0 && e->clearing_ns >= c->margin.last_clearing_ns &&
           cash_or_room(c, e->account, e->currency, &cash) &&
           checked_sub(cash.balance_nano, e->amount_nano, &balance);
}

/* The finished orders a retirement takes, none of them one a replacement still waits for. */
static bool retired_applicable(const core *c, const core_event *ev) {
    uint32_t count = ev->u.retired.count;
    if (count > CORE_RETIRE_BATCH_MAX || ev->time_ns < INT64_MIN + c->config.order_retention_ns ||
        count > history_expired_count(c, ev->time_ns))
        return false;
    for (uint32_t i = 0; i < count; i++) {
        const core_order *o =
            &c->orders[c->finished[(c->pools.finished_head + i) % c->config.max_orders]];
        if (o->replaced_by != CORE_NO_ORDER && c->orders[o->replaced_by].awaiting_replaced)
            return false;
    }
    return true;
}

/* A print of a known instrument, numbered after every trade before it, in time order with the
 * prints before it (prints of one time in instrument order), into candles that can hold it. */
static bool market_print_applicable(const core *c, const core_event *ev) {
    const core_event_market_print *m = &ev->u.market_print;
    if (m->instrument >= c->refdata->instrument_count || m->trade_id <= c->venue.last_trade_id)
        return false;
    if (c->venue.market_print_ns != 0 && (ev->time_ns < c->venue.market_print_ns ||
                                          (ev->time_ns == c->venue.market_print_ns &&
                                           m->instrument <= c->venue.market_print_instrument)))
        return false;
    return candles_trade_fits(&c->candles, m->instrument, m->price_nano, m->lots);
}

bool core_event_well_formed(const core_event *ev) {
    if (!core_event_type_known(ev->type))
        return false;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        return accepted_well_formed(&ev->u.accepted);
    case CORE_EVENT_ORDER_REJECTED:
        return ev->u.rejected.reason >= 0 && ev->u.rejected.reason < CORE_ERROR_COUNT;
    case CORE_EVENT_ORDER_ACKED:
    case CORE_EVENT_ORDER_TRADE:
    case CORE_EVENT_ORDER_CANCELLED:
    case CORE_EVENT_REPLACEMENT_ARMED:
        return true;
    case CORE_EVENT_CASH_ADJUSTED:
        return ev->order == CORE_NO_ORDER &&
               text_fits(ev->u.cash.currency, sizeof ev->u.cash.currency) &&
               ev->u.cash.currency[0] != '\0';
    case CORE_EVENT_ACCOUNT_OPENED:
        return ev->order == CORE_NO_ORDER &&
               text_fits(ev->u.account_opened.id, sizeof ev->u.account_opened.id) &&
               text_fits(ev->u.account_opened.name, sizeof ev->u.account_opened.name);
    case CORE_EVENT_STOP_ORDER_PLACED:
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        return stop_orders_event_well_formed(ev);
    case CORE_EVENT_CURRENCY_TRANSFER:
        return ev->order == CORE_NO_ORDER &&
               text_fits(ev->u.transfer.currency, sizeof ev->u.transfer.currency) &&
               ev->u.transfer.currency[0] != '\0' &&
               uuid_text(ev->u.transfer.transaction_id, sizeof ev->u.transfer.transaction_id);
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        return favorites_event_well_formed(ev);
    case CORE_EVENT_MARKET_PRINT:
        return ev->order == CORE_NO_ORDER && ev->u.market_print.buy <= 1 &&
               ev->u.market_print.price_nano > 0 && ev->u.market_print.lots >= 0;
    case CORE_EVENT_TRADING_HALT:
        return ev->order == CORE_NO_ORDER && ev->u.halt.halted <= 1;
    case CORE_EVENT_MARGIN_FEE:
        return ev->order == CORE_NO_ORDER &&
               text_fits(ev->u.margin_fee.currency, sizeof ev->u.margin_fee.currency) &&
               ev->u.margin_fee.currency[0] != '\0';
    default:
        /* The other events concern no order (core_apply checks the order an event names). */
        return ev->order == CORE_NO_ORDER;
    }
}

/* ---- What the event changed, for the account streams (core/changes.h) ----------------------- */

void core_mark_cash_changed(core *c, uint32_t account_index, const char *currency) {
    const ledger_cash *cash = ledger_cash_find(&c->ledger, account_index, currency);
    if (cash == NULL)
        return; /* never held: nothing to show */
    const ledger_cash *first = &c->ledger.cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    changes_mark_cash(&c->changes, account_index, (uint32_t)(cash - first));
}

void core_mark_position_changed(core *c, uint32_t account_index, uint32_t instrument_index) {
    changes_mark_position(&c->changes, account_index, instrument_index);
}

/* Marks the holdings the event changed: the same holdings check_touched checks. An order's
 * event (acceptance and cancel move what is blocked, a fill the balances) marks its account's
 * cash in the instrument's currency and its position; a pay-in its cash; a transfer the cash of
 * both accounts; an opened account the account. A stop order holds nothing: the child order it
 * places is an ordinary order whose own events mark what it holds. A new event type must get a
 * case here (the default asserts). */
static void mark_changes(core *c, const core_event *ev) {
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_CASH_ADJUSTED:
        core_mark_cash_changed(c, ev->u.cash.account, ev->u.cash.currency);
        return;
    case CORE_EVENT_CURRENCY_TRANSFER:
        core_mark_cash_changed(c, ev->u.transfer.from, ev->u.transfer.currency);
        core_mark_cash_changed(c, ev->u.transfer.to, ev->u.transfer.currency);
        return;
    case CORE_EVENT_ACCOUNT_OPENED:
        changes_mark_account(&c->changes, ev->u.account_opened.account);
        return;
    case CORE_EVENT_MARGIN_FEE:
        core_mark_cash_changed(c, ev->u.margin_fee.account, ev->u.margin_fee.currency);
        return;
    case CORE_EVENT_FUTURES_CLEARING:
        return; /* apply_clearing marks the cash it paid */
    case CORE_EVENT_ORDER_ACKED:
    case CORE_EVENT_MARKET_MAKER_MOVED:
    case CORE_EVENT_MARKET_PRINT:
    case CORE_EVENT_TRADING_HALT:
    case CORE_EVENT_ACCOUNT_CLOSED:
    case CORE_EVENT_HISTORY_RETIRED:
    case CORE_EVENT_STOP_ORDER_PLACED:
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        return;
    case CORE_EVENT_ORDER_ACCEPTED:
    case CORE_EVENT_ORDER_TRADE:
    case CORE_EVENT_ORDER_CANCELLED:
    case CORE_EVENT_ORDER_REJECTED:
    case CORE_EVENT_REPLACEMENT_ARMED: {
        assert(ev->order != CORE_NO_ORDER);
        const core_order *o = &c->orders[ev->order];
        core_mark_cash_changed(c, o->account, core_instrument_of(c, o)->currency);
        core_mark_position_changed(c, o->account, o->instrument);
        return;
    }
    default:
        assert(!"an event type without its changes");
    }
}

bool core_event_fits(const core *c, const core_event *ev) {
    if (ev->seq != c->next_seq)
        return false;
    const refdata *rd = c->refdata;
    const core_accounts_state *accounts = &c->accounts;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        return accepted_applicable(c, ev);
    case CORE_EVENT_ORDER_ACKED:
    case CORE_EVENT_ORDER_TRADE:
    case CORE_EVENT_ORDER_CANCELLED:
    case CORE_EVENT_ORDER_REJECTED:
    case CORE_EVENT_REPLACEMENT_ARMED:
        return order_event_applicable(c, ev);
    case CORE_EVENT_CASH_ADJUSTED:
        return cash_applicable(c, ev);
    case CORE_EVENT_MARKET_MAKER_MOVED:
        return ev->u.market_maker.instrument < rd->instrument_count;
    case CORE_EVENT_MARKET_PRINT:
        return market_print_applicable(c, ev);
    case CORE_EVENT_TRADING_HALT:
        /* Only a change is ever written (core_set_trading_halt). */
        return ev->u.halt.instrument < rd->instrument_count &&
               c->venue.halted[ev->u.halt.instrument] != ev->u.halt.halted;
    case CORE_EVENT_ACCOUNT_OPENED: {
        /* Opened with another configuration, or more than it allows. */
        uint32_t slot = ev->u.account_opened.account;
        uint32_t fresh = accounts->configured_count + accounts->opened_count;
        bool reusable = slot >= accounts->configured_count && slot < fresh &&
                        accounts->closed[slot] && c->account_orders[slot] == 0 &&
                        c->stops.per_account[slot] == 0;
        return (slot == fresh || reusable) && slot < accounts->capacity &&
               ev->u.account_opened.token < rd->token_count;
    }
    case CORE_EVENT_ACCOUNT_CLOSED:
        return ev->u.account_closed.account < rd->account_count;
    case CORE_EVENT_HISTORY_RETIRED:
        return retired_applicable(c, ev);
    case CORE_EVENT_STOP_ORDER_PLACED:
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        return stop_orders_event_fits(c, ev);
    case CORE_EVENT_CURRENCY_TRANSFER:
        return transfer_applicable(c, ev);
    case CORE_EVENT_FUTURES_CLEARING:
        return clearing_applicable(c, ev);
    case CORE_EVENT_MARGIN_FEE:
        return margin_fee_applicable(c, ev);
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        return favorites_event_fits(c, ev);
    default:
        return false;
    }
}

bool core_event_applicable(const core *c, const core_event *ev) {
    return core_event_well_formed(ev) && core_event_fits(c, ev);
}

void core_apply(core *c, const core_event *ev) {
    assert(ev->seq == c->next_seq);
    c->next_seq++;
    operations_retire(c, ev->time_ns);
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        apply_accepted(c, ev);
        break;
    case CORE_EVENT_ORDER_ACKED:
        apply_acked(c, ev);
        break;
    case CORE_EVENT_ORDER_TRADE:
        apply_trade(c, ev);
        operations_on_fill(c, &c->orders[ev->order], ev);
        break;
    case CORE_EVENT_ORDER_CANCELLED:
        apply_finished(c, ev, ORDER_STATUS_CANCELLED);
        operations_on_order_end(c, &c->orders[ev->order], ev);
        break;
    case CORE_EVENT_ORDER_REJECTED:
        apply_finished(c, ev, ORDER_STATUS_REJECTED);
        operations_on_order_end(c, &c->orders[ev->order], ev);
        break;
    case CORE_EVENT_CASH_ADJUSTED:
        apply_cash(c, ev);
        break;
    case CORE_EVENT_MARKET_MAKER_MOVED:
        apply_market_maker(c, ev);
        break;
    case CORE_EVENT_MARKET_PRINT:
        apply_market_print(c, ev);
        break;
    case CORE_EVENT_TRADING_HALT:
        apply_trading_halt(c, ev);
        break;
    case CORE_EVENT_ACCOUNT_OPENED:
        apply_account_opened(c, ev);
        break;
    case CORE_EVENT_ACCOUNT_CLOSED:
        apply_account_closed(c, ev);
        break;
    case CORE_EVENT_REPLACEMENT_ARMED:
        apply_armed(c, ev);
        break;
    case CORE_EVENT_HISTORY_RETIRED:
        history_retire(c, ev->u.retired.count, ev->time_ns);
        break;
    case CORE_EVENT_STOP_ORDER_PLACED:
    case CORE_EVENT_STOP_ORDER_TRIGGERED:
    case CORE_EVENT_STOP_ORDER_CANCELLED:
    case CORE_EVENT_STOP_ORDER_EXPIRED:
    case CORE_EVENT_STOP_ORDERS_RETIRED:
        stop_orders_apply(c, ev);
        break;
    case CORE_EVENT_CURRENCY_TRANSFER:
        apply_transfer(c, ev);
        break;
    case CORE_EVENT_FUTURES_CLEARING:
        apply_clearing(c, ev);
        break;
    case CORE_EVENT_MARGIN_FEE:
        apply_margin_fee(c, ev);
        break;
    case CORE_EVENT_FAVORITE_GROUP_CREATED:
    case CORE_EVENT_FAVORITE_GROUP_DELETED:
    case CORE_EVENT_FAVORITE_ADDED:
    case CORE_EVENT_FAVORITE_REMOVED:
        favorites_apply(c, ev);
        break;
    default:
        assert(!"unknown event type");
    }
    check_touched(c, ev);
    mark_changes(c, ev);
    if (ev->order != CORE_NO_ORDER && ev->type != CORE_EVENT_HISTORY_RETIRED)
        check_order(&c->orders[ev->order]);
}

/* ---- Whole-state checks (tests, simulator) -------------------------------------------------- */

static void check_reservations(const core *c) {
    const ledger *lg = &c->ledger;
    for (uint32_t a = 0; a < lg->account_count; a++) {
        check_account(c, a);
        ledger_cash cash[REFDATA_MAX_CURRENCIES];
        uint32_t n = core_account_cash(c, a, cash);
        for (uint32_t k = 0; k < n; k++) {
            int64_t held = 0;
            for (uint32_t s = c->account_first[a]; s != CORE_NO_ORDER;
                 s = c->orders[s].account_next)
                if (strcmp(core_instrument_of(c, &c->orders[s])->currency, cash[k].currency) == 0)
                    CHECKED_ADD_ASSERT(held, c->orders[s].reserved_cash_nano);
            for (uint32_t i = 0; i < lg->instrument_count; i++)
                if (strcmp(c->refdata->instruments[i].currency, cash[k].currency) == 0)
                    CHECKED_ADD_ASSERT(held, margin_future_get(c, a, i)->guarantee_nano);
            assert(held == cash[k].blocked_nano);
        }
        for (uint32_t i = 0; i < lg->instrument_count; i++) {
            int64_t held = 0;
            for (uint32_t s = c->account_first[a]; s != CORE_NO_ORDER;
                 s = c->orders[s].account_next)
                if (c->orders[s].instrument == i)
                    CHECKED_ADD_ASSERT(held, c->orders[s].reserved_units);
            assert(held == ledger_position_get(lg, a, i)->blocked_units);
        }
    }
}

static void check_pools(const core *c) {
    const core_pools *p = &c->pools;
    uint32_t in_use = 0, trades = 0, finished = 0;
    uint64_t reserved = 0;
    for (uint32_t s = 0; s < p->order_high; s++) {
        const core_order *o = &c->orders[s];
        if (o->status == 0) {
            assert(c->free_order_pos[s] != 0);
            continue;
        }
        in_use++;
        check_order(o);
        assert(o->index == s);
        assert(c->free_order_pos[s] == 0);
        finished += order_status_is_final(o->status);
        reserved += o->trades_reserved;
        uint32_t chain = 0;
        for (uint32_t t = o->first_trade; t != CORE_NO_ORDER; t = c->trades[t].next) {
            assert(c->trades[t].order == s);
            chain++;
        }
        assert(chain == o->trade_count);
        trades += chain;
        char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
        size_t len = history_key_bytes(o->account, o->key, bytes);
        assert(order_index_find(&c->by_key, bytes, len) == s);
        assert(order_index_find(&c->by_order_id, o->intent_id, strlen(o->intent_id)) == s);
        assert(o->exchange_order_id == 0 || order_index_find(&c->by_order_id, o->exchange_id_text,
                                                             strlen(o->exchange_id_text)) == s);
    }
    assert(in_use == p->orders_in_use);
    assert(in_use + p->free_order_count == p->order_high);
    assert(trades == p->trades_in_use);
    assert(trades + p->free_trade_count == p->trade_high);
    assert(finished == p->finished_count);
    assert(reserved == p->trades_reserved);
    assert(p->trades_in_use + p->trades_reserved <= c->config.max_trades);
    uint32_t listed = 0;
    for (uint32_t a = 0; a < c->accounts.capacity; a++) {
        uint32_t n = 0;
        for (uint32_t s = c->account_first[a]; s != CORE_NO_ORDER; s = c->orders[s].account_next) {
            assert(c->orders[s].account == a);
            n++;
        }
        assert(n == c->account_orders[a]);
        listed += n;
    }
    assert(listed == in_use);
    for (uint32_t a = 0; a < c->accounts.capacity; a++)
        for (uint32_t s = c->active_first[a]; s != CORE_NO_ORDER; s = c->orders[s].active_next) {
            assert(c->orders[s].account == a);
            assert(!order_status_is_final(c->orders[s].status));
            listed--;
        }
    assert(listed == finished);
}

void core_check_invariants(const core *c) {
    check_reservations(c);
    check_pools(c);
    stop_orders_check_invariants(c);
    favorites_check_invariants(c);
    /* What a snapshot load checks holds for every state the live path reaches. */
    assert(core_records_valid(c));
    assert(core_indexes_valid(c));
}

/* ---- Fingerprint ---------------------------------------------------------------------------- */

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

static uint64_t mix_text(uint64_t h, const char *text) {
    for (const char *p = text; *p; p++)
        h = mix(h, (uint64_t)(unsigned char)*p);
    return h;
}

/* Trades by their order's chain, never by record number: which free record a fill took is not
 * part of the state (a replay may pick another one). */
static uint64_t hash_order(const core *c, uint64_t h, const core_order *o) {
    const int64_t fields[] = {o->index,
                              o->account,
                              o->instrument,
                              o->direction,
                              o->type,
                              o->tif,
                              o->status,
                              o->cause,
                              o->reject_reason,
                              o->awaiting_replaced,
                              o->price_nano,
                              o->lots_requested,
                              o->lots_executed,
                              o->lots_cancelled,
                              o->executed_value_nano,
                              o->executed_commission_nano,
                              o->reserved_cash_nano,
                              o->reserved_units,
                              o->trades_reserved,
                              (int64_t)o->exchange_order_id,
                              (int64_t)o->accepted_seq,
                              o->created_ns,
                              o->completion_ns,
                              o->replaces_order,
                              o->replaced_by};
    for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
        h = mix(h, (uint64_t)fields[f]);
    h = mix_text(h, o->key);
    for (uint32_t t = o->first_trade; t != CORE_NO_ORDER; t = c->trades[t].next) {
        const core_trade *trade = &c->trades[t];
        h = mix(
            mix(mix(mix(h, trade->trade_id), (uint64_t)trade->lots), (uint64_t)trade->price_nano),
            trade->aggressor);
    }
    return h;
}

uint64_t core_state_hash(const core *c) {
    uint64_t h = ledger_hash(&c->ledger, c->pools.orders_in_use);
    for (uint32_t s = 0; s < c->pools.order_high; s++)
        if (c->orders[s].status != 0)
            h = hash_order(c, h, &c->orders[s]);
    for (uint32_t i = 0; i < c->pools.finished_count; i++)
        h = mix(h, c->finished[(c->pools.finished_head + i) % c->config.max_orders]);
    for (int i = 0; i < 4; i++)
        h = mix(h, c->venue.random_state[i]);
    h = mix(mix(h, c->venue.last_exchange_order_id), c->venue.last_trade_id);
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        h = mix(h, (uint64_t)c->venue.mm_reference_nano[i]);
    /* Only once the market printed, so the hash stays comparable with data directories
     * written before market prints. */
    if (c->venue.market_print_ns != 0)
        h = mix(mix(h, (uint64_t)c->venue.market_print_ns), c->venue.market_print_instrument);
    /* Only the halted instruments, so the hash stays comparable with data directories written
     * before halts. */
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        if (c->venue.halted[i])
            h = mix(mix(h, 0x48414c54ULL), i);
    for (uint32_t n = 0; n < c->accounts.opened_count; n++) {
        const core_opened_account *opened = &c->accounts.opened[n];
        h = mix_text(mix_text(h, opened->id), opened->name);
        h = mix(mix(h, opened->token), (uint64_t)opened->opened_ns);
    }
    for (uint32_t slot = 0; slot < c->accounts.capacity; slot++)
        h = mix(h, c->accounts.closed[slot]);
    return margin_hash(c, favorites_hash(c, stop_orders_hash(c, h)));
}
