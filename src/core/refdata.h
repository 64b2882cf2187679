/* Reference data: instruments, accounts and tokens as configured at start.
 *
 * DESIGN: reference data is loaded once (by config/) before any thread starts and is immutable
 * afterwards, so the transport threads may read it without locks, with one exception: sandbox
 * accounts opened and closed at run time. Only the core thread changes those; it fills a new
 * account's slot (and the tokens' access to it) before it publishes the larger account count
 * with a release store, and readers take the count and an account's status with acquire loads
 * (refdata_account_count, refdata_account_status). The slot of a closed sandbox account is
 * reused once none of its orders is left in the history: the core rewrites it between
 * refdata_begin_account_update() and refdata_end_account_update(), and refdata_find_account()
 * reads each slot under that version (a seqlock), so it never matches a half-written id. A
 * pointer it returned may name a reused slot later: the core checks the account again, by id, on
 * its own thread before it acts. Mutable per-account
 * state (cash, positions, orders) lives in the core, indexed by the same account and instrument
 * indexes. All strings are owned by the refdata object (or, for opened accounts, the core) and
 * freed by refdata_deinit(). */
#ifndef TINVESTD_CORE_REFDATA_H
#define TINVESTD_CORE_REFDATA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define REFDATA_MAX_INSTRUMENTS 1024
#define REFDATA_MAX_ACCOUNTS 256
#define REFDATA_MAX_TOKENS 256
#define REFDATA_MAX_CURRENCIES 8

/* Values equal the contract's InstrumentType numbers. */
typedef enum {
    INSTRUMENT_KIND_BOND = 1,
    INSTRUMENT_KIND_SHARE = 2,
    INSTRUMENT_KIND_CURRENCY = 3,
    INSTRUMENT_KIND_ETF = 4,
    INSTRUMENT_KIND_FUTURE = 5,
    INSTRUMENT_KIND_OPTION = 7,
} instrument_kind;

/* Values equal the contract's AccessLevel numbers. */
typedef enum {
    ACCESS_NONE_UNSPECIFIED = 0,
    ACCESS_FULL = 1,
    ACCESS_READ_ONLY = 2,
    ACCESS_NONE = 3,
} access_level;

typedef struct instrument {
    uint32_t index;
    instrument_kind kind;
    const char *figi, *ticker, *class_code, *isin, *uid, *position_uid, *asset_uid;
    const char *name, *currency, *exchange, *country_of_risk, *sector;
    int32_t lot;
    int64_t min_price_increment_nano;
    int64_t reference_price_nano;
    /* Exchange price band around the reference price, in basis points (limit_down/limit_up). */
    int32_t price_band_bp;
    int32_t trading_status; /* contract SecurityTradingStatus value */
    bool api_trade_available, buy_available, sell_available, short_enabled;
    /* Risk rates of margin trading (core/margin.h), fractions in nano (0.25 = 250000000): the
     * starting margin's rate of a long and of a short position for a client of the standard risk
     * level (dlong, dshort) and of the high one (dlong_min, dshort_min). 0: the instrument has no
     * rate on that side: it is not liquid for a long, or may not be shorted. */
    int64_t dlong_nano, dshort_nano, dlong_min_nano, dshort_min_nano;
    bool for_qual_investor, otc, weekend_available;
    /* Traded with the broker's dealer rather than on an exchange (the contract's
     * INSTRUMENT_EXCHANGE_DEALER): instrument lists show it only when asked for dealer
     * instruments, and its last prices and trades are the dealer's. The embedded exchange
     * matches its orders like any other's. */
    bool dealer;
    /* Bond. */
    int64_t nominal_nano;
    const char *nominal_currency;
    int64_t maturity_date_s, placement_date_s;
    int32_t coupon_quantity_per_year;
    int64_t aci_value_nano;
    /* Future. */
    const char *basic_asset, *futures_type, *asset_type;
    int64_t basic_asset_size_nano;
    int64_t first_trade_date_s, last_trade_date_s, expiration_date_s;
    int64_t min_price_increment_amount_nano;
    int64_t initial_margin_nano;
    /* The guarantee (GetFuturesMargin) one contract takes when bought and when sold, per unit of
     * the instrument's currency; both default to initial_margin_nano. */
    int64_t initial_margin_on_buy_nano, initial_margin_on_sell_nano;
    /* Option (also uses basic_asset, asset_type, basic_asset_size_nano and the trade and
     * expiration dates of a future). The enums hold the contract's OptionDirection,
     * OptionPaymentType, OptionStyle and OptionSettlementType values. */
    const char *basic_asset_uid, *basic_asset_position_uid, *settlement_currency;
    int32_t option_direction, option_payment_type, option_style, option_settlement_type;
    int64_t strike_price_nano;
    /* Currency. */
    const char *iso_currency_name;
    /* Share / ETF. */
    int64_t issue_size;
    const char *focus_type;
    /* The opening of the oldest 1-minute and 1-day candle the exchange keeps (0: none). The core
     * thread publishes them as trades come (refdata_publish_first_candles); readers take them
     * with refdata_first_candles. */
    int64_t first_1min_candle_ns, first_1day_candle_ns;
} instrument;

typedef struct money_amount {
    char currency[8];
    int64_t value_nano;
} money_amount;

/* What one unit of a currency costs in roubles (GetPortfolio's totals in that currency). */
typedef struct currency_rate {
    char currency[8]; /* lower case, as instruments name their currency: "usd" */
    int64_t rub_nano; /* positive */
} currency_rate;

/* The client's risk level for margin trading: standard (KSUR, klong/kshort 2) takes the
 * instruments' dlong/dshort rates, high (KPUR, klong/kshort 1) their dlong_min/dshort_min. */
typedef enum { ACCOUNT_RISK_STANDARD = 0, ACCOUNT_RISK_HIGH = 1 } account_risk_level;

/* AccountStatus values of the contract used here. */
#define ACCOUNT_STATUS_OPEN 2
#define ACCOUNT_STATUS_CLOSED 3

typedef struct account {
    uint32_t index;
    const char *id, *name;
    int32_t type;   /* contract AccountType value */
    int32_t status; /* contract AccountStatus value; read with refdata_account_status() */
    /* Even while the slot is stable, odd while the core thread rewrites it for a reused sandbox
     * account (see DESIGN). */
    uint32_t version;
    int64_t opened_date_s;
    bool sandbox;
    /* Margin trading (core/margin.h): a margin account may buy on credit and sell short within
     * its margin; a cash account (`margin` false) may not, nor trade futures. `risk_level` says
     * which risk rates apply; with `margin_call` the broker closes positions when the liquid
     * portfolio falls below the minimal margin. */
    bool margin;
    account_risk_level risk_level;
    bool margin_call;
    uint32_t cash_count;
    money_amount cash[REFDATA_MAX_CURRENCIES]; /* opening balances */
} account;

/* Which accounts a token sees. The API serves two endpoints, as the real service has two
 * addresses: through the broker's endpoint a token sees its broker accounts, through the sandbox
 * endpoint (and in SandboxService on either) its sandbox accounts. An account outside the view
 * is unknown to the caller, as an account that does not exist. A configured token sees every
 * account it has a right to (the core's unit tests and the simulator act through it). */
typedef enum token_view {
    TOKEN_VIEW_ALL = 0,
    TOKEN_VIEW_BROKER = 1,
    TOKEN_VIEW_SANDBOX = 2,
} token_view;

typedef struct token {
    const char *secret;
    const char *user_id;
    const char *name;
    /* Per account index; ACCESS_NONE where the token has no right. Read through
     * refdata_access(), never directly: a view's rights are its configured token's. */
    uint8_t access[REFDATA_MAX_ACCOUNTS];
    /* TOKEN_VIEW_ALL for a configured token. A view (refdata_token_view_init) names the
     * configured token it shows (`configured`) and leaves its own `access` unused. */
    token_view view;
    const struct token *configured;
} token;

typedef struct trading_session {
    const char *exchange;
    /* Seconds from midnight UTC of each trading day. */
    int32_t start_s, end_s;
    bool weekends;
} trading_session;

typedef struct refdata {
    uint32_t instrument_count, account_count, token_count, session_count;
    instrument instruments[REFDATA_MAX_INSTRUMENTS];
    account accounts[REFDATA_MAX_ACCOUNTS];
    token tokens[REFDATA_MAX_TOKENS];
    trading_session sessions[32];
    uint32_t currency_rate_count;
    currency_rate currency_rates[REFDATA_MAX_CURRENCIES];
    /* Every string above points into this block list. */
    struct refdata_strings *strings;
} refdata;

void refdata_init(refdata *rd);
void refdata_deinit(refdata *rd);

/* Copies `text` into storage owned by `rd`; NULL on out-of-memory. */
const char *refdata_intern(refdata *rd, const char *text);

const token *refdata_find_token(const refdata *rd, const char *secret, size_t len);
/* The number of account slots published so far (see DESIGN). */
uint32_t refdata_account_count(const refdata *rd);
int32_t refdata_account_status(const account *acc);
/* Publishes a filled slot `rd->accounts[rd->account_count]`: core thread only. */
void refdata_publish_account(refdata *rd);
void refdata_set_account_status(account *acc, int32_t status);
/* Core thread: brackets the rewrite of a reused account slot. */
void refdata_begin_account_update(account *acc);
void refdata_end_account_update(account *acc);
/* An open or configured account by id; NULL when unknown or closed. */
const account *refdata_find_account(const refdata *rd, const char *id);
const instrument *refdata_find_by_figi(const refdata *rd, const char *figi);
const instrument *refdata_find_by_uid(const refdata *rd, const char *uid);
const instrument *refdata_find_by_position_uid(const refdata *rd, const char *position_uid);
const instrument *refdata_find_by_ticker(const refdata *rd, const char *ticker,
                                         const char *class_code);
/* Resolves an `instrument_id` as T-Invest does: a FIGI or an instrument uid, or
 * "TICKER_CLASSCODE". */
const instrument *refdata_find_instrument_id(const refdata *rd, const char *instrument_id);

/* The configured rouble rate of `currency` (any letter case), or NULL when none is configured. */
const currency_rate *refdata_find_currency_rate(const refdata *rd, const char *currency);

/* The token's right on the account; ACCESS_NONE for an account outside the token's view. */
access_level refdata_access(const token *tok, const account *acc);
/* Whether the account is in the token's view: one outside it is answered as unknown. */
bool refdata_token_sees(const token *tok, const account *acc);
/* `view` of the configured token `configured`: same secret, user and name, same rights, seeing
 * only the accounts of its view. The view must not outlive the refdata. */
void refdata_token_view_init(token *view, const token *configured, token_view kind);
/* The configured token a token or view stands for, and its index in `rd->tokens`. */
const token *refdata_token_configured(const token *tok);
uint32_t refdata_token_index(const refdata *rd, const token *tok);

/* Core thread: the instrument's first candle times (see instrument). */
void refdata_publish_first_candles(instrument *ins, int64_t first_1min_ns, int64_t first_1day_ns);
/* Any thread: the times last published (each read whole; the two may be from different trades). */
void refdata_first_candles(const instrument *ins, int64_t *first_1min_ns, int64_t *first_1day_ns);

#endif
