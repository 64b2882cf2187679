/* The core's read side: what GetMaxLots, GetOrderPrice, GetOrders, GetOrderState, positions and
 * the portfolio ask. Every answer is a copy or a computed value: callers never keep pointers into
 * the core's pools. Core thread only. */
#include <assert.h>
#include <string.h>

#include "core/core.h"
#include "core/valuation.h"
#include "util/checked.h"

/* The most lots of `ins` that `money_nano` buys at `price`, commission included. */
static int64_t lots_affordable(const core *c, const instrument *ins, int64_t price,
                               int64_t money_nano) {
    int64_t lot_value;
    if (money_nano <= 0 || !valuation_amount(ins, price, ins->lot, &lot_value) || lot_value <= 0)
        return 0;
    int64_t per_lot;
    if (!checked_add(lot_value, valuation_commission(lot_value, c->config.commission_bp), &per_lot))
        return 0;
    int64_t lots = money_nano / per_lot;
    /* Commission rounds per order, not per lot: step down until the whole order fits. */
    while (lots > 0) {
        int64_t units, value, total;
        if (checked_mul(lots, ins->lot, &units) && valuation_amount(ins, price, units, &value) &&
            checked_add(value, valuation_commission(value, c->config.commission_bp), &total) &&
            total <= money_nano)
            break;
        lots--;
    }
    return lots;
}

/* The account (readable by the token) and instrument a read names. */
static core_error readable_pair(const core *c, const token *tok, const char *account_id,
                                const char *instrument_id, const account **acc,
                                const instrument **ins) {
    core_error err = core_account_for(c, tok, account_id, false, acc);
    if (err != CORE_OK)
        return err;
    if (instrument_id == NULL || instrument_id[0] == '\0')
        return CORE_ERR_INSTRUMENT_MISSING;
    *ins = refdata_find_instrument_id(c->refdata, instrument_id);
    return *ins == NULL ? CORE_ERR_INSTRUMENT_NOT_FOUND : CORE_OK;
}

core_error core_max_lots_for(const core *c, const token *tok, const char *account_id,
                             const char *instrument_id, bool has_price, int64_t price_nano,
                             core_max_lots *out) {
    const account *acc;
    const instrument *ins;
    core_error err = readable_pair(c, tok, account_id, instrument_id, &acc, &ins);
    if (err != CORE_OK)
        return err;
    core_market market;
    core_market_view(c, ins->index, &market);
    int64_t limit_price =
        has_price && price_nano > 0
            ? price_nano
            : (market.best_ask_nano
                   ? market.best_ask_nano
                   : (market.last_price_nano ? market.last_price_nano : ins->reference_price_nano));
    int64_t market_price = market.limit_up_nano > 0 ? market.limit_up_nano : limit_price;
    memset(out, 0, sizeof *out);
    out->currency = ins->currency;
    out->buy_money_nano = ledger_cash_free(&c->ledger, acc->index, ins->currency);
    out->buy_max_lots = lots_affordable(c, ins, limit_price, out->buy_money_nano);
    out->buy_max_market_lots = lots_affordable(c, ins, market_price, out->buy_money_nano);
    int64_t free_units = ledger_units_free(&c->ledger, acc->index, ins->index);
    out->sell_max_lots = free_units > 0 ? free_units / ins->lot : 0;
    if (ins->kind == INSTRUMENT_KIND_FUTURE && !core_account_is_margin(c, acc->index)) {
        /* A cash account trades no futures (30051). */
        out->buy_max_lots = out->buy_max_market_lots = out->sell_max_lots = 0;
    }
    out->buy_margin_money_nano = out->buy_money_nano;
    out->buy_margin_max_lots = out->buy_max_lots;
    out->buy_margin_max_market_lots = out->buy_max_market_lots;
    out->sell_margin_max_lots = out->sell_max_lots;
    if (core_account_is_margin(c, acc->index)) {
        /* What the margin allows: the most lots whose corrected margin the liquid portfolio
         * covers, searched up to what the order value limit lets one order be. */
        margin_figures f;
        int64_t rate_nano;
        /* The margin's room, in the instrument's currency (the figures are in roubles). */
        if (core_margin_figures(c, acc->index, NULL, &f) &&
            core_margin_in_roubles(c->refdata, ins->currency, 1000000000, &rate_nano) &&
            rate_nano > 0)
            out->buy_margin_money_nano =
                (int64_t)((__int128)(f.liquid_portfolio_nano - f.corrected_margin_nano) *
                          1000000000 / rate_nano);
        int64_t lot_value, cap = 1000000000;
        if (valuation_amount(ins, limit_price, ins->lot, &lot_value) && lot_value > 0) {
            int64_t limit = core_order_value_limit(c, ins->currency);
            cap = (limit < CORE_MAX_MONEY_NANO ? limit : CORE_MAX_MONEY_NANO) / lot_value;
        }
        out->buy_margin_max_lots = core_margin_max_lots(c, acc, ins, true, limit_price, cap);
        out->buy_margin_max_market_lots =
            core_margin_max_lots(c, acc, ins, true, market_price, cap);
        out->sell_margin_max_lots = core_margin_max_lots(c, acc, ins, false, limit_price, cap);
        if (ins->kind == INSTRUMENT_KIND_FUTURE) {
            /* Futures are bought only on margin: the plain view is the margin one. */
            out->buy_money_nano = out->buy_margin_money_nano;
            out->buy_max_lots = out->buy_max_market_lots = out->buy_margin_max_lots;
            out->sell_max_lots = out->sell_margin_max_lots;
        }
    }
    return CORE_OK;
}

core_error core_order_price_for(const core *c, const token *tok, const char *account_id,
                                const char *instrument_id, int32_t direction, int64_t quantity,
                                bool has_price, int64_t price_nano, core_order_price *out) {
    const account *acc;
    const instrument *ins;
    core_error err = readable_pair(c, tok, account_id, instrument_id, &acc, &ins);
    if (err != CORE_OK)
        return err;
    if (quantity <= 0)
        return quantity == 0 ? CORE_ERR_QUANTITY_ZERO : CORE_ERR_QUANTITY_NEGATIVE;
    if (direction != DIRECTION_BUY && direction != DIRECTION_SELL)
        return direction == 0 ? CORE_ERR_DIRECTION_MISSING : CORE_ERR_DIRECTION_INVALID;
    core_market market;
    core_market_view(c, ins->index, &market);
    int64_t price =
        has_price && price_nano > 0
            ? price_nano
            : (market.last_price_nano ? market.last_price_nano : ins->reference_price_nano);
    if (price % ins->min_price_increment_nano != 0)
        return CORE_ERR_PRICE_STEP;
    int64_t units, value;
    if (!checked_mul(quantity, ins->lot, &units) || !valuation_amount(ins, price, units, &value) ||
        value > CORE_MAX_MONEY_NANO)
        return CORE_ERR_AMOUNT_TOO_LARGE;
    int64_t margin = 0;
    if (ins->kind == INSTRUMENT_KIND_FUTURE &&
        (!margin_guarantee(ins, direction == DIRECTION_BUY ? units : -units, &margin) ||
         margin < 0 || margin > CORE_MAX_MONEY_NANO))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    out->initial_margin_nano = margin;
    out->instrument = ins;
    out->lots = quantity;
    out->initial_nano = value;
    out->commission_nano = valuation_commission(value, c->config.commission_bp);
    /* value <= CORE_MAX_MONEY_NANO and commission <= value: neither sum can overflow. */
    out->total_nano =
        direction == DIRECTION_BUY ? value + out->commission_nano : value - out->commission_nano;
    return CORE_OK;
}

uint32_t core_list_orders(const core *c, uint32_t account_index, bool active_only,
                          core_order_filter keep, const void *ctx, core_order *out, uint32_t max) {
    if (max > CORE_LIST_ORDERS_MAX)
        max = CORE_LIST_ORDERS_MAX;
    uint32_t n = 0;
    uint32_t s = active_only ? c->active_last[account_index] : c->account_last[account_index];
    while (s != CORE_NO_ORDER && n < max) {
        const core_order *o = &c->orders[s];
        if (keep(o, ctx)) {
            if (out != NULL)
                out[n] = *o;
            n++;
        }
        s = active_only ? o->active_prev : o->account_prev;
    }
    return n;
}

uint32_t core_order_trades(const core *c, const core_order *order, core_trade *out, uint32_t max) {
    if (order->index >= c->config.max_orders)
        return 0;
    const core_order *live = &c->orders[order->index];
    /* The copy must still name the order the slot holds. */
    if (live->status == 0 || live->accepted_seq != order->accepted_seq)
        return 0;
    uint32_t n = 0;
    for (uint32_t t = live->first_trade; t != CORE_NO_ORDER && n < max; t = c->trades[t].next)
        out[n++] = c->trades[t];
    return n;
}

int64_t core_order_average_price_nano(const core_order *order) {
    if (order->lots_executed == 0)
        return 0;
    return (int64_t)(order->executed_price_lots_nano / order->lots_executed);
}

uint32_t core_account_cash(const core *c, uint32_t account_index,
                           ledger_cash out[REFDATA_MAX_CURRENCIES]) {
    assert(account_index < c->ledger.account_count);
    const ledger_cash *slots = &c->ledger.cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    uint32_t n = 0;
    while (n < REFDATA_MAX_CURRENCIES && slots[n].currency[0] != '\0') {
        out[n] = slots[n];
        n++;
    }
    return n;
}

ledger_position core_account_position(const core *c, uint32_t account_index,
                                      uint32_t instrument_index) {
    return *ledger_position_get(&c->ledger, account_index, instrument_index);
}

const candle_store *core_candles(const core *c) {
    return &c->candles;
}

const uint32_t *core_changed_accounts(const core *c, uint32_t *count) {
    *count = c->changes.account_count;
    return c->changes.accounts;
}

uint32_t core_changed_cash(const core *c, uint32_t account_index) {
    return changes_cash_mask(&c->changes, account_index);
}

bool core_changed_position(const core *c, uint32_t account_index, uint32_t instrument_index) {
    return changes_position_marked(&c->changes, account_index, instrument_index);
}

void core_changes_clear(core *c) {
    changes_clear(&c->changes);
}

uint32_t core_take_candle_changes(core *c, candles_change *out, uint32_t max) {
    return candles_take_changes(&c->candles, out, max);
}
