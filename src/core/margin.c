/* Margin figures and the state of futures positions (see margin.h). */
#include "core/margin.h"

#include <assert.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/core.h"
#include "core/valuation.h"
#include "util/checked.h"

#define NANO 1000000000LL

int margin_init(core *c) {
    core_margin_state *m = &c->margin;
    m->instrument_count = c->ledger.instrument_count;
    size_t n = (size_t)c->accounts.capacity * m->instrument_count;
    m->futures = calloc(n ? n : 1, sizeof *m->futures);
    m->planned = calloc(m->instrument_count ? m->instrument_count : 1, sizeof *m->planned);
    m->next_call_ns =
        calloc(c->accounts.capacity ? c->accounts.capacity : 1, sizeof *m->next_call_ns);
    if (m->planned == NULL || m->next_call_ns == NULL) {
        free(m->futures);
        m->futures = NULL;
    }
    m->last_clearing_ns = m->cleared_through_ns = m->watched_ns = m->retry_ns = 0;
    m->watch_pending = false;
    return m->futures == NULL ? -1 : 0;
}

void margin_deinit(core *c) {
    free(c->margin.futures);
    free(c->margin.planned);
    free(c->margin.next_call_ns);
    c->margin.futures = NULL;
    c->margin.planned = NULL;
    c->margin.next_call_ns = NULL;
}

void margin_reset(core *c) {
    core_margin_state *m = &c->margin;
    memset(m->futures, 0, (size_t)c->accounts.capacity * m->instrument_count * sizeof *m->futures);
    m->last_clearing_ns = m->cleared_through_ns = m->watched_ns = m->retry_ns = 0;
    m->watch_pending = false;
    memset(m->next_call_ns, 0, (size_t)c->accounts.capacity * sizeof *m->next_call_ns);
}

bool core_account_is_margin(const core *c, uint32_t account_index) {
    return account_index < c->accounts.configured_count &&
           c->refdata->accounts[account_index].margin;
}

margin_future *margin_future_of(core *c, uint32_t account_index, uint32_t instrument_index) {
    assert(account_index < c->accounts.capacity && instrument_index < c->margin.instrument_count);
    return &c->margin
                .futures[(size_t)account_index * c->margin.instrument_count + instrument_index];
}

const margin_future *margin_future_get(const core *c, uint32_t account_index,
                                       uint32_t instrument_index) {
    assert(account_index < c->accounts.capacity && instrument_index < c->margin.instrument_count);
    return &c->margin
                .futures[(size_t)account_index * c->margin.instrument_count + instrument_index];
}

static bool fits(__int128 v, int64_t *out) {
    if (v > INT64_MAX || v < -INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}

bool margin_points_value(const instrument *ins, int64_t price_diff_nano, int64_t units,
                         int64_t *out_nano) {
    int64_t step = ins->min_price_increment_nano;
    if (step <= 0)
        return false;
    __int128 points = (__int128)price_diff_nano * units;
    /* |points| < 2^126; times the step's worth (< 2^63) may not fit: divide first when exact. */
    /* Without a step value, points are money (as valuation_amount takes them). */
    __int128 worth =
        ins->min_price_increment_amount_nano > 0 ? ins->min_price_increment_amount_nano : step;
    __int128 v;
    if (points % step == 0)
        v = points / step * worth;
    else if (points > ((__int128)1 << 62) || points < -((__int128)1 << 62))
        return false;
    else
        v = points * worth / step;
    if (v > INT64_MAX || v < -INT64_MAX)
        return false;
    *out_nano = (int64_t)v;
    return true;
}

bool margin_guarantee(const instrument *ins, int64_t units, int64_t *out_nano) {
    int64_t per = units >= 0 ? ins->initial_margin_on_buy_nano : ins->initial_margin_on_sell_nano;
    if (per == 0)
        per = ins->initial_margin_nano; /* one guarantee for both sides */
    return fits((__int128)per * (units < 0 ? -(__int128)units : units), out_nano);
}

int64_t margin_rate(const instrument *ins, account_risk_level level, bool long_side) {
    if (level == ACCOUNT_RISK_HIGH)
        return long_side ? ins->dlong_min_nano : ins->dshort_min_nano;
    return long_side ? ins->dlong_nano : ins->dshort_nano;
}

/* `amount` of `currency` in roubles; false when no rate is configured for it. */
static bool in_roubles(const refdata *rd, const char *currency, __int128 amount, __int128 *out) {
    if (strcasecmp(currency, "rub") == 0) {
        *out = amount;
        return true;
    }
    const currency_rate *rate = refdata_find_currency_rate(rd, currency);
    if (rate == NULL)
        return false;
    *out = amount * rate->rub_nano / NANO;
    return true;
}

int64_t core_margin_mark_price(const core *c, const instrument *ins) {
    core_market m;
    core_market_view(c, ins->index, &m);
    int64_t price = m.last_price_nano > 0 ? m.last_price_nano : ins->reference_price_nano;
    /* A last trade outside the quotes is stale: the market has moved away from it. */
    if (m.best_bid_nano > 0 && price < m.best_bid_nano)
        price = m.best_bid_nano;
    if (m.best_ask_nano > 0 && price > m.best_ask_nano)
        price = m.best_ask_nano;
    return price;
}

/* What the account's active orders would add to each position (signed units), into `planned`
 * (instrument_count entries, zeroed by the caller). */
static bool add_active_orders(const core *c, uint32_t account_index, uint32_t skip,
                              int64_t *planned) {
    uint32_t steps = 0;
    for (uint32_t s = c->active_first[account_index]; s != CORE_NO_ORDER;
         s = c->orders[s].active_next) {
        const core_order *o = &c->orders[s];
        assert(++steps <= c->pools.order_high);
        (void)steps;
        if (s == skip)
            continue;
        int64_t lots = o->lots_requested - o->lots_executed - o->lots_cancelled, units;
        if (!checked_mul(lots, core_instrument_of(c, o)->lot, &units))
            return false;
        if (!checked_add(planned[o->instrument], o->direction == DIRECTION_BUY ? units : -units,
                         &planned[o->instrument]))
            return false;
    }
    return true;
}

typedef struct margin_sums {
    __int128 liquid, starting, minimal, corrected;
} margin_sums;

/* One position's starting margin (at full rates): its value times the rate of its side, or the
 * guarantee of a futures position. A long without a rate is not liquid and takes none; a short
 * without a rate (which no order opens) takes its whole value. */
static bool position_margin(const core *c, const instrument *ins, account_risk_level level,
                            int64_t price, int64_t units, __int128 *out) {
    *out = 0;
    if (units == 0)
        return true;
    int64_t amount;
    if (ins->kind == INSTRUMENT_KIND_FUTURE) {
        if (!margin_guarantee(ins, units, &amount))
            return false;
        if (!in_roubles(c->refdata, ins->currency, amount, out))
            *out = 0; /* a currency without a rate is outside the figures */
        return true;
    }
    int64_t rate = margin_rate(ins, level, units > 0);
    if (units > 0 && rate == 0)
        return true;
    if (units < 0 && rate == 0)
        rate = NANO;
    if (!valuation_amount(ins, price, units < 0 ? -units : units, &amount))
        return false;
    __int128 rub;
    if (!in_roubles(c->refdata, ins->currency, (__int128)amount * rate / NANO, &rub))
        return true; /* a currency without a rate is outside the figures */
    *out = rub;
    return true;
}

/* The position's part of the liquid portfolio. */
static bool position_liquid(const core *c, const instrument *ins, account_risk_level level,
                            uint32_t account_index, int64_t price, int64_t units, __int128 *out) {
    *out = 0;
    int64_t amount;
    if (ins->kind == INSTRUMENT_KIND_FUTURE) {
        const margin_future *f = margin_future_get(c, account_index, ins->index);
        int64_t vm = 0;
        if (units != 0 && !margin_points_value(ins, price - f->clearing_price_nano, units, &vm))
            return false;
        __int128 total = (__int128)vm + f->pending_vm_nano;
        if (!in_roubles(c->refdata, ins->currency, total, out))
            *out = 0;
        return true;
    }
    if (units == 0 || (units > 0 && margin_rate(ins, level, true) == 0))
        return true;
    if (!valuation_amount(ins, price, units < 0 ? -units : units, &amount))
        return false;
    if (!in_roubles(c->refdata, ins->currency, units < 0 ? -(__int128)amount : amount, out))
        *out = 0;
    return true;
}

/* A planned buy of an instrument without a long rate spends money the portfolio counted and buys
 * what it does not count: the corrected margin takes its whole value. */
static bool unpaid_illiquid(const core *c, const instrument *ins, account_risk_level level,
                            int64_t price, int64_t units, int64_t plan, __int128 *corrected) {
    int64_t held = units > 0 ? units : 0, amount;
    if (ins->kind == INSTRUMENT_KIND_FUTURE || plan <= held || margin_rate(ins, level, true) != 0)
        return true;
    if (!valuation_amount(ins, price, plan - held, &amount))
        return false;
    __int128 rub;
    if (in_roubles(c->refdata, ins->currency, amount, &rub))
        *corrected += rub;
    return true;
}

static bool sum_figures(const core *c, uint32_t account_index, const margin_extra *extra,
                        margin_sums *s) {
    memset(s, 0, sizeof *s);
    const refdata *rd = c->refdata;
    account_risk_level level = account_index < rd->account_count
                                   ? rd->accounts[account_index].risk_level
                                   : ACCOUNT_RISK_STANDARD;
    ledger_cash cash[REFDATA_MAX_CURRENCIES];
    uint32_t n = core_account_cash(c, account_index, cash);
    for (uint32_t k = 0; k < n; k++) {
        __int128 rub;
        if (in_roubles(rd, cash[k].currency, cash[k].balance_nano, &rub))
            s->liquid += rub;
    }
    uint32_t count = c->ledger.instrument_count;
    int64_t *planned = c->margin.planned; /* scratch of the core thread */
    memset(planned, 0, (count ? count : 1) * sizeof *planned);
    if (!add_active_orders(c, account_index, extra != NULL ? extra->skip : CORE_NO_ORDER, planned))
        return false;
    if (extra != NULL &&
        (extra->instrument >= count ||
         !checked_add(planned[extra->instrument], extra->units, &planned[extra->instrument])))
        return false;
    bool ok = true;
    for (uint32_t i = 0; ok && i < count; i++) {
        int64_t units = ledger_position_get(&c->ledger, account_index, i)->balance_units;
        const margin_future *f = margin_future_get(c, account_index, i);
        if (units == 0 && planned[i] == 0 && f->pending_vm_nano == 0)
            continue;
        const instrument *ins = &rd->instruments[i];
        int64_t price = core_margin_mark_price(c, ins), plan;
        __int128 liquid, margin, corrected;
        ok = checked_add(units, planned[i], &plan) &&
             position_liquid(c, ins, level, account_index, price, units, &liquid) &&
             position_margin(c, ins, level, price, units, &margin) &&
             position_margin(c, ins, level, price, plan, &corrected) &&
             unpaid_illiquid(c, ins, level, price, units, plan, &corrected);
        if (ok) {
            s->liquid += liquid;
            s->starting += margin;
            s->minimal += margin / 2;
            s->corrected += corrected;
        }
    }
    return ok;
}

bool core_margin_figures(const core *c, uint32_t account_index, const margin_extra *extra,
                         margin_figures *out) {
    memset(out, 0, sizeof *out);
    margin_sums s;
    if (!sum_figures(c, account_index, extra, &s))
        return false;
    __int128 missing = s.starting - s.liquid;
    if (!fits(s.liquid, &out->liquid_portfolio_nano) ||
        !fits(s.starting, &out->starting_margin_nano) ||
        !fits(s.minimal, &out->minimal_margin_nano) ||
        !fits(s.corrected, &out->corrected_margin_nano) || !fits(missing, &out->missing_funds_nano))
        return false;
    __int128 span = s.starting - s.minimal;
    if (span > 0) {
        /* Hundredths, rounded toward minus infinity. */
        __int128 num = (s.liquid - s.minimal) * 100;
        __int128 q = num / span;
        if (num % span != 0 && num < 0)
            q -= 1;
        __int128 level = q * (NANO / 100);
        if (!fits(level, &out->funds_sufficiency_nano))
            out->funds_sufficiency_nano = level > 0 ? INT64_MAX : -INT64_MAX;
    }
    return true;
}

int64_t core_margin_position_starting(const core *c, uint32_t account_index,
                                      uint32_t instrument_index) {
    const instrument *ins = &c->refdata->instruments[instrument_index];
    int64_t units = ledger_position_get(&c->ledger, account_index, instrument_index)->balance_units;
    account_risk_level level = c->refdata->accounts[account_index].risk_level;
    __int128 margin;
    if (units == 0 ||
        !position_margin(c, ins, level, core_margin_mark_price(c, ins), units, &margin))
        return 0;
    return margin > INT64_MAX ? INT64_MAX : (int64_t)margin;
}

bool core_margin_reduces(const core *c, uint32_t account_index, uint32_t instrument_index,
                         int64_t units, uint32_t skip) {
    int64_t position =
        ledger_position_get(&c->ledger, account_index, instrument_index)->balance_units;
    if (units == 0 || position == 0 || (units > 0) == (position > 0))
        return false;
    /* The same side's active orders, this one added: together at most the position. */
    int64_t same = units > 0 ? -units : units; /* toward zero, as a negative amount */
    uint32_t steps = 0;
    for (uint32_t s = c->active_first[account_index]; s != CORE_NO_ORDER;
         s = c->orders[s].active_next) {
        const core_order *o = &c->orders[s];
        assert(++steps <= c->pools.order_high);
        (void)steps;
        if (s == skip || o->instrument != instrument_index ||
            (o->direction == DIRECTION_BUY) != (units > 0))
            continue;
        int64_t lots = o->lots_requested - o->lots_executed - o->lots_cancelled, open;
        if (!checked_mul(lots, core_instrument_of(c, o)->lot, &open) ||
            !checked_sub(same, open, &same))
            return false;
    }
    int64_t size = position < 0 ? -position : position;
    return -same <= size;
}

bool core_margin_in_roubles(const refdata *rd, const char *currency, int64_t amount_nano,
                            int64_t *out_nano) {
    __int128 rub;
    return in_roubles(rd, currency, amount_nano, &rub) && fits(rub, out_nano);
}

/* The corrected margin with the order within the liquid portfolio. */
static core_error margin_covers(const core *c, uint32_t account_index, const margin_extra *extra) {
    margin_figures f;
    if (!core_margin_figures(c, account_index, extra, &f))
        return CORE_ERR_AMOUNT_TOO_LARGE;
    return f.corrected_margin_nano <= f.liquid_portfolio_nano ? CORE_OK
                                                              : CORE_ERR_MARGIN_NOT_ENOUGH;
}

core_error core_margin_admit(const core *c, const account *acc, const instrument *ins,
                             int64_t units, int64_t own_cash_nano, uint32_t skip) {
    uint32_t a = acc->index;
    if (core_margin_reduces(c, a, ins->index, units, skip))
        return CORE_OK;
    bool buy = units > 0, future = ins->kind == INSTRUMENT_KIND_FUTURE;
    int64_t rub;
    if (!core_margin_in_roubles(c->refdata, ins->currency, 0, &rub)) {
        /* A currency without a rouble rate is outside the figures: no credit, no short, no
         * future in it; the cash account's rules. */
        if (future)
            return CORE_ERR_MARGIN_NOT_ENOUGH;
        if (buy ? ledger_cash_free(&c->ledger, a, ins->currency) < own_cash_nano
                : ledger_units_free(&c->ledger, a, ins->index) < -units)
            return CORE_ERR_NOT_ENOUGH_ASSETS;
        return CORE_OK;
    }
    if (future) {
        /* A future without a guarantee on its side has no margin to take; and a position whose
         * value at twice the price would not fit could not be counted (its variation margin). */
        int64_t guarantee, after, value;
        const ledger_position *pos = ledger_position_get(&c->ledger, a, ins->index);
        if (!margin_guarantee(ins, buy ? 1 : -1, &guarantee) || guarantee <= 0)
            return CORE_ERR_MARGIN_NOT_ENOUGH;
        if (!checked_add(pos->balance_units, units, &after) ||
            !valuation_amount(ins, core_margin_mark_price(c, ins), after < 0 ? -after : after,
                              &value) ||
            value > CORE_MAX_MONEY_NANO / 2)
            return CORE_ERR_AMOUNT_TOO_LARGE;
    } else if (!buy && (!ins->short_enabled || margin_rate(ins, acc->risk_level, false) == 0)) {
        /* Not only reducing: a sell goes (at least partly) short. */
        return CORE_ERR_SHORT_NOT_ALLOWED;
    } else if (buy && margin_rate(ins, acc->risk_level, true) == 0 &&
               ledger_cash_free(&c->ledger, a, ins->currency) < own_cash_nano) {
        /* An instrument without a long rate is not liquid: bought with the account's own money
         * (and the corrected margin counts planned buys of it in full). */
        return CORE_ERR_NOT_ENOUGH_ASSETS;
    }
    margin_extra extra = {.instrument = ins->index, .units = units, .skip = skip};
    return margin_covers(c, a, &extra);
}

int64_t core_margin_max_lots(const core *c, const account *acc, const instrument *ins, bool buy,
                             int64_t price_nano, int64_t max_lots) {
    /* Admission is monotone in the lots (more exposure never takes less margin once past the
     * position), so the largest admitted is found by bisection. */
    int64_t lo = 0, hi = max_lots;
    while (lo < hi) {
        int64_t mid = lo + (hi - lo + 1) / 2, units, value = 0, cost = 0;
        bool ok = checked_mul(mid, ins->lot, &units);
        if (ok && buy)
            ok = valuation_amount(ins, price_nano, units, &value) &&
                 checked_add(value, valuation_commission(value, c->config.commission_bp), &cost);
        if (ok)
            ok = core_margin_admit(c, acc, ins, buy ? units : -units, cost, CORE_NO_ORDER) ==
                 CORE_OK;
        if (ok)
            lo = mid;
        else
            hi = mid - 1;
    }
    return lo;
}

void margin_on_futures_fill(core *c, uint32_t account_index, uint32_t instrument_index,
                            int64_t position_before, int64_t units, int64_t price_nano) {
    const instrument *ins = &c->refdata->instruments[instrument_index];
    margin_future *f = margin_future_of(c, account_index, instrument_index);
    if (position_before == 0 && f->pending_vm_nano == 0)
        f->clearing_price_nano = price_nano; /* a new position counts from its first price */
    /* The traded units are worth their price, not the clearing price the position counts from:
     * the difference is due at the next clearing. */
    int64_t vm;
    bool ok = margin_points_value(ins, f->clearing_price_nano - price_nano, units, &vm);
    assert(ok);
    CHECKED_ADD_ASSERT(f->pending_vm_nano, vm);
    int64_t after = position_before + units, guarantee;
    ok = margin_guarantee(ins, after, &guarantee);
    assert(ok);
    (void)ok;
    ledger_cash *cash = ledger_cash_slot(&c->ledger, account_index, ins->currency);
    assert(cash != NULL);
    CHECKED_ADD_ASSERT(cash->blocked_nano, guarantee - f->guarantee_nano);
    f->guarantee_nano = guarantee;
    if (after == 0 && f->pending_vm_nano == 0)
        f->clearing_price_nano = 0;
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

uint64_t margin_hash(const core *c, uint64_t seed) {
    /* Nothing mixed in before margin trading left a trace: the hash stays comparable with data
     * directories written before it. */
    uint64_t h =
        c->margin.last_clearing_ns != 0 ? mix(seed, (uint64_t)c->margin.last_clearing_ns) : seed;
    size_t n = (size_t)c->accounts.capacity * c->margin.instrument_count;
    for (size_t i = 0; i < n; i++) {
        const margin_future *f = &c->margin.futures[i];
        if (f->guarantee_nano == 0 && f->clearing_price_nano == 0 && f->pending_vm_nano == 0)
            continue;
        h = mix(h, i);
        h = mix(h, (uint64_t)f->guarantee_nano);
        h = mix(h, (uint64_t)f->clearing_price_nano);
        h = mix(h, (uint64_t)f->pending_vm_nano);
    }
    return h;
}
