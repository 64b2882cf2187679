/* Every business outcome the core refuses with, as one typed enum.
 *
 * DESIGN: the core says what went wrong in its own terms; the transport maps each value to the
 * T-Invest code, gRPC status and message in one table (api/core_errors.c). Values are stored in
 * journal records (an order's reject reason), so existing numbers never change: new ones are
 * added before CORE_ERROR_COUNT. */
#ifndef TINVESTD_CORE_ERRORS_H
#define TINVESTD_CORE_ERRORS_H

typedef enum core_error {
    CORE_OK = 0,
    /* Request shape. */
    CORE_ERR_ORDER_ID_MISSING = 1,
    CORE_ERR_ORDER_ID_TOO_LONG = 2,
    CORE_ERR_ORDER_ID_NOT_UUID = 3,
    CORE_ERR_ACCOUNT_MISSING = 4,
    CORE_ERR_INSTRUMENT_MISSING = 5,
    CORE_ERR_QUANTITY_ZERO = 6,
    CORE_ERR_QUANTITY_NEGATIVE = 7,
    CORE_ERR_DIRECTION_MISSING = 8,
    CORE_ERR_DIRECTION_INVALID = 9,
    CORE_ERR_ORDER_TYPE_MISSING = 10,
    CORE_ERR_ORDER_TYPE_INVALID = 11,
    CORE_ERR_TIME_IN_FORCE_INVALID = 12,
    CORE_ERR_PRICE_TYPE_INVALID = 13,
    CORE_ERR_PRICE_MISSING = 14,
    CORE_ERR_PRICE_NOT_POSITIVE = 15,
    CORE_ERR_PRICE_STEP = 16,
    CORE_ERR_REPLACE_KEY_MISSING = 17,
    CORE_ERR_REPLACE_KEY_TOO_LONG = 18,
    /* Who and what. */
    CORE_ERR_ACCOUNT_NOT_FOUND = 19,
    CORE_ERR_ACCOUNT_NO_ACCESS = 20,
    CORE_ERR_INSTRUMENT_NOT_FOUND = 21,
    CORE_ERR_ORDER_NOT_FOUND = 22,
    /* Trading rules and risk. */
    CORE_ERR_API_TRADING_FORBIDDEN = 23,
    CORE_ERR_NOT_TRADING = 24,
    CORE_ERR_AMOUNT_TOO_LARGE = 25,
    CORE_ERR_PRICE_TOO_HIGH = 26,
    CORE_ERR_NOT_ENOUGH_BALANCE = 27, /* sandbox accounts */
    CORE_ERR_NOT_ENOUGH_ASSETS = 28,
    CORE_ERR_DUPLICATE_KEY = 29,
    CORE_ERR_ORDER_NOT_ACTIVE = 30,
    CORE_ERR_ORDER_FILLED = 31,
    /* Capacity. */
    CORE_ERR_BROKER_CAPACITY = 32,
    CORE_ERR_ACCOUNT_ORDER_LIMIT = 33,
    CORE_ERR_SANDBOX_ACCOUNT_LIMIT = 34,
    /* Sandbox pay-in. */
    CORE_ERR_PAY_IN_AMOUNT_INVALID = 35,
    CORE_ERR_PAY_IN_TOO_LARGE = 36,
    CORE_ERR_CURRENCY_LIMIT = 37,
    /* Exchange rejects, stored as an order's reject reason. */
    CORE_ERR_EXCHANGE_PRICE_LIMITS = 38,
    CORE_ERR_EXCHANGE_NOT_TRADING = 39,
    CORE_ERR_EXCHANGE_REJECTED = 40,
    /* A replacement whose old order filled or ended before the exchange cancelled it. */
    CORE_ERR_REPLACED_ORDER_ENDED = 41,
    /* CurrencyTransfer. */
    CORE_ERR_TRANSFER_FROM_MISSING = 42,
    CORE_ERR_TRANSFER_TO_MISSING = 43,
    CORE_ERR_TRANSFER_FROM_INVALID = 44, /* not a working broker account of the token */
    CORE_ERR_TRANSFER_TO_INVALID = 45,
    CORE_ERR_TRANSFER_SAME_ACCOUNT = 46,
    CORE_ERR_TRANSFER_CURRENCY = 47, /* the account holds none of it */
    CORE_ERR_TRANSFER_NOT_ENOUGH = 48,
    CORE_ERR_TRANSFER_ID_MISSING = 49,
    CORE_ERR_TRANSFER_ID_INVALID = 50,
    CORE_ERR_TRANSFER_ID_REUSED = 51,
    CORE_ERR_TRANSFER_TOO_LARGE = 52,
    CORE_ERROR_COUNT
} core_error;

#endif
