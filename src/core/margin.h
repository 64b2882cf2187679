/* Margin trading: credit, short selling and futures on guarantee margin, as the broker measures
 * them.
 *
 * DESIGN: a margin account (refdata account.margin) may hold a negative cash balance (money
 * borrowed from the broker) and negative positions (securities sold short) as long as its liquid
 * portfolio covers the starting margin of what it holds and has ordered; a cash account may do
 * neither, nor trade futures. The figures follow the contract's GetMarginAttributes:
 *
 *   liquid portfolio   cash (every currency at its rouble rate) + the value of each long position
 *                      with a long risk rate + the (negative) value of each short position + the
 *                      futures' variation margin not paid yet;
 *   starting margin    sum of |value| x rate (dlong / dshort, or dlong_min / dshort_min at the high
 *                      risk level) over the positions, + each futures position's guarantee;
 *   minimal margin     the same at half the rates and half the guarantee;
 *   corrected margin   the starting margin of the planned positions: positions plus what the
 *                      active orders would add (buys long, sells short);
 *   sufficiency level  (liquid - minimal) / (starting - minimal), to two decimals;
 *   missing funds      starting - liquid.
 *
 * Positions are valued at the instrument's last price (its reference price before any trade),
 * brought inside the best bid and ask when the quotes have moved away from it (a market maker's
 * move with no trade since: the last trade is stale then). An
 * order that adds exposure is accepted when the corrected margin with it stays within the liquid
 * portfolio; one that only reduces exposure always is. Below the minimal margin the broker closes
 * positions (core_margin_watch). A futures position holds its guarantee blocked in the cash of its
 * currency; its variation margin is counted from the last clearing's price (or the price it was
 * opened at) and paid at each clearing (CORE_EVENT_FUTURES_CLEARING), with what trades since the
 * last clearing realised. Overnight fees (CORE_EVENT_MARGIN_FEE) are charged at the day's last
 * clearing on borrowed money and on the value sold short.
 *
 * Everything that changes balances is an event, applied by core_apply() live and in replay. The
 * figures are derived and computed when asked: pure, no clock, no I/O. */
#ifndef TINVESTD_CORE_MARGIN_H
#define TINVESTD_CORE_MARGIN_H

#include <stdbool.h>
#include <stdint.h>

#include "core/errors.h"
#include "core/refdata.h"
#include "core/types.h"

struct core;

/* A futures position's state beyond its units (core ledger_position). */
typedef struct margin_future {
    int64_t guarantee_nano;      /* blocked in the cash of the instrument's currency */
    int64_t clearing_price_nano; /* the price its variation margin counts from */
    int64_t pending_vm_nano;     /* variation margin of units traded since the last clearing */
} margin_future;

typedef struct core_margin_state {
    margin_future *futures; /* accounts.capacity x instrument_count */
    uint32_t instrument_count;
    /* The newest clearing applied (its scheduled time), 0 before the first. */
    int64_t last_clearing_ns;
    /* Live-path bookkeeping, not part of the recorded state (core_margin_tick): the clearings
     * done or passed over up to this time, and when margin calls were last looked for. */
    int64_t cleared_through_ns, watched_ns;
    bool watch_pending; /* a look was put off by the spacing: due at watched_ns + 100 ms */
    int64_t retry_ns;   /* a margin call put off by its 5 s spacing is due then (0: none) */
    /* Scratch of the figures (instrument_count entries): what the active orders add to each
     * position. The core is single-threaded; nothing keeps it between calls. */
    int64_t *planned;
    /* Live-path bookkeeping per account slot: no margin call before this time (5 s after the
     * last one was placed, so that an order the exchange ends unfilled is not repeated at once). */
    int64_t *next_call_ns;
} core_margin_state;

typedef struct margin_figures {
    int64_t liquid_portfolio_nano; /* roubles, like every figure here */
    int64_t starting_margin_nano;
    int64_t minimal_margin_nano;
    int64_t corrected_margin_nano;
    int64_t funds_sufficiency_nano; /* a ratio in nano, rounded down to 0.01; 0 without margin */
    int64_t missing_funds_nano;
} margin_figures;

/* An order not placed yet, counted in the planned positions; `skip` an active order it replaces
 * (not counted: ReplaceOrder's old order, a replacement being armed), or CORE_NO_ORDER. */
typedef struct margin_extra {
    uint32_t instrument;
    int64_t units; /* signed: a buy adds, a sell takes away */
    uint32_t skip;
} margin_extra;

int margin_init(struct core *c);
void margin_deinit(struct core *c);
void margin_reset(struct core *c);

/* Whether the account trades on margin (a configured margin account). */
bool core_account_is_margin(const struct core *c, uint32_t account_index);

margin_future *margin_future_of(struct core *c, uint32_t account_index, uint32_t instrument_index);
const margin_future *margin_future_get(const struct core *c, uint32_t account_index,
                                       uint32_t instrument_index);

/* The money a futures price difference makes on `units` contracts (signed both): each step of
 * min_price_increment is worth min_price_increment_amount. False on overflow. */
bool margin_points_value(const instrument *ins, int64_t price_diff_nano, int64_t units,
                         int64_t *out_nano);
/* The guarantee `units` contracts hold (signed: long takes the buy side's, short the sell
 * side's, either initial_margin when that side has none of its own); false on overflow. */
bool margin_guarantee(const instrument *ins, int64_t units, int64_t *out_nano);
/* The starting-margin rate of a long (`long_side`) or short position at the account's risk
 * level, nano; 0 when the instrument has none on that side. */
int64_t margin_rate(const instrument *ins, account_risk_level level, bool long_side);

/* The price a position is valued at: the last trade's (the reference price before any), brought
 * inside the best bid and ask when the quotes have moved away from it. */
int64_t core_margin_mark_price(const struct core *c, const instrument *ins);

/* The account's figures now; `extra` (or NULL) counted in the corrected margin. False when a sum
 * does not fit in int64 (the order that asked is refused). */
bool core_margin_figures(const struct core *c, uint32_t account_index, const margin_extra *extra,
                         margin_figures *out);

/* Whether an order of `units` (signed) only reduces the account's exposure in the instrument:
 * with the active orders of its side (`skip` not counted) it never turns the position past zero. */
bool core_margin_reduces(const struct core *c, uint32_t account_index, uint32_t instrument_index,
                         int64_t units, uint32_t skip);
/* Whether a margin account may place an order of `units` (signed) of `ins`: one that only reduces
 * exposure always may; otherwise a short needs short_enabled and a short rate, a buy of an
 * instrument without a long rate `own_cash_nano` of free money (what the buy holds), a future a
 * guarantee on its side, an instrument in a currency without a rouble rate the cash account's
 * rules, and the corrected margin with the order must stay within the liquid portfolio. `skip`:
 * an active order the new one replaces, or CORE_NO_ORDER. */
core_error core_margin_admit(const struct core *c, const account *acc, const instrument *ins,
                             int64_t units, int64_t own_cash_nano, uint32_t skip);
/* The most lots of `ins` the account may buy (`buy`) or sell by core_margin_admit, 0 ..
 * max_lots, a buy's own money counted at `price_nano`. */
int64_t core_margin_max_lots(const struct core *c, const account *acc, const instrument *ins,
                             bool buy, int64_t price_nano, int64_t max_lots);
/* `amount_nano` of `currency` in roubles; false without a rate (or past int64). */
bool core_margin_in_roubles(const refdata *rd, const char *currency, int64_t amount_nano,
                            int64_t *out_nano);

/* The starting margin the account's position in the instrument takes now, roubles (0: none). */
int64_t core_margin_position_starting(const struct core *c, uint32_t account_index,
                                      uint32_t instrument_index);

/* The margin desk (core/margin_desk.c), called by the core thread after each batch with the
 * broker's time: makes the clearing due since the last one (CORE_EVENT_FUTURES_CLEARING per
 * futures instrument held; at the day's last clearing the overnight fees, CORE_EVENT_MARGIN_FEE)
 * and, every 100 ms, closes a position of each margin account below its minimal margin whose
 * `margin_call` is on (a market order of source ORDER_SOURCE_MARGIN_CALL; one at a time, at most
 * one every 5 s per account). */
void core_margin_tick(struct core *c, int64_t now_ns);
/* When the next clearing is due (INT64_MAX: none configured, or not looked at yet), so that the
 * core thread wakes for it. */
int64_t core_margin_next_due_ns(const struct core *c);

/* The apply of a futures fill (core_apply): `units` contracts (signed) traded at `price_nano`.
 * Moves the variation margin count and the guarantee (blocked cash) to the new position; the
 * ledger position's units are the caller's. */
void margin_on_futures_fill(struct core *c, uint32_t account_index, uint32_t instrument_index,
                            int64_t position_before, int64_t units, int64_t price_nano);

/* Fingerprint of the futures state, for core_state_hash. */
uint64_t margin_hash(const struct core *c, uint64_t seed);

#endif
