/* CurrencyTransfer: money between two broker accounts of one owner, as one journaled event
 * (CORE_EVENT_CURRENCY_TRANSFER; its apply moves the money and makes an operation on each side). */
#include <string.h>

#include "core/history.h"
#include "util/checked.h"
#include "util/uuid.h"

/* The account money may leave: a working broker account the token may trade on. */
static core_error source_account(const core *c, const token *tok, const char *id,
                                 const account **out) {
    core_error err = core_account_for(c, tok, id, true, out);
    if (err != CORE_OK)
        return err;
    return (*out)->sandbox || refdata_account_status(*out) != ACCOUNT_STATUS_OPEN
               ? CORE_ERR_TRANSFER_FROM_INVALID
               : CORE_OK;
}

/* The account money may enter: a working broker account the token can see (its owner's). */
static core_error target_account(const core *c, const token *tok, const char *id,
                                 const account **out) {
    const account *acc = refdata_find_account(c->refdata, id);
    if (acc == NULL || acc->sandbox || refdata_account_status(acc) != ACCOUNT_STATUS_OPEN)
        return CORE_ERR_TRANSFER_TO_INVALID;
    access_level level = refdata_access(tok, acc);
    if (level != ACCESS_FULL && level != ACCESS_READ_ONLY)
        return CORE_ERR_TRANSFER_TO_INVALID;
    *out = acc;
    return CORE_OK;
}

core_error core_currency_transfer(core *c, const token *tok, const char *from_account_id,
                                  const char *to_account_id, const char *currency,
                                  int64_t amount_nano, const char *transaction_id, int64_t now_ns,
                                  bool *duplicate) {
    *duplicate = false;
    if (from_account_id == NULL || from_account_id[0] == '\0')
        return CORE_ERR_TRANSFER_FROM_MISSING;
    if (to_account_id == NULL || to_account_id[0] == '\0')
        return CORE_ERR_TRANSFER_TO_MISSING;
    if (transaction_id == NULL || transaction_id[0] == '\0')
        return CORE_ERR_TRANSFER_ID_MISSING;
    size_t id_len = strlen(transaction_id);
    if (!uuid_is_valid(transaction_id, id_len))
        return CORE_ERR_TRANSFER_ID_INVALID;
    if (amount_nano <= 0 || currency == NULL || currency[0] == '\0' || strlen(currency) >= 8)
        return CORE_ERR_PAY_IN_AMOUNT_INVALID;
    const account *from, *to;
    core_error err = source_account(c, tok, from_account_id, &from);
    if (err != CORE_OK)
        return err;
    if ((err = target_account(c, tok, to_account_id, &to)) != CORE_OK)
        return err;
    if (from->index == to->index)
        return CORE_ERR_TRANSFER_SAME_ACCOUNT;
    char id[ORDER_ID_SIZE];
    for (size_t i = 0; i <= id_len; i++)
        id[i] = (char)(transaction_id[i] >= 'A' && transaction_id[i] <= 'F'
                           ? transaction_id[i] - 'A' + 'a'
                           : transaction_id[i]);
    /* Idempotency first: a repeat after the money moved is the same transfer, not a new one
     * that finds the money gone. */
    const core_operation *done = operations_find_transfer(c, from->index, id);
    if (done != NULL) {
        if (done->counterpart != to->index || strcmp(done->currency, currency) != 0 ||
            done->payment_nano != -amount_nano)
            return CORE_ERR_TRANSFER_ID_REUSED;
        *duplicate = true;
        return CORE_OK;
    }
    const ledger_cash *source = ledger_cash_find(&c->ledger, from->index, currency);
    if (source == NULL)
        return CORE_ERR_TRANSFER_CURRENCY;
    if (ledger_cash_free(&c->ledger, from->index, currency) < amount_nano)
        return CORE_ERR_TRANSFER_NOT_ENOUGH;
    /* A margin account keeps what its positions and orders need: the money leaving counts off
     * its liquid portfolio (in roubles; a currency without a rate is outside it), which must
     * still cover the corrected margin. */
    if (core_account_is_margin(c, from->index)) {
        margin_figures f;
        int64_t leaving = 0;
        if (!core_margin_figures(c, from->index, NULL, &f))
            return CORE_ERR_TRANSFER_NOT_ENOUGH;
        if (!core_margin_in_roubles(c->refdata, currency, amount_nano, &leaving))
            leaving = 0;
        if ((__int128)f.liquid_portfolio_nano - leaving < f.corrected_margin_nano)
            return CORE_ERR_TRANSFER_NOT_ENOUGH;
    }
    if (!ledger_cash_has_room(&c->ledger, to->index, currency))
        return CORE_ERR_CURRENCY_LIMIT;
    const ledger_cash *target = ledger_cash_find(&c->ledger, to->index, currency);
    int64_t after;
    if (!checked_add(target != NULL ? target->balance_nano : 0, amount_nano, &after) ||
        after > CORE_MAX_MONEY_NANO)
        return CORE_ERR_TRANSFER_TOO_LARGE;
    core_event ev = {
        .type = CORE_EVENT_CURRENCY_TRANSFER, .order = CORE_NO_ORDER, .time_ns = now_ns};
    ev.u.transfer.from = from->index;
    ev.u.transfer.to = to->index;
    memcpy(ev.u.transfer.currency, source->currency, sizeof ev.u.transfer.currency);
    ev.u.transfer.amount_nano = amount_nano;
    memcpy(ev.u.transfer.transaction_id, id, sizeof id);
    core_commit_event(c, &ev);
    return CORE_OK;
}
