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

void ledger_position_buy(ledger_position *pos, int64_t units, int64_t cost_nano) {
    assert(units > 0);
    __int128 held_cost = (__int128)pos->average_price_nano * pos->balance_units + cost_nano;
    bool fits = !__builtin_add_overflow(pos->balance_units, units, &pos->balance_units);
    assert(fits); /* the buy was checked for room in the position when it was accepted */
    (void)fits;
    pos->average_price_nano = (int64_t)(held_cost / pos->balance_units);
}

void ledger_position_sell(ledger_position *pos, int64_t units) {
    assert(units > 0 && units <= pos->balance_units);
    pos->balance_units -= units;
    if (pos->balance_units == 0)
        pos->average_price_nano = 0;
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
