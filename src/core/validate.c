/* Whether a whole state read from outside (a snapshot) is one the core can work with.
 *
 * DESIGN: a snapshot whose checksum holds was written by us, so its records should be
 * consistent; but a snapshot is trusted with everything (slots, links, amounts), so a bug in the
 * writer, or damage the checksum happens to miss, must not become an out-of-bounds read or an
 * assertion later. These checks are core_check_invariants() without asserting, bounded for any
 * content: every index is checked before it is followed and every walk stops after as many
 * steps as there are records. They are O(state) and allocate their scratch memory, so they run
 * once per snapshot load. core_check_invariants() asserts them too, so the live path proves
 * they accept every state it reaches. */
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "core/history.h"
#include "util/checked.h"

static bool text_fits(const char *text, size_t size) {
    return memchr(text, '\0', size) != NULL;
}

/* A bool read from a file is a byte that may hold anything: only 0 and 1 may be read as bool. */
static bool bool_byte(const bool *flag) {
    uint8_t byte;
    memcpy(&byte, flag, 1);
    return byte <= 1;
}

static bool holding_ok(int64_t balance, int64_t blocked) {
    return balance >= 0 && blocked >= 0 && blocked <= balance;
}

/* Whether `text` is `number` in decimal, as apply.c writes it ("" for none). Written by hand:
 * this runs for every order a snapshot holds. */
static bool number_text(uint64_t number, const char *text) {
    char digits[24];
    size_t n = sizeof digits;
    digits[--n] = '\0';
    for (uint64_t v = number; v != 0; v /= 10)
        digits[--n] = (char)('0' + v % 10);
    return strcmp(digits + n, text) == 0;
}

static bool used_slot(const core *c, uint32_t slot) {
    return slot < c->pools.order_high && c->orders[slot].status != 0;
}

/* One order on its own: its values, its texts and the slots it names. */
static bool order_valid(const core *c, uint32_t slot) {
    const core_order *o = &c->orders[slot];
    int64_t ended;
    if (!bool_byte(&o->key_is_uuid) || !bool_byte(&o->awaiting_replaced))
        return false;
    bool final = order_status_is_final(o->status);
    if (o->index != slot || o->status > ORDER_STATUS_PARTIALLYFILL ||
        o->account >= c->accounts.configured_count + c->accounts.opened_count ||
        o->instrument >= c->refdata->instrument_count ||
        (o->direction != DIRECTION_BUY && o->direction != DIRECTION_SELL) ||
        o->type < ORDER_TYPE_LIMIT || o->type > ORDER_TYPE_BESTPRICE || o->tif < TIF_DAY ||
        o->tif > TIF_FILL_OR_KILL || o->lots_requested <= 0 || o->lots_executed < 0 ||
        o->lots_cancelled < 0 || !checked_add(o->lots_executed, o->lots_cancelled, &ended) ||
        ended > o->lots_requested || o->reserved_cash_nano < 0 || o->reserved_units < 0 ||
        /* A buy holds cash, a sell securities; a futures order of either side its guarantee. */
        (c->refdata->instruments[o->instrument].kind == INSTRUMENT_KIND_FUTURE ? o->reserved_units
         : o->direction == DIRECTION_BUY                                       ? o->reserved_units
                                         : o->reserved_cash_nano) != 0 ||
        o->executed_value_nano < 0 || o->executed_commission_nano < 0)
        return false;
    if (final && (o->reserved_cash_nano != 0 || o->reserved_units != 0 || o->trades_reserved != 0 ||
                  o->awaiting_replaced))
        return false;
    if (!text_fits(o->key, sizeof o->key) || !text_fits(o->request_id, sizeof o->request_id) ||
        !text_fits(o->intent_id, sizeof o->intent_id) ||
        !text_fits(o->exchange_id_text, sizeof o->exchange_id_text))
        return false;
    /* The exchange number as text is what finds the order; no number is given out twice. */
    if (!number_text(o->exchange_order_id, o->exchange_id_text) ||
        o->exchange_order_id > c->venue.last_exchange_order_id)
        return false;
    /* A replacement and the order it replaces name each other. */
    if (o->replaces_order != CORE_NO_ORDER &&
        (!used_slot(c, o->replaces_order) || o->replaces_order == slot))
        return false;
    if (o->replaced_by != CORE_NO_ORDER &&
        (!used_slot(c, o->replaced_by) || c->orders[o->replaced_by].replaces_order != slot))
        return false;
    return !o->awaiting_replaced || (o->replaces_order != CORE_NO_ORDER &&
                                     c->orders[o->replaces_order].replaced_by == slot &&
                                     o->reserved_cash_nano == 0 && o->reserved_units == 0);
}

/* The order's fills: a chain of trade records in use, each naming the order, as long as its
 * trade count. `seen` marks the records taken, so no record is in two chains. */
static bool trades_valid(const core *c, const core_order *o, uint8_t *seen, uint32_t *total) {
    uint32_t count = 0, last = CORE_NO_ORDER;
    for (uint32_t t = o->first_trade; t != CORE_NO_ORDER; t = c->trades[t].next) {
        if (t >= c->pools.trade_high || seen[t] || !history_trade_in_use(&c->trades[t]) ||
            !bool_byte(&c->trades[t].aggressor) || c->trades[t].order != o->index ||
            c->trades[t].trade_id > c->venue.last_trade_id || c->trades[t].lots <= 0 ||
            ++count > o->trade_count)
            return false;
        seen[t] = 1;
        last = t;
    }
    *total += count;
    return count == o->trade_count && last == o->last_trade;
}

/* A list threaded through the orders (an account's orders, or its active ones): each link
 * followed is a slot in use of the account, linked back; returns how many it holds, or
 * UINT32_MAX when the list is broken. */
static uint32_t list_length(const core *c, uint32_t account_index, uint32_t first, uint32_t last,
                            bool active) {
    uint32_t n = 0, prev = CORE_NO_ORDER;
    for (uint32_t s = first; s != CORE_NO_ORDER;) {
        if (!used_slot(c, s) || n++ >= c->pools.order_high)
            return UINT32_MAX;
        const core_order *o = &c->orders[s];
        uint32_t back = active ? o->active_prev : o->account_prev;
        if (o->account != account_index || back != prev ||
            (active && order_status_is_final(o->status)))
            return UINT32_MAX;
        prev = s;
        s = active ? o->active_next : o->account_next;
    }
    return prev == last ? n : UINT32_MAX;
}

static bool lists_valid(const core *c, uint32_t in_use, uint32_t finished) {
    uint32_t listed = 0, active = 0;
    for (uint32_t a = 0; a < c->accounts.capacity; a++) {
        uint32_t n = list_length(c, a, c->account_first[a], c->account_last[a], false);
        uint32_t m = list_length(c, a, c->active_first[a], c->active_last[a], true);
        if (n == UINT32_MAX || m == UINT32_MAX || n != c->account_orders[a])
            return false;
        listed += n;
        active += m;
    }
    return listed == in_use && active == in_use - finished;
}

/* The FIFO of finished orders: each finished order once. */
static bool finished_valid(const core *c, uint32_t finished, uint8_t *seen) {
    const core_pools *p = &c->pools;
    if (p->finished_count != finished || p->finished_head >= c->config.max_orders)
        return false;
    for (uint32_t i = 0; i < p->finished_count; i++) {
        uint32_t s = c->finished[(p->finished_head + i) % c->config.max_orders];
        if (!used_slot(c, s) || !order_status_is_final(c->orders[s].status) || seen[s])
            return false;
        seen[s] = 1;
    }
    return true;
}

/* Every account's cash and positions: within the ledger invariants, and blocked exactly as much
 * as its orders hold (`cash_held` and `units_held` are the sums over the orders). */
static bool ledger_valid(const core *c, const int64_t *cash_held, const int64_t *units_held) {
    const ledger *lg = &c->ledger;
    for (uint32_t a = 0; a < lg->account_count; a++) {
        bool margin = core_account_is_margin(c, a);
        bool empty = false;
        for (uint32_t k = 0; k < REFDATA_MAX_CURRENCIES; k++) {
            const ledger_cash *cash = &lg->cash[(size_t)a * REFDATA_MAX_CURRENCIES + k];
            size_t at = (size_t)a * REFDATA_MAX_CURRENCIES + k;
            empty = empty || cash->currency[0] == '\0';
            /* The slots in use come first: a search stops at the first empty one. */
            if (empty ? cash->currency[0] != '\0' || cash->balance_nano != 0 ||
                            cash->blocked_nano != 0
                      : !text_fits(cash->currency, sizeof cash->currency) ||
                            !(margin ? cash->blocked_nano >= 0
                                     : holding_ok(cash->balance_nano, cash->blocked_nano)) ||
                            cash->blocked_nano != cash_held[at])
                return false;
        }
        for (uint32_t i = 0; i < lg->instrument_count; i++) {
            const ledger_position *pos = ledger_position_get(lg, a, i);
            if (!(margin
                      ? pos->blocked_units >= 0 &&
                            pos->blocked_units <= (pos->balance_units > 0 ? pos->balance_units : 0)
                      : holding_ok(pos->balance_units, pos->blocked_units)) ||
                pos->blocked_units != units_held[(size_t)a * lg->instrument_count + i])
                return false;
        }
    }
    return true;
}

/* Adds what the order holds to the sums of its account; false when a sum would overflow or the
 * order holds cash of a currency the account does not have. */
static bool count_holdings(const core *c, const core_order *o, int64_t *cash_held,
                           int64_t *units_held) {
    const ledger *lg = &c->ledger;
    if (o->reserved_cash_nano > 0) {
        const ledger_cash *cash =
            ledger_cash_find(lg, o->account, core_instrument_of(c, o)->currency);
        if (cash == NULL)
            return false;
        size_t at = (size_t)(cash - lg->cash);
        if (!checked_add(cash_held[at], o->reserved_cash_nano, &cash_held[at]))
            return false;
    }
    size_t at = (size_t)o->account * lg->instrument_count + o->instrument;
    return checked_add(units_held[at], o->reserved_units, &units_held[at]);
}

static bool accounts_valid(const core *c) {
    const core_accounts_state *a = &c->accounts;
    if (a->configured_count + a->opened_count > a->capacity ||
        a->capacity > c->ledger.account_count)
        return false;
    for (uint32_t n = 0; n < a->opened_count; n++) {
        const core_opened_account *opened = &a->opened[n];
        if (!text_fits(opened->id, sizeof opened->id) ||
            !text_fits(opened->name, sizeof opened->name) ||
            opened->token >= c->refdata->token_count)
            return false;
    }
    return true;
}

typedef struct scratch {
    uint8_t *trade_seen, *finished_seen;
    int64_t *cash_held, *units_held;
} scratch;

/* Each futures position's guarantee is what its units take, blocked in its currency's cash (added
 * to `cash_held`); only margin accounts hold futures, and nothing else has futures state. */
static bool futures_valid(const core *c, int64_t *cash_held) {
    const ledger *lg = &c->ledger;
    for (uint32_t a = 0; a < lg->account_count; a++)
        for (uint32_t i = 0; i < lg->instrument_count; i++) {
            const margin_future *f = margin_future_get(c, a, i);
            const instrument *ins = &c->refdata->instruments[i];
            int64_t units = ledger_position_get(lg, a, i)->balance_units, guarantee;
            if (ins->kind != INSTRUMENT_KIND_FUTURE) {
                if (f->guarantee_nano != 0 || f->clearing_price_nano != 0 ||
                    f->pending_vm_nano != 0)
                    return false;
                continue;
            }
            if (!margin_guarantee(ins, units, &guarantee) || guarantee != f->guarantee_nano ||
                f->clearing_price_nano < 0 ||
                ((units != 0 || f->pending_vm_nano != 0) && !core_account_is_margin(c, a)))
                return false;
            if (guarantee == 0)
                continue;
            const ledger_cash *cash = ledger_cash_find(lg, a, ins->currency);
            if (cash == NULL)
                return false;
            size_t at = (size_t)(cash - lg->cash);
            if (!checked_add(cash_held[at], guarantee, &cash_held[at]))
                return false;
        }
    return c->margin.last_clearing_ns >= 0;
}

static bool records_valid(const core *c, const scratch *s) {
    const core_pools *p = &c->pools;
    uint32_t in_use = 0, finished = 0, trades = 0;
    uint64_t reserved = 0;
    for (uint32_t slot = 0; slot < p->order_high; slot++) {
        const core_order *o = &c->orders[slot];
        if (o->status == 0)
            continue;
        if (!order_valid(c, slot) || !trades_valid(c, o, s->trade_seen, &trades) ||
            !count_holdings(c, o, s->cash_held, s->units_held))
            return false;
        in_use++;
        finished += order_status_is_final(o->status);
        reserved += o->trades_reserved;
    }
    return in_use == p->orders_in_use && trades == p->trades_in_use &&
           reserved == p->trades_reserved &&
           (uint64_t)p->trades_in_use + p->trades_reserved <= c->config.max_trades &&
           accounts_valid(c) && lists_valid(c, in_use, finished) &&
           finished_valid(c, finished, s->finished_seen) && futures_valid(c, s->cash_held) &&
           ledger_valid(c, s->cash_held, s->units_held);
}

bool core_records_valid(const core *c) {
    const ledger *lg = &c->ledger;
    size_t positions = (size_t)lg->account_count * lg->instrument_count;
    scratch s = {
        .trade_seen = calloc(c->pools.trade_high ? c->pools.trade_high : 1, 1),
        .finished_seen = calloc(c->pools.order_high ? c->pools.order_high : 1, 1),
        .cash_held =
            calloc((size_t)lg->account_count * REFDATA_MAX_CURRENCIES + 1, sizeof *s.cash_held),
        .units_held = calloc(positions ? positions : 1, sizeof *s.units_held),
    };
    bool valid = s.trade_seen != NULL && s.finished_seen != NULL && s.cash_held != NULL &&
                 s.units_held != NULL && records_valid(c, &s);
    free(s.trade_seen);
    free(s.finished_seen);
    free(s.cash_held);
    free(s.units_held);
    return valid;
}

/* Whether the by_key entries of orders `a` and `b` name the same key. */
static bool same_key(const void *owner, uint32_t a, uint32_t b) {
    const core *c = owner;
    char key_a[sizeof(uint32_t) + ORDER_KEY_MAX_LEN], key_b[sizeof(uint32_t) + ORDER_KEY_MAX_LEN];
    size_t len_a = history_key_bytes(c->orders[a].account, c->orders[a].key, key_a);
    size_t len_b = history_key_bytes(c->orders[b].account, c->orders[b].key, key_b);
    return len_a == len_b && memcmp(key_a, key_b, len_a) == 0;
}

/* Whether two by_order_id entries may name the same text: each is an order's id or its exchange
 * number, so any text the two orders share (or one order's id that reads as its own number). */
static bool same_id(const void *owner, uint32_t a, uint32_t b) {
    const core_order *x = &((const core *)owner)->orders[a];
    const core_order *y = &((const core *)owner)->orders[b];
    if (a == b)
        return x->exchange_order_id != 0 && strcmp(x->intent_id, x->exchange_id_text) == 0;
    return strcmp(x->intent_id, y->intent_id) == 0 ||
           (y->exchange_order_id != 0 && strcmp(x->intent_id, y->exchange_id_text) == 0) ||
           (x->exchange_order_id != 0 && strcmp(x->exchange_id_text, y->intent_id) == 0) ||
           (x->exchange_order_id != 0 && y->exchange_order_id != 0 &&
            strcmp(x->exchange_id_text, y->exchange_id_text) == 0);
}

/* Every order is in both indexes (the bulk build inserts each) and no key or id twice, so each
 * is found by its key and ids. */
bool core_indexes_valid(const core *c) {
    return order_index_distinct(&c->by_key, same_key) &&
           order_index_distinct(&c->by_order_id, same_id);
}
