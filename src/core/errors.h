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
    /* Stop orders (core/stop_orders.h). */
    CORE_ERR_STOP_PRICE_MISSING = 42,
    CORE_ERR_STOP_TYPE_MISSING = 43,
    CORE_ERR_STOP_TYPE_INVALID = 44,
    CORE_ERR_STOP_TRAILING_INVALID = 45,
    CORE_ERR_STOP_EXPIRE_DATE_INVALID = 46,
    CORE_ERR_STOP_EXPIRATION_MISSING = 47,
    CORE_ERR_STOP_EXPIRATION_INVALID = 48,
    CORE_ERR_STOP_EXPIRE_DATE_RANGE = 49,
    CORE_ERR_STOP_CHILD_TYPE_INVALID = 50,
    CORE_ERR_STOP_STATUS_INVALID = 51,
    CORE_ERR_STOP_TRAILING_MISSING = 52,
    CORE_ERR_STOP_INDENT_TYPE_MISSING = 53,
    CORE_ERR_STOP_SPREAD_TYPE_MISSING = 54,
    CORE_ERR_STOP_TAKE_PROFIT_TYPE_INVALID = 55,
    CORE_ERR_STOP_WRONG_SIDE = 56,
    CORE_ERR_STOP_ACCOUNT_LIMIT = 57,
    CORE_ERR_STOP_CAPACITY = 58,
    CORE_ERR_STOP_NOT_FOUND = 59,
    CORE_ERR_STOP_NOT_ACTIVE = 60,
    /* CurrencyTransfer. */
    CORE_ERR_TRANSFER_FROM_MISSING = 61,
    CORE_ERR_TRANSFER_TO_MISSING = 62,
    CORE_ERR_TRANSFER_FROM_INVALID = 63, /* not a working broker account of the token */
    CORE_ERR_TRANSFER_TO_INVALID = 64,
    CORE_ERR_TRANSFER_SAME_ACCOUNT = 65,
    CORE_ERR_TRANSFER_CURRENCY = 66, /* the account holds none of it */
    CORE_ERR_TRANSFER_NOT_ENOUGH = 67,
    CORE_ERR_TRANSFER_ID_MISSING = 68,
    CORE_ERR_TRANSFER_ID_INVALID = 69,
    CORE_ERR_TRANSFER_ID_REUSED = 70,
    CORE_ERR_TRANSFER_TOO_LARGE = 71,
    /* Favorites (core/favorites.h). */
    CORE_ERR_FAVORITE_GROUP_ID_MISSING = 72,
    CORE_ERR_FAVORITE_GROUP_NAME_INVALID = 73,
    CORE_ERR_FAVORITE_GROUP_COLOR_INVALID = 74,
    CORE_ERR_FAVORITE_GROUP_NOT_FOUND = 75,
    CORE_ERR_FAVORITE_INSTRUMENT_MISSING = 76,
    CORE_ERR_FAVORITES_LIMIT = 77,
    CORE_ERR_FAVORITE_GROUPS_LIMIT = 78,
    CORE_ERR_FAVORITES_ACTION_INVALID = 79,
    /* Margin trading (core/margin.h). */
    CORE_ERR_MARGIN_DISABLED = 80,   /* a cash account: no futures, no credit, no short */
    CORE_ERR_MARGIN_NOT_ENOUGH = 81, /* the order's starting margin exceeds the portfolio */
    CORE_ERR_SHORT_NOT_ALLOWED = 82, /* the instrument may not be sold short */
    CORE_ERROR_COUNT
} core_error;

#endif
