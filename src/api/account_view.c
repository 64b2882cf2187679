/* Holdings of one account as the operations methods and streams show them (account_view.h). */
#include "api/account_view.h"

#include <string.h>

#include "api/pb.h"
#include "core/valuation.h"
#include "util/money.h"

/* The futures position's variation margin since the last clearing, at the price a clearing now
 * would settle at (core_margin_mark_price). */
static int64_t futures_var_margin(const core *c, uint32_t account_index,
                                  uint32_t instrument_index) {
    const instrument *ins = &c->refdata->instruments[instrument_index];
    if (ins->kind != INSTRUMENT_KIND_FUTURE)
        return 0;
    const margin_future *f = margin_future_get(c, account_index, instrument_index);
    int64_t units = core_account_position(c, account_index, instrument_index).balance_units;
    int64_t price = core_margin_mark_price(c, ins), vm = 0; /* as the clearing will */
    if (units != 0 && !margin_points_value(ins, price - f->clearing_price_nano, units, &vm))
        return 0;
    __int128 total = (__int128)vm + f->pending_vm_nano;
    return total > INT64_MAX || total < -INT64_MAX ? 0 : (int64_t)total;
}

void api_account_view_read(const core *c, const account *acc, api_account_view *view) {
    view->account = acc;
    view->cash_count = core_account_cash(c, acc->index, view->cash);
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++) {
        view->positions[i] = core_account_position(c, acc->index, i);
        if (view->markets != NULL)
            core_market_view(c, i, &view->markets[i]);
        if (view->var_margin != NULL)
            view->var_margin[i] = futures_var_margin(c, acc->index, i);
    }
}

static const ledger_cash *cash_in(const api_account_view *view, const char *currency) {
    for (uint32_t i = 0; i < view->cash_count; i++)
        if (strcmp(view->cash[i].currency, currency) == 0)
            return &view->cash[i];
    return NULL;
}

void api_account_cash(api_call *call, const api_account_view *view, PB(MoneyValue) * **money,
                      size_t *n_money, PB(MoneyValue) * **blocked, size_t *n_blocked) {
    *money = (PB(MoneyValue) **)pb_array(call, view->cash_count);
    *blocked = (PB(MoneyValue) **)pb_array(call, view->cash_count);
    for (uint32_t i = 0; i < view->cash_count; i++) {
        const ledger_cash *cash = &view->cash[i];
        (*money)[(*n_money)++] =
            pb_money(call, cash->currency, cash->balance_nano - cash->blocked_nano);
        if (cash->blocked_nano != 0)
            (*blocked)[(*n_blocked)++] = pb_money(call, cash->currency, cash->blocked_nano);
    }
}

PB(PositionsSecurities) *
    api_position_security(api_call *call, const instrument *ins, const ledger_position *pos) {
    PB(PositionsSecurities) *s =
        PB_NEW(call, PB(PositionsSecurities), PB_INIT(POSITIONS_SECURITIES));
    s->figi = (char *)ins->figi;
    s->blocked = pos->blocked_units;
    s->balance = pos->balance_units - pos->blocked_units;
    s->position_uid = (char *)ins->position_uid;
    s->instrument_uid = (char *)ins->uid;
    s->ticker = (char *)ins->ticker;
    s->class_code = (char *)ins->class_code;
    s->instrument_type = (char *)api_instrument_type_name(ins->kind);
    return s;
}

PB(PositionsFutures) *
    api_position_future(api_call *call, const instrument *ins, const ledger_position *pos) {
    PB(PositionsFutures) *f = PB_NEW(call, PB(PositionsFutures), PB_INIT(POSITIONS_FUTURES));
    f->figi = (char *)ins->figi;
    f->blocked = pos->blocked_units;
    f->balance = pos->balance_units - pos->blocked_units;
    f->position_uid = (char *)ins->position_uid;
    f->instrument_uid = (char *)ins->uid;
    f->ticker = (char *)ins->ticker;
    f->class_code = (char *)ins->class_code;
    return f;
}

PB(PositionsResponse) *
    api_positions_build(api_call *call, const refdata *rd, const api_account_view *view) {
    PB(PositionsResponse) *r = PB_NEW(call, PB(PositionsResponse), PB_INIT(POSITIONS_RESPONSE));
    r->account_id = (char *)view->account->id;
    api_account_cash(call, view, &r->money, &r->n_money, &r->blocked, &r->n_blocked);
    r->securities = (PB(PositionsSecurities) **)pb_array(call, rd->instrument_count);
    r->futures = (PB(PositionsFutures) **)pb_array(call, rd->instrument_count);
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const ledger_position *pos = &view->positions[i];
        if (pos->balance_units == 0 && pos->blocked_units == 0)
            continue;
        const instrument *ins = &rd->instruments[i];
        if (ins->kind == INSTRUMENT_KIND_FUTURE)
            r->futures[r->n_futures++] = api_position_future(call, ins, pos);
        else
            r->securities[r->n_securities++] = api_position_security(call, ins, pos);
    }
    return r;
}

/* Sums over positions are taken in 128 bits: a total past what a MoneyValue holds is shown at
 * the largest value it can hold, never wrapped. */
typedef struct portfolio_totals {
    __int128 by_kind[INSTRUMENT_KIND_OPTION + 1]; /* indexed by instrument_kind */
    __int128 cash_rub, expected_yield;
} portfolio_totals;

static int64_t saturated(__int128 v) {
    return v > INT64_MAX ? INT64_MAX : v < -INT64_MAX ? -INT64_MAX : (int64_t)v;
}

/* Units to a Quotation count (units x 10^9), saturated. */
static int64_t count_nano(int64_t units) {
    return saturated((__int128)units * 1000000000);
}

/* `quantity_lots` is deprecated in the contract but still filled: bots written against older
 * releases read it. */
static void set_quantity_lots(api_call *call, PB(PortfolioPosition) * p, int64_t lots_nano) {
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
    p->quantity_lots = pb_quotation(call, lots_nano);
#pragma GCC diagnostic pop
}

/* Value of `units` at `price`, saturated when it does not fit in int64 nano. */
static int64_t position_value(const instrument *ins, int64_t price_nano, int64_t units) {
    int64_t value;
    return valuation_amount(ins, price_nano, units, &value) ? value : INT64_MAX;
}

static PB(PortfolioPosition) *
    portfolio_position(api_call *call, const instrument *ins, const core_market *market,
                       const ledger_position *pos, int64_t var_margin, portfolio_totals *totals) {
    int64_t price = market->last_price_nano ? market->last_price_nano : ins->reference_price_nano;
    int64_t value = position_value(ins, price, pos->balance_units);
    int64_t cost = position_value(ins, pos->average_price_nano, pos->balance_units);
    totals->by_kind[ins->kind] += value;
    totals->expected_yield += (__int128)value - cost;
    PB(PortfolioPosition) *p = PB_NEW(call, PB(PortfolioPosition), PB_INIT(PORTFOLIO_POSITION));
    p->figi = (char *)ins->figi;
    p->instrument_type = (char *)api_instrument_type_name(ins->kind);
    p->quantity = pb_quotation(call, count_nano(pos->balance_units));
    set_quantity_lots(call, p, count_nano(pos->balance_units / ins->lot));
    p->average_position_price = pb_money(call, ins->currency, pos->average_price_nano);
    p->average_position_price_fifo = pb_money(call, ins->currency, pos->average_price_nano);
    p->expected_yield = pb_quotation(call, saturated((__int128)value - cost));
    p->expected_yield_fifo = pb_quotation(call, saturated((__int128)value - cost));
    p->current_nkd = pb_money(call, ins->currency, 0);
    p->current_price = pb_money(call, ins->currency, price);
    p->blocked = pos->blocked_units > 0;
    p->blocked_lots = pb_quotation(call, count_nano(pos->blocked_units / ins->lot));
    p->position_uid = (char *)ins->position_uid;
    p->instrument_uid = (char *)ins->uid;
    p->var_margin = pb_money(call, ins->currency, var_margin);
    p->daily_yield = pb_money(call, ins->currency, 0);
    p->ticker = (char *)ins->ticker;
    p->class_code = (char *)ins->class_code;
    return p;
}

/* The rouble cash as the real GetPortfolio lists it: a "currency" position under the rouble's own
 * FIGI and uids, quantity = the balance, price 1. */
#define ROUBLE_FIGI "RUB000UTSTOM"
#define ROUBLE_INSTRUMENT_UID "a92e2e25-a698-45cc-a781-167cf465257c"
#define ROUBLE_POSITION_UID "33e24a92-aab0-409c-88b8-f2d57415b920"

static PB(PortfolioPosition) * rouble_position(api_call *call, const ledger_cash *rub) {
    PB(PortfolioPosition) *p = PB_NEW(call, PB(PortfolioPosition), PB_INIT(PORTFOLIO_POSITION));
    p->figi = ROUBLE_FIGI;
    p->instrument_type = "currency";
    p->quantity = pb_quotation(call, rub->balance_nano);
    set_quantity_lots(call, p, rub->balance_nano);
    p->average_position_price = pb_money(call, "rub", 1000000000LL);
    p->average_position_price_fifo = pb_money(call, "rub", 1000000000LL);
    p->current_price = pb_money(call, "rub", 1000000000LL);
    p->expected_yield = pb_quotation(call, 0);
    p->expected_yield_fifo = pb_quotation(call, 0);
    p->current_nkd = pb_money(call, "rub", 0);
    p->var_margin = pb_money(call, "rub", 0);
    p->daily_yield = pb_money(call, "rub", 0);
    p->blocked = rub->blocked_nano > 0;
    p->blocked_lots = pb_quotation(call, rub->blocked_nano);
    p->position_uid = ROUBLE_POSITION_UID;
    p->instrument_uid = ROUBLE_INSTRUMENT_UID;
    p->ticker = ""; /* not shown in the real replies we have seen */
    p->class_code = "";
    return p;
}

/* A total in the currency the request asked for: roubles converted at its configured rate, shown
 * at the largest value a MoneyValue holds when the result does not fit. */
static PB(MoneyValue) * total_in(api_call *call, const api_portfolio_currency *cur, __int128 rub) {
    int64_t value = saturated(rub);
    if (money_convert(value, cur->rub_nano, &value) != 0)
        value = rub < 0 ? -INT64_MAX : INT64_MAX;
    return pb_money(call, cur->currency, value);
}

/* The instruments here are all quoted in roubles: the totals are summed in roubles, then given in
 * the currency asked for (`cur`). */
PB(PortfolioResponse) * api_portfolio_build(api_call *call, const refdata *rd,
                                            const api_account_view *view,
                                            const api_portfolio_currency *cur) {
    PB(PortfolioResponse) *r = PB_NEW(call, PB(PortfolioResponse), PB_INIT(PORTFOLIO_RESPONSE));
    r->account_id = (char *)view->account->id;
    portfolio_totals totals;
    memset(&totals, 0, sizeof totals);
    const ledger_cash *rub = cash_in(view, "rub");
    r->positions = (PB(PortfolioPosition) **)pb_array(call, rd->instrument_count + 1);
    if (rub != NULL)
        r->positions[r->n_positions++] = rouble_position(call, rub);
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        const ledger_position *pos = &view->positions[i];
        if (pos->balance_units != 0)
            r->positions[r->n_positions++] =
                portfolio_position(call, &rd->instruments[i], &view->markets[i], pos,
                                   view->var_margin != NULL ? view->var_margin[i] : 0, &totals);
    }
    totals.cash_rub = rub ? rub->balance_nano : 0;
    r->total_amount_shares = total_in(call, cur, totals.by_kind[INSTRUMENT_KIND_SHARE]);
    r->total_amount_bonds = total_in(call, cur, totals.by_kind[INSTRUMENT_KIND_BOND]);
    r->total_amount_etf = total_in(call, cur, totals.by_kind[INSTRUMENT_KIND_ETF]);
    r->total_amount_currencies =
        total_in(call, cur, totals.cash_rub + totals.by_kind[INSTRUMENT_KIND_CURRENCY]);
    r->total_amount_futures = total_in(call, cur, totals.by_kind[INSTRUMENT_KIND_FUTURE]);
    r->total_amount_options = total_in(call, cur, totals.by_kind[INSTRUMENT_KIND_OPTION]);
    r->total_amount_sp = total_in(call, cur, 0);
    __int128 total = totals.cash_rub;
    for (int k = 1; k <= INSTRUMENT_KIND_OPTION; k++)
        total += totals.by_kind[k];
    r->total_amount_portfolio = total_in(call, cur, total);
    r->expected_yield = pb_quotation(call, saturated(totals.expected_yield));
    r->daily_yield = total_in(call, cur, 0);
    r->daily_yield_relative = pb_quotation(call, 0);
    return r;
}
