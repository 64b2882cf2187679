/* report_account_compute: one account's equity curve, drawdown, exposure and average-cost P&L.
 *
 * DESIGN: one pass over the sample times. Before the equity of a sample is taken, every fill of
 * the account at or before it and every close of its instruments at or before it has been applied,
 * so no price after a sample is ever used. Each held instrument is valued at its mark: its newest
 * close, or, while it has none yet, the price of the account's last fill in it. The currency's
 * sum of position values is kept up to date as marks and positions change (remove the old value,
 * add the new), so a sample costs the account's currencies, not its instruments.
 *
 * Average cost: a position carries its signed cost (units x average price). A fill in the
 * position's direction adds its value; one against it closes min(units, |position|) units whose
 * share of the cost, rounded to the nearest nano (halves away from zero), leaves the cost, and
 * the difference between that share and what the closed units fetched is realised; the rest of
 * the fill, if any, opens a position the other way at the fill's price. Closing the whole position
 * takes its whole cost, so nothing is left over. Hence, exactly:
 *   final equity - opening equity = realised + unrealised - fees,
 * which is asserted. */
#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "report/report_internal.h"
#include "util/checked.h"

/* A held instrument while the curve is built. */
typedef struct slot {
    report_position pos;
    int64_t held_value_nano; /* position x mark, as counted in the currency's sum */
    int64_t held_gross_nano; /* |position x mark| */
    bool has_mark;
    uint32_t next_price;
} slot;

/* A currency while the curve is built. */
typedef struct currency_run {
    int64_t cash_nano, positions_nano, gross_nano;
    uint32_t open_positions;
    int64_t peak_nano, peak_time_ns;
    report_thinner thinner;
} currency_run;

typedef struct run {
    const report_prepared *p;
    const char **why;
    report_account_result *r;
    slot *slots;
    uint32_t slot_count;
    int32_t *slot_of; /* per instrument: its slot + 1, or 0 */
    currency_run *cur;
} run;

static int overflow(run *x, const char *what) {
    if (x->why != NULL)
        *x->why = what;
    return -EOVERFLOW;
}

static bool fits(__int128 v, int64_t *out) {
    if (v > INT64_MAX || v < INT64_MIN)
        return false;
    *out = (int64_t)v;
    return true;
}

/* `num` x `mul` / `div` (div > 0) to the nearest integer, halves away from zero. */
static __int128 scale_round(int64_t num, int64_t mul, int64_t div) {
    __int128 n = (__int128)num * mul;
    __int128 q = n / div, rem = n % div;
    if (2 * (rem < 0 ? -rem : rem) >= div)
        q += n < 0 ? -1 : 1;
    return q;
}

static uint32_t currency_index(const report_account_result *r, const char *currency) {
    for (uint32_t i = 0; i < r->currency_count; i++)
        if (strcmp(r->currencies[i].currency, currency) == 0)
            return i;
    return UINT32_MAX;
}

/* The account's currencies (opening ones, then in the order first traded) and its slots (in the
 * input's instrument order). */
static int lay_out(run *x, uint32_t account) {
    const report_input *in = x->p->in;
    const report_account *acc = &in->accounts[account];
    const uint32_t *fills = x->p->account_fills;
    uint32_t begin = x->p->account_fill_start[account], end = x->p->account_fill_start[account + 1];
    report_account_result *r = x->r;
    x->slot_of = calloc((size_t)in->instrument_count + 1, sizeof *x->slot_of);
    r->currencies = calloc((size_t)acc->opening_count + (end - begin) + 1, sizeof *r->currencies);
    if (x->slot_of == NULL || r->currencies == NULL)
        return -ENOMEM;
    for (uint32_t i = 0; i < acc->opening_count; i++) {
        report_currency *c = &r->currencies[r->currency_count++];
        c->currency = acc->opening[i].currency;
        c->opening_cash_nano = acc->opening[i].amount_nano;
    }
    for (uint32_t k = begin; k < end; k++) {
        uint32_t instrument = in->fills[fills[k]].instrument;
        const char *currency = in->instruments[instrument].currency;
        if (currency_index(r, currency) == UINT32_MAX)
            r->currencies[r->currency_count++].currency = currency;
        if (x->slot_of[instrument] == 0) {
            x->slot_of[instrument] = -1; /* traded; numbered below in instrument order */
            x->slot_count++;
        }
    }
    x->slots = calloc((size_t)x->slot_count + 1, sizeof *x->slots);
    x->cur = calloc((size_t)r->currency_count + 1, sizeof *x->cur);
    if (x->slots == NULL || x->cur == NULL)
        return -ENOMEM;
    uint32_t n = 0;
    for (uint32_t i = 0; i < in->instrument_count; i++) {
        if (x->slot_of[i] == 0)
            continue;
        x->slot_of[i] = (int32_t)(n + 1);
        slot *s = &x->slots[n++];
        s->pos.instrument = i;
        s->pos.currency = currency_index(r, in->instruments[i].currency);
        s->next_price = 0;
    }
    assert(n == x->slot_count);
    for (uint32_t c = 0; c < r->currency_count; c++) {
        report_currency *rc = &r->currencies[c];
        rc->points = malloc(REPORT_MAX_POINTS * sizeof *rc->points);
        if (rc->points == NULL)
            return -ENOMEM;
        x->cur[c].cash_nano = rc->opening_cash_nano;
        x->cur[c].peak_nano = rc->opening_cash_nano;
        x->cur[c].peak_time_ns = in->from_ns;
        report_thinner_init(&x->cur[c].thinner, x->p->sample_count, rc->points);
    }
    return 0;
}

/* Takes the slot's value out of its currency's sums (before its position or mark changes). */
static int unhold(run *x, slot *s) {
    currency_run *c = &x->cur[s->pos.currency];
    if (!checked_sub(c->positions_nano, s->held_value_nano, &c->positions_nano) ||
        !checked_sub(c->gross_nano, s->held_gross_nano, &c->gross_nano))
        return overflow(x, "position values past int64 nano");
    if (s->pos.position_units != 0)
        c->open_positions--;
    s->held_value_nano = s->held_gross_nano = 0;
    return 0;
}

/* Puts the slot's value at its mark back into its currency's sums. */
static int hold(run *x, slot *s) {
    currency_run *c = &x->cur[s->pos.currency];
    if (s->pos.position_units != 0)
        c->open_positions++;
    if (!s->has_mark)
        return 0;
    int64_t value;
    if (!fits((__int128)s->pos.position_units * s->pos.mark_nano, &value) || value == INT64_MIN)
        return overflow(x, "a position's value past int64 nano");
    s->held_value_nano = value;
    s->held_gross_nano = value < 0 ? -value : value;
    if (!checked_add(c->positions_nano, s->held_value_nano, &c->positions_nano) ||
        !checked_add(c->gross_nano, s->held_gross_nano, &c->gross_nano))
        return overflow(x, "position values past int64 nano");
    return 0;
}

/* The position and realised P&L after a fill (the file's comment: average cost). */
static int trade(run *x, report_position *pos, const report_fill *f) {
    int64_t q = f->buy ? f->units : -f->units;
    int64_t signed_value = f->buy ? f->value_nano : -f->value_nano;
    int64_t held = pos->position_units;
    if (held == 0 || (held > 0) == (q > 0)) {
        if (!checked_add(pos->position_units, q, &pos->position_units) ||
            !checked_add(pos->cost_nano, signed_value, &pos->cost_nano))
            return overflow(x, "a position or its cost past int64");
        return 0;
    }
    if (held == INT64_MIN)
        return overflow(x, "a short position past int64 units");
    int64_t held_abs = held < 0 ? -held : held;
    int64_t closed = f->units < held_abs ? f->units : held_abs;
    int64_t share = pos->cost_nano;
    if (closed != held_abs && !fits(scale_round(pos->cost_nano, closed, held_abs), &share))
        return overflow(x, "a closed share of cost past int64");
    int64_t fetched, realised;
    if (!fits((__int128)(held > 0 ? closed : -closed) * f->price_nano, &fetched) ||
        !checked_sub(fetched, share, &realised) ||
        !checked_add(pos->realised_nano, realised, &pos->realised_nano))
        return overflow(x, "realised P&L past int64 nano");
    pos->position_units = held > 0 ? held - closed : held + closed;
    pos->cost_nano -= share; /* |share| <= |cost| with the same sign: cannot overflow */
    int64_t rest = f->units - closed;
    if (rest > 0) {
        assert(pos->position_units == 0 && pos->cost_nano == 0);
        pos->position_units = q > 0 ? rest : -rest;
        if (!fits((__int128)pos->position_units * f->price_nano, &pos->cost_nano))
            return overflow(x, "a position's cost past int64 nano");
    }
    return 0;
}

static int apply_fill(run *x, const report_fill *f) {
    slot *s = &x->slots[x->slot_of[f->instrument] - 1];
    report_position *pos = &s->pos;
    report_currency *rc = &x->r->currencies[pos->currency];
    currency_run *c = &x->cur[pos->currency];
    int err = unhold(x, s);
    if (err == 0)
        err = trade(x, pos, f);
    if (err != 0)
        return err;
    int64_t *units = f->buy ? &pos->bought_units : &pos->sold_units;
    bool ok = checked_add(*units, f->units, units);
    ok = ok && (f->buy ? checked_sub(c->cash_nano, f->value_nano, &c->cash_nano)
                       : checked_add(c->cash_nano, f->value_nano, &c->cash_nano));
    ok = ok && checked_sub(c->cash_nano, f->commission_nano, &c->cash_nano);
    ok = ok && checked_add(pos->fees_nano, f->commission_nano, &pos->fees_nano);
    ok = ok && checked_add(pos->turnover_nano, f->value_nano, &pos->turnover_nano);
    ok = ok && checked_add(rc->fees_nano, f->commission_nano, &rc->fees_nano);
    ok = ok && checked_add(rc->turnover_nano, f->value_nano, &rc->turnover_nano);
    if (!ok)
        return overflow(x, "cash, fees or turnover past int64 nano");
    pos->fills++;
    rc->fills++;
    x->r->fills++;
    if (f->buy) {
        pos->buys++;
        rc->buys++;
        x->r->buys++;
    } else {
        pos->sells++;
        rc->sells++;
        x->r->sells++;
    }
    if (!pos->marked_by_close) {
        pos->mark_nano = f->price_nano;
        s->has_mark = true;
    }
    return hold(x, s);
}

/* Every close of the slot's instrument at or before `t` (the newest becomes the mark). */
static int apply_prices(run *x, slot *s, int64_t t) {
    const report_instrument *ins = &x->p->in->instruments[s->pos.instrument];
    uint32_t k = s->next_price;
    while (k < ins->price_count && ins->prices[k].time_ns <= t)
        k++;
    if (k == s->next_price)
        return 0;
    s->next_price = k;
    int rc = unhold(x, s);
    if (rc != 0)
        return rc;
    s->pos.mark_nano = ins->prices[k - 1].close_nano;
    s->pos.marked_by_close = true;
    s->has_mark = true;
    return hold(x, s);
}

/* The equity of currency `c` at sample `i`: drawdown, exposure and the curve. */
static int sample(run *x, uint32_t c, uint32_t i, int64_t t) {
    currency_run *cr = &x->cur[c];
    report_currency *rc = &x->r->currencies[c];
    int64_t equity, fall;
    if (!checked_add(cr->cash_nano, cr->positions_nano, &equity))
        return overflow(x, "equity past int64 nano");
    if (equity > cr->peak_nano) {
        cr->peak_nano = equity;
        cr->peak_time_ns = t;
    }
    if (!checked_sub(cr->peak_nano, equity, &fall))
        return overflow(x, "a drawdown past int64 nano");
    if (fall > rc->drawdown_nano) {
        rc->drawdown_nano = fall;
        rc->drawdown_peak_nano = cr->peak_nano;
        rc->drawdown_peak_time_ns = cr->peak_time_ns;
        rc->drawdown_trough_nano = equity;
        rc->drawdown_trough_time_ns = t;
    }
    rc->samples++;
    if (cr->open_positions > 0)
        rc->samples_in_position++;
    if (cr->gross_nano > rc->max_gross_nano)
        rc->max_gross_nano = cr->gross_nano;
    if (equity > 0 && cr->gross_nano > 0) {
        double pct = 100.0 * (double)cr->gross_nano / (double)equity;
        if (pct > rc->max_gross_pct)
            rc->max_gross_pct = pct;
    }
    rc->final_equity_nano = equity;
    report_point point = {t, i, equity, cr->peak_nano};
    report_thinner_push(&cr->thinner, &point);
    return 0;
}

static int walk(run *x, uint32_t account) {
    const report_input *in = x->p->in;
    const uint32_t *fills = x->p->account_fills;
    uint32_t k = x->p->account_fill_start[account], end = x->p->account_fill_start[account + 1];
    for (uint32_t i = 0; i < x->p->sample_count; i++) {
        int64_t t = x->p->sample_times[i];
        int rc = 0;
        for (; rc == 0 && k < end && in->fills[fills[k]].time_ns <= t; k++)
            rc = apply_fill(x, &in->fills[fills[k]]);
        for (uint32_t s = 0; rc == 0 && s < x->slot_count; s++)
            rc = apply_prices(x, &x->slots[s], t);
        for (uint32_t c = 0; rc == 0 && c < x->r->currency_count; c++)
            rc = sample(x, c, i, t);
        if (rc != 0)
            return rc;
    }
    assert(k == end); /* every fill is at or before now, the last sample */
    return 0;
}

/* The totals at now, and the identity of the file's comment. */
static int finish(run *x) {
    report_account_result *r = x->r;
    for (uint32_t s = 0; s < x->slot_count; s++) {
        report_position *pos = &x->slots[s].pos;
        report_currency *rc = &r->currencies[pos->currency];
        assert(pos->position_units != 0 || pos->cost_nano == 0);
        if (!checked_sub(x->slots[s].held_value_nano, pos->cost_nano, &pos->unrealised_nano) ||
            !checked_add(rc->realised_nano, pos->realised_nano, &rc->realised_nano) ||
            !checked_add(rc->unrealised_nano, pos->unrealised_nano, &rc->unrealised_nano))
            return overflow(x, "P&L past int64 nano");
    }
    for (uint32_t c = 0; c < r->currency_count; c++) {
        report_currency *rc = &r->currencies[c];
        rc->final_cash_nano = x->cur[c].cash_nano;
        rc->opening_equity_nano = rc->opening_cash_nano;
        if (!checked_sub(rc->final_equity_nano, rc->opening_equity_nano, &rc->net_pnl_nano))
            return overflow(x, "the change of equity past int64 nano");
        __int128 change = (__int128)rc->final_equity_nano - rc->opening_equity_nano;
        __int128 pnl = (__int128)rc->realised_nano + rc->unrealised_nano - rc->fees_nano;
        assert(change == pnl);
        (void)change;
        (void)pnl;
        rc->return_pct_known = rc->opening_equity_nano > 0;
        if (rc->return_pct_known)
            rc->return_pct = 100.0 * (double)(change) / (double)rc->opening_equity_nano;
        rc->drawdown_pct_known = rc->drawdown_peak_nano > 0;
        if (rc->drawdown_pct_known)
            rc->drawdown_pct = 100.0 * (double)rc->drawdown_nano / (double)rc->drawdown_peak_nano;
        if (rc->drawdown_nano == 0) { /* no fall: the "peak" is where the curve starts */
            rc->drawdown_peak_nano = rc->drawdown_trough_nano = rc->opening_equity_nano;
            rc->drawdown_peak_time_ns = rc->drawdown_trough_time_ns = x->p->in->from_ns;
            rc->drawdown_pct_known = rc->opening_equity_nano > 0;
            rc->drawdown_pct = 0;
        }
        rc->exposure_pct = 100.0 * (double)rc->samples_in_position / (double)rc->samples;
        rc->point_count = report_thinner_finish(&x->cur[c].thinner);
    }
    r->positions = malloc(((size_t)x->slot_count + 1) * sizeof *r->positions);
    if (r->positions == NULL)
        return -ENOMEM;
    for (uint32_t s = 0; s < x->slot_count; s++)
        r->positions[s] = x->slots[s].pos;
    r->position_count = x->slot_count;
    return 0;
}

int report_account_compute(const report_prepared *p, uint32_t account, report_account_result *out,
                           const char **why) {
    assert(account < p->in->account_count);
    memset(out, 0, sizeof *out);
    out->account = account;
    run x = {.p = p, .why = why, .r = out};
    int rc = lay_out(&x, account);
    if (rc == 0)
        rc = walk(&x, account);
    if (rc == 0)
        rc = finish(&x);
    free(x.slot_of);
    free(x.slots);
    free(x.cur);
    if (rc == -ENOMEM && why != NULL)
        *why = "out of memory";
    if (rc != 0)
        report_account_free(out);
    return rc;
}

void report_account_free(report_account_result *r) {
    for (uint32_t c = 0; r->currencies != NULL && c < r->currency_count; c++)
        free(r->currencies[c].points);
    free(r->currencies);
    free(r->positions);
    memset(r, 0, sizeof *r);
}

int report_check_accounts(const report_prepared *p, const char **why) {
    for (uint32_t a = 0; a < p->in->account_count; a++) {
        report_account_result r;
        int rc = report_account_compute(p, a, &r, why);
        if (rc != 0)
            return rc;
        report_account_free(&r);
    }
    return 0;
}
