/* core_apply: the one place broker state changes, for live events and replayed ones alike. */
#include <assert.h>
#include <stdio.h>
#include <string.h>

#include "core/core.h"

static ledger_cash *cash_of(core *c, const core_order *o) {
    ledger_cash *cash =
        ledger_cash_slot(&c->ledger, o->account, core_instrument_of(c, o)->currency);
    assert(cash != NULL);
    return cash;
}

static void index_key(core *c, const core_order *o) {
    char bytes[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len = strlen(o->key);
    memcpy(bytes, &o->account, sizeof o->account);
    memcpy(bytes + sizeof o->account, o->key, len);
    bool ok = order_index_insert(&c->by_key, bytes, sizeof o->account + len, o->index);
    assert(ok);
    (void)ok;
}

static void apply_accepted(core *c, const core_event *ev) {
    const core_event_accepted *a = &ev->u.accepted;
    assert(ev->order == c->order_count && ev->order < c->config.max_orders);
    core_order *o = &c->orders[c->order_count++];
    memset(o, 0, sizeof *o);
    o->index = ev->order;
    o->account = a->account;
    o->instrument = a->instrument;
    o->direction = (order_direction)a->direction;
    o->type = (order_type)a->type;
    o->tif = (order_tif)a->tif;
    o->source = (order_source)a->source;
    o->status = ORDER_STATUS_NEW;
    o->key_is_uuid = a->key_is_uuid != 0;
    o->price_nano = a->price_nano;
    o->reserve_price_nano = a->reserve_price_nano;
    o->lots_requested = a->lots;
    o->initial_commission_nano = a->initial_commission_nano;
    o->reserved_cash_nano = a->reserved_cash_nano;
    o->reserved_units = a->reserved_units;
    o->created_ns = ev->time_ns;
    o->first_trade = o->last_trade = CORE_NO_ORDER;
    o->replaces_order = a->replaces_order;
    memcpy(o->key, a->key, sizeof o->key);
    memcpy(o->request_id, a->request_id, sizeof o->request_id);
    memcpy(o->intent_id, a->intent_id, sizeof o->intent_id);
    if (o->reserved_cash_nano > 0)
        cash_of(c, o)->blocked_nano += o->reserved_cash_nano;
    if (o->reserved_units > 0)
        ledger_position_of(&c->ledger, o->account, o->instrument)->blocked_units +=
            o->reserved_units;
    index_key(c, o);
    bool ok = order_index_insert(&c->by_order_id, o->intent_id, strlen(o->intent_id), o->index);
    assert(ok);
    (void)ok;
}

/* Gives back whatever the order still holds: on cancel, reject and the last fill. */
static void release_reservation(core *c, core_order *o) {
    if (o->reserved_cash_nano > 0)
        cash_of(c, o)->blocked_nano -= o->reserved_cash_nano;
    if (o->reserved_units > 0)
        ledger_position_of(&c->ledger, o->account, o->instrument)->blocked_units -=
            o->reserved_units;
    o->reserved_cash_nano = 0;
    o->reserved_units = 0;
}

static void apply_acked(core *c, const core_event *ev) {
    core_order *o = &c->orders[ev->order];
    o->exchange_order_id = ev->u.acked.exchange_order_id;
    o->acked_ns = ev->time_ns;
    snprintf(o->exchange_id_text, sizeof o->exchange_id_text, "%llu",
             (unsigned long long)o->exchange_order_id);
    bool ok = order_index_insert(&c->by_order_id, o->exchange_id_text, strlen(o->exchange_id_text),
                                 o->index);
    assert(ok);
    (void)ok;
}

static void record_trade(core *c, core_order *o, const core_event *ev) {
    assert(c->trade_count < c->config.max_trades);
    uint32_t index = c->trade_count++;
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
}

static void settle_buy(core *c, core_order *o, const core_event_trade *t, int64_t units) {
    int64_t lots_open = o->lots_requested - o->lots_executed;
    /* Release the reservation in proportion to the lots filled; the last fill releases the
     * remainder, so rounding never leaves cash blocked. */
    int64_t release = t->lots == lots_open
                          ? o->reserved_cash_nano
                          : (int64_t)((__int128)o->reserved_cash_nano * t->lots / lots_open);
    ledger_cash *cash = cash_of(c, o);
    cash->blocked_nano -= release;
    o->reserved_cash_nano -= release;
    cash->balance_nano -= t->value_nano + t->commission_nano;
    ledger_position_buy(ledger_position_of(&c->ledger, o->account, o->instrument), units,
                        t->value_nano);
}

static void settle_sell(core *c, core_order *o, const core_event_trade *t, int64_t units) {
    ledger_position *pos = ledger_position_of(&c->ledger, o->account, o->instrument);
    pos->blocked_units -= units;
    o->reserved_units -= units;
    ledger_position_sell(pos, units);
    cash_of(c, o)->balance_nano += t->value_nano - t->commission_nano;
}

static void apply_trade(core *c, const core_event *ev) {
    core_order *o = &c->orders[ev->order];
    const core_event_trade *t = &ev->u.trade;
    int64_t units = t->lots * core_instrument_of(c, o)->lot;
    assert(t->lots > 0 && o->lots_executed + t->lots <= o->lots_requested);
    if (o->direction == DIRECTION_BUY)
        settle_buy(c, o, t, units);
    else
        settle_sell(c, o, t, units);
    record_trade(c, o, ev);
    o->lots_executed += t->lots;
    o->executed_value_nano += t->value_nano;
    o->executed_commission_nano += t->commission_nano;
    if (o->lots_executed == o->lots_requested) {
        o->status = ORDER_STATUS_FILL;
        o->completion_ns = ev->time_ns;
        release_reservation(c, o);
    } else {
        o->status = ORDER_STATUS_PARTIALLYFILL;
    }
}

static void apply_finished(core *c, const core_event *ev, order_status status) {
    core_order *o = &c->orders[ev->order];
    if (status == ORDER_STATUS_CANCELLED) {
        o->lots_cancelled += ev->u.cancelled.lots;
        o->cause = (order_cause)ev->u.cancelled.cause;
    } else {
        o->cause = (order_cause)ev->u.rejected.cause;
        o->reject_code = ev->u.rejected.code;
    }
    o->status = status;
    o->completion_ns = ev->time_ns;
    release_reservation(c, o);
}

static void apply_market_maker(core *c, const core_event *ev) {
    const core_event_market_maker *m = &ev->u.market_maker;
    assert(m->instrument < c->refdata->instrument_count);
    c->venue.mm_reference_nano[m->instrument] = m->reference_nano;
    memcpy(c->venue.random_state, m->random_state, sizeof c->venue.random_state);
}

/* Fills the refdata slot of opened account `n` and publishes it (see refdata.h DESIGN). */
static void publish_opened(core *c, uint32_t n) {
    refdata *rd = c->refdata;
    const core_opened_account *opened = &c->accounts.opened[n];
    uint32_t slot = c->accounts.configured_count + n;
    assert(slot == rd->account_count);
    rd->accounts[slot] = (account){.index = slot,
                                   .id = opened->id,
                                   .name = opened->name,
                                   .type = 1, /* ACCOUNT_TYPE_TINKOFF, as the sandbox opens */
                                   .status = ACCOUNT_STATUS_OPEN,
                                   .opened_date_s = opened->opened_ns / 1000000000,
                                   .sandbox = true};
    for (uint32_t t = 0; t < rd->token_count; t++)
        rd->tokens[t].access[slot] = t == opened->token ? ACCESS_FULL : ACCESS_NONE;
    refdata_publish_account(rd);
}

static void apply_account_opened(core *c, const core_event *ev) {
    const core_event_account_opened *e = &ev->u.account_opened;
    core_accounts_state *a = &c->accounts;
    assert(e->account == a->configured_count + a->opened_count && e->account < a->capacity);
    core_opened_account *opened = &a->opened[a->opened_count];
    memcpy(opened->id, e->id, sizeof opened->id);
    memcpy(opened->name, e->name, sizeof opened->name);
    opened->token = e->token;
    opened->opened_ns = ev->time_ns;
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
    cash->balance_nano += ev->u.cash.amount_nano;
}

void core_apply(core *c, const core_event *ev) {
    assert(ev->seq == c->next_seq);
    c->next_seq++;
    switch ((core_event_type)ev->type) {
    case CORE_EVENT_ORDER_ACCEPTED:
        apply_accepted(c, ev);
        break;
    case CORE_EVENT_ORDER_ACKED:
        apply_acked(c, ev);
        break;
    case CORE_EVENT_ORDER_TRADE:
        apply_trade(c, ev);
        break;
    case CORE_EVENT_ORDER_CANCELLED:
        apply_finished(c, ev, ORDER_STATUS_CANCELLED);
        break;
    case CORE_EVENT_ORDER_REJECTED:
        apply_finished(c, ev, ORDER_STATUS_REJECTED);
        break;
    case CORE_EVENT_CASH_ADJUSTED:
        apply_cash(c, ev);
        break;
    case CORE_EVENT_MARKET_MAKER_MOVED:
        apply_market_maker(c, ev);
        break;
    case CORE_EVENT_ACCOUNT_OPENED:
        apply_account_opened(c, ev);
        break;
    case CORE_EVENT_ACCOUNT_CLOSED:
        apply_account_closed(c, ev);
        break;
    default:
        assert(!"unknown event type");
    }
}

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

uint64_t core_state_hash(const core *c) {
    uint64_t h = ledger_hash(&c->ledger, c->order_count);
    for (uint32_t i = 0; i < c->order_count; i++) {
        const core_order *o = &c->orders[i];
        const int64_t fields[] = {o->account,
                                  o->instrument,
                                  o->direction,
                                  o->type,
                                  o->tif,
                                  o->status,
                                  o->cause,
                                  o->price_nano,
                                  o->lots_requested,
                                  o->lots_executed,
                                  o->lots_cancelled,
                                  o->executed_value_nano,
                                  o->executed_commission_nano,
                                  o->reserved_cash_nano,
                                  o->reserved_units,
                                  (int64_t)o->exchange_order_id,
                                  o->created_ns,
                                  o->completion_ns};
        for (size_t f = 0; f < sizeof fields / sizeof fields[0]; f++)
            h = mix(h, (uint64_t)fields[f]);
        h = mix_text(h, o->key);
    }
    for (uint32_t i = 0; i < c->trade_count; i++)
        h = mix(mix(mix(h, c->trades[i].trade_id), (uint64_t)c->trades[i].lots),
                c->trades[i].aggressor);
    for (int i = 0; i < 4; i++)
        h = mix(h, c->venue.random_state[i]);
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++)
        h = mix(h, (uint64_t)c->venue.mm_reference_nano[i]);
    for (uint32_t n = 0; n < c->accounts.opened_count; n++) {
        const core_opened_account *opened = &c->accounts.opened[n];
        h = mix_text(mix_text(h, opened->id), opened->name);
        h = mix(mix(h, opened->token), (uint64_t)opened->opened_ns);
    }
    for (uint32_t slot = 0; slot < c->accounts.capacity; slot++)
        h = mix(h, c->accounts.closed[slot]);
    return h;
}
