/* From a request's bytes to what its handler acts on: decoding, the string checks, and every
 * check a request's fields get before the core sees them.
 *
 * DESIGN: everything here is a pure function of the request (and of the reference data and the
 * token, which the transport threads read without locks): no gRPC, no engine, no clock. The
 * server decodes with api_request_decode(); each handler calls its request's check at the point
 * where it always made it, and answers the code it returns. api_request_types() lists every
 * request type the server serves with one function that makes all of that type's checks in the
 * handler's order, so that tests/fuzz can feed any bytes through the same path without a server
 * (test_api_request proves that no served method is missing from the list). */
#ifndef TINVESTD_API_REQUEST_H
#define TINVESTD_API_REQUEST_H

#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "api/calendar_request.h"
#include "api/contract.h"
#include "api/operations_request.h"
#include "api/validate.h"
#include "candles/candles.h"
#include "core/core.h"
#include "indicators/indicators.h"

/* Decodes `len` bytes of a `type` message and checks its strings (api/validate.h). Returns the
 * message (the caller frees it with protobuf_c_message_free_unpacked), or NULL with *error set:
 * 30102 "Malformed request: the message could not be decoded" when protobuf-c refuses the bytes,
 * the string check's code and message when a string fails it. */
ProtobufCMessage *api_request_decode(const ProtobufCMessageDescriptor *type, const uint8_t *data,
                                     size_t len, api_validate_error *error);

/* ---- SandboxService: the `account_id` a request names ---------------------------------------- */

/* The `account_id` string field of a SandboxService request type, or NULL for any other
 * service (or a type without such a field). */
const ProtobufCFieldDescriptor *
api_request_sandbox_account_field(const char *service, const ProtobufCMessageDescriptor *type);
/* Whether the request's `field` names an existing account that is not a sandbox account: the
 * sandbox knows none of the broker's accounts (answered 50004). False when `field` is NULL. */
bool api_request_names_broker_account(const ProtobufCFieldDescriptor *field,
                                      const ProtobufCMessage *request, const refdata *rd);

/* ---- Accounts ------------------------------------------------------------------------------- */

typedef enum { ACCESS_NEED_READ, ACCESS_NEED_TRADE } access_need;

/* The account `account_id` names, if the token may read it (or trade on it): 30021 when the id
 * is empty, 50004 when no open account has it or the token's view does not hold it (another
 * endpoint's account), 40002 when the token lacks the right. */
int api_request_account(const refdata *rd, const token *tok, const char *account_id,
                        access_need need, const account **out);

/* ---- OrdersService -------------------------------------------------------------------------- */

/* An optional price: 30018 when it is not a Quotation that fits. */
int api_request_price(const PB(Quotation) * price, bool *has_price, int64_t *price_nano);

/* PostOrder and PostOrderAsync as the core's command, without the token and the time, which the
 * caller fills in: 30018 for an invalid price. */
int api_request_post_order(const PB(PostOrderRequest) * in, core_order_request *out);
int api_request_post_order_async(const PB(PostOrderAsyncRequest) * in, core_order_request *out);

/* An order named by CancelOrder or GetOrderState. */
typedef struct api_order_ref {
    const char *account_id, *order_id;
    bool by_request_id; /* `order_id` is the client's key, not our id or the exchange number */
} api_order_ref;

/* 30023 for an `order_id_type` the contract does not define. */
int api_request_cancel_order(const PB(CancelOrderRequest) * in, api_order_ref *out);
int api_request_get_order_state(const PB(GetOrderStateRequest) * in, api_order_ref *out);

/* GetOrders' filters as plain values. */
typedef struct api_orders_filter {
    bool advanced;
    int64_t from_ns, to_ns; /* inclusive; INT64_MIN / INT64_MAX when absent */
    uint32_t status_count;
    int32_t statuses[8];
} api_orders_filter;

void api_request_orders_filter(const PB(GetOrdersRequest) * in, api_orders_filter *out);
/* Whether GetOrders lists `order` (a core_order_filter; `filter` is an api_orders_filter). */
bool api_request_order_listed(const core_order *order, const void *filter);

/* ---- InstrumentsService --------------------------------------------------------------------- */

/* GetInstrumentBy and the XxxBy methods: 30005 for an unknown `id_type`, 30007 for an empty `id`,
 * 30013 for a ticker without `class_code`, 50002 when nothing has that id. */
int api_request_instrument_by(const refdata *rd, const PB(InstrumentRequest) * in,
                              const instrument **out);
/* Which instruments Shares, Bonds, Etfs, Futures and Currencies list. */
typedef struct api_instruments_filter {
    bool all_statuses;   /* INSTRUMENT_STATUS_ALL; otherwise only those tradeable via the API */
    bool dealer;         /* INSTRUMENT_EXCHANGE_DEALER: only dealer instruments; otherwise none */
    const char *message; /* the text of a 30102 refusal */
} api_instruments_filter;

/* 30050 for an `instrument_status` the contract does not define, 30102 (with `message`) for such
 * an `instrument_exchange`. Unset and UNSPECIFIED mean the base list of exchange instruments. */
int api_request_instruments(const PB(InstrumentsRequest) * in, api_instruments_filter *out);
bool api_request_instrument_listed(const instrument *ins, const api_instruments_filter *filter);

/* OptionsBy: the options whose underlying is `basic_asset_uid` (required: 30102 with `message`
 * without it) and, when given, `basic_asset_position_uid`. */
typedef struct api_options_filter {
    const char *basic_asset_uid, *basic_asset_position_uid; /* NULL: any */
    const char *message;                                    /* the text of a 30102 refusal */
} api_options_filter;
int api_request_options_by(const PB(FilterOptionsRequest) * in, api_options_filter *out);
bool api_request_option_listed(const instrument *ins, const api_options_filter *filter);

/* GetFuturesMargin: the future named by `instrument_id` (or the deprecated `figi`): 30237
 * without one, 50002 when unknown, 30041 when it is not a future. */
int api_request_futures_margin(const refdata *rd, const PB(GetFuturesMarginRequest) * in,
                               const instrument **out);

/* FindInstrument: 30087 for an empty query. */
int api_request_find_instrument(const PB(FindInstrumentRequest) * in);

/* The days TradingSchedules lists, each from 00:00 UTC. */
typedef struct api_schedule_days {
    int64_t from_s;
    int64_t day_count; /* 1 .. API_SCHEDULE_MAX_DAYS */
} api_schedule_days;

/* The real API refuses a schedule of more days than this with 30002; the bound also caps what
 * one reply allocates. */
#define API_SCHEDULE_MAX_DAYS 14

/* `from` defaults to today (`today_s`, the start of the current UTC day), `to` to `from`; 30009 /
 * 30010 for a bound that is not a Timestamp, 30061 / 30062 for one outside the contract's range,
 * 30012 when `to` is before `from`, 30002 for more than API_SCHEDULE_MAX_DAYS days. */
int api_request_trading_schedules(const PB(TradingSchedulesRequest) * in, int64_t today_s,
                                  api_schedule_days *out);

/* ---- InstrumentsService: favorites ---------------------------------------------------------- */

/* Groups one GetFavoriteGroups may exclude (ours: the reply's size bounds it anyway). */
#define API_FAVORITES_MAX_EXCLUDED 1000
#define API_FAVORITES_ACTION_MESSAGE                                                               \
    "Invalid parameter: `action_type` must be EDIT_FAVORITES_ACTION_TYPE_ADD or "                  \
    "EDIT_FAVORITES_ACTION_TYPE_DEL"
#define API_FAVORITES_EXCLUDED_MESSAGE "Invalid parameter: `excluded_group_id` names more than 1000"

/* The group a request names (`present`: the optional field is set): NULL for the default list
 * (unset or empty). */
const char *api_request_favorites_group(bool present, const char *group_id);
/* The instrument an EditFavorites entry names: `instrument_id`, or the deprecated `figi`. */
const char *api_request_favorites_instrument_id(const PB(EditFavoritesRequestInstrument) * in);
/* GetFavorites: 50013 for a `group_id` that is not a UUID. */
int api_request_get_favorites(const PB(GetFavoritesRequest) * in);
/* EditFavorites, in this order: 30091 for more than FAVORITES_EDIT_MAX instruments, 30102 (with
 * API_FAVORITES_ACTION_MESSAGE) for an `action_type` other than ADD or DEL, 30093 for none or
 * an entry without an id, 50002 for an id no instrument has, 50013 for a `group_id` that is not
 * a UUID. The core checks the group and the limit. */
int api_request_edit_favorites(const refdata *rd, const PB(EditFavoritesRequest) * in);
/* CreateFavoriteGroup: 30231 for a name empty or longer than 255 characters (or bytes), 30232
 * for a color that is not six hexadecimal digits. */
int api_request_create_favorite_group(const PB(CreateFavoriteGroupRequest) * in);
/* DeleteFavoriteGroup: 30230 for an empty `group_id`, 50013 for one that is not a UUID. */
int api_request_delete_favorite_group(const PB(DeleteFavoriteGroupRequest) * in);
/* GetFavoriteGroups: 30218 for more than API_MAX_INSTRUMENTS_PER_REQUEST instruments, 30102
 * (with API_FAVORITES_EXCLUDED_MESSAGE) for more than API_FAVORITES_MAX_EXCLUDED exclusions. */
int api_request_get_favorite_groups(const PB(GetFavoriteGroupsRequest) * in);

/* ---- MarketDataService ---------------------------------------------------------------------- */

/* The instrument a request names by `instrument_id`, or by the deprecated `figi` older bots
 * still send. */
const char *api_request_order_book_instrument_id(const PB(GetOrderBookRequest) * in);
const char *api_request_trading_status_instrument_id(const PB(GetTradingStatusRequest) * in);
const char *api_request_last_trades_instrument_id(const PB(GetLastTradesRequest) * in);

/* 30237 for an empty `instrument_id`, 50002 for one nothing has. */
int api_request_instrument(const refdata *rd, const char *instrument_id, const instrument **out);
/* The instrument, then the depth: 30031 when it is 0, 30032 outside 1 .. VENUE_LINK_MAX_DEPTH. */
int api_request_order_book(const refdata *rd, const PB(GetOrderBookRequest) * in,
                           const instrument **out);
/* Each listed instrument (none listed: all of them). */
/* Instruments one GetLastPrices or GetTradingStatuses may name (the real API's 30218 "Quantity
 * of instruments can't be more than 3000"): each is an entry of the reply the core thread builds,
 * so without a bound one 4 MiB request of repeated ids held the core for seconds. */
#define API_MAX_INSTRUMENTS_PER_REQUEST 3000

/* What GetLastPrices answers. The instruments it names are the deprecated `figi` list (what the
 * Python SDK's `figi=` fills) followed by `instrument_id`, each entry resolved as an
 * `instrument_id` and answered in that order; with none named, every instrument of the asked
 * status whose price of the asked type exists. */
typedef struct api_last_prices {
    /* LastPriceType: UNSPECIFIED answers each instrument's own price (the dealer's for a dealer
     * instrument, the exchange's for the others); EXCHANGE and DEALER only prices of that type. */
    int32_t price_type;
    bool all_statuses;   /* INSTRUMENT_STATUS_ALL: untradeable instruments too (none named) */
    const char *message; /* the text of a 30102 refusal */
} api_last_prices;

/* The number of instruments a GetLastPrices request names, and the `i`-th of them. */
size_t api_request_last_prices_count(const PB(GetLastPricesRequest) * in);
const char *api_request_last_prices_id(const PB(GetLastPricesRequest) * in, size_t i);
/* 30218 for more than API_MAX_INSTRUMENTS_PER_REQUEST named (both lists together), 30102 (with
 * `message`) for a `last_price_type` the contract does not define, 30050 for such an
 * `instrument_status`, then 30237 for an empty id (an unknown one is answered without a price). */
int api_request_last_prices(const refdata *rd, const PB(GetLastPricesRequest) * in,
                            api_last_prices *out);
/* What a GetLastPrices request asks for, read without a check (the handler's core-thread part,
 * after api_request_last_prices accepted the request). */
api_last_prices api_request_last_prices_asked(const PB(GetLastPricesRequest) * in);
/* Whether `ins` has a last price of the type `price_type` (a LastPriceType), and which type it
 * is; false when it has none of that type (a dealer instrument has no exchange price). */
bool api_request_last_price_type_of(const instrument *ins, int32_t price_type, int32_t *type);
int api_request_trading_status(const refdata *rd, const PB(GetTradingStatusRequest) * in,
                               const instrument **out);
/* 30237 when none is listed, then each listed instrument. */
int api_request_trading_statuses(const refdata *rd, const PB(GetTradingStatusesRequest) * in);
/* The instrument, then 30012 when `to` is before `from`. */
int api_request_last_trades(const refdata *rd, const PB(GetLastTradesRequest) * in,
                            const instrument **out);

/* GetCandles: what the read on the core thread takes. */
typedef struct api_candles_query {
    candle_interval interval;
    bool has_from;   /* else the newest `limit` candles before `to` */
    int64_t from_ns; /* DAY, WEEK, MONTH: the opening of the interval holding `from` */
    int64_t to_ns;   /* exclusive; DAY, WEEK, MONTH: the end of the interval holding `to` */
    uint32_t limit;  /* the interval's maximum when the request sets none */
} api_candles_query;

/* The largest `limit` GetCandles takes for an interval, and its longest period in seconds. */
uint32_t api_candles_max_limit(candle_interval interval);
int64_t api_candles_max_period_s(candle_interval interval);
/* GetCandles, in the order the checks run: instrument (30237 / 50002), interval (30011),
 * candle_source_type (30219), `from` (30009 / 30061), `to` (30010 / 30062), neither `from` nor
 * `limit` (30228), `limit` outside 1..the interval's maximum (30084), `to` before `from`
 * (30012), a period past the interval's longest (30014). `now_ns` stands for a missing `to`. */
int api_request_candles(const refdata *rd, const PB(GetCandlesRequest) * in, int64_t now_ns,
                        const instrument **out, api_candles_query *query);
/* GetClosePrices: at most API_MAX_INSTRUMENTS_PER_REQUEST (30218), each known (30237 / 50002). */
int api_request_close_prices(const refdata *rd, const PB(GetClosePricesRequest) * in);
/* GetMarketValues: likewise, and at least one instrument (30237). */
int api_request_market_values(const refdata *rd, const PB(GetMarketValuesRequest) * in);
/* GetTechAnalysis as the indicators module takes it, checked, in this order: 30008 for an empty
 * `instrument_uid`; 30001 / 30004 for a missing `from` / `to`, 30009 / 30010 for one that is
 * not a Timestamp inside 1970 .. 2099; then indicators_check() (30213 type, 30011 interval,
 * 30214 price type, 30215 / 30216 / 30217 the indicator's parameters, 30012 `to` before `from`,
 * 30014 a period too long for the interval); then 50002 when no instrument has that uid. */
int api_request_tech_analysis(const refdata *rd, const PB(GetTechAnalysisRequest) * in,
                              indicator_request *out, const instrument **ins);
/* GetLastTrades' `trade_source`: 30102 (with `message`) for a value the contract does not
 * define. Whether the trades of `ins` are listed for it: a dealer instrument's trades are the
 * dealer's, every other instrument's the exchange's. */
int api_request_trade_source(const PB(GetLastTradesRequest) * in, const char **message);
bool api_request_trade_source_lists(int32_t trade_source, const instrument *ins);

/* ---- OperationsService ---------------------------------------------------------------------- */

/* The currency GetPortfolio's totals are in, and its rouble rate (1 for the rouble). */
typedef struct api_portfolio_currency {
    const char *currency; /* "rub", "usd" or "eur" */
    int64_t rub_nano;     /* what one unit costs in roubles; positive */
} api_portfolio_currency;

/* 30258 for a `currency` the contract does not define, or one without a configured rate. */
int api_request_portfolio_currency(const refdata *rd, const PB(PortfolioRequest) * in,
                                   api_portfolio_currency *out);

/* ---- OrdersStreamService -------------------------------------------------------------------- */

/* A stream's ping period as the request sets it, and the range the contract allows. */
typedef struct api_stream_ping {
    bool has_ping;
    int32_t ping_ms, min_ms, max_ms;
    const char *field;
} api_stream_ping;

api_stream_ping api_request_order_state_stream_ping(const PB(OrderStateStreamRequest) * in);
api_stream_ping api_request_trades_stream_ping(const PB(TradesStreamRequest) * in);
/* The instruments one market-data subscription request may name. */
#define API_MARKET_DATA_MAX_ENTRIES 3000
/* 30102 with `message` for a subscription request naming more than that. */
int api_request_market_data_entries(size_t n, char *message, size_t message_size);
/* A market-data stream's `ping_settings` (absent or without a period: no ping asked for). */
api_stream_ping api_request_market_data_ping(const PB(PingDelaySettings) * in);
/* 30102, with `message` naming the field and its range, for a period outside the range. */
int api_request_stream_ping(const api_stream_ping *ping, char *message, size_t message_size);

/* The accounts a stream follows: the named ones, each readable by the token (40002 for the
 * first that is not), or every open account the token can read when none is named. Each one's
 * `selected` flag is set and counted in *listed_count; unless `listed` is NULL, it is appended
 * there too (room for `n` or, when `n` is 0, for REFDATA_MAX_ACCOUNTS), in the order the reply
 * lists them. */
int api_request_stream_accounts(const refdata *rd, const token *tok, char *const *ids, size_t n,
                                bool selected[REFDATA_MAX_ACCOUNTS], const account **listed,
                                size_t *listed_count);

/* ---- SandboxService ------------------------------------------------------------------------- */

/* SandboxPayIn's amount: 30247 when it is missing, 30246 when it is not a value that fits. */
int api_request_pay_in_amount(const PB(SandboxPayInRequest) * in, int64_t *amount_nano);
/* OpenSandboxAccount's name, or NULL when the request sets none. */
const char *api_request_open_account_name(const PB(OpenSandboxAccountRequest) * in);

/* ---- Every request type, for tests ---------------------------------------------------------- */

/* What the checks of one request type see besides the request. */
typedef struct api_request_context {
    const refdata *refdata;
    const token *token;
    int64_t today_s; /* the start of the current UTC day (TradingSchedules) */
    int64_t now_ns;  /* the time a missing `to` stands for (GetCandles) */
} api_request_context;

/* What they decided: the values the handler goes on with (those its type has). */
typedef struct api_request_values {
    core_order_request order; /* PostOrder, PostOrderAsync */
    api_order_ref ref;        /* CancelOrder, GetOrderState */
    api_orders_filter filter; /* GetOrders */
    bool has_price;           /* ReplaceOrder, GetMaxLots, GetOrderPrice */
    int64_t price_nano;
    const instrument *instrument;       /* InstrumentRequest, GetOrderBook, GetTradingStatus, ... */
    const account *account;             /* GetMarginAttributes */
    api_schedule_days schedule;         /* TradingSchedules */
    indicator_request indicator;        /* GetTechAnalysis */
    int64_t amount_nano;                /* SandboxPayIn */
    const char *name;                   /* OpenSandboxAccount */
    api_candles_query candles;          /* GetCandles */
    api_instruments_filter instruments; /* Shares, Bonds, ... */
    api_last_prices last_prices;        /* GetLastPrices */
    api_portfolio_currency portfolio;   /* GetPortfolio */
    api_operations_query operations;    /* GetOperations, GetOperationsByCursor */
    api_report_task report;             /* GenerateBrokerReport, the dividends report */
    bool selected[REFDATA_MAX_ACCOUNTS]; /* the streams: the accounts followed */
    size_t listed_count;
    char message[128]; /* the text of a code that has one of its own */
    /* GetBondCoupons, GetBondEvents, GetDividends, GetAccruedInterests */
    api_calendar_query calendar;
} api_request_values;

typedef struct api_request_type {
    const ProtobufCMessageDescriptor *descriptor;
    /* Every check the handlers of this type make before the core sees the request, in their
     * order; 0 or the first code one of them answers. */
    int (*check)(const ProtobufCMessage *request, const api_request_context *ctx,
                 api_request_values *out);
} api_request_type;

/* Every request type of every served method. */
const api_request_type *api_request_types(size_t *count);
/* The entry for `descriptor`, or NULL when no served method takes that type. */
const api_request_type *api_request_type_of(const ProtobufCMessageDescriptor *descriptor);

#endif
