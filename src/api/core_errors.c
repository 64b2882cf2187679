#include "api/core_errors.h"

#include <assert.h>

/* Indexed by core_error; every value has an entry (checked by the static assert). */
static const api_core_error table[] = {
    [CORE_OK] = {0, NULL},
    [CORE_ERR_ORDER_ID_MISSING] = {30027, NULL},
    [CORE_ERR_ORDER_ID_TOO_LONG] = {30055, NULL},
    [CORE_ERR_ORDER_ID_NOT_UUID] = {30028, NULL},
    [CORE_ERR_ACCOUNT_MISSING] = {30021, NULL},
    [CORE_ERR_INSTRUMENT_MISSING] = {30237, NULL},
    [CORE_ERR_QUANTITY_ZERO] = {30015, NULL},
    [CORE_ERR_QUANTITY_NEGATIVE] = {30080, NULL},
    [CORE_ERR_DIRECTION_MISSING] = {30019, NULL},
    [CORE_ERR_DIRECTION_INVALID] = {30020, NULL},
    [CORE_ERR_ORDER_TYPE_MISSING] = {30025, NULL},
    [CORE_ERR_ORDER_TYPE_INVALID] = {30026, NULL},
    [CORE_ERR_TIME_IN_FORCE_INVALID] = {30254, NULL},
    [CORE_ERR_PRICE_TYPE_INVALID] = {30104, NULL},
    [CORE_ERR_PRICE_MISSING] = {30017, NULL},
    [CORE_ERR_PRICE_NOT_POSITIVE] = {30100, NULL},
    [CORE_ERR_PRICE_STEP] = {30078, NULL},
    [CORE_ERR_REPLACE_KEY_MISSING] = {30029, NULL},
    [CORE_ERR_REPLACE_KEY_TOO_LONG] = {30030, NULL},
    [CORE_ERR_ACCOUNT_NOT_FOUND] = {50004, NULL},
    [CORE_ERR_ACCOUNT_NO_ACCESS] = {40002, NULL},
    [CORE_ERR_INSTRUMENT_NOT_FOUND] = {50002, NULL},
    [CORE_ERR_ORDER_NOT_FOUND] = {50005, NULL},
    [CORE_ERR_API_TRADING_FORBIDDEN] = {30052, NULL},
    [CORE_ERR_NOT_TRADING] = {30079, NULL},
    [CORE_ERR_AMOUNT_TOO_LARGE] = {30109, NULL},
    [CORE_ERR_PRICE_TOO_HIGH] = {90003, NULL},
    [CORE_ERR_NOT_ENOUGH_BALANCE] = {30034, NULL},
    [CORE_ERR_NOT_ENOUGH_ASSETS] = {30042, NULL},
    [CORE_ERR_DUPLICATE_KEY] = {30057,
                                "The order is a duplicate: this key was already used for an order "
                                "with different parameters"},
    [CORE_ERR_ORDER_NOT_ACTIVE] = {30059, "Cancel order error: the order is not active"},
    [CORE_ERR_ORDER_FILLED] = {30059, "Cancel order error: the order is filled"},
    [CORE_ERR_BROKER_CAPACITY] = {80002,
                                  "The broker holds as many orders as it can: try again once "
                                  "older finished orders have left the history"},
    [CORE_ERR_ACCOUNT_ORDER_LIMIT] = {30049,
                                      "Post order error: the account holds the most orders it "
                                      "may (active and recently finished)"},
    [CORE_ERR_SANDBOX_ACCOUNT_LIMIT] = {35001, NULL},
    [CORE_ERR_PAY_IN_AMOUNT_INVALID] = {30246, NULL},
    [CORE_ERR_PAY_IN_TOO_LARGE] = {30246, "Invalid parameter: `amount`: the balance would exceed "
                                          "1000000000 units of the currency"},
    [CORE_ERR_CURRENCY_LIMIT] = {30258, NULL},
    [CORE_ERR_EXCHANGE_PRICE_LIMITS] = {30099, NULL},
    [CORE_ERR_EXCHANGE_NOT_TRADING] = {30098, NULL},
    [CORE_ERR_EXCHANGE_REJECTED] = {30095, NULL},
    [CORE_ERR_REPLACED_ORDER_ENDED] = {30059,
                                       "Cancel order error: the order to replace ended before it "
                                       "could be cancelled"},
    [CORE_ERR_STOP_PRICE_MISSING] = {30036, NULL},
    [CORE_ERR_STOP_TYPE_MISSING] = {30037, NULL},
    [CORE_ERR_STOP_TYPE_INVALID] = {30038, NULL},
    [CORE_ERR_STOP_TRAILING_INVALID] = {30039, NULL},
    [CORE_ERR_STOP_EXPIRE_DATE_INVALID] = {30040, NULL},
    [CORE_ERR_STOP_EXPIRATION_MISSING] = {30043, NULL},
    [CORE_ERR_STOP_EXPIRATION_INVALID] = {30044, NULL},
    [CORE_ERR_STOP_EXPIRE_DATE_RANGE] = {30063, NULL},
    [CORE_ERR_STOP_CHILD_TYPE_INVALID] = {30105, NULL},
    [CORE_ERR_STOP_STATUS_INVALID] = {30106, NULL},
    [CORE_ERR_STOP_TRAILING_MISSING] = {30210, NULL},
    [CORE_ERR_STOP_INDENT_TYPE_MISSING] = {30211, NULL},
    [CORE_ERR_STOP_SPREAD_TYPE_MISSING] = {30212, NULL},
    [CORE_ERR_STOP_TAKE_PROFIT_TYPE_INVALID] = {30241, NULL},
    [CORE_ERR_STOP_WRONG_SIDE] = {30053,
                                  "Post stop_order error: the stop price is on the wrong side of "
                                  "the last price (the stop order would trigger at once)"},
    [CORE_ERR_STOP_ACCOUNT_LIMIT] = {30053,
                                     "Post stop_order error: the account holds the most stop "
                                     "orders it may (active and recently finished)"},
    [CORE_ERR_STOP_CAPACITY] = {80002,
                                "The broker holds as many stop orders as it can: try again once "
                                "older finished ones have left the history"},
    [CORE_ERR_STOP_NOT_FOUND] = {50006, NULL},
    [CORE_ERR_STOP_NOT_ACTIVE] = {30060, "Cancel stop-order error: the stop order is not active"},
    [CORE_ERR_TRANSFER_FROM_MISSING] = {30249, NULL},
    [CORE_ERR_TRANSFER_TO_MISSING] = {30248, NULL},
    [CORE_ERR_TRANSFER_FROM_INVALID] = {30252, NULL},
    [CORE_ERR_TRANSFER_TO_INVALID] = {30250, NULL},
    [CORE_ERR_TRANSFER_SAME_ACCOUNT] = {30251, "Transaction error: `from_account_id` and "
                                               "`to_account_id` name the same account"},
    [CORE_ERR_TRANSFER_CURRENCY] = {30258, NULL},
    [CORE_ERR_TRANSFER_NOT_ENOUGH] = {30251, "Transaction error: not enough free money in that "
                                             "currency on `from_account_id`"},
    [CORE_ERR_TRANSFER_ID_MISSING] = {30256, NULL},
    [CORE_ERR_TRANSFER_ID_INVALID] = {30257, NULL},
    [CORE_ERR_TRANSFER_ID_REUSED] = {30251, "Transaction error: this `transaction_id` was used "
                                            "for a transfer with other terms"},
    [CORE_ERR_TRANSFER_TOO_LARGE] = {30246, "Invalid parameter: `amount`: the balance of "
                                            "`to_account_id` would exceed 1000000000 units of "
                                            "the currency"},
    [CORE_ERR_FAVORITE_GROUP_ID_MISSING] = {30230, NULL},
    [CORE_ERR_FAVORITE_GROUP_NAME_INVALID] = {30231, NULL},
    [CORE_ERR_FAVORITE_GROUP_COLOR_INVALID] = {30232, NULL},
    [CORE_ERR_FAVORITE_GROUP_NOT_FOUND] = {50013, NULL},
    [CORE_ERR_FAVORITE_INSTRUMENT_MISSING] = {30093, NULL},
    [CORE_ERR_FAVORITES_LIMIT] = {30091, "Quantity of favorite instruments can't be more than "
                                         "the user's limit (all lists together)"},
    [CORE_ERR_FAVORITE_GROUPS_LIMIT] = {30231, "`group_name`: the user holds as many favorite "
                                               "groups as it may; delete one first"},
    [CORE_ERR_FAVORITES_ACTION_INVALID] = {30102, "Invalid parameter: `action_type` must be "
                                                  "EDIT_FAVORITES_ACTION_TYPE_ADD or "
                                                  "EDIT_FAVORITES_ACTION_TYPE_DEL"},
    [CORE_ERR_MARGIN_DISABLED] = {30051, NULL},
    [CORE_ERR_MARGIN_NOT_ENOUGH] = {30042, NULL},
    [CORE_ERR_SHORT_NOT_ALLOWED] = {30042, "Not enough assets for a margin trade: the instrument "
                                           "may not be sold short"},
};

_Static_assert(sizeof table / sizeof table[0] == CORE_ERROR_COUNT,
               "every core_error needs a wire mapping");

const api_core_error *api_core_error_of(core_error error) {
    assert((unsigned)error < CORE_ERROR_COUNT);
    assert(error == CORE_OK || table[error].code != 0);
    return &table[error];
}

int api_core_error_code(core_error error) {
    return api_core_error_of(error)->code;
}

void api_reply_core_error(api_call *call, core_error error) {
    const api_core_error *e = api_core_error_of(error);
    if (e->message != NULL)
        api_reply_error_message(call, e->code, e->message);
    else
        api_reply_error(call, e->code);
}
