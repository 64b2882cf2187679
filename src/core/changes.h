/* Which holdings the events of one batch changed: per account, its cash slots and its positions.
 *
 * DESIGN: the portfolio and positions streams need to know, after each batch, whose cash or
 * positions moved, without comparing whole ledgers. The apply of every event marks what it
 * touched (core_apply, live and replay alike); the engine reads the marks once the batch is
 * applied and clears them. The marks are derived from applied events and always empty between
 * batches, so they are neither journaled nor snapshotted. Memory is fixed at start: a byte per
 * (account slot, instrument) and a mask and a flag per account slot. Pure, like the rest of the
 * core. */
#ifndef TINVESTD_CORE_CHANGES_H
#define TINVESTD_CORE_CHANGES_H

#include <stdbool.h>
#include <stdint.h>

typedef struct core_changes {
    uint32_t account_capacity, instrument_count;
    uint32_t *accounts;       /* the accounts marked, in the order first marked */
    uint32_t account_count;   /* entries of `accounts` */
    uint8_t *account_marked;  /* per account slot: 1 once listed */
    uint32_t *cash_mask;      /* per account slot: bit i = ledger cash slot i changed */
    uint8_t *position_marked; /* account_capacity * instrument_count */
} core_changes;

int changes_init(core_changes *ch, uint32_t account_capacity, uint32_t instrument_count);
void changes_deinit(core_changes *ch);

/* The account changed (opened, emptied): listed, with nothing more specific marked. */
void changes_mark_account(core_changes *ch, uint32_t account_index);
/* Cash slot `slot` (its place in the account's ledger cash, < REFDATA_MAX_CURRENCIES). */
void changes_mark_cash(core_changes *ch, uint32_t account_index, uint32_t slot);
void changes_mark_position(core_changes *ch, uint32_t account_index, uint32_t instrument_index);

bool changes_position_marked(const core_changes *ch, uint32_t account_index,
                             uint32_t instrument_index);
uint32_t changes_cash_mask(const core_changes *ch, uint32_t account_index);

/* Forgets every mark; costs what was marked, not the size of the ledger. */
void changes_clear(core_changes *ch);

#endif
