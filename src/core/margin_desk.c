/* The broker's margin desk: clearings, overnight fees and margin calls, decided on the live path
 * with the time the core thread gives (see margin.h). Each decision is an event. */
#include <assert.h>
#include <string.h>

#include "core/core.h"
#include "core/history.h"
#include "core/margin.h"
#include "core/valuation.h"
#include "util/checked.h"

#define NANO 1000000000LL
#define DAY_NS (86400LL * NANO)
/* A margin account is looked at this often for a margin call (the broker's own clock). */
#define MARGIN_WATCH_EVERY_NS (100LL * 1000 * 1000)
/* Fees are charged in whole kopecks (hundredths of the currency), rounded up. */
#define KOPECK_NANO 10000000LL

/* The newest scheduled clearing at or before `now_ns`; 0 when none is configured. */
static int64_t clearing_at_or_before(const core_margin_config *m, int64_t now_ns) {
    if (m->clearing_count == 0 || now_ns <= 0)
        return 0;
    int64_t day = now_ns / DAY_NS * DAY_NS;
    for (int k = (int)m->clearing_count - 1; k >= 0; k--)
        if (day + m->clearing_s[k] * NANO <= now_ns)
            return day + m->clearing_s[k] * NANO;
    return day >= DAY_NS ? day - DAY_NS + m->clearing_s[m->clearing_count - 1] * NANO : 0;
}

/* The newest day's last clearing at or before `now_ns` (0: none). */
static int64_t day_end_at_or_before(const core_margin_config *m, int64_t now_ns) {
    int64_t day = now_ns / DAY_NS * DAY_NS;
    int64_t last = day + m->clearing_s[m->clearing_count - 1] * NANO;
    if (last <= now_ns)
        return last;
    return day >= DAY_NS ? last - DAY_NS : 0;
}

/* The first scheduled clearing after `after_ns`. */
static int64_t clearing_after(const core_margin_config *m, int64_t after_ns) {
    if (m->clearing_count == 0)
        return INT64_MAX;
    int64_t day = after_ns / DAY_NS * DAY_NS;
    for (int d = 0; d < 2; d++, day += DAY_NS)
        for (uint32_t k = 0; k < m->clearing_count; k++)
            if (day + m->clearing_s[k] * NANO > after_ns)
                return day + m->clearing_s[k] * NANO;
    return INT64_MAX;
}

/* Settles every futures instrument that any account holds or has traded since the last clearing,
 * at its last price. */
static void run_clearing(core *c, int64_t clearing_ns, int64_t now_ns) {
    const refdata *rd = c->refdata;
    bool made = false;
    for (uint32_t i = 0; i < rd->instrument_count; i++) {
        if (rd->instruments[i].kind != INSTRUMENT_KIND_FUTURE)
            continue;
        bool held = false;
        for (uint32_t a = 0; a < c->accounts.capacity && !held; a++)
            held = ledger_position_get(&c->ledger, a, i)->balance_units != 0 ||
                   margin_future_get(c, a, i)->pending_vm_nano != 0;
        if (!held)
            continue;
        core_event ev = {
            .type = CORE_EVENT_FUTURES_CLEARING, .order = CORE_NO_ORDER, .time_ns = now_ns};
        ev.u.clearing =
            (core_event_clearing){.instrument = i,
                                  .price_nano = core_margin_mark_price(c, &rd->instruments[i]),
                                  .clearing_ns = clearing_ns};
        ev.seq = c->next_seq;
        if (core_event_applicable(c, &ev)) {
            core_commit_event(c, &ev);
            made = true;
        }
    }
    if (!made) {
        /* Nothing to settle: the clearing is recorded all the same (no instrument), so that a
         * restart knows it passed and neither makes it again nor charges its fees twice. */
        core_event ev = {
            .type = CORE_EVENT_FUTURES_CLEARING, .order = CORE_NO_ORDER, .time_ns = now_ns};
        ev.u.clearing = (core_event_clearing){.instrument = UINT32_MAX, .clearing_ns = clearing_ns};
        ev.seq = c->next_seq;
        if (core_event_applicable(c, &ev))
            core_commit_event(c, &ev);
    }
}

/* `amount` x `rate` (nano fractions), rounded up to a kopeck; 0 when either is 0. */
static int64_t fee_of(int64_t amount_nano, int64_t rate_nano) {
    __int128 fee = (__int128)amount_nano * rate_nano / NANO;
    fee = (fee + KOPECK_NANO - 1) / KOPECK_NANO * KOPECK_NANO;
    return fee > CORE_MAX_MONEY_NANO ? CORE_MAX_MONEY_NANO : (int64_t)fee;
}

static void charge(core *c, uint32_t account_index, uint32_t instrument_index, const char *currency,
                   int64_t fee, int64_t clearing_ns, int64_t now_ns) {
    if (fee <= 0)
        return;
    core_event ev = {.type = CORE_EVENT_MARGIN_FEE, .order = CORE_NO_ORDER, .time_ns = now_ns};
    core_event_margin_fee *f = &ev.u.margin_fee;
    f->account = account_index;
    f->instrument = instrument_index;
    size_t len = strnlen(currency, sizeof f->currency - 1);
    memcpy(f->currency, currency, len);
    f->currency[len] = '\0';
    f->amount_nano = fee;
    f->clearing_ns = clearing_ns;
    ev.seq = c->next_seq;
    if (core_event_applicable(c, &ev))
        core_commit_event(c, &ev);
}

/* Overnight fees of every margin account: on each currency it owes, and on the value of each
 * security it is short (futures excepted: their guarantee is not a loan). */
static void charge_overnight(core *c, int64_t clearing_ns, int64_t now_ns) {
    const core_margin_config *m = &c->config.margin;
    for (uint32_t a = 0; a < c->accounts.configured_count; a++) {
        if (!core_account_is_margin(c, a) ||
            refdata_account_status(&c->refdata->accounts[a]) != ACCOUNT_STATUS_OPEN)
            continue;
        ledger_cash cash[REFDATA_MAX_CURRENCIES];
        uint32_t n = core_account_cash(c, a, cash);
        for (uint32_t k = 0; k < n; k++)
            if (cash[k].balance_nano < 0)
                charge(c, a, UINT32_MAX, cash[k].currency,
                       fee_of(-cash[k].balance_nano, m->money_rate_per_day_nano), clearing_ns,
                       now_ns);
        for (uint32_t i = 0; i < c->refdata->instrument_count; i++) {
            const instrument *ins = &c->refdata->instruments[i];
            int64_t units = ledger_position_get(&c->ledger, a, i)->balance_units, value;
            if (units >= 0 || ins->kind == INSTRUMENT_KIND_FUTURE ||
                !valuation_amount(ins, core_margin_mark_price(c, ins), -units, &value))
                continue;
            charge(c, a, i, ins->currency, fee_of(value, m->shares_rate_per_day_nano), clearing_ns,
                   now_ns);
        }
    }
}

static bool has_margin_call_order(const core *c, uint32_t account_index) {
    for (uint32_t s = c->active_first[account_index]; s != CORE_NO_ORDER;
         s = c->orders[s].active_next)
        if (c->orders[s].source == ORDER_SOURCE_MARGIN_CALL)
            return true;
    return false;
}

/* The account's positions by the starting margin they take, largest first (at most `max`). */
static uint32_t positions_by_margin(const core *c, uint32_t account_index, uint32_t *out,
                                    int64_t *margin, uint32_t max) {
    uint32_t n = 0;
    for (uint32_t i = 0; i < c->refdata->instrument_count; i++) {
        int64_t m = core_margin_position_starting(c, account_index, i);
        if (m <= 0)
            continue;
        if (n == max && m <= margin[max - 1])
            continue; /* smaller than every one kept */
        uint32_t at = n < max ? n++ : max - 1;
        while (at > 0 && margin[at - 1] < m) {
            out[at] = out[at - 1];
            margin[at] = margin[at - 1];
            at--;
        }
        out[at] = i;
        margin[at] = m;
    }
    return n;
}

/* At most the lots one order may be worth (the order value limit of the instrument's currency):
 * a larger position is closed in several orders, one at a time. */
static int64_t lots_within_limit(const core *c, const instrument *ins, int64_t lots) {
    int64_t lot_value;
    if (!valuation_amount(ins, core_margin_mark_price(c, ins), ins->lot, &lot_value) ||
        lot_value <= 0)
        return lots;
    int64_t most = core_order_value_limit(c, ins->currency) / lot_value;
    return lots < most ? lots : most;
}

#define MARGIN_CALL_CANDIDATES 8
#define MARGIN_CALL_SPACING_NS (5LL * NANO)

/* Below the minimal margin, the broker closes the position that takes the most margin with a
 * market order (one at a time: the next look comes after it ended). */
static void margin_call(core *c, uint32_t account_index, int64_t now_ns) {
    margin_figures f;
    if (!core_margin_figures(c, account_index, NULL, &f) ||
        f.liquid_portfolio_nano >= f.minimal_margin_nano || has_margin_call_order(c, account_index))
        return;
    if (now_ns < c->margin.next_call_ns[account_index]) {
        /* Spaced: the next try is due then, even if nothing else happens meanwhile. */
        if (c->margin.retry_ns == 0 || c->margin.next_call_ns[account_index] < c->margin.retry_ns)
            c->margin.retry_ns = c->margin.next_call_ns[account_index];
        return;
    }
    uint32_t candidates[MARGIN_CALL_CANDIDATES];
    int64_t margin[MARGIN_CALL_CANDIDATES];
    uint32_t n = positions_by_margin(c, account_index, candidates, margin, MARGIN_CALL_CANDIDATES);
    for (uint32_t k = 0; k < n; k++) {
        const instrument *ins = &c->refdata->instruments[candidates[k]];
        int64_t units = ledger_position_get(&c->ledger, account_index, ins->index)->balance_units;
        int64_t lots = lots_within_limit(c, ins, (units < 0 ? -units : units) / ins->lot);
        if (lots == 0)
            continue;
        char key[ORDER_ID_SIZE];
        core_broker_key(c, 0x6d63000000000000ULL ^ c->next_seq, key);
        core_order_request req = {.token = NULL,
                                  .account_id = c->refdata->accounts[account_index].id,
                                  .instrument_id = ins->uid,
                                  .key = key,
                                  .quantity = lots,
                                  .direction = units > 0 ? DIRECTION_SELL : DIRECTION_BUY,
                                  .type = ORDER_TYPE_MARKET,
                                  .source = ORDER_SOURCE_MARGIN_CALL,
                                  .now_ns = now_ns};
        if (core_place_order(c, &req).error == CORE_OK) {
            /* An order the exchange ends unfilled (an empty book) is not sent again at once:
             * one margin call per account per MARGIN_CALL_SPACING_NS. */
            c->margin.next_call_ns[account_index] = now_ns + MARGIN_CALL_SPACING_NS;
            return;
        }
    }
}

int64_t core_margin_next_due_ns(const core *c) {
    int64_t due = INT64_MAX;
    if (c->config.margin.clearing_count > 0 && c->margin.cleared_through_ns != 0)
        due = clearing_after(&c->config.margin, c->margin.cleared_through_ns);
    /* A look for margin calls put off by the 100 ms spacing is due when the spacing ends: the
     * prices it would judge may not move again for a long time. */
    if (c->margin.watch_pending && c->margin.watched_ns + MARGIN_WATCH_EVERY_NS < due)
        due = c->margin.watched_ns + MARGIN_WATCH_EVERY_NS;
    if (c->margin.retry_ns != 0 && c->margin.retry_ns < due)
        due = c->margin.retry_ns;
    return due;
}

void core_margin_tick(core *c, int64_t now_ns) {
    const core_margin_config *m = &c->config.margin;
    if (m->clearing_count > 0) {
        int64_t due = clearing_at_or_before(m, now_ns);
        if (c->margin.cleared_through_ns == 0) {
            /* The first look after a start: a clearing the journal shows missed is made now;
             * none is made for the time before the broker's first clearing. */
            c->margin.cleared_through_ns =
                c->margin.last_clearing_ns != 0 ? c->margin.last_clearing_ns : due;
            if (c->margin.cleared_through_ns == 0)
                c->margin.cleared_through_ns = 1;
        }
        if (due > c->margin.cleared_through_ns) {
            /* The fees of the newest day's end passed since (made at its clearing, or at the
             * catch-up after a restart that missed it), before the clearing is recorded. */
            int64_t day_end = day_end_at_or_before(m, due);
            if (day_end > c->margin.cleared_through_ns)
                charge_overnight(c, due, now_ns);
            run_clearing(c, due, now_ns);
            c->margin.cleared_through_ns = due;
        }
    }
    if (now_ns - c->margin.watched_ns < MARGIN_WATCH_EVERY_NS && c->margin.watched_ns != 0) {
        c->margin.watch_pending = true;
        return;
    }
    c->margin.watched_ns = now_ns;
    c->margin.watch_pending = false;
    c->margin.retry_ns = 0;
    for (uint32_t a = 0; a < c->accounts.configured_count; a++)
        if (core_account_is_margin(c, a) && c->refdata->accounts[a].margin_call &&
            refdata_account_status(&c->refdata->accounts[a]) == ACCOUNT_STATUS_OPEN)
            margin_call(c, a, now_ns);
}
