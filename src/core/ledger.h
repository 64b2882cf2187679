/* Cash and positions of every account, with the amounts that open orders hold back.
 *
 * DESIGN: `blocked` amounts are reservations made when the broker accepts an order; a fill
 * settles part of a reservation, a cancel or reject releases the rest. Free = balance - blocked,
 * and every check of "enough cash / enough securities" looks at free amounts only. All values
 * are int64 nano (cash) or whole units of the security (positions). Callers check limits first:
 * these functions assert the invariants instead of reporting them. */
#ifndef TINVESTD_CORE_LEDGER_H
#define TINVESTD_CORE_LEDGER_H

#include <stdbool.h>
#include <stdint.h>

#include "core/refdata.h"

typedef struct ledger_cash {
    char currency[8];
    int64_t balance_nano;
    int64_t blocked_nano;
} ledger_cash;

typedef struct ledger_position {
    int64_t balance_units;
    int64_t blocked_units;
    /* Weighted average price of what is held, per unit, nano: of the buys of a long position,
     * of the sells of a short one. */
    int64_t average_price_nano;
} ledger_position;

typedef struct ledger {
    uint32_t account_count, instrument_count;
    ledger_cash *cash;          /* account_count * REFDATA_MAX_CURRENCIES */
    ledger_position *positions; /* account_count * instrument_count */
} ledger;

int ledger_init(ledger *lg, uint32_t account_count, uint32_t instrument_count);
void ledger_deinit(ledger *lg);

/* The cash slot of `currency` for the account, created empty on first use; NULL when the account
 * already holds REFDATA_MAX_CURRENCIES other currencies. */
ledger_cash *ledger_cash_slot(ledger *lg, uint32_t account_index, const char *currency);
const ledger_cash *ledger_cash_find(const ledger *lg, uint32_t account_index, const char *currency);
/* Whether the account holds `currency` already or has room for one more currency. */
bool ledger_cash_has_room(const ledger *lg, uint32_t account_index, const char *currency);
ledger_position *ledger_position_of(ledger *lg, uint32_t account_index, uint32_t instrument_index);
const ledger_position *ledger_position_get(const ledger *lg, uint32_t account_index,
                                           uint32_t instrument_index);

int64_t ledger_cash_free(const ledger *lg, uint32_t account_index, const char *currency);
int64_t ledger_units_free(const ledger *lg, uint32_t account_index, uint32_t instrument_index);

/* Records a trade of `units` (signed: a buy adds, a sell takes away) worth `value_nano`
 * (commission excluded) into the position and its average price per unit: the average of what is
 * held on the position's side (a long's buys, a short's sells). A margin account's position may
 * go below zero (a short). ledger_trade_fits says whether the figures fit. */
bool ledger_trade_fits(const ledger_position *pos, int64_t units, int64_t value_nano);
void ledger_position_trade(ledger_position *pos, int64_t units, int64_t value_nano);

/* Empties an account's cash and positions (a sandbox slot given to a new account). */
void ledger_clear_account(ledger *lg, uint32_t account_index);

/* Order-independent fingerprint of every balance, for replay and recovery checks. */
uint64_t ledger_hash(const ledger *lg, uint64_t seed);

#endif
