#include "core/changes.h"

#include <assert.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "core/refdata.h"

int changes_init(core_changes *ch, uint32_t account_capacity, uint32_t instrument_count) {
    memset(ch, 0, sizeof *ch);
    ch->account_capacity = account_capacity;
    ch->instrument_count = instrument_count;
    size_t accounts = account_capacity ? account_capacity : 1;
    size_t cells = (size_t)accounts * (instrument_count ? instrument_count : 1);
    ch->accounts = calloc(accounts, sizeof *ch->accounts);
    ch->account_marked = calloc(accounts, 1);
    ch->cash_mask = calloc(accounts, sizeof *ch->cash_mask);
    ch->position_marked = calloc(cells, 1);
    if (ch->accounts == NULL || ch->account_marked == NULL || ch->cash_mask == NULL ||
        ch->position_marked == NULL) {
        changes_deinit(ch);
        return -ENOMEM;
    }
    return 0;
}

void changes_deinit(core_changes *ch) {
    free(ch->accounts);
    free(ch->account_marked);
    free(ch->cash_mask);
    free(ch->position_marked);
    memset(ch, 0, sizeof *ch);
}

void changes_mark_account(core_changes *ch, uint32_t account_index) {
    assert(account_index < ch->account_capacity);
    if (ch->account_marked[account_index])
        return;
    ch->account_marked[account_index] = 1;
    assert(ch->account_count < ch->account_capacity);
    ch->accounts[ch->account_count++] = account_index;
}

_Static_assert(REFDATA_MAX_CURRENCIES <= 32, "a cash slot is a bit of a 32-bit mask");

void changes_mark_cash(core_changes *ch, uint32_t account_index, uint32_t slot) {
    assert(slot < REFDATA_MAX_CURRENCIES);
    changes_mark_account(ch, account_index);
    ch->cash_mask[account_index] |= 1u << slot;
}

void changes_mark_position(core_changes *ch, uint32_t account_index, uint32_t instrument_index) {
    assert(instrument_index < ch->instrument_count);
    changes_mark_account(ch, account_index);
    ch->position_marked[(size_t)account_index * ch->instrument_count + instrument_index] = 1;
}

bool changes_position_marked(const core_changes *ch, uint32_t account_index,
                             uint32_t instrument_index) {
    assert(account_index < ch->account_capacity && instrument_index < ch->instrument_count);
    return ch->position_marked[(size_t)account_index * ch->instrument_count + instrument_index] !=
           0;
}

uint32_t changes_cash_mask(const core_changes *ch, uint32_t account_index) {
    assert(account_index < ch->account_capacity);
    return ch->cash_mask[account_index];
}

void changes_clear(core_changes *ch) {
    for (uint32_t i = 0; i < ch->account_count; i++) {
        uint32_t a = ch->accounts[i];
        ch->account_marked[a] = 0;
        ch->cash_mask[a] = 0;
        if (ch->instrument_count > 0)
            memset(&ch->position_marked[(size_t)a * ch->instrument_count], 0, ch->instrument_count);
    }
    ch->account_count = 0;
}
