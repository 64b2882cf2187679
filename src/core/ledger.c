#include "core/ledger.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

int ledger_init(ledger *lg, uint32_t account_count, uint32_t instrument_count) {
    lg->account_count = account_count;
    lg->instrument_count = instrument_count;
    size_t accounts = account_count ? account_count : 1;
    size_t instruments = instrument_count ? instrument_count : 1;
    lg->cash = calloc(accounts * REFDATA_MAX_CURRENCIES, sizeof *lg->cash);
    lg->positions = calloc(accounts * instruments, sizeof *lg->positions);
    if (lg->cash == NULL || lg->positions == NULL) {
        ledger_deinit(lg);
        return -ENOMEM;
    }
    return 0;
}

void ledger_deinit(ledger *lg) {
    free(lg->cash);
    free(lg->positions);
    lg->cash = NULL;
    lg->positions = NULL;
}

/* A slot's currency against a code: a few letters, compared in line (a call to strcmp for each
 * was a tenth of replay's apply). The slot's code is terminated within its array. */
static inline bool currency_is(const char slot[8], const char *currency) {
    for (size_t i = 0; i < 8; i++) {
        if (slot[i] != currency[i])
            return false;
        if (slot[i] == '\0')
            return true;
    }
    return false;
}

const ledger_cash *ledger_cash_find(const ledger *lg, uint32_t account_index,
                                    const char *currency) {
    assert(account_index < lg->account_count);
    const ledger_cash *slots = &lg->cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    for (int i = 0; i < REFDATA_MAX_CURRENCIES && slots[i].currency[0] != '\0'; i++)
        if (currency_is(slots[i].currency, currency))
            return &slots[i];
    return NULL;
}

bool ledger_cash_has_room(const ledger *lg, uint32_t account_index, const char *currency) {
    const ledger_cash *slots = &lg->cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    return ledger_cash_find(lg, account_index, currency) != NULL ||
           slots[REFDATA_MAX_CURRENCIES - 1].currency[0] == '\0';
}

ledger_cash *ledger_cash_slot(ledger *lg, uint32_t account_index, const char *currency) {
    assert(account_index < lg->account_count && strlen(currency) < sizeof lg->cash[0].currency);
    ledger_cash *slots = &lg->cash[(size_t)account_index * REFDATA_MAX_CURRENCIES];
    for (int i = 0; i < REFDATA_MAX_CURRENCIES; i++) {
        if (slots[i].currency[0] == '\0') {
            strcpy(slots[i].currency, currency);
            return &slots[i];
        }
        if (currency_is(slots[i].currency, currency))
            return &slots[i];
    }
    return NULL;
}

ledger_position *ledger_position_of(ledger *lg, uint32_t account_index, uint32_t instrument_index) {
    assert(account_index < lg->account_count && instrument_index < lg->instrument_count);
    return &lg->positions[(size_t)account_index * lg->instrument_count + instrument_index];
}

const ledger_position *ledger_position_get(const ledger *lg, uint32_t account_index,
                                           uint32_t instrument_index) {
    assert(account_index < lg->account_count && instrument_index < lg->instrument_count);
    return &lg->positions[(size_t)account_index * lg->instrument_count + instrument_index];
}

int64_t ledger_cash_free(const ledger *lg, uint32_t account_index, const char *currency) {
    const ledger_cash *cash = ledger_cash_find(lg, account_index, currency);
    return cash == NULL ? 0 : cash->balance_nano - cash->blocked_nano;
}

int64_t ledger_units_free(const ledger *lg, uint32_t account_index, uint32_t instrument_index) {
    const ledger_position *pos = ledger_position_get(lg, account_index, instrument_index);
    return pos->balance_units - pos->blocked_units;
}

/* The average after a trade: a trade on the position's side (or opening one) averages in its
 * value; one against it keeps the average of what is left, and one that turns the position past
 * zero starts the new side at its own price. False when a figure does not fit. */
static bool traded_position(const ledger_position *pos, int64_t units, int64_t value_nano,
                            int64_t *balance, int64_t *average) {
    int64_t before = pos->balance_units;
    if (units == 0 || value_nano < 0 || units == INT64_MIN ||
        __builtin_add_overflow(before, units, balance))
        return false;
    int64_t size = before < 0 ? -before : before, traded = units < 0 ? -units : units;
    if (before == 0 || (before > 0) == (units > 0)) {
        __int128 cost = (__int128)pos->average_price_nano * size + value_nano;
        __int128 avg = cost / ((__int128)size + traded);
        if (avg > INT64_MAX)
            return false;
        *average = (int64_t)avg;
    } else if (*balance == 0) {
        *average = 0;
    } else if ((*balance > 0) != (before > 0)) {
        *average = value_nano / traded;
    } else {
        *average = pos->average_price_nano;
    }
    return true;
}

bool ledger_trade_fits(const ledger_position *pos, int64_t units, int64_t value_nano) {
    int64_t balance, average;
    return traded_position(pos, units, value_nano, &balance, &average);
}

void ledger_position_trade(ledger_position *pos, int64_t units, int64_t value_nano) {
    int64_t balance, average;
    bool fits = traded_position(pos, units, value_nano, &balance, &average);
    assert(fits); /* the trade was checked for room in the position when it was accepted */
    (void)fits;
    pos->balance_units = balance;
    pos->average_price_nano = average;
}

void ledger_clear_account(ledger *lg, uint32_t account_index) {
    assert(account_index < lg->account_count);
    memset(&lg->cash[(size_t)account_index * REFDATA_MAX_CURRENCIES], 0,
           REFDATA_MAX_CURRENCIES * sizeof *lg->cash);
    memset(&lg->positions[(size_t)account_index * lg->instrument_count], 0,
           lg->instrument_count * sizeof *lg->positions);
}

static uint64_t mix(uint64_t h, uint64_t v) {
    h ^= v + 0x9e3779b97f4a7c15ULL + (h << 6) + (h >> 2);
    h *= 0xff51afd7ed558ccdULL;
    return h ^ (h >> 33);
}

uint64_t ledger_hash(const ledger *lg, uint64_t seed) {
    uint64_t h = seed;
    for (size_t i = 0; i < (size_t)lg->account_count * REFDATA_MAX_CURRENCIES; i++) {
        const ledger_cash *c = &lg->cash[i];
        if (c->currency[0] == '\0')
            continue;
        uint64_t code = 0;
        memcpy(&code, c->currency, strlen(c->currency) < 8 ? strlen(c->currency) : 8);
        h = mix(h, i);
        h = mix(h, code);
        h = mix(h, (uint64_t)c->balance_nano);
        h = mix(h, (uint64_t)c->blocked_nano);
    }
    for (size_t i = 0; i < (size_t)lg->account_count * lg->instrument_count; i++) {
        const ledger_position *p = &lg->positions[i];
        if (p->balance_units == 0 && p->blocked_units == 0)
            continue;
        h = mix(h, i);
        h = mix(h, (uint64_t)p->balance_units);
        h = mix(h, (uint64_t)p->blocked_units);
        h = mix(h, (uint64_t)p->average_price_nano);
    }
    return h;
}
